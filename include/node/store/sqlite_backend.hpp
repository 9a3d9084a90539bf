// The SQLite backend ("sqlite:PATH"): documents in a WAL-mode database that several store
// objects and processes may share; LSN, history and id counters live in the database.
#pragma once

#include "node/store/backend.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace node::store {

// Two connections: `read_` with its statements belongs to the loop thread, `write_` with
// its statements to the writer thread (each group is BEGIN IMMEDIATE ... COMMIT with a
// SAVEPOINT per transaction, so reads inside a transaction see the database under the
// write lock). Loop-side reads throw backend_failure when the database cannot be read.
class sqlite_backend : public backend {
 public:
  // Opens or creates the database (tables, WAL, synchronous=FULL, 5 s busy timeout) and
  // the history id. Fails with SQLite's message.
  static core::result<std::unique_ptr<sqlite_backend>> open(const std::filesystem::path& path);
  ~sqlite_backend() override;

  std::optional<boost::json::object> get(std::string_view collection, std::string_view id) override;
  std::vector<entry> list(std::string_view collection) override;
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
  void w_log(const committed_batch& batch) override;
  void w_prune_log(std::uint64_t upto) override;

  core::result<std::uint64_t> begin_group() override;
  void savepoint() override;
  void release() override;
  void rollback_to_savepoint() override;
  core::result<void> commit_group(bool dirty) override;
  void rollback_group() noexcept override;
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
    stmt_ptr get, list, lsn, log_after, log_first;
    // writer connection only
    stmt_ptr put, del, next_id, keep_id, set_lsn, set_history, log, prune;
  };

  sqlite_backend() = default;

  db_ptr read_;
  statements r_;
  std::string history_;  // fixed at open

  db_ptr write_;
  statements w_;
  std::map<std::string, std::uint64_t, std::less<>> txn_ids_;  // ids handed out since savepoint
};

}  // namespace node::store
