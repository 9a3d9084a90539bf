// Integration tests of mirror-shop, async-replica and replica shops against real `node`
// processes on loopback: both copies hold every acknowledged write (compared through the
// API and the checksum), mirror outages in reject and degrade mode, kill -9 of a primary
// under load, a mirror found ahead of its primary at restart (rolled forward, or refused
// with the alarm), shipping on /sync, promotion, fencing, and idempotent apply.
#include "support/http.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using namespace node::test;
namespace json = node::core::json;
using namespace std::chrono_literals;

namespace {

json::object product(const std::string& name) {
  return {{"name", name}, {"description", "t"}, {"price", 2.5}, {"category", "c"}, {"stock", 5}};
}

std::uint64_t num(const json::value& v) {
  return v.to_number<std::uint64_t>();
}

json::object status(std::uint16_t port) {
  auto r = get(port, "/replication/status");
  REQUIRE(r.status == 200);
  return r.json().as_object();
}

bool in_sync(std::uint16_t port) {
  auto r = get(port, "/replication/status");
  return r.status == 200 && r.json().at("in_sync") == true;
}

std::string checksum(std::uint16_t port) {
  return std::string(status(port).at("checksum").as_string());
}

std::vector<std::string> replica_args(const std::string& store) {
  return {"--role=shop", "--store=" + store, "--read-only-replica", "--admin-token=s3cret"};
}

std::vector<std::string> mirror_args(const std::string& store, std::uint16_t mirror_port,
                                     const std::string& mode = "reject") {
  return {"--role=mirror-shop",
          "--store=" + store,
          "--mirror=http://127.0.0.1:" + std::to_string(mirror_port),
          "--mirror-mode=" + mode,
          "--mirror-timeout-ms=500",
          "--admin-token=s3cret"};
}

const std::vector<std::pair<std::string, std::string>> admin = {{"Authorization", "Bearer s3cret"}};

// A batch as a primary ships it: one product put under `id`.
json::object product_batch(std::uint64_t lsn, const std::string& id, const std::string& name) {
  return {{"lsn", lsn},
          {"ops", json::array{json::object{{"op", "put"},
                                           {"collection", "products"},
                                           {"id", id},
                                           {"doc", json::object{{"name", name},
                                                                {"description", ""},
                                                                {"price_cents", 100},
                                                                {"category", "c"},
                                                                {"stock", 1}}}}}}};
}

// Gives the replica on `port` the batch `lsn` of `history`, as a primary that announced it
// and shipped it just before a crash that lost it locally would have.
void ship_lost_batch(std::uint16_t port, const std::string& history, std::uint64_t lsn,
                     const std::string& id) {
  auto r =
      call("POST", port, "/replication/apply",
           node::core::to_json(json::object{
               {"history", history}, {"batches", json::array{product_batch(lsn, id, "lost")}}}),
           admin);
  REQUIRE(r.status == 200);
  REQUIRE(num(r.json().at("applied_lsn")) == lsn);
}

// Runs `clients` threads posting products until `stop`; returns the acknowledged ids.
std::vector<std::int64_t> write_load(std::uint16_t port, int clients, std::atomic<bool>& stop) {
  std::mutex m;
  std::vector<std::int64_t> acked;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < 500 && !stop; ++i) {
        auto r =
            call("POST", port, "/products",
                 node::core::to_json(product("p" + std::to_string(c) + "-" + std::to_string(i))),
                 {}, 2s);
        if (r.status == 201) {
          const std::lock_guard lock(m);
          acked.push_back(r.json().at("id").as_int64());
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return acked;
}

}  // namespace

TEST_CASE("mirror-shop: writes are on both copies with a local json mirror", "[integration]") {
  temp_dir dir;
  node_process n({"--role=mirror-shop", "--store=sqlite:" + dir.file("primary.db"),
                  "--mirror=json:" + dir.file("mirror.json")});
  auto p = n.port();
  REQUIRE(eventually([&] { return in_sync(p); }));
  const auto before = status(p);
  auto r = post(p, "/products", product("Watch"));
  REQUIRE(r.status == 201);
  CHECK_FALSE(r.header("X-Commit-Lsn").empty());
  auto s = status(p);
  CHECK(s.at("mode") == "sync");
  CHECK(s.at("primary_lsn") == s.at("mirror_lsn"));
  CHECK(s.at("in_sync") == true);
  CHECK(s.at("checksum") == s.at("target_checksum"));
  // Both checksums follow the data (they are kept between writes, not after one).
  CHECK(s.at("checksum") != before.at("checksum"));
  CHECK(s.at("target_checksum") != before.at("target_checksum"));
  CHECK(std::to_string(num(s.at("primary_lsn"))) == r.header("X-Commit-Lsn"));
  n.stop();
  // The mirror file holds the write.
  node_process m({"--role=shop", "--store=json:" + dir.file("mirror.json"), "--seed-demo=false"});
  CHECK(get(m.port(), "/products/" + std::to_string(r.json().at("id").as_int64())).status == 200);
}

TEST_CASE("mirror-shop: a remote mirror holds every acknowledged write", "[integration]") {
  temp_dir dir;
  node_process mirror(replica_args("sqlite:" + dir.file("mirror.db")));
  node_process n(mirror_args("sqlite:" + dir.file("primary.db"), mirror.port()));
  auto p = n.port(), q = mirror.port();
  REQUIRE(eventually([&] { return in_sync(p); }));
  auto r = post(p, "/products", product("Lamp"));
  REQUIRE(r.status == 201);
  const auto id = std::to_string(r.json().at("id").as_int64());
  CHECK(get(q, "/products/" + id).json().at("name") == "Lamp");
  CHECK(checksum(p) == checksum(q));
  CHECK(status(q).at("applied_lsn") == status(p).at("primary_lsn"));

  // The replica refuses client writes, and replication traffic without the token.
  auto w = post(q, "/products", product("No"));
  CHECK(w.status == 503);
  CHECK(w.json().at("error").at("code") == "read_only_replica");
  CHECK(post(q, "/replication/apply", json::object{{"history", "x"}, {"batches", json::array{}}})
            .status == 401);
  CHECK(post(q, "/replication/promote", json::object{}).status == 401);
}

TEST_CASE("mirror-shop: reject mode refuses writes while the mirror is down then resyncs",
          "[integration]") {
  temp_dir dir;
  auto mirror = std::make_unique<node_process>(replica_args("sqlite:" + dir.file("mirror.db")));
  const auto q = mirror->port();
  node_process n(mirror_args("sqlite:" + dir.file("primary.db"), q));
  auto p = n.port();
  REQUIRE(eventually([&] { return in_sync(p); }));
  REQUIRE(post(p, "/products", product("before")).status == 201);
  mirror->kill9();
  mirror.reset();
  auto refused = post(p, "/products", product("during"));
  CHECK(refused.status == 503);
  REQUIRE(eventually([&] { return status(p).at("accepting_writes") == false; }));
  CHECK(post(p, "/products", product("during2")).status == 503);

  std::vector<std::string> args = replica_args("sqlite:" + dir.file("mirror.db"));
  args.push_back("--port=" + std::to_string(q));
  mirror = std::make_unique<node_process>(args);
  REQUIRE(eventually([&] { return in_sync(p); }, 15s));
  CHECK(num(status(p).at("resyncs")) >= 1);
  auto after = post(p, "/products", product("after"));
  REQUIRE(after.status == 201);
  CHECK(checksum(p) == checksum(q));
  CHECK(get(q, "/products/" + std::to_string(after.json().at("id").as_int64())).status == 200);
}

TEST_CASE("mirror-shop: degrade mode keeps acknowledging and the mirror catches up",
          "[integration]") {
  temp_dir dir;
  auto mirror = std::make_unique<node_process>(replica_args("sqlite:" + dir.file("mirror.db")));
  const auto q = mirror->port();
  node_process n(mirror_args("sqlite:" + dir.file("primary.db"), q, "degrade"));
  auto p = n.port();
  REQUIRE(eventually([&] { return in_sync(p); }));
  mirror->kill9();
  mirror.reset();
  int degraded = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = post(p, "/products", product("d" + std::to_string(i)));
    REQUIRE(r.status == 201);
    degraded += r.header("X-Replication-Degraded") == "true" ? 1 : 0;
  }
  CHECK(degraded == 5);
  CHECK(status(p).at("degraded") == true);
  CHECK(get(p, "/metrics").body.find("replication_degraded 1") != std::string::npos);

