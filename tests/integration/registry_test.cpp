// Integration tests of the registry role against real `node` processes: round-robin over
// healthy shops, failure detection within its bound, recovery, a SIGTERM'd shop drained
// with no failed request, users keeping their cart across a dead shop, /servers with and
// without the admin token, registrations across restarts, the shipped workshop config and
// the shop page's registry setting.
#include "support/http.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace node::test;
namespace json = node::core::json;
using namespace std::chrono_literals;

namespace {

// Fast checks: a dead shop is no longer handed out within 100 x 2 + 100 = 300 ms.
constexpr auto detection_bound = 300ms;
const std::vector<std::string> fast_checks = {"--check-interval-ms=100", "--check-timeout-ms=100",
                                              "--fail-threshold=2", "--rise-threshold=2"};

std::string addr(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// A shop over `store`, on `port` (0: any).
std::unique_ptr<node_process> start_shop(const std::string& store, std::uint16_t port = 0,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--role=shop", "--store=" + store, "--seed-demo=false",
                                   "--port=" + std::to_string(port)};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<node_process>(args);
}

std::unique_ptr<node_process> start_registry(std::vector<std::string> servers,
                                             std::vector<std::string> extra = {}) {
  std::string list;
  for (const auto& s : servers)
    list += (list.empty() ? "" : ",") + s;
  std::vector<std::string> args = {"--role=registry", "--store=memory:", "--drain-ms=0"};
  if (!list.empty()) args.push_back("--servers=" + list);
  args.insert(args.end(), fast_checks.begin(), fast_checks.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<node_process>(args);
}

// The server GET /getServer names, "" when it answers anything but 200.
std::string get_server(std::uint16_t registry) {
  auto r = get(registry, "/getServer");
  if (r.status != 200) return {};
  return std::string(r.json().at("server").as_string());
}

// The entry of GET /servers for `server` (null when not listed).
json::value server_entry(std::uint16_t registry, const std::string& server) {
  auto list = get(registry, "/servers").json();
  if (!list.is_array()) return nullptr;
  for (const auto& s : list.as_array()) {
    if (s.at("server") == server.c_str()) return s;
  }
  return nullptr;
}

bool healthy(std::uint16_t registry, const std::string& server) {
  auto e = server_entry(registry, server);
  return e.is_object() && e.at("healthy") == true;
}

std::uint16_t port_of(const std::string& server) {
  return static_cast<std::uint16_t>(std::stoi(server.substr(server.rfind(':') + 1)));
}

std::int64_t create_product(std::uint16_t port) {
  auto r = post(port, "/products",
                json::object{{"name", "Lamp"}, {"price", 20}, {"stock", 50}, {"category", "home"}});
  REQUIRE(r.status == 201);
  return r.json().at("id").as_int64();
}

// A user of the registry: asks it for a shop, then calls that shop; when the shop cannot be
// reached, asks again (a bounded number of times).
reply via_registry(std::uint16_t registry, const std::string& method, const std::string& target,
                   const json::value& body = nullptr, std::string* used = nullptr) {
  reply last;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto server = get_server(registry);
    if (server.empty()) continue;
    last = call(method, port_of(server), target, body.is_null() ? "" : json::serialize(body),
                {{"Content-Type", "application/json"}}, 2s);
    if (last.status != 0) {
      if (used != nullptr) *used = server;
      return last;
    }
  }
  return last;
}

const std::vector<std::pair<std::string, std::string>> json_type = {
    {"Content-Type", "application/json"}};

}  // namespace

