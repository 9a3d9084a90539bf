// The SQLite backend: schema and connection setup, cached statements for loop-thread
// reads, and the writer's BEGIN IMMEDIATE / SAVEPOINT / COMMIT groups.
#include "node/store/sqlite_backend.hpp"

#include "node/core/json.hpp"
#include "node/store/sqlite_page_cache.hpp"

#include <lz4.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

namespace node::store {

namespace json = boost::json;

namespace {

// Before any connection opens: SQLite takes a page cache only before it initializes.
[[maybe_unused]] const bool page_cache_wrapped = sqlite_page_cache::install();

constexpr int busy_timeout_ms = 5000;
// How long a connection that finds the database locked by another process sleeps before it
// tries again (see on_busy).
constexpr int busy_retry_us = 100;
// WAL pages after which the checkpointer copies the WAL into the database (SQLite's own
// automatic checkpoint default).
constexpr int checkpoint_pages = 1000;
// WAL pages after which the writer finishes the checkpointer's work itself, between two
// groups (about 16 MB of WAL), so that the WAL starts over from its beginning.
constexpr int finish_pages = 4 * checkpoint_pages;
// Cached single-document reads at most; the cache is dropped whole when full.
constexpr std::size_t max_cached_docs = 16384;
// A list is cached only when the collection has at most this many documents.
constexpr std::size_t max_cached_list = 4096;

// The busy handler of every connection: another process holds the lock this one needs (a
// second node on the same file). SQLite's own handler (sqlite3_busy_timeout) sleeps 1, 2, 5
// ... up to 100 ms between tries, so a process whose writer commits group after group, with
// gaps of microseconds, kept the other one waiting for seconds. Trying again every 100 us
// catches those gaps; it gives up after busy_timeout_ms as before.
int on_busy(void*, int tries) {
  if (static_cast<long long>(tries) * busy_retry_us >= busy_timeout_ms * 1000LL) return 0;
  std::this_thread::sleep_for(std::chrono::microseconds(busy_retry_us));
  return 1;
}

std::string sqlite_message(sqlite3* db, int rc) {
  return db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw backend_failure(std::string(sql) + ": " + message);
  }
}

// True when `table` has a column named `column`.
bool has_column(sqlite3* db, const char* table, const char* column) {
  return sqlite3_table_column_metadata(db, nullptr, table, column, nullptr, nullptr, nullptr,
                                       nullptr, nullptr) == SQLITE_OK;
}

// One use of a cached statement: binds parameters, steps, and resets it when done.
class use {
 public:
  explicit use(sqlite3_stmt* s) : s_(s) {}
  ~use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  use(const use&) = delete;
  use& operator=(const use&) = delete;

  // The text must outlive this object.
  use& text(int index, std::string_view v) {
    check(sqlite3_bind_text(s_, index, v.data() ? v.data() : "", static_cast<int>(v.size()),
                            SQLITE_STATIC));
    return *this;
  }
  use& blob(int index, std::string_view v) {
    check(sqlite3_bind_blob(s_, index, v.data() ? v.data() : "", static_cast<int>(v.size()),
                            SQLITE_STATIC));
    return *this;
  }
  use& integer(int index, std::uint64_t v) {
    check(sqlite3_bind_int64(s_, index, static_cast<sqlite3_int64>(v)));
    return *this;
  }
  // True for a row, false when done.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc != SQLITE_DONE) {
      check(rc);
    }
    return false;
  }
  std::string_view column_text(int index) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, index));
    return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s_, index))};
  }
  bool column_is_blob(int index) { return sqlite3_column_type(s_, index) == SQLITE_BLOB; }
  std::string_view column_blob(int index) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, index));
    return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s_, index))};
  }
  std::uint64_t column_integer(int index) {
    return static_cast<std::uint64_t>(sqlite3_column_int64(s_, index));
  }
  int changes() { return sqlite3_changes(sqlite3_db_handle(s_)); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) {
      throw backend_failure(sqlite3_errmsg(sqlite3_db_handle(s_)));
    }
  }
  sqlite3_stmt* s_;
};

