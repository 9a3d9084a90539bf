#!/usr/bin/env bash
# Starts a registry and two shops over one store, then runs page_failover.mjs: the shop
# page's script, under Node.js, must keep working when the shop that served it dies.
# Usage: page_failover.sh NODE_BINARY. Exit 77 (ctest: skipped) without a Node.js that
# has fetch (18 or later).
set -euo pipefail
binary=$1
here=$(cd "$(dirname "$0")" && pwd)
js=$(command -v nodejs || command -v node || true)
if [[ -z "$js" ]] || ! "$js" -e 'if (typeof fetch !== "function") process.exit(1)' 2> /dev/null; then
  echo "Node.js 18 or later not found: the page failover check is skipped" >&2
  exit 77
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a node logging to $work/$1.log; sets $pid and $port once it listens.
start() {
  local name=$1
  shift
  "$binary" "$@" --port=0 --drain-ms=0 2> "$work/$name.log" &
  pid=$!
  pids+=("$pid")
  port=
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$work/$name.log" | head -1)
    [[ -n "$port" ]] && return 0
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.05
  done
  echo "$name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

start registry --role=registry --store=memory: --check-interval-ms=100 --check-timeout-ms=100
registry=$port
start shop-a --role=shop --store="sqlite:$work/shop.db" --registry="http://127.0.0.1:$registry"
shop_a=$port
shop_a_pid=$pid
start shop-b --role=shop --store="sqlite:$work/shop.db" --registry="http://127.0.0.1:$registry"
shop_b=$port
timeout 30 "$js" "$here/page_failover.mjs" "$registry" "$shop_a" "$shop_a_pid" "$shop_b"
