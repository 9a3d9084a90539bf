#include "node/ml/knn.hpp"

#include "node/ml/cross_validation.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace node::ml;

TEST_CASE("ml: knn with k=5 cross-validates on iris near scikit-learn's 0.973", "[unit]") {
  auto cv = cross_validate(iris(), 5, [] { return std::make_unique<knn>(5); });
  REQUIRE(cv.has_value());
  CHECK(std::abs(cv->mean_accuracy - 0.973) <= 0.03);
}

TEST_CASE("ml: knn probabilities are neighbour shares", "[unit]") {
  knn m(3);
  m.fit({{0.0}, {1.0}, {2.0}, {10.0}, {11.0}}, {0, 1, 1, 0, 0}, 2);
  const auto p = m.predict_proba(std::vector<double>{1.1});
  CHECK(p[0] == Approx(1.0 / 3.0));
  CHECK(p[1] == Approx(2.0 / 3.0));
  CHECK(m.predict(std::vector<double>{10.5}) == 0);
}

TEST_CASE("ml: knn breaks distance ties by training index", "[unit]") {
  knn m(1);
  m.fit({{0.0}, {2.0}}, {0, 1}, 2);
  CHECK(m.predict(std::vector<double>{1.0}) == 0);
  m.fit({{2.0}, {0.0}}, {1, 0}, 2);
  CHECK(m.predict(std::vector<double>{1.0}) == 1);
}

TEST_CASE("ml: knn uses Euclidean distance over all features", "[unit]") {
  knn m(1);
  // (3, 0) is 3 from (0, 0) and 2.24 from (2, 2): Euclidean distance picks (2, 2), where
  // Manhattan distance (3 and 3) would tie and pick (0, 0).
  m.fit({{0.0, 0.0}, {2.0, 2.0}}, {0, 1}, 2);
  CHECK(m.predict(std::vector<double>{3.0, 0.0}) == 1);
  CHECK(m.predict(std::vector<double>{0.9, 0.9}) == 0);
}

TEST_CASE("ml: knn with k above the training size uses every row", "[unit]") {
  knn m(50);
  m.fit({{0.0}, {1.0}, {2.0}, {3.0}}, {0, 1, 1, 1}, 2);
  CHECK(m.predict_proba(std::vector<double>{0.0}) == std::vector<double>{0.25, 0.75});
}
