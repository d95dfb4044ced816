#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP/2 on the TLS chat port (ALPN h2), seen by clients nobody on the team
wrote: curl --http2 with the printed pin, nghttp (nghttp2-client) when
installed, and a raw HTTP/2 frame writer of our own for what no polite
client does (streams past the limit, a rapid-reset burst). HTTP/1.1 and
WebSocket (wss) on the same port at the same time. The real
supersoniq-server in its own process; TAP on stdout.

Python's standard library has no HTTP/2 client: the raw one here writes
HPACK literals (no Huffman, no table) and reads frame headers only.
"""

import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


std = _load("ssq_stdlib", "test-stdlib.py")
tls = _load("ssq_tls", "test-tls.py")
tap = _load("ssq_tap", "ssq_tap.py")
check, Fail = std.check, std.Fail

IO_TIMEOUT = 15.0
MAX_STREAMS = 20      # the server's [limits] max_streams here
MAX_BODY = std.MAX_BODY

# Frame types and error codes (RFC 9113).
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = \
    0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
NO_ERROR, PROTOCOL_ERROR, REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM = 0, 1, 7, 8, 0xb
HTTP_1_1_REQUIRED = 0xd
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

S = {}


# ---------------------------------------------------------------------------
# A raw HTTP/2 client


from h2_frames import frame, hpack_literal  # noqa: E402


class H2:
    """One TLS connection speaking h2: writes frames, reads frame headers."""

    def __init__(self, server, settings=b""):
        ctx = tls.insecure_context()
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection((server.host, server.port), timeout=IO_TIMEOUT)
        self.sock = ctx.wrap_socket(raw)
        check(self.sock.selected_alpn_protocol() == "h2",
              f"ALPN chose {self.sock.selected_alpn_protocol()!r}")
        self.buf = b""
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0, settings))

    def settled(self):
        """Reads the server's SETTINGS and connection WINDOW_UPDATE, and
        acks the SETTINGS: its limits and windows apply from here."""
        deadline = time.monotonic() + IO_TIMEOUT
        seen = set()
        while seen != {SETTINGS, WINDOW_UPDATE}:
            t, flags, stream, payload = self.read_frame(deadline)
            if t == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))
                seen.add(t)
            if t == WINDOW_UPDATE and stream == 0:
                seen.add(t)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def request(self, stream, method, path, headers=(), end_stream=True, authority="127.0.0.1"):
        """HEADERS, and CONTINUATIONs past the default frame size."""
        block = b"".join(hpack_literal(n, v) for n, v in
                         [(":method", method), (":scheme", "https"), (":path", path),
                          (":authority", authority)] + list(headers))
        pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
        out = b""
        for n, piece in enumerate(pieces):
            last = END_HEADERS if n == len(pieces) - 1 else 0
            if n == 0:
                out += frame(HEADERS, last | (END_STREAM if end_stream else 0), stream, piece)
            else:
                out += frame(CONTINUATION, last, stream, piece)
        return out

    def read_frame(self, deadline):
        """(type, flags, stream, payload), or None when the peer closed."""
        while True:
            if len(self.buf) >= 9:
                length = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + length:
                    head, self.buf = self.buf[:9 + length], self.buf[9 + length:]
                    stream = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
                    return head[3], head[4], stream, head[9:]
            left = deadline - time.monotonic()
            check(left > 0, "no frame in time")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except (ConnectionError, ssl.SSLError):
                return None
            if not data:
                return None
            self.buf += data

    def answered(self, stream_id, timeout=IO_TIMEOUT):
        """Whether HEADERS come on @stream_id before the connection ends or
        goes quiet for @timeout."""
        return any(t == HEADERS and stream == stream_id
                   for t, flags, stream, payload in self.frames(timeout))

    def frames(self, timeout=IO_TIMEOUT):
        """Frames until the connection ends or goes quiet for @timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.read_frame(deadline)
            except (Fail, socket.timeout):
                return
            if f is None:
                return
            yield f


# ---------------------------------------------------------------------------
# curl and nghttp


