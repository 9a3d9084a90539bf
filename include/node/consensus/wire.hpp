// What the consensus role reads and writes over HTTP, as plain functions with no I/O: the
// prediction requests it accepts, the models' answers it reads, and the answers it gives.
#pragma once

#include "node/consensus/cluster.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace node::consensus {

// A label as the client gave it: a class index or a class name.
using label_ref = std::variant<int, std::string>;

// A POST /predict body, checked: `instances` is what the models are sent.
struct predict_request {
  boost::json::array instances;  // non-empty arrays of finite numbers, all of one length
  std::optional<std::vector<label_ref>> labels;
};

// Reads {"instances":[[...],...],"labels":[...]}: 400 naming "instances" (not a non-empty
// array of at most max_instances rows of finite numbers of one length) or "labels" (not an
// array of one class index or class name per instance).
core::result<predict_request> parse_predict_body(const boost::json::value& body,
                                                 std::size_t max_instances);

// An Iris row: sl, sw, pl, pw.
using iris_row = std::array<double, 4>;

// The Iris row of a GET /predict query, as sent (what follows '?', valid and still
// percent-encoded, as http::context::encoded_query gives it): sl, sw, pl, pw (or
// sepal_length, sepal_width, petal_length, petal_width; a short name wins over its long
// name, and the first of a name over later ones). A 400 naming the short name of a missing,
// non-numeric or non-finite feature.
core::result<iris_row> features_from_query(std::string_view query);

// The query a model's GET /predict takes for an Iris row: "sl=5.1&sw=3.5&pl=1.4&pw=0.2" (each
// number as the shortest text that reads back).
std::string iris_query(const iris_row& row);

// The row as one of the "instances" of a POST /predict: "[5.1,3.5,1.4,0.2]" (numbers as
// core::to_json writes them).
std::string iris_row_json(const iris_row& row);

// Appends both at once: iris_query's text to `query`, iris_row_json's to `json`.
void append_iris_texts(const iris_row& row, std::string& query, std::string& json);

// One model's answer to a batch, as the fan-out saw it.
struct model_reply {
  answer_status status = answer_status::error;
  std::vector<answer> answers;     // one per instance when ok; empty otherwise
  std::vector<std::string> names;  // the class name of each answer ("" when not given)
  std::string detail;              // why it is not ok, for logs
};

// Largest class index a model may answer with; beyond it the answer is malformed.
inline constexpr int max_classes = 1000;

// Reads a model's HTTP answer to POST /predict with `instances` rows:
// 200 {"predictions":[{"prediction":0,"label":"setosa","probabilities":[...]}, ...]}, or, for
// one row, its answer to GET /predict: 200 {"prediction":0,"label":..,"probabilities":[..]}.
// Any other status, or a body of another shape, is an `error` reply.
model_reply parse_model_reply(unsigned status, std::string_view body, std::size_t instances);

// The number of classes of a batch: the most common length of the probabilities in the ok
// answers (ties to the shorter), else the largest prediction + 1, and at least `known`.
int infer_classes(const std::vector<model_reply>& replies, std::size_t known);

// Records, for each class index not yet named, the first name the replies give it (in
// order). `names` grows to cover every named index.
void learn_class_names(const std::vector<model_reply>& replies, std::vector<std::string>& names);

// Class indexes of labels given by index or by name. 400 naming "labels" for a name that
// no model has given. Ranges are checked by check_labels.
core::result<std::vector<int>> resolve_labels(const std::vector<label_ref>& labels,
                                              const std::vector<std::string>& names);

// A weight as answers show it: rounded to 12 decimals, so 0.6000000000000001 reads 0.6.
// The store keeps the exact value.
double shown_weight(double weight);

// What the answer for one instance shows of each asked model after the batch.
struct model_view {
  std::string id;
  double weight = 0;
  micros balance = 0;
  model_status status = model_status::active;
};

// The answer for instance k: {"consensus_prediction","label","individual_predictions",
// "models":[{"id","prediction","label","weight","balance","status"}]}. `models[m]` is the
// model that gave replies[m]; `consensus` is none when nobody voted (prediction null).
boost::json::object instance_json(std::size_t k, const std::optional<vote_result>& consensus,
                                  const std::vector<model_view>& models,
                                  const std::vector<model_reply>& replies,
                                  const std::vector<std::string>& names);

// Appends to `out` the text to_json(instance_json(...)) gives, with `"batch":N` as a last
// field when `batch` is given: the GET /predict answer, written without the JSON tree.
void append_instance_json(std::string& out, std::size_t k,
                          const std::optional<vote_result>& consensus,
                          const std::vector<model_view>& models,
                          const std::vector<model_reply>& replies,
                          const std::vector<std::string>& names,
                          std::optional<std::uint64_t> batch = std::nullopt);

// What a batch did to each model: {"id","score","weight","balance","reward","slash",
// "inactivity","ejected"}, money in coins.
boost::json::array outcomes_json(const settlement& s);

}  // namespace node::consensus