  std::vector<std::string> args = replica_args("sqlite:" + dir.file("mirror.db"));
  args.push_back("--port=" + std::to_string(q));
  mirror = std::make_unique<node_process>(args);
  REQUIRE(eventually([&] { return in_sync(p); }, 15s));
  CHECK(status(p).at("degraded") == false);
  CHECK(checksum(p) == checksum(q));
  auto r = post(p, "/products", product("back"));
  CHECK(r.status == 201);
  CHECK(r.header("X-Replication-Degraded").empty());
}

TEST_CASE("mirror-shop: kill -9 under 32 writers loses no acknowledged write", "[integration]") {
  temp_dir dir;
  node_process mirror(replica_args("sqlite:" + dir.file("mirror.db")));
  const auto q = mirror.port();
  const auto port = free_port();
  for (int trial = 0; trial < 2; ++trial) {
    std::vector<std::string> args = mirror_args("sqlite:" + dir.file("primary.db"), q);
    args.push_back("--port=" + std::to_string(port));
    auto n = std::make_unique<node_process>(args);
    REQUIRE(eventually([&] { return in_sync(port); }, 15s));
    const auto start = num(status(q).at("applied_lsn"));
    std::atomic<bool> stop{false};
    std::vector<std::int64_t> acked;
    std::thread load([&] { acked = write_load(port, 32, stop); });
    const bool loaded =
        eventually([&] { return num(status(q).at("applied_lsn")) > start + 20; }, 10s);
    n->kill9();
    stop = true;
    load.join();
    REQUIRE(loaded);
    n = std::make_unique<node_process>(args);
    REQUIRE(eventually([&] { return in_sync(port); }, 15s));
    INFO("trial " << trial << ", acknowledged " << acked.size() << ", rolled forward "
                  << num(status(port).at("rolled_forward")));
    for (const auto id : acked) {
      const auto path = "/products/" + std::to_string(id);
      REQUIRE(get(port, path).status == 200);
      REQUIRE(get(q, path).status == 200);
    }
    CHECK(checksum(port) == checksum(q));
  }
}

