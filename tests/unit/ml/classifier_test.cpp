#include "node/ml/classifier.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

using namespace node::ml;

TEST_CASE("ml: make_classifier makes every listed algorithm", "[unit]") {
  REQUIRE(algorithm_names().size() == 5);
  for (std::string_view name : algorithm_names()) {
    auto c = make_classifier(name);
    REQUIRE(c.has_value());
    CHECK((*c)->name() == name);
    CHECK_FALSE((*c)->fitted());
  }
}

TEST_CASE("ml: make_classifier rejects an unknown algorithm and lists the valid ones", "[unit]") {
  auto c = make_classifier("svm");
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().status == 400);
  CHECK(c.error().field == "algorithm");
  CHECK(c.error().message ==
        "unknown algorithm 'svm'; valid: random_forest, decision_tree, knn, liar, random");
}

TEST_CASE("ml: make_classifier rejects options out of range", "[unit]") {
  classifier_options o;
  o.trees = 0;
  CHECK(make_classifier("random_forest", o).error().field == "trees");
  o = {};
  o.trees = max_trees + 1;
  CHECK(make_classifier("random_forest", o).error().field == "trees");
  o = {};
  o.max_depth = -1;
  CHECK(make_classifier("decision_tree", o).error().field == "max_depth");
  o = {};
  o.k = 0;
  CHECK(make_classifier("knn", o).error().field == "k");
}

TEST_CASE("ml: every algorithm's probabilities sum to 1 on every iris row", "[unit]") {
  for (std::string_view name : algorithm_names()) {
    INFO(name);
    auto c = std::move(make_classifier(name).value());
    c->fit(iris());
    CHECK(c->fitted());
    CHECK(c->n_classes() == 3);
    CHECK(c->n_features() == 4);
    for (const auto& row : iris().rows) {
      const auto p = c->predict_proba(row);
      REQUIRE(p.size() == 3);
      for (double v : p) {
        CHECK(v >= 0.0);
        CHECK(v <= 1.0);
      }
      CHECK(std::abs(std::accumulate(p.begin(), p.end(), 0.0) - 1.0) <= 1e-9);
    }
  }
}

TEST_CASE("ml: random forest, decision tree and knn classify known iris rows", "[unit]") {
  const std::vector<double> setosa{5.1, 3.5, 1.4, 0.2};
  const std::vector<double> virginica{6.7, 3.0, 5.2, 2.3};
  for (std::string_view name : {"random_forest", "decision_tree", "knn"}) {
    INFO(name);
    auto c = std::move(make_classifier(name).value());
    c->fit(iris());
    CHECK(c->predict(setosa) == 0);
    CHECK(c->predict(virginica) == 2);
    CHECK(argmax(c->predict_proba(setosa)) == 0);
  }
}

TEST_CASE("ml: argmax breaks ties towards the lowest index", "[unit]") {
  CHECK(argmax(std::vector<double>{0.2, 0.4, 0.4}) == 1);
  CHECK(argmax(std::vector<double>{0.5, 0.5}) == 0);
  CHECK(argmax(std::vector<double>{0.1, 0.2, 0.7}) == 2);
  CHECK(argmax(std::vector<double>{}) == 0);
}

TEST_CASE("ml: predicting before fit or with a bad row is a bug", "[unit]") {
  auto c = std::move(make_classifier("decision_tree").value());
  const std::vector<double> row{1, 2, 3, 4};
  CHECK_THROWS_AS(c->predict_proba(row), std::logic_error);
  c->fit(iris());
  CHECK_THROWS_AS(c->predict_proba(std::vector<double>{1, 2, 3}), std::invalid_argument);
  CHECK_THROWS_AS(c->predict_proba(std::vector<double>{1, std::nan(""), 3, 4}),
                  std::invalid_argument);
  CHECK_THROWS_AS(c->predict_proba(std::vector<double>{1, 2, HUGE_VAL, 4}), std::invalid_argument);
  CHECK_NOTHROW(c->predict_proba(row));
}

TEST_CASE("ml: fit rejects mismatched rows and labels", "[unit]") {
  auto c = std::move(make_classifier("knn").value());
  CHECK_THROWS_AS(c->fit({}, {}, 2), std::invalid_argument);
  CHECK_THROWS_AS(c->fit({{1.0}, {2.0}}, {0}, 2), std::invalid_argument);
  CHECK_THROWS_AS(c->fit({{1.0}, {2.0, 3.0}}, {0, 1}, 2), std::invalid_argument);
  CHECK_THROWS_AS(c->fit({{1.0}, {2.0}}, {0, 2}, 2), std::invalid_argument);
  CHECK_THROWS_AS(c->fit({{1.0}, {std::nan("")}}, {0, 1}, 2), std::invalid_argument);
  CHECK_FALSE(c->fitted());
  c->fit({{1.0}, {2.0}}, {0, 1}, 2);
  CHECK(c->fitted());
}
