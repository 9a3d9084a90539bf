// Deterministic random helpers whose output is the same on every standard library.
#pragma once

#include <cstdint>
#include <random>

namespace node::ml {

// One SplitMix64 step: a well-mixed 64-bit value from `x`. Used to derive seeds and for
// stateless draws.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform integer in [0, n) drawn from `gen` by rejection. std::uniform_int_distribution is
// not used because its output differs between standard libraries. Requires n > 0.
inline std::uint64_t uniform_below(std::mt19937_64& gen, std::uint64_t n) {
  const std::uint64_t reject_below = (0 - n) % n;  // 2^64 mod n
  std::uint64_t x = gen();
  while (x < reject_below) {
    x = gen();
  }
  return x % n;
}

}  // namespace node::ml
