// The model role's routes: /predict (query string and JSON batch), /info and the KServe V2
// protocol, over a classifier cross-validated and trained when the role is made. Parsing and
// answer building live in src/ml/inference.cpp. Loop thread only.
#include "node/roles/model.hpp"

#include "node/core/log.hpp"
#include "node/ml/cross_validation.hpp"
#include "node/ml/inference.hpp"

#include <boost/url/parse.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

namespace node::roles {
namespace {

using http::context;
using http::response;
namespace json = core::json;
using clock_type = std::chrono::steady_clock;

// Route labels of predictions_total and model_prediction_seconds.
constexpr const char* route_get = "GET /predict";
constexpr const char* route_post = "POST /predict";
constexpr const char* route_infer = "POST /v2/models/{name}/infer";

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Milliseconds rounded to microseconds, for /info.
double ms(double seconds) {
  return std::round(seconds * 1e6) / 1000;
}

std::string fixed(double x, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

// What start-up measured: the cross-validation (when asked for) and the final training.
struct training {
  std::optional<ml::cv_result> cv;
  double cv_seconds = 0;
  double fit_seconds = 0;
};

class model_role final : public role {
 public:
  model_role(const role_context& ctx, std::unique_ptr<ml::classifier> clf, training t)
      : cfg_(ctx.config.model),
        data_(cfg_.data),
        clf_(std::move(clf)),
        training_(std::move(t)),
        metrics_(ctx.metrics),
        writer_(cfg_.model_id, cfg_.algorithm, *data_) {
    declare_metrics();
  }

  void add_routes(http::router& r) override {
    using bhttp::verb;
    r.add_sync(verb::get, "/predict", [this](context& c) { return predict_query(c); });
    r.add_sync(verb::post, "/predict", [this](context& c) { return predict_batch(c); });
    r.add_sync(verb::get, "/info", [this](context&) { return info(); });

    r.add_sync(verb::get, "/v2", [this](context&) { return v2_server(); });
    r.add_sync(verb::get, "/v2/health/live", [this](context&) { return v2_live(); });
    r.add_sync(verb::get, "/v2/health/ready", [this](context&) { return v2_ready(); });
    for (std::string base : {"/v2/models/{name}", "/v2/models/{name}/versions/{version}"}) {
      r.add_sync(verb::get, base, [this](context& c) { return v2_metadata(c); });
      r.add_sync(verb::get, base + "/ready", [this](context& c) { return v2_model_ready(c); });
      r.add_sync(verb::post, base + "/infer", [this](context& c) { return v2_infer(c); });
    }
  }

  bool health(json::object& out) override {
    out["model"] = cfg_.model_id;
    out["algorithm"] = cfg_.algorithm;
    return true;
  }

 private:
  void declare_metrics() {
    using kind = core::metrics::kind;
    metrics_.declare("predictions_total", kind::counter, "Rows predicted, by route.");
    metrics_.declare("model_prediction_seconds", kind::histogram,
                     "Time spent in the classifier per request (all rows of a batch), by route.",
                     {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3,
                      5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1});
    metrics_.declare("model_cv_accuracy", kind::gauge,
                     "Stratified k-fold cross-validated accuracy measured at start-up.");
    metrics_.declare("model_training_seconds", kind::gauge,
                     "Time to train the served classifier on every row at start-up.");
    metrics_.declare("model_training_rows", kind::gauge, "Rows the classifier was trained on.");
    const core::labels l{{"model", cfg_.model_id}, {"algorithm", cfg_.algorithm}};
    if (training_.cv) metrics_.set("model_cv_accuracy", l, training_.cv->mean_accuracy);
    metrics_.set("model_training_seconds", l, training_.fit_seconds);
    metrics_.set("model_training_rows", l, static_cast<double>(data_->size()));
    const auto series_of = [this](const char* route) {
      return route_series{metrics_.histogram("model_prediction_seconds", {{"route", route}}),
                          metrics_.counter("predictions_total", {{"route", route}})};
    };
    get_series_ = series_of(route_get);
    post_series_ = series_of(route_post);
    infer_series_ = series_of(route_infer);
  }

  // A route's two series, looked up once (declare_metrics), so that a prediction records
  // its time and rows without a lookup by name.
  struct route_series {
    core::metrics::histogram_ref seconds;
    core::metrics::counter_ref count;
    void record(clock_type::time_point start, std::size_t rows) {
      seconds.observe(seconds_since(start));
      count.inc(static_cast<double>(rows));
    }
  };

  // Predicts every row (checked by the caller) and records the time and count in `series`.
  std::vector<ml::prediction> predict_rows(const std::vector<std::vector<double>>& rows,
                                           route_series& series) {
    const auto start = clock_type::now();
    std::vector<ml::prediction> out;
    out.reserve(rows.size());
    for (const auto& row : rows)
      out.push_back(ml::predict_row(*clf_, row));
    series.record(start, rows.size());
    return out;
  }

  json::object answer_head() const {
    return json::object{{"model", cfg_.model_id}, {"algorithm", cfg_.algorithm}};
  }

  response predict_query(context& c) {
    // The query read undecoded, the row and the prediction into buffers kept across
    // requests (nothing here suspends, and only the loop thread runs it).
    auto read = ml::row_from_query(*data_, c.encoded_query(), row_);
    if (!read) return http::error_reply(read.error());
    const auto start = clock_type::now();
    ml::predict_row(*clf_, row_, prediction_);
    get_series_->record(start, 1);
    return http::json_text_reply(bhttp::status::ok, writer_.write(prediction_));
  }

  response predict_batch(context& c) {
    auto body = c.json_body();
    if (!body) return http::error_reply(body.error());
    auto rows = ml::rows_from_instances(*data_, *body, cfg_.max_batch);
    if (!rows) return http::error_reply(rows.error());
    auto preds = predict_rows(*rows, *post_series_);
    return http::json_text_reply(bhttp::status::ok, writer_.write_batch(preds));
  }

  response info() {
    const auto& d = *data_;
    json::object out = answer_head();
    out["dataset"] = d.name;
    out["dataset_path"] =
        cfg_.dataset_path.empty() ? json::value(nullptr) : json::value(cfg_.dataset_path);
    json::array features(d.feature_names.begin(), d.feature_names.end());
    out["features"] = std::move(features);
    json::object aliases;
    for (std::size_t i = 0; i < d.feature_aliases.size(); ++i) {
      if (!d.feature_aliases[i].empty()) aliases[d.feature_aliases[i]] = d.feature_names[i];
    }
    out["feature_aliases"] = std::move(aliases);
    out["classes"] = json::array(d.class_names.begin(), d.class_names.end());
    out["training_rows"] = d.size();
    if (training_.cv) {
      out["cv_accuracy"] = training_.cv->mean_accuracy;
      out["cv_folds"] = cfg_.cv_folds;
      out["cv_fold_accuracies"] =
          json::array(training_.cv->fold_accuracies.begin(), training_.cv->fold_accuracies.end());
      out["cv_ms"] = ms(training_.cv_seconds);
    } else {
      out["cv_accuracy"] = nullptr;
      out["cv_folds"] = 0;
    }
    out["cv_method"] = "stratified k-fold, unshuffled (scikit-learn StratifiedKFold)";
    out["training_ms"] = ms(training_.fit_seconds);
    out["params"] = json::object{
        {"trees", cfg_.trees}, {"max_depth", cfg_.max_depth}, {"k", cfg_.k}, {"seed", cfg_.seed}};
    out["max_batch"] = cfg_.max_batch;
    return http::json_reply(out);
  }

  // --- KServe V2 -----------------------------------------------------------------------------

  static response v2_error(const core::error& e) {
    return http::json_reply(static_cast<bhttp::status>(e.status), ml::v2::error_json(e));
  }

  // The {name} (and {version}, when the route has one) of a V2 model route, or a 404.
  std::optional<core::error> v2_unknown_model(const context& c) const {
    std::string_view name = c.param("name");
    if (name != cfg_.model_id) {
      return core::not_found("unknown model '" + std::string(name) + "'; this node serves '" +
                             cfg_.model_id + "'");
    }
    std::string_view version = c.param("version");
    if (!version.empty() && version != ml::v2::model_version) {
      return core::not_found("unknown version '" + std::string(version) + "' of model '" +
                             cfg_.model_id + "'; it has version " +
                             std::string(ml::v2::model_version));
    }
    return std::nullopt;
  }

  response v2_server() {
    return http::json_reply(
        json::object{{"name", "node"}, {"version", "0.1.0"}, {"extensions", json::array{}}});
  }

  response v2_live() { return http::json_reply(json::object{{"live", true}}); }

  response v2_ready() { return http::json_reply(json::object{{"ready", true}}); }

  response v2_metadata(context& c) {
    if (auto e = v2_unknown_model(c)) return v2_error(*e);
    return http::json_reply(ml::v2::model_metadata(cfg_.model_id, cfg_.algorithm, *data_));
  }

  response v2_model_ready(context& c) {
    if (auto e = v2_unknown_model(c)) return v2_error(*e);
    return http::json_reply(json::object{{"name", cfg_.model_id}, {"ready", true}});
  }

  response v2_infer(context& c) {
    if (auto e = v2_unknown_model(c)) return v2_error(*e);
    auto body = c.json_body();
    if (!body) return v2_error(body.error());
    auto req = ml::v2::parse_infer(*data_, *body, cfg_.max_batch);
    if (!req) return v2_error(req.error());
    auto preds = predict_rows(req->rows, *infer_series_);
    return http::json_reply(ml::v2::infer_response(cfg_.model_id, *data_, *req, preds));
  }

  const app::model_config& cfg_;
  std::shared_ptr<const ml::dataset> data_;
  std::unique_ptr<ml::classifier> clf_;
  training training_;
  core::metrics& metrics_;
  // Each route's series (declare_metrics).
  std::optional<route_series> get_series_, post_series_, infer_series_;
  std::vector<double> row_;    // GET /predict's row, reused
  ml::prediction prediction_;  // and its prediction
  ml::answer_writer writer_;
};

}  // namespace

core::result<std::unique_ptr<role>> make_model(const role_context& ctx) {
  const auto& m = ctx.config.model;
  if (!m.data) return core::bad_request("the model role has no dataset", "dataset");
  const ml::dataset& d = *m.data;
  const ml::classifier_options opts{m.trees, m.max_depth, m.k, m.seed};

  training t;
  if (m.cv_folds > 0) {
    const auto start = clock_type::now();
    auto cv = ml::cross_validate(d, m.cv_folds, m.algorithm, opts);
    if (!cv) return cv.error();
    t.cv = std::move(*cv);
    t.cv_seconds = seconds_since(start);
  }
  auto clf = ml::make_classifier(m.algorithm, opts);
  if (!clf) return clf.error();
  const auto start = clock_type::now();
  (*clf)->fit(d);
  t.fit_seconds = seconds_since(start);

  std::string cv_text = t.cv ? std::to_string(m.cv_folds) + "-fold CV accuracy " +
                                   fixed(t.cv->mean_accuracy, 4) + " in " +
                                   fixed(t.cv_seconds * 1000, 1) + " ms"
                             : std::string("no cross-validation");
  core::log::info("model '" + m.model_id + "': " + m.algorithm + " trained on " + d.name + " (" +
                  std::to_string(d.size()) + " rows, " + std::to_string(d.n_features()) +
                  " features, " + std::to_string(d.n_classes()) + " classes) in " +
                  fixed(t.fit_seconds * 1000, 1) + " ms; " + cv_text);
  return std::unique_ptr<role>(std::make_unique<model_role>(ctx, std::move(*clf), std::move(t)));
}

}  // namespace node::roles
