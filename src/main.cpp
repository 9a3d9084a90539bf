// The `node` executable: parse options, then run the configured nodes.
#include "node/app/options.hpp"
#include "node/app/run.hpp"
#include "node/core/log.hpp"

#include <iostream>

int main(int argc, char** argv) {
  auto parsed = node::app::parse_options(argc, argv);
  using action = node::app::parsed_options::action;
  switch (parsed.what) {
    case action::help:
      std::cout << parsed.message << "\n";
      return 0;
    case action::version:
      std::cout << parsed.message << " (allocator: " << NODE_ALLOCATOR_NAME << ")\n";
      return 0;
    case action::fail:
      std::cerr << "node: " << parsed.message << "\n";
      return 2;
    case action::run:
      break;
  }
  int status = node::app::run(std::move(parsed.nodes));
  node::core::log::flush();
  return status;
}
