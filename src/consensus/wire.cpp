// Parsing prediction requests and the models' answers, and building the consensus answers.
#include "node/consensus/wire.hpp"

#include "node/core/json.hpp"
#include "node/core/query.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>

namespace node::consensus {

namespace json = boost::json;

namespace {

// A class index from a JSON number read as `d`: whole, within [0, max_classes).
std::optional<int> class_index_of(double d) {
  if (std::floor(d) != d || !(d >= 0 && d < max_classes)) return std::nullopt;
  return static_cast<int>(d);
}

// A class index from a JSON integer (or a whole double), within [0, max_classes).
std::optional<int> class_index(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return class_index_of(static_cast<double>(v.get_int64()));
    case json::kind::uint64:
      return class_index_of(static_cast<double>(v.get_uint64()));
    case json::kind::double_:
      return class_index_of(v.get_double());
    default:
      return std::nullopt;
  }
}

model_reply failed(std::string detail) {
  model_reply r;
  r.status = answer_status::error;
  r.detail = std::move(detail);
  return r;
}

}  // namespace

core::result<predict_request> parse_predict_body(const json::value& body,
                                                 std::size_t max_instances) {
  const auto* o = body.if_object();
  if (o == nullptr) {
    return core::bad_request("the body must be an object with an \"instances\" array", "instances");
  }
  const auto* rows = o->if_contains("instances");
  if (rows == nullptr || !rows->is_array() || rows->get_array().empty()) {
    return core::bad_request("instances must be a non-empty array of feature arrays", "instances");
  }
  const auto& arr = rows->get_array();
  if (arr.size() > max_instances) {
    return core::bad_request("at most " + std::to_string(max_instances) + " instances per batch",
                             "instances");
  }
  predict_request req;
  std::size_t width = 0;
  for (std::size_t k = 0; k < arr.size(); ++k) {
    const auto* row = arr[k].if_array();
    const std::string where = "instances[" + std::to_string(k) + "]";
    if (row == nullptr || row->empty()) {
      return core::bad_request(where + " must be a non-empty array of numbers", "instances");
    }
    if (k == 0) width = row->size();
    if (row->size() != width) {
      return core::bad_request(where + " has " + std::to_string(row->size()) +
                                   " features; instances[0] has " + std::to_string(width),
                               "instances");
    }
    json::array clean;
    clean.reserve(row->size());
    for (const auto& x : *row) {
      const auto d = core::finite_number(x);
      if (!d) return core::bad_request(where + " must hold finite numbers only", "instances");
      clean.emplace_back(*d);
    }
    req.instances.emplace_back(std::move(clean));
  }
  if (const auto* labels = o->if_contains("labels"); labels != nullptr && !labels->is_null()) {
    const auto* la = labels->if_array();
    if (la == nullptr || la->size() != arr.size()) {
      return core::bad_request("labels must be an array of one class per instance", "labels");
    }
    std::vector<label_ref> out;
    out.reserve(la->size());
    for (const auto& l : *la) {
      if (l.is_string() && !l.get_string().empty()) {
        out.emplace_back(std::string(l.get_string()));
      } else if (const auto i = class_index(l)) {
        out.emplace_back(*i);
      } else {
        return core::bad_request("each label must be a class index (0, 1, ...) or a class name",
                                 "labels");
      }
    }
    req.labels = std::move(out);
  }
  return req;
}

core::result<iris_row> features_from_query(std::string_view query) {
  constexpr std::string_view short_names[] = {"sl", "sw", "pl", "pw"};
  constexpr std::string_view long_names[] = {"sepal_length", "sepal_width", "petal_length",
                                             "petal_width"};
  // Each feature's first value under its short name [0, 4), and under its long name [4, 8).
  std::array<std::optional<std::string_view>, 8> found;
  std::array<std::string, 8> decoded_values;  // used only for encoded values
  std::string key_buf;
  core::for_each_query_param(query, [&](std::string_view k, std::string_view v, bool) {
    const std::string_view key = core::decode_query_part(k, key_buf);
    for (std::size_t i = 0; i < 8; ++i) {
      if (key != (i < 4 ? short_names[i] : long_names[i - 4])) continue;
      if (!found[i]) found[i] = core::decode_query_part(v, decoded_values[i]);
      break;
    }
    return true;
  });
  iris_row row{};
  for (std::size_t f = 0; f < 4; ++f) {
    const std::optional<std::string_view>& text = found[f] ? found[f] : found[f + 4];
    const std::string name(short_names[f]);
    if (!text) return core::bad_request("missing feature " + name, name);
    double v = 0;
    const char* first = text->data();
    const char* last = first + text->size();
    const auto [end, ec] = std::from_chars(first, last, v);
    if (text->empty() || ec != std::errc() || end != last || !std::isfinite(v)) {
      return core::bad_request(name + " must be a finite number, got '" + std::string(*text) + "'",
                               name);
    }
    row[f] = v;
  }
  return row;
}

