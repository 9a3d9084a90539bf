// The server's accept loop, connection loop and request dispatch.
#include "node/http/server.hpp"

#include "node/core/log.hpp"
#include "node/core/query.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <optional>

namespace node::http {

using asio::use_awaitable;
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t read_chunk = 8192;

bool is_set_by_server(bhttp::field f) {
  switch (f) {
    case bhttp::field::content_length:
    case bhttp::field::transfer_encoding:
    case bhttp::field::connection:
    case bhttp::field::server:
    case bhttp::field::access_control_allow_origin:
    case bhttp::field::access_control_expose_headers:
      return true;
    default:
      return false;
  }
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

// Splits a request target into its path and its query (still percent-encoded); false when
// the target is malformed.
bool split_target(std::string_view raw, std::string& path, std::string_view& query) {
  const auto qmark = raw.find('?');
  query = qmark == std::string_view::npos ? "" : raw.substr(qmark + 1);
  if (core::is_plain_path(raw.substr(0, qmark)) && core::is_valid_query(query)) {
    path = raw.substr(0, qmark);  // the common case needs no URL parser
    return true;
  }
  auto target = boost::urls::parse_origin_form(raw);
  if (!target) return false;
  path = target->encoded_path();
  query = target->encoded_query();
  return true;
}

void append_unsigned(std::string& out, std::size_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

// One open connection: its socket, its buffered input, the request being parsed and the
// deadline watch. Shared by the connection's coroutine and its timer's handler; linked in
// sessions_ while the coroutine runs.
struct server::session {
  enum class phase { idle, reading, busy, writing };

  explicit session(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}

  tcp::socket socket;
  asio::steady_timer timer;
  clock::time_point deadline = clock::time_point::max();  // max: nothing to watch
  clock::time_point armed = clock::time_point::max();     // expiry of the pending wait
  phase now = phase::idle;
  bool timed_out = false;  // the request being read ran past the read timeout
  bool done = false;       // the coroutine has ended
  beast::flat_buffer buffer;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser;
  std::string head;  // the answer's status line and headers
};

server::server(asio::any_io_executor ex, server_options opts, const router& routes,
               core::metrics& metrics)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      routes_(routes),
      metrics_(metrics),
      acceptor_(ex_),
      alive_(std::make_shared<bool>(true)) {
  append_header(common_headers_, "Server", "node");
  append_header(common_headers_, "Access-Control-Allow-Origin", opts_.cors_origin);
  if (opts_.cors_origin != "*") append_header(common_headers_, "Vary", "Origin");
  append_header(common_headers_, "Access-Control-Expose-Headers",
                "X-Commit-Lsn, Idempotency-Replayed, X-Replication-Degraded");
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
  shortest_timeout_ = std::max<clock::duration>(
      std::min(opts_.limits.read_timeout, opts_.limits.idle_timeout), std::chrono::milliseconds(1));
}

server::~server() {
  *alive_ = false;
}

core::result<void> server::listen() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opts_.host, ec);
  if (ec) {
    tcp::resolver resolver(ex_);
    auto results = resolver.resolve(opts_.host, std::to_string(opts_.port), ec);
    if (ec || results.empty()) {
      return core::bad_request("cannot resolve host '" + opts_.host + "': " + ec.message(), "host");
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
  auto alive = alive_;
  auto s = std::make_shared<session>(std::move(socket));
  response res = error_reply(core::unavailable("too many open connections; try again later"));
  auto op = write_answer(s, res);
  co_await std::move(op);
  s->done = true;
  s->timer.cancel();
  boost::system::error_code ec;
  s->socket.shutdown(tcp::socket::shutdown_both, ec);
}

void server::watch(const session_ptr& s, clock::time_point deadline, clock::time_point now) {
  s->deadline = deadline;
  if (deadline == clock::time_point::max()) return;
  // Never armed further ahead than the shortest timeout, so that a later phase with a
  // shorter timeout finds the timer already due before its own deadline.
  auto at = std::min(deadline, now + shortest_timeout_);
  if (s->armed <= at) return;  // the pending wait comes first and re-arms for the deadline
  arm(s, at);
}

void server::arm(const session_ptr& s, clock::time_point at) {
  s->armed = at;
  s->timer.expires_at(at);
  s->timer.async_wait([this, s, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) return;
    on_watch(s);
  });
}

void server::on_watch(const session_ptr& s) {
  s->armed = clock::time_point::max();
  if (s->done || s->deadline == clock::time_point::max()) return;
  auto now = clock::now();
  if (now < s->deadline) {
    arm(s, std::min(s->deadline, now + shortest_timeout_));
    return;
  }
  s->deadline = clock::time_point::max();
  boost::system::error_code ignored;
  if (s->now == session::phase::reading) {
    // A slow request still hears 408 before the connection closes.
    s->timed_out = true;
    s->socket.cancel(ignored);
  } else {
    s->socket.close(ignored);
  }
}

bool server::parse_buffered(session& s, boost::system::error_code& ec) {
  auto& parser = *s.parser;
  while (s.buffer.size() > 0) {
    const std::size_t used = parser.put(s.buffer.data(), ec);
    s.buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      return false;
    }
    if (ec || parser.is_done()) return true;
    if (used == 0) return false;  // not enough buffered for the parser to take any
    // else the header is parsed and part of the body may follow in the buffer: go on
  }
  return false;
}

asio::awaitable<boost::system::error_code> server::read_request(const session_ptr& s) {
  auto& parser = *s->parser;
  boost::system::error_code ec;
  auto now = clock::now();
  watch(s, now + opts_.limits.read_timeout, now);
  for (;;) {
    auto [rec, n] = co_await s->socket.async_read_some(s->buffer.prepare(read_chunk), as_result);
    if (rec == asio::error::eof) {
      if (parser.got_some()) {
        parser.put_eof(ec);
      } else {
        ec = bhttp::error::end_of_stream;
      }
      break;
    }
    if (rec) {
      ec = rec;
      break;
    }
    s->buffer.commit(n);
    if (parse_buffered(*s, ec)) break;
  }
  s->deadline = clock::time_point::max();
  if (s->timed_out && ec == asio::error::operation_aborted) ec = beast::error::timeout;
  co_return ec;
}

std::array<asio::const_buffer, 2> server::prepare_answer(const session_ptr& s, const response& res,
                                                         bool keep_alive, bool head,
                                                         unsigned request_version,
                                                         clock::time_point now) {
  std::string& out = s->head;
  out.clear();
  out += "HTTP/1.1 ";
  append_unsigned(out, res.result_int());
  out += ' ';
  out += res.reason();
  out += "\r\n";
  bool cors_any = opts_.cors_origin == "*";
  bool has_type = false;
  for (const auto& f : res) {
    if (is_set_by_server(f.name()) || (!cors_any && f.name() == bhttp::field::vary)) continue;
    has_type = has_type || f.name() == bhttp::field::content_type;
    append_header(out, f.name_string(), f.value());
  }
  out += common_headers_;
  unsigned status = res.result_int();
  bool bodiless = status / 100 == 1 || status == 204 || status == 304;
  if (!has_type && !bodiless) append_header(out, "Content-Type", json_content_type);
  if (!bodiless) {
    out += "Content-Length: ";
    append_unsigned(out, res.body().size());
    out += "\r\n";
  }
  if (!keep_alive) {
    append_header(out, "Connection", "close");
  } else if (request_version < 11) {
    append_header(out, "Connection", "keep-alive");
  }
  out += "\r\n";

  s->now = session::phase::writing;
  watch(s, now + opts_.limits.read_timeout, now);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(out), asio::const_buffer()};
  if (!head && !bodiless) buffers[1] = asio::buffer(res.body());
  return buffers;
}

