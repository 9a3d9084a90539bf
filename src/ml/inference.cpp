// Rows from query strings, POST /predict bodies and V2 infer requests; predictions as JSON.
#include "node/ml/inference.hpp"

#include "node/core/query.hpp"

#include <boost/container/small_vector.hpp>

#include <charconv>
#include <cmath>

namespace node::ml {

namespace json = core::json;

namespace {

// At most this much of a bad value is echoed in an error message.
constexpr std::size_t max_echo = 40;

std::string echo(std::string_view text) {
  if (text.size() <= max_echo) return std::string(text);
  return std::string(text.substr(0, max_echo)) + "...";
}

// The name a user most likely types for feature i: its alias when it has one.
const std::string& short_name(const dataset& d, std::size_t i) {
  if (i < d.feature_aliases.size() && !d.feature_aliases[i].empty()) return d.feature_aliases[i];
  return d.feature_names[i];
}

std::string feature_list(const dataset& d) {
  std::string out;
  for (std::size_t i = 0; i < d.n_features(); ++i) {
    if (i != 0) out += ", ";
    out += short_name(d, i);
  }
  return out;
}

std::string kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
    default:
      return "a number out of range";
  }
}

core::error too_many(std::size_t n, std::size_t max_batch, std::string field) {
  return core::error{413, "payload_too_large",
                     std::to_string(n) + " instances in one request; at most " +
                         std::to_string(max_batch) + " are accepted (--max-batch)",
                     std::move(field)};
}

// One instance of POST /predict: an array of numbers, or an object keyed by feature.
core::result<std::vector<double>> instance_row(const dataset& d, const json::value& v,
                                               const std::string& field) {
  const std::size_t width = d.n_features();
  std::vector<double> row(width);
  if (const auto* a = v.if_array()) {
    if (a->size() != width) {
      return core::bad_request(field + " has " + std::to_string(a->size()) + " values; expected " +
                                   std::to_string(width) + " (" + feature_list(d) + ")",
                               field);
    }
    for (std::size_t j = 0; j < width; ++j) {
      auto x = core::finite_number((*a)[j]);
      std::string at = field + "[" + std::to_string(j) + "]";
      if (!x) {
        return core::bad_request(at + " must be a finite number, not " + kind_name((*a)[j]), at);
      }
      row[j] = *x;
    }
    return row;
  }
  if (const auto* o = v.if_object()) {
    std::vector<bool> seen(width, false);
    for (const auto& kv : *o) {
      auto idx = d.feature_index(kv.key());
      if (!idx || seen[*idx]) continue;
      std::string at = field + "." + std::string(kv.key());
      auto x = core::finite_number(kv.value());
      if (!x) {
        return core::bad_request(at + " must be a finite number, not " + kind_name(kv.value()), at);
      }
      seen[*idx] = true;
      row[*idx] = *x;
    }
    for (std::size_t j = 0; j < width; ++j) {
      if (!seen[j]) {
        std::string at = field + "." + short_name(d, j);
        return core::bad_request(at + " is missing", at);
      }
    }
    return row;
  }
  return core::bad_request(field + " must be an array of " + std::to_string(width) + " numbers (" +
                               feature_list(d) + "), not " + kind_name(v),
                           field);
}

}  // namespace

prediction predict_row(const classifier& c, std::span<const double> row) {
  prediction p;
  predict_row(c, row, p);
  return p;
}

void predict_row(const classifier& c, std::span<const double> row, prediction& p) {
  c.predict_proba(row, p.probabilities);
  p.cls = argmax(p.probabilities);
}

namespace {

// Clinger's fast path for short plain decimals ("5.1", "-0.25", "150"): at most 15 digits and
// at most 22 after the point, so the digits as an integer and the power of ten are both exact
// doubles and their quotient, one IEEE division, is the correctly rounded value from_chars
// would give. Anything else (exponents, long inputs) returns nullopt and goes to from_chars.
std::optional<double> parse_short_decimal(std::string_view t) {
  static constexpr double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  std::size_t i = 0;
  const bool negative = !t.empty() && t[0] == '-';
  if (negative) ++i;
  std::uint64_t digits = 0;
  int count = 0;
  int after_point = -1;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c >= '0' && c <= '9') {
      if (++count > 15) return std::nullopt;
      digits = digits * 10 + static_cast<std::uint64_t>(c - '0');
      if (after_point >= 0) ++after_point;
    } else if (c == '.' && after_point < 0) {
      after_point = 0;
    } else {
      return std::nullopt;
    }
  }
  if (count == 0) return std::nullopt;
  const int scale = after_point < 0 ? 0 : after_point;
  if (scale > 22) return std::nullopt;
  const double x = static_cast<double>(digits) / powers[scale];
  return negative ? -x : x;
}

}  // namespace

