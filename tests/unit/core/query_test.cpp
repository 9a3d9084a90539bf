// Tests for the in-place query splitter, its validation and its decoding.
#include "node/core/query.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

using node::core::decode_query_part;
using node::core::for_each_query_param;
using node::core::is_plain_path;
using node::core::is_valid_query;

namespace {

using param = std::tuple<std::string, std::string, bool>;

std::vector<param> split(std::string_view q) {
  std::vector<param> out;
  for_each_query_param(q, [&](std::string_view k, std::string_view v, bool has) {
    out.emplace_back(std::string(k), std::string(v), has);
    return true;
  });
  return out;
}

}  // namespace

TEST_CASE("query: parameters are split in order, still encoded", "[unit]") {
  CHECK(split("sl=5.1&sw=3.5") == std::vector<param>{{"sl", "5.1", true}, {"sw", "3.5", true}});
  CHECK(split("a=1&&b=&c") ==
        std::vector<param>{{"a", "1", true}, {"b", "", true}, {"c", "", false}});
  CHECK(split("k=a%20b=c") == std::vector<param>{{"k", "a%20b=c", true}});
  CHECK(split("").empty());
  CHECK(split("&&").empty());
}

TEST_CASE("query: the splitter stops when asked", "[unit]") {
  int seen = 0;
  for_each_query_param("a=1&b=2&c=3",
                       [&](std::string_view, std::string_view, bool) { return ++seen < 2; });
  CHECK(seen == 2);
}

TEST_CASE("query: validation follows RFC 3986's query characters", "[unit]") {
  CHECK(is_valid_query(""));
  CHECK(is_valid_query("sl=5.1&sw=3.5&pl=1.4&pw=0.2"));
  CHECK(is_valid_query("a=%41%2b&b=x+y&c=/?:@!$'()*,;~-._"));
  CHECK_FALSE(is_valid_query("a=%4"));
  CHECK_FALSE(is_valid_query("a=%"));
  CHECK_FALSE(is_valid_query("a=%zz"));
  CHECK_FALSE(is_valid_query("a=b c"));
  CHECK_FALSE(is_valid_query("a=#x"));
  CHECK_FALSE(is_valid_query("a=\"x\""));
  CHECK_FALSE(is_valid_query(std::string_view("a=\0", 3)));
}

TEST_CASE("query: a plain path is absolute and needs no decoding", "[unit]") {
  CHECK(is_plain_path("/"));
  CHECK(is_plain_path("/products/12"));
  CHECK(is_plain_path("/servers/localhost:3001"));
  CHECK(is_plain_path("/v2/models/m-1.x_y~z/infer"));
  CHECK_FALSE(is_plain_path(""));
  CHECK_FALSE(is_plain_path("products"));
  CHECK_FALSE(is_plain_path("/a%20b"));
  CHECK_FALSE(is_plain_path("/a?b"));
  CHECK_FALSE(is_plain_path("/a b"));
  CHECK_FALSE(is_plain_path("*"));
}

TEST_CASE("query: parts are decoded only when they hold an escape", "[unit]") {
  std::string buf;
  const std::string_view plain = "5.1";
  CHECK(decode_query_part(plain, buf).data() == plain.data());
  CHECK(decode_query_part("a%20b", buf) == "a b");
  CHECK(decode_query_part("a+b", buf) == "a b");
  CHECK(decode_query_part("%2B1%26", buf) == "+1&");
}
