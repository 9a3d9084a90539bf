// Tests for the coalescing of asks to one model: the in-flight limit, the waiting queue,
// the cap on rows per ask, expired rows, and the split of a reply back to its rows.
#include "node/consensus/coalesce.hpp"

#include "node/consensus/wire.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace node::consensus;
using std::chrono::milliseconds;

namespace {

using lane = ask_lane<int>;
const steady_time t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);

lane::admission admit(lane& l, int row, steady_time deadline = t0 + milliseconds(250)) {
  return l.admit(row, deadline);
}

model_reply ok_reply(std::vector<int> predictions) {
  model_reply r;
  r.status = answer_status::ok;
  for (int p : predictions) {
    std::vector<double> probs(3, 0.0);
    probs[static_cast<std::size_t>(p)] = 1;
    r.answers.push_back(answer{answer_status::ok, p, probs});
    r.names.push_back("class" + std::to_string(p));
  }
  return r;
}

}  // namespace

TEST_CASE("consensus coalesce: rows wait while the in-flight limit is used", "[unit]") {
  lane l(coalesce_limits{1, 256});
  CHECK(admit(l, 1) == lane::admission::send_now);
  CHECK(l.in_flight() == 1);
  CHECK(admit(l, 2) == lane::admission::queued);
  CHECK(admit(l, 3) == lane::admission::queued);
  CHECK(l.waiting() == 2);
  // The first ask ends: everything waiting goes as one ask, in arrival order.
  auto next = l.finish(t0);
  CHECK(next.rows == std::vector<int>{2, 3});
  CHECK(l.in_flight() == 1);
  CHECK(l.waiting() == 0);
  CHECK(admit(l, 4) == lane::admission::queued);
  CHECK(l.finish(t0).rows == std::vector<int>{4});
  // Nothing waits: the slot is free again and the next row is sent at once.
  CHECK(l.finish(t0).rows.empty());
  CHECK(l.in_flight() == 0);
  CHECK(admit(l, 5) == lane::admission::send_now);
}

TEST_CASE("consensus coalesce: a higher in-flight limit sends that many rows at once", "[unit]") {
  lane l(coalesce_limits{3, 256});
  CHECK(admit(l, 1) == lane::admission::send_now);
  CHECK(admit(l, 2) == lane::admission::send_now);
  CHECK(admit(l, 3) == lane::admission::send_now);
  CHECK(admit(l, 4) == lane::admission::queued);
  CHECK(l.in_flight() == 3);
  CHECK(l.finish(t0).rows == std::vector<int>{4});
  CHECK(l.in_flight() == 3);
  CHECK(l.finish(t0).rows.empty());
  CHECK(l.finish(t0).rows.empty());
  CHECK(l.in_flight() == 1);
}

TEST_CASE("consensus coalesce: in-flight 0 sends every row at once", "[unit]") {
  lane l(coalesce_limits{0, 256});
  for (int i = 0; i < 100; ++i)
    CHECK(admit(l, i) == lane::admission::send_now);
  CHECK(l.waiting() == 0);
  CHECK(l.finish(t0).rows.empty());
}

TEST_CASE("consensus coalesce: an ask takes at most batch_rows rows", "[unit]") {
  lane l(coalesce_limits{1, 3});
  CHECK(admit(l, 0) == lane::admission::send_now);
  for (int i = 1; i <= 7; ++i)
    CHECK(admit(l, i) == lane::admission::queued);
  CHECK(l.finish(t0).rows == std::vector<int>{1, 2, 3});
  CHECK(l.finish(t0).rows == std::vector<int>{4, 5, 6});
  CHECK(l.finish(t0).rows == std::vector<int>{7});
  CHECK(l.finish(t0).rows.empty());
  CHECK(l.in_flight() == 0);
}

TEST_CASE("consensus coalesce: rows past their deadline are dropped, not sent", "[unit]") {
  lane l(coalesce_limits{1, 256});
  CHECK(admit(l, 0) == lane::admission::send_now);
  CHECK(admit(l, 1, t0 + milliseconds(10)) == lane::admission::queued);
  CHECK(admit(l, 2, t0 + milliseconds(30)) == lane::admission::queued);
  CHECK(admit(l, 3, t0 + milliseconds(20)) == lane::admission::queued);
  CHECK(admit(l, 4, t0 + milliseconds(40)) == lane::admission::queued);
  // At t0 + 20 ms rows 1 and 3 are nobody's concern any more.
  auto next = l.finish(t0 + milliseconds(20));
  CHECK(next.rows == std::vector<int>{2, 4});
  // The ask is worth waiting for until the last of its rows gives up.
  CHECK(next.deadline == t0 + milliseconds(40));
  CHECK(l.expired() == 2);
  // Only expired rows waiting: nothing to send, the slot is free.
  CHECK(admit(l, 5, t0 + milliseconds(50)) == lane::admission::queued);
  CHECK(l.finish(t0 + milliseconds(60)).rows.empty());
  CHECK(l.in_flight() == 0);
  CHECK(l.expired() == 3);
}

