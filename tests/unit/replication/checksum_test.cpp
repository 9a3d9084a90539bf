// Tests for the data checksum replication reports: order-independent, kept up to date from the
// change feed without reading every document again, and read again when too much piled up.
#include "node/replication/target.hpp"

#include "unit/store/store_fixture.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace node::store;
using namespace node::store::test;
using node::replication::checksum;
using node::replication::shop_checksum;
using node::replication::shop_collections;

namespace {

std::string full(store& s) {
  return checksum(s, shop_collections());
}

// A transaction of a few random puts and deletes over the shop's collections and one the
// checksum leaves out.
txn_fn random_writes(std::mt19937& rng) {
  static const std::vector<std::string> collections = {"products", "orders", "carts", "idempotency",
                                                       "other"};
  struct write {
    std::string collection, id;
    bool del;
    int value;
  };
  std::vector<write> writes;
  for (int i = 0; i < 3; ++i) {
    writes.push_back({collections[rng() % collections.size()], std::to_string(rng() % 40),
                      rng() % 4 == 0, static_cast<int>(rng() % 5)});
  }
  return [writes](txn& t) -> txn_result {
    for (const auto& w : writes) {
      if (w.del) {
        t.del(w.collection, w.id);
      } else {
        t.put(w.collection, w.id, {{"v", w.value}, {"id", w.id}});
      }
    }
    return json::value(nullptr);
  };
}

}  // namespace

TEST_CASE("replication checksum: the same documents give the same sum in any order", "[unit]") {
  asio::io_context io;
  auto a = open_store("memory:", io);
  auto b = open_store("memory:", io);
  CHECK(full(*a) == full(*b));
  run_txn(io, a, put_fn("products", "1", {{"name", "a"}}));
  run_txn(io, a, put_fn("orders", "7", {{"total", 2.5}}));
  run_txn(io, b, put_fn("orders", "7", {{"total", 2.5}}));
  CHECK(full(*a) != full(*b));
  run_txn(io, b, put_fn("products", "1", {{"name", "old"}}));
  run_txn(io, b, put_fn("products", "1", {{"name", "a"}}));
  CHECK(full(*a) == full(*b));
  // A document's id and collection count, not just its text.
  run_txn(io, b, put_fn("carts", "1", {{"name", "a"}}));
  run_txn(io, a, put_fn("carts", "2", {{"name", "a"}}));
  CHECK(full(*a) != full(*b));
}

TEST_CASE("replication checksum: kept up to date from the feed, read whole only once", "[unit]") {
  for (const std::string kind : {"memory", "sqlite"}) {
    INFO(kind);
    temp_dir dir;
    asio::io_context io;
    auto s = open_store(spec_for(kind, dir), io);
    run_txn(io, s, put_fn("products", "1", {{"name", "first"}}));
    shop_checksum c(*s);
    CHECK(c.of() == full(*s));
    CHECK(c.scans() == 1);
    std::mt19937 rng(11);
    for (int i = 0; i < 300; ++i) {
      REQUIRE(run_txn(io, s, random_writes(rng)).has_value());
      if (i % 7 == 0) {
        REQUIRE(c.of() == full(*s));
      }
    }
    CHECK(c.of() == full(*s));
    CHECK(c.scans() == 1);

    // More batches than it keeps waiting: dropped, and everything is read again.
    std::size_t written = 0;
    while (written <= shop_checksum::max_pending) {
      std::vector<std::shared_ptr<std::optional<txn_result>>> results;
      for (int k = 0; k < 1000; ++k, ++written) {
        results.push_back(spawn_txn(
            io, s,
            put_fn("orders", std::to_string(written % 500), {{"n", static_cast<int>(written)}})));
      }
      drain(io);
      for (const auto& r : results)
        REQUIRE((r->has_value() && (*r)->has_value()));
    }
    CHECK(c.of() == full(*s));
    CHECK(c.scans() == 2);
  }
}