TEST_CASE("async-replica: lag shows before sync and none after", "[integration]") {
  temp_dir dir;
  node_process n({"--role=async-replica", "--store=sqlite:" + dir.file("primary.db"),
                  "--replica=sqlite:" + dir.file("secondary.db"), "--replication-interval-ms=0"});
  auto p = n.port();
  for (int i = 0; i < 3; ++i)
    REQUIRE(post(p, "/products", product("a")).status == 201);
  auto before = status(p);
  CHECK(before.at("mode") == "async");
  CHECK(num(before.at("lag_entries")) >= 3);
  auto s = post(p, "/sync", json::object{});
  REQUIRE(s.status == 200);
  CHECK(s.json().at("synced") == true);
  CHECK(s.json().at("primary_lsn") == s.json().at("replica_lsn"));
  auto after = status(p);
  CHECK(after.at("lag_entries") == 0);
  CHECK(after.at("lag_ms") == 0);
  CHECK(after.at("checksum") == after.at("target_checksum"));
}

TEST_CASE("async-replica: the interval ships without being asked", "[integration]") {
  temp_dir dir;
  node_process n({"--role=async-replica", "--store=sqlite:" + dir.file("primary.db"),
                  "--replica=json:" + dir.file("secondary.json"), "--replication-interval-ms=100"});
  auto p = n.port();
  REQUIRE(post(p, "/products", product("a")).status == 201);
  CHECK(eventually([&] { return status(p).at("lag_entries") == 0; }, 5s));
}

