// The store's replication support on every backend: the durable change log, applying
// replicated batches (idempotent, refusing gaps and other histories), new histories, the
// LSN a write reports, and batches announced before their commit (kept when it fails).
#include "node/store/store.hpp"

#include "node/core/json.hpp"

#include "store_fixture.hpp"

#include <sqlite3.h>
#include <boost/asio/executor_work_guard.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

using namespace node::store;
using namespace node::store::test;

namespace {

template <class T>
asio::awaitable<void> await_into(asio::awaitable<T> a, std::shared_ptr<std::optional<T>> slot) {
  *slot = co_await std::move(a);
}

// Runs an awaitable to completion on io and returns its value.
template <class T>
T run_co(asio::io_context& io, asio::awaitable<T> a) {
  auto out = std::make_shared<std::optional<T>>();
  asio::co_spawn(io, await_into(std::move(a), out), rethrow);
  drain(io);
  REQUIRE(out->has_value());
  return std::move(**out);
}

committed_batch put_batch(std::uint64_t lsn, std::string id, std::int64_t n) {
  committed_batch b;
  b.lsn = lsn;
  b.ops.push_back({op::kind::put, "products", std::move(id), {{"n", n}}});
  return b;
}

node::core::result<std::uint64_t> apply_batches(asio::io_context& io, std::shared_ptr<store> s,
                                                std::string history,
                                                std::vector<committed_batch> batches) {
  return run_co(io, s->apply_replicated(std::move(history), std::move(batches)));
}

// Runs io (kept busy by a work guard) until pred holds or 10 s pass; returns pred().
template <class Pred>
bool run_until(asio::io_context& io, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// Opens the store of `kind` in `dir` with its change log on.
std::shared_ptr<store> open_logged(const std::string& kind, const temp_dir& dir,
                                   asio::io_context& io) {
  auto s = open_store(spec_for(kind, dir), io);
  s->keep_change_log();
  return s;
}

}  // namespace

TEST_CASE("replication store: the change log holds each batch and survives reopening", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "json", "sqlite");
  INFO(kind);
  temp_dir dir;
  asio::io_context io;
  {
    auto s = open_logged(kind, dir, io);
    for (int i = 1; i <= 3; ++i) {
      REQUIRE(run_txn(io, s, put_fn("products", std::to_string(i), {{"n", i}})).has_value());
    }
    auto all = s->changes_after(0, 10);
    REQUIRE(all.size() == 3);
    CHECK(all[0].lsn == 1);
    CHECK(all[2].ops.at(0).id == "3");
    CHECK(all[2].ops.at(0).doc.at("n") == 3);
    CHECK(s->changes_after(1, 1).size() == 1);
    CHECK(s->changes_after(3, 10).empty());
    CHECK(s->change_log_first() == 1);
    s->close();
  }
  auto s = open_logged(kind, dir, io);
  CHECK(s->changes_after(0, 10).size() == 3);
  s->prune_change_log(2);
  REQUIRE(run_txn(io, s, put_fn("products", "4", {})).has_value());
  CHECK(s->change_log_first() == 3);
  auto rest = s->changes_after(2, 10);
  REQUIRE(rest.size() == 2);
  CHECK(rest[1].lsn == 4);
  CHECK(s->changes_after(0, 10).empty());  // batch 1 is gone: the list stops at the hole
}

TEST_CASE("replication store: a store without a change log logs nothing", "[unit]") {
  asio::io_context io;
  auto s = open_store("memory:", io);
  REQUIRE(run_txn(io, s, put_fn("products", "1", {})).has_value());
  CHECK(s->changes_after(0, 10).empty());
  CHECK(s->change_log_first() == 0);
}

