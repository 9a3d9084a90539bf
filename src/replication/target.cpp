// Replication targets: a local store, or a replica node reached with the shared HTTP
// client; and the data checksum both sides report.
#include "node/replication/target.hpp"

#include "node/core/json.hpp"

#include <cstdio>

namespace node::replication {

namespace json = boost::json;

namespace {

// A local store, opened by the primary, written through apply_replicated.
class local_target final : public target {
 public:
  local_target(std::shared_ptr<store::store> st, std::string spec)
      : store_(std::move(st)), spec_(std::move(spec)) {}
  ~local_target() override { store_->close(); }

  asio::awaitable<answer> position(std::string history) override {
    if (store_->lsn() > 0 && store_->history() != history) {
      co_return answer{answer::kind::other_history, store_->lsn(), store_->history()};
    }
    co_return answer{answer::kind::applied, store_->lsn(), store_->history()};
  }

  asio::awaitable<answer> apply(std::string history,
                                std::vector<store::committed_batch> batches) override {
    auto op = store_->apply_replicated(std::move(history), std::move(batches));
    auto r = co_await std::move(op);
    if (r) {
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

  std::string describe() const override { return spec_; }
  std::string checksum() override { return replication::checksum(*store_, shop_collections()); }
  void close() override { store_->close(); }

 private:
  std::shared_ptr<store::store> store_;
  std::string spec_;
};

// A shop started as a replica, fed by POST /replication/apply.
class remote_target final : public target {
 public:
  remote_target(http::client& client, std::string spec, std::string host, std::uint16_t port,
                std::string token, std::chrono::milliseconds timeout)
      : client_(client),
        spec_(std::move(spec)),
        host_(std::move(host)),
        port_(port),
        token_(std::move(token)),
        timeout_(timeout) {}

  asio::awaitable<answer> position(std::string history) override {
    auto req = request(bhttp::verb::get, "/replication/status", {});
    auto op = client_.send(std::move(req));
    auto r = co_await std::move(op);
    if (!r || r->status != 200) {
      co_return answer{};
    }
    auto a = read(r->body);
    if (a.type == answer::kind::applied && a.applied_lsn > 0 && a.history != history) {
      a.type = answer::kind::other_history;
    }
    co_return a;
  }

  asio::awaitable<answer> apply(std::string history,
                                std::vector<store::committed_batch> batches) override {
    json::array list;
    list.reserve(batches.size());
    for (const auto& b : batches) {
      list.push_back(store::batch_to_json(b));
    }
    auto body = core::to_json(json::object{{"history", history}, {"batches", std::move(list)}});
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
      a.type = r->body.find("history_mismatch") != std::string::npos ? answer::kind::other_history
                                                                     : answer::kind::gap;
      co_return a;
    }
    co_return answer{};
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
};

}  // namespace

core::result<std::unique_ptr<target>> open_target(const std::string& spec, const std::string& flag,
                                                  asio::any_io_executor ex, http::client& client,
                                                  std::string admin_token,
                                                  std::chrono::milliseconds timeout) {
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
  auto st = store::store::open(spec, std::move(ex));
  if (!st) {
    return core::bad_request("--" + flag + ": " + st.error().message, flag);
  }
  return std::unique_ptr<target>(std::make_unique<local_target>(std::move(*st), spec));
}

std::string checksum(store::store& s, const std::vector<std::string>& collections) {
  std::uint64_t h = 1469598103934665603ULL;
  const auto mix = [&h](std::string_view text) {
    for (const unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const auto& c : collections) {
    for (const auto& e : s.list(c)) {
      mix(c);
      mix(e.id);
      mix(core::to_json(e.doc));
    }
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

const std::vector<std::string>& shop_collections() {
  static const std::vector<std::string> names = {"products", "orders", "carts", "idempotency"};
  return names;
}

}  // namespace node::replication
