// The shop role's routes: each parses the request, runs the shop rules (inside a store
// transaction for writes) and answers. The rules themselves live in src/shop/.
#include "node/roles/shop.hpp"

#include "node/core/log.hpp"
#include "node/shop/carts.hpp"
#include "node/shop/orders.hpp"
#include "node/shop/products.hpp"
#include "node/shop/seed.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace node::roles {
namespace {

using http::context;
using http::response;
using json = core::json::value;

class shop_role final : public role {
 public:
  explicit shop_role(const role_context& ctx) : ctx_(ctx), store_(ctx.store) {}

  void add_routes(http::router& r) override {
    using bhttp::verb;
    r.add_sync(verb::get, "/products", [this](context& c) { return list_products(c); });
    r.add(verb::post, "/products", [this](context& c) { return create_product(c); });
    r.add_sync(verb::get, "/products/{id}", [this](context& c) { return get_product(c); });
    r.add(verb::put, "/products/{id}", [this](context& c) { return update_product(c); });
    r.add(verb::delete_, "/products/{id}", [this](context& c) { return delete_product(c); });
    r.add(verb::post, "/orders", [this](context& c) { return place_order(c); });
    r.add_sync(verb::get, "/orders/{userId}", [this](context& c) { return user_orders(c); });
    r.add_sync(verb::get, "/cart/{userId}", [this](context& c) { return view_cart(c); });
    r.add(verb::post, "/cart/{userId}", [this](context& c) { return add_to_cart(c); });
    r.add(verb::delete_, "/cart/{userId}/item/{productId}",
          [this](context& c) { return remove_from_cart(c); });
    r.add_sync(verb::get, "/ui/", [this](context& c) { return ui_page(c); });
    r.add_sync(verb::get, "/ui/config.json", [this](context&) { return ui_config(); });
  }

  void start() override {
    if (ctx_.config.shop.seed_demo) {
      asio::co_spawn(ctx_.ex, seed(store_), asio::detached);
    }
  }

 private:
  shop::read_fn reader() {
    return [st = store_.get()](std::string_view c, std::string_view id) { return st->get(c, id); };
  }

  // Runs a write in a store transaction and answers with its value (status `ok`) or error.
  // The awaitable is made in its own statement: g++ 12 destroys temporaries that live
  // across a co_await twice.
  asio::awaitable<response> write(store::txn_fn fn, bhttp::status ok = bhttp::status::ok) {
    store::commit_info info;
    auto op = store_->transact_info(std::move(fn), info);
    auto r = co_await std::move(op);
    auto res = http::reply(r, ok);
    if (r) mark_commit(res, info);
    co_return res;
  }

  // X-Commit-Lsn: the LSN of the write's batch; X-Replication-Degraded when a mirrored
  // store acknowledged it without its mirror.
  static void mark_commit(response& res, const store::commit_info& info) {
    if (info.lsn > 0) res.set("X-Commit-Lsn", std::to_string(info.lsn));
    if (info.degraded) res.set("X-Replication-Degraded", "true");
  }

  static asio::awaitable<void> seed(std::shared_ptr<store::store> st) {
    auto op = st->transact([](store::txn& t) { return shop::seed_demo_products(t); });
    auto r = co_await std::move(op);
    if (!r) {
      core::log::warn("shop: demo products not seeded: " + r.error().message);
    } else if (r->as_object().at("seeded").to_number<std::int64_t>() > 0) {
      core::log::info("shop: seeded demo products into a new store");
    }
  }

  response list_products(context& c) {
    auto category = c.query("category");
    auto in_stock = c.query("inStock");
    auto r =
        shop::list_products(store_->list(shop::products_collection),
                            category ? std::optional<std::string_view>(*category) : std::nullopt,
                            in_stock ? std::optional<std::string_view>(*in_stock) : std::nullopt);
    return text_reply(std::move(r));
  }

  response get_product(context& c) {
    return text_reply(shop::get_product(reader(), c.param("id")));
  }

  static response text_reply(core::result<std::string> r) {
    if (!r) return http::error_reply(r.error());
    return http::json_text_reply(bhttp::status::ok, std::move(*r));
  }

  asio::awaitable<response> create_product(context& c) {
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    auto op = write([b = *body](store::txn& t) { return shop::create_product(t, b); },
                    bhttp::status::created);
    co_return co_await std::move(op);
  }

  asio::awaitable<response> update_product(context& c) {
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    auto op = write([b = *body, id = std::string(c.param("id"))](store::txn& t) {
      return shop::update_product(t, id, b);
    });
    co_return co_await std::move(op);
  }

  asio::awaitable<response> delete_product(context& c) {
    auto op = write(
        [id = std::string(c.param("id"))](store::txn& t) { return shop::delete_product(t, id); });
    co_return co_await std::move(op);
  }

  asio::awaitable<response> place_order(context& c) {
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    std::optional<std::string> key;
    if (c.raw().find("Idempotency-Key") != c.raw().end())
      key = std::string(c.header("Idempotency-Key"));
    store::commit_info info;
    auto op = store_->transact_info(
        [b = *body, key](store::txn& t) {
          return shop::place_order(t, b, std::chrono::system_clock::now(),
                                   key ? std::optional<std::string_view>(*key) : std::nullopt);
        },
        info);
    auto r = co_await std::move(op);
    if (!r) co_return http::error_reply(r.error());
    auto placed = shop::unpack_placed_order(std::move(*r));
    response res = http::json_reply(bhttp::status::created, placed.order);
    mark_commit(res, info);
    if (placed.replayed) res.set("Idempotency-Replayed", "true");
    co_return res;
  }

  response user_orders(context& c) {
    // The user's orders only: parsing every order on the loop took 180-200 ms with 75,000.
    return http::reply(shop::orders_for_user(
        [this](std::string_view user) {
          return store_->list_where(shop::orders_collection, "userId", user);
        },
        c.param("userId")));
  }

  response view_cart(context& c) {
    return http::reply(shop::view_cart(reader(), c.param("userId")));
  }

  asio::awaitable<response> add_to_cart(context& c) {
    auto body = c.json_body();
    if (!body) co_return http::error_reply(body.error());
    auto op = write([b = *body, user = std::string(c.param("userId"))](store::txn& t) {
      return shop::add_to_cart(t, user, b);
    });
    co_return co_await std::move(op);
  }

  asio::awaitable<response> remove_from_cart(context& c) {
    auto op =
        write([user = std::string(c.param("userId")), product = std::string(c.param("productId"))](
                  store::txn& t) { return shop::remove_from_cart(t, user, product); });
    co_return co_await std::move(op);
  }

  // "/ui" and "/ui/" match the same route; the page needs the slash for relative links.
  response ui_page(context& c) {
    if (c.path().empty() || c.path().back() != '/') {
      response res{bhttp::status::moved_permanently, 11};
      res.set(bhttp::field::location, "/ui/");
      res.set(bhttp::field::content_type, http::json_content_type);
      res.body() = R"({"message":"the shop's page is at /ui/"})";
      return res;
    }
    return http::text_reply(bhttp::status::ok, "text/html; charset=utf-8", shop_ui_html);
  }

  // What the page needs to know: the registry to ask for a shop (null: call this node).
  response ui_config() {
    const auto& url = ctx_.config.shop.registry_url;
    return http::json_reply(
        core::json::object{{"registry", url.empty() ? json(nullptr) : json(url)}});
  }

  role_context ctx_;
  std::shared_ptr<store::store> store_;
};

}  // namespace

std::unique_ptr<role> make_shop(const role_context& ctx) {
  return std::make_unique<shop_role>(ctx);
}

}  // namespace node::roles
