#!/usr/bin/env bash
# Installs what is missing, builds, and starts the workshop topology in the foreground
# (Ctrl-C stops it). Data goes to ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec build/node --role=shop --port=3001 --store=sqlite:data/shop.db
