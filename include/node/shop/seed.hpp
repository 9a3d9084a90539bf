// Demo products for a new shop.
#pragma once

#include "node/core/error.hpp"
#include "node/core/json.hpp"
#include "node/store/store.hpp"

#include <vector>

namespace node::shop {

namespace json = core::json;

// Seven realistic products in the stored form (one of them out of stock).
std::vector<json::object> demo_products();

// A transaction function that stores demo_products() under ids 1.. when the shop has
// never had a product: the collection is empty and no product id was ever handed out.
// Returns {"seeded":N} (0 when it did nothing). Takes one product id even when it seeds
// nothing, so it seeds at most once per store.
core::result<json::value> seed_demo_products(store::txn& t);

}  // namespace node::shop