def base_url(srv):
    return f"https://{srv.host}:{srv.port}"


def curl(srv, path, *args, http="--http2", data=None):
    """(http_version, status, body bytes) of one request."""
    with tempfile.NamedTemporaryFile() as out:
        argv = ["curl", "--silent", "--show-error", "--max-time", "60", "-k", http,
                "--pinnedpubkey", "sha256//" + srv.pin, "-o", out.name,
                "-w", "%{http_version} %{http_code}", *args, base_url(srv) + path]
        r = subprocess.run(argv, input=data, capture_output=True, timeout=90)
        check(r.returncode == 0, f"curl {path}: exit {r.returncode} {r.stderr.decode()}")
        version, code = r.stdout.decode().split()
        out.seek(0)
        return version, int(code), out.read()


def curl_json(srv, method, path, body=None, token=None, http="--http2"):
    args = ["-X", method]
    if token:
        args += ["-H", "Authorization: Bearer " + token]
    data = None
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        data = json.dumps(body).encode()
    version, code, raw = curl(srv, path, *args, http=http, data=data)
    return version, code, (json.loads(raw) if raw else None)


# ---------------------------------------------------------------------------
# The tests


def t_alpn_client_order():
    """h2 and http/1.1 offered; the client's order decides; no ALPN is
    HTTP/1.1."""
    srv = S["srv"]
    for offer, want in ((["h2", "http/1.1"], "h2"), (["http/1.1", "h2"], "http/1.1"),
                        (["http/1.1"], "http/1.1"), (["h2"], "h2"), (None, None)):
        ctx = tls.insecure_context()
        if offer:
            ctx.set_alpn_protocols(offer)
        with tls.tls_connect(srv, ctx) as s:
            check(s.selected_alpn_protocol() == want,
                  f"offered {offer}: chose {s.selected_alpn_protocol()!r}, not {want!r}")


def t_rest_over_h2():
    srv = S["srv"]
    for name in ("alice", "bob"):
        v, code, obj = curl_json(srv, "POST", "/api/v1/register",
                                 {"username": name, "password": "correct horse " + name})
        check((v, code) == ("2", 201), f"register {name}: HTTP/{v} {code} {obj}")
        v, code, obj = curl_json(srv, "POST", "/api/v1/login",
                                 {"username": name, "password": "correct horse " + name})
        check((v, code) == ("2", 200) and obj["token"], f"login {name}: HTTP/{v} {code} {obj}")
        S[name] = obj["token"]
    v, code, obj = curl_json(srv, "POST", "/api/v1/conversations",
                             {"kind": "direct", "members": ["bob"]}, token=S["alice"])
    check(v == "2" and code in (200, 201), f"conversation: HTTP/{v} {code} {obj}")
    S["conv"] = conv = obj["conversation"]["id"]
    v, code, obj = curl_json(srv, "GET", "/api/v1/conversations", token=S["bob"])
    check((v, code) == ("2", 200) and any(c["id"] == conv for c in obj["conversations"]),
          f"conversations: HTTP/{v} {code} {obj}")
    for i in range(3):
        v, code, obj = curl_json(srv, "POST", f"/api/v1/conversations/{conv}/messages",
                                 {"client_id": f"h2-{i}", "body": f"over HTTP/2 {i}"},
                                 token=S["alice"])
        check(v == "2" and code in (200, 201), f"send {i}: HTTP/{v} {code} {obj}")
    v, code, obj = curl_json(srv, "GET", f"/api/v1/conversations/{conv}/messages?limit=10",
                             token=S["bob"])
    bodies = [m["body"] for m in obj["messages"]]
    check((v, code) == ("2", 200) and all(f"over HTTP/2 {i}" in bodies for i in range(3)),
          f"history: HTTP/{v} {code} {bodies}")
    # Errors are the same answers as over HTTP/1.1.
    v, code, obj = curl_json(srv, "GET", "/api/v1/conversations")
    check((v, code) == ("2", 401) and obj["error"]["code"] == "unauthorized",
          f"no token: HTTP/{v} {code} {obj}")
    v1, code1, obj1 = curl_json(srv, "GET", "/api/v1/nothing-here", http="--http1.1")
    v2, code2, obj2 = curl_json(srv, "GET", "/api/v1/nothing-here")
    check(v1 == "1.1" and v2 == "2" and (code1, obj1) == (code2, obj2),
          f"404: HTTP/1.1 {code1} {obj1}, HTTP/2 {code2} {obj2}")
    srv.wait_log(" HTTP/2")
    lines = srv.lines()
    check(any("GET /api/v1/conversations 200 " in l and l.endswith(" ms HTTP/2") for l in lines),
          "no request line saying HTTP/2")
    check(any("POST /api/v1/register 201 " in l and l.endswith(" ms HTTP/2") for l in lines),
          "no register line saying HTTP/2")