asio::awaitable<boost::system::error_code> server::write_answer(const session_ptr& s,
                                                                const response& res) {
  auto buffers = prepare_answer(s, res, false, false, 11, clock::now());
  auto [ec, n] = co_await asio::async_write(s->socket, buffers, as_result);
  co_return ec;
}

void server::count_request(std::string_view route, const request* req, unsigned status,
                           std::chrono::microseconds took) {
  auto method = req != nullptr ? req->method() : bhttp::verb::unknown;
  double seconds = static_cast<double>(took.count()) / 1e6;
  if (method == bhttp::verb::unknown) {
    // Rare: an unparsable request or a method Beast does not know; not worth a cache slot.
    std::string name = req != nullptr ? std::string(req->method_string()) : "-";
    metrics_.inc(
        "http_requests_total",
        {{"route", std::string(route)}, {"method", name}, {"status", std::to_string(status)}});
  } else {
    auto it = std::find_if(request_series_.begin(), request_series_.end(), [&](const auto& r) {
      return r.status == status && r.method == method && r.route == route;
    });
    if (it == request_series_.end()) {
      auto ref = metrics_.counter("http_requests_total",
                                  {{"route", std::string(route)},
                                   {"method", std::string(bhttp::to_string(method))},
                                   {"status", std::to_string(status)}});
      request_series_.push_back({route, method, status, ref});
      it = std::prev(request_series_.end());
    }
    it->count.inc();
  }
  if (req == nullptr) return;
  auto rt = std::find_if(route_series_.begin(), route_series_.end(),
                         [&](const auto& r) { return r.route == route; });
  if (rt == route_series_.end()) {
    route_series_.push_back({route, metrics_.histogram("http_request_duration_seconds",
                                                       {{"route", std::string(route)}})});
    rt = std::prev(route_series_.end());
  }
  rt->duration.observe(seconds);
}

