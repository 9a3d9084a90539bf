// Building the answers every role gives: JSON bodies, the contract's JSON errors, text.
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"
#include "node/http/beast.hpp"

#include <string>

namespace node::http {

using request = http_types::request;
using response = http_types::response;

inline constexpr const char* json_content_type = "application/json; charset=utf-8";

// Answers carry no Content-Type of their own unless they are not JSON: the server sends
// `json_content_type` for any answer without one.

// A JSON answer with the given status.
response json_reply(boost::beast::http::status status, const core::json::value& body);
inline response json_reply(const core::json::value& body) {
  return json_reply(boost::beast::http::status::ok, body);
}

// {"error":{"code":..,"message":..,"field":..}} with e.status.
response error_reply(const core::error& e);

// A value as `ok` status, or the error.
response reply(const core::result<core::json::value>& r,
               boost::beast::http::status ok = boost::beast::http::status::ok);

// An answer whose JSON body is already written (hot routes that skip the JSON tree).
response json_text_reply(boost::beast::http::status status, std::string body);

// A body of another content type (metrics text, HTML).
response text_reply(boost::beast::http::status status, std::string content_type, std::string body);

}  // namespace node::http
