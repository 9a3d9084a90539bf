#include "node/registry/pool.hpp"

#include <catch2/catch.hpp>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using node::registry::check_outcome;
using node::registry::health_policy;
using node::registry::server_pool;
using node::registry::time_point;
using node::registry::transition;

namespace {

const check_outcome ok = check_outcome::answered(200);
const check_outcome refused = check_outcome::unreachable("connection refused");

// `count` answers of next(), "-" for none.
std::vector<std::string> take(server_pool& pool, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(pool.next().value_or("-"));
  }
  return out;
}

// Takes a server down (default policy: 2 failures) or brings it back (2 successes).
void set_healthy(server_pool& pool, const std::string& server, bool healthy, time_point now) {
  for (int i = 0; i < 2; ++i) {
    REQUIRE(pool.record_check(server, healthy ? ok : refused, now).has_value());
  }
  const auto s = pool.status(server, now);
  REQUIRE(s.has_value());
  REQUIRE(s->healthy == healthy);
}

server_pool pool_of(std::initializer_list<const char*> servers) {
  server_pool pool;
  for (const char* s : servers) {
    REQUIRE(pool.add(s).has_value());
  }
  return pool;
}

using seq = std::vector<std::string>;

}  // namespace

TEST_CASE("registry: add answers the canonical address and rejects duplicates", "[unit]") {
  server_pool pool;
  const auto a = pool.add("LOCALHOST:3001");
  REQUIRE(a.has_value());
  CHECK(a->str() == "localhost:3001");

  const auto dup = pool.add("localhost:3001");
  REQUIRE(dup.has_error());
  CHECK(dup.error().status == 409);
  CHECK(dup.error().code == "already_registered");
  CHECK(dup.error().field == "server");

  const auto bad = pool.add("localhost:0");
  REQUIRE(bad.has_error());
  CHECK(bad.error().status == 400);
  CHECK(bad.error().field == "server");
  CHECK(pool.size() == 1);
}

TEST_CASE("registry: add stops at the server limit", "[unit]") {
  server_pool pool({}, 2);
  REQUIRE(pool.add("a:1").has_value());
  REQUIRE(pool.add("b:1").has_value());
  const auto third = pool.add("c:1");
  REQUIRE(third.has_error());
  CHECK(third.error().status == 409);
  CHECK(third.error().code == "too_many_servers");
  REQUIRE(pool.remove("a:1").has_value());
  CHECK(pool.add("c:1").has_value());
}

TEST_CASE("registry: remove of an unknown server is 404", "[unit]") {
  auto pool = pool_of({"a:1"});
  const auto r = pool.remove("b:1");
  REQUIRE(r.has_error());
  CHECK(r.error().status == 404);
  CHECK(pool.remove("a:0").error().status == 400);
  CHECK(pool.remove("A:1").has_value());
  CHECK(pool.size() == 0);
  CHECK(pool.remove("a:1").error().status == 404);
}

TEST_CASE("registry: record_check of an unknown server is 404", "[unit]") {
  auto pool = pool_of({"a:1"});
  const auto r = pool.record_check("b:1", ok, time_point{});
  REQUIRE(r.has_error());
  CHECK(r.error().status == 404);
  CHECK(pool.counters().checks == 0);
}

TEST_CASE("registry: list keeps registration order and reports state", "[unit]") {
  auto pool = pool_of({"c:3", "a:1", "b:2"});
  const time_point t0{};
  REQUIRE(pool.record_check("a:1", check_outcome::answered(503, "draining"), t0 + 1s).has_value());
  REQUIRE(pool.record_check("b:2", ok, t0 + 1s).has_value());

  const auto list = pool.list(t0 + 1500ms);
  REQUIRE(list.size() == 3);
  CHECK(list[0].server == "c:3");
  CHECK(list[1].server == "a:1");
  CHECK(list[2].server == "b:2");

  CHECK(list[0].healthy);
  CHECK(list[0].checks == 0);
  CHECK_FALSE(list[0].last_check_ms_ago.has_value());
  CHECK_FALSE(list[0].last_status.has_value());

  CHECK(list[1].healthy);
  CHECK(list[1].consecutive_failures == 1);
  CHECK(list[1].failures == 1);
  CHECK(list[1].last_check_ms_ago == 500);
  CHECK(list[1].last_status == 503u);
  CHECK(list[1].last_error == "HTTP 503 (draining)");

  CHECK(list[2].consecutive_successes == 1);
  CHECK(list[2].last_error.empty());
  CHECK(list[2].last_status == 200u);
}

