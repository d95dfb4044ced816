#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Every man page formats without a single warning from man (or groff).
# Skipped (77) when neither is installed.
set -eu
if command -v man >/dev/null; then
  check() { man --warnings -l -Tutf8 "$1" 2>&1 >/dev/null; }
elif command -v groff >/dev/null; then
  check() { groff -ww -z -man "$1" 2>&1; }
else
  echo "neither man nor groff is installed"
  exit 77
fi
status=0
for page in "$@"; do
  warnings=$(check "$page") || { echo "$page: failed"; status=1; }
  if [ -n "$warnings" ]; then
    echo "$page:"
    echo "$warnings"
    status=1
  else
    echo "$page: no warnings"
  fi
done
exit $status
