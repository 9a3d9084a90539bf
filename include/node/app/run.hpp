// Running nodes: one io_context, the stores they name, their roles and servers, and
// the signal handling that drains and stops them.
#pragma once

#include "node/app/config.hpp"

#include <vector>

namespace node::app {

// Runs the nodes until SIGINT/SIGTERM. Returns the process exit status: 0 after a clean
// stop, 1 when a store cannot be opened or a port cannot be bound (nothing is left
// listening then).
int run(std::vector<node_config> nodes);

}  // namespace node::app
