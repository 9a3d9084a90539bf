// Making the role named on the command line.
#include "node/roles/role.hpp"

#include "node/roles/consensus.hpp"
#include "node/roles/replicated_shop.hpp"
#include "node/roles/model.hpp"
#include "node/roles/registry.hpp"
#include "node/roles/shop.hpp"

namespace node::roles {

std::string default_store(std::string_view role) {
  if (role == "shop") return "sqlite:data/shop.db";
  if (role == "mirror-shop") return "sqlite:data/mirror-shop.db";
  if (role == "async-replica") return "sqlite:data/async-replica.db";
  if (role == "registry") return "json:data/registry.json";
  if (role == "consensus") return "json:data/balances.json";
  return {};
}

core::result<std::unique_ptr<role>> make_role(const role_context& ctx) {
  const std::string& name = ctx.config.role;
  if (name == "mirror-shop" || name == "async-replica" ||
      (name == "shop" && ctx.config.replication.read_only_replica)) {
    return make_replicated_shop(ctx);
  }
  if (name == "shop") return make_shop(ctx);
  if (name == "registry") return make_registry(ctx);
  if (name == "model") return make_model(ctx);
  if (name == "consensus") return make_consensus(ctx);
  return core::bad_request("role '" + name + "' is not available in this build", "role");
}

}  // namespace node::roles
