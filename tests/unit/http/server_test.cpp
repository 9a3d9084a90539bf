// In-process tests of the server and client together: a throwing handler, connection
// reuse, timeouts and refused connections. Each runs on a fresh io_context with a deadline.
#include "node/http/client.hpp"
#include "node/http/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace node;
using boost::beast::http::verb;

namespace {

// Runs coroutine `co` on ioc until it finishes or the deadline passes.
template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> co,
      std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  auto fut = asio::co_spawn(ioc, std::move(co), asio::use_future);
  ioc.restart();
  auto until = std::chrono::steady_clock::now() + deadline;
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < until) {
    ioc.run_for(std::chrono::milliseconds(10));
  }
  REQUIRE(fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  return fut.get();
}

struct test_server {
  asio::io_context ioc{1};
  core::metrics metrics;
  http::router routes;
  std::unique_ptr<http::server> srv;
  http::client client{ioc.get_executor()};

  void start(http::server_options opts = {}) {
    srv = std::make_unique<http::server>(ioc.get_executor(), opts, routes, metrics);
    REQUIRE(srv->listen());
    srv->start();
  }
  core::result<http::client_response> send(verb v, std::string target,
                                           std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    http::client_request req;
    req.method = v;
    req.host = "127.0.0.1";
    req.port = srv->port();
    req.target = std::move(target);
    req.timeout = timeout;
    return run(ioc, client.send(req));
  }
};

asio::awaitable<http::response> throwing(http::context&) {
  throw std::runtime_error("boom");
  co_return http::response{};
}

asio::awaitable<http::response> ok(http::context&) {
  co_return http::json_reply(core::json::object{{"ok", true}});
}

}  // namespace

TEST_CASE("server: a handler that throws gives a JSON 500 and the server goes on", "[unit]") {
  test_server t;
  t.routes.add(verb::get, "/boom", [](http::context& c) { return throwing(c); });
  t.routes.add(verb::get, "/ok", [](http::context& c) { return ok(c); });
  t.start();
  auto r = t.send(verb::get, "/boom");
  REQUIRE(r.has_value());
  CHECK(r->status == 500);
  CHECK(r->body == R"({"error":{"code":"internal_error","message":"internal error; the node logged the cause"}})");
  auto again = t.send(verb::get, "/ok");
  REQUIRE(again.has_value());
  CHECK(again->status == 200);
}

TEST_CASE("client: reuses one kept-alive connection per destination", "[unit]") {
  test_server t;
  t.routes.add(verb::get, "/ok", [](http::context& c) { return ok(c); });
  t.start();
  for (int i = 0; i < 5; ++i) REQUIRE(t.send(verb::get, "/ok")->status == 200);
  CHECK(t.metrics.render().find("http_connections_total 1\n") != std::string::npos);
}

TEST_CASE("client: a peer that never answers times out", "[unit]") {
  asio::io_context ioc{1};
  tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket held(ioc);
  silent.async_accept(held, [](boost::system::error_code) {});
  http::client c(ioc.get_executor());
  http::client_request req;
  req.host = "127.0.0.1";
  req.port = silent.local_endpoint().port();
  req.timeout = std::chrono::milliseconds(200);
  auto started = std::chrono::steady_clock::now();
  auto r = run(ioc, c.send(req));
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(r.has_error());
  CHECK(r.error().code == "timeout");
  CHECK(took >= std::chrono::milliseconds(190));
  CHECK(took < std::chrono::milliseconds(1500));
}

TEST_CASE("client: a refused connection is unreachable", "[unit]") {
  asio::io_context ioc{1};
  std::uint16_t port = 0;
  {
    tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  http::client c(ioc.get_executor());
  http::client_request req;
  req.host = "127.0.0.1";
  req.port = port;
  auto r = run(ioc, c.send(req));
  REQUIRE(r.has_error());
  CHECK(r.error().code == "unreachable");
  CHECK(r.error().status == 503);
}

TEST_CASE("client: split_host_port reads addresses and URLs", "[unit]") {
  std::string host;
  std::uint16_t port = 0;
  CHECK(http::split_host_port("localhost:3001", host, port));
  CHECK(host == "localhost");
  CHECK(port == 3001);
  CHECK(http::split_host_port("http://127.0.0.1:5004/predict", host, port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 5004);
  CHECK_FALSE(http::split_host_port("localhost", host, port));
  CHECK_FALSE(http::split_host_port("localhost:0", host, port));
  CHECK_FALSE(http::split_host_port(":80", host, port));
  CHECK_FALSE(http::split_host_port("h:70000", host, port));
}