def t_media_over_h2():
    """An upload (streamed to the store) and its download (a file body,
    DATA frame by frame), Range and ETag as over HTTP/1.1."""
    srv = S["srv"]
    blob = os.urandom(5 * 1024 * 1024 + 77)
    auth = ["-H", "Authorization: Bearer " + S["alice"]]
    with tempfile.NamedTemporaryFile() as f:
        f.write(blob)
        f.flush()
        v, code, raw = curl(srv, "/api/v1/media?name=blob.bin", *auth, "-H",
                            "Content-Type: application/octet-stream", "--data-binary", "@" + f.name)
    obj = json.loads(raw)
    check(v == "2" and code in (200, 201), f"upload: HTTP/{v} {code} {obj}")
    media = obj["media"]["id"]
    v, code, got = curl(srv, f"/api/v1/media/{media}", *auth)
    check((v, code) == ("2", 200) and hashlib.sha256(got).digest() == hashlib.sha256(blob).digest(),
          f"download: HTTP/{v} {code}, {len(got)} bytes")
    v, code, got = curl(srv, f"/api/v1/media/{media}", *auth, "-r", "1000-1999")
    check((v, code, got) == ("2", 206, blob[1000:2000]), f"range: HTTP/{v} {code}, {len(got)} bytes")
    etag = '"' + hashlib.sha256(blob).hexdigest() + '"'
    v, code, got = curl(srv, f"/api/v1/media/{media}", *auth, "-H", "If-None-Match: " + etag)
    check((v, code, got) == ("2", 304, b""), f"If-None-Match: HTTP/{v} {code}")
    r = subprocess.run(["curl", "-sk", "--http2", "-I", *auth, base_url(srv) + f"/api/v1/media/{media}"],
                       capture_output=True, timeout=60)
    head = r.stdout.decode().lower()
    check(head.startswith("http/2 200") and f"content-length: {len(blob)}" in head and
          "etag: " + etag in head, f"HEAD: {head}")


def t_nghttp():
    srv = S["srv"]
    if shutil.which("nghttp") is None:
        return "SKIP nghttp not installed (Debian: nghttp2-client)"
    r = subprocess.run(["nghttp", "-nv", "-H", "authorization: Bearer " + S["bob"],
                        base_url(srv) + "/api/v1/conversations"],
                       capture_output=True, timeout=60)
    out = r.stdout.decode()
    check(r.returncode == 0, f"nghttp exit {r.returncode}: {r.stderr.decode()}")
    check("The negotiated protocol: h2" in out, "not h2")
    check("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):%d]" % MAX_STREAMS in out, "stream limit not advertised")
    check("[SETTINGS_HEADER_TABLE_SIZE(0x01):4096]" in out, "HPACK table not 4096")
    check(":status: 200" in out, "no 200")
    # Several streams at once on one connection.
    urls = [base_url(srv) + p for p in ("/healthz", "/api/v1/server")]
    r = subprocess.run(["nghttp", "-n", "-s", "-m", "2", *urls], capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stdout.decode().count(" 200 ") >= 4,
          f"nghttp -s: {r.returncode} {r.stdout.decode()[-500:]}")


