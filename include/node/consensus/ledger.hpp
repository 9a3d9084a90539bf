// Money and the ledger of the consensus role: every movement of a model's balance is one
// entry, and a model's entries add up to its balance.
#pragma once

#include "node/core/error.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace node::consensus {

// Money is counted in whole millionths of a coin so that sums are exact.
using micros = std::int64_t;
inline constexpr micros micros_per_coin = 1'000'000;

// Coins as a double, for JSON and metrics.
double to_coins(micros m);
// Rounds coins to the nearest micro-coin. The caller checks that the value is finite
// and within range.
micros from_coins(double coins);

enum class entry_kind { deposit, reward, slash, inactivity, ejection, withdrawal };

// "deposit", "reward", "slash", "inactivity", "ejection" or "withdrawal".
std::string_view to_string(entry_kind k);
// Parses one of the words above; nullopt for anything else.
std::optional<entry_kind> parse_entry_kind(std::string_view s);

// One movement of a model's balance. `amount` is signed (0 for an ejection, which only
// stops the model voting); `balance` is the model's balance after it.
struct ledger_entry {
  std::uint64_t seq = 0;
  std::string model;
  entry_kind kind = entry_kind::deposit;
  micros amount = 0;
  micros balance = 0;
  std::string reason;
  // The batch that made the entry; for a deposit or withdrawal, the number of batches
  // settled before it (void ones included).
  std::uint64_t batch = 0;
  std::string at;  // ISO 8601 time given by the caller
};

// {"seq":1,"model":"m","kind":"deposit","amount":1000.0,"balance":1000.0,"reason":"...",
//  "batch":0,"at":"..."}, amounts in coins.
boost::json::object to_json(const ledger_entry& e);
// Reads what to_json wrote; a 400 bad_request naming the field that is missing or wrong.
core::result<ledger_entry> ledger_entry_from_json(const boost::json::object& o);

// Field readers shared by the role's from_json functions; each fails with a 400
// bad_request naming `key` when the field is missing or of the wrong type or range.
namespace detail {
core::result<std::string> read_string(const boost::json::object& o, std::string_view key);
// A non-negative integer (a whole double is accepted).
core::result<std::uint64_t> read_count(const boost::json::object& o, std::string_view key);
// A finite number.
core::result<double> read_number(const boost::json::object& o, std::string_view key);
// Coins as micro-coins, within +-1e12 coins; negative only when `signed_ok`.
core::result<micros> read_money(const boost::json::object& o, std::string_view key, bool signed_ok);
}  // namespace detail

}  // namespace node::consensus
