// store::open and the store every backend shares: a bounded queue, one writer thread that
// runs waiting transactions as a group with one durable commit, and completions posted
// back to the loop executor.
#include "node/store/store.hpp"

#include "node/store/backend.hpp"
#include "node/store/json_backend.hpp"
#include "node/store/memory_backend.hpp"
#include "node/store/sqlite_backend.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace node::store {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t queue_limit = 4096;
// How soon the writer retries, on its own, a group of announced batches whose commit failed.
constexpr std::chrono::milliseconds unsettled_retry{100};
// The change log keeps at most this many batches, whatever has been shipped.
constexpr std::uint64_t log_retention = 100000;
constexpr std::array<double, 12> fsync_bounds = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                 0.025,  0.05,   0.1,   0.25,   0.5,   1};

// A request waiting for the writer: a transaction function, replicated batches to apply,
// or a new history id; and how to resume its caller (called on the loop thread with the
// result and the LSN of its batch, 0 when none).
struct request {
  enum class kind { txn, replicate, new_history };
  kind type = kind::txn;
  txn_fn fn;
  std::string history;
  std::vector<batch_ref> batches;
  std::uint64_t held_upto = 0;  // replicate: batches the sender holds (no log entry here)
  std::function<void(core::result<json::value>, std::uint64_t)> complete;
};

// What the writer hands back to the loop thread for one group.
struct group_outcome {
  std::vector<request> requests;
  std::vector<core::result<json::value>> results;  // one per request
  std::vector<std::uint64_t> lsns;                 // one per request: its batch's LSN or 0
  std::vector<batch_ref> batches;                  // in LSN order
  bool announced = false;                          // the loop was told of them before the commit
  std::optional<std::string> history;              // a history id set by the group
  bool logged = false;                             // the batches went to the change log
  std::vector<std::pair<std::uint64_t, std::uint64_t>> unlogged;  // ...except these LSN ranges
  std::uint64_t pruned_upto = 0;                                  // log entries at or below it went
  bool failed = false;   // nothing of the group was committed
  bool durable = false;  // a durable commit was made
  double commit_seconds = 0;
};

// The txn a transaction function sees: the backend's writer side, with the writes recorded.
class recording_txn final : public txn {
 public:
  explicit recording_txn(backend& b) : backend_(b) {}

  std::optional<json::object> get(std::string_view collection, std::string_view id) override {
    return backend_.w_get(collection, id);
  }
  std::vector<entry> list(std::string_view collection) override {
    return backend_.w_list(collection);
  }
  void put(std::string_view collection, std::string_view id, json::object doc) override {
    backend_.w_put(collection, id, doc);
    ops_.push_back({op::kind::put, std::string(collection), std::string(id), std::move(doc)});
  }
  void del(std::string_view collection, std::string_view id) override {
    if (backend_.w_del(collection, id)) {
      ops_.push_back({op::kind::del, std::string(collection), std::string(id), {}});
    }
  }
  std::uint64_t next_id(std::string_view collection) override {
    used_ids_ = true;
    return backend_.w_next_id(collection);
  }

  std::vector<op>& ops() { return ops_; }
  bool used_ids() const { return used_ids_; }

 private:
  backend& backend_;
  std::vector<op> ops_;
  bool used_ids_ = false;
};

// Runs fn; an exception becomes an error value (503 for a backend failure, else 500).
core::result<json::value> call(const txn_fn& fn, txn& t) {
  try {
    return fn(t);
  } catch (const backend_failure& e) {
    return core::unavailable(std::string("store: ") + e.what());
  } catch (const core::error_exception& e) {
    return e.err;
  } catch (const std::exception& e) {
    return core::error{500, "internal_error", e.what(), {}};
  } catch (...) {
    return core::error{500, "internal_error", "transaction threw", {}};
  }
}

