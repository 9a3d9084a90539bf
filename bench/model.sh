#!/usr/bin/env bash
# Benchmarks the model role: `GET /predict` with wrk against nginx answering a small JSON, in the
# same run, alternating, on loopback; then bench/ml_bench.cpp (forest training and one-row
# prediction). Bounded in time (about 1.5 minutes with the defaults). Run by hand, not by CI:
#   bench/model.sh                      # uses ./build (configured if missing)
#   BUILD=build-release ROUNDS=5 DURATION=10 bench/model.sh
# Environment: BUILD (build dir, default build), ROUNDS (3), DURATION (seconds per wrk run, 5),
# CONNECTIONS (32), THREADS (wrk threads, 2), ALGORITHM (random_forest).
# Both servers get one core's worth: the node runs one event loop, nginx one worker process.
# wrk runs on the same machine, so on 2 cores it competes with the server: read the ratio, not
# the absolute figures. Target: node req/s >= 0.7 x nginx req/s (median over the rounds).
# Self-contained (written before bench/lib.sh existed); same method as bench/lib.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
ALGORITHM=${ALGORITHM:-random_forest}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
NODE_PORT=$(free_port)
NGINX_PORT=$(free_port)
QUERY="/predict?sl=5.1&sw=3.5&pl=1.4&pw=0.2"

for tool in wrk nginx cmake curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/model.sh: needs $tool (apt-get install $tool)" >&2; exit 2; }
done
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j2 --target node ml_bench >/dev/null

WORK=$(mktemp -d /tmp/model-bench-XXXXXX)
NODE_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# nginx answering the same route with a JSON body of the node's size, one worker, no logs.
BODY='{"model":"random_forest","algorithm":"random_forest","prediction":0,"label":"setosa","probabilities":[1.0,0.0,0.0]}'
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK;
  proxy_temp_path $WORK;
  fastcgi_temp_path $WORK;
  uwsgi_temp_path $WORK;
  scgi_temp_path $WORK;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /predict {
      default_type "application/json; charset=utf-8";
      return 200 '$BODY';
    }
  }
}
EOF

"$BUILD/node" --role=model --port="$NODE_PORT" --algorithm="$ALGORITHM" --log-level=warn \
  2>"$WORK/node.log" &
NODE_PID=$!
nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!

wait_up() {
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$1$QUERY" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "bench/model.sh: nothing answers on port $1" >&2
  cat "$WORK/node.log" "$WORK/nginx-error.log" >&2 2>/dev/null || true
  exit 1
}
wait_up "$NODE_PORT"
wait_up "$NGINX_PORT"
echo "node answers:  $(curl -s "http://127.0.0.1:$NODE_PORT$QUERY")"
echo "nginx answers: $(curl -s "http://127.0.0.1:$NGINX_PORT$QUERY")"

# "REQ/S P99" of one wrk run on PORT PATH; non-2xx answers make the run fail.
run_wrk() {
  local out
  out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    "http://127.0.0.1:$1$2")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "bench/model.sh: non-2xx answers from port $1:" >&2
    echo "$out" >&2
    exit 1
  fi
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $p99"
}

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

node_rps=()
hello_rps=()
nginx_rps=()
echo
echo "GET $QUERY: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds, alternating;"
echo "node GET / (the server with no model work) shows what the HTTP plumbing alone costs"
for round in $(seq 1 "$ROUNDS"); do
  node_out=$(run_wrk "$NODE_PORT" "$QUERY")
  hello_out=$(run_wrk "$NODE_PORT" /)
  nginx_out=$(run_wrk "$NGINX_PORT" "$QUERY")
  read -r n n99 <<<"$node_out"
  read -r h h99 <<<"$hello_out"
  read -r g g99 <<<"$nginx_out"
  node_rps+=("$n")
  hello_rps+=("$h")
  nginx_rps+=("$g")
  printf "round %d: node /predict %7.0f req/s (p99 %s)  node / %7.0f req/s (p99 %s)  nginx %7.0f req/s (p99 %s)\n" \
    "$round" "$n" "$n99" "$h" "$h99" "$g" "$g99"
done
node_median=$(printf "%s\n" "${node_rps[@]}" | median)
hello_median=$(printf "%s\n" "${hello_rps[@]}" | median)
nginx_median=$(printf "%s\n" "${nginx_rps[@]}" | median)
ratio=$(awk -v a="$node_median" -v b="$nginx_median" 'BEGIN {printf "%.2f", a / b}')
hello_ratio=$(awk -v a="$hello_median" -v b="$nginx_median" 'BEGIN {printf "%.2f", a / b}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.7 ? "ok" : "BELOW TARGET")}')
printf "median: node /predict %.0f req/s, node / %.0f req/s, nginx %.0f req/s\n" \
  "$node_median" "$hello_median" "$nginx_median"
printf "ratio to nginx: /predict %s (target >= 0.70: %s), / %s\n" "$ratio" "$verdict" "$hello_ratio"

echo
echo "ml_bench ($BUILD/ml_bench):"
timeout 120 "$BUILD/ml_bench"