def t_h1_ws_and_h2_together():
    """On the same port at once: a WebSocket (wss, HTTP/1.1), HTTP/1.1
    requests, and messages sent over HTTP/2 that the WebSocket receives."""
    srv = S["srv"]
    ws = tls.wss(srv, S["bob"])
    try:
        ws.expect_type("welcome")
        status, obj = tls.https(srv, "GET", "/api/v1/conversations", token=S["bob"])
        check(status == 200, f"HTTP/1.1 over TLS: {status}")
        for i in range(5):
            v, code, obj = curl_json(srv, "POST", f"/api/v1/conversations/{S['conv']}/messages",
                                     {"client_id": f"mixed-{i}", "body": f"mixed {i}"},
                                     token=S["alice"])
            check(v == "2" and code in (200, 201), f"send {i}: HTTP/{v} {code}")
            m = ws.expect(lambda o, i=i: o.get("type") == "message" and
                          o["message"]["client_id"] == f"mixed-{i}", what=f"message {i}")
            check(m["message"]["body"] == f"mixed {i}", f"body {i}")
        status, obj = tls.https(srv, "GET", "/healthz")
        check(status == 200, f"HTTP/1.1 after: {status}")
    finally:
        ws.close()


def t_ws_path_over_h2():
    """The WebSocket's path over HTTP/2 (no RFC 8441): the stream is reset
    with HTTP_1_1_REQUIRED and the connection goes on; curl --http2 then
    asks again over HTTP/1.1 by itself and gets what HTTP/1.1 answers there
    without the upgrade: 426, Upgrade: websocket, a JSON error."""
    srv = S["srv"]
    c = H2(srv)
    try:
        c.send(c.request(1, "GET", "/api/v1/ws", [("authorization", "Bearer " + S["bob"])]) +
               c.request(3, "POST", "/api/v1/ws", [("content-type", "application/json")],
                         end_stream=False) +
               frame(DATA, END_STREAM, 3, b"{}") + c.request(5, "GET", "/healthz"))
        resets, answered = {}, set()
        for t, flags, stream, payload in c.frames(timeout=IO_TIMEOUT):
            if t == RST_STREAM:
                resets[stream] = struct.unpack(">I", payload)[0]
            if t == HEADERS:
                answered.add(stream)
            check(t != GOAWAY, "GOAWAY")
            if len(resets) == 2 and 5 in answered:
                break
        check(resets == {1: HTTP_1_1_REQUIRED, 3: HTTP_1_1_REQUIRED},
              f"resets {resets} (want HTTP_1_1_REQUIRED on 1 and 3)")
        check(answered == {5}, f"answered {answered}")
    finally:
        c.close()
    v1, code1, obj1 = curl_json(srv, "GET", "/api/v1/ws", http="--http1.1")
    v2, code2, obj2 = curl_json(srv, "GET", "/api/v1/ws", token=S["bob"])
    check((v1, code1) == ("1.1", 426) and obj1["error"]["code"] == "invalid" and
          "WebSocket" in obj1["error"]["message"], f"HTTP/1.1: {v1} {code1} {obj1}")
    check((v2, code2, obj2) == ("1.1", 426, obj1), f"curl --http2: HTTP/{v2} {code2} {obj2}")
    r = subprocess.run(["curl", "-sk", "--http1.1", "-D", "-", "-o", "/dev/null",
                        base_url(srv) + "/api/v1/ws"], capture_output=True, timeout=60)
    head = r.stdout.decode().lower()
    check("upgrade: websocket" in head and "connection: upgrade" in head, f"head: {head}")
    h2_alive()


def h2_alive():
    v, code, _ = curl(S["srv"], "/healthz")
    check((v, code) == ("2", 200), f"healthz after: HTTP/{v} {code}")


def open_streams(c, n):
    """@n POSTs whose bodies never come: each stream stays open. Returns
    the streams reset and the GOAWAY's (last stream, code), if any."""
    c.send(b"".join(c.request(1 + 2 * i, "POST", "/api/v1/login",
                              [("content-type", "application/json")], end_stream=False)
                    for i in range(n)))
    refused, goaway = set(), None
    for t, flags, stream, payload in c.frames(timeout=3):
        if t == RST_STREAM:
            refused.add(stream)
        if t == GOAWAY:
            goaway = struct.unpack(">II", payload[:8])
    return refused, goaway


