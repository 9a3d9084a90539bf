// The process: one event loop running every configured node, and its orderly stop.
#include "node/app/run.hpp"

#include "node/core/log.hpp"
#include "node/roles/role.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>

namespace node::app {
namespace {

// Publishes a store's counters on a node's /metrics.
void add_store_metrics(core::metrics& m, std::shared_ptr<store::store> st) {
  m.declare("store_batches_committed_total", core::metrics::kind::counter,
            "Write batches committed durably (each has its own LSN).");
  m.declare("store_commits_total", core::metrics::kind::counter,
            "Durable commits (fsyncs); batches per commit shows group commit at work.");
  m.declare("store_commit_failures_total", core::metrics::kind::counter,
            "Durable commits that failed (their writes answered 503).");
  m.declare("store_lsn", core::metrics::kind::gauge, "LSN of the last committed batch.");
  m.declare("store_fsync_seconds", core::metrics::kind::histogram,
            "Time of one durable commit (transaction commit with fsync).");
  m.add_collector([st](core::metrics& mm) {
    auto s = st->stats();
    mm.set("store_batches_committed_total", {}, static_cast<double>(s.batches_committed));
    mm.set("store_commits_total", {}, static_cast<double>(s.groups_committed));
    mm.set("store_commit_failures_total", {}, static_cast<double>(s.commit_failures));
    mm.set("store_lsn", {}, static_cast<double>(st->lsn()));
    mm.set_histogram("store_fsync_seconds", {}, s.fsync_bucket_bounds, s.fsync_bucket_counts,
                     s.fsync_count, s.fsync_sum_seconds);
  });
}

// One node: its router, metrics, role and server.
class node_instance {
 public:
  node_instance(asio::any_io_executor ex, node_config cfg, std::shared_ptr<store::store> st,
                http::client& client)
      : ex_(std::move(ex)), cfg_(std::move(cfg)), store_(std::move(st)), client_(client) {}

  core::result<void> prepare() {
    roles::role_context ctx{ex_, cfg_, metrics_, client_, store_};
    auto r = roles::make_role(ctx);
    if (!r) return r.error();
    role_ = std::move(*r);
    add_common_routes();
    role_->add_routes(router_);
    if (store_) add_store_metrics(metrics_, store_);
    server_ = std::make_unique<http::server>(ex_, cfg_.server, router_, metrics_);
    auto l = server_->listen();
    if (!l) return l.error();
    address_ = cfg_.server.host + ":" + std::to_string(server_->port());
    return {};
  }

  void start() {
    server_->start();
    role_->start();
    core::log::info(cfg_.role + " listening on " + address_ +
                    (store_ ? " store " + store_->describe() : std::string()));
  }

  void begin_drain() {
    draining_ = true;
    core::log::info(cfg_.role + " " + address_ + " draining: /health answers 503");
  }

  void stop(std::function<void()> done) {
    role_->stop();
    server_->stop(std::move(done));
  }

  const node_config& config() const { return cfg_; }

 private:
  void add_common_routes() {
    router_.add_sync(bhttp::verb::get, "/", [this](http::context&) { return hello(); });
    router_.add_sync(bhttp::verb::get, "/health", [this](http::context&) { return health(); });
    router_.add_sync(bhttp::verb::get, "/metrics", [this](http::context&) { return metrics(); });
  }

  http::response hello() {
    return http::json_reply(
        core::json::object{{"message", "Hello, World!"}, {"role", cfg_.role}, {"node", address_}});
  }

  http::response health() {
    core::json::object out{{"status", "ok"}, {"role", cfg_.role}, {"node", address_}};
    bool ok = role_->health(out);
    if (store_) {
      out["store"] = store_->describe();
      out["lsn"] = store_->lsn();
      if (!store_->healthy()) {
        ok = false;
        out["status"] = "store_unavailable";
      }
    }
    if (draining_) {
      ok = false;
      out["status"] = "draining";
    } else if (!ok && out["status"] == "ok") {
      out["status"] = "unavailable";
    }
    return http::json_reply(ok ? bhttp::status::ok : bhttp::status::service_unavailable, out);
  }

  http::response metrics() {
    return http::text_reply(bhttp::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                            metrics_.render());
  }

  asio::any_io_executor ex_;
  node_config cfg_;
  std::shared_ptr<store::store> store_;
  http::client& client_;
  core::metrics metrics_;
  http::router router_;
  std::unique_ptr<roles::role> role_;
  std::unique_ptr<http::server> server_;
  std::string address_;
  bool draining_ = false;
};

}  // namespace

int run(std::vector<node_config> nodes) {
  // One thread runs the loop and only it starts socket and timer operations; other threads
  // (the stores' writers) only post completions. So the reactor's per-descriptor locks are
  // not needed, the scheduler's (which those posts take) are kept.
  asio::io_context ioc(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  auto ex = ioc.get_executor();
  http::client_options copts = nodes.empty() ? http::client_options{} : nodes.front().client;
  http::client client(ex, copts);

  std::map<std::string, std::shared_ptr<store::store>> stores;
  std::vector<std::unique_ptr<node_instance>> instances;
  auto close_stores = [&] {
    for (auto& [spec, st] : stores)
      st->close();
  };
  for (auto& cfg : nodes) {
    std::shared_ptr<store::store> st;
    if (!cfg.store.empty()) {
      auto it = stores.find(cfg.store);
      if (it == stores.end()) {
        auto opened = store::store::open(cfg.store, ex);
        if (!opened) {
          core::log::error("node: " + opened.error().message);
          close_stores();
          core::log::flush();
          return 1;
        }
        it = stores.emplace(cfg.store, *opened).first;
      }
      st = it->second;
    }
    auto inst = std::make_unique<node_instance>(ex, cfg, st, client);
    auto ready = inst->prepare();
    if (!ready) {
      core::log::error("node: " + cfg.role + " on port " + std::to_string(cfg.server.port) + ": " +
                       ready.error().message);
      close_stores();
      core::log::flush();
      return 1;
    }
    instances.push_back(std::move(inst));
  }

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(ioc);
  bool stopping = false;
  std::size_t running = instances.size();

  auto stop_all = [&] {
    if (stopping) return;
    stopping = true;
    drain_timer.cancel();
    for (auto& inst : instances) {
      inst->stop([&] {
        if (--running == 0) {
          signals.cancel();
          close_stores();
          client.close_idle();
        }
      });
    }
  };

  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::chrono::milliseconds drain{0};
    for (auto& inst : instances)
      drain = std::max(drain, inst->config().drain);
    if (sig == SIGTERM && drain.count() > 0 && !stopping) {
      core::log::info("node: SIGTERM, draining for " + std::to_string(drain.count()) + " ms");
      for (auto& inst : instances)
        inst->begin_drain();
      drain_timer.expires_after(drain);
      drain_timer.async_wait([&](boost::system::error_code tec) {
        if (!tec) stop_all();
      });
      signals.async_wait(on_signal);  // a second signal stops at once
      return;
    }
    core::log::info(std::string("node: ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    stop_all();
  };
  signals.async_wait(on_signal);

  for (auto& inst : instances)
    inst->start();
  ioc.run();
  instances.clear();
  core::log::info("node: stopped");
  core::log::flush();
  return 0;
}

}  // namespace node::app
