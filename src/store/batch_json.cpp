// Committed batches as JSON: the change log's and the replication stream's format.
#include "node/store/store.hpp"

#include "node/core/json.hpp"

#include <utility>

namespace node::store {

namespace json = boost::json;

json::object batch_to_json(const committed_batch& b) {
  json::array ops;
  ops.reserve(b.ops.size());
  for (const auto& o : b.ops) {
    json::object j{{"op", o.type == op::kind::put ? "put" : "del"},
                   {"collection", o.collection},
                   {"id", o.id}};
    if (o.type == op::kind::put) {
      j["doc"] = o.doc;
    }
    ops.push_back(std::move(j));
  }
  return {{"lsn", b.lsn}, {"ops", std::move(ops)}};
}

void append_batch_json_text(std::string& out, const committed_batch& b,
                            std::span<const std::string> doc_texts) {
  if (b.text) {
    out += *b.text;
    return;
  }
  std::size_t size = out.size() + 32;
  for (const auto& t : doc_texts)
    size += t.size() + 64;
  out.reserve(size);
  out += "{\"lsn\":";
  out += std::to_string(b.lsn);
  out += ",\"ops\":[";
  std::size_t put = 0;
  for (std::size_t i = 0; i < b.ops.size(); ++i) {
    const op& o = b.ops[i];
    if (i != 0) out += ',';
    out += o.type == op::kind::put ? "{\"op\":\"put\",\"collection\":"
                                   : "{\"op\":\"del\",\"collection\":";
    core::append_json_string(out, o.collection);
    out += ",\"id\":";
    core::append_json_string(out, o.id);
    if (o.type == op::kind::put) {
      out += ",\"doc\":";
      if (put < doc_texts.size()) {
        out += doc_texts[put];
      } else {
        out += core::to_json(o.doc);
      }
      ++put;
    }
    out += '}';
  }
  out += "]}";
}

std::string batch_to_json_text(const committed_batch& b, std::span<const std::string> doc_texts) {
  std::string out;
  append_batch_json_text(out, b, doc_texts);
  return out;
}

core::result<committed_batch> batch_from_json(const json::value& v) {
  const auto* obj = v.if_object();
  if (!obj) {
    return core::bad_request("a batch must be an object", "batches");
  }
  committed_batch b;
  json::error_code ec;
  const auto* lsn = obj->if_contains("lsn");
  b.lsn = lsn ? lsn->to_number<std::uint64_t>(ec) : 0;
  if (!lsn || ec || b.lsn == 0) {
    return core::bad_request("lsn must be a positive integer", "lsn");
  }
  const auto* ops = obj->if_contains("ops");
  if (!ops || !ops->is_array()) {
    return core::bad_request("ops must be an array", "ops");
  }
  for (const auto& o : ops->get_array()) {
    const auto* oo = o.if_object();
    const auto* kind = oo ? oo->if_contains("op") : nullptr;
    const auto* collection = oo ? oo->if_contains("collection") : nullptr;
    const auto* id = oo ? oo->if_contains("id") : nullptr;
    if (!kind || !kind->is_string() || !collection || !collection->is_string() ||
        collection->get_string().empty() || !id || !id->is_string() || id->get_string().empty()) {
      return core::bad_request("each op needs string op, collection and id", "ops");
    }
    op out;
    out.collection = collection->get_string();
    out.id = id->get_string();
    if (kind->get_string() == "put") {
      const auto* doc = oo->if_contains("doc");
      if (!doc || !doc->is_object()) {
        return core::bad_request("a put op needs an object doc", "ops");
      }
      out.doc = doc->get_object();
    } else if (kind->get_string() == "del") {
      out.type = op::kind::del;
    } else {
      return core::bad_request("op must be put or del", "ops");
    }
    b.ops.push_back(std::move(out));
  }
  return b;
}

}  // namespace node::store
