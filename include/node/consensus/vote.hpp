// The weighted vote that turns the models' answers for one instance into the consensus.
#pragma once

#include "node/consensus/params.hpp"

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace node::consensus {

enum class answer_status { ok, timeout, error };

// "ok", "timeout" or "error", as the contract reports a model's status.
std::string_view to_string(answer_status s);

// One model's answer for one instance. Only an `ok` answer votes; `probabilities` may be
// empty (a soft vote then counts the prediction as certain).
struct answer {
  answer_status status = answer_status::ok;
  int prediction = -1;
  std::vector<double> probabilities;

  bool ok() const { return status == answer_status::ok; }
};

// The outcome of a vote. `class_scores` are the shares of the voters' power per class
// (summing to 1). `support` is the share of the voters' power whose own prediction is the
// winning class (in a hard vote, the winner's score; in a soft vote it ignores how the
// probabilities were spread).
struct vote_result {
  int prediction = -1;
  std::vector<double> class_scores;
  double support = 0;
  int voters = 0;
};

// Combines one instance's answers; powers[i] is the voting power of the model that gave
// answers[i] (weight x share of active stake). Hard: each ok answer adds its power to its
// predicted class. Soft: it spreads its power by its probabilities, or by its prediction
// when the probabilities are missing, the wrong size, negative or not finite. Answers that
// are not ok, or predict a class outside [0, n_classes), do not vote. When every voter has
// power 0 the voters count equally. Ties go to the lowest class. Nullopt when nobody voted.
// Throws std::invalid_argument when the spans differ in size or n_classes < 1 (a bug).
std::optional<vote_result> vote(std::span<const double> powers, std::span<const answer> answers,
                                vote_mode mode, int n_classes);
// The same vote, with answers[i] null for a model that gave no answer (it does not vote),
// so that a caller gathering one instance's answers from several models copies none.
std::optional<vote_result> vote_gathered(std::span<const double> powers,
                                         std::span<const answer* const> answers, vote_mode mode,
                                         int n_classes);

}  // namespace node::consensus
