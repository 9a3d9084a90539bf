#include "node/ml/rng.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace node::ml;

TEST_CASE("ml: splitmix64 gives the reference output", "[unit]") {
  // First output of the SplitMix64 generator from state 0 (Vigna's reference).
  CHECK(splitmix64(0) == 0xe220a8397b1dcdafULL);
}

TEST_CASE("ml: uniform_below stays in range, reaches every value and repeats per seed", "[unit]") {
  std::mt19937_64 a(1), b(1);
  std::array<int, 7> seen{};
  for (int i = 0; i < 700; ++i) {
    const auto x = uniform_below(a, 7);
    REQUIRE(x < 7);
    ++seen[x];
    CHECK(uniform_below(b, 7) == x);
  }
  for (int n : seen) {
    CHECK(n > 50);
  }
  CHECK(uniform_below(a, 1) == 0);
}
