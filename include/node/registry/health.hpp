// One server's health as the registry's active checks see it: a small state machine fed
// with check outcomes and an injected clock, with no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace node::registry {

// The registry's notion of time: the loop passes steady_clock::now(), tests a fake value.
using time_point = std::chrono::steady_clock::time_point;

// When a server changes state. Counts below 1 are treated as 1.
struct health_policy {
  // Consecutive failed checks that take a healthy server out of rotation.
  unsigned failures_before_down = 2;
  // Consecutive successful checks that put an unhealthy server back.
  unsigned successes_before_up = 2;
  // The state of a newly registered server. Healthy by default, so a fresh registry hands
  // servers out at once; a dead one falls out after `failures_before_down` checks.
  bool start_healthy = true;
};

// The outcome of one GET /health. A success is a 2xx answer; anything else, including a
// 503 {"status":"draining"}, is a failure.
struct check_outcome {
  // The answer's HTTP status; empty when no answer arrived.
  std::optional<unsigned> status;
  // Empty on success; otherwise what went wrong, for a human ("HTTP 503 (draining)",
  // "connection refused").
  std::string error;

  // An answer arrived. `detail` is what the answer said about itself (its "status" field,
  // e.g. "draining"), used only in the error text of a failure.
  static check_outcome answered(unsigned status, std::string_view detail = {});
  // No answer arrived: refused, reset, timed out. An empty `error` reads "no answer".
  static check_outcome unreachable(std::string error);

  bool ok() const { return error.empty(); }
};

// What one recorded check did to the server's state.
enum class transition { none, went_down, came_up };

// The health of one server. Each outcome resets the opposite streak: failures must be
// consecutive to take a server down, successes consecutive to bring it back, so a
// flapping server (fail, ok, fail, ...) keeps its state.
class server_health {
 public:
  explicit server_health(const health_policy& policy = {});

  // Records a check that finished at `now` and says whether the state flipped.
  transition record(const check_outcome& outcome, time_point now);

  bool healthy() const { return healthy_; }
  std::uint64_t consecutive_failures() const { return consecutive_failures_; }
  std::uint64_t consecutive_successes() const { return consecutive_successes_; }
  std::uint64_t checks() const { return checks_; }
  std::uint64_t failures() const { return failures_; }
  // When the last check finished; empty before the first.
  const std::optional<time_point>& last_check() const { return last_check_; }
  // The last check's outcome; empty before the first.
  const std::optional<check_outcome>& last_outcome() const { return last_outcome_; }

 private:
  std::uint64_t failures_before_down_;
  std::uint64_t successes_before_up_;
  bool healthy_;
  std::uint64_t consecutive_failures_ = 0;
  std::uint64_t consecutive_successes_ = 0;
  std::uint64_t checks_ = 0;
  std::uint64_t failures_ = 0;
  std::optional<time_point> last_check_;
  std::optional<check_outcome> last_outcome_;
};

}  // namespace node::registry
