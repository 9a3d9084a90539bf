// Tests for what the consensus role reads and writes over HTTP: prediction requests, the
// models' answers, class names and labels, and the per-instance answer.
#include "node/consensus/wire.hpp"

#include "node/core/json.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>

namespace json = boost::json;
using namespace node::consensus;

namespace {

std::string field_of(const node::core::error& e) {
  return e.field;
}

model_reply ok_reply(std::vector<int> predictions, std::size_t classes = 3) {
  model_reply r;
  r.status = answer_status::ok;
  for (int p : predictions) {
    std::vector<double> probs(classes, 0.0);
    if (p >= 0 && static_cast<std::size_t>(p) < classes) probs[static_cast<std::size_t>(p)] = 1;
    r.answers.push_back(answer{answer_status::ok, p, probs});
    r.names.push_back("");
  }
  return r;
}

}  // namespace

TEST_CASE("consensus wire: a predict body is read with its labels", "[unit]") {
  auto r = parse_predict_body(
      json::parse(R"({"instances":[[5.1,3.5,1.4,0.2],[6,3,5,2]],"labels":[0,"virginica"]})"), 10);
  REQUIRE(r.has_value());
  CHECK(r->instances.size() == 2);
  CHECK(r->instances[1].as_array()[0].as_double() == 6.0);
  REQUIRE(r->labels);
  CHECK(std::get<int>((*r->labels)[0]) == 0);
  CHECK(std::get<std::string>((*r->labels)[1]) == "virginica");

  auto unlabelled = parse_predict_body(json::parse(R"({"instances":[[1,2]],"labels":null})"), 10);
  REQUIRE(unlabelled.has_value());
  CHECK(!unlabelled->labels);
}

TEST_CASE("consensus wire: bad predict bodies name the field", "[unit]") {
  const std::map<std::string, std::string> cases = {
      {R"([1,2])", "instances"},
      {R"({})", "instances"},
      {R"({"instances":[]})", "instances"},
      {R"({"instances":[[]]})", "instances"},
      {R"({"instances":[[1,2],[1]]})", "instances"},
      {R"({"instances":[[1,"a"]]})", "instances"},
      {R"({"instances":[1,2]})", "instances"},
      {R"({"instances":[[1,2],[3,4],[5,6]]})", "instances"},
      {R"({"instances":[[1,2]],"labels":[0,1]})", "labels"},
      {R"({"instances":[[1,2]],"labels":[-1]})", "labels"},
      {R"({"instances":[[1,2]],"labels":[1.5]})", "labels"},
      {R"({"instances":[[1,2]],"labels":[""]})", "labels"},
      {R"({"instances":[[1,2]],"labels":"0"})", "labels"},
  };
  for (const auto& [body, field] : cases) {
    INFO(body);
    auto r = parse_predict_body(json::parse(body), 2);
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    CHECK(field_of(r.error()) == field);
  }
}

