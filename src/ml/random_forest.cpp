// Random forest training (bootstrap samples, random feature subsets) and averaged prediction.
#include "node/ml/random_forest.hpp"

#include "node/ml/rng.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace node::ml {

void random_forest::do_fit(const std::vector<std::vector<double>>& rows,
                           const std::vector<int>& labels, int n_classes) {
  const std::size_t n = rows.size();
  const std::size_t n_features = rows.front().size();
  tree_params params;
  params.max_depth = max_depth_;
  params.max_features = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::floor(std::sqrt(static_cast<double>(n_features)))));

  std::mt19937_64 gen(seed_);
  trees_.assign(static_cast<std::size_t>(std::max(n_trees_, 1)), tree_model{});
  std::vector<std::uint32_t> sample(n);
  for (tree_model& tree : trees_) {
    for (std::uint32_t& s : sample) {
      s = static_cast<std::uint32_t>(uniform_below(gen, n));
    }
    tree.grow(rows, labels, sample, n_classes, params, &gen);
  }
}

void random_forest::do_predict_proba(std::span<const double> row, std::span<double> out) const {
  for (const tree_model& tree : trees_) {
    const double* p = tree.leaf_proba(row);
    for (std::size_t c = 0; c < out.size(); ++c) {
      out[c] += p[c];
    }
  }
  const double scale = 1.0 / static_cast<double>(trees_.size());
  for (double& v : out) {
    v *= scale;
  }
}

}  // namespace node::ml
