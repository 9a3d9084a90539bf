// Replication targets: a local store, or a replica node reached with the shared HTTP
// client; and the data checksum both sides report.
#include "node/replication/target.hpp"

#include "node/core/json.hpp"
#include "node/core/log.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

namespace node::replication {

namespace json = boost::json;

namespace {

// A local store, opened by the primary, written through apply_replicated.
class local_target final : public target {
 public:
  local_target(std::shared_ptr<store::store> st, std::string spec, bool keep_log)
      : store_(std::move(st)), spec_(std::move(spec)), checksum_(*store_) {
    if (keep_log) store_->keep_change_log();
  }
  ~local_target() override { store_->close(); }

  asio::awaitable<answer> position(std::string history) override {
    if (store_->lsn() > 0 && store_->history() != history) {
      co_return answer{answer::kind::other_history, store_->lsn(), store_->history()};
    }
    co_return answer{answer::kind::applied, store_->lsn(), store_->history()};
  }

  asio::awaitable<answer> apply(std::string history, std::vector<store::batch_ref> batches,
                                std::uint64_t durable_lsn) override {
    auto op = store_->apply_replicated(std::move(history), std::move(batches), durable_lsn);
    auto r = co_await std::move(op);
    if (r) {
      store_->prune_change_log(std::min(durable_lsn, *r));
      co_return answer{answer::kind::applied, *r, store_->history()};
    }
    if (r.error().code == "replication_gap") {
      co_return answer{answer::kind::gap, store_->lsn(), store_->history()};
    }
    if (r.error().code == "history_mismatch") {
      co_return answer{answer::kind::other_history, store_->lsn(), store_->history()};
    }
    co_return answer{};
  }

  asio::awaitable<core::result<std::vector<store::committed_batch>>> changes_after(
      std::string history, std::uint64_t lsn, std::size_t max) override {
    if (store_->lsn() > 0 && store_->history() != history) {
      co_return core::conflict("history_mismatch", spec_ + " holds history " + store_->history());
    }
    co_return store_->changes_after(lsn, max);
  }

  std::string describe() const override { return spec_; }
  std::string checksum() override { return checksum_.of(); }
  void close() override { store_->close(); }

 private:
  std::shared_ptr<store::store> store_;
  std::string spec_;
  shop_checksum checksum_;
};

// A random id for this process's stream to a replica: 32 lowercase hex digits.
std::string make_session_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return out;
}

// A shop started as a replica, fed by POST /replication/apply. Every request carries this
// process's session id; position() is an empty apply with "fence":true, which makes the
// replica refuse other sessions and answers only after everything it accepted before.
class remote_target final : public target {
 public:
  // A request carries batches up to about this many bytes (at least one batch), half a
  // replica's default --max-body (1 MiB): more would be answered 413 every time.
  static constexpr std::size_t max_request_bytes = std::size_t{512} * 1024;

  remote_target(http::client& client, std::string spec, std::string host, std::uint16_t port,
                std::string token, std::chrono::milliseconds timeout)
      : client_(client),
        spec_(std::move(spec)),
        host_(std::move(host)),
        port_(port),
        token_(std::move(token)),
        timeout_(timeout),
        session_(make_session_id()) {}

  asio::awaitable<answer> position(std::string history) override {
    auto body = core::to_json(json::object{
        {"history", history}, {"session", session_}, {"fence", true}, {"batches", json::array{}}});
    auto op = post_apply(std::move(body));
    co_return co_await std::move(op);
  }

  asio::awaitable<answer> apply(std::string history, std::vector<store::batch_ref> batches,
                                std::uint64_t durable_lsn) override {
    // Written as text: a batch of writes is serialized once, not built as a JSON tree first.
    std::string body = "{\"history\":";
    core::append_json_string(body, history);
    body += ",\"session\":";
    core::append_json_string(body, session_);
    body += ",\"durable_lsn\":";
    body += std::to_string(durable_lsn);
    body += ",\"batches\":[";
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const std::size_t before = body.size();
      if (i != 0) body += ',';
      store::append_batch_json_text(body, *batches[i]);
      if (i != 0 && body.size() > max_request_bytes) {
        // The rest goes in the next request: the answer's applied LSN says where to go on.
        body.resize(before);
        break;
      }
    }
    body += "]}";
    auto op = post_apply(std::move(body));
    co_return co_await std::move(op);
  }

