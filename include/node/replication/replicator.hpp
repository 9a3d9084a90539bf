// The shop's write path wrapped for replication: a node::store::store that delegates to the
// node's store and, depending on the mode,
//  - sync (mirror-shop): ships each batch to the mirror as soon as the store has decided
//    it, while the local commit runs, and acknowledges a write only once it is durable
//    here and the mirror holds it, or per the mirror policy (reject: 503 and refuse writes
//    while the mirror is out; degrade: acknowledge local-only, marked degraded). At start
//    it takes no write before the mirror has answered, and brings back from the mirror
//    any batches it holds that this node lost in a crash (roll forward);
//  - async (async-replica): acknowledges once the write and its change-log entry are
//    durable; a shipper sends the log to the secondary on an interval and on sync();
//  - replica (a shop started with --read-only-replica): refuses client writes with 503
//    read_only_replica until promoted, applies the stream it is sent (keeping what it
//    applied in its change log until the primary holds it durably) and takes only the
//    latest primary process's stream (fence).
// One shipper coroutine per replicator sends to its target, one request in flight.
// Loop thread only: no locks.
#pragma once

#include "node/core/metrics.hpp"
#include "node/replication/stream.hpp"
#include "node/replication/target.hpp"
#include "node/store/store.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

namespace node::replication {

enum class replicator_mode { sync, async, replica };

// One POST /replication/apply, as a replica takes it.
struct stream_request {
  std::string history;
  std::string session;            // the sending process's stream; "" from other senders
  bool fence = false;             // take only `session` from now on
  std::uint64_t durable_lsn = 0;  // the sender's durable LSN: log entries up to it may go
  std::vector<node::store::batch_ref> batches;
};
// The body of POST /replication/apply; 400 naming the field at fault.
core::result<stream_request> read_stream_request(const boost::json::value& body);

struct replicator_options {
  replicator_mode mode = replicator_mode::async;
  mirror_mode on_mirror_failure = mirror_mode::reject;
  std::chrono::milliseconds mirror_timeout{2000};  // sync: how long a write waits for the mirror
  std::chrono::milliseconds interval{1000};        // async: 0 ships only on sync()
  std::chrono::milliseconds sync_timeout{5000};    // async: how long sync() waits
  std::size_t max_batches = 256;                   // batches per request
};

class replicator final : public node::store::store,
                         public std::enable_shared_from_this<replicator> {
 public:
  // `target` is null in replica mode. Switches on the inner store's change log.
  replicator(asio::any_io_executor ex, std::shared_ptr<node::store::store> inner,
             std::unique_ptr<target> t, replicator_options opts);
  ~replicator() override;

  // Publishes the replication gauges and histograms on a node's /metrics.
  void add_metrics(core::metrics& m);
  // Starts the shipper (sync, async). Stops it; pending writes and syncs answer 503.
  void start();
  void stop();

  // Async: ships now and waits until the secondary holds everything committed so far;
  // true when it does within the sync timeout.
  asio::awaitable<bool> sync();
  // Replica: makes the store writable under a new history id.
  asio::awaitable<core::result<std::string>> promote();
  // Replica: applies what a primary sent (see stream_request). Errors as apply_replicated,
  // and 409 stale_session when another primary process has fenced this replica since.
  asio::awaitable<core::result<std::uint64_t>> apply_stream(stream_request req);
  // Everything /replication/status reports, the data's checksum included.
  boost::json::object status();
  // The status's `state` alone (what /health reports).
  std::string state();
  // The LSN the target holds (replica: the LSN applied here).
  std::uint64_t target_lsn() const;
  // Age of the oldest batch the target does not hold yet, in milliseconds (0 when none).
  double lag_ms() const;
  bool promoted() const { return promoted_; }
  std::string describe_target() const { return target_ ? target_->describe() : std::string(); }
  const replicator_options& options() const { return opts_; }

  // node::store::store: reads and replication calls go to the inner store.
  std::optional<boost::json::object> get(std::string_view collection, std::string_view id) override;
  std::vector<node::store::entry> list(std::string_view collection) override;
  std::vector<node::store::entry> list_where(std::string_view collection, std::string_view field,
                                             std::string_view value) override;
  std::uint64_t lsn() override;
  std::string history() override;
  asio::awaitable<core::result<boost::json::value>> transact(node::store::txn_fn fn) override;
  asio::awaitable<core::result<boost::json::value>> transact_info(
      node::store::txn_fn fn, node::store::commit_info& info) override;
  using node::store::store::apply_replicated;
  asio::awaitable<core::result<std::uint64_t>> apply_replicated(
      std::string history, std::vector<node::store::batch_ref> batches,
      std::uint64_t held_upto) override;
  std::vector<node::store::committed_batch> changes_after(std::uint64_t lsn,
                                                          std::size_t max) override;
  std::uint64_t change_log_first() override;
  std::shared_ptr<void> subscribe(subscriber fn) override;
  node::store::store_stats stats() override;
  std::string describe() override;
  bool healthy() override;
  void close() override;

 private:
  asio::awaitable<void> run_shipper();
  // Brings back from the target the batches it holds after this node's LSN (a
  // roll_forward verdict), applies them here, and reconciles the stream.
  asio::awaitable<void> roll_forward(std::string history);
  // What to send next after `after`, from memory (async: the tail; sync: the announced
  // batches) when it holds the next one, else from the change log and on from memory.
  std::vector<node::store::batch_ref> collect(std::uint64_t after);
  stream::verdict handle(const answer& a);
  // After the stream changed: the policy, the alarm, and whoever waits.
  void settle(stream::verdict v);
  // Writes waiting at start for the mirror's first verdict.
  asio::awaitable<void> wait_at_gate();
  void note_decided(std::uint64_t lsn);
  // Waits until the target holds `lsn` or `timeout` passes; true when it holds it.
  asio::awaitable<bool> wait_for(std::uint64_t lsn, std::chrono::milliseconds timeout);
  void wake_waiters();
  void poke();

  asio::any_io_executor ex_;
  std::shared_ptr<node::store::store> inner_;
  std::unique_ptr<target> target_;
  replicator_options opts_;
  stream stream_;
  mirror_policy policy_;
  std::shared_ptr<void> feed_;
  std::shared_ptr<void> prepared_feed_;
  // sync: batches announced by the store and not yet held by the mirror, at most about
  // tail_max of them (the oldest durable ones go first), so shipping rarely reads the
  // change log back.
  std::map<std::uint64_t, node::store::batch_ref> pending_;
  // async: batches committed and not yet held by the secondary, newest last, LSNs
  // consecutive, at most tail_max of them, so shipping rarely reads the change log back.
  std::deque<node::store::batch_ref> tail_;
  static constexpr std::size_t tail_max = 8192;
  // replica: the only primary session taken (set by a fencing request; "" takes any).
  std::string fence_;
  asio::steady_timer wake_;
  bool running_ = false;
  bool stopped_ = false;
  bool due_ = false;  // async: ship until caught up
  bool promoted_ = false;
  bool alarmed_ = false;
  clock::time_point next_tick_{};
  const clock::time_point started_ = clock::now();
  // Writes and syncs waiting for the target, by the LSN they need.
  std::multimap<std::uint64_t, asio::steady_timer*> waiters_;
  // sync: writes waiting for the mirror's first verdict since start.
  std::vector<asio::steady_timer*> gate_;
  std::uint64_t rolled_forward_ = 0;  // batches brought back from the mirror
  // The last LSN this node's store committed, from its change feed: what a target may
  // prune below (reading the store's LSN would cost a SQLite read on the loop every time).
  std::uint64_t durable_lsn_ = 0;
  // Commit times of batches the target does not hold yet, for lag in milliseconds.
  std::map<std::uint64_t, clock::time_point> commit_times_;
  shop_checksum checksum_;  // of the data here
  std::uint64_t degraded_writes_ = 0;
  std::uint64_t refused_writes_ = 0;
  // Histograms (cumulative counts kept here, published by a collector).
  std::vector<std::uint64_t> wait_counts_, lag_counts_;
  std::uint64_t wait_n_ = 0, lag_n_ = 0;
  double wait_sum_ = 0, lag_sum_ = 0;
};

}  // namespace node::replication