// The state shared by a store handle, its writer thread and its pending completions.
// Thread ownership: `backend_` splits into a loop side and a writer side (see backend);
// `stats_`, `healthy_`, `closed_` and the subscriber lists belong to the loop thread;
// `queue_` and `closing_` are guarded by `mutex_`; `writer_history_`, `pruned_upto_` and
// `unsettled_` belong to the writer thread; everything else is fixed at construction.
class store_core : public std::enable_shared_from_this<store_core> {
 public:
  store_core(std::unique_ptr<backend> b, asio::any_io_executor loop, std::string spec)
      : backend_(std::move(b)),
        loop_(std::move(loop)),
        spec_(std::move(spec)),
        writer_history_(backend_->history()) {
    stats_.fsync_bucket_bounds.assign(fsync_bounds.begin(), fsync_bounds.end());
    stats_.fsync_bucket_counts.assign(fsync_bounds.size(), 0);
  }
  ~store_core() { close(); }
  store_core(const store_core&) = delete;
  store_core& operator=(const store_core&) = delete;

  void start(bool background) {
    writer_ = std::thread([this, background] {
      if (background) run_in_background();
      run_writer();
    });
  }

  backend& data() { return *backend_; }
  const std::string& spec() const { return spec_; }
  store_stats stats() const { return stats_; }
  bool healthy() const { return healthy_ && !closed_; }

  // Why a new transaction cannot be queued now, if it cannot.
  std::optional<core::error> refusal() {
    if (closed_) {
      return core::unavailable("store " + spec_ + " is closed");
    }
    const std::lock_guard lock(mutex_);
    if (queue_.size() >= queue_limit) {
      return core::unavailable("store " + spec_ + " is overloaded");
    }
    return std::nullopt;
  }

  // Queues r; `handler` is later called on its own executor, which is kept busy until then.
  template <class Handler>
  void enqueue(request r, Handler handler) {
    auto work = asio::prefer(asio::get_associated_executor(handler, loop_),
                             asio::execution::outstanding_work.tracked);
    auto shared = std::make_shared<Handler>(std::move(handler));
    r.complete = [shared, work](core::result<json::value> res, std::uint64_t lsn) {
      asio::dispatch(
          work, [shared, res = std::move(res), lsn]() mutable { (*shared)(std::move(res), lsn); });
    };
    {
      const std::lock_guard lock(mutex_);
      queue_.push_back(std::move(r));
    }
    wake_.notify_one();
  }

  void keep_log() { log_ = true; }
  void prune_log(std::uint64_t upto) {
    if (upto > prune_upto_.load()) {
      prune_upto_ = upto;
    }
  }

  std::shared_ptr<void> subscribe(store::subscriber fn) {
    auto sub = std::make_shared<subscription>(subscription{std::move(fn), true});
    subscribers_.push_back(sub);
    return std::make_shared<subscription_token>(weak_from_this(), std::move(sub));
  }

  std::shared_ptr<void> subscribe_prepared(store::subscriber fn) {
    auto sub = std::make_shared<subscription>(subscription{std::move(fn), true});
    prepared_subscribers_.push_back(sub);
    announce_ = true;
    return std::make_shared<subscription_token>(weak_from_this(), std::move(sub));
  }

  void close() {
    closed_ = true;
    {
      const std::lock_guard lock(mutex_);
      closing_ = true;
    }
    wake_.notify_all();
    if (writer_.joinable()) {
      if (writer_.get_id() == std::this_thread::get_id()) {
        writer_.detach();
      } else {
        writer_.join();
      }
    }
  }

 private:
  struct subscription {
    store::subscriber fn;
    bool active;
  };
  // Unsubscribes when the last copy of the handle returned by subscribe() goes.
  struct subscription_token {
    subscription_token(std::weak_ptr<store_core> core, std::shared_ptr<subscription> sub)
        : core_(std::move(core)), sub_(std::move(sub)) {}
    ~subscription_token() {
      sub_->active = false;
      if (auto core = core_.lock()) {
        std::erase(core->subscribers_, sub_);
        std::erase(core->prepared_subscribers_, sub_);
      }
    }
    subscription_token(const subscription_token&) = delete;
    subscription_token& operator=(const subscription_token&) = delete;
    std::weak_ptr<store_core> core_;
    std::shared_ptr<subscription> sub_;
  };