  asio::awaitable<core::result<std::vector<store::committed_batch>>> changes_after(
      std::string history, std::uint64_t lsn, std::size_t max) override {
    auto req = request(
        bhttp::verb::get,
        "/replication/changes?after=" + std::to_string(lsn) + "&max=" + std::to_string(max), {});
    auto op = client_.send(std::move(req));
    auto r = co_await std::move(op);
    if (!r) {
      co_return r.error();
    }
    if (r->status != 200) {
      co_return core::unavailable(spec_ + " answered GET /replication/changes with " +
                                  std::to_string(r->status));
    }
    const auto malformed = core::unavailable(spec_ + ": malformed /replication/changes answer");
    json::error_code ec;
    auto v = json::parse(r->body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* h = o ? o->if_contains("history") : nullptr;
    const auto* list = o ? o->if_contains("batches") : nullptr;
    if (!h || !h->is_string() || !list || !list->is_array()) {
      co_return malformed;
    }
    std::vector<store::committed_batch> out;
    for (const auto& b : list->get_array()) {
      auto parsed = store::batch_from_json(b);
      if (!parsed) {
        co_return malformed;
      }
      out.push_back(std::move(*parsed));
    }
    if (!out.empty() && h->get_string() != history) {
      co_return core::conflict("history_mismatch",
                               spec_ + " holds history " + std::string(h->get_string()));
    }
    co_return out;
  }

  std::string describe() const override { return spec_; }

 private:
  http::client_request request(bhttp::verb method, std::string path, std::string body) const {
    http::client_request req;
    req.method = method;
    req.host = host_;
    req.port = port_;
    req.target = std::move(path);
    req.body = std::move(body);
    req.timeout = timeout_;
    if (!token_.empty()) {
      req.headers.emplace_back("Authorization", "Bearer " + token_);
    }
    return req;
  }

  // POST /replication/apply with `body`: 200 applied; 409 other_history, fenced or gap by
  // the error code; anything else failed.
  asio::awaitable<answer> post_apply(std::string body) {
    const std::size_t req_size = body.size();
    auto req = request(bhttp::verb::post, "/replication/apply", std::move(body));
    auto op = client_.send(std::move(req));
    auto r = co_await std::move(op);
    if (!r) {
      co_return answer{};
    }
    if (r->status == 200) {
      co_return read(r->body);
    }
    if (r->status == 409) {
      auto a = read(r->body);
      const auto code = error_code(r->body);
      a.type = code == "history_mismatch" ? answer::kind::other_history
               : code == "stale_session"  ? answer::kind::fenced
                                          : answer::kind::gap;
      co_return a;
    }
    if (r->status == 413 && !warned_too_large_) {
      warned_too_large_ = true;
      core::log::error("replication: " + spec_ + " refused a request of " +
                       std::to_string(req_size) +
                       " bytes as too large (413): one batch is over its --max-body; raise it");
    }
    co_return answer{};
  }

  // The "error.code" of an error answer ("" when there is none).
  static std::string error_code(const std::string& body) {
    json::error_code ec;
    auto v = json::parse(body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* e = o ? o->if_contains("error") : nullptr;
    const auto* code = e && e->is_object() ? e->get_object().if_contains("code") : nullptr;
    return code && code->is_string() ? std::string(code->get_string()) : std::string();
  }

  // {"applied_lsn":N,"history":".."} as an applied answer; failed when malformed.
  static answer read(const std::string& body) {
    json::error_code ec;
    auto v = json::parse(body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* lsn = o ? o->if_contains("applied_lsn") : nullptr;
    if (!lsn) {
      return {};
    }
    answer a{answer::kind::applied, lsn->to_number<std::uint64_t>(ec), {}};
    if (ec) {
      return {};
    }
    if (const auto* h = o->if_contains("history"); h && h->is_string()) {
      a.history = h->get_string();
    }
    return a;
  }

  http::client& client_;
  std::string spec_;
  std::string host_;
  std::uint16_t port_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  std::string session_;
  bool warned_too_large_ = false;
};

}  // namespace

core::result<std::unique_ptr<target>> open_target(const std::string& spec, const std::string& flag,
                                                  asio::any_io_executor ex, http::client& client,
                                                  std::string admin_token,
                                                  std::chrono::milliseconds timeout, bool mirror) {
  if (spec.rfind("http://", 0) == 0) {
    std::string host;
    std::uint16_t port = 0;
    if (!http::split_host_port(spec, host, port)) {
      return core::bad_request("--" + flag + " '" + spec + "': expected http://HOST:PORT", flag);
    }
    return std::unique_ptr<target>(std::make_unique<remote_target>(
        client, spec, std::move(host), port, std::move(admin_token), timeout));
  }
  if (spec.rfind("json:", 0) != 0 && spec.rfind("sqlite:", 0) != 0) {
    return core::bad_request(
        "--" + flag + " '" + spec + "': expected json:PATH, sqlite:PATH or http://HOST:PORT", flag);
  }
  // A mirror's writes are waited on; an asynchronous secondary's are not.
  auto st = store::store::open(spec, std::move(ex), /*background=*/!mirror);
  if (!st) {
    return core::bad_request("--" + flag + ": " + st.error().message, flag);
  }
  return std::unique_ptr<target>(std::make_unique<local_target>(std::move(*st), spec, mirror));
}

namespace {

constexpr std::uint64_t fnv_offset = 1469598103934665603ULL;
constexpr std::uint64_t fnv_prime = 1099511628211ULL;

// One document's share of a checksum: FNV-1a 64 over its collection, id and JSON text, each
// followed by a 0xff byte (which no UTF-8 text holds).
std::uint64_t document_hash(std::string_view collection, std::string_view id,
                            const json::object& doc) {
  std::uint64_t h = fnv_offset;
  const auto mix = [&h](std::string_view text) {
    for (const unsigned char c : text) {
      h ^= c;
      h *= fnv_prime;
    }
    h ^= 0xff;
    h *= fnv_prime;
  };
  mix(collection);
  mix(id);
  mix(core::to_json(doc));
  return h;
}

std::string hex(std::uint64_t v) {
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(v));
  return out;
}

bool is_shop_collection(std::string_view c) {
  const auto& names = shop_collections();
  return std::find(names.begin(), names.end(), c) != names.end();
}

}  // namespace

shop_checksum::shop_checksum(store::store& s) : store_(s) {
  feed_ = store_.subscribe([this](const store::batch_ref& b) {
    if (!scanned_) return;  // the first scan will read it
    if (pending_.size() == max_pending) {
      // Nobody has looked for a while: let go of the hashes too until someone does.
      pending_ = {};
      hashes_ = {};
      scanned_ = false;
      return;
    }
    pending_.push_back(b);
  });
}

std::string shop_checksum::of() {
  if (!scanned_) {
    // Batches committed while this reads and published after it are folded in again later;
    // folding a batch whose documents are already here changes nothing, and every later one
    // follows in LSN order, so the sum is right once the feed has caught up.
    pending_.clear();
    hashes_.clear();
    sum_ = 0;
    for (const auto& c : shop_collections()) {
      for (const auto& e : store_.list(c)) {
        const auto h = document_hash(c, e.id, e.doc);
        hashes_[c + '\0' + e.id] = h;
        sum_ += h;
      }
    }
    scanned_ = true;
    ++scans_;
  }
  for (const auto& b : pending_)
    fold(*b);
  pending_.clear();
  return hex(sum_);
}

void shop_checksum::fold(const store::committed_batch& b) {
  for (const auto& o : b.ops) {
    if (!is_shop_collection(o.collection)) continue;
    std::string key = o.collection + '\0' + o.id;
    if (o.type == store::op::kind::put) {
      const auto h = document_hash(o.collection, o.id, o.doc);
      auto [it, added] = hashes_.try_emplace(std::move(key), h);
      if (!added) {
        sum_ -= it->second;
        it->second = h;
      }
      sum_ += h;
    } else if (auto it = hashes_.find(key); it != hashes_.end()) {
      sum_ -= it->second;
      hashes_.erase(it);
    }
  }
}

std::string checksum(store::store& s, const std::vector<std::string>& collections) {
  std::uint64_t sum = 0;
  for (const auto& c : collections) {
    for (const auto& e : s.list(c))
      sum += document_hash(c, e.id, e.doc);
  }
  return hex(sum);
}

const std::vector<std::string>& shop_collections() {
  static const std::vector<std::string> names = {"products", "orders", "carts", "idempotency"};
  return names;
}

}  // namespace node::replication
