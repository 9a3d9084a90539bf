// The consensus role: its routes, the concurrent fan-out of a batch to every active model,
// and the one writer that applies batches and cluster changes in order and commits each group
// of them in one store transaction before the live state moves. Loop thread only.
#include "node/roles/consensus.hpp"

#include "node/consensus/cluster.hpp"
#include "node/consensus/coalesce.hpp"
#include "node/consensus/wire.hpp"
#include "node/core/log.hpp"
#include "node/shop/orders.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

namespace node::roles {
namespace {

namespace cs = node::consensus;
namespace json = boost::json;
using http::context;
using http::response;
using steady = std::chrono::steady_clock;

// The store's collections: one document per model (by id), the cluster's meta, and one
// ledger entry per seq.
constexpr const char* models_collection = "models";
constexpr const char* meta_collection = "cluster";
constexpr const char* meta_id = "meta";
constexpr const char* ledger_collection = "ledger";

// The time now as ISO 8601 with milliseconds (shop::iso8601_utc), formatted once per
// millisecond: batches under load come many to a millisecond. Loop thread only.
const std::string& now_iso() {
  static std::chrono::system_clock::time_point cached_ms{};
  static std::string cached;
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  if (ms != cached_ms || cached.empty()) {
    cached = shop::iso8601_utc(ms);
    cached_ms = ms;
  }
  return cached;
}

// A flag coroutines on the loop thread can wait for, optionally until a deadline.
class wakeup {
 public:
  explicit wakeup(const asio::any_io_executor& ex) : timer_(ex) {}
  void set() {
    set_ = true;
    timer_.cancel();
  }
  void reset() { set_ = false; }
  bool is_set() const { return set_; }
  // Returns once set() was called (at once if it already was) or `until` has passed.
  asio::awaitable<void> wait(steady::time_point until = steady::time_point::max()) {
    while (!set_ && steady::now() < until) {
      timer_.expires_at(until);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// Where a model is asked: host, port and the path before "/predict".
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string prefix;
};

// Splits "http://host[:port][/prefix]"; nullopt for anything else (https is not spoken).
std::optional<endpoint> parse_endpoint(std::string_view url) {
  if (!url.starts_with("http://")) return std::nullopt;
  url.remove_prefix(7);
  const auto slash = url.find('/');
  std::string authority(url.substr(0, slash));
  endpoint e;
  if (slash != std::string_view::npos) e.prefix = std::string(url.substr(slash));
  while (!e.prefix.empty() && e.prefix.back() == '/')
    e.prefix.pop_back();
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') authority += ":80";
  if (!http::split_host_port(authority, e.host, e.port)) return std::nullopt;
  return e;
}

// What the cluster-changing closures of one commit group changed.
struct changes {
  std::vector<cs::ledger_entry> entries;
  std::set<std::string> models;  // ids whose document is rewritten
};

// A change of the cluster: applied to the writer's working copy, it returns an error and
// leaves the copy as it was, or changes it and records what it changed.
using mutation = std::function<core::result<void>(cs::cluster&, changes&)>;

// One change waiting for the writer; `done` once its outcome is known.
struct pending_change {
  mutation apply;
  core::result<void> outcome;
  bool done = false;
};

// The fan-out of one batch: each model's reply lands in its slot; `done` is set when the
// last one has. A GET's row also carries its two forms for the models' lanes, and is shared
// by the asks that carry it: it outlives the GET when a model answers late.
struct fan_out {
  fan_out(const asio::any_io_executor& ex, std::size_t n) : replies(n), pending(n), done(ex) {}
  // The first reply for slot i counts; a later one (there is none today) is ignored.
  void land(std::size_t i, cs::model_reply reply) {
    if (replies[i]) return;
    replies[i] = std::move(reply);
    if (--pending == 0) done.set();
  }
  std::vector<std::optional<cs::model_reply>> replies;
  std::size_t pending;
  wakeup done;
  steady::time_point deadline;  // the waiter gives up on the models that have not answered
  std::string query;            // GET row alone: "sl=5.1&sw=3.5&pl=1.4&pw=0.2"
  std::string row_json;         // GET row among others: "[5.1,3.5,1.4,0.2]"
};

// One request to a model, its answer read as `instances` predictions: never throws; a
// failure is the reply's status (timeout, or error with the reason).
asio::awaitable<cs::model_reply> ask_once(http::client& client, http::client_request req,
                                          std::size_t instances) {
  cs::model_reply reply;
  try {
    auto op = client.send(std::move(req));
    auto r = co_await std::move(op);
    if (r) {
      reply = cs::parse_model_reply(r->status, r->body, instances);
    } else {
      reply.status =
          r.error().code == "timeout" ? cs::answer_status::timeout : cs::answer_status::error;
      reply.detail = r.error().message;
    }
  } catch (const std::exception& e) {
    reply = cs::model_reply{cs::answer_status::error, {}, {}, e.what()};
  }
  co_return reply;
}

// Asks one model; always fills its slot. Parameters by value: it may outlive the batch
// that spawned it by up to the model timeout.
asio::awaitable<void> ask_model(std::shared_ptr<fan_out> st, std::size_t i, http::client* client,
                                http::client_request req, std::size_t instances) {
  auto op = ask_once(*client, std::move(req), instances);
  auto reply = co_await std::move(op);
  st->land(i, std::move(reply));
}

// A GET's row in a model's lane: the GET's fan-out and the model's slot in it.
struct lane_row {
  std::shared_ptr<fan_out> batch;
  std::size_t slot = 0;
};

// One model endpoint (a URL) and its lane of GET rows (see cs::ask_lane).
struct model_lane {
  model_lane(std::optional<endpoint> e, cs::coalesce_limits l) : where(std::move(e)), lane(l) {}
  std::optional<endpoint> where;  // nullopt: a URL the client cannot ask
  cs::ask_lane<lane_row> lane;
};

// What one settled batch leaves for its answer.
struct batch_outcome {
  cs::batch_answers batch;  // what the writer settles
  cs::settlement settlement;
  std::vector<cs::model_view> views;  // the asked models after the batch
};

class consensus_role final : public role {
 public:
  consensus_role(const role_context& ctx, cs::cluster restored)
      : ctx_(ctx),
        cfg_(ctx.config.consensus),
        store_(ctx.store),
        live_(std::move(restored)),
        wake_(ctx.ex),
        started_(ctx.ex),
        settled_(ctx.ex) {
    settled_.expires_at(steady::time_point::max());
    declare_metrics();
  }

  void add_routes(http::router& r) override {
    using bhttp::verb;
    r.add(verb::get, "/predict", [this](context& c) { return predict_one(c); });
    r.add(verb::post, "/predict", [this](context& c) { return predict_batch(c); });
    r.add(verb::get, "/models", [this](context& c) { return list_models(c); });
    r.add(verb::post, "/models", [this](context& c) { return join(c); });
    r.add(verb::get, "/models/{id}", [this](context& c) { return get_model(c); });
    r.add(verb::delete_, "/models/{id}", [this](context& c) { return withdraw(c); });
    r.add(verb::get, "/balances", [this](context& c) { return balances(c); });
    r.add(verb::get, "/ledger", [this](context& c) { return ledger(c); });
  }

  void start() override {
    asio::co_spawn(ctx_.ex, run_writer(), asio::detached);
    asio::co_spawn(ctx_.ex, join_configured(), asio::detached);
  }

  void stop() override {
    stopping_ = true;
    wake_.set();
    started_.set();
  }

  bool health(core::json::object& out) override {
    out["models_active"] = live_.active_ids().size();
    out["models"] = live_.models().size();
    out["batches"] = live_.meta().batches;
    return true;
  }

 private:
  // --- the writer ------------------------------------------------------------------------

  // Queues a change for the writer and waits until it is committed (or failed). 503 when
  // the queue is full or the node is stopping.
  asio::awaitable<core::result<void>> submit(mutation fn) {
    if (stopping_) co_return core::unavailable("the node is stopping");
    if (queue_.size() >= cfg_.max_pending) {
      co_return core::unavailable("too many batches waiting to be committed; try again");
    }
    auto item = std::make_shared<pending_change>();
    item->apply = std::move(fn);
    queue_.push_back(item);
    wake_.set();
    // One timer for every waiter, rather than one each: the writer cancels it when a group
    // is done, and the waiters whose change is still queued wait again.
    while (!item->done) {
      co_await settled_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return item->outcome;
  }

  // Takes every queued change, applies them in order to a copy of the live cluster, commits
  // their models, meta and ledger entries in one transaction, and only then makes the copy
  // live. A failed commit fails every change of the group and leaves the live state alone.
  asio::awaitable<void> run_writer() {
    for (;;) {
      while (queue_.empty() && !stopping_) {
        wake_.reset();
        co_await wake_.wait();
      }
      if (stopping_) break;
      std::vector<std::shared_ptr<pending_change>> group(queue_.begin(), queue_.end());
      queue_.clear();
      cs::cluster working = live_;
      changes ch;
      bool any = false;
      for (auto& item : group) {
        item->outcome = item->apply(working, ch);
        any = any || item->outcome.has_value();
      }
      if (any) {
        auto op = store_->transact(commit_fn(working, ch));
        auto committed = co_await std::move(op);
        if (committed) {
          live_ = std::move(working);
          count_entries(ch.entries);
        } else {
          core::log::error("consensus: commit failed: " + committed.error().message);
          for (auto& item : group) {
            if (item->outcome) item->outcome = committed.error();
          }
        }
      }
      for (auto& item : group)
        item->done = true;
      settled_.cancel();
    }
    for (auto& item : queue_) {
      item->outcome = core::unavailable("the node is stopping");
      item->done = true;
    }
    queue_.clear();
    settled_.cancel();
  }

  // The transaction of one commit group: the changed models, the meta, the new entries.
  store::txn_fn commit_fn(const cs::cluster& working, const changes& ch) {
    std::vector<std::pair<std::string, json::object>> models;
    const auto& all = working.models();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (ch.models.count(all[i].id) == 0) continue;
      json::object doc = cs::to_json(all[i]);
      doc["order"] = i;
      models.emplace_back(all[i].id, std::move(doc));
    }
    std::vector<std::pair<std::string, json::object>> entries;
    entries.reserve(ch.entries.size());
    for (const auto& e : ch.entries)
      entries.emplace_back(std::to_string(e.seq), cs::to_json(e));
    return [models = std::move(models), entries = std::move(entries),
            meta = cs::to_json(working.meta())](store::txn& t) -> core::result<json::value> {
      for (const auto& [id, doc] : models)
        t.put(models_collection, id, doc);
      for (const auto& [seq, doc] : entries)
        t.put(ledger_collection, seq, doc);
      t.put(meta_collection, meta_id, meta);
      return json::value(nullptr);
    };
  }

  // Joins the --models not stored yet; a stored one keeps its state (its URL follows the
  // flag). Predictions wait for this.
  asio::awaitable<void> join_configured() {
    if (!cfg_.models.empty()) {
      auto op = submit([models = cfg_.models, deposit = cfg_.deposit, at = now_iso()](
                           cs::cluster& c, changes& ch) -> core::result<void> {
        for (const auto& [id, url] : models) {
          const cs::model_state* known = c.find(id);
          if (known == nullptr) {
            auto j = c.join(id, url, deposit, at);
            if (!j) {
              core::log::error("consensus: cannot join " + id + ": " + j.error().message);
              continue;
            }
            ch.entries.push_back(j->entry);
            ch.models.insert(id);
            core::log::info("consensus: joined " + id + " at " + url);
          } else if (known->url != url) {
            auto models_now = c.models();
            for (auto& m : models_now) {
              if (m.id == id) m.url = url;
            }
            auto moved = cs::cluster::restore(c.config(), std::move(models_now), c.meta());
            if (!moved) return moved.error();
            c = std::move(*moved);
            ch.models.insert(id);
            core::log::info("consensus: " + id + " now at " + url);
          }
        }
        return {};
      });
      auto r = co_await std::move(op);
      if (!r) core::log::error("consensus: joining --models failed: " + r.error().message);
    }
    started_.set();
  }

  // --- the fan-out -------------------------------------------------------------------------

  // The replies of `st` once every model answered or its deadline passed: a timeout for each
  // model that has not answered by then.
  std::vector<cs::model_reply> collect(fan_out& st, steady::time_point started) {
    fanout_seconds_->observe(std::chrono::duration<double>(steady::now() - started).count());
    std::vector<cs::model_reply> out;
    out.reserve(st.replies.size());
    for (auto& r : st.replies) {
      if (r) {
        out.push_back(std::move(*r));  // still engaged: a late reply for the slot is ignored
      } else {
        out.push_back(cs::model_reply{
            cs::answer_status::timeout,
            {},
            {},
            "no answer within " + std::to_string(cfg_.model_timeout.count()) + " ms"});
      }
    }
    return out;
  }

  // Asks each model concurrently for its predictions of the rows of `body`, a POST /predict
  // of `instances` rows. Returns one reply per model, a timeout for each that has not
  // answered within the model timeout.
  asio::awaitable<std::vector<cs::model_reply>> ask_all(std::vector<std::string> urls,
                                                        std::string body, std::size_t instances) {
    const auto started = steady::now();
    auto st = std::make_shared<fan_out>(ctx_.ex, urls.size());
    for (std::size_t i = 0; i < urls.size(); ++i) {
      const auto where = parse_endpoint(urls[i]);
      if (!where) {
        st->land(i, cs::model_reply{cs::answer_status::error, {}, {}, "URL not supported"});
        continue;
      }
      http::client_request req;
      req.method = bhttp::verb::post;
      req.host = where->host;
      req.port = where->port;
      req.target = where->prefix + "/predict";
      req.body = body;
      req.timeout = cfg_.model_timeout;
      asio::co_spawn(ctx_.ex, ask_model(st, i, &ctx_.client, std::move(req), instances),
                     asio::detached);
    }
    co_await st->done.wait(started + cfg_.model_timeout);
    co_return collect(*st, started);
  }

  // The lane of the model endpoint at `url`, made on first use. Lanes are never dropped:
  // there are at most as many as URLs ever registered.
  model_lane& lane_of(const std::string& url) {
    auto it = lanes_.find(url);
    if (it == lanes_.end()) {
      auto made = std::make_unique<model_lane>(parse_endpoint(url), cfg_.coalesce);
      it = lanes_.emplace(url, std::move(made)).first;
    }
    return *it->second;
  }

  // Puts a GET's row in the lane of each model, ids[m] (live) for slot m of `st`: sent at
  // once where the lane has a free slot, else waiting for the lane's next coalesced ask.
  void enter_lanes(const std::shared_ptr<fan_out>& st, const std::vector<std::string>& ids) {
    using admission = cs::ask_lane<lane_row>::admission;
    for (std::size_t m = 0; m < ids.size(); ++m) {
      model_lane& l = lane_of(live_.find(ids[m])->url);
      lane_row row{st, m};
      switch (l.lane.admit(row, st->deadline)) {
        case admission::send_now: {
          cs::coalesced_ask<lane_row> ask;
          ask.deadline = st->deadline;
          ask.rows.push_back(std::move(row));
          asio::co_spawn(ctx_.ex, run_lane(&l, std::move(ask)), asio::detached);
          break;
        }
        case admission::queued:
          break;
        case admission::refused:
          st->land(m,
                   cs::model_reply{
                       cs::answer_status::error, {}, {}, "too many rows waiting for this model"});
          break;
      }
    }
  }

  // Sends `ask` to the lane's model (lane_request), hands each row its answer, and goes on
  // with the next ask the lane gives until none waits. Holds one of the lane's in-flight
  // slots throughout.
  asio::awaitable<void> run_lane(model_lane* l, cs::coalesced_ask<lane_row> ask) {
    for (;;) {
      const std::size_t n = ask.rows.size();
      // Nothing may leave this coroutine by exception: the lane's slot must be given back. A
      // row whose answer could not be handed over (out of memory) ends at its deadline.
      try {
        cs::model_reply reply{cs::answer_status::error, {}, {}, "URL not supported"};
        if (l->where) {
          auto op = ask_once(ctx_.client, lane_request(*l->where, ask), n);
          reply = co_await std::move(op);
        }
        if (n == 1) {
          ask.rows[0].batch->land(ask.rows[0].slot, std::move(reply));
        } else {
          auto split = cs::split_reply(std::move(reply), n);
          for (std::size_t k = 0; k < n; ++k)
            ask.rows[k].batch->land(ask.rows[k].slot, std::move(split[k]));
        }
      } catch (const std::exception& e) {
        core::log::error(std::string("consensus: asking a model failed: ") + e.what());
      }
      ask = l->lane.finish(steady::now());
      if (ask.rows.empty()) co_return;
    }
  }

  // The request of a lane's ask: one row with the model's GET /predict (its cheaper path),
  // several with one POST /predict; it may take until the latest of its rows' deadlines.
  static http::client_request lane_request(const endpoint& where,
                                           const cs::coalesced_ask<lane_row>& ask) {
    http::client_request req;
    req.host = where.host;
    req.port = where.port;
    req.target = where.prefix + "/predict";
    if (ask.rows.size() == 1) {
      req.target += '?';
      req.target += ask.rows[0].batch->query;
    } else {
      req.method = bhttp::verb::post;
      cs::append_instances_body(req.body, ask.rows, [](const lane_row& r) -> const std::string& {
        return r.batch->row_json;
      });
    }
    req.timeout =
        std::max(std::chrono::milliseconds(1),
                 std::chrono::ceil<std::chrono::milliseconds>(ask.deadline - steady::now()));
    return req;
  }

  // The URLs of the models listed in `ids`.
  std::vector<std::string> urls_of(const std::vector<std::string>& ids) const {
    std::vector<std::string> urls;
    urls.reserve(ids.size());
    for (const auto& id : ids)
      urls.push_back(live_.find(id)->url);
    return urls;
  }

  // Asks every active model about the rows of a POST /predict, settles the batch and answers
  // with one object per instance.
  asio::awaitable<response> run_batch(cs::predict_request req) {
    co_await started_.wait();
    std::vector<std::string> ids = live_.active_ids();
    if (ids.empty()) co_return http::error_reply(core::unavailable("no active model"));
    const std::size_t n = req.instances.size();
    auto asked =
        ask_all(urls_of(ids), core::to_json(json::object{{"instances", req.instances}}), n);
    std::vector<cs::model_reply> replies = co_await std::move(asked);
    auto op = settle_batch(std::move(ids), std::move(replies), n, std::move(req.labels), false);
    co_return co_await std::move(op);
  }

  // Settles a batch of `n` instances once `replies` (one per model of `ids`) are in, and
  // answers with one object per instance, or, when `single` (a GET /predict), the object of
  // its one instance itself.
  asio::awaitable<response> settle_batch(std::vector<std::string> asked,
                                         std::vector<cs::model_reply> replies, std::size_t n,
                                         std::optional<std::vector<cs::label_ref>> given,
                                         bool single) {
    cs::learn_class_names(replies, class_names_);
    auto out = std::make_shared<batch_outcome>();
    cs::batch_answers& batch = out->batch;
    batch.models = std::move(asked);
    const std::vector<std::string>& ids = batch.models;
    batch.instances = n;
    batch.n_classes = cs::infer_classes(replies, class_names_.size());
    for (std::size_t m = 0; m < ids.size(); ++m) {
      auto& r = replies[m];
      if (r.status == cs::answer_status::ok) {
        batch.answers.push_back(std::move(r.answers));  // back in the reply once settled
      } else {
        batch.answers.emplace_back(n, cs::answer{r.status, -1, {}});
        ctx_.metrics.inc(r.status == cs::answer_status::timeout ? "consensus_model_timeouts_total"
                                                                : "consensus_model_errors_total",
                         {{"model", ids[m]}});
        core::log::debug("consensus: " + ids[m] + " " + std::string(cs::to_string(r.status)) +
                         ": " + r.detail);
      }
    }
    // Without any answer the batch is void whatever the labels say, and the classes they
    // are checked against are unknown: they are not read.
    const bool answered = std::any_of(replies.begin(), replies.end(), [](const auto& r) {
      return r.status == cs::answer_status::ok;
    });
    std::optional<std::vector<int>> labels;
    if (given && answered) {
      auto resolved = cs::resolve_labels(*given, class_names_);
      if (!resolved) co_return http::error_reply(resolved.error());
      labels = std::move(*resolved);
    }

    auto op = submit([labels = std::move(labels), at = now_iso(), out](
                         cs::cluster& c, changes& ch) -> core::result<void> {
      auto s = c.settle(out->batch, labels, at);
      if (!s) return s.error();
      // A model whose balance, weight and status did not move keeps its stored document.
      for (const auto& o : s->outcomes) {
        if (o.balance_after != o.balance_before || o.weight_after != o.weight_before || o.ejected) {
          ch.models.insert(o.id);
        }
      }
      ch.entries.insert(ch.entries.end(), s->entries.begin(), s->entries.end());
      out->settlement = std::move(*s);
      for (const auto& id : out->batch.models) {
        const cs::model_state* m = c.find(id);
        out->views.push_back(
            m != nullptr ? cs::model_view{m->id, cs::shown_weight(m->weight), m->balance, m->status}
                         : cs::model_view{id, 0, 0, cs::model_status::withdrawn});
      }
      return {};
    });
    auto committed = co_await std::move(op);
    if (!committed) co_return http::error_reply(committed.error());
    for (std::size_t m = 0; m < ids.size(); ++m) {
      if (replies[m].status == cs::answer_status::ok) {
        replies[m].answers = std::move(batch.answers[m]);
      }
    }

    const cs::settlement& s = out->settlement;
    if (s.void_batch) {
      batches_void_->inc();
      json::array statuses;
      for (std::size_t m = 0; m < ids.size(); ++m) {
        statuses.push_back(json::object{{"id", ids[m]},
                                        {"status", cs::to_string(replies[m].status)},
                                        {"detail", replies[m].detail}});
      }
      // The contract's error, with each model's status to show why.
      co_return http::json_reply(
          bhttp::status::service_unavailable,
          json::object{
              {"error", json::object{{"code", "unavailable"},
                                     {"message", "not enough models answered: " + s.void_reason}}},
              {"batch", s.batch},
              {"models", std::move(statuses)}});
    }
    batches_counted_->inc();
    if (single) {
      if (!s.consensus[0]) {
        co_return http::error_reply(core::unavailable("no model gave a usable prediction"));
      }
      std::string text;
      text.reserve(256 + 160 * ids.size());
      cs::append_instance_json(text, 0, s.consensus[0], out->views, replies, class_names_, s.batch);
      co_return http::json_text_reply(bhttp::status::ok, std::move(text));
    }
    json::array predictions;
    predictions.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      predictions.push_back(
          cs::instance_json(k, s.consensus[k], out->views, replies, class_names_));
    }
    co_return http::json_reply(json::object{{"predictions", std::move(predictions)},
                                            {"batch", s.batch},
                                            {"labelled", s.labelled},
                                            {"outcomes", cs::outcomes_json(s)}});
  }

  // --- routes ------------------------------------------------------------------------------

  // One Iris row: each active model is asked through its lane (coalesced with other GETs'
  // rows when the model is busy), and the row is settled as a batch of its own.
  asio::awaitable<response> predict_one(context& c) {
    // The query undecoded: only what is read is decoded, and only when it is encoded.
    auto row = cs::features_from_query(c.encoded_query());
    if (!row) co_return http::error_reply(row.error());
    co_await started_.wait();
    std::vector<std::string> ids = live_.active_ids();
    if (ids.empty()) co_return http::error_reply(core::unavailable("no active model"));
    const auto started = steady::now();
    auto st = std::make_shared<fan_out>(ctx_.ex, ids.size());
    st->deadline = started + cfg_.model_timeout;
    cs::append_iris_texts(*row, st->query, st->row_json);
    enter_lanes(st, ids);
    co_await st->done.wait(st->deadline);
    auto op = settle_batch(std::move(ids), collect(*st, started), 1, std::nullopt, true);
    co_return co_await std::move(op);
  }

  asio::awaitable<response> predict_batch(context& c) {
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    auto req = cs::parse_predict_body(*body, cfg_.max_instances);
    if (!req) co_return http::error_reply(req.error());
    auto op = run_batch(std::move(*req));
    co_return co_await std::move(op);
  }

  json::object model_json(const cs::model_state& m) const {
    json::object o = cs::to_json(m);
    o["weight"] = cs::shown_weight(m.weight);
    o["voting_power"] = live_.voting_power(m.id);
    return o;
  }

  asio::awaitable<response> list_models(context&) {
    json::array out;
    for (const auto& m : live_.models())
      out.push_back(model_json(m));
    co_return http::json_reply(out);
  }

  asio::awaitable<response> get_model(context& c) {
    const cs::model_state* m = live_.find(c.param("id"));
    if (m == nullptr) {
      co_return http::error_reply(core::not_found("no model " + std::string(c.param("id"))));
    }
    co_return http::json_reply(model_json(*m));
  }

  asio::awaitable<response> join(context& c) {
    if (auto ok = c.authorize(ctx_.config.admin_token); !ok) {
      co_return http::error_reply(ok.error());
    }
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    const auto* o = body->if_object();
    if (o == nullptr) {
      co_return http::error_reply(
          core::bad_request("the body must be an object {\"id\",\"url\",\"deposit\"}", "id"));
    }
    auto id = cs::detail::read_string(*o, "id");
    if (!id) co_return http::error_reply(id.error());
    auto url = cs::detail::read_string(*o, "url");
    if (!url) co_return http::error_reply(url.error());
    double deposit = cfg_.deposit;
    if (o->contains("deposit")) {
      auto d = cs::detail::read_number(*o, "deposit");
      if (!d) co_return http::error_reply(d.error());
      deposit = *d;
    }
    if (url->starts_with("https://")) {
      co_return http::error_reply(
          core::bad_request("url must be http://host:port (https is not supported)", "url"));
    }
    auto joined = std::make_shared<cs::model_state>();
    auto op = submit([id = *id, url = *url, deposit, at = now_iso(), joined](
                         cs::cluster& cl, changes& ch) -> core::result<void> {
      auto j = cl.join(id, url, deposit, at);
      if (!j) return j.error();
      ch.entries.push_back(j->entry);
      ch.models.insert(id);
      *joined = j->model;
      return {};
    });
    auto r = co_await std::move(op);
    if (!r) co_return http::error_reply(r.error());
    core::log::info("consensus: " + joined->id + " joined at " + joined->url);
    const cs::model_state* now = live_.find(joined->id);
    co_return http::json_reply(bhttp::status::created, model_json(now ? *now : *joined));
  }

  asio::awaitable<response> withdraw(context& c) {
    if (auto ok = c.authorize(ctx_.config.admin_token); !ok) {
      co_return http::error_reply(ok.error());
    }
    auto refunded = std::make_shared<cs::micros>(0);
    auto op = submit([id = std::string(c.param("id")), at = now_iso(), refunded](
                         cs::cluster& cl, changes& ch) -> core::result<void> {
      auto w = cl.withdraw(id, at);
      if (!w) return w.error();
      ch.entries.push_back(w->entry);
      ch.models.insert(id);
      *refunded = w->refunded;
      return {};
    });
    auto r = co_await std::move(op);
    if (!r) co_return http::error_reply(r.error());
    core::log::info("consensus: " + std::string(c.param("id")) + " withdrew");
    co_return http::json_reply(
        json::object{{"id", c.param("id")}, {"refunded", cs::to_coins(*refunded)}});
  }

  asio::awaitable<response> balances(context&) {
    json::object out = cs::balances_json(live_);
    for (auto& [id, entry] : out) {
      auto& w = entry.as_object()["weight"];
      w = cs::shown_weight(w.as_double());
    }
    co_return http::json_reply(out);
  }

  // Every ledger entry in seq order; ?model=ID keeps that model's.
  asio::awaitable<response> ledger(context& c) {
    const auto model = c.query("model");
    json::array out;
    for (auto& e : model ? store_->list_where(ledger_collection, "model", *model)
                         : store_->list(ledger_collection)) {
      out.push_back(std::move(e.doc));
    }
    co_return http::json_reply(out);
  }

  // --- metrics -----------------------------------------------------------------------------

  void declare_metrics() {
    using kind = core::metrics::kind;
    auto& m = ctx_.metrics;
    m.declare("consensus_model_balance", kind::gauge, "A model's balance, in coins.");
    m.declare("consensus_model_weight", kind::gauge, "A model's weight, in [0, 1].");
    m.declare("consensus_model_active", kind::gauge, "1 while a model is active (asked, votes).");
    m.declare("consensus_pool", kind::gauge, "Coins in the reward pool.");
    m.declare("consensus_batches_total", kind::counter,
              "Batches settled: counted, or void (too few models answered).");
    m.declare("consensus_slashes_total", kind::counter, "Slashes of a model's stake.");
    m.declare("consensus_inactivity_penalties_total", kind::counter,
              "Penalties of a model for not answering.");
    m.declare("consensus_ejections_total", kind::counter, "Models ejected (balance too low).");
    m.declare("consensus_model_timeouts_total", kind::counter,
              "Prediction requests a model did not answer in time.");
    m.declare("consensus_model_errors_total", kind::counter,
              "Prediction requests a model failed (refused, bad status, malformed answer).");
    m.declare("consensus_fanout_seconds", kind::histogram,
              "Time from asking the models to having every answer (or the timeout).");
    fanout_seconds_ = m.histogram("consensus_fanout_seconds", {});
    batches_counted_ = m.counter("consensus_batches_total", {{"result", "counted"}});
    batches_void_ = m.counter("consensus_batches_total", {{"result", "void"}});
    m.add_collector([this](core::metrics& mm) {
      mm.clear("consensus_model_balance");
      mm.clear("consensus_model_weight");
      mm.clear("consensus_model_active");
      for (const auto& model : live_.models()) {
        const core::labels l{{"model", model.id}};
        mm.set("consensus_model_balance", l, cs::to_coins(model.balance));
        mm.set("consensus_model_weight", l, model.weight);
        mm.set("consensus_model_active", l, model.status == cs::model_status::active ? 1 : 0);
      }
      mm.set("consensus_pool", {}, cs::to_coins(live_.pool()));
    });
  }

  void count_entries(const std::vector<cs::ledger_entry>& entries) {
    for (const auto& e : entries) {
      const core::labels l{{"model", e.model}};
      switch (e.kind) {
        case cs::entry_kind::slash:
          ctx_.metrics.inc("consensus_slashes_total", l);
          break;
        case cs::entry_kind::inactivity:
          ctx_.metrics.inc("consensus_inactivity_penalties_total", l);
          break;
        case cs::entry_kind::ejection:
          ctx_.metrics.inc("consensus_ejections_total", l);
          core::log::warn("consensus: " + e.model + " ejected: " + e.reason);
          break;
        default:
          break;
      }
    }
  }

  role_context ctx_;
  const app::consensus_config& cfg_;
  std::shared_ptr<store::store> store_;
  cs::cluster live_;  // the committed state; only the writer replaces it
  std::deque<std::shared_ptr<pending_change>> queue_;
  wakeup wake_;                 // set when the queue has work or the node stops
  wakeup started_;              // set once --models are joined
  asio::steady_timer settled_;  // never expires; cancelled when queued changes are done
  bool stopping_ = false;
  std::vector<std::string> class_names_;  // by class index, as the models name them
  // Each model endpoint's lane of GET rows, by URL.
  std::unordered_map<std::string, std::unique_ptr<model_lane>> lanes_;
  // The hot series, looked up once (declare_metrics).
  std::optional<core::metrics::histogram_ref> fanout_seconds_;
  std::optional<core::metrics::counter_ref> batches_counted_;
  std::optional<core::metrics::counter_ref> batches_void_;
};

// Rebuilds the cluster from the store and checks that each model's ledger adds up to its
// balance.
core::result<cs::cluster> restore(store::store& st, const cs::params& p) {
  std::vector<std::pair<std::uint64_t, cs::model_state>> ordered;
  for (const auto& e : st.list(models_collection)) {
    auto m = cs::model_state_from_json(e.doc);
    if (!m) {
      return core::unavailable("stored model " + e.id + " is unreadable: " + m.error().message);
    }
    auto order = cs::detail::read_count(e.doc, "order");
    ordered.emplace_back(order ? *order : ordered.size(), std::move(*m));
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<cs::model_state> models;
  models.reserve(ordered.size());
  for (auto& [order, m] : ordered)
    models.push_back(std::move(m));

  cs::cluster_meta meta;
  if (auto doc = st.get(meta_collection, meta_id)) {
    auto m = cs::cluster_meta_from_json(*doc);
    if (!m) return core::unavailable("stored cluster meta is unreadable: " + m.error().message);
    meta = *m;
  }
  std::map<std::string, cs::micros> sums;
  for (const auto& e : st.list(ledger_collection)) {
    auto entry = cs::ledger_entry_from_json(e.doc);
    if (!entry) {
      return core::unavailable("ledger entry " + e.id + " is unreadable: " + entry.error().message);
    }
    if (entry->seq > meta.last_seq) {
      return core::unavailable("ledger entry " + e.id + " is beyond the stored last_seq");
    }
    sums[entry->model] += entry->amount;
  }
  for (const auto& m : models) {
    if (sums[m.id] != m.balance) {
      return core::unavailable("the ledger of model " + m.id + " adds up to " +
                               std::to_string(cs::to_coins(sums[m.id])) + ", its balance is " +
                               std::to_string(cs::to_coins(m.balance)));
    }
  }
  auto c = cs::cluster::restore(p, std::move(models), meta);
  if (!c) return core::unavailable("stored cluster is unusable: " + c.error().message);
  return c;
}

}  // namespace

core::result<std::unique_ptr<role>> make_consensus(const role_context& ctx) {
  if (!ctx.store) return core::unavailable("the consensus role needs a store (--store)");
  auto c = restore(*ctx.store, ctx.config.consensus.params);
  if (!c) return c.error();
  if (!c->models().empty()) {
    core::log::info("consensus: restored " + std::to_string(c->models().size()) + " models, " +
                    std::to_string(c->meta().batches) + " batches from " + ctx.store->describe());
  }
  return std::unique_ptr<role>(std::make_unique<consensus_role>(ctx, std::move(*c)));
}

}  // namespace node::roles
