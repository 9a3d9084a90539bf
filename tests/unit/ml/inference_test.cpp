// Reading rows from query strings, /predict bodies and V2 infer requests, and the JSON answers.
#include "node/ml/inference.hpp"

#include "node/ml/csv.hpp"
#include "node/ml/random_classifier.hpp"
#include "node/ml/random_forest.hpp"

#include <boost/url/url_view.hpp>
#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>

using namespace node::ml;
namespace json = node::core::json;

namespace {

node::core::result<std::vector<double>> from_query(const dataset& d, const char* target) {
  boost::urls::url_view u(target);
  return row_from_query(d, u.encoded_query());
}

json::value parse(const char* text) {
  return json::parse(text);
}

// The error of a result that must have failed.
template <class T>
node::core::error failure(const node::core::result<T>& r) {
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

}  // namespace

TEST_CASE("inference: parse_finite reads whole finite numbers only", "[unit]") {
  CHECK(parse_finite("5.1") == 5.1);
  CHECK(parse_finite(" 5.1 ") == 5.1);
  CHECK(parse_finite("+2") == 2.0);
  CHECK(parse_finite("-0.5") == -0.5);
  CHECK(parse_finite("1e2") == 100.0);
  for (const char* bad :
       {"", " ", "abc", "5.1x", "nan", "inf", "-inf", "1e999", "+", "+-1", "0x10"}) {
    INFO(bad);
    CHECK_FALSE(parse_finite(bad).has_value());
  }
  for (const char* bad : {".", "-", "--5", "5..1", "1.2.3", "5-"}) {
    INFO(bad);
    CHECK_FALSE(parse_finite(bad).has_value());
  }
}

TEST_CASE("inference: short decimals read exactly as from_chars reads them", "[unit]") {
  std::mt19937_64 gen(42);
  for (int i = 0; i < 20000; ++i) {
    // Up to 15 digits, the point anywhere (or nowhere), sometimes negative.
    const int digits = 1 + static_cast<int>(gen() % 15);
    std::string text = gen() % 4 == 0 ? "-" : "";
    const int point = static_cast<int>(gen() % static_cast<unsigned>(digits + 2)) - 1;
    for (int k = 0; k < digits; ++k) {
      if (k == point) text += '.';
      text += static_cast<char>('0' + gen() % 10);
    }
    double expected = 0;
    std::from_chars(text.data(), text.data() + text.size(), expected);
    INFO(text);
    const auto got = parse_finite(text);
    REQUIRE(got.has_value());
    CHECK(std::memcmp(&*got, &expected, sizeof expected) == 0);
  }
  for (const char* edge : {"0.1", "5.", ".5", "-0", "0.30000000000000004", "123456789012345",
                           "1234567890123456", "9007199254740993", "0.000000000000000000001"}) {
    double expected = 0;
    const std::string_view t(edge);
    std::from_chars(t.data(), t.data() + t.size(), expected);
    INFO(edge);
    REQUIRE(parse_finite(edge).has_value());
    CHECK(*parse_finite(edge) == expected);
  }
}

TEST_CASE("inference: a query row takes iris aliases or column names and ignores the rest",
          "[unit]") {
  const auto& d = iris();
  auto r = from_query(d, "/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2&extra=zzz");
  REQUIRE(r.has_value());
  CHECK(*r == std::vector<double>{5.1, 3.5, 1.4, 0.2});
  auto named =
      from_query(d, "/predict?petal_width=0.2&sepal_length=5.1&sepal_width=3.5&petal_length=1.4");
  REQUIRE(named.has_value());
  CHECK(*named == std::vector<double>{5.1, 3.5, 1.4, 0.2});
  auto twice = from_query(d, "/predict?sl=1&sl=2&sw=3&pl=4&pw=5");
  REQUIRE(twice.has_value());
  CHECK((*twice)[0] == 1.0);
}

TEST_CASE("inference: a bad query row names the field", "[unit]") {
  const auto& d = iris();
  auto missing = failure(from_query(d, "/predict?sl=5.1&sw=3.5&pl=1.4"));
  CHECK(missing.status == 400);
  CHECK(missing.field == "pw");
  CHECK(missing.message.find("petal_width") != std::string::npos);
  CHECK(failure(from_query(d, "/predict?sl=abc&sw=3.5&pl=1.4&pw=0.2")).field == "sl");
  CHECK(failure(from_query(d, "/predict?sl=5&sw=3.5&pl=1.4&petal_width=nan")).field ==
        "petal_width");
  CHECK(failure(from_query(d, "/predict?sl=5&sw=inf&pl=1.4&pw=1")).field == "sw");
  CHECK(failure(from_query(d, "/predict?sl=&sw=1&pl=1.4&pw=1")).field == "sl");
  CHECK(failure(from_query(d, "/predict")).field == "sl");
}

TEST_CASE("inference: instances are arrays or objects of finite numbers", "[unit]") {
  const auto& d = iris();
  auto r = rows_from_instances(
      d,
      parse(
          R"({"instances":[[5.1,3.5,1.4,0.2],{"pw":2.3,"sl":6.7,"sw":3,"petal_length":5.2,"x":1}]})"),
      10);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0] == std::vector<double>{5.1, 3.5, 1.4, 0.2});
  CHECK((*r)[1] == std::vector<double>{6.7, 3.0, 5.2, 2.3});
}

