// Tests for micro-coin money and the JSON form of ledger entries.
#include "node/consensus/ledger.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace json = boost::json;
using namespace node::consensus;

TEST_CASE("ledger: coins convert to micro-coins and back exactly", "[unit]") {
  CHECK(from_coins(1003.5) == 1'003'500'000);
  CHECK(from_coins(0.1) + from_coins(0.2) == from_coins(0.3));
  CHECK(to_coins(from_coins(1005.25)) == 1005.25);
  CHECK(from_coins(-2.0000004) == -2'000'000);
}

TEST_CASE("ledger: an entry round-trips through JSON", "[unit]") {
  ledger_entry e{7,       "model_A", entry_kind::slash,     -from_coins(12.5), from_coins(987.5),
                 "wrong", 3,         "2024-01-01T00:00:00Z"};
  const json::object o = to_json(e);
  CHECK(o.at("kind").as_string() == "slash");
  CHECK(o.at("amount").as_double() == -12.5);
  CHECK(o.at("balance").as_double() == 987.5);
  const auto back = ledger_entry_from_json(json::parse(json::serialize(o)).as_object());
  REQUIRE(back.has_value());
  CHECK(back->seq == 7);
  CHECK(back->model == "model_A");
  CHECK(back->kind == entry_kind::slash);
  CHECK(back->amount == e.amount);
  CHECK(back->balance == e.balance);
  CHECK(back->batch == 3);
  CHECK(back->at == e.at);
}

TEST_CASE("ledger: a malformed entry is refused naming the field", "[unit]") {
  json::object o = to_json(ledger_entry{1, "m", entry_kind::deposit, 1, 1, "", 0, ""});
  o["kind"] = "bonus";
  auto r = ledger_entry_from_json(o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().field == "kind");
  o["kind"] = "reward";
  o["balance"] = -1.0;
  r = ledger_entry_from_json(o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().field == "balance");
  o["balance"] = 1.0;
  o.erase("seq");
  r = ledger_entry_from_json(o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().field == "seq");
}

TEST_CASE("ledger: every kind has its word", "[unit]") {
  for (const auto k : {entry_kind::deposit, entry_kind::reward, entry_kind::slash,
                       entry_kind::inactivity, entry_kind::ejection, entry_kind::withdrawal}) {
    CHECK(parse_entry_kind(to_string(k)) == k);
  }
  CHECK_FALSE(parse_entry_kind("Deposit"));
}
