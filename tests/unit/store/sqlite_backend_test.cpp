// Tests for the SQLite backend: several store objects over one database file.
#include "node/store/sqlite_backend.hpp"

#include "store_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <thread>

using namespace node::store;
using namespace node::store::test;

namespace {

// Sells `quantity` of product 1 when enough is left.
txn_result sell(txn& t, std::int64_t quantity) {
  auto product = t.get("products", "1");
  if (!product) {
    return node::core::not_found("no product");
  }
  const auto stock = product->at("stock").as_int64();
  if (stock < quantity) {
    return node::core::conflict("insufficient_stock", "not enough stock");
  }
  (*product)["stock"] = stock - quantity;
  t.put("products", "1", *product);
  t.put("orders", std::to_string(t.next_id("orders")), {{"quantity", quantity}});
  return json::value(stock - quantity);
}

}  // namespace

TEST_CASE("store: two sqlite stores on one file share data, LSN and ids", "[unit]") {
  temp_dir dir;
  const std::string spec = "sqlite:" + (dir.path() / "shop.db").string();
  asio::io_context io;
  auto a = open_store(spec, io);
  auto b = open_store(spec, io);
  CHECK(a->history() == b->history());

  const auto create = [](txn& t) -> txn_result {
    const auto id = t.next_id("products");
    t.put("products", std::to_string(id), {{"id", id}});
    return json::value(id);
  };
  CHECK(run_txn(io, a, create).value() == 1);
  CHECK(run_txn(io, b, create).value() == 2);
  CHECK(run_txn(io, a, create).value() == 3);
  CHECK(a->lsn() == 3);
  CHECK(b->lsn() == 3);
  CHECK(b->get("products", "1")->at("id") == 1);
  CHECK(a->list("products").size() == 3);
  const auto seen_by_b = run_txn(io, b, [](txn& t) -> txn_result {
    t.del("products", "3");
    return json::value(t.list("products").size());
  });
  CHECK(seen_by_b.value() == 2);
  CHECK_FALSE(a->get("products", "3"));
  CHECK(a->lsn() == 4);
}

TEST_CASE("store: concurrent read-check-write from two sqlite stores never oversells", "[unit]") {
  temp_dir dir;
  const std::string spec = "sqlite:" + (dir.path() / "shop.db").string();
  asio::io_context io;
  auto a = open_store(spec, io);
  auto b = open_store(spec, io);
  REQUIRE(run_txn(io, a, put_fn("products", "1", {{"stock", 50}})).has_value());

  std::vector<std::shared_ptr<std::optional<txn_result>>> results;
  for (int i = 0; i < 40; ++i) {
    results.push_back(spawn_txn(io, a, [](txn& t) { return sell(t, 2); }));
    results.push_back(spawn_txn(io, b, [](txn& t) { return sell(t, 2); }));
  }
  drain(io);
  int sold = 0;
  int refused = 0;
  for (const auto& r : results) {
    REQUIRE(r->has_value());
    if ((*r)->has_value()) {
      ++sold;
    } else {
      CHECK((*r)->error().code == "insufficient_stock");
      ++refused;
    }
  }
  CHECK(sold == 25);
  CHECK(refused == 55);
  CHECK(a->get("products", "1")->at("stock") == 0);
  CHECK(b->list("orders").size() == 25);
  CHECK(a->lsn() == 26);
  CHECK(a->stats().batches_committed + b->stats().batches_committed == 26);
}

TEST_CASE("store: a file that is not an sqlite database is an open error", "[unit]") {
  temp_dir dir;
  const auto file = dir.path() / "shop.db";
  std::ofstream(file) << "this is not a database, it is a text file long enough to matter\n";
  asio::io_context io;
  const auto s = store::open("sqlite:" + file.string(), io.get_executor());
  REQUIRE(s.has_error());
  CHECK(s.error().message.find(file.string()) != std::string::npos);
}