TEST_CASE("consensus wire: the Iris row of a query is read by short or long names", "[unit]") {
  auto read = [](std::string_view query) { return features_from_query(query); };
  auto row = read("sl=5.1&sw=3.5&petal_length=1.4&pw=0.2");
  REQUIRE(row.has_value());
  CHECK(*row == iris_row{5.1, 3.5, 1.4, 0.2});
  CHECK(iris_query(*row) == "sl=5.1&sw=3.5&pl=1.4&pw=0.2");
  CHECK(iris_row_json(*row) == "[5.1,3.5,1.4,0.2]");
  CHECK(iris_row_json(iris_row{5, 3, 1, 0}) == "[5.0,3.0,1.0,0.0]");
  // The JSON numbers are to_json's, whatever their magnitude.
  for (const iris_row& r : {iris_row{1e-9, 1e22, 123456789012.5, -0.0},
                            iris_row{1e-7, 1e21, 0.30000000000000004, 1.5e-5},
                            iris_row{1e20, 2e-7, 7e-8, 1234567890123456700000.0}}) {
    CHECK(iris_row_json(r) == node::core::to_json(json::array{r[0], r[1], r[2], r[3]}));
  }
  // A short name wins over its long name, the first of a name over later ones, whatever
  // the order; encoded names and values are decoded.
  row = read("petal_width=9&pw=0.2&sl=5.1&sl=7&s%77=3.5&pl=%31.4&other=x");
  REQUIRE(row.has_value());
  CHECK(*row == iris_row{5.1, 3.5, 1.4, 0.2});
  row = read("sepal_length=4.9&sepal_width=3&petal_length=1.4&petal_width=0.2");
  REQUIRE(row.has_value());
  CHECK(*row == iris_row{4.9, 3.0, 1.4, 0.2});

  CHECK(field_of(read("sl=5.1&sw=abc&pl=1.4&pw=0.2").error()) == "sw");
  CHECK(read("sl=5.1&sw=abc&pl=1.4&pw=0.2").error().message ==
        "sw must be a finite number, got 'abc'");
  CHECK(field_of(read("sl=5.1&sw=inf&pl=1.4&pw=0.2").error()) == "sw");
  CHECK(field_of(read("sl=5.1&sw=&pl=1.4&pw=0.2").error()) == "sw");
  CHECK(field_of(read("sl=5.1&sw&pl=1.4&pw=0.2").error()) == "sw");
  CHECK(field_of(read("sl=5.1&sw=3.5+&pl=1.4&pw=0.2").error()) == "sw");
  CHECK(field_of(read("sl=5.1&sw=3.5&pl=1.4").error()) == "pw");
  CHECK(read("sl=5.1&sw=3.5&pl=1.4").error().message == "missing feature pw");
  // The first feature at fault is named.
  CHECK(field_of(read("sw=x").error()) == "sl");
}

TEST_CASE("consensus wire: a model's answer is read or marked an error", "[unit]") {
  auto ok = parse_model_reply(
      200,
      R"({"model":"m","predictions":[{"prediction":0,"label":"setosa","probabilities":[0.9,0.1,0]},
          {"prediction":2,"label":"virginica"}]})",
      2);
  REQUIRE(ok.status == answer_status::ok);
  REQUIRE(ok.answers.size() == 2);
  CHECK(ok.answers[0].prediction == 0);
  CHECK(ok.answers[0].probabilities == std::vector<double>{0.9, 0.1, 0});
  CHECK(ok.answers[1].probabilities.empty());
  CHECK(ok.names == std::vector<std::string>{"setosa", "virginica"});

  // A model's GET /predict answer stands for a batch of one row.
  auto single = parse_model_reply(
      200,
      R"({"model":"m","algorithm":"knn","prediction":1,"label":"versicolor","probabilities":[0,1,0]})",
      1);
  REQUIRE(single.status == answer_status::ok);
  CHECK(single.answers.at(0).prediction == 1);
  CHECK(single.names.at(0) == "versicolor");
  CHECK(parse_model_reply(200, R"({"prediction":1})", 2).status == answer_status::error);
  CHECK(parse_model_reply(200, R"({"prediction":-3})", 1).status == answer_status::error);

  CHECK(parse_model_reply(500, "{}", 1).status == answer_status::error);
  CHECK(parse_model_reply(200, "not json", 1).status == answer_status::error);
  CHECK(parse_model_reply(200, R"({"predictions":[]})", 1).status == answer_status::error);
  CHECK(parse_model_reply(200, R"({"predictions":[{"prediction":-1}]})", 1).status ==
        answer_status::error);
  CHECK(parse_model_reply(200, R"({"predictions":[{"prediction":"1"}]})", 1).status ==
        answer_status::error);
  CHECK(parse_model_reply(200, R"({"predictions":[{"prediction":1.5}]})", 1).status ==
        answer_status::error);
  CHECK(parse_model_reply(200, R"({"predictions":[{"prediction":1}]})", 2).status ==
        answer_status::error);
}

namespace {

// The reading parse_model_reply did before it read without a JSON tree, kept as the oracle of
// the test below: what a model's answer means must not change.
std::optional<int> tree_class_index(const json::value& v) {
  double d = 0;
  if (v.is_int64()) {
    d = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.get_uint64());
  } else if (v.is_double()) {
    d = v.get_double();
    if (std::floor(d) != d) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!(d >= 0 && d < max_classes)) return std::nullopt;
  return static_cast<int>(d);
}