void append_iris_texts(const iris_row& row, std::string& query, std::string& json) {
  constexpr const char* names[] = {"sl=", "&sw=", "&pl=", "&pw="};
  json += '[';
  for (std::size_t i = 0; i < row.size(); ++i) {
    // The shortest text that reads back, once for both forms: it is what to_json writes
    // too (plus ".0" for a whole number), except for an exponent form of a number that
    // to_json writes plainly.
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, row[i]);
    const std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
    query += names[i];
    query += text;
    if (i != 0) json += ',';
    if (text.find('e') != std::string_view::npos) {
      core::append_json_number(json, row[i]);
    } else {
      json += text;
      if (text.find('.') == std::string_view::npos) json += ".0";
    }
  }
  json += ']';
}

std::string iris_query(const iris_row& row) {
  std::string query;
  std::string json;
  append_iris_texts(row, query, json);
  return query;
}

std::string iris_row_json(const iris_row& row) {
  std::string query;
  std::string json;
  append_iris_texts(row, query, json);
  return json;
}

namespace {

// One prediction object as it is read: {"prediction":0,"label":..,"probabilities":[..]}.
// A key given twice counts with its last value, as in a parsed JSON object.
struct prediction_fields {
  bool has_prediction = false;    // the key is there (whatever its value)
  std::optional<int> prediction;  // its value, when a class index
  std::vector<double> probabilities;
  std::size_t n_probabilities = 0;  // entries seen, kept or not (beyond max_classes: none)
  std::string label;
  bool is_object = false;  // an element of "predictions" that is an object
};

// The SAX handler reading a model's answer without building a JSON tree: the top object's
// "predictions" array of prediction objects, or the top object itself as one prediction.
// Everything else is skipped. Decides nothing: parse_model_reply reads what it gathered.
class reply_reader {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit reply_reader(std::size_t instances) : keep_(instances) {}

  bool root_is_object = false;
  bool has_predictions = false;             // the top object has the key
  bool predictions_array = false;           // ... and its (last) value is an array
  std::size_t n_predictions = 0;            // elements of that array
  std::vector<prediction_fields> elements;  // the first `instances` of them
  prediction_fields top;                    // the top object read as one prediction

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    const where w = begin_value();
    if (w.what == role::root) {
      root_is_object = true;
      frames_.push_back(frame::top);
    } else if (w.what == role::element) {
      w.fields->is_object = true;
      frames_.push_back(frame::element);
    } else {
      scalar_or_skipped(w, nullptr);
      frames_.push_back(frame::skip);
    }
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    frames_.pop_back();
    return true;
  }
  bool on_array_begin(json::error_code&) {
    const where w = begin_value();
    if (w.what == role::predictions) {
      has_predictions = true;
      predictions_array = true;
      n_predictions = 0;
      elements.clear();
      elements.reserve(std::min<std::size_t>(keep_, 1024));
      frames_.push_back(frame::predictions);
    } else if (w.what == role::probabilities) {
      w.fields->probabilities.clear();
      w.fields->n_probabilities = 0;
      probabilities_ = w.fields;
      frames_.push_back(frame::probabilities);
    } else {
      scalar_or_skipped(w, nullptr);
      frames_.push_back(frame::skip);
    }
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    if (frames_.back() == frame::probabilities && probabilities_->n_probabilities > max_classes) {
      probabilities_->probabilities.clear();  // too many to be classes: not used
    }
    frames_.pop_back();
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    std::string_view k(s.data(), s.size());
    if (!key_.empty()) {
      key_.append(s.data(), s.size());
      k = key_;
    }
    key_is_ = k == "prediction"      ? key::prediction
              : k == "label"         ? key::label
              : k == "probabilities" ? key::probabilities
              : k == "predictions"   ? key::predictions
                                     : key::other;
    key_.clear();
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (label_next()) text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    const where w = begin_value();
    if (w.what == role::label) {
      w.fields->label.assign(text_).append(s.data(), s.size());
    } else {
      scalar_or_skipped(w, nullptr);
    }
    text_.clear();
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    return number(static_cast<double>(i));
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    return number(static_cast<double>(u));
  }
  bool on_double(double d, json::string_view, json::error_code&) { return number(d); }
  bool on_bool(bool, json::error_code&) {
    scalar_or_skipped(begin_value(), nullptr);
    return true;
  }
  bool on_null(json::error_code&) {
    scalar_or_skipped(begin_value(), nullptr);
    return true;
  }

