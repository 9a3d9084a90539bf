// The replicating store: write gating and waiting (mirror-shop), the shipper coroutine
// that drives the stream decisions against a target, sync, promote and the status.
#include "node/replication/replicator.hpp"

#include "node/core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace node::replication {

namespace json = boost::json;

namespace {

const std::vector<double>& wait_bounds() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};
  return b;
}

const std::vector<double>& lag_bounds() {
  static const std::vector<double> b = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,     1.05, 2,     5,    10,  30};
  return b;
}

void observe(std::vector<std::uint64_t>& counts, const std::vector<double>& bounds,
             std::uint64_t& n, double& sum, double seconds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) {
      ++counts[i];
    }
  }
  ++n;
  sum += seconds;
}

double seconds_since(clock::time_point t) {
  return std::chrono::duration<double>(clock::now() - t).count();
}

const char* mode_name(replicator_mode m) {
  switch (m) {
    case replicator_mode::sync:
      return "sync";
    case replicator_mode::async:
      return "async";
    case replicator_mode::replica:
      return "replica";
  }
  return "replica";
}

}  // namespace

replicator::replicator(asio::any_io_executor ex, std::shared_ptr<node::store::store> inner,
                       std::unique_ptr<target> t, replicator_options opts)
    : ex_(ex),
      inner_(std::move(inner)),
      target_(std::move(t)),
      opts_(opts),
      stream_({opts.max_batches, std::chrono::milliseconds(100), std::chrono::milliseconds(2000)}),
      policy_(opts.on_mirror_failure),
      wake_(ex),
      wait_counts_(wait_bounds().size(), 0),
      lag_counts_(lag_bounds().size(), 0) {
  if (opts_.mode != replicator_mode::replica) {
    inner_->keep_change_log();
  }
  stream_.primary_committed(inner_->lsn());
  feed_ = inner_->subscribe([this](const node::store::committed_batch& b) {
    stream_.primary_committed(b.lsn);
    if (opts_.mode != replicator_mode::replica) {
      commit_times_.emplace(b.lsn, clock::now());
      if (commit_times_.size() > 100000) {
        commit_times_.erase(commit_times_.begin());
      }
    }
    if (opts_.mode == replicator_mode::sync) {
      poke();
    }
  });
}

replicator::~replicator() {
  stop();
}

void replicator::add_metrics(core::metrics& m) {
  m.declare("replication_primary_lsn", core::metrics::kind::gauge, "LSN committed here.");
  m.declare("replication_target_lsn", core::metrics::kind::gauge,
            "LSN the mirror or secondary holds (replica: LSN applied here).");
  m.declare("replication_lag_entries", core::metrics::kind::gauge,
            "Batches committed here and not yet held by the target.");
  m.declare("replication_lag_ms", core::metrics::kind::gauge,
            "Age of the oldest batch the target does not hold yet.");
  m.declare("replication_resyncs_total", core::metrics::kind::counter,
            "Times the target was found behind and brought up to date.");
  m.declare("replication_failures_total", core::metrics::kind::counter,
            "Exchanges with the target that failed.");
  m.declare("replication_degraded", core::metrics::kind::gauge,
            "1 while mirror-shop acknowledges writes without its mirror (degrade mode).");
  m.declare("replication_degraded_writes_total", core::metrics::kind::counter,
            "Writes acknowledged local-only (degrade mode).");
  m.declare("replication_refused_writes_total", core::metrics::kind::counter,
            "Writes answered 503 because the mirror could not take them (reject mode).");
  m.declare("replication_mirror_wait_seconds", core::metrics::kind::histogram,
            "Time a write waited for the mirror after its local commit.", wait_bounds());
  m.declare("replication_lag_seconds", core::metrics::kind::histogram,
            "Time from a batch's local commit to the target holding it.", lag_bounds());
  m.add_collector([w = weak_from_this()](core::metrics& mm) {
    auto self = w.lock();
    if (!self) {
      return;
    }
    auto& s = self->stream_;
    const bool replica = self->opts_.mode == replicator_mode::replica;
    mm.set("replication_primary_lsn", {}, static_cast<double>(self->inner_->lsn()));
    mm.set("replication_target_lsn", {},
           static_cast<double>(replica ? self->inner_->lsn() : s.acked_lsn()));
    if (replica) {
      return;
    }
    const auto st = self->status();
    mm.set("replication_lag_entries", {}, static_cast<double>(s.lag()));
    mm.set("replication_lag_ms", {}, static_cast<double>(st.at("lag_ms").as_int64()));
    mm.set("replication_resyncs_total", {}, static_cast<double>(s.resyncs()));
    mm.set("replication_failures_total", {}, static_cast<double>(s.failures()));
    mm.set("replication_degraded", {}, self->policy_.degraded() ? 1 : 0);
    mm.set("replication_degraded_writes_total", {}, static_cast<double>(self->degraded_writes_));
    mm.set("replication_refused_writes_total", {}, static_cast<double>(self->refused_writes_));
    mm.set_histogram("replication_mirror_wait_seconds", {}, wait_bounds(), self->wait_counts_,
                     self->wait_n_, self->wait_sum_);
    mm.set_histogram("replication_lag_seconds", {}, lag_bounds(), self->lag_counts_, self->lag_n_,
                     self->lag_sum_);
  });
}

