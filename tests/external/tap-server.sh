# shellcheck shell=bash
# SPDX-License-Identifier: GPL-3.0-or-later
# What the shell clients' tests share (test-curl.sh, test-amqp-tools.sh),
# sourced by them: TAP output, a temporary directory, and the real
# supersoniq-server on 127.0.0.1:0, stopped and the directory removed on
# any exit.
#
# The server comes from $SSQ_SERVER_BIN (default: build/server/
# supersoniq-server in this source tree); $SSQ_SERVER_WRAPPER, if set, is
# put before its command line. The caller sets `here` (its own folder).

server_bin=${SSQ_SERVER_BIN:-$here/../../build/server/supersoniq-server}
tmp=

# TAP: the plan, one line a test, comments.
n=0
failed=0
plan=
tap_plan() { plan=$1; echo "1..$plan"; }
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
  shift
  local line
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/# /'; done
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# The end of the run: a count other than the plan fails it, and a failure
# shows the server's log tail. Exits.
tap_end() {
  if [ "$n" -ne "$plan" ]; then
    echo "# ran $n tests, planned $plan"
    failed=$((failed + 1))
  fi
  if [ $failed -ne 0 ]; then
    if [ -f "$tmp/server.err" ]; then
      diag "server log tail:"
      tail -n 20 "$tmp/server.err" | sed 's/^/#   /'
    fi
    exit 1
  fi
  exit 0
}

server_pid=
# SIGTERM, SIGKILL after 10 s; sets stop_status to the exit status. (A
# watchdog, since kill -0 succeeds on a zombie.)
stop_server() {
  local watchdog
  stop_status=
  [ -n "$server_pid" ] || return
  kill -TERM "$server_pid" 2>/dev/null
  ( sleep 10; kill -KILL "$server_pid" 2>/dev/null ) &
  watchdog=$!
  wait "$server_pid" 2>/dev/null
  # shellcheck disable=SC2034 # read by the caller
  stop_status=$?
  kill "$watchdog" 2>/dev/null
  wait "$watchdog" 2>/dev/null
  server_pid=
}

# tap_tmp PREFIX: the temporary directory $tmp, and the traps that stop
# the server, run the caller's cleanup_hook if it has one, and remove $tmp.
tap_tmp() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX")
  trap tap_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}
# shellcheck disable=SC2317 # called by the EXIT trap
tap_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_server
  if declare -F cleanup_hook >/dev/null; then cleanup_hook; fi
  rm -rf "$tmp"
  exit "$rc"
}

bail() {
  echo "Bail out! $1"
  [ -f "$tmp/server.err" ] && sed 's/^/# server: /' "$tmp/server.err" | tail -20
  exit 1
}

# start_server [--amqp] < server.conf: the server with that configuration
# (a heredoc on stdin) in the background; sets $url to the chat's
# http://HOST:PORT once it listens and, with --amqp, $amqp to the AMQP
# listener's HOST:PORT. Bails out on an early exit or after 30 s.
start_server() {
  local want_amqp=false
  [ "${1:-}" = --amqp ] && want_amqp=true
  [ -x "$server_bin" ] || bail "no server binary at $server_bin"
  cat >"$tmp/server.conf"
  mkdir "$tmp/data"
  # shellcheck disable=SC2086 # the wrapper is a command line
  ${SSQ_SERVER_WRAPPER:-} "$server_bin" --listen 127.0.0.1:0 --data-dir "$tmp/data" \
    --config "$tmp/server.conf" >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
  server_pid=$!
  url='' amqp=''
  for _ in $(seq 1 300); do   # 30 s
    # https:// with TLS on; this machine may still use http://.
    url=$(sed -n 's|.*listening on https\{0,1\}://\([^[:space:]]*\).*|http://\1|p' "$tmp/server.out" "$tmp/server.err" | head -n1)
    amqp=$(sed -n 's|.*amqp listening on amqp://\([^[:space:]]*\).*|\1|p' "$tmp/server.out" "$tmp/server.err" | head -n1)
    [ -n "$url" ] && { [ -n "$amqp" ] || ! $want_amqp; } && break
    kill -0 "$server_pid" 2>/dev/null || bail "server exited before listening"
    sleep 0.1
  done
  [ -n "$url" ] || bail "no 'listening on' line within 30 s"
  $want_amqp && { [ -n "$amqp" ] || bail "no 'amqp listening on' line within 30 s"; }
  url=${url%/}
}