TEST_CASE("replication store: transact_info reports the batch LSN", "[unit]") {
  asio::io_context io;
  auto s = open_store("memory:", io);
  REQUIRE(run_txn(io, s, put_fn("products", "1", {})).has_value());
  commit_info info;
  auto r = run_co(io, s->transact_info(put_fn("products", "2", {}), info));
  REQUIRE(r.has_value());
  CHECK(info.lsn == 2);
  commit_info none;
  auto nothing =
      run_co(io, s->transact_info([](txn&) { return txn_result(json::value(1)); }, none));
  REQUIRE(nothing.has_value());
  CHECK(none.lsn == 0);
}

TEST_CASE("replication store: applying batches is idempotent and resumable", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  INFO(kind);
  temp_dir dir;
  asio::io_context io;
  const std::string history = "0123456789abcdef0123456789abcdef";
  {
    auto s = open_store(spec_for(kind, dir), io);
    std::vector<std::uint64_t> seen;
    auto sub = s->subscribe([&](const batch_ref& b) { seen.push_back(b->lsn); });
    auto r = apply_batches(io, s, history, {put_batch(2, "2", 2), put_batch(1, "1", 1)});
    REQUIRE(r.has_value());
    CHECK(*r == 2);
    CHECK(s->history() == history);
    CHECK(s->lsn() == 2);
    CHECK(seen == std::vector<std::uint64_t>{1, 2});
    // The same batches again, and an overlapping request, change nothing twice.
    r = apply_batches(io, s, history, {put_batch(1, "1", 100), put_batch(2, "2", 200)});
    REQUIRE(r.has_value());
    CHECK(*r == 2);
    CHECK(s->get("products", "1")->at("n") == 1);
    r = apply_batches(io, s, history, {put_batch(2, "2", 200), put_batch(3, "3", 3)});
    REQUIRE(r.has_value());
    CHECK(*r == 3);
    CHECK(s->get("products", "2")->at("n") == 2);
    s->close();
  }
  auto s = open_store(spec_for(kind, dir), io);
  if (kind != "memory") {
    CHECK(s->lsn() == 3);
    CHECK(s->history() == history);
    CHECK(s->get("products", "3")->at("n") == 3);
  }
}

TEST_CASE("replication store: a gap or another history is refused and changes nothing", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "sqlite");
  INFO(kind);
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  const std::string history(32, 'a');
  REQUIRE(apply_batches(io, s, history, {put_batch(1, "1", 1)}).has_value());

  auto gap = apply_batches(io, s, history, {put_batch(3, "3", 3)});
  REQUIRE_FALSE(gap.has_value());
  CHECK(gap.error().status == 409);
  CHECK(gap.error().code == "replication_gap");

  auto other = apply_batches(io, s, std::string(32, 'b'), {put_batch(2, "2", 2)});
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code == "history_mismatch");
  CHECK(s->lsn() == 1);
  CHECK(s->history() == history);
  CHECK_FALSE(s->get("products", "2"));
  CHECK_FALSE(s->get("products", "3"));
}

TEST_CASE("replication store: a promoted replica never reuses a replicated id", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  INFO(kind);
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  const std::string history(32, 'c');
  REQUIRE(apply_batches(io, s, history, {put_batch(1, "7", 7)}).has_value());
  auto promoted = run_co(io, s->new_history());
  REQUIRE(promoted.has_value());
  CHECK(*promoted != history);
  CHECK(s->history() == *promoted);
  auto id = run_txn(io, s, [](txn& t) { return txn_result(json::value(t.next_id("products"))); });
  REQUIRE(id.has_value());
  CHECK(id->as_uint64() == 8);
  // The old primary's stream is now from another history.
  auto old = apply_batches(io, s, history, {put_batch(2, "9", 9)});
  REQUIRE_FALSE(old.has_value());
  CHECK(old.error().code == "history_mismatch");
}

