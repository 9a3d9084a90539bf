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

// mirror-shop, async-replica, and a shop started as a replica (docs/replication.md).
struct replication_config {
  bool read_only_replica = false;  // shop: --read-only-replica
  std::string mirror;              // mirror-shop: --mirror=TARGET
  bool mirror_degrade = false;     // --mirror-mode=degrade (default reject)
  std::chrono::milliseconds mirror_timeout{2000};
  std::string replica;  // async-replica: --replica=TARGET
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds sync_timeout{5000};
  std::size_t batch_max = 256;
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
  replication_config replication;
};

// The roles this binary knows, and which of them it can run.
bool known_role(std::string_view role);
bool role_available(std::string_view role);

}  // namespace node::app
