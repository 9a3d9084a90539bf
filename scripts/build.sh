#!/usr/bin/env bash
# Configures and builds `node` and its tests. Environment: BUILD_DIR (default build),
# CMAKE_ARGS (extra cmake arguments), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
read -r -a extra <<< "${CMAKE_ARGS:-}"
cmake -S . -B "$build_dir" "${extra[@]}" > /dev/null
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}"
