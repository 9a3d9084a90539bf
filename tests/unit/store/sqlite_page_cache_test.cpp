// Tests for the page cache wrapper: the truncations it skips are the ones that could drop
// nothing, and the data stays right while B-tree balances park pages and transactions that
// grew the database roll back.
#include "node/store/sqlite_page_cache.hpp"

#include "store_fixture.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <map>
#include <random>

using namespace node::store;
using namespace node::store::test;

namespace {

std::string integrity_check(const std::filesystem::path& db) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  std::string result;
  sqlite3_exec(
      raw, "PRAGMA integrity_check",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0] ? values[0] : "";
        return 0;
      },
      &result, nullptr);
  sqlite3_close(raw);
  return result;
}

}  // namespace

TEST_CASE("store: sqlite commits skip the page cache walk and keep the data right", "[unit]") {
  REQUIRE(sqlite_page_cache::install());
  temp_dir dir;
  const auto db = dir.path() / "shop.db";
  asio::io_context io;
  auto s = open_store("sqlite:" + db.string(), io);
  const auto before = sqlite_page_cache::stats();

  // Documents of varied sizes under random ids, put and deleted, so that pages split and
  // merge and come back from the free list out of order (the balances that park pages),
  // and now and then a transaction that writes a lot and then fails (its pages beyond the
  // database's size must go).
  std::mt19937 rng(7);
  std::map<std::string, std::string> model;
  for (int round = 0; round < 400; ++round) {
    std::vector<std::pair<std::string, std::string>> puts;
    std::vector<std::string> dels;
    for (int k = 0; k < 8; ++k) {
      const auto id = std::to_string(rng() % 3000);
      if (rng() % 4 == 0) {
        dels.push_back(id);
      } else {
        puts.emplace_back(id, std::string(20 + rng() % 1500, static_cast<char>('a' + rng() % 26)));
      }
    }
    const bool fail = round % 25 == 24;
    const auto r = run_txn(io, s, [&](txn& t) -> txn_result {
      for (const auto& [id, text] : puts)
        t.put("docs", id, {{"text", text}});
      for (const auto& id : dels)
        t.del("docs", id);
      if (fail) {
        for (int i = 0; i < 200; ++i)
          t.put("docs", "big" + std::to_string(i), {{"text", std::string(3000, 'z')}});
        return node::core::conflict("refused", "this one rolls back");
      }
      return json::value(nullptr);
    });
    REQUIRE(r.has_value() != fail);
    if (fail) continue;
    for (const auto& [id, text] : puts)
      model[id] = text;
    for (const auto& id : dels)
      model.erase(id);
  }

  const auto after = sqlite_page_cache::stats();
  INFO("truncations " << after.truncations - before.truncations << ", skipped "
                      << after.skipped - before.skipped << ", parked "
                      << after.parked - before.parked);
  // The workload parked pages (SQLite's own pcache would then walk its whole cache at the
  // next commit), and most commits' truncations were skipped.
  CHECK(after.parked > before.parked);
  CHECK(after.skipped - before.skipped > (after.truncations - before.truncations) / 2);

  const auto docs = s->list("docs");
  REQUIRE(docs.size() == model.size());
  for (const auto& [id, text] : model) {
    const auto doc = s->get("docs", id);
    REQUIRE(doc);
    CHECK(doc->at("text").as_string() == text);
  }
  s->close();
  s.reset();
  drain(io);
  CHECK(integrity_check(db) == "ok");
}
