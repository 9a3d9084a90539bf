// The weighted hard or soft vote over one instance's answers.
#include "node/consensus/vote.hpp"

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

std::optional<vote_result> vote(std::span<const double> powers, std::span<const answer> answers,
                                vote_mode mode, int n_classes) {
  if (powers.size() != answers.size() || n_classes < 1) {
    throw std::invalid_argument("vote: powers and answers differ in size, or no classes");
  }
  // Each answer's effective power: 0 when it does not vote; negative or non-finite powers
  // count as 0.
  std::vector<double> power(answers.size(), 0.0);
  std::vector<bool> votes(answers.size(), false);
  double total = 0;
  int voters = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const answer& a = answers[i];
    votes[i] = a.ok() && a.prediction >= 0 && a.prediction < n_classes;
    if (votes[i]) {
      ++voters;
      power[i] = std::isfinite(powers[i]) && powers[i] > 0 ? powers[i] : 0;
      total += power[i];
    }
  }
  if (voters == 0) {
    return std::nullopt;
  }
  if (!(total > 0)) {
    for (std::size_t i = 0; i < answers.size(); ++i) {
      power[i] = votes[i] ? 1.0 : 0.0;
    }
    total = voters;
  }
  vote_result r;
  r.voters = voters;
  r.class_scores.assign(static_cast<std::size_t>(n_classes), 0.0);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (votes[i]) {
      add_ballot(r.class_scores, answers[i], power[i] / total, mode);
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
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (votes[i] && answers[i].prediction == r.prediction) {
      r.support += power[i] / total;
    }
  }
  return r;
}

}  // namespace node::consensus