bool tree_read_prediction(const json::value& p, model_reply& r) {
  const auto* po = p.if_object();
  const auto* pred = po != nullptr ? po->if_contains("prediction") : nullptr;
  const auto index = pred != nullptr ? tree_class_index(*pred) : std::nullopt;
  if (!index) return false;
  answer a{answer_status::ok, *index, {}};
  if (const auto* probs = po->if_contains("probabilities");
      probs != nullptr && probs->is_array() && probs->get_array().size() <= max_classes) {
    for (const auto& x : probs->get_array()) {
      const bool usable = x.is_number() && std::isfinite(x.to_number<double>());
      a.probabilities.push_back(usable ? x.to_number<double>() : -1.0);
    }
  }
  const auto* label = po->if_contains("label");
  r.names.emplace_back(label != nullptr && label->is_string() ? std::string(label->get_string())
                                                              : std::string());
  r.answers.push_back(std::move(a));
  return true;
}

model_reply tree_parse_model_reply(std::string_view body, std::size_t instances) {
  model_reply failed;
  failed.status = answer_status::error;
  json::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec) return failed;
  const auto* o = doc.if_object();
  if (o == nullptr) return failed;
  model_reply r;
  r.status = answer_status::ok;
  const auto* preds = o->if_contains("predictions");
  if (preds == nullptr && instances == 1 && o->contains("prediction")) {
    return tree_read_prediction(doc, r) ? r : failed;
  }
  if (preds == nullptr || !preds->is_array() || preds->get_array().size() != instances) {
    return failed;
  }
  for (const auto& p : preds->get_array()) {
    if (!tree_read_prediction(p, r)) return failed;
  }
  return r;
}

// A random JSON value of depth at most `depth`, shaped like (and often unlike) a model's
// answer.
std::string random_value(std::mt19937& rng, int depth);

std::string random_scalar(std::mt19937& rng) {
  static const char* const scalars[] = {"0",          "1",
                                        "2",          "-1",
                                        "2.0",        "1.5",
                                        "999",        "1000",
                                        "1e3",        "18446744073709551615",
                                        "0.25",       "1e400" /* malformed: out of range */,
                                        "true",       "null",
                                        "\"setosa\"", "\"a\\nb\\u00e9\"",
                                        "\"\"",       "[]",
                                        "{}",         "-0.0"};
  return scalars[rng() % (sizeof scalars / sizeof scalars[0])];
}

std::string random_prediction(std::mt19937& rng, int depth) {
  static const char* const keys[] = {"prediction",  "label", "probabilities",
                                     "predictions", "model", "pred\\u0069ction"};
  std::string out = "{";
  const int n = static_cast<int>(rng() % 5);
  for (int i = 0; i < n; ++i) {
    if (i != 0) out += ',';
    const std::string key = keys[rng() % 6];
    out += '"' + key + "\":";
    if (key == "probabilities" && rng() % 3 != 0) {
      out += '[';
      const int m = static_cast<int>(rng() % 5);
      for (int j = 0; j < m; ++j) {
        if (j != 0) out += ',';
        out += rng() % 4 == 0 ? random_value(rng, depth - 1) : std::to_string(rng() % 100 / 100.0);
      }
      out += ']';
    } else if (key == "predictions" && depth > 0) {
      out += random_value(rng, depth - 1);
    } else {
      out += rng() % 3 == 0 ? random_value(rng, depth - 1) : random_scalar(rng);
    }
  }
  return out + "}";
}

std::string random_value(std::mt19937& rng, int depth) {
  if (depth <= 0) return random_scalar(rng);
  switch (rng() % 4) {
    case 0:
      return random_scalar(rng);
    case 1:
      return random_prediction(rng, depth);
    default: {
      std::string out = "[";
      const int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) {
        if (i != 0) out += ',';
        out += rng() % 2 == 0 ? random_prediction(rng, depth - 1) : random_value(rng, depth - 1);
      }
      return out + "]";
    }
  }
}

