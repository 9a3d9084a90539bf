// Tests for what the consensus role reads and writes over HTTP: prediction requests, the
// models' answers, class names and labels, and the per-instance answer.
#include "node/consensus/wire.hpp"

#include "node/core/json.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <map>

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