  // Writer thread: takes everything queued as one group until closed and drained. While
  // announced batches wait to be committed again, runs a group every unsettled_retry even
  // with nothing queued.
  void run_writer() {
    for (;;) {
      std::vector<request> group;
      {
        std::unique_lock lock(mutex_);
        const auto ready = [this] { return closing_ || !queue_.empty(); };
        if (unsettled_.empty()) {
          wake_.wait(lock, ready);
        } else {
          wake_.wait_for(lock, unsettled_retry, ready);
        }
        if (queue_.empty() && (closing_ || unsettled_.empty())) {
          break;
        }
        group.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.end()));
        queue_.clear();
      }
      asio::post(loop_, [self = shared_from_this(), out = run_group(std::move(group))]() mutable {
        self->finish(std::move(out));
      });
      backend_->after_group();
    }
    backend_->close_writer();
  }

  // Writer thread: announced batches whose commit failed first, then each request in its
  // own savepoint; the group's batches are announced, then made durable with one commit.
  group_outcome run_group(std::vector<request> group) {
    group_outcome out;
    const std::size_t n = group.size();
    out.requests = std::move(group);
    out.results.reserve(n);
    out.lsns.assign(n, 0);
    const std::string history_before = writer_history_;
    const auto fail_all = [&](const std::string& why) {
      backend_->rollback_group();
      writer_history_ = history_before;
      if (out.announced) {
        // Someone may hold these batches under their LSNs: they are committed as they are
        // with the next group, never replaced.
        unsettled_ = out.batches;
      }
      out.failed = true;
      out.batches.clear();
      out.announced = false;
      out.history.reset();
      out.results.assign(n, core::unavailable(why));
      out.lsns.assign(n, 0);
    };
    auto base = backend_->begin_group();
    if (!base) {
      fail_all(base.error().message);
      return out;
    }
    std::uint64_t lsn = *base;
    bool dirty = false;
    out.logged = log_;
    try {
      if (out.logged) {
        const std::uint64_t floor =
            std::max(prune_upto_.load(), lsn > log_retention ? lsn - log_retention : 0);
        if (floor > pruned_upto_) {
          backend_->w_prune_log(floor);
          out.pruned_upto = floor;
          dirty = true;
        }
      }
      if (!unsettled_.empty()) {
        backend_->savepoint();
        for (const auto& b : unsettled_) {
          if (b->lsn <= lsn) {
            continue;
          }
          if (b->lsn != lsn + 1) {
            throw backend_failure("announced batch " + std::to_string(b->lsn) +
                                  " does not follow " + std::to_string(lsn));
          }
          write_batch(*b, out.logged);
          lsn = b->lsn;
          out.batches.push_back(b);
          dirty = true;
        }
        backend_->release();
      }
      for (std::size_t i = 0; i < n; ++i) {
        auto& r = out.requests[i];
        const std::size_t batches_before = out.batches.size();
        backend_->savepoint();
        core::result<json::value> result;
        if (r.type == request::kind::txn) {
          result = run_txn(r, lsn, out, dirty);
        } else if (r.type == request::kind::replicate) {
          result = replicate(r, lsn, out, dirty);
        } else {
          writer_history_ = make_history_id();
          backend_->w_set_history(writer_history_);
          out.history = writer_history_;
          backend_->release();
          dirty = true;
          result = json::value(writer_history_);
        }
        if (result && out.batches.size() > batches_before) {
          out.lsns[i] = lsn;
        }
        out.results.push_back(std::move(result));
      }
    } catch (const backend_failure& e) {
      fail_all(std::string("store: ") + e.what());
      return out;
    }
    if (announce_ && !out.batches.empty()) {
      out.announced = true;
      asio::post(loop_,
                 [self = shared_from_this(), batches = out.batches] { self->announce(batches); });
    }
    const auto started = std::chrono::steady_clock::now();
    if (auto committed = backend_->commit_group(dirty); !committed) {
      fail_all("store commit failed: " + committed.error().message);
      return out;
    }
    unsettled_.clear();
    if (out.pruned_upto > 0) {
      pruned_upto_ = out.pruned_upto;
    }
    out.durable = dirty;
    out.commit_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return out;
  }

  // Writer thread: one transaction function in its savepoint (opened by the caller),
  // which it releases or rolls back.
  core::result<json::value> run_txn(request& r, std::uint64_t& lsn, group_outcome& out,
                                    bool& dirty) {
    recording_txn t(*backend_);
    auto result = call(r.fn, t);
    dirty = dirty || t.used_ids();
    if (result && !t.ops().empty()) {
      try {
        committed_batch batch{lsn + 1, std::move(t.ops()), nullptr};
        backend_->w_set_lsn(batch.lsn);
        if (out.logged) {
          batch.text = backend_->w_log(batch);
        }
        out.batches.push_back(std::make_shared<const committed_batch>(std::move(batch)));
        ++lsn;
        dirty = true;
      } catch (const backend_failure& e) {
        result = core::unavailable(std::string("store: ") + e.what());
      }
    }
    if (!result) {
      backend_->rollback_to_savepoint();
    } else {
      backend_->release();
    }
    return result;
  }

  // Writer thread: replicated batches in their savepoint (opened by the caller). Checks
  // everything before writing, so a refusal writes nothing.
  core::result<json::value> replicate(request& r, std::uint64_t& lsn, group_outcome& out,
                                      bool& dirty) {
    const auto refuse = [&](core::error e) {
      backend_->release();
      return core::result<json::value>(std::move(e));
    };
    if (r.history != writer_history_ && lsn != 0) {
      return refuse(core::conflict(
          "history_mismatch", "this store has history " + writer_history_ + ", not " + r.history));
    }
    std::sort(r.batches.begin(), r.batches.end(),
              [](const batch_ref& a, const batch_ref& b) { return a->lsn < b->lsn; });
    std::uint64_t expect = lsn + 1;
    for (const auto& b : r.batches) {
      if (b->lsn > expect) {
        return refuse(core::conflict(
            "replication_gap",
            "batch " + std::to_string(b->lsn) + " does not follow " + std::to_string(expect - 1)));
      }
      if (b->lsn == expect) {
        ++expect;
      }
    }
    if (r.history != writer_history_) {
      writer_history_ = r.history;
      backend_->w_set_history(writer_history_);
      out.history = writer_history_;
      dirty = true;
    }
    std::vector<batch_ref> fresh;
    for (auto& b : r.batches) {
      if (b->lsn > (fresh.empty() ? lsn : fresh.back()->lsn)) fresh.push_back(std::move(b));
    }
    // A change log keeps what the sender may lose: nothing it already holds durably.
    const auto log_this = [&](const batch_ref& b) { return out.logged && b->lsn > r.held_upto; };
    if (!fresh.empty() && out.logged && fresh.front()->lsn <= r.held_upto) {
      out.unlogged.emplace_back(fresh.front()->lsn, std::min(fresh.back()->lsn, r.held_upto));
    }
    if (fresh.size() < 2 || log_this(fresh.back())) {
      for (const auto& b : fresh)
        write_batch(*b, log_this(b));
    } else {
      write_last_versions(fresh);
    }
    for (auto& b : fresh) {
      lsn = b->lsn;
      out.batches.push_back(std::move(b));
      dirty = true;
    }
    backend_->release();
    return json::value(lsn);
  }

  // Writer thread: batches that go in together, in one transaction, with no change log to
  // keep each of them: only each document's last write among them is stored, in key order.
  // The versions in between are never seen by anyone (an asynchronous secondary's request of
  // 256 orders over 100 products rewrote each product about 2.5 times).
  void write_last_versions(const std::vector<batch_ref>& batches) {
    std::map<std::pair<std::string_view, std::string_view>, const op*> last;
    for (const auto& b : batches) {
      for (const auto& o : b->ops) {
        last.insert_or_assign({o.collection, o.id}, &o);
        if (o.type == op::kind::put) {
          if (auto id = numeric_id(o.id)) backend_->w_keep_id(o.collection, *id);
        }
      }
    }
    for (const auto& [key, o] : last) {
      if (o->type == op::kind::put) {
        backend_->w_put(o->collection, o->id, o->doc);
      } else {
        backend_->w_del(o->collection, o->id);
      }
    }
    backend_->w_set_lsn(batches.back()->lsn);
  }

  // Writer thread: a batch decided elsewhere (replicated, or announced earlier) with its
  // LSN, and its log entry when the log is kept. Numeric ids raise the id counters.
  void write_batch(const committed_batch& b, bool logged) {
    for (const auto& o : b.ops) {
      if (o.type == op::kind::put) {
        backend_->w_put(o.collection, o.id, o.doc);
        if (auto id = numeric_id(o.id)) {
          backend_->w_keep_id(o.collection, *id);
        }
      } else {
        backend_->w_del(o.collection, o.id);
      }
    }
    backend_->w_set_lsn(b.lsn);
    if (logged) {
      backend_->w_log(b);
    }
  }

  // Loop thread: tells the prepared subscribers about a group's batches before its commit.
  void announce(const std::vector<batch_ref>& batches) {
    const auto subscribers = prepared_subscribers_;
    for (const auto& batch : batches) {
      for (const auto& s : subscribers) {
        if (s->active) {
          s->fn(batch);
        }
      }
    }
  }

  // A decimal id ("42"), as next_id makes them.
  static std::optional<std::uint64_t> numeric_id(const std::string& id) {
    if (id.empty() || id.size() > 18 || id[0] == '0') {
      return std::nullopt;
    }
    std::uint64_t v = 0;
    for (const char c : id) {
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
  }

  // Loop thread: publishes a group, then resumes its callers.
  void finish(group_outcome out) {
    if (out.failed) {
      ++stats_.commit_failures;
      healthy_ = false;
    } else if (out.durable) {
      ++stats_.groups_committed;
      ++stats_.fsync_count;
      stats_.fsync_sum_seconds += out.commit_seconds;
      for (std::size_t i = 0; i < fsync_bounds.size(); ++i) {
        if (out.commit_seconds <= fsync_bounds[i]) {
          ++stats_.fsync_bucket_counts[i];
        }
      }
      healthy_ = true;
    }
    stats_.batches_committed += out.batches.size();
    if (out.history) {
      backend_->apply_history(*out.history);
    }
    if (out.durable && out.pruned_upto > 0) {
      backend_->apply_prune(out.pruned_upto);
    }
    for (const auto& batch : out.batches) {
      backend_->apply(*batch);
      if (out.logged && std::none_of(out.unlogged.begin(), out.unlogged.end(), [&](const auto& r) {
            return batch->lsn >= r.first && batch->lsn <= r.second;
          })) {
        backend_->apply_log(*batch);
      }
      const auto subscribers = subscribers_;
      for (const auto& s : subscribers) {
        if (s->active) {
          s->fn(batch);
        }
      }
    }
    for (std::size_t i = 0; i < out.requests.size(); ++i) {
      out.requests[i].complete(std::move(out.results[i]), out.lsns[i]);
    }
  }

  const std::unique_ptr<backend> backend_;
  const asio::any_io_executor loop_;
  const std::string spec_;

  store_stats stats_;
  bool healthy_ = true;
  bool closed_ = false;
  std::vector<std::shared_ptr<subscription>> subscribers_;
  std::vector<std::shared_ptr<subscription>> prepared_subscribers_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<request> queue_;
  bool closing_ = false;

  std::thread writer_;

  // Change log: switched on once by the loop thread before writes; the floor below which
  // entries may go is raised by the loop thread and read by the writer.
  std::atomic<bool> log_{false};
  std::atomic<std::uint64_t> prune_upto_{0};
  // Set once by the loop thread when a prepared subscriber appears; read by the writer.
  std::atomic<bool> announce_{false};
  // Writer thread only (set before it starts).
  std::string writer_history_;
  std::uint64_t pruned_upto_ = 0;
  // Announced batches whose commit failed, in LSN order: the next group commits them first.
  std::vector<batch_ref> unsettled_;
};