TEST_CASE("async-replica: unshipped changes survive kill -9 of the primary", "[integration]") {
  temp_dir dir;
  node_process secondary(replica_args("sqlite:" + dir.file("secondary.db")));
  std::vector<std::string> args = {"--role=async-replica",
                                   "--store=sqlite:" + dir.file("primary.db"),
                                   "--replica=http://127.0.0.1:" + std::to_string(secondary.port()),
                                   "--replication-interval-ms=0",
                                   "--admin-token=s3cret",
                                   "--sync-timeout-ms=1000"};
  auto n = std::make_unique<node_process>(args);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = post(n->port(), "/products", product("u"));
    REQUIRE(r.status == 201);
    ids.push_back(std::to_string(r.json().at("id").as_int64()));
  }
  CHECK(post(n->port(), "/sync", json::object{}).status == 401);
  n->kill9();
  n = std::make_unique<node_process>(args);
  const auto auth =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer s3cret"}};
  auto s = call("POST", n->port(), "/sync", "{}", auth);
  REQUIRE(s.status == 200);
  for (const auto& id : ids)
    CHECK(get(secondary.port(), "/products/" + id).status == 200);
  CHECK(checksum(n->port()) == checksum(secondary.port()));
}

TEST_CASE("async-replica: a secondary that was down catches up and sync reports 503 meanwhile",
          "[integration]") {
  temp_dir dir;
  const auto q = free_port();
  std::vector<std::string> sargs = replica_args("sqlite:" + dir.file("secondary.db"));
  sargs.push_back("--port=" + std::to_string(q));
  node_process n({"--role=async-replica", "--store=sqlite:" + dir.file("primary.db"),
                  "--replica=http://127.0.0.1:" + std::to_string(q),
                  "--replication-interval-ms=100", "--admin-token=s3cret",
                  "--sync-timeout-ms=500"});
  auto p = n.port();
  for (int i = 0; i < 3; ++i)
    REQUIRE(post(p, "/products", product("x")).status == 201);
  const auto auth =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer s3cret"}};
  auto down = call("POST", p, "/sync", "{}", auth);
  CHECK(down.status == 503);
  CHECK(down.json().at("status").at("state") == "disconnected");
  node_process secondary(sargs);
  REQUIRE(eventually([&] { return status(p).at("lag_entries") == 0; }, 10s));
  CHECK(checksum(p) == checksum(q));
}

TEST_CASE("async-replica: more than a replica's body limit of batches goes in several requests",
          "[integration]") {
  temp_dir dir;
  node_process secondary(replica_args("sqlite:" + dir.file("secondary.db")));
  node_process n({"--role=async-replica", "--store=sqlite:" + dir.file("primary.db"),
                  "--replica=http://127.0.0.1:" + std::to_string(secondary.port()),
                  "--replication-interval-ms=0", "--admin-token=s3cret"});
  auto p = n.port();
  // 230 products of about 5 KB: over the replica's 1 MiB --max-body in one request of the
  // default 256 batches (which it answered 413, again and again).
  auto big = product("big");
  big["description"] = std::string(4900, 'd');
  for (int i = 0; i < 230; ++i)
    REQUIRE(post(p, "/products", big).status == 201);
  auto s = call("POST", p, "/sync", "{}", admin);
  REQUIRE(s.status == 200);
  CHECK(s.json().at("replica_lsn") == s.json().at("primary_lsn"));
  CHECK(num(s.json().at("replica_lsn")) >= 230);
  CHECK(num(status(p).at("failures")) == 0);
  CHECK(checksum(p) == checksum(secondary.port()));
}