def t_too_many_streams():
    """Streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused (before our
    SETTINGS are acked: REFUSED_STREAM; after: GOAWAY PROTOCOL_ERROR, as
    nghttp2 does); the ones within are answered."""
    srv = S["srv"]
    n = MAX_STREAMS * 3
    c = H2(srv)
    try:
        refused, goaway = open_streams(c, n)
        check(goaway is None, f"GOAWAY {goaway}")
        check(len(refused) == n - MAX_STREAMS, f"{len(refused)} of {n} streams refused")
        check(all(s > 2 * MAX_STREAMS - 1 for s in refused), "a stream within the limit refused")
        # The open ones still work: finish one with a body.
        body = json.dumps({"username": "alice", "password": "correct horse alice"}).encode()
        c.send(frame(DATA, END_STREAM, 1, body))
        check(c.answered(1), "no answer on stream 1")
    finally:
        c.close()
    c = H2(srv)
    try:
        c.settled()
        refused, goaway = open_streams(c, n)
        check(goaway is not None and goaway[1] == PROTOCOL_ERROR and
              goaway[0] <= 2 * MAX_STREAMS - 1, f"after the ack: GOAWAY {goaway}")
    finally:
        c.close()
    h2_alive()


def t_rapid_reset():
    """HEADERS then RST_STREAM, many times (CVE-2023-44487): the connection
    ends with GOAWAY ENHANCE_YOUR_CALM, while another is served."""
    srv = S["srv"]
    c = H2(srv)
    try:
        burst = b"".join(c.request(1 + 2 * i, "GET", "/healthz") +
                         frame(RST_STREAM, 0, 1 + 2 * i, struct.pack(">I", CANCEL))
                         for i in range(500))
        try:
            c.send(burst)
        except (ConnectionError, ssl.SSLError):
            pass
        # Meanwhile, another connection is served.
        h2_alive()
        code = None
        for t, flags, stream, payload in c.frames(timeout=IO_TIMEOUT):
            if t == GOAWAY:
                code = struct.unpack(">I", payload[4:8])[0]
        check(code == ENHANCE_YOUR_CALM, f"GOAWAY code {code}")
    finally:
        c.close()
    srv.wait_log("resets streams too fast")
    h2_alive()


def t_oversize_headers():
    """A header list over max_header_size: 431, and the connection goes on
    (curl, then raw: a second request on the same connection)."""
    srv = S["srv"]
    big = "x" * (20 * 1024)
    v, code, raw = curl(srv, "/api/v1/conversations", "-H", "X-Big: " + big)
    check(v == "2" and code == 431 and json.loads(raw)["error"]["code"] == "too_large",
          f"HTTP/{v} {code} {raw[:200]}")
    many = [f"-HX-Many-{i}: {i}" for i in range(100)]
    v, code, raw = curl(srv, "/api/v1/conversations", *many)
    check((v, code) == ("2", 431), f"100 fields: HTTP/{v} {code}")
    c = H2(srv)
    try:
        c.send(c.request(1, "GET", "/healthz", [("x-big", big)]) + c.request(3, "GET", "/healthz"))
        answered = set()
        for t, flags, stream, payload in c.frames(timeout=IO_TIMEOUT):
            if t == HEADERS:
                answered.add(stream)
            if answered == {1, 3}:
                break
        check(answered == {1, 3}, f"answered {answered}")
    finally:
        c.close()
    h2_alive()


