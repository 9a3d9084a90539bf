// The page cache wrapper: see the header for why it exists.
#include "node/store/sqlite_page_cache.hpp"

#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <new>

namespace node::store::sqlite_page_cache {

namespace {

// SQLite's own page cache, whose methods every call below ends in.
sqlite3_pcache_methods2 base{};
std::atomic<std::uint64_t> truncations{0};
std::atomic<std::uint64_t> skipped{0};
std::atomic<std::uint64_t> parked_total{0};

// One pager's cache. SQLite calls a cache's methods from one connection at a time.
struct cache {
  sqlite3_pcache* inner = nullptr;
  // The page B-tree balancing parks pages under (PENDING_BYTE / page size + 1).
  unsigned lock_page = 0;
  // No cached page has a larger number, except the ones parked at lock_page.
  unsigned max_key = 0;
  unsigned parked = 0;
};

cache* of(sqlite3_pcache* p) {
  return reinterpret_cast<cache*>(p);
}

int init(void*) {
  return base.xInit ? base.xInit(base.pArg) : SQLITE_OK;
}

void shutdown(void*) {
  if (base.xShutdown) base.xShutdown(base.pArg);
}

sqlite3_pcache* create(int page_size, int extra, int purgeable) {
  auto* c = new (std::nothrow) cache;
  if (!c) return nullptr;
  c->inner = base.xCreate(page_size, extra, purgeable);
  if (!c->inner) {
    delete c;
    return nullptr;
  }
  c->lock_page = page_size > 0 ? 0x40000000u / static_cast<unsigned>(page_size) + 1 : 0;
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void cachesize(sqlite3_pcache* p, int n) {
  base.xCachesize(of(p)->inner, n);
}

int pagecount(sqlite3_pcache* p) {
  return base.xPagecount(of(p)->inner);
}

sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned key, int create_flag) {
  auto* c = of(p);
  auto* page = base.xFetch(c->inner, key, create_flag);
  if (page && key > c->max_key) c->max_key = key;
  return page;
}

void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  base.xUnpin(of(p)->inner, page, discard);
}

void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  auto* c = of(p);
  base.xRekey(c->inner, page, old_key, new_key);
  if (old_key == c->lock_page && c->parked > 0) --c->parked;
  if (new_key == c->lock_page) {
    ++c->parked;
    parked_total.fetch_add(1, std::memory_order_relaxed);
  } else if (new_key > c->max_key) {
    c->max_key = new_key;
  }
}

void truncate(sqlite3_pcache* p, unsigned limit) {
  auto* c = of(p);
  truncations.fetch_add(1, std::memory_order_relaxed);
  if (limit > c->max_key && (c->parked == 0 || limit > c->lock_page)) {
    skipped.fetch_add(1, std::memory_order_relaxed);
    return;  // nothing cached at or beyond the limit
  }
  base.xTruncate(c->inner, limit);
  if (limit > 0 && c->max_key >= limit) c->max_key = limit - 1;
  if (limit <= c->lock_page) c->parked = 0;
}

void destroy(sqlite3_pcache* p) {
  auto* c = of(p);
  base.xDestroy(c->inner);
  delete c;
}

void shrink(sqlite3_pcache* p) {
  base.xShrink(of(p)->inner);
}

bool do_install() {
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base) != SQLITE_OK || !base.xCreate) {
    return false;
  }
  // In sqlite3_pcache_methods2 order: iVersion, pArg, then xInit ... xShrink.
  static sqlite3_pcache_methods2 wrapped = {1,         nullptr,   init,  shutdown, create,
                                            cachesize, pagecount, fetch, unpin,    rekey,
                                            truncate,  destroy,   shrink};
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapped) == SQLITE_OK;
}

}  // namespace

bool install() {
  static const bool installed = do_install();
  return installed;
}

counts stats() {
  return {truncations.load(std::memory_order_relaxed), skipped.load(std::memory_order_relaxed),
          parked_total.load(std::memory_order_relaxed)};
}

}  // namespace node::store::sqlite_page_cache
