#!/usr/bin/env bash
# Replication benchmark: durable POST /orders at 32 connections on the plain shop, mirror-shop
# (remote mirror: a replica shop) and async-replica (1000 ms interval, local sqlite secondary),
# alternating in the same run, plus nginx as the house reference; then async-replica's
# shipping lag p99 under about 1000 writes/s, from the replication_lag_seconds histogram.
# Usage: bench/replication.sh [SECONDS_PER_RUN] [ROUNDS]
source "$(dirname "$0")/lib.sh"
secs=${1:-5}
rounds=${2:-3}
bench_setup

nginx_port=$(bench_free_port)
bench_nginx "$nginx_port" '{"id":1,"userId":"u","total":1.0,"status":"confirmed"}'
nginx_url=http://127.0.0.1:$nginx_port/

start() { # NAME ARGS...: starts a node on a free port, waits for it, prints its base URL
  local port
  port=$(bench_free_port)
  bench_node --port="$port" "$@" > /dev/null
  bench_wait "http://127.0.0.1:$port/health"
  echo "http://127.0.0.1:$port"
}

seed() { # BASE: 100 products with plenty of stock
  for i in $(seq 1 100); do
    printf '{"name":"p%d","description":"bench","price":%d.5,"category":"c","stock":1000000000}\n' "$i" "$i"
  done | xargs -d '\n' -P 8 -I{} curl -fs -o /dev/null -H 'Content-Type: application/json' -d '{}' "$1/products"
}

shop=$(start --role=shop --store="sqlite:$BENCH_TMP/shop.db" --seed-demo=false)
mirror=$(start --role=shop --store="sqlite:$BENCH_TMP/mirror.db" --read-only-replica)
mirrored=$(start --role=mirror-shop --store="sqlite:$BENCH_TMP/primary.db" --seed-demo=false \
  --mirror="$mirror")
async=$(start --role=async-replica --store="sqlite:$BENCH_TMP/async.db" --seed-demo=false \
  --replica="sqlite:$BENCH_TMP/secondary.db" --replication-interval-ms=1000)
for url in "$shop" "$mirrored" "$async"; do seed "$url"; done

cat > "$BENCH_TMP/order.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"userId":"u%d","items":[{"productId":%d,"quantity":1}]}',
                             counter % 100, counter % 100 + 1)
  return wrk.format(nil, "/orders", nil, body)
end
LUA

echo "# POST /orders, durable, 32 connections, alternating"
shop_rps=() mirror_rps=() async_rps=() nginx_rps=()
for r in $(seq 1 "$rounds"); do
  bench_wrk "shop #$r" "$shop/orders" 32 "$secs" "$BENCH_TMP/order.lua"; shop_rps+=("$WRK_RPS")
  bench_wrk "mirror-shop #$r" "$mirrored/orders" 32 "$secs" "$BENCH_TMP/order.lua"; mirror_rps+=("$WRK_RPS")
  bench_wrk "async-replica #$r" "$async/orders" 32 "$secs" "$BENCH_TMP/order.lua"; async_rps+=("$WRK_RPS")
  bench_wrk "nginx #$r" "$nginx_url" 32 "$secs"; nginx_rps+=("$WRK_RPS")
done
s=$(bench_median "${shop_rps[@]}")
m=$(bench_median "${mirror_rps[@]}")
a=$(bench_median "${async_rps[@]}")
n=$(bench_median "${nginx_rps[@]}")
awk -v s="$s" -v m="$m" -v a="$a" -v n="$n" 'BEGIN {
  printf "== shop %s req/s, mirror-shop %s req/s (%.2fx, target >= 0.7x), async-replica %s req/s (%.2fx, target >= 0.95x); nginx %s req/s\n", s, m, m / s, a, a / s, n }'
curl -fs "$mirrored/replication/status"; echo
curl -fs -X POST "$async/sync"; echo

# Lag at about 1000 writes/s: 14 connections, each waiting 10 ms between requests.
cat > "$BENCH_TMP/paced.lua" <<'LUA'
dofile(os.getenv("ORDER_LUA"))
delay = function() return 10 end
LUA
async2=$(start --role=async-replica --store="sqlite:$BENCH_TMP/async2.db" --seed-demo=false \
  --replica="sqlite:$BENCH_TMP/secondary2.db" --replication-interval-ms=1000)
seed "$async2"
curl -fs -X POST "$async2/sync" > /dev/null
ORDER_LUA=$BENCH_TMP/order.lua bench_wrk "async-replica paced" "$async2/orders" 14 "$((secs * 2))" "$BENCH_TMP/paced.lua"
curl -fs -X POST "$async2/sync" > /dev/null
curl -fs "$async2/metrics" | awk '
  /^replication_lag_seconds_bucket/ { match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); b[++k] = le; c[k] = $2 }
  /^replication_lag_seconds_count/ { total = $2 }
  END {
    for (i = 1; i <= k; i++) if (c[i] >= 0.99 * total) { printf "== async lag p99 <= %s s over %d batches (target <= interval + 0.05 s = 1.05 s)\n", b[i], total; exit }
  }'
