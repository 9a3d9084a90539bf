// Runs the shop's /ui/ page script under Node.js with a minimal fake DOM against real nodes: the
// page must reach the API through the registry and keep working, without a duplicate
// order, when the shop that served it is killed.
// Usage: node page_failover.mjs REGISTRY_PORT SHOP_A_PORT SHOP_A_PID SHOP_B_PORT
const [registryPort, shopA, shopAPid, shopB] = process.argv.slice(2);
const registry = `http://127.0.0.1:${registryPort}`;
const origin = `http://127.0.0.1:${shopA}`;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const fail = (what) => {
  console.error('page failover: ' + what);
  process.exit(1);
};
const until = async (what, pred, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) fail('timed out waiting for ' + what);
    await sleep(20);
  }
};

for (const port of [shopA, shopB]) {
  const res = await fetch(registry + '/servers', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ server: `127.0.0.1:${port}` }),
  });
  if (res.status !== 201) fail(`POST /servers answered ${res.status}`);
}
const html = await (await fetch(origin + '/ui/')).text();
const script = html.match(/<script>([\s\S]*)<\/script>/);
if (!script) fail('no <script> in /ui/');

// A minimal fake DOM (a test double): just what the page touches.
const elements = {};
const el = (id) => (elements[id] ||= {
  id, textContent: '', innerHTML: '', value: id === 'user' ? 'page-user' : '', checked: false,
  className: '', disabled: false, dataset: {}, insertAdjacentHTML() {}, addEventListener() {},
});
const clickHandlers = [];
globalThis.location = { search: '', host: `127.0.0.1:${shopA}` };
globalThis.document = { getElementById: el, addEventListener: (ev, fn) => clickHandlers.push(fn) };
const realFetch = globalThis.fetch;
const asked = [];
globalThis.fetch = (url, opts) => {
  const absolute = /^https?:/.test(url) ? url : origin + '/ui/' + url;
  asked.push(absolute);
  return realFetch(absolute, opts);
};
(0, eval)(script[1]);

const status = () => el('status').textContent;
const click = async (target) => {
  el('status').textContent = '';
  for (const fn of clickHandlers) await fn({ target });
};

await until('the first refresh', () => el('products').innerHTML.includes('data-add'));
if (!asked.some((u) => u === registry + '/getServer')) fail('the page did not ask the registry');
await click({ dataset: { add: '1' } });
if (status() !== 'added to cart') fail('add to cart: ' + status());

process.kill(Number(shopAPid), 'SIGKILL');
await click({ dataset: { add: '1' } });
if (status() !== 'added to cart') fail('add to cart after the kill: ' + status());
await click({ id: 'order', dataset: {} });
if (!/^order #\d+ confirmed/.test(status())) fail('order after the kill: ' + status());
if (!el('server').textContent.endsWith(':' + shopB)) fail('label: ' + el('server').textContent);

const orders = await (await realFetch(`http://127.0.0.1:${shopB}/orders/page-user`)).json();
if (orders.length !== 1) fail(`${orders.length} orders, expected 1`);
if (orders[0].items[0].quantity !== 2) fail('ordered quantity ' + orders[0].items[0].quantity);
const cart = await (await realFetch(`http://127.0.0.1:${shopB}/cart/page-user`)).json();
if (cart.items.length !== 0) fail('the cart was not emptied');
console.log('page failover: passed');