TEST_CASE("replication store: prepared batches are announced before they are committed", "[unit]") {
  asio::io_context io;
  auto s = open_store("memory:", io);
  std::vector<std::string> events;
  auto prepared = s->subscribe_prepared([&](const batch_ref& b) {
    // The loop side shows a batch once it is durable; an announced one is not yet.
    events.push_back("prepared " + std::to_string(b->lsn) + (s->lsn() < b->lsn ? "" : " late"));
  });
  REQUIRE(prepared);
  auto committed = s->subscribe(
      [&](const batch_ref& b) { events.push_back("committed " + std::to_string(b->lsn)); });
  auto a = spawn_txn(io, s, put_fn("products", "1", {{"n", 1}}));
  auto b = spawn_txn(io, s, put_fn("products", "2", {{"n", 2}}));
  drain(io);
  REQUIRE(a->has_value());
  REQUIRE(b->has_value());
  CHECK(events.size() == 4);
  const auto prepared_at = [&](std::uint64_t lsn) {
    return std::find(events.begin(), events.end(), "prepared " + std::to_string(lsn)) -
           events.begin();
  };
  const auto committed_at = [&](std::uint64_t lsn) {
    return std::find(events.begin(), events.end(), "committed " + std::to_string(lsn)) -
           events.begin();
  };
  for (const std::uint64_t lsn : {1, 2}) {
    INFO(lsn);
    CHECK(prepared_at(lsn) < committed_at(lsn));
    CHECK(committed_at(lsn) < static_cast<long>(events.size()));
  }
}

TEST_CASE("replication store: an announced batch whose commit failed keeps its LSN", "[unit]") {
  temp_dir dir;
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  const auto spec = spec_for("json", dir);
  const auto blocker = dir.path() / "store.json.tmp";
  std::vector<committed_batch> announced;
  {
    auto s = open_store(spec, io);
    auto sub = s->subscribe_prepared([&](const batch_ref& b) { announced.push_back(*b); });
    // A directory where the json backend writes its next file: the commit fails.
    std::filesystem::create_directory(blocker);
    auto failed = spawn_txn(io, s, put_fn("products", "1", {{"n", 1}}));
    REQUIRE(run_until(io, [&] { return failed->has_value(); }));
    REQUIRE_FALSE((*failed)->has_value());
    CHECK((*failed)->error().status == 503);
    REQUIRE(announced.size() == 1);
    CHECK(announced[0].lsn == 1);
    CHECK(s->lsn() == 0);

    // The store commits it again on its own, as it was, once the medium works again.
    std::filesystem::remove(blocker);
    REQUIRE(run_until(io, [&] { return s->lsn() == 1; }));
    CHECK(s->get("products", "1")->at("n") == 1);

    // New writes follow it.
    auto next = spawn_txn(io, s, put_fn("products", "2", {{"n", 2}}));
    REQUIRE(run_until(io, [&] { return next->has_value(); }));
    REQUIRE((*next)->has_value());
    CHECK(s->lsn() == 2);
    REQUIRE(announced.size() >= 2);
    CHECK(announced.back().lsn == 2);
    CHECK(announced.back().ops.at(0).id == "2");
    s->close();
  }
  guard.reset();
  auto s = open_store(spec, io);
  CHECK(s->lsn() == 2);
  CHECK(s->get("products", "1")->at("n") == 1);
  CHECK(s->get("products", "2")->at("n") == 2);
}

TEST_CASE("replication store: a store without prepared subscribers retries nothing", "[unit]") {
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for("json", dir), io);
  const auto blocker = dir.path() / "store.json.tmp";
  std::filesystem::create_directory(blocker);
  auto failed = run_txn(io, s, put_fn("products", "1", {{"n", 1}}));
  CHECK_FALSE(failed.has_value());
  std::filesystem::remove(blocker);
  auto next = run_txn(io, s, put_fn("products", "2", {{"n", 2}}));
  REQUIRE(next.has_value());
  CHECK(s->lsn() == 1);  // the failed write is gone; its LSN went to the next one
  CHECK_FALSE(s->get("products", "1"));
}

