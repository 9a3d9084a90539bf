// The registry role: a pool of shop servers handed out round-robin over the healthy ones,
// kept current by active GET /health checks.
#pragma once

#include "node/roles/role.hpp"

#include <memory>

namespace node::roles {

// Registers the servers of --servers and those registered earlier with POST /servers
// (read from ctx.store when it is set). A stored registration that is no longer a valid
// server, or is beyond --max-servers, is skipped with a warning.
std::unique_ptr<role> make_registry(const role_context& ctx);

}  // namespace node::roles
