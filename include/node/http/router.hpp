// The route table: method + path pattern ("/products/{id}") -> handler. Tells an unknown
// path (404) from a known path with another method (405 with the allowed methods).
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"
#include "node/http/beast.hpp"
#include "node/http/response.hpp"

#include <boost/container/small_vector.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace node::http {

// One request as a handler sees it: the raw message, the matched route's path
// parameters (percent-decoded) and the query string.
class context {
 public:
  // `encoded_query`: what follows '?' in the target, valid (core::is_valid_query or checked
  // by Boost.URL), still percent-encoded; it points into `req`.
  context(const request& req, std::string path, std::string_view encoded_query = {})
      : req_(req), path_(std::move(path)), encoded_query_(encoded_query) {}

  const request& raw() const { return req_; }
  const std::string& path() const { return path_; }
  // A path parameter of the matched pattern; empty when the pattern has no such name.
  std::string_view param(std::string_view name) const;
  // The first value of a query parameter, decoded ('+' as a space), if present.
  std::optional<std::string> query(std::string_view name) const;
  // The query as sent, still percent-encoded (empty when none): for hot routes that decode
  // only what they read (core::for_each_query_param).
  std::string_view encoded_query() const { return encoded_query_; }
  // A header's value, empty when absent.
  std::string_view header(std::string_view name) const;

  // The body as JSON: 415 unless the content type is JSON (or absent), 400 when malformed.
  core::result<core::json::value> json_body() const;
  // With an admin token set, a request must carry "Authorization: Bearer <token>" (401 otherwise).
  core::result<void> authorize(std::string_view admin_token) const;

  std::vector<std::pair<std::string, std::string>> params_;

 private:
  const request& req_;
  std::string path_;
  std::string_view encoded_query_;
};

using handler = std::function<asio::awaitable<response>(context&)>;
// A handler that answers without suspending (no I/O, no store write): the server calls it
// directly, without a coroutine frame of its own.
using sync_handler = std::function<response(context&)>;

class router {
 public:
  // Registers a route. Pattern segments in braces are parameters; a parameter matches one
  // non-empty segment. Registering the same method and pattern twice is a bug (throws).
  void add(boost::beast::http::verb method, std::string pattern, handler h);
  void add_sync(boost::beast::http::verb method, std::string pattern, sync_handler h);

  struct match {
    // The matched route's handler, one of the two; both null when nothing matched.
    const handler* target = nullptr;
    const sync_handler* sync_target = nullptr;
    std::string_view
        route;  // the pattern (lives as long as the router), for metrics; "unmatched" when none
    std::string allow;        // for 405: "GET, POST"
    bool path_known = false;  // some route has this path (405 rather than 404)
    bool matched() const { return target != nullptr || sync_target != nullptr; }
  };
  // Matches a decoded path; fills ctx.params_ on success.
  match find(boost::beast::http::verb method, std::string_view path, context& ctx) const;
  // The methods allowed on a path ("" when no route has it), for OPTIONS and 405.
  std::string allowed(std::string_view path) const;

 private:
  struct route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    handler h;  // one of the two is set
    sync_handler sync;
    bool literal = false;  // no parameter segment: matches only its own pattern text
  };
  void add_route(route r);
  static void set_target(match& m, const route& r);
  using segments = boost::container::small_vector<std::string_view, 8>;
  static segments split(std::string_view path);
  static bool matches(const route& r, const segments& segs,
                      std::vector<std::pair<std::string, std::string>>* params);
  std::vector<route> routes_;
};

}  // namespace node::http
