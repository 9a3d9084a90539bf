// The replicating store against a scripted target on a fresh io_context: batches go to the
// mirror before they are durable here, a mirror found ahead at start is rolled forward
// before any write (or is an alarm when it cannot be), and a replica takes only the
// latest fenced primary session, and batches are shipped from memory while it holds them.
#include "node/replication/replicator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace node::replication;
namespace asio = boost::asio;
namespace store = node::store;
namespace json = boost::json;
using txn_result = node::core::result<json::value>;

namespace {

// What the scripted target holds; shared with the test.
struct mirror_state {
  std::string history;
  std::uint64_t lsn = 0;
  std::map<std::uint64_t, store::committed_batch> log;
  bool down = false;
  std::vector<std::uint64_t> durable_at_send;  // the primary's durable LSN per request
  std::chrono::milliseconds delay{0};          // how long each apply takes to answer
};

class scripted_target final : public target {
 public:
  explicit scripted_target(std::shared_ptr<mirror_state> s) : s_(std::move(s)) {}

  asio::awaitable<answer> position(std::string history) override {
    if (s_->down) co_return answer{};
    if (s_->lsn > 0 && s_->history != history) {
      co_return answer{answer::kind::other_history, s_->lsn, s_->history};
    }
    co_return answer{answer::kind::applied, s_->lsn, history};
  }

  asio::awaitable<answer> apply(std::string history, std::vector<store::batch_ref> batches,
                                std::uint64_t durable_lsn) override {
    if (s_->down) co_return answer{};
    if (s_->delay.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, s_->delay);
      co_await t.async_wait(asio::use_awaitable);
    }
    s_->durable_at_send.push_back(durable_lsn);
    s_->history = history;
    for (const auto& b : batches) {
      if (b->lsn > s_->lsn + 1) co_return answer{answer::kind::gap, s_->lsn, history};
      if (b->lsn == s_->lsn + 1) {
        s_->lsn = b->lsn;
        s_->log[b->lsn] = *b;
      }
    }
    co_return answer{answer::kind::applied, s_->lsn, history};
  }

  asio::awaitable<node::core::result<std::vector<store::committed_batch>>> changes_after(
      std::string history, std::uint64_t lsn, std::size_t max) override {
    if (s_->down) co_return node::core::unavailable("down");
    if (history != s_->history) co_return node::core::conflict("history_mismatch", "other");
    std::vector<store::committed_batch> out;
    for (auto it = s_->log.upper_bound(lsn);
         it != s_->log.end() && it->first == lsn + out.size() + 1 && out.size() < max; ++it) {
      out.push_back(it->second);
    }
    co_return out;
  }

  std::string describe() const override { return "scripted"; }

 private:
  std::shared_ptr<mirror_state> s_;
};

// A store that passes everything to another and counts the change-log reads.
class counting_store final : public store::store {
 public:
  explicit counting_store(std::shared_ptr<node::store::store> inner) : inner_(std::move(inner)) {}
  int log_reads = 0;

  std::optional<json::object> get(std::string_view c, std::string_view id) override {
    return inner_->get(c, id);
  }
  std::vector<node::store::entry> list(std::string_view c) override { return inner_->list(c); }
  std::uint64_t lsn() override { return inner_->lsn(); }
  std::string history() override { return inner_->history(); }
  asio::awaitable<txn_result> transact(node::store::txn_fn fn) override {
    auto op = inner_->transact(std::move(fn));
    co_return co_await std::move(op);
  }
  asio::awaitable<txn_result> transact_info(node::store::txn_fn fn,
                                            node::store::commit_info& info) override {
    auto op = inner_->transact_info(std::move(fn), info);
    co_return co_await std::move(op);
  }
  void keep_change_log() override { inner_->keep_change_log(); }
  std::vector<node::store::committed_batch> changes_after(std::uint64_t lsn,
                                                          std::size_t max) override {
    ++log_reads;
    return inner_->changes_after(lsn, max);
  }
  void prune_change_log(std::uint64_t lsn) override { inner_->prune_change_log(lsn); }
  std::uint64_t change_log_first() override { return inner_->change_log_first(); }
  std::shared_ptr<void> subscribe(subscriber fn) override { return inner_->subscribe(fn); }
  std::shared_ptr<void> subscribe_prepared(subscriber fn) override {
    return inner_->subscribe_prepared(fn);
  }
  node::store::store_stats stats() override { return inner_->stats(); }
  std::string describe() override { return inner_->describe(); }
  bool healthy() override { return inner_->healthy(); }
  void close() override { inner_->close(); }

 private:
  std::shared_ptr<node::store::store> inner_;
};

store::committed_batch put_batch(std::uint64_t lsn, std::string id) {
  store::committed_batch b;
  b.lsn = lsn;
  b.ops.push_back({store::op::kind::put, "products", id, {{"id", id}}});
  return b;
}

txn_result put(store::txn& t, const std::string& id) {
  t.put("products", id, {{"id", id}});
  return json::value(nullptr);
}

