// The configuration of one node, as plain structs with defaults. Only the options code
// (options.cpp) fills them from argv or a file.
#pragma once

#include "node/consensus/params.hpp"
#include "node/http/client.hpp"
#include "node/http/server.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace node::app {

// --role=shop (and the shop half of mirror-shop and async-replica).
struct shop_config {
  bool seed_demo = true;  // a brand-new store gets a few demo products
};

// --role=consensus: the models to ask and the vote and stake rules (docs/consensus.md).
struct consensus_config {
  consensus::params params;
  // --models: id and URL of the models joined at start-up (kept as stored when known).
  std::vector<std::pair<std::string, std::string>> models;
  double deposit = 1000;  // deposit of --models and of a POST /models without one
  std::chrono::milliseconds model_timeout{250};  // one fan-out request to one model
  std::size_t max_instances = 1000;              // instances of one POST /predict
  std::size_t max_pending = 1024;  // batches and cluster changes waiting to be committed
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
  consensus_config consensus;
};

// The roles this binary knows, and which of them it can run.
bool known_role(std::string_view role);
bool role_available(std::string_view role);

}  // namespace node::app
