// A deliberately wrong classifier, for testing the network's defences.
#pragma once

#include "node/ml/classifier.hpp"
#include "node/ml/random_forest.hpp"

#include <cstdint>

namespace node::ml {

// Trains an honest random_forest and always answers the class after the forest's,
// (c + 1) mod n_classes, with probability 1 on it. With 2 or more classes it never agrees with
// the forest; with one class it has no other to answer.
class liar final : public classifier {
 public:
  explicit liar(int n_trees = 100, int max_depth = 0, std::uint64_t seed = 42)
      : forest_(n_trees, max_depth, seed) {}

  std::string_view name() const override { return "liar"; }
  const random_forest& forest() const noexcept { return forest_; }

 private:
  void do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
              int n_classes) override;
  void do_predict_proba(std::span<const double> row, std::span<double> out) const override;

  random_forest forest_;
};

}  // namespace node::ml
