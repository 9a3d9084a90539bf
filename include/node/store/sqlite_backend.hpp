// The SQLite backend ("sqlite:PATH"): documents in a WAL-mode database that several store
// objects and processes may share; LSN, history and id counters live in the database.
#pragma once

#include "node/store/backend.hpp"

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace node::store {

// Tells cheaply whether any connection, in any process, may have committed to a WAL-mode
// database since the last look: SQLite keeps the WAL-index header (two 48-byte copies, see
// SQLite's walformat.html) at the start of PATH-shm and changes it with every commit, before
// the commit returns. Loop thread only.
class wal_watch {
 public:
  wal_watch() = default;
  ~wal_watch();
  wal_watch(const wal_watch&) = delete;
  wal_watch& operator=(const wal_watch&) = delete;
  // Maps PATH-shm read-only; false (and every look says "changed") when it cannot.
  bool open(const std::filesystem::path& db_path);
  // True when the header is the same as at the last look that returned false; false
  // when it changed, is being written, or the watch is not open.
  bool unchanged();

 private:
  static constexpr std::size_t header_size = 96;
  int fd_ = -1;
  const unsigned char* map_ = nullptr;
  std::array<unsigned char, header_size> last_{};
  bool seen_ = false;
};

// Two connections: `read_` with its statements belongs to the loop thread, `write_` with
// its statements to the writer thread (each group is BEGIN IMMEDIATE ... COMMIT with a
// SAVEPOINT per transaction, so reads inside a transaction see the database under the
// write lock). Loop-side reads throw backend_failure when the database cannot be read.
// Single-document reads and the LSN are cached on the loop thread while the WAL-index header
// says no connection committed since (so a read never misses a commit that returned before
// it, from this process or another).
class sqlite_backend : public backend {
 public:
  // Opens or creates the database (tables, WAL, synchronous=FULL, 5 s busy timeout) and
  // the history id. Fails with SQLite's message.
  // With `background`, the checkpointer thread runs at the lowest CPU priority.
  static core::result<std::unique_ptr<sqlite_backend>> open(const std::filesystem::path& path,
                                                            bool background = false);
  ~sqlite_backend() override;

  std::optional<boost::json::object> get(std::string_view collection, std::string_view id) override;
  std::vector<entry> list(std::string_view collection) override;
  std::vector<entry> list_where(std::string_view collection, std::string_view field,
                                std::string_view value) override;
  std::uint64_t lsn() override;
  std::string history() override;
  void apply(const committed_batch& batch) override;
  void apply_history(const std::string& history) override;
  std::vector<committed_batch> log_after(std::uint64_t lsn, std::size_t max) override;
  std::uint64_t log_first() override;

  std::optional<boost::json::object> w_get(std::string_view collection,
                                           std::string_view id) override;
  std::vector<entry> w_list(std::string_view collection) override;
  void w_put(std::string_view collection, std::string_view id,
             const boost::json::object& doc) override;
  bool w_del(std::string_view collection, std::string_view id) override;
  std::uint64_t w_next_id(std::string_view collection) override;
  void w_set_lsn(std::uint64_t lsn) override;
  void w_keep_id(std::string_view collection, std::uint64_t id) override;
  void w_set_history(const std::string& history) override;
  std::shared_ptr<const std::string> w_log(const committed_batch& batch) override;
  void w_prune_log(std::uint64_t upto) override;

  core::result<std::uint64_t> begin_group() override;
  void savepoint() override;
  void release() override;
  void rollback_to_savepoint() override;
  core::result<void> commit_group(bool dirty) override;
  void rollback_group() noexcept override;
  void after_group() noexcept override;
  void close_writer() noexcept override;

 private:
  struct db_closer {
    void operator()(sqlite3* db) const noexcept;
  };
  struct stmt_closer {
    void operator()(sqlite3_stmt* s) const noexcept;
  };
  using db_ptr = std::unique_ptr<sqlite3, db_closer>;
  using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_closer>;

  // Prepared statements of one connection.
  struct statements {
    stmt_ptr get, list, list_where, lsn, log_after, log_first;
    // writer connection only
    stmt_ptr put, del, last_id, keep_id, set_lsn, set_history, log, prune;
    // transaction control, prepared once rather than parsed on every request
    stmt_ptr begin, commit, savepoint, release, rollback_to;
  };

  sqlite_backend() = default;

  // Drops the read cache when the database may have changed; true when it is still valid.
  bool cache_valid();

  db_ptr read_;
  statements r_;
  wal_watch watch_;
  std::unordered_map<std::string, std::optional<boost::json::object>> doc_cache_;
  std::unordered_map<std::string, std::vector<entry>> list_cache_;  // small collections only
  std::optional<std::uint64_t> lsn_cache_;
  std::string history_;  // fixed at open

  // Checkpoints the WAL on a thread and connection of its own (see sqlite_backend.cpp).
  class checkpointer;
  static int on_wal(void* self, sqlite3* db, const char* name, int pages);

  db_ptr write_;
  statements w_;
  std::unique_ptr<checkpointer> checkpointer_;
  // Writer side: the WAL's pages after the last commit (from the WAL hook), and the size at
  // which the writer next finishes a checkpoint itself (see after_group).
  int wal_pages_ = 0;
  int finish_at_ = 0;
  // The id counters of next_ids, read once and kept here by the writer: handing out an id
  // costs no statement; commit_group writes the counters that moved before its COMMIT.
  struct id_state {
    std::uint64_t last = 0;    // the last id handed out or kept
    std::uint64_t stored = 0;  // what the database holds
  };
  std::uint64_t& id_counter(std::string_view collection);
  std::map<std::string, id_state, std::less<>> ids_;
  // The LSN the writer's transaction is at: read at begin_group, moved by w_set_lsn. A
  // group that begins at another LSN follows another process's commit: ids_ is read again.
  std::uint64_t group_lsn_ = 0;
  // The LSN the group began at: commit_group writes group_lsn_ when it moved.
  std::uint64_t begin_lsn_ = 0;
  // The group's change-log entries, written as one row (a JSON array of batches, LZ4-
  // compressed, keyed by the last LSN, `first` the first) by commit_group; the LSNs mean something
  // only while group_log_ is not empty.
  std::string group_log_;
  std::uint64_t group_log_first_ = 0, group_log_last_ = 0;
  // The row as written: group_log_ compressed (see log_row in sqlite_backend.cpp).
  std::string log_row_;
  // What rollback_to_savepoint restores.
  struct savepoint_mark {
    std::uint64_t lsn = 0;
    std::size_t log_size = 0;
    std::uint64_t log_last = 0;
  };
  savepoint_mark mark_;
  // The bodies w_put wrote since the last savepoint or log entry, in order: w_log writes
  // them into the entry instead of serializing the docs again.
  std::vector<std::string> put_texts_;
};

}  // namespace node::store
