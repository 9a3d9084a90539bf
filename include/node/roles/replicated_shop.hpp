// mirror-shop, async-replica, and the shop started as a replica: the shop role over a
// replicating store, plus the replication routes on the same router.
#pragma once

#include "node/roles/role.hpp"

#include <memory>

namespace node::roles {

// For ctx.config.role mirror-shop or async-replica, or a shop with --read-only-replica.
// Fails (400 naming the flag) when the target cannot be opened.
core::result<std::unique_ptr<role>> make_replicated_shop(const role_context& ctx);

}  // namespace node::roles
