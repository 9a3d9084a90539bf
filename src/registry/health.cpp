// The registry's per-server health state machine and check outcomes.
#include "node/registry/health.hpp"

#include <algorithm>

namespace node::registry {

check_outcome check_outcome::answered(unsigned status, std::string_view detail) {
  check_outcome out;
  out.status = status;
  if (status < 200 || status > 299) {
    out.error = "HTTP " + std::to_string(status);
    if (!detail.empty()) {
      out.error += " (" + std::string(detail) + ")";
    }
  }
  return out;
}

check_outcome check_outcome::unreachable(std::string error) {
  check_outcome out;
  out.error = error.empty() ? "no answer" : std::move(error);
  return out;
}

server_health::server_health(const health_policy& policy)
    : failures_before_down_(std::max(policy.failures_before_down, 1u)),
      successes_before_up_(std::max(policy.successes_before_up, 1u)),
      healthy_(policy.start_healthy) {}

transition server_health::record(const check_outcome& outcome, time_point now) {
  ++checks_;
  last_check_ = now;
  last_outcome_ = outcome;
  auto result = transition::none;
  if (outcome.ok()) {
    consecutive_failures_ = 0;
    ++consecutive_successes_;
    if (!healthy_ && consecutive_successes_ >= successes_before_up_) {
      healthy_ = true;
      result = transition::came_up;
    }
  } else {
    ++failures_;
    consecutive_successes_ = 0;
    ++consecutive_failures_;
    if (healthy_ && consecutive_failures_ >= failures_before_down_) {
      healthy_ = false;
      result = transition::went_down;
    }
  }
  return result;
}

}  // namespace node::registry
