#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SupersoniQ's AMQP broker against RabbitMQ 3.10 (Debian's rabbitmq-server),
# same machine, same run, same load generator (ssq-bench-amqp, librabbitmq):
# persistent publishes with confirms (messages/s, confirm latency p50/p99),
# transient publish -> consume with 1 and 10 consumers, fanout to 100
# queues. Prints each run's figures, then a ratio table.
#
#   tests/bench/bench-amqp.sh [BUILD_DIR] [-- ssq-bench-amqp options]
#
# BUILD_DIR (default: build) gives supersoniq-server and ssq-bench-amqp;
# use a release build for figures worth quoting:
#   meson setup build-release --buildtype=release && ninja -C build-release
#   tests/bench/bench-amqp.sh build-release
# $SSQ_SERVER_BIN overrides the server. Each broker gets a temporary data
# directory on the same disk and loopback ports of its own; RabbitMQ is
# started by tests/external/rabbitmq.py (as root or not, no systemd) and
# stopped after. BENCH_ONLY=supersoniq or BENCH_ONLY=rabbitmq runs one side;
# BENCH_ROUNDS (3) rounds alternate the order, and the table shows medians.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
case "$build" in --) build=$src/build ;; -*) ;; *) shift 2>/dev/null ;; esac
[ "${1:-}" = -- ] && shift
case "$build" in /*) ;; *) build=$(pwd)/$build ;; esac
server_bin=${SSQ_SERVER_BIN:-$build/server/supersoniq-server}
bench_bin=$build/tests/bench/ssq-bench-amqp
only=${BENCH_ONLY:-}
rounds=${BENCH_ROUNDS:-3}

die() { echo "bench-amqp: $*" >&2; exit 1; }
[ -x "$bench_bin" ] || die "no $bench_bin (librabbitmq-dev missing when configured?)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ssq-bench-amqp-XXXXXX")
server_pid=
rabbit_started=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  trap - EXIT INT TERM HUP
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    ( sleep 10; kill -KILL "$server_pid" 2>/dev/null ) &
    wait "$server_pid" 2>/dev/null
  fi
  [ -n "$rabbit_started" ] && python3 "$src/tests/external/rabbitmq.py" stop "$tmp/rabbitmq" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

buildtype=$(python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
  "$(dirname "$(dirname "$server_bin")")/meson-info/intro-buildoptions.json" 2>/dev/null)
echo "# server: $server_bin (${buildtype:-unknown buildtype}); load generator: $bench_bin"
[ "${buildtype:-}" = release ] || echo "# note: not a release build; figures of a debug build understate SupersoniQ"
echo "# machine: $(nproc) CPUs, $(uname -r); load generator options: ${*:-defaults}"

start_supersoniq() {
  [ -x "$server_bin" ] || { echo "# no server at $server_bin"; return 1; }
  cat > "$tmp/server.conf" <<EOF
[security]
pwhash_opslimit=1
pwhash_memlimit=8192
[limits]
messages_per_minute=0
registrations_per_hour=0
[amqp]
listen=127.0.0.1:0
EOF
  mkdir -p "$tmp/ssq-data"
  "$server_bin" --listen 127.0.0.1:0 --data-dir "$tmp/ssq-data" --config "$tmp/server.conf" \
    >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
  server_pid=$!
  local url='' amqp=''
  for _ in $(seq 1 300); do
    url=$(sed -n 's|.*listening on https\{0,1\}://\([^[:space:]]*\).*|http://\1|p' "$tmp/server.out" | head -n1)
    amqp=$(sed -n 's|.*amqp listening on amqp://\([^[:space:]]*\).*|\1|p' "$tmp/server.out" | head -n1)
    [ -n "$url" ] && [ -n "$amqp" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$amqp" ]; then
    echo "# SupersoniQ did not listen for AMQP:"
    tail -n 5 "$tmp/server.err" | sed 's/^/#   /'
    return 1
  fi
  url=${url%/}
  local reg token
  reg=$(curl --silent --show-error --max-time 30 -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench password 1"}' "$url/api/v1/register")
  token=$(printf '%s' "$reg" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || { echo "# registration failed: $reg"; return 1; }
  # The session token as the password: eleven password logins at once
  # (a publisher and ten consumers) trip the login throttle (every login in
  # flight counts as failed until it succeeds; test-amqp-pika.py's
  # t_logins_at_once), which is not what this measures.
  ssq_url="amqp://bench:$token@$amqp"
  echo "# SupersoniQ $("$server_bin" --version 2>/dev/null | head -n1) at $url, AMQP $amqp"
}

run_side() {   # name url round [options]
  echo "== $1, round $3"
  "$bench_bin" --url "$2" --prefix "bench.$1.$3" "${@:4}" | tee -a "$tmp/$1.out"
  return "${PIPESTATUS[0]}"
}

# Both brokers up first, then the rounds alternate which goes first: the
# other builds and jobs of this machine weigh on both alike. (The idle
# RabbitMQ's schedulers may still spin while SupersoniQ runs: if anything,
# that counts against SupersoniQ.)
ssq_up=false rabbit_up=false
if [ "$only" != rabbitmq ]; then
  start_supersoniq && ssq_up=true
fi
if [ "$only" != supersoniq ]; then
  if rabbit_url=$(python3 "$src/tests/external/rabbitmq.py" start "$tmp/rabbitmq" 2>"$tmp/rabbit.err"); then
    rabbit_started=1
    rabbit_up=true
    echo "# RabbitMQ $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null) at $rabbit_url"
  else
    echo "# RabbitMQ did not start: $(cat "$tmp/rabbit.err")"
  fi
fi
ssq_ok=$ssq_up rabbit_ok=$rabbit_up
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order="supersoniq rabbitmq"; else order="rabbitmq supersoniq"; fi
  for side in $order; do
    if [ "$side" = supersoniq ] && $ssq_ok; then
      run_side supersoniq "$ssq_url" "$round" "$@" || { ssq_ok=false; echo "# SupersoniQ run failed"; }
    elif [ "$side" = rabbitmq ] && $rabbit_ok; then
      run_side rabbitmq "$rabbit_url" "$round" "$@" || { rabbit_ok=false; echo "# RabbitMQ run failed"; }
    fi
  done
done

# The median of the rounds' figures.
value() {
  sed -n "s/^RESULT $2 //p" "$tmp/$1.out" 2>/dev/null | sort -g \
    | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo
printf '%-30s %13s %13s   %s\n' "median of $rounds rounds" SupersoniQ RabbitMQ "ratio (>1: SupersoniQ better)"
for row in confirm_msgs_per_s confirm_p50_ms confirm_p99_ms transient1_msgs_per_s \
           transient10_msgs_per_s fanout100_deliveries_per_s; do
  s=$($ssq_ok && value supersoniq "$row")
  r=$($rabbit_ok && value rabbitmq "$row")
  ratio=$(awk -v s="${s:-}" -v r="${r:-}" -v row="$row" 'BEGIN {
    if (s == "" || r == "" || s + 0 == 0 || r + 0 == 0) { print "n/a"; exit }
    # Latencies: lower is better, so the ratio is RabbitMQ / SupersoniQ.
    if (row ~ /_ms$/) printf "%.2f", r / s; else printf "%.2f", s / r }')
  printf '%-30s %13s %13s   %s\n' "$row" "${s:-n/a}" "${r:-n/a}" "$ratio"
done
echo "(targets: every ratio >= 1, confirm_msgs_per_s >= 2)"
$ssq_ok || $rabbit_ok