// A change-log row's `batch` is the group's JSON text compressed with LZ4 (a BLOB: the text's
// length as 4 bytes, little-endian, then one LZ4 block). The JSON of a group of orders
// shrinks about 6.5 times, and the row then fits in its b-tree page instead of two overflow
// pages: a third less written per order on async-replica (docs/storage.md). Rows written
// before, and any row LZ4 cannot shrink, are the JSON text itself (a TEXT value).
constexpr std::size_t log_row_header = 4;
constexpr std::size_t max_log_text = std::size_t{1} << 30;

// Sets `row` to `text` compressed; false when the text is better stored as it is.
bool compress_log_row(std::string_view text, std::string& row) {
  if (text.size() > max_log_text) return false;
  const int bound = LZ4_compressBound(static_cast<int>(text.size()));
  row.resize(log_row_header + static_cast<std::size_t>(bound));
  const auto n = static_cast<std::uint32_t>(text.size());
  for (std::size_t i = 0; i < log_row_header; ++i)
    row[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  const int written = LZ4_compress_default(text.data(), row.data() + log_row_header,
                                           static_cast<int>(text.size()), bound);
  if (written <= 0 || log_row_header + static_cast<std::size_t>(written) >= text.size()) {
    return false;
  }
  row.resize(log_row_header + static_cast<std::size_t>(written));
  return true;
}

// The JSON text of a compressed row; nothing when the row is damaged.
std::optional<std::string> decompress_log_row(std::string_view row) {
  if (row.size() < log_row_header) return std::nullopt;
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < log_row_header; ++i)
    n |= static_cast<std::uint32_t>(static_cast<unsigned char>(row[i])) << (8 * i);
  if (n > max_log_text) return std::nullopt;
  std::string text(n, '\0');
  const int got =
      LZ4_decompress_safe(row.data() + log_row_header, text.data(),
                          static_cast<int>(row.size() - log_row_header), static_cast<int>(n));
  if (got < 0 || static_cast<std::uint32_t>(got) != n) return std::nullopt;
  return text;
}

json::object parse_body(std::string_view body, std::string_view collection, std::string_view id) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    throw backend_failure("corrupt document " + std::string(collection) + "/" + std::string(id));
  }
  return std::move(v.get_object());
}

std::optional<json::object> get_doc(sqlite3_stmt* s, std::string_view collection,
                                    std::string_view id) {
  use u(s);
  u.text(1, collection).text(2, id);
  if (!u.step()) {
    return std::nullopt;
  }
  return parse_body(u.column_text(0), collection, id);
}

// The (id, body) rows of a bound statement over `collection`, parsed.
std::vector<entry> read_entries(use& u, std::string_view collection) {
  std::vector<entry> out;
  while (u.step()) {
    std::string id(u.column_text(0));
    auto doc = parse_body(u.column_text(1), collection, id);
    out.push_back({std::move(id), std::move(doc)});
  }
  return out;
}

std::vector<entry> list_docs(sqlite3_stmt* s, std::string_view collection) {
  use u(s);
  u.text(1, collection);
  return read_entries(u, collection);
}

std::uint64_t read_lsn(sqlite3_stmt* s) {
  use u(s);
  if (!u.step()) {
    throw backend_failure("meta has no lsn");
  }
  return u.column_integer(0);
}

constexpr const char* schema_sql =
    "CREATE TABLE IF NOT EXISTS docs(collection TEXT NOT NULL, id TEXT NOT NULL, "
    "body TEXT NOT NULL, PRIMARY KEY(collection, id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value NOT NULL);"
    "CREATE TABLE IF NOT EXISTS next_ids(collection TEXT PRIMARY KEY, last INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log(lsn INTEGER PRIMARY KEY, batch TEXT NOT NULL, first INTEGER);";

}  // namespace

