// Tests for the consensus cluster: joins and withdrawals, EMA weights, quorum, slashing,
// inactivity, the burn cap, ejection, pool-funded rewards and the ledger invariant.
#include "node/consensus/cluster.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace node::consensus;

namespace {

constexpr const char* at = "2024-05-01T12:00:00Z";

// A cluster of n models "m0".."m<n-1>", each with a deposit of 1000.
cluster make_cluster(params p, int n) {
  cluster c(p);
  for (int i = 0; i < n; ++i) {
    REQUIRE(c.join("m" + std::to_string(i), "http://127.0.0.1:500" + std::to_string(i), 1000, at)
                .has_value());
  }
  return c;
}

answer said(int prediction) {
  return answer{answer_status::ok, prediction, {}};
}
answer timed_out() {
  return answer{answer_status::timeout, -1, {}};
}
answer failed() {
  return answer{answer_status::error, -1, {}};
}

// A batch asked of the cluster's active models; rows[m][k] is model m's answer to instance k.
batch_answers make_batch(const cluster& c, std::vector<std::vector<answer>> rows) {
  batch_answers b;
  b.models = c.active_ids();
  REQUIRE(rows.size() == b.models.size());
  b.instances = rows.empty() ? 0 : rows.front().size();
  b.answers = std::move(rows);
  return b;
}

// Every model answers the same for every instance: row of n copies.
std::vector<answer> repeat(answer a, std::size_t n) {
  return std::vector<answer>(n, a);
}

settlement settle_ok(cluster& c, const batch_answers& b, std::optional<std::vector<int>> labels) {
  auto s = c.settle(b, labels, at);
  REQUIRE(s.has_value());
  return *s;
}

const model_outcome& outcome(const settlement& s, std::string_view id) {
  for (const auto& o : s.outcomes) {
    if (o.id == id) {
      return o;
    }
  }
  FAIL("no outcome for " << id);
  throw std::logic_error("unreachable");
}

double balance(const cluster& c, std::string_view id) {
  return to_coins(c.find(id)->balance);
}

}  // namespace

TEST_CASE("cluster: joining records the deposit as the first ledger entry", "[unit]") {
  cluster c{params{}};
  const auto j = c.join("model_A", "http://127.0.0.1:5001", 1000, at);
  REQUIRE(j.has_value());
  CHECK(j->model.status == model_status::active);
  CHECK(j->model.weight == params{}.initial_weight);
  CHECK(j->entry.seq == 1);
  CHECK(j->entry.kind == entry_kind::deposit);
  CHECK(j->entry.amount == from_coins(1000));
  CHECK(j->entry.balance == from_coins(1000));
  CHECK(j->entry.batch == 0);
  CHECK(j->entry.at == at);
  CHECK(c.active_ids() == std::vector<std::string>{"model_A"});
}

TEST_CASE("cluster: a bad join is refused and changes nothing", "[unit]") {
  params p;
  p.max_models = 2;
  cluster c(p);
  REQUIRE(c.join("a", "http://h:1", 1000, at).has_value());
  auto refused = [&](std::string id, std::string url, double deposit) {
    const auto r = c.join(id, url, deposit, at);
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  CHECK(refused("b", "http://h:2", 999.99).field == "deposit");
  CHECK(refused("b", "http://h:2", 999.99).status == 400);
  CHECK(refused("b", "http://h:2", std::numeric_limits<double>::quiet_NaN()).field == "deposit");
  CHECK(refused("b", "http://h:2", 2e6).field == "deposit");
  CHECK(refused("", "http://h:2", 1000).field == "id");
  CHECK(refused("b/c", "http://h:2", 1000).field == "id");
  CHECK(refused("b", "ftp://h:2", 1000).field == "url");
  CHECK(refused("b", "http://", 1000).field == "url");
  const auto dup = refused("a", "http://h:2", 5000);
  CHECK(dup.status == 409);
  CHECK(dup.code == "conflict");
  CHECK(c.models().size() == 1);
  CHECK(c.meta().last_seq == 1);
  REQUIRE(c.join("b", "https://h:2", 1000, at).has_value());
  CHECK(refused("c", "http://h:3", 1000).code == "too_many_models");
}

TEST_CASE("cluster: withdrawing refunds the balance and keeps the model listed", "[unit]") {
  cluster c = make_cluster(params{}, 2);
  const auto w = c.withdraw("m1", at);
  REQUIRE(w.has_value());
  CHECK(w->refunded == from_coins(1000));
  CHECK(w->entry.kind == entry_kind::withdrawal);
  CHECK(w->entry.amount == -from_coins(1000));
  CHECK(w->entry.balance == 0);
  CHECK(c.find("m1")->status == model_status::withdrawn);
  CHECK(c.find("m1")->balance == 0);
  CHECK(c.active_ids() == std::vector<std::string>{"m0"});
  CHECK(c.voting_power("m1") == 0);

  const auto again = c.withdraw("m1", at);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().status == 409);
  const auto unknown = c.withdraw("nope", at);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().status == 404);
  const auto rejoin = c.join("m1", "http://h:1", 1000, at);
  REQUIRE_FALSE(rejoin.has_value());
  CHECK(rejoin.error().status == 409);
}

