// The storage abstraction every role uses: named collections of JSON documents keyed by
// id, atomic durable write batches numbered by LSN, a change feed, and id allocation.
#pragma once

#include "node/core/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace node::store {

// One change inside a batch. `doc` is empty for a delete.
struct op {
  enum class kind { put, del };
  kind type = kind::put;
  std::string collection;
  std::string id;
  boost::json::object doc;
};

// A batch as it was committed: all its ops became durable together under `lsn`.
struct committed_batch {
  std::uint64_t lsn = 0;
  std::vector<op> ops;
  // Its JSON text (batch_to_json_text), when the store that committed it already wrote it
  // (for its change log): replication sends it as it is. Shared by copies; never changed.
  std::shared_ptr<const std::string> text;
};

// A committed batch as the store hands it out (to subscribers, replication queues and
// targets): shared by everyone who keeps it, never copied and never changed.
using batch_ref = std::shared_ptr<const committed_batch>;

// What a write did, for answers that report it: the batch's LSN (0 when it wrote
// nothing), and whether a replicating store acknowledged it without its mirror.
struct commit_info {
  std::uint64_t lsn = 0;
  bool degraded = false;
};

// A batch as JSON, as the change log keeps it and replication sends it:
// {"lsn":N,"ops":[{"op":"put","collection":..,"id":..,"doc":{..}},{"op":"del",..}]}.
boost::json::object batch_to_json(const committed_batch& b);
// core::to_json(batch_to_json(b)), written directly, or b.text when it has one; `doc_texts`,
// when not empty, holds the serialized docs of b's put ops in order (core::to_json of
// each), written as they are.
std::string batch_to_json_text(const committed_batch& b,
                               std::span<const std::string> doc_texts = {});
// The same text appended to `out` (b.text appended as it is, not copied first).
void append_batch_json_text(std::string& out, const committed_batch& b,
                            std::span<const std::string> doc_texts = {});
// The inverse; fails with 400 naming the field at fault.
core::result<committed_batch> batch_from_json(const boost::json::value& v);

// A document with its id, as lists return them.
struct entry {
  std::string id;
  boost::json::object doc;
};

// What a transaction function sees: the store's current state (including its own
// earlier writes) on the writer thread. Writes are recorded and become one batch.
// Valid only during the call of the transaction function; never keep a reference.
class txn {
 public:
  virtual ~txn() = default;
  virtual std::optional<boost::json::object> get(std::string_view collection,
                                                 std::string_view id) = 0;
  // Every document of a collection, ordered by (id length, id): numeric ids sort numerically.
  virtual std::vector<entry> list(std::string_view collection) = 0;
  virtual void put(std::string_view collection, std::string_view id, boost::json::object doc) = 0;
  // Deleting a missing id is not an error and records nothing.
  virtual void del(std::string_view collection, std::string_view id) = 0;
  // The next id of a collection, starting at 1; never handed out twice, even if the
  // document is later deleted or this transaction fails afterwards.
  virtual std::uint64_t next_id(std::string_view collection) = 0;
};

// Runs on the writer thread. Returns the value to hand back to the caller, or an error:
// then nothing it wrote is committed.
using txn_fn = std::function<core::result<boost::json::value>(txn&)>;

// Counters for /metrics. Read on the loop thread.
struct store_stats {
  std::uint64_t batches_committed = 0;  // batches with at least one op
  std::uint64_t groups_committed = 0;   // durable commits (one fsync / one transaction each)
  std::uint64_t commit_failures = 0;
  // fsync (durable commit) latency histogram, seconds; cumulative counts per bucket bound.
  std::vector<double> fsync_bucket_bounds;
  std::vector<std::uint64_t> fsync_bucket_counts;  // same size as bounds, cumulative
  std::uint64_t fsync_count = 0;
  double fsync_sum_seconds = 0;
};

// A store. Reads (`get`, `list`, `lsn`) run on the loop thread against committed data.
// Writes (`transact`) run on one writer thread; transactions waiting together are
// committed together with one durable commit (group commit), each keeping its own
// batch and LSN. A transaction completes (back on the loop executor) only after its
// batch is durable. All methods are called from the loop thread only.
class store {
 public:
  virtual ~store() = default;

  // Opens "memory:", "json:PATH" or "sqlite:PATH" (relative paths against the working
  // directory; parent directories are created). Fails with a message naming the spec.
  // With `background`, the store's own threads (its writer, SQLite's checkpointer) run at
  // the lowest CPU priority: for a store nobody waits on, such as async-replica's local
  // secondary, whose work should take only the CPU the node's acknowledged writes leave.
  static core::result<std::shared_ptr<store>> open(std::string_view spec,
                                                   boost::asio::any_io_executor loop,
                                                   bool background = false);

