// The HTTP/1.1 server every role runs behind: one accept loop, one coroutine per
// connection, keep-alive, limits and timeouts, CORS, the contract's JSON errors,
// per-request metrics and log lines. Roles only register routes. Loop thread only.
#pragma once

#include "node/core/metrics.hpp"
#include "node/http/beast.hpp"
#include "node/http/router.hpp"

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace node::http {

struct server_limits {
  std::size_t max_body = std::size_t{1024} * 1024;
  std::size_t max_header = std::size_t{16} * 1024;
  std::chrono::milliseconds read_timeout{10'000};  // to receive one whole request
  std::chrono::milliseconds idle_timeout{60'000};  // between requests on a kept-alive connection
  std::size_t max_connections = 4096;
  std::chrono::milliseconds stop_timeout{10'000};  // in-flight requests get this long at stop
};

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port, see port()
  std::string name;        // the role, for log lines
  std::string cors_origin = "*";
  server_limits limits;
};

class server {
 public:
  server(asio::any_io_executor ex, server_options opts, const router& routes,
         core::metrics& metrics);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens; fails with a message naming the address (in use, bad host).
  core::result<void> listen();
  std::uint16_t port() const { return port_; }
  // Starts the accept loop.
  void start();
  // Stops accepting, closes idle connections, lets in-flight requests finish (their answers
  // close the connection) and force-closes what is left after stop_timeout. `done` runs on
  // the loop once every connection is closed.
  void stop(std::function<void()> done);

 private:
  using clock = std::chrono::steady_clock;
  struct session;
  using session_ptr = std::shared_ptr<session>;
  asio::awaitable<void> run_accept();
  asio::awaitable<void> run_session(tcp::socket socket);
  asio::awaitable<void> run_reject(tcp::socket socket);
  // Feeds what the session has buffered to its parser; true when the request is whole or
  // cannot be (then `ec` says why), false when more must be read.
  static bool parse_buffered(session& s, boost::system::error_code& ec);
  // Reads the rest of a request from the socket into the session's parser.
  asio::awaitable<boost::system::error_code> read_request(const session_ptr& s);
  // Serializes an answer's status line and headers into the session, watches the write from
  // `now`, and returns what to send: the head, then the body (none for HEAD or a status
  // without one).
  std::array<asio::const_buffer, 2> prepare_answer(const session_ptr& s, const response& res,
                                                   bool keep_alive, bool head,
                                                   unsigned request_version, clock::time_point now);
  // Writes an answer that closes the connection (errors before a request, refusals).
  asio::awaitable<boost::system::error_code> write_answer(const session_ptr& s,
                                                          const response& res);
  // The route of a request: its handler, or none with the answer that needs none (OPTIONS,
  // 404, 405) in `ready`; `route` names the matched route for metrics.
  router::match resolve(context& ctx, std::string_view& route, response& ready) const;
  // One timer per connection watches the deadline of what the connection is doing (waiting
  // for a request, reading one, writing an answer): moving a deadline later costs no timer
  // operation, so a kept-alive request touches no timer at all.
  void watch(const session_ptr& s, clock::time_point deadline, clock::time_point now);
  void arm(const session_ptr& s, clock::time_point at);
  void on_watch(const session_ptr& s);
  void count_request(std::string_view route, const request* req, unsigned status,
                     std::chrono::microseconds took);
  void maybe_done();

  // Metric series of answered requests, looked up by route, method and status instead of
  // rendering their label sets on every request.
  struct request_series {
    std::string_view route;
    bhttp::verb method;
    unsigned status;
    core::metrics::counter_ref count;
  };
  struct route_series {
    std::string_view route;
    core::metrics::histogram_ref duration;
  };
  std::vector<request_series> request_series_;
  std::vector<route_series> route_series_;
  clock::duration shortest_timeout_;
  // The headers every answer carries (Server, CORS), serialized once.
  std::string common_headers_;

  asio::any_io_executor ex_;
  server_options opts_;
  const router& routes_;
  core::metrics& metrics_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::list<session*> sessions_;
  bool stopping_ = false;
  std::function<void()> on_stopped_;
  std::shared_ptr<asio::steady_timer> stop_timer_;
  std::shared_ptr<bool> alive_;
};

}  // namespace node::http
