// What the store's group-commit core needs from a backend (memory, json file, SQLite):
// committed reads for the loop thread and savepoint-scoped writes for the writer thread.
// Private to the store: roles use node/store/store.hpp.
#pragma once

#include "node/store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace node::store {

// Thrown by a backend's writer operations when the medium fails mid-group (an SQLite
// I/O error, a full disk). The core turns it into 503 for the transaction or the group.
struct backend_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Orders ids by (length, bytes) so numeric ids sort numerically. Transparent.
struct id_less {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  }
};

// A random history id: 32 lowercase hex digits.
std::string make_history_id();

// Puts the calling thread at the lowest CPU priority (nice 19), for the threads of a store
// nobody waits on; does nothing where it cannot.
void run_in_background() noexcept;

// Creates the directories above `path`; fails with a 503 naming the directory.
core::result<void> create_parent_directories(const std::filesystem::path& path);

// One storage medium. Two sides with separate state:
//  - loop side (`get`, `list`, `lsn`, `history`, `apply`): called on the loop thread only;
//  - writer side (everything prefixed `w_` and the group/savepoint calls): called on the
//    writer thread only, in the order begin_group, then per transaction savepoint ...
//    release or rollback_to_savepoint, then commit_group or rollback_group.
// Writer operations throw backend_failure when the medium fails.
// The entries whose document's top-level `field` is the string `value` (what list_where
// selects), in their order.
std::vector<entry> where_string_field(std::vector<entry> all, std::string_view field,
                                      std::string_view value);

class backend {
 public:
  virtual ~backend() = default;

  // Loop side: committed data.
  virtual std::optional<boost::json::object> get(std::string_view collection,
                                                 std::string_view id) = 0;
  virtual std::vector<entry> list(std::string_view collection) = 0;
  // The documents of `collection` whose top-level field `field` is the string `value`, in
  // list()'s order. This one filters list(); SQLite filters without parsing every document.
  virtual std::vector<entry> list_where(std::string_view collection, std::string_view field,
                                        std::string_view value);
  virtual std::uint64_t lsn() = 0;
  virtual std::string history() = 0;
  // Makes a batch that is now durable visible to the loop side (a no-op for backends
  // whose loop side reads the medium itself).
  virtual void apply(const committed_batch& batch) = 0;
  // Makes a history id that is now durable visible to the loop side.
  virtual void apply_history(const std::string& history) = 0;
  // The change log: committed batches after `lsn`, in order, at most `max`; and the
  // first LSN it holds (0 when empty).
  virtual std::vector<committed_batch> log_after(std::uint64_t lsn, std::size_t max) = 0;
  virtual std::uint64_t log_first() = 0;
  // Makes a logged batch / a pruning that is now durable visible to the loop side (no-ops
  // for backends whose loop side reads the medium itself).
  virtual void apply_log(const committed_batch& batch) { (void)batch; }
  virtual void apply_prune(std::uint64_t upto) { (void)upto; }

  // Writer side: the working state, including uncommitted writes of the current group.
  virtual std::optional<boost::json::object> w_get(std::string_view collection,
                                                   std::string_view id) = 0;
  virtual std::vector<entry> w_list(std::string_view collection) = 0;
  virtual void w_put(std::string_view collection, std::string_view id,
                     const boost::json::object& doc) = 0;
  // True when the document existed (and is now gone).
  virtual bool w_del(std::string_view collection, std::string_view id) = 0;
  // Hands out the next id of a collection; a later rollback never takes it back.
  virtual std::uint64_t w_next_id(std::string_view collection) = 0;
  // Records the LSN of the batch of the current transaction.
  virtual void w_set_lsn(std::uint64_t lsn) = 0;
  // Makes sure w_next_id never hands out `id` or below (replicated documents).
  virtual void w_keep_id(std::string_view collection, std::uint64_t id) = 0;
  virtual void w_set_history(const std::string& history) = 0;
  // Writes a batch to the change log and returns the JSON text it wrote (batch.text when
  // it has one; null when the backend keeps no text) / drops log entries at or below `upto`.
  virtual std::shared_ptr<const std::string> w_log(const committed_batch& batch) = 0;
  virtual void w_prune_log(std::uint64_t upto) = 0;

  // Starts a group (takes the write lock where there is one); returns the last
  // committed LSN. An error fails the whole group with 503.
  virtual core::result<std::uint64_t> begin_group() = 0;
  virtual void savepoint() = 0;
  virtual void release() = 0;
  // Undoes the writes since savepoint() (ids handed out stay used) and ends the scope.
  virtual void rollback_to_savepoint() = 0;
  // Makes the group durable with one commit; `dirty` is false when nothing in it needs
  // to be written. On error the caller calls rollback_group().
  virtual core::result<void> commit_group(bool dirty) = 0;
  // Undoes the whole group. Never throws.
  virtual void rollback_group() noexcept = 0;
  // Writer thread, after a group's outcome has gone to the loop: upkeep that need not delay
  // that group's callers (the SQLite backend finishes a WAL checkpoint here).
  virtual void after_group() noexcept {}
  // Called once on the writer thread when it stops.
  virtual void close_writer() noexcept {}
};

}  // namespace node::store
