// Integration tests of the model role against real `node` processes: every algorithm on
// /predict (GET and POST), /info, /health, /metrics and the KServe V2 routes; bad inputs; a
// dataset from a CSV file; and start-up failures that exit 2.
#include "node/ml/dataset.hpp"
#include "support/http.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <set>

using namespace node::test;
namespace json = node::core::json;

namespace {

std::string field_of(const reply& r) {
  const auto body = r.json();
  const auto& err = body.at("error").as_object();
  return err.contains("field") ? std::string(err.at("field").as_string()) : std::string();
}

double sum(const json::array& a) {
  double s = 0;
  for (const auto& v : a)
    s += v.to_number<double>();
  return s;
}

// Checks one {"prediction","label","probabilities"} object against the expected Iris class.
void check_prediction(const json::value& p, std::int64_t cls) {
  static const char* const names[] = {"setosa", "versicolor", "virginica"};
  CHECK(p.at("prediction") == cls);
  CHECK(p.at("label") == names[cls]);
  const auto& probs = p.at("probabilities").as_array();
  REQUIRE(probs.size() == 3);
  CHECK(std::abs(sum(probs) - 1.0) < 1e-9);
  auto best = std::max_element(probs.begin(), probs.end(), [](const auto& a, const auto& b) {
    return a.template to_number<double>() < b.template to_number<double>();
  });
  CHECK(best - probs.begin() == cls);
}

json::array iris_instances() {
  json::array rows;
  for (const auto& row : node::ml::iris().rows)
    rows.emplace_back(json::array(row.begin(), row.end()));
  return rows;
}

}  // namespace

TEST_CASE("model: each algorithm answers predict batch info and the v2 routes", "[integration]") {
  const std::vector<std::string> algorithms = {"random_forest", "decision_tree", "knn"};
  std::vector<std::unique_ptr<node_process>> nodes;
  for (const auto& a : algorithms) {
    nodes.push_back(std::make_unique<node_process>(
        std::vector<std::string>{"--role=model", "--algorithm=" + a}));
  }
  for (std::size_t i = 0; i < algorithms.size(); ++i) {
    const std::string& algo = algorithms[i];
    INFO(algo);
    auto p = nodes[i]->port();

    auto setosa = get(p, "/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2");
    REQUIRE(setosa.status == 200);
    CHECK(setosa.header("Content-Type") == "application/json; charset=utf-8");
    CHECK(setosa.json().at("model").as_string() == algo);
    CHECK(setosa.json().at("algorithm").as_string() == algo);
    check_prediction(setosa.json(), 0);
    auto virginica =
        get(p, "/predict?sepal_length=6.7&sepal_width=3.0&petal_length=5.2&petal_width=2.3&x=1");
    REQUIRE(virginica.status == 200);
    check_prediction(virginica.json(), 2);

    auto batch = post(p, "/predict",
                      json::object{{"instances", json::array{json::array{5.1, 3.5, 1.4, 0.2},
                                                             json::array{6.7, 3.0, 5.2, 2.3}}}});
    REQUIRE(batch.status == 200);
    CHECK(batch.json().at("model").as_string() == algo);
    const auto batch_body = batch.json();
    const auto& preds = batch_body.at("predictions").as_array();
    REQUIRE(preds.size() == 2);
    check_prediction(preds[0], 0);
    check_prediction(preds[1], 2);

    auto info = get(p, "/info");
    REQUIRE(info.status == 200);
    auto inf = info.json();
    CHECK(inf.at("model").as_string() == algo);
    CHECK(inf.at("algorithm").as_string() == algo);
    CHECK(inf.at("dataset") == "iris");
    CHECK(inf.at("features") ==
          json::array{"sepal_length", "sepal_width", "petal_length", "petal_width"});
    CHECK(inf.at("classes") == json::array{"setosa", "versicolor", "virginica"});
    CHECK(inf.at("training_rows") == 150);
    CHECK(inf.at("cv_folds") == 5);
    CHECK(inf.at("cv_accuracy").as_double() > 0.9);
    CHECK(inf.at("cv_accuracy").as_double() <= 1.0);
    CHECK(inf.at("training_ms").as_double() >= 0);

    auto health = get(p, "/health");
    CHECK(health.status == 200);
    CHECK(health.json().at("model").as_string() == algo);
    CHECK(health.json().at("algorithm").as_string() == algo);

    CHECK(get(p, "/v2/health/live").json() == json::object{{"live", true}});
    CHECK(get(p, "/v2/health/ready").json() == json::object{{"ready", true}});
    auto meta = get(p, "/v2/models/" + algo);
    REQUIRE(meta.status == 200);
    CHECK(meta.json().at("name").as_string() == algo);
    CHECK(meta.json().at("inputs").at(0).at("shape") == json::array{-1, 4});
    CHECK(meta.json().at("outputs").at(0).at("name") == "predict");
    CHECK(get(p, "/v2/models/" + algo + "/ready").status == 200);
    auto infer = call("POST", p, "/v2/models/" + algo + "/infer",
                      R"({"id":"r1","inputs":[{"name":"input-0","shape":[2,4],"datatype":"FP32",
                          "data":[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]}]})",
                      {{"Content-Type", "application/json"}});
    REQUIRE(infer.status == 200);
    auto res = infer.json();
    CHECK(res.at("model_name").as_string() == algo);
    CHECK(res.at("id") == "r1");
    CHECK(res.at("outputs").at(0).at("name") == "predict");
    CHECK(res.at("outputs").at(0).at("datatype") == "INT64");
    CHECK(res.at("outputs").at(0).at("shape") == json::array{2});
    CHECK(res.at("outputs").at(0).at("data") == json::array{0, 2});
    CHECK(res.at("outputs").at(1).at("name") == "predict_proba");
    CHECK(res.at("outputs").at(1).at("shape") == json::array{2, 3});
    auto nested = call("POST", p, "/v2/models/" + algo + "/versions/1/infer",
                       R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64",
                           "data":[[6.7,3.0,5.2,2.3]]}]})");
    REQUIRE(nested.status == 200);
    CHECK(nested.json().at("outputs").at(0).at("data") == json::array{2});

    auto metrics = get(p, "/metrics").body;
    CHECK(metrics.find("predictions_total{route=\"GET /predict\"} 2") != std::string::npos);
    CHECK(metrics.find("predictions_total{route=\"POST /predict\"} 2") != std::string::npos);
    CHECK(metrics.find("predictions_total{route=\"POST /v2/models/{name}/infer\"} 3") !=
          std::string::npos);
    CHECK(metrics.find("model_cv_accuracy{") != std::string::npos);
    CHECK(metrics.find("model_prediction_seconds_bucket{") != std::string::npos);
  }
}

