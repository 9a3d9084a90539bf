// The shop's products: validation of request bodies, the stored and the API form, list
// filters, and the transaction functions that create, change and delete products.
//
// Stored in collection "products" under the decimal id from txn::next_id("products") as
// {"name","description","price_cents","category","stock"}. Request bodies: unknown fields,
// "id" and "inStock" are ignored and never stored; "description" defaults to "" and
// "category" to "general"; null is a wrong type, not "absent".
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"
#include "node/store/store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace node::shop {

namespace json = core::json;

inline constexpr std::string_view products_collection = "products";
inline constexpr std::string_view default_category = "general";
inline constexpr std::size_t max_name_length = 200;
inline constexpr std::size_t max_description_length = 5000;
inline constexpr std::size_t max_category_length = 100;
inline constexpr std::int64_t max_stock = 1'000'000'000;

// How the shop's read-only functions reach a stored document: store::get on the loop
// thread, or txn::get inside a transaction.
using read_fn =
    std::function<std::optional<json::object>(std::string_view collection, std::string_view id)>;

// Which products a list shows; an empty optional does not filter.
struct product_filter {
  std::optional<std::string> category;  // exact, case-sensitive match
  std::optional<bool> in_stock;         // true: stock > 0; false: stock == 0
};

// The API form: {"id":1,"name","description","price":199.99,"category","stock":12,"inStock":true},
// appended as JSON text (the answers of the read routes are written without a JSON tree).
void append_product_api(std::string& out, std::string_view id, const json::object& doc);
// The same as a JSON value.
json::value product_to_api(std::string_view id, const json::object& doc);

// The stored document for a POST body. 400 bad_request naming the field: body not an
// object (no field), name missing / not a string / blank / over 200 bytes, description
// not a string / over 5000 bytes, price (see parse_price), category not a string / empty /
// over 100 bytes, stock not an integer in [0, 1e9].
core::result<json::object> validate_create(const json::value& body);

// The stored fields a PUT body changes (same rules per field, every field optional, {}
// allowed). 400 as validate_create.
core::result<json::object> validate_update(const json::value& body);

// The filter from the query parameters. An empty category does not filter; inStock must
// be "true" or "false", else 400 bad_request naming "inStock".
core::result<product_filter> parse_filters(std::optional<std::string_view> category,
                                           std::optional<std::string_view> in_stock);

// The API forms of the entries that pass the filter, in the entries' order (a store
// list is ordered by id), as a JSON array's text.
std::string filter_products(const std::vector<store::entry>& entries, const product_filter& filter);

// GET /products?...: parse_filters then filter_products.
core::result<std::string> list_products(const std::vector<store::entry>& entries,
                                        std::optional<std::string_view> category,
                                        std::optional<std::string_view> in_stock);

// GET /products/{id}: the API form as JSON text, or 404 not_found for an invalid or unknown id.
core::result<std::string> get_product(const read_fn& read, std::string_view id_text);

// Transaction functions. Each validates first and writes nothing when it fails.

// POST /products: stores the product under a new id and returns its API form. 400 as
// validate_create.
core::result<json::value> create_product(store::txn& t, const json::value& body);
// PUT /products/{id}: changes only the given fields and returns the API form. 404 for an
// invalid or unknown id, 400 as validate_update. Writes nothing when nothing changes.
core::result<json::value> update_product(store::txn& t, std::string_view id_text,
                                         const json::value& body);
// DELETE /products/{id}: {"message":"product 1 deleted","id":1}, or 404.
core::result<json::value> delete_product(store::txn& t, std::string_view id_text);

}  // namespace node::shop
