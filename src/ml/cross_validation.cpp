// Stratified fold assignment (scikit-learn's algorithm) and k-fold accuracy.
#include "node/ml/cross_validation.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace node::ml {

core::result<std::vector<int>> stratified_folds(std::span<const int> labels, int n_splits) {
  if (n_splits < 2) {
    return core::bad_request("cross-validation needs at least 2 folds", "cv_folds");
  }
  const auto folds = static_cast<std::size_t>(n_splits);
  if (folds > labels.size()) {
    return core::bad_request("cannot have " + std::to_string(n_splits) + " folds with only " +
                                 std::to_string(labels.size()) + " samples",
                             "cv_folds");
  }
  std::unordered_map<int, std::size_t> class_of;
  std::vector<std::size_t> encoded(labels.size());
  std::vector<std::size_t> counts;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto [it, inserted] = class_of.try_emplace(labels[i], counts.size());
    if (inserted) {
      counts.push_back(0);
    }
    encoded[i] = it->second;
    ++counts[it->second];
  }
  if (std::all_of(counts.begin(), counts.end(), [&](std::size_t c) { return c < folds; })) {
    return core::bad_request(
        "every class has fewer members than the " + std::to_string(n_splits) + " folds",
        "cv_folds");
  }

  // allocation[i][k]: members of class k in test fold i, from a round robin over sorted labels.
  std::vector<std::size_t> sorted = encoded;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<std::size_t>> allocation(folds, std::vector<std::size_t>(counts.size()));
  for (std::size_t j = 0; j < sorted.size(); ++j) {
    ++allocation[j % folds][sorted[j]];
  }

  std::vector<int> test_fold(labels.size());
  for (std::size_t k = 0; k < counts.size(); ++k) {
    std::size_t fold = 0;
    std::size_t used = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (encoded[i] != k) {
        continue;
      }
      while (used == allocation[fold][k]) {
        ++fold;
        used = 0;
      }
      test_fold[i] = static_cast<int>(fold);
      ++used;
    }
  }
  return test_fold;
}

core::result<cv_result> cross_validate(const dataset& d, int n_splits,
                                       const std::function<std::unique_ptr<classifier>()>& make) {
  auto folds = stratified_folds(d.labels, n_splits);
  if (!folds) {
    return folds.error();
  }
  cv_result out;
  std::vector<std::vector<double>> train_rows;
  std::vector<int> train_labels;
  for (int fold = 0; fold < n_splits; ++fold) {
    train_rows.clear();
    train_labels.clear();
    for (std::size_t i = 0; i < d.size(); ++i) {
      if ((*folds)[i] != fold) {
        train_rows.push_back(d.rows[i]);
        train_labels.push_back(d.labels[i]);
      }
    }
    const std::unique_ptr<classifier> model = make();
    model->fit(train_rows, train_labels, d.n_classes());
    std::size_t tested = 0;
    std::size_t correct = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      if ((*folds)[i] == fold) {
        ++tested;
        correct += model->predict(d.rows[i]) == d.labels[i] ? 1 : 0;
      }
    }
    out.fold_accuracies.push_back(static_cast<double>(correct) / static_cast<double>(tested));
  }
  double sum = 0;
  for (double a : out.fold_accuracies) {
    sum += a;
  }
  out.mean_accuracy = sum / static_cast<double>(out.fold_accuracies.size());
  return out;
}

core::result<cv_result> cross_validate(const dataset& d, int n_splits, std::string_view algorithm,
                                       const classifier_options& options) {
  auto probe = make_classifier(algorithm, options);
  if (!probe) {
    return probe.error();
  }
  return cross_validate(d, n_splits, [&] { return *make_classifier(algorithm, options); });
}

}  // namespace node::ml