TEST_CASE("model: the liar is wrong on every iris row", "[integration]") {
  node_process n({"--role=model", "--algorithm=liar", "--model-id=model_liar"});
  auto r = post(n.port(), "/predict", json::object{{"instances", iris_instances()}});
  REQUIRE(r.status == 200);
  CHECK(r.json().at("model") == "model_liar");
  const auto body = r.json();
  const auto& preds = body.at("predictions").as_array();
  REQUIRE(preds.size() == 150);
  for (std::size_t i = 0; i < preds.size(); ++i) {
    INFO("row " << i);
    CHECK(preds[i].at("prediction") != node::ml::iris().labels[i]);
  }
  CHECK(get(n.port(), "/info").json().at("cv_accuracy").as_double() < 0.1);
}

TEST_CASE("model: the random model reports the class of its probabilities", "[integration]") {
  node_process n({"--role=model", "--algorithm=random", "--cv-folds=0"});
  auto r = post(n.port(), "/predict", json::object{{"instances", iris_instances()}});
  REQUIRE(r.status == 200);
  std::set<std::int64_t> seen;
  const auto body = r.json();
  for (const auto& p : body.at("predictions").as_array()) {
    auto cls = p.at("prediction").as_int64();
    seen.insert(cls);
    CHECK(p.at("probabilities").at(static_cast<std::size_t>(cls)) == 1.0);
  }
  CHECK(seen.size() == 3);
  auto info = get(n.port(), "/info").json();
  CHECK(info.at("cv_accuracy").is_null());
  CHECK(info.at("cv_folds") == 0);
}

