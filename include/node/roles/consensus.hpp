// The consensus role: asks every active model concurrently, combines their answers by a
// weighted vote, and moves stakes and weights after each batch (rules in docs/consensus.md).
#pragma once

#include "node/roles/role.hpp"

#include <memory>

namespace node::roles {

// Restores the cluster from ctx.store. Fails (the node does not start) when the stored
// models, meta or ledger cannot be read or do not add up.
core::result<std::unique_ptr<role>> make_consensus(const role_context& ctx);

}  // namespace node::roles
