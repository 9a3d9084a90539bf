#!/usr/bin/env bash
# Shop benchmark: GET /products/1, GET /products (1000 products) and durable POST /orders
# at 32 connections against nginx in the same run, alternating; group-commit ratio from
# /metrics; RSS with 100k products. Usage: bench/shop.sh [SECONDS_PER_RUN] [ROUNDS]
source "$(dirname "$0")/lib.sh"
secs=${1:-5}
rounds=${2:-3}
bench_setup

nginx_port=$(bench_free_port)
bench_nginx "$nginx_port" '{"id":1,"name":"Smartwatch","price":199.99,"stock":12,"inStock":true}'
nginx_url=http://127.0.0.1:$nginx_port/

# A store with 1000 products, each with plenty of stock for the order load.
port=$(bench_free_port)
bench_node --role=shop --port="$port" --store="sqlite:$BENCH_TMP/shop.db" --seed-demo=false > /dev/null
base=http://127.0.0.1:$port
bench_wait "$base/health"
for i in $(seq 1 1000); do
  printf '{"name":"product %d","description":"bench","price":%d.99,"category":"c%d","stock":1000000000}\n' \
    "$i" "$((i % 500))" "$((i % 7))"
done | xargs -d '\n' -P 8 -I{} curl -fs -o /dev/null -H 'Content-Type: application/json' -d '{}' "$base/products"

echo "# GET /products/1 (32 connections)"
bench_compare "GET /products/1" "$base/products/1" "$nginx_url" 32 "$secs" "$rounds"
echo "# GET /products, 1000 products (32 connections)"
bench_compare "GET /products" "$base/products" "$nginx_url" 32 "$secs" "$rounds"

cat > "$BENCH_TMP/order.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"userId":"u%d","items":[{"productId":%d,"quantity":1}]}',
                             counter % 100, counter % 1000 + 1)
  return wrk.format(nil, "/orders", nil, body)
end
LUA
before_batches=$(bench_metric "$base/metrics" store_batches_committed_total)
before_commits=$(bench_metric "$base/metrics" store_commits_total)
echo "# POST /orders, durable (32 connections)"
bench_compare "POST /orders" "$base/orders" "$nginx_url" 32 "$secs" "$rounds" "$BENCH_TMP/order.lua"
after_batches=$(bench_metric "$base/metrics" store_batches_committed_total)
after_commits=$(bench_metric "$base/metrics" store_commits_total)
awk -v b="$((after_batches - before_batches))" -v c="$((after_commits - before_commits))" \
  'BEGIN {printf "== group commit: %d batches in %d fsyncs = %.1f commits per fsync\n", b, c, b / c}'

# RSS with 100k products: written straight into a fresh store file by sqlite3 (the
# docs/next_ids tables of docs/storage.md), then listed once.
port2=$(bench_free_port)
db=$BENCH_TMP/big.db
pid=$(bench_node --role=shop --port="$port2" --store="sqlite:$db" --seed-demo=false)
bench_wait "http://127.0.0.1:$port2/health"
sqlite3 "$db" <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO docs(collection, id, body)
  SELECT 'products', CAST(i AS TEXT),
         json_object('name', 'product ' || i, 'description', 'a product for the RSS benchmark',
                     'price_cents', i % 100000, 'category', 'c' || (i % 10), 'stock', i % 50)
  FROM n;
INSERT OR REPLACE INTO next_ids(collection, last) VALUES('products', 100000);
SQL
curl -fs -o /dev/null "http://127.0.0.1:$port2/products"
curl -fs -o /dev/null "http://127.0.0.1:$port2/products?category=c3&inStock=true"
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "== RSS with 100k products after listing them: peak $((rss_kb / 1024)) MB"