TEST_CASE("cluster: voting power is weight times share of the active stake", "[unit]") {
  cluster c{params{}};
  REQUIRE(c.join("a", "http://h:1", 1000, at).has_value());
  REQUIRE(c.join("b", "http://h:2", 3000, at).has_value());
  CHECK(c.voting_power("a") == Approx(0.5 * 0.25));
  CHECK(c.voting_power("b") == Approx(0.5 * 0.75));
  CHECK(c.voting_power("nope") == 0);
}

TEST_CASE("cluster: weights follow an EMA of each model's score", "[unit]") {
  params p;
  p.ema_rate = 0.2;
  p.initial_weight = 0.5;
  cluster c = make_cluster(p, 4);
  const auto b = make_batch(c, {{said(0)}, {said(1)}, {said(0)}, {timed_out()}});
  const auto s = settle_ok(c, b, std::vector<int>{0});
  CHECK(c.find("m0")->weight == Approx(0.6));  // 0.8 * 0.5 + 0.2 * 1
  CHECK(c.find("m1")->weight == Approx(0.4));  // 0.8 * 0.5 + 0.2 * 0
  CHECK(c.find("m3")->weight == 0.5);          // no answer, no score
  CHECK(outcome(s, "m0").score == 1.0);
  CHECK(outcome(s, "m1").score == 0.0);
  CHECK_FALSE(outcome(s, "m3").score.has_value());
  CHECK(outcome(s, "m1").weight_before == 0.5);
  CHECK(outcome(s, "m1").weight_after == Approx(0.4));
}

TEST_CASE("cluster: weights stay within [0, 1] and equal the score at rate 1", "[unit]") {
  params p;
  p.ema_rate = 1;
  p.initial_weight = 1;
  p.min_balance = 0;
  cluster c = make_cluster(p, 3);
  std::mt19937 rng(7);
  for (int batch = 0; batch < 60; ++batch) {
    const std::size_t n = 1 + rng() % 15;
    std::vector<int> labels;
    std::vector<std::vector<answer>> rows(3);
    for (std::size_t k = 0; k < n; ++k) {
      labels.push_back(static_cast<int>(rng() % 3));
      for (auto& row : rows) {
        row.push_back(said(static_cast<int>(rng() % 3)));
      }
    }
    const auto s = settle_ok(c, make_batch(c, rows), labels);
    for (const auto& o : s.outcomes) {
      REQUIRE(o.score.has_value());
      CHECK(o.weight_after == *o.score);
      CHECK(o.weight_after >= 0);
      CHECK(o.weight_after <= 1);
    }
  }
}

