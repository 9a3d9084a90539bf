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

core::result<std::uint64_t> memory_backend::begin_group() {
  undo_.clear();
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
  return {};
}

void memory_backend::rollback_group() noexcept {
  undo_to(0);
  work_.lsn = group_lsn_;
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
