// When the registry checks its servers: jittered check times and the bound on how long a
// dead server keeps being handed out.
#pragma once

#include "node/registry/health.hpp"

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace node::registry {

// Draws the delay between two checks of a server: uniform in
// [interval * (1 - jitter), interval]. Jitter only shortens the interval, so checks of
// several servers drift apart while detection_bound() stays a true bound. The sequence
// depends only on the seed (the same seed gives the same delays on every platform).
class check_scheduler {
 public:
  // Throws std::invalid_argument when `interval` is not positive or `jitter` is outside
  // [0, 1): the options code validates both before.
  check_scheduler(std::chrono::milliseconds interval, double jitter, std::uint64_t seed);

  // The next delay; at least 1 ms.
  std::chrono::milliseconds next_delay();
  // When the check after one that started at `previous_start` is due. Times are counted
  // from check starts, so a check's own duration does not stretch the interval; a check
  // still running when this comes should delay the next one until it ends.
  time_point next_check(time_point previous_start) { return previous_start + next_delay(); }

  std::chrono::milliseconds interval() const { return interval_; }
  double jitter() const { return jitter_; }

 private:
  std::chrono::milliseconds interval_;
  double jitter_;
  std::mt19937_64 rng_;
};

// The longest a dead server keeps being handed out: interval * failures_before_down +
// timeout. It holds when a server's checks start at most `interval` apart (as
// check_scheduler's do), the first check of a new server is due at once, and timeout <=
// interval. A failures_before_down of 0 counts as 1, as in health_policy.
std::chrono::milliseconds detection_bound(std::chrono::milliseconds interval,
                                          unsigned failures_before_down,
                                          std::chrono::milliseconds timeout);

// The bound in words, for --help and the docs, e.g. "a server that stops answering is
// no longer handed out within 5000 ms (2000 ms interval x 2 failed checks + 1000 ms
// timeout)".
std::string describe_detection_bound(std::chrono::milliseconds interval,
                                     unsigned failures_before_down,
                                     std::chrono::milliseconds timeout);

}  // namespace node::registry
