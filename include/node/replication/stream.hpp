// The replication decisions, with no I/O: where a target stands, what to send it next,
// what its answer means, when to back off, and (for mirror-shop) whether writes may be
// acknowledged. Thin coroutines in roles/replication.cpp drive them.
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
};

// One target's position and link. Not thread-safe; loop thread only.
class stream {
 public:
  explicit stream(stream_options opts = {});

  void primary_committed(std::uint64_t lsn);
  std::uint64_t primary_lsn() const { return primary_; }
  // The target's applied LSN, as last heard (0 before any answer).
  std::uint64_t acked_lsn() const { return acked_; }
  bool position_known() const { return known_; }
  std::uint64_t lag() const { return primary_ > acked_ ? primary_ - acked_ : 0; }
  link_state state() const;
  const std::string& diverged_reason() const { return diverged_reason_; }

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
    progress,  // position moved (or confirmed): send more if there is lag
    resume,    // a gap: resume from the target's applied LSN
    diverged,  // stop and alarm
    retry,     // back off, then ask the position again
  };
  verdict on_answer(const answer& a, const std::string& our_history, clock::time_point now);
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
  bool diverged_ = false;
  std::string diverged_reason_;
  std::chrono::milliseconds backoff_{0};
  clock::time_point retry_at_{};
  std::uint64_t failures_ = 0;
  std::uint64_t resyncs_ = 0;
};

// mirror-shop's rule for acknowledging writes.
enum class mirror_mode { reject, degrade };

// Whether a write may be taken and what its acknowledgment means. In reject mode, a
// mirror that missed a write (or was never reached) is "out": writes are refused until
// the stream reports in_sync again. In degrade mode writes go on, acknowledged
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
  bool accepts_writes() const { return mode_ == mirror_mode::degrade || !out_; }
  // Are acknowledgments currently local-only?
  bool degraded() const { return mode_ == mirror_mode::degrade && out_; }
  bool out() const { return out_; }

 private:
  mirror_mode mode_;
  bool out_ = true;  // until the mirror is first seen in sync
};

}  // namespace node::replication
