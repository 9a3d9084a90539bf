// Readers for the shop's path segments and request fields (ids, user ids, integers).
#include "node/shop/fields.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace node::shop {

namespace {

// Echoes user input in a message only when it is short enough to be useful.
std::string quoted(std::string_view text) {
  constexpr std::size_t max_echo = 40;
  if (text.size() > max_echo) return "'" + std::string(text.substr(0, max_echo)) + "...'";
  return "'" + std::string(text) + "'";
}

}  // namespace

core::result<std::uint64_t> parse_id(std::string_view text, std::string_view noun) {
  constexpr std::size_t max_digits = 19;  // every 19-digit number fits in uint64
  auto missing = [&] {
    return core::not_found(std::string(noun) + " " + quoted(text) + " not found");
  };
  if (text.empty() || text.size() > max_digits || text.front() == '0') return missing();
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size()) return missing();
  return {boost::system::in_place_value, id};
}

core::result<std::string> parse_user_id(std::string_view text) {
  if (text.empty()) return core::bad_request("userId must not be empty", "userId");
  if (text.size() > max_user_id_length) {
    return core::bad_request(
        "userId must be at most " + std::to_string(max_user_id_length) + " bytes", "userId");
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return core::bad_request("userId must not contain control characters", "userId");
    }
  }
  return std::string(text);
}

core::result<std::string> parse_user_id_field(const json::value& v) {
  if (v.is_null()) return core::bad_request("userId is required", "userId");
  const json::string* s = v.if_string();
  if (s == nullptr) return core::bad_request("userId must be a string", "userId");
  return parse_user_id(std::string_view(*s));
}

core::result<std::int64_t> parse_integer(const json::value& v, std::string_view field,
                                         std::int64_t min, std::int64_t max) {
  const std::string name(field);
  auto out_of_range = [&] {
    return core::bad_request(
        name + " must be between " + std::to_string(min) + " and " + std::to_string(max), name);
  };
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    return out_of_range();  // only numbers above INT64_MAX parse as uint64
  } else if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d) || std::trunc(d) != d) {
      return core::bad_request(name + " must be an integer", name);
    }
    // 2^63 is exactly representable; anything at or beyond it cannot be in range.
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) return out_of_range();
    n = static_cast<std::int64_t>(d);
  } else {
    return core::bad_request(name + " must be an integer", name);
  }
  if (n < min || n > max) return out_of_range();
  return {boost::system::in_place_value, n};
}

std::string id_key(std::uint64_t id) {
  return std::to_string(id);
}

json::value id_value(std::string_view key) {
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (key.empty() || ec != std::errc{} || end != key.data() + key.size()) {
    return json::string(key);
  }
  if (id <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(id);
  }
  return id;
}

std::string_view stored_string(const json::object& doc, std::string_view key) {
  const json::value* v = doc.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_string();
}

std::int64_t stored_int(const json::object& doc, std::string_view key) {
  const json::value* v = doc.if_contains(key);
  if (v == nullptr || !v->is_int64()) return 0;
  return v->get_int64();
}

}  // namespace node::shop
