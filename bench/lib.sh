#!/usr/bin/env bash
# Shared pieces of the benchmark scripts: an nginx reference server, readiness polls, and
# wrk runs that print one line each. Loopback only; every run is bounded in time.
# Source it: `source "$(dirname "$0")/lib.sh"`.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_BIN=${NODE_BIN:-$BENCH_ROOT/build/node}
BENCH_TMP=$(mktemp -d /tmp/node-bench-XXXXXX)
BENCH_PIDS=()

bench_cleanup() {
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -f $BENCH_TMP/nginx/nginx.pid ]]; then kill "$(cat "$BENCH_TMP/nginx/nginx.pid")" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

# bench_setup: installs wrk and nginx when missing and builds node (Release flags as built).
bench_setup() {
  bash "$BENCH_ROOT/scripts/setup.sh" --bench
  if [[ ! -x $NODE_BIN ]]; then bash "$BENCH_ROOT/scripts/build.sh"; fi
}

# bench_free_port: prints a free loopback port.
bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# bench_wait URL: polls until URL answers 2xx, at most 20 s.
bench_wait() {
  local url=$1
  for _ in $(seq 1 400); do
    if curl -fs -o /dev/null "$url"; then return 0; fi
    sleep 0.05
  done
  echo "bench: $url did not come up" >&2
  return 1
}

# bench_nginx PORT BODY: starts nginx with one worker (node runs one event-loop thread)
# answering every request with 200 and BODY as JSON.
bench_nginx() {
  local port=$1 body=$2 dir=$BENCH_TMP/nginx
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf"
  bench_wait "http://127.0.0.1:$port/"
}

# bench_node ARGS...: starts node in the background (warn-level logs), prints its pid.
bench_node() {
  "$NODE_BIN" --log-level=warn "$@" > "$BENCH_TMP/node-$$-$RANDOM.log" 2>&1 &
  local pid=$!
  BENCH_PIDS+=("$pid")
  echo "$pid"
}

# bench_wrk LABEL URL CONNECTIONS SECONDS [LUA]: one wrk run; prints
# "LABEL req/s=N p50=Xms p99=Yms" and sets WRK_RPS and WRK_P99_MS.
bench_wrk() {
  local label=$1 url=$2 conns=$3 secs=$4 lua=${5:-}
  local args=(-t2 -c"$conns" -d"${secs}s" --latency --timeout 5s)
  if [[ -n $lua ]]; then args+=(-s "$lua"); fi
  local out
  out=$(wrk "${args[@]}" "$url")
  WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
  local p50 p99
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  WRK_P99_MS=$(bench_ms "$p99")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<< "$out" | tr '\n' ' ')
  printf '%-28s req/s=%-10s p50=%-8s p99=%-8s %s\n' "$label" "$WRK_RPS" "$p50" "$p99" "$errors"
}

# bench_ms 1.23ms|456.00us|1.2s: prints milliseconds.
bench_ms() {
  local v=$1
  case $v in
    *us) awk -v x="${v%us}" 'BEGIN {printf "%.3f", x / 1000}' ;;
    *ms) awk -v x="${v%ms}" 'BEGIN {printf "%.3f", x}' ;;
    *s) awk -v x="${v%s}" 'BEGIN {printf "%.3f", x * 1000}' ;;
    *) echo "$v" ;;
  esac
}

# bench_median N...: prints the median of its arguments.
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# bench_compare LABEL NODE_URL NGINX_URL CONNS SECS ROUNDS [LUA]: alternates node and nginx
# runs, then prints the medians and node's share of nginx's req/s. Sets CMP_RATIO,
# CMP_NODE_RPS, CMP_NODE_P99.
bench_compare() {
  local label=$1 node_url=$2 nginx_url=$3 conns=$4 secs=$5 rounds=$6 lua=${7:-}
  local node_rps=() nginx_rps=() node_p99=()
  for r in $(seq 1 "$rounds"); do
    bench_wrk "$label node #$r" "$node_url" "$conns" "$secs" "$lua"
    node_rps+=("$WRK_RPS")
    node_p99+=("$WRK_P99_MS")
    bench_wrk "$label nginx #$r" "$nginx_url" "$conns" "$secs"
    nginx_rps+=("$WRK_RPS")
  done
  CMP_NODE_RPS=$(bench_median "${node_rps[@]}")
  CMP_NODE_P99=$(bench_median "${node_p99[@]}")
  local nginx_med
  nginx_med=$(bench_median "${nginx_rps[@]}")
  CMP_RATIO=$(awk -v a="$CMP_NODE_RPS" -v b="$nginx_med" 'BEGIN {printf "%.2f", a / b}')
  echo "== $label: node $CMP_NODE_RPS req/s (p99 ${CMP_NODE_P99} ms), nginx $nginx_med req/s, ratio ${CMP_RATIO}x"
}

# bench_metric URL NAME: prints the value of an unlabelled metric from /metrics.
bench_metric() {
  curl -fs "$1" | awk -v n="$2" '$1 == n {print $2}'
}
