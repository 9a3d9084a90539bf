// Cart changes as transaction functions, and the cart view priced from current products.
#include "node/shop/carts.hpp"

#include "node/shop/fields.hpp"
#include "node/shop/money.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace node::shop {

namespace {

// No cart view can overflow: every line is at most max_price_cents * max_quantity.
static_assert(static_cast<std::int64_t>(max_cart_lines) <=
              std::numeric_limits<std::int64_t>::max() / (max_price_cents * max_quantity));

// A cart line whose product still exists, with that product as read now.
struct cart_line {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
  json::object product;
};

// The stored lines of a cart whose products still exist.
std::vector<cart_line> live_lines(const read_fn& read, const std::optional<json::object>& cart) {
  std::vector<cart_line> out;
  if (!cart)
    return out;
  const json::value* items = cart->if_contains("items");
  if (items == nullptr || !items->is_array())
    return out;
  for (const json::value& v : items->get_array()) {
    if (!v.is_object())
      continue;
    std::int64_t id = stored_int(v.get_object(), "productId");
    std::int64_t quantity = stored_int(v.get_object(), "quantity");
    if (id < 1 || quantity < 1)
      continue;
    auto product = read(products_collection, id_key(static_cast<std::uint64_t>(id)));
    if (product)
      out.push_back({id, quantity, std::move(*product)});
  }
  return out;
}

json::object cart_doc(const std::vector<cart_line>& lines) {
  json::array items;
  for (const cart_line& l : lines) {
    items.push_back(json::object{{"productId", l.product_id}, {"quantity", l.quantity}});
  }
  return json::object{{"items", std::move(items)}};
}

json::value cart_view(std::string_view user_id, const std::vector<cart_line>& lines) {
  json::array items;
  std::int64_t total = 0;
  for (const cart_line& l : lines) {
    std::int64_t price = stored_int(l.product, "price_cents");
    std::int64_t subtotal = price * l.quantity;
    total += subtotal;
    items.push_back(json::object{{"productId", l.product_id},
                                 {"name", stored_string(l.product, "name")},
                                 {"price", cents_to_json(price)},
                                 {"quantity", l.quantity},
                                 {"subtotal", cents_to_json(subtotal)}});
  }
  return json::object{
      {"userId", user_id}, {"items", std::move(items)}, {"total", cents_to_json(total)}};
}

read_fn reader(store::txn& t) {
  return [&t](std::string_view collection, std::string_view id) { return t.get(collection, id); };
}

}  // namespace

core::result<json::value> view_cart(const read_fn& read, std::string_view user_id) {
  auto user = parse_user_id(user_id);
  if (!user)
    return user.error();
  return cart_view(*user, live_lines(read, read(carts_collection, *user)));
}

core::result<json::value> add_to_cart(store::txn& t, std::string_view user_id,
                                      const json::value& body) {
  auto user = parse_user_id(user_id);
  if (!user)
    return user.error();
  const json::object* o = body.if_object();
  if (o == nullptr)
    return core::bad_request("the body must be a JSON object");
  const json::value* product_field = o->if_contains("productId");
  if (product_field == nullptr)
    return core::bad_request("productId is required", "productId");
  auto product_id =
      parse_integer(*product_field, "productId", 1, std::numeric_limits<std::int64_t>::max());
  if (!product_id)
    return product_id.error();
  std::int64_t quantity = 1;
  if (const json::value* q = o->if_contains("quantity")) {
    auto parsed = parse_integer(*q, "quantity", 1, max_quantity);
    if (!parsed)
      return parsed.error();
    quantity = *parsed;
  }
  std::string key = id_key(static_cast<std::uint64_t>(*product_id));
  auto product = t.get(products_collection, key);
  if (!product)
    return core::not_found("product " + key + " not found");

  read_fn read = reader(t);
  std::vector<cart_line> lines = live_lines(read, t.get(carts_collection, *user));
  bool found = false;
  for (cart_line& l : lines) {
    if (l.product_id != *product_id)
      continue;
    if (l.quantity + quantity > max_quantity) {
      return core::bad_request(
          "the cart can hold at most " + std::to_string(max_quantity) + " of product " + key,
          "quantity");
    }
    l.quantity += quantity;
    found = true;
    break;
  }
  if (!found) {
    if (lines.size() >= max_cart_lines) {
      return core::bad_request(
          "the cart can hold at most " + std::to_string(max_cart_lines) + " products", "productId");
    }
    lines.push_back({*product_id, quantity, std::move(*product)});
  }
  std::int64_t total = 0;
  for (const cart_line& l : lines) {
    auto sum = add_line(total, stored_int(l.product, "price_cents"), l.quantity);
    if (!sum)
      return core::bad_request("the cart total would be too large", "quantity");
    total = *sum;
  }
  t.put(carts_collection, *user, cart_doc(lines));
  return cart_view(*user, lines);
}

core::result<json::value> remove_from_cart(store::txn& t, std::string_view user_id,
                                           std::string_view product_id) {
  auto user = parse_user_id(user_id);
  if (!user)
    return user.error();
  auto id = parse_id(product_id, "product");
  if (!id)
    return id.error();
  std::vector<cart_line> lines = live_lines(reader(t), t.get(carts_collection, *user));
  std::size_t i = 0;
  while (i < lines.size() && static_cast<std::uint64_t>(lines[i].product_id) != *id)
    ++i;
  if (i == lines.size()) {
    return core::not_found("product " + id_key(*id) + " is not in the cart of " + *user);
  }
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
  if (lines.empty()) {
    t.del(carts_collection, *user);
  } else {
    t.put(carts_collection, *user, cart_doc(lines));
  }
  return cart_view(*user, lines);
}

}  // namespace node::shop
