// The consensus role's stake rules: joining, withdrawing, and settling a batch of answers
// (EMA weights, correlated slashing, inactivity penalties, pool-funded rewards, ejection).
#include "node/consensus/cluster.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <utility>

namespace node::consensus {

namespace json = boost::json;

std::string_view to_string(model_status s) {
  switch (s) {
    case model_status::active:
      return "active";
    case model_status::ejected:
      return "ejected";
    case model_status::withdrawn:
      return "withdrawn";
  }
  return "active";
}

std::optional<model_status> parse_model_status(std::string_view s) {
  if (s == "active") {
    return model_status::active;
  }
  if (s == "ejected") {
    return model_status::ejected;
  }
  if (s == "withdrawn") {
    return model_status::withdrawn;
  }
  return std::nullopt;
}

json::object to_json(const model_state& m) {
  json::object o;
  o["id"] = m.id;
  o["url"] = m.url;
  o["balance"] = to_coins(m.balance);
  o["weight"] = m.weight;
  o["status"] = to_string(m.status);
  o["deposit"] = to_coins(m.deposit);
  return o;
}

core::result<model_state> model_state_from_json(const json::object& o) {
  model_state m;
  auto id = detail::read_string(o, "id");
  if (!id) {
    return id.error();
  }
  auto url = detail::read_string(o, "url");
  if (!url) {
    return url.error();
  }
  auto balance = detail::read_money(o, "balance", false);
  if (!balance) {
    return balance.error();
  }
  auto deposit = detail::read_money(o, "deposit", false);
  if (!deposit) {
    return deposit.error();
  }
  auto weight = detail::read_number(o, "weight");
  if (!weight) {
    return weight.error();
  }
  if (*weight < 0 || *weight > 1) {
    return core::bad_request("weight must be within [0, 1]", "weight");
  }
  auto status_word = detail::read_string(o, "status");
  if (!status_word) {
    return status_word.error();
  }
  const auto status = parse_model_status(*status_word);
  if (!status) {
    return core::bad_request("status must be active, ejected or withdrawn", "status");
  }
  m.id = std::move(*id);
  m.url = std::move(*url);
  m.balance = *balance;
  m.deposit = *deposit;
  m.weight = *weight;
  m.status = *status;
  return m;
}

json::object to_json(const cluster_meta& m) {
  json::object o;
  o["pool"] = to_coins(m.pool);
  o["batches"] = m.batches;
  o["last_seq"] = m.last_seq;
  return o;
}

core::result<cluster_meta> cluster_meta_from_json(const json::object& o) {
  auto pool = detail::read_money(o, "pool", false);
  if (!pool) {
    return pool.error();
  }
  auto batches = detail::read_count(o, "batches");
  if (!batches) {
    return batches.error();
  }
  auto last_seq = detail::read_count(o, "last_seq");
  if (!last_seq) {
    return last_seq.error();
  }
  return cluster_meta{*pool, *batches, *last_seq};
}

core::result<void> check_labels(std::span<const int> labels, std::size_t instances, int n_classes) {
  if (labels.size() != instances) {
    return core::bad_request("labels must have one entry per instance", "labels");
  }
  for (const int l : labels) {
    if (l < 0 || l >= n_classes) {
      return core::bad_request(
          "labels must be class indexes from 0 to " + std::to_string(n_classes - 1), "labels");
    }
  }
  return {};
}

namespace {

// Coins as the shortest decimal that reads back, for reasons: "480.5", "1000".
std::string coins_text(micros m) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, to_coins(m));
  return std::string(buf, res.ptr);
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool valid_url(std::string_view url) {
  const bool scheme = url.starts_with("http://") || url.starts_with("https://");
  const std::size_t host_at = url.find("://") + 3;
  return scheme && url.size() > host_at && url.size() <= 2048;
}

std::string of_instances(int n, std::size_t k) {
  return std::to_string(n) + " of " + std::to_string(k) + " instance" + (k == 1 ? "" : "s");
}

// The model of that id in `models`, or null.
template <class Models>
auto find_in(Models& models, std::string_view id) -> decltype(&models.front()) {
  const auto it =
      std::find_if(models.begin(), models.end(), [&](const auto& m) { return m.id == id; });
  return it == models.end() ? nullptr : &*it;
}

// Per-model working values while a batch is settled.
struct tally {
  std::size_t index = 0;  // into the batch's models
  model_state* model = nullptr;
  micros start = 0;
  int timeouts = 0;
  int errors = 0;
  double slash = 0;  // in micro-coins, before the cap
  double inactivity = 0;
  double desired_reward = 0;
  bool capped = false;  // the burn cap cut its losses
};

// Why a batch is void, or empty when it counts: it needs an instance, an asked active model,
// and more than `quorum` of the asked models answering (at least one).
std::string void_reason(std::size_t instances, int asked, int responders, double quorum) {
  if (instances == 0) {
    return "empty batch";
  }
  if (asked == 0) {
    return "no active model was asked";
  }
  const int required = std::min(asked, static_cast<int>(std::floor(quorum * asked)) + 1);
  if (responders < required) {
    return std::to_string(responders) + " of " + std::to_string(asked) +
           " models answered; the quorum is " + std::to_string(required);
  }
  return {};
}

// What each instance is judged against: its label, or else a consensus whose class was
// predicted by at least kappa of the voting power. A weaker one is contested: none.
std::vector<std::optional<int>> targets(const std::vector<std::optional<vote_result>>& consensus,
                                        const std::optional<std::vector<int>>& labels,
                                        double kappa) {
  std::vector<std::optional<int>> target(consensus.size());
  for (std::size_t k = 0; k < consensus.size(); ++k) {
    if (labels) {
      target[k] = (*labels)[k];
    } else if (consensus[k] && consensus[k]->support >= kappa - 1e-12) {
      target[k] = consensus[k]->prediction;
    }
  }
  return target;
}

// Per instance, the share of the answering stake that was wrong (the correlation input).
std::vector<double> wrong_shares(const batch_answers& batch, const std::vector<tally>& tallies,
                                 const std::vector<std::optional<int>>& target) {
  std::vector<double> share(target.size(), 0.0);
  for (std::size_t k = 0; k < target.size(); ++k) {
    if (!target[k]) {
      continue;
    }
    double answering = 0;
    double wrong = 0;
    for (const auto& t : tallies) {
      const answer& a = batch.answers[t.index][k];
      if (a.ok()) {
        answering += static_cast<double>(t.start);
        wrong += a.prediction != *target[k] ? static_cast<double>(t.start) : 0.0;
      }
    }
    share[k] = answering > 0 ? wrong / answering : 0;
  }
  return share;
}

}  // namespace

