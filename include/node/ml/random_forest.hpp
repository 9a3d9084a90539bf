// A random forest of CART trees grown on bootstrap samples.
#pragma once

#include "node/ml/classifier.hpp"
#include "node/ml/decision_tree.hpp"

#include <cstdint>
#include <vector>

namespace node::ml {

// n_trees CART trees, each grown on a bootstrap sample (n draws with replacement) trying
// max(1, floor(sqrt(n_features))) features drawn at random at each split. predict_proba is the
// mean over the trees of the class frequencies in the leaf the row reaches (as scikit-learn
// does; with unlimited depth the leaves are pure, so this equals the share of votes).
// The same seed and data give the same forest.
class random_forest final : public classifier {
 public:
  explicit random_forest(int n_trees = 100, int max_depth = 0, std::uint64_t seed = 42)
      : n_trees_(n_trees), max_depth_(max_depth), seed_(seed) {}

  std::string_view name() const override { return "random_forest"; }
  const std::vector<tree_model>& trees() const noexcept { return trees_; }

 private:
  void do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
              int n_classes) override;
  void do_predict_proba(std::span<const double> row, std::span<double> out) const override;

  int n_trees_;
  int max_depth_;
  std::uint64_t seed_;
  std::vector<tree_model> trees_;
};

}  // namespace node::ml
