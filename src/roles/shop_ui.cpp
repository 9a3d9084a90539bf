// The shop's web page: one HTML document with its script, served at /ui/. With a registry
// configured (shop --registry, read from /ui/config.json, or ?registry=URL) it asks the
// registry's /getServer for a shop before each API call and, when that shop cannot be
// reached, asks again and retries on another; without one it calls the node that served
// it (or, with ?api=http://host:port, another node).
#include "node/roles/shop.hpp"

namespace node::roles {

const char* const shop_ui_html = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>node shop</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
  header { background: #1d3557; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 20px; margin: 0; flex: 1; }
  header input { padding: 6px; border-radius: 4px; border: 0; width: 120px; }
  main { display: grid; grid-template-columns: 2fr 1fr; gap: 20px; padding: 20px; }
  section { background: #fff; border-radius: 8px; padding: 16px; box-shadow: 0 1px 3px #0002; }
  h2 { font-size: 16px; margin: 0 0 12px; }
  .filters { display: flex; gap: 12px; margin-bottom: 12px; align-items: center; }
  table { width: 100%; border-collapse: collapse; }
  td, th { padding: 6px 4px; border-bottom: 1px solid #eee; text-align: left; font-size: 14px; }
  td.num, th.num { text-align: right; }
  button { background: #457b9d; color: #fff; border: 0; border-radius: 4px; padding: 5px 10px; cursor: pointer; }
  button:disabled { background: #aaa; cursor: default; }
  button.danger { background: #c0392b; }
  #status { padding: 8px 20px; font-size: 14px; min-height: 18px; }
  #status.error { color: #c0392b; }
  .muted { color: #777; font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>node shop</h1>
  <label>user <input id="user" value="alice"></label>
  <span class="muted" id="server" style="color:#cfd8e3"></span>
</header>
<div id="status"></div>
<main>
  <section>
    <h2>Products</h2>
    <div class="filters">
      <label>category <select id="category"><option value="">all</option></select></label>
      <label><input type="checkbox" id="instock"> in stock only</label>
    </div>
    <table><thead><tr><th>name</th><th>category</th><th class="num">price</th><th class="num">stock</th><th></th></tr></thead>
    <tbody id="products"></tbody></table>
  </section>
  <div>
    <section>
      <h2>Cart</h2>
      <table><tbody id="cart"></tbody></table>
      <p><b>Total: <span id="total">0.00</span></b></p>
      <button id="order">Place order</button>
    </section>
    <section style="margin-top:20px">
      <h2>Orders</h2>
      <table><tbody id="orders"></tbody></table>
    </section>
  </div>
</main>
<script>
const params = new URLSearchParams(location.search);
const fixedApi = params.get('api');       // one shop, no registry
let registry = params.get('registry');    // else read from config.json
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const money = (n) => Number(n).toFixed(2);
const user = () => encodeURIComponent($('user').value.trim() || 'alice');

function say(text, isError) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
// fetch with a time limit, so a shop that hangs counts as unreachable.
async function fetchWithin(url, opts, ms) {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  try {
    return await fetch(url, { ...opts, signal: stop.signal });
  } finally {
    clearTimeout(timer);
  }
}

// Where the API is: the registry's choice ('http://host:port'), or '' (the node that served
// the page) when there is no registry or it has no healthy shop to offer.
async function pickShop() {
  if (fixedApi !== null) return fixedApi;
  if (!registry) return '';
  try {
    const res = await fetchWithin(registry + '/getServer', {}, 2000);
    const data = await res.json();
    if (res.ok && data.server) return 'http://' + data.server;
  } catch (e) { /* registry unreachable: fall back to this node */ }
  return '';
}

// One API call. A network failure (the shop died, refused, or hung) is retried on the shop
// the registry names next, skipping those that just failed, with short pauses so the
// registry's health checks catch up. Orders carry an Idempotency-Key, so a retried order is
// placed once; any HTTP answer, error or not, is final.
async function call(method, path, body, headers = {}) {
  const opts = { method, headers: { ...headers } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const failed = new Set();
  let lastError = null;
  for (let attempt = 0; attempt < 8; ++attempt) {
    const base = await pickShop();
    if (failed.has(base)) {
      await sleep(150 * attempt);
      continue;
    }
    let res;
    try {
      res = await fetchWithin(base + path, opts, 5000);
    } catch (e) {
      lastError = e;
      failed.add(base);
      if (fixedApi !== null || !registry) break;
      continue;
    }
    $('server').textContent = 'shop: ' + (base ? base.replace('http://', '') : location.host);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
    return data;
  }
  throw new Error('no shop answered' + (lastError ? ' (' + lastError.message + ')' : ''));
}

let categoriesSeen = new Set();
async function loadProducts() {
  const q = new URLSearchParams();
  if ($('category').value) q.set('category', $('category').value);
  if ($('instock').checked) q.set('inStock', 'true');
  const products = await call('GET', '/products' + (q.toString() ? '?' + q : ''));
  for (const p of products) {
    if (!categoriesSeen.has(p.category)) {
      categoriesSeen.add(p.category);
      $('category').insertAdjacentHTML('beforeend', `<option>${esc(p.category)}</option>`);
    }
  }
  $('products').innerHTML = products.map((p) => `<tr><td>${esc(p.name)}<div class="muted">${esc(p.description)}</div></td>
    <td>${esc(p.category)}</td><td class="num">${money(p.price)}</td><td class="num">${p.stock}</td>
    <td><button data-add="${p.id}" ${p.inStock ? '' : 'disabled'}>Add</button></td></tr>`).join('');
}

async function loadCart() {
  const cart = await call('GET', '/cart/' + user());
  $('cart').innerHTML = cart.items.map((i) => `<tr><td>${esc(i.name)}</td><td class="num">${i.quantity} x ${money(i.price)}</td>
    <td class="num">${money(i.subtotal)}</td><td><button class="danger" data-remove="${i.productId}">x</button></td></tr>`).join('')
    || '<tr><td class="muted">empty</td></tr>';
  $('total').textContent = money(cart.total);
  $('order').disabled = cart.items.length === 0;
  return cart;
}

async function loadOrders() {
  const orders = await call('GET', '/orders/' + user());
  $('orders').innerHTML = orders.slice().reverse().map((o) => `<tr><td>#${o.id}</td>
    <td>${o.items.map((i) => esc(i.quantity + ' x ' + i.name)).join(', ')}</td>
    <td class="num">${money(o.total)}</td><td class="muted">${esc(o.createdAt.slice(0, 19).replace('T', ' '))}</td></tr>`).join('')
    || '<tr><td class="muted">none yet</td></tr>';
}

async function refresh() {
  try {
    await Promise.all([loadProducts(), loadCart(), loadOrders()]);
  } catch (e) {
    say('cannot reach the shop: ' + e.message, true);
  }
}

document.addEventListener('click', async (ev) => {
  const add = ev.target.dataset.add, remove = ev.target.dataset.remove;
  try {
    if (add) {
      await call('POST', '/cart/' + user(), { productId: Number(add), quantity: 1 });
      say('added to cart');
    } else if (remove) {
      await call('DELETE', '/cart/' + user() + '/item/' + remove);
      say('removed from cart');
    } else if (ev.target.id === 'order') {
      const cart = await loadCart();
      const items = cart.items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
      const key = 'ui-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
      const order = await call('POST', '/orders', { userId: decodeURIComponent(user()), items },
                               { 'Idempotency-Key': key });
      for (const i of cart.items) await call('DELETE', '/cart/' + user() + '/item/' + i.productId);
      say(`order #${order.id} confirmed, total ${money(order.total)}`);
    } else {
      return;
    }
  } catch (e) {
    say(e.message, true);
  }
  refresh();
});
$('category').addEventListener('change', refresh);
$('instock').addEventListener('change', refresh);
$('user').addEventListener('change', refresh);
async function start() {
  if (fixedApi === null && !registry) {
    try {
      const config = await (await fetchWithin('config.json', {}, 2000)).json();
      registry = config.registry || null;
    } catch (e) { /* no config: call this node */ }
  }
  refresh();
}
start();
</script>
</body>
</html>
)html";

}  // namespace node::roles
