// The configuration of one node, as plain structs with defaults. Only the options code
// (options.cpp) fills them from argv or a file.
#pragma once

#include "node/consensus/coalesce.hpp"
#include "node/consensus/params.hpp"
#include "node/http/client.hpp"
#include "node/http/server.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace node::ml {
struct dataset;
}

namespace node::app {

// --role=shop (and the shop half of mirror-shop and async-replica).
struct shop_config {
  bool seed_demo = true;  // a brand-new store gets a few demo products
  // The registry the /ui/ page asks for a shop before each API call ("http://host:port");
  // "" when the page calls the node that served it.
  std::string registry_url;
};

// --role=registry. The defaults give a detection bound of 500 x 2 + 250 = 1250 ms.
struct registry_config {
  std::vector<std::string> servers;  // canonical "host:port", always registered at start
  std::chrono::milliseconds check_interval{500};
  std::chrono::milliseconds check_timeout{250};  // at most check_interval
  double check_jitter = 0.1;    // checks come up to this fraction of the interval early
  unsigned fail_threshold = 2;  // consecutive failed checks that take a server down
  unsigned rise_threshold = 2;  // consecutive good checks that bring it back
  std::size_t max_servers = 256;
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

// --role=consensus: the models to ask and the vote and stake rules (docs/consensus.md).
struct consensus_config {
  consensus::params params;
  // --models: id and URL of the models joined at start-up (kept as stored when known).
  std::vector<std::pair<std::string, std::string>> models;
  double deposit = 1000;  // deposit of --models and of a POST /models without one
  std::chrono::milliseconds model_timeout{250};  // one fan-out request to one model
  std::size_t max_instances = 1000;              // instances of one POST /predict
  std::size_t max_pending = 1024;  // batches and cluster changes waiting to be committed
  // GET /predict's asks to one model: in flight at most (0: each GET asks each model
  // itself) and rows of one coalesced ask at most (docs/consensus.md, "Coalesced asks").
  consensus::coalesce_limits coalesce;
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
  // On SIGTERM /health answers 503 this long before stopping: slightly over the registry's
  // default detection bound (1250 ms), so a registry has stopped handing the node out.
  std::chrono::milliseconds drain{1500};
  http::server_options server;
  http::client_options client;
  shop_config shop;
  registry_config registry;
  model_config model;
  consensus_config consensus;
  replication_config replication;
};

// The roles this binary knows, and which of them it can run.
bool known_role(std::string_view role);
bool role_available(std::string_view role);

}  // namespace node::app
