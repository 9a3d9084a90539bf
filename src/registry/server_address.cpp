// Parsing and validation of the registry's "host:port" server addresses.
#include "node/registry/server_address.hpp"

#include <algorithm>

namespace node::registry {
namespace {

constexpr std::size_t max_host_length = 253;
constexpr std::size_t max_label_length = 63;

core::error bad_server(std::string why) {
  return core::bad_request("server must be \"host:port\": " + std::move(why), "server");
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_label_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

// Reads a decimal number without sign or leading zeros, at most `max_digits` long.
bool parse_decimal(std::string_view s, std::size_t max_digits, unsigned& out) {
  if (s.empty() || s.size() > max_digits || !std::all_of(s.begin(), s.end(), is_digit)) {
    return false;
  }
  if (s.size() > 1 && s.front() == '0') {
    return false;
  }
  out = 0;
  for (char c : s) {
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

bool is_ipv4(std::string_view host) {
  int parts = 0;
  while (true) {
    const auto dot = host.find('.');
    unsigned value = 0;
    if (!parse_decimal(host.substr(0, dot), 3, value) || value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      return parts == 4;
    }
    host.remove_prefix(dot + 1);
  }
}

bool is_dns_name(std::string_view host) {
  if (host.size() > max_host_length) {
    return false;
  }
  while (true) {
    const auto dot = host.find('.');
    const auto label = host.substr(0, dot);
    if (label.empty() || label.size() > max_label_length || label.front() == '-' ||
        label.back() == '-' || !std::all_of(label.begin(), label.end(), is_label_char)) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    host.remove_prefix(dot + 1);
  }
}

}  // namespace

std::string server_address::str() const {
  return host + ':' + std::to_string(port);
}

core::result<server_address> parse_server_address(std::string_view text) {
  if (text.empty()) {
    return bad_server("it is empty");
  }
  if (text.size() > max_server_address_length) {
    return bad_server("it is longer than " + std::to_string(max_server_address_length) +
                      " characters");
  }
  if (text.front() == '[') {
    return bad_server("IPv6 addresses are not supported; use a host name or an IPv4 address");
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad_server("the port is missing");
  }
  const auto host = text.substr(0, colon);
  const auto port_text = text.substr(colon + 1);
  if (host.empty()) {
    return bad_server("the host is missing");
  }
  if (port_text.empty()) {
    return bad_server("the port is missing");
  }
  unsigned port = 0;
  if (!parse_decimal(port_text, 5, port) || port == 0 || port > 65535) {
    return bad_server("the port must be a number from 1 to 65535");
  }
  const bool numeric =
      std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; });
  if (numeric ? !is_ipv4(host) : !is_dns_name(host)) {
    return bad_server(numeric ? "the host is not a valid IPv4 address"
                              : "the host is not a valid host name or IPv4 address");
  }
  server_address out;
  out.host.reserve(host.size());
  for (char c : host) {
    out.host.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace node::registry