// A model's answer that is mostly right: one or two predictions, now and then a field of
// another type, an extra or a repeated key.
std::string near_answer(std::mt19937& rng) {
  auto prediction = [&rng] {
    std::string out = "{\"prediction\":" + std::to_string(rng() % 3);
    if (rng() % 2 == 0) out += ",\"label\":\"class" + std::to_string(rng() % 3) + '"';
    if (rng() % 2 == 0) out += ",\"probabilities\":[0.25,0.5,0.25]";
    if (rng() % 4 == 0)
      out += ",\"" + std::string(rng() % 2 ? "prediction" : "label") + "\":" + random_scalar(rng);
    if (rng() % 4 == 0) out += ",\"probabilities\":" + random_value(rng, 1);
    return out + "}";
  };
  if (rng() % 3 == 0) return prediction();
  std::string out = "{\"model\":\"m\",\"predictions\":[";
  const int n = 1 + static_cast<int>(rng() % 2);
  for (int i = 0; i < n; ++i)
    out += (i ? "," : "") + prediction();
  return out + "]}";
}

}  // namespace

TEST_CASE("consensus wire: a model's answer means what the JSON tree reading made of it",
          "[unit]") {
  std::vector<std::string> bodies = {
      R"({"predictions":[{"prediction":0,"label":"setosa","probabilities":[1,0,0]}]})",
      R"({"prediction":1,"label":"versicolor","probabilities":[0,1,0]})",
      R"({"prediction":1,"prediction":"x"})",
      R"({"prediction":"x","prediction":2,"label":7,"label":"b"})",
      R"({"predictions":{"prediction":1},"prediction":1})",
      R"({"predictions":[{"prediction":1}],"predictions":[{"prediction":2},{"prediction":0}]})",
      R"({"predictions":[{"prediction":1}],"predictions":null})",
      R"({"predictions":[[1],{"prediction":1}]})",
      R"({"predictions":[{"prediction":1.0},{"prediction":1.5}]})",
      R"({"predictions":[{"prediction":1,"probabilities":[0.5,"x",null,[1],{"a":1},1e300]}]})",
      R"({"prediction":3,"probabilities":{"0":1}})",
      R"({"prediction":3,"probabilities":[1,2],"probabilities":7})",
      R"({"prediction":3,"label":"se\"to\\sa\u00e9"})",
      R"({"pre\u0064iction":3})",
      R"({"predictions":[{"prediction":1}]} )",
      R"({"predictions":[{"prediction":1}]} x)",
      R"({"predictions":[{"prediction":1}])",
      R"([{"prediction":1}])",
      R"("prediction")",
      "",
      R"({"prediction":1,"label":"bad utf8 )"
      "\xff"
      R"("})",
      R"({"a":{"b":{"prediction":1,"predictions":[{"prediction":2}]}},"prediction":0})",
  };
  std::string many = R"({"prediction":0,"probabilities":[)";
  for (int i = 0; i < 1001; ++i)
    many += (i ? ",0" : "0");
  bodies.push_back(many + "]}");
  std::string deep = R"({"prediction":0,"x":)";
  for (int i = 0; i < 40; ++i)
    deep += "[";
  bodies.push_back(deep + std::string(40, ']') + "}");
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    bodies.push_back(i % 3 == 0   ? random_prediction(rng, 3)
                     : i % 3 == 1 ? random_value(rng, 4)
                                  : near_answer(rng));
  }
  std::size_t ok = 0;
  for (const auto& body : bodies) {
    for (const std::size_t instances : {std::size_t{1}, std::size_t{2}}) {
      INFO(body << " (" << instances << " rows)");
      const model_reply want = tree_parse_model_reply(body, instances);
      const model_reply got = parse_model_reply(200, body, instances);
      REQUIRE(got.status == want.status);
      if (want.status != answer_status::ok) continue;
      ++ok;
      REQUIRE(got.answers.size() == want.answers.size());
      CHECK(got.names == want.names);
      for (std::size_t k = 0; k < want.answers.size(); ++k) {
        CHECK(got.answers[k].prediction == want.answers[k].prediction);
        CHECK(got.answers[k].probabilities == want.answers[k].probabilities);
      }
    }
  }
  // The corpus reaches both outcomes often.
  CHECK(ok > 500);
  CHECK(ok < bodies.size() * 2 - 500);
}