TEST_CASE("inference: bad instances name the field", "[unit]") {
  const auto& d = iris();
  struct bad {
    const char* body;
    const char* field;
    unsigned status;
  };
  for (const auto& c : std::vector<bad>{
           {R"([[1,2,3,4]])", "instances", 400},
           {R"({"rows":[[1,2,3,4]]})", "instances", 400},
           {R"({"instances":{}})", "instances", 400},
           {R"({"instances":[]})", "instances", 400},
           {R"({"instances":[[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]})", "instances", 413},
           {R"({"instances":[[1,2,3,4],[1,2,3]]})", "instances[1]", 400},
           {R"({"instances":[[1,2,3,4],[1,2,3,4],[1,2,3,4,5]]})", "instances[2]", 400},
           {R"({"instances":[[1,"2",3,4]]})", "instances[0][1]", 400},
           {R"({"instances":[[1,2,3,null]]})", "instances[0][3]", 400},
           {R"({"instances":[[1,2,3,4],"x"]})", "instances[1]", 400},
           {R"({"instances":[{"sl":1,"sw":2,"pl":3}]})", "instances[0].pw", 400},
           {R"({"instances":[{"sl":1,"sw":true,"pl":3,"pw":4}]})", "instances[0].sw", 400},
       }) {
    INFO(c.body);
    auto e = failure(rows_from_instances(d, parse(c.body), 3));
    CHECK(e.field == c.field);
    CHECK(e.status == c.status);
  }
}

TEST_CASE("inference: custom columns work in queries and answers", "[unit]") {
  auto d = parse_csv("height,weight,kind\n1,10,small\n2,20,small\n8,80,big\n9,90,big\n", "t.csv");
  REQUIRE(d.has_value());
  auto row = from_query(*d, "/?weight=15&height=1.5");
  REQUIRE(row.has_value());
  CHECK(*row == std::vector<double>{1.5, 15});
  auto missing = failure(from_query(*d, "/?height=1"));
  CHECK(missing.field == "weight");

  random_forest f(10, 0, 1);
  f.fit(*d);
  auto p = predict_row(f, *row);
  auto j = prediction_json(*d, p);
  CHECK(j.at("prediction") == 0);
  CHECK(j.at("label") == "small");
  CHECK(j.at("probabilities").as_array().size() == 2);
}

TEST_CASE("inference: predict_row reports the class of the probabilities it drew", "[unit]") {
  random_classifier r(7);
  r.fit(iris());
  for (int i = 0; i < 50; ++i) {
    auto p = predict_row(r, iris().rows[0]);
    CHECK(p.probabilities[static_cast<std::size_t>(p.cls)] == 1.0);
  }
}

TEST_CASE("inference: v2 infer takes flat or nested data and answers both outputs", "[unit]") {
  const auto& d = iris();
  random_forest f(20, 0, 42);
  f.fit(d);
  for (const char* body : {
           R"({"id":"q1","inputs":[{"name":"input-0","shape":[2,4],"datatype":"FP32",
               "data":[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]}]})",
           R"({"id":"q1","inputs":[{"name":"input-0","shape":[2,4],"datatype":"FP64",
               "data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}]})",
       }) {
    INFO(body);
    auto req = v2::parse_infer(d, parse(body), 10);
    REQUIRE(req.has_value());
    REQUIRE(req->rows.size() == 2);
    CHECK(req->rows[1] == std::vector<double>{6.7, 3.0, 5.2, 2.3});
    std::vector<prediction> preds;
    for (const auto& row : req->rows)
      preds.push_back(predict_row(f, row));
    auto res = v2::infer_response("rf", d, *req, preds);
    CHECK(res.at("model_name") == "rf");
    CHECK(res.at("id") == "q1");
    const auto& outs = res.at("outputs").as_array();
    REQUIRE(outs.size() == 2);
    CHECK(outs[0].at("name") == "predict");
    CHECK(outs[0].at("datatype") == "INT64");
    CHECK(outs[0].at("shape") == json::array{2});
    CHECK(outs[0].at("data") == json::array{0, 2});
    CHECK(outs[1].at("name") == "predict_proba");
    CHECK(outs[1].at("shape") == json::array{2, 3});
    CHECK(outs[1].at("data").as_array().size() == 6);
  }
  auto only_label = v2::parse_infer(
      d, parse(R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"INT64","data":[5,3,1,0]}],
                "outputs":[{"name":"label"}]})"),
      10);
  REQUIRE(only_label.has_value());
  CHECK(only_label->outputs == std::vector<std::string>{"label"});
}

