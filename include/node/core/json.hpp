// JSON helpers shared by every role: serialization with plain decimal numbers and typed
// field readers that report the field at fault.
#pragma once

#include "node/core/error.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace node::core {

namespace json = boost::json;

// Serializes like boost::json::serialize, except that doubles are written as the shortest
// decimal that reads back the same ("199.99", "0.30000000000000004", "1005.0"), never in
// exponent form unless the magnitude needs it. Non-finite doubles are written as null.
std::string to_json(const json::value& v);

// Appends `s` as a JSON string literal (quoted, escaped as to_json does), for answers
// written without building a JSON tree.
void append_json_string(std::string& out, std::string_view s);

// Appends a number as to_json writes it: a double as its shortest round-trip decimal
// ("1005.0", null when not finite), an integer in plain digits.
void append_json_number(std::string& out, double d);
void append_json_integer(std::string& out, std::int64_t i);

// A JSON number (integer or double) as a finite double; nullopt for anything else.
std::optional<double> finite_number(const json::value& v);

// Parses a request body; a syntax error is a 400 bad_request naming the offset.
result<json::value> parse_json(std::string_view body);

}  // namespace node::core
