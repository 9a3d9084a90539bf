// Behaviour every store backend shares, run on memory:, json: and sqlite: stores.
#include "node/store/store.hpp"

#include "store_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

using namespace node::store;
using namespace node::store::test;

namespace {

std::vector<std::string> ids_of(const std::vector<entry>& entries) {
  std::vector<std::string> ids;
  for (const auto& e : entries) {
    ids.push_back(e.id);
  }
  return ids;
}

asio::awaitable<void> put_and_check(std::shared_ptr<store> s, std::string id,
                                    const std::vector<std::string>* published,
                                    std::shared_ptr<std::optional<bool>> seen_first) {
  const auto r = co_await s->transact(put_fn("items", id, {}));
  *seen_first =
      r.has_value() && std::find(published->begin(), published->end(), id) != published->end();
}

}  // namespace

TEST_CASE("store: committed writes are visible to reads and later transactions", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);

  CHECK(s->lsn() == 0);
  CHECK_FALSE(s->get("products", "1"));
  CHECK(s->list("products").empty());
  for (const char* id : {"10", "2", "9", "1"}) {
    REQUIRE(run_txn(io, s, put_fn("products", id, {{"name", id}, {"price", 1.5}})).has_value());
  }
  REQUIRE(s->get("products", "9"));
  CHECK(s->get("products", "9")->at("name") == "9");
  CHECK(s->get("products", "9")->at("price") == 1.5);
  CHECK(ids_of(s->list("products")) == std::vector<std::string>{"1", "2", "9", "10"});
  CHECK(s->list("orders").empty());
  CHECK(s->lsn() == 4);

  const auto seen = run_txn(io, s, [](txn& t) -> txn_result {
    t.put("products", "2", {{"name", "two"}});
    t.del("products", "10");
    t.del("products", "missing");
    json::array inside;
    for (const auto& e : t.list("products")) {
      inside.push_back(json::value(e.id));
    }
    return json::object{{"own", t.get("products", "2")->at("name")}, {"ids", inside}};
  });
  REQUIRE(seen.has_value());
  CHECK(seen->at("own") == "two");
  CHECK(seen->at("ids") == json::array{"1", "2", "9"});
  CHECK(s->get("products", "2")->at("name") == "two");
  CHECK_FALSE(s->get("products", "10"));
  CHECK(s->lsn() == 5);
}

TEST_CASE("store: a failing transaction commits nothing and returns its error", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  REQUIRE(run_txn(io, s, put_fn("products", "1", {{"stock", 5}})).has_value());

  const auto failed = run_txn(io, s, [](txn& t) -> txn_result {
    t.put("products", "1", {{"stock", 0}});
    t.put("orders", "1", {{"qty", 5}});
    t.del("products", "1");
    return node::core::conflict("insufficient_stock", "not enough");
  });
  REQUIRE(failed.has_error());
  CHECK(failed.error().status == 409);
  CHECK(failed.error().code == "insufficient_stock");

  const auto thrown = run_txn(io, s, [](txn& t) -> txn_result {
    t.put("orders", "2", {{"qty", 1}});
    throw std::runtime_error("bug");
  });
  REQUIRE(thrown.has_error());
  CHECK(thrown.error().status == 500);

  CHECK(s->get("products", "1")->at("stock") == 5);
  CHECK(s->list("orders").empty());
  CHECK(s->lsn() == 1);
  const auto inside = run_txn(io, s, [](txn& t) -> txn_result {
    return json::value(t.get("products", "1").has_value() && !t.get("orders", "1"));
  });
  REQUIRE(inside.has_value());
  CHECK(inside->as_bool());
  CHECK(s->stats().batches_committed == 1);
}