TEST_CASE("inference: bad v2 infer requests fail with a message", "[unit]") {
  const auto& d = iris();
  struct bad {
    const char* body;
    unsigned status;
  };
  for (const auto& c : std::vector<bad>{
           {R"([])", 400},
           {R"({})", 400},
           {R"({"inputs":[]})", 400},
           {R"({"inputs":[{"shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},
                          {"shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})",
            400},
           {R"({"inputs":[{"shape":[1,4],"data":[1,2,3,4]}]})", 400},
           {R"({"inputs":[{"shape":[1,4],"datatype":"BYTES","data":[1,2,3,4]}]})", 400},
           {R"({"inputs":[{"shape":[4],"datatype":"FP32","data":[1,2,3,4]}]})", 400},
           {R"({"inputs":[{"shape":[1,3],"datatype":"FP32","data":[1,2,3]}]})", 400},
           {R"({"inputs":[{"shape":[0,4],"datatype":"FP32","data":[]}]})", 400},
           {R"({"inputs":[{"shape":[-1,4],"datatype":"FP32","data":[1,2,3,4]}]})", 400},
           {R"({"inputs":[{"shape":[1,4],"datatype":"FP32","data":[1,2,3]}]})", 400},
           {R"({"inputs":[{"shape":[1,4],"datatype":"FP32","data":[1,2,3,4,5]}]})", 400},
           {R"({"inputs":[{"shape":[1,4],"datatype":"FP32","data":[1,2,"3",4]}]})", 400},
           {R"({"inputs":[{"shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[1,2,3]]}]})", 400},
           {R"({"inputs":[{"shape":[2,4],"datatype":"FP32","data":[[1,2,3,4]]}]})", 400},
           {R"({"inputs":[{"shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],
                "outputs":[{"name":"nope"}]})",
            400},
           {R"({"inputs":[{"shape":[3,4],"datatype":"FP32","data":[]}]})", 413},
       }) {
    INFO(c.body);
    auto e = failure(v2::parse_infer(d, parse(c.body), 2));
    CHECK(e.status == c.status);
    CHECK_FALSE(e.message.empty());
    CHECK(v2::error_json(e).at("error").as_string() == e.message);
  }
}

TEST_CASE("inference: v2 metadata describes the tensors", "[unit]") {
  auto m = v2::model_metadata("model_a", "knn", iris());
  CHECK(m.at("name") == "model_a");
  CHECK(m.at("versions") == json::array{"1"});
  CHECK(m.at("platform") == "node_knn");
  CHECK(m.at("inputs").at(0).at("shape") == json::array{-1, 4});
  CHECK(m.at("outputs").at(1).at("shape") == json::array{-1, 3});
}

TEST_CASE("inference: a query row decodes percent-encoded names and values", "[unit]") {
  auto r = from_query(iris(), "/predict?s%6C=%2B5.1&sw=3%2E5&pl=+1.4&petal%5Fwidth=0.2");
  REQUIRE(r.has_value());
  CHECK(*r == std::vector<double>{5.1, 3.5, 1.4, 0.2});
  CHECK(failure(from_query(iris(), "/predict?sl=5%20x&sw=1&pl=1&pw=1")).field == "sl");
  CHECK(failure(from_query(iris(), "/predict?sl&sw=1&pl=1&pw=1")).field == "sl");
}

TEST_CASE("inference: answer_writer writes what to_json writes", "[unit]") {
  auto d = parse_csv("x,kind\n1,\"a \"\"quoted\"\" class\"\n2,b\\c\n3,plain\n", "t.csv");
  REQUIRE(d.has_value());
  answer_writer w("model \"7\"", "knn", *d);
  for (const prediction& p :
       {prediction{0, {1.0, 0.0, 0.0}}, prediction{1, {0.1, 0.30000000000000004, 0.6}},
        prediction{2, {1e-9, 0.0, 0.999999999}}}) {
    json::object expected{{"model", "model \"7\""}, {"algorithm", "knn"}};
    put_prediction(expected, *d, p);
    CHECK(w.write(p) == node::core::to_json(expected));
  }
  const std::vector<prediction> batch = {prediction{2, {0.0, 0.25, 0.75}},
                                         prediction{0, {1.0, 0.0, 0.0}}};
  json::array list;
  for (const auto& p : batch)
    list.emplace_back(prediction_json(*d, p));
  const json::object expected{
      {"model", "model \"7\""}, {"algorithm", "knn"}, {"predictions", std::move(list)}};
  CHECK(w.write_batch(batch) == node::core::to_json(expected));
  CHECK(w.write_batch({}) == R"({"model":"model \"7\"","algorithm":"knn","predictions":[]})");
}