TEST_CASE("replica: applying the same batch twice changes nothing and gaps are refused",
          "[integration]") {
  node_process r({"--role=shop", "--store=memory:", "--read-only-replica"});
  auto q = r.port();
  const std::string history(32, 'a');
  json::object batch{{"lsn", 1},
                     {"ops", json::array{json::object{{"op", "put"},
                                                      {"collection", "products"},
                                                      {"id", "1"},
                                                      {"doc", json::object{{"name", "n"},
                                                                           {"description", ""},
                                                                           {"price_cents", 100},
                                                                           {"category", "c"},
                                                                           {"stock", 1}}}}}}};
  json::object body{{"history", history}, {"batches", json::array{batch}}};
  auto first = post(q, "/replication/apply", body);
  REQUIRE(first.status == 200);
  CHECK(first.json().at("applied_lsn") == 1);
  const auto sum = checksum(q);
  auto again = post(q, "/replication/apply", body);
  REQUIRE(again.status == 200);
  CHECK(again.json().at("applied_lsn") == 1);
  CHECK(checksum(q) == sum);
  CHECK(get(q, "/products/1").json().at("price") == 1.0);

  batch["lsn"] = 3;
  auto gap = post(q, "/replication/apply",
                  json::object{{"history", history}, {"batches", json::array{batch}}});
  CHECK(gap.status == 409);
  CHECK(gap.json().at("applied_lsn") == 1);
  CHECK(gap.json().at("history").as_string() == history);
  batch["lsn"] = 2;
  auto other =
      post(q, "/replication/apply",
           json::object{{"history", std::string(32, 'b')}, {"batches", json::array{batch}}});
  CHECK(other.status == 409);
  CHECK(other.json().at("error").at("code") == "history_mismatch");
  CHECK(post(q, "/replication/apply", json::object{{"history", history}, {"batches", 3}}).status ==
        400);

  auto promoted = post(q, "/replication/promote", json::object{});
  REQUIRE(promoted.status == 200);
  CHECK(promoted.json().at("history").as_string() != history);
  auto w = post(q, "/products", product("new"));
  REQUIRE(w.status == 201);
  CHECK(w.json().at("id") == 2);
  CHECK(post(q, "/replication/apply", body).status == 409);
}

TEST_CASE("replication: bad flags exit with status 2", "[integration]") {
  CHECK(run_node({"--role=mirror-shop", "--port=0"}).status == 2);
  CHECK(run_node({"--role=async-replica", "--port=0"}).status == 2);
  CHECK(run_node({"--role=mirror-shop", "--port=0", "--mirror=json:x", "--mirror-mode=maybe"})
            .status == 2);
  CHECK(run_node({"--role=mirror-shop", "--port=0", "--read-only-replica", "--mirror=json:x"})
            .status == 2);
}

TEST_CASE("async-replica: a secondary restarted repeatedly under load ends equal",
          "[integration]") {
  temp_dir dir;
  const auto q = free_port();
  std::vector<std::string> sargs = replica_args("sqlite:" + dir.file("secondary.db"));
  sargs.push_back("--port=" + std::to_string(q));
  auto secondary = std::make_unique<node_process>(sargs);
  node_process n({"--role=async-replica", "--store=sqlite:" + dir.file("primary.db"),
                  "--replica=http://127.0.0.1:" + std::to_string(q), "--replication-interval-ms=50",
                  "--admin-token=s3cret"});
  const auto p = n.port();
  std::atomic<bool> stop{false};
  std::vector<std::int64_t> acked;
  std::thread load([&] { acked = write_load(p, 8, stop); });
  bool restarted = true;
  for (int i = 0; i < 3 && restarted; ++i) {
    const auto applied = num(status(q).at("applied_lsn"));
    restarted = eventually([&] { return num(status(q).at("applied_lsn")) > applied; }, 5s);
    secondary->kill9();
    secondary = std::make_unique<node_process>(sargs);
  }
  stop = true;
  load.join();
  REQUIRE(restarted);
  const auto auth =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer s3cret"}};
  REQUIRE(call("POST", p, "/sync", "{}", auth).status == 200);
  CHECK(checksum(p) == checksum(q));
  CHECK(num(status(q).at("applied_lsn")) == num(status(p).at("primary_lsn")));
  INFO("acknowledged " << acked.size());
  for (const auto id : acked) {
    REQUIRE(get(q, "/products/" + std::to_string(id)).status == 200);
  }
}

