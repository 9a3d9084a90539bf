// The server's accept loop, connection loop and request dispatch.
#include "node/http/server.hpp"

#include "node/core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

namespace node::http {

using asio::use_awaitable;
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// One open connection, linked in sessions_ while its coroutine runs.
struct server::session {
  beast::tcp_stream* stream = nullptr;
  bool busy = false;  // between the first byte of a request and the end of its answer
};

server::server(asio::any_io_executor ex, server_options opts, const router& routes,
               core::metrics& metrics)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      routes_(routes),
      metrics_(metrics),
      acceptor_(ex_),
      alive_(std::make_shared<bool>(true)) {
  metrics_.declare("http_requests_total", core::metrics::kind::counter,
                   "HTTP requests answered, by route, method and status.");
  metrics_.declare("http_request_duration_seconds", core::metrics::kind::histogram,
                   "Time from a whole request read to its answer written, by route.");
  metrics_.declare("http_open_connections", core::metrics::kind::gauge,
                   "Client connections open now.");
  metrics_.declare("http_connections_total", core::metrics::kind::counter,
                   "Client connections accepted.");
  metrics_.declare("http_rejected_connections_total", core::metrics::kind::counter,
                   "Connections refused with 503 because max connections were open.");
  metrics_.set("http_open_connections", {}, 0);
}

server::~server() { *alive_ = false; }

core::result<void> server::listen() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opts_.host, ec);
  if (ec) {
    tcp::resolver resolver(ex_);
    auto results = resolver.resolve(opts_.host, std::to_string(opts_.port), ec);
    if (ec || results.empty()) {
      return core::bad_request("cannot resolve host '" + opts_.host + "': " + ec.message(),
                               "host");
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, opts_.port);
  std::string where = opts_.host + ":" + std::to_string(opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return core::unavailable("cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void server::start() {
  asio::co_spawn(ex_, run_accept(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
}

asio::awaitable<void> server::run_accept() {
  auto alive = alive_;
  asio::steady_timer backoff(ex_);
  while (!stopping_ && acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(as_result);
    if (!*alive || stopping_) co_return;
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and the like: log, breathe, go on.
      core::log::warn(opts_.name + " accept failed: " + ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(as_result);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    metrics_.inc("http_connections_total");
    if (sessions_.size() >= opts_.limits.max_connections) {
      metrics_.inc("http_rejected_connections_total");
      asio::co_spawn(ex_, run_reject(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(ex_, run_session(std::move(socket)), [name = opts_.name](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        core::log::error(name + " connection ended by an exception: " + ex.what());
      }
    });
  }
}

asio::awaitable<void> server::run_reject(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  response res = error_reply(core::unavailable("too many open connections; try again later"));
  finish(nullptr, res, false);
  stream.expires_after(std::chrono::seconds(1));
  co_await bhttp::async_write(stream, res, as_result);
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

asio::awaitable<void> server::run_session(tcp::socket socket) {
  auto alive = alive_;
  beast::tcp_stream stream(std::move(socket));
  session self;
  self.stream = &stream;
  sessions_.push_back(&self);
  auto me = std::prev(sessions_.end());
  metrics_.set("http_open_connections", {}, static_cast<double>(sessions_.size()));
  struct unlink {
    server* srv;
    std::list<session*>::iterator it;
    std::shared_ptr<bool> alive;
    ~unlink() {
      if (!*alive) return;
      srv->sessions_.erase(it);
      srv->metrics_.set("http_open_connections", {}, static_cast<double>(srv->sessions_.size()));
      srv->maybe_done();
    }
  } guard{this, me, alive};

  beast::flat_buffer buffer;
  asio::steady_timer read_timer(ex_);
  const auto& lim = opts_.limits;
  for (;;) {
    self.busy = false;
    if (stopping_) break;
    if (buffer.size() == 0) {
      stream.expires_after(lim.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), as_result);
      if (ec || !*alive) break;
      buffer.commit(n);
    }
    self.busy = true;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(lim.max_header));
    parser.body_limit(lim.max_body);
    // A timer rather than the stream's expiry: an expired tcp_stream closes the socket,
    // and a slow client should still hear 408 before the connection closes.
    stream.expires_never();
    bool timed_out = false;
    auto armed = std::make_shared<bool>(true);  // false once the read is over
    read_timer.expires_after(lim.read_timeout);
    read_timer.async_wait([&stream, &timed_out, armed](boost::system::error_code tec) {
      if (tec || !*armed) return;
      timed_out = true;
      boost::system::error_code ignored;
      stream.socket().cancel(ignored);
    });
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, as_result);
    *armed = false;
    if (!*alive) co_return;
    read_timer.cancel();
    if (timed_out && ec == asio::error::operation_aborted) ec = beast::error::timeout;
    if (ec == bhttp::error::end_of_stream) break;
    if (ec) {
      std::optional<core::error> err;
      if (ec == bhttp::error::body_limit) {
        err = core::error{413, "payload_too_large",
                          "the request body is over " + std::to_string(lim.max_body) + " bytes",
                          {}};
      } else if (ec == bhttp::error::header_limit) {
        err = core::error{431, "header_too_large",
                          "the request headers are over " + std::to_string(lim.max_header) +
                              " bytes",
                          {}};
      } else if (ec == beast::error::timeout) {
        err = core::error{408, "request_timeout", "the request was not received in time", {}};
      } else if (ec.category() == bhttp::make_error_code(bhttp::error::body_limit).category()) {
        err = core::bad_request("malformed HTTP request: " + ec.message());
      }
      if (err) {
        response res = error_reply(*err);
        finish(nullptr, res, false);
        stream.expires_after(std::chrono::seconds(2));
        co_await bhttp::async_write(stream, res, as_result);
        metrics_.inc("http_requests_total", {{"route", "invalid"},
                                             {"method", "-"},
                                             {"status", std::to_string(err->status)}});
      }
      break;
    }

    const request& req = parser.get();
    auto started = std::chrono::steady_clock::now();
    std::string route;
    response res;
    try {
      res = co_await dispatch(req, route);
    } catch (const core::error_exception& e) {
      res = error_reply(e.err);
    } catch (const std::exception& e) {
      core::log::error(opts_.name + " " + std::string(req.method_string()) + " " +
                       std::string(req.target()) + " handler failed: " + e.what());
      res = error_reply({500, "internal_error", "internal error; the node logged the cause", {}});
    }
    if (!*alive) co_return;
    bool keep = req.keep_alive() && !stopping_;
    finish(&req, res, keep);
    stream.expires_after(lim.read_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, as_result);
    if (!*alive) co_return;

    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    std::string status = std::to_string(res.result_int());
    metrics_.inc("http_requests_total",
                 {{"route", route}, {"method", std::string(req.method_string())}, {"status", status}});
    metrics_.observe("http_request_duration_seconds", {{"route", route}},
                     static_cast<double>(micros) / 1e6);
    if (core::log::enabled(core::log::level::info)) {
      core::log::info(opts_.name + " :" + std::to_string(port_) + " " +
                      std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                      status + " " + std::to_string(micros) + "us");
    }
    if (wec || !keep) break;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<response> server::dispatch(const request& req, std::string& route) {
  auto target = boost::urls::parse_origin_form(req.target());
  if (!target) {
    route = "invalid";
    co_return error_reply(core::bad_request("malformed request target"));
  }
  std::string path(target->encoded_path());
  context ctx(req, path, target->params());

  if (req.method() == bhttp::verb::options) {
    route = "OPTIONS";
    std::string allow = routes_.allowed(path);
    response res{bhttp::status::no_content, 11};
    res.set(bhttp::field::allow, allow.empty() ? "OPTIONS" : allow);
    res.set(bhttp::field::access_control_allow_methods,
            allow.empty() ? "GET, POST, PUT, DELETE, OPTIONS" : allow);
    std::string_view asked = ctx.header("Access-Control-Request-Headers");
    res.set(bhttp::field::access_control_allow_headers,
            asked.empty() ? "Content-Type, Authorization, Idempotency-Key" : asked);
    res.set(bhttp::field::access_control_max_age, "600");
    co_return res;
  }

  bool head = req.method() == bhttp::verb::head;
  auto m = routes_.find(head ? bhttp::verb::get : req.method(), path, ctx);
  route = m.route;
  if (m.target == nullptr) {
    if (m.path_known) {
      response res = error_reply({405, "method_not_allowed",
                                  std::string(req.method_string()) + " is not allowed on " + path +
                                      "; allowed: " + m.allow,
                                  {}});
      res.set(bhttp::field::allow, m.allow);
      co_return res;
    }
    co_return error_reply(core::not_found("no route for " + std::string(req.method_string()) +
                                          " " + path));
  }
  response res = co_await (*m.target)(ctx);
  if (head) {
    res.content_length(res.body().size());
    res.body().clear();
  }
  co_return res;
}

void server::finish(const request* req, response& res, bool keep_alive) const {
  res.version(11);
  res.set(bhttp::field::server, "node");
  res.set(bhttp::field::access_control_allow_origin, opts_.cors_origin);
  if (opts_.cors_origin != "*") res.set(bhttp::field::vary, "Origin");
  res.set(bhttp::field::access_control_expose_headers,
          "X-Commit-Lsn, Idempotency-Replayed, X-Replication-Degraded");
  if (res.find(bhttp::field::content_type) == res.end() &&
      res.result() != bhttp::status::no_content) {
    res.set(bhttp::field::content_type, json_content_type);
  }
  res.keep_alive(keep_alive);
  bool head = req != nullptr && req->method() == bhttp::verb::head;
  if (!head) res.prepare_payload();
}

void server::stop(std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = std::move(done);
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (session* s : sessions_) {
    if (!s->busy) s->stream->cancel();
  }
  stop_timer_ = std::make_shared<asio::steady_timer>(ex_);
  stop_timer_->expires_after(opts_.limits.stop_timeout);
  stop_timer_->async_wait([this, alive = alive_](boost::system::error_code wec) {
    if (wec || !*alive) return;
    for (session* s : sessions_) s->stream->close();
  });
  maybe_done();
}

void server::maybe_done() {
  if (!stopping_ || !sessions_.empty() || !on_stopped_) return;
  if (stop_timer_) stop_timer_->cancel();
  auto done = std::move(on_stopped_);
  on_stopped_ = nullptr;
  asio::post(ex_, std::move(done));
}

}  // namespace node::http
