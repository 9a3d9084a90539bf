// Order validation, the placing transaction with its idempotency records, and the API
// form of orders.
#include "node/shop/orders.hpp"

#include "node/shop/fields.hpp"
#include "node/shop/money.hpp"
#include "node/shop/products.hpp"

#include <cstdio>
#include <limits>
#include <utility>

namespace node::shop {

namespace {

constexpr std::string_view key_field = "Idempotency-Key";

core::result<order_line> validate_line(const json::value& v, std::size_t index) {
  const std::string at = "items[" + std::to_string(index) + "]";
  const json::object* o = v.if_object();
  if (o == nullptr) return core::bad_request(at + " must be an object", at);
  const json::value* product = o->if_contains("productId");
  if (product == nullptr) {
    return core::bad_request(at + ".productId is required", at + ".productId");
  }
  auto product_id =
      parse_integer(*product, at + ".productId", 1, std::numeric_limits<std::int64_t>::max());
  if (!product_id) return product_id.error();
  const json::value* quantity = o->if_contains("quantity");
  if (quantity == nullptr) {
    return core::bad_request(at + ".quantity is required", at + ".quantity");
  }
  auto count = parse_integer(*quantity, at + ".quantity", 1, max_quantity);
  if (!count) return count.error();
  return order_line{*product_id, *count};
}

core::result<void> validate_key(std::string_view key) {
  const std::string name(key_field);
  if (key.empty()) return core::bad_request(name + " must not be empty", name);
  if (key.size() > max_idempotency_key_length) {
    return core::bad_request(
        name + " must be at most " + std::to_string(max_idempotency_key_length) + " bytes", name);
  }
  for (unsigned char c : key) {
    if (c < 0x20 || c > 0x7e) {
      return core::bad_request(name + " must be printable ASCII", name);
    }
  }
  return {};
}

// The request as recorded with an idempotency key; equal requests replay.
json::object normalized(const order_request& req) {
  json::array items;
  for (const order_line& line : req.items) {
    items.push_back(json::object{{"productId", line.product_id}, {"quantity", line.quantity}});
  }
  return json::object{{"userId", req.user_id}, {"items", std::move(items)}};
}

json::value envelope(json::value order, bool replayed) {
  return json::object{{"order", std::move(order)}, {"replayed", replayed}};
}

std::string format_cents(std::int64_t cents) {
  std::string frac = std::to_string(cents % 100);
  return std::to_string(cents / 100) + (frac.size() < 2 ? ".0" : ".") + frac;
}

// A product an order line refers to, as read in the transaction.
struct priced_line {
  order_line line;
  std::string key;
  json::object doc;
};

}  // namespace

core::result<order_request> validate_order(const json::value& body) {
  const json::object* o = body.if_object();
  if (o == nullptr) return core::bad_request("the body must be a JSON object");
  const json::value* user = o->if_contains("userId");
  auto user_id = parse_user_id_field(user != nullptr ? *user : json::value());
  if (!user_id) return user_id.error();
  const json::value* items = o->if_contains("items");
  if (items == nullptr) return core::bad_request("items is required", "items");
  const json::array* list = items->if_array();
  if (list == nullptr) return core::bad_request("items must be an array", "items");
  if (list->empty()) return core::bad_request("items must not be empty", "items");
  if (list->size() > max_order_items) {
    return core::bad_request(
        "items must have at most " + std::to_string(max_order_items) + " entries", "items");
  }
  order_request req{std::move(*user_id), {}};
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto line = validate_line((*list)[i], i);
    if (!line) return line.error();
    bool merged = false;
    for (order_line& seen : req.items) {
      if (seen.product_id == line->product_id) {
        seen.quantity += line->quantity;  // at most 100 * 1e6: no overflow
        merged = true;
        break;
      }
    }
    if (!merged) req.items.push_back(*line);
  }
  return req;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = floor<milliseconds>(t);
  auto day = floor<days>(ms);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{ms - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

std::string idempotency_record_id(std::string_view user_id, std::string_view key) {
  return std::to_string(user_id.size()) + ":" + std::string(user_id) + ":" + std::string(key);
}

core::result<json::value> place_order(store::txn& t, const json::value& body,
                                      std::chrono::system_clock::time_point now,
                                      std::optional<std::string_view> idempotency_key) {
  auto req = validate_order(body);
  if (!req) return req.error();
  json::object request = normalized(*req);
  std::string record_id;
  if (idempotency_key) {
    if (auto ok = validate_key(*idempotency_key); !ok) return ok.error();
    record_id = idempotency_record_id(req->user_id, *idempotency_key);
    if (auto record = t.get(idempotency_collection, record_id)) {
      const json::value* first = record->if_contains("request");
      if (first == nullptr || *first != request) {
        return core::conflict("idempotency_key_reused",
                              "Idempotency-Key '" + std::string(*idempotency_key) +
                                  "' was already used for a different order",
                              std::string(key_field));
      }
      std::string order_id(stored_string(*record, "orderId"));
      if (auto order = t.get(orders_collection, order_id)) {
        return envelope(order_to_api(order_id, *order), true);
      }
      // The record outlived its order: place the order again and replace the record.
    }
  }

  std::vector<priced_line> lines;
  lines.reserve(req->items.size());
  for (const order_line& line : req->items) {
    std::string key = id_key(static_cast<std::uint64_t>(line.product_id));
    auto doc = t.get(products_collection, key);
    if (!doc) return core::not_found("product " + key + " not found");
    lines.push_back({line, std::move(key), std::move(*doc)});
  }
  std::int64_t total = 0;
  for (const priced_line& p : lines) {
    std::int64_t available = stored_int(p.doc, "stock");
    if (p.line.quantity > available) {
      return core::conflict("insufficient_stock",
                            "insufficient stock for product " + p.key + " (" +
                                std::string(stored_string(p.doc, "name")) +
                                "): " + std::to_string(available) + " available, " +
                                std::to_string(p.line.quantity) + " requested");
    }
    auto sum = add_line(total, stored_int(p.doc, "price_cents"), p.line.quantity);
    if (!sum) {
      return core::bad_request("the order total must be at most " + format_cents(max_total_cents),
                               "items");
    }
    total = *sum;
  }

  json::array items;
  for (priced_line& p : lines) {
    std::int64_t price = stored_int(p.doc, "price_cents");
    items.push_back(json::object{{"productId", p.line.product_id},
                                 {"name", stored_string(p.doc, "name")},
                                 {"price_cents", price},
                                 {"quantity", p.line.quantity},
                                 {"subtotal_cents", price * p.line.quantity}});
    p.doc["stock"] = stored_int(p.doc, "stock") - p.line.quantity;
    t.put(products_collection, p.key, std::move(p.doc));
  }
  std::string order_id = id_key(t.next_id(orders_collection));
  json::object order{{"userId", req->user_id},
                     {"items", std::move(items)},
                     {"total_cents", total},
                     {"status", "confirmed"},
                     {"createdAt", iso8601_utc(now)}};
  json::value api = order_to_api(order_id, order);
  t.put(orders_collection, order_id, std::move(order));
  if (idempotency_key) {
    t.put(idempotency_collection, record_id,
          json::object{{"userId", req->user_id},
                       {"key", *idempotency_key},
                       {"orderId", order_id},
                       {"request", std::move(request)}});
  }
  return envelope(std::move(api), false);
}

placed_order unpack_placed_order(json::value envelope) {
  json::object& o = envelope.as_object();
  return {std::move(o.at("order")), o.at("replayed").as_bool()};
}

json::value order_to_api(std::string_view id, const json::object& doc) {
  json::array items;
  if (const json::value* stored = doc.if_contains("items"); stored && stored->is_array()) {
    for (const json::value& v : stored->get_array()) {
      if (!v.is_object()) continue;
      const json::object& item = v.get_object();
      items.push_back(
          json::object{{"productId", stored_int(item, "productId")},
                       {"name", stored_string(item, "name")},
                       {"price", cents_to_json(stored_int(item, "price_cents"))},
                       {"quantity", stored_int(item, "quantity")},
                       {"subtotal", cents_to_json(stored_int(item, "subtotal_cents"))}});
    }
  }
  return json::object{{"id", id_value(id)},
                      {"userId", stored_string(doc, "userId")},
                      {"items", std::move(items)},
                      {"total", cents_to_json(stored_int(doc, "total_cents"))},
                      {"status", stored_string(doc, "status")},
                      {"createdAt", stored_string(doc, "createdAt")}};
}

core::result<json::value> orders_for_user(const orders_of_fn& orders_of, std::string_view user_id) {
  auto user = parse_user_id(user_id);
  if (!user) return user.error();
  json::array out;
  for (const store::entry& e : orders_of(*user)) {
    if (stored_string(e.doc, "userId") == *user) out.push_back(order_to_api(e.id, e.doc));
  }
  return out;
}

}  // namespace node::shop
