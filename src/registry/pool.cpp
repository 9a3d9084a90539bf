// The registry's server pool: registration, health bookkeeping, round-robin hand-out and
// the JSON form of a server's state.
#include "node/registry/pool.hpp"

#include <boost/json/object.hpp>

#include <algorithm>

namespace node::registry {

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const server_status& s) {
  boost::json::object o;
  o["server"] = s.server;
  o["healthy"] = s.healthy;
  o["consecutive_failures"] = s.consecutive_failures;
  o["consecutive_successes"] = s.consecutive_successes;
  o["checks"] = s.checks;
  o["failures"] = s.failures;
  o["served"] = s.served;
  o["last_check_ms_ago"] =
      s.last_check_ms_ago ? boost::json::value(*s.last_check_ms_ago) : boost::json::value();
  o["last_status"] = s.last_status ? boost::json::value(*s.last_status) : boost::json::value();
  o["last_error"] = s.last_error.empty() ? boost::json::value() : boost::json::value(s.last_error);
  jv = std::move(o);
}

server_pool::server_pool(const health_policy& policy, std::size_t max_servers)
    : policy_(policy), max_servers_(max_servers) {}

core::result<std::size_t> server_pool::find(std::string_view server) const {
  auto address = parse_server_address(server);
  if (!address) {
    return address.error();
  }
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const entry& e) { return e.address == *address; });
  if (it == entries_.end()) {
    return core::not_found("server " + address->str() + " is not registered");
  }
  // in_place: a bare integer would also convert to core::error, an aggregate.
  return {boost::system::in_place_value, static_cast<std::size_t>(it - entries_.begin())};
}

core::result<server_address> server_pool::add(std::string_view server) {
  auto address = parse_server_address(server);
  if (!address) {
    return address.error();
  }
  const auto key = address->str();
  if (std::any_of(entries_.begin(), entries_.end(),
                  [&](const entry& e) { return e.address == *address; })) {
    return core::conflict("already_registered", "server " + key + " is already registered",
                          "server");
  }
  if (entries_.size() >= max_servers_) {
    return core::conflict("too_many_servers",
                          "the registry holds at most " + std::to_string(max_servers_) + " servers",
                          "server");
  }
  entries_.push_back(entry{*address, key, server_health(policy_), 0});
  return *address;
}

core::result<server_address> server_pool::remove(std::string_view server) {
  const auto index = find(server);
  if (!index) {
    return index.error();
  }
  auto address = std::move(entries_[*index].address);
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(*index));
  if (*index < cursor_) {
    --cursor_;
  }
  return address;
}

core::result<transition> server_pool::record_check(std::string_view server,
                                                   const check_outcome& outcome, time_point now) {
  const auto index = find(server);
  if (!index) {
    return index.error();
  }
  ++checks_;
  if (!outcome.ok()) {
    ++failures_;
  }
  return entries_[*index].health.record(outcome, now);
}

std::optional<std::string> server_pool::next() {
  ++get_server_calls_;
  const auto n = entries_.size();
  for (std::size_t step = 0; step < n; ++step) {
    const auto index = (cursor_ + step) % n;
    auto& e = entries_[index];
    if (e.health.healthy()) {
      cursor_ = index + 1;
      ++e.served;
      return e.key;
    }
  }
  ++get_server_misses_;
  return std::nullopt;
}

server_status server_pool::status_of(const entry& e, time_point now) {
  server_status s;
  s.server = e.key;
  s.healthy = e.health.healthy();
  s.consecutive_failures = e.health.consecutive_failures();
  s.consecutive_successes = e.health.consecutive_successes();
  s.checks = e.health.checks();
  s.failures = e.health.failures();
  s.served = e.served;
  if (const auto& at = e.health.last_check()) {
    const auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - *at).count();
    s.last_check_ms_ago = std::max<std::int64_t>(ago, 0);
  }
  if (const auto& last = e.health.last_outcome()) {
    s.last_status = last->status;
    s.last_error = last->error;
  }
  return s;
}

std::vector<server_status> server_pool::list(time_point now) const {
  std::vector<server_status> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    out.push_back(status_of(e, now));
  }
  return out;
}

core::result<server_status> server_pool::status(std::string_view server, time_point now) const {
  const auto index = find(server);
  if (!index) {
    return index.error();
  }
  return status_of(entries_[*index], now);
}

std::vector<server_address> server_pool::servers() const {
  std::vector<server_address> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    out.push_back(e.address);
  }
  return out;
}

std::size_t server_pool::healthy_count() const {
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(),
                                                [](const entry& e) { return e.health.healthy(); }));
}

pool_counters server_pool::counters() const {
  pool_counters c;
  c.servers = entries_.size();
  c.healthy = healthy_count();
  c.get_server_calls = get_server_calls_;
  c.get_server_misses = get_server_misses_;
  c.checks = checks_;
  c.failures = failures_;
  return c;
}

}  // namespace node::registry
