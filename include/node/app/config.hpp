// The configuration of one node, as plain structs with defaults. Only the options code
// (options.cpp) fills them from argv or a file.
#pragma once

#include "node/http/client.hpp"
#include "node/http/server.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace node::ml {
struct dataset;
}

namespace node::app {

// --role=shop (and the shop half of mirror-shop and async-replica).
struct shop_config {
  bool seed_demo = true;  // a brand-new store gets a few demo products
};

// --role=model. The options code loads and checks the dataset, so a bad CSV fails before
// anything listens; the role trains on it.
struct model_config {
  std::string algorithm = "random_forest";
  std::string dataset_path;  // "" = the built-in Iris data
  std::string label;         // label column of the CSV; "" = the last column
  int trees = 100;
  int max_depth = 0;  // 0 = unlimited
  int k = 5;
  std::uint64_t seed = 42;
  int cv_folds = 5;                         // 0 = no cross-validation at start-up
  std::string model_id;                     // the options code defaults it to the algorithm's name
  std::size_t max_batch = 10000;            // instances in one POST /predict or V2 infer
  std::shared_ptr<const ml::dataset> data;  // the loaded dataset
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
  model_config model;
};

// The roles this binary knows, and which of them it can run.
bool known_role(std::string_view role);
bool role_available(std::string_view role);

}  // namespace node::app
