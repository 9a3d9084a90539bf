// Helpers shared by the store backends.
#include "node/store/backend.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <random>
#include <system_error>

namespace node::store {

std::vector<entry> where_string_field(std::vector<entry> all, std::string_view field,
                                      std::string_view value) {
  std::erase_if(all, [&](const entry& e) {
    const auto* f = e.doc.if_contains(field);
    return !f || !f->is_string() || f->get_string() != value;
  });
  return all;
}

std::vector<entry> backend::list_where(std::string_view collection, std::string_view field,
                                       std::string_view value) {
  return where_string_field(list(collection), field, value);
}

std::string make_history_id() {
  static constexpr char digits[] = "0123456789abcdef";
  std::random_device rd;
  std::string id;
  id.reserve(32);
  for (int word = 0; word < 4; ++word) {
    std::uint32_t bits = rd();
    for (int nibble = 0; nibble < 8; ++nibble) {
      id += digits[bits & 0xf];
      bits >>= 4;
    }
  }
  return id;
}

void run_in_background() noexcept {
  // On Linux each thread has its own nice value, addressed by its thread id.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
}

core::result<void> create_parent_directories(const std::filesystem::path& path) {
  const auto parent = path.parent_path();
  if (parent.empty()) {
    return {};
  }
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return core::unavailable("cannot create directory " + parent.string() + ": " + ec.message());
  }
  return {};
}

}  // namespace node::store
