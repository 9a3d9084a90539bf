// The shop role: products, orders and carts over the store, and the web page at /ui/.
#pragma once

#include "node/roles/role.hpp"

#include <memory>

namespace node::roles {

std::unique_ptr<role> make_shop(const role_context& ctx);

// The shop's web page (one self-contained HTML document).
extern const char* const shop_ui_html;

}  // namespace node::roles
