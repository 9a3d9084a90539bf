// Vote-mode names and the range checks of the consensus parameters.
#include "node/consensus/params.hpp"

#include <cmath>
#include <string>

namespace node::consensus {

std::string_view to_string(vote_mode m) {
  return m == vote_mode::soft ? "soft" : "hard";
}

std::optional<vote_mode> parse_vote_mode(std::string_view s) {
  if (s == "hard") {
    return vote_mode::hard;
  }
  if (s == "soft") {
    return vote_mode::soft;
  }
  return std::nullopt;
}

namespace {

// A 400 naming `field` unless lo <= v <= hi (and v is finite).
core::result<void> in_range(double v, double lo, double hi, const char* field) {
  if (!std::isfinite(v) || v < lo || v > hi) {
    return core::bad_request(std::string(field) + " must be between " + std::to_string(lo) +
                                 " and " + std::to_string(hi),
                             field);
  }
  return {};
}

}  // namespace

core::result<void> validate(const params& p) {
  struct check {
    double value, lo, hi;
    const char* field;
  };
  const check checks[] = {
      {p.ema_rate, 0, 1, "ema_rate"},
      {p.initial_weight, 0, 1, "initial_weight"},
      {p.min_deposit, 0, max_deposit, "min_deposit"},
      {p.min_balance, 0, max_deposit, "min_balance"},
      {p.quorum, 0, 1, "quorum"},
      {p.kappa, 0, 1, "kappa"},
      {p.reward_rate, 0, 1, "reward_rate"},
      {p.slash_fraction, 0, 1, "slash_fraction"},
      {p.correlation, 0, 100, "correlation"},
      {p.inactivity_rate, 0, 1, "inactivity_rate"},
      {p.burn_cap, 0, 1, "burn_cap"},
      {p.emission, 0, 1000, "emission"},
  };
  for (const auto& c : checks) {
    if (auto r = in_range(c.value, c.lo, c.hi, c.field); !r) {
      return r;
    }
  }
  if (p.min_balance >= p.min_deposit) {
    return core::bad_request("min_balance must be below min_deposit", "min_balance");
  }
  if (p.max_models < 1 || p.max_models > 1000) {
    return core::bad_request("max_models must be between 1 and 1000", "max_models");
  }
  return {};
}

}  // namespace node::consensus
