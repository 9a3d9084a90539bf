// The registry's flags: its static servers, the health-check timing and thresholds.
#include "node/app/role_options.hpp"

#include "node/registry/schedule.hpp"
#include "node/registry/server_address.hpp"

#include <set>

namespace node::app {

namespace po = boost::program_options;

namespace {

// Reads a whole-number flag and checks it lies in [low, high]; "" or a one-line error.
std::string read_bounded(const po::variables_map& vm, const char* name, long low, long high,
                         long& out) {
  out = vm[name].as<long>();
  if (out < low || out > high) {
    return std::string("--") + name + " must be from " + std::to_string(low) + " to " +
           std::to_string(high) + ", got " + std::to_string(out);
  }
  return {};
}

// Splits "a:1,b:2" into canonical addresses; "" or a one-line error.
std::string read_servers(const std::string& text, std::vector<std::string>& out) {
  std::set<std::string> seen;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    auto end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(begin, end - begin);
    begin = end + 1;
    if (item.empty()) {
      if (text.empty()) break;
      return "--servers has an empty entry: expected host:port,host:port";
    }
    auto address = registry::parse_server_address(item);
    if (!address) return "--servers: '" + item + "': " + address.error().message;
    auto key = address->str();
    if (!seen.insert(key).second) return "--servers lists " + key + " twice";
    out.push_back(key);
  }
  return {};
}

}  // namespace

po::options_description registry_options() {
  const registry_config defaults;
  const std::string bound = registry::describe_detection_bound(
      defaults.check_interval, defaults.fail_threshold, defaults.check_timeout);
  po::options_description reg("Registry (--role=registry)");
  // clang-format off
  reg.add_options()
      ("servers", po::value<std::string>()->default_value("")->value_name("LIST"),
       "servers registered at start, always: host:port,host:port (more with POST /servers)")
      ("check-interval-ms", po::value<long>()->default_value(500)->value_name("MS"),
       ("time between two GET /health checks of a server (a little jitter only shortens it); "
        "the detection bound is interval x --fail-threshold + --check-timeout-ms: with the "
        "defaults, " + bound).c_str())
      ("check-timeout-ms", po::value<long>()->default_value(250)->value_name("MS"),
       "a check not answered within MS fails; at most --check-interval-ms")
      ("check-jitter", po::value<double>()->default_value(0.1, "0.1")->value_name("FRACTION"),
       "checks come up to this fraction of the interval early, so they drift apart (0 to 0.5)")
      ("fail-threshold", po::value<long>()->default_value(2)->value_name("N"),
       "consecutive failed checks (no answer, timeout, non-2xx such as 503 draining) that take "
       "a server out of rotation")
      ("rise-threshold", po::value<long>()->default_value(2)->value_name("N"),
       "consecutive good checks that put a server back in rotation")
      ("max-servers", po::value<long>()->default_value(256)->value_name("N"),
       "servers the registry holds at most (POST /servers answers 409 beyond)");
  // clang-format on
  return reg;
}

std::string read_registry_options(const po::variables_map& vm, node_config& cfg) {
  auto& reg = cfg.registry;
  reg.servers.clear();
  if (auto err = read_servers(vm["servers"].as<std::string>(), reg.servers); !err.empty()) {
    return err;
  }
  long interval = 0, timeout = 0, fail = 0, rise = 0, max = 0;
  for (auto err : {read_bounded(vm, "check-interval-ms", 1, 3'600'000, interval),
                   read_bounded(vm, "check-timeout-ms", 1, 3'600'000, timeout),
                   read_bounded(vm, "fail-threshold", 1, 1000, fail),
                   read_bounded(vm, "rise-threshold", 1, 1000, rise),
                   read_bounded(vm, "max-servers", 1, 100'000, max)}) {
    if (!err.empty()) return err;
  }
  // The detection bound holds only when a check ends before the next is due.
  if (timeout > interval) {
    return "--check-timeout-ms (" + std::to_string(timeout) +
           ") must not exceed --check-interval-ms (" + std::to_string(interval) + ")";
  }
  double jitter = vm["check-jitter"].as<double>();
  if (!(jitter >= 0.0 && jitter <= 0.5)) {
    return "--check-jitter must be from 0 to 0.5, got " + std::to_string(jitter);
  }
  if (reg.servers.size() > static_cast<std::size_t>(max)) {
    return "--servers lists " + std::to_string(reg.servers.size()) +
           " servers, more than --max-servers (" + std::to_string(max) + ")";
  }
  reg.check_interval = std::chrono::milliseconds(interval);
  reg.check_timeout = std::chrono::milliseconds(timeout);
  reg.check_jitter = jitter;
  reg.fail_threshold = static_cast<unsigned>(fail);
  reg.rise_threshold = static_cast<unsigned>(rise);
  reg.max_servers = static_cast<std::size_t>(max);
  return {};
}

}  // namespace node::app
