// CART decision trees with Gini impurity: the tree structure, and the decision_tree classifier.
#pragma once

#include "node/ml/classifier.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace node::ml {

// How a tree grows.
struct tree_params {
  int max_depth = 0;                  // 0 = unlimited; a root-only tree has depth 0
  std::size_t min_samples_split = 2;  // a node with fewer samples is a leaf
  std::size_t max_features = 0;  // features tried per split, drawn at random; 0 = all, in order
};

// A fitted CART tree as a flat node array. Splits minimise the weighted Gini impurity of the
// children over the tried features, with thresholds at midpoints between consecutive distinct
// values (a row goes left when its value is <= the threshold); the first best split found wins.
// A node becomes a leaf when it is pure, has fewer than min_samples_split samples, is at
// max_depth, or has no feature with two distinct values. A leaf holds the class frequencies of
// its training samples.
class tree_model {
 public:
  // Grows the tree on rows[s] for s in `sample` (repeats allowed: a bootstrap sample counts a row
  // once per occurrence). `rng` draws the features tried when params.max_features is set and
  // smaller than the row width; when it is null they are taken in column order instead. Requires
  // labels in [0, n_classes); throws std::invalid_argument on an empty sample.
  void grow(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
            std::vector<std::uint32_t> sample, int n_classes, const tree_params& params,
            std::mt19937_64* rng);

  // The class frequencies (n_classes values) of the leaf `row` falls into. Requires a grown tree
  // and a row at least as wide as the training rows.
  const double* leaf_proba(std::span<const double> row) const noexcept {
    std::int32_t i = 0;
    while (nodes_[i].feature >= 0) {
      const node& n = nodes_[i];
      i = n.next + (row[n.feature] <= n.threshold ? 0 : 1);
    }
    return proba_.data() + nodes_[i].next;
  }

  std::size_t node_count() const noexcept { return nodes_.size(); }
  std::size_t leaf_count() const noexcept;
  int depth() const noexcept { return depth_; }

 private:
  // A split (feature >= 0, children at next and next + 1) or a leaf (feature < 0, its
  // frequencies at proba_[next]).
  struct node {
    double threshold;
    std::int32_t feature;
    std::int32_t next;
  };

  std::vector<node> nodes_;
  std::vector<double> proba_;
  int depth_ = 0;
};

// A single CART tree over all features (see tree_model); deterministic, no randomness.
class decision_tree final : public classifier {
 public:
  explicit decision_tree(int max_depth = 0) : max_depth_(max_depth) {}

  std::string_view name() const override { return "decision_tree"; }
  const tree_model& tree() const noexcept { return tree_; }

 private:
  void do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
              int n_classes) override;
  void do_predict_proba(std::span<const double> row, std::span<double> out) const override;

  int max_depth_;
  tree_model tree_;
};

}  // namespace node::ml