TEST_CASE("store: a batch's JSON text is written as to_json writes its JSON", "[unit]") {
  namespace st = node::store;
  st::committed_batch b;
  b.lsn = 42;
  b.ops.push_back({st::op::kind::put, "orders", "7", {{"total", 19.5}, {"note", "a \"b\""}}});
  b.ops.push_back({st::op::kind::del, "carts", "u\n1", {}});
  b.ops.push_back({st::op::kind::put, "products", "1", {{"stock", 3}}});
  const std::string expected = node::core::to_json(st::batch_to_json(b));
  CHECK(st::batch_to_json_text(b) == expected);
  const std::vector<std::string> texts = {node::core::to_json(b.ops[0].doc),
                                          node::core::to_json(b.ops[2].doc)};
  CHECK(st::batch_to_json_text(b, texts) == expected);
  auto back = st::batch_from_json(boost::json::parse(expected));
  REQUIRE(back.has_value());
  CHECK(back->lsn == 42);
  CHECK(back->ops.size() == 3);
}

TEST_CASE("replication store: a group's batches share one log row, a failed one not among them",
          "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "json", "sqlite");
  INFO(kind);
  temp_dir dir;
  asio::io_context io;
  auto s = open_logged(kind, dir, io);
  REQUIRE(run_txn(io, s, put_fn("products", "0", {{"n", 0}})).has_value());
  // The first transaction holds the writer until the others are queued: they commit as
  // one group, in which the fifth fails after writing.
  std::promise<void> all_queued;
  std::shared_future<void> queued = all_queued.get_future().share();
  std::vector<std::shared_ptr<std::optional<txn_result>>> results;
  for (int i = 1; i <= 8; ++i) {
    results.push_back(spawn_txn(io, s, [i, queued](txn& t) -> txn_result {
      if (i == 1) queued.wait();
      t.put("products", std::to_string(i), {{"n", i}});
      if (i == 5) return node::core::conflict("refused", "the fifth fails");
      return json::value(i);
    }));
  }
  asio::post(io, [&all_queued] { all_queued.set_value(); });
  drain(io);
  REQUIRE(s->stats().groups_committed < 8);
  CHECK(s->lsn() == 8);  // 1 + the seven that succeeded
  CHECK_FALSE(s->get("products", "5"));

  const auto check_log = [&](store& st) {
    auto all = st.changes_after(0, 100);
    REQUIRE(all.size() == 8);
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i].lsn == i + 1);
      REQUIRE(all[i].ops.size() == 1);
      CHECK(all[i].ops[0].id != "5");
    }
    CHECK(all.back().ops[0].id == "8");
    // From the middle of a row, and bounded.
    auto some = st.changes_after(3, 2);
    REQUIRE(some.size() == 2);
    CHECK(some[0].lsn == 4);
    CHECK(some[1].lsn == 5);
    CHECK(some[1].ops[0].id == "4");
    CHECK(st.changes_after(8, 10).empty());
    CHECK(st.change_log_first() == 1);
  };
  check_log(*s);
  // Pruning into the middle of the group's row keeps what is after the prune point.
  s->prune_change_log(4);
  REQUIRE(run_txn(io, s, put_fn("products", "9", {{"n", 9}})).has_value());
  auto rest = s->changes_after(4, 100);
  REQUIRE(rest.size() == 5);
  CHECK(rest.front().lsn == 5);
  CHECK(rest.back().lsn == 9);
  CHECK(s->change_log_first() <= 5);
  CHECK(s->change_log_first() >= 2);
  s->close();
  auto again = open_logged(kind, dir, io);
  CHECK(again->changes_after(4, 100).size() == 5);
}

