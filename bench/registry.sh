#!/usr/bin/env bash
# Benchmarks GET /getServer on the registry (two healthy shops behind it) against nginx
# answering the same JSON from its config, in the same run, alternating rounds so both see the
# same machine. Loopback only, bounded in time (ROUNDS x 2 x DURATION plus start-up). Prints
# each run's req/s and the CPU time each server spent per request (from /proc, less disturbed
# by a busy machine), the medians and the ratio registry / nginx (target: at least 0.8), in
# req/s and in requests per CPU second.
#
# Usage: bench/registry.sh [SECONDS_PER_RUN] [ROUNDS]
# Environment: BUILD_DIR (build), ROUNDS (3), DURATION (10s), CONNECTIONS (50), THREADS (1),
# PIN (1); the rest as in bench/lib.sh. With PIN=1 on 2 cores or more, the servers run on
# CPU 0 and wrk on CPU 1; both servers are single-threaded (node has one event loop, nginx
# gets one worker).
PIN=${PIN:-1}
THREADS=${THREADS:-1}
source "$(dirname "$0")/lib.sh"
bench_args 10 3 "$@"
connections=${CONNECTIONS:-50}
bench_setup node

# The servers the registry hands out.
bench_node --role=shop --store=memory:
shop1=$NODE_PORT
bench_node --role=shop --store=memory:
shop2=$NODE_PORT
bench_node --role=registry --store=memory: --servers="localhost:$shop1,localhost:$shop2"
registry=$NODE_URL
registry_pid=$NODE_PID
bench_wait "$registry/health" '"healthy_servers":2'
bench_nginx "{\"code\":200,\"server\":\"localhost:$shop1\"}"

echo "# registry GET /getServer vs nginx (return 200 JSON)"
bench_compare "GET /getServer" "$registry/getServer" "$NGINX_URL/getServer" "$connections" "$SECS" \
  "$ROUNDS" "" "$registry_pid"
echo "== target: ratio >= 0.8: $(bench_ok "$CMP_RATIO >= 0.8")"
echo "registry_get_server_total after the run: $(bench_metric "$registry/metrics" registry_get_server_total)"
