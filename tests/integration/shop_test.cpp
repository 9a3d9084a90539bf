// Integration tests of the shop role against real `node` processes: every route and its
// errors, durability across kill -9, two processes over one SQLite file, and concurrent
// orders that must never oversell.
#include "support/http.hpp"
#include "support/process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

using namespace node::test;
namespace json = node::core::json;

namespace {

json::object product(std::string name, double price, std::int64_t stock,
                     std::string category = "electronics") {
  return {{"name", std::move(name)},
          {"description", "test product"},
          {"price", price},
          {"category", std::move(category)},
          {"stock", stock}};
}

std::int64_t create(std::uint16_t port, const json::object& p) {
  auto r = post(port, "/products", p);
  REQUIRE(r.status == 201);
  return r.json().at("id").as_int64();
}

std::string field_of(const reply& r) {
  const auto body = r.json();
  const auto& err = body.at("error").as_object();
  return err.contains("field") ? std::string(err.at("field").as_string()) : std::string();
}

}  // namespace

TEST_CASE("shop: product create, read, list with filters, update, delete", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--seed-demo=false"});
  auto p = n.port();
  CHECK(get(p, "/products").json() == json::array{});

  auto created = post(p, "/products", product("Smartwatch", 199.99, 12));
  REQUIRE(created.status == 201);
  auto w = created.json().as_object();
  CHECK(w.at("id") == 1);
  CHECK(w.at("price").as_double() == 199.99);
  CHECK(created.body.find("\"price\":199.99") != std::string::npos);
  CHECK(w.at("inStock") == true);
  create(p, product("Cable", 9.5, 0, "accessories"));
  create(p, product("Phone", 499, 3));

  CHECK(get(p, "/products").json().as_array().size() == 3);
  auto electronics = get(p, "/products?category=electronics").json().as_array();
  REQUIRE(electronics.size() == 2);
  CHECK(electronics[0].at("id") == 1);
  CHECK(electronics[1].at("id") == 3);
  auto in_stock = get(p, "/products?inStock=true").json().as_array();
  CHECK(in_stock.size() == 2);
  auto out_of_stock = get(p, "/products?inStock=false&category=accessories").json().as_array();
  REQUIRE(out_of_stock.size() == 1);
  CHECK(out_of_stock[0].at("name") == "Cable");
  auto bad_filter = get(p, "/products?inStock=yes");
  CHECK(bad_filter.status == 400);
  CHECK(field_of(bad_filter) == "inStock");

  CHECK(get(p, "/products/1").json().at("name") == "Smartwatch");
  CHECK(get(p, "/products/42").status == 404);
  CHECK(get(p, "/products/abc").status == 404);

  auto updated = put(p, "/products/1", json::object{{"stock", 0}});
  REQUIRE(updated.status == 200);
  CHECK(updated.json().at("stock") == 0);
  CHECK(updated.json().at("inStock") == false);
  CHECK(updated.json().at("name") == "Smartwatch");
  CHECK(updated.json().at("price").as_double() == 199.99);
  CHECK(put(p, "/products/42", json::object{{"stock", 1}}).status == 404);
  auto bad_put = put(p, "/products/1", json::object{{"price", -1}});
  CHECK(bad_put.status == 400);
  CHECK(field_of(bad_put) == "price");
  CHECK(get(p, "/products/1").json().at("stock") == 0);

  auto deleted = del(p, "/products/1");
  REQUIRE(deleted.status == 200);
  CHECK(deleted.json() == json::parse(R"({"message":"product 1 deleted","id":1})"));
  CHECK(get(p, "/products/1").status == 404);
  CHECK(del(p, "/products/1").status == 404);
  // Ids are never reused.
  CHECK(create(p, product("Tablet", 299, 1)) == 4);
}

TEST_CASE("shop: invalid products are refused naming the field and change nothing",
          "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--seed-demo=false"});
  auto p = n.port();
  struct bad {
    json::value body;
    std::string field;
  };
  std::vector<bad> cases = {
      {json::object{{"price", 1}}, "name"},
      {json::object{{"name", ""}, {"price", 1}}, "name"},
      {json::object{{"name", "x"}}, "price"},
      {json::object{{"name", "x"}, {"price", -5}}, "price"},
      {json::object{{"name", "x"}, {"price", "12"}}, "price"},
      {json::object{{"name", "x"}, {"price", 1.999}}, "price"},
      {json::object{{"name", "x"}, {"price", 1}, {"stock", 2.5}}, "stock"},
      {json::object{{"name", "x"}, {"price", 1}, {"stock", -1}}, "stock"},
      {json::object{{"name", "x"}, {"price", 1}, {"stock", "3"}}, "stock"},
  };
  for (const auto& c : cases) {
    INFO(json::serialize(c.body));
    auto r = post(p, "/products", c.body);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").at("code") == "bad_request");
    CHECK(field_of(r) == c.field);
  }
  CHECK(post(p, "/products", json::array{1, 2}).status == 400);
  CHECK(get(p, "/products").json() == json::array{});
}

