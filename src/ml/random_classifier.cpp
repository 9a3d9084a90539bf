// The random classifier: one stateless draw per call from (seed, call number).
#include "node/ml/random_classifier.hpp"

#include "node/ml/rng.hpp"

namespace node::ml {

void random_classifier::do_fit(const std::vector<std::vector<double>>&, const std::vector<int>&,
                               int) {
  calls_.store(0, std::memory_order_relaxed);
}

void random_classifier::do_predict_proba(std::span<const double>, std::span<double> out) const {
  const std::uint64_t call = calls_.fetch_add(1, std::memory_order_relaxed);
  // Modulo bias is below n / 2^64: negligible for any class count.
  const std::uint64_t draw = splitmix64(splitmix64(seed_) ^ call);
  out[draw % out.size()] = 1.0;
}

}  // namespace node::ml
