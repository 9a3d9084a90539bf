// The weighted hard or soft vote over one instance's answers.
#include "node/consensus/vote.hpp"

#include <boost/container/small_vector.hpp>

#include <cmath>
#include <cstddef>
#include <stdexcept>

namespace node::consensus {

std::string_view to_string(answer_status s) {
  switch (s) {
    case answer_status::ok:
      return "ok";
    case answer_status::timeout:
      return "timeout";
    case answer_status::error:
      return "error";
  }
  return "error";
}

namespace {

// Adds `power` to `scores`, spread by the answer's probabilities when they are usable,
// else all on its prediction.
void add_ballot(std::vector<double>& scores, const answer& a, double power, vote_mode mode) {
  const std::size_t n = scores.size();
  if (mode == vote_mode::soft && a.probabilities.size() == n) {
    double sum = 0;
    bool usable = true;
    for (const double p : a.probabilities) {
      usable = usable && std::isfinite(p) && p >= 0;
      sum += p;
    }
    if (usable && sum > 0 && std::isfinite(sum)) {
      for (std::size_t c = 0; c < n; ++c) {
        scores[c] += power * a.probabilities[c] / sum;
      }
      return;
    }
  }
  scores[static_cast<std::size_t>(a.prediction)] += power;
}

}  // namespace

namespace {

// The vote over answers 0 .. n - 1, `answer_of(i)` giving answer i or null when model i
// gave none (it does not vote).
template <class AnswerOf>
std::optional<vote_result> vote_over(std::span<const double> powers, std::size_t n,
                                     AnswerOf answer_of, vote_mode mode, int n_classes) {
  // Each answer's effective power: -1 when it does not vote; negative or non-finite powers
  // of voters count as 0. Inline for the usual handful of models.
  boost::container::small_vector<double, 16> power(n, -1.0);
  double total = 0;
  int voters = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const answer* a = answer_of(i);
    if (a != nullptr && a->ok() && a->prediction >= 0 && a->prediction < n_classes) {
      ++voters;
      power[i] = std::isfinite(powers[i]) && powers[i] > 0 ? powers[i] : 0;
      total += power[i];
    }
  }
  if (voters == 0) {
    return std::nullopt;
  }
  if (!(total > 0)) {
    for (double& p : power) {
      p = p >= 0 ? 1.0 : -1.0;
    }
    total = voters;
  }
  vote_result r;
  r.voters = voters;
  r.class_scores.assign(static_cast<std::size_t>(n_classes), 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    if (power[i] >= 0) {
      add_ballot(r.class_scores, *answer_of(i), power[i] / total, mode);
    }
  }
  // Scores closer than this are a tie, so that rounding in a soft vote cannot decide.
  constexpr double tie = 1e-12;
  std::size_t best = 0;
  for (std::size_t c = 1; c < r.class_scores.size(); ++c) {
    if (r.class_scores[c] > r.class_scores[best] + tie) {
      best = c;
    }
  }
  r.prediction = static_cast<int>(best);
  for (std::size_t i = 0; i < n; ++i) {
    if (power[i] >= 0 && answer_of(i)->prediction == r.prediction) {
      r.support += power[i] / total;
    }
  }
  return r;
}

}  // namespace

std::optional<vote_result> vote(std::span<const double> powers, std::span<const answer> answers,
                                vote_mode mode, int n_classes) {
  if (powers.size() != answers.size() || n_classes < 1) {
    throw std::invalid_argument("vote: powers and answers differ in size, or no classes");
  }
  return vote_over(
      powers, answers.size(), [&](std::size_t i) { return &answers[i]; }, mode, n_classes);
}

std::optional<vote_result> vote_gathered(std::span<const double> powers,
                                         std::span<const answer* const> answers, vote_mode mode,
                                         int n_classes) {
  if (powers.size() != answers.size() || n_classes < 1) {
    throw std::invalid_argument("vote: powers and answers differ in size, or no classes");
  }
  return vote_over(
      powers, answers.size(), [&](std::size_t i) { return answers[i]; }, mode, n_classes);
}

}  // namespace node::consensus
