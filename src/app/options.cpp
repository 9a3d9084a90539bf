// Command line and config files (Boost.Program_options) -> one node_config per node.
// A config file holds "name = value" lines; "[name]" sections each describe one node of
// a multi-node process, and lines before the first section apply to every node.
#include "node/app/options.hpp"

#include "node/app/role_options.hpp"
#include "node/core/log.hpp"
#include "node/roles/role.hpp"

#include <boost/program_options.hpp>

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace node::app {

namespace po = boost::program_options;

namespace {

constexpr const char* roles_list = "model, consensus, registry, shop, mirror-shop, async-replica";

po::options_description general_options() {
  po::options_description general("General");
  general.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("config", po::value<std::string>()->value_name("FILE"),
       "read options from FILE: 'name = value' lines; [name] sections describe several nodes "
       "run in one process (see docs/configuration.md)")
      ("role", po::value<std::string>()->value_name("ROLE"),
       "what this node is: model, consensus, registry, shop, mirror-shop, async-replica")
      ("host", po::value<std::string>()->default_value("127.0.0.1")->value_name("ADDR"),
       "address to listen on")
      ("port", po::value<std::string>()->value_name("N"),
       "port to listen on (0: any free port, printed at start)")
      ("log-level", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
       "debug, info (one line per request), warn, error or off")
      ("store", po::value<std::string>()->value_name("SPEC"),
       "where data lives: sqlite:PATH, json:PATH or memory: (shop default sqlite:data/shop.db, "
       "registry default json:data/registry.json, consensus json:data/balances.json)")
      ("admin-token", po::value<std::string>()->value_name("TOKEN"),
       "when set, cluster-changing routes need 'Authorization: Bearer TOKEN'")
      ("drain-ms", po::value<long>()->default_value(1500)->value_name("MS"),
       "on SIGTERM, answer /health with 503 for MS milliseconds while still serving, then "
       "stop; the default is slightly over a registry's default detection bound (1250 ms), so "
       "registries stop handing the node out before it goes (SIGINT stops at once)");

  po::options_description limits("HTTP limits");
  limits.add_options()
      ("max-body", po::value<std::size_t>()->default_value(std::size_t{1024} * 1024)->value_name("BYTES"),
       "largest request body (413 above)")
      ("max-header", po::value<std::size_t>()->default_value(std::size_t{16} * 1024)->value_name("BYTES"),
       "largest request header block (431 above)")
      ("read-timeout-ms", po::value<long>()->default_value(10'000)->value_name("MS"),
       "time to receive one whole request (408 after)")
      ("idle-timeout-ms", po::value<long>()->default_value(60'000)->value_name("MS"),
       "an idle kept-alive connection is closed after this")
      ("max-connections", po::value<std::size_t>()->default_value(4096)->value_name("N"),
       "open connections at most; more are answered 503 and closed")
      ("cors-origin", po::value<std::string>()->default_value("*")->value_name("ORIGIN"),
       "Access-Control-Allow-Origin of every answer")
      ("peer-timeout-ms", po::value<long>()->default_value(5000)->value_name("MS"),
       "default timeout of requests this node makes to other nodes");
  general.add(limits);
  return general;
}

po::options_description all_options() {
  po::options_description all(
      "Usage: node --role=ROLE --port=N [options]\n       node --config FILE");
  all.add(general_options())
      .add(shop_options())
      .add(registry_options())
      .add(model_options())
      .add(consensus_options())
      .add(replication_options());
  return all;
}

bool parse_port(const std::string& text, std::uint16_t& out) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || text.empty() || end != text.data() + text.size() || value > 65535) {
    return false;
  }
  out = static_cast<std::uint16_t>(value);
  return true;
}

parsed_options fail(std::string message) {
  parsed_options p;
  p.what = parsed_options::action::fail;
  p.message = std::move(message);
  return p;
}

std::string read_ms(const po::variables_map& vm, const char* name, std::chrono::milliseconds& out,
                    bool allow_zero) {
  long v = vm[name].as<long>();
  if (v < 0 || (!allow_zero && v == 0)) {
    return std::string("--") + name + " must be " + (allow_zero ? "0 or more" : "positive") +
           ", got " + std::to_string(v);
  }
  out = std::chrono::milliseconds(v);
  return {};
}

// Builds one node's config from its parsed options; "" or a one-line error.
std::string build_config(const po::variables_map& vm, node_config& cfg) {
  if (vm.count("role") == 0) return "missing --role (one of: " + std::string(roles_list) + ")";
  cfg.role = vm["role"].as<std::string>();
  if (!known_role(cfg.role)) {
    return "unknown role '" + cfg.role + "' (one of: " + roles_list + ")";
  }
  if (!role_available(cfg.role)) return "role '" + cfg.role + "' is not available in this build";
  if (vm.count("port") == 0) return "missing --port";
  if (!parse_port(vm["port"].as<std::string>(), cfg.server.port)) {
    return "invalid --port '" + vm["port"].as<std::string>() + "': expected 0 to 65535";
  }
  cfg.server.host = vm["host"].as<std::string>();
  cfg.server.name = cfg.role;
  cfg.store = vm.count("store") != 0 ? vm["store"].as<std::string>() : roles::default_store(cfg.role);
  if (vm.count("admin-token") != 0) cfg.admin_token = vm["admin-token"].as<std::string>();

  auto& lim = cfg.server.limits;
  for (auto err : {read_ms(vm, "drain-ms", cfg.drain, true),
                   read_ms(vm, "read-timeout-ms", lim.read_timeout, false),
                   read_ms(vm, "idle-timeout-ms", lim.idle_timeout, false),
                   read_ms(vm, "peer-timeout-ms", cfg.client.timeout, false)}) {
    if (!err.empty()) return err;
  }
  lim.max_body = vm["max-body"].as<std::size_t>();
  lim.max_header = vm["max-header"].as<std::size_t>();
  lim.max_connections = vm["max-connections"].as<std::size_t>();
  if (lim.max_header < 1024) return "--max-header must be at least 1024";
  if (lim.max_connections == 0) return "--max-connections must be at least 1";
  cfg.server.cors_origin = vm["cors-origin"].as<std::string>();

  std::string err = read_shop_options(vm, cfg);
  if (err.empty()) err = read_registry_options(vm, cfg);
  if (err.empty() && cfg.role == "model") err = read_model_options(vm, cfg);
  if (err.empty() && cfg.role == "consensus") err = read_consensus_options(vm, cfg);
  if (err.empty()) err = read_replication_options(vm, cfg);
  return err;
}

// A config file: options before any section, then named sections, in file order.
struct config_file {
  std::vector<std::pair<std::string, std::string>> global;
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> sections;
};

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Reads FILE; "" or a one-line error naming the file and line.
std::string read_config_file(const std::string& path, config_file& out) {
  std::ifstream in(path);
  if (!in) return "cannot read config file '" + path + "'";
  std::string line;
  int number = 0;
  auto* target = &out.global;
  while (std::getline(in, line)) {
    ++number;
    std::string text = trim(line.substr(0, line.find('#')));
    if (text.empty()) continue;
    std::string where = path + ":" + std::to_string(number) + ": ";
    if (text.front() == '[') {
      if (text.back() != ']' || text.size() < 3) return where + "expected '[name]'";
      std::string name = trim(text.substr(1, text.size() - 2));
      for (const auto& [n, kv] : out.sections) {
        if (n == name) return where + "node '" + name + "' is described twice";
      }
      out.sections.emplace_back(name, std::vector<std::pair<std::string, std::string>>{});
      target = &out.sections.back().second;
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string::npos) return where + "expected 'name = value', got '" + text + "'";
    std::string key = trim(text.substr(0, eq));
    if (key.empty()) return where + "expected 'name = value', got '" + text + "'";
    target->emplace_back(key, trim(text.substr(eq + 1)));
  }
  return {};
}

// Parses "--name=value" arguments against every option; "" or po's message.
std::string parse_args(const std::vector<std::string>& args, const po::options_description& desc,
                       po::variables_map& vm) {
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return e.what();
  }
  return {};
}

std::vector<std::string> as_args(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<std::string> args;
  for (const auto& [k, v] : kv) args.push_back("--" + k + "=" + v);
  return args;
}

}  // namespace

