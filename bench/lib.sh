#!/usr/bin/env bash
# Shared pieces of the benchmark scripts: their [SECONDS_PER_RUN] [ROUNDS] arguments, building
# node, free loopback ports, starting and stopping node and an nginx reference, wrk runs
# alternated over rounds with medians and ratios, CPU time per request from /proc, and reading
# /metrics. Loopback only; every run is bounded in time; all it starts is stopped on exit.
# Source it from a script in bench/: `source "$(dirname "$0")/lib.sh"`.
#
# Environment, for every script:
#   BUILD_DIR  build directory, relative to the repository (build); node is built there
#   NODE_BIN   the node binary to measure (BUILD_DIR/node); when set, it is not rebuilt
#   JOBS       build jobs (number of cores)
#   THREADS    wrk threads (2)
#   PIN        1: the servers run on CPU 0 and wrk on CPU 1 (needs taskset and 2 cores) (0)
#   DURATION, ROUNDS  seconds per wrk run and rounds, when not given as arguments
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$BENCH_ROOT/$BUILD_DIR ;; esac
BENCH_BUILD_NODE=${NODE_BIN:-yes}
NODE_BIN=${NODE_BIN:-$BUILD_DIR/node}
THREADS=${THREADS:-2}
# POST /orders for wrk; reads ORDER_PRODUCTS and ORDER_DELAY_MS (see the file).
# shellcheck disable=SC2034 # for the scripts that source this file
BENCH_ORDERS_LUA=$BENCH_ROOT/bench/orders.lua
BENCH_TMP=$(mktemp -d /tmp/node-bench-XXXXXX)
: > "$BENCH_TMP/pids"
: > "$BENCH_TMP/ports"

BENCH_SERVER_CPU=()
BENCH_CLIENT_CPU=()
BENCH_PIN_NOTE=""
if [[ ${PIN:-0} == 1 ]]; then
  if command -v taskset > /dev/null && (($(nproc) >= 2)); then
    BENCH_SERVER_CPU=(taskset -c 0)
    BENCH_CLIENT_CPU=(taskset -c 1)
    BENCH_PIN_NOTE=", servers on CPU 0, wrk on CPU 1"
  else
    echo "bench: PIN=1 needs taskset and 2 cores; not pinning" >&2
  fi
fi