TEST_CASE("registry: getServer alternates over healthy servers and /servers shows health",
          "[integration]") {
  auto a = start_shop("memory:");
  auto b = start_shop("memory:");
  auto reg = start_registry({addr(a->port()), addr(b->port())});
  auto r = reg->port();

  auto first = get(r, "/getServer");
  REQUIRE(first.status == 200);
  CHECK(first.json().at("code") == 200);
  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i)
    seen.push_back(get_server(r));
  for (std::size_t i = 0; i < seen.size(); ++i) {
    INFO(i);
    CHECK((seen[i] == addr(a->port()) || seen[i] == addr(b->port())));
    if (i > 0) CHECK(seen[i] != seen[i - 1]);
  }

  REQUIRE(eventually([&] {
    auto e = server_entry(r, addr(a->port()));
    return e.is_object() && e.at("consecutive_successes").to_number<int>() >= 2;
  }));
  auto e = server_entry(r, addr(a->port()));
  CHECK(e.at("healthy") == true);
  CHECK(e.at("consecutive_failures") == 0);
  CHECK(e.at("last_status") == 200);
  CHECK(e.at("last_check_ms_ago").is_int64());
  CHECK(e.at("last_error").is_null());
  CHECK(e.at("source") == "flag");

  auto one = get(r, "/servers/" + addr(a->port()));
  CHECK(one.status == 200);
  CHECK(one.json().at("server") == addr(a->port()).c_str());
  CHECK(get(r, "/servers/127.0.0.1:1").status == 404);
  CHECK(get(r, "/servers/nonsense").status == 400);

  auto health = get(r, "/health").json();
  CHECK(health.at("status") == "ok");
  CHECK(health.at("servers") == 2);
  CHECK(health.at("healthy_servers") == 2);
}

TEST_CASE("registry: a killed server is not handed out after the detection bound and comes back",
          "[integration]") {
  temp_dir dir;
  std::string store = "sqlite:" + dir.file("shop.db");
  auto a = start_shop(store);
  auto b = start_shop(store);
  const auto a_port = a->port();
  const auto dead = addr(a_port);
  auto reg = start_registry({dead, addr(b->port())});
  auto r = reg->port();
  REQUIRE(eventually([&] { return server_entry(r, dead).at("checks").to_number<int>() >= 1; }));

  a->kill9();
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return !healthy(r, dead); }, 5s));
  const auto detected = std::chrono::steady_clock::now() - killed;
  // The bound plus room for a loaded machine.
  CHECK(detected < detection_bound + 1000ms);
  for (int i = 0; i < 20; ++i)
    CHECK(get_server(r) == addr(b->port()));
  auto e = server_entry(r, dead);
  CHECK(e.at("consecutive_failures").to_number<int>() >= 2);
  CHECK(e.at("last_status").is_null());
  CHECK(e.at("last_error").as_string().find("connect") != json::string::npos);
  CHECK(reg->log().find("registry: " + dead + " is down") != std::string::npos);

  auto again = start_shop(store, a_port);
  REQUIRE(eventually([&] { return healthy(r, dead); }, 5s));
  std::set<std::string> handed;
  for (int i = 0; i < 4; ++i)
    handed.insert(get_server(r));
  CHECK(handed == std::set<std::string>{dead, addr(b->port())});
  CHECK(reg->log().find("registry: " + dead + " is back up") != std::string::npos);
}

TEST_CASE("registry: with no healthy server getServer answers 503 with the contract's body",
          "[integration]") {
  auto a = start_shop("memory:");
  auto b = start_shop("memory:");
  auto reg = start_registry({addr(a->port()), addr(b->port())});
  auto r = reg->port();
  a->kill9();
  b->kill9();
  REQUIRE(eventually([&] { return get(r, "/getServer").status == 503; }, 5s));
  auto none = get(r, "/getServer");
  CHECK(none.body == R"({"code":503,"error":"no healthy server"})");
  CHECK(none.header("Content-Type") == "application/json; charset=utf-8");
  CHECK(get(r, "/health").json().at("healthy_servers") == 0);

  auto empty = start_registry({});
  CHECK(get(empty->port(), "/getServer").status == 503);
  CHECK(get(empty->port(), "/servers").json() == json::array{});
}

