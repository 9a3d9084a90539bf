#include "node/shop/carts.hpp"

#include "../../support/fake_txn.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace json = boost::json;
namespace shop = node::shop;
using node::test::fake_txn;

namespace {

json::value body(std::string_view text) {
  return json::parse(text);
}

shop::read_fn reader(fake_txn& t) {
  return [&t](std::string_view c, std::string_view id) { return t.get(c, id); };
}

void add(fake_txn& t, std::string_view text) {
  REQUIRE(shop::create_product(t, body(text)).has_value());
}

// 1: Smartwatch 199.99, 2: Cable 0.10, 3: Adapter 0.20 (out of stock).
void stock_shop(fake_txn& t) {
  add(t, R"({"name":"Smartwatch","price":199.99,"stock":12})");
  add(t, R"({"name":"Cable","price":0.1,"stock":5})");
  add(t, R"({"name":"Adapter","price":0.2,"stock":0})");
}

json::value add_to_cart(fake_txn& t, std::string_view user, std::string_view text) {
  auto r = shop::add_to_cart(t, user, body(text));
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("carts: a new user has an empty cart with total 0", "[unit]") {
  fake_txn t;
  auto r = shop::view_cart(reader(t), "alice");
  REQUIRE(r.has_value());
  CHECK(*r == body(R"({"userId":"alice","items":[],"total":0.0})"));
}

TEST_CASE("carts: adding the same product again adds to its quantity", "[unit]") {
  fake_txn t;
  stock_shop(t);
  add_to_cart(t, "alice", R"({"productId":1,"quantity":2})");
  auto cart = add_to_cart(t, "alice", R"({"productId":1,"quantity":3})");
  CHECK(cart == body(R"({"userId":"alice","items":[{"productId":1,"name":"Smartwatch",)"
                     R"("price":199.99,"quantity":5,"subtotal":999.95}],"total":999.95})"));
  CHECK(shop::view_cart(reader(t), "alice").value() == cart);
  CHECK(shop::view_cart(reader(t), "bob").value().at("items").as_array().empty());
}

TEST_CASE("carts: quantity defaults to 1 and stock is not checked", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto cart = add_to_cart(t, "alice", R"({"productId":3})");
  CHECK(cart.at("items").at(0).at("quantity") == json::value(1));
}

TEST_CASE("carts: totals are exact to the cent", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto cart = add_to_cart(t, "alice", R"({"productId":2,"quantity":3})");
  CHECK(cart.at("items").at(0).at("subtotal").as_double() == 0.3);
  CHECK(cart.at("total").as_double() == 0.3);
  cart = add_to_cart(t, "alice", R"({"productId":3,"quantity":1})");
  CHECK(cart.at("total").as_double() == 0.5);
}

TEST_CASE("carts: an unknown product is 404 and changes nothing", "[unit]") {
  fake_txn t;
  stock_shop(t);
  add_to_cart(t, "alice", R"({"productId":1,"quantity":1})");
  auto before = t.snapshot();
  auto r = shop::add_to_cart(t, "alice", body(R"({"productId":99,"quantity":1})"));
  REQUIRE(r.has_error());
  CHECK(r.error().status == 404);
  CHECK(t.snapshot() == before);
}

TEST_CASE("carts: invalid additions are 400 naming the field", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto check = [&](std::string_view user, std::string_view text, std::string_view field) {
    INFO(text);
    auto r = shop::add_to_cart(t, user, body(text));
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    CHECK(r.error().field == field);
  };
  check("alice", R"({"quantity":1})", "productId");
  check("alice", R"({"productId":"1"})", "productId");
  check("alice", R"({"productId":1,"quantity":0})", "quantity");
  check("alice", R"({"productId":1,"quantity":-2})", "quantity");
  check("alice", R"({"productId":1,"quantity":2.5})", "quantity");
  check("", R"({"productId":1,"quantity":1})", "userId");
  check(std::string(101, 'u'), R"({"productId":1,"quantity":1})", "userId");
  check("alice", "[1]", "");
  add_to_cart(t, "alice", R"({"productId":2,"quantity":1000000})");
  check("alice", R"({"productId":2,"quantity":1})", "quantity");
  CHECK(shop::view_cart(reader(t), "alice").value().at("items").at(0).at("quantity") ==
        json::value(1000000));
}

TEST_CASE("carts: a cart holds at most 50 products", "[unit]") {
  fake_txn t;
  for (int i = 0; i < 51; ++i)
    add(t, R"({"name":"P","price":1})");
  for (int i = 1; i <= 50; ++i) {
    REQUIRE(shop::add_to_cart(t, "alice", body(R"({"productId":)" + std::to_string(i) + "}"))
                .has_value());
  }
  auto r = shop::add_to_cart(t, "alice", body(R"({"productId":51})"));
  REQUIRE(r.has_error());
  CHECK(r.error().field == "productId");
  CHECK(shop::add_to_cart(t, "alice", body(R"({"productId":50})")).has_value());
}

TEST_CASE("carts: removing a product answers the cart without it", "[unit]") {
  fake_txn t;
  stock_shop(t);
  add_to_cart(t, "alice", R"({"productId":1,"quantity":1})");
  add_to_cart(t, "alice", R"({"productId":2,"quantity":2})");
  auto r = shop::remove_from_cart(t, "alice", "1");
  REQUIRE(r.has_value());
  CHECK(*r == body(R"({"userId":"alice","items":[{"productId":2,"name":"Cable",)"
                   R"("price":0.1,"quantity":2,"subtotal":0.2}],"total":0.2})"));
  r = shop::remove_from_cart(t, "alice", "2");
  REQUIRE(r.has_value());
  CHECK(r->at("items").as_array().empty());
  CHECK(!t.get("carts", "alice"));
}

TEST_CASE("carts: removing what is not in the cart is 404", "[unit]") {
  fake_txn t;
  stock_shop(t);
  add_to_cart(t, "alice", R"({"productId":1,"quantity":1})");
  auto before = t.snapshot();
  for (const char* id : {"2", "99", "abc", "0", ""}) {
    auto r = shop::remove_from_cart(t, "alice", id);
    REQUIRE(r.has_error());
    CHECK(r.error().status == 404);
  }
  CHECK(shop::remove_from_cart(t, "bob", "1").error().status == 404);
  CHECK(shop::remove_from_cart(t, "", "1").error().status == 400);
  CHECK(t.snapshot() == before);
}

TEST_CASE("carts: a deleted product leaves the view and the cart", "[unit]") {
  fake_txn t;
  stock_shop(t);
  add_to_cart(t, "alice", R"({"productId":1,"quantity":1})");
  add_to_cart(t, "alice", R"({"productId":2,"quantity":1})");
  REQUIRE(shop::delete_product(t, "1").has_value());
  auto view = shop::view_cart(reader(t), "alice");
  REQUIRE(view.has_value());
  CHECK(*view == body(R"({"userId":"alice","items":[{"productId":2,"name":"Cable",)"
                      R"("price":0.1,"quantity":1,"subtotal":0.1}],"total":0.1})"));
  CHECK(shop::remove_from_cart(t, "alice", "1").error().status == 404);
  add_to_cart(t, "alice", R"({"productId":2,"quantity":1})");
  CHECK(t.get("carts", "alice")->at("items").as_array().size() == 1);
}

TEST_CASE("carts: prices follow the current product", "[unit]") {
  fake_txn t;
  stock_shop(t);
  add_to_cart(t, "alice", R"({"productId":2,"quantity":3})");
  REQUIRE(shop::update_product(t, "2", body(R"({"price":0.29})")).has_value());
  auto view = shop::view_cart(reader(t), "alice");
  REQUIRE(view.has_value());
  CHECK(view->at("total").as_double() == 0.87);
}
