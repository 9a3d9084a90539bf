// k-nearest-neighbours: brute-force Euclidean search over the training rows.
#include "node/ml/knn.hpp"

#include <algorithm>
#include <utility>

namespace node::ml {

void knn::do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
                 int) {
  width_ = rows.front().size();
  points_.clear();
  points_.reserve(rows.size() * width_);
  for (const auto& r : rows) {
    points_.insert(points_.end(), r.begin(), r.end());
  }
  labels_ = labels;
}

void knn::do_predict_proba(std::span<const double> row, std::span<double> out) const {
  const std::size_t n = labels_.size();
  std::vector<std::pair<double, std::size_t>> by_distance(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = points_.data() + i * width_;
    double d2 = 0;
    for (std::size_t f = 0; f < width_; ++f) {
      const double d = p[f] - row[f];
      d2 += d * d;
    }
    by_distance[i] = {d2, i};
  }
  const std::size_t k = std::min(n, static_cast<std::size_t>(std::max(k_, 1)));
  std::partial_sort(by_distance.begin(), by_distance.begin() + static_cast<std::ptrdiff_t>(k),
                    by_distance.end());
  for (std::size_t i = 0; i < k; ++i) {
    out[static_cast<std::size_t>(labels_[by_distance[i].second])] += 1.0;
  }
  for (double& v : out) {
    v /= static_cast<double>(k);
  }
}

}  // namespace node::ml