template <class T>
asio::awaitable<void> await_into(asio::awaitable<T> a, std::shared_ptr<std::optional<T>> slot) {
  *slot = co_await std::move(a);
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
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

template <class T>
std::shared_ptr<std::optional<T>> spawn(asio::io_context& io, asio::awaitable<T> a) {
  auto slot = std::make_shared<std::optional<T>>();
  asio::co_spawn(io, await_into(std::move(a), slot), rethrow);
  return slot;
}

template <class T>
T run(asio::io_context& io, asio::awaitable<T> a) {
  auto slot = spawn(io, std::move(a));
  REQUIRE(run_until(io, [&] { return slot->has_value(); }));
  return std::move(**slot);
}

std::shared_ptr<store::store> open(const std::string& spec, asio::io_context& io) {
  auto s = store::store::open(spec, io.get_executor());
  REQUIRE(s.has_value());
  return *s;
}

std::shared_ptr<replicator> make_sync(asio::io_context& io, std::shared_ptr<store::store> inner,
                                      std::shared_ptr<mirror_state> m) {
  replicator_options opts;
  opts.mode = replicator_mode::sync;
  opts.mirror_timeout = std::chrono::milliseconds(2000);
  return std::make_shared<replicator>(io.get_executor(), std::move(inner),
                                      std::make_unique<scripted_target>(std::move(m)), opts);
}

// Stops the shipper and lets it finish on io.
void shut(asio::io_context& io, const std::shared_ptr<replicator>& rep) {
  rep->close();
  io.run_for(std::chrono::milliseconds(50));
}

std::string temp_path() {
  std::string pattern = "/tmp/node-replicator-test-XXXXXX";
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

}  // namespace

TEST_CASE("replicator: a batch reaches the mirror while its local commit is still to come",
          "[unit]") {
  const auto dir = temp_path();
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto inner = open("json:" + dir + "/primary.json", io);
  auto m = std::make_shared<mirror_state>();
  auto rep = make_sync(io, inner, m);
  rep->start();
  REQUIRE(run_until(io, [&] { return rep->status().at("in_sync") == true; }));

  // The local commit fails (a directory where the json file is written): the mirror got
  // the batch anyway, because it is sent once decided, not once durable.
  const auto blocker = dir + "/primary.json.tmp";
  std::filesystem::create_directory(blocker);
  auto r = run(io, rep->transact([](store::txn& t) { return put(t, "1"); }));
  CHECK_FALSE(r.has_value());
  REQUIRE(run_until(io, [&] { return m->lsn == 1; }));
  REQUIRE_FALSE(m->durable_at_send.empty());
  CHECK(m->durable_at_send.back() == 0);
  CHECK(inner->lsn() == 0);

  // The store commits that batch as it was, under the same LSN; then writes go on.
  std::filesystem::remove(blocker);
  REQUIRE(run_until(io, [&] { return inner->lsn() == 1; }));
  store::commit_info info;
  auto next = run(io, rep->transact_info([](store::txn& t) { return put(t, "2"); }, info));
  REQUIRE(next.has_value());
  CHECK(info.lsn == 2);
  CHECK(m->lsn == 2);
  CHECK(m->log.at(1).ops.at(0).id == "1");
  CHECK(rep->status().at("in_sync") == true);
  shut(io, rep);
  inner->close();
  std::filesystem::remove_all(dir);
}

TEST_CASE("replicator: a mirror ahead at start is rolled forward before any write", "[unit]") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto inner = open("memory:", io);
  const std::string history(32, 'e');
  REQUIRE(run(io, inner->apply_replicated(history, {put_batch(1, "1"), put_batch(2, "2")}))
              .has_value());
  auto m = std::make_shared<mirror_state>();
  m->history = history;
  m->lsn = 4;
  for (std::uint64_t l = 1; l <= 4; ++l)
    m->log[l] = put_batch(l, std::to_string(l));

  auto rep = make_sync(io, inner, m);
  rep->start();
  // A write arriving meanwhile waits for the roll forward, then follows it.
  store::commit_info info;
  auto w = spawn(io, rep->transact_info([](store::txn& t) { return put(t, "5"); }, info));
  REQUIRE(run_until(io, [&] { return w->has_value(); }));
  REQUIRE((*w)->has_value());
  CHECK(info.lsn == 5);
  CHECK(inner->get("products", "3"));
  CHECK(inner->get("products", "4"));
  const auto s = rep->status();
  CHECK(s.at("rolled_forward") == 2);
  CHECK(s.at("reconciled") == true);
  CHECK(m->lsn == 5);
  shut(io, rep);
}

