#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The real supersoniq-server seen by curl (and wrk, when installed): connection
# reuse, bodies over the limit by Content-Length and chunked, HTTP/1.0,
# Prometheus text, media up and down (ranges, resume, a refused upload
# whose body curl never sends), and a short load run. TAP on stdout.
#
# The server is tap-server.sh's, stopped on any exit. Every curl call has
# --max-time.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=tap-server.sh
. "$here/tap-server.sh"
max_body=65536
media_max=16777216

tap_plan 12
tap_tmp ssq-ext-curl
command -v curl >/dev/null || bail "curl not found"
# shellcheck disable=SC2119 # no --amqp: the chat's listener only
start_server <<EOF
[security]
pwhash_opslimit=1
pwhash_memlimit=8192
[limits]
messages_per_minute=0
registrations_per_hour=0
max_body_size=$max_body
[media]
max_size=$media_max
uploads_per_minute=0
EOF
diag "server at $url"

c() { curl --silent --show-error --max-time 30 "$@"; }

# 1. Several URLs in one invocation share one connection.
c -v -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
  "$url/healthz" "$url/healthz" "$url/metrics" >"$tmp/reuse.out" 2>"$tmp/reuse.err"
rc=$?
connects=$(awk '{s += $1} END {print s + 0}' "$tmp/reuse.out")
reused=$(grep -ci 're-using existing connection' "$tmp/reuse.err")
if [ $rc -eq 0 ] && [ "$connects" = 1 ] && [ "$reused" -ge 2 ]; then
  ok "three URLs in one curl call: one connection (num_connects $(paste -sd, "$tmp/reuse.out"), $reused re-uses)"
else
  not_ok "three URLs in one curl call: one connection" "curl rc $rc, num_connects: $(paste -sd, "$tmp/reuse.out"), re-uses: $reused" \
    "$(grep -i 'connect\|clos' "$tmp/reuse.err")"
fi

# 2. A 1 MB file to a JSON route: 413, with curl's own Expect: 100-continue
#    and without it (the body then really is on its way).
head -c 1048576 /dev/zero | tr '\0' 'x' >"$tmp/big"
res=
for expect in default off; do
  if [ $expect = off ]; then hdr=(-H 'Expect:'); else hdr=(); fi
  code=$(c -o "$tmp/big.out" -w '%{http_code}' "${hdr[@]}" -H 'Content-Type: application/json' \
         --data-binary @"$tmp/big" "$url/api/v1/register" 2>"$tmp/big.err")
  rc=$?
  if [ "$code" = 413 ] && grep -q '"too_large"' "$tmp/big.out"; then
    res="$res ok"
  else
    res="$res fail"
    diag "Expect $expect: curl rc $rc, status $code, body: $(head -c 200 "$tmp/big.out")" "$(cat "$tmp/big.err")"
  fi
done
if [ "$res" = " ok ok" ]; then
  ok "curl --data-binary @1MB-file to POST /api/v1/register: 413 too_large (with and without Expect)"
else
  not_ok "curl --data-binary @1MB-file to POST /api/v1/register: 413 too_large"
fi

# 3. A chunked upload from a pipe, over the limit.
code=$(head -c $((max_body * 4)) /dev/zero | tr '\0' 'y' |
       c -o "$tmp/chunked.out" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
         -H 'Content-Type: application/json' --data-binary @- "$url/api/v1/register" 2>"$tmp/chunked.err")
rc=$?
if [ "$code" = 413 ] && grep -q '"too_large"' "$tmp/chunked.out"; then
  ok "chunked upload from a pipe over max_body_size: 413 too_large"
else
  not_ok "chunked upload from a pipe over max_body_size: 413 too_large" \
    "curl rc $rc, status $code, body: $(head -c 200 "$tmp/chunked.out")" "$(cat "$tmp/chunked.err")"
fi

# 4. A chunked upload under the limit works: register over a pipe, then use
#    the token.
code=$(printf '{"username":"chunky","password":"correct horse chunky"}' |
       c -o "$tmp/reg.out" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
         -H 'Content-Type: application/json' --data-binary @- "$url/api/v1/register" 2>"$tmp/reg.err")
token=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$tmp/reg.out")
me=$(c -H "Authorization: Bearer $token" "$url/api/v1/me" 2>&1)
if [ "$code" = 201 ] && [ -n "$token" ] && printf '%s' "$me" | grep -q '"username":"chunky"'; then
  ok "chunked register under the limit: 201, token works on GET /api/v1/me"
