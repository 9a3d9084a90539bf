#!/usr/bin/env bash
# Replication benchmark: durable POST /orders (bench/orders.lua) at 32 connections on the plain
# shop, mirror-shop (remote mirror: a replica shop), mirror-shop with a local sqlite mirror (as
# the workshop's mirrored shop, there with JSON files), async-replica (1000 ms interval, local
# sqlite secondary) and async-replica with a remote secondary (a replica shop), alternating in
# the same run, plus nginx as the house reference, with the CPU time per request of each
# (mirror-shop's and the remote async's count their replica's); then async-replica's shipping
# lag p99 under about 1000 writes/s, from the replication_lag_seconds histogram.
# Usage: bench/replication.sh [SECONDS_PER_RUN] [ROUNDS]   (defaults 5 and 3; environment and
# pinning as in bench/lib.sh)
source "$(dirname "$0")/lib.sh"
bench_args 5 3 "$@"
bench_setup node

bench_nginx '{"id":1,"userId":"u","total":1.0,"status":"confirmed"}'
export ORDER_PRODUCTS=100

bench_node --role=shop --store="sqlite:$BENCH_TMP/shop.db" --seed-demo=false
shop=$NODE_URL
shop_pid=$NODE_PID
bench_node --role=shop --store="sqlite:$BENCH_TMP/mirror.db" --read-only-replica
mirror=$NODE_URL
mirror_pid=$NODE_PID
bench_node --role=mirror-shop --store="sqlite:$BENCH_TMP/primary.db" --seed-demo=false --mirror="$mirror"
mirrored=$NODE_URL
mirrored_pid=$NODE_PID
bench_node --role=mirror-shop --store="sqlite:$BENCH_TMP/primary-local.db" --seed-demo=false \
  --mirror="sqlite:$BENCH_TMP/mirror-local.db"
mirrored_local=$NODE_URL
mirrored_local_pid=$NODE_PID
bench_node --role=async-replica --store="sqlite:$BENCH_TMP/async.db" --seed-demo=false \
  --replica="sqlite:$BENCH_TMP/secondary.db" --replication-interval-ms=1000
async=$NODE_URL
async_pid=$NODE_PID
bench_node --role=shop --store="sqlite:$BENCH_TMP/secondary-remote.db" --read-only-replica
secondary=$NODE_URL
secondary_pid=$NODE_PID
bench_node --role=async-replica --store="sqlite:$BENCH_TMP/async-remote.db" --seed-demo=false \
  --replica="$secondary" --replication-interval-ms=1000
async_remote=$NODE_URL
async_remote_pid=$NODE_PID
for url in "$shop" "$mirrored" "$mirrored_local" "$async" "$async_remote"; do
  bench_seed_products "$url" "$ORDER_PRODUCTS"
done

echo "# POST /orders, durable"
bench_target shop "$shop/orders" "$BENCH_ORDERS_LUA" "$shop_pid"
bench_target mirror-shop "$mirrored/orders" "$BENCH_ORDERS_LUA" "$mirrored_pid $mirror_pid"
bench_target mirror-local "$mirrored_local/orders" "$BENCH_ORDERS_LUA" "$mirrored_local_pid"
# After an async run its last second of writes is still being shipped: /sync waits for it so
# that the shipping does not run inside the next target's measurement.
bench_target async-replica "$async/orders" "$BENCH_ORDERS_LUA" "$async_pid" \
  "curl -fs -X POST '$async/sync' > /dev/null"
bench_target async-remote "$async_remote/orders" "$BENCH_ORDERS_LUA" \
  "$async_remote_pid $secondary_pid" "curl -fs -X POST '$async_remote/sync' > /dev/null"
bench_target nginx "$NGINX_URL/" "" "$NGINX_PIDS"
bench_rounds 32 "$SECS" "$ROUNDS"
s=${MED_RPS[shop]}
m=${MED_RPS[mirror-shop]}
l=${MED_RPS[mirror-local]}
a=${MED_RPS[async-replica]}
r=${MED_RPS[async-remote]}
echo "== shop $s req/s, mirror-shop $m req/s ($(bench_ratio "$m" "$s")x, target >= 0.7x)," \
  "with a local mirror $l req/s ($(bench_ratio "$l" "$s")x)," \
  "async-replica $a req/s ($(bench_ratio "$a" "$s")x, target >= 0.95x), with a remote" \
  "secondary $r req/s ($(bench_ratio "$r" "$s")x); nginx ${MED_RPS[nginx]} req/s"
curl -fs "$mirrored/replication/status"; echo
curl -fs -X POST "$async/sync"; echo

# Lag at about 1000 writes/s: 14 connections, each waiting 10 ms between requests.
bench_node --role=async-replica --store="sqlite:$BENCH_TMP/async2.db" --seed-demo=false \
  --replica="sqlite:$BENCH_TMP/secondary2.db" --replication-interval-ms=1000
async2=$NODE_URL
bench_seed_products "$async2" "$ORDER_PRODUCTS"
curl -fs -X POST "$async2/sync" > /dev/null
ORDER_DELAY_MS=10 bench_wrk "async-replica paced" "$async2/orders" 14 "$((SECS * 2))" "$BENCH_ORDERS_LUA"
curl -fs -X POST "$async2/sync" > /dev/null
read -r bound batches < <(bench_metric_quantile "$async2/metrics" replication_lag_seconds 0.99)
echo "== async lag p99 <= $bound s over $batches batches (target <= interval + 0.05 s = 1.05 s)"
