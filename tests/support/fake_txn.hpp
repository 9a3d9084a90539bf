// An in-memory store::txn for unit tests, with the store's semantics: lists ordered by
// (id length, id), ids never handed out twice, deleting a missing id records nothing.
#pragma once

#include "node/core/error.hpp"
#include "node/store/store.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace node::test {

// Documents live in the object across calls, so one fake_txn plays a whole store.
// Writes apply at once; transact() adds the store's rollback on failure.
class fake_txn final : public store::txn {
 public:
  std::optional<boost::json::object> get(std::string_view collection,
                                         std::string_view id) override {
    auto c = data_.find(collection);
    if (c == data_.end())
      return std::nullopt;
    auto d = c->second.find(id);
    if (d == c->second.end())
      return std::nullopt;
    return d->second;
  }

  std::vector<store::entry> list(std::string_view collection) override {
    std::vector<store::entry> out;
    auto c = data_.find(collection);
    if (c == data_.end())
      return out;
    for (const auto& [id, doc] : c->second)
      out.push_back({id, doc});
    return out;
  }

  void put(std::string_view collection, std::string_view id, boost::json::object doc) override {
    auto c = data_.find(collection);
    if (c == data_.end())
      c = data_.emplace(std::string(collection), collection_map{}).first;
    c->second.insert_or_assign(std::string(id), std::move(doc));
    ++writes_;
  }

  void del(std::string_view collection, std::string_view id) override {
    auto c = data_.find(collection);
    if (c == data_.end())
      return;
    auto d = c->second.find(id);
    if (d == c->second.end())
      return;
    c->second.erase(d);
    ++writes_;
  }

  std::uint64_t next_id(std::string_view collection) override {
    auto c = next_ids_.find(collection);
    if (c == next_ids_.end())
      c = next_ids_.emplace(std::string(collection), 0).first;
    return ++c->second;
  }

  // Runs fn as store::transact does: on an error every document returns to what it was
  // before (ids handed out stay used).
  core::result<boost::json::value> transact(const store::txn_fn& fn) {
    auto saved = data_;
    auto saved_writes = writes_;
    auto r = fn(*this);
    if (!r) {
      data_ = std::move(saved);
      writes_ = saved_writes;
    }
    return r;
  }

  // Puts and effective deletes so far.
  std::size_t writes() const { return writes_; }
  // Every document, for "nothing changed" comparisons.
  std::map<std::string, std::map<std::string, boost::json::object>> snapshot() const {
    std::map<std::string, std::map<std::string, boost::json::object>> out;
    for (const auto& [name, docs] : data_)
      out[name].insert(docs.begin(), docs.end());
    return out;
  }

 private:
  // (id length, id): numeric ids sort numerically.
  struct id_order {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    }
  };
  using collection_map = std::map<std::string, boost::json::object, id_order>;

  std::map<std::string, collection_map, std::less<>> data_;
  std::map<std::string, std::uint64_t, std::less<>> next_ids_;
  std::size_t writes_ = 0;
};

}  // namespace node::test
