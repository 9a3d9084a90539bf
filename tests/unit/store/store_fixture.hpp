// Helpers for the store tests: a temporary directory, store specs per backend, and running
// transactions to completion on a fresh io_context with a deadline.
#pragma once

#include "node/store/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace node::store::test {

namespace asio = boost::asio;
namespace json = boost::json;

using txn_result = core::result<json::value>;

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = "/tmp/node-store-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The spec of a store of `kind` ("memory", "json", "sqlite") inside `dir`.
inline std::string spec_for(const std::string& kind, const temp_dir& dir) {
  if (kind == "memory") {
    return "memory:";
  }
  return kind + ":" + (dir.path() / (kind == "json" ? "store.json" : "store.db")).string();
}

inline std::shared_ptr<store> open_store(const std::string& spec, asio::io_context& io) {
  auto s = store::open(spec, io.get_executor());
  INFO(spec << ": " << (s ? std::string() : s.error().message));
  REQUIRE(s.has_value());
  return *s;
}

inline asio::awaitable<void> await_txn(std::shared_ptr<store> s, txn_fn fn,
                                       std::shared_ptr<std::optional<txn_result>> out) {
  *out = co_await s->transact(std::move(fn));
}

inline void rethrow(std::exception_ptr e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

// Starts a transaction on `io`; the result appears in the returned slot once io has run.
inline std::shared_ptr<std::optional<txn_result>> spawn_txn(asio::io_context& io,
                                                            std::shared_ptr<store> s, txn_fn fn) {
  auto out = std::make_shared<std::optional<txn_result>>();
  asio::co_spawn(io, await_txn(std::move(s), std::move(fn), out), rethrow);
  return out;
}

// Runs io until it has nothing left to do, within a deadline.
inline void drain(asio::io_context& io) {
  io.restart();
  io.run_for(std::chrono::seconds(20));
  REQUIRE(io.stopped());
}

// Runs one transaction to completion and returns its result.
inline txn_result run_txn(asio::io_context& io, std::shared_ptr<store> s, txn_fn fn) {
  auto out = spawn_txn(io, std::move(s), std::move(fn));
  drain(io);
  REQUIRE(out->has_value());
  return **out;
}

// A transaction that stores `doc` under collection/id.
inline txn_fn put_fn(std::string collection, std::string id, json::object doc) {
  return [collection, id, doc](txn& t) -> txn_result {
    t.put(collection, id, doc);
    return json::value(nullptr);
  };
}

}  // namespace node::store::test
