// The registry role's routes and its health checker: one coroutine per server runs GET
// /health on a jittered interval and feeds the outcome to the server pool, which decides
// health and hands servers out. Registrations made over HTTP are kept in the store.
#include "node/roles/registry.hpp"

#include "node/core/log.hpp"
#include "node/registry/pool.hpp"
#include "node/registry/schedule.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <random>
#include <set>

namespace node::roles {
namespace {

using http::context;
using http::response;
namespace reg = node::registry;

// The collection holding servers registered with POST /servers, keyed by "host:port".
constexpr std::string_view servers_collection = "registry_servers";

// One server's check loop: its timer, and whether the loop should end (the server was
// removed or the role is stopping). Shared by the loop and the role.
struct checker {
  explicit checker(asio::any_io_executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  bool stopped = false;
};

// State touched only from the loop thread; no locks.
class registry_role final : public role {
 public:
  explicit registry_role(const role_context& ctx)
      : ctx_(ctx),
        cfg_(ctx.config.registry),
        pool_(reg::health_policy{cfg_.fail_threshold, cfg_.rise_threshold, true}, cfg_.max_servers),
        seed_(std::random_device{}()) {
    for (const auto& s : cfg_.servers) {
      if (pool_.add(s)) static_servers_.insert(s);
    }
    if (ctx_.store) load_registrations();
    declare_metrics();
  }

  void add_routes(http::router& r) override {
    using bhttp::verb;
    r.add_sync(verb::get, "/getServer", [this](context& c) { return get_server(c); });
    r.add_sync(verb::get, "/servers", [this](context& c) { return list_servers(c); });
    r.add(verb::post, "/servers", [this](context& c) { return add_server(c); });
    r.add_sync(verb::get, "/servers/{server}", [this](context& c) { return server_status(c); });
    r.add(verb::delete_, "/servers/{server}", [this](context& c) { return remove_server(c); });
  }

  void start() override {
    started_ = true;
    core::log::info("registry: checking " + std::to_string(pool_.size()) + " servers; " +
                    reg::describe_detection_bound(cfg_.check_interval, cfg_.fail_threshold,
                                                  cfg_.check_timeout));
    for (const auto& address : pool_.servers())
      start_checks(address);
  }

  void stop() override {
    stopped_ = true;
    for (auto& [key, ch] : checkers_) {
      ch->stopped = true;
      ch->timer.cancel();
    }
    checkers_.clear();
  }

  bool health(core::json::object& out) override {
    out["servers"] = pool_.size();
    out["healthy_servers"] = pool_.healthy_count();
    return true;
  }

 private:
  void load_registrations() {
    for (const auto& e : ctx_.store->list(servers_collection)) {
      auto added = pool_.add(e.id);
      if (!added && added.error().code != "already_registered") {
        core::log::warn("registry: stored server '" + e.id + "' skipped: " + added.error().message);
      }
    }
  }

  void declare_metrics() {
    using kind = core::metrics::kind;
    auto& m = ctx_.metrics;
    m.declare("registry_servers", kind::gauge, "Servers registered.");
    m.declare("registry_healthy_servers", kind::gauge, "Servers healthy now (handed out).");
    m.declare("registry_server_healthy", kind::gauge, "1 when the server is healthy, else 0.");
    m.declare("registry_checks_total", kind::counter, "Health checks finished.");
    m.declare("registry_check_failures_total", kind::counter,
              "Health checks that failed (no answer, timeout or a non-2xx status).");
    m.declare("registry_get_server_total", kind::counter, "GET /getServer requests.");
    m.declare("registry_get_server_misses_total", kind::counter,
              "GET /getServer requests answered 503 (no healthy server).");
    m.add_collector([this](core::metrics& mm) {
      const auto c = pool_.counters();
      mm.set("registry_servers", {}, static_cast<double>(c.servers));
      mm.set("registry_healthy_servers", {}, static_cast<double>(c.healthy));
      mm.set("registry_checks_total", {}, static_cast<double>(c.checks));
      mm.set("registry_check_failures_total", {}, static_cast<double>(c.failures));
      mm.set("registry_get_server_total", {}, static_cast<double>(c.get_server_calls));
      mm.set("registry_get_server_misses_total", {}, static_cast<double>(c.get_server_misses));
      mm.clear("registry_server_healthy");
      for (const auto& s : pool_.list(std::chrono::steady_clock::now())) {
        mm.set("registry_server_healthy", {{"server", s.server}}, s.healthy ? 1 : 0);
      }
    });
  }

