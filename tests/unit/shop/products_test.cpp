#include "node/shop/products.hpp"

#include "node/core/json.hpp"

#include "../../support/fake_txn.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <charconv>
#include <string>

namespace json = boost::json;
namespace shop = node::shop;
using node::test::fake_txn;

namespace {

json::value body(std::string_view text) {
  return json::parse(text);
}

// Expects a 400 naming `field` for a create body.
void check_create_rejects(std::string_view text, std::string_view field) {
  INFO(text);
  auto r = shop::validate_create(body(text));
  REQUIRE(r.has_error());
  CHECK(r.error().status == 400);
  CHECK(r.error().code == "bad_request");
  CHECK(r.error().field == field);
}

shop::read_fn reader(fake_txn& t) {
  return [&t](std::string_view c, std::string_view id) { return t.get(c, id); };
}

void add(fake_txn& t, std::string_view text) {
  REQUIRE(shop::create_product(t, body(text)).has_value());
}

}  // namespace

TEST_CASE("products: a create body becomes the stored document with defaults", "[unit]") {
  auto doc = shop::validate_create(body(R"({"name":"Smartwatch","price":199.99})"));
  REQUIRE(doc.has_value());
  CHECK(*doc == json::object{{"name", "Smartwatch"},
                             {"description", ""},
                             {"price_cents", 19999},
                             {"category", "general"},
                             {"stock", 0}});
}

TEST_CASE("products: unknown fields, id and inStock are ignored and not stored", "[unit]") {
  auto doc = shop::validate_create(body(
      R"({"id":99,"inStock":true,"color":"red","name":"Mug","price":2,"stock":3,"category":"home","description":"d"})"));
  REQUIRE(doc.has_value());
  CHECK(doc->size() == 5);
  CHECK(!doc->contains("id"));
  CHECK(!doc->contains("inStock"));
  CHECK(!doc->contains("color"));
  CHECK(doc->at("stock") == json::value(3));
}

TEST_CASE("products: each invalid create field is a 400 naming it", "[unit]") {
  check_create_rejects(R"({"price":1})", "name");
  check_create_rejects(R"({"name":"","price":1})", "name");
  check_create_rejects(R"({"name":"   ","price":1})", "name");
  check_create_rejects(R"({"name":5,"price":1})", "name");
  check_create_rejects(R"({"name":null,"price":1})", "name");
  check_create_rejects(R"({"name":")" + std::string(201, 'n') + R"(","price":1})", "name");
  check_create_rejects(R"({"name":"x"})", "price");
  check_create_rejects(R"({"name":"x","price":-1})", "price");
  check_create_rejects(R"({"name":"x","price":"1"})", "price");
  check_create_rejects(R"({"name":"x","price":19.999})", "price");
  check_create_rejects(R"({"name":"x","price":1,"description":7})", "description");
  check_create_rejects(R"({"name":"x","price":1,"category":""})", "category");
  check_create_rejects(R"({"name":"x","price":1,"category":["a"]})", "category");
  check_create_rejects(R"({"name":"x","price":1,"stock":2.5})", "stock");
  check_create_rejects(R"({"name":"x","price":1,"stock":-1})", "stock");
  check_create_rejects(R"({"name":"x","price":1,"stock":"3"})", "stock");
  check_create_rejects(R"({"name":"x","price":1,"stock":1e20})", "stock");
  check_create_rejects(R"({"name":"x","price":1,"stock":1000000001})", "stock");
}

TEST_CASE("products: a body that is not an object is a 400", "[unit]") {
  for (const char* text : {"[]", "\"x\"", "null", "3"}) {
    auto r = shop::validate_create(body(text));
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    auto u = shop::validate_update(body(text));
    REQUIRE(u.has_error());
    CHECK(u.error().status == 400);
  }
}

TEST_CASE("products: create stores under new ids and answers the API form", "[unit]") {
  fake_txn t;
  auto r = shop::create_product(
      t,
      body(
          R"({"name":"Smartwatch","description":"...","price":199.99,"category":"electronics","stock":12})"));
  REQUIRE(r.has_value());
  CHECK(*r == body(R"({"id":1,"name":"Smartwatch","description":"...","price":199.99,)"
                   R"("category":"electronics","stock":12,"inStock":true})"));
  auto second = shop::create_product(t, body(R"({"name":"Mug","price":3})"));
  REQUIRE(second.has_value());
  CHECK(second->at("id") == json::value(2));
  CHECK(second->at("inStock") == json::value(false));
  CHECK(t.get("products", "2")->at("price_cents") == json::value(300));
}

