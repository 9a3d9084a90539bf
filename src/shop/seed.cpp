// The demo products and the transaction that seeds them into a new shop.
#include "node/shop/seed.hpp"

#include "node/shop/fields.hpp"
#include "node/shop/products.hpp"

#include <cstdint>
#include <string_view>

namespace node::shop {

namespace {

json::object demo(std::string_view name, std::string_view description, std::int64_t price_cents,
                  std::string_view category, std::int64_t stock) {
  return json::object{{"name", name},
                      {"description", description},
                      {"price_cents", price_cents},
                      {"category", category},
                      {"stock", stock}};
}

}  // namespace

std::vector<json::object> demo_products() {
  return {
      demo("Smartwatch", "Fitness tracking, heart-rate monitor and 5-day battery", 19999,
           "electronics", 12),
      demo("Wireless Earbuds", "Noise-cancelling Bluetooth earbuds with charging case", 7999,
           "electronics", 30),
      demo("USB-C Charger", "65 W fast charger with two ports", 2950, "electronics", 0),
      demo("Running Shoes", "Lightweight trail running shoes", 8999, "sports", 8),
      demo("Yoga Mat", "Non-slip 6 mm exercise mat", 2499, "sports", 20),
      demo("Coffee Mug", "Ceramic mug, 350 ml", 1250, "home", 50),
      demo("Desk Lamp", "Dimmable LED desk lamp with USB port", 3999, "home", 15),
  };
}

core::result<json::value> seed_demo_products(store::txn& t) {
  auto nothing = [] { return json::value(json::object{{"seeded", 0}}); };
  if (!t.list(products_collection).empty())
    return nothing();
  std::uint64_t id = t.next_id(products_collection);
  if (id != 1)
    return nothing();
  std::int64_t seeded = 0;
  for (json::object& doc : demo_products()) {
    if (seeded > 0)
      id = t.next_id(products_collection);
    t.put(products_collection, id_key(id), std::move(doc));
    ++seeded;
  }
  return json::object{{"seeded", seeded}};
}

}  // namespace node::shop
