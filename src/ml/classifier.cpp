// The classifier base (argument checks around fit and predict) and make_classifier.
#include "node/ml/classifier.hpp"

#include "node/ml/decision_tree.hpp"
#include "node/ml/knn.hpp"
#include "node/ml/liar.hpp"
#include "node/ml/random_classifier.hpp"
#include "node/ml/random_forest.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace node::ml {

void classifier::fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
                     int n_classes) {
  if (rows.empty() || rows.size() != labels.size() || n_classes < 1) {
    throw std::invalid_argument("classifier::fit: need rows, one label per row and n_classes >= 1");
  }
  if (rows.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("classifier::fit: too many rows");
  }
  const std::size_t width = rows.front().size();
  if (width == 0) {
    throw std::invalid_argument("classifier::fit: rows have no features");
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != width) {
      throw std::invalid_argument("classifier::fit: rows of different widths");
    }
    if (!std::all_of(rows[i].begin(), rows[i].end(), [](double v) { return std::isfinite(v); })) {
      throw std::invalid_argument("classifier::fit: non-finite value");
    }
    if (labels[i] < 0 || labels[i] >= n_classes) {
      throw std::invalid_argument("classifier::fit: label out of range");
    }
  }
  n_classes_ = 0;
  n_features_ = width;
  do_fit(rows, labels, n_classes);
  n_classes_ = n_classes;
}

std::vector<double> classifier::predict_proba(std::span<const double> row) const {
  std::vector<double> out;
  predict_proba(row, out);
  return out;
}

void classifier::predict_proba(std::span<const double> row, std::vector<double>& out) const {
  if (!fitted()) {
    throw std::logic_error("classifier::predict_proba: called before fit");
  }
  if (row.size() != n_features_) {
    throw std::invalid_argument("classifier::predict_proba: row has " + std::to_string(row.size()) +
                                " features, expected " + std::to_string(n_features_));
  }
  for (double v : row) {
    if (!std::isfinite(v)) {
      throw std::invalid_argument("classifier::predict_proba: row has a non-finite value");
    }
  }
  out.assign(static_cast<std::size_t>(n_classes_), 0.0);
  do_predict_proba(row, out);
}

int classifier::predict(std::span<const double> row) const {
  return argmax(predict_proba(row));
}

int argmax(std::span<const double> values) noexcept {
  std::size_t best = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best]) {
      best = i;
    }
  }
  return static_cast<int>(best);
}

namespace {

constexpr std::array<std::string_view, 5> names = {"random_forest", "decision_tree", "knn", "liar",
                                                   "random"};

}  // namespace

std::span<const std::string_view> algorithm_names() noexcept {
  return names;
}

core::result<std::unique_ptr<classifier>> make_classifier(std::string_view algorithm,
                                                          const classifier_options& options) {
  if (options.trees < 1 || options.trees > max_trees) {
    return core::bad_request("trees must be between 1 and " + std::to_string(max_trees), "trees");
  }
  if (options.max_depth < 0) {
    return core::bad_request("max_depth must be 0 (unlimited) or more", "max_depth");
  }
  if (options.k < 1) {
    return core::bad_request("k must be at least 1", "k");
  }
  if (algorithm == "random_forest") {
    return std::make_unique<random_forest>(options.trees, options.max_depth, options.seed);
  }
  if (algorithm == "decision_tree") {
    return std::make_unique<decision_tree>(options.max_depth);
  }
  if (algorithm == "knn") {
    return std::make_unique<knn>(options.k);
  }
  if (algorithm == "liar") {
    return std::make_unique<liar>(options.trees, options.max_depth, options.seed);
  }
  if (algorithm == "random") {
    return std::make_unique<random_classifier>(options.seed);
  }
  std::string valid;
  for (std::string_view n : names) {
    valid += (valid.empty() ? "" : ", ") + std::string(n);
  }
  return core::bad_request("unknown algorithm '" + std::string(algorithm) + "'; valid: " + valid,
                           "algorithm");
}

}  // namespace node::ml