TEST_CASE("registry: a user keeps their cart when their shop dies", "[integration]") {
  temp_dir dir;
  std::string store = "sqlite:" + dir.file("shop.db");
  std::map<std::string, std::unique_ptr<node_process>> shops;
  for (int i = 0; i < 2; ++i) {
    auto s = start_shop(store);
    auto key = addr(s->port());
    shops[key] = std::move(s);
  }
  std::vector<std::string> servers;
  for (const auto& [k, v] : shops)
    servers.push_back(k);
  auto reg = start_registry(servers);
  auto r = reg->port();
  auto product = create_product(shops.begin()->second->port());

  std::string used;
  auto added = via_registry(r, "POST", "/cart/zoe",
                            json::object{{"productId", product}, {"quantity", 2}}, &used);
  REQUIRE(added.status == 200);
  REQUIRE(shops.count(used) == 1);
  shops[used]->kill9();

  // The next calls land on the other shop, at once or after a retry.
  std::string now_used;
  auto cart = via_registry(r, "GET", "/cart/zoe", nullptr, &now_used);
  REQUIRE(cart.status == 200);
  CHECK(now_used != used);
  REQUIRE(cart.json().at("items").as_array().size() == 1);
  CHECK(cart.json().at("items").at(0).at("quantity") == 2);

  auto more =
      via_registry(r, "POST", "/cart/zoe", json::object{{"productId", product}, {"quantity", 1}});
  REQUIRE(more.status == 200);
  CHECK(more.json().at("items").at(0).at("quantity") == 3);
  auto order = via_registry(
      r, "POST", "/orders",
      json::object{{"userId", "zoe"},
                   {"items", json::array{json::object{{"productId", product}, {"quantity", 3}}}}});
  CHECK(order.status == 201);
  CHECK(via_registry(r, "GET", "/orders/zoe").json().as_array().size() == 1);
}

TEST_CASE("registry: a SIGTERM'd shop drains with no failed request for registry users",
          "[integration]") {
  temp_dir dir;
  std::string store = "sqlite:" + dir.file("shop.db");
  // The drain is well over the detection bound, so the registry stops handing the shop out
  // long before it goes.
  auto a = start_shop(store, 0, {"--drain-ms=1000"});
  auto b = start_shop(store, 0, {"--drain-ms=1000"});
  const auto draining = addr(a->port());
  auto reg = start_registry({draining, addr(b->port())});
  auto r = reg->port();

  std::atomic<bool> done{false};
  std::atomic<int> requests{0}, failures{0}, to_a{0};
  std::string first_failure;
  std::thread user([&] {
    for (int i = 0; i < 20'000 && !done; ++i) {
      auto server = get_server(r);
      reply res;
      if (!server.empty()) res = get(port_of(server), "/products");
      ++requests;
      if (server == draining) ++to_a;
      if (res.status != 200) {
        if (failures++ == 0) {
          first_failure = "server '" + server + "' answered " + std::to_string(res.status);
        }
      }
    }
  });
  REQUIRE(eventually([&] { return to_a >= 5; }, 5s));
  const auto before = to_a.load();
  CHECK(a->stop(SIGTERM) == 0);
  const auto after_stop = requests.load();
  eventually([&] { return requests >= after_stop + 50; }, 3s);
  done = true;
  user.join();

  INFO(first_failure);
  CHECK(failures == 0);
  CHECK(to_a >= before);
  CHECK(requests > after_stop);
  CHECK(reg->log().find("registry: " + draining + " is down: HTTP 503 (draining)") !=
        std::string::npos);
  CHECK(a->log().find("draining: /health answers 503") != std::string::npos);
}