def t_body_too_large():
    """Over max_body_size: 413, whether Content-Length says so or DATA
    shows it; the body is not kept; others are served."""
    srv = S["srv"]
    big = b"{" + b" " * (MAX_BODY + 10) + b"}"
    v, code, raw = curl(srv, "/api/v1/login", "-H", "Content-Type: application/json",
                        "--data-binary", "@-", data=big)
    check(v == "2" and code == 413 and json.loads(raw)["error"]["code"] == "too_large",
          f"with Content-Length: HTTP/{v} {code} {raw[:200]}")
    # No Content-Length: the DATA frames pass the limit. Sent once the
    # server's windows are known (its SETTINGS, its WINDOW_UPDATE).
    c = H2(srv)
    try:
        c.settled()
        status_seen = reset = False
        c.send(c.request(1, "POST", "/api/v1/login", [("content-type", "application/json")],
                         end_stream=False))
        # Past the limit, then past what is drained after a refusal.
        sent = 0
        while sent <= MAX_BODY + 256 * 1024 + 32768:
            c.send(frame(DATA, 0, 1, b" " * 16384))
            sent += 16384
        for t, flags, stream, payload in c.frames(timeout=IO_TIMEOUT):
            if t == HEADERS and stream == 1:
                status_seen = True
            if t == RST_STREAM and stream == 1:
                reset = True
                break
        check(status_seen, "no answer to the oversized body")
        check(reset, "the stream was not reset after the answer")
    finally:
        c.close()
    srv.wait_log("POST /api/v1/login 413 ")
    h2_alive()


def t_body_before_login():
    """A body's limit is known at its headers: a login announcing more
    than 16 KiB is refused before a byte of its body is sent (it waited
    for the body, and held it)."""
    srv = S["srv"]
    c = H2(srv)
    try:
        c.settled()
        c.send(c.request(1, "POST", "/api/v1/login", [("content-type", "application/json"),
                                                      ("content-length", "100000")],
                         end_stream=False))
        check(c.answered(1), "no answer before the body")
    finally:
        c.close()
    srv.wait_log("POST /api/v1/login 413 ")
    h2_alive()


def t_headers_held_per_connection():
    """Streams held open with large headers: past four times
    max_header_size on one connection, the next are refused (431), so a
    connection holds at most that much of headers; others are served."""
    srv = S["srv"]
    c = H2(srv)
    pad = "p" * (15 * 1024)
    n = 10
    try:
        c.settled()
        c.send(b"".join(c.request(1 + 2 * i, "POST", "/api/v1/login",
                                  [("content-type", "application/json"), ("x-pad", pad)],
                                  end_stream=False) for i in range(n)))
        answered = set()
        for t, flags, stream, payload in c.frames(timeout=3):
            if t in (HEADERS, RST_STREAM):
                answered.add(stream)
        check(len(answered) >= n - 4, f"{len(answered)} of {n} streams refused")
        check(len(answered) < n, "every stream refused")
    finally:
        c.close()
    h2_alive()


def t_many_whole_requests():
    """h2load keeping as many streams open as allowed, each a whole request
    with 5 KiB of headers (a cookie, a token): every answer 2xx, none 431.
    The bound on headers held counts only streams still coming (counting
    whole ones too, 41 of h2load's 100 were 431)."""
    srv = S["srv"]
    if shutil.which("h2load") is None:
        return "SKIP h2load not installed (Debian: nghttp2-client)"
    r = subprocess.run(["h2load", "-n", str(20 * MAX_STREAMS), "-c", "1", "-m", str(MAX_STREAMS),
                        "-H", "cookie: " + "c" * (5 * 1024), base_url(srv) + "/healthz"],
                       capture_output=True, timeout=120)
    out = r.stdout.decode()
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    check(r.returncode == 0 and m is not None, f"h2load exit {r.returncode}: {out[-500:]}")
    check(int(m.group(1)) == 20 * MAX_STREAMS and int(m.group(3)) == 0,
          f"h2load: {m.group(0)}")
    h2_alive()


