#include "node/ml/cross_validation.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace node::ml;

TEST_CASE("ml: stratified folds on iris take ten consecutive rows of each class", "[unit]") {
  auto folds = stratified_folds(iris().labels, 5);
  REQUIRE(folds.has_value());
  REQUIRE(folds->size() == 150);
  for (std::size_t i = 0; i < 150; ++i) {
    CHECK((*folds)[i] == static_cast<int>((i % 50) / 10));
  }
}

TEST_CASE("ml: stratified folds match scikit-learn's StratifiedKFold examples", "[unit]") {
  // The StratifiedKFold docstring: y = [0, 0, 1, 1], 2 splits -> test folds [0, 2] and [1, 3].
  CHECK(stratified_folds(std::vector<int>{0, 0, 1, 1}, 2).value() == std::vector<int>{0, 1, 0, 1});
  // Uneven classes: sorted labels 0000000111 dealt round robin into 3 folds give class 0 counts
  // (3, 2, 2) and class 1 counts (1, 1, 1).
  CHECK(stratified_folds(std::vector<int>{0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, 3).value() ==
        std::vector<int>{0, 0, 0, 1, 1, 2, 2, 0, 1, 2});
  // Classes are ordered by first appearance, not by value: 7 is class 0, so the sorted encoding is
  // 0111 and fold 0 takes positions 0 and 2 (one 7, one 3), fold 1 positions 1 and 3 (two 3s).
  // Ordering by value (3 first) would give {1, 0, 0, 1}.
  CHECK(stratified_folds(std::vector<int>{7, 3, 3, 3}, 2).value() == std::vector<int>{0, 0, 1, 1});
}

TEST_CASE("ml: stratified folds reject impossible splits", "[unit]") {
  CHECK(stratified_folds(std::vector<int>{0, 1, 0, 1}, 1).error().field == "cv_folds");
  CHECK(stratified_folds(std::vector<int>{0, 1, 0, 1}, 5).error().field == "cv_folds");
  CHECK_FALSE(stratified_folds(std::vector<int>{0, 1, 2, 3, 0, 1}, 3).has_value());
  // One class large enough is accepted, as scikit-learn does (with a warning).
  CHECK(stratified_folds(std::vector<int>{0, 0, 0, 1}, 3).has_value());
}

TEST_CASE("ml: cross-validation scores each algorithm on iris", "[unit]") {
  const auto rf = cross_validate(iris(), 5, "random_forest");
  const auto dt = cross_validate(iris(), 5, "decision_tree");
  const auto kn = cross_validate(iris(), 5, "knn");
  const auto li = cross_validate(iris(), 5, "liar");
  const auto ra = cross_validate(iris(), 5, "random");
  REQUIRE((rf && dt && kn && li && ra));
  CHECK(std::abs(rf->mean_accuracy - 0.967) <= 0.03);
  CHECK(std::abs(dt->mean_accuracy - 0.960) <= 0.03);
  CHECK(std::abs(kn->mean_accuracy - 0.973) <= 0.03);
  CHECK(li->mean_accuracy < 0.1);
  CHECK(ra->mean_accuracy > 0.15);
  CHECK(ra->mean_accuracy < 0.55);
}

TEST_CASE("ml: cross-validation is deterministic and reports its errors", "[unit]") {
  const auto a = cross_validate(iris(), 5, "random_forest");
  const auto b = cross_validate(iris(), 5, "random_forest");
  REQUIRE((a && b));
  CHECK(a->fold_accuracies == b->fold_accuracies);
  CHECK(cross_validate(iris(), 1, "knn").error().field == "cv_folds");
  CHECK(cross_validate(iris(), 5, "nope").error().field == "algorithm");
}
