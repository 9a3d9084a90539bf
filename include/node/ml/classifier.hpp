// The classifier interface, its options and the factory that makes one by algorithm name.
#pragma once

#include "node/core/error.hpp"
#include "node/ml/dataset.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace node::ml {

// A model mapping a row of features to one probability per class.
// fit() must run before any prediction; after fit() every const member is safe to call from
// several threads at once. Misuse (predicting before fit, a row of the wrong width, labels out of
// range, non-finite values in a row) is a bug and throws std::logic_error or std::invalid_argument:
// callers validate input first.
class classifier {
 public:
  virtual ~classifier() = default;

  // Learns from `rows` (finite values, all of one width, at least one row) labelled with classes in
  // [0, n_classes); n_classes >= 1. Replaces anything learnt before.
  void fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
           int n_classes);
  void fit(const dataset& d) { fit(d.rows, d.labels, d.n_classes()); }

  // One probability per class, each in [0, 1], summing to 1 up to rounding.
  std::vector<double> predict_proba(std::span<const double> row) const;
  // The same into `out` (resized to n_classes), which a caller may reuse across calls.
  void predict_proba(std::span<const double> row, std::vector<double>& out) const;

  // The most probable class of predict_proba(row), ties to the lowest index. For a classifier
  // that draws at random each call is a fresh draw: to report a class with its probabilities,
  // call predict_proba once and take argmax().
  int predict(std::span<const double> row) const;

  // The algorithm's name as make_classifier accepts it, e.g. "random_forest".
  virtual std::string_view name() const = 0;

  bool fitted() const noexcept { return n_classes_ > 0; }
  int n_classes() const noexcept { return n_classes_; }
  std::size_t n_features() const noexcept { return n_features_; }

 protected:
  classifier() = default;
  classifier(const classifier&) = default;
  classifier& operator=(const classifier&) = default;

 private:
  // Called by fit() with arguments already checked.
  virtual void do_fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
                      int n_classes) = 0;
  // Writes one value per class into `out`, which arrives zeroed and n_classes() long; `row` is
  // n_features() long.
  virtual void do_predict_proba(std::span<const double> row, std::span<double> out) const = 0;

  int n_classes_ = 0;
  std::size_t n_features_ = 0;
};

// The index of the largest value, ties to the lowest index; 0 for an empty span.
int argmax(std::span<const double> values) noexcept;

// Settings of every algorithm; each algorithm reads the ones it uses.
struct classifier_options {
  int trees = 100;          // random_forest and liar: number of trees, >= 1
  int max_depth = 0;        // decision_tree, random_forest and liar: 0 = unlimited
  int k = 5;                // knn: neighbours, >= 1
  std::uint64_t seed = 42;  // random_forest, liar and random
};

// Largest accepted classifier_options::trees.
inline constexpr int max_trees = 10000;

// The names make_classifier accepts: random_forest, decision_tree, knn, liar, random.
std::span<const std::string_view> algorithm_names() noexcept;

// An unfitted classifier of the named algorithm. Fails with bad_request for an unknown name
// (field "algorithm", the message lists the valid names) or an option out of range (field
// "trees", "max_depth" or "k").
core::result<std::unique_ptr<classifier>> make_classifier(std::string_view algorithm,
                                                          const classifier_options& options = {});

}  // namespace node::ml
