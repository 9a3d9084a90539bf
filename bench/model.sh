#!/usr/bin/env bash
# Benchmarks the model role: `GET /predict` with wrk against nginx answering a small JSON, in the
# same run, alternating, on loopback, with node's `GET /` (the server with no model work) as a
# third target to show what the HTTP plumbing alone costs; CPU time per request of node and
# nginx; then bench/ml_bench.cpp (forest training and one-row prediction). Bounded in time
# (about 1.5 minutes with the defaults). Run by hand, not by CI:
#   bench/model.sh [SECONDS_PER_RUN] [ROUNDS]
#   BUILD=build-release ROUNDS=5 DURATION=10 bench/model.sh
# Environment: BUILD (build dir, default build; same as BUILD_DIR), ROUNDS (3), DURATION
# (seconds per wrk run, 5), CONNECTIONS (32), THREADS (wrk threads, 2), ALGORITHM
# (random_forest); PIN and the rest as in bench/lib.sh.
# Both servers get one core's worth: the node runs one event loop, nginx one worker process.
# wrk runs on the same machine, so on 2 cores it competes with the server: read the ratio, not
# the absolute figures. Target: node req/s >= 0.7 x nginx req/s (median over the rounds).
BUILD_DIR=${BUILD:-${BUILD_DIR:-build}}
source "$(dirname "$0")/lib.sh"
bench_args 5 3 "$@"
connections=${CONNECTIONS:-32}
algorithm=${ALGORITHM:-random_forest}
bench_setup node ml_bench

query='/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2'
bench_node --role=model --algorithm="$algorithm"
bench_wait "$NODE_URL$query"
bench_nginx '{"model":"random_forest","algorithm":"random_forest","prediction":0,"label":"setosa","probabilities":[1.0,0.0,0.0]}'
echo "node answers:  $(curl -fs "$NODE_URL$query")"
echo "nginx answers: $(curl -fs "$NGINX_URL$query")"

echo
echo "# GET $query on node and nginx, and node's GET /"
bench_target "node /predict" "$NODE_URL$query" "" "$NODE_PID"
bench_target "node /" "$NODE_URL/" "" "$NODE_PID"
bench_target "nginx /predict" "$NGINX_URL$query" "" "$NGINX_PIDS"
bench_rounds "$connections" "$SECS" "$ROUNDS"
ratio=$(bench_ratio "${MED_RPS["node /predict"]}" "${MED_RPS["nginx /predict"]}")
hello_ratio=$(bench_ratio "${MED_RPS["node /"]}" "${MED_RPS["nginx /predict"]}")
echo "== ratio to nginx: /predict $ratio (target >= 0.70: $(bench_ok "$ratio >= 0.7")), / $hello_ratio"

echo
echo "ml_bench ($BUILD_DIR/ml_bench):"
timeout 120 "$BUILD_DIR/ml_bench"
