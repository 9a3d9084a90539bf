#include "node/shop/orders.hpp"

#include "../../support/fake_txn.hpp"
#include "node/shop/products.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace json = boost::json;
namespace shop = node::shop;
using node::test::fake_txn;

namespace {

json::value body(std::string_view text) {
  return json::parse(text);
}

// 2024-05-01T12:34:56.789Z
const std::chrono::system_clock::time_point when{std::chrono::milliseconds(1714566896789)};

void add(fake_txn& t, std::string_view text) {
  REQUIRE(shop::create_product(t, body(text)).has_value());
}

// A shop with 1: Smartwatch 199.99 x12, 2: Cable 0.10 x5, 3: Adapter 0.20 x1.
void stock_shop(fake_txn& t) {
  add(t, R"({"name":"Smartwatch","price":199.99,"stock":12})");
  add(t, R"({"name":"Cable","price":0.1,"stock":5})");
  add(t, R"({"name":"Adapter","price":0.2,"stock":1})");
}

std::int64_t stock(fake_txn& t, std::string_view id) {
  return t.get("products", id)->at("stock").as_int64();
}

shop::placed_order place(fake_txn& t, std::string_view text,
                         std::optional<std::string_view> key = std::nullopt) {
  auto r = shop::place_order(t, body(text), when, key);
  REQUIRE(r.has_value());
  return shop::unpack_placed_order(std::move(*r));
}

void check_order_rejects(std::string_view text, std::string_view field) {
  INFO(text);
  auto r = shop::validate_order(body(text));
  REQUIRE(r.has_error());
  CHECK(r.error().status == 400);
  CHECK(r.error().field == field);
}

}  // namespace