TEST_CASE("store: a cached sqlite read never hides another store's commit", "[unit]") {
  temp_dir dir;
  const std::string spec = "sqlite:" + (dir.path() / "shop.db").string();
  asio::io_context io;
  auto a = open_store(spec, io);
  auto b = open_store(spec, io);
  REQUIRE(run_txn(io, a, put_fn("products", "1", {{"stock", 1}})).has_value());
  for (int i = 2; i < 50; ++i) {
    // a reads (and caches) the document and the LSN, b changes both, a must see the change.
    CHECK(a->get("products", "1")->at("stock") == i - 1);
    CHECK(a->get("products", "1")->at("stock") == i - 1);
    CHECK(a->list("products").at(0).doc.at("stock") == i - 1);
    const auto before = a->lsn();
    REQUIRE(run_txn(io, b, put_fn("products", "1", {{"stock", i}})).has_value());
    CHECK(a->get("products", "1")->at("stock") == i);
    CHECK(a->list("products").at(0).doc.at("stock") == i);
    CHECK(a->lsn() == before + 1);
  }
  REQUIRE(run_txn(io, b, [](txn& t) -> txn_result {
            t.del("products", "1");
            return json::value(nullptr);
          }).has_value());
  CHECK_FALSE(a->get("products", "1"));
  CHECK(a->list("products").empty());
}

TEST_CASE("store: the WAL is checkpointed into the database by the store's own thread", "[unit]") {
  temp_dir dir;
  const auto db = dir.path() / "shop.db";
  asio::io_context io;
  auto s = open_store("sqlite:" + db.string(), io);
  const std::string filler(3000, 'x');
  // About 2,000 pages of documents, in many commits: past the checkpoint threshold.
  for (int t = 0; t < 40; ++t) {
    REQUIRE(run_txn(io, s, [&](txn& tx) -> txn_result {
              for (int i = 0; i < 50; ++i) {
                tx.put("products", std::to_string(t * 50 + i), {{"filler", filler}});
              }
              return json::value(nullptr);
            }).has_value());
  }
  // Below the writer's own threshold (about 4,000 pages), the database file grows only
  // through the checkpointer.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::file_size(db) < 4'000'000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(std::filesystem::file_size(db) >= 4'000'000);
  CHECK(s->list("products").size() == 2000);
}

TEST_CASE("store: under writes without a pause the sqlite WAL stays bounded and starts over",
          "[unit]") {
  temp_dir dir;
  const auto db = dir.path() / "shop.db";
  const auto wal = dir.path() / "shop.db-wal";
  asio::io_context io;
  auto s = open_store("sqlite:" + db.string(), io);
  // 32 writers keep the store's queue full (a new group is waiting whenever one commits):
  // about 80 MB of documents, 5 times the WAL size (16 MB) after which the store's writer
  // finishes the checkpointer's work itself, so that the WAL starts over from its beginning.
  const std::string filler(8000, 'x');
  constexpr int writers = 32;
  constexpr int txns_each = 320;
  std::uintmax_t largest_wal = 0;
  int done = 0;
  int failed = 0;
  const auto writer = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < txns_each; ++i) {
      auto r = co_await s->transact([&](txn& t) -> txn_result {
        t.put("docs", std::to_string(t.next_id("docs")), {{"filler", filler}});
        return json::value(nullptr);
      });
      if (!r) ++failed;
      std::error_code ec;
      largest_wal = std::max(largest_wal, std::filesystem::file_size(wal, ec));
    }
    ++done;
  };
  for (int w = 0; w < writers; ++w)
    asio::co_spawn(io, writer(), rethrow);
  io.run_for(std::chrono::seconds(60));
  REQUIRE(done == writers);
  CHECK(failed == 0);
  CHECK(s->list("docs").size() == static_cast<std::size_t>(writers * txns_each));
  // Without the writer's part, the WAL grew with every group: the checkpointer's passes
  // never caught up with a writer that does not pause.
  INFO("largest WAL: " << largest_wal << " bytes");
  CHECK(largest_wal > 0);
  CHECK(largest_wal < 32'000'000);
}
