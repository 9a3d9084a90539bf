// The tunables of the consensus role: how votes are combined and how stake moves.
// The formulas they feed are written out in docs/consensus.md.
#pragma once

#include "node/core/error.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace node::consensus {

// Hard: each model votes for its predicted class. Soft: each model spreads its vote
// over the classes by its probabilities.
enum class vote_mode { hard, soft };

// "hard" or "soft".
std::string_view to_string(vote_mode m);
// Parses "hard" or "soft"; nullopt for anything else.
std::optional<vote_mode> parse_vote_mode(std::string_view s);

// Every flag of the role's decision code, with its default. Amounts of money are in coins;
// rates are fractions of a model's balance at the start of the batch.
struct params {
  vote_mode mode = vote_mode::hard;
  // EMA rate alpha: weight <- (1 - alpha) * weight + alpha * score, after each batch.
  double ema_rate = 0.2;
  // Weight of a newly joined model.
  double initial_weight = 0.5;
  // Smallest deposit a model may join with.
  double min_deposit = 1000;
  // A model whose balance falls below this is ejected. Must be below min_deposit.
  double min_balance = 500;
  // A batch counts only when more than this fraction of the asked active models answered
  // (at least one); otherwise it is void.
  double quorum = 0.5;
  // Without labels, an instance whose winning class holds less than this share of the
  // voting power is contested and scores nobody (Yuma's kappa).
  double kappa = 0.5;
  // Reward per batch: balance * reward_rate * (correct instances / instances).
  double reward_rate = 0.02;
  // Base slash per wrong instance: balance * slash_fraction / instances, times the
  // correlation factor.
  double slash_fraction = 0.05;
  // Correlation factor of a wrong instance: 1 + correlation * (share of stake wrong on it).
  double correlation = 3.0;
  // Penalty per batch for not answering: balance * inactivity_rate * (missed / instances).
  double inactivity_rate = 0.02;
  // Neither losses nor gains in one batch exceed this fraction of the balance.
  double burn_cap = 0.1;
  // Coins added to the reward pool by every counted batch, at most 1000.
  double emission = 0;
  // Registered models at most (active, ejected and withdrawn together), at most 1000.
  std::size_t max_models = 256;
};

// Largest deposit accepted, in coins: with at most 1000 models every balance stays exact
// in micro-coins and in a JSON double.
inline constexpr double max_deposit = 1e6;

// Checks ranges and consistency; a 400 bad_request naming the offending field
// ("ema_rate", "min_balance", ...) when a value is out of range or not finite.
core::result<void> validate(const params& p);

}  // namespace node::consensus