  // Starts the check loop of a newly registered server (or every server, at start).
  void start_checks(const reg::server_address& address) {
    if (!started_ || stopped_) return;
    auto ch = std::make_shared<checker>(ctx_.ex);
    checkers_[address.str()] = ch;
    asio::co_spawn(ctx_.ex, run_checks(address, ch, seed_++),
                   [key = address.str()](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       core::log::error("registry: check loop of " + key + " failed: " + x.what());
                     }
                   });
  }

  void stop_checks(const std::string& key) {
    auto it = checkers_.find(key);
    if (it == checkers_.end()) return;
    it->second->stopped = true;
    it->second->timer.cancel();
    checkers_.erase(it);
  }

  // Checks one server until it is removed or the role stops. Checks start at most one
  // interval apart (jitter only brings them earlier) and one check runs at a time.
  asio::awaitable<void> run_checks(reg::server_address address, std::shared_ptr<checker> ch,
                                   std::uint64_t seed) {
    reg::check_scheduler schedule(cfg_.check_interval, cfg_.check_jitter, seed);
    const std::string key = address.str();
    while (!ch->stopped) {
      const auto started = std::chrono::steady_clock::now();
      auto op = check(address);
      auto outcome = co_await std::move(op);
      if (ch->stopped) break;
      auto done = pool_.record_check(key, outcome, std::chrono::steady_clock::now());
      if (done && *done == reg::transition::went_down) {
        core::log::warn("registry: " + key + " is down: " + outcome.error);
      } else if (done && *done == reg::transition::came_up) {
        core::log::info("registry: " + key + " is back up");
      }
      ch->timer.expires_at(schedule.next_check(started));
      auto [ec] = co_await ch->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)ec;  // cancelled: the loop condition says whether to go on
    }
  }

  // One GET /health. A 2xx answer is a success; anything else (503 draining included),
  // no answer or a timeout is a failure.
  asio::awaitable<reg::check_outcome> check(reg::server_address address) {
    http::client_request req;
    req.host = address.host;
    req.port = address.port;
    req.target = "/health";
    req.timeout = cfg_.check_timeout;
    auto op = ctx_.client.send(std::move(req));
    auto r = co_await std::move(op);
    if (!r) co_return reg::check_outcome::unreachable(r.error().message);
    std::string detail;
    if (r->status < 200 || r->status > 299) {
      boost::system::error_code ec;
      auto body = core::json::parse(r->body, ec);
      if (!ec && body.is_object()) {
        if (const auto* s = body.as_object().if_contains("status"); s && s->is_string()) {
          detail = std::string(s->as_string().subview(0, 64));
        }
      }
    }
    co_return reg::check_outcome::answered(r->status, detail);
  }

  core::json::value status_json(const reg::server_status& s) const {
    auto v = boost::json::value_from(s);
    v.as_object()["source"] = static_servers_.count(s.server) != 0 ? "flag" : "api";
    return v;
  }

  response get_server(context&) {
    auto server = pool_.next();
    if (!server) {
      return http::json_reply(bhttp::status::service_unavailable,
                              core::json::object{{"code", 503}, {"error", "no healthy server"}});
    }
    // The hottest route of the registry: written without a JSON tree.
    std::string body = R"({"code":200,"server":)";
    core::append_json_string(body, *server);
    body += '}';
    return http::json_text_reply(bhttp::status::ok, std::move(body));
  }

