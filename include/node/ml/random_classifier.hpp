// A classifier that answers at random, for testing the network's defences.
#pragma once

#include "node/ml/classifier.hpp"

#include <atomic>
#include <cstdint>

namespace node::ml {

// Ignores the row: each predict_proba call draws a class uniformly and puts probability 1 on it.
// The n-th call after fit() draws from the seed and n alone, so two instances with the same seed
// answer the same sequence. Calls from several threads are safe (an atomic counter).
class random_classifier final : public classifier {
 public:
  explicit random_classifier(std::uint64_t seed = 42) : seed_(seed) {}

  std::string_view name() const override { return "random"; }

 private:
  void do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
              int n_classes) override;
  void do_predict_proba(std::span<const double> row, std::span<double> out) const override;

  std::uint64_t seed_;
  mutable std::atomic<std::uint64_t> calls_{0};
};

}  // namespace node::ml