TEST_CASE("orders: timestamps are ISO 8601 UTC with milliseconds", "[unit]") {
  CHECK(shop::iso8601_utc(when) == "2024-05-01T12:34:56.789Z");
  CHECK(shop::iso8601_utc(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("orders: invalid order bodies are 400 naming the field", "[unit]") {
  check_order_rejects(R"({"items":[{"productId":1,"quantity":1}]})", "userId");
  check_order_rejects(R"({"userId":"","items":[{"productId":1,"quantity":1}]})", "userId");
  check_order_rejects(R"({"userId":7,"items":[{"productId":1,"quantity":1}]})", "userId");
  check_order_rejects(R"({"userId":"a"})", "items");
  check_order_rejects(R"({"userId":"a","items":[]})", "items");
  check_order_rejects(R"({"userId":"a","items":{}})", "items");
  check_order_rejects(R"({"userId":"a","items":[5]})", "items[0]");
  check_order_rejects(R"({"userId":"a","items":[{"quantity":1}]})", "items[0].productId");
  check_order_rejects(
      R"({"userId":"a","items":[{"productId":1,"quantity":1},{"productId":0,"quantity":1}]})",
      "items[1].productId");
  check_order_rejects(R"({"userId":"a","items":[{"productId":"1","quantity":1}]})",
                      "items[0].productId");
  check_order_rejects(R"({"userId":"a","items":[{"productId":1}]})", "items[0].quantity");
  check_order_rejects(R"({"userId":"a","items":[{"productId":1,"quantity":0}]})",
                      "items[0].quantity");
  check_order_rejects(R"({"userId":"a","items":[{"productId":1,"quantity":1.5}]})",
                      "items[0].quantity");
  check_order_rejects(R"({"userId":"a","items":[{"productId":1,"quantity":1000001}]})",
                      "items[0].quantity");
  std::string many = R"({"userId":"a","items":[)";
  for (int i = 0; i < 101; ++i)
    many += std::string(i ? "," : "") + R"({"productId":1,"quantity":1})";
  check_order_rejects(many + "]}", "items");
  auto r = shop::validate_order(body("[]"));
  REQUIRE(r.has_error());
  CHECK(r.error().status == 400);
}

TEST_CASE("orders: repeated products are merged in first-seen order", "[unit]") {
  auto r = shop::validate_order(body(
      R"({"userId":"alice","items":[{"productId":2,"quantity":1},{"productId":1,"quantity":2},{"productId":2,"quantity":3}]})"));
  REQUIRE(r.has_value());
  CHECK(r->user_id == "alice");
  REQUIRE(r->items.size() == 2);
  CHECK(r->items[0].product_id == 2);
  CHECK(r->items[0].quantity == 4);
  CHECK(r->items[1].product_id == 1);
  CHECK(r->items[1].quantity == 2);
}

TEST_CASE("orders: placing decrements stock and answers the order", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto placed = place(
      t,
      R"({"userId":"alice","items":[{"productId":1,"quantity":2},{"productId":2,"quantity":3}]})");
  CHECK_FALSE(placed.replayed);
  CHECK(placed.order ==
        body(R"({"id":1,"userId":"alice","items":[)"
             R"({"productId":1,"name":"Smartwatch","price":199.99,"quantity":2,"subtotal":399.98},)"
             R"({"productId":2,"name":"Cable","price":0.1,"quantity":3,"subtotal":0.3}],)"
             R"("total":400.28,"status":"confirmed","createdAt":"2024-05-01T12:34:56.789Z"})"));
  CHECK(stock(t, "1") == 10);
  CHECK(stock(t, "2") == 2);
  CHECK(stock(t, "3") == 1);
  auto stored = t.get("orders", "1");
  REQUIRE(stored);
  CHECK(stored->at("total_cents") == json::value(40028));
}

TEST_CASE("orders: totals are exact to the cent", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto placed = place(
      t, R"({"userId":"bob","items":[{"productId":2,"quantity":1},{"productId":3,"quantity":1}]})");
  CHECK(placed.order.at("total").as_double() == 0.3);
}

TEST_CASE("orders: insufficient stock on a later item changes nothing", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto before = t.snapshot();
  auto writes = t.writes();
  auto r = shop::place_order(
      t,
      body(
          R"({"userId":"alice","items":[{"productId":1,"quantity":2},{"productId":3,"quantity":2}]})"),
      when, std::nullopt);
  REQUIRE(r.has_error());
  CHECK(r.error().status == 409);
  CHECK(r.error().code == "insufficient_stock");
  CHECK(r.error().message.find("Adapter") != std::string::npos);
  CHECK(r.error().message.find("1 available") != std::string::npos);
  CHECK(r.error().message.find("2 requested") != std::string::npos);
  CHECK(t.writes() == writes);
  CHECK(t.snapshot() == before);
  CHECK(place(t, R"({"userId":"alice","items":[{"productId":3,"quantity":1}]})").order.at("id") ==
        json::value(1));
}

TEST_CASE("orders: merged quantities are checked against stock together", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto r = shop::place_order(
      t,
      body(R"({"userId":"a","items":[{"productId":2,"quantity":3},{"productId":2,"quantity":3}]})"),
      when, std::nullopt);
  REQUIRE(r.has_error());
  CHECK(r.error().code == "insufficient_stock");
  CHECK(stock(t, "2") == 5);
  auto ok = place(
      t, R"({"userId":"a","items":[{"productId":2,"quantity":2},{"productId":2,"quantity":3}]})");
  REQUIRE(ok.order.at("items").as_array().size() == 1);
  CHECK(ok.order.at("items").at(0).at("quantity") == json::value(5));
  CHECK(stock(t, "2") == 0);
}

TEST_CASE("orders: an unknown product is 404 and changes nothing", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto before = t.snapshot();
  auto r = shop::place_order(
      t,
      body(R"({"userId":"a","items":[{"productId":1,"quantity":1},{"productId":9,"quantity":1}]})"),
      when, std::nullopt);
  REQUIRE(r.has_error());
  CHECK(r.error().status == 404);
  CHECK(r.error().code == "not_found");
  CHECK(r.error().message.find("9") != std::string::npos);
  CHECK(t.snapshot() == before);
}

TEST_CASE("orders: a total above the maximum is a 400", "[unit]") {
  fake_txn t;
  add(t, R"({"name":"Yacht","price":1000000000,"stock":1000000000})");
  auto r =
      shop::place_order(t, body(R"({"userId":"a","items":[{"productId":1,"quantity":1000000}]})"),
                        when, std::nullopt);
  REQUIRE(r.has_error());
  CHECK(r.error().status == 400);
  CHECK(r.error().field == "items");
  CHECK(stock(t, "1") == 1000000000);
}

TEST_CASE("orders: a retry with the same key and body replays the first order", "[unit]") {
  fake_txn t;
  stock_shop(t);
  const char* text = R"({"userId":"alice","items":[{"productId":1,"quantity":2}]})";
  auto first = place(t, text, "key-1");
  CHECK_FALSE(first.replayed);
  auto again = place(t, R"({"items":[{"quantity":2,"productId":1}],"userId":"alice"})", "key-1");
  CHECK(again.replayed);
  CHECK(again.order == first.order);
  CHECK(stock(t, "1") == 10);
  CHECK(t.list("orders").size() == 1);
  auto other_user = place(t, R"({"userId":"bob","items":[{"productId":1,"quantity":2}]})", "key-1");
  CHECK_FALSE(other_user.replayed);
  CHECK(other_user.order.at("id") == json::value(2));
  CHECK(stock(t, "1") == 8);
}

TEST_CASE("orders: a key reused with another body is 409 and changes nothing", "[unit]") {
  fake_txn t;
  stock_shop(t);
  place(t, R"({"userId":"alice","items":[{"productId":1,"quantity":2}]})", "key-1");
  auto before = t.snapshot();
  auto r = shop::place_order(
      t, body(R"({"userId":"alice","items":[{"productId":1,"quantity":3}]})"), when, "key-1");
  REQUIRE(r.has_error());
  CHECK(r.error().status == 409);
  CHECK(r.error().code == "idempotency_key_reused");
  CHECK(t.snapshot() == before);
}

TEST_CASE("orders: a failed order does not record its key", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto r = shop::place_order(t, body(R"({"userId":"a","items":[{"productId":3,"quantity":2}]})"),
                             when, "k");
  REQUIRE(r.has_error());
  CHECK(t.list("idempotency").empty());
  CHECK_FALSE(place(t, R"({"userId":"a","items":[{"productId":3,"quantity":1}]})", "k").replayed);
}

TEST_CASE("orders: invalid idempotency keys are 400", "[unit]") {
  fake_txn t;
  stock_shop(t);
  const std::string long_key(201, 'k');
  for (std::string_view key : {std::string_view(), std::string_view(long_key),
                               std::string_view("a\nb"), std::string_view("caf\xc3\xa9")}) {
    auto r = shop::place_order(t, body(R"({"userId":"a","items":[{"productId":1,"quantity":1}]})"),
                               when, key);
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    CHECK(r.error().field == "Idempotency-Key");
  }
  CHECK(t.list("orders").empty());
  CHECK_FALSE(
      place(t, R"({"userId":"a","items":[{"productId":1,"quantity":1}]})", std::string(200, 'k'))
          .replayed);
}

TEST_CASE("orders: a user's orders are listed by id, [] for none", "[unit]") {
  fake_txn t;
  stock_shop(t);
  for (int i = 0; i < 11; ++i) {
    place(t, i % 2 == 0 ? R"({"userId":"alice","items":[{"productId":1,"quantity":1}]})"
                        : R"({"userId":"bob","items":[{"productId":2,"quantity":1}]})");
  }
  const auto all_orders = [&t](std::string_view) { return t.list("orders"); };
  auto alice = shop::orders_for_user(all_orders, "alice");
  REQUIRE(alice.has_value());
  std::vector<std::int64_t> ids;
  for (const auto& o : alice->as_array()) {
    CHECK(o.at("userId") == json::value("alice"));
    ids.push_back(o.at("id").as_int64());
  }
  CHECK(ids == std::vector<std::int64_t>{1, 3, 5, 7, 9, 11});
  auto nobody = shop::orders_for_user(all_orders, "carol");
  REQUIRE(nobody.has_value());
  CHECK(nobody->as_array().empty());
  auto bad = shop::orders_for_user(all_orders, "");
  REQUIRE(bad.has_error());
  CHECK(bad.error().status == 400);
  CHECK(bad.error().field == "userId");
}

TEST_CASE("orders: placed through a transaction, a failure rolls back", "[unit]") {
  fake_txn t;
  stock_shop(t);
  auto before = t.snapshot();
  auto r = t.transact([](node::store::txn& tx) {
    return shop::place_order(tx, body(R"({"userId":"a","items":[{"productId":1,"quantity":13}]})"),
                             when, std::nullopt);
  });
  CHECK(r.has_error());
  CHECK(t.snapshot() == before);
}