// The store handed to callers; closing it (or dropping it) stops the writer, while
// completions already posted keep the shared state alive until they have run.
class store_handle final : public store {
 public:
  explicit store_handle(std::shared_ptr<store_core> core) : core_(std::move(core)) {}
  ~store_handle() override { core_->close(); }
  store_handle(const store_handle&) = delete;
  store_handle& operator=(const store_handle&) = delete;

  std::optional<json::object> get(std::string_view collection, std::string_view id) override {
    return core_->data().get(collection, id);
  }
  std::vector<entry> list(std::string_view collection) override {
    return core_->data().list(collection);
  }
  std::vector<entry> list_where(std::string_view collection, std::string_view field,
                                std::string_view value) override {
    return core_->data().list_where(collection, field, value);
  }
  std::uint64_t lsn() override { return core_->data().lsn(); }
  std::string history() override { return core_->data().history(); }

  asio::awaitable<core::result<json::value>> transact(txn_fn fn) override {
    request r;
    r.fn = std::move(fn);
    auto op = submit(std::move(r), nullptr);
    co_return co_await std::move(op);
  }

  asio::awaitable<core::result<json::value>> transact_info(txn_fn fn, commit_info& info) override {
    request r;
    r.fn = std::move(fn);
    auto op = submit(std::move(r), &info);
    co_return co_await std::move(op);
  }

