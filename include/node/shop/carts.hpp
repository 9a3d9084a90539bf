// The shop's carts: adding and removing products and the priced view.
//
// Stored in collection "carts" under the userId as {"items":[{"productId","quantity"}]};
// a cart emptied by removals is deleted. Carts are priced from the current products when
// shown; a product deleted since it was added is left out of the view and dropped from the
// stored cart at its next change. Adding does not check stock: placing the order does.
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"
#include "node/shop/products.hpp"
#include "node/store/store.hpp"

#include <cstddef>
#include <string_view>

namespace node::shop {

namespace json = core::json;

inline constexpr std::string_view carts_collection = "carts";
inline constexpr std::size_t max_cart_lines = 50;

// GET /cart/{userId}: {"userId","items":[{"productId","name","price","quantity",
// "subtotal"}],"total"}; empty items and total 0 for a user without a cart. 400 naming
// "userId" for an invalid user id.
core::result<json::value> view_cart(const read_fn& read, std::string_view user_id);

// POST /cart/{userId} {"productId":1,"quantity":2} as a transaction function; quantity
// defaults to 1 and adds to what the cart already holds. Returns the cart view.
// 400 naming the field: userId, body not an object, productId missing or not an integer
// >= 1, quantity not an integer in [1, 1e6], a line above 1e6 ("quantity"), a 51st product
// ("productId"), a total above max_total_cents ("quantity"). 404 for an unknown product.
core::result<json::value> add_to_cart(store::txn& t, std::string_view user_id,
                                      const json::value& body);

// DELETE /cart/{userId}/item/{productId} as a transaction function: removes the line and
// returns the cart view. 400 for an invalid userId; 404 when the product id is invalid or
// not in the cart (or its product was deleted).
core::result<json::value> remove_from_cart(store::txn& t, std::string_view user_id,
                                           std::string_view product_id);

}  // namespace node::shop