cluster::cluster(params p) : params_(std::move(p)) {}

core::result<cluster> cluster::restore(params p, std::vector<model_state> models,
                                       cluster_meta meta) {
  if (auto ok = validate(p); !ok) {
    return core::bad_request("invalid consensus parameters: " + ok.error().message, "params");
  }
  std::set<std::string, std::less<>> ids;
  for (const auto& m : models) {
    if (!ids.insert(m.id).second) {
      return core::bad_request("model " + m.id + " is stored twice", "models");
    }
    if (!(m.weight >= 0 && m.weight <= 1) || m.balance < 0) {
      return core::bad_request("model " + m.id + " has a weight or balance out of range", "models");
    }
  }
  cluster c(std::move(p));
  c.models_ = std::move(models);
  c.meta_ = meta;
  return c;
}

const model_state* cluster::find(std::string_view id) const {
  return find_in(models_, id);
}

model_state* cluster::find_mutable(std::string_view id) {
  return find_in(models_, id);
}

micros cluster::active_stake() const {
  micros total = 0;
  for (const auto& m : models_) {
    if (m.status == model_status::active) {
      total += m.balance;
    }
  }
  return total;
}

std::vector<std::string> cluster::active_ids() const {
  std::vector<std::string> ids;
  for (const auto& m : models_) {
    if (m.status == model_status::active) {
      ids.push_back(m.id);
    }
  }
  return ids;
}

double cluster::voting_power(std::string_view id) const {
  const model_state* m = find(id);
  if (m == nullptr || m->status != model_status::active) {
    return 0;
  }
  const micros total = active_stake();
  return total > 0 ? m->weight * static_cast<double>(m->balance) / static_cast<double>(total) : 0;
}

ledger_entry cluster::record(model_state& m, entry_kind kind, micros amount, std::string reason,
                             std::string_view at) {
  m.balance += amount;
  ledger_entry e;
  e.seq = ++meta_.last_seq;
  e.model = m.id;
  e.kind = kind;
  e.amount = amount;
  e.balance = m.balance;
  e.reason = std::move(reason);
  e.batch = meta_.batches;
  e.at = std::string(at);
  return e;
}