asio::awaitable<void> server::run_session(tcp::socket socket) {
  auto alive = alive_;
  auto s = std::make_shared<session>(std::move(socket));
  sessions_.push_back(s.get());
  auto me = std::prev(sessions_.end());
  metrics_.set("http_open_connections", {}, static_cast<double>(sessions_.size()));
  struct unlink {
    server* srv;
    std::list<session*>::iterator it;
    session_ptr s;
    std::shared_ptr<bool> alive;
    ~unlink() {
      s->done = true;
      s->timer.cancel();
      if (!*alive) return;
      srv->sessions_.erase(it);
      srv->metrics_.set("http_open_connections", {}, static_cast<double>(srv->sessions_.size()));
      srv->maybe_done();
    }
  } guard{this, me, s, alive};

  const auto& lim = opts_.limits;
  // The time after the last answer was written (the clock is read three times a request).
  auto now = clock::now();
  for (;;) {
    s->now = session::phase::idle;
    if (stopping_) break;
    if (s->buffer.size() == 0) {
      watch(s, now + lim.idle_timeout, now);
      auto [ec, n] = co_await s->socket.async_read_some(s->buffer.prepare(read_chunk), as_result);
      if (ec || !*alive) break;
      s->buffer.commit(n);
    }
    s->now = session::phase::reading;
    s->parser.emplace();
    s->parser->header_limit(static_cast<std::uint32_t>(lim.max_header));
    s->parser->body_limit(lim.max_body);
    s->parser->eager(true);
    // Most requests arrive whole in one read: parsed here, without a coroutine of their own.
    boost::system::error_code ec;
    if (!parse_buffered(*s, ec)) {
      auto op = read_request(s);
      ec = co_await std::move(op);
      if (!*alive) co_return;
    }
    if (ec == bhttp::error::end_of_stream) break;
    if (ec) {
      std::optional<core::error> err;
      if (ec == bhttp::error::body_limit) {
        err = core::error{413,
                          "payload_too_large",
                          "the request body is over " + std::to_string(lim.max_body) + " bytes",
                          {}};
      } else if (ec == bhttp::error::header_limit) {
        err =
            core::error{431,
                        "header_too_large",
                        "the request headers are over " + std::to_string(lim.max_header) + " bytes",
                        {}};
      } else if (ec == beast::error::timeout) {
        err = core::error{408, "request_timeout", "the request was not received in time", {}};
      } else if (ec.category() == bhttp::make_error_code(bhttp::error::body_limit).category()) {
        err = core::bad_request("malformed HTTP request: " + ec.message());
      }
      if (err) {
        response res = error_reply(*err);
        auto op = write_answer(s, res);
        co_await std::move(op);
        if (!*alive) co_return;
        count_request("invalid", nullptr, err->status, {});
      }
      break;
    }

    s->now = session::phase::busy;
    const request& req = s->parser->get();
    auto started = clock::now();
    std::string_view route;
    response res;
    try {
      std::string path;
      std::string_view query;
      if (!split_target(req.target(), path, query)) {
        route = "invalid";
        res = error_reply(core::bad_request("malformed request target"));
      } else {
        context ctx(req, std::move(path), query);
        // A HEAD answer keeps its body here; prepare_answer sends only its length.
        auto m = resolve(ctx, route, res);
        if (m.sync_target != nullptr) {
          res = (*m.sync_target)(ctx);
        } else if (m.target != nullptr) {
          auto op = (*m.target)(ctx);
          res = co_await std::move(op);
        }
      }
    } catch (const core::error_exception& e) {
      res = error_reply(e.err);
    } catch (const std::exception& e) {
      core::log::error(opts_.name + " " + std::string(req.method_string()) + " " +
                       std::string(req.target()) + " handler failed: " + e.what());
      res = error_reply({500, "internal_error", "internal error; the node logged the cause", {}});
    }
    if (!*alive) co_return;
    bool keep = req.keep_alive() && !stopping_;
    bool head = req.method() == bhttp::verb::head;
    auto buffers = prepare_answer(s, res, keep, head, req.version(), clock::now());
    auto [wec, written] = co_await asio::async_write(s->socket, buffers, as_result);
    if (!*alive) co_return;

    now = clock::now();
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(now - started);
    count_request(route, &req, res.result_int(), took);
    if (core::log::enabled(core::log::level::info)) {
      core::log::info(opts_.name + " :" + std::to_string(port_) + " " +
                      std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                      std::to_string(res.result_int()) + " " + std::to_string(took.count()) + "us");
    }
    if (wec || !keep) break;
  }
  boost::system::error_code ec;
  s->socket.shutdown(tcp::socket::shutdown_send, ec);
}

