// Price parsing, exact cent arithmetic and the JSON form of amounts.
#include "node/shop/money.hpp"

#include <cfloat>
#include <cmath>
#include <string>

namespace node::shop {

core::result<std::int64_t> parse_price(const json::value& v, std::string_view field) {
  const std::string name(field);
  constexpr std::int64_t max_units = max_price_cents / 100;
  auto too_large = [&] {
    return core::bad_request(name + " must be at most " + std::to_string(max_units), name);
  };
  auto negative = [&] { return core::bad_request(name + " must be at least 0", name); };
  if (v.is_int64()) {
    std::int64_t units = v.get_int64();
    if (units < 0)
      return negative();
    if (units > max_units)
      return too_large();
    return {boost::system::in_place_value, units * 100};
  }
  if (v.is_uint64())
    return too_large();  // only numbers above INT64_MAX parse as uint64
  if (!v.is_double())
    return core::bad_request(name + " must be a number", name);
  double d = v.get_double();
  if (!std::isfinite(d))
    return core::bad_request(name + " must be a finite number", name);
  if (d < 0)
    return negative();
  if (d > static_cast<double>(max_units))
    return too_large();
  double scaled = d * 100;
  double cents = std::round(scaled);
  // The parsed double may be a few ulps off the decimal the client wrote; a third
  // decimal moves `scaled` by at least 0.1, far more than this tolerance.
  double tolerance = 16 * DBL_EPSILON * std::fmax(1.0, scaled);
  if (std::fabs(scaled - cents) > tolerance) {
    return core::bad_request(name + " must have at most two decimals", name);
  }
  return {boost::system::in_place_value, static_cast<std::int64_t>(cents)};
}

json::value cents_to_json(std::int64_t cents) {
  return static_cast<double>(cents) / 100.0;
}

std::optional<std::int64_t> add_line(std::int64_t total, std::int64_t price_cents,
                                     std::int64_t quantity) {
  if (total < 0 || price_cents < 0 || quantity < 0)
    return std::nullopt;
  std::int64_t line = 0;
  std::int64_t sum = 0;
  if (__builtin_mul_overflow(price_cents, quantity, &line))
    return std::nullopt;
  if (__builtin_add_overflow(total, line, &sum))
    return std::nullopt;
  if (sum > max_total_cents)
    return std::nullopt;
  return sum;
}

}  // namespace node::shop
