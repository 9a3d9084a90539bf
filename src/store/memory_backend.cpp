// The in-memory backend: working copy with an undo log on the writer thread, committed
// copy on the loop thread.
#include "node/store/memory_backend.hpp"

#include <utility>

namespace node::store {

namespace json = boost::json;

namespace {

std::optional<json::object> find_doc(const memory_backend::state& s, std::string_view collection,
                                     std::string_view id) {
  const auto c = s.collections.find(collection);
  if (c == s.collections.end()) {
    return std::nullopt;
  }
  const auto d = c->second.find(id);
  if (d == c->second.end()) {
    return std::nullopt;
  }
  return d->second;
}

std::vector<entry> list_docs(const memory_backend::state& s, std::string_view collection) {
  std::vector<entry> out;
  const auto c = s.collections.find(collection);
  if (c == s.collections.end()) {
    return out;
  }
  out.reserve(c->second.size());
  for (const auto& [id, doc] : c->second) {
    out.push_back({id, doc});
  }
  return out;
}

memory_backend::collection& collection_of(memory_backend::state& s, std::string_view name) {
  auto c = s.collections.find(name);
  if (c == s.collections.end()) {
    c = s.collections.emplace(std::string(name), memory_backend::collection{}).first;
  }
  return c->second;
}

}  // namespace

memory_backend::memory_backend(state initial) : loop_(initial), work_(std::move(initial)) {}

std::optional<json::object> memory_backend::get(std::string_view collection, std::string_view id) {
  return find_doc(loop_, collection, id);
}

std::vector<entry> memory_backend::list(std::string_view collection) {
  return list_docs(loop_, collection);
}

std::uint64_t memory_backend::lsn() {
  return loop_.lsn;
}

std::string memory_backend::history() {
  return loop_.history;
}

void memory_backend::apply(const committed_batch& batch) {
  for (const auto& o : batch.ops) {
    auto& c = collection_of(loop_, o.collection);
    if (o.type == op::kind::put) {
      c.insert_or_assign(o.id, o.doc);
    } else if (const auto d = c.find(o.id); d != c.end()) {
      c.erase(d);
    }
  }
  loop_.lsn = batch.lsn;
}

void memory_backend::apply_history(const std::string& history) {
  loop_.history = history;
}

std::vector<committed_batch> memory_backend::log_after(std::uint64_t lsn, std::size_t max) {
  std::vector<committed_batch> out;
  for (auto it = loop_.log.upper_bound(lsn); it != loop_.log.end() && out.size() < max; ++it) {
    if (it->first != lsn + out.size() + 1) {
      break;
    }
    out.push_back({it->first, it->second, nullptr});
  }
  return out;
}

std::uint64_t memory_backend::log_first() {
  return loop_.log.empty() ? 0 : loop_.log.begin()->first;
}

void memory_backend::apply_log(const committed_batch& batch) {
  loop_.log.insert_or_assign(batch.lsn, batch.ops);
}

void memory_backend::apply_prune(std::uint64_t upto) {
  loop_.log.erase(loop_.log.begin(), loop_.log.upper_bound(upto));
}

std::optional<json::object> memory_backend::w_get(std::string_view collection,
                                                  std::string_view id) {
  return find_doc(work_, collection, id);
}

std::vector<entry> memory_backend::w_list(std::string_view collection) {
  return list_docs(work_, collection);
}

void memory_backend::w_put(std::string_view collection, std::string_view id,
                           const json::object& doc) {
  auto& c = collection_of(work_, collection);
  auto d = c.find(id);
  if (d == c.end()) {
    undo_.push_back({std::string(collection), std::string(id), std::nullopt});
    c.emplace(std::string(id), doc);
  } else {
    undo_.push_back({std::string(collection), std::string(id), std::move(d->second)});
    d->second = doc;
  }
}

bool memory_backend::w_del(std::string_view collection, std::string_view id) {
  const auto c = work_.collections.find(collection);
  if (c == work_.collections.end()) {
    return false;
  }
  const auto d = c->second.find(id);
  if (d == c->second.end()) {
    return false;
  }
  undo_.push_back({std::string(collection), std::string(id), std::move(d->second)});
  c->second.erase(d);
  return true;
}

std::uint64_t memory_backend::w_next_id(std::string_view collection) {
  auto n = work_.next_ids.find(collection);
  if (n == work_.next_ids.end()) {
    n = work_.next_ids.emplace(std::string(collection), 0).first;
  }
  return ++n->second;
}

void memory_backend::w_set_lsn(std::uint64_t lsn) {
  work_.lsn = lsn;
}

void memory_backend::w_keep_id(std::string_view collection, std::uint64_t id) {
  auto n = work_.next_ids.find(collection);
  if (n == work_.next_ids.end()) {
    work_.next_ids.emplace(std::string(collection), id);
  } else if (n->second < id) {
    n->second = id;
  }
}

void memory_backend::w_set_history(const std::string& history) {
  work_.history = history;
}

std::shared_ptr<const std::string> memory_backend::w_log(const committed_batch& batch) {
  work_.log.insert_or_assign(batch.lsn, batch.ops);
  group_logged_.push_back(batch.lsn);
  return batch.text;
}

void memory_backend::w_prune_log(std::uint64_t upto) {
  auto end = work_.log.upper_bound(upto);
  for (auto it = work_.log.begin(); it != end;) {
    auto node = work_.log.extract(it++);
    group_pruned_.insert(std::move(node));
  }
}

core::result<std::uint64_t> memory_backend::begin_group() {
  undo_.clear();
  group_logged_.clear();
  group_pruned_.clear();
  group_history_ = work_.history;
  txn_mark_ = 0;
  group_lsn_ = work_.lsn;
  return core::result<std::uint64_t>(boost::system::in_place_value, work_.lsn);
}

void memory_backend::savepoint() {
  txn_mark_ = undo_.size();
}

void memory_backend::release() {}

void memory_backend::rollback_to_savepoint() {
  undo_to(txn_mark_);
}

core::result<void> memory_backend::commit_group(bool) {
  undo_.clear();
  group_logged_.clear();
  group_pruned_.clear();
  return {};
}

void memory_backend::rollback_group() noexcept {
  undo_to(0);
  work_.lsn = group_lsn_;
  work_.history = group_history_;
  for (const auto lsn : group_logged_) {
    work_.log.erase(lsn);
  }
  work_.log.merge(group_pruned_);
  group_logged_.clear();
  group_pruned_.clear();
}

void memory_backend::undo_to(std::size_t mark) noexcept {
  while (undo_.size() > mark) {
    auto& u = undo_.back();
    auto& c = collection_of(work_, u.collection);
    if (u.before) {
      c.insert_or_assign(std::move(u.id), std::move(*u.before));
    } else {
      c.erase(u.id);
    }
    undo_.pop_back();
  }
}

}  // namespace node::store