TEST_CASE("products: an invalid create writes nothing and takes no id", "[unit]") {
  fake_txn t;
  CHECK(shop::create_product(t, body(R"({"name":"x","price":-1})")).has_error());
  CHECK(t.writes() == 0);
  add(t, R"({"name":"x","price":1})");
  CHECK(t.get("products", "1"));
}

TEST_CASE("products: update changes only the given fields", "[unit]") {
  fake_txn t;
  add(t, R"({"name":"Lamp","description":"LED","price":39.99,"category":"home","stock":5})");
  auto r = shop::update_product(t, "1", body(R"({"price":29.5,"inStock":false})"));
  REQUIRE(r.has_value());
  CHECK(*r == body(R"({"id":1,"name":"Lamp","description":"LED","price":29.5,)"
                   R"("category":"home","stock":5,"inStock":true})"));
  r = shop::update_product(t, "1", body(R"({"stock":0})"));
  REQUIRE(r.has_value());
  CHECK(r->at("inStock") == json::value(false));
  CHECK(r->at("price") == json::value(29.5));
  CHECK(t.get("products", "1")->at("stock") == json::value(0));
}

TEST_CASE("products: an empty update changes nothing and writes nothing", "[unit]") {
  fake_txn t;
  add(t, R"({"name":"Lamp","price":39.99})");
  auto before = t.snapshot();
  auto writes = t.writes();
  auto r = shop::update_product(t, "1", body("{}"));
  REQUIRE(r.has_value());
  CHECK(r->at("name") == json::value("Lamp"));
  CHECK(t.writes() == writes);
  CHECK(t.snapshot() == before);
}

TEST_CASE("products: invalid updates are 400 and unknown ids 404, changing nothing", "[unit]") {
  fake_txn t;
  add(t, R"({"name":"Lamp","price":39.99,"stock":2})");
  auto before = t.snapshot();
  auto writes = t.writes();
  auto bad = shop::update_product(t, "1", body(R"({"name":"New","stock":-3})"));
  REQUIRE(bad.has_error());
  CHECK(bad.error().status == 400);
  CHECK(bad.error().field == "stock");
  bad = shop::update_product(t, "1", body(R"({"name":""})"));
  REQUIRE(bad.has_error());
  CHECK(bad.error().field == "name");
  for (const char* id : {"2", "0", "abc", "-1", "1.0"}) {
    auto missing = shop::update_product(t, id, body(R"({"name":"New"})"));
    REQUIRE(missing.has_error());
    CHECK(missing.error().status == 404);
  }
  CHECK(t.writes() == writes);
  CHECK(t.snapshot() == before);
}

TEST_CASE("products: delete answers a message and then 404, ids are not reused", "[unit]") {
  fake_txn t;
  add(t, R"({"name":"A","price":1})");
  add(t, R"({"name":"B","price":1})");
  auto r = shop::delete_product(t, "1");
  REQUIRE(r.has_value());
  CHECK(*r == body(R"({"message":"product 1 deleted","id":1})"));
  CHECK(!t.get("products", "1"));
  auto again = shop::delete_product(t, "1");
  REQUIRE(again.has_error());
  CHECK(again.error().status == 404);
  CHECK(again.error().code == "not_found");
  CHECK(shop::delete_product(t, "x").error().status == 404);
  auto next = shop::create_product(t, body(R"({"name":"C","price":1})"));
  REQUIRE(next.has_value());
  CHECK(next->at("id") == json::value(3));
}

TEST_CASE("products: get answers the API form or 404", "[unit]") {
  fake_txn t;
  add(t, R"({"name":"A","price":0.29,"stock":1})");
  auto r = shop::get_product(reader(t), "1");
  REQUIRE(r.has_value());
  CHECK(json::parse(*r) == json::parse(R"({"id":1,"name":"A","description":"","price":0.29,)"
                                       R"("category":"general","stock":1,"inStock":true})"));
  CHECK(shop::get_product(reader(t), "2").error().status == 404);
  CHECK(shop::get_product(reader(t), "01").error().status == 404);
  CHECK(shop::get_product(reader(t), "").error().status == 404);
}