TEST_CASE("cluster: a batch with fewer answers than the quorum is void", "[unit]") {
  cluster c = make_cluster(params{}, 3);
  const cluster before = c;
  const auto b = make_batch(c, {{said(1)}, {timed_out()}, {failed()}});
  const auto s = settle_ok(c, b, std::vector<int>{0});
  CHECK(s.void_batch);
  CHECK(s.entries.empty());
  CHECK(s.outcomes.empty());
  CHECK(s.batch == 1);
  REQUIRE(s.consensus[0].has_value());
  CHECK(s.consensus[0]->prediction == 1);
  for (const auto& m : c.models()) {
    CHECK(m.balance == before.find(m.id)->balance);
    CHECK(m.weight == before.find(m.id)->weight);
  }
  CHECK(c.pool() == before.pool());
  CHECK(c.meta().batches == 1);

  // Two of three is a majority: the batch counts.
  const auto counted =
      settle_ok(c, make_batch(c, {{said(1)}, {said(0)}, {failed()}}), std::vector<int>{0});
  CHECK_FALSE(counted.void_batch);
  CHECK(counted.batch == 2);
  CHECK_FALSE(counted.entries.empty());

  // With a quorum of 0 a single answer is enough.
  params low;
  low.quorum = 0;
  cluster d = make_cluster(low, 3);
  CHECK_FALSE(
      settle_ok(d, make_batch(d, {{said(1)}, {timed_out()}, {failed()}}), std::nullopt).void_batch);
}

TEST_CASE("cluster: not answering costs the inactivity penalty, not the slash", "[unit]") {
  cluster c = make_cluster(params{}, 4);
  const auto b = make_batch(
      c, {repeat(said(0), 10), repeat(said(0), 10), repeat(said(2), 10), repeat(timed_out(), 10)});
  const auto s = settle_ok(c, b, std::vector<int>(10, 0));
  const auto& wrong = outcome(s, "m2");
  const auto& silent = outcome(s, "m3");
  CHECK(wrong.slash > 0);
  CHECK(wrong.inactivity == 0);
  CHECK(silent.slash == 0);
  CHECK(silent.reward == 0);
  CHECK(silent.inactivity == from_coins(1000 * params{}.inactivity_rate));
  CHECK(silent.weight_after == silent.weight_before);
  CHECK(balance(c, "m3") == 1000 - 1000 * params{}.inactivity_rate);
  for (const auto& e : s.entries) {
    if (e.model == "m3") {
      CHECK(e.kind == entry_kind::inactivity);
    }
    if (e.model == "m2") {
      CHECK(e.kind == entry_kind::slash);
    }
  }
}

TEST_CASE("cluster: a batch's losses are bounded by the burn cap", "[unit]") {
  params p;
  p.slash_fraction = 1;
  p.inactivity_rate = 1;
  p.burn_cap = 0.1;
  p.min_balance = 0;
  cluster c = make_cluster(p, 3);
  std::vector<answer> half_wrong = repeat(said(1), 4);
  half_wrong.insert(half_wrong.end(), 4, timed_out());
  const auto b = make_batch(c, {repeat(said(0), 8), repeat(said(0), 8), half_wrong});
  const auto s = settle_ok(c, b, std::vector<int>(8, 0));
  const auto& o = outcome(s, "m2");
  CHECK(o.slash + o.inactivity == from_coins(100));
  CHECK(o.slash > 0);
  CHECK(o.inactivity > 0);
  CHECK(balance(c, "m2") == 900);
  // Rewards are bounded by the same cap.
  CHECK(outcome(s, "m0").reward <= from_coins(100));

  // A cap of 1 can take everything but never more.
  params all = p;
  all.burn_cap = 1;
  cluster d = make_cluster(all, 3);
  settle_ok(d, make_batch(d, {repeat(said(0), 2), repeat(said(0), 2), repeat(said(1), 2)}),
            std::vector<int>(2, 0));
  CHECK(d.find("m2")->balance == 0);
}