TEST_CASE("replication store: an sqlite change log of one batch per row is read as before",
          "[unit]") {
  temp_dir dir;
  const auto path = dir.path() / "old.db";
  {
    // The layout of stores written before a row could hold a group: no `first` column,
    // one batch object per row.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* sql =
        "CREATE TABLE docs(collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, "
        "PRIMARY KEY(collection, id)) WITHOUT ROWID;"
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value NOT NULL);"
        "CREATE TABLE next_ids(collection TEXT PRIMARY KEY, last INTEGER NOT NULL);"
        "CREATE TABLE log(lsn INTEGER PRIMARY KEY, batch TEXT NOT NULL);"
        "INSERT INTO meta VALUES('lsn', 2), ('history', '0123456789abcdef0123456789abcdef');"
        "INSERT INTO docs VALUES('products', '1', '{\"n\":1}'), ('products', '2', '{\"n\":2}');"
        "INSERT INTO log VALUES(1, '{\"lsn\":1,\"ops\":[{\"op\":\"put\",\"collection\":"
        "\"products\",\"id\":\"1\",\"doc\":{\"n\":1}}]}'), (2, '{\"lsn\":2,\"ops\":[{\"op\":"
        "\"put\",\"collection\":\"products\",\"id\":\"2\",\"doc\":{\"n\":2}}]}');";
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  asio::io_context io;
  auto s = open_store("sqlite:" + path.string(), io);
  s->keep_change_log();
  CHECK(s->change_log_first() == 1);
  REQUIRE(run_txn(io, s, put_fn("products", "3", {{"n", 3}})).has_value());
  auto all = s->changes_after(0, 10);
  REQUIRE(all.size() == 3);
  CHECK(all[1].ops.at(0).doc.at("n") == 2);
  CHECK(all[2].lsn == 3);
  s->prune_change_log(1);
  REQUIRE(run_txn(io, s, put_fn("products", "4", {})).has_value());
  CHECK(s->change_log_first() == 2);
}

TEST_CASE("replication store: the sqlite change log's rows are stored compressed", "[unit]") {
  temp_dir dir;
  const auto path = dir.path() / "shop.db";
  std::vector<std::shared_ptr<std::optional<txn_result>>> results;
  {
    asio::io_context io;
    auto s = open_store("sqlite:" + path.string(), io);
    s->keep_change_log();
    // Orders written together: one group, one row of about 30 similar batches.
    for (int i = 0; i < 30; ++i) {
      results.push_back(spawn_txn(
          io, s,
          put_fn("orders", std::to_string(i),
                 {{"userId", "u" + std::to_string(i)},
                  {"items", json::array{json::object{{"productId", i % 7}, {"quantity", 1}}}},
                  {"status", "confirmed"},
                  {"createdAt", "2026-11-30T17:30:00.000Z"}})));
    }
    drain(io);
    for (const auto& r : results)
      REQUIRE((r->has_value() && (*r)->has_value()));
    s->close();
  }
  std::size_t blobs = 0, stored = 0;
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT typeof(batch), length(batch) FROM log", -1, &st,
                               nullptr) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const std::string type = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      blobs += type == "blob" ? 1 : 0;
      stored += static_cast<std::size_t>(sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  asio::io_context io;
  auto s = open_store("sqlite:" + path.string(), io);
  s->keep_change_log();
  const auto all = s->changes_after(0, 100);
  REQUIRE(all.size() == 30);
  std::string text;
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].lsn == i + 1);
    REQUIRE(all[i].ops.size() == 1);
    CHECK(s->get("orders", all[i].ops[0].id) == all[i].ops[0].doc);
    append_batch_json_text(text, all[i]);
  }
  CHECK(blobs >= 1);
  INFO("JSON " << text.size() << " bytes, stored " << stored);
  CHECK(stored * 3 < text.size());
}

