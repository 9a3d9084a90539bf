// Coalesced asks: the range check of their limits and the split of one model's reply to a
// coalesced ask into one reply per row.
#include "node/consensus/coalesce.hpp"

#include "node/consensus/wire.hpp"

namespace node::consensus {

core::result<void> validate(const coalesce_limits& l) {
  if (l.in_flight > 1024) {
    return core::bad_request("model_in_flight must be between 0 and 1024", "model_in_flight");
  }
  if (l.batch_rows < 1 || l.batch_rows > 100'000) {
    return core::bad_request("model_batch_rows must be between 1 and 100000", "model_batch_rows");
  }
  return {};
}

std::vector<model_reply> split_reply(model_reply whole, std::size_t rows) {
  std::vector<model_reply> out(rows);
  if (whole.status == answer_status::ok && whole.answers.size() != rows) {
    whole.status = answer_status::error;
    whole.detail = "answered " + std::to_string(whole.answers.size()) + " predictions for " +
                   std::to_string(rows) + " rows";
  }
  if (whole.status != answer_status::ok) {
    for (auto& r : out) {
      r.status = whole.status;
      r.detail = whole.detail;
    }
    return out;
  }
  for (std::size_t k = 0; k < rows; ++k) {
    model_reply& r = out[k];
    r.status = answer_status::ok;
    r.answers.push_back(std::move(whole.answers[k]));
    r.names.push_back(k < whole.names.size() ? std::move(whole.names[k]) : std::string());
  }
  return out;
}

}  // namespace node::consensus
