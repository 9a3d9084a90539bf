// The HTTP/1.1 client every role uses to talk to peers: coroutines, a connect timeout
// and a whole-request timeout, and keep-alive connections reused per destination.
// Loop thread only.
#pragma once

#include "node/core/error.hpp"
#include "node/http/beast.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace node::http {

struct client_options {
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds timeout{5000};  // default for a whole exchange
  std::size_t max_idle_per_destination = 32;
  std::size_t max_response_body = std::size_t{8} * 1024 * 1024;
};

struct client_request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string host;  // name or address
  std::uint16_t port = 80;
  std::string target = "/";
  std::string body;  // sent as application/json when not empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{0};  // 0: the client's default
};

struct client_response {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const;
};

class client {
 public:
  explicit client(asio::any_io_executor ex, client_options opts = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Sends one request and reads its answer. A transport failure (refused, reset, timed
  // out) is an error with code "timeout" or "unreachable" and status 503; any HTTP status
  // is a response. A request on a reused connection that the peer had closed is retried
  // once on a new connection.
  asio::awaitable<core::result<client_response>> send(client_request req);

  // Drops every idle connection.
  void close_idle();

 private:
  struct connection;
  using connection_ptr = std::shared_ptr<connection>;
  // Idle connections by destination (host, port).
  struct destination_less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::tie(a.first, a.second) < std::tie(b.first, b.second);
    }
  };
  using destination = std::pair<std::string, std::uint16_t>;
  using destination_view = std::pair<std::string_view, std::uint16_t>;

  asio::awaitable<core::result<client_response>> exchange(const client_request& req,
                                                          connection_ptr& conn, bool reused,
                                                          bool& retry);
  asio::awaitable<core::result<connection_ptr>> connect(
      const client_request& req, std::chrono::steady_clock::time_point deadline);

  // Each connection's one timer watches the deadline of its exchange in progress.
  static void watch(const connection_ptr& c, std::chrono::steady_clock::time_point deadline);
  static void arm(const connection_ptr& c, std::chrono::steady_clock::time_point at);

  asio::any_io_executor ex_;
  client_options opts_;
  std::map<destination, std::vector<connection_ptr>, destination_less> idle_;
};

// Splits "host:port" (or "http://host:port[/...]"); false on a malformed address.
bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port);

}  // namespace node::http