void replicator::start() {
  if (running_ || !target_) {
    return;
  }
  running_ = true;
  next_tick_ = clock::now() + opts_.interval;
  asio::co_spawn(ex_, run_shipper(), [self = shared_from_this()](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        core::log::error("replication: shipper failed: " + std::string(ex.what()));
      }
    }
  });
}

void replicator::stop() {
  stopped_ = true;
  wake_.cancel();
  for (auto& [lsn, timer] : waiters_) {
    timer->cancel();
  }
}

void replicator::poke() {
  wake_.cancel();
}

// Shipper: asks the target's position, sends what it lacks, sleeps until there is work.
asio::awaitable<void> replicator::run_shipper() {
  const std::string history = inner_->history();
  while (!stopped_) {
    const auto now = clock::now();
    if (opts_.mode == replicator_mode::async && opts_.interval.count() > 0 && now >= next_tick_) {
      due_ = true;
      next_tick_ = now + opts_.interval;
    }
    if (stream_.needs_position(now)) {
      stream_.sending();
      auto op = target_->position(history);
      auto a = co_await std::move(op);
      handle(a);
      continue;
    }
    const bool may_ship = opts_.mode == replicator_mode::sync || due_;
    if (may_ship) {
      if (auto after = stream_.next_send(now)) {
        auto batches = inner_->changes_after(*after, opts_.max_batches);
        if (batches.empty()) {
          stream_.log_missing(inner_->change_log_first());
          handle(answer{answer::kind::applied, stream_.acked_lsn(), history});
          continue;
        }
        // The log may already show a group whose completion the loop has not run yet.
        stream_.primary_committed(batches.back().lsn);
        stream_.sending();
        auto op = target_->apply(history, std::move(batches));
        auto a = co_await std::move(op);
        handle(a);
        continue;
      }
      if (stream_.lag() == 0 && stream_.position_known()) {
        due_ = false;
      }
    }
    auto until = clock::time_point::max();
    if (stream_.retry_at() > now) {
      until = stream_.retry_at();
    }
    if (opts_.mode == replicator_mode::async && opts_.interval.count() > 0) {
      until = std::min(until, next_tick_);
    }
    wake_.expires_at(until);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void replicator::handle(const answer& a) {
  const std::uint64_t before = stream_.acked_lsn();
  const auto verdict = stream_.on_answer(a, inner_->history(), clock::now());
  policy_.observe(stream_);
  if (verdict == stream::verdict::diverged || stream_.state() == link_state::diverged) {
    if (!alarmed_) {
      alarmed_ = true;
      core::log::error("replication: ALARM: target " + target_->describe() +
                       " cannot be streamed to: " + stream_.diverged_reason());
    }
  } else if (verdict == stream::verdict::retry && stream_.failures() % 10 == 1) {
    core::log::warn("replication: target " + target_->describe() + " unreachable, retrying in " +
                    std::to_string(stream_.backoff().count()) + " ms");
  }
  const std::uint64_t acked = stream_.acked_lsn();
  if (acked > before || verdict == stream::verdict::progress) {
    for (auto it = commit_times_.begin(); it != commit_times_.end() && it->first <= acked;) {
      observe(lag_counts_, lag_bounds(), lag_n_, lag_sum_, seconds_since(it->second));
      it = commit_times_.erase(it);
    }
    inner_->prune_change_log(acked);
  }
  wake_waiters();
}

void replicator::wake_waiters() {
  const std::uint64_t acked = stream_.acked_lsn();
  for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= acked; ++it) {
    it->second->cancel();
  }
  if (opts_.mode == replicator_mode::sync && (policy_.out() || !stream_.position_known())) {
    // Writes waiting on a mirror that is out learn it now rather than at their timeout.
    if (stream_.state() == link_state::disconnected || stream_.state() == link_state::diverged) {
      for (auto& [lsn, timer] : waiters_) {
        timer->cancel();
      }
    }
  }
}

asio::awaitable<bool> replicator::wait_for(std::uint64_t lsn, std::chrono::milliseconds timeout) {
  if (stream_.acked_lsn() >= lsn) {
    co_return true;
  }
  if (stopped_ || waiters_.size() >= 8192) {
    co_return false;
  }
  asio::steady_timer timer(ex_);
  timer.expires_after(timeout);
  const auto it = waiters_.emplace(lsn, &timer);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  waiters_.erase(it);
  co_return stream_.acked_lsn() >= lsn;
}

asio::awaitable<core::result<json::value>> replicator::transact(node::store::txn_fn fn) {
  node::store::commit_info info;
  auto op = transact_info(std::move(fn), info);
  co_return co_await std::move(op);
}

asio::awaitable<core::result<json::value>> replicator::transact_info(
    node::store::txn_fn fn, node::store::commit_info& info) {
  if (opts_.mode == replicator_mode::replica && !promoted_) {
    co_return core::error{503, "read_only_replica",
                          "this node is a read-only replica: send writes to the primary"};
  }
  if (opts_.mode == replicator_mode::sync && !policy_.accepts_writes() &&
      !stream_.position_known() && stream_.failures() == 0 && !stopped_ && waiters_.size() < 8192) {
    // Starting up: wait for the mirror's first answer rather than refusing at once.
    asio::steady_timer timer(ex_);
    timer.expires_after(opts_.mirror_timeout);
    const auto it = waiters_.emplace(0, &timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    waiters_.erase(it);
  }
  if (opts_.mode == replicator_mode::sync && !policy_.accepts_writes()) {
    ++refused_writes_;
    co_return core::unavailable("the mirror " + target_->describe() +
                                " is out of sync: writes are refused until it has caught up");
  }
  auto op = inner_->transact_info(std::move(fn), info);
  auto r = co_await std::move(op);
  if (!r || info.lsn == 0 || opts_.mode != replicator_mode::sync) {
    co_return r;
  }
  if (policy_.degraded()) {
    info.degraded = true;
    ++degraded_writes_;
    co_return r;
  }
  const auto waited_from = clock::now();
  auto wait = wait_for(info.lsn, opts_.mirror_timeout);
  const bool held = co_await std::move(wait);
  if (held) {
    observe(wait_counts_, wait_bounds(), wait_n_, wait_sum_, seconds_since(waited_from));
    co_return r;
  }
  policy_.write_timed_out();
  if (policy_.mode() == mirror_mode::degrade) {
    info.degraded = true;
    ++degraded_writes_;
    co_return r;
  }
  ++refused_writes_;
  co_return core::unavailable("the mirror " + target_->describe() +
                              " did not confirm the write in time: writes are refused until it "
                              "has caught up (the write may be applied when it does)");
}

asio::awaitable<bool> replicator::sync() {
  if (!target_) {
    co_return false;
  }
  const std::uint64_t goal = inner_->lsn();
  stream_.primary_committed(goal);
  due_ = true;
  poke();
  auto wait = wait_for(goal, opts_.sync_timeout);
  co_return co_await std::move(wait);
}

asio::awaitable<core::result<std::string>> replicator::promote() {
  if (opts_.mode != replicator_mode::replica) {
    co_return core::conflict("not_a_replica", "only a replica can be promoted");
  }
  if (promoted_) {
    co_return inner_->history();
  }
  auto op = inner_->new_history();
  auto r = co_await std::move(op);
  if (r) {
    promoted_ = true;
    core::log::info("replication: promoted: writable under history " + *r);
  }
  co_return r;
}

json::object replicator::status() {
  json::object out;
  out["mode"] = mode_name(opts_.mode);
  out["history"] = inner_->history();
  out["checksum"] = checksum(*inner_, shop_collections());
  if (opts_.mode == replicator_mode::replica) {
    out["applied_lsn"] = inner_->lsn();
    out["promoted"] = promoted_;
    out["state"] = promoted_ ? "promoted" : "replica";
    return out;
  }
  const std::uint64_t primary = inner_->lsn();
  stream_.primary_committed(primary);
  const std::uint64_t held = stream_.acked_lsn();
  const auto lag = stream_.lag();
  double lag_ms = 0;
  if (lag > 0) {
    const auto first = commit_times_.find(held + 1);
    const auto since = first != commit_times_.end() ? first->second : started_;
    lag_ms = seconds_since(since) * 1000;
  }
  out["primary_lsn"] = primary;
  out["state"] = to_string(stream_.state());
  out["target"] = target_->describe();
  out["lag_entries"] = lag;
  out["lag_ms"] = static_cast<std::int64_t>(lag_ms);
  out["failures"] = stream_.failures();
  out["resyncs"] = stream_.resyncs();
  out["log_first_lsn"] = inner_->change_log_first();
  if (stream_.state() == link_state::diverged) {
    out["alarm"] = stream_.diverged_reason();
  }
  if (auto c = target_->checksum(); !c.empty()) {
    out["target_checksum"] = c;
  }
  if (opts_.mode == replicator_mode::sync) {
    out["mirror_lsn"] = held;
    out["in_sync"] = stream_.state() == link_state::in_sync;
    out["mirror_mode"] = policy_.mode() == mirror_mode::reject ? "reject" : "degrade";
    out["accepting_writes"] = policy_.accepts_writes();
    out["degraded"] = policy_.degraded();
    out["mirror_timeout_ms"] = opts_.mirror_timeout.count();
  } else {
    out["replica_lsn"] = held;
    out["interval_ms"] = opts_.interval.count();
  }
  return out;
}

std::optional<json::object> replicator::get(std::string_view collection, std::string_view id) {
  return inner_->get(collection, id);
}
std::vector<node::store::entry> replicator::list(std::string_view collection) {
  return inner_->list(collection);
}
std::uint64_t replicator::lsn() {
  return inner_->lsn();
}
std::string replicator::history() {
  return inner_->history();
}
asio::awaitable<core::result<std::uint64_t>> replicator::apply_replicated(
    std::string history, std::vector<node::store::committed_batch> batches) {
  if (opts_.mode != replicator_mode::replica || promoted_) {
    co_return core::conflict("history_mismatch",
                             "this node is not a replica: it does not take a replication stream");
  }
  auto op = inner_->apply_replicated(std::move(history), std::move(batches));
  co_return co_await std::move(op);
}
std::shared_ptr<void> replicator::subscribe(subscriber fn) {
  return inner_->subscribe(std::move(fn));
}
store::store_stats replicator::stats() {
  return inner_->stats();
}
std::string replicator::describe() {
  return inner_->describe();
}
bool replicator::healthy() {
  return inner_->healthy();
}
void replicator::close() {
  stop();
  if (target_) {
    target_->close();
  }
}

}  // namespace node::replication
