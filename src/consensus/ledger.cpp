// Micro-coin conversions and the JSON form of ledger entries.
#include "node/consensus/ledger.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace node::consensus {

namespace json = boost::json;

double to_coins(micros m) {
  return static_cast<double>(m) / static_cast<double>(micros_per_coin);
}

micros from_coins(double coins) {
  return static_cast<micros>(std::llround(coins * static_cast<double>(micros_per_coin)));
}

namespace {

constexpr std::array<std::pair<entry_kind, std::string_view>, 6> kind_names{{
    {entry_kind::deposit, "deposit"},
    {entry_kind::reward, "reward"},
    {entry_kind::slash, "slash"},
    {entry_kind::inactivity, "inactivity"},
    {entry_kind::ejection, "ejection"},
    {entry_kind::withdrawal, "withdrawal"},
}};

}  // namespace

namespace detail {

namespace {

std::string field_error(std::string_view key, std::string_view what) {
  return std::string(key) + " " + std::string(what);
}

}  // namespace

core::result<std::string> read_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return core::bad_request(field_error(key, "must be a string"), std::string(key));
  }
  return std::string(v->get_string());
}

core::result<double> read_number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) {
    return core::bad_request(field_error(key, "must be a number"), std::string(key));
  }
  const double d = v->to_number<double>();
  if (!std::isfinite(d)) {
    return core::bad_request(field_error(key, "must be finite"), std::string(key));
  }
  // Explicit: core::error is an aggregate, so a bare number would be ambiguous.
  return core::result<double>(boost::system::in_place_value, d);
}

core::result<std::uint64_t> read_count(const json::object& o, std::string_view key) {
  // Explicit: core::error is an aggregate, so a bare number would be ambiguous.
  auto count = [](std::uint64_t c) {
    return core::result<std::uint64_t>(boost::system::in_place_value, c);
  };
  const auto* v = o.if_contains(key);
  if (v != nullptr && v->is_uint64()) {
    return count(v->get_uint64());
  }
  if (v != nullptr && v->is_int64() && v->get_int64() >= 0) {
    return count(static_cast<std::uint64_t>(v->get_int64()));
  }
  if (v != nullptr && v->is_double()) {
    const double d = v->get_double();
    if (d >= 0 && d < 9e15 && std::floor(d) == d) {
      return count(static_cast<std::uint64_t>(d));
    }
  }
  return core::bad_request(field_error(key, "must be a non-negative integer"), std::string(key));
}

core::result<micros> read_money(const json::object& o, std::string_view key, bool signed_ok) {
  auto d = read_number(o, key);
  if (!d) {
    return d.error();
  }
  if (std::fabs(*d) > 1e12 || (!signed_ok && *d < 0)) {
    return core::bad_request(field_error(key, "is out of range"), std::string(key));
  }
  return core::result<micros>(boost::system::in_place_value, from_coins(*d));
}

}  // namespace detail

std::string_view to_string(entry_kind k) {
  for (const auto& [kind, name] : kind_names) {
    if (kind == k) {
      return name;
    }
  }
  return "unknown";
}

std::optional<entry_kind> parse_entry_kind(std::string_view s) {
  for (const auto& [kind, name] : kind_names) {
    if (name == s) {
      return kind;
    }
  }
  return std::nullopt;
}

json::object to_json(const ledger_entry& e) {
  json::object o;
  o["seq"] = e.seq;
  o["model"] = e.model;
  o["kind"] = to_string(e.kind);
  o["amount"] = to_coins(e.amount);
  o["balance"] = to_coins(e.balance);
  o["reason"] = e.reason;
  o["batch"] = e.batch;
  o["at"] = e.at;
  return o;
}

core::result<ledger_entry> ledger_entry_from_json(const json::object& o) {
  ledger_entry e;
  auto seq = detail::read_count(o, "seq");
  if (!seq) {
    return seq.error();
  }
  auto model = detail::read_string(o, "model");
  if (!model) {
    return model.error();
  }
  auto kind_word = detail::read_string(o, "kind");
  if (!kind_word) {
    return kind_word.error();
  }
  const auto kind = parse_entry_kind(*kind_word);
  if (!kind) {
    return core::bad_request("unknown ledger entry kind", "kind");
  }
  auto amount = detail::read_money(o, "amount", true);
  if (!amount) {
    return amount.error();
  }
  auto balance = detail::read_money(o, "balance", false);
  if (!balance) {
    return balance.error();
  }
  auto reason = detail::read_string(o, "reason");
  if (!reason) {
    return reason.error();
  }
  auto batch = detail::read_count(o, "batch");
  if (!batch) {
    return batch.error();
  }
  auto at = detail::read_string(o, "at");
  if (!at) {
    return at.error();
  }
  e.seq = *seq;
  e.model = std::move(*model);
  e.kind = *kind;
  e.amount = *amount;
  e.balance = *balance;
  e.reason = std::move(*reason);
  e.batch = *batch;
  e.at = std::move(*at);
  return e;
}

}  // namespace node::consensus
