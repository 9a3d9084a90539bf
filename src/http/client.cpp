// The pooled HTTP client.
#include "node/http/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>

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

client::client(asio::any_io_executor ex, client_options opts) : ex_(std::move(ex)), opts_(opts) {}

client::~client() = default;

void client::close_idle() {
  idle_.clear();
}

asio::awaitable<core::result<client::stream_ptr>> client::connect(
    const client_request& req, std::chrono::steady_clock::time_point deadline) {
  tcp::resolver resolver(ex_);
  auto [rec, results] =
      co_await resolver.async_resolve(req.host, std::to_string(req.port), as_result);
  std::string where = req.host + ":" + std::to_string(req.port);
  if (rec)
    co_return core::error{503, "unreachable", "cannot resolve " + where + ": " + rec.message(), {}};
  auto stream = std::make_unique<beast::tcp_stream>(ex_);
  auto now = std::chrono::steady_clock::now();
  auto budget =
      std::min<std::chrono::steady_clock::duration>(opts_.connect_timeout, deadline - now);
  stream->expires_after(budget);
  auto [cec, ep] = co_await stream->async_connect(results, as_result);
  if (cec) {
    bool timed_out = cec == beast::error::timeout;
    co_return core::error{503,
                          timed_out ? "timeout" : "unreachable",
                          (timed_out ? "connect to " + where + " timed out"
                                     : "cannot connect to " + where + ": " + cec.message()),
                          {}};
  }
  boost::system::error_code ec;
  stream->socket().set_option(tcp::no_delay(true), ec);
  co_return stream;
}

asio::awaitable<core::result<client_response>> client::send(client_request req) {
  auto timeout = req.timeout.count() > 0 ? req.timeout : opts_.timeout;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string key = req.host + ":" + std::to_string(req.port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    stream_ptr stream;
    bool reused = false;
    auto& pool = idle_[key];
    if (!pool.empty()) {
      stream = std::move(pool.back());
      pool.pop_back();
      reused = true;
    } else {
      auto c = co_await connect(req, deadline);
      if (!c) co_return c.error();
      stream = std::move(*c);
    }
    stream->expires_at(deadline);
    bool retry = false;
    auto r = co_await exchange(req, stream, reused, retry);
    if (retry) continue;
    if (r && stream) {
      auto& back = idle_[key];
      if (back.size() < opts_.max_idle_per_destination) back.push_back(std::move(stream));
    }
    co_return r;
  }
  co_return core::error{503, "unreachable", "connection to " + key + " closed repeatedly", {}};
}

asio::awaitable<core::result<client_response>> client::exchange(const client_request& req,
                                                                stream_ptr& stream, bool reused,
                                                                bool& retry) {
  std::string where = req.host + ":" + std::to_string(req.port);
  bhttp::request<bhttp::string_body> msg{req.method, req.target, 11};
  msg.set(bhttp::field::host, where);
  msg.set(bhttp::field::user_agent, "node");
  for (const auto& [k, v] : req.headers)
    msg.set(k, v);
  if (!req.body.empty()) {
    if (msg.find(bhttp::field::content_type) == msg.end()) {
      msg.set(bhttp::field::content_type, "application/json");
    }
    msg.body() = req.body;
  }
  msg.keep_alive(true);
  msg.prepare_payload();

  auto fail = [&](const boost::system::error_code& ec, const char* what) {
    bool timed_out = ec == beast::error::timeout;
    return core::error{503,
                       timed_out ? "timeout" : "unreachable",
                       std::string(timed_out ? "timed out " : "failed ") + what + " " + where +
                           (timed_out ? "" : ": " + ec.message()),
                       {}};
  };

  auto [wec, wn] = co_await bhttp::async_write(*stream, msg, as_result);
  if (wec) {
    stream.reset();
    if (reused && wec != beast::error::timeout) {
      retry = true;
      co_return core::error{};
    }
    co_return fail(wec, "sending to");
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(opts_.max_response_body);
  auto [rec, rn] = co_await bhttp::async_read(*stream, buffer, parser, as_result);
  if (rec) {
    stream.reset();
    // A kept-alive connection the peer closed before answering: safe to resend once.
    if (reused && (rec == bhttp::error::end_of_stream || rec == asio::error::connection_reset ||
                   rec == asio::error::eof)) {
      retry = true;
      co_return core::error{};
    }
    co_return fail(rec, "reading from");
  }
  auto& res = parser.get();
  client_response out;
  out.status = res.result_int();
  out.body = std::move(res.body());
  for (const auto& f : res)
    out.headers.emplace_back(f.name_string(), f.value());
  if (!res.keep_alive() || buffer.size() != 0) stream.reset();
  co_return out;
}

}  // namespace node::http