wal_watch::~wal_watch() {
  if (map_ != nullptr) ::munmap(const_cast<unsigned char*>(map_), header_size);
  if (fd_ >= 0) ::close(fd_);
}

bool wal_watch::open(const std::filesystem::path& db_path) {
  const std::string shm = db_path.string() + "-shm";
  fd_ = ::open(shm.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return false;
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size < static_cast<off_t>(header_size)) return false;
  void* m = ::mmap(nullptr, header_size, PROT_READ, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) return false;
  map_ = static_cast<const unsigned char*>(m);
  return true;
}

bool wal_watch::unchanged() {
  if (map_ == nullptr) return false;
  std::array<unsigned char, header_size> now{};
  std::memcpy(now.data(), map_, header_size);
  // A writer updates one copy after the other: unequal copies mean "being written".
  if (std::memcmp(now.data(), now.data() + header_size / 2, header_size / 2) != 0) {
    seen_ = false;
    return false;
  }
  if (seen_ && now == last_) return true;
  last_ = now;
  seen_ = true;
  return false;
}

void sqlite_backend::db_closer::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

void sqlite_backend::stmt_closer::operator()(sqlite3_stmt* s) const noexcept {
  sqlite3_finalize(s);
}

// The writer's connection does not checkpoint on its own (its WAL hook replaces SQLite's
// automatic checkpoint): a checkpoint copies and syncs up to checkpoint_pages pages, which
// would hold every commit queued behind it. The hook wakes this thread instead, which runs
// PASSIVE checkpoints on its own connection while the writer goes on appending to the WAL.
// SQLite starts the WAL over from its beginning only at a write that finds every frame
// copied, which a writer committing without pause never does: the checkpointer copies up to
// where the WAL ended when it began, and the writer has appended more by then. So past
// finish_pages the checkpointer is left alone and the writer itself, between two groups
// (after_group), runs a RESTART checkpoint: it takes the write lock (at once, unless another
// process writes the same file), copies what the checkpointer has not (a few hundred pages,
// one fsync) and leaves the WAL to start over at the next write, also when another process
// is writing it. (A RESTART from this thread instead held the checkpoint lock while waiting
// for the writer, then held every commit while it copied everything since.)
class sqlite_backend::checkpointer {
 public:
  checkpointer(db_ptr db, bool background)
      : db_(std::move(db)), thread_([this, background] {
          if (background) run_in_background();
          run();
        }) {}
  ~checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  void wake() {
    {
      std::lock_guard lock(mutex_);
      if (due_) return;
      due_ = true;
    }
    cv_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return due_ || stop_; });
      if (stop_) return;
      due_ = false;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  db_ptr db_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool due_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

int sqlite_backend::on_wal(void* self, sqlite3*, const char*, int pages) {
  auto* b = static_cast<sqlite_backend*>(self);
  // Fewer pages than at the last commit: the WAL started over.
  if (pages < b->wal_pages_) b->finish_at_ = finish_pages;
  b->wal_pages_ = pages;
  // Past finish_at_ the writer finishes the job (after_group): a new pass of the checkpointer
  // would only keep it busy (SQLITE_BUSY).
  if (pages >= checkpoint_pages && pages < b->finish_at_ && b->checkpointer_) {
    b->checkpointer_->wake();
  }
  return SQLITE_OK;
}

sqlite_backend::~sqlite_backend() {
  checkpointer_.reset();  // before the connections it checkpoints for close
}

