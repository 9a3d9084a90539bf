// The pooled HTTP client.
#include "node/http/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>
#include <charconv>
#include <optional>

namespace node::http {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

std::string client_response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return {};
}

bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  if (text.substr(0, 7) == "http://") text.remove_prefix(7);
  auto slash = text.find('/');
  if (slash != std::string_view::npos) text = text.substr(0, slash);
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string_view p = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535) return false;
  host.assign(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

using clock = std::chrono::steady_clock;

// One connection to a peer: its socket, its input buffer, and the deadline of the exchange
// in progress, watched by the connection's one timer (armed per exchange, cancelled when the
// connection goes back to the pool). Shared with the timer's handler.
struct client::connection {
  explicit connection(const asio::any_io_executor& ex) : socket(ex), timer(ex) {}

  tcp::socket socket;
  asio::steady_timer timer;
  clock::time_point deadline = clock::time_point::max();  // max: nothing to watch
  clock::time_point armed = clock::time_point::max();     // expiry of the pending wait
  bool timed_out = false;
  beast::flat_buffer buffer;
  std::string head;  // the request line and headers being sent

  void close() {
    boost::system::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    deadline = clock::time_point::max();
  }
};

void client::arm(const connection_ptr& c, clock::time_point at) {
  c->armed = at;
  c->timer.expires_at(at);
  c->timer.async_wait([c](boost::system::error_code ec) {
    if (ec) return;
    c->armed = clock::time_point::max();
    if (c->deadline == clock::time_point::max()) return;
    if (clock::now() < c->deadline) {
      arm(c, c->deadline);
      return;
    }
    c->timed_out = true;
    c->deadline = clock::time_point::max();
    boost::system::error_code ignored;
    c->socket.cancel(ignored);
  });
}

void client::watch(const connection_ptr& c, clock::time_point deadline) {
  c->deadline = deadline;
  c->timed_out = false;
  if (c->armed <= deadline) return;  // the pending wait comes first and re-arms
  arm(c, deadline);
}

namespace {

bool is_set_by_client(std::string_view name) {
  for (std::string_view own : {"Host", "Content-Length", "Transfer-Encoding", "Connection"}) {
    if (beast::iequals(name, own)) return true;
  }
  return false;
}

void append_unsigned(std::string& out, std::size_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

client::client(asio::any_io_executor ex, client_options opts) : ex_(std::move(ex)), opts_(opts) {}

client::~client() {
  close_idle();
}

void client::close_idle() {
  for (auto& [dest, pool] : idle_) {
    for (auto& c : pool)
      c->close();
  }
  idle_.clear();
}

asio::awaitable<core::result<client::connection_ptr>> client::connect(const client_request& req,
                                                                      clock::time_point deadline) {
  tcp::resolver resolver(ex_);
  auto [rec, results] =
      co_await resolver.async_resolve(req.host, std::to_string(req.port), as_result);
  std::string where = req.host + ":" + std::to_string(req.port);
  if (rec)
    co_return core::error{503, "unreachable", "cannot resolve " + where + ": " + rec.message(), {}};
  auto conn = std::make_shared<connection>(ex_);
  watch(conn, std::min<clock::time_point>(clock::now() + opts_.connect_timeout, deadline));
  auto [cec, ep] = co_await asio::async_connect(conn->socket, results, as_result);
  bool timed_out = conn->timed_out;
  conn->deadline = clock::time_point::max();
  if (cec) {
    conn->close();
    co_return core::error{503,
                          timed_out ? "timeout" : "unreachable",
                          (timed_out ? "connect to " + where + " timed out"
                                     : "cannot connect to " + where + ": " + cec.message()),
                          {}};
  }
  boost::system::error_code ec;
  conn->socket.set_option(tcp::no_delay(true), ec);
  co_return conn;
}

asio::awaitable<core::result<client_response>> client::send(client_request req) {
  auto timeout = req.timeout.count() > 0 ? req.timeout : opts_.timeout;
  auto deadline = clock::now() + timeout;
  for (int attempt = 0; attempt < 2; ++attempt) {
    connection_ptr conn;
    bool reused = false;
    auto pool = idle_.find(destination_view(req.host, req.port));
    if (pool != idle_.end() && !pool->second.empty()) {
      conn = std::move(pool->second.back());
      pool->second.pop_back();
      reused = true;
    } else {
      auto c = co_await connect(req, deadline);
      if (!c) co_return c.error();
      conn = std::move(*c);
    }
    watch(conn, deadline);
    bool retry = false;
    auto r = co_await exchange(req, conn, reused, retry);
    if (retry) continue;
    if (r && conn) {
      // An idle connection keeps no timer pending: a loop with nothing else to do ends.
      conn->deadline = clock::time_point::max();
      conn->armed = clock::time_point::max();
      conn->timer.cancel();
      auto back = idle_.find(destination_view(req.host, req.port));
      if (back == idle_.end()) back = idle_.try_emplace(destination(req.host, req.port)).first;
      if (back->second.size() < opts_.max_idle_per_destination) {
        back->second.push_back(std::move(conn));
      } else {
        conn->close();
      }
    }
    co_return r;
  }
  co_return core::error{
      503,
      "unreachable",
      "connection to " + req.host + ":" + std::to_string(req.port) + " closed repeatedly",
      {}};
}

asio::awaitable<core::result<client_response>> client::exchange(const client_request& req,
                                                                connection_ptr& conn, bool reused,
                                                                bool& retry) {
  std::string& out = conn->head;
  out.clear();
  out += bhttp::to_string(req.method);
  out += ' ';
  out += req.target;
  out += " HTTP/1.1\r\nHost: ";
  out += req.host;
  out += ':';
  append_unsigned(out, req.port);
  out += "\r\nUser-Agent: node\r\n";
  bool has_type = false;
  for (const auto& [k, v] : req.headers) {
    if (is_set_by_client(k)) continue;
    has_type = has_type || beast::iequals(k, "Content-Type");
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  bool sends_body = !req.body.empty() || req.method == bhttp::verb::post ||
                    req.method == bhttp::verb::put || req.method == bhttp::verb::patch;
  if (!req.body.empty() && !has_type) out += "Content-Type: application/json\r\n";
  if (sends_body) {
    out += "Content-Length: ";
    append_unsigned(out, req.body.size());
    out += "\r\n";
  }
  out += "\r\n";

  auto fail = [&](const boost::system::error_code& ec, const char* what) {
    bool timed_out = conn->timed_out;
    std::string where = req.host + ":" + std::to_string(req.port);
    return core::error{503,
                       timed_out ? "timeout" : "unreachable",
                       std::string(timed_out ? "timed out " : "failed ") + what + " " + where +
                           (timed_out ? "" : ": " + ec.message()),
                       {}};
  };

  std::array<asio::const_buffer, 2> buffers{asio::buffer(out), asio::buffer(req.body)};
  auto [wec, wn] = co_await asio::async_write(conn->socket, buffers, as_result);
  if (wec) {
    auto err = fail(wec, "sending to");
    bool timed_out = conn->timed_out;
    conn->close();
    conn.reset();
    if (reused && !timed_out) {
      retry = true;
      co_return core::error{};
    }
    co_return err;
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(opts_.max_response_body);
  parser.eager(true);
  if (req.method == bhttp::verb::head) parser.skip(true);
  boost::system::error_code rec;
  auto& buffer = conn->buffer;
  for (;;) {
    if (buffer.size() > 0) {
      std::size_t used = parser.put(buffer.data(), rec);
      buffer.consume(used);
      if (rec == bhttp::error::need_more) {
        rec = {};
      } else if (rec || parser.is_done()) {
        break;
      } else if (used > 0 && buffer.size() > 0) {
        continue;
      }
    }
    auto [ec, n] = co_await conn->socket.async_read_some(buffer.prepare(8192), as_result);
    if (ec == asio::error::eof) {
      if (parser.got_some()) {
        parser.put_eof(rec);
      } else {
        rec = bhttp::error::end_of_stream;
      }
      break;
    }
    if (ec) {
      rec = ec;
      break;
    }
    buffer.commit(n);
  }
  if (rec) {
    auto err = fail(rec, "reading from");
    bool timed_out = conn->timed_out;
    conn->close();
    conn.reset();
    // A kept-alive connection the peer closed before answering: safe to resend once.
    if (reused && !timed_out &&
        (rec == bhttp::error::end_of_stream || rec == asio::error::connection_reset)) {
      retry = true;
      co_return core::error{};
    }
    co_return err;
  }
  auto& res = parser.get();
  client_response answer;
  answer.status = res.result_int();
  answer.body = std::move(res.body());
  for (const auto& f : res)
    answer.headers.emplace_back(f.name_string(), f.value());
  if (!res.keep_alive() || buffer.size() != 0) {
    conn->close();
    conn.reset();
  }
  co_return answer;
}

}  // namespace node::http
