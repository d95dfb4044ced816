#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The system unit's hardening: `systemd-analyze security --offline=true`
# rates its exposure at MAX or lower (2.0: "OK"). Skipped (77) where
# systemd-analyze is missing or too old for --offline (systemd < 250).
set -eu
unit="$1"
max="${2:-2.0}"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found"; exit 77; }
systemd-analyze --help 2>/dev/null | grep -q -- '--offline' ||
  { echo "systemd-analyze has no --offline"; exit 77; }
# It reads the unit by file name from the current directory.
cd "$(dirname "$unit")"
out=$(systemd-analyze security --offline=true --no-pager "$(basename "$unit")" 2>&1) ||
  { echo "$out"; echo "systemd-analyze security failed"; exit 1; }
echo "$out" | grep '✗' || true
level=$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "exposure level: ${level:-?} (at most $max)"
[ -n "$level" ] || { echo "$out"; echo "no exposure level in the output"; exit 1; }
awk -v l="$level" -v m="$max" 'BEGIN { exit !(l <= m) }'