 private:
  enum class frame { top, predictions, element, probabilities, skip };
  enum class key { prediction, label, probabilities, predictions, other };
  // What a value is for.
  enum class role {
    root,
    predictions,
    element,
    prediction,
    label,
    probabilities,
    probability,
    none
  };
  struct where {
    role what = role::none;
    prediction_fields* fields = nullptr;  // the prediction it belongs to
  };

  // Whether the value starting now is a label (what begin_value would say, without counting).
  bool label_next() const {
    return !frames_.empty() && key_is_ == key::label &&
           (frames_.back() == frame::top || frames_.back() == frame::element);
  }

  // What the value starting now is for; an element of "predictions" is counted (and kept,
  // up to `instances`) here.
  where begin_value() {
    if (frames_.empty()) return {role::root, nullptr};
    switch (frames_.back()) {
      case frame::top:
        if (key_is_ == key::predictions) return {role::predictions, nullptr};
        return field(top);
      case frame::element:
        return field(elements.back());
      case frame::predictions:
        ++n_predictions;
        if (elements.size() < keep_) {
          elements.emplace_back();
          return {role::element, &elements.back()};
        }
        return {role::none, nullptr};
      case frame::probabilities:
        return {role::probability, probabilities_};
      case frame::skip:
        break;
    }
    return {role::none, nullptr};
  }
  // The role of the value of the current key in a prediction object; the key's earlier value
  // no longer counts.
  where field(prediction_fields& f) {
    switch (key_is_) {
      case key::prediction:
        f.has_prediction = true;
        f.prediction.reset();
        return {role::prediction, &f};
      case key::label:
        f.label.clear();
        return {role::label, &f};
      case key::probabilities:
        f.probabilities.clear();
        f.n_probabilities = 0;
        return {role::probabilities, &f};
      default:
        return {role::none, nullptr};
    }
  }
  // A value that is not what its place wants (or a number, `number` given): a "predictions"
  // that is not an array, a probability that is not a finite number.
  void scalar_or_skipped(const where& w, const double* number) {
    switch (w.what) {
      case role::predictions:
        has_predictions = true;
        predictions_array = false;
        n_predictions = 0;
        elements.clear();
        break;
      case role::prediction:
        if (number != nullptr) w.fields->prediction = class_index_of(*number);
        break;
      case role::probability:
        // An unusable entry voids the soft ballot.
        if (++w.fields->n_probabilities <= max_classes) {
          w.fields->probabilities.push_back(number != nullptr && std::isfinite(*number) ? *number
                                                                                        : -1.0);
        }
        break;
      default:
        break;
    }
  }
  bool number(double d) {
    scalar_or_skipped(begin_value(), &d);
    return true;
  }

  std::size_t keep_;
  boost::container::small_vector<frame, 8> frames_;
  key key_is_ = key::other;
  std::string key_;
  std::string text_;
  prediction_fields* probabilities_ = nullptr;  // whose "probabilities" array is open
};

answer answer_of(prediction_fields& f) {
  return answer{answer_status::ok, *f.prediction, std::move(f.probabilities)};
}

}  // namespace

