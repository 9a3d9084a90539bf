// The replication decisions: target positions, answers, backoff, and mirror-shop's write rule.
#include "node/replication/stream.hpp"

#include <algorithm>

namespace node::replication {

const char* to_string(link_state s) {
  switch (s) {
    case link_state::in_sync:
      return "in_sync";
    case link_state::streaming:
      return "streaming";
    case link_state::catching_up:
      return "catching_up";
    case link_state::disconnected:
      return "disconnected";
    case link_state::diverged:
      return "diverged";
  }
  return "disconnected";
}

stream::stream(stream_options opts) : opts_(opts) {}

void stream::primary_committed(std::uint64_t lsn) {
  primary_ = std::max(primary_, lsn);
}

link_state stream::state() const {
  if (diverged_) {
    return link_state::diverged;
  }
  if (!connected_ || !known_) {
    return link_state::disconnected;
  }
  if (rolling_) {
    return link_state::catching_up;
  }
  if (acked_ >= primary_) {
    return link_state::in_sync;
  }
  return lag() <= opts_.max_batches ? link_state::streaming : link_state::catching_up;
}

bool stream::needs_position(clock::time_point now) const {
  return !known_ && !diverged_ && !in_flight_ && now >= retry_at_;
}

std::optional<std::uint64_t> stream::next_send(clock::time_point now) const {
  if (!known_ || diverged_ || rolling_ || in_flight_ || now < retry_at_ || acked_ >= primary_) {
    return std::nullopt;
  }
  return acked_;
}

void stream::rolled_forward(std::uint64_t lsn) {
  rolling_ = false;
  primary_committed(lsn);
  if (acked_ > primary_) {
    cannot_roll_forward("it holds LSN " + std::to_string(acked_) + " but only " +
                        std::to_string(primary_) + " could be brought back from it");
    return;
  }
  reconciled_ = true;
}

void stream::cannot_roll_forward(const std::string& why) {
  rolling_ = false;
  diverged_ = true;
  diverged_reason_ = "the target holds LSN " + std::to_string(acked_) + ", beyond the primary's " +
                     std::to_string(primary_) +
                     ", and the batches cannot be brought back from it: " + why;
}

void stream::log_missing(std::uint64_t first_logged) {
  diverged_ = true;
  diverged_reason_ = "the change log starts at " + std::to_string(first_logged) +
                     " but the target needs " + std::to_string(acked_ + 1) +
                     ": a full resync from a copy of the primary is needed";
}

stream::verdict stream::on_answer(const answer& a, const std::string& our_history,
                                  clock::time_point now) {
  in_flight_ = false;
  switch (a.type) {
    case answer::kind::applied:
    case answer::kind::gap:
      if (a.applied_lsn > primary_ && opts_.roll_forward && !reconciled_ &&
          a.type == answer::kind::applied) {
        acked_ = a.applied_lsn;
        known_ = true;
        connected_ = true;
        rolling_ = true;
        backoff_ = std::chrono::milliseconds(0);
        retry_at_ = now;
        return verdict::roll_forward;
      }
      if (a.applied_lsn > primary_) {
        diverged_ = true;
        diverged_reason_ = "the target holds LSN " + std::to_string(a.applied_lsn) +
                           ", beyond the primary's " + std::to_string(primary_);
        return verdict::diverged;
      }
      if (!known_ && a.applied_lsn < primary_) {
        ++resyncs_;
      }
      acked_ = a.applied_lsn;
      known_ = true;
      connected_ = true;
      reconciled_ = true;
      backoff_ = std::chrono::milliseconds(0);
      retry_at_ = now;
      return a.type == answer::kind::gap ? verdict::resume : verdict::progress;
    case answer::kind::other_history:
      diverged_ = true;
      diverged_reason_ = "the target holds history " + a.history + ", not " + our_history;
      return verdict::diverged;
    case answer::kind::fenced:
      diverged_ = true;
      diverged_reason_ =
          "another primary process has taken the target over: two primaries share it";
      return verdict::diverged;
    case answer::kind::failed:
      break;
  }
  ++failures_;
  connected_ = false;
  known_ = false;
  rolling_ = false;
  backoff_ = backoff_.count() == 0 ? opts_.backoff_min : std::min(backoff_ * 2, opts_.backoff_max);
  retry_at_ = now + backoff_;
  return verdict::retry;
}

void mirror_policy::observe(const stream& s) {
  reconciled_ = reconciled_ || s.reconciled();
  if (s.state() == link_state::in_sync) {
    out_ = false;
  } else if (s.state() == link_state::disconnected || s.state() == link_state::diverged) {
    out_ = true;
  }
}

mirror_policy::outcome mirror_policy::after_commit(bool mirror_holds) {
  if (mirror_holds) {
    return outcome::acknowledged;
  }
  write_timed_out();
  return mode_ == mirror_mode::degrade ? outcome::degraded : outcome::refused;
}

}  // namespace node::replication
