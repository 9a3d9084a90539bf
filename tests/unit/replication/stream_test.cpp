// The replication decisions without I/O: positions, answers, backoff, the roll forward
// after a crash, and the mirror rule.
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
  CHECK_FALSE(p.accepts_writes());  // not before the mirror has answered once
  s.primary_committed(1);
  s.on_answer(applied(1), ours, t0);
  p.observe(s);
  CHECK(p.accepts_writes());
  CHECK_FALSE(p.degraded());
  s.on_answer(failed(), ours, t0);
  p.observe(s);
  CHECK(p.accepts_writes());
  CHECK(p.degraded());
  s.on_answer(applied(1), ours, t0 + std::chrono::seconds(1));
  p.observe(s);
  CHECK_FALSE(p.degraded());
}

TEST_CASE("replication mirror: no write before the mirror has answered, in either mode", "[unit]") {
  const auto t0 = clock::now();
  for (const auto mode : {mirror_mode::reject, mirror_mode::degrade}) {
    stream s({4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), true});
    mirror_policy p(mode);
    s.primary_committed(3);
    s.on_answer(failed(), ours, t0);
    p.observe(s);
    CHECK_FALSE(p.reconciled());
    CHECK_FALSE(p.accepts_writes());
    s.on_answer(applied(3), ours, t0 + std::chrono::seconds(1));
    p.observe(s);
    CHECK(p.reconciled());
    CHECK(p.accepts_writes());
  }
}

TEST_CASE("replication mirror: a write the mirror did not confirm is refused or degraded",
          "[unit]") {
  mirror_policy reject(mirror_mode::reject);
  CHECK(reject.after_commit(true) == mirror_policy::outcome::acknowledged);
  CHECK(reject.after_commit(false) == mirror_policy::outcome::refused);
  CHECK(reject.out());
  mirror_policy degrade(mirror_mode::degrade);
  CHECK(degrade.after_commit(false) == mirror_policy::outcome::degraded);
  CHECK(degrade.degraded());
}

TEST_CASE("replication stream: a mirror ahead at start is rolled forward, then reconciled",
          "[unit]") {
  const auto t0 = clock::now();
  stream s({4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), true});
  mirror_policy p(mirror_mode::reject);
  s.primary_committed(3);
  CHECK(s.on_answer(applied(5), ours, t0) == stream::verdict::roll_forward);
  p.observe(s);
  CHECK(s.rolling_forward());
  CHECK(s.state() == link_state::catching_up);
  CHECK_FALSE(s.reconciled());
  CHECK_FALSE(p.accepts_writes());
  CHECK_FALSE(s.needs_position(t0));
  CHECK_FALSE(s.next_send(t0));  // nothing goes to the mirror meanwhile
  s.rolled_forward(5);
  p.observe(s);
  CHECK(s.reconciled());
  CHECK(s.state() == link_state::in_sync);
  CHECK(p.accepts_writes());
  // From now on a mirror ahead is an alarm.
  s.on_answer(failed(), ours, t0);
  CHECK(s.on_answer(applied(6), ours, t0 + std::chrono::seconds(1)) == stream::verdict::diverged);
}

TEST_CASE("replication stream: a roll forward that fails is retried, one that cannot diverges",
          "[unit]") {
  const auto t0 = clock::now();
  stream s({4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), true});
  s.primary_committed(3);
  REQUIRE(s.on_answer(applied(6), ours, t0) == stream::verdict::roll_forward);
  s.primary_committed(4);  // one batch came back before the mirror went away
  CHECK(s.on_answer(failed(), ours, t0) == stream::verdict::retry);
  CHECK_FALSE(s.rolling_forward());
  CHECK(s.needs_position(t0 + std::chrono::milliseconds(100)));
  REQUIRE(s.on_answer(applied(6), ours, t0 + std::chrono::seconds(1)) ==
          stream::verdict::roll_forward);
  s.cannot_roll_forward("its change log no longer holds LSN 5");
  CHECK(s.state() == link_state::diverged);
  CHECK(s.diverged_reason().find("LSN 5") != std::string::npos);
  CHECK_FALSE(s.reconciled());

  stream shortfall({4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), true});
  shortfall.primary_committed(3);
  REQUIRE(shortfall.on_answer(applied(6), ours, t0) == stream::verdict::roll_forward);
  shortfall.rolled_forward(5);
  CHECK(shortfall.state() == link_state::diverged);

  stream async_stream;  // without roll forward, a target ahead stays an alarm
  async_stream.primary_committed(3);
  CHECK(async_stream.on_answer(applied(4), ours, t0) == stream::verdict::diverged);
}

TEST_CASE("replication stream: a target taken over by another primary diverges", "[unit]") {
  stream s;
  s.primary_committed(2);
  s.on_answer(applied(2), ours, clock::now());
  CHECK(s.on_answer({answer::kind::fenced, 0, {}}, ours, clock::now()) ==
        stream::verdict::diverged);
  CHECK(s.state() == link_state::diverged);
}