model_reply parse_model_reply(unsigned status, std::string_view body, std::size_t instances) {
  if (status != 200) return failed("answered HTTP " + std::to_string(status));
  json::basic_parser<reply_reader> parser(json::parse_options{}, instances);
  json::error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (ec || used != body.size()) return failed("answered malformed JSON");
  reply_reader& read = parser.handler();
  if (!read.root_is_object) return failed("answer is not a JSON object");
  model_reply r;
  r.status = answer_status::ok;
  if (!read.has_predictions && instances == 1 && read.top.has_prediction) {
    // The answer to GET /predict: the one prediction is the object itself.
    if (!read.top.prediction) return failed("answer has a prediction that is not a class index");
    r.answers.push_back(answer_of(read.top));
    r.names.push_back(std::move(read.top.label));
    return r;
  }
  if (!read.has_predictions || !read.predictions_array || read.n_predictions != instances) {
    return failed("answer has no \"predictions\" array of " + std::to_string(instances));
  }
  r.answers.reserve(instances);
  r.names.reserve(instances);
  for (std::size_t k = 0; k < instances; ++k) {
    prediction_fields& f = read.elements[k];
    if (!f.is_object || !f.prediction) {
      return failed("answer has a prediction that is not a class index");
    }
    r.answers.push_back(answer_of(f));
    r.names.push_back(std::move(f.label));
  }
  return r;
}

int infer_classes(const std::vector<model_reply>& replies, std::size_t known) {
  std::map<std::size_t, int> lengths;
  int largest = -1;
  for (const auto& r : replies) {
    if (r.status != answer_status::ok) continue;
    for (const auto& a : r.answers) {
      if (!a.probabilities.empty()) ++lengths[a.probabilities.size()];
      largest = std::max(largest, a.prediction);
    }
  }
  int n = largest + 1;
  if (!lengths.empty()) {
    auto best = lengths.begin();
    for (auto it = lengths.begin(); it != lengths.end(); ++it) {
      if (it->second > best->second) best = it;
    }
    n = static_cast<int>(best->first);
  }
  return std::max({n, static_cast<int>(std::min<std::size_t>(known, max_classes)), 1});
}

void learn_class_names(const std::vector<model_reply>& replies, std::vector<std::string>& names) {
  for (const auto& r : replies) {
    if (r.status != answer_status::ok) continue;
    for (std::size_t k = 0; k < r.answers.size() && k < r.names.size(); ++k) {
      const auto c = static_cast<std::size_t>(r.answers[k].prediction);
      if (r.names[k].empty() || r.names[k].size() > 256) continue;
      if (names.size() <= c) names.resize(c + 1);
      if (names[c].empty()) names[c] = r.names[k];
    }
  }
}

core::result<std::vector<int>> resolve_labels(const std::vector<label_ref>& labels,
                                              const std::vector<std::string>& names) {
  std::vector<int> out;
  out.reserve(labels.size());
  for (const auto& l : labels) {
    if (const int* i = std::get_if<int>(&l)) {
      out.push_back(*i);
      continue;
    }
    const auto& name = std::get<std::string>(l);
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      return core::bad_request("unknown class name '" + name + "' in labels", "labels");
    }
    out.push_back(static_cast<int>(it - names.begin()));
  }
  return out;
}

double shown_weight(double weight) {
  return std::round(weight * 1e12) / 1e12;
}

namespace {

json::value class_name(int c, const std::vector<std::string>& names) {
  if (c < 0 || static_cast<std::size_t>(c) >= names.size() ||
      names[static_cast<std::size_t>(c)].empty()) {
    return nullptr;
  }
  return json::string(names[static_cast<std::size_t>(c)]);
}

}  // namespace

