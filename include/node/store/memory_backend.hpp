// The in-memory backend ("memory:"): documents in ordered maps, per-transaction undo, and
// a separate copy for loop-thread reads. The json file backend builds on it.
#pragma once

#include "node/store/backend.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace node::store {

// Thread ownership: `loop_` belongs to the loop thread (reads, apply); `work_`, the undo
// log and the marks belong to the writer thread. The two copies share nothing.
class memory_backend : public backend {
 public:
  using collection = std::map<std::string, boost::json::object, id_less>;

  // Everything a store holds.
  struct state {
    std::map<std::string, collection, std::less<>> collections;
    std::map<std::string, std::uint64_t, std::less<>> next_ids;  // last id handed out
    std::uint64_t lsn = 0;
    std::string history;
    std::map<std::uint64_t, std::vector<op>> log;  // the change log, by LSN
  };

  // Both copies start as `initial`.
  explicit memory_backend(state initial);

  std::optional<boost::json::object> get(std::string_view collection, std::string_view id) override;
  std::vector<entry> list(std::string_view collection) override;
  std::uint64_t lsn() override;
  std::string history() override;
  void apply(const committed_batch& batch) override;
  void apply_history(const std::string& history) override;
  std::vector<committed_batch> log_after(std::uint64_t lsn, std::size_t max) override;
  std::uint64_t log_first() override;
  void apply_log(const committed_batch& batch) override;
  void apply_prune(std::uint64_t upto) override;

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

 protected:
  // Writer thread: the working copy, as a durable commit should write it.
  const state& working() const { return work_; }

 private:
  // How to restore one document: its value before the write, or absent.
  struct undo_entry {
    std::string collection;
    std::string id;
    std::optional<boost::json::object> before;
  };
  void undo_to(std::size_t mark) noexcept;

  state loop_;
  state work_;
  std::vector<undo_entry> undo_;
  std::size_t txn_mark_ = 0;
  std::uint64_t group_lsn_ = 0;
  // Undone by rollback_group: the group's history and log changes.
  std::string group_history_;
  std::vector<std::uint64_t> group_logged_;
  std::map<std::uint64_t, std::vector<op>> group_pruned_;
};

}  // namespace node::store
