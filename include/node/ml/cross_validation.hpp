// Stratified k-fold cross-validation, folded as scikit-learn's StratifiedKFold(shuffle=False).
#pragma once

#include "node/core/error.hpp"
#include "node/ml/classifier.hpp"
#include "node/ml/dataset.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace node::ml {

// The test fold (0..n_splits-1) of each sample, as scikit-learn 1.2's
// StratifiedKFold(n_splits, shuffle=False)._make_test_folds: classes are taken in order of first
// appearance; the number of samples of each class in fold i is the count of that class among
// positions i, i + n_splits, i + 2 n_splits, ... of the labels sorted by class; then, class by
// class, the samples in data order fill fold 0 first, then fold 1, and so on.
// Fails with bad_request (field "cv_folds") when n_splits < 2, n_splits exceeds the number of
// samples, or every class has fewer than n_splits members. (scikit-learn only warns when some
// class has fewer members than folds; so does this: it is accepted.)
core::result<std::vector<int>> stratified_folds(std::span<const int> labels, int n_splits);

struct cv_result {
  double mean_accuracy = 0;             // mean of fold_accuracies
  std::vector<double> fold_accuracies;  // share of correct predictions on each test fold
};

// Fits a fresh classifier from `make` on each training split of stratified_folds(d.labels,
// n_splits) and scores predict() on the held-out fold. Fails as stratified_folds does.
core::result<cv_result> cross_validate(const dataset& d, int n_splits,
                                       const std::function<std::unique_ptr<classifier>()>& make);

// The same with make_classifier(algorithm, options); also fails as make_classifier does.
core::result<cv_result> cross_validate(const dataset& d, int n_splits, std::string_view algorithm,
                                       const classifier_options& options = {});

}  // namespace node::ml
