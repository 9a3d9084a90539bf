// A shop server's address as the registry stores and hands it out: "host:port".
#pragma once

#include "node/core/error.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace node::registry {

// A validated "host:port". `host` is a lower-case DNS name or a dotted IPv4 address,
// `port` is 1..65535.
struct server_address {
  std::string host;
  std::uint16_t port = 0;

  // The canonical form, "host:port": the key under which the registry stores, lists and
  // hands out the server. Parsing it again gives the same address.
  std::string str() const;

  friend auto operator<=>(const server_address&, const server_address&) = default;
};

// The longest text parse_server_address considers (a 253-character name, ':', 5 digits).
inline constexpr std::size_t max_server_address_length = 259;

// Parses "host:port". Accepted:
// - host: a DNS name of dot-separated labels (1..63 letters, digits, '-' or '_', not
//   starting or ending with '-'; at most 253 characters; no trailing dot), matched
//   case-insensitively and stored lower-case; or a dotted IPv4 address of four decimal
//   parts 0..255 without leading zeros. A host made only of digits and dots must be IPv4.
//   '_' is allowed because container names (docker compose) use it.
// - port: 1..65535 in decimal, without sign or leading zeros.
// Rejected, with a 400 bad_request naming field "server": an empty host or port (":80",
// "host:"), port 0 or above 65535, non-digits in the port, surrounding whitespace, a
// scheme or path ("http://h:1", "h:1/"), and IPv6 literals ("[::1]:80"): the HTTP client
// and the /servers/{host:port} route deal in names and IPv4 only.
core::result<server_address> parse_server_address(std::string_view text);

}  // namespace node::registry