TEST_CASE("store: a batch across collections commits with one LSN", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  std::vector<committed_batch> seen;
  const auto sub = s->subscribe([&](const batch_ref& b) { seen.push_back(*b); });

  REQUIRE(run_txn(io, s, [](txn& t) -> txn_result {
            t.put("products", "1", {{"stock", 3}});
            t.put("orders", "7", {{"product", 1}});
            return json::value(nullptr);
          }).has_value());
  REQUIRE(run_txn(io, s, [](txn& t) -> txn_result {
            t.del("orders", "7");
            return json::value(nullptr);
          }).has_value());
  const auto read_only =
      run_txn(io, s, [](txn& t) -> txn_result { return json::value(t.list("products").size()); });
  REQUIRE(read_only.has_value());

  CHECK(s->lsn() == 2);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].lsn == 1);
  REQUIRE(seen[0].ops.size() == 2);
  CHECK(seen[0].ops[0].type == op::kind::put);
  CHECK(seen[0].ops[0].collection == "products");
  CHECK(seen[0].ops[1].collection == "orders");
  CHECK(seen[0].ops[1].doc.at("product") == 1);
  CHECK(seen[1].lsn == 2);
  REQUIRE(seen[1].ops.size() == 1);
  CHECK(seen[1].ops[0].type == op::kind::del);
  CHECK(seen[1].ops[0].id == "7");
}

TEST_CASE("store: LSN, data and history survive reopening", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  std::string history;
  {
    auto s = open_store(spec_for(kind, dir), io);
    history = s->history();
    CHECK(history.size() == 32);
    for (int i = 1; i <= 3; ++i) {
      REQUIRE(run_txn(io, s, put_fn("products", std::to_string(i), {{"n", i}})).has_value());
    }
    s->close();
  }
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  CHECK(s->history() == history);
  CHECK(s->lsn() == 3);
  CHECK(s->list("products").size() == 3);
  CHECK(s->get("products", "2")->at("n") == 2);
  REQUIRE(run_txn(io, s, put_fn("products", "4", {})).has_value());
  CHECK(s->lsn() == 4);
}

TEST_CASE("store: distinct stores get distinct histories", "[unit]") {
  asio::io_context io;
  auto a = open_store("memory:", io);
  auto b = open_store("memory:", io);
  CHECK(a->history() != b->history());
}

TEST_CASE("store: next_id never hands out an id twice", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  const auto create = [](txn& t) -> txn_result {
    const auto id = t.next_id("products");
    t.put("products", std::to_string(id), {{"id", id}});
    return json::value(id);
  };
  CHECK(run_txn(io, s, create).value() == 1);
  CHECK(run_txn(io, s, create).value() == 2);
  REQUIRE(run_txn(io, s, [](txn& t) -> txn_result {
            t.del("products", "2");
            return json::value(nullptr);
          }).has_value());
  const auto burnt = run_txn(io, s, [](txn& t) -> txn_result {
    CHECK(t.next_id("products") == 3);
    return node::core::bad_request("no");
  });
  CHECK(burnt.has_error());
  CHECK(run_txn(io, s, create).value() == 4);
  CHECK(run_txn(io, s, [](txn& t) -> txn_result {
          return json::value(t.next_id("orders"));
        }).value() == 1);
  if (kind != "memory") {
    s->close();
    s = open_store(spec_for(kind, dir), io);
  }
  CHECK(run_txn(io, s, create).value() == 5);
  CHECK(run_txn(io, s, [](txn& t) -> txn_result {
          return json::value(t.next_id("orders"));
        }).value() == 2);
}

TEST_CASE("store: subscribers see each batch in LSN order before its caller resumes", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  std::vector<std::uint64_t> lsns;
  std::vector<std::string> ids;
  auto sub = s->subscribe([&](const batch_ref& b) {
    lsns.push_back(b->lsn);
    ids.push_back(b->ops.at(0).id);
  });
  std::vector<std::shared_ptr<std::optional<bool>>> seen_first;
  for (int i = 0; i < 20; ++i) {
    seen_first.push_back(std::make_shared<std::optional<bool>>());
    asio::co_spawn(io, put_and_check(s, std::to_string(i), &ids, seen_first.back()), rethrow);
  }
  drain(io);
  REQUIRE(lsns.size() == 20);
  for (std::size_t i = 0; i < lsns.size(); ++i) {
    CHECK(lsns[i] == i + 1);
  }
  for (const auto& seen : seen_first) {
    REQUIRE(seen->has_value());
    CHECK(**seen);
  }

  sub.reset();
  REQUIRE(run_txn(io, s, put_fn("items", "x", {})).has_value());
  CHECK(lsns.size() == 20);
}

