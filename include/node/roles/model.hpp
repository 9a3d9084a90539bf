// The model role: a classifier trained at start-up, served over /predict, /info and the KServe
// V2 inference protocol (/v2/...).
#pragma once

#include "node/roles/role.hpp"

#include <memory>

namespace node::roles {

// Cross-validates and trains the classifier of ctx.config.model (whose dataset the options code
// has loaded and checked), then serves it. Training runs here, before the server listens.
core::result<std::unique_ptr<role>> make_model(const role_context& ctx);

}  // namespace node::roles
