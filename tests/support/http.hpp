// Blocking HTTP calls for tests, made with the project's own client on a private loop.
#pragma once

#include "node/core/json.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace node::test {

struct reply {
  unsigned status = 0;  // 0 when the node could not be reached
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const;
  // The body parsed as JSON (null when it is not JSON).
  core::json::value json() const;
};

reply call(std::string method, std::uint16_t port, std::string target, std::string body = {},
           std::vector<std::pair<std::string, std::string>> headers = {},
           std::chrono::milliseconds timeout = std::chrono::seconds(10));

inline reply get(std::uint16_t port, std::string target) { return call("GET", port, std::move(target)); }
inline reply post(std::uint16_t port, std::string target, const core::json::value& body) {
  return call("POST", port, std::move(target), core::to_json(body));
}
inline reply put(std::uint16_t port, std::string target, const core::json::value& body) {
  return call("PUT", port, std::move(target), core::to_json(body));
}
inline reply del(std::uint16_t port, std::string target) {
  return call("DELETE", port, std::move(target));
}

// Polls pred every few milliseconds until it holds or the deadline passes; returns the
// last value of pred.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds deadline = std::chrono::seconds(10));

}  // namespace node::test

#include <thread>

template <class Pred>
bool node::test::eventually(Pred pred, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}
