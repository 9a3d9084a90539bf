// JSON serialization with shortest round-trip doubles, and request-body parsing that
// reports the offset of a syntax error.
#include "node/core/json.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

namespace node::core {

namespace {

// Plain decimal between 1e-7 and 1e21 (as JavaScript prints numbers), exponent form
// outside; always with a '.' or an exponent so the value reads back as a double.
void write_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // Whole numbers below 2^53 (0, 1, 1000.0, most balances and counts) print as the integer
  // they are, which to_chars does much faster for an integer than for a double.
  if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0 && !(d == 0 && std::signbit(d))) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(d));
    out.append(buf, res.ptr);
    out += ".0";
    return;
  }
  char buf[400];
  const double magnitude = std::fabs(d);
  const bool plain = magnitude == 0 || (magnitude >= 1e-7 && magnitude < 1e21);
  const auto res = plain ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, d);
  const std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
  out += text;
  if (text.find_first_of(".en") == std::string_view::npos) {
    out += ".0";
  }
}

// A JSON string literal: '"', '\\' and control characters escaped, everything else (UTF-8
// included) as is, like boost::json::serialize, without its per-call allocation.
void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

template <class Int>
void write_integer(std::string& out, Int i) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, res.ptr);
}

void write_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      write_integer(out, v.get_int64());
      break;
    case json::kind::uint64:
      write_integer(out, v.get_uint64());
      break;
    case json::kind::double_:
      write_double(out, v.get_double());
      break;
    case json::kind::string:
      write_string(out, v.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) {
          out += ',';
        }
        first = false;
        write_value(out, e);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) {
          out += ',';
        }
        first = false;
        write_string(out, kv.key());
        out += ':';
        write_value(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string to_json(const json::value& v) {
  std::string out;
  out.reserve(256);
  write_value(out, v);
  return out;
}

result<json::value> parse_json(std::string_view body) {
  json::parser p;
  json::error_code ec;
  const std::size_t offset = p.write(body.data(), body.size(), ec);
  if (ec) {
    return bad_request("malformed JSON: " + ec.message() + " at offset " + std::to_string(offset));
  }
  return p.release();
}

void append_json_string(std::string& out, std::string_view s) {
  write_string(out, s);
}

std::optional<double> finite_number(const json::value& v) {
  double d = 0;
  switch (v.kind()) {
    case json::kind::double_:
      d = v.get_double();
      break;
    case json::kind::int64:
      d = static_cast<double>(v.get_int64());
      break;
    case json::kind::uint64:
      d = static_cast<double>(v.get_uint64());
      break;
    default:
      return std::nullopt;
  }
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

void append_json_number(std::string& out, double d) {
  write_double(out, d);
}

void append_json_integer(std::string& out, std::int64_t i) {
  write_integer(out, i);
}

}  // namespace node::core
