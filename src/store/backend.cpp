// Helpers shared by the store backends.
#include "node/store/backend.hpp"

#include <random>
#include <system_error>

namespace node::store {

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
