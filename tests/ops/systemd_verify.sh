#!/usr/bin/env bash
# Checks config/systemd/node@.service with `systemd-analyze verify`: no error and no
# warning. The unit's ExecStart names the installed binary; the check runs on a copy that
# names the built one instead, since verify wants the executable to exist.
# Usage: systemd_verify.sh SOURCE_DIR NODE_BINARY. Exit 77 (ctest: skipped) without
# systemd-analyze (package systemd).
set -euo pipefail
source_dir=$1
binary=$2
if ! command -v systemd-analyze > /dev/null; then
  echo "systemd-analyze not found (package systemd): the unit check is skipped" >&2
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|/usr/local/bin/node|$binary|" "$source_dir/config/systemd/node@.service" \
  > "$work/node@.service"
if ! grep -q "ExecStart=$binary --config /etc/node/%i.conf" "$work/node@.service"; then
  echo "node@.service: ExecStart is not '/usr/local/bin/node --config /etc/node/%i.conf'" >&2
  exit 1
fi
status=0
output=$(systemd-analyze verify --man=no "$work/node@.service" 2>&1) || status=$?
if [[ $status -ne 0 || -n "$output" ]]; then
  echo "systemd-analyze verify node@.service failed (status $status):" >&2
  echo "$output" >&2
  exit 1
fi
echo "node@.service: systemd-analyze verify passed"
