// SQLite's page cache (pcache1) wrapped to skip the truncations that cannot drop anything.
//
// At the end of every write transaction the pager truncates its cache to the database's
// size. pcache1 keeps only the largest page number it ever held (iMaxKey) to decide whether
// there is anything to drop, and a B-tree balance that swaps two pages parks one of them
// under the lock-byte page's number (1 GiB / page size + 1) for a moment, which raises that
// bound far beyond the database. The next commit then walks every page in the cache (about
// 4,000 with our cache size): 10-16% of a writer thread's time on a replica, whose change log
// is pruned and refilled all the time. The wrapper keeps its own bound, counting parked pages
// apart, and passes a truncation on only when some cached page may lie at or beyond it.
#pragma once

#include <cstdint>

namespace node::store::sqlite_page_cache {

// Installs the wrapper around SQLite's default page cache. Must run before SQLite is
// initialized (the first sqlite3_open); true when installed (or already installed).
bool install();

struct counts {
  std::uint64_t truncations = 0;  // xTruncate calls, all connections of the process
  std::uint64_t skipped = 0;      // of which the wrapper answered without pcache1
  std::uint64_t parked = 0;       // pages a B-tree balance moved to the lock-byte page
};
counts stats();

}  // namespace node::store::sqlite_page_cache
