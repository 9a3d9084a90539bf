#!/usr/bin/env bash
# Installs what is missing, builds, and starts the workshop topology of
# config/workshop.conf in one process, in the foreground (Ctrl-C stops it). Data goes to
# ./data. Extra arguments are passed to node (e.g. --log-level=warn).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec build/node --config config/workshop.conf "$@"