core::result<std::unique_ptr<sqlite_backend>> sqlite_backend::open(
    const std::filesystem::path& path, bool background) {
  if (auto made = create_parent_directories(path); !made) {
    return made.error();
  }
  std::unique_ptr<sqlite_backend> b(new sqlite_backend());
  const auto connect = [&](int flags) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_ptr db(raw);
    if (rc != SQLITE_OK) {
      throw backend_failure(sqlite_message(raw, rc));
    }
    sqlite3_busy_handler(raw, &on_busy, nullptr);
    return db;
  };
  const auto prepare = [](sqlite3* db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    stmt_ptr s(raw);
    if (rc != SQLITE_OK) {
      throw backend_failure(std::string(sql) + ": " + sqlite3_errmsg(db));
    }
    return s;
  };
  const auto prepare_reads = [&](sqlite3* db, statements& st) {
    st.get = prepare(db, "SELECT body FROM docs WHERE collection = ?1 AND id = ?2");
    st.list = prepare(db,
                      "SELECT id, body FROM docs WHERE collection = ?1 "
                      "ORDER BY length(CAST(id AS BLOB)), id");
    st.list_where = prepare(db,
                            "SELECT id, body FROM docs WHERE collection = ?1 AND "
                            "json_extract(body, ?2) = ?3 ORDER BY length(CAST(id AS BLOB)), id");
    st.lsn = prepare(db, "SELECT value FROM meta WHERE key = 'lsn'");
    st.log_after = prepare(db, "SELECT batch FROM log WHERE lsn > ?1 ORDER BY lsn LIMIT ?2");
    st.log_first = prepare(db, "SELECT coalesce(first, lsn) FROM log ORDER BY lsn LIMIT 1");
  };
  try {
    b->write_ = connect(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3* w = b->write_.get();
    {
      auto mode = prepare(w, "PRAGMA journal_mode=WAL");
      use u(mode.get());
      if (!u.step() || u.column_text(0) != "wal") {
        throw backend_failure("cannot switch to WAL journal mode");
      }
    }
    exec(w, "PRAGMA synchronous=FULL");
    exec(w, "PRAGMA journal_size_limit=67108864");
    exec(w, "PRAGMA temp_store=MEMORY");
    exec(w, "PRAGMA cache_size=-16384");
    // Debian builds SQLite with secure_delete on: every page a delete frees (a pruned change
    // log row's overflow pages) is zeroed and written again. FAST still zeroes deleted
    // content inside the pages a write touches anyway, without the extra page writes.
    exec(w, "PRAGMA secure_delete=FAST");
    exec(w, "BEGIN IMMEDIATE");
    try {
      exec(w, schema_sql);
      // Change logs written before a log row could hold several batches lack `first`.
      if (!has_column(w, "log", "first")) exec(w, "ALTER TABLE log ADD COLUMN first INTEGER");
      auto init = prepare(w,
                          "INSERT OR IGNORE INTO meta(key, value) VALUES('lsn', 0), "
                          "('history', ?1)");
      const std::string fresh = make_history_id();
      use(init.get()).text(1, fresh).step();
      exec(w, "COMMIT");
    } catch (const backend_failure&) {
      sqlite3_exec(w, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    prepare_reads(w, b->w_);
    b->w_.put = prepare(w, "INSERT OR REPLACE INTO docs(collection, id, body) VALUES(?1, ?2, ?3)");
    b->w_.del = prepare(w, "DELETE FROM docs WHERE collection = ?1 AND id = ?2");
    b->w_.last_id = prepare(w, "SELECT last FROM next_ids WHERE collection = ?1");
    b->w_.keep_id =
        prepare(w,
                "INSERT INTO next_ids(collection, last) VALUES(?1, ?2) "
                "ON CONFLICT(collection) DO UPDATE SET last = max(last, excluded.last)");
    b->w_.set_lsn = prepare(w, "UPDATE meta SET value = ?1 WHERE key = 'lsn'");
    b->w_.set_history = prepare(w, "UPDATE meta SET value = ?1 WHERE key = 'history'");
    b->w_.log = prepare(w, "INSERT OR REPLACE INTO log(lsn, batch, first) VALUES(?1, ?2, ?3)");
    b->w_.prune = prepare(w, "DELETE FROM log WHERE lsn <= ?1");
    b->w_.begin = prepare(w, "BEGIN IMMEDIATE");
    b->w_.commit = prepare(w, "COMMIT");
    b->w_.savepoint = prepare(w, "SAVEPOINT txn");
    b->w_.release = prepare(w, "RELEASE txn");
    b->w_.rollback_to = prepare(w, "ROLLBACK TO txn");

    {
      auto ck = connect(SQLITE_OPEN_READWRITE);
      exec(ck.get(), "PRAGMA journal_mode=WAL");  // opens the database: checkpoints need it
      b->checkpointer_ = std::make_unique<checkpointer>(std::move(ck), background);
    }
    b->finish_at_ = finish_pages;
    sqlite3_wal_hook(w, &sqlite_backend::on_wal, b.get());

    b->read_ = connect(SQLITE_OPEN_READWRITE);
    exec(b->read_.get(), "PRAGMA query_only=ON");
    prepare_reads(b->read_.get(), b->r_);
    auto history = prepare(b->read_.get(), "SELECT value FROM meta WHERE key = 'history'");
    use u(history.get());
    if (!u.step()) {
      throw backend_failure("meta has no history");
    }
    b->history_ = std::string(u.column_text(0));
    // The -shm file exists once a connection has used the WAL database.
    b->watch_.open(path);
  } catch (const backend_failure& e) {
    return core::unavailable("cannot open " + path.string() + ": " + e.what());
  }
  return b;
}

bool sqlite_backend::cache_valid() {
  if (watch_.unchanged()) return true;
  doc_cache_.clear();
  list_cache_.clear();
  lsn_cache_.reset();
  return false;
}

std::optional<json::object> sqlite_backend::get(std::string_view collection, std::string_view id) {
  // The header is looked at before the database is read: a commit after the look makes
  // the next look fail, so a cached document is never older than the last look.
  const bool valid = cache_valid();
  std::string key;
  key.reserve(collection.size() + 1 + id.size());
  key.append(collection).append(1, '\0').append(id);
  if (valid) {
    auto it = doc_cache_.find(key);
    if (it != doc_cache_.end()) return it->second;
  }
  auto doc = get_doc(r_.get.get(), collection, id);
  if (doc_cache_.size() >= max_cached_docs) doc_cache_.clear();
  doc_cache_.emplace(std::move(key), doc);
  return doc;
}

std::vector<entry> sqlite_backend::list(std::string_view collection) {
  const bool valid = cache_valid();
  std::string key(collection);
  if (valid) {
    auto it = list_cache_.find(key);
    if (it != list_cache_.end()) return it->second;
  }
  auto out = list_docs(r_.list.get(), collection);
  if (out.size() <= max_cached_list) list_cache_[std::move(key)] = out;
  return out;
}

std::vector<entry> sqlite_backend::list_where(std::string_view collection, std::string_view field,
                                              std::string_view value) {
  // A JSON path names the field; only plain names are put in one. json_extract gives a JSON
  // string as its text and a number as a number, which never equals a text; an array or
  // object would compare as its JSON text (the callers' values never look like one).
  const bool plain = !field.empty() && std::all_of(field.begin(), field.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
  if (!plain) return backend::list_where(collection, field, value);
  const std::string path = "$." + std::string(field);
  use u(r_.list_where.get());
  u.text(1, collection).text(2, path).text(3, value);
  return read_entries(u, collection);
}

std::uint64_t sqlite_backend::lsn() {
  if (cache_valid() && lsn_cache_) return *lsn_cache_;
  lsn_cache_ = read_lsn(r_.lsn.get());
  return *lsn_cache_;
}

std::string sqlite_backend::history() {
  return history_;
}

void sqlite_backend::apply(const committed_batch&) {
  doc_cache_.clear();
  list_cache_.clear();
  lsn_cache_.reset();
}

void sqlite_backend::apply_history(const std::string& history) {
  history_ = history;
}

std::vector<committed_batch> sqlite_backend::log_after(std::uint64_t lsn, std::size_t max) {
  // A row holds one group's batches: one batch object, or an array of them keyed by the
  // last one's LSN. The first row found may begin at or below `lsn`.
  std::vector<committed_batch> out;
  use u(r_.log_after.get());
  u.integer(1, lsn).integer(2, max);
  const auto take = [&](const json::value& v) {
    auto batch = batch_from_json(v);
    if (!batch) {
      throw backend_failure("corrupt change log entry after " + std::to_string(lsn + out.size()));
    }
    if (batch->lsn <= lsn + out.size()) return true;       // before what was asked for
    if (batch->lsn != lsn + out.size() + 1) return false;  // a gap: the list ends here
    out.push_back(std::move(*batch));
    return out.size() < max;
  };
  while (out.size() < max && u.step()) {
    json::error_code ec;
    json::value v;
    if (u.column_is_blob(0)) {
      const auto text = decompress_log_row(u.column_blob(0));
      if (!text) {
        throw backend_failure("corrupt change log entry after " + std::to_string(lsn + out.size()));
      }
      v = json::parse(*text, ec);
    } else {
      v = json::parse(u.column_text(0), ec);
    }
    if (ec) {
      throw backend_failure("corrupt change log entry after " + std::to_string(lsn + out.size()));
    }
    if (const auto* list = v.if_array()) {
      for (const auto& b : *list) {
        if (!take(b)) return out;
      }
    } else if (!take(v)) {
      return out;
    }
  }
  return out;
}

std::uint64_t sqlite_backend::log_first() {
  use u(r_.log_first.get());
  return u.step() ? u.column_integer(0) : 0;
}

std::optional<json::object> sqlite_backend::w_get(std::string_view collection,
                                                  std::string_view id) {
  return get_doc(w_.get.get(), collection, id);
}

std::vector<entry> sqlite_backend::w_list(std::string_view collection) {
  return list_docs(w_.list.get(), collection);
}

void sqlite_backend::w_put(std::string_view collection, std::string_view id,
                           const json::object& doc) {
  put_texts_.push_back(core::to_json(doc));
  use(w_.put.get()).text(1, collection).text(2, id).text(3, put_texts_.back()).step();
}

bool sqlite_backend::w_del(std::string_view collection, std::string_view id) {
  use u(w_.del.get());
  u.text(1, collection).text(2, id).step();
  return u.changes() > 0;
}

std::uint64_t sqlite_backend::w_next_id(std::string_view collection) {
  return ++id_counter(collection);
}

std::uint64_t& sqlite_backend::id_counter(std::string_view collection) {
  auto it = ids_.find(collection);
  if (it == ids_.end()) {
    use u(w_.last_id.get());
    u.text(1, collection);
    const std::uint64_t last = u.step() ? u.column_integer(0) : 0;
    it = ids_.emplace(std::string(collection), id_state{last, last}).first;
  }
  return it->second.last;
}

void sqlite_backend::w_set_lsn(std::uint64_t lsn) {
  group_lsn_ = lsn;  // written once, by commit_group
}

void sqlite_backend::w_keep_id(std::string_view collection, std::uint64_t id) {
  std::uint64_t& last = id_counter(collection);
  last = std::max(last, id);
}

void sqlite_backend::w_set_history(const std::string& history) {
  use(w_.set_history.get()).text(1, history).step();
}

std::shared_ptr<const std::string> sqlite_backend::w_log(const committed_batch& batch) {
  std::size_t puts = 0;
  for (const auto& o : batch.ops)
    puts += o.type == op::kind::put ? 1 : 0;
  // The batch's puts are the last w_put calls, unless a caller wrote it otherwise.
  std::span<const std::string> texts;
  if (puts <= put_texts_.size()) {
    texts = std::span<const std::string>(put_texts_).last(puts);
  }
  // The group's batches go into one row at its commit: one insert per commit, not per batch.
  if (group_log_.empty()) group_log_first_ = batch.lsn;
  group_log_.append(group_log_.empty() ? "[" : ",");
  auto text = batch.text;
  if (!text) text = std::make_shared<const std::string>(batch_to_json_text(batch, texts));
  group_log_.append(*text);
  group_log_last_ = batch.lsn;
  put_texts_.clear();
  return text;
}

void sqlite_backend::w_prune_log(std::uint64_t upto) {
  use(w_.prune.get()).integer(1, upto).step();
}

core::result<std::uint64_t> sqlite_backend::begin_group() {
  put_texts_.clear();
  group_log_.clear();
  try {
    use(w_.begin.get()).step();
    const std::uint64_t lsn = read_lsn(w_.lsn.get());
    // Another process sharing the file may have handed out ids since this one's commit.
    if (lsn != group_lsn_) ids_.clear();
    group_lsn_ = lsn;
    begin_lsn_ = lsn;
    return core::result<std::uint64_t>(boost::system::in_place_value, lsn);
  } catch (const backend_failure& e) {
    rollback_group();
    return core::unavailable(std::string("sqlite: ") + e.what());
  }
}

void sqlite_backend::savepoint() {
  use(w_.savepoint.get()).step();
  put_texts_.clear();
  mark_ = {group_lsn_, group_log_.size(), group_log_last_};
}

void sqlite_backend::release() {
  use(w_.release.get()).step();
}

void sqlite_backend::rollback_to_savepoint() {
  use(w_.rollback_to.get()).step();
  put_texts_.clear();  // the id counters live in memory until the commit: ids stay used
  group_lsn_ = mark_.lsn;
  group_log_.resize(mark_.log_size);
  group_log_last_ = mark_.log_last;
  use(w_.release.get()).step();
}

core::result<void> sqlite_backend::commit_group(bool) {
  try {
    for (const auto& [collection, st] : ids_) {
      if (st.last != st.stored)
        use(w_.keep_id.get()).text(1, collection).integer(2, st.last).step();
    }
    if (group_lsn_ != begin_lsn_) use(w_.set_lsn.get()).integer(1, group_lsn_).step();
    if (!group_log_.empty()) {
      group_log_.append("]");
      use row(w_.log.get());
      row.integer(1, group_log_last_).integer(3, group_log_first_);
      if (compress_log_row(group_log_, log_row_)) {
        row.blob(2, log_row_);
      } else {
        row.text(2, group_log_);
      }
      row.step();
      group_log_.clear();
    }
    use(w_.commit.get()).step();
    for (auto& [collection, st] : ids_)
      st.stored = st.last;
  } catch (const backend_failure& e) {
    return core::unavailable(std::string("sqlite: ") + e.what());
  }
  return {};
}

void sqlite_backend::rollback_group() noexcept {
  ids_.clear();  // read again from the database, which the rollback restores
  group_log_.clear();
  if (write_ && sqlite3_get_autocommit(write_.get()) == 0) {
    sqlite3_exec(write_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void sqlite_backend::after_group() noexcept {
  if (!write_ || wal_pages_ < finish_at_) return;
  // SQLITE_BUSY at once while the checkpointer is at work: tried again after the next group.
  // Otherwise it copied what the checkpointer had not, and the next write starts the WAL
  // over; unless a reader of another process kept it from copying everything within the
  // busy timeout, and then it waits for more pages before it tries again.
  const int rc =
      sqlite3_wal_checkpoint_v2(write_.get(), nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
  if (rc != SQLITE_BUSY) finish_at_ = wal_pages_ + checkpoint_pages / 4;
}

void sqlite_backend::close_writer() noexcept {
  if (write_) sqlite3_wal_hook(write_.get(), nullptr, nullptr);
  checkpointer_.reset();
  w_ = statements{};
  write_.reset();
}

}  // namespace node::store