core::result<joined> cluster::join(std::string id, std::string url, double deposit,
                                   std::string_view at) {
  if (!valid_id(id)) {
    return core::bad_request("id must be 1 to 64 letters, digits, '_', '.' or '-'", "id");
  }
  if (!valid_url(url)) {
    return core::bad_request("url must be an http:// or https:// URL", "url");
  }
  if (!std::isfinite(deposit) || deposit < params_.min_deposit || deposit > max_deposit) {
    return core::bad_request("deposit must be at least " +
                                 coins_text(from_coins(params_.min_deposit)) + " and at most " +
                                 coins_text(from_coins(max_deposit)),
                             "deposit");
  }
  if (find(id) != nullptr) {
    return core::conflict("conflict", "model " + id + " is already registered", "id");
  }
  if (models_.size() >= params_.max_models) {
    return core::conflict("too_many_models",
                          "at most " + std::to_string(params_.max_models) + " models");
  }
  model_state& m = models_.emplace_back();
  m.id = std::move(id);
  m.url = std::move(url);
  m.weight = params_.initial_weight;
  m.deposit = from_coins(deposit);
  auto entry = record(m, entry_kind::deposit, m.deposit, "deposit on joining", at);
  return joined{m, std::move(entry)};
}

core::result<withdrawal> cluster::withdraw(std::string_view id, std::string_view at) {
  model_state* m = find_mutable(id);
  if (m == nullptr) {
    return core::not_found("no model " + std::string(id));
  }
  if (m->status == model_status::withdrawn) {
    return core::conflict("already_withdrawn", "model " + m->id + " has already withdrawn");
  }
  const micros refunded = m->balance;
  m->status = model_status::withdrawn;
  auto entry = record(*m, entry_kind::withdrawal, -refunded, "withdrawn; balance refunded", at);
  return withdrawal{refunded, std::move(entry)};
}

std::vector<std::optional<vote_result>> cluster::decide(const batch_answers& batch) const {
  if (batch.answers.size() != batch.models.size() || batch.n_classes < 1) {
    throw std::invalid_argument("decide: one answer list per model and at least one class");
  }
  for (const auto& per_model : batch.answers) {
    if (per_model.size() != batch.instances) {
      throw std::invalid_argument("decide: one answer per instance");
    }
  }
  // An id listed twice votes once.
  const double stake = static_cast<double>(active_stake());
  const std::size_t n_models = batch.models.size();
  boost::container::small_vector<bool, 16> seen(models_.size(), false);  // by index in models_
  boost::container::small_vector<double, 16> powers(n_models, 0.0);
  boost::container::small_vector<bool, 16> active(n_models, false);
  for (std::size_t i = 0; i < n_models; ++i) {
    const model_state* m = find(batch.models[i]);
    if (m == nullptr || m->status != model_status::active) continue;
    const auto slot = static_cast<std::size_t>(m - models_.data());
    if (seen[slot]) continue;
    seen[slot] = true;
    active[i] = true;
    powers[i] = stake > 0 ? m->weight * static_cast<double>(m->balance) / stake : 0;
  }
  std::vector<std::optional<vote_result>> out;
  out.reserve(batch.instances);
  boost::container::small_vector<const answer*, 16> column(n_models, nullptr);
  for (std::size_t k = 0; k < batch.instances; ++k) {
    for (std::size_t i = 0; i < n_models; ++i) {
      column[i] = active[i] ? &batch.answers[i][k] : nullptr;
    }
    out.push_back(vote_gathered(std::span<const double>(powers.data(), powers.size()),
                                std::span<const answer* const>(column.data(), column.size()),
                                params_.mode, batch.n_classes));
  }
  return out;
}