TEST_CASE("store: transactions waiting together commit as one group", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  // The first transaction holds the writer until every other one is queued, so that the
  // test does not depend on how the threads happen to be scheduled.
  std::promise<void> all_queued;
  std::shared_future<void> queued = all_queued.get_future().share();
  std::vector<std::shared_ptr<std::optional<txn_result>>> results;
  for (int i = 0; i < 64; ++i) {
    results.push_back(spawn_txn(io, s, [i, queued](txn& t) -> txn_result {
      if (i == 0) queued.wait();
      const auto id = t.next_id("orders");
      t.put("orders", std::to_string(id), {{"id", id}});
      return json::value(id);
    }));
  }
  // Runs after each spawned transaction has reached the store's queue (the loop runs
  // handlers in the order they were posted).
  asio::post(io, [&all_queued] { all_queued.set_value(); });
  drain(io);
  std::vector<std::uint64_t> ids;
  for (const auto& r : results) {
    REQUIRE(r->has_value());
    REQUIRE((*r)->has_value());
    ids.push_back((*r)->value().as_uint64());
  }
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  CHECK(s->list("orders").size() == 64);
  CHECK(s->lsn() == 64);

  const auto st = s->stats();
  CHECK(st.batches_committed == 64);
  CHECK(st.groups_committed >= 1);
  CHECK(st.groups_committed < st.batches_committed);
  CHECK(st.commit_failures == 0);
  CHECK(st.fsync_count == st.groups_committed);
  REQUIRE(st.fsync_bucket_bounds.size() == 12);
  REQUIRE(st.fsync_bucket_counts.size() == 12);
  CHECK(st.fsync_bucket_bounds.back() == 1.0);
  CHECK(std::is_sorted(st.fsync_bucket_counts.begin(), st.fsync_bucket_counts.end()));
  CHECK(st.fsync_bucket_counts.back() <= st.fsync_count);
  CHECK(st.fsync_sum_seconds >= 0);
}

TEST_CASE("store: close commits queued transactions, then transactions get 503", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  CHECK(s->healthy());
  std::vector<std::shared_ptr<std::optional<txn_result>>> results;
  for (int i = 0; i < 10; ++i) {
    results.push_back(spawn_txn(io, s, put_fn("items", std::to_string(i), {})));
  }
  io.poll();
  s->close();
  drain(io);
  for (const auto& r : results) {
    REQUIRE(r->has_value());
    CHECK((*r)->has_value());
  }
  CHECK(s->list("items").size() == 10);
  CHECK_FALSE(s->healthy());

  const auto refused = run_txn(io, s, put_fn("items", "late", {}));
  REQUIRE(refused.has_error());
  CHECK(refused.error().status == 503);
  CHECK_FALSE(s->get("items", "late"));
}

TEST_CASE("store: a bad spec is an open error", "[unit]") {
  asio::io_context io;
  for (const char* spec : {"foo:", "json:", "sqlite:", "memory:x", "memory", ""}) {
    const auto s = store::open(spec, io.get_executor());
    INFO(spec);
    REQUIRE(s.has_error());
    CHECK(s.error().message.find(std::string("'") + spec + "'") != std::string::npos);
  }
}

TEST_CASE("store: describe names the spec and parent directories are created", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  const std::string spec = kind + ":" + (dir.path() / "a" / "b" / "store").string();
  auto s = open_store(spec, io);
  CHECK(s->describe() == spec);
  CHECK(s->healthy());
  CHECK(std::filesystem::exists(dir.path() / "a" / "b" / "store"));
  CHECK(open_store("memory:", io)->describe() == "memory:");
}

