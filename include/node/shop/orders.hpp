// The shop's orders: request validation, the all-or-nothing placing transaction with
// idempotency keys, and the API form.
//
// Stored in collection "orders" under the decimal id from txn::next_id("orders") as
// {"userId","items":[{"productId","name","price_cents","quantity","subtotal_cents"}],
// "total_cents","status","createdAt"}. Idempotency records live in collection
// "idempotency" under idempotency_record_id(userId, key) as
// {"userId","key","orderId","request"} where "request" is the normalized request.
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"
#include "node/store/store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace node::shop {

namespace json = core::json;

inline constexpr std::string_view orders_collection = "orders";
inline constexpr std::string_view idempotency_collection = "idempotency";
inline constexpr std::size_t max_order_items = 100;
inline constexpr std::size_t max_idempotency_key_length = 200;

struct order_line {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
};

// A validated order: lines merged by product, in the order each product first appears.
struct order_request {
  std::string user_id;
  std::vector<order_line> items;
};

// Validates a POST /orders body. 400 bad_request naming the field: body not an object,
// userId (see parse_user_id), items missing / not an array / empty / over 100 entries,
// "items[i]" not an object, "items[i].productId" not an integer >= 1,
// "items[i].quantity" not an integer in [1, 1e6]. Repeated products are merged (quantities
// summed).
core::result<order_request> validate_order(const json::value& body);

// "2024-05-01T12:34:56.789Z": UTC, milliseconds, truncated.
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// The store id of an idempotency record: unambiguous for any userId and key.
std::string idempotency_record_id(std::string_view user_id, std::string_view key);

// POST /orders, as a transaction function. Returns {"order":<API order>,"replayed":bool}
// (see unpack_placed_order); the answer is 201 either way.
// - 400 as validate_order; a key that is empty, over 200 bytes or has characters outside
//   printable ASCII is 400 naming "Idempotency-Key"; a total over max_total_cents is 400
//   naming "items".
// - With a key seen before for this userId: the same normalized request replays the first
//   order (replayed true, nothing written); another request is 409
//   "idempotency_key_reused".
// - 404 not_found naming the first unknown product; else 409 "insufficient_stock" naming
//   the first product whose stock is below the quantity, with available and requested.
// - Otherwise decrements every stock, stores the order (status "confirmed", createdAt from
//   `now`) and the idempotency record, all in this transaction.
// Nothing is written (and no id taken) when it fails.
core::result<json::value> place_order(store::txn& t, const json::value& body,
                                      std::chrono::system_clock::time_point now,
                                      std::optional<std::string_view> idempotency_key);

// What place_order returned, taken apart. Throws on anything place_order did not make.
struct placed_order {
  json::value order;
  bool replayed = false;
};
placed_order unpack_placed_order(json::value envelope);

// The API form: {"id","userId","items":[{"productId","name","price","quantity","subtotal"}],
// "total","status","createdAt"}.
json::value order_to_api(std::string_view id, const json::object& doc);

// Reads the orders of one (valid) user id: at least those, in id order (a store's
// list_where("orders", "userId", user)).
using orders_of_fn = std::function<std::vector<store::entry>(std::string_view user)>;

// GET /orders/{userId}: the user's orders in the entries' order (a store list is ordered
// by id); [] for a user with none. 400 naming "userId" for an invalid user id (nothing read).
core::result<json::value> orders_for_user(const orders_of_fn& orders_of, std::string_view user_id);

}  // namespace node::shop
