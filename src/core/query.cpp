// Query-string validation and percent-decoding for the in-place parameter splitter.
#include "node/core/query.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>

#include <array>

namespace node::core {

namespace {

// The characters RFC 3986 lets a path hold as they are (pchar less pct-encoded, and '/');
// a query may also hold '?'.
constexpr std::array<bool, 256> char_table(std::string_view extra) {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c)
    t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c)
    t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=:@/"))
    t[static_cast<unsigned char>(c)] = true;
  for (char c : extra)
    t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> path_chars = char_table("");
constexpr std::array<bool, 256> query_chars = char_table("?");

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

bool is_plain_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    if (!path_chars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool is_valid_query(std::string_view q) {
  for (std::size_t i = 0; i < q.size(); ++i) {
    const char c = q[i];
    if (c == '%') {
      if (i + 2 >= q.size()) return false;
      if (!is_hex(q[i + 1]) || !is_hex(q[i + 2])) return false;
      i += 2;
    } else if (!query_chars[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

std::string_view decode_escaped_query_part(std::string_view part, std::string& buf) {
  auto pct = boost::urls::make_pct_string_view(part);
  if (!pct) return part;  // not a valid query part: the caller validated it, so never here
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  buf = pct->decode(opts);
  return buf;
}

}  // namespace node::core
