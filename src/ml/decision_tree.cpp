// Growing CART trees (Gini, midpoint thresholds) into a flat node array, and the decision_tree
// classifier.
#include "node/ml/decision_tree.hpp"

#include "node/ml/rng.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace node::ml {

void tree_model::grow(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
                      std::vector<std::uint32_t> sample, int n_classes, const tree_params& params,
                      std::mt19937_64* rng) {
  if (sample.empty() || n_classes < 1) {
    throw std::invalid_argument("tree_model::grow: empty sample or no classes");
  }
  nodes_.clear();
  proba_.clear();
  depth_ = 0;
  const std::size_t n_features = rows[sample.front()].size();
  const std::size_t tried = params.max_features == 0 || params.max_features >= n_features
                                ? n_features
                                : params.max_features;
  const bool draw = tried < n_features && rng != nullptr;
  const auto classes = static_cast<std::size_t>(n_classes);

  std::vector<std::size_t> order(n_features);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<std::int64_t> counts(classes), left(classes), right(classes);
  std::vector<std::pair<double, int>> column;
  column.reserve(sample.size());

  struct pending {
    std::int32_t node;
    std::size_t begin, end;
    int depth;
  };
  std::vector<pending> stack;
  nodes_.push_back({0.0, -1, 0});
  stack.push_back({0, 0, sample.size(), 0});

  while (!stack.empty()) {
    const pending p = stack.back();
    stack.pop_back();
    depth_ = std::max(depth_, p.depth);
    const std::size_t n = p.end - p.begin;

    std::fill(counts.begin(), counts.end(), 0);
    for (std::size_t i = p.begin; i < p.end; ++i) {
      ++counts[static_cast<std::size_t>(labels[sample[i]])];
    }
    const bool pure =
        *std::max_element(counts.begin(), counts.end()) == static_cast<std::int64_t>(n);
    const bool may_split = !pure && n >= params.min_samples_split &&
                           (params.max_depth <= 0 || p.depth < params.max_depth);

    // Maximising sum(left_c^2)/n_left + sum(right_c^2)/n_right minimises the children's
    // weighted Gini impurity; the sums of squares are updated exactly in integers.
    std::int32_t best_feature = -1;
    double best_threshold = 0;
    double best_score = 0;
    std::int64_t total_sq = 0;
    for (std::int64_t c : counts) {
      total_sq += c * c;
    }
    std::size_t evaluated = 0;
    for (std::size_t idx = 0; may_split && idx < n_features && evaluated < tried; ++idx) {
      if (draw) {
        std::swap(order[idx], order[idx + uniform_below(*rng, n_features - idx)]);
      }
      const std::size_t f = order[idx];
      column.clear();
      for (std::size_t i = p.begin; i < p.end; ++i) {
        column.emplace_back(rows[sample[i]][f], labels[sample[i]]);
      }
      std::sort(column.begin(), column.end());
      if (column.front().first == column.back().first) {
        continue;  // constant here: does not count towards max_features
      }
      ++evaluated;
      std::fill(left.begin(), left.end(), 0);
      std::copy(counts.begin(), counts.end(), right.begin());
      std::int64_t left_sq = 0;
      std::int64_t right_sq = total_sq;
      for (std::size_t j = 0; j + 1 < n; ++j) {
        const auto c = static_cast<std::size_t>(column[j].second);
        left_sq += 2 * left[c] + 1;
        ++left[c];
        right_sq -= 2 * right[c] - 1;
        --right[c];
        if (column[j].first == column[j + 1].first) {
          continue;
        }
        const auto n_left = static_cast<double>(j + 1);
        const auto n_right = static_cast<double>(n - j - 1);
        const double score =
            static_cast<double>(left_sq) / n_left + static_cast<double>(right_sq) / n_right;
        if (best_feature < 0 || score > best_score + 1e-12 * best_score) {
          const double lo = column[j].first;
          const double hi = column[j + 1].first;
          double threshold = lo / 2 + hi / 2;
          if (!(threshold >= lo && threshold < hi)) {
            threshold = lo;
          }
          best_score = score;
          best_threshold = threshold;
          best_feature = static_cast<std::int32_t>(f);
        }
      }
    }

    if (best_feature < 0) {
      nodes_[static_cast<std::size_t>(p.node)] = {0.0, -1,
                                                  static_cast<std::int32_t>(proba_.size())};
      for (std::int64_t c : counts) {
        proba_.push_back(static_cast<double>(c) / static_cast<double>(n));
      }
      continue;
    }

    const auto f = static_cast<std::size_t>(best_feature);
    const auto mid = std::partition(sample.begin() + static_cast<std::ptrdiff_t>(p.begin),
                                    sample.begin() + static_cast<std::ptrdiff_t>(p.end),
                                    [&](std::uint32_t s) { return rows[s][f] <= best_threshold; });
    const auto split = static_cast<std::size_t>(mid - sample.begin());
    const auto first_child = static_cast<std::int32_t>(nodes_.size());
    nodes_[static_cast<std::size_t>(p.node)] = {best_threshold, best_feature, first_child};
    nodes_.push_back({0.0, -1, 0});
    nodes_.push_back({0.0, -1, 0});
    stack.push_back({first_child + 1, split, p.end, p.depth + 1});
    stack.push_back({first_child, p.begin, split, p.depth + 1});
  }
}

std::size_t tree_model::leaf_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(nodes_.begin(), nodes_.end(), [](const node& n) { return n.feature < 0; }));
}

void decision_tree::do_fit(const std::vector<std::vector<double>>& rows,
                           const std::vector<int>& labels, int n_classes) {
  std::vector<std::uint32_t> sample(rows.size());
  std::iota(sample.begin(), sample.end(), std::uint32_t{0});
  tree_params params;
  params.max_depth = max_depth_;
  tree_.grow(rows, labels, std::move(sample), n_classes, params, nullptr);
}

void decision_tree::do_predict_proba(std::span<const double> row, std::span<double> out) const {
  const double* p = tree_.leaf_proba(row);
  std::copy(p, p + out.size(), out.begin());
}

}  // namespace node::ml