TEST_CASE("cluster: the slash is bigger when many are wrong together", "[unit]") {
  params p;
  p.burn_cap = 1;
  p.min_balance = 0;
  // One wrong model of five: 1000 * 0.05 * (1 + 3 * 0.2).
  cluster alone = make_cluster(p, 5);
  const auto a = settle_ok(
      alone, make_batch(alone, {{said(0)}, {said(0)}, {said(0)}, {said(0)}, {said(1)}}), {{0}});
  CHECK(outcome(a, "m4").slash == from_coins(80));
  // Two wrong together: 1000 * 0.05 * (1 + 3 * 0.4) each.
  cluster together = make_cluster(p, 5);
  const auto t = settle_ok(
      together, make_batch(together, {{said(0)}, {said(0)}, {said(0)}, {said(2)}, {said(1)}}),
      {{0}});
  CHECK(outcome(t, "m4").slash == from_coins(110));
  CHECK(outcome(t, "m3").slash == from_coins(110));
  // No correlation term: the same slash either way.
  p.correlation = 0;
  cluster flat = make_cluster(p, 5);
  const auto f = settle_ok(
      flat, make_batch(flat, {{said(0)}, {said(0)}, {said(0)}, {said(2)}, {said(1)}}), {{0}});
  CHECK(outcome(f, "m4").slash == from_coins(50));
}

TEST_CASE("cluster: without labels a contested instance scores nobody", "[unit]") {
  cluster c = make_cluster(params{}, 3);
  const cluster before = c;
  const auto s = settle_ok(c, make_batch(c, {{said(0)}, {said(1)}, {said(2)}}), std::nullopt);
  CHECK_FALSE(s.void_batch);
  REQUIRE(s.consensus[0].has_value());
  CHECK(s.consensus[0]->support < params{}.kappa);
  CHECK(s.entries.empty());
  for (const auto& o : s.outcomes) {
    CHECK(o.scored == 0);
    CHECK(o.weight_after == o.weight_before);
  }
  // A clear majority is scored: the dissenter is slashed, the others rewarded.
  const auto clear = settle_ok(c, make_batch(c, {{said(1)}, {said(1)}, {said(2)}}), std::nullopt);
  CHECK(outcome(clear, "m2").slash > 0);
  CHECK(outcome(clear, "m2").correct == 0);
  CHECK(outcome(clear, "m0").correct == 1);
  CHECK(outcome(clear, "m0").reward > 0);
}

TEST_CASE("cluster: a balance below the minimum ejects the model", "[unit]") {
  params p;
  p.min_balance = 950;
  cluster c = make_cluster(p, 3);
  const auto s =
      settle_ok(c, make_batch(c, {{said(0)}, {said(0)}, {said(1)}}), std::vector<int>{0});
  CHECK(outcome(s, "m2").ejected);
  CHECK(c.find("m2")->status == model_status::ejected);
  CHECK(c.active_ids() == std::vector<std::string>{"m0", "m1"});
  CHECK(c.voting_power("m2") == 0);
  REQUIRE_FALSE(s.entries.empty());
  const auto& last = s.entries.back();
  CHECK(last.model == "m2");
  CHECK(last.kind == entry_kind::ejection);
  CHECK(last.amount == 0);
  CHECK(last.balance == c.find("m2")->balance);
  CHECK(last.batch == 1);

  // Its answers no longer count, even when it is the only one answering.
  batch_answers late;
  late.models = {"m0", "m1", "m2"};
  late.answers = {{timed_out()}, {timed_out()}, {said(2)}};
  late.instances = 1;
  const auto d = c.decide(late);
  CHECK_FALSE(d[0].has_value());
  const auto v = settle_ok(c, late, std::nullopt);
  CHECK(v.void_batch);

  // It can still take its remaining balance out.
  const micros left = c.find("m2")->balance;
  const auto w = c.withdraw("m2", at);
  REQUIRE(w.has_value());
  CHECK(w->refunded == left);
}

TEST_CASE("cluster: rewards are paid from the pool, never from nothing", "[unit]") {
  cluster c = make_cluster(params{}, 3);
  const auto right = make_batch(c, {{said(0)}, {said(0)}, {said(0)}});
  const auto s = settle_ok(c, right, std::vector<int>{0});
  CHECK(s.entries.empty());
  CHECK(c.pool() == 0);

  // A slash funds the others' rewards.
  const auto one_wrong = settle_ok(c, make_batch(c, {{said(0)}, {said(0)}, {said(1)}}), {{0}});
  const micros slashed = outcome(one_wrong, "m2").slash;
  const micros paid = outcome(one_wrong, "m0").reward + outcome(one_wrong, "m1").reward;
  CHECK(slashed > 0);
  CHECK(paid > 0);
  CHECK(paid + c.pool() == slashed);

  // Emission adds to the pool every counted batch.
  params p;
  p.emission = 10;
  cluster e = make_cluster(p, 3);
  const auto es = settle_ok(e, make_batch(e, {{said(0)}, {said(0)}, {said(0)}}), {{0}});
  micros total = e.pool();
  for (const auto& o : es.outcomes) {
    CHECK(o.reward > 0);
    total += o.reward;
  }
  CHECK(total == from_coins(10));
}