  using store::apply_replicated;
  asio::awaitable<core::result<std::uint64_t>> apply_replicated(std::string history,
                                                                std::vector<batch_ref> batches,
                                                                std::uint64_t held_upto) override {
    request r;
    r.type = request::kind::replicate;
    r.history = std::move(history);
    r.batches = std::move(batches);
    r.held_upto = held_upto;
    auto op = submit(std::move(r), nullptr);
    auto res = co_await std::move(op);
    if (!res) {
      co_return res.error();
    }
    co_return res->to_number<std::uint64_t>();
  }

  asio::awaitable<core::result<std::string>> new_history() override {
    request r;
    r.type = request::kind::new_history;
    auto op = submit(std::move(r), nullptr);
    auto res = co_await std::move(op);
    if (!res) {
      co_return res.error();
    }
    co_return std::string(res->as_string());
  }

  void keep_change_log() override { core_->keep_log(); }
  std::vector<committed_batch> changes_after(std::uint64_t lsn, std::size_t max) override {
    return core_->data().log_after(lsn, max);
  }
  void prune_change_log(std::uint64_t lsn) override { core_->prune_log(lsn); }
  std::uint64_t change_log_first() override { return core_->data().log_first(); }

  std::shared_ptr<void> subscribe(subscriber fn) override {
    return core_->subscribe(std::move(fn));
  }
  std::shared_ptr<void> subscribe_prepared(subscriber fn) override {
    return core_->subscribe_prepared(std::move(fn));
  }
  store_stats stats() override { return core_->stats(); }
  std::string describe() override { return core_->spec(); }
  bool healthy() override { return core_->healthy(); }
  void close() override { core_->close(); }

