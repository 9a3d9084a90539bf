#include "node/ml/decision_tree.hpp"

#include "node/ml/cross_validation.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace node::ml;

TEST_CASE("ml: decision tree cross-validates on iris near scikit-learn's 0.960", "[unit]") {
  auto cv = cross_validate(iris(), 5, [] { return std::make_unique<decision_tree>(); });
  REQUIRE(cv.has_value());
  CHECK(cv->fold_accuracies.size() == 5);
  CHECK(std::abs(cv->mean_accuracy - 0.960) <= 0.03);
}

TEST_CASE("ml: decision tree of unlimited depth fits iris exactly", "[unit]") {
  decision_tree t;
  t.fit(iris());
  for (std::size_t i = 0; i < iris().size(); ++i) {
    CHECK(t.predict(iris().rows[i]) == iris().labels[i]);
  }
  CHECK(t.tree().leaf_count() == (t.tree().node_count() + 1) / 2);
}

TEST_CASE("ml: decision tree splits at the midpoint and sends equal values left", "[unit]") {
  decision_tree t;
  t.fit({{1.0}, {2.0}, {3.0}, {4.0}}, {0, 0, 1, 1}, 2);
  CHECK(t.tree().node_count() == 3);
  CHECK(t.tree().depth() == 1);
  CHECK(t.predict(std::vector<double>{2.49}) == 0);
  CHECK(t.predict(std::vector<double>{2.5}) == 0);
  CHECK(t.predict(std::vector<double>{2.51}) == 1);
  CHECK(t.predict(std::vector<double>{-100.0}) == 0);
  CHECK(t.predict(std::vector<double>{100.0}) == 1);
}

TEST_CASE("ml: decision tree picks the feature with the lower Gini impurity", "[unit]") {
  // Feature 0 separates the classes only partly, feature 1 perfectly.
  decision_tree t;
  t.fit({{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 1}}, {0, 0, 1, 1, 1}, 2);
  CHECK(t.tree().node_count() == 3);
  CHECK(t.predict(std::vector<double>{1.0, 0.0}) == 0);
  CHECK(t.predict(std::vector<double>{0.0, 1.0}) == 1);
  CHECK(t.predict(std::vector<double>{1.0, 1.0}) == 1);
}

TEST_CASE("ml: decision tree leaves hold class frequencies", "[unit]") {
  decision_tree t;
  // Three rows at x = 1 cannot be told apart: that leaf is 2/3 class 0, 1/3 class 1.
  t.fit({{1.0}, {1.0}, {1.0}, {2.0}}, {0, 0, 1, 1}, 2);
  const auto p = t.predict_proba(std::vector<double>{1.0});
  CHECK(p[0] == Approx(2.0 / 3.0));
  CHECK(p[1] == Approx(1.0 / 3.0));
  CHECK(t.predict_proba(std::vector<double>{2.0}) == std::vector<double>{0.0, 1.0});
}

TEST_CASE("ml: decision tree respects max_depth", "[unit]") {
  decision_tree stump(1);
  stump.fit(iris());
  CHECK(stump.tree().depth() == 1);
  CHECK(stump.tree().leaf_count() == 2);
  decision_tree two(2);
  two.fit(iris());
  CHECK(two.tree().depth() == 2);
  decision_tree full;
  full.fit(iris());
  CHECK(full.tree().depth() > 2);
}

TEST_CASE("ml: decision tree on a single class is one leaf", "[unit]") {
  decision_tree t;
  t.fit({{1.0}, {2.0}}, {1, 1}, 2);
  CHECK(t.tree().node_count() == 1);
  CHECK(t.predict_proba(std::vector<double>{5.0}) == std::vector<double>{0.0, 1.0});
}
