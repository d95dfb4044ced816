#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SupersoniQ's AMQP broker seen by Debian's amqp-tools (librabbitmq's
# command-line clients, nobody on the team wrote them): amqp-declare-queue,
# amqp-publish, amqp-get, amqp-consume (--count, --prefetch-count, a
# fanout binding), amqp-delete-queue (--if-empty). TAP on stdout.
#
# The server comes from $SSQ_SERVER_BIN (default: build/server/
# supersoniq-server in this source tree), with [amqp] listen=127.0.0.1:0;
# accounts are registered with curl. With --rabbitmq it starts a throwaway
# RabbitMQ (rabbitmq.py next to this file) instead, and with
# SSQ_AMQP_URL=amqp://user:pass@host:port it uses that broker: how the
# test itself was checked. Every client call is bounded by timeout(1).
set -u

here=$(cd "$(dirname "$0")" && pwd)
server_bin=${SSQ_SERVER_BIN:-$here/../../build/server/supersoniq-server}
plan=12

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
  shift
  local line
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/# /'; done
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

for tool in amqp-declare-queue amqp-publish amqp-get amqp-consume amqp-delete-queue; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool not installed (apt install amqp-tools)"
    exit 0
  fi
done
echo "1..$plan"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ssq-ext-amqp-tools-XXXXXX")
server_pid=
rabbit_dir=
stop_server() {
  local watchdog
  stop_status=
  [ -n "$server_pid" ] || return
  kill -TERM "$server_pid" 2>/dev/null
  ( sleep 10; kill -KILL "$server_pid" 2>/dev/null ) &
  watchdog=$!
  wait "$server_pid" 2>/dev/null
  stop_status=$?
  kill "$watchdog" 2>/dev/null
  wait "$watchdog" 2>/dev/null
  server_pid=
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_server
  [ -n "$rabbit_dir" ] && python3 "$here/rabbitmq.py" stop "$rabbit_dir" >/dev/null 2>&1
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

bail() {
  echo "Bail out! $1"
  [ -f "$tmp/server.err" ] && sed 's/^/# server: /' "$tmp/server.err" | tail -20
  exit 1
}

supersoniq=true
if [ "${1:-}" = --rabbitmq ]; then
  rabbit_dir="$tmp/rabbitmq"
  SSQ_AMQP_URL=$(python3 "$here/rabbitmq.py" start "$rabbit_dir") || bail "RabbitMQ did not start"
fi
if [ -n "${SSQ_AMQP_URL:-}" ]; then
  supersoniq=false
  amqp_url=$SSQ_AMQP_URL
  bad_url=$(printf '%s' "$amqp_url" | sed 's|://\([^:]*\):[^@]*@|://\1:wrong-password@|')
  diag "RabbitMQ at $amqp_url"
else
  command -v curl >/dev/null || bail "curl not found"
  [ -x "$server_bin" ] || bail "no server binary at $server_bin"
  cat > "$tmp/server.conf" <<EOF
[security]
pwhash_opslimit=1
pwhash_memlimit=8192
[limits]
registrations_per_hour=0
[amqp]
listen=127.0.0.1:0
EOF
  mkdir "$tmp/data"
  # shellcheck disable=SC2086 # the wrapper is a command line
  ${SSQ_SERVER_WRAPPER:-} "$server_bin" --listen 127.0.0.1:0 --data-dir "$tmp/data" \
    --config "$tmp/server.conf" >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
  server_pid=$!
  url='' amqp=''
  for _ in $(seq 1 300); do   # 30 s
    url=$(sed -n 's|.*listening on https\{0,1\}://\([^[:space:]]*\).*|http://\1|p' "$tmp/server.out" | head -n1)
    amqp=$(sed -n 's|.*amqp listening on amqp://\([^[:space:]]*\).*|\1|p' "$tmp/server.out" | head -n1)
    [ -n "$url" ] && [ -n "$amqp" ] && break
    kill -0 "$server_pid" 2>/dev/null || bail "server exited before listening"
    sleep 0.1
  done
  [ -n "$url" ] || bail "no 'listening on' line within 30 s"
  [ -n "$amqp" ] || bail "no 'amqp listening on' line within 30 s"
  url=${url%/}
  password="correct horse amqp tools"
  reg=$(curl --silent --show-error --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"username\":\"toolsuser\",\"password\":\"$password\"}" "$url/api/v1/register")
  token=$(printf '%s' "$reg" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || bail "registration failed: $reg"
  # Passwords with spaces go into the URL percent-encoded.
  amqp_url="amqp://toolsuser:$(printf '%s' "$password" | sed 's/ /%20/g')@$amqp"
  bad_url="amqp://toolsuser:wrong-password@$amqp"
  token_url="amqp://toolsuser:$token@$amqp"
  diag "server at $url, AMQP on $amqp"
fi

t() { timeout 30 "$@"; }
q="tools.q.$$"

# 1. A durable queue declared by name: the name comes back.
out=$(t amqp-declare-queue --url="$amqp_url" -q "$q" -d 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$out" = "$q" ]; then
  ok "amqp-declare-queue -d: $out"
else
  not_ok "amqp-declare-queue -d" "rc $rc, output: $out"
fi

# 2. An empty name: a server-named queue.
out=$(t amqp-declare-queue --url="$amqp_url" -q "" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -n "$out" ]; then
  ok "amqp-declare-queue with an empty name: server-named $out"
else
  not_ok "amqp-declare-queue with an empty name" "rc $rc, output: $out"
fi

# 3. amqp-publish: one body, persistent with a content type and header; then
#    five lines as five messages.
rc=0
t amqp-publish --url="$amqp_url" -r "$q" -b "first ✓" >"$tmp/pub.err" 2>&1 || rc=$?
t amqp-publish --url="$amqp_url" -r "$q" -p -C text/plain -H "x-tool: amqp-publish" \
  -b "second" >>"$tmp/pub.err" 2>&1 || rc=$?
printf 'line %s\n' 1 2 3 4 5 | t amqp-publish --url="$amqp_url" -r "$q" -l >>"$tmp/pub.err" 2>&1 || rc=$?
if [ $rc -eq 0 ]; then
  ok "amqp-publish: -b, -p -C -H, and -l with five lines"
else
  not_ok "amqp-publish" "rc $rc" "$(cat "$tmp/pub.err")"
fi

# 4. amqp-get takes them one at a time, in order.
got1=$(t amqp-get --url="$amqp_url" -q "$q" 2>&1); rc1=$?
got2=$(t amqp-get --url="$amqp_url" -q "$q" 2>&1); rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ "$got1" = "first ✓" ] && [ "$got2" = "second" ]; then
  ok "amqp-get: first, then second"
else
  not_ok "amqp-get" "rc $rc1 got '$got1'; rc $rc2 got '$got2'"
fi

# 5. amqp-consume --count 5 runs its command once per message (stdin = body).
out=$(t amqp-consume --url="$amqp_url" -q "$q" -c 5 -p 2 cat 2>"$tmp/consume.err")
rc=$?
want=$(printf 'line %s\n' 1 2 3 4 5)
if [ $rc -eq 0 ] && [ "$out" = "$want" ]; then
  ok "amqp-consume --count 5 --prefetch-count 2: the five lines in order"
else
  not_ok "amqp-consume --count 5" "rc $rc, output: $out" "$(cat "$tmp/consume.err")"
fi

# 6. The queue is empty now: amqp-get says so with a failure.
out=$(t amqp-get --url="$amqp_url" -q "$q" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
  ok "amqp-get on an empty queue fails (rc $rc: $out)"
else
  not_ok "amqp-get on an empty queue" "rc $rc, output: $out"
fi

# 7. amqp-consume on its own exclusive queue bound to amq.fanout: messages
#    published there until the consumer has one.
# (-r is needed: amqp-tools 0.11 crashes binding without a routing key.)
t amqp-consume --url="$amqp_url" -e amq.fanout -r any -x -c 1 cat >"$tmp/fan.out" 2>"$tmp/fan.err" &
consumer=$!
for _ in $(seq 1 100); do   # 20 s
  kill -0 "$consumer" 2>/dev/null || break
  t amqp-publish --url="$amqp_url" -e amq.fanout -r any -b "fanned out" >/dev/null 2>&1
  sleep 0.2
done
wait "$consumer"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$tmp/fan.out")" = "fanned out" ]; then
  ok "amqp-consume -e amq.fanout -r any -x -c 1 gets a fanned-out message"
else
  not_ok "amqp-consume on amq.fanout" "rc $rc, output: $(cat "$tmp/fan.out")" "$(cat "$tmp/fan.err")"
fi

# 8. amqp-delete-queue --if-empty refuses a queue with a message in it.
t amqp-publish --url="$amqp_url" -r "$q" -b "keep me" >/dev/null 2>&1
out=$(t amqp-delete-queue --url="$amqp_url" -q "$q" --if-empty 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && printf '%s' "$out" | grep -q 406; then
  ok "amqp-delete-queue --if-empty on a queue with a message: 406"
else
  not_ok "amqp-delete-queue --if-empty" "rc $rc, output: $out"
fi

# 9. Plain delete: gone, with its message count printed.
out=$(t amqp-delete-queue --url="$amqp_url" -q "$q" 2>&1)
rc=$?
after=$(t amqp-get --url="$amqp_url" -q "$q" 2>&1)
rc_after=$?
if [ $rc -eq 0 ] && [ $rc_after -ne 0 ] && printf '%s' "$after" | grep -q 404; then
  ok "amqp-delete-queue: deleted ($out), amqp-get then gets 404"
else
  not_ok "amqp-delete-queue" "rc $rc, output: $out" "amqp-get after: rc $rc_after $after"
fi

# 10. A wrong password is refused.
out=$(t amqp-get --url="$bad_url" -q "$q" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
  ok "a wrong password is refused (rc $rc: $(printf '%s' "$out" | head -n1))"
else
  not_ok "a wrong password" "rc $rc, output: $out"
fi

# 11. SupersoniQ: a session token is a password.
if $supersoniq; then
  q2="tools.token.$$"
  out=$(t amqp-declare-queue --url="$token_url" -q "$q2" 2>&1)
  rc=$?
  t amqp-publish --url="$token_url" -r "$q2" -b "by token" >/dev/null 2>&1
  got=$(t amqp-get --url="$amqp_url" -q "$q2" 2>&1)
  if [ $rc -eq 0 ] && [ "$got" = "by token" ]; then
    ok "log in with the session token as the password"
  else
    not_ok "log in with the session token" "declare rc $rc: $out" "get: $got"
  fi
else
  skip "log in with the session token as the password" "SupersoniQ only"
fi

# 12. The server is still there and stops cleanly.
if $supersoniq; then
  stop_server
  if [ "$stop_status" = 0 ]; then
    ok "server exits 0 on SIGTERM"
  else
    not_ok "server exits 0 on SIGTERM" "status $stop_status" "$(tail -n 20 "$tmp/server.err")"
  fi
else
  skip "server exits 0 on SIGTERM" "SupersoniQ only"
fi

if [ $failed -gt 0 ] && [ -f "$tmp/server.err" ]; then
  diag "server log tail:"
  tail -n 20 "$tmp/server.err" | sed 's/^/#   /'
fi
[ $failed -eq 0 ]