core::result<settlement> cluster::settle(const batch_answers& batch,
                                         const std::optional<std::vector<int>>& labels,
                                         std::string_view at) {
  if (labels) {
    if (auto ok = check_labels(*labels, batch.instances, batch.n_classes); !ok) {
      return ok.error();
    }
  }
  settlement s;
  s.consensus = decide(batch);
  s.batch = ++meta_.batches;
  s.labelled = labels.has_value();
  const std::size_t n = batch.instances;

  // The asked models still active, each once.
  std::vector<tally> tallies;
  tallies.reserve(batch.models.size());
  boost::container::small_vector<bool, 16> seen(models_.size(), false);  // by index in models_
  int responders = 0;
  for (std::size_t i = 0; i < batch.models.size(); ++i) {
    model_state* m = find_mutable(batch.models[i]);
    if (m == nullptr || m->status != model_status::active) {
      continue;
    }
    const auto slot = static_cast<std::size_t>(m - models_.data());
    if (seen[slot]) {
      continue;
    }
    seen[slot] = true;
    tallies.push_back(tally{i, m, m->balance});
    const auto& row = batch.answers[i];
    responders += std::any_of(row.begin(), row.end(), [](const answer& a) { return a.ok(); });
  }
  s.void_reason = void_reason(n, static_cast<int>(tallies.size()), responders, params_.quorum);
  if (!s.void_reason.empty()) {
    s.void_batch = true;
    s.pool_after = meta_.pool;
    return s;
  }
  const auto target = targets(s.consensus, labels, params_.kappa);
  const auto wrong_share = wrong_shares(batch, tallies, target);

  const double instances = static_cast<double>(n);
  for (auto& t : tallies) {
    model_outcome o;
    o.id = t.model->id;
    o.weight_before = t.model->weight;
    o.balance_before = t.start;
    double wrong_factor = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const answer& a = batch.answers[t.index][k];
      if (!a.ok()) {
        ++o.missed;
        (a.status == answer_status::timeout ? t.timeouts : t.errors) += 1;
        continue;
      }
      ++o.answered;
      if (!target[k]) {
        continue;
      }
      ++o.scored;
      if (a.prediction == *target[k]) {
        ++o.correct;
      } else {
        wrong_factor += 1 + params_.correlation * wrong_share[k];
      }
    }
    const double b = static_cast<double>(t.start);
    t.slash = b * params_.slash_fraction * wrong_factor / instances;
    t.inactivity = b * params_.inactivity_rate * o.missed / instances;
    t.desired_reward =
        std::min(b * params_.reward_rate * o.correct / instances, b * params_.burn_cap);
    if (o.scored > 0) {
      o.score = static_cast<double>(o.correct) / o.scored;
      const double w = (1 - params_.ema_rate) * t.model->weight + params_.ema_rate * *o.score;
      t.model->weight = std::clamp(w, 0.0, 1.0);
    }
    o.weight_after = t.model->weight;
    s.outcomes.push_back(std::move(o));
  }

  // Losses, bounded by the burn cap, go to the pool; rewards are paid from it pro rata.
  micros collected = 0;
  for (std::size_t i = 0; i < tallies.size(); ++i) {
    auto& t = tallies[i];
    auto& o = s.outcomes[i];
    const double cap = static_cast<double>(t.start) * params_.burn_cap;
    const double loss = t.slash + t.inactivity;
    t.capped = loss > cap;
    const double scale = t.capped ? cap / loss : 1.0;
    const micros total = std::min<micros>(
        t.start, t.capped ? static_cast<micros>(std::floor(cap)) : std::llround(loss));
    o.slash = std::min<micros>(std::llround(t.slash * scale), total);
    o.inactivity = total - o.slash;
    collected += o.slash + o.inactivity;
  }
  meta_.pool += collected + from_coins(params_.emission);
  double desired = 0;
  for (const auto& t : tallies) {
    desired += t.desired_reward;
  }
  if (desired > 0) {
    const double factor = std::min(1.0, static_cast<double>(meta_.pool) / desired);
    micros paid = 0;
    for (std::size_t i = 0; i < tallies.size(); ++i) {
      const auto reward = static_cast<micros>(std::floor(tallies[i].desired_reward * factor));
      s.outcomes[i].reward = std::clamp<micros>(reward, 0, meta_.pool - paid);
      paid += s.outcomes[i].reward;
    }
    meta_.pool -= paid;
  }

  const std::string capped = " (cut to the burn cap)";
  const micros min_balance = from_coins(params_.min_balance);
  for (std::size_t i = 0; i < tallies.size(); ++i) {
    auto& t = tallies[i];
    auto& o = s.outcomes[i];
    model_state& m = *t.model;
    if (o.slash > 0) {
      s.entries.push_back(
          record(m, entry_kind::slash, -o.slash,
                 (labels ? "wrong against the labels on " : "disagreed with the consensus on ") +
                     of_instances(o.scored - o.correct, n) + (t.capped ? capped : ""),
                 at));
    }
    if (o.inactivity > 0) {
      s.entries.push_back(record(
          m, entry_kind::inactivity, -o.inactivity,
          "no answer on " + of_instances(o.missed, n) + " (" + std::to_string(t.timeouts) +
              " timed out, " + std::to_string(t.errors) + " failed)" + (t.capped ? capped : ""),
          at));
    }
    if (o.reward > 0) {
      s.entries.push_back(
          record(m, entry_kind::reward, o.reward,
                 (labels ? "right against the labels on " : "agreed with the consensus on ") +
                     of_instances(o.correct, n),
                 at));
    }
    o.balance_after = m.balance;
    if (m.balance < min_balance) {
      m.status = model_status::ejected;
      o.ejected = true;
      s.entries.push_back(record(m, entry_kind::ejection, 0,
                                 "balance " + coins_text(m.balance) +
                                     " below the minimum balance " + coins_text(min_balance),
                                 at));
    }
  }
  s.pool_after = meta_.pool;
  return s;
}

json::object balances_json(const cluster& c) {
  json::object o;
  for (const auto& m : c.models()) {
    o[m.id] = json::object{{"balance", to_coins(m.balance)}, {"weight", m.weight}};
  }
  return o;
}

}  // namespace node::consensus
