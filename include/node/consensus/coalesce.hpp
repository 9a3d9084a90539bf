// Coalescing of the consensus node's asks to one model: at most `in_flight` requests to a
// model at a time; a row that finds them all busy waits in the model's lane, and when an ask
// finishes every waiting row (up to `batch_rows`) goes out together as one POST /predict.
// No I/O: the role sends the asks and hands the answers back (docs/consensus.md).
#pragma once

#include "node/core/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace node::consensus {

struct model_reply;  // node/consensus/wire.hpp

using steady_time = std::chrono::steady_clock::time_point;

struct coalesce_limits {
  std::size_t in_flight = 1;     // asks in flight to one model at most; 0: no coalescing
  std::size_t batch_rows = 256;  // rows of one coalesced ask at most, >= 1
  // Rows waiting for one model at most; a row beyond is refused (the model is not asked).
  std::size_t max_waiting = 65536;
};

// 400 bad_request naming "model_in_flight" (above 1024) or "model_batch_rows" (0 or above
// 100000) when a limit is out of range.
core::result<void> validate(const coalesce_limits& l);

// Rows sent to a model as one request. `deadline` is the latest of the rows' deadlines: the
// request is not worth waiting for beyond it.
template <class Row>
struct coalesced_ask {
  std::vector<Row> rows;
  steady_time deadline{};
};

// One model's lane: its asks in flight and the rows waiting for a free one, oldest first.
// `Row` is whatever the caller needs to send a row and hand its answer back (moved in and
// out, never looked at). Not thread-safe; the role uses it from the loop thread only.
template <class Row>
class ask_lane {
 public:
  enum class admission {
    send_now,  // an ask slot was free and is now taken: ask for the row alone, then finish()
    queued,    // the row waits for the next finish()
    refused,   // max_waiting rows already wait; the row is left to the caller
  };

  explicit ask_lane(coalesce_limits l) : limits_(l) {}

  // A row wants this model's answer and stops waiting for it at `deadline`. With
  // in_flight = 0 every row is sent at once.
  admission admit(Row& row, steady_time deadline) {
    if (limits_.in_flight == 0 || in_flight_ < limits_.in_flight) {
      ++in_flight_;
      return admission::send_now;
    }
    if (waiting_.size() >= limits_.max_waiting) return admission::refused;
    waiting_.push_back(entry{std::move(row), deadline});
    return admission::queued;
  }

  // One ask is over (answered, failed or timed out). Returns the ask to send next in the
  // slot it frees: the oldest waiting rows whose deadline is after `now` (nobody waits for
  // the others any more: they are dropped), at most batch_rows. Empty rows: nothing waits
  // and the slot is free again.
  coalesced_ask<Row> finish(steady_time now) {
    coalesced_ask<Row> next;
    if (in_flight_ > 0) --in_flight_;
    const std::size_t cap = std::max<std::size_t>(limits_.batch_rows, 1);
    while (!waiting_.empty() && next.rows.size() < cap) {
      entry& e = waiting_.front();
      if (e.deadline <= now) {
        ++expired_;
      } else {
        next.deadline = std::max(next.deadline, e.deadline);
        next.rows.push_back(std::move(e.row));
      }
      waiting_.pop_front();
    }
    if (!next.rows.empty()) ++in_flight_;
    return next;
  }

  std::size_t in_flight() const { return in_flight_; }
  std::size_t waiting() const { return waiting_.size(); }
  // Rows dropped by finish() because their deadline had passed, since the lane was made.
  std::size_t expired() const { return expired_; }

 private:
  struct entry {
    Row row;
    steady_time deadline;
  };
  coalesce_limits limits_;
  std::size_t in_flight_ = 0;
  std::size_t expired_ = 0;
  std::deque<entry> waiting_;
};

// Splits a model's reply to an ask of `rows` rows into one reply per row, in order. A reply
// that is not ok (refused, timed out, malformed) is that status and detail for every row;
// an ok reply with other than one answer per row is an error for every row.
std::vector<model_reply> split_reply(model_reply whole, std::size_t rows);

// {"instances":[ROW,ROW,...]} from rows already written as JSON arrays ("[5.1,3.5,1.4,0.2]"),
// appended to `out`. `text_of(row)` gives a row's text.
template <class Row, class TextOf>
void append_instances_body(std::string& out, const std::vector<Row>& rows, TextOf text_of) {
  out += "{\"instances\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i != 0) out += ',';
    out += text_of(rows[i]);
  }
  out += "]}";
}

}  // namespace node::consensus
