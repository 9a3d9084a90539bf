// The json file backend ("json:PATH"): the memory backend plus one human-readable JSON
// file, rewritten atomically (temp file, fsync, rename, directory fsync) per group.
#pragma once

#include "node/store/memory_backend.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace node::store {

// Thread ownership as memory_backend; the file is written on the writer thread only.
class json_backend : public memory_backend {
 public:
  // Reads `path` (a missing file makes a new store and writes it at once; a leftover
  // PATH.tmp is removed). Fails with a message naming the file and the reason when the
  // file cannot be read, parsed or written, or does not have the store's shape.
  static core::result<std::unique_ptr<json_backend>> open(const std::filesystem::path& path);

  // Writes the working copy when `dirty`.
  core::result<void> commit_group(bool dirty) override;

  // The file's text for a state: {"meta":{...},"collections":{...}}, one document a line.
  static std::string to_document(const state& s);
  // The inverse of to_document; fails with the reason when text is not a store document.
  static core::result<state> from_document(std::string_view text);

 private:
  json_backend(state initial, std::filesystem::path path);

  std::filesystem::path path_;
};

}  // namespace node::store
