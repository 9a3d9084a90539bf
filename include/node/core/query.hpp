// Query strings read without building a URL: hot routes split their parameters in place and
// decode only the ones that hold an escape. The decoding itself is Boost.URL's.
#pragma once

#include <string>
#include <string_view>

namespace node::core {

// True when `path` is an absolute path of characters RFC 3986 allows as they are
// (unreserved, sub-delims, ':', '@', '/'): no escape, nothing a URL parser would change.
bool is_plain_path(std::string_view path);

// True when `q` (what follows '?', without it) holds only what RFC 3986 allows in a query
// (unreserved, sub-delims, ':', '@', '/', '?') and each '%' starts a two-hex-digit escape.
bool is_valid_query(std::string_view q);

// Calls f(key, value, has_value) for each '&'-separated parameter of `q`, in order, key and
// value still encoded; empty parameters ("a=1&&b=2") are skipped. Stops early when f
// returns false.
template <class F>
void for_each_query_param(std::string_view q, F&& f) {
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    const bool has_value = eq != std::string_view::npos;
    if (!f(part.substr(0, eq), has_value ? part.substr(eq + 1) : std::string_view(), has_value)) {
      return;
    }
  }
}

// `part` decoded into `buf` ('+' read as a space); `part` must hold an escape or a '+'.
std::string_view decode_escaped_query_part(std::string_view part, std::string& buf);

// `part` of a valid query decoded, '+' read as a space: `part` itself when it holds no
// escape, else its decoding, written to `buf`.
inline std::string_view decode_query_part(std::string_view part, std::string& buf) {
  for (char c : part) {
    if (c == '%' || c == '+') return decode_escaped_query_part(part, buf);
  }
  return part;
}

}  // namespace node::core