TEST_CASE("replicator: a mirror ahead that cannot hand the batches back stops writes", "[unit]") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto inner = open("memory:", io);
  const std::string history(32, 'f');
  REQUIRE(run(io, inner->apply_replicated(history, {put_batch(1, "1")})).has_value());
  auto m = std::make_shared<mirror_state>();
  m->history = history;
  m->lsn = 3;
  m->log[3] = put_batch(3, "3");  // batch 2 is no longer in its log

  auto rep = make_sync(io, inner, m);
  rep->start();
  REQUIRE(run_until(io, [&] { return rep->status().at("state") == "diverged"; }));
  const auto s = rep->status();
  CHECK(s.at("alarm").as_string().find("LSN 2") != std::string::npos);
  CHECK(s.at("accepting_writes") == false);
  auto w = run(io, rep->transact([](store::txn& t) { return put(t, "9"); }));
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error().status == 503);
  CHECK(inner->lsn() == 1);
  shut(io, rep);
}

TEST_CASE("replicator: a replica takes only the latest fenced primary session", "[unit]") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto inner = open("memory:", io);
  replicator_options opts;
  opts.mode = replicator_mode::replica;
  auto rep = std::make_shared<replicator>(io.get_executor(), inner, nullptr, opts);
  const std::string history(32, 'a');
  const auto send = [&](std::string session, bool fence, std::uint64_t durable,
                        std::vector<store::committed_batch> batches) {
    std::vector<store::batch_ref> refs;
    for (auto& b : batches)
      refs.push_back(std::make_shared<const store::committed_batch>(std::move(b)));
    return run(io,
               rep->apply_stream({history, std::move(session), fence, durable, std::move(refs)}));
  };
  REQUIRE(send("old", true, 0, {put_batch(1, "1")}).has_value());
  REQUIRE(send("old", false, 0, {put_batch(2, "2")}).has_value());
  auto taken = send("new", true, 0, {});
  REQUIRE(taken.has_value());
  CHECK(*taken == 2);
  auto stale = send("old", false, 0, {put_batch(3, "3")});
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().code == "stale_session");
  CHECK(inner->lsn() == 2);
  REQUIRE(send("new", false, 0, {put_batch(3, "3")}).has_value());
  // The replica keeps what it applied until the primary says it holds it durably.
  CHECK(rep->changes_after(0, 10).size() == 3);
  REQUIRE(send("new", false, 2, {put_batch(4, "4")}).has_value());
  REQUIRE(send("new", false, 2, {}).has_value());
  CHECK(rep->change_log_first() == 3);
  CHECK(rep->changes_after(2, 10).size() == 2);
}

TEST_CASE("replicator: async ships before its interval once its in-memory queue is full",
          "[unit]") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto inner = open("memory:", io);
  auto m = std::make_shared<mirror_state>();
  replicator_options opts;
  opts.mode = replicator_mode::async;
  opts.interval = std::chrono::hours(1);
  auto rep = std::make_shared<replicator>(io.get_executor(), inner,
                                          std::make_unique<scripted_target>(m), opts);
  rep->start();
  // 8191 writes (one short of the queue's bound) wait for the interval.
  const auto write_all = [&](int from, int to) {
    std::vector<std::shared_ptr<std::optional<txn_result>>> done;
    for (int i = from; i < to; ++i) {
      const std::string id = std::to_string(i);
      done.push_back(spawn(io, rep->transact([id](store::txn& t) { return put(t, id); })));
    }
    REQUIRE(run_until(io, [&] {
      return std::all_of(done.begin(), done.end(), [](const auto& d) { return d->has_value(); });
    }));
  };
  write_all(0, 8191);
  REQUIRE(inner->lsn() == 8191);
  io.poll();
  CHECK(m->lsn == 0);
  CHECK(rep->status().at("lag_entries") == 8191);
  // The next fills the queue: everything goes now.
  write_all(8191, 8192);
  REQUIRE(run_until(io, [&] { return m->lsn == 8192; }));
  CHECK(m->log.at(8192).ops.at(0).id == "8191");
  shut(io, rep);
  inner->close();
}

TEST_CASE("replicator: mirroring sends what the store announced without reading its log back",
          "[unit]") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto inner = std::make_shared<counting_store>(open("memory:", io));
  auto m = std::make_shared<mirror_state>();
  // Each mirror request takes a while, so groups commit here while one is in flight.
  m->delay = std::chrono::milliseconds(5);
  auto rep = make_sync(io, inner, m);
  rep->start();
  REQUIRE(run_until(io, [&] { return rep->status().at("in_sync") == true; }));
  std::vector<std::shared_ptr<std::optional<txn_result>>> done;
  for (int i = 0; i < 300; ++i) {
    const std::string id = std::to_string(i);
    done.push_back(spawn(io, rep->transact([id](store::txn& t) { return put(t, id); })));
  }
  REQUIRE(run_until(io, [&] {
    return std::all_of(done.begin(), done.end(), [](const auto& d) { return d->has_value(); });
  }));
  for (const auto& d : done)
    CHECK(d->value().has_value());
  CHECK(m->lsn == 300);
  CHECK(m->durable_at_send.size() < 300);  // requests carried several batches
  CHECK(inner->log_reads == 0);
  shut(io, rep);
  inner->close();
}