TEST_CASE("shop: orders decrement stock atomically and total to the cent", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--seed-demo=false"});
  auto p = n.port();
  auto a = create(p, product("Pen", 0.1, 10));
  auto b = create(p, product("Ink", 0.2, 1));
  json::object order{{"userId", "alice"},
                     {"items", json::array{json::object{{"productId", a}, {"quantity", 1}},
                                           json::object{{"productId", b}, {"quantity", 1}}}}};
  auto placed = post(p, "/orders", order);
  REQUIRE(placed.status == 201);
  auto o = placed.json().as_object();
  CHECK(placed.body.find("\"total\":0.3,") != std::string::npos);
  CHECK(o.at("status") == "confirmed");
  CHECK(o.at("userId") == "alice");
  CHECK(o.at("items").as_array().size() == 2);
  CHECK(o.at("items").at(0).at("subtotal").as_double() == 0.1);
  CHECK(o.at("createdAt").as_string().size() >= 20);
  CHECK(get(p, "/products/" + std::to_string(a)).json().at("stock") == 9);
  CHECK(get(p, "/products/" + std::to_string(b)).json().at("stock") == 0);

  // The second item is short: nothing changes.
  auto short_order = post(p, "/orders", order);
  CHECK(short_order.status == 409);
  CHECK(short_order.json().at("error").at("code") == "insufficient_stock");
  CHECK(get(p, "/products/" + std::to_string(a)).json().at("stock") == 9);

  auto unknown =
      post(p, "/orders",
           json::object{{"userId", "alice"},
                        {"items", json::array{json::object{{"productId", 999}, {"quantity", 1}}}}});
  CHECK(unknown.status == 404);
  auto zero =
      post(p, "/orders",
           json::object{{"userId", "alice"},
                        {"items", json::array{json::object{{"productId", a}, {"quantity", 0}}}}});
  CHECK(zero.status == 400);
  CHECK(post(p, "/orders", json::object{{"items", json::array{}}}).status == 400);

  auto orders = get(p, "/orders/alice").json().as_array();
  REQUIRE(orders.size() == 1);
  CHECK(orders[0].at("id") == o.at("id"));
  CHECK(get(p, "/orders/bob").json() == json::array{});
}

TEST_CASE("shop: an Idempotency-Key replays the first order", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--seed-demo=false"});
  auto p = n.port();
  auto a = create(p, product("Pen", 1.25, 10));
  std::string body = json::serialize(
      json::object{{"userId", "carol"},
                   {"items", json::array{json::object{{"productId", a}, {"quantity", 2}}}}});
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"},
                                                              {"Idempotency-Key", "order-1"}};
  auto first = call("POST", p, "/orders", body, headers);
  auto second = call("POST", p, "/orders", body, headers);
  REQUIRE(first.status == 201);
  REQUIRE(second.status == 201);
  CHECK(second.json() == first.json());
  CHECK(second.header("Idempotency-Replayed") == "true");
  CHECK(get(p, "/products/" + std::to_string(a)).json().at("stock") == 8);
  CHECK(get(p, "/orders/carol").json().as_array().size() == 1);
  std::string other = json::serialize(
      json::object{{"userId", "carol"},
                   {"items", json::array{json::object{{"productId", a}, {"quantity", 3}}}}});
  auto reused = call("POST", p, "/orders", other, headers);
  CHECK(reused.status == 409);
  CHECK(reused.json().at("error").at("code") == "idempotency_key_reused");
}

TEST_CASE("shop: carts add, sum, list and remove", "[integration]") {
  node_process n({"--role=shop", "--store=memory:", "--seed-demo=false"});
  auto p = n.port();
  auto a = create(p, product("Pen", 0.1, 10));
  auto empty = get(p, "/cart/dave");
  REQUIRE(empty.status == 200);
  CHECK(empty.json().at("userId") == "dave");
  CHECK(empty.json().at("items").as_array().empty());
  CHECK(empty.json().at("total").to_number<double>() == 0);

  REQUIRE(post(p, "/cart/dave", json::object{{"productId", a}, {"quantity", 2}}).status == 200);
  auto cart = post(p, "/cart/dave", json::object{{"productId", a}, {"quantity", 1}});
  REQUIRE(cart.status == 200);
  CHECK(cart.json().at("items").at(0).at("quantity") == 3);
  CHECK(cart.body.find("\"total\":0.3") != std::string::npos);
  CHECK(get(p, "/cart/dave").json() == cart.json());

  CHECK(post(p, "/cart/dave", json::object{{"productId", 999}, {"quantity", 1}}).status == 404);
  CHECK(post(p, "/cart/dave", json::object{{"productId", a}, {"quantity", -1}}).status == 400);
  CHECK(del(p, "/cart/dave/item/999").status == 404);
  auto removed = del(p, "/cart/dave/item/" + std::to_string(a));
  REQUIRE(removed.status == 200);
  CHECK(removed.json().at("items").as_array().empty());
  CHECK(del(p, "/cart/dave/item/" + std::to_string(a)).status == 404);
}

