// The replicating store: write gating and waiting (mirror-shop), the shipper coroutine
// that drives the stream decisions against a target (with the roll forward after a
// crash), sync, promote, the replica's fenced apply, and the status.
#include "node/replication/replicator.hpp"

#include "node/core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

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

core::result<stream_request> read_stream_request(const json::value& body) {
  const auto* o = body.if_object();
  const auto* history = o ? o->if_contains("history") : nullptr;
  if (!history || !history->is_string() || history->get_string().empty()) {
    return core::bad_request("history must be a non-empty string", "history");
  }
  const auto* list = o->if_contains("batches");
  if (!list || !list->is_array()) {
    return core::bad_request("batches must be an array", "batches");
  }
  stream_request req;
  req.history = history->get_string();
  if (const auto* s = o->if_contains("session")) {
    if (!s->is_string()) {
      return core::bad_request("session must be a string", "session");
    }
    req.session = s->get_string();
  }
  if (const auto* f = o->if_contains("fence")) {
    if (!f->is_bool()) {
      return core::bad_request("fence must be a boolean", "fence");
    }
    req.fence = f->get_bool();
  }
  if (const auto* d = o->if_contains("durable_lsn")) {
    json::error_code ec;
    req.durable_lsn = d->to_number<std::uint64_t>(ec);
    if (ec) {
      return core::bad_request("durable_lsn must be a non-negative integer", "durable_lsn");
    }
  }
  for (const auto& b : list->get_array()) {
    auto parsed = store::batch_from_json(b);
    if (!parsed) return parsed.error();
    req.batches.push_back(std::make_shared<const store::committed_batch>(std::move(*parsed)));
  }
  return req;
}

replicator::replicator(asio::any_io_executor ex, std::shared_ptr<node::store::store> inner,
                       std::unique_ptr<target> t, replicator_options opts)
    : ex_(std::move(ex)),
      inner_(std::move(inner)),
      target_(std::move(t)),
      opts_(opts),
      stream_({opts.max_batches, std::chrono::milliseconds(100), std::chrono::milliseconds(2000),
               opts.mode == replicator_mode::sync}),
      policy_(opts.on_mirror_failure),
      wake_(ex_),
      checksum_(*inner_),
      wait_counts_(wait_bounds().size(), 0),
      lag_counts_(lag_bounds().size(), 0) {
  inner_->keep_change_log();
  durable_lsn_ = inner_->lsn();
  stream_.primary_committed(durable_lsn_);
  feed_ = inner_->subscribe([this](const node::store::batch_ref& b) {
    durable_lsn_ = std::max(durable_lsn_, b->lsn);
    stream_.primary_committed(b->lsn);
    if (opts_.mode == replicator_mode::replica) {
      if (promoted_) {
        inner_->prune_change_log(b->lsn);  // no primary will ask for these
      }
      return;
    }
    // Announced batches stay until the mirror holds them; past tail_max, the oldest
    // durable ones are left to the change log.
    while (pending_.size() > tail_max && pending_.begin()->first <= b->lsn)
      pending_.erase(pending_.begin());
    if (opts_.mode == replicator_mode::async && b->lsn > stream_.acked_lsn()) {
      if (!tail_.empty() && tail_.back()->lsn + 1 != b->lsn) tail_.clear();
      if (tail_.size() == tail_max) tail_.pop_front();
      tail_.push_back(b);
      if (tail_.size() == tail_max && opts_.interval.count() > 0 && !due_) {
        // The queue is full before the interval is up: ship now rather than read the
        // batches back from the log later.
        due_ = true;
        poke();
      }
    }
    note_decided(b->lsn);
    if (opts_.mode == replicator_mode::sync) {
      poke();
    }
  });
  if (opts_.mode == replicator_mode::sync) {
    prepared_feed_ = inner_->subscribe_prepared([this](const node::store::batch_ref& b) {
      stream_.primary_committed(b->lsn);
      if (b->lsn > stream_.acked_lsn()) {
        pending_.insert_or_assign(b->lsn, b);
      }
      note_decided(b->lsn);
      poke();
    });
  }
}

