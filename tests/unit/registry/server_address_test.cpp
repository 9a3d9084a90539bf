#include "node/registry/server_address.hpp"

#include <catch2/catch.hpp>

#include <string>

using node::registry::parse_server_address;

namespace {

// The canonical form of an accepted address; fails the test when it is rejected.
std::string canonical(const std::string& text) {
  const auto r = parse_server_address(text);
  INFO("input: " << text);
  REQUIRE(r.has_value());
  return r->str();
}

void require_rejected(const std::string& text) {
  const auto r = parse_server_address(text);
  INFO("input: " << text);
  REQUIRE(r.has_error());
  CHECK(r.error().status == 400);
  CHECK(r.error().code == "bad_request");
  CHECK(r.error().field == "server");
  CHECK_FALSE(r.error().message.empty());
}

}  // namespace

TEST_CASE("registry: accepts host names and IPv4 with a port", "[unit]") {
  CHECK(canonical("localhost:3001") == "localhost:3001");
  CHECK(canonical("127.0.0.1:80") == "127.0.0.1:80");
  CHECK(canonical("shop-1.internal.example.com:8080") == "shop-1.internal.example.com:8080");
  CHECK(canonical("project_shop_1:3000") == "project_shop_1:3000");
  CHECK(canonical("h:1") == "h:1");
  CHECK(canonical("h:65535") == "h:65535");
  CHECK(canonical("255.255.255.255:9") == "255.255.255.255:9");
  CHECK(canonical("0.0.0.0:5") == "0.0.0.0:5");
  CHECK(canonical("3com.example:1") == "3com.example:1");
}

TEST_CASE("registry: canonical form lower-cases the host", "[unit]") {
  const auto r = parse_server_address("LocalHost:3001");
  REQUIRE(r.has_value());
  CHECK(r->host == "localhost");
  CHECK(r->port == 3001);
  CHECK(r->str() == "localhost:3001");
  CHECK(*r == *parse_server_address("localhost:3001"));
}

TEST_CASE("registry: the canonical form parses back to the same address", "[unit]") {
  for (const char* text : {"A.B.c:12", "10.0.0.1:65535", "x_y-z:7"}) {
    const auto first = parse_server_address(text);
    REQUIRE(first.has_value());
    const auto again = parse_server_address(first->str());
    REQUIRE(again.has_value());
    CHECK(*again == *first);
  }
}

TEST_CASE("registry: rejects a missing host or port", "[unit]") {
  require_rejected("");
  require_rejected(":80");
  require_rejected("host:");
  require_rejected("host");
  require_rejected(":");
}

TEST_CASE("registry: rejects ports out of 1..65535 or not decimal", "[unit]") {
  require_rejected("host:0");
  require_rejected("host:65536");
  require_rejected("host:99999");
  require_rejected("host:123456");
  require_rejected("host:abc");
  require_rejected("host:80a");
  require_rejected("host:+80");
  require_rejected("host:-1");
  require_rejected("host:080");
  require_rejected("host: 80");
  require_rejected("host:8 0");
}

TEST_CASE("registry: rejects IPv6 literals", "[unit]") {
  require_rejected("[::1]:80");
  require_rejected("::1:80");
  require_rejected("[fe80::1%eth0]:8080");
}

TEST_CASE("registry: rejects malformed hosts", "[unit]") {
  require_rejected(" localhost:80");
  require_rejected("localhost:80 ");
  require_rejected("http://localhost:80");
  require_rejected("localhost:80/");
  require_rejected("user@host:80");
  require_rejected("-host:80");
  require_rejected("host-:80");
  require_rejected("a..b:80");
  require_rejected(".host:80");
  require_rejected("host.:80");
  require_rejected("h\xc3\xa9te:80");
  require_rejected(std::string(64, 'a') + ":80");
  require_rejected(std::string(300, 'a') + ":80");
}

TEST_CASE("registry: a host of digits and dots must be IPv4", "[unit]") {
  require_rejected("256.0.0.1:80");
  require_rejected("1.2.3:80");
  require_rejected("1.2.3.4.5:80");
  require_rejected("01.2.3.4:80");
  require_rejected("1.2.3.:80");
  require_rejected("1234:80");
}

TEST_CASE("registry: length limits of names", "[unit]") {
  CHECK(parse_server_address(std::string(63, 'a') + ":80").has_value());
  // Four 63-character labels and three dots: 255 characters, over the 253 limit.
  const std::string label(63, 'b');
  require_rejected(label + "." + label + "." + label + "." + label + ":80");
  // 253 characters exactly: 3 * 63 + 3 dots + 61.
  const std::string longest = label + "." + label + "." + label + "." + std::string(61, 'c');
  REQUIRE(longest.size() == 253);
  CHECK(canonical(longest + ":65535") == longest + ":65535");
}