TEST_CASE("shop: a new store gets demo products, the web page is served", "[integration]") {
  node_process n({"--role=shop", "--store=memory:"});
  REQUIRE(eventually([&] { return get(n.port(), "/products").json().as_array().size() >= 5; }));
  auto page = get(n.port(), "/ui/");
  CHECK(page.status == 200);
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(page.body.find("<title>node shop</title>") != std::string::npos);
  CHECK(get(n.port(), "/ui").status == 301);
}

TEST_CASE("shop: every acknowledged write survives kill -9", "[integration]") {
  for (std::string backend : {"sqlite", "json"}) {
    DYNAMIC_SECTION(backend) {
      temp_dir dir;
      std::string spec = backend + ":" + dir.file("shop." + backend);
      std::vector<std::int64_t> ids;
      std::uint16_t port = 0;
      {
        node_process n({"--role=shop", "--store=" + spec, "--seed-demo=false"});
        port = n.port();
        // Writers race with the kill: everything answered 201 must be there afterwards.
        std::atomic<bool> stop{false};
        std::mutex m;
        std::vector<std::thread> writers;
        for (int w = 0; w < 4; ++w) {
          writers.emplace_back([&, w] {
            for (int i = 0; i < 200 && !stop; ++i) {
              auto r = post(port, "/products",
                            product("p" + std::to_string(w) + "-" + std::to_string(i), 1, 1));
              if (r.status == 201) {
                std::lock_guard lock(m);
                ids.push_back(r.json().at("id").as_int64());
              }
            }
          });
        }
        REQUIRE(eventually([&] {
          std::lock_guard lock(m);
          return ids.size() >= 40;
        }));
        n.kill9();
        stop = true;
        for (auto& t : writers)
          t.join();
      }
      node_process again({"--role=shop", "--store=" + spec, "--seed-demo=false"});
      auto all = get(again.port(), "/products").json().as_array();
      std::set<std::int64_t> present;
      for (const auto& pr : all)
        present.insert(pr.at("id").as_int64());
      for (auto id : ids) {
        INFO(id);
        CHECK(present.count(id) == 1);
      }
      // New ids continue after the last one ever issued.
      auto next = create(again.port(), product("after", 1, 1));
      CHECK(next > *std::max_element(ids.begin(), ids.end()));
    }
  }
}

TEST_CASE("shop: two processes over one SQLite file share carts and orders", "[integration]") {
  temp_dir dir;
  std::string store = "--store=sqlite:" + dir.file("shared.db");
  node_process a({"--role=shop", store, "--seed-demo=false"});
  node_process b({"--role=shop", store, "--seed-demo=false"});
  auto id = create(a.port(), product("Lamp", 20, 5));
  REQUIRE(post(a.port(), "/cart/erin", json::object{{"productId", id}, {"quantity", 2}}).status ==
          200);
  auto seen = get(b.port(), "/cart/erin");
  REQUIRE(seen.status == 200);
  CHECK(seen.json().at("items").at(0).at("quantity") == 2);
  REQUIRE(post(b.port(), "/cart/erin", json::object{{"productId", id}, {"quantity", 1}}).status ==
          200);
  CHECK(get(a.port(), "/cart/erin").json().at("items").at(0).at("quantity") == 3);
  auto order =
      post(b.port(), "/orders",
           json::object{{"userId", "erin"},
                        {"items", json::array{json::object{{"productId", id}, {"quantity", 3}}}}});
  REQUIRE(order.status == 201);
  CHECK(get(a.port(), "/orders/erin").json().as_array().size() == 1);
  CHECK(get(a.port(), "/products/" + std::to_string(id)).json().at("stock") == 2);
}

TEST_CASE("shop: concurrent orders on the last units never oversell", "[integration]") {
  temp_dir dir;
  std::string store = "--store=sqlite:" + dir.file("race.db");
  node_process a({"--role=shop", store, "--seed-demo=false"});
  node_process b({"--role=shop", store, "--seed-demo=false"});
  const int stock = 7;
  auto id = create(a.port(), product("Last ones", 5, stock));
  std::atomic<int> confirmed{0}, refused{0}, other{0};
  std::vector<std::thread> buyers;
  for (int i = 0; i < 24; ++i) {
    buyers.emplace_back([&, i] {
      auto port = i % 2 == 0 ? a.port() : b.port();
      auto r = post(
          port, "/orders",
          json::object{{"userId", "u" + std::to_string(i)},
                       {"items", json::array{json::object{{"productId", id}, {"quantity", 1}}}}});
      if (r.status == 201)
        ++confirmed;
      else if (r.status == 409)
        ++refused;
      else
        ++other;
    });
  }
  for (auto& t : buyers)
    t.join();
  CHECK(confirmed == stock);
  CHECK(refused == 24 - stock);
  CHECK(other == 0);
  CHECK(get(a.port(), "/products/" + std::to_string(id)).json().at("stock") == 0);
}

