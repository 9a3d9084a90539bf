// Each role's own flags: the options code calls these to describe, read and check them.
// Only options code includes this header.
#pragma once

#include "node/app/config.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <string>

namespace node::app {

// The flags of a role, for --help and parsing.
boost::program_options::options_description shop_options();
boost::program_options::options_description registry_options();
boost::program_options::options_description model_options();
boost::program_options::options_description consensus_options();
boost::program_options::options_description replication_options();

// Reads the role's flags into cfg. Returns "" when they are valid, else a one-line
// message naming the flag ("--interval-ms must be positive, got 0").
std::string read_shop_options(const boost::program_options::variables_map& vm, node_config& cfg);
std::string read_registry_options(const boost::program_options::variables_map& vm,
                                  node_config& cfg);
std::string read_model_options(const boost::program_options::variables_map& vm, node_config& cfg);
std::string read_consensus_options(const boost::program_options::variables_map& vm,
                                   node_config& cfg);
std::string read_replication_options(const boost::program_options::variables_map& vm,
                                     node_config& cfg);

}  // namespace node::app