TEST_CASE("mirror-shop: a local mirror ahead of the primary at restart is rolled forward",
          "[integration]") {
  temp_dir dir;
  const std::vector<std::string> args = {
      "--role=mirror-shop", "--store=sqlite:" + dir.file("primary.db"),
      "--mirror=json:" + dir.file("mirror.json"), "--seed-demo=false", "--drain-ms=0"};
  std::string history;
  std::uint64_t lsn = 0;
  {
    node_process n(args);
    REQUIRE(eventually([&] { return in_sync(n.port()); }));
    REQUIRE(post(n.port(), "/products", product("kept")).status == 201);
    auto s = status(n.port());
    history = std::string(s.at("history").as_string());
    lsn = num(s.at("primary_lsn"));
    REQUIRE(n.stop() == 0);
  }
  {
    node_process m({"--role=shop", "--store=json:" + dir.file("mirror.json"), "--read-only-replica",
                    "--admin-token=s3cret", "--drain-ms=0"});
    ship_lost_batch(m.port(), history, lsn + 1, "100");
    REQUIRE(m.stop() == 0);
  }
  node_process n(args);
  const auto p = n.port();
  REQUIRE(eventually([&] { return in_sync(p); }));
  auto s = status(p);
  CHECK(num(s.at("primary_lsn")) == lsn + 1);
  CHECK(num(s.at("rolled_forward")) == 1);
  CHECK(s.at("reconciled") == true);
  CHECK(s.at("checksum") == s.at("target_checksum"));
  CHECK(get(p, "/products/100").json().at("name") == "lost");
  auto w = post(p, "/products", product("after"));
  REQUIRE(w.status == 201);
  CHECK(w.header("X-Commit-Lsn") == std::to_string(lsn + 2));
  CHECK(w.json().at("id").as_int64() > 100);  // the id counter follows the batch brought back
  CHECK(n.log().find("rolled forward") != std::string::npos);
}

TEST_CASE("mirror-shop: a remote mirror ahead of the primary at restart is rolled forward",
          "[integration]") {
  temp_dir dir;
  node_process mirror(replica_args("sqlite:" + dir.file("mirror.db")));
  const auto q = mirror.port();
  const auto port = free_port();
  std::vector<std::string> args = mirror_args("sqlite:" + dir.file("primary.db"), q);
  args.push_back("--port=" + std::to_string(port));
  args.push_back("--seed-demo=false");
  auto n = std::make_unique<node_process>(args);
  REQUIRE(eventually([&] { return in_sync(port); }));
  for (int i = 0; i < 3; ++i)
    REQUIRE(post(port, "/products", product("p" + std::to_string(i))).status == 201);
  const auto before = status(port);
  const auto lsn = num(before.at("primary_lsn"));
  n->kill9();
  ship_lost_batch(q, std::string(before.at("history").as_string()), lsn + 1, "200");
  // The replica hands back what its change log holds, to the admin only.
  CHECK(get(q, "/replication/changes?after=0").status == 401);
  auto changes = call("GET", q, "/replication/changes?after=" + std::to_string(lsn), {}, admin);
  REQUIRE(changes.status == 200);
  CHECK(changes.json().at("batches").as_array().size() == 1);
  CHECK(call("GET", q, "/replication/changes?max=0", {}, admin).status == 400);

  n = std::make_unique<node_process>(args);
  REQUIRE(eventually([&] { return in_sync(port); }, 15s));
  CHECK(num(status(port).at("rolled_forward")) == 1);
  CHECK(get(port, "/products/200").status == 200);
  CHECK(checksum(port) == checksum(q));
  auto w = post(port, "/products", product("after"));
  REQUIRE(w.status == 201);
  CHECK(w.header("X-Commit-Lsn") == std::to_string(lsn + 2));
  CHECK(num(status(q).at("applied_lsn")) == lsn + 2);
}

