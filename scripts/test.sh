#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration) with ctest.
# Environment: as scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" -j "${JOBS:-$(nproc)}" --output-on-failure --timeout 300
