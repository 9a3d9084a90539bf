#include "node/shop/fields.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace json = boost::json;
using node::shop::parse_id;
using node::shop::parse_integer;
using node::shop::parse_user_id;

TEST_CASE("fields: path ids are positive decimal numbers", "[unit]") {
  CHECK(parse_id("1", "product").value() == 1);
  CHECK(parse_id("42", "product").value() == 42);
  CHECK(parse_id("9999999999999999999", "product").value() == 9999999999999999999ULL);
}

TEST_CASE("fields: invalid path ids are 404 not found", "[unit]") {
  for (const char* text : {"", "0", "01", "-1", "+1", "1x", "abc", "1.0", " 1", "1 ",
                           "99999999999999999999", "18446744073709551616"}) {
    INFO(text);
    auto r = parse_id(text, "product");
    REQUIRE(r.has_error());
    CHECK(r.error().status == 404);
    CHECK(r.error().code == "not_found");
    CHECK(r.error().message.find("product") != std::string::npos);
  }
}

TEST_CASE("fields: user ids are short non-empty strings without control characters", "[unit]") {
  CHECK(parse_user_id("alice").value() == "alice");
  CHECK(parse_user_id(std::string(100, 'a')).value() == std::string(100, 'a'));
  for (const std::string& bad :
       {std::string(), std::string(101, 'a'), std::string("a\nb"), std::string("a\0b", 3)}) {
    auto r = parse_user_id(bad);
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    CHECK(r.error().field == "userId");
  }
  for (const char* bad : {"null", "1", "[\"alice\"]", "\"\""}) {
    INFO(bad);
    auto r = node::shop::parse_user_id_field(json::parse(bad));
    REQUIRE(r.has_error());
    CHECK(r.error().field == "userId");
  }
  CHECK(node::shop::parse_user_id_field(json::value("bob")).value() == "bob");
}

TEST_CASE("fields: integers are whole numbers in range", "[unit]") {
  CHECK(parse_integer(json::parse("3"), "stock", 0, 10).value() == 3);
  CHECK(parse_integer(json::parse("0"), "stock", 0, 10).value() == 0);
  CHECK(parse_integer(json::parse("1e1"), "stock", 0, 10).value() == 10);
  CHECK(parse_integer(json::parse("2.0"), "stock", 0, 10).value() == 2);
  for (const char* bad : {"2.5", "-1", "11", "\"3\"", "1e20", "-1e20", "18446744073709551615",
                          "null", "true", "{}"}) {
    INFO(bad);
    auto r = parse_integer(json::parse(bad), "stock", 0, 10);
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    CHECK(r.error().field == "stock");
  }
}

TEST_CASE("fields: stored ids show as numbers", "[unit]") {
  CHECK(node::shop::id_value("12") == json::value(12));
  CHECK(node::shop::id_value("abc") == json::value("abc"));
  CHECK(node::shop::id_key(7) == "7");
}