TEST_CASE("registry: a server's state serializes to JSON", "[unit]") {
  auto pool = pool_of({"a:1", "b:2"});
  const time_point t0{};
  REQUIRE(pool.record_check("a:1", refused, t0).has_value());
  REQUIRE(pool.next() == "a:1");
  const auto list = pool.list(t0 + 42ms);
  REQUIRE(list.size() == 2);
  CHECK(boost::json::serialize(boost::json::value_from(list[0])) ==
        R"({"server":"a:1","healthy":true,"consecutive_failures":1,"consecutive_successes":0,)"
        R"("checks":1,"failures":1,"served":1,"last_check_ms_ago":42,"last_status":null,)"
        R"("last_error":"connection refused"})");
  const auto fresh = boost::json::value_from(list[1]).as_object();
  CHECK(fresh.at("last_check_ms_ago").is_null());
  CHECK(fresh.at("last_status").is_null());
  CHECK(fresh.at("last_error").is_null());
  CHECK(boost::json::value_from(list).as_array().size() == 2);
}

TEST_CASE("registry: next rotates round-robin in registration order", "[unit]") {
  auto two = pool_of({"a:1", "b:1"});
  CHECK(take(two, 5) == seq{"a:1", "b:1", "a:1", "b:1", "a:1"});

  auto three = pool_of({"a:1", "b:1", "c:1"});
  CHECK(take(three, 7) == seq{"a:1", "b:1", "c:1", "a:1", "b:1", "c:1", "a:1"});
}

TEST_CASE("registry: next skips unhealthy servers", "[unit]") {
  auto pool = pool_of({"a:1", "b:1", "c:1"});
  set_healthy(pool, "b:1", false, time_point{});
  CHECK(take(pool, 4) == seq{"a:1", "c:1", "a:1", "c:1"});
  CHECK(pool.healthy_count() == 2);
}

TEST_CASE("registry: a server going down mid-rotation is skipped at once", "[unit]") {
  auto pool = pool_of({"a:1", "b:1", "c:1"});
  CHECK(take(pool, 1) == seq{"a:1"});
  set_healthy(pool, "b:1", false, time_point{});
  CHECK(take(pool, 3) == seq{"c:1", "a:1", "c:1"});
}

TEST_CASE("registry: none healthy gives nothing", "[unit]") {
  server_pool empty;
  CHECK_FALSE(empty.next().has_value());

  auto pool = pool_of({"a:1", "b:1"});
  set_healthy(pool, "a:1", false, time_point{});
  set_healthy(pool, "b:1", false, time_point{});
  CHECK_FALSE(pool.next().has_value());
  CHECK(pool.healthy_count() == 0);
  const auto c = pool.counters();
  CHECK(c.get_server_calls == 1);
  CHECK(c.get_server_misses == 1);
}

TEST_CASE("registry: a server coming back takes its turn without a burst", "[unit]") {
  auto pool = pool_of({"a:1", "b:1", "c:1"});
  const time_point t0{};
  set_healthy(pool, "b:1", false, t0);
  CHECK(take(pool, 2) == seq{"a:1", "c:1"});
  // Cursor is after c: b waits for its place in the ring.
  set_healthy(pool, "b:1", true, t0 + 10s);
  CHECK(take(pool, 6) == seq{"a:1", "b:1", "c:1", "a:1", "b:1", "c:1"});

  // Back while the cursor sits just before it: it is next.
  set_healthy(pool, "b:1", false, t0 + 20s);
  CHECK(take(pool, 1) == seq{"a:1"});
  set_healthy(pool, "b:1", true, t0 + 30s);
  CHECK(take(pool, 3) == seq{"b:1", "c:1", "a:1"});
}

TEST_CASE("registry: no healthy server is skipped while others flap", "[unit]") {
  // Whatever servers go down and up, between two turns of a server every server that
  // stayed healthy in between gets a turn.
  auto pool = pool_of({"a:1", "b:1", "c:1", "d:1"});
  time_point t{};
  std::map<std::string, int> since_last;  // turns by others since this server's last turn
  std::string last_steady;
  for (int round = 0; round < 200; ++round) {
    // b and d flap on different periods; a and c stay healthy.
    if (round % 5 == 0) {
      set_healthy(pool, "b:1", (round / 5) % 2 == 1, t);
    }
    if (round % 7 == 0) {
      set_healthy(pool, "d:1", (round / 7) % 2 == 0, t);
    }
    t += 1s;
    const auto got = pool.next();
    REQUIRE(got.has_value());
    for (auto& [server, count] : since_last) {
      ++count;
    }
    since_last[*got] = 0;
    // At most 4 servers: a steady server waits at most 3 turns of others.
    CHECK(since_last["a:1"] <= 3);
    CHECK(since_last["c:1"] <= 3);
    // The two steady servers strictly alternate.
    if (*got == "a:1" || *got == "c:1") {
      CHECK(*got != last_steady);
      last_steady = *got;
    }
  }
}