 private:
  // Queues r and resumes with its result; fills *info when given and the write succeeded.
  asio::awaitable<core::result<json::value>> submit(request r, commit_info* info) {
    const std::shared_ptr<store_core> core = core_;
    if (auto refused = core->refusal()) {
      co_return *refused;
    }
    // Built outside the co_await expression: g++ 12 may destroy temporaries of a co_await
    // full-expression twice.
    auto completion = asio::async_initiate<const asio::use_awaitable_t<>&,
                                           void(core::result<json::value>, std::uint64_t)>(
        [core, r = std::move(r)](auto handler) mutable {
          core->enqueue(std::move(r), std::move(handler));
        },
        asio::use_awaitable);
    auto [result, lsn] = co_await std::move(completion);
    if (info && result) {
      info->lsn = lsn;
    }
    co_return std::move(result);
  }

  std::shared_ptr<store_core> core_;
};

core::error bad_spec(const std::string& spec, const std::string& why) {
  return core::bad_request("store spec '" + spec + "': " + why, "store");
}

}  // namespace

asio::awaitable<core::result<json::value>> store::transact_info(txn_fn fn, commit_info& info) {
  (void)info;
  auto op = transact(std::move(fn));
  co_return co_await std::move(op);
}

asio::awaitable<core::result<std::uint64_t>> store::apply_replicated(std::string history,
                                                                     std::vector<batch_ref> batches,
                                                                     std::uint64_t held_upto) {
  (void)history;
  (void)batches;
  (void)held_upto;
  co_return core::unavailable("store " + describe() + " cannot apply replicated batches");
}

