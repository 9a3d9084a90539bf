// The replication decisions without I/O: positions, answers, backoff and the mirror rule.
#include "node/replication/stream.hpp"

#include <catch2/catch.hpp>

using namespace node::replication;

namespace {

const std::string ours = "aaaa";

answer applied(std::uint64_t lsn) {
  return {answer::kind::applied, lsn, ours};
}

answer failed() {
  return {answer::kind::failed, 0, {}};
}

}  // namespace

TEST_CASE("replication stream: asks the position first then sends after it", "[unit]") {
  stream s({4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)});
  const auto t0 = clock::now();
  s.primary_committed(10);
  CHECK(s.state() == link_state::disconnected);
  CHECK(s.needs_position(t0));
  CHECK_FALSE(s.next_send(t0));
  s.sending();
  CHECK(s.on_answer(applied(3), ours, t0) == stream::verdict::progress);
  CHECK(s.resyncs() == 1);
  CHECK(s.state() == link_state::catching_up);
  REQUIRE(s.next_send(t0));
  CHECK(*s.next_send(t0) == 3);
  s.sending();
  CHECK_FALSE(s.next_send(t0));  // one request in flight
  s.on_answer(applied(7), ours, t0);
  CHECK(s.state() == link_state::streaming);
  CHECK(s.lag() == 3);
  s.on_answer(applied(10), ours, t0);
  CHECK(s.state() == link_state::in_sync);
  CHECK_FALSE(s.next_send(t0));
}

TEST_CASE("replication stream: a gap answer resumes from the target's position", "[unit]") {
  stream s;
  const auto t0 = clock::now();
  s.primary_committed(5);
  s.on_answer(applied(5), ours, t0);
  s.primary_committed(9);
  CHECK(s.on_answer({answer::kind::gap, 2, ours}, ours, t0) == stream::verdict::resume);
  CHECK(*s.next_send(t0) == 2);
}

TEST_CASE("replication stream: failures back off exponentially up to a bound", "[unit]") {
  stream s({16, std::chrono::milliseconds(100), std::chrono::milliseconds(300)});
  const auto t0 = clock::now();
  s.primary_committed(2);
  CHECK(s.on_answer(failed(), ours, t0) == stream::verdict::retry);
  CHECK(s.backoff() == std::chrono::milliseconds(100));
  CHECK_FALSE(s.needs_position(t0 + std::chrono::milliseconds(50)));
  CHECK(s.needs_position(t0 + std::chrono::milliseconds(100)));
  s.on_answer(failed(), ours, t0);
  CHECK(s.backoff() == std::chrono::milliseconds(200));
  s.on_answer(failed(), ours, t0);
  CHECK(s.backoff() == std::chrono::milliseconds(300));
  CHECK(s.failures() == 3);
  CHECK(s.state() == link_state::disconnected);
  s.on_answer(applied(1), ours, t0 + std::chrono::seconds(1));
  CHECK(s.backoff() == std::chrono::milliseconds(0));
  CHECK(s.state() == link_state::streaming);
}

TEST_CASE("replication stream: another history or a target ahead diverges", "[unit]") {
  const auto t0 = clock::now();
  stream other;
  other.primary_committed(3);
  CHECK(other.on_answer({answer::kind::other_history, 3, "bbbb"}, ours, t0) ==
        stream::verdict::diverged);
  CHECK(other.state() == link_state::diverged);
  CHECK(other.diverged_reason().find("bbbb") != std::string::npos);
  CHECK_FALSE(other.needs_position(t0));
  CHECK_FALSE(other.next_send(t0));

  stream ahead;
  ahead.primary_committed(3);
  CHECK(ahead.on_answer(applied(4), ours, t0) == stream::verdict::diverged);

  stream pruned;
  pruned.primary_committed(9);
  pruned.on_answer(applied(1), ours, t0);
  pruned.log_missing(5);
  CHECK(pruned.state() == link_state::diverged);
}

TEST_CASE("replication mirror: reject mode refuses writes while the mirror is out", "[unit]") {
  const auto t0 = clock::now();
  stream s;
  mirror_policy p(mirror_mode::reject);
  CHECK_FALSE(p.accepts_writes());  // never seen in sync yet
  s.primary_committed(4);
  s.on_answer(applied(2), ours, t0);
  p.observe(s);
  CHECK_FALSE(p.accepts_writes());  // catching up after a restart
  s.on_answer(applied(4), ours, t0);
  p.observe(s);
  CHECK(p.accepts_writes());
  s.primary_committed(5);
  p.observe(s);
  CHECK(p.accepts_writes());  // streaming: a write in flight
  p.write_timed_out();
  CHECK_FALSE(p.accepts_writes());
  CHECK_FALSE(p.degraded());
  s.on_answer(failed(), ours, t0);
  p.observe(s);
  CHECK_FALSE(p.accepts_writes());
  s.on_answer(applied(5), ours, t0 + std::chrono::seconds(10));
  p.observe(s);
  CHECK(p.accepts_writes());
}

TEST_CASE("replication mirror: degrade mode acknowledges local-only and says so", "[unit]") {
  const auto t0 = clock::now();
  stream s;
  mirror_policy p(mirror_mode::degrade);
  CHECK(p.accepts_writes());
  s.primary_committed(1);
  s.on_answer(failed(), ours, t0);
  p.observe(s);
  CHECK(p.accepts_writes());
  CHECK(p.degraded());
  s.on_answer(applied(1), ours, t0 + std::chrono::seconds(1));
  p.observe(s);
  CHECK_FALSE(p.degraded());
}
