// Where a replication stream goes: a local store (json:PATH, sqlite:PATH) applied through
// the store abstraction, or a remote replica node fed over HTTP (POST /replication/apply).
#pragma once

#include "node/core/error.hpp"
#include "node/http/client.hpp"
#include "node/replication/stream.hpp"
#include "node/store/store.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace node::replication {

// One target. Loop thread only; one request at a time (the shipper guarantees it).
class target {
 public:
  virtual ~target() = default;
  // Where the target stands: applied (with its LSN; 0 for an empty store), other_history,
  // or failed. A remote target is fenced by it: from its answer on, it refuses batches
  // from any other primary process (a request a crashed process left in flight cannot
  // land after the answer), so the position stays true until this process moves it.
  virtual asio::awaitable<answer> position(std::string history) = 0;
  // Applies batches (in LSN order) of `history`: applied, gap, other_history, fenced or
  // failed. `durable_lsn` is the primary's durable LSN: the target may drop change-log
  // entries at or below it, as the primary never needs them back.
  virtual asio::awaitable<answer> apply(std::string history, std::vector<store::batch_ref> batches,
                                        std::uint64_t durable_lsn) = 0;
  // The batches of `history` the target holds after `lsn`, in order, at most `max`, from
  // its change log (fewer or none when its log no longer holds them). Errors: 409
  // history_mismatch (it holds another history), 503 (no usable answer).
  virtual asio::awaitable<core::result<std::vector<store::committed_batch>>> changes_after(
      std::string history, std::uint64_t lsn, std::size_t max) = 0;
  // The target as given on the command line: "json:data/mirror.json", "http://host:port".
  virtual std::string describe() const = 0;
  // The target's data checksum when it can be read locally ("" otherwise).
  virtual std::string checksum() { return {}; }
  virtual void close() {}
};

// Opens "json:PATH", "sqlite:PATH" (a local store; with `mirror` it keeps a change log of
// what it applies, for the primary to roll forward from after a crash; an asynchronous
// replica never holds what the primary lacks and keeps none) or "http://host:port" (a
// replica node; requests carry the admin token when it is set and time out after
// `timeout`). Fails with 400 naming `flag` when the spec is not one of these or the store
// cannot be opened.
core::result<std::unique_ptr<target>> open_target(const std::string& spec, const std::string& flag,
                                                  asio::any_io_executor ex, http::client& client,
                                                  std::string admin_token,
                                                  std::chrono::milliseconds timeout, bool mirror);

// A checksum of the documents in the given collections: equal on two stores exactly when
// they hold the same documents (FNV-1a 64 over collection, id and JSON text; 16 hex digits).
std::string checksum(store::store& s, const std::vector<std::string>& collections);

// The collections the shop keeps, which replication checksums.
const std::vector<std::string>& shop_collections();

// checksum(s, shop_collections()), computed again only when the store's LSN has moved
// (every write moves it): reading every document once per write, not once per look.
class shop_checksum {
 public:
  const std::string& of(store::store& s);

 private:
  std::string value_;
  std::optional<std::uint64_t> at_;
};

}  // namespace node::replication
