// Tests for the consensus parameters' defaults, range checks and vote-mode names.
#include "node/consensus/params.hpp"

#include <catch2/catch.hpp>

#include <limits>

using node::consensus::params;
using node::consensus::parse_vote_mode;
using node::consensus::validate;
using node::consensus::vote_mode;

TEST_CASE("params: the defaults are valid and match the contract", "[unit]") {
  const params p;
  CHECK(validate(p).has_value());
  CHECK(p.min_deposit == 1000);
  CHECK(p.min_balance < p.min_deposit);
  CHECK(p.mode == vote_mode::hard);
}

TEST_CASE("params: an out-of-range value is refused naming its field", "[unit]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto refused = [](params p) {
    const auto r = validate(p);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().status == 400);
    return r.error().field;
  };
  params p;
  p.ema_rate = 1.5;
  CHECK(refused(p) == "ema_rate");
  p = params{};
  p.burn_cap = nan;
  CHECK(refused(p) == "burn_cap");
  p = params{};
  p.quorum = -0.1;
  CHECK(refused(p) == "quorum");
  p = params{};
  p.min_balance = 1000;
  CHECK(refused(p) == "min_balance");
  p = params{};
  p.max_models = 0;
  CHECK(refused(p) == "max_models");
}

TEST_CASE("params: vote modes parse from their names", "[unit]") {
  CHECK(parse_vote_mode("hard") == vote_mode::hard);
  CHECK(parse_vote_mode("soft") == vote_mode::soft);
  CHECK_FALSE(parse_vote_mode("Soft"));
  CHECK(to_string(vote_mode::soft) == "soft");
}
