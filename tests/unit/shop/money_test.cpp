#include "node/shop/money.hpp"

#include "node/core/json.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <limits>
#include <string>

namespace json = boost::json;
using node::shop::add_line;
using node::shop::cents_to_json;
using node::shop::parse_price;

namespace {

// The cents of a price written as JSON text, or -1 when it is rejected.
long long cents_of(const std::string& text) {
  auto r = parse_price(json::parse(text), "price");
  return r ? *r : -1;
}

void check_rejected(const json::value& v) {
  auto r = parse_price(v, "price");
  REQUIRE(r.has_error());
  CHECK(r.error().status == 400);
  CHECK(r.error().code == "bad_request");
  CHECK(r.error().field == "price");
}

}  // namespace

TEST_CASE("money: prices with up to two decimals parse to exact cents", "[unit]") {
  CHECK(cents_of("19.99") == 1999);
  CHECK(cents_of("0.29") == 29);
  CHECK(cents_of("0.1") == 10);
  CHECK(cents_of("199.99") == 19999);
  CHECK(cents_of("5") == 500);
  CHECK(cents_of("0") == 0);
  CHECK(cents_of("0.0") == 0);
  CHECK(cents_of("-0.0") == 0);
  CHECK(cents_of("1e2") == 10000);
  CHECK(cents_of("1000000000") == 100'000'000'000);
  CHECK(cents_of("999999999.99") == 99'999'999'999);
}

TEST_CASE("money: every two-decimal price below 1000 parses to its cents", "[unit]") {
  for (int cents = 0; cents < 100'000; ++cents) {
    char text[32];
    std::snprintf(text, sizeof text, "%d.%02d", cents / 100, cents % 100);
    INFO(text);
    REQUIRE(cents_of(text) == cents);
  }
}

TEST_CASE("money: a double within rounding noise of a cent is that cent", "[unit]") {
  CHECK(cents_of("0.30000000000000004") == 30);
  CHECK(parse_price(json::value(0.1 + 0.2), "price").value() == 30);
}

TEST_CASE("money: more than two decimals is rejected naming the field", "[unit]") {
  check_rejected(json::parse("1.005"));
  check_rejected(json::parse("19.999"));
  check_rejected(json::parse("0.001"));
  check_rejected(json::parse("0.29000001"));
  check_rejected(json::parse("999999999.999"));
  auto r = parse_price(json::parse("1.005"), "items[0].price");
  REQUIRE(r.has_error());
  CHECK(r.error().field == "items[0].price");
}

TEST_CASE("money: negative, huge, non-finite and non-numeric prices are rejected", "[unit]") {
  check_rejected(json::parse("-1"));
  check_rejected(json::parse("-0.01"));
  check_rejected(json::parse("1000000000.01"));
  check_rejected(json::parse("1000000001"));
  check_rejected(json::parse("1e20"));
  check_rejected(json::parse("18446744073709551615"));
  check_rejected(json::value(std::numeric_limits<double>::infinity()));
  check_rejected(json::value(std::numeric_limits<double>::quiet_NaN()));
  check_rejected(json::parse("\"3\""));
  check_rejected(json::parse("null"));
  check_rejected(json::parse("true"));
  check_rejected(json::parse("[1]"));
}

TEST_CASE("money: cents show as the double of their decimal", "[unit]") {
  CHECK(cents_to_json(19999).as_double() == 199.99);
  CHECK(cents_to_json(30).as_double() == 0.3);
  CHECK(cents_to_json(30).as_double() != 0.1 + 0.2);
  CHECK(cents_to_json(0).as_double() == 0.0);
  CHECK(cents_to_json(node::shop::max_total_cents).as_double() == 9999999999999.99);
}

TEST_CASE("money: totals add in exact cents", "[unit]") {
  auto total = add_line(0, 10, 1);
  REQUIRE(total.has_value());
  total = add_line(*total, 20, 1);
  REQUIRE(total.has_value());
  CHECK(*total == 30);
  CHECK(cents_to_json(*total).as_double() == 0.3);
  CHECK(add_line(0, 10, 3).value() == 30);
}

TEST_CASE("money: totals past the maximum or overflowing are refused", "[unit]") {
  using node::shop::max_total_cents;
  CHECK(add_line(max_total_cents - 1, 1, 1).value() == max_total_cents);
  CHECK_FALSE(add_line(max_total_cents, 1, 1));
  CHECK_FALSE(add_line(0, std::numeric_limits<std::int64_t>::max(), 2));
  CHECK_FALSE(add_line(std::numeric_limits<std::int64_t>::max(), 1, 1));
  CHECK_FALSE(add_line(0, -1, 1));
}

TEST_CASE("money: amounts print as their exact decimal", "[unit]") {
  using node::core::to_json;
  CHECK(to_json(cents_to_json(19999)) == "199.99");
  CHECK(to_json(cents_to_json(30)) == "0.3");
  CHECK(to_json(cents_to_json(29)) == "0.29");
  CHECK(to_json(cents_to_json(*add_line(10, 10, 2))) == "0.3");
  CHECK(to_json(cents_to_json(node::shop::max_total_cents)) == "9999999999999.99");
  for (std::int64_t cents = 0; cents < 100'000; ++cents) {
    char text[32];
    std::snprintf(text, sizeof text, "%lld.%02lld", static_cast<long long>(cents / 100),
                  static_cast<long long>(cents % 100));
    std::string printed = to_json(cents_to_json(cents));
    std::string expected = text;
    while (expected.back() == '0' && expected[expected.size() - 2] != '.')
      expected.pop_back();
    INFO(cents);
    REQUIRE(printed == expected);
  }
}
