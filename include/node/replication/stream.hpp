// The replication decisions, with no I/O: where a target stands, what to send it next,
// what its answer means, when to back off, and (for mirror-shop) whether writes may be
// acknowledged. The shipper in replication/replicator.cpp drives them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace node::replication {

using clock = std::chrono::steady_clock;

// How a target is doing, as /replication/status reports it.
enum class link_state {
  in_sync,       // the target holds everything the primary committed
  streaming,     // connected, a few batches behind (one request's worth at most)
  catching_up,   // connected, further behind
  disconnected,  // the last exchange failed, or none has happened yet
  diverged,      // another history, or the log no longer holds what it needs: alarm
};
const char* to_string(link_state s);

// What a target said.
struct answer {
  enum class kind {
    applied,        // it holds batches up to `applied_lsn` of our history (or is empty)
    gap,            // it refused: it holds only up to `applied_lsn`
    other_history,  // it holds data of history `history`
    fenced,         // another primary process has taken the target over since
    failed,         // no answer (unreachable, timeout, 5xx)
  };
  kind type = kind::failed;
  std::uint64_t applied_lsn = 0;
  std::string history;
};

struct stream_options {
  std::size_t max_batches = 256;  // batches per request
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // mirror-shop: the primary sends batches before they are durable here, so after a crash
  // the target may hold batches the primary lost. A target found ahead before the stream
  // is reconciled is then rolled forward from (verdict roll_forward), not an alarm.
  bool roll_forward = false;
};

// One target's position and link. Not thread-safe; loop thread only.
class stream {
 public:
  explicit stream(stream_options opts = {});

  // The primary decided (mirror-shop: announced before its fsync; otherwise committed)
  // the batch `lsn`: the target should come to hold it.
  void primary_committed(std::uint64_t lsn);
  std::uint64_t primary_lsn() const { return primary_; }
  // The target's applied LSN, as last heard (0 before any answer).
  std::uint64_t acked_lsn() const { return acked_; }
  bool position_known() const { return known_; }
  std::uint64_t lag() const { return primary_ > acked_ ? primary_ - acked_ : 0; }
  link_state state() const;
  const std::string& diverged_reason() const { return diverged_reason_; }
  // The target's position has been seen at or below the primary's since start (after a
  // roll forward when it was ahead): from now on the two agree on every LSN both hold,
  // and a target ahead of the primary is an alarm.
  bool reconciled() const { return reconciled_; }
  // Between a roll_forward verdict and rolled_forward() (or a failure).
  bool rolling_forward() const { return rolling_; }

  // Whether to ask the target where it stands before sending (after a failure or at start).
  bool needs_position(clock::time_point now) const;
  // The LSN after which to send batches now, or nothing (no lag, one in flight, diverged,
  // position unknown, or backing off).
  std::optional<std::uint64_t> next_send(clock::time_point now) const;
  // A request is in flight until its answer arrives.
  void sending() { in_flight_ = true; }
  bool in_flight() const { return in_flight_; }
  // The log lacks the batch after acked_lsn(): the target needs a full resync.
  void log_missing(std::uint64_t first_logged);

  // What an answer means for the stream.
  enum class verdict {
    progress,      // position moved (or confirmed): send more if there is lag
    resume,        // a gap: resume from the target's applied LSN
    roll_forward,  // the target holds batches after primary_lsn() that the primary lost:
                   // fetch them from the target and apply them here, then rolled_forward()
    diverged,      // stop and alarm
    retry,         // back off, then ask the position again
  };
  verdict on_answer(const answer& a, const std::string& our_history, clock::time_point now);
  // The primary now holds batches up to `lsn` after a roll_forward verdict. Reconciled
  // when that reaches the target's position; otherwise an alarm.
  void rolled_forward(std::uint64_t lsn);
  // The target cannot hand back the batches the primary lacks: alarm.
  void cannot_roll_forward(const std::string& why);
  // When the next attempt may happen after a failure.
  clock::time_point retry_at() const { return retry_at_; }
  std::chrono::milliseconds backoff() const { return backoff_; }
  std::uint64_t failures() const { return failures_; }
  std::uint64_t resyncs() const { return resyncs_; }

 private:
  stream_options opts_;
  std::uint64_t primary_ = 0;
  std::uint64_t acked_ = 0;
  bool known_ = false;
  bool connected_ = false;
  bool in_flight_ = false;
  bool reconciled_ = false;
  bool rolling_ = false;
  bool diverged_ = false;
  std::string diverged_reason_;
  std::chrono::milliseconds backoff_{0};
  clock::time_point retry_at_{};
  std::uint64_t failures_ = 0;
  std::uint64_t resyncs_ = 0;
};

// mirror-shop's rule for acknowledging writes.
enum class mirror_mode { reject, degrade };

// Whether a write may be taken and what its acknowledgment means. No write is taken
// before the stream is reconciled (only the mirror can tell whether it holds batches this
// primary lost in a crash, and new writes would reuse their LSNs). After that: in reject
// mode, a mirror that missed a write (or was never reached) is "out": writes are refused
// until the stream reports in_sync again. In degrade mode writes go on, acknowledged
// local-only (degraded) while the mirror is behind.
class mirror_policy {
 public:
  explicit mirror_policy(mirror_mode mode) : mode_(mode) {}
  mirror_mode mode() const { return mode_; }
  // Called whenever the stream changes.
  void observe(const stream& s);
  // A write waited for the mirror past its timeout.
  void write_timed_out() { out_ = true; }
  // May a new write start?
  bool accepts_writes() const { return reconciled_ && (mode_ == mirror_mode::degrade || !out_); }
  // Are acknowledgments currently local-only?
  bool degraded() const { return mode_ == mirror_mode::degrade && out_; }
  bool out() const { return out_; }
  bool reconciled() const { return reconciled_; }

  // What to answer for a write that is durable here, by whether the mirror came to hold
  // it within the mirror timeout: acknowledge; or (the mirror is then out) acknowledge
  // local-only in degrade mode, refuse with 503 in reject mode.
  enum class outcome { acknowledged, degraded, refused };
  outcome after_commit(bool mirror_holds);

 private:
  mirror_mode mode_;
  bool out_ = true;  // until the mirror is first seen in sync
  bool reconciled_ = false;
};

}  // namespace node::replication
