// Serving a trained classifier: reading feature rows from a query string, a POST /predict body
// or a KServe V2 (Open Inference Protocol) infer request, and writing the answers as JSON.
// Plain code with no Asio; the model role drives it.
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"
#include "node/ml/classifier.hpp"
#include "node/ml/dataset.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace node::ml {

// One answer: the class and the probabilities it was taken from.
struct prediction {
  int cls = 0;
  std::vector<double> probabilities;
};

// Calls predict_proba once and takes argmax, so that a classifier drawing at random reports a
// class consistent with its probabilities. `row` must be valid for `c` (see classifier).
prediction predict_row(const classifier& c, std::span<const double> row);
// The same into `p`, whose buffer a caller may reuse across calls.
void predict_row(const classifier& c, std::span<const double> row, prediction& p);

// A decimal number as a user writes it: optional spaces around, an optional '+'. nullopt when
// the text is not a whole number or not finite.
std::optional<double> parse_finite(std::string_view text);

// The row named by query parameters (percent-encoded, as sent; '+' is a space), each feature by
// its column name or its alias (sl, sw, pl, pw for Iris); when a feature is given twice the first
// wins; other parameters are ignored. Fails with bad_request naming the field: a missing feature
// (field: its alias, else its name), a value that is not a finite number (field: the parameter as
// given).
core::result<std::vector<double>> row_from_query(const dataset& d, std::string_view query);
// The same into `row` (resized to the feature count), which a caller may reuse across calls.
core::result<void> row_from_query(const dataset& d, std::string_view query,
                                  std::vector<double>& row);

// The rows of a POST /predict body {"instances":[[5.1,3.5,1.4,0.2], ...]}; an instance may also
// be an object keyed by feature name or alias ({"sl":5.1, ...}; other keys are ignored).
// Fails with bad_request naming the field ("instances", "instances[3]", "instances[3][1]",
// "instances[3].sl") for a body that is not such an object, an empty list, a row of the wrong
// width, or a value that is not a finite number; with 413 payload_too_large (field "instances")
// for more than max_batch instances.
core::result<std::vector<std::vector<double>>> rows_from_instances(const dataset& d,
                                                                   const core::json::value& body,
                                                                   std::size_t max_batch);

// Adds "prediction" (the class index), "label" (its name) and "probabilities" to `out`.
void put_prediction(core::json::object& out, const dataset& d, const prediction& p);

// {"prediction":0,"label":"setosa","probabilities":[...]}
core::json::object prediction_json(const dataset& d, const prediction& p);

// Writes the GET /predict answer {"model","algorithm","prediction","label","probabilities"}
// straight into a string, without a JSON tree: the same text as core::to_json of that object
// (the hot path of a model node).
class answer_writer {
 public:
  answer_writer(std::string_view model, std::string_view algorithm, const dataset& d);
  // `p` must be a prediction of a model trained on the dataset given to the constructor.
  std::string write(const prediction& p) const;
  // The POST /predict answer {"model","algorithm","predictions":[{"prediction","label",
  // "probabilities"}, ...]}: the same text as core::to_json of that object.
  std::string write_batch(const std::vector<prediction>& ps) const;

 private:
  void append_row(std::string& out, const prediction& p) const;

  std::string head_;                 // {"model":..,"algorithm":..,"prediction":
  std::string batch_head_;           // {"model":..,"algorithm":..,"predictions":[
  std::vector<std::string> labels_;  // per class: ,"label":"setosa","probabilities":[
};

// The KServe V2 protocol (https://kserve.github.io/website/ "Open Inference Protocol").
namespace v2 {

inline constexpr std::string_view model_version = "1";
inline constexpr std::string_view input_name = "input-0";
inline constexpr std::string_view predict_output = "predict";      // INT64 [N]
inline constexpr std::string_view proba_output = "predict_proba";  // FP64 [N, C]
inline constexpr std::string_view label_output = "label";          // BYTES [N], on request

// A checked infer request.
struct infer_request {
  std::string id;                         // echoed when given
  std::vector<std::vector<double>> rows;  // N rows of n_features values
  std::vector<std::string> outputs;       // output names in answer order
};

// Reads {"id"?, "inputs":[{"name","shape":[N,F],"datatype","data"}], "outputs"?:[{"name"}]}:
// one input tensor of a numeric datatype (FP16/32/64, INT8..64, UINT8..64), shape [N, F] with
// F the dataset's feature count and 1 <= N <= max_batch, data flat (N*F numbers, row-major) or
// nested (N arrays of F). Requested outputs must be predict, predict_proba or label; none asked
// means predict and predict_proba. Fails with bad_request (413 when N > max_batch).
core::result<infer_request> parse_infer(const dataset& d, const core::json::value& body,
                                        std::size_t max_batch);

// {"model_name","model_version","id"?,"outputs":[...]} for predictions of req.rows.
core::json::object infer_response(std::string_view model, const dataset& d,
                                  const infer_request& req, std::span<const prediction> preds);

// GET /v2/models/{name}: name, versions, platform, inputs and outputs with their shapes.
core::json::object model_metadata(std::string_view model, std::string_view algorithm,
                                  const dataset& d);

// {"error":"<message>"}: the V2 protocol's error shape.
core::json::object error_json(const core::error& e);

}  // namespace v2
}  // namespace node::ml
