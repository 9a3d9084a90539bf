#include "node/shop/seed.hpp"

#include "../../support/fake_txn.hpp"
#include "node/shop/products.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace json = boost::json;
namespace shop = node::shop;
using node::test::fake_txn;

TEST_CASE("seed: demo products are valid products", "[unit]") {
  auto demo = shop::demo_products();
  CHECK(demo.size() >= 6);
  CHECK(demo.size() <= 8);
  for (const json::object& doc : demo) {
    json::object api = shop::product_to_api("1", doc).as_object();
    api.erase("id");
    api.erase("inStock");
    auto again = shop::validate_create(api);
    REQUIRE(again.has_value());
    CHECK(*again == doc);
  }
  CHECK(shop::product_to_api("1", demo.front()).at("price").as_double() == 199.99);
}

TEST_CASE("seed: a new shop gets the demo products under ids 1..", "[unit]") {
  fake_txn t;
  auto r = shop::seed_demo_products(t);
  REQUIRE(r.has_value());
  auto n = shop::demo_products().size();
  CHECK(r->at("seeded") == json::value(n));
  auto list = t.list("products");
  REQUIRE(list.size() == n);
  CHECK(list.front().id == "1");
  CHECK(list.back().id == std::to_string(n));
  CHECK(list.front().doc.at("name") == json::value("Smartwatch"));
}

TEST_CASE("seed: it never seeds twice, over products, or after deletions", "[unit]") {
  fake_txn t;
  REQUIRE(shop::seed_demo_products(t).has_value());
  auto before = t.snapshot();
  CHECK(shop::seed_demo_products(t).value().at("seeded") == json::value(0));
  CHECK(t.snapshot() == before);

  fake_txn own;
  REQUIRE(shop::create_product(own, json::parse(R"({"name":"Mine","price":1})")).has_value());
  CHECK(shop::seed_demo_products(own).value().at("seeded") == json::value(0));
  CHECK(own.list("products").size() == 1);

  fake_txn emptied;
  REQUIRE(shop::create_product(emptied, json::parse(R"({"name":"Gone","price":1})")).has_value());
  REQUIRE(shop::delete_product(emptied, "1").has_value());
  CHECK(shop::seed_demo_products(emptied).value().at("seeded") == json::value(0));
  CHECK(emptied.list("products").empty());
}
