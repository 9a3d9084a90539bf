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
};

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
  static core::result<std::shared_ptr<store>> open(std::string_view spec,
                                                   boost::asio::any_io_executor loop);

  virtual std::optional<boost::json::object> get(std::string_view collection,
                                                 std::string_view id) = 0;
  virtual std::vector<entry> list(std::string_view collection) = 0;
  // The LSN of the last committed batch (0 for a new store).
  virtual std::uint64_t lsn() = 0;
  // A random id made when the store was first created, kept durably with the data;
  // replication uses it to tell two unrelated stores with equal LSNs apart.
  virtual std::string history() = 0;

  // Runs fn in a transaction on the writer thread; commits what it wrote as the next
  // batch (no LSN is used when it wrote nothing). Errors: fn's own error (nothing
  // committed), or 503 unavailable when the durable commit failed or the store is closed.
  virtual boost::asio::awaitable<core::result<boost::json::value>> transact(txn_fn fn) = 0;

  // Calls fn on the loop thread for every batch this process commits, in LSN order,
  // before the transaction's caller resumes. Returns a handle: destroying it unsubscribes.
  using subscriber = std::function<void(const committed_batch&)>;
  virtual std::shared_ptr<void> subscribe(subscriber fn) = 0;

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
