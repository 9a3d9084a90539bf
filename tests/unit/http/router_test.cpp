// Unit tests of the route table.
#include "node/http/router.hpp"

#include <catch2/catch.hpp>

using namespace node;
using boost::beast::http::verb;

namespace {

http::handler tag(std::string name) {
  return [name](http::context&) -> asio::awaitable<http::response> {
    co_return http::json_reply(core::json::value(name));
  };
}

struct fixture {
  http::request req;
  http::context ctx{req, "/"};
};

}  // namespace

TEST_CASE("router: matches literal and parameter segments", "[unit]") {
  http::router r;
  r.add(verb::get, "/products", tag("list"));
  r.add(verb::get, "/products/{id}", tag("one"));
  r.add(verb::delete_, "/cart/{userId}/item/{productId}", tag("remove"));
  fixture f;

  auto m = r.find(verb::get, "/products/42", f.ctx);
  REQUIRE(m.target != nullptr);
  CHECK(m.route == "/products/{id}");
  CHECK(f.ctx.param("id") == "42");

  m = r.find(verb::delete_, "/cart/alice%20b/item/7", f.ctx);
  REQUIRE(m.target != nullptr);
  CHECK(f.ctx.param("userId") == "alice b");
  CHECK(f.ctx.param("productId") == "7");
  CHECK(f.ctx.param("missing").empty());
}

TEST_CASE("router: tells an unknown path from a method not allowed", "[unit]") {
  http::router r;
  r.add(verb::get, "/products/{id}", tag("get"));
  r.add(verb::put, "/products/{id}", tag("put"));
  fixture f;

  auto unknown = r.find(verb::get, "/nothing/here", f.ctx);
  CHECK(unknown.target == nullptr);
  CHECK_FALSE(unknown.path_known);
  CHECK(unknown.route == "unmatched");

  auto wrong = r.find(verb::post, "/products/1", f.ctx);
  CHECK(wrong.target == nullptr);
  CHECK(wrong.path_known);
  CHECK(wrong.allow == "GET, PUT, OPTIONS");

  // A parameter matches one non-empty segment only.
  CHECK_FALSE(r.find(verb::get, "/products/1/extra", f.ctx).path_known);
  CHECK_FALSE(r.find(verb::get, "/products", f.ctx).path_known);
}

TEST_CASE("router: a literal route wins over a parameter route", "[unit]") {
  http::router r;
  r.add(verb::get, "/models/{id}", tag("param"));
  r.add(verb::get, "/models/ready", tag("literal"));
  fixture f;
  auto m = r.find(verb::get, "/models/ready", f.ctx);
  REQUIRE(m.target != nullptr);
  CHECK(m.route == "/models/ready");
}

TEST_CASE("router: trailing and doubled slashes do not matter", "[unit]") {
  http::router r;
  r.add(verb::get, "/health", tag("h"));
  fixture f;
  CHECK(r.find(verb::get, "/health/", f.ctx).target != nullptr);
  CHECK(r.find(verb::get, "//health", f.ctx).target != nullptr);
}

TEST_CASE("router: registering a route twice is a bug", "[unit]") {
  http::router r;
  r.add(verb::get, "/x", tag("a"));
  CHECK_THROWS(r.add(verb::get, "/x", tag("b")));
  CHECK_NOTHROW(r.add(verb::post, "/x", tag("c")));
}

TEST_CASE("router: the JSON body needs a JSON content type", "[unit]") {
  http::request req;
  req.body() = R"({"a":1})";
  {
    http::context c(req, "/");
    REQUIRE(c.json_body());  // no Content-Type: read as JSON
  }
  req.set(boost::beast::http::field::content_type, "application/json; charset=utf-8");
  {
    http::context c(req, "/");
    REQUIRE(c.json_body());
  }
  req.set(boost::beast::http::field::content_type, "text/plain");
  {
    http::context c(req, "/");
    auto r = c.json_body();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 415);
    CHECK(r.error().code == "unsupported_media_type");
  }
  req.set(boost::beast::http::field::content_type, "application/json");
  req.body() = "{oops";
  {
    http::context c(req, "/");
    auto r = c.json_body();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
  }
}

TEST_CASE("router: the admin token is checked only when set", "[unit]") {
  http::request req;
  http::context c(req, "/");
  CHECK(c.authorize(""));
  CHECK(c.authorize("secret").error().status == 401);
  req.set(boost::beast::http::field::authorization, "Bearer secret");
  http::context c2(req, "/");
  CHECK(c2.authorize("secret"));
  CHECK(c2.authorize("other").has_error());
}

TEST_CASE("router: query parameters are decoded and the first one wins", "[unit]") {
  http::request req;
  http::context c(req, "/", "a=1&na%6De=x%20y+z&name=2&flag");
  CHECK(c.query("name") == "x y z");
  CHECK(c.query("a") == "1");
  CHECK(c.query("flag") == "");
  CHECK_FALSE(c.query("b").has_value());
  CHECK(c.encoded_query() == "a=1&na%6De=x%20y+z&name=2&flag");
}

TEST_CASE("router: a route that answers without suspending matches like any other", "[unit]") {
  http::router r;
  r.add(verb::get, "/products/{id}", tag("async"));
  r.add_sync(verb::get, "/products/{id}/stock",
             [](http::context& c) { return http::json_reply(core::json::value(c.param("id"))); });
  r.add_sync(verb::get, "/health", [](http::context&) { return http::json_reply(nullptr); });
  fixture f;

  auto m = r.find(verb::get, "/products/7/stock", f.ctx);
  CHECK(m.matched());
  CHECK(m.target == nullptr);
  REQUIRE(m.sync_target != nullptr);
  CHECK(m.route == "/products/{id}/stock");
  CHECK((*m.sync_target)(f.ctx).body() == R"("7")");

  m = r.find(verb::get, "/health", f.ctx);
  CHECK(m.sync_target != nullptr);
  CHECK(m.target == nullptr);

  m = r.find(verb::get, "/products/7", f.ctx);
  CHECK(m.target != nullptr);
  CHECK(m.sync_target == nullptr);

  auto wrong = r.find(verb::post, "/health", f.ctx);
  CHECK_FALSE(wrong.matched());
  CHECK(wrong.allow == "GET, OPTIONS");

  // One route per method and pattern, whichever kind registered it first.
  CHECK_THROWS_AS(r.add(verb::get, "/health", tag("again")), std::logic_error);
  CHECK_THROWS_AS(
      r.add_sync(verb::get, "/products/{id}", [](http::context&) { return http::response{}; }),
      std::logic_error);
}