TEST_CASE("cluster: labels of the wrong shape are refused and change nothing", "[unit]") {
  cluster c = make_cluster(params{}, 3);
  const auto b = make_batch(c, {{said(0), said(0)}, {said(0), said(0)}, {said(1), said(1)}});
  auto r = c.settle(b, std::vector<int>{0}, at);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().field == "labels");
  r = c.settle(b, std::vector<int>{0, 3}, at);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().status == 400);
  CHECK(c.meta().batches == 0);
  CHECK(c.meta().last_seq == 3);
  CHECK(check_labels(std::vector<int>{2, 0}, 2, 3).has_value());
}

TEST_CASE("cluster: answers of the wrong shape are a bug", "[unit]") {
  cluster c = make_cluster(params{}, 2);
  batch_answers b;
  b.models = {"m0", "m1"};
  b.answers = {{said(0)}};
  b.instances = 1;
  CHECK_THROWS_AS(c.decide(b), std::invalid_argument);
  b.answers = {{said(0)}, {}};
  CHECK_THROWS_AS(c.settle(b, std::nullopt, at), std::invalid_argument);
}

TEST_CASE("cluster: a model listed twice in a batch votes and settles once", "[unit]") {
  cluster c = make_cluster(params{}, 3);
  batch_answers b;
  b.models = {"m0", "m0", "m1", "m2"};
  b.answers = {{said(2)}, {said(2)}, {said(1)}, {said(0)}};
  b.instances = 1;
  const auto d = c.decide(b);
  REQUIRE(d[0].has_value());
  CHECK(d[0]->voters == 3);
  CHECK(d[0]->prediction == 0);
  const auto s = settle_ok(c, b, std::vector<int>{2});
  CHECK(s.outcomes.size() == 3);
}