def t_slow_body():
    """A body one byte every 500 ms on a stream: each byte is progress, so
    only a deadline for the whole request (idle_timeout, 2 s on this
    server of its own, from the stream's HEADERS) ends it; the connection
    gets GOAWAY. Each byte kept the stream, and the connection, for as
    long as the peer liked."""
    srv = tls.TlsServer(extra="idle_timeout=2\n")
    srv.start()
    c = None
    try:
        c = H2(srv)
        c.settled()
        c.send(c.request(1, "POST", "/api/v1/login", [("content-type", "application/json"),
                                                      ("content-length", "1000")],
                         end_stream=False))
        deadline = time.monotonic() + 9
        goaway = False
        sent = 0
        while not goaway and time.monotonic() < deadline:
            try:
                c.send(frame(DATA, 0, 1, b" "))
                sent += 1
            except (ConnectionError, ssl.SSLError):
                break
            for t, flags, stream, payload in c.frames(timeout=0.5):
                if t == GOAWAY:
                    goaway = True
                    break
        check(goaway, f"no GOAWAY after {sent} body bytes")
    finally:
        if c is not None:
            c.close()
        srv.stop()
        srv.cleanup()


def t_goaway_on_stop():
    """The server stopping says GOAWAY to an HTTP/2 connection, and exits
    cleanly (under valgrind: no error, no leak)."""
    srv = S["srv"]
    c = H2(srv)
    try:
        c.send(c.request(1, "GET", "/healthz"))
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            t, flags, stream, payload = c.read_frame(deadline)
            if t == DATA and stream == 1:
                break
        srv.proc.send_signal(signal.SIGTERM)
        code = None
        for t, flags, stream, payload in c.frames(timeout=IO_TIMEOUT):
            if t == GOAWAY:
                code = struct.unpack(">I", payload[4:8])[0]
                break
        check(code == NO_ERROR, f"GOAWAY code {code}")
    finally:
        c.close()
    S["stopped"] = True
    srv.finish()


TESTS = [
    ("ALPN offers h2 and http/1.1 in the client's order", t_alpn_client_order),
    ("REST over HTTP/2: register, login, conversations, send, history; log lines", t_rest_over_h2),
    ("media over HTTP/2: upload, download (hash equal), Range, ETag, HEAD", t_media_over_h2),
    ("nghttp: h2, the advertised limits, several streams", t_nghttp),
    ("HTTP/1.1, wss and HTTP/2 on the same port at once", t_h1_ws_and_h2_together),
    ("the WebSocket's path over HTTP/2: HTTP_1_1_REQUIRED; HTTP/1.1 says 426", t_ws_path_over_h2),
    ("streams past the limit refused, the others served", t_too_many_streams),
    ("rapid reset ends the connection with ENHANCE_YOUR_CALM", t_rapid_reset),
    ("oversized header list: 431, connection goes on", t_oversize_headers),
    ("body over max_body_size: 413 and RST_STREAM", t_body_too_large),
    ("a login's body over 16 KiB: 413 before the body", t_body_before_login),
    ("headers held by a connection's streams are bounded", t_headers_held_per_connection),
    ("as many whole requests as streams allowed, large headers: all answered", t_many_whole_requests),
    ("a body trickling a byte at a time: GOAWAY at idle_timeout", t_slow_body),
    ("GOAWAY at shutdown, clean exit", t_goaway_on_stop),
]


def main():
    signal.signal(signal.SIGTERM, std.on_signal)
    signal.signal(signal.SIGINT, std.on_signal)
    print(f"1..{len(TESTS)}", flush=True)
    curl_h2 = subprocess.run(["curl", "--version"], capture_output=True).stdout.decode() \
        if shutil.which("curl") else ""
    if shutil.which("openssl") is None or "HTTP2" not in curl_h2:
        tap.skip_all([name for name, _ in TESTS], "needs openssl and curl with HTTP2")
        return 0
    srv = tls.TlsServer(extra=f"max_streams={MAX_STREAMS}\n")
    S["srv"] = std.S["server"] = tls.S["srv"] = srv
    failed = 0
    try:
        srv.start()
        probe = tls.insecure_context()
        probe.set_alpn_protocols(["h2", "http/1.1"])
        with tls.tls_connect(srv, probe) as s:
            if s.selected_alpn_protocol() != "h2":
                tap.skip_all([name for name, _ in TESTS], "server built without libnghttp2")
                return 0
        print(f"# server at {srv.url}, pin {srv.pin}", flush=True)
        failed = tap.run(TESTS, srv)
    finally:
        if not S.get("stopped"):
            srv.stop()
        srv.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
