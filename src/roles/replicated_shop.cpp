// The replicated shops: the shop role built over a replication::replicator (which wraps the
// node's store), plus GET /replication/status, POST /replication/apply,
// GET /replication/changes and POST /replication/promote (replica), and POST /sync
// (async-replica).
#include "node/roles/replicated_shop.hpp"

#include "node/replication/replicator.hpp"
#include "node/roles/shop.hpp"

#include <charconv>

namespace node::roles {
namespace {

using http::context;
using http::response;
namespace json = boost::json;
using replication::replicator;
using replication::replicator_mode;

// A decimal query value into `out`; true when absent (out unchanged) or valid.
bool read_count(const std::optional<std::string>& text, std::uint64_t& out) {
  if (!text) return true;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, out);
  return ec == std::errc() && ptr == end && !text->empty();
}

class replicated_shop final : public role {
 public:
  replicated_shop(const role_context& ctx, std::shared_ptr<replicator> rep)
      : cfg_(ctx.config), rep_(std::move(rep)) {
    if (rep_->options().mode == replicator_mode::replica) {
      cfg_.shop.seed_demo = false;  // a replica's data comes from its primary
    }
    role_context inner{ctx.ex, cfg_, ctx.metrics, ctx.client, rep_};
    shop_ = make_shop(inner);
    rep_->add_metrics(ctx.metrics);
  }

  void add_routes(http::router& r) override {
    using bhttp::verb;
    shop_->add_routes(r);
    r.add(verb::get, "/replication/status", [this](context& c) { return status(c); });
    if (rep_->options().mode == replicator_mode::replica) {
      r.add(verb::post, "/replication/apply", [this](context& c) { return apply(c); });
      r.add(verb::get, "/replication/changes", [this](context& c) { return changes(c); });
      r.add(verb::post, "/replication/promote", [this](context& c) { return promote(c); });
    }
    if (rep_->options().mode == replicator_mode::async) {
      r.add(verb::post, "/sync", [this](context& c) { return sync(c); });
    }
  }

  void start() override {
    rep_->start();
    shop_->start();
  }

  void stop() override {
    rep_->stop();
    shop_->stop();
  }

  bool health(core::json::object& out) override {
    const bool ok = shop_->health(out);
    out["replication"] = rep_->state();
    return ok;
  }

 private:
  asio::awaitable<response> status(context&) { co_return http::json_reply(rep_->status()); }

  asio::awaitable<response> apply(context& c) {
    if (auto a = c.authorize(cfg_.admin_token); !a) co_return http::error_reply(a.error());
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    auto req = replication::read_stream_request(*body);
    if (!req) co_return http::error_reply(req.error());
    auto op = rep_->apply_stream(std::move(*req));
    auto r = co_await std::move(op);
    if (r) {
      co_return http::json_reply(json::object{{"applied_lsn", *r}, {"history", rep_->history()}});
    }
    auto res = http::error_reply(r.error());
    if (r.error().status == 409) {
      json::object out{
          {"error", json::object{{"code", r.error().code}, {"message", r.error().message}}},
          {"applied_lsn", rep_->lsn()},
          {"history", rep_->history()}};
      res = http::json_reply(bhttp::status::conflict, out);
    }
    co_return res;
  }

  // GET /replication/changes?after=N&max=M: what this replica's change log holds after N.
  asio::awaitable<response> changes(context& c) {
    if (auto a = c.authorize(cfg_.admin_token); !a) co_return http::error_reply(a.error());
    std::uint64_t after = 0;
    std::uint64_t max = 256;
    if (!read_count(c.query("after"), after)) {
      co_return http::error_reply(
          core::bad_request("after must be a non-negative integer", "after"));
    }
    if (!read_count(c.query("max"), max) || max == 0 || max > 10000) {
      co_return http::error_reply(core::bad_request("max must be 1 to 10000", "max"));
    }
    // At most about 4 MiB of batches (at least one), half the 8 MiB a node's client reads
    // of an answer: a primary rolling forward asks again from where the answer ends.
    constexpr std::size_t max_answer_bytes = std::size_t{4} * 1024 * 1024;
    json::array list;
    std::size_t bytes = 0;
    for (const auto& b : rep_->changes_after(after, static_cast<std::size_t>(max))) {
      auto v = store::batch_to_json(b);
      bytes += core::to_json(v).size();
      if (!list.empty() && bytes > max_answer_bytes) break;
      list.push_back(std::move(v));
    }
    co_return http::json_reply(json::object{{"history", rep_->history()},
                                            {"applied_lsn", rep_->lsn()},
                                            {"first_lsn", rep_->change_log_first()},
                                            {"batches", std::move(list)}});
  }

  asio::awaitable<response> promote(context& c) {
    if (auto a = c.authorize(cfg_.admin_token); !a) co_return http::error_reply(a.error());
    auto op = rep_->promote();
    auto r = co_await std::move(op);
    if (!r) co_return http::error_reply(r.error());
    co_return http::json_reply(
        json::object{{"promoted", true}, {"history", *r}, {"applied_lsn", rep_->lsn()}});
  }

  asio::awaitable<response> sync(context& c) {
    if (auto a = c.authorize(cfg_.admin_token); !a) co_return http::error_reply(a.error());
    auto op = rep_->sync();
    const bool done = co_await std::move(op);
    if (done) {
      co_return http::json_reply(json::object{
          {"synced", true}, {"primary_lsn", rep_->lsn()}, {"replica_lsn", rep_->target_lsn()}});
    }
    auto s = rep_->status();
    json::object out{{"error", json::object{{"code", "unavailable"},
                                            {"message", "the secondary " + rep_->describe_target() +
                                                            " did not catch up in time"}}},
                     {"synced", false},
                     {"status", s}};
    co_return http::json_reply(bhttp::status::service_unavailable, out);
  }

  app::node_config cfg_;
  std::shared_ptr<replicator> rep_;
  std::unique_ptr<role> shop_;
};

}  // namespace

core::result<std::unique_ptr<role>> make_replicated_shop(const role_context& ctx) {
  const auto& cfg = ctx.config;
  const auto& rc = cfg.replication;
  replication::replicator_options opts;
  opts.max_batches = rc.batch_max;
  std::unique_ptr<replication::target> target;
  if (cfg.role == "mirror-shop" || cfg.role == "async-replica") {
    const bool mirror = cfg.role == "mirror-shop";
    opts.mode = mirror ? replicator_mode::sync : replicator_mode::async;
    opts.on_mirror_failure =
        rc.mirror_degrade ? replication::mirror_mode::degrade : replication::mirror_mode::reject;
    opts.mirror_timeout = rc.mirror_timeout;
    opts.interval = rc.interval;
    opts.sync_timeout = rc.sync_timeout;
    auto t = replication::open_target(
        mirror ? rc.mirror : rc.replica, mirror ? "mirror" : "replica", ctx.ex, ctx.client,
        cfg.admin_token, mirror ? rc.mirror_timeout : cfg.client.timeout, mirror);
    if (!t) return t.error();
    target = std::move(*t);
  } else {
    opts.mode = replicator_mode::replica;
  }
  auto rep = std::make_shared<replicator>(ctx.ex, ctx.store, std::move(target), opts);
  return std::unique_ptr<role>(std::make_unique<replicated_shop>(ctx, std::move(rep)));
}

}  // namespace node::roles