bool known_role(std::string_view role) {
  return role == "model" || role == "consensus" || role == "registry" || role == "shop" ||
         role == "mirror-shop" || role == "async-replica";
}

bool role_available(std::string_view role) {
  return role == "shop" || role == "registry" || role == "model" || role == "consensus" ||
         role == "mirror-shop" || role == "async-replica";
}

parsed_options parse_options(int argc, const char* const* argv) {
  auto desc = all_options();
  std::vector<std::string> cli(argv + (argc > 0 ? 1 : 0), argv + argc);
  po::variables_map cli_vm;
  if (auto err = parse_args(cli, desc, cli_vm); !err.empty()) return fail(err);

  if (cli_vm.count("help") != 0) {
    std::ostringstream out;
    out << desc << "\nRoles available in this build: " << roles_list << ".\n";
    parsed_options p;
    p.what = parsed_options::action::help;
    p.message = out.str();
    return p;
  }
  if (cli_vm.count("version") != 0) {
    parsed_options p;
    p.what = parsed_options::action::version;
    p.message = "node 0.1.0";
    return p;
  }

  // The command line without --config, which wins over anything the file says.
  std::vector<std::string> overrides;
  for (std::size_t i = 0; i < cli.size(); ++i) {
    if (cli[i] == "--config") {
      ++i;
      continue;
    }
    if (cli[i].rfind("--config=", 0) == 0) continue;
    overrides.push_back(cli[i]);
  }

  config_file file;
  if (cli_vm.count("config") != 0) {
    const std::string path = cli_vm["config"].as<std::string>();
    if (auto err = read_config_file(path, file); !err.empty()) return fail(err);
  }

  // One node: the file's options then the command line. Several: each section's.
  std::vector<std::pair<std::string, std::vector<std::string>>> nodes;
  if (file.sections.empty()) {
    auto args = as_args(file.global);
    // Later values of a single-valued option are an error in po: let the command line win
    // by dropping file options it sets again.
    std::vector<std::string> merged;
    for (const auto& a : args) {
      std::string name = a.substr(0, a.find('='));
      bool overridden = false;
      for (const auto& o : overrides) overridden = overridden || o.rfind(name, 0) == 0;
      if (!overridden) merged.push_back(a);
    }
    merged.insert(merged.end(), overrides.begin(), overrides.end());
    nodes.emplace_back("", merged);
  } else {
    for (const auto& o : overrides) {
      if (o.rfind("--role", 0) == 0 || o.rfind("--port", 0) == 0) {
        return fail("--role and --port go in the config file's [node] sections, not on the "
                    "command line, when it describes several nodes");
      }
    }
    for (const auto& [name, kv] : file.sections) {
      auto combined = file.global;
      for (const auto& p : kv) {
        std::erase_if(combined, [&](const auto& g) { return g.first == p.first; });
        combined.push_back(p);
      }
      auto args = as_args(combined);
      for (const auto& o : overrides) {
        std::string oname = o.substr(0, o.find('='));
        std::erase_if(args, [&](const std::string& a) { return a.rfind(oname + "=", 0) == 0; });
      }
      args.insert(args.end(), overrides.begin(), overrides.end());
      nodes.emplace_back(name, args);
    }
  }

  parsed_options p;
  std::map<std::string, std::string> ports;  // "host:port" -> node name
  for (const auto& [name, args] : nodes) {
    std::string who = name.empty() ? "" : "node '" + name + "': ";
    po::variables_map vm;
    if (auto err = parse_args(args, desc, vm); !err.empty()) return fail(who + err);
    node_config cfg;
    if (auto err = build_config(vm, cfg); !err.empty()) return fail(who + err);
    cfg.name = name;
    core::log::level lvl{};
    if (!core::log::parse_level(vm["log-level"].as<std::string>(), lvl)) {
      return fail(who + "invalid --log-level '" + vm["log-level"].as<std::string>() +
                  "': expected debug, info, warn, error or off");
    }
    core::log::set_level(lvl);
    if (cfg.server.port != 0) {
      std::string key = cfg.server.host + ":" + std::to_string(cfg.server.port);
      auto [it, fresh] = ports.emplace(key, name);
      if (!fresh) {
        return fail(who + "port " + std::to_string(cfg.server.port) +
                    " is already used by node '" + it->second + "'");
      }
    }
    p.nodes.push_back(std::move(cfg));
  }
  return p;
}

}  // namespace node::app