std::optional<double> parse_finite(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  if (auto quick = parse_short_decimal(text)) return quick;
  double x = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(x)) {
    return std::nullopt;
  }
  return x;
}

core::result<std::vector<double>> row_from_query(const dataset& d, std::string_view query) {
  std::vector<double> row;
  if (auto r = row_from_query(d, query, row); !r) return r.error();
  return row;
}

core::result<void> row_from_query(const dataset& d, std::string_view query,
                                  std::vector<double>& row) {
  const std::size_t width = d.n_features();
  row.assign(width, 0.0);
  boost::container::small_vector<bool, 32> seen(width, false);
  std::string key_buf;
  std::string value_buf;
  std::optional<core::error> failed;
  core::for_each_query_param(query, [&](std::string_view k, std::string_view v, bool) {
    const std::string_view key = core::decode_query_part(k, key_buf);
    auto idx = d.feature_index(key);
    if (!idx || seen[*idx]) return true;
    const std::string_view value = core::decode_query_part(v, value_buf);
    auto x = parse_finite(value);
    if (!x) {
      failed = core::bad_request(
          "feature '" + std::string(key) + "' must be a finite number, got '" + echo(value) + "'",
          std::string(key));
      return false;
    }
    seen[*idx] = true;
    row[*idx] = *x;
    return true;
  });
  if (failed) return *failed;
  for (std::size_t j = 0; j < width; ++j) {
    if (seen[j]) continue;
    const std::string& name = short_name(d, j);
    std::string message = "missing feature '" + name + "'";
    if (name != d.feature_names[j]) message += " (or '" + d.feature_names[j] + "')";
    message += "; expected ";
    message += feature_list(d);
    return core::bad_request(std::move(message), name);
  }
  return {};
}

core::result<std::vector<std::vector<double>>> rows_from_instances(const dataset& d,
                                                                   const json::value& body,
                                                                   std::size_t max_batch) {
  const auto* o = body.if_object();
  if (o == nullptr) {
    return core::bad_request("the body must be a JSON object like {\"instances\":[[...], ...]}",
                             "instances");
  }
  auto it = o->find("instances");
  if (it == o->end()) return core::bad_request("missing field 'instances'", "instances");
  const auto* list = it->value().if_array();
  if (list == nullptr) {
    return core::bad_request("instances must be an array of rows, not " + kind_name(it->value()),
                             "instances");
  }
  if (list->empty()) return core::bad_request("instances must hold at least one row", "instances");
  if (list->size() > max_batch) return too_many(list->size(), max_batch, "instances");
  std::vector<std::vector<double>> rows;
  rows.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto row = instance_row(d, (*list)[i], "instances[" + std::to_string(i) + "]");
    if (!row) return row.error();
    rows.push_back(std::move(*row));
  }
  return rows;
}

void put_prediction(json::object& out, const dataset& d, const prediction& p) {
  json::array probabilities;
  probabilities.reserve(p.probabilities.size());
  for (double x : p.probabilities)
    probabilities.emplace_back(x);
  out["prediction"] = p.cls;
  out["label"] = d.class_names.at(static_cast<std::size_t>(p.cls));
  out["probabilities"] = std::move(probabilities);
}

json::object prediction_json(const dataset& d, const prediction& p) {
  json::object out;
  put_prediction(out, d, p);
  return out;
}

answer_writer::answer_writer(std::string_view model, std::string_view algorithm, const dataset& d) {
  head_ = core::to_json(json::object{{"model", model}, {"algorithm", algorithm}});
  head_.pop_back();  // the closing brace
  batch_head_ = head_ + ",\"predictions\":[";
  head_ += ",\"prediction\":";
  for (const auto& name : d.class_names) {
    labels_.push_back(",\"label\":" + core::to_json(json::string(name)) + ",\"probabilities\":[");
  }
}

// `"prediction":` written by the caller; then the class, label and probabilities, closed.
void answer_writer::append_row(std::string& out, const prediction& p) const {
  const std::string& label = labels_.at(static_cast<std::size_t>(p.cls));
  char buf[16];
  auto res = std::to_chars(buf, buf + sizeof buf, p.cls);
  out.append(buf, res.ptr);
  out += label;
  for (std::size_t i = 0; i < p.probabilities.size(); ++i) {
    if (i != 0) out += ',';
    core::append_json_number(out, p.probabilities[i]);
  }
  out += "]}";
}

