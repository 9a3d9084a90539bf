// Tests for the weighted hard and soft vote over one instance's answers.
#include "node/consensus/vote.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <stdexcept>
#include <vector>

using node::consensus::answer;
using node::consensus::answer_status;
using node::consensus::vote;
using node::consensus::vote_gathered;
using node::consensus::vote_mode;

namespace {

answer said(int prediction, std::vector<double> probabilities = {}) {
  return answer{answer_status::ok, prediction, std::move(probabilities)};
}

answer failed(answer_status s) {
  return answer{s, -1, {}};
}

}  // namespace

TEST_CASE("vote: hard vote follows voting power, not head count", "[unit]") {
  const std::vector<double> powers{0.6, 0.2, 0.2};
  const std::vector<answer> answers{said(2), said(0), said(0)};
  const auto r = vote(powers, answers, vote_mode::hard, 3);
  REQUIRE(r);
  CHECK(r->prediction == 2);
  CHECK(r->voters == 3);
  CHECK(r->support == Approx(0.6));
  CHECK(r->class_scores == std::vector<double>{0.4, 0.0, 0.6});
}

TEST_CASE("vote: soft vote averages probabilities by power", "[unit]") {
  // Two models narrowly prefer class 0; one is sure of class 1. Hard says 0, soft says 1.
  const std::vector<double> powers{1, 1, 1};
  const std::vector<answer> answers{said(0, {0.55, 0.45, 0}), said(0, {0.55, 0.45, 0}),
                                    said(1, {0, 1, 0})};
  const auto hard = vote(powers, answers, vote_mode::hard, 3);
  const auto soft = vote(powers, answers, vote_mode::soft, 3);
  REQUIRE(hard);
  REQUIRE(soft);
  CHECK(hard->prediction == 0);
  CHECK(soft->prediction == 1);
  CHECK(soft->class_scores[0] == Approx(1.1 / 3));
  CHECK(soft->class_scores[1] == Approx(1.9 / 3));
}

TEST_CASE("vote: ties go to the lowest class", "[unit]") {
  const std::vector<double> powers{0.5, 0.5};
  const std::vector<answer> answers{said(2), said(1)};
  CHECK(vote(powers, answers, vote_mode::hard, 3)->prediction == 1);
  // Rounding in a soft vote does not break a tie: class 0 sums to 0.49999999999999994.
  const std::vector<double> three{1, 1, 1};
  const std::vector<answer> soft{said(0, {0.7, 1 - 0.7}), said(0, {0.7, 1 - 0.7}),
                                 said(1, {0.1, 1 - 0.1})};
  const auto r = vote(three, soft, vote_mode::soft, 2);
  REQUIRE(r);
  CHECK(r->class_scores[1] > r->class_scores[0]);
  CHECK(r->prediction == 0);
  CHECK(r->support == Approx(2.0 / 3));
}

TEST_CASE("vote: a model of weight zero has no say", "[unit]") {
  const std::vector<double> powers{0.0, 0.3, 0.0};
  const std::vector<answer> answers{said(2), said(1), said(2)};
  const auto r = vote(powers, answers, vote_mode::hard, 3);
  REQUIRE(r);
  CHECK(r->prediction == 1);
  CHECK(r->support == 1.0);
}

TEST_CASE("vote: when every voter has power zero they count equally", "[unit]") {
  const std::vector<double> powers{0.0, 0.0, 0.0};
  const std::vector<answer> answers{said(2), said(1), said(2)};
  const auto r = vote(powers, answers, vote_mode::hard, 3);
  REQUIRE(r);
  CHECK(r->prediction == 2);
  CHECK(r->support == Approx(2.0 / 3));
}

TEST_CASE("vote: failed answers and impossible classes do not vote", "[unit]") {
  const std::vector<double> powers{0.9, 0.9, 0.9, 0.1};
  const std::vector<answer> answers{failed(answer_status::timeout), failed(answer_status::error),
                                    said(7), said(0)};
  const auto r = vote(powers, answers, vote_mode::hard, 3);
  REQUIRE(r);
  CHECK(r->prediction == 0);
  CHECK(r->voters == 1);

  const std::vector<answer> none{failed(answer_status::timeout), failed(answer_status::error),
                                 said(-1), said(3)};
  CHECK_FALSE(vote(powers, none, vote_mode::hard, 3));
  CHECK_FALSE(vote({}, {}, vote_mode::soft, 3));
}

TEST_CASE("vote: soft vote uses the prediction when probabilities are unusable", "[unit]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> powers{1, 1, 1, 1};
  const std::vector<answer> answers{said(2, {}), said(2, {0.5, 0.5}), said(2, {nan, 0, 1}),
                                    said(1, {-1, 2, 0})};
  const auto r = vote(powers, answers, vote_mode::soft, 3);
  REQUIRE(r);
  CHECK(r->prediction == 2);
  CHECK(r->class_scores == std::vector<double>{0.0, 0.25, 0.75});
}

TEST_CASE("vote: soft vote normalises probabilities that do not sum to one", "[unit]") {
  const std::vector<double> powers{1};
  const std::vector<answer> answers{said(0, {2, 6, 0})};
  const auto r = vote(powers, answers, vote_mode::soft, 3);
  REQUIRE(r);
  CHECK(r->prediction == 1);
  CHECK(r->class_scores == std::vector<double>{0.25, 0.75, 0.0});
}

TEST_CASE("vote: mismatched inputs are a bug", "[unit]") {
  const std::vector<double> powers{1, 1};
  const std::vector<answer> answers{said(0)};
  CHECK_THROWS_AS(vote(powers, answers, vote_mode::hard, 3), std::invalid_argument);
  CHECK_THROWS_AS(vote(powers, std::vector<answer>{said(0), said(0)}, vote_mode::hard, 0),
                  std::invalid_argument);
}

TEST_CASE("vote: a gathered vote with missing answers is the vote with those failed", "[unit]") {
  const std::vector<double> powers{0.3, 0.0, 0.5, 0.2, 0.4};
  const std::vector<answer> given{said(1, {0.2, 0.8, 0}), said(0), said(2, {0.1, 0.1, 0.8}),
                                  failed(answer_status::timeout), said(1, {0.4, 0.6, 0})};
  for (const auto mode : {vote_mode::hard, vote_mode::soft}) {
    for (unsigned missing = 0; missing < 32; ++missing) {
      std::vector<answer> with_failed;
      std::vector<const answer*> gathered;
      for (std::size_t i = 0; i < given.size(); ++i) {
        const bool gone = (missing >> i) & 1U;
        with_failed.push_back(gone ? failed(answer_status::error) : given[i]);
        gathered.push_back(gone ? nullptr : &given[i]);
      }
      const auto a = vote(powers, with_failed, mode, 3);
      const auto b = vote_gathered(powers, gathered, mode, 3);
      REQUIRE(a.has_value() == b.has_value());
      if (!a) continue;
      CHECK(a->prediction == b->prediction);
      CHECK(a->class_scores == b->class_scores);
      CHECK(a->support == b->support);
      CHECK(a->voters == b->voters);
    }
  }
  const std::vector<const answer*> one{nullptr};
  CHECK_THROWS_AS(vote_gathered(powers, one, vote_mode::hard, 3), std::invalid_argument);
}
