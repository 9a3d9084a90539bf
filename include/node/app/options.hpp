// Reading the command line and config files into node_config.
#pragma once

#include "node/app/config.hpp"

#include <string>
#include <vector>

namespace node::app {

struct parsed_options {
  enum class action { run, help, version, fail };
  action what = action::run;
  std::string message;  // help text, version line, or the one-line failure
  std::vector<node_config> nodes;
};

// Parses argv (and the file named by --config). Never throws; a bad flag, value, role
// or file gives action::fail with a one-line message naming the option.
parsed_options parse_options(int argc, const char* const* argv);

}  // namespace node::app