json::object instance_json(std::size_t k, const std::optional<vote_result>& consensus,
                           const std::vector<model_view>& models,
                           const std::vector<model_reply>& replies,
                           const std::vector<std::string>& names) {
  json::object out;
  if (consensus) {
    out["consensus_prediction"] = consensus->prediction;
    out["label"] = class_name(consensus->prediction, names);
    out["support"] = consensus->support;
  } else {
    out["consensus_prediction"] = nullptr;
    out["label"] = nullptr;
    out["support"] = 0.0;
  }
  json::array individual;
  json::array views;
  individual.reserve(models.size());
  views.reserve(models.size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    const model_reply& r = replies[m];
    const bool ok = r.status == answer_status::ok && k < r.answers.size();
    json::value prediction = nullptr;
    json::value label = nullptr;
    if (ok) {
      prediction = r.answers[k].prediction;
      label = class_name(r.answers[k].prediction, names);
    }
    individual.push_back(prediction);
    views.push_back(json::object{{"id", models[m].id},
                                 {"prediction", prediction},
                                 {"label", label},
                                 {"weight", models[m].weight},
                                 {"balance", to_coins(models[m].balance)},
                                 {"status", to_string(ok ? answer_status::ok : r.status)},
                                 {"model_status", to_string(models[m].status)}});
  }
  out["individual_predictions"] = std::move(individual);
  out["models"] = std::move(views);
  return out;
}

namespace {

// A class index's name as class_name gives it, appended as JSON.
void append_class_name(std::string& out, int c, const std::vector<std::string>& names) {
  if (c < 0 || static_cast<std::size_t>(c) >= names.size() ||
      names[static_cast<std::size_t>(c)].empty()) {
    out += "null";
  } else {
    core::append_json_string(out, names[static_cast<std::size_t>(c)]);
  }
}

}  // namespace

void append_instance_json(std::string& out, std::size_t k,
                          const std::optional<vote_result>& consensus,
                          const std::vector<model_view>& models,
                          const std::vector<model_reply>& replies,
                          const std::vector<std::string>& names,
                          std::optional<std::uint64_t> batch) {
  out += "{\"consensus_prediction\":";
  if (consensus) {
    core::append_json_integer(out, consensus->prediction);
    out += ",\"label\":";
    append_class_name(out, consensus->prediction, names);
    out += ",\"support\":";
    core::append_json_number(out, consensus->support);
  } else {
    out += "null,\"label\":null,\"support\":0.0";
  }
  // The answers of model m, or none when it did not answer.
  auto answer_of = [&](std::size_t m) -> const answer* {
    const model_reply& r = replies[m];
    return r.status == answer_status::ok && k < r.answers.size() ? &r.answers[k] : nullptr;
  };
  out += ",\"individual_predictions\":[";
  for (std::size_t m = 0; m < models.size(); ++m) {
    if (m != 0) out += ',';
    const answer* a = answer_of(m);
    if (a != nullptr) {
      core::append_json_integer(out, a->prediction);
    } else {
      out += "null";
    }
  }
  out += "],\"models\":[";
  for (std::size_t m = 0; m < models.size(); ++m) {
    const answer* a = answer_of(m);
    out += m != 0 ? ",{\"id\":" : "{\"id\":";
    core::append_json_string(out, models[m].id);
    out += ",\"prediction\":";
    if (a != nullptr) {
      core::append_json_integer(out, a->prediction);
      out += ",\"label\":";
      append_class_name(out, a->prediction, names);
    } else {
      out += "null,\"label\":null";
    }
    out += ",\"weight\":";
    core::append_json_number(out, models[m].weight);
    out += ",\"balance\":";
    core::append_json_number(out, to_coins(models[m].balance));
    out += ",\"status\":\"";
    out += to_string(a != nullptr ? answer_status::ok : replies[m].status);
    out += "\",\"model_status\":\"";
    out += to_string(models[m].status);
    out += "\"}";
  }
  out += ']';
  if (batch) {
    out += ",\"batch\":";
    core::append_json_integer(out, static_cast<std::int64_t>(*batch));
  }
  out += '}';
}

json::array outcomes_json(const settlement& s) {
  json::array out;
  for (const auto& o : s.outcomes) {
    out.push_back(json::object{{"id", o.id},
                               {"score", o.score ? json::value(*o.score) : json::value(nullptr)},
                               {"weight", shown_weight(o.weight_after)},
                               {"balance", to_coins(o.balance_after)},
                               {"reward", to_coins(o.reward)},
                               {"slash", to_coins(o.slash)},
                               {"inactivity", to_coins(o.inactivity)},
                               {"ejected", o.ejected}});
  }
  return out;
}

}  // namespace node::consensus
