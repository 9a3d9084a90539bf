#include "node/ml/random_classifier.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace node::ml;

TEST_CASE("ml: random classifier puts probability 1 on one class per call", "[unit]") {
  random_classifier r;
  r.fit(iris());
  for (const auto& row : iris().rows) {
    const auto p = r.predict_proba(row);
    int ones = 0;
    for (double v : p) {
      CHECK((v == 0.0 || v == 1.0));
      ones += v == 1.0 ? 1 : 0;
    }
    CHECK(ones == 1);
  }
}

TEST_CASE("ml: random classifier repeats its sequence for a seed and varies with it", "[unit]") {
  random_classifier a(42), b(42), c(43);
  a.fit(iris());
  b.fit(iris());
  c.fit(iris());
  std::vector<int> sa, sb, sc;
  for (const auto& row : iris().rows) {
    sa.push_back(a.predict(row));
    sb.push_back(b.predict(row));
    sc.push_back(c.predict(row));
  }
  CHECK(sa == sb);
  CHECK(sa != sc);
  a.fit(iris());
  std::vector<int> again;
  for (const auto& row : iris().rows) {
    again.push_back(a.predict(row));
  }
  CHECK(again == sb);
}

TEST_CASE("ml: random classifier draws every class about equally often", "[unit]") {
  random_classifier r(9);
  r.fit(iris());
  std::array<int, 3> counts{};
  for (int i = 0; i < 3000; ++i) {
    ++counts[static_cast<std::size_t>(r.predict(iris().rows[0]))];
  }
  for (int n : counts) {
    CHECK(n > 850);
    CHECK(n < 1150);
  }
}
