#!/usr/bin/env bash
# Benchmarks GET /getServer on the registry against nginx answering the same JSON from its
# config, in the same run, alternating rounds so both see the same machine. Loopback only,
# bounded in time (ROUNDS x 2 x DURATION plus start-up). Prints each round's req/s and the
# CPU time each server spent per request (from /proc, less disturbed by a busy machine), the
# medians and the ratio registry / nginx (target: at least 0.8).
#
# Usage: bench/registry.sh            (after scripts/build.sh; needs wrk and nginx:
#                                      scripts/setup.sh --bench installs them)
# Environment: BUILD_DIR (build), ROUNDS (3), DURATION (10s), CONNECTIONS (50),
# THREADS (1). On 2 cores or more, the server runs on CPU 0 and wrk on CPU 1; both
# servers are single-threaded (node has one event loop, nginx gets one worker).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-50}
threads=${THREADS:-1}
node_bin=$build_dir/node

for tool in wrk nginx; do
  if ! command -v "$tool" > /dev/null && [[ ! -x /usr/sbin/$tool ]]; then
    echo "bench: $tool not found; run scripts/setup.sh --bench" >&2
    exit 1
  fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -x $node_bin ]]; then
  echo "bench: $node_bin not found; run scripts/build.sh" >&2
  exit 1
fi

server_cpu=()
client_cpu=()
if command -v taskset > /dev/null && [[ $(nproc) -ge 2 ]]; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c 1)
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Sets $port to a port nothing listens on now and not handed out before, from 20000 to
# 29999 (bash only: connecting to it fails).
taken=()
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 10000))
    [[ " ${taken[*]} " == *" $p "* ]] && continue
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then
      taken+=("$p")
      port=$p
      return 0
    fi
  done
  echo "bench: no free port found" >&2
  exit 1
}

# The servers the registry hands out: shops on fixed free ports (with --log-level=warn
# node prints no "listening" line to read a port from).
start_shop() {
  "${server_cpu[@]}" "$node_bin" --role=shop --store=memory: --port="$1" --log-level=warn \
    --drain-ms=0 2> "$work/shop-$1.log" &
  pids+=($!)
}

free_port
shop1=$port
free_port
shop2=$port
start_shop "$shop1"
start_shop "$shop2"

free_port
registry=$port
"${server_cpu[@]}" "$node_bin" --role=registry --store=memory: --port="$registry" \
  --servers="localhost:$shop1,localhost:$shop2" --log-level=warn --drain-ms=0 \
  2> "$work/registry.log" &
pids+=($!)

free_port
nginx_port=$port
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /getServer {
      default_type application/json;
      return 200 '{"code":200,"server":"localhost:$shop1"}';
    }
  }
}
EOF
"${server_cpu[@]}" "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" \
  2> "$work/nginx/stderr" &
pids+=($!)

wait_for() {
  for _ in $(seq 200); do
    if curl -sf "http://127.0.0.1:$1/getServer" > /dev/null; then return 0; fi
    sleep 0.05
  done
  echo "bench: nothing answers on port $1" >&2
  cat "$work"/*.log "$work/nginx/stderr" >&2 || true
  exit 1
}
wait_for "$registry"
wait_for "$nginx_port"
# Both shops healthy and handed out before measuring.
for _ in $(seq 100); do
  [[ $(curl -s "http://127.0.0.1:$registry/health") == *'"healthy_servers":2'* ]] && break
  sleep 0.05
done

# CPU time (user + system) of a process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# Runs wrk against port $1 while measuring process $2; prints "req/s cpu-us-per-request".
measure() {
  local before after out
  before=$(cpu_ticks "$2")
  out=$("${client_cpu[@]}" wrk -t"$threads" -c"$connections" -d"$duration" \
    "http://127.0.0.1:$1/getServer")
  after=$(cpu_ticks "$2")
  if grep -q Non-2xx <<< "$out"; then
    echo "bench: non-2xx answers from port $1:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -v ticks=$((after - before)) -v hz="$ticks_per_second" '
    /requests in/ {n = $1} /Requests\/sec/ {rps = $2}
    END {printf "%s %.1f\n", rps, ticks / hz * 1e6 / n}' <<< "$out"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

registry_pid=${pids[2]}
nginx_pid=$(pgrep -P "${pids[3]}" | head -1)
nginx_pid=${nginx_pid:-${pids[3]}}

echo "registry GET /getServer vs nginx (return 200 JSON), wrk -t$threads -c$connections -d$duration, $rounds rounds"
: > "$work/node.rps"
: > "$work/nginx.rps"
: > "$work/node.cpu"
: > "$work/nginx.cpu"
for round in $(seq "$rounds"); do
  read -r n n_cpu < <(measure "$registry" "$registry_pid")
  read -r x x_cpu < <(measure "$nginx_port" "$nginx_pid")
  echo "$n" >> "$work/node.rps"
  echo "$x" >> "$work/nginx.rps"
  echo "$n_cpu" >> "$work/node.cpu"
  echo "$x_cpu" >> "$work/nginx.cpu"
  printf 'round %d: registry %8.0f req/s %6.1f us CPU/req   nginx %8.0f req/s %6.1f us CPU/req\n' \
    "$round" "$n" "$n_cpu" "$x" "$x_cpu"
done
node_med=$(median < "$work/node.rps")
nginx_med=$(median < "$work/nginx.rps")
node_cpu=$(median < "$work/node.cpu")
nginx_cpu=$(median < "$work/nginx.cpu")
ratio=$(awk -v a="$node_med" -v b="$nginx_med" 'BEGIN {printf "%.2f", a / b}')
printf 'median:  registry %8.0f req/s %6.1f us CPU/req   nginx %8.0f req/s %6.1f us CPU/req\n' \
  "$node_med" "$node_cpu" "$nginx_med" "$nginx_cpu"
echo "ratio registry / nginx: $ratio in req/s (target >= 0.8)," \
  "$(awk -v a="$node_cpu" -v b="$nginx_cpu" 'BEGIN {printf "%.2f", b / a}') in requests per CPU second"
served=$(curl -s "http://127.0.0.1:$registry/metrics" | awk '/^registry_get_server_total/ {print $2}')
echo "registry_get_server_total after the run: $served"
