#!/usr/bin/env bash
# Allocator A/B: the same sources built twice, with jemalloc (the default, NODE_ALLOCATOR=
# jemalloc) and with glibc's malloc (NODE_ALLOCATOR=system, in BUILD_DIR-system), measured
# side by side in the same run, alternating: a model node's GET /predict against nginx, and
# durable POST /orders (bench/orders.lua, 100 products) at 32 connections on a shop, a
# mirror-shop with a remote mirror and an async-replica with a local secondary, each built
# both ways. Prints req/s and CPU time per request of each; the replicated roles' ratios to
# the shop of the same build. Usage: bench/allocator.sh [SECONDS_PER_RUN] [ROUNDS] (defaults
# 5 and 3; environment and pinning as in bench/lib.sh; NODE_BIN is not used here).
source "$(dirname "$0")/lib.sh"
bench_args 5 3 "$@"
bench_setup node
system_build=$BUILD_DIR-system
echo "bench: building node with NODE_ALLOCATOR=system in $system_build" >&2
if ! {
  cmake -S "$BENCH_ROOT" -B "$system_build" -DNODE_ALLOCATOR=system -DNODE_BUILD_TESTS=OFF
  cmake --build "$system_build" -j "${JOBS:-$(nproc)}" --target node
} > "$BENCH_TMP/build-system.log" 2>&1; then
  cat "$BENCH_TMP/build-system.log" >&2
  echo "bench: the build failed" >&2
  exit 1
fi
declare -A binary=([jemalloc]=$BUILD_DIR/node [system]=$system_build/node)
for a in jemalloc system; do echo "$a: $("${binary[$a]}" --version)"; done

query='/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2'
bench_nginx '{"model":"random_forest","algorithm":"random_forest","prediction":0,"label":"setosa","probabilities":[1.0,0.0,0.0]}'
export ORDER_PRODUCTS=100
for a in jemalloc system; do
  NODE_BIN=${binary[$a]}
  bench_node --role=model --algorithm=random_forest
  bench_target "model $a" "$NODE_URL$query" "" "$NODE_PID"
  bench_node --role=shop --store="sqlite:$BENCH_TMP/shop-$a.db" --seed-demo=false
  bench_seed_products "$NODE_URL" "$ORDER_PRODUCTS"
  bench_target "shop $a" "$NODE_URL/orders" "$BENCH_ORDERS_LUA" "$NODE_PID"
  bench_node --role=shop --store="sqlite:$BENCH_TMP/mirror-$a.db" --read-only-replica
  mirror=$NODE_URL
  mirror_pid=$NODE_PID
  bench_node --role=mirror-shop --store="sqlite:$BENCH_TMP/primary-$a.db" --seed-demo=false \
    --mirror="$mirror"
  bench_seed_products "$NODE_URL" "$ORDER_PRODUCTS"
  bench_target "mirror-shop $a" "$NODE_URL/orders" "$BENCH_ORDERS_LUA" "$NODE_PID $mirror_pid"
  bench_node --role=async-replica --store="sqlite:$BENCH_TMP/async-$a.db" --seed-demo=false \
    --replica="sqlite:$BENCH_TMP/secondary-$a.db" --replication-interval-ms=1000
  bench_seed_products "$NODE_URL" "$ORDER_PRODUCTS"
  bench_target "async-replica $a" "$NODE_URL/orders" "$BENCH_ORDERS_LUA" "$NODE_PID"
done
bench_target nginx "$NGINX_URL$query" "" "$NGINX_PIDS"
bench_rounds 32 "$SECS" "$ROUNDS"
for a in jemalloc system; do
  s=${MED_RPS["shop $a"]}
  echo "== $a: model $(bench_ratio "${MED_RPS["model $a"]}" "${MED_RPS[nginx]}")x nginx;" \
    "shop $s orders/s; mirror-shop $(bench_ratio "${MED_RPS["mirror-shop $a"]}" "$s")x," \
    "async-replica $(bench_ratio "${MED_RPS["async-replica $a"]}" "$s")x the shop"
done
echo "== jemalloc over system: model $(bench_ratio "${MED_RPS["model jemalloc"]}" \
  "${MED_RPS["model system"]}")x, shop $(bench_ratio "${MED_RPS["shop jemalloc"]}" \
  "${MED_RPS["shop system"]}")x"
