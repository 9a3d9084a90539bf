// The registry's flags and the shop's --registry as parse_options reads them.
#include "node/app/options.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using node::app::parse_options;
using node::app::parsed_options;
using namespace std::chrono_literals;

namespace {

parsed_options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "node");
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("registry options: defaults give a 1250 ms bound and a 1500 ms drain", "[unit]") {
  auto p = parse({"--role=registry", "--port=8000"});
  REQUIRE(p.what == parsed_options::action::run);
  REQUIRE(p.nodes.size() == 1);
  const auto& cfg = p.nodes[0];
  CHECK(cfg.store == "json:data/registry.json");
  CHECK(cfg.registry.servers.empty());
  CHECK(cfg.registry.check_interval == 500ms);
  CHECK(cfg.registry.check_timeout == 250ms);
  CHECK(cfg.registry.fail_threshold == 2);
  CHECK(cfg.registry.rise_threshold == 2);
  CHECK(cfg.registry.check_jitter == 0.1);
  CHECK(cfg.drain == 1500ms);
  CHECK(cfg.drain > cfg.registry.check_interval * 2 + cfg.registry.check_timeout);
}

TEST_CASE("registry options: servers are read in order in canonical form", "[unit]") {
  auto p = parse({"--role=registry", "--port=8000", "--servers=LocalHost:3001,10.0.0.2:3002",
                  "--check-interval-ms=100", "--check-timeout-ms=100", "--fail-threshold=3",
                  "--rise-threshold=1", "--check-jitter=0"});
  REQUIRE(p.what == parsed_options::action::run);
  const auto& reg = p.nodes[0].registry;
  CHECK(reg.servers == std::vector<std::string>{"localhost:3001", "10.0.0.2:3002"});
  CHECK(reg.check_interval == 100ms);
  CHECK(reg.check_timeout == 100ms);
  CHECK(reg.fail_threshold == 3);
  CHECK(reg.rise_threshold == 1);
  CHECK(reg.check_jitter == 0);
}

TEST_CASE("registry options: bad values fail naming the flag", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--servers=a:1,a:1", "--servers lists a:1 twice"},
      {"--servers=a:99999", "--servers: 'a:99999'"},
      {"--check-timeout-ms=501", "must not exceed --check-interval-ms"},
      {"--fail-threshold=0", "--fail-threshold must be from 1 to 1000, got 0"},
      {"--check-jitter=-0.1", "--check-jitter must be from 0 to 0.5"},
      {"--max-servers=0", "--max-servers must be from 1"},
  };
  for (const auto& [flag, says] : cases) {
    INFO(flag);
    auto p = parse({"--role=registry", "--port=8000", flag});
    CHECK(p.what == parsed_options::action::fail);
    CHECK(p.message.find(says) != std::string::npos);
  }
}

TEST_CASE("registry options: the shop's --registry is normalised to a URL", "[unit]") {
  for (const auto& given : {"http://127.0.0.1:8000", "127.0.0.1:8000", "http://127.0.0.1:8000/"}) {
    INFO(given);
    auto p = parse({"--role=shop", "--port=3001", std::string("--registry=") + given});
    REQUIRE(p.what == parsed_options::action::run);
    CHECK(p.nodes[0].shop.registry_url == "http://127.0.0.1:8000");
  }
  CHECK(parse({"--role=shop", "--port=3001"}).nodes.at(0).shop.registry_url.empty());
  for (const auto& bad : {"https://h:1", "h", "http://h:1/x", "http://[::1]:8000"}) {
    INFO(bad);
    auto p = parse({"--role=shop", "--port=3001", std::string("--registry=") + bad});
    CHECK(p.what == parsed_options::action::fail);
    CHECK(p.message.find("invalid --registry") != std::string::npos);
  }
}