else
  not_ok "chunked register under the limit" "status $code: $(cat "$tmp/reg.out" "$tmp/reg.err")" "me: $me"
fi

# 5. HTTP/1.0: an answer, then the server closes.
code=$(c --http1.0 -v -o "$tmp/h10.out" -w '%{http_code}' "$url/healthz" 2>"$tmp/h10.err")
rc=$?
if [ $rc -eq 0 ] && [ "$code" = 200 ] && grep -q '"status":"ok"' "$tmp/h10.out" &&
   grep -qi '^> GET /healthz HTTP/1.0' "$tmp/h10.err" &&
   ! grep -qi 'left intact' "$tmp/h10.err"; then
  ok "curl --http1.0 GET /healthz: 200, connection not kept"
else
  not_ok "curl --http1.0 GET /healthz" "curl rc $rc, status $code" "$(cat "$tmp/h10.err")"
fi

# 6. HTTP/1.0 with Keep-Alive asked for: the answer must not hang curl.
code=$(c --http1.0 -H 'Connection: keep-alive' -o /dev/null -o /dev/null -w '%{http_code}' "$url/healthz" "$url/healthz" 2>"$tmp/h10k.err")
rc=$?
if [ $rc -eq 0 ] && [ "$code" = 200200 ]; then
  ok "curl --http1.0 with Connection: keep-alive, two URLs: both 200"
else
  not_ok "curl --http1.0 with Connection: keep-alive, two URLs" "curl rc $rc, status $code" "$(cat "$tmp/h10k.err")"
fi

# 7. GET /metrics is Prometheus text exposition format.
c -D "$tmp/metrics.head" -o "$tmp/metrics" "$url/metrics" 2>"$tmp/metrics.err"
rc=$?
ctype=$(tr -d '\r' <"$tmp/metrics.head" | sed -n 's/^[Cc]ontent-[Tt]ype: *//p')
bad=$(grep -vE '^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?([0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|\+Inf|-Inf|NaN))$' "$tmp/metrics" | head -5)
types_ok=1
for m in ssq_http_requests_total:counter ssq_connections:gauge ssq_tcp_connections:gauge \
         ssq_http_request_duration_seconds:histogram process_resident_memory_bytes:gauge; do
  grep -qx "# TYPE ${m%%:*} ${m##*:}" "$tmp/metrics" || { types_ok=0; diag "missing # TYPE ${m%%:*} ${m##*:}"; }
done
requests=$(sed -n 's/^ssq_http_requests_total \([0-9]*\)$/\1/p' "$tmp/metrics")
if [ $rc -eq 0 ] && [[ $ctype == text/plain* ]] && [ -z "$bad" ] && [ $types_ok = 1 ] &&
   [ "${requests:-0}" -ge 5 ] && grep -q '^ssq_http_request_duration_seconds_bucket{le="+Inf"} ' "$tmp/metrics"; then
  ok "GET /metrics: Prometheus text ($ctype, $(wc -l <"$tmp/metrics") lines, ssq_http_requests_total $requests)"
else
  not_ok "GET /metrics: Prometheus text" "curl rc $rc, Content-Type '$ctype', requests '$requests'" "bad lines:" "$bad"
fi

# 8. HEAD: headers only (RFC 9110 9.3.2). curl reads the answer by its
#    headers and reports any body that follows as "Excess found".
c -v -I -o "$tmp/head.out" "$url/healthz" 2>"$tmp/head.err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^HTTP/1.1 200' "$tmp/head.out" && ! grep -qi 'excess found' "$tmp/head.err"; then
  ok "curl -I /healthz: no body after the headers"
else
  not_ok "curl -I /healthz: no body after the headers" "curl rc $rc" "$(grep -i 'excess' "$tmp/head.err")"
fi

# 9. Media: an 8 MB file up with --data-binary and down again, equal by
#    SHA-256; a range with -r; a broken download resumed with -C -.
media_ok=1
head -c 8388608 /dev/urandom >"$tmp/media.bin"
code=$(c -o "$tmp/up.out" -w '%{http_code}' -H "Authorization: Bearer $token" \
       -H 'Content-Type: image/png' --data-binary @"$tmp/media.bin" \
       "$url/api/v1/media?name=photo%20%C3%A9t%C3%A9.bin" 2>"$tmp/up.err")
media_id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$tmp/up.out")
if [ "$code" != 201 ] || [ -z "$media_id" ] || ! grep -q '"mime":"application/octet-stream"' "$tmp/up.out"; then
  media_ok=0; diag "upload: status $code, $(cat "$tmp/up.out" "$tmp/up.err")"
