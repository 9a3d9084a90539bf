// What a role is: routes on the shared router plus optional background tasks.
#pragma once

#include "node/app/config.hpp"
#include "node/core/metrics.hpp"
#include "node/http/client.hpp"
#include "node/http/router.hpp"
#include "node/store/store.hpp"

#include <memory>
#include <string>

namespace node::roles {

// What a role gets from the node that runs it. Everything outlives the role.
struct role_context {
  asio::any_io_executor ex;
  const app::node_config& config;
  core::metrics& metrics;
  http::client& client;
  std::shared_ptr<store::store> store;  // null for roles that keep nothing
};

class role {
 public:
  virtual ~role() = default;
  // Adds the role's routes. Called once, before the server starts.
  virtual void add_routes(http::router& r) = 0;
  // Starts background tasks (health checks, shippers). Called once the server listens.
  virtual void start() {}
  // Stops background tasks; called when the node begins to stop.
  virtual void stop() {}
  // Adds role fields to /health; returns false when the role cannot serve.
  virtual bool health(core::json::object& out) {
    (void)out;
    return true;
  }
};

// The store spec a role uses when --store is not given ("" when it needs none).
std::string default_store(std::string_view role);

// Makes the role named by ctx.config.role.
core::result<std::unique_ptr<role>> make_role(const role_context& ctx);

}  // namespace node::roles
