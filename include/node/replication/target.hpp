// Where a replication stream goes: a local store (json:PATH, sqlite:PATH) applied through
// the store abstraction, or a remote replica node fed over HTTP (POST /replication/apply).
#pragma once

#include "node/core/error.hpp"
#include "node/http/client.hpp"
#include "node/replication/stream.hpp"
#include "node/store/store.hpp"

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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

// A checksum of the documents in the given collections: the sum modulo 2^64 of FNV-1a 64 over
// each document's collection, id and JSON text, as 16 hex digits. Equal on two stores exactly
// when they hold the same documents (up to hash collisions), whatever order they were written
// in. Reads every document.
std::string checksum(store::store& s, const std::vector<std::string>& collections);

// The collections the shop keeps, which replication checksums.
const std::vector<std::string>& shop_collections();

// checksum(s, shop_collections()), kept up to date from the store's change feed: the first
// call reads every document; later calls fold in only the batches committed since, so a
// status poll under a write load costs what was written since the last poll, not what is
// stored. Past max_pending unfolded batches they are dropped and the next call reads every
// document again. Loop thread only; stays where it was built (the feed holds `this`).
class shop_checksum {
 public:
  static constexpr std::size_t max_pending = 16384;

  explicit shop_checksum(store::store& s);
  shop_checksum(const shop_checksum&) = delete;
  shop_checksum& operator=(const shop_checksum&) = delete;

  std::string of();
  // How many times every document was read (for tests).
  std::uint64_t scans() const { return scans_; }

 private:
  void fold(const store::committed_batch& b);

  store::store& store_;
  std::shared_ptr<void> feed_;
  std::deque<store::batch_ref> pending_;
  bool scanned_ = false;
  std::uint64_t scans_ = 0;
  // Each document's hash by collection '\0' id, and their sum.
  std::unordered_map<std::string, std::uint64_t> hashes_;
  std::uint64_t sum_ = 0;
};

}  // namespace node::replication
