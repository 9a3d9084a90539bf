// The json file backend: loading and validating the file, and atomic rewrites of it.
#include "node/store/json_backend.hpp"

#include "node/core/json.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace node::store {

namespace json = boost::json;

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Writes all of `text` to `fd`; false with errno set on failure.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Replaces `path` by `text` so that a crash at any moment leaves the old or the new file.
core::result<void> replace_file(const std::filesystem::path& path, std::string_view text) {
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return core::unavailable("cannot create " + tmp + ": " + errno_text());
  }
  if (!write_all(fd, text) || ::fsync(fd) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    ::unlink(tmp.c_str());
    return core::unavailable("cannot write " + tmp + ": " + why);
  }
  if (::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    return core::unavailable("cannot write " + tmp + ": " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    return core::unavailable("cannot rename " + tmp + " to " + path.string() + ": " + why);
  }
  const std::string dir = path.parent_path().empty() ? "." : path.parent_path().string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    return core::unavailable("cannot open directory " + dir + ": " + errno_text());
  }
  const bool synced = ::fsync(dfd) == 0;
  const std::string why = synced ? std::string() : errno_text();
  ::close(dfd);
  if (!synced) {
    return core::unavailable("cannot sync directory " + dir + ": " + why);
  }
  return {};
}

core::result<std::uint64_t> read_count(const json::value* v, std::string_view what) {
  json::error_code ec;
  const auto n = v ? v->to_number<std::uint64_t>(ec) : 0;
  if (!v || ec) {
    return core::unavailable(std::string(what) + " is not a non-negative integer");
  }
  return core::result<std::uint64_t>(boost::system::in_place_value, n);
}

}  // namespace

json_backend::json_backend(state initial, std::filesystem::path path)
    : memory_backend(std::move(initial)), path_(std::move(path)) {}

core::result<std::unique_ptr<json_backend>> json_backend::open(const std::filesystem::path& path) {
  if (auto made = create_parent_directories(path); !made) {
    return made.error();
  }
  std::error_code ec;
  std::filesystem::remove(path.string() + ".tmp", ec);
  if (ec) {
    return core::unavailable("cannot remove " + path.string() + ".tmp: " + ec.message());
  }
  if (!std::filesystem::exists(path, ec)) {
    if (ec) {
      return core::unavailable("cannot stat " + path.string() + ": " + ec.message());
    }
    state fresh;
    fresh.history = make_history_id();
    if (auto w = replace_file(path, to_document(fresh)); !w) {
      return w.error();
    }
    return std::unique_ptr<json_backend>(new json_backend(std::move(fresh), path));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    return core::unavailable("cannot read " + path.string() + ": " + errno_text());
  }
  auto loaded = from_document(text.str());
  if (!loaded) {
    return core::unavailable("cannot load " + path.string() + ": " + loaded.error().message);
  }
  return std::unique_ptr<json_backend>(new json_backend(std::move(*loaded), path));
}

core::result<void> json_backend::commit_group(bool dirty) {
  if (dirty) {
    if (auto w = replace_file(path_, to_document(working())); !w) {
      return w;
    }
  }
  return memory_backend::commit_group(dirty);
}

std::string json_backend::to_document(const state& s) {
  json::object next_ids;
  for (const auto& [name, last] : s.next_ids) {
    next_ids[name] = last;
  }
  const json::object meta{{"lsn", s.lsn}, {"history", s.history}, {"next_ids", next_ids}};
  std::string out = "{\n  \"meta\": " + core::to_json(meta) + ",\n  \"collections\": {";
  bool first_collection = true;
  for (const auto& [name, docs] : s.collections) {
    out += first_collection ? "\n    " : ",\n    ";
    first_collection = false;
    out += json::serialize(json::string_view(name));
    out += ": {";
    bool first_doc = true;
    for (const auto& [id, doc] : docs) {
      out += first_doc ? "\n      " : ",\n      ";
      first_doc = false;
      out += json::serialize(json::string_view(id));
      out += ": ";
      out += core::to_json(doc);
    }
    out += first_doc ? "}" : "\n    }";
  }
  out += first_collection ? "}" : "\n  }";
  if (!s.log.empty()) {
    out += ",\n  \"log\": [";
    bool first_batch = true;
    for (const auto& [lsn, ops] : s.log) {
      out += first_batch ? "\n    " : ",\n    ";
      first_batch = false;
      out += core::to_json(batch_to_json({lsn, ops, nullptr}));
    }
    out += "\n  ]";
  }
  out += "\n}\n";
  return out;
}

core::result<memory_backend::state> json_backend::from_document(std::string_view text) {
  json::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) {
    return core::unavailable("malformed JSON: " + ec.message());
  }
  const auto* top = root.if_object();
  const auto* meta = top && top->contains("meta") ? top->at("meta").if_object() : nullptr;
  const auto* collections =
      top && top->contains("collections") ? top->at("collections").if_object() : nullptr;
  if (!meta || !collections) {
    return core::unavailable("expected an object with \"meta\" and \"collections\" objects");
  }
  state s;
  auto lsn = read_count(meta->if_contains("lsn"), "meta.lsn");
  if (!lsn) {
    return lsn.error();
  }
  s.lsn = *lsn;
  const auto* history = meta->if_contains("history");
  if (!history || !history->is_string() || history->get_string().empty()) {
    return core::unavailable("meta.history is not a non-empty string");
  }
  s.history = history->get_string();
  if (const auto* ids = meta->if_contains("next_ids")) {
    if (!ids->is_object()) {
      return core::unavailable("meta.next_ids is not an object");
    }
    for (const auto& kv : ids->get_object()) {
      auto last = read_count(&kv.value(), "meta.next_ids." + std::string(kv.key()));
      if (!last) {
        return last.error();
      }
      s.next_ids.emplace(kv.key(), *last);
    }
  }
  for (const auto& c : *collections) {
    if (!c.value().is_object()) {
      return core::unavailable("collection " + std::string(c.key()) + " is not an object");
    }
    auto& docs = s.collections[std::string(c.key())];
    for (const auto& d : c.value().get_object()) {
      if (!d.value().is_object()) {
        return core::unavailable("document " + std::string(c.key()) + "/" + std::string(d.key()) +
                                 " is not an object");
      }
      docs.emplace(d.key(), d.value().get_object());
    }
  }
  if (const auto* log = top->if_contains("log")) {
    if (!log->is_array()) {
      return core::unavailable("log is not an array");
    }
    for (const auto& entry : log->get_array()) {
      auto batch = batch_from_json(entry);
      if (!batch) {
        return core::unavailable("log entry: " + batch.error().message);
      }
      s.log.insert_or_assign(batch->lsn, std::move(batch->ops));
    }
  }
  return s;
}

}  // namespace node::store