fi
auth=(-H "Authorization: Bearer $token")
c "${auth[@]}" -D "$tmp/down.head" -o "$tmp/down.bin" "$url/api/v1/media/$media_id" 2>"$tmp/down.err"
if [ "$(sha256sum <"$tmp/media.bin")" != "$(sha256sum <"$tmp/down.bin")" ] ||
   ! grep -qi '^content-disposition: attachment; .*filename\*=UTF-8'"''"'photo%20%C3%A9t%C3%A9.bin' "$tmp/down.head" ||
   ! grep -qi '^x-content-type-options: nosniff' "$tmp/down.head"; then
  media_ok=0; diag "download differs, or its headers: $(cat "$tmp/down.head" "$tmp/down.err")"
fi
code=$(c "${auth[@]}" -r 1000000-1000999 -o "$tmp/range.bin" -w '%{http_code}' "$url/api/v1/media/$media_id" 2>&1)
if [ "$code" != 206 ] || ! cmp -s "$tmp/range.bin" <(tail -c +1000001 "$tmp/media.bin" | head -c 1000); then
  media_ok=0; diag "range: status $code, $(wc -c <"$tmp/range.bin") bytes"
fi
head -c 3000000 "$tmp/media.bin" >"$tmp/resumed.bin"
c "${auth[@]}" -C - -o "$tmp/resumed.bin" "$url/api/v1/media/$media_id" 2>"$tmp/resume.err"
if ! cmp -s "$tmp/media.bin" "$tmp/resumed.bin"; then
  media_ok=0; diag "resume with -C -: files differ" "$(cat "$tmp/resume.err")"
fi
if [ $media_ok = 1 ]; then
  ok "curl --data-binary 8 MB to /api/v1/media: 201; download equal (SHA-256), -r 206, -C - resumes"
else
  not_ok "curl media upload, download, range and resume"
fi

# 10. An upload over [media] max_size: 413 from the headers, and curl (which
#     asks Expect: 100-continue) never sends the body.
head -c $((media_max + 1)) /dev/zero >"$tmp/too-big.bin"
out=$(c "${auth[@]}" -o "$tmp/big-media.out" -w '%{http_code} %{size_upload}' \
        --data-binary @"$tmp/too-big.bin" "$url/api/v1/media?name=big.bin" 2>"$tmp/big-media.err")
if [ "${out% *}" = 413 ] && [ "${out#* }" = 0 ] && grep -q '"too_large"' "$tmp/big-media.out"; then
  ok "curl --data-binary over max_size to /api/v1/media: 413 too_large, 0 body bytes sent"
else
  not_ok "curl upload over max_size: 413 before the body" "status and bytes sent: $out" \
    "$(cat "$tmp/big-media.out" "$tmp/big-media.err")"
fi

# 11. wrk: load on one route, no socket errors, requests/sec > 0.
if command -v wrk >/dev/null; then
  timeout 60 wrk -t2 -c50 -d3s "$url/healthz" >"$tmp/wrk.out" 2>&1
  rc=$?
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk.out")
  errors=$(grep -i 'socket errors' "$tmp/wrk.out")
  non2xx=$(grep -i 'non-2xx' "$tmp/wrk.out")
  diag "wrk -t2 -c50 -d3s $url/healthz: ${rps:-?} requests/sec"
  if [ $rc -eq 0 ] && [ -z "$errors" ] && [ -z "$non2xx" ] &&
     awk -v r="${rps:-0}" 'BEGIN { exit !(r > 0) }'; then
    ok "wrk -t2 -c50 -d3s: no socket errors, $rps requests/sec"
  else
    not_ok "wrk -t2 -c50 -d3s: no socket errors, requests/sec > 0" "wrk rc $rc" "$(cat "$tmp/wrk.out")"
  fi
else
  skip "wrk -t2 -c50 -d3s" "wrk not installed (apt-get install wrk)"
fi

# 12. Still alive and serving; a graceful stop exits 0.
code=$(c -o /dev/null -w '%{http_code}' "$url/healthz" 2>&1)
if [ "$code" = 200 ] && kill -0 "$server_pid" 2>/dev/null; then
  stop_server
  if [ "$stop_status" = 0 ]; then
    ok "server still serving after the load; exits 0 on SIGTERM"
  else
    not_ok "server exits 0 on SIGTERM" "exit status $stop_status (137: killed after 10 s)"
  fi
else
  not_ok "server still serving after the load" "healthz: $code"
fi

tap_end