TEST_CASE("mirror-shop: a mirror ahead that cannot hand back the batches stops writes",
          "[integration]") {
  temp_dir dir;
  const std::vector<std::string> args = {"--role=mirror-shop",
                                         "--store=sqlite:" + dir.file("primary.db"),
                                         "--mirror=json:" + dir.file("mirror.json"),
                                         "--seed-demo=false",
                                         "--mirror-timeout-ms=500",
                                         "--drain-ms=0"};
  std::string history;
  std::uint64_t lsn = 0;
  {
    node_process n(args);
    REQUIRE(eventually([&] { return in_sync(n.port()); }));
    REQUIRE(post(n.port(), "/products", product("kept")).status == 201);
    auto s = status(n.port());
    history = std::string(s.at("history").as_string());
    lsn = num(s.at("primary_lsn"));
    REQUIRE(n.stop() == 0);
  }
  {
    node_process m({"--role=shop", "--store=json:" + dir.file("mirror.json"), "--read-only-replica",
                    "--admin-token=s3cret", "--drain-ms=0"});
    ship_lost_batch(m.port(), history, lsn + 1, "100");
    REQUIRE(m.stop() == 0);
  }
  // The mirror's change log loses the batch (as if pruned): nothing can bring it back.
  {
    std::ifstream in(dir.file("mirror.json"));
    std::stringstream text;
    text << in.rdbuf();
    auto doc = node::core::json::parse(text.str()).as_object();
    REQUIRE(doc.erase("log") == 1);
    std::ofstream(dir.file("mirror.json"), std::ios::trunc) << node::core::to_json(doc);
  }
  node_process n(args);
  const auto p = n.port();
  REQUIRE(eventually([&] { return status(p).at("state") == "diverged"; }));
  auto s = status(p);
  CHECK(s.at("accepting_writes") == false);
  CHECK(s.at("reconciled") == false);
  CHECK(s.at("alarm").as_string().find(std::to_string(lsn + 1)) != std::string::npos);
  CHECK(num(s.at("primary_lsn")) == lsn);
  auto w = post(p, "/products", product("refused"));
  CHECK(w.status == 503);
  CHECK(num(status(p).at("primary_lsn")) == lsn);
  CHECK(n.log().find("ALARM") != std::string::npos);
}

TEST_CASE("replica: a fencing primary session refuses the stream of an earlier one",
          "[integration]") {
  node_process r({"--role=shop", "--store=memory:", "--read-only-replica"});
  const auto q = r.port();
  const std::string history(32, 'd');
  const auto apply = [&](json::object body) {
    body["history"] = history;
    if (!body.contains("batches")) body["batches"] = json::array{};
    return post(q, "/replication/apply", body);
  };
  REQUIRE(apply({{"session", "one"}, {"fence", true}}).status == 200);
  REQUIRE(
      apply({{"session", "one"}, {"batches", json::array{product_batch(1, "1", "a")}}}).status ==
      200);
  auto taken = apply({{"session", "two"}, {"fence", true}});
  REQUIRE(taken.status == 200);
  CHECK(num(taken.json().at("applied_lsn")) == 1);
  auto stale = apply({{"session", "one"}, {"batches", json::array{product_batch(2, "2", "b")}}});
  CHECK(stale.status == 409);
  CHECK(stale.json().at("error").at("code") == "stale_session");
  CHECK(get(q, "/products/2").status == 404);
  CHECK(apply({{"session", "two"}, {"batches", json::array{product_batch(2, "2", "b")}}}).status ==
        200);
  CHECK(apply({{"fence", "yes"}}).status == 400);
  CHECK(apply({{"durable_lsn", -1}}).status == 400);
}