asio::awaitable<core::result<std::uint64_t>> store::apply_replicated(
    std::string history, std::vector<batch_ref> batches) {
  auto op = apply_replicated(std::move(history), std::move(batches), 0);
  co_return co_await std::move(op);
}

asio::awaitable<core::result<std::uint64_t>> store::apply_replicated(
    std::string history, std::vector<committed_batch> batches) {
  std::vector<batch_ref> refs;
  refs.reserve(batches.size());
  for (auto& b : batches)
    refs.push_back(std::make_shared<const committed_batch>(std::move(b)));
  auto op = apply_replicated(std::move(history), std::move(refs));
  co_return co_await std::move(op);
}

asio::awaitable<core::result<std::string>> store::new_history() {
  co_return core::unavailable("store " + describe() + " cannot change its history");
}

std::vector<entry> store::list_where(std::string_view collection, std::string_view field,
                                     std::string_view value) {
  return where_string_field(list(collection), field, value);
}

core::result<std::shared_ptr<store>> store::open(std::string_view spec, asio::any_io_executor loop,
                                                 bool background) {
  const std::string text(spec);
  const auto colon = text.find(':');
  const std::string scheme = colon == std::string::npos ? text : text.substr(0, colon);
  const std::string rest = colon == std::string::npos ? std::string() : text.substr(colon + 1);
  std::unique_ptr<backend> b;
  if (colon != std::string::npos && scheme == "memory") {
    if (!rest.empty()) {
      return bad_spec(text, "memory: takes no path");
    }
    memory_backend::state fresh;
    fresh.history = make_history_id();
    b = std::make_unique<memory_backend>(std::move(fresh));
  } else if (colon != std::string::npos && (scheme == "json" || scheme == "sqlite")) {
    if (rest.empty()) {
      return bad_spec(text, "missing path after '" + scheme + ":'");
    }
    std::error_code ec;
    const auto path = std::filesystem::absolute(rest, ec);
    if (ec) {
      return bad_spec(text, ec.message());
    }
    core::result<void> opened;
    if (scheme == "json") {
      auto j = json_backend::open(path);
      opened = j ? core::result<void>() : core::result<void>(j.error());
      b = j ? std::move(*j) : nullptr;
    } else {
      auto s = sqlite_backend::open(path, background);
      opened = s ? core::result<void>() : core::result<void>(s.error());
      b = s ? std::move(*s) : nullptr;
    }
    if (!opened) {
      return core::unavailable("store '" + text + "': " + opened.error().message);
    }
  } else {
    return bad_spec(text, "unknown backend (expected memory:, json:PATH or sqlite:PATH)");
  }
  auto core = std::make_shared<store_core>(std::move(b), std::move(loop), text);
  core->start(background);
  return std::shared_ptr<store>(std::make_shared<store_handle>(std::move(core)));
}

}  // namespace node::store