TEST_CASE("replication store: batches applied together leave what applying them one by one does",
          "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  const bool logged = GENERATE(false, true);
  INFO(kind << (logged ? ", with a change log" : ", without a change log"));
  temp_dir dir_a, dir_b;
  asio::io_context io;
  const std::string history = "0123456789abcdef0123456789abcdef";
  // Documents written several times, deleted, and written again across the batches (an
  // unlogged store writes only each document's last version).
  const auto batches = [] {
    std::vector<committed_batch> out;
    const auto batch = [&out](std::vector<op> ops) {
      committed_batch b;
      b.lsn = out.size() + 1;
      b.ops = std::move(ops);
      out.push_back(std::move(b));
    };
    batch({{op::kind::put, "products", "1", {{"n", 1}}}, {op::kind::put, "orders", "5", {}}});
    batch({{op::kind::put, "products", "1", {{"n", 2}}}, {op::kind::put, "carts", "u", {}}});
    batch({{op::kind::del, "products", "1", {}}, {op::kind::put, "products", "2", {{"n", 7}}}});
    batch({{op::kind::put, "products", "1", {{"n", 3}}}, {op::kind::del, "carts", "u", {}}});
    batch({{op::kind::put, "orders", "9", {{"n", 9}}}, {op::kind::del, "orders", "5", {}}});
    batch({{op::kind::put, "carts", "v", {}}, {op::kind::del, "carts", "v", {}}});
    return out;
  }();
  auto together = open_store(spec_for(kind, dir_a), io);
  auto one_by_one = open_store(spec_for(kind, dir_b), io);
  if (logged) {
    together->keep_change_log();
    one_by_one->keep_change_log();
  }
  auto r = apply_batches(io, together, history, batches);
  REQUIRE(r.has_value());
  CHECK(*r == batches.size());
  for (const auto& b : batches)
    REQUIRE(apply_batches(io, one_by_one, history, {b}).has_value());
  CHECK(together->lsn() == batches.size());
  for (const std::string c : {"products", "orders", "carts"}) {
    INFO(c);
    const auto a = together->list(c);
    const auto b = one_by_one->list(c);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].id == b[i].id);
      CHECK(a[i].doc == b[i].doc);
    }
  }
  CHECK(together->get("products", "1")->at("n") == 3);
  CHECK_FALSE(together->get("orders", "5"));
  CHECK_FALSE(together->get("carts", "u"));
  if (logged) CHECK(together->changes_after(0, 100).size() == batches.size());
  // Ids seen in any batch stay taken, a deleted one too.
  const auto next =
      run_txn(io, together, [](txn& t) -> txn_result { return json::value(t.next_id("orders")); });
  CHECK(next.value().to_number<std::uint64_t>() > 9);
}

TEST_CASE("replication store: batches the sender holds get no change-log entry", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  INFO(kind);
  temp_dir dir;
  asio::io_context io;
  const std::string history = "0123456789abcdef0123456789abcdef";
  auto s = open_logged(kind, dir, io);
  const auto apply = [&](std::vector<committed_batch> batches, std::uint64_t held_upto) {
    std::vector<batch_ref> refs;
    for (auto& b : batches)
      refs.push_back(std::make_shared<const committed_batch>(std::move(b)));
    return run_co(io, s->apply_replicated(history, std::move(refs), held_upto));
  };
  // The sender holds 1 and 2 durably, not 3 and 4 (a mirror's primary mid-commit).
  auto r = apply(
      {put_batch(1, "1", 1), put_batch(2, "2", 2), put_batch(3, "1", 3), put_batch(4, "4", 4)}, 2);
  REQUIRE(r.has_value());
  CHECK(*r == 4);
  CHECK(s->change_log_first() == 3);
  auto logged = s->changes_after(2, 10);
  REQUIRE(logged.size() == 2);
  CHECK(logged[0].lsn == 3);
  CHECK(logged[1].ops.at(0).id == "4");
  // Everything held by the sender: nothing logged, the data as sent.
  r = apply({put_batch(5, "1", 5), put_batch(6, "1", 6)}, 6);
  REQUIRE(r.has_value());
  CHECK(*r == 6);
  CHECK(s->changes_after(4, 10).empty());
  CHECK(s->get("products", "1")->at("n") == 6);
  CHECK(s->get("products", "2")->at("n") == 2);
  CHECK(s->lsn() == 6);
}