TEST_CASE("cluster: a model's ledger amounts always add up to its balance", "[unit]") {
  params p;
  p.emission = 1.5;
  std::mt19937 rng(20240501);
  cluster c(p);
  std::map<std::string, micros> sums;
  micros deposits = 0;
  micros refunds = 0;
  micros emitted = 0;
  std::uint64_t last_seq = 0;
  int joined = 0;
  std::map<entry_kind, int> kinds;
  auto take = [&](const ledger_entry& e) {
    ++kinds[e.kind];
    CHECK(e.seq == ++last_seq);
    sums[e.model] += e.amount;
    CHECK(sums[e.model] == e.balance);
  };
  for (int step = 0; step < 400; ++step) {
    const unsigned choice = rng() % 10;
    if (choice == 0 && joined < 12) {
      const double deposit = 1000 + (rng() % 100000) / 100.0;
      const auto j = c.join("m" + std::to_string(joined++), "http://h:1", deposit, at);
      REQUIRE(j.has_value());
      deposits += j->entry.amount;
      take(j->entry);
    } else if (choice == 1 && !c.models().empty()) {
      const auto& m = c.models()[rng() % c.models().size()];
      const auto w = c.withdraw(m.id, at);
      if (w.has_value()) {
        refunds += w->refunded;
        take(w->entry);
      }
    } else {
      const auto ids = c.active_ids();
      batch_answers b;
      b.models = ids;
      b.instances = 1 + rng() % 15;
      std::vector<int> labels;
      for (std::size_t k = 0; k < b.instances; ++k) {
        labels.push_back(static_cast<int>(rng() % 3));
      }
      for (std::size_t m = 0; m < ids.size(); ++m) {
        const unsigned kind = rng() % 4;  // 0 honest, 1 liar, 2 random, 3 flaky
        std::vector<answer> row;
        for (std::size_t k = 0; k < b.instances; ++k) {
          const int y = labels[k];
          if (kind == 3 && rng() % 3 == 0) {
            row.push_back(rng() % 2 ? timed_out() : failed());
          } else if (kind == 1) {
            row.push_back(said((y + 1) % 3));
          } else if (kind == 2) {
            row.push_back(said(static_cast<int>(rng() % 3)));
          } else {
            row.push_back(said(rng() % 20 ? y : (y + 2) % 3));
          }
        }
        b.answers.push_back(std::move(row));
      }
      const bool labelled = rng() % 2 == 0;
      const auto s = c.settle(b, labelled ? std::optional(labels) : std::nullopt, at);
      REQUIRE(s.has_value());
      if (!s->void_batch) {
        emitted += from_coins(p.emission);
      }
      for (const auto& e : s->entries) {
        take(e);
      }
    }
    micros held = c.pool();
    for (const auto& m : c.models()) {
      REQUIRE(sums[m.id] == m.balance);
      REQUIRE(m.balance >= 0);
      REQUIRE(m.weight >= 0);
      REQUIRE(m.weight <= 1);
      if (m.status == model_status::withdrawn) {
        REQUIRE(m.balance == 0);
      }
      held += m.balance;
    }
    REQUIRE(c.pool() >= 0);
    REQUIRE(held == deposits - refunds + emitted);
  }
  CHECK(joined >= 5);
  CHECK(c.meta().batches > 100);
  for (const auto k : {entry_kind::reward, entry_kind::slash, entry_kind::inactivity,
                       entry_kind::ejection, entry_kind::withdrawal}) {
    CHECK(kinds[k] > 0);
  }
}

TEST_CASE("cluster: state round-trips through JSON and restores", "[unit]") {
  cluster c = make_cluster(params{}, 3);
  settle_ok(c, make_batch(c, {{said(0)}, {said(0)}, {said(1)}}), std::vector<int>{0});
  REQUIRE(c.withdraw("m1", at).has_value());

  std::vector<model_state> models;
  for (const auto& m : c.models()) {
    const auto back = model_state_from_json(json::parse(json::serialize(to_json(m))).as_object());
    REQUIRE(back.has_value());
    CHECK(back->id == m.id);
    CHECK(back->url == m.url);
    CHECK(back->balance == m.balance);
    CHECK(back->deposit == m.deposit);
    CHECK(back->weight == m.weight);
    CHECK(back->status == m.status);
    models.push_back(*back);
  }
  const auto meta =
      cluster_meta_from_json(json::parse(json::serialize(to_json(c.meta()))).as_object());
  REQUIRE(meta.has_value());
  CHECK(meta->pool == c.pool());
  CHECK(meta->batches == 1);
  CHECK(meta->last_seq == c.meta().last_seq);

  auto restored = cluster::restore(params{}, models, *meta);
  REQUIRE(restored.has_value());
  const auto next = make_batch(c, {{said(2)}, {said(1)}});
  const auto a = settle_ok(c, next, std::vector<int>{2});
  const auto b = settle_ok(*restored, next, std::vector<int>{2});
  REQUIRE(a.entries.size() == b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    CHECK(a.entries[i].seq == b.entries[i].seq);
    CHECK(a.entries[i].amount == b.entries[i].amount);
  }

  models.push_back(models.front());
  const auto dup = cluster::restore(params{}, models, *meta);
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().field == "models");

  json::object bad = to_json(c.models().front());
  bad["weight"] = 1.5;
  const auto w = model_state_from_json(bad);
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error().field == "weight");
}

TEST_CASE("cluster: balances are listed as the JSON database shape", "[unit]") {
  cluster c = make_cluster(params{}, 2);
  const json::object o = balances_json(c);
  REQUIRE(o.size() == 2);
  CHECK(o.at("m0").at("balance").as_double() == 1000.0);
  CHECK(o.at("m1").at("weight").as_double() == params{}.initial_weight);
}
