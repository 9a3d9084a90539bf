// Prices and totals as integer cents: parsed from JSON numbers with at most two decimals,
// summed exactly, shown as JSON numbers.
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace node::shop {

namespace json = core::json;

// The highest price: 1,000,000,000.00.
inline constexpr std::int64_t max_price_cents = 100'000'000'000;
// The highest total: 9,999,999,999,999.99. Every amount up to it has at most 15
// significant digits, so its double prints back as the exact decimal.
inline constexpr std::int64_t max_total_cents = 999'999'999'999'999;

// A price in cents from a JSON number (integer or double) that is finite, at least 0, at
// most 1e9 and has at most two decimals. A double within rounding noise of a whole cent
// (0.29, 0.30000000000000004) is that cent; 1.005 and 19.999 are rejected. Fails with 400
// bad_request naming `field`.
core::result<std::int64_t> parse_price(const json::value& v, std::string_view field);

// cents / 100 as a JSON double (19999 -> 199.99), which core::to_json prints exactly.
json::value cents_to_json(std::int64_t cents);

// total + price_cents * quantity, or nullopt when that passes max_total_cents (or any
// operand is negative).
std::optional<std::int64_t> add_line(std::int64_t total, std::int64_t price_cents,
                                     std::int64_t quantity);

}  // namespace node::shop
