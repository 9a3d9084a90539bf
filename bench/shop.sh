#!/usr/bin/env bash
# Shop benchmark: GET /products/1, GET /products (1000 products) and durable POST /orders
# (bench/orders.lua) at 32 connections against nginx in the same run, alternating, with the
# shop's CPU time per request; group-commit ratio from /metrics; RSS with 100k products.
# Usage: bench/shop.sh [SECONDS_PER_RUN] [ROUNDS]   (defaults 5 and 3; environment and
# pinning as in bench/lib.sh)
source "$(dirname "$0")/lib.sh"
bench_args 5 3 "$@"
bench_setup node

bench_nginx '{"id":1,"name":"Smartwatch","price":199.99,"stock":12,"inStock":true}'

# A store with 1000 products, each with plenty of stock for the order load.
bench_node --role=shop --store="sqlite:$BENCH_TMP/shop.db" --seed-demo=false
base=$NODE_URL
pid=$NODE_PID
bench_seed_products "$base" 1000

echo "# GET /products/1"
bench_compare "GET /products/1" "$base/products/1" "$NGINX_URL/" 32 "$SECS" "$ROUNDS" "" "$pid"
echo "# GET /products, 1000 products"
bench_compare "GET /products" "$base/products" "$NGINX_URL/" 32 "$SECS" "$ROUNDS" "" "$pid"

before_batches=$(bench_metric "$base/metrics" store_batches_committed_total)
before_commits=$(bench_metric "$base/metrics" store_commits_total)
echo "# POST /orders, durable"
bench_compare "POST /orders" "$base/orders" "$NGINX_URL/" 32 "$SECS" "$ROUNDS" "$BENCH_ORDERS_LUA" "$pid"
after_batches=$(bench_metric "$base/metrics" store_batches_committed_total)
after_commits=$(bench_metric "$base/metrics" store_commits_total)
awk -v b="$((after_batches - before_batches))" -v c="$((after_commits - before_commits))" \
  'BEGIN {printf "== group commit: %d batches in %d fsyncs = %.1f commits per fsync\n", b, c, b / c}'

# RSS with 100k products: written straight into a fresh store file by sqlite3 (the
# docs/next_ids tables of docs/storage.md), then listed once.
db=$BENCH_TMP/big.db
bench_node --role=shop --store="sqlite:$db" --seed-demo=false
sqlite3 "$db" <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO docs(collection, id, body)
  SELECT 'products', CAST(i AS TEXT),
         json_object('name', 'product ' || i, 'description', 'a product for the RSS benchmark',
                     'price_cents', i % 100000, 'category', 'c' || (i % 10), 'stock', i % 50)
  FROM n;
INSERT OR REPLACE INTO next_ids(collection, last) VALUES('products', 100000);
SQL
curl -fs -o /dev/null "$NODE_URL/products"
curl -fs -o /dev/null "$NODE_URL/products?category=c3&inStock=true"
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$NODE_PID/status")
echo "== RSS with 100k products after listing them: peak $((rss_kb / 1024)) MB"
