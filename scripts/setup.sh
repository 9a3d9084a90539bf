#!/usr/bin/env bash
# Installs what building and testing `node` needs from Debian 12's packages, only what is
# missing, never removing a package. Usage: scripts/setup.sh [--bench]
set -euo pipefail

packages=(cmake make g++ ccache pkg-config libboost1.81-dev libboost-json1.81-dev
          libboost-program-options1.81-dev libboost-url1.81-dev catch2 libsqlite3-dev sqlite3
          libjemalloc-dev liblz4-dev curl)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
echo "setup: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
# --no-remove: abort rather than remove anything (e.g. Boost 1.81 must stay).
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-remove \
  --no-install-recommends "${missing[@]}"
