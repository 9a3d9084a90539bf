// Product validation, the stored and API forms, list filters and the product
// transaction functions.
#include "node/shop/products.hpp"

#include "node/shop/fields.hpp"
#include "node/shop/money.hpp"

#include <algorithm>
#include <cctype>

namespace node::shop {

namespace {

// A string field: must be a string of at most max_bytes; when `need_text`, not blank.
core::result<json::string> text_field(const json::value& v, std::string_view field,
                                      std::size_t max_bytes, bool need_text) {
  const std::string name(field);
  const json::string* s = v.if_string();
  if (s == nullptr) return core::bad_request(name + " must be a string", name);
  if (s->size() > max_bytes) {
    return core::bad_request(name + " must be at most " + std::to_string(max_bytes) + " bytes",
                             name);
  }
  bool blank =
      std::all_of(s->begin(), s->end(), [](unsigned char c) { return std::isspace(c) != 0; });
  if (need_text && blank) return core::bad_request(name + " must not be empty", name);
  return *s;
}

// The stored fields of a body; `create` requires name and price and fills defaults.
core::result<json::object> validate_fields(const json::value& body, bool create) {
  const json::object* o = body.if_object();
  if (o == nullptr) return core::bad_request("the body must be a JSON object");
  json::object out;
  if (const json::value* v = o->if_contains("name")) {
    auto name = text_field(*v, "name", max_name_length, true);
    if (!name) return name.error();
    out["name"] = std::move(*name);
  } else if (create) {
    return core::bad_request("name is required", "name");
  }
  if (const json::value* v = o->if_contains("description")) {
    auto description = text_field(*v, "description", max_description_length, false);
    if (!description) return description.error();
    out["description"] = std::move(*description);
  } else if (create) {
    out["description"] = "";
  }
  if (const json::value* v = o->if_contains("price")) {
    auto cents = parse_price(*v, "price");
    if (!cents) return cents.error();
    out["price_cents"] = *cents;
  } else if (create) {
    return core::bad_request("price is required", "price");
  }
  if (const json::value* v = o->if_contains("category")) {
    auto category = text_field(*v, "category", max_category_length, true);
    if (!category) return category.error();
    out["category"] = std::move(*category);
  } else if (create) {
    out["category"] = default_category;
  }
  if (const json::value* v = o->if_contains("stock")) {
    auto stock = parse_integer(*v, "stock", 0, max_stock);
    if (!stock) return stock.error();
    out["stock"] = *stock;
  } else if (create) {
    out["stock"] = 0;
  }
  return out;
}

core::error product_not_found(std::uint64_t id) {
  return core::not_found("product " + std::to_string(id) + " not found");
}

}  // namespace

void append_product_api(std::string& out, std::string_view id, const json::object& doc) {
  const std::int64_t stock = stored_int(doc, "stock");
  out += R"({"id":)";
  out += core::to_json(id_value(id));
  out += R"(,"name":)";
  core::append_json_string(out, stored_string(doc, "name"));
  out += R"(,"description":)";
  core::append_json_string(out, stored_string(doc, "description"));
  out += R"(,"price":)";
  core::append_json_number(out, cents_to_json(stored_int(doc, "price_cents")).as_double());
  out += R"(,"category":)";
  core::append_json_string(out, stored_string(doc, "category"));
  out += R"(,"stock":)";
  core::append_json_integer(out, stock);
  out += stock > 0 ? R"(,"inStock":true})" : R"(,"inStock":false})";
}

json::value product_to_api(std::string_view id, const json::object& doc) {
  std::string text;
  append_product_api(text, id, doc);
  return json::parse(text);
}

core::result<json::object> validate_create(const json::value& body) {
  return validate_fields(body, true);
}

core::result<json::object> validate_update(const json::value& body) {
  return validate_fields(body, false);
}

core::result<product_filter> parse_filters(std::optional<std::string_view> category,
                                           std::optional<std::string_view> in_stock) {
  product_filter filter;
  if (category && !category->empty()) filter.category = std::string(*category);
  if (in_stock) {
    if (*in_stock == "true") {
      filter.in_stock = true;
    } else if (*in_stock == "false") {
      filter.in_stock = false;
    } else {
      return core::bad_request("inStock must be true or false", "inStock");
    }
  }
  return filter;
}

std::string filter_products(const std::vector<store::entry>& entries,
                            const product_filter& filter) {
  std::string out = "[";
  for (const auto& e : entries) {
    if (filter.category && stored_string(e.doc, "category") != *filter.category) continue;
    if (filter.in_stock && (stored_int(e.doc, "stock") > 0) != *filter.in_stock) continue;
    if (out.size() > 1) out += ',';
    append_product_api(out, e.id, e.doc);
  }
  out += ']';
  return out;
}

core::result<std::string> list_products(const std::vector<store::entry>& entries,
                                        std::optional<std::string_view> category,
                                        std::optional<std::string_view> in_stock) {
  auto filter = parse_filters(category, in_stock);
  if (!filter) return filter.error();
  return filter_products(entries, *filter);
}

core::result<std::string> get_product(const read_fn& read, std::string_view id_text) {
  auto id = parse_id(id_text, "product");
  if (!id) return id.error();
  std::string key = id_key(*id);
  auto doc = read(products_collection, key);
  if (!doc) return product_not_found(*id);
  std::string out;
  append_product_api(out, key, *doc);
  return out;
}

core::result<json::value> create_product(store::txn& t, const json::value& body) {
  auto doc = validate_create(body);
  if (!doc) return doc.error();
  std::string key = id_key(t.next_id(products_collection));
  json::value api = product_to_api(key, *doc);
  t.put(products_collection, key, std::move(*doc));
  return api;
}

core::result<json::value> update_product(store::txn& t, std::string_view id_text,
                                         const json::value& body) {
  auto id = parse_id(id_text, "product");
  if (!id) return id.error();
  auto patch = validate_update(body);
  if (!patch) return patch.error();
  std::string key = id_key(*id);
  auto doc = t.get(products_collection, key);
  if (!doc) return product_not_found(*id);
  json::object updated = *doc;
  for (const auto& field : *patch)
    updated[field.key()] = field.value();
  json::value api = product_to_api(key, updated);
  if (updated != *doc) t.put(products_collection, key, std::move(updated));
  return api;
}

core::result<json::value> delete_product(store::txn& t, std::string_view id_text) {
  auto id = parse_id(id_text, "product");
  if (!id) return id.error();
  std::string key = id_key(*id);
  if (!t.get(products_collection, key)) return product_not_found(*id);
  t.del(products_collection, key);
  return json::object{{"message", "product " + key + " deleted"}, {"id", id_value(key)}};
}

}  // namespace node::shop
