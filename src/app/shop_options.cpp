// The shop's flags (also used by mirror-shop and async-replica).
#include "node/app/role_options.hpp"

#include "node/registry/server_address.hpp"

namespace node::app {

namespace po = boost::program_options;

po::options_description shop_options() {
  po::options_description shop("Shop (--role=shop)");
  shop.add_options()
      ("seed-demo", po::value<bool>()->default_value(true)->value_name("BOOL"),
       "give a brand-new store a few demo products")
      ("registry", po::value<std::string>()->value_name("URL"),
       "a registry (http://host:port) the /ui/ page asks for a shop before each API call, so "
       "it keeps working when one shop dies");
  return shop;
}

std::string read_shop_options(const po::variables_map& vm, node_config& cfg) {
  cfg.shop.seed_demo = vm["seed-demo"].as<bool>();
  cfg.shop.registry_url.clear();
  if (vm.count("registry") != 0) {
    std::string_view url = vm["registry"].as<std::string>();
    if (url.substr(0, 7) == "http://") url.remove_prefix(7);
    if (!url.empty() && url.back() == '/') url.remove_suffix(1);
    auto address = registry::parse_server_address(url);
    if (!address) {
      return "invalid --registry '" + vm["registry"].as<std::string>() +
             "': expected http://host:port";
    }
    cfg.shop.registry_url = "http://" + address->str();
  }
  return {};
}

}  // namespace node::app