  virtual std::optional<boost::json::object> get(std::string_view collection,
                                                 std::string_view id) = 0;
  virtual std::vector<entry> list(std::string_view collection) = 0;
  // The documents of `collection` whose top-level field `field` is the string `value`, in
  // list()'s order: still a pass over the collection, but the SQLite store makes it inside
  // SQLite instead of parsing every document (this default filters list()).
  virtual std::vector<entry> list_where(std::string_view collection, std::string_view field,
                                        std::string_view value);
  // The LSN of the last committed batch (0 for a new store).
  virtual std::uint64_t lsn() = 0;
  // A random id made when the store was first created, kept durably with the data;
  // replication uses it to tell two unrelated stores with equal LSNs apart.
  virtual std::string history() = 0;

  // Runs fn in a transaction on the writer thread; commits what it wrote as the next
  // batch (no LSN is used when it wrote nothing). Errors: fn's own error (nothing
  // committed), or 503 unavailable when the durable commit failed or the store is closed.
  virtual boost::asio::awaitable<core::result<boost::json::value>> transact(txn_fn fn) = 0;

  // As transact, and fills `info` (which must outlive the call) when the write succeeded.
  // Stores that do not track it leave `info` as it is.
  virtual boost::asio::awaitable<core::result<boost::json::value>> transact_info(txn_fn fn,
                                                                                 commit_info& info);

  // Replication (see docs/replication.md). The defaults answer 503: the store does not
  // support it.

  // Applies batches committed by another store of history `history`, in LSN order,
  // durably and atomically with the LSN: batches at or below lsn() are skipped. A store
  // that never committed anything adopts `history`. Returns the LSN now applied. Errors:
  // 409 `replication_gap` (a batch beyond lsn() + 1) or `history_mismatch`; nothing applied.
  // `held_upto`: the sender holds the batches up to that LSN durably itself, so a change log
  // kept here need not (a mirror's log is for batches its primary may have lost).
  virtual boost::asio::awaitable<core::result<std::uint64_t>> apply_replicated(
      std::string history, std::vector<batch_ref> batches, std::uint64_t held_upto);
  boost::asio::awaitable<core::result<std::uint64_t>> apply_replicated(
      std::string history, std::vector<batch_ref> batches);
  // The same for batches the caller owns (parsed from a request, read from a log).
  boost::asio::awaitable<core::result<std::uint64_t>> apply_replicated(
      std::string history, std::vector<committed_batch> batches);
  // Gives the store a new random history id (a promoted replica); returns it.
  virtual boost::asio::awaitable<core::result<std::string>> new_history();
  // From now on, every batch is also written to a durable change log in the same commit.
  // Call before the first write.
  virtual void keep_change_log() {}
  // Logged batches after `lsn`, in order, at most `max` of them. A batch missing from the
  // log (pruned, or written while no log was kept) ends the list early.
  virtual std::vector<committed_batch> changes_after(std::uint64_t lsn, std::size_t max) {
    (void)lsn;
    (void)max;
    return {};
  }
  // Log entries at or below `lsn` may go; the next commit removes them.
  virtual void prune_change_log(std::uint64_t lsn) { (void)lsn; }
  // The LSN of the first batch the log still holds (0 when it is empty).
  virtual std::uint64_t change_log_first() { return 0; }

  // Calls fn on the loop thread for every batch this process commits, in LSN order,
  // before the transaction's caller resumes. Returns a handle: destroying it unsubscribes.
  using subscriber = std::function<void(const batch_ref&)>;
  virtual std::shared_ptr<void> subscribe(subscriber fn) = 0;

  // Calls fn on the loop thread for every batch whose LSN and ops the writer has decided,
  // before its durable commit here (so a mirror can write it while this store syncs),
  // in LSN order and before subscribe()'s call for the same batch. Such a batch is never
  // replaced by another of the same LSN: when its commit fails, the store commits it
  // again, before anything new, with its next group (retried on its own every 100 ms);
  // only a crash or close() loses it. Returns a handle as subscribe() does, or null when
  // the store does not announce batches.
  virtual std::shared_ptr<void> subscribe_prepared(subscriber fn) {
    (void)fn;
    return nullptr;
  }

  virtual store_stats stats() = 0;
  // The backend's name and location, for logs and /health: "sqlite:data/shop.db".
  virtual std::string describe() = 0;
  // False when the store cannot serve (e.g. its file became unwritable).
  virtual bool healthy() = 0;

  // Waits for queued transactions to commit, then stops the writer thread. Later
  // transactions fail with 503. Blocks the caller until the writer thread has joined.
  virtual void close() = 0;
};

}  // namespace node::store
