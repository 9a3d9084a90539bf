// The registry's pool of shop servers: registration, health bookkeeping and round-robin
// hand-out over the servers healthy now. Plain logic with an injected clock, no I/O.
#pragma once

#include "node/core/error.hpp"
#include "node/registry/health.hpp"
#include "node/registry/server_address.hpp"

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace node::registry {

// One server as GET /servers lists it.
struct server_status {
  std::string server;  // canonical "host:port"
  bool healthy = false;
  std::uint64_t consecutive_failures = 0;
  std::uint64_t consecutive_successes = 0;
  std::uint64_t checks = 0;    // checks recorded since registration
  std::uint64_t failures = 0;  // failed checks since registration
  std::uint64_t served = 0;    // times next() handed it out
  // Milliseconds between the end of the last check and the `now` given to list(); empty
  // before the first check.
  std::optional<std::int64_t> last_check_ms_ago;
  // The last check's HTTP status; empty before the first check or when no answer came.
  std::optional<unsigned> last_status;
  // The last check's error; empty when it succeeded or before the first check.
  std::string last_error;
};

// {"server":"localhost:3001","healthy":true,"consecutive_failures":0,
//  "consecutive_successes":3,"checks":3,"failures":0,"served":7,"last_check_ms_ago":412,
//  "last_status":200,"last_error":null}; empty optionals and an empty error are null.
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const server_status& s);

// Pool-wide counters for /metrics. Calls and checks survive the removal of a server.
struct pool_counters {
  std::size_t servers = 0;
  std::size_t healthy = 0;
  std::uint64_t get_server_calls = 0;   // every next()
  std::uint64_t get_server_misses = 0;  // next() calls that found no healthy server
  std::uint64_t checks = 0;
  std::uint64_t failures = 0;
};

// The registered servers in registration order, each with its health.
//
// Round-robin rule: the servers form a ring in registration order and a cursor sits just
// after the server handed out last. next() walks the ring once from the cursor and hands
// out the first server that is healthy at that moment, leaving the cursor just after it.
// Hence a healthy server is never skipped: between two turns of one server, every other
// server that is healthy when the walk passes it gets exactly one turn. A server that
// comes back or is newly added (at the end of the ring) waits for the cursor to reach its
// place, so it gets no burst of turns; removing a server keeps the cursor's place among
// the others.
//
// Touched only from the loop thread; no locks.
class server_pool {
 public:
  explicit server_pool(const health_policy& policy = {}, std::size_t max_servers = 256);

  // Registers a server in the state `policy.start_healthy` says. Fails with 400
  // bad_request (field "server") on a malformed address, 409 conflict "already_registered"
  // when its canonical form is registered, 409 conflict "too_many_servers" at max_servers.
  core::result<server_address> add(std::string_view server);
  // Unregisters a server. Fails with 400 on a malformed address, 404 when not registered.
  core::result<server_address> remove(std::string_view server);

  // Records one finished check of `server`. Fails with 400 on a malformed address and 404
  // when the server is not registered (it was removed while its check ran).
  core::result<transition> record_check(std::string_view server, const check_outcome& outcome,
                                        time_point now);

  // The next healthy server by the round-robin rule, in canonical form; empty when no
  // server is healthy.
  std::optional<std::string> next();

  // Every server's state, in registration order.
  std::vector<server_status> list(time_point now) const;
  // One server's state. Fails with 400 on a malformed address, 404 when not registered.
  core::result<server_status> status(std::string_view server, time_point now) const;
  // The registered addresses, in registration order: what the checker has to check.
  std::vector<server_address> servers() const;

  std::size_t size() const { return entries_.size(); }
  std::size_t healthy_count() const;
  pool_counters counters() const;

 private:
  struct entry {
    server_address address;
    std::string key;  // address.str()
    server_health health;
    std::uint64_t served = 0;
  };

  core::result<std::size_t> find(std::string_view server) const;
  static server_status status_of(const entry& e, time_point now);

  health_policy policy_;
  std::size_t max_servers_;
  std::vector<entry> entries_;
  // Index of the first server the next walk looks at; in [0, entries_.size()], and the
  // size means "wrap to the first".
  std::size_t cursor_ = 0;
  std::uint64_t get_server_calls_ = 0;
  std::uint64_t get_server_misses_ = 0;
  std::uint64_t checks_ = 0;
  std::uint64_t failures_ = 0;
};

}  // namespace node::registry
