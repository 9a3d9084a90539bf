#include "node/registry/health.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using node::registry::check_outcome;
using node::registry::health_policy;
using node::registry::server_health;
using node::registry::time_point;
using node::registry::transition;

namespace {

const check_outcome ok = check_outcome::answered(200);
const check_outcome refused = check_outcome::unreachable("connection refused");

}  // namespace

TEST_CASE("registry: a new server starts healthy and unchecked", "[unit]") {
  const server_health h;
  CHECK(h.healthy());
  CHECK(h.checks() == 0);
  CHECK(h.failures() == 0);
  CHECK_FALSE(h.last_check().has_value());
  CHECK_FALSE(h.last_outcome().has_value());
}

TEST_CASE("registry: a new server can start unhealthy", "[unit]") {
  health_policy p;
  p.start_healthy = false;
  server_health h(p);
  CHECK_FALSE(h.healthy());
  const time_point t0{};
  CHECK(h.record(ok, t0) == transition::none);
  CHECK(h.record(ok, t0 + 1s) == transition::came_up);
  CHECK(h.healthy());
}

TEST_CASE("registry: exactly N consecutive failures take a server down", "[unit]") {
  health_policy p;
  p.failures_before_down = 3;
  server_health h(p);
  const time_point t0{};
  CHECK(h.record(refused, t0) == transition::none);
  CHECK(h.record(refused, t0 + 1s) == transition::none);
  CHECK(h.healthy());
  CHECK(h.consecutive_failures() == 2);
  CHECK(h.record(refused, t0 + 2s) == transition::went_down);
  CHECK_FALSE(h.healthy());
  CHECK(h.record(refused, t0 + 3s) == transition::none);
  CHECK_FALSE(h.healthy());
  CHECK(h.consecutive_failures() == 4);
  CHECK(h.failures() == 4);
  CHECK(h.checks() == 4);
}

TEST_CASE("registry: exactly M consecutive successes bring a server back", "[unit]") {
  health_policy p;
  p.failures_before_down = 1;
  p.successes_before_up = 3;
  server_health h(p);
  const time_point t0{};
  CHECK(h.record(refused, t0) == transition::went_down);
  CHECK(h.record(ok, t0 + 1s) == transition::none);
  CHECK(h.record(ok, t0 + 2s) == transition::none);
  CHECK_FALSE(h.healthy());
  CHECK(h.consecutive_successes() == 2);
  CHECK(h.record(ok, t0 + 3s) == transition::came_up);
  CHECK(h.healthy());
  CHECK(h.consecutive_failures() == 0);
}

TEST_CASE("registry: a flapping server never reaches the threshold", "[unit]") {
  server_health h;  // down after 2, up after 2
  time_point t{};
  for (int i = 0; i < 10; ++i) {
    CHECK(h.record(refused, t) == transition::none);
    t += 1s;
    CHECK(h.record(ok, t) == transition::none);
    t += 1s;
  }
  CHECK(h.healthy());
  CHECK(h.failures() == 10);
  CHECK(h.checks() == 20);

  // Once down, alternating outcomes keep it down.
  CHECK(h.record(refused, t) == transition::none);
  CHECK(h.record(refused, t + 1s) == transition::went_down);
  t += 2s;
  for (int i = 0; i < 10; ++i) {
    CHECK(h.record(ok, t) == transition::none);
    t += 1s;
    CHECK(h.record(refused, t) == transition::none);
    t += 1s;
  }
  CHECK_FALSE(h.healthy());
}

TEST_CASE("registry: a 503 answer counts as a failure", "[unit]") {
  const auto draining = check_outcome::answered(503, "draining");
  CHECK_FALSE(draining.ok());
  CHECK(draining.status == 503u);
  CHECK(draining.error == "HTTP 503 (draining)");

  server_health h;
  const time_point t0{};
  CHECK(h.record(draining, t0) == transition::none);
  CHECK(h.record(draining, t0 + 1s) == transition::went_down);
  CHECK(h.failures() == 2);
}

TEST_CASE("registry: only 2xx answers are successes", "[unit]") {
  CHECK(check_outcome::answered(200).ok());
  CHECK(check_outcome::answered(204).ok());
  CHECK_FALSE(check_outcome::answered(199).ok());
  CHECK_FALSE(check_outcome::answered(301).ok());
  CHECK_FALSE(check_outcome::answered(404).ok());
  CHECK(check_outcome::answered(500).error == "HTTP 500");
  const auto none = check_outcome::unreachable("");
  CHECK_FALSE(none.ok());
  CHECK_FALSE(none.status.has_value());
  CHECK(none.error == "no answer");
}

TEST_CASE("registry: the last check is remembered", "[unit]") {
  server_health h;
  const time_point t0{};
  h.record(refused, t0 + 5s);
  REQUIRE(h.last_check().has_value());
  CHECK(*h.last_check() == t0 + 5s);
  REQUIRE(h.last_outcome().has_value());
  CHECK(h.last_outcome()->error == "connection refused");
  h.record(ok, t0 + 7s);
  CHECK(*h.last_check() == t0 + 7s);
  CHECK(h.last_outcome()->ok());
  CHECK(h.last_outcome()->status == 200u);
}

TEST_CASE("registry: thresholds of 0 act as 1", "[unit]") {
  health_policy p;
  p.failures_before_down = 0;
  p.successes_before_up = 0;
  server_health h(p);
  const time_point t0{};
  CHECK(h.record(refused, t0) == transition::went_down);
  CHECK(h.record(ok, t0 + 1s) == transition::came_up);
}
