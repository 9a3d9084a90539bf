// The replication flags: mirror-shop's mirror, async-replica's secondary, and the shop's
// replica mode.
#include "node/app/role_options.hpp"

namespace node::app {

namespace po = boost::program_options;

po::options_description replication_options() {
  po::options_description r(
      "Replication (--role=mirror-shop, --role=async-replica, replica shops)");
  r.add_options()("read-only-replica", po::bool_switch(),
                  "shop: serve reads, refuse client writes (503 read_only_replica) and accept the "
                  "replication stream until POST /replication/promote")(
      "mirror", po::value<std::string>()->value_name("TARGET"),
      "mirror-shop: the mirror, json:PATH, sqlite:PATH or http://HOST:PORT (a replica shop)")(
      "mirror-mode", po::value<std::string>()->default_value("reject")->value_name("MODE"),
      "mirror-shop, when the mirror cannot take a write: reject (503, refuse writes until "
      "resynced) or degrade (acknowledge local-only, flagged)")(
      "mirror-timeout-ms", po::value<long>()->default_value(2000)->value_name("MS"),
      "mirror-shop: how long a write waits for the mirror")(
      "replica", po::value<std::string>()->value_name("TARGET"),
      "async-replica: the secondary, json:PATH, sqlite:PATH or http://HOST:PORT")(
      "replication-interval-ms", po::value<long>()->default_value(1000)->value_name("MS"),
      "async-replica: ship every MS milliseconds; 0 ships only on POST /sync")(
      "sync-timeout-ms", po::value<long>()->default_value(5000)->value_name("MS"),
      "async-replica: how long POST /sync waits for the secondary")(
      "replication-batch", po::value<std::size_t>()->default_value(256)->value_name("N"),
      "batches per replication request");
  return r;
}

std::string read_replication_options(const po::variables_map& vm, node_config& cfg) {
  auto& r = cfg.replication;
  r.read_only_replica = vm["read-only-replica"].as<bool>();
  if (r.read_only_replica && cfg.role != "shop") {
    return "--read-only-replica is a shop flag (mirror-shop and async-replica are primaries)";
  }
  if (vm.count("mirror") != 0) r.mirror = vm["mirror"].as<std::string>();
  if (vm.count("replica") != 0) r.replica = vm["replica"].as<std::string>();
  if (cfg.role == "mirror-shop" && r.mirror.empty()) {
    return "--role=mirror-shop needs --mirror=TARGET (json:PATH, sqlite:PATH or http://HOST:PORT)";
  }
  if (cfg.role == "async-replica" && r.replica.empty()) {
    return "--role=async-replica needs --replica=TARGET (json:PATH, sqlite:PATH or "
           "http://HOST:PORT)";
  }
  const auto mode = vm["mirror-mode"].as<std::string>();
  if (mode != "reject" && mode != "degrade") {
    return "--mirror-mode must be reject or degrade, got '" + mode + "'";
  }
  r.mirror_degrade = mode == "degrade";
  const auto ms = [&](const char* name, std::chrono::milliseconds& out, bool zero_ok) {
    const long v = vm[name].as<long>();
    if (v < 0 || (v == 0 && !zero_ok) || v > 3600000) {
      return std::string("--") + name + " must be " + (zero_ok ? "0" : "1") + " to 3600000, got " +
             std::to_string(v);
    }
    out = std::chrono::milliseconds(v);
    return std::string();
  };
  for (auto err : {ms("mirror-timeout-ms", r.mirror_timeout, false),
                   ms("replication-interval-ms", r.interval, true),
                   ms("sync-timeout-ms", r.sync_timeout, false)}) {
    if (!err.empty()) return err;
  }
  r.batch_max = vm["replication-batch"].as<std::size_t>();
  if (r.batch_max == 0 || r.batch_max > 10000) {
    return "--replication-batch must be 1 to 10000, got " + std::to_string(r.batch_max);
  }
  return {};
}

}  // namespace node::app