TEST_CASE("registry: POST and DELETE /servers honour the admin token", "[integration]") {
  auto reg = start_registry({}, {"--admin-token=sekrit"});
  auto r = reg->port();
  const std::vector<std::pair<std::string, std::string>> admin = {
      {"Content-Type", "application/json"}, {"Authorization", "Bearer sekrit"}};
  const std::vector<std::pair<std::string, std::string>> wrong = {
      {"Content-Type", "application/json"}, {"Authorization", "Bearer nope"}};
  const std::string body = R"({"server":"Shop-3.local:3003"})";

  CHECK(call("POST", r, "/servers", body, json_type).status == 401);
  CHECK(call("POST", r, "/servers", body, wrong).status == 401);
  CHECK(get(r, "/servers").json() == json::array{});
  auto created = call("POST", r, "/servers", body, admin);
  REQUIRE(created.status == 201);
  CHECK(created.json().at("server") == "shop-3.local:3003");
  CHECK(created.json().at("source") == "api");
  auto twice = call("POST", r, "/servers", R"({"server":"shop-3.local:3003"})", admin);
  CHECK(twice.status == 409);
  CHECK(twice.json().at("error").at("code") == "already_registered");

  struct bad {
    std::string body;
    unsigned status;
  };
  for (const auto& c : std::vector<bad>{{R"({"server":"nohost"})", 400},
                                        {R"({"server":"h:0"})", 400},
                                        {R"({"server":"http://h:1"})", 400},
                                        {R"({"server":12})", 400},
                                        {R"({"host":"h:1"})", 400},
                                        {R"([1,2])", 400},
                                        {R"({"server":)", 400}}) {
    INFO(c.body);
    auto res = call("POST", r, "/servers", c.body, admin);
    CHECK(res.status == c.status);
    CHECK(res.json().at("error").at("code") == "bad_request");
  }
  CHECK(call("POST", r, "/servers", "server=h:1",
             {{"Authorization", "Bearer sekrit"}, {"Content-Type", "text/plain"}})
            .status == 415);
  CHECK(get(r, "/servers").json().as_array().size() == 1);

  CHECK(call("DELETE", r, "/servers/shop-3.local:3003").status == 401);
  CHECK(call("DELETE", r, "/servers/shop-3.local:3003", {}, wrong).status == 401);
  CHECK(call("DELETE", r, "/servers/other:1", {}, admin).status == 404);
  CHECK(call("DELETE", r, "/servers/bad%20name:1", {}, admin).status == 400);
  CHECK(call("DELETE", r, "/servers/nohost", {}, admin).status == 400);
  auto removed = call("DELETE", r, "/servers/SHOP-3.local:3003", {}, admin);
  REQUIRE(removed.status == 200);
  CHECK(removed.json().at("server") == "shop-3.local:3003");
  CHECK(get(r, "/servers").json() == json::array{});
  CHECK(call("DELETE", r, "/servers/shop-3.local:3003", {}, admin).status == 404);

  // Without a token the routes are open.
  auto open = start_registry({});
  CHECK(call("POST", open->port(), "/servers", body, json_type).status == 201);
  CHECK(call("DELETE", open->port(), "/servers/shop-3.local:3003").status == 200);
}

TEST_CASE("registry: a registered server is checked and handed out", "[integration]") {
  auto a = start_shop("memory:");
  auto reg = start_registry({});
  auto r = reg->port();
  auto created = post(r, "/servers", json::object{{"server", addr(a->port())}});
  REQUIRE(created.status == 201);
  CHECK(get_server(r) == addr(a->port()));
  REQUIRE(eventually([&] {
    return server_entry(r, addr(a->port())).at("consecutive_successes").to_number<int>() >= 2;
  }));
  REQUIRE(del(r, "/servers/" + addr(a->port())).status == 200);
  CHECK(get(r, "/getServer").status == 503);
}

TEST_CASE("registry: registrations survive a restart", "[integration]") {
  temp_dir dir;
  const std::string store = "--store=json:" + dir.file("registry.json");
  const std::vector<std::string> args = {"--role=registry", store, "--drain-ms=0",
                                         "--servers=flag.local:3001"};
  {
    node_process reg(args);
    REQUIRE(post(reg.port(), "/servers", json::object{{"server", "api.local:3002"}}).status == 201);
    REQUIRE(post(reg.port(), "/servers", json::object{{"server", "gone.local:3003"}}).status ==
            201);
    REQUIRE(del(reg.port(), "/servers/gone.local:3003").status == 200);
    // A server from --servers may be removed for now; it is back after a restart.
    REQUIRE(del(reg.port(), "/servers/flag.local:3001").status == 200);
    REQUIRE(reg.stop(SIGTERM) == 0);
  }
  node_process reg(args);
  std::map<std::string, std::string> listed;
  const auto servers = get(reg.port(), "/servers").json();
  for (const auto& s : servers.as_array()) {
    listed[std::string(s.at("server").as_string())] = std::string(s.at("source").as_string());
  }
  CHECK(listed ==
        std::map<std::string, std::string>{{"flag.local:3001", "flag"}, {"api.local:3002", "api"}});
  // Registered again by the flag: no duplicate, no conflict at start.
  node_process both({"--role=registry", store, "--drain-ms=0",
                     "--servers=flag.local:3001,api.local:3002", "--port=0"});
  CHECK(get(both.port(), "/servers").json().as_array().size() == 2);
}

TEST_CASE("registry: /metrics counts servers, checks, failures and getServer", "[integration]") {
  auto a = start_shop("memory:");
  auto reg = start_registry({addr(a->port()), "127.0.0.1:1"});
  auto r = reg->port();
  for (int i = 0; i < 3; ++i)
    get(r, "/getServer");
  std::string text;
  auto value = [&](const std::string& name) {
    std::smatch m;
    std::regex re("\n" + std::regex_replace(name, std::regex(R"([{}"])"), R"(\$&)") +
                  " ([0-9.e+]+)");
    if (!std::regex_search(text, m, re)) return -1.0;
    return std::stod(m[1].str());
  };
  // The dead server leaves and the live one stays (a check that a loaded machine answers
  // late may briefly take it out: the gauges are read once the two are as expected).
  REQUIRE(eventually(
      [&] {
        text = get(r, "/metrics").body;
        return value("registry_server_healthy{server=\"127.0.0.1:1\"}") == 0 &&
               value("registry_server_healthy{server=\"" + addr(a->port()) + "\"}") == 1;
      },
      5s));
  CHECK(value("registry_servers") == 2);
  CHECK(value("registry_healthy_servers") == 1);
  CHECK(value("registry_server_healthy{server=\"127.0.0.1:1\"}") == 0);
  CHECK(value("registry_server_healthy{server=\"" + addr(a->port()) + "\"}") == 1);
  // Two failed checks took the dead one out; the live one had its first check a round
  // earlier (its second may still be in flight when the dead one leaves).
  CHECK(value("registry_checks_total") >= 3);
  CHECK(value("registry_check_failures_total") >= 2);
  CHECK(value("registry_get_server_total") >= 3);
  CHECK(value("registry_get_server_misses_total") == 0);
}

TEST_CASE("registry: bad registry flags exit 2 naming the flag", "[integration]") {
  struct bad {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<bad> cases = {
      {{"--servers=nohost"}, "--servers: 'nohost'"},
      {{"--servers=a:1,,b:2"}, "--servers has an empty entry"},
      {{"--servers=a:1,A:1"}, "--servers lists a:1 twice"},
      {{"--check-interval-ms=0"}, "--check-interval-ms must be from 1"},
      {{"--check-interval-ms=100", "--check-timeout-ms=200"},
       "--check-timeout-ms (200) must not exceed --check-interval-ms (100)"},
      {{"--fail-threshold=0"}, "--fail-threshold must be from 1"},
      {{"--rise-threshold=-1"}, "--rise-threshold must be from 1"},
      {{"--check-jitter=0.9"}, "--check-jitter must be from 0 to 0.5"},
      {{"--servers=a:1,b:2", "--max-servers=1"}, "more than --max-servers"},
  };
  for (const auto& c : cases) {
    INFO(c.says);
    std::vector<std::string> args = {"--role=registry", "--port=1", "--store=memory:"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_node(args);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
  }
  auto shop = run_node({"--role=shop", "--port=1", "--store=memory:", "--registry=ftp://x"});
  CHECK(shop.status == 2);
  CHECK(shop.err.find("invalid --registry 'ftp://x'") != std::string::npos);
}

TEST_CASE("registry: --help gives the detection bound of the defaults", "[integration]") {
  auto help = run_node({"--help"});
  CHECK(help.status == 0);
  // Help text is wrapped; compare without line breaks and indentation.
  auto flat = std::regex_replace(help.out, std::regex(R"(\s+)"), " ");
  CHECK(flat.find("--check-interval-ms") != std::string::npos);
  CHECK(flat.find("no longer handed out within 1250 ms (500 ms interval x 2 failed checks + "
                  "250 ms timeout)") != std::string::npos);
  CHECK(flat.find("--drain-ms MS (=1500)") != std::string::npos);
}

TEST_CASE("registry: the shipped workshop config starts and every node answers /health",
          "[integration]") {
  std::ifstream in(std::string(NODE_SOURCE_DIR) + "/config/workshop.conf");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();

  // Every port of the file moves to a free one, everywhere it appears (servers lists,
  // registry URLs); data/ moves to a temp dir.
  temp_dir dir;
  std::map<std::string, std::uint16_t> ports;
  const std::regex port_line(R"((^|\n)\s*port\s*=\s*([0-9]+))");
  for (std::sregex_iterator it(text.begin(), text.end(), port_line), end; it != end; ++it) {
    ports.emplace((*it)[2].str(), free_port());
  }
  REQUIRE(ports.size() >= 3);
  for (const auto& [from, to] : ports) {
    text = std::regex_replace(text, std::regex("\\b" + from + "\\b"), std::to_string(to));
  }
  text = std::regex_replace(text, std::regex(R"(([:=]\s*)data/)"), "$1" + dir.path() + "/data/");
  std::ofstream(dir.file("workshop.conf")) << text;

  node_process all({"--config", dir.file("workshop.conf"), "--drain-ms=0"}, ports.size());
  for (const auto& [from, to] : ports) {
    INFO("the node of port " << from);
    auto h = get(to, "/health");
    CHECK(h.status == 200);
    CHECK(h.json().at("status") == "ok");
  }
  // The registry of the file hands out the shops of the file.
  const auto reg = ports.at("8000");
  auto server = get(reg, "/getServer");
  REQUIRE(server.status == 200);
  auto handed = std::string(server.json().at("server").as_string());
  CHECK((handed.ends_with(":" + std::to_string(ports.at("3001"))) ||
         handed.ends_with(":" + std::to_string(ports.at("3002")))));
  auto cfg = get(ports.at("3001"), "/ui/config.json").json();
  CHECK(cfg.at("registry") == ("http://127.0.0.1:" + std::to_string(reg)).c_str());
  // Both shops serve the one store (seeded with demo products just after the start).
  CHECK(eventually([&] {
    auto one = get(ports.at("3001"), "/products").json();
    return one.is_array() && !one.as_array().empty() &&
           get(ports.at("3002"), "/products").json() == one;
  }));
  CHECK(all.stop(SIGTERM) == 0);
}

TEST_CASE("registry: the shop page learns the registry from /ui/config.json", "[integration]") {
  node_process with({"--role=shop", "--store=memory:", "--registry=127.0.0.1:8000/"});
  auto cfg = get(with.port(), "/ui/config.json");
  REQUIRE(cfg.status == 200);
  CHECK(cfg.json() == json::parse(R"({"registry":"http://127.0.0.1:8000"})"));
  auto page = get(with.port(), "/ui/");
  CHECK(page.body.find("config.json") != std::string::npos);
  CHECK(page.body.find("/getServer") != std::string::npos);
  CHECK(page.body.find("Idempotency-Key") != std::string::npos);

  node_process without({"--role=shop", "--store=memory:"});
  CHECK(get(without.port(), "/ui/config.json").json() == json::parse(R"({"registry":null})"));
}
