// The shop's flags (also used by mirror-shop and async-replica).
#include "node/app/role_options.hpp"

namespace node::app {

namespace po = boost::program_options;

po::options_description shop_options() {
  po::options_description shop("Shop (--role=shop)");
  shop.add_options()
      ("seed-demo", po::value<bool>()->default_value(true)->value_name("BOOL"),
       "give a brand-new store a few demo products");
  return shop;
}

std::string read_shop_options(const po::variables_map& vm, node_config& cfg) {
  cfg.shop.seed_demo = vm["seed-demo"].as<bool>();
  return {};
}

}  // namespace node::app