  response list_servers(context&) {
    core::json::array out;
    for (const auto& s : pool_.list(std::chrono::steady_clock::now())) {
      out.push_back(status_json(s));
    }
    return http::json_reply(out);
  }

  response server_status(context& c) {
    auto s = pool_.status(c.param("server"), std::chrono::steady_clock::now());
    if (!s) return http::error_reply(s.error());
    return http::json_reply(status_json(*s));
  }

  // POST /servers {"server":"host:port"}: 201 once the registration is durable.
  asio::awaitable<response> add_server(context& c) {
    if (auto ok = c.authorize(ctx_.config.admin_token); !ok)
      co_return http::error_reply(ok.error());
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    const auto* field = body->is_object() ? body->as_object().if_contains("server") : nullptr;
    if (field == nullptr || !field->is_string()) {
      co_return http::error_reply(
          core::bad_request("expected {\"server\":\"host:port\"}", "server"));
    }
    auto address = reg::parse_server_address(field->as_string());
    if (!address) co_return http::error_reply(address.error());
    const std::string key = address->str();
    if (pool_.status(key, std::chrono::steady_clock::now())) {
      co_return http::error_reply(core::conflict(
          "already_registered", "server " + key + " is already registered", "server"));
    }
    if (pool_.size() >= cfg_.max_servers) {
      co_return http::error_reply(core::conflict(
          "too_many_servers",
          "the registry holds at most " + std::to_string(cfg_.max_servers) + " servers", "server"));
    }
    if (ctx_.store) {
      auto op = ctx_.store->transact([key](store::txn& t) -> core::result<core::json::value> {
        t.put(servers_collection, key, core::json::object{{"server", key}});
        return core::json::value(nullptr);
      });
      auto stored = co_await std::move(op);
      if (!stored) co_return http::error_reply(stored.error());
    }
    // Another request may have registered it while the store wrote.
    auto added = pool_.add(key);
    if (!added) co_return http::error_reply(added.error());
    core::log::info("registry: registered " + key);
    start_checks(*added);
    auto s = pool_.status(key, std::chrono::steady_clock::now());
    co_return http::json_reply(bhttp::status::created, status_json(*s));
  }

  // DELETE /servers/{host:port}: 200 once the removal is durable.
  asio::awaitable<response> remove_server(context& c) {
    if (auto ok = c.authorize(ctx_.config.admin_token); !ok)
      co_return http::error_reply(ok.error());
    auto address = reg::parse_server_address(c.param("server"));
    if (!address) co_return http::error_reply(address.error());
    const std::string key = address->str();
    if (auto s = pool_.status(key, std::chrono::steady_clock::now()); !s) {
      co_return http::error_reply(s.error());
    }
    if (ctx_.store) {
      auto op = ctx_.store->transact([key](store::txn& t) -> core::result<core::json::value> {
        t.del(servers_collection, key);
        return core::json::value(nullptr);
      });
      auto stored = co_await std::move(op);
      if (!stored) co_return http::error_reply(stored.error());
    }
    // Another request may have removed it while the store wrote.
    auto removed = pool_.remove(key);
    if (!removed) co_return http::error_reply(removed.error());
    stop_checks(key);
    const bool from_flag = static_servers_.erase(key) != 0;
    core::log::info("registry: removed " + key);
    core::json::object out{{"message", "server " + key + " removed"}, {"server", key}};
    if (from_flag) {
      out["note"] = "it is listed in --servers and is registered again when the registry restarts";
    }
    co_return http::json_reply(out);
  }

  role_context ctx_;
  const app::registry_config& cfg_;
  reg::server_pool pool_;
  std::set<std::string> static_servers_;  // registered by --servers
  std::map<std::string, std::shared_ptr<checker>> checkers_;
  std::uint64_t seed_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<role> make_registry(const role_context& ctx) {
  return std::make_unique<registry_role>(ctx);
}

}  // namespace node::roles