namespace {

// Posts `body` to /orders on one kept-alive connection until `until` (or `max` orders),
// as a load generator does; counts 201s, other answers and the slowest exchange. Runs on
// threads of its own: it asserts nothing (Catch2's assertions are not thread-safe).
struct order_tally {
  int confirmed = 0;
  int other = 0;
  std::chrono::steady_clock::duration slowest{};
};

order_tally order_loop(std::uint16_t port, const std::string& body,
                       std::chrono::steady_clock::time_point until, int max) {
  namespace net = boost::asio;
  order_tally t;
  net::io_context ioc;
  net::ip::tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  s.set_option(net::ip::tcp::no_delay(true));
  const std::string request =
      "POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string in;
  for (int n = 0; n < max && std::chrono::steady_clock::now() < until; ++n) {
    const auto started = std::chrono::steady_clock::now();
    net::write(s, net::buffer(request));
    // One answer: the head, then Content-Length bytes of body.
    boost::system::error_code ec;
    std::size_t head_end = 0;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      char buf[4096];
      const std::size_t got = s.read_some(net::buffer(buf), ec);
      if (ec) return t;
      in.append(buf, got);
    }
    const auto at = in.find("Content-Length: ");
    if (at > head_end) {
      ++t.other;
      return t;
    }
    const std::size_t length = std::stoul(in.substr(at + 16));
    while (in.size() < head_end + 4 + length) {
      char buf[4096];
      const std::size_t got = s.read_some(net::buffer(buf), ec);
      if (ec) return t;
      in.append(buf, got);
    }
    const bool created = in.compare(0, 12, "HTTP/1.1 201") == 0;
    in.erase(0, head_end + 4 + length);
    t.slowest = std::max(t.slowest, std::chrono::steady_clock::now() - started);
    if (created) {
      ++t.confirmed;
    } else {
      ++t.other;
    }
  }
  return t;
}

}  // namespace

TEST_CASE("shop: two processes ordering on one SQLite file without a pause both get their turns",
          "[integration]") {
  temp_dir dir;
  std::string store = "--store=sqlite:" + dir.file("busy.db");
  node_process a({"--role=shop", store, "--seed-demo=false"});
  node_process b({"--role=shop", store, "--seed-demo=false"});
  auto id = create(a.port(), product("Plenty", 1, 1'000'000'000));
  // 12 kept-alive buyers per process for 3 s keep both writers committing group after group:
  // each finds the file locked by the other almost all the time. With SQLite's own busy
  // handler (sleeps growing to 100 ms between tries) one process could wait seconds for its
  // turn (a few hundred orders against 16,000 in an 8 s run), and orders failed with 503
  // after the busy timeout.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  const std::string body = node::core::to_json(
      json::object{{"userId", "busy"},
                   {"items", json::array{json::object{{"productId", id}, {"quantity", 1}}}}});
  std::vector<order_tally> tallies(24);
  std::vector<std::thread> buyers;
  for (int i = 0; i < 24; ++i) {
    buyers.emplace_back([&, i] {
      tallies[i] = order_loop(i % 2 == 0 ? a.port() : b.port(), body, until, 100'000);
    });
  }
  for (auto& t : buyers)
    t.join();
  order_tally ta;
  order_tally tb;
  for (int i = 0; i < 24; ++i) {
    order_tally& t = i % 2 == 0 ? ta : tb;
    t.confirmed += tallies[i].confirmed;
    t.other += tallies[i].other;
    t.slowest = std::max(t.slowest, tallies[i].slowest);
  }
  const auto ms = [](std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  INFO("a: " << ta.confirmed << " orders, slowest " << ms(ta.slowest) << " ms; b: " << tb.confirmed
             << " orders, slowest " << ms(tb.slowest) << " ms");
  CHECK(ta.other == 0);
  CHECK(tb.other == 0);
  CHECK(ta.slowest < std::chrono::seconds(2));
  CHECK(tb.slowest < std::chrono::seconds(2));
  CHECK(std::min(ta.confirmed, tb.confirmed) * 5 >= std::max(ta.confirmed, tb.confirmed));
  CHECK(get(b.port(), "/products/" + std::to_string(id)).json().at("stock") ==
        1'000'000'000 - ta.confirmed - tb.confirmed);
}
