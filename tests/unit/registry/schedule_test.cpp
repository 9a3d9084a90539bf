#include "node/registry/schedule.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using node::registry::check_scheduler;
using node::registry::describe_detection_bound;
using node::registry::detection_bound;
using node::registry::time_point;

TEST_CASE("registry: check delays stay within the jittered interval", "[unit]") {
  check_scheduler s(2000ms, 0.1, 42);
  std::set<long long> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto d = s.next_delay();
    REQUIRE(d >= 1800ms);
    REQUIRE(d <= 2000ms);
    seen.insert(d.count());
  }
  // Jitter spreads the delays: 1000 draws over 201 values leave few gaps.
  CHECK(seen.size() > 150);
  CHECK(*seen.begin() < 1820);
  CHECK(*seen.rbegin() > 1980);
}

TEST_CASE("registry: the same seed gives the same check times", "[unit]") {
  check_scheduler a(1000ms, 0.2, 7);
  check_scheduler b(1000ms, 0.2, 7);
  check_scheduler c(1000ms, 0.2, 8);
  std::vector<long long> da, db, dc;
  for (int i = 0; i < 20; ++i) {
    da.push_back(a.next_delay().count());
    db.push_back(b.next_delay().count());
    dc.push_back(c.next_delay().count());
  }
  CHECK(da == db);
  CHECK(da != dc);
}

TEST_CASE("registry: no jitter gives the plain interval", "[unit]") {
  check_scheduler s(500ms, 0.0, 1);
  const time_point t0{};
  CHECK(s.next_check(t0) == t0 + 500ms);
  CHECK(s.next_check(t0 + 500ms) == t0 + 1000ms);
}

TEST_CASE("registry: the next check counts from the previous start", "[unit]") {
  check_scheduler s(1000ms, 0.1, 3);
  const time_point start = time_point{} + 10s;
  for (int i = 0; i < 100; ++i) {
    const auto next = s.next_check(start);
    REQUIRE(next >= start + 900ms);
    REQUIRE(next <= start + 1000ms);
  }
}

TEST_CASE("registry: tiny intervals still give a positive delay", "[unit]") {
  check_scheduler s(1ms, 0.9, 5);
  for (int i = 0; i < 100; ++i) {
    REQUIRE(s.next_delay() == 1ms);
  }
}

TEST_CASE("registry: bad scheduler settings are rejected", "[unit]") {
  CHECK_THROWS_AS(check_scheduler(0ms, 0.1, 1), std::invalid_argument);
  CHECK_THROWS_AS(check_scheduler(-5ms, 0.1, 1), std::invalid_argument);
  CHECK_THROWS_AS(check_scheduler(100ms, -0.1, 1), std::invalid_argument);
  CHECK_THROWS_AS(check_scheduler(100ms, 1.0, 1), std::invalid_argument);
  CHECK_THROWS_AS(check_scheduler(100ms, std::numeric_limits<double>::quiet_NaN(), 1),
                  std::invalid_argument);
}

TEST_CASE("registry: detection bound is interval times failures plus timeout", "[unit]") {
  CHECK(detection_bound(2000ms, 2, 1000ms) == 5000ms);
  CHECK(detection_bound(500ms, 3, 200ms) == 1700ms);
  CHECK(detection_bound(1000ms, 0, 100ms) == 1100ms);
}

TEST_CASE("registry: detection bound in words", "[unit]") {
  CHECK(describe_detection_bound(2000ms, 2, 1000ms) ==
        "a server that stops answering is no longer handed out within 5000 ms "
        "(2000 ms interval x 2 failed checks + 1000 ms timeout)");
  CHECK(describe_detection_bound(1000ms, 1, 250ms) ==
        "a server that stops answering is no longer handed out within 1250 ms "
        "(1000 ms interval x 1 failed check + 250 ms timeout)");
}
