// Readers for the shop's path segments and request fields: ids, user ids and bounded
// integers, each failing with the contract's error naming the input at fault.
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace node::shop {

namespace json = core::json;

inline constexpr std::size_t max_user_id_length = 100;
// The largest quantity of one product in one order line or one cart line.
inline constexpr std::int64_t max_quantity = 1'000'000;

// A numeric id from a path segment: 1 to 19 decimal digits without a leading zero.
// Anything else is 404 not_found ("<noun> <text> not found"): no such id can exist.
core::result<std::uint64_t> parse_id(std::string_view text, std::string_view noun);

// A user id from a path segment: 1 to 100 bytes without control characters; else 400
// bad_request naming "userId".
core::result<std::string> parse_user_id(std::string_view text);
// The same rules for the "userId" body field, which must also be present and a string.
core::result<std::string> parse_user_id_field(const json::value& v);

// An integer in [min, max]: a JSON integer, or a double with no fractional part (1e2).
// Else 400 bad_request naming `field` (wrong type, fractional, or out of range).
core::result<std::int64_t> parse_integer(const json::value& v, std::string_view field,
                                         std::int64_t min, std::int64_t max);

// The store id of a numeric id ("7").
std::string id_key(std::uint64_t id);
// A stored numeric id as a JSON number; a non-numeric id stays a string.
json::value id_value(std::string_view key);

// Readers of documents the shop stored; a missing or mistyped field reads as "" or 0. The
// string is a view into `doc`.
std::string_view stored_string(const json::object& doc, std::string_view key);
std::int64_t stored_int(const json::object& doc, std::string_view key);

}  // namespace node::shop
