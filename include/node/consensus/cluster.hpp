// The consensus role's state and its rules: who is registered, their stake and weight,
// the reward pool, and how a batch of answers moves them. No I/O; see docs/consensus.md.
#pragma once

#include "node/consensus/ledger.hpp"
#include "node/consensus/params.hpp"
#include "node/consensus/vote.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace node::consensus {

enum class model_status { active, ejected, withdrawn };

// "active", "ejected" or "withdrawn".
std::string_view to_string(model_status s);
std::optional<model_status> parse_model_status(std::string_view s);

// A registered model. Only an active model is asked and votes.
struct model_state {
  std::string id;
  std::string url;
  micros balance = 0;
  micros deposit = 0;  // what it joined with
  double weight = 0;   // always within [0, 1]
  model_status status = model_status::active;
};

// {"id","url","balance","weight","status","deposit"}, money in coins.
boost::json::object to_json(const model_state& m);
// Reads what to_json wrote; a 400 bad_request naming the field that is missing or wrong
// (a weight outside [0, 1], a negative balance).
core::result<model_state> model_state_from_json(const boost::json::object& o);

// What the cluster keeps besides its models.
struct cluster_meta {
  micros pool = 0;             // coins waiting to be paid as rewards
  std::uint64_t batches = 0;   // batches settled, void ones included
  std::uint64_t last_seq = 0;  // seq of the last ledger entry handed out
};

// {"pool":..,"batches":..,"last_seq":..}.
boost::json::object to_json(const cluster_meta& m);
core::result<cluster_meta> cluster_meta_from_json(const boost::json::object& o);

// The answers gathered for one batch: answers[m][k] is what models[m] said about
// instance k. Every inner vector has `instances` elements.
struct batch_answers {
  std::vector<std::string> models;
  std::vector<std::vector<answer>> answers;
  std::size_t instances = 0;
  int n_classes = 3;  // classes are 0 .. n_classes - 1, for predictions and labels
};

// What a batch did to one model that was asked and still active when it was settled.
struct model_outcome {
  std::string id;
  int answered = 0;             // ok answers
  int missed = 0;               // timeouts and errors
  int scored = 0;               // answered and not contested
  int correct = 0;              // scored and equal to the label, or to the consensus without labels
  std::optional<double> score;  // correct / scored; none when nothing was scored
  double weight_before = 0;
  double weight_after = 0;
  micros balance_before = 0;
  micros balance_after = 0;
  micros reward = 0;      // >= 0
  micros slash = 0;       // >= 0, after the burn cap
  micros inactivity = 0;  // >= 0, after the burn cap
  bool ejected = false;
};

// What settle did. When `void_batch`, no balance or weight moved and `entries` is empty.
struct settlement {
  std::uint64_t batch = 0;  // this batch's number, from 1
  bool void_batch = false;
  std::string void_reason;
  bool labelled = false;
  std::vector<std::optional<vote_result>> consensus;  // per instance; none if nobody voted
  std::vector<model_outcome> outcomes;
  std::vector<ledger_entry> entries;  // in seq order
  micros pool_after = 0;
};

struct joined {
  model_state model;
  ledger_entry entry;
};

struct withdrawal {
  micros refunded = 0;
  ledger_entry entry;
};

// 400 bad_request naming "labels" unless there is one label per instance, each a class
// in [0, n_classes).
core::result<void> check_labels(std::span<const int> labels, std::size_t instances, int n_classes);

// The registered models, the reward pool and the batch counter. A value type: copy it,
// change the copy, persist the entries and swap it in. Not thread-safe; used from the
// loop thread only. It hands out ledger entries but does not keep them.
class cluster {
 public:
  // `p` must have passed validate().
  explicit cluster(params p);

  // Rebuilds a cluster from what was persisted; 400 bad_request naming "models" for a
  // duplicate id or "params" when validate(p) fails.
  static core::result<cluster> restore(params p, std::vector<model_state> models,
                                       cluster_meta meta);

  const params& config() const { return params_; }
  // Every registered model, in the order they joined.
  const std::vector<model_state>& models() const { return models_; }
  const model_state* find(std::string_view id) const;
  // Ids of the models to ask, in join order.
  std::vector<std::string> active_ids() const;
  // weight x balance / (sum of active balances); 0 for a model that is not active.
  double voting_power(std::string_view id) const;
  const cluster_meta& meta() const { return meta_; }
  micros pool() const { return meta_.pool; }

  // Registers a model with its deposit as an active model of weight initial_weight.
  // Errors: 400 naming "id" (empty, over 64 characters, or not [A-Za-z0-9_.-]), "url"
  // (not http:// or https://, over 2048 characters) or "deposit" (not finite, below
  // min_deposit or above max_deposit); 409 conflict for an id already registered (in any
  // status) and 409 too_many_models beyond max_models.
  core::result<joined> join(std::string id, std::string url, double deposit, std::string_view at);

  // Refunds the whole balance of an active or ejected model and marks it withdrawn.
  // Errors: 404 for an unknown id, 409 already_withdrawn.
  core::result<withdrawal> withdraw(std::string_view id, std::string_view at);

  // The consensus of each instance under the current weights and stakes; changes nothing.
  // Models no longer active have no power. Throws std::invalid_argument when the answers
  // do not have the shape batch_answers describes (a bug).
  std::vector<std::optional<vote_result>> decide(const batch_answers& batch) const;

  // Votes as decide() does, then settles the batch: scores every asked model still active,
  // moves weights by the EMA, applies slashes, inactivity penalties and rewards, ejects
  // models below min_balance and counts the batch. A batch with fewer answering models
  // than the quorum is void. Errors: check_labels' 400, with nothing changed.
  core::result<settlement> settle(const batch_answers& batch,
                                  const std::optional<std::vector<int>>& labels,
                                  std::string_view at);

 private:
  model_state* find_mutable(std::string_view id);
  micros active_stake() const;
  ledger_entry record(model_state& m, entry_kind kind, micros amount, std::string reason,
                      std::string_view at);

  params params_;
  std::vector<model_state> models_;
  cluster_meta meta_;
};

// {"<id>":{"balance":..,"weight":..}, ...} for every registered model: GET /balances.
boost::json::object balances_json(const cluster& c);

}  // namespace node::consensus