std::string answer_writer::write(const prediction& p) const {
  std::string out;
  out.reserve(head_.size() + 64 + 24 * p.probabilities.size());
  out += head_;
  append_row(out, p);
  return out;
}

std::string answer_writer::write_batch(const std::vector<prediction>& ps) const {
  std::string out;
  const std::size_t per_row = 64 + 24 * (ps.empty() ? 0 : ps.front().probabilities.size());
  out.reserve(batch_head_.size() + 2 + ps.size() * per_row);
  out += batch_head_;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    out += i == 0 ? "{\"prediction\":" : ",{\"prediction\":";
    append_row(out, ps[i]);
  }
  out += "]}";
  return out;
}

namespace v2 {

namespace {

bool numeric_datatype(std::string_view t) {
  for (std::string_view ok : {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8",
                              "UINT16", "UINT32", "UINT64"}) {
    if (t == ok) return true;
  }
  return false;
}

// A non-negative integer JSON value that fits in size_t.
std::optional<std::size_t> dimension(const json::value& v) {
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::size_t>(v.get_int64());
  if (v.is_uint64()) return static_cast<std::size_t>(v.get_uint64());
  return std::nullopt;
}

core::error not_a_number(const std::string& at, const json::value& v) {
  return core::bad_request(at + " must be a finite number, not " + kind_name(v));
}

// The rows of a tensor's data: flat (n * width numbers, row-major) or nested (n arrays of width).
core::result<std::vector<std::vector<double>>> tensor_rows(const json::array& data, std::size_t n,
                                                           std::size_t width) {
  const std::string at = "inputs[0].data";
  if (!data.empty() && data[0].is_array()) {
    if (data.size() != n) {
      return core::bad_request(at + " has " + std::to_string(data.size()) +
                               " rows; the shape says " + std::to_string(n));
    }
    std::vector<std::vector<double>> rows(n, std::vector<double>(width));
    for (std::size_t i = 0; i < n; ++i) {
      const std::string row_at = at + "[" + std::to_string(i) + "]";
      const auto* row = data[i].if_array();
      if (row == nullptr || row->size() != width) {
        return core::bad_request(row_at + " must be an array of " + std::to_string(width) +
                                 " numbers");
      }
      for (std::size_t j = 0; j < width; ++j) {
        auto x = core::finite_number((*row)[j]);
        if (!x) return not_a_number(row_at + "[" + std::to_string(j) + "]", (*row)[j]);
        rows[i][j] = *x;
      }
    }
    return rows;
  }
  if (data.size() != n * width) {
    return core::bad_request(at + " holds " + std::to_string(data.size()) + " values; shape [" +
                             std::to_string(n) + ", " + std::to_string(width) + "] needs " +
                             std::to_string(n * width));
  }
  std::vector<std::vector<double>> rows(n, std::vector<double>(width));
  for (std::size_t k = 0; k < data.size(); ++k) {
    auto x = core::finite_number(data[k]);
    if (!x) return not_a_number(at + "[" + std::to_string(k) + "]", data[k]);
    rows[k / width][k % width] = *x;
  }
  return rows;
}

}  // namespace

core::result<infer_request> parse_infer(const dataset& d, const json::value& body,
                                        std::size_t max_batch) {
  const auto* o = body.if_object();
  if (o == nullptr) return core::bad_request("the body must be a JSON object with \"inputs\"");
  infer_request req;
  if (auto it = o->find("id"); it != o->end()) {
    if (!it->value().is_string()) return core::bad_request("id must be a string");
    req.id = std::string(it->value().get_string());
  }
  auto in = o->find("inputs");
  if (in == o->end()) return core::bad_request("missing field 'inputs'");
  const auto* inputs = in->value().if_array();
  if (inputs == nullptr || inputs->size() != 1 || !(*inputs)[0].is_object()) {
    return core::bad_request("inputs must be an array of exactly one tensor object, shape [N, " +
                             std::to_string(d.n_features()) + "]");
  }
  const auto& tensor = (*inputs)[0].get_object();

  auto dt = tensor.find("datatype");
  if (dt == tensor.end() || !dt->value().is_string()) {
    return core::bad_request("inputs[0].datatype is missing; expected FP32 or FP64");
  }
  if (!numeric_datatype(dt->value().get_string())) {
    return core::bad_request("inputs[0].datatype '" + echo(dt->value().get_string()) +
                             "' is not supported; expected FP32, FP64 or an integer type");
  }

  const std::size_t width = d.n_features();
  auto sh = tensor.find("shape");
  const auto* shape = sh == tensor.end() ? nullptr : sh->value().if_array();
  std::optional<std::size_t> n, f;
  if (shape != nullptr && shape->size() == 2) {
    n = dimension((*shape)[0]);
    f = dimension((*shape)[1]);
  }
  if (!n || !f) {
    return core::bad_request("inputs[0].shape must be [N, " + std::to_string(width) +
                             "] with N the number of rows");
  }
  if (*f != width) {
    return core::bad_request("inputs[0].shape has " + std::to_string(*f) +
                             " features per row; the model expects " + std::to_string(width) +
                             " (" + feature_list(d) + ")");
  }
  if (*n == 0) return core::bad_request("inputs[0].shape must have at least one row");
  if (*n > max_batch) return too_many(*n, max_batch, {});

  auto da = tensor.find("data");
  const auto* data = da == tensor.end() ? nullptr : da->value().if_array();
  if (data == nullptr) return core::bad_request("inputs[0].data must be an array of numbers");
  auto rows = tensor_rows(*data, *n, width);
  if (!rows) return rows.error();
  req.rows = std::move(*rows);

  if (auto out = o->find("outputs"); out != o->end()) {
    const auto* wanted = out->value().if_array();
    if (wanted == nullptr) return core::bad_request("outputs must be an array of {\"name\":...}");
    for (const auto& w : *wanted) {
      const auto* wo = w.if_object();
      const json::value* name = wo == nullptr ? nullptr : wo->if_contains("name");
      if (name == nullptr || !name->is_string()) {
        return core::bad_request("each of outputs must be an object with a \"name\"");
      }
      std::string_view s = name->get_string();
      if (s != predict_output && s != proba_output && s != label_output) {
        return core::bad_request("unknown output '" + echo(s) +
                                 "'; this model has predict, predict_proba and label");
      }
      req.outputs.emplace_back(s);
    }
  }
  if (req.outputs.empty()) {
    req.outputs = {std::string(predict_output), std::string(proba_output)};
  }
  return req;
}

json::object infer_response(std::string_view model, const dataset& d, const infer_request& req,
                            std::span<const prediction> preds) {
  const auto n = static_cast<std::int64_t>(preds.size());
  json::array outputs;
  for (const auto& name : req.outputs) {
    json::array data;
    json::object out;
    out["name"] = name;
    if (name == predict_output) {
      data.reserve(preds.size());
      for (const auto& p : preds)
        data.emplace_back(static_cast<std::int64_t>(p.cls));
      out["datatype"] = "INT64";
      out["shape"] = json::array{n};
    } else if (name == proba_output) {
      data.reserve(preds.size() * static_cast<std::size_t>(d.n_classes()));
      for (const auto& p : preds) {
        for (double x : p.probabilities)
          data.emplace_back(x);
      }
      out["datatype"] = "FP64";
      out["shape"] = json::array{n, static_cast<std::int64_t>(d.n_classes())};
    } else {
      data.reserve(preds.size());
      for (const auto& p : preds)
        data.emplace_back(d.class_names.at(static_cast<std::size_t>(p.cls)));
      out["datatype"] = "BYTES";
      out["shape"] = json::array{n};
    }
    out["data"] = std::move(data);
    outputs.emplace_back(std::move(out));
  }
  json::object res{{"model_name", model}, {"model_version", model_version}};
  if (!req.id.empty()) res["id"] = req.id;
  res["outputs"] = std::move(outputs);
  return res;
}

json::object model_metadata(std::string_view model, std::string_view algorithm, const dataset& d) {
  const auto features = static_cast<std::int64_t>(d.n_features());
  const auto classes = static_cast<std::int64_t>(d.n_classes());
  return json::object{{"name", model},
                      {"versions", json::array{model_version}},
                      {"platform", "node_" + std::string(algorithm)},
                      {"inputs", json::array{json::object{{"name", input_name},
                                                          {"datatype", "FP64"},
                                                          {"shape", json::array{-1, features}}}}},
                      {"outputs", json::array{json::object{{"name", predict_output},
                                                           {"datatype", "INT64"},
                                                           {"shape", json::array{-1}}},
                                              json::object{{"name", proba_output},
                                                           {"datatype", "FP64"},
                                                           {"shape", json::array{-1, classes}}}}}};
}

json::object error_json(const core::error& e) {
  return json::object{{"error", e.message}};
}

}  // namespace v2
}  // namespace node::ml