TEST_CASE("products: lists filter by category and stock, ordered by id", "[unit]") {
  fake_txn t;
  for (int i = 1; i <= 12; ++i) {
    std::string category = i % 2 == 0 ? "electronics" : "home";
    std::string stock = i % 3 == 0 ? "0" : "4";
    add(t, R"({"name":"P)" + std::to_string(i) + R"(","price":1,"category":")" + category +
               R"(","stock":)" + stock + "}");
  }
  auto ids = [](const std::string& text) {
    std::vector<std::int64_t> out;
    const json::value list = json::parse(text);
    for (const auto& p : list.as_array())
      out.push_back(p.at("id").as_int64());
    return out;
  };
  auto all = shop::list_products(t.list("products"), std::nullopt, std::nullopt);
  REQUIRE(all.has_value());
  CHECK(ids(*all) == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto electronics = shop::list_products(t.list("products"), "electronics", std::nullopt);
  REQUIRE(electronics.has_value());
  CHECK(ids(*electronics) == std::vector<std::int64_t>{2, 4, 6, 8, 10, 12});
  auto available = shop::list_products(t.list("products"), "electronics", "true");
  REQUIRE(available.has_value());
  CHECK(ids(*available) == std::vector<std::int64_t>{2, 4, 8, 10});
  auto sold_out = shop::list_products(t.list("products"), std::nullopt, "false");
  REQUIRE(sold_out.has_value());
  CHECK(ids(*sold_out) == std::vector<std::int64_t>{3, 6, 9, 12});
  auto empty_category = shop::list_products(t.list("products"), "", std::nullopt);
  REQUIRE(empty_category.has_value());
  CHECK(ids(*empty_category).size() == 12);
  auto none = shop::list_products(t.list("products"), "Electronics", std::nullopt);
  REQUIRE(none.has_value());
  CHECK(*none == "[]");
}

TEST_CASE("products: inStock must be true or false", "[unit]") {
  for (const char* bad : {"yes", "1", "", "TRUE"}) {
    auto r = shop::parse_filters(std::nullopt, std::string_view(bad));
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    CHECK(r.error().field == "inStock");
  }
  CHECK(shop::parse_filters("home", "false").value().in_stock == false);
  CHECK(shop::parse_filters("home", std::nullopt).value().category == "home");
}

TEST_CASE("products: the API form's text is what serializing its JSON tree gives", "[unit]") {
  // The tree built field by field, as the API form was built before it was written as text.
  const auto tree = [](std::string_view id, const json::object& doc) {
    const auto text = [&](const char* key) -> json::value {
      const json::value* v = doc.if_contains(key);
      return v != nullptr && v->is_string() ? *v : json::value(json::string());
    };
    const auto integer = [&](const char* key) -> std::int64_t {
      const json::value* v = doc.if_contains(key);
      return v != nullptr && v->is_int64() ? v->get_int64() : 0;
    };
    json::object o;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec == std::errc{} && end == id.data() + id.size() && !id.empty()) {
      o["id"] = n;
    } else {
      o["id"] = id;
    }
    o["name"] = text("name");
    o["description"] = text("description");
    o["price"] = static_cast<double>(integer("price_cents")) / 100.0;
    o["category"] = text("category");
    o["stock"] = integer("stock");
    o["inStock"] = integer("stock") > 0;
    return node::core::to_json(o);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1", R"({"name":"Smartwatch","description":"Fitness \"tracking\"\n\u0001 caf\u00e9",)"
            R"("price_cents":19999,"category":"electronics","stock":12})"},
      {"42", R"({"name":"Free","description":"","price_cents":0,"category":"c","stock":0})"},
      {"7", R"({"name":"Round","price_cents":100500,"stock":1000000000})"},
      {"9223372036854775807", R"({"name":"Max","price_cents":1,"stock":3})"},
      {"18446744073709551615", R"({"name":"Beyond int64","price_cents":30,"stock":1})"},
      {"abc", R"({"name":7,"description":null,"price_cents":"x","category":"k","stock":-1})"},
      {"3", R"({})"},
  };
  for (const auto& [id, doc_text] : cases) {
    const auto doc = json::parse(doc_text).as_object();
    std::string text;
    shop::append_product_api(text, id, doc);
    INFO(doc_text);
    CHECK(text == tree(id, doc));
    CHECK(shop::product_to_api(id, doc) == json::parse(text));
  }
}
