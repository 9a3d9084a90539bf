// Blocking test calls over the project's HTTP client.
#include "support/http.hpp"

#include "node/http/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/string.hpp>

namespace node::test {

std::string reply::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (boost::beast::iequals(k, name)) return v;
  }
  return {};
}

core::json::value reply::json() const {
  boost::system::error_code ec;
  auto v = core::json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

reply call(std::string method, std::uint16_t port, std::string target, std::string body,
           std::vector<std::pair<std::string, std::string>> headers,
           std::chrono::milliseconds timeout) {
  asio::io_context ioc(1);
  http::client c(ioc.get_executor());
  http::client_request req;
  req.method = boost::beast::http::string_to_verb(method);
  req.host = "127.0.0.1";
  req.port = port;
  req.target = std::move(target);
  req.body = std::move(body);
  req.headers = std::move(headers);
  req.timeout = timeout;
  auto fut = asio::co_spawn(ioc, c.send(std::move(req)), asio::use_future);
  ioc.run_for(timeout + std::chrono::seconds(2));
  reply out;
  if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return out;
  auto r = fut.get();
  if (!r) return out;
  out.status = r->status;
  out.body = std::move(r->body);
  out.headers = std::move(r->headers);
  return out;
}

}  // namespace node::test