# bench_stop PID...: stops the processes (TERM, KILL after 5 s) and waits until they are gone.
bench_stop() {
  local pid alive
  for pid in "$@"; do kill "$pid" 2> /dev/null || true; done
  for pid in "$@"; do wait "$pid" 2> /dev/null || true; done # reaps those started here
  for _ in $(seq 1 100); do
    alive=()
    for pid in "$@"; do
      if kill -0 "$pid" 2> /dev/null; then alive+=("$pid"); fi
    done
    if [[ ${#alive[@]} -eq 0 ]]; then break; fi
    sleep 0.05
  done
  for pid in "${alive[@]}"; do kill -KILL "$pid" 2> /dev/null || true; done
  grep -vxF "$(printf '%s\n' "$@")" "$BENCH_TMP/pids" > "$BENCH_TMP/pids.new" || true
  mv "$BENCH_TMP/pids.new" "$BENCH_TMP/pids"
}

bench_cleanup() {
  local pids=()
  if [[ -d $BENCH_TMP ]]; then
    mapfile -t pids < "$BENCH_TMP/pids"
    if [[ -f $BENCH_TMP/nginx/nginx.pid ]]; then pids+=("$(cat "$BENCH_TMP/nginx/nginx.pid")"); fi
    if [[ ${#pids[@]} -gt 0 ]]; then bench_stop "${pids[@]}"; fi
    rm -rf "$BENCH_TMP"
  fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_args DEFAULT_SECONDS DEFAULT_ROUNDS "$@": sets SECS and ROUNDS from the script's
# arguments [SECONDS_PER_RUN] [ROUNDS], else from DURATION (may end in s) and ROUNDS in the
# environment, else the defaults. -h or --help prints the script's header comment.
bench_args() {
  local default_secs=$1 default_rounds=$2
  shift 2
  if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^[^#]/ s/^# \{0,1\}//p' "$0"
    exit 0
  fi
  if (($# > 2)); then
    echo "usage: $0 [SECONDS_PER_RUN] [ROUNDS] (see $0 --help)" >&2
    exit 2
  fi
  SECS=${1:-${DURATION:-$default_secs}}
  SECS=${SECS%s}
  ROUNDS=${2:-${ROUNDS:-$default_rounds}}
  if ! [[ $SECS =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]]; then
    echo "bench: seconds per run and rounds are whole numbers from 1, not '$SECS' and '$ROUNDS'" >&2
    exit 2
  fi
}

# bench_setup TARGET...: installs wrk and nginx when missing (scripts/setup.sh --bench), then
# brings the CMake TARGETs (node, ml_bench) up to date in BUILD_DIR, configuring it first if it
# has no cache; node is left alone when NODE_BIN was given. Exits, showing the build's output,
# if the build fails.
bench_setup() {
  bash "$BENCH_ROOT/scripts/setup.sh" --bench
  local targets=() target
  for target in "$@"; do
    if [[ $target != node || $BENCH_BUILD_NODE == yes ]]; then targets+=("$target"); fi
  done
  if [[ ${#targets[@]} -eq 0 ]]; then return 0; fi
  echo "bench: building ${targets[*]} in $BUILD_DIR" >&2
  if ! {
    if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then cmake -S "$BENCH_ROOT" -B "$BUILD_DIR"; fi
    cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target "${targets[@]}"
  } > "$BENCH_TMP/build.log" 2>&1; then
    cat "$BENCH_TMP/build.log" >&2
    echo "bench: the build failed" >&2
    exit 1
  fi
}

# bench_free_port: prints a loopback port nothing listens on, not handed out before in this run.
bench_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    if ! grep -qx "$port" "$BENCH_TMP/ports"; then
      echo "$port" >> "$BENCH_TMP/ports"
      echo "$port"
      return 0
    fi
  done
  echo "bench: no free port found" >&2
  return 1
}

# bench_wait URL [TEXT] [PID]: polls until URL answers 2xx (with TEXT in the body), at most
# 20 s; gives up early when process PID has exited.
bench_wait() {
  local url=$1 text=${2:-} pid=${3:-} body
  for _ in $(seq 1 400); do
    if body=$(curl -fs --max-time 2 "$url") && [[ $body == *"$text"* ]]; then return 0; fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2> /dev/null; then
      echo "bench: the process behind $url exited" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "bench: $url did not answer${text:+ with $text} within 20 s" >&2
  return 1
}

# bench_node ARGS...: starts node on a free port with --log-level=warn --drain-ms=0 and ARGS (on
# CPU 0 when pinned), waits for its /health, and sets NODE_PORT, NODE_URL
# (http://127.0.0.1:PORT) and NODE_PID; it is stopped on exit. Call it directly, not in $(...),
# which would lose the variables. Exits, showing the node's log, if it does not come up.
bench_node() {
  NODE_PORT=$(bench_free_port)
  NODE_URL=http://127.0.0.1:$NODE_PORT
  local log=$BENCH_TMP/node-$NODE_PORT.log
  "${BENCH_SERVER_CPU[@]}" "$NODE_BIN" --port="$NODE_PORT" --log-level=warn --drain-ms=0 "$@" \
    > "$log" 2>&1 &
  NODE_PID=$!
  echo "$NODE_PID" >> "$BENCH_TMP/pids"
  if ! bench_wait "$NODE_URL/health" "" "$NODE_PID"; then
    echo "bench: node $* did not come up; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
}

# bench_nginx BODY: starts the reference nginx on a free port (on CPU 0 when pinned): one worker
# process, as node runs one event loop; access log off; every path answers 200 with BODY and
# node's JSON content type. Sets NGINX_URL (http://127.0.0.1:PORT) and NGINX_PIDS (master and
# worker). One per script; it is stopped on exit.
bench_nginx() {
  local body=$1 dir=$BENCH_TMP/nginx port
  port=$(bench_free_port)
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" << CONF
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
    location / { default_type "application/json; charset=utf-8"; return 200 '$body'; }
  }
}
CONF
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  NGINX_URL=http://127.0.0.1:$port
  if ! "${BENCH_SERVER_CPU[@]}" "$nginx" -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" \
    || ! bench_wait "$NGINX_URL/"; then
    echo "bench: nginx did not come up; its log:" >&2
    cat "$dir/logs/error.log" >&2 || true
    exit 1
  fi
  local master
  master=$(cat "$dir/nginx.pid")
  NGINX_PIDS="$master $(pgrep -P "$master" | tr '\n' ' ')"
}

# bench_cpu_ticks PID...: prints the user + system CPU time the processes have used, in ticks.
bench_cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}

# bench_cpu_us TICKS REQUESTS: prints the CPU time per request in microseconds.
bench_cpu_us() {
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (n > 0) ? t / hz * 1e6 / n : 0}'
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

# bench_wrk LABEL URL CONNECTIONS SECONDS [LUA] [PIDS]: one wrk run (THREADS threads, on CPU 1
# when pinned, killed if it overruns by 30 s); prints
# "LABEL req/s=N p50=X p99=Y [cpu=Zus/req] [errors]" and sets WRK_RPS, WRK_P99_MS, WRK_ERRORS
# (wrk's non-2xx and socket error lines) and WRK_CPU_US: the CPU time of PIDS (a
# space-separated list, may be empty) per request served.
bench_wrk() {
  local label=$1 url=$2 conns=$3 secs=$4 lua=${5:-} pids=()
  read -r -a pids <<< "${6:-}"
  local args=(-t"$THREADS" -c"$conns" -d"${secs}s" --latency --timeout 5s)
  if [[ -n $lua ]]; then args+=(-s "$lua"); fi
  local before=0 out
  if [[ ${#pids[@]} -gt 0 ]]; then before=$(bench_cpu_ticks "${pids[@]}"); fi
  if ! out=$(timeout $((secs + 30)) "${BENCH_CLIENT_CPU[@]}" wrk "${args[@]}" "$url"); then
    echo "bench: wrk ${args[*]} $url failed:" >&2
    echo "$out" >&2
    exit 1
  fi
  WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
  local p50 p99 requests cpu=""
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  WRK_P99_MS=$(bench_ms "$p99")
  WRK_ERRORS=$(awk '/Non-2xx|Socket errors/ {sub(/^ +/, ""); printf "%s%s", sep, $0; sep = "; "}' <<< "$out")
  WRK_CPU_US=""
  if [[ ${#pids[@]} -gt 0 ]]; then
    requests=$(awk '/ requests in / {print $1}' <<< "$out")
    WRK_CPU_US=$(bench_cpu_us $(($(bench_cpu_ticks "${pids[@]}") - before)) "$requests")
    cpu=" cpu=${WRK_CPU_US}us/req"
  fi
  printf '%-32s req/s=%-10s p50=%-8s p99=%-8s%s%s\n' "$label" "$WRK_RPS" "$p50" "$p99" "$cpu" \
    "${WRK_ERRORS:+ $WRK_ERRORS}"
}

# bench_median N...: prints the median of its arguments.
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# bench_ratio A B: prints A / B with two decimals.
bench_ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'
}

# bench_ok "A OP B": prints yes if the awk comparison of two numbers holds, else no.
bench_ok() {
  awk "BEGIN {print (($1) ? \"yes\" : \"no\")}"
}

BENCH_TARGETS=()
declare -A BENCH_TARGET_URL=() BENCH_TARGET_LUA=() BENCH_TARGET_PIDS=() BENCH_TARGET_AFTER=()
declare -A MED_RPS=() MED_P99=() MED_CPU=()

# bench_target NAME URL [LUA] [PIDS] [AFTER]: adds a wrk target to the next bench_rounds; PIDS
# (space-separated) are the processes whose CPU time is counted per request; AFTER is a
# command run after each of its runs, before the next target's (to let work it left behind,
# such as an asynchronous replica's shipping, finish outside the next target's run).
bench_target() {
  BENCH_TARGETS+=("$1")
  BENCH_TARGET_URL[$1]=$2
  BENCH_TARGET_LUA[$1]=${3:-}
  BENCH_TARGET_PIDS[$1]=${4:-}
  BENCH_TARGET_AFTER[$1]=${5:-}
}

# bench_rounds CONNECTIONS SECONDS ROUNDS: runs wrk against each target in turn, ROUNDS times,
# so that all see the same machine; prints a line a run, then a line a target with the medians
# (and how many runs had errors), which it leaves in MED_RPS[NAME], MED_P99[NAME] (ms) and
# MED_CPU[NAME] (us per request, empty without PIDS). Forgets the targets.
bench_rounds() {
  local conns=$1 secs=$2 rounds=$3 r name values=()
  local -A rps=() p99=() cpu=() errors=()
  echo "# wrk -t$THREADS -c$conns -d${secs}s, $rounds rounds, alternating$BENCH_PIN_NOTE"
  # The build and the seeding leave dirty pages behind; written back during the first round,
  # they made its fsyncs (and p99) slower than the later rounds'.
  sync
  for r in $(seq 1 "$rounds"); do
    for name in "${BENCH_TARGETS[@]}"; do
      bench_wrk "$name #$r" "${BENCH_TARGET_URL[$name]}" "$conns" "$secs" "${BENCH_TARGET_LUA[$name]}" \
        "${BENCH_TARGET_PIDS[$name]}"
      rps[$name]+=" $WRK_RPS"
      p99[$name]+=" $WRK_P99_MS"
      cpu[$name]+=" $WRK_CPU_US"
      if [[ -n $WRK_ERRORS ]]; then errors[$name]=$((${errors[$name]:-0} + 1)); fi
      if [[ -n ${BENCH_TARGET_AFTER[$name]} ]]; then eval "${BENCH_TARGET_AFTER[$name]}"; fi
    done
  done
  for name in "${BENCH_TARGETS[@]}"; do
    read -r -a values <<< "${rps[$name]}"
    MED_RPS[$name]=$(bench_median "${values[@]}")
    read -r -a values <<< "${p99[$name]}"
    MED_P99[$name]=$(bench_median "${values[@]}")
    read -r -a values <<< "${cpu[$name]}"
    MED_CPU[$name]=""
    if [[ ${#values[@]} -gt 0 ]]; then MED_CPU[$name]=$(bench_median "${values[@]}"); fi
    printf '%-32s req/s=%-10s p99=%sms%s%s\n' "$name median" "${MED_RPS[$name]}" "${MED_P99[$name]}" \
      "${MED_CPU[$name]:+ cpu=${MED_CPU[$name]}us/req}" \
      "${errors[$name]:+ (errors in ${errors[$name]} of $rounds runs)}"
  done
  BENCH_TARGETS=()
  BENCH_TARGET_URL=()
  BENCH_TARGET_LUA=()
  BENCH_TARGET_PIDS=()
  BENCH_TARGET_AFTER=()
}

# bench_compare LABEL NODE_URL NGINX_URL CONNECTIONS SECONDS ROUNDS [LUA] [PIDS]: bench_rounds
# over node (LUA, CPU time of PIDS) and nginx, then prints node's share of nginx's req/s (and
# of its requests per CPU second with PIDS). Sets CMP_RATIO, CMP_NODE_RPS, CMP_NODE_P99 (ms).
bench_compare() {
  local label=$1 conns=$4 secs=$5 rounds=$6
  bench_target "$label node" "$2" "${7:-}" "${8:-}"
  bench_target "$label nginx" "$3" "" "$NGINX_PIDS"
  bench_rounds "$conns" "$secs" "$rounds"
  CMP_NODE_RPS=${MED_RPS["$label node"]}
  CMP_NODE_P99=${MED_P99["$label node"]}
  CMP_RATIO=$(bench_ratio "$CMP_NODE_RPS" "${MED_RPS["$label nginx"]}")
  local per_cpu=""
  if [[ -n ${MED_CPU["$label node"]} ]]; then
    per_cpu=", $(bench_ratio "${MED_CPU["$label nginx"]}" "${MED_CPU["$label node"]}")x per CPU second"
  fi
  echo "== $label: node $CMP_NODE_RPS req/s (p99 $CMP_NODE_P99 ms), nginx ${MED_RPS["$label nginx"]} req/s, ratio ${CMP_RATIO}x$per_cpu"
}

# bench_seed_products URL N: adds N products with plenty of stock through URL/products.
bench_seed_products() {
  local i
  for i in $(seq 1 "$2"); do
    printf '{"name":"product %d","description":"bench","price":%d.99,"category":"c%d","stock":1000000000}\n' \
      "$i" "$((i % 500))" "$((i % 7))"
  done | xargs -d '\n' -P 8 -I{} curl -fs -o /dev/null -H 'Content-Type: application/json' -d '{}' "$1/products"
}

# bench_metric URL NAME: prints the value of the series NAME (with its labels, if any, exactly
# as /metrics writes them) from URL.
bench_metric() {
  curl -fs "$1" | awk -v n="$2" '$1 == n {print $2}'
}

# bench_metric_quantile URL HISTOGRAM Q: prints "BOUND COUNT": the upper bound of the first
# bucket holding at least the fraction Q of the unlabelled HISTOGRAM's COUNT observations.
bench_metric_quantile() {
  curl -fs "$1" | awk -v h="$2" -v q="$3" '
    index($1, h "_bucket{") == 1 { match($1, /le="[^"]+"/); le[++k] = substr($1, RSTART + 4, RLENGTH - 5); c[k] = $2 }
    $1 == h "_count" { total = $2 }
    END { for (i = 1; i <= k; i++) if (c[i] >= q * total) { print le[i], total; exit } }'
}
