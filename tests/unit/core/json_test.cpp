// Tests for to_json's number and string formatting, the append_json_* helpers, and
// parse_json's errors.
#include "node/core/json.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

namespace json = boost::json;
using node::core::append_json_integer;
using node::core::parse_json;
using node::core::to_json;

TEST_CASE("json: doubles print as the shortest decimal that reads back", "[unit]") {
  CHECK(to_json(json::value(199.99)) == "199.99");
  CHECK(to_json(json::value(0.1 + 0.2)) == "0.30000000000000004");
  CHECK(to_json(json::value(0.97)) == "0.97");
  CHECK(to_json(json::value(0.01)) == "0.01");
  CHECK(to_json(json::value(-2.5)) == "-2.5");
}

TEST_CASE("json: whole doubles keep a decimal point", "[unit]") {
  CHECK(to_json(json::value(1005.0)) == "1005.0");
  CHECK(to_json(json::value(0.0)) == "0.0");
  CHECK(to_json(json::value(100000.0)) == "100000.0");
  CHECK(to_json(json::value(-3.0)) == "-3.0");
  CHECK(to_json(json::value(-0.0)) == "-0.0");
  CHECK(to_json(json::value(9007199254740991.0)) == "9007199254740991.0");
  CHECK(to_json(json::value(9007199254740992.0)) == "9007199254740992.0");
  CHECK(to_json(json::value(1e20)) == "100000000000000000000.0");
}

TEST_CASE("json: extreme magnitudes use exponent form and read back", "[unit]") {
  const double big = 1e300;
  const double small = 1.5e-12;
  CHECK(to_json(json::value(big)) == "1e+300");
  CHECK(to_json(json::value(small)) == "1.5e-12");
  CHECK(json::parse(to_json(json::value(big))).as_double() == big);
  CHECK(json::parse(to_json(json::value(small))).as_double() == small);
}

TEST_CASE("json: non-finite doubles print as null", "[unit]") {
  CHECK(to_json(json::value(std::numeric_limits<double>::infinity())) == "null");
  CHECK(to_json(json::value(std::numeric_limits<double>::quiet_NaN())) == "null");
}

TEST_CASE("json: append_json_number and append_json_string write what to_json writes", "[unit]") {
  for (double d : {0.0, 1.0, 0.1 + 0.2, -2.5, 1e300, 1.5e-12, 1.0 / 3,
                   std::numeric_limits<double>::infinity()}) {
    std::string out = "[";
    node::core::append_json_number(out, d);
    CHECK(out == "[" + to_json(json::value(d)));
  }
  std::string s;
  node::core::append_json_string(s, "a\"b\n");
  CHECK(s == to_json(json::string("a\"b\n")));
}

TEST_CASE("json: integers, literals and nesting print compactly", "[unit]") {
  json::value v = {{"a", 1}, {"b", json::array{true, false, nullptr}}, {"c", json::object{}}};
  v.as_object()["big"] = std::numeric_limits<std::uint64_t>::max();
  v.as_object()["neg"] = std::int64_t{-42};
  CHECK(to_json(v) ==
        R"({"a":1,"b":[true,false,null],"c":{},"big":18446744073709551615,"neg":-42})");
  CHECK(to_json(json::array{}) == "[]");
}

TEST_CASE("json: strings are escaped as boost::json escapes them", "[unit]") {
  const json::string s = "q\"b\\s/\n\t\x01 é";
  const json::value v = {{s, s}};
  CHECK(to_json(v) == json::serialize(v));
  CHECK(json::parse(to_json(v)) == v);
}

TEST_CASE("json: to_json output round-trips through parse_json", "[unit]") {
  const json::value v = {{"price", 19.99}, {"items", json::array{1, 2.5, "x"}}, {"ok", true}};
  const auto parsed = parse_json(to_json(v));
  REQUIRE(parsed.has_value());
  CHECK(*parsed == v);
}

TEST_CASE("json: malformed input is a bad_request naming the offset", "[unit]") {
  const auto r = parse_json(R"({"a":1,})");
  REQUIRE(r.has_error());
  CHECK(r.error().status == 400);
  CHECK(r.error().code == "bad_request");
  CHECK(r.error().message.rfind("malformed JSON: ", 0) == 0);
  CHECK(r.error().message.find("offset 7") != std::string::npos);

  CHECK(parse_json("").has_error());
  CHECK(parse_json("[1,2").has_error());
  CHECK(parse_json("1 2").has_error());
}

TEST_CASE("json: every byte below 0x80 in a string reads back unchanged", "[unit]") {
  std::string all;
  for (int c = 0; c < 0x80; ++c)
    all += static_cast<char>(c);
  all += "caf\xc3\xa9 \xe2\x82\xac";
  const json::value v = json::object{{all, all}};
  const auto text = node::core::to_json(v);
  CHECK(json::parse(text) == v);
  CHECK(text == json::serialize(v));
}

TEST_CASE("json: append_json_integer writes what to_json writes", "[unit]") {
  for (const std::int64_t i : {std::int64_t{0}, std::int64_t{-7}, std::int64_t{1} << 62}) {
    std::string out;
    append_json_integer(out, i);
    CHECK(out == to_json(json::value(i)));
  }
}

TEST_CASE("json: finite_number reads integers and finite doubles only", "[unit]") {
  using node::core::finite_number;
  CHECK(finite_number(json::value(3)) == 3.0);
  CHECK(finite_number(json::value(std::uint64_t{7})) == 7.0);
  CHECK(finite_number(json::value(-2.5)) == -2.5);
  CHECK_FALSE(finite_number(json::value(std::numeric_limits<double>::infinity())).has_value());
  CHECK_FALSE(finite_number(json::value("1")).has_value());
  CHECK_FALSE(finite_number(json::value(true)).has_value());
  CHECK_FALSE(finite_number(json::value(nullptr)).has_value());
}
