#include "node/ml/liar.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace node::ml;

TEST_CASE("ml: liar is wrong on every iris row", "[unit]") {
  liar l;
  l.fit(iris());
  for (std::size_t i = 0; i < iris().size(); ++i) {
    CHECK(l.predict(iris().rows[i]) != iris().labels[i]);
  }
}

TEST_CASE("ml: liar answers the class after the forest's, with probability 1", "[unit]") {
  liar l(20, 0, 5);
  l.fit(iris());
  for (const auto& row : iris().rows) {
    const int honest = l.forest().predict(row);
    const auto p = l.predict_proba(row);
    std::vector<double> expected(3, 0.0);
    expected[static_cast<std::size_t>((honest + 1) % 3)] = 1.0;
    CHECK(p == expected);
  }
}
