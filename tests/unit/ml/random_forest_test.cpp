#include "node/ml/random_forest.hpp"

#include "node/ml/cross_validation.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace node::ml;

TEST_CASE("ml: random forest cross-validates on iris near scikit-learn's 0.967", "[unit]") {
  auto cv = cross_validate(iris(), 5, "random_forest");
  REQUIRE(cv.has_value());
  CHECK(std::abs(cv->mean_accuracy - 0.967) <= 0.03);
}

TEST_CASE("ml: random forest is deterministic for a seed", "[unit]") {
  random_forest a(100, 0, 42), b(100, 0, 42), c(100, 0, 7);
  a.fit(iris());
  b.fit(iris());
  c.fit(iris());
  bool any_difference = false;
  // Points between the training rows, where trees disagree.
  for (std::size_t i = 0; i + 1 < iris().size(); ++i) {
    std::vector<double> row(4);
    for (std::size_t f = 0; f < 4; ++f) {
      row[f] = (iris().rows[i][f] + iris().rows[i + 1][f] + iris().rows[(i + 60) % 150][f]) / 3;
    }
    const auto pa = a.predict_proba(row);
    CHECK(pa == b.predict_proba(row));
    any_difference = any_difference || pa != c.predict_proba(row);
  }
  CHECK(any_difference);
}

TEST_CASE("ml: random forest grows the requested number of trees", "[unit]") {
  random_forest f(17, 3, 1);
  f.fit(iris());
  REQUIRE(f.trees().size() == 17);
  for (const auto& t : f.trees()) {
    CHECK(t.depth() <= 3);
  }
}

TEST_CASE("ml: random forest probabilities average the trees' leaves", "[unit]") {
  random_forest f(10, 0, 3);
  f.fit(iris());
  const std::vector<double> row{6.0, 2.8, 4.9, 1.6};
  std::vector<double> mean(3, 0.0);
  for (const auto& t : f.trees()) {
    const double* p = t.leaf_proba(row);
    for (std::size_t c = 0; c < 3; ++c) {
      mean[c] += p[c] / 10;
    }
  }
  const auto p = f.predict_proba(row);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(p[c] == Approx(mean[c]));
  }
}

TEST_CASE("ml: random forest fits the iris training rows", "[unit]") {
  random_forest f;
  f.fit(iris());
  int correct = 0;
  for (std::size_t i = 0; i < iris().size(); ++i) {
    correct += f.predict(iris().rows[i]) == iris().labels[i] ? 1 : 0;
  }
  CHECK(correct == 150);
}