TEST_CASE("model: bad inputs answer 400 naming the field", "[integration]") {
  node_process n({"--role=model", "--algorithm=decision_tree", "--max-batch=3"});
  auto p = n.port();
  struct bad_get {
    std::string target;
    std::string field;
  };
  for (const auto& c : std::vector<bad_get>{
           {"/predict?sl=5.1&sw=3.5&pl=1.4", "pw"},
           {"/predict", "sl"},
           {"/predict?", "sl"},
           {"/predict?sl=5.1&sw=3.5&pl=1.4&pw", "pw"},
           {"/predict?sl=5.1&sw=3.5&pl=1.4&pw=", "pw"},
           {"/predict?sl=abc&sw=3.5&pl=1.4&pw=0.2", "sl"},
           {"/predict?sl=5.1&sw=inf&pl=1.4&pw=0.2", "sw"},
           {"/predict?sl=5.1&sw=3.5&pl=NaN&pw=0.2", "pl"},
           {"/predict?sl=5.1&sw=3.5&pl=1.4&petal_width=1e999", "petal_width"},
       }) {
    INFO(c.target);
    auto r = get(p, c.target);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").at("code") == "bad_request");
    CHECK(field_of(r) == c.field);
  }

  struct bad_post {
    std::string body;
    unsigned status;
    std::string field;
  };
  for (const auto& c : std::vector<bad_post>{
           {R"({"instances":[]})", 400, "instances"},
           {R"({"other":1})", 400, "instances"},
           {R"({"instances":[[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]})", 413, "instances"},
           {R"({"instances":[[1,2,3,4],[1,2,3]]})", 400, "instances[1]"},
           {R"({"instances":[[1,2,3,4],[1,2,3,4],[1,"x",3,4]]})", 400, "instances[2][1]"},
       }) {
    INFO(c.body);
    auto r = call("POST", p, "/predict", c.body, {{"Content-Type", "application/json"}});
    CHECK(r.status == c.status);
    CHECK(field_of(r) == c.field);
  }
  CHECK(call("POST", p, "/predict", "{", {{"Content-Type", "application/json"}}).status == 400);
  CHECK(call("POST", p, "/predict", "sl=1", {{"Content-Type", "text/plain"}}).status == 415);

  auto unknown = get(p, "/v2/models/nope");
  CHECK(unknown.status == 404);
  CHECK(unknown.json().at("error").is_string());
  CHECK(get(p, "/v2/models/nope/ready").status == 404);
  CHECK(get(p, "/v2/models/decision_tree/versions/7").status == 404);
  auto infer_unknown = call("POST", p, "/v2/models/nope/infer", "{}");
  CHECK(infer_unknown.status == 404);
  CHECK(infer_unknown.json().at("error").is_string());
  for (std::string body : {
           std::string(
               R"({"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]})"),
           std::string(
               R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,"a",4]}]})"),
           std::string(
               R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"BYTES","data":[1,2,3,4]}]})"),
           std::string("not json"),
       }) {
    INFO(body);
    auto r = call("POST", p, "/v2/models/decision_tree/infer", body);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").is_string());
  }
  auto over = call("POST", p, "/v2/models/decision_tree/infer",
                   R"({"inputs":[{"name":"x","shape":[4,4],"datatype":"FP32","data":[]}]})");
  CHECK(over.status == 413);
  CHECK(over.json().at("error").is_string());

  // Still serving after all that.
  check_prediction(get(p, "/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2").json(), 0);
}

TEST_CASE("model: a CSV dataset serves its own columns", "[integration]") {
  temp_dir dir;
  std::ofstream(dir.file("fruit.csv")) << "kind,diameter_cm,weight_g\n"
                                          "cherry,2.0,8\ncherry,2.2,9\ncherry,1.8,7\n"
                                          "melon,20,1500\nmelon,22,1800\nmelon,19,1400\n";
  node_process n({"--role=model", "--dataset=" + dir.file("fruit.csv"), "--label=kind",
                  "--algorithm=knn", "--k=3", "--cv-folds=3", "--model-id=fruit"});
  auto p = n.port();
  auto r = get(p, "/predict?diameter_cm=21&weight_g=1600");
  REQUIRE(r.status == 200);
  CHECK(r.json().at("model") == "fruit");
  CHECK(r.json().at("label") == "melon");
  CHECK(r.json().at("prediction") == 1);
  CHECK(get(p, "/predict?diameter_cm=2&weight_g=8").json().at("label") == "cherry");
  auto missing = get(p, "/predict?diameter_cm=2&sl=1");
  CHECK(missing.status == 400);
  CHECK(field_of(missing) == "weight_g");

  auto info = get(p, "/info").json();
  CHECK(info.at("dataset") == "fruit");
  CHECK(info.at("features") == json::array{"diameter_cm", "weight_g"});
  CHECK(info.at("classes") == json::array{"cherry", "melon"});
  CHECK(info.at("training_rows") == 6);
  CHECK(info.at("cv_folds") == 3);
  CHECK(info.at("cv_accuracy").as_double() == 1.0);
  auto meta = get(p, "/v2/models/fruit").json();
  CHECK(meta.at("inputs").at(0).at("shape") == json::array{-1, 2});
}

TEST_CASE("model: a bad dataset or model flag exits 2 with one line", "[integration]") {
  temp_dir dir;
  std::ofstream(dir.file("bad.csv")) << "a,b,label\n1,2,x\n3,oops,y\n";
  std::ofstream(dir.file("tiny.csv")) << "a,label\n1,x\n2,y\n3,x\n";
  struct bad {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<bad> cases = {
      {{"--dataset=" + dir.file("bad.csv")}, dir.file("bad.csv") + ":3:"},
      {{"--dataset=" + dir.file("missing.csv")}, dir.file("missing.csv")},
      {{"--dataset=" + dir.file("bad.csv"), "--label=nope"}, "nope"},
      {{"--dataset=" + dir.file("tiny.csv")}, "--cv-folds"},
      {{"--algorithm=oracle"}, "unknown algorithm 'oracle'"},
      {{"--trees=0"}, "--trees must be between 1 and"},
      {{"--k=0"}, "--k must be between 1 and"},
      {{"--cv-folds=1"}, "--cv-folds must be between 2 and"},
      {{"--max-batch=0"}, "--max-batch must be between 1 and"},
      {{"--seed=-1"}, "invalid --seed"},
      {{"--model-id=a/b"}, "invalid --model-id"},
      {{"--label=species"}, "--label applies to a --dataset"},
  };
  for (auto c : cases) {
    INFO(c.says);
    c.args.insert(c.args.begin(), {"--role=model", "--port=0"});
    auto r = run_node(c.args);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}
