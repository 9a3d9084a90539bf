#!/usr/bin/env bash
# Consensus benchmark: GET /predict on a consensus node over three local model nodes
# (random_forest, decision_tree, knn) at 32 connections, against nginx in the same run,
# alternating; once with the default json store (every batch a durable commit) and once with
# memory:. Then a labelled POST /predict of 15 rows. Targets: >= 0.25x nginx's req/s and
# p99 <= 5 ms. Also prints the CPU time per request of the consensus node and of the three
# models together (from /proc). Usage: bench/consensus.sh [SECONDS_PER_RUN] [ROUNDS]
source "$(dirname "$0")/lib.sh"
secs=${1:-5}
rounds=${2:-3}
bench_setup

nginx_port=$(bench_free_port)
bench_nginx "$nginx_port" '{"consensus_prediction":0,"label":"setosa","individual_predictions":[0,0,0]}'
nginx_url=http://127.0.0.1:$nginx_port/

# cpu_ticks PID...: prints the user + system CPU time of the processes, in clock ticks.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}
ticks_per_s=$(getconf CLK_TCK)

models=""
model_pids=()
for algorithm in random_forest decision_tree knn; do
  port=$(bench_free_port)
  pid=$(bench_node --role=model --port="$port" --algorithm="$algorithm" --model-id="$algorithm")
  BENCH_PIDS+=("$pid")
  model_pids+=("$pid")
  bench_wait "http://127.0.0.1:$port/health"
  models+="${models:+,}$algorithm=http://127.0.0.1:$port"
done

query='sl=5.1&sw=3.5&pl=1.4&pw=0.2'
for store in "json:$BENCH_TMP/balances.json" memory:; do
  port=$(bench_free_port)
  pid=$(bench_node --role=consensus --port="$port" --store="$store" --models="$models" --drain-ms=0)
  BENCH_PIDS+=("$pid")
  base=http://127.0.0.1:$port
  bench_wait "$base/predict?$query"
  echo "# GET /predict over 3 models, store $store (32 connections)"
  batches_before=$(curl -fs "$base/metrics" | awk '$1 == "consensus_batches_total{result=\"counted\"}" {print $2}')
  node_before=$(cpu_ticks "$pid")
  models_before=$(cpu_ticks "${model_pids[@]}")
  bench_compare "GET /predict ${store%%:*}" "$base/predict?$query" "$nginx_url" 32 "$secs" "$rounds"
  node_after=$(cpu_ticks "$pid")
  models_after=$(cpu_ticks "${model_pids[@]}")
  p99_ok=$(awk -v p="$CMP_NODE_P99" 'BEGIN {print (p <= 5) ? "yes" : "no"}')
  ratio_ok=$(awk -v r="$CMP_RATIO" 'BEGIN {print (r >= 0.25) ? "yes" : "no"}')
  echo "== targets: ratio >= 0.25: $ratio_ok, p99 <= 5 ms: $p99_ok"
  batches=$(curl -fs "$base/metrics" | awk '$1 == "consensus_batches_total{result=\"counted\"}" {print $2}')
  commits=$(bench_metric "$base/metrics" store_commits_total)
  echo "== $batches batches in $commits store commits"
  awk -v n=$((node_after - node_before)) -v m=$((models_after - models_before)) \
    -v b=$((batches - ${batches_before:-0})) -v t="$ticks_per_s" \
    'BEGIN {printf "== CPU per request: consensus node %.0f us, the three models %.0f us\n", n / t / b * 1e6, m / t / b * 1e6}'
  kill "$pid"
done

# One labelled batch of 15 Iris rows, timed end to end.
port=$(bench_free_port)
bench_node --role=consensus --port="$port" --store=memory: --models="$models" --drain-ms=0 > /dev/null
base=http://127.0.0.1:$port
bench_wait "$base/predict?$query"
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
bench_wrk "POST /predict 15 rows" "$base/predict" 32 "$secs" "$BENCH_TMP/batch.lua"
