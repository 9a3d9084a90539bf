// A labelled table of numeric features, and the built-in Iris data set.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace node::ml {

// Rows of numeric features with one class label each. Classes are numbered 0..n-1 in order of
// first appearance; `class_names[i]` names class i. Every row has `feature_names.size()` finite
// values.
struct dataset {
  std::string name;                          // "iris", or the CSV file's stem
  std::vector<std::string> feature_names;    // one per column, in column order
  std::vector<std::string> feature_aliases;  // empty, or one per column ("" = no alias)
  std::vector<std::string> class_names;
  std::vector<std::vector<double>> rows;
  std::vector<int> labels;  // one per row, in [0, class_names.size())

  std::size_t size() const noexcept { return rows.size(); }
  std::size_t n_features() const noexcept { return feature_names.size(); }
  int n_classes() const noexcept { return static_cast<int>(class_names.size()); }

  // The column whose name or alias is `name` (exact, case-sensitive); nullopt if none.
  std::optional<std::size_t> feature_index(std::string_view name) const;
};

// Fisher's Iris data (150 rows in the UCI order: 50 setosa, 50 versicolor, 50 virginica), with
// the two UCI transcription errors corrected as scikit-learn does (rows 35 and 38,
// counting from 1). Features
// sepal_length, sepal_width, petal_length, petal_width (cm) with aliases sl, sw, pl, pw.
// Built once; safe to call from any thread.
const dataset& iris();

}  // namespace node::ml
