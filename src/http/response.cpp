// JSON, error and text answers.
#include "node/http/response.hpp"

namespace node::http {

response json_reply(bhttp::status status, const core::json::value& body) {
  return json_text_reply(status, core::to_json(body));
}

response json_text_reply(bhttp::status status, std::string body) {
  response res{status, 11};
  res.body() = std::move(body);
  return res;
}

response error_reply(const core::error& e) {
  core::json::object err{{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  return json_reply(static_cast<bhttp::status>(e.status), core::json::object{{"error", err}});
}

response reply(const core::result<core::json::value>& r, bhttp::status ok) {
  if (r.has_error()) return error_reply(r.error());
  return json_reply(ok, *r);
}

response text_reply(bhttp::status status, std::string content_type, std::string body) {
  response res{status, 11};
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

}  // namespace node::http