void replicator::note_decided(std::uint64_t lsn) {
  if (lsn <= stream_.acked_lsn()) {
    return;
  }
  commit_times_.emplace(lsn, clock::now());
  if (commit_times_.size() > 100000) {
    commit_times_.erase(commit_times_.begin());
  }
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
  m.declare("replication_rolled_forward_total", core::metrics::kind::counter,
            "Batches brought back from the mirror at start (lost here in a crash).");
  m.declare("replication_mirror_wait_seconds", core::metrics::kind::histogram,
            "Time a write waited for the mirror after its local commit.", wait_bounds());
  m.declare("replication_lag_seconds", core::metrics::kind::histogram,
            "Time from a batch's local commit (mirror-shop: its decision, before the local "
            "commit) to the target holding it.",
            lag_bounds());
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
    s.primary_committed(self->inner_->lsn());
    mm.set("replication_lag_entries", {}, static_cast<double>(s.lag()));
    mm.set("replication_lag_ms", {}, self->lag_ms());
    mm.set("replication_resyncs_total", {}, static_cast<double>(s.resyncs()));
    mm.set("replication_failures_total", {}, static_cast<double>(s.failures()));
    mm.set("replication_degraded", {}, self->policy_.degraded() ? 1 : 0);
    mm.set("replication_degraded_writes_total", {}, static_cast<double>(self->degraded_writes_));
    mm.set("replication_refused_writes_total", {}, static_cast<double>(self->refused_writes_));
    mm.set("replication_rolled_forward_total", {}, static_cast<double>(self->rolled_forward_));
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
  asio::co_spawn(ex_, run_shipper(), [self = shared_from_this()](const std::exception_ptr& e) {
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
  for (auto* timer : gate_) {
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
      if (handle(a) == stream::verdict::roll_forward) {
        auto back = roll_forward(history);
        co_await std::move(back);
      }
      continue;
    }
    const bool may_ship = opts_.mode == replicator_mode::sync || due_;
    if (may_ship) {
      if (auto after = stream_.next_send(now)) {
        auto batches = collect(*after);
        if (batches.empty()) {
          stream_.log_missing(inner_->change_log_first());
          handle(answer{answer::kind::applied, stream_.acked_lsn(), history});
          continue;
        }
        // The log may already show a group whose completion the loop has not run yet.
        stream_.primary_committed(batches.back()->lsn);
        stream_.sending();
        auto op = target_->apply(history, std::move(batches), durable_lsn_);
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

std::vector<node::store::batch_ref> replicator::collect(std::uint64_t after) {
  // From memory (async: the tail; sync: the announced batches) when it holds the next
  // batch; otherwise from the change log, then on with the announced batches.
  std::vector<node::store::batch_ref> batches;
  while (!tail_.empty() && tail_.front()->lsn <= after)
    tail_.pop_front();
  if (!tail_.empty() && tail_.front()->lsn == after + 1) {
    const auto n = std::min(opts_.max_batches, tail_.size());
    batches.assign(tail_.begin(), tail_.begin() + static_cast<std::ptrdiff_t>(n));
    return batches;
  }
  std::uint64_t next = after + 1;
  if (!pending_.contains(next)) {
    for (auto& b : inner_->changes_after(after, opts_.max_batches))
      batches.push_back(std::make_shared<const node::store::committed_batch>(std::move(b)));
    next = batches.empty() ? after + 1 : batches.back()->lsn + 1;
  }
  for (auto it = pending_.find(next);
       it != pending_.end() && it->first == next && batches.size() < opts_.max_batches;
       ++it, ++next) {
    batches.push_back(it->second);
  }
  return batches;
}

// Roll forward: the target holds batches after this node's LSN that this node announced
// before a crash and lost. The target has been fenced, so they stay as they are while
// they are fetched from its change log and applied here under the same LSNs.
asio::awaitable<void> replicator::roll_forward(std::string history) {
  const std::uint64_t from = inner_->lsn();
  const std::uint64_t goal = stream_.acked_lsn();
  core::log::warn("replication: the mirror " + target_->describe() + " holds LSN " +
                  std::to_string(goal) + " and this node only " + std::to_string(from) +
                  ": bringing back the batches this node lost");
  while (!stopped_ && inner_->lsn() < goal) {
    const std::uint64_t have = inner_->lsn();
    auto fetch = target_->changes_after(history, have,
                                        std::min<std::uint64_t>(opts_.max_batches, goal - have));
    auto got = co_await std::move(fetch);
    if (!got) {
      if (got.error().status == 409) {
        stream_.cannot_roll_forward(got.error().message);
        settle(stream::verdict::diverged);
      } else {
        handle(answer{});
      }
      co_return;
    }
    std::erase_if(*got, [goal](const node::store::committed_batch& b) { return b.lsn > goal; });
    if (got->empty() || got->front().lsn != have + 1) {
      stream_.cannot_roll_forward("its change log no longer holds LSN " + std::to_string(have + 1));
      settle(stream::verdict::diverged);
      co_return;
    }
    auto apply = inner_->apply_replicated(history, std::move(*got));
    auto applied = co_await std::move(apply);
    if (!applied) {
      if (applied.error().status == 409) {
        stream_.cannot_roll_forward(applied.error().message);
        settle(stream::verdict::diverged);
      } else {
        handle(answer{});
      }
      co_return;
    }
    if (*applied <= have) {
      stream_.cannot_roll_forward("applying its batches after LSN " + std::to_string(have) +
                                  " here changed nothing");
      settle(stream::verdict::diverged);
      co_return;
    }
    rolled_forward_ += *applied - have;
  }
  if (stopped_) {
    co_return;
  }
  stream_.rolled_forward(inner_->lsn());
  settle(stream::verdict::progress);
  if (stream_.reconciled()) {
    core::log::info("replication: rolled forward LSN " + std::to_string(from + 1) + ".." +
                    std::to_string(goal) + " from the mirror " + target_->describe());
  }
}

stream::verdict replicator::handle(const answer& a) {
  const std::uint64_t before = stream_.acked_lsn();
  const auto verdict = stream_.on_answer(a, inner_->history(), clock::now());
  const std::uint64_t acked = stream_.acked_lsn();
  if (acked > before || verdict == stream::verdict::progress) {
    for (auto it = commit_times_.begin(); it != commit_times_.end() && it->first <= acked;) {
      observe(lag_counts_, lag_bounds(), lag_n_, lag_sum_, seconds_since(it->second));
      it = commit_times_.erase(it);
    }
    pending_.erase(pending_.begin(), pending_.upper_bound(acked));
    while (!tail_.empty() && tail_.front()->lsn <= acked)
      tail_.pop_front();
    inner_->prune_change_log(acked);
  }
  settle(verdict);
  return verdict;
}

void replicator::settle(stream::verdict verdict) {
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
  wake_waiters();
  if (policy_.accepts_writes() || stream_.failures() > 0 ||
      stream_.state() == link_state::diverged) {
    for (auto* timer : gate_) {
      timer->cancel();
    }
  }
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

asio::awaitable<void> replicator::wait_at_gate() {
  if (gate_.size() >= 8192) {
    co_return;
  }
  asio::steady_timer timer(ex_);
  timer.expires_after(opts_.mirror_timeout);
  gate_.push_back(&timer);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::erase(gate_, &timer);
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
  if (opts_.mode == replicator_mode::sync && !policy_.accepts_writes() && stream_.failures() == 0 &&
      stream_.state() != link_state::diverged && !stopped_) {
    // Starting up: wait for the mirror's first verdict rather than refusing at once.
    auto gate = wait_at_gate();
    co_await std::move(gate);
  }
  if (opts_.mode == replicator_mode::sync && !policy_.accepts_writes()) {
    ++refused_writes_;
    if (stream_.state() == link_state::diverged) {
      co_return core::unavailable("replication to the mirror " + target_->describe() +
                                  " has stopped: " + stream_.diverged_reason() +
                                  ": writes are refused");
    }
    if (!policy_.reconciled()) {
      co_return core::unavailable(
          "the mirror " + target_->describe() +
          " has not answered since this node started: writes are refused until it has (it may "
          "hold writes this node lost in a crash)");
    }
    co_return core::unavailable("the mirror " + target_->describe() +
                                " is out of sync: writes are refused until it has caught up");
  }
  // The store announces the batch before its fsync, and the shipper sends it to the mirror
  // meanwhile: by the time the local commit completes, the mirror often holds it already.
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
  const auto outcome = policy_.after_commit(held);
  if (outcome == mirror_policy::outcome::acknowledged) {
    observe(wait_counts_, wait_bounds(), wait_n_, wait_sum_, seconds_since(waited_from));
    co_return r;
  }
  if (outcome == mirror_policy::outcome::degraded) {
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

double replicator::lag_ms() const {
  if (stream_.lag() == 0) {
    return 0;
  }
  const auto first = commit_times_.find(stream_.acked_lsn() + 1);
  return seconds_since(first != commit_times_.end() ? first->second : started_) * 1000;
}

std::string replicator::state() {
  if (opts_.mode == replicator_mode::replica) {
    return promoted_ ? "promoted" : "replica";
  }
  stream_.primary_committed(inner_->lsn());
  return to_string(stream_.state());
}

std::uint64_t replicator::target_lsn() const {
  return opts_.mode == replicator_mode::replica ? inner_->lsn() : stream_.acked_lsn();
}

json::object replicator::status() {
  json::object out;
  out["mode"] = mode_name(opts_.mode);
  out["history"] = inner_->history();
  out["checksum"] = checksum_.of();
  if (opts_.mode == replicator_mode::replica) {
    out["applied_lsn"] = inner_->lsn();
    out["promoted"] = promoted_;
    out["state"] = promoted_ ? "promoted" : "replica";
    return out;
  }
  const std::uint64_t primary = inner_->lsn();
  stream_.primary_committed(primary);
  const std::uint64_t held = stream_.acked_lsn();
  out["primary_lsn"] = primary;
  out["state"] = to_string(stream_.state());
  out["target"] = target_->describe();
  out["lag_entries"] = stream_.lag();
  out["lag_ms"] = static_cast<std::int64_t>(lag_ms());
  out["failures"] = stream_.failures();
  out["resyncs"] = stream_.resyncs();
  out["log_first_lsn"] = inner_->change_log_first();
  out["rolled_forward"] = rolled_forward_;
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
    out["reconciled"] = policy_.reconciled();
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
std::vector<node::store::entry> replicator::list_where(std::string_view collection,
                                                       std::string_view field,
                                                       std::string_view value) {
  return inner_->list_where(collection, field, value);
}
std::uint64_t replicator::lsn() {
  return inner_->lsn();
}
std::string replicator::history() {
  return inner_->history();
}
asio::awaitable<core::result<std::uint64_t>> replicator::apply_replicated(
    std::string history, std::vector<node::store::batch_ref> batches, std::uint64_t held_upto) {
  auto op =
      apply_stream(stream_request{std::move(history), {}, false, held_upto, std::move(batches)});
  co_return co_await std::move(op);
}

asio::awaitable<core::result<std::uint64_t>> replicator::apply_stream(stream_request req) {
  if (opts_.mode != replicator_mode::replica || promoted_) {
    co_return core::conflict("history_mismatch",
                             "this node is not a replica: it does not take a replication stream");
  }
  if (req.fence && !req.session.empty()) {
    if (fence_ != req.session) {
      core::log::info("replication: taking the stream of primary session " + req.session);
    }
    fence_ = req.session;
  } else if (!req.session.empty() && !fence_.empty() && req.session != fence_) {
    co_return core::conflict("stale_session",
                             "another primary process has taken this replica over since");
  }
  // Queued behind everything accepted before (the store applies in order), so the answer
  // to a fencing request covers every batch an earlier session got in.
  auto op =
      inner_->apply_replicated(std::move(req.history), std::move(req.batches), req.durable_lsn);
  auto r = co_await std::move(op);
  if (r && req.durable_lsn > 0) {
    inner_->prune_change_log(std::min(req.durable_lsn, *r));
  }
  co_return r;
}

std::vector<node::store::committed_batch> replicator::changes_after(std::uint64_t lsn,
                                                                    std::size_t max) {
  return inner_->changes_after(lsn, max);
}
std::uint64_t replicator::change_log_first() {
  return inner_->change_log_first();
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
