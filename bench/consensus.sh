#!/usr/bin/env bash
# Consensus benchmark: GET /predict on a consensus node over three local model nodes
# (random_forest, decision_tree, knn) at 32 connections, against nginx in the same run,
# alternating; once with the default json store (every batch a durable commit) and once with
# memory:. Then a labelled POST /predict of 15 rows. Targets: >= 0.25x nginx's req/s and
# p99 <= 5 ms. Also prints the CPU time per request of the consensus node and of the three
# models together (from /proc).
# Usage: bench/consensus.sh [SECONDS_PER_RUN] [ROUNDS]   (defaults 5 and 3; environment and
# pinning as in bench/lib.sh)
source "$(dirname "$0")/lib.sh"
bench_args 5 3 "$@"
bench_setup node

bench_nginx '{"consensus_prediction":0,"label":"setosa","individual_predictions":[0,0,0]}'

models=""
model_pids=()
for algorithm in random_forest decision_tree knn; do
  bench_node --role=model --algorithm="$algorithm" --model-id="$algorithm"
  model_pids+=("$NODE_PID")
  models+="${models:+,}$algorithm=$NODE_URL"
done

query='sl=5.1&sw=3.5&pl=1.4&pw=0.2'
counted='consensus_batches_total{result="counted"}'
for store in "json:$BENCH_TMP/balances.json" memory:; do
  bench_node --role=consensus --store="$store" --models="$models"
  base=$NODE_URL
  pid=$NODE_PID
  bench_wait "$base/predict?$query"
  echo "# GET /predict over 3 models, store $store"
  batches_before=$(bench_metric "$base/metrics" "$counted")
  node_before=$(bench_cpu_ticks "$pid")
  models_before=$(bench_cpu_ticks "${model_pids[@]}")
  bench_compare "GET /predict ${store%%:*}" "$base/predict?$query" "$NGINX_URL/" 32 "$SECS" "$ROUNDS" "" "$pid"
  node_after=$(bench_cpu_ticks "$pid")
  models_after=$(bench_cpu_ticks "${model_pids[@]}")
  echo "== targets: ratio >= 0.25: $(bench_ok "$CMP_RATIO >= 0.25"), p99 <= 5 ms: $(bench_ok "$CMP_NODE_P99 <= 5")"
  batches=$(($(bench_metric "$base/metrics" "$counted") - ${batches_before:-0}))
  commits=$(bench_metric "$base/metrics" store_commits_total)
  echo "== $batches batches in $commits store commits"
  echo "== CPU per request: consensus node $(bench_cpu_us $((node_after - node_before)) "$batches") us," \
    "the three models $(bench_cpu_us $((models_after - models_before)) "$batches") us"
  bench_stop "$pid"
done

# One labelled batch of 15 Iris rows, timed end to end.
bench_node --role=consensus --store=memory: --models="$models"
bench_wait "$NODE_URL/predict?$query"
body='{"instances":[[5.1,3.5,1.4,0.2],[4.9,3.0,1.4,0.2],[4.7,3.2,1.3,0.2],[7.0,3.2,4.7,1.4],[6.4,3.2,4.5,1.5],[6.9,3.1,4.9,1.5],[6.3,3.3,6.0,2.5],[5.8,2.7,5.1,1.9],[7.1,3.0,5.9,2.1],[5.0,3.6,1.4,0.2],[5.5,2.3,4.0,1.3],[6.5,3.0,5.8,2.2],[5.4,3.9,1.7,0.4],[6.5,2.8,4.6,1.5],[7.6,3.0,6.6,2.1]],"labels":[0,0,0,1,1,1,2,2,2,0,1,2,0,1,2]}'
printf '%s' "$body" > "$BENCH_TMP/batch.json"
cat > "$BENCH_TMP/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$BENCH_TMP/batch.json")
wrk.body = f:read("*a")
f:close()
LUA
echo "# POST /predict, 15 labelled rows per batch (32 connections)"
bench_wrk "POST /predict 15 rows" "$NODE_URL/predict" 32 "$SECS" "$BENCH_TMP/batch.lua" "$NODE_PID"