TEST_CASE("consensus coalesce: the waiting queue is bounded", "[unit]") {
  lane l(coalesce_limits{1, 256, 2});
  CHECK(admit(l, 0) == lane::admission::send_now);
  CHECK(admit(l, 1) == lane::admission::queued);
  CHECK(admit(l, 2) == lane::admission::queued);
  int row = 3;
  CHECK(l.admit(row, t0 + milliseconds(250)) == lane::admission::refused);
  CHECK(row == 3);
  CHECK(l.waiting() == 2);
}

TEST_CASE("consensus coalesce: limits out of range are refused naming the flag", "[unit]") {
  CHECK(validate(coalesce_limits{}).has_value());
  CHECK(validate(coalesce_limits{0, 1}).has_value());
  CHECK(validate(coalesce_limits{1025, 256}).error().field == "model_in_flight");
  CHECK(validate(coalesce_limits{1, 0}).error().field == "model_batch_rows");
  CHECK(validate(coalesce_limits{1, 100'001}).error().field == "model_batch_rows");
}

TEST_CASE("consensus coalesce: a reply is split back to its rows in order", "[unit]") {
  auto rows = split_reply(ok_reply({0, 2, 1}), 3);
  REQUIRE(rows.size() == 3);
  const int expected[] = {0, 2, 1};
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(rows[k].status == answer_status::ok);
    REQUIRE(rows[k].answers.size() == 1);
    CHECK(rows[k].answers[0].prediction == expected[k]);
    CHECK(rows[k].answers[0].probabilities[static_cast<std::size_t>(expected[k])] == 1.0);
    REQUIRE(rows[k].names.size() == 1);
    CHECK(rows[k].names[0] == "class" + std::to_string(expected[k]));
  }
  // The reply of a row asked alone is its own.
  auto one = split_reply(ok_reply({1}), 1);
  REQUIRE(one.size() == 1);
  CHECK(one[0].answers.at(0).prediction == 1);
}

TEST_CASE("consensus coalesce: a failed ask fails every row in it", "[unit]") {
  for (const auto status : {answer_status::timeout, answer_status::error}) {
    model_reply failed;
    failed.status = status;
    failed.detail = "no answer within 250 ms";
    auto rows = split_reply(failed, 4);
    REQUIRE(rows.size() == 4);
    for (const auto& r : rows) {
      CHECK(r.status == status);
      CHECK(r.answers.empty());
      CHECK(r.detail == "no answer within 250 ms");
    }
  }
}

TEST_CASE("consensus coalesce: a wrong number of predictions is an error for every row", "[unit]") {
  for (const std::size_t asked : {std::size_t{2}, std::size_t{4}}) {
    auto rows = split_reply(ok_reply({0, 1, 2}), asked);
    REQUIRE(rows.size() == asked);
    for (const auto& r : rows) {
      CHECK(r.status == answer_status::error);
      CHECK(r.answers.empty());
      CHECK(r.detail == "answered 3 predictions for " + std::to_string(asked) + " rows");
    }
  }
}

TEST_CASE("consensus coalesce: the rows of an ask are sent as one instances body", "[unit]") {
  const std::vector<std::string> rows = {"[5.1,3.5,1.4,0.2]", "[6.7,3.0,5.2,2.3]"};
  std::string body;
  append_instances_body(body, rows, [](const std::string& r) -> const std::string& { return r; });
  CHECK(body == R"({"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]})");
  // A parse of the model's answer to it, split, gives each row its own answer.
  auto reply = parse_model_reply(
      200,
      R"({"model":"m","predictions":[{"prediction":0,"label":"setosa","probabilities":[1,0,0]},)"
      R"({"prediction":2,"label":"virginica","probabilities":[0,0,1]}]})",
      rows.size());
  auto split = split_reply(std::move(reply), rows.size());
  CHECK(split[0].answers.at(0).prediction == 0);
  CHECK(split[1].names.at(0) == "virginica");
  // An answer with one prediction for two rows fails both.
  auto short_reply = parse_model_reply(
      200, R"({"predictions":[{"prediction":0,"label":"setosa","probabilities":[1,0,0]}]})", 2);
  for (const auto& r : split_reply(std::move(short_reply), 2))
    CHECK(r.status == answer_status::error);
}
