// Jittered health-check times and the registry's detection bound.
#include "node/registry/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace node::registry {

check_scheduler::check_scheduler(std::chrono::milliseconds interval, double jitter,
                                 std::uint64_t seed)
    : interval_(interval), jitter_(jitter), rng_(seed) {
  if (interval.count() <= 0) {
    throw std::invalid_argument("check interval must be positive");
  }
  if (!(jitter >= 0.0 && jitter < 1.0)) {
    throw std::invalid_argument("check jitter must be in [0, 1)");
  }
}

std::chrono::milliseconds check_scheduler::next_delay() {
  // 53 random bits give a double uniform in [0, 1), independent of the library's
  // distributions, which differ between implementations.
  const double unit = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  const double ms = static_cast<double>(interval_.count()) * (1.0 - jitter_ * unit);
  const auto delay = static_cast<std::chrono::milliseconds::rep>(std::ceil(ms));
  return std::chrono::milliseconds(
      std::clamp<std::chrono::milliseconds::rep>(delay, 1, interval_.count()));
}

std::chrono::milliseconds detection_bound(std::chrono::milliseconds interval,
                                          unsigned failures_before_down,
                                          std::chrono::milliseconds timeout) {
  return interval * std::max(failures_before_down, 1u) + timeout;
}

std::string describe_detection_bound(std::chrono::milliseconds interval,
                                     unsigned failures_before_down,
                                     std::chrono::milliseconds timeout) {
  const auto failures = std::max(failures_before_down, 1u);
  return "a server that stops answering is no longer handed out within " +
         std::to_string(detection_bound(interval, failures, timeout).count()) + " ms (" +
         std::to_string(interval.count()) + " ms interval x " + std::to_string(failures) +
         (failures == 1 ? " failed check + " : " failed checks + ") +
         std::to_string(timeout.count()) + " ms timeout)";
}

}  // namespace node::registry