TEST_CASE("registry: servers added during rotation join at the end of the ring", "[unit]") {
  auto pool = pool_of({"a:1", "b:1"});
  CHECK(take(pool, 2) == seq{"a:1", "b:1"});
  REQUIRE(pool.add("c:1").has_value());
  CHECK(take(pool, 4) == seq{"c:1", "a:1", "b:1", "c:1"});

  // The cursor is just after c, at the end of the ring: d, added there, is next.
  REQUIRE(pool.add("d:1").has_value());
  CHECK(take(pool, 4) == seq{"d:1", "a:1", "b:1", "c:1"});

  // Added while the cursor is mid-ring: it waits for the others ahead of it.
  CHECK(take(pool, 2) == seq{"d:1", "a:1"});
  REQUIRE(pool.add("e:1").has_value());
  CHECK(take(pool, 5) == seq{"b:1", "c:1", "d:1", "e:1", "a:1"});
}

TEST_CASE("registry: removing servers during rotation keeps the cursor's place", "[unit]") {
  auto pool = pool_of({"a:1", "b:1", "c:1", "d:1"});
  CHECK(take(pool, 2) == seq{"a:1", "b:1"});

  // Removing one already served this round: c is still next.
  REQUIRE(pool.remove("a:1").has_value());
  CHECK(take(pool, 1) == seq{"c:1"});

  // Removing the next one in turn: the one after it follows.
  REQUIRE(pool.remove("d:1").has_value());
  CHECK(take(pool, 3) == seq{"b:1", "c:1", "b:1"});

  // Removing the last server served at the end of the ring wraps to the start.
  REQUIRE(pool.remove("c:1").has_value());
  REQUIRE(pool.add("e:1").has_value());
  CHECK(take(pool, 3) == seq{"e:1", "b:1", "e:1"});

  REQUIRE(pool.remove("b:1").has_value());
  REQUIRE(pool.remove("e:1").has_value());
  CHECK_FALSE(pool.next().has_value());
  REQUIRE(pool.add("f:1").has_value());
  CHECK(take(pool, 2) == seq{"f:1", "f:1"});
}

TEST_CASE("registry: re-adding a removed server starts it afresh", "[unit]") {
  auto pool = pool_of({"a:1", "b:1"});
  set_healthy(pool, "a:1", false, time_point{});
  REQUIRE(pool.remove("a:1").has_value());
  REQUIRE(pool.add("a:1").has_value());
  const auto s = pool.status("a:1", time_point{});
  REQUIRE(s.has_value());
  CHECK(s->healthy);
  CHECK(s->checks == 0);
  CHECK(pool.servers().back().str() == "a:1");
}

TEST_CASE("registry: counters for metrics", "[unit]") {
  auto pool = pool_of({"a:1", "b:1", "c:1"});
  const time_point t0{};
  REQUIRE(pool.record_check("a:1", ok, t0).has_value());
  set_healthy(pool, "b:1", false, t0);
  take(pool, 5);
  REQUIRE(pool.remove("b:1").has_value());

  const auto c = pool.counters();
  CHECK(c.servers == 2);
  CHECK(c.healthy == 2);
  CHECK(c.get_server_calls == 5);
  CHECK(c.get_server_misses == 0);
  CHECK(c.checks == 3);
  CHECK(c.failures == 2);

  const auto list = pool.list(t0);
  CHECK(list[0].served == 3);
  CHECK(list[1].served == 2);
}

TEST_CASE("registry: a dead server leaves rotation after N checks and returns after M", "[unit]") {
  health_policy p;
  p.failures_before_down = 3;
  p.successes_before_up = 2;
  server_pool pool(p);
  REQUIRE(pool.add("a:1").has_value());
  REQUIRE(pool.add("b:1").has_value());
  time_point t{};
  for (int i = 0; i < 2; ++i) {
    CHECK(pool.record_check("b:1", refused, t).value() == transition::none);
    t += 1s;
  }
  CHECK(take(pool, 2) == seq{"a:1", "b:1"});
  CHECK(pool.record_check("b:1", refused, t).value() == transition::went_down);
  CHECK(take(pool, 2) == seq{"a:1", "a:1"});
  CHECK(pool.record_check("b:1", ok, t + 1s).value() == transition::none);
  CHECK(take(pool, 1) == seq{"a:1"});
  CHECK(pool.record_check("b:1", ok, t + 2s).value() == transition::came_up);
  CHECK(take(pool, 2) == seq{"b:1", "a:1"});
}
