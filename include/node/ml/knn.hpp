// k-nearest-neighbours classification.
#pragma once

#include "node/ml/classifier.hpp"

#include <cstddef>
#include <vector>

namespace node::ml {

// Keeps the training rows; predict_proba is the share of each class among the k training rows
// nearest to the row in Euclidean distance (all rows when fewer than k), ties in distance going
// to the lower training index. Features are not scaled.
class knn final : public classifier {
 public:
  explicit knn(int k = 5) : k_(k) {}

  std::string_view name() const override { return "knn"; }

 private:
  void do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
              int n_classes) override;
  void do_predict_proba(std::span<const double> row, std::span<double> out) const override;

  int k_;
  std::size_t width_ = 0;
  std::vector<double> points_;  // row-major, width_ values per training row
  std::vector<int> labels_;
};

}  // namespace node::ml