router::match server::resolve(context& ctx, std::string_view& route, response& ready) const {
  const request& req = ctx.raw();
  const std::string& path = ctx.path();
  if (req.method() == bhttp::verb::options) {
    route = "OPTIONS";
    std::string allow = routes_.allowed(path);
    ready = response{bhttp::status::no_content, 11};
    ready.set(bhttp::field::allow, allow.empty() ? "OPTIONS" : allow);
    ready.set(bhttp::field::access_control_allow_methods,
              allow.empty() ? "GET, POST, PUT, DELETE, OPTIONS" : allow);
    std::string_view asked = ctx.header("Access-Control-Request-Headers");
    ready.set(bhttp::field::access_control_allow_headers,
              asked.empty() ? "Content-Type, Authorization, Idempotency-Key" : asked);
    ready.set(bhttp::field::access_control_max_age, "600");
    return {};
  }

  bool head = req.method() == bhttp::verb::head;
  auto m = routes_.find(head ? bhttp::verb::get : req.method(), path, ctx);
  route = m.route;
  if (m.matched()) return m;
  if (m.path_known) {
    ready = error_reply(
        {405,
         "method_not_allowed",
         std::string(req.method_string()) + " is not allowed on " + path + "; allowed: " + m.allow,
         {}});
    ready.set(bhttp::field::allow, m.allow);
  } else {
    ready = error_reply(
        core::not_found("no route for " + std::string(req.method_string()) + " " + path));
  }
  return m;
}

void server::stop(std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = std::move(done);
  boost::system::error_code ec;
  acceptor_.close(ec);
  boost::system::error_code ignored;
  for (session* s : sessions_) {
    if (s->now == session::phase::idle) s->socket.cancel(ignored);
  }
  stop_timer_ = std::make_shared<asio::steady_timer>(ex_);
  stop_timer_->expires_after(opts_.limits.stop_timeout);
  stop_timer_->async_wait([this, alive = alive_](boost::system::error_code wec) {
    if (wec || !*alive) return;
    boost::system::error_code closing;
    for (session* s : sessions_)
      s->socket.close(closing);
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