TEST_CASE("consensus wire: the class count follows the usual probabilities length", "[unit]") {
  std::vector<model_reply> replies = {ok_reply({0, 1}), ok_reply({2, 2}), ok_reply({9, 9}, 10)};
  CHECK(infer_classes(replies, 0) == 3);
  CHECK(infer_classes(replies, 5) == 5);
  model_reply bare;
  bare.status = answer_status::ok;
  bare.answers = {answer{answer_status::ok, 4, {}}};
  CHECK(infer_classes({bare}, 0) == 5);
  CHECK(infer_classes({}, 0) == 1);
}

TEST_CASE("consensus wire: class names come from the first model naming them", "[unit]") {
  auto a = ok_reply({0, 2});
  a.names = {"setosa", "virginica"};
  auto b = ok_reply({1, 2});
  b.names = {"versicolor", "not-virginica"};
  std::vector<std::string> names;
  learn_class_names({a, b}, names);
  CHECK(names == std::vector<std::string>{"setosa", "versicolor", "virginica"});

  auto labels = resolve_labels({label_ref{2}, label_ref{std::string("versicolor")}}, names);
  REQUIRE(labels.has_value());
  CHECK(*labels == std::vector<int>{2, 1});
  auto unknown = resolve_labels({label_ref{std::string("rose")}}, names);
  REQUIRE(unknown.has_error());
  CHECK(unknown.error().field == "labels");
}

TEST_CASE("consensus wire: an instance answer shows every model and its status", "[unit]") {
  std::vector<model_view> views = {{"a", 0.75, 1'005'000'000, model_status::active},
                                   {"b", 0.5, 1'000'000'000, model_status::active}};
  model_reply timed_out;
  timed_out.status = answer_status::timeout;
  vote_result v;
  v.prediction = 1;
  v.support = 1;
  auto o = instance_json(0, v, views, {ok_reply({1}), timed_out}, {"setosa", "versicolor"});
  CHECK(o.at("consensus_prediction") == 1);
  CHECK(o.at("label") == "versicolor");
  CHECK(o.at("individual_predictions") == json::array{1, nullptr});
  const auto& models = o.at("models").as_array();
  REQUIRE(models.size() == 2);
  CHECK(models[0].at("id") == "a");
  CHECK(models[0].at("status") == "ok");
  CHECK(models[0].at("balance").as_double() == 1005.0);
  CHECK(models[1].at("status") == "timeout");
  CHECK(models[1].at("prediction").is_null());

  auto none = instance_json(0, std::nullopt, views, {timed_out, timed_out}, {});
  CHECK(none.at("consensus_prediction").is_null());
  CHECK(none.at("label").is_null());
}

TEST_CASE("consensus wire: the instance answer written as text is to_json of the tree", "[unit]") {
  std::vector<model_view> views = {{"a", 0.6000000000000001, 1'005'500'001, model_status::active},
                                   {"b\"q", 0.5, 1'000'000'000, model_status::ejected},
                                   {"c", 0, 0, model_status::withdrawn}};
  model_reply timed_out;
  timed_out.status = answer_status::timeout;
  model_reply failed;
  failed.status = answer_status::error;
  vote_result v;
  v.prediction = 1;
  v.support = 2.0 / 3;
  const std::vector<std::vector<std::string>> name_sets = {
      {}, {"setosa", "versicolor"}, {"", "versi\ncolor", "virginica"}};
  const std::vector<std::vector<model_reply>> reply_sets = {
      {ok_reply({1}), timed_out, failed},
      {ok_reply({1}), ok_reply({2}), ok_reply({0})},
      {timed_out, failed, timed_out}};
  for (const auto& names : name_sets) {
    for (const auto& replies : reply_sets) {
      for (const auto& consensus : {std::optional<vote_result>(v), std::optional<vote_result>()}) {
        json::object tree = instance_json(0, consensus, views, replies, names);
        std::string text;
        append_instance_json(text, 0, consensus, views, replies, names);
        CHECK(text == node::core::to_json(tree));
        tree["batch"] = std::uint64_t{42};
        text.clear();
        append_instance_json(text, 0, consensus, views, replies, names, 42);
        CHECK(text == node::core::to_json(tree));
      }
    }
  }
}

TEST_CASE("consensus wire: weights are shown rounded to 12 decimals", "[unit]") {
  CHECK(shown_weight(0.6000000000000001) == 0.6);
  CHECK(shown_weight(1.0) == 1.0);
  CHECK(shown_weight(0.0) == 0.0);
}
