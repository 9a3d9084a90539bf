// Integration tests of what every role shares: the command line, the server's limits and
// errors, CORS, /, /health, /metrics and an orderly stop. Run against real `node` processes.
#include "support/http.hpp"
#include "support/process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace node::test;
namespace json = node::core::json;
using tcp = boost::asio::ip::tcp;

namespace {

std::vector<std::string> shop_args() {
  return {"--role=shop", "--store=memory:", "--seed-demo=false"};
}

// Sends raw bytes on a new connection and returns what comes back until the peer closes
// or `deadline` passes.
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  boost::asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(s, boost::asio::buffer(bytes));
  std::string out;
  char buf[4096];
  auto until = std::chrono::steady_clock::now() + deadline;
  s.non_blocking(true);
  while (std::chrono::steady_clock::now() < until) {
    boost::system::error_code ec;
    std::size_t n = s.read_some(boost::asio::buffer(buf), ec);
    if (ec == boost::asio::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace

TEST_CASE("cli: --help and --version exit 0", "[integration]") {
  auto help = run_node({"--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("--role") != std::string::npos);
  CHECK(help.out.find("--max-body") != std::string::npos);
  auto version = run_node({"--version"});
  CHECK(version.status == 0);
  CHECK(version.out.find("node ") == 0);
}

TEST_CASE("cli: --version names the heap allocator the binary really runs on", "[integration]") {
  auto version = run_node({"--version"});
  REQUIRE(version.status == 0);
  if (version.out.find("(allocator: jemalloc)") != std::string::npos) {
    // jemalloc prints its statistics at exit when asked: only if it is the malloc in use.
    ::setenv("MALLOC_CONF", "stats_print:true", 1);
    auto stats = run_node({"--version"});
    ::unsetenv("MALLOC_CONF");
    CHECK(stats.status == 0);
    CHECK(stats.err.find("Begin jemalloc statistics") != std::string::npos);
  } else {
    CHECK(version.out.find("(allocator: system)") != std::string::npos);
  }
}

TEST_CASE("cli: bad options exit 2 with one line on stderr", "[integration]") {
  struct bad {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<bad> cases = {
      {{"--role=bogus", "--port=1"}, "unknown role 'bogus'"},
      {{"--role=shop", "--port=70000"}, "invalid --port '70000'"},
      {{"--role=shop", "--port=abc"}, "invalid --port 'abc'"},
      {{"--role=shop"}, "missing --port"},
      {{"--port=1"}, "missing --role"},
      {{"--role=shop", "--port=1", "--frobnicate"}, "frobnicate"},
      {{"--config=/nonexistent/node.conf"}, "cannot read config file"},
      {{"--role=shop", "--port=1", "--log-level=loud"}, "invalid --log-level"},
      {{"--role=shop", "--port=1", "--read-timeout-ms=0"}, "--read-timeout-ms must be positive"},
  };
  for (const auto& c : cases) {
    INFO(c.says);
    auto r = run_node(c.args);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("cli: every role of the design card is available in this build", "[integration]") {
  auto help = run_node({"--help"});
  REQUIRE(help.status == 0);
  CHECK(help.out.find("Roles available in this build: model, consensus, registry, shop, "
                      "mirror-shop, async-replica.") != std::string::npos);
}

TEST_CASE("cli: a config file gives the same options, the command line wins", "[integration]") {
  temp_dir dir;
  std::ofstream(dir.file("shop.conf"))
      << "role = shop\nport = 1\nstore = memory:\nseed-demo = false\n";
  node_process n({"--config", dir.file("shop.conf"), "--port=0"});
  auto hello = get(n.port(), "/");
  REQUIRE(hello.status == 200);
  CHECK(hello.json().at("role") == "shop");
}

TEST_CASE("server: / and /health describe the node", "[integration]") {
  node_process n(shop_args());
  auto hello = get(n.port(), "/");
  REQUIRE(hello.status == 200);
  CHECK(hello.header("Content-Type") == "application/json; charset=utf-8");
  CHECK(hello.json().at("message") == "Hello, World!");
  CHECK(hello.json().at("role") == "shop");
  CHECK(hello.json().at("node").as_string() == "127.0.0.1:" + std::to_string(n.port()));
  auto health = get(n.port(), "/health");
  REQUIRE(health.status == 200);
  CHECK(health.json().at("status") == "ok");
  CHECK(health.json().at("role") == "shop");
}

TEST_CASE("server: unknown routes are 404 and wrong methods 405 with Allow", "[integration]") {
  node_process n(shop_args());
  auto missing = get(n.port(), "/no/such/route");
  CHECK(missing.status == 404);
  CHECK(missing.json().at("error").at("code") == "not_found");
  auto wrong = call("PATCH", n.port(), "/products/1");
  CHECK(wrong.status == 405);
  CHECK(wrong.json().at("error").at("code") == "method_not_allowed");
  CHECK(wrong.header("Allow") == "GET, PUT, DELETE, OPTIONS");
}

TEST_CASE("server: CORS headers and OPTIONS preflight", "[integration]") {
  node_process n(shop_args());
  auto hello = get(n.port(), "/");
  CHECK(hello.header("Access-Control-Allow-Origin") == "*");
  auto pre = call("OPTIONS", n.port(), "/products", {},
                  {{"Origin", "http://example.test"},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "content-type"}});
  CHECK(pre.status == 204);
  CHECK(pre.header("Access-Control-Allow-Origin") == "*");
  CHECK(pre.header("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  CHECK(pre.header("Access-Control-Allow-Headers") == "content-type");

  node_process strict({"--role=shop", "--store=memory:", "--cors-origin=http://ui.test"});
  CHECK(get(strict.port(), "/").header("Access-Control-Allow-Origin") == "http://ui.test");
}

TEST_CASE("server: bodies that are too large, not JSON or malformed are refused", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--max-body=1024"});
  auto big = call("POST", n.port(), "/products", std::string(4096, 'x'),
                  {{"Content-Type", "application/json"}});
  CHECK(big.status == 413);
  CHECK(big.json().at("error").at("code") == "payload_too_large");
  auto text = call("POST", n.port(), "/products", "name=x", {{"Content-Type", "text/plain"}});
  CHECK(text.status == 415);
  CHECK(text.json().at("error").at("code") == "unsupported_media_type");
  auto broken =
      call("POST", n.port(), "/products", "{\"name\":", {{"Content-Type", "application/json"}});
  CHECK(broken.status == 400);
  CHECK(broken.json().at("error").at("code") == "bad_request");
  auto huge_header = call("GET", n.port(), "/", {}, {{"X-Big", std::string(20000, 'h')}});
  CHECK(huge_header.status == 431);
  auto garbage = raw_exchange(n.port(), "NOT HTTP AT ALL\r\n\r\n");
  CHECK(garbage.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(get(n.port(), "/health").status == 200);
}

TEST_CASE("server: keep-alive serves many requests on one connection", "[integration]") {
  node_process n(shop_args());
  std::string two =
      "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\n\r\n";
  auto out = raw_exchange(n.port(), two);
  CHECK(out.find("Hello, World!") != std::string::npos);
  CHECK(out.find("\"status\":\"ok\"") != std::string::npos);
  auto first = out.find("HTTP/1.1 200");
  CHECK(out.find("HTTP/1.1 200", first + 1) != std::string::npos);
}

TEST_CASE("server: HEAD, HTTP/1.0 keep-alive and chunked bodies", "[integration]") {
  node_process n(shop_args());
  auto get_root = raw_exchange(n.port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto head = raw_exchange(n.port(), "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto length_of = [](const std::string& answer) {
    auto at = answer.find("Content-Length: ");
    return at == std::string::npos ? std::string("none")
                                   : answer.substr(at + 16, answer.find("\r\n", at) - at - 16);
  };
  REQUIRE(get_root.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(length_of(head) == length_of(get_root));
  CHECK(head.substr(head.find("\r\n\r\n") + 4).empty());

  // An HTTP/1.0 client asking for keep-alive is told so and can send a second request.
  auto ten = raw_exchange(n.port(),
                          "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                          "GET /health HTTP/1.0\r\n\r\n");
  auto first = ten.find("HTTP/1.1 200");
  REQUIRE(first == 0);
  CHECK(ten.find("Connection: keep-alive") != std::string::npos);
  CHECK(ten.find("HTTP/1.1 200", first + 1) != std::string::npos);

  auto chunked = raw_exchange(n.port(),
                              "POST /products HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                              "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "e\r\n{\"name\":\"pen\",\r\n"
                              "c\r\n\"price\":2.5}\r\n0\r\n\r\n");
  CHECK(chunked.rfind("HTTP/1.1 201", 0) == 0);
  CHECK(chunked.find("\"name\":\"pen\"") != std::string::npos);
}

TEST_CASE("server: idle connections close; a request sent in pieces within the timeout is answered",
          "[integration]") {
  node_process n(
      {"--role=shop", "--store=memory:", "--idle-timeout-ms=300", "--read-timeout-ms=1000"});
  boost::asio::io_context ioc;
  tcp::socket idle(ioc);
  idle.connect({boost::asio::ip::make_address("127.0.0.1"), n.port()});
  auto started = std::chrono::steady_clock::now();
  char buf[256];
  boost::system::error_code ec;
  idle.read_some(boost::asio::buffer(buf), ec);  // blocks until the server closes it
  CHECK(ec == boost::asio::error::eof);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));

  // Each piece arrives before the read timeout of the whole request runs out.
  tcp::socket slow(ioc);
  slow.connect({boost::asio::ip::make_address("127.0.0.1"), n.port()});
  for (std::string piece : {"GET /hea", "lth HTTP/1.1\r\n", "Host: x\r\n", "\r\n"}) {
    boost::asio::write(slow, boost::asio::buffer(piece));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string answer;
  for (int i = 0; i < 10 && answer.find("\"status\"") == std::string::npos; ++i) {
    std::size_t got = slow.read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    answer.append(buf, got);
  }
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("server: a slow client holding half a request does not block others", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--read-timeout-ms=1500"});
  boost::asio::io_context ioc;
  tcp::socket slow(ioc);
  slow.connect({boost::asio::ip::make_address("127.0.0.1"), n.port()});
  boost::asio::write(
      slow, boost::asio::buffer(std::string(
                "POST /products HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na")));
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i)
    REQUIRE(get(n.port(), "/health").status == 200);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
  // The slow request is answered 408 and closed once the read timeout passes.
  std::string answer;
  char buf[1024];
  boost::system::error_code ec;
  for (int i = 0; i < 10 && !ec; ++i) {
    std::size_t got = slow.read_some(boost::asio::buffer(buf), ec);
    answer.append(buf, got);
  }
  CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
}

TEST_CASE("server: connections over the limit get 503", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--max-connections=2"});
  boost::asio::io_context ioc;
  tcp::socket a(ioc), b(ioc);
  a.connect({boost::asio::ip::make_address("127.0.0.1"), n.port()});
  b.connect({boost::asio::ip::make_address("127.0.0.1"), n.port()});
  // The server must have taken both before the third comes: poll its gauge.
  REQUIRE(eventually([&] {
    auto m =
        raw_exchange(n.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return m.rfind("HTTP/1.1 503", 0) == 0;
  }));
  a.close();
  b.close();
  REQUIRE(eventually([&] { return get(n.port(), "/health").status == 200; }));
}

TEST_CASE("server: /metrics counts requests by route and status", "[integration]") {
  node_process n(shop_args());
  REQUIRE(get(n.port(), "/products/999").status == 404);
  REQUIRE(get(n.port(), "/health").status == 200);
  auto m = get(n.port(), "/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(m.body.find(
            "http_requests_total{route=\"/products/{id}\",method=\"GET\",status=\"404\"} 1") !=
        std::string::npos);
  CHECK(m.body.find("http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 1") !=
        std::string::npos);
  CHECK(m.body.find("http_open_connections") != std::string::npos);
  CHECK(m.body.find("store_commits_total") != std::string::npos);
  CHECK(m.body.find("store_fsync_seconds_bucket") != std::string::npos);
}

TEST_CASE("server: odd paths and queries never answer 500", "[integration]") {
  node_process n(shop_args());
  std::vector<std::string> targets = {"/products/%00",
                                      "/products/-1",
                                      "/products/99999999999999999999",
                                      "/cart/%ff%fe",
                                      "/orders/" + std::string(300, 'u'),
                                      "/products?inStock=maybe",
                                      "/products?category=%zz"};
  for (const auto& t : targets) {
    INFO(t);
    auto r = get(n.port(), t);
    CHECK(r.status >= 200);
    CHECK(r.status < 500);
  }
  CHECK(get(n.port(), "/health").status == 200);
}

TEST_CASE("server: SIGTERM stops cleanly with exit 0", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--seed-demo=false", "--drain-ms=0"});
  REQUIRE(get(n.port(), "/health").status == 200);
  CHECK(n.stop(SIGTERM) == 0);
  CHECK(n.log().find("stopped") != std::string::npos);
}

TEST_CASE("server: a port in use is a clear error", "[integration]") {
  node_process first(shop_args());
  auto r = run_node({"--role=shop", "--store=memory:", "--port=" + std::to_string(first.port())});
  CHECK(r.status == 1);
  CHECK(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) !=
        std::string::npos);
}

TEST_CASE("config: several nodes run in one process and share a named store", "[integration]") {
  temp_dir dir;
  std::ofstream(dir.file("two.conf")) << "# two shops over one store\n"
                                         "store = memory:\nseed-demo = false\n\n"
                                         "[shop-a]\nrole = shop\nport = 0\n\n"
                                         "[shop-b]\nrole = shop\nport = 0\n";
  node_process n({"--config", dir.file("two.conf")}, 2);
  auto a = n.port(0), b = n.port(1);
  REQUIRE(a != b);
  auto created =
      post(a, "/products", json::object{{"name", "Kettle"}, {"price", 30}, {"stock", 2}});
  REQUIRE(created.status == 201);
  auto seen = get(b, "/products/" + std::to_string(created.json().at("id").as_int64()));
  CHECK(seen.status == 200);
  CHECK(seen.json().at("name") == "Kettle");
}

TEST_CASE("config: bad multi-node files fail naming the node and exit 2", "[integration]") {
  temp_dir dir;
  struct bad {
    std::string text;
    std::string says;
  };
  std::vector<bad> cases = {
      {"[a]\nrole = shop\nport = 4001\n[b]\nrole = shop\nport = 4001\n",
       "node 'b': port 4001 is already used by node 'a'"},
      {"[a]\nrole = shop\nport = 4001\n[x]\nrole = dns\nport = 4002\n",
       "node 'x': unknown role 'dns'"},
      {"[a]\nrole = shop\n", "node 'a': missing --port"},
      {"[a]\nrole = shop\nport = 1\nfrobnicate = 3\n", "node 'a': "},
      {"[a]\nrole shop\n", ":2: expected 'name = value'"},
      {"[a]\nrole = shop\nport = 1\n[a]\nrole = shop\nport = 2\n", "node 'a' is described twice"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::ofstream(dir.file("bad.conf"), std::ios::trunc) << c.text;
    auto r = run_node({"--config", dir.file("bad.conf")});
    CHECK(r.status == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
  }
  std::ofstream(dir.file("ok.conf"), std::ios::trunc) << "[a]\nrole = shop\nport = 1\n";
  auto r = run_node({"--config", dir.file("ok.conf"), "--port=2"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--role and --port go in the config file") != std::string::npos);
}
