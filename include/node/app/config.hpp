// The configuration of one node, as plain structs with defaults. Only the options code
// (options.cpp) fills them from argv or a file.
#pragma once

#include "node/http/client.hpp"
#include "node/http/server.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace node::app {

// --role=shop (and the shop half of mirror-shop and async-replica).
struct shop_config {
  bool seed_demo = true;  // a brand-new store gets a few demo products
};

struct node_config {
  std::string name;  // the [section] of a multi-node config file; "" otherwise
  std::string role;
  std::string store;  // "" = the role's default
  std::string admin_token;
  std::chrono::milliseconds drain{0};  // /health answers 503 this long before stopping
  http::server_options server;
  http::client_options client;
  shop_config shop;
};

// The roles this binary knows, and which of them it can run.
bool known_role(std::string_view role);
bool role_available(std::string_view role);

}  // namespace node::app