TEST_CASE("store: a transaction sees the writes of those queued before it", "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  INFO(kind);
  const auto first = spawn_txn(io, s, put_fn("carts", "alice", {{"items", 1}}));
  const auto second = spawn_txn(io, s, [](txn& t) -> txn_result {
    auto cart = t.get("carts", "alice");
    if (!cart) {
      return node::core::not_found("no cart");
    }
    (*cart)["items"] = cart->at("items").as_int64() + 1;
    t.put("carts", "alice", *cart);
    return json::value(nullptr);
  });
  drain(io);
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  CHECK((*second)->has_value());
  CHECK(s->get("carts", "alice")->at("items") == 2);
}

TEST_CASE("store: a full queue answers 503 at once", "[unit]") {
  asio::io_context io;
  auto s = open_store("memory:", io);
  std::promise<void> started;
  std::promise<void> release;
  auto released = release.get_future().share();
  const auto blocker = spawn_txn(io, s, [&started, released](txn&) -> txn_result {
    started.set_value();
    released.wait();
    return json::value(nullptr);
  });
  io.poll();
  REQUIRE(started.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);

  std::vector<std::shared_ptr<std::optional<txn_result>>> results;
  for (int i = 0; i < 4097; ++i) {
    results.push_back(spawn_txn(io, s, put_fn("items", std::to_string(i), {})));
  }
  io.poll();
  REQUIRE(results.back()->has_value());
  CHECK((*results.back())->error().status == 503);
  release.set_value();
  drain(io);
  REQUIRE(blocker->has_value());
  CHECK((*blocker)->has_value());
  for (std::size_t i = 0; i + 1 < results.size(); ++i) {
    REQUIRE(results[i]->has_value());
    CHECK((*results[i])->has_value());
  }
  CHECK(s->list("items").size() == 4096);
}

TEST_CASE("store: list_where gives the documents whose field is that string, in list order",
          "[unit]") {
  const std::string kind = GENERATE(as<std::string>{}, "memory", "json", "sqlite");
  INFO(kind);
  temp_dir dir;
  asio::io_context io;
  auto s = open_store(spec_for(kind, dir), io);
  const std::vector<std::pair<std::string, json::object>> docs = {
      {"1", {{"userId", "ann"}, {"n", 1}}},
      {"2", {{"userId", "bob"}}},
      {"10", {{"userId", "ann"}, {"n", 10}}},
      {"3", {{"userId", 7}}},
      {"4", {{"user", "ann"}}},
      {"5", {{"nested", {{"userId", "ann"}}}}},
      {"6", {{"userId", "ann\"quoted"}}},
      {"7", {{"userId", "Ann"}}},
  };
  for (const auto& [id, doc] : docs)
    REQUIRE(run_txn(io, s, put_fn("orders", id, doc)).has_value());
  REQUIRE(run_txn(io, s, put_fn("carts", "9", {{"userId", "ann"}})).has_value());

  const auto ids = [](const std::vector<entry>& list) {
    std::vector<std::string> out;
    for (const auto& e : list)
      out.push_back(e.id);
    return out;
  };
  CHECK(ids(s->list_where("orders", "userId", "ann")) == std::vector<std::string>{"1", "10"});
  CHECK(s->list_where("orders", "userId", "ann").at(1).doc.at("n") == 10);
  CHECK(ids(s->list_where("orders", "userId", "ann\"quoted")) == std::vector<std::string>{"6"});
  CHECK(s->list_where("orders", "userId", "7").empty());
  CHECK(s->list_where("orders", "userId", "nobody").empty());
  CHECK(ids(s->list_where("carts", "userId", "ann")) == std::vector<std::string>{"9"});
  // What filtering list() gives, whatever the field.
  for (const std::string field : {"userId", "user", "n", "user id"}) {
    for (const std::string value : {"ann", "bob", "7", ""}) {
      std::vector<std::string> expected;
      for (const auto& e : s->list("orders")) {
        const auto* f = e.doc.if_contains(field);
        if (f && f->is_string() && f->get_string() == value) expected.push_back(e.id);
      }
      CHECK(ids(s->list_where("orders", field, value)) == expected);
    }
  }
}
