#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real supersoniq-server seen by clients nobody on the team wrote:
Python's http.client, raw sockets, and a minimal RFC 6455 client written
here. Standard library only; TAP on stdout.

The server binary comes from $SSQ_SERVER_BIN (default: build/server/
supersoniq-server next to this source tree); $SSQ_SERVER_WRAPPER, if set, is
prepended to its command line (e.g. valgrind). Every network wait is bounded
by a socket timeout or a deadline, and the server is stopped on any exit.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ssq_tap  # noqa: E402
SERVER_BIN = os.environ.get("SSQ_SERVER_BIN") or os.path.join(
    HERE, "..", "..", "build", "server", "supersoniq-server")
MAX_BODY = 65536
HEADER_TIMEOUT = 3
START_TIMEOUT = 30.0   # seconds for the "listening on" line
IO_TIMEOUT = 15.0      # any single network wait
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONFIG = f"""[security]
pwhash_opslimit=1
pwhash_memlimit=8192
[amqp]
listen=127.0.0.1:0
tls_listen=
[limits]
messages_per_minute=0
groups_per_hour=0
joins_per_hour=0
registrations_per_hour=0
max_body_size={MAX_BODY}
header_timeout={HEADER_TIMEOUT}
"""


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


# ---------------------------------------------------------------------------
# The server process


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ssq-ext-py-")
        self.conf = os.path.join(self.dir, "server.conf")
        with open(self.conf, "w") as f:
            f.write(CONFIG)
        self.log = []
        self.log_lock = threading.Lock()
        self.url_found = threading.Event()
        self.url = None
        # AMQP's HOST:PORT, from the "amqp listening on amqp://" line.
        self.amqp_found = threading.Event()
        self.amqp_listen = None
        self.proc = None

    def _drain(self, stream, name):
        # Reads a pipe to its end so the server never blocks on a full pipe.
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.log_lock:
                self.log.append(f"{name}: {line}")
            # https:// with TLS on; this machine may still use http://.
            m = re.search(r"listening on https?://([^\s]+)", line)
            if m and self.url is None and not line.startswith("amqp"):
                self.url = "http://" + m.group(1).rstrip("/")
                self.url_found.set()
            m = re.match(r"amqp listening on amqp://([^\s]+)", line)
            if m and self.amqp_listen is None:
                self.amqp_listen = m.group(1)
                self.amqp_found.set()
        stream.close()

    def start(self):
        # Also a start again after stop(): nothing learnt from the last run.
        with self.log_lock:
            self.log.clear()
        self.url = self.amqp_listen = None
        self.url_found.clear()
        self.amqp_found.clear()
        argv = shlex.split(os.environ.get("SSQ_SERVER_WRAPPER", ""))
        argv += [SERVER_BIN, "--listen", "127.0.0.1:0", "--data-dir",
                 os.path.join(self.dir, "data"), "--config", self.conf]
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        for stream, name in ((self.proc.stdout, "stdout"),
                             (self.proc.stderr, "stderr")):
            threading.Thread(target=self._drain, args=(stream, name),
                             daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.url_found.wait(0.1):
            if self.proc.poll() is not None:
                raise Fail(f"server exited with {self.proc.returncode} "
                           "before listening")
            if time.monotonic() > deadline:
                raise Fail("no 'listening on' line within "
                           f"{START_TIMEOUT:.0f} s")
        m = re.match(r"http://([^:/]+):(\d+)$", self.url)
        if not m:
            raise Fail(f"unparsable URL {self.url!r}")
        self.host, self.port = m.group(1), int(m.group(2))
        # Printed right after the chat's line, when [amqp] listen is set.
        with open(self.conf) as f:
            amqp = "[amqp]\nlisten=127.0.0.1:0" in f.read()
        if amqp:
            if not self.amqp_found.wait(START_TIMEOUT):
                raise Fail("no 'amqp listening on' line")
            self.amqp_host, port = self.amqp_listen.rsplit(":", 1)
            self.amqp_port = int(port)
        return self.url

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def cleanup(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def tail(self, n=15):
        with self.log_lock:
            return self.log[-n:]


# ---------------------------------------------------------------------------
# Raw HTTP


class Conn:
    """A TCP connection with a buffer and deadline-bounded reads."""

    def __init__(self, server, timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((server.host, server.port),
                                             timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Fail("timed out waiting for data from the server")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Fail("timed out waiting for data from the server")
        if not data:
            raise EOFError("connection closed by the server")
        self.buf += data

    def read_until(self, sep, deadline, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out, self.buf = self.buf[:i + len(sep)], self.buf[i + len(sep):]
                return out
            if len(self.buf) > limit:
                raise Fail(f"no {sep!r} within {limit} bytes")
            self._fill(deadline)

    def read_exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, timeout=None, head_only=False):
        """Returns (status, headers with lower-case names, body)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        head = self.read_until(b"\r\n\r\n", deadline).decode("latin-1")
        lines = head.split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        check(m, f"bad status line {lines[0]!r}")
        status = int(m.group(1))
        headers = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        if head_only or status in (100, 101, 204, 304):
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.read_until(b"\r\n", deadline).split(b";")[0], 16)
                if size == 0:
                    self.read_until(b"\r\n", deadline)
                    break
                body += self.read_exact(size, deadline)
                self.read_until(b"\r\n", deadline)
            return status, headers, body
        check("content-length" in headers,
              f"response {status} without Content-Length or chunked")
        body = self.read_exact(int(headers["content-length"]), deadline)
        return status, headers, body

    def closed_by_peer(self, timeout=IO_TIMEOUT):
        """True once the server closes (EOF or reset), False on a timeout.
        Data instead of a close is a failure."""
        deadline = time.monotonic() + timeout
        if self.buf:
            raise Fail(f"unexpected bytes before close: {self.buf[:80]!r}")
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
            raise Fail(f"unexpected bytes instead of a close: {data[:80]!r}")


def error_code(body):
    try:
        return json.loads(body)["error"]["code"]
    except Exception:
        return None


# ---------------------------------------------------------------------------
# A minimal RFC 6455 client

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def mask_bytes(data, key):
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def ws_frame(opcode, payload, fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"close frame {code} {reason!r}")
        self.code, self.reason = code, reason


class WS:
    def __init__(self, server, token, path_extra=""):
        self.conn = Conn(server)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /api/v1/ws?access_token={token}{path_extra} HTTP/1.1\r\n"
               f"Host: {server.host}:{server.port}\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n")
        self.conn.send(req.encode())
        status, headers, _ = self.conn.read_response(head_only=True)
        self.status = status
        if status != 101:
            self.conn.close()
            raise Fail(f"WebSocket upgrade answered {status}")
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        check(headers.get("upgrade", "").lower() == "websocket",
              f"Upgrade header {headers.get('upgrade')!r}")
        check("upgrade" in headers.get("connection", "").lower(),
              f"Connection header {headers.get('connection')!r}")
        check(headers.get("sec-websocket-accept") == want,
              f"Sec-WebSocket-Accept {headers.get('sec-websocket-accept')!r}, "
              f"want {want!r}")
        self.partial = None   # (opcode, bytes) of a fragmented message
        self.skipped = []     # JSON frames passed over by expect()

    def close(self):
        self.conn.close()

    def send_raw(self, data):
        self.conn.send(data)

    def send_frame(self, opcode, payload, fin=True):
        self.conn.send(ws_frame(opcode, payload, fin))

    def send_json(self, obj):
        self.send_frame(OP_TEXT, json.dumps(obj).encode())

    def recv_frame(self, deadline):
        b0, b1 = self.conn.read_exact(2, deadline)
        check(not (b1 & 0x80), "server frame is masked")
        check(not (b0 & 0x70), "server frame has RSV bits")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.conn.read_exact(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.conn.read_exact(8, deadline))[0]
        payload = self.conn.read_exact(n, deadline)
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_message(self, timeout=IO_TIMEOUT):
        """A control frame, or a whole (reassembled) data message."""
        deadline = time.monotonic() + timeout
        while True:
            fin, op, payload = self.recv_frame(deadline)
            if op >= 8:
                check(fin and len(payload) <= 125, "bad control frame")
                return op, payload
            if op == OP_CONT:
                check(self.partial is not None, "continuation without start")
                self.partial = (self.partial[0], self.partial[1] + payload)
            else:
                check(self.partial is None, "new message inside a fragmented one")
                self.partial = (op, payload)
            if fin:
                out, self.partial = self.partial, None
                return out

    def expect(self, pred, timeout=IO_TIMEOUT, what="frame"):
        """The next JSON text message matching pred; others are kept in
        self.skipped. A close frame raises Closed."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Fail(f"no {what} within {timeout:.0f} s; skipped: "
                           f"{[f.get('type') for f in self.skipped][-10:]}")
            op, payload = self.recv_message(remaining)
            if op == OP_TEXT:
                obj = json.loads(payload.decode("utf-8"))
                if pred(obj):
                    return obj
                self.skipped.append(obj)
            elif op == OP_PING:
                self.send_frame(OP_PONG, payload)
            elif op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            elif op == OP_BINARY:
                raise Fail("unexpected binary message")

    def expect_type(self, type_, timeout=IO_TIMEOUT, **fields):
        def pred(o):
            return o.get("type") == type_ and all(o.get(k) == v for k, v in fields.items())
        return self.expect(pred, timeout, what=f"{type_} {fields or ''}")

    def expect_close(self, timeout=IO_TIMEOUT):
        """Reads until a close frame; returns its code. Data messages before
        it are skipped."""
        try:
            while True:
                self.expect(lambda o: False, timeout, what="close frame")
        except Closed as c:
            return c.code


# ---------------------------------------------------------------------------
# The tests

S = {}  # shared state: server, users, conversation, sockets


def http_json(method, path, body=None, token=None, conn=None, server=None):
    """A JSON request on @conn, or on a connection of its own to @server
    (default: S["server"]); returns (status, the JSON answer, or its bytes
    when it is not JSON)."""
    own = conn is None
    if own:
        server = server or S["server"]
        conn = http.client.HTTPConnection(server.host, server.port, timeout=IO_TIMEOUT)
    try:
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            obj = data
        return resp.status, obj
    finally:
        if own:
            conn.close()


def t_keepalive():
    srv = S["server"]
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=IO_TIMEOUT)
    try:
        conn.connect()
        first = conn.sock
        local = first.getsockname()
        for i in range(200):
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            body = resp.read()
            check(resp.status == 200, f"request {i}: status {resp.status}")
            check(json.loads(body).get("status") == "ok", f"request {i}: body {body!r}")
            check(not resp.will_close, f"request {i}: server asked to close")
            check(conn.sock is first and first.getsockname() == local,
                  f"request {i}: http.client opened a new connection")
    finally:
        conn.close()


def t_register():
    for name in ("alice", "bob"):
        status, obj = http_json("POST", "/api/v1/register",
                                {"username": name, "password": "correct horse " + name})
        check(status == 201, f"register {name}: {status} {obj}")
        check(isinstance(obj.get("token"), str) and obj["token"], "no token")
        check(obj["user"]["username"] == name, f"user {obj['user']}")
        S[name] = {"token": obj["token"], "id": obj["user"]["id"]}
    status, obj = http_json("POST", "/api/v1/register",
                            {"username": "bob", "password": "another password"})
    check(status == 409 and obj["error"]["code"] == "username_taken",
          f"second bob: {status} {obj}")


def t_conversation():
    status, obj = http_json("POST", "/api/v1/conversations",
                            {"kind": "direct", "members": ["bob"]},
                            token=S["alice"]["token"])
    check(status in (200, 201), f"create: {status} {obj}")
    conv = obj["conversation"]
    check(conv["kind"] == "direct", f"kind {conv['kind']}")
    names = sorted(m["user"]["username"] for m in conv["members"])
    check(names == ["alice", "bob"], f"members {names}")
    S["conv"] = conv["id"]
    status, obj = http_json("POST", "/api/v1/conversations",
                            {"kind": "direct", "members": ["bob"]})
    check(status == 401, f"without a token: {status}")


def t_rest_messages():
    srv = S["server"]
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=IO_TIMEOUT)
    try:
        for i in range(1, 6):
            status, obj = http_json("POST", f"/api/v1/conversations/{S['conv']}/messages",
                                    {"client_id": f"rest-{i}", "body": f"hello {i} ✓"},
                                    token=S["alice"]["token"], conn=conn)
            check(status == 201, f"message {i}: {status} {obj}")
            check(obj["message"]["seq"] == i, f"message {i}: seq {obj['message']['seq']}")
        # A resend of the same client_id is the same message, not a new one.
        status, obj = http_json("POST", f"/api/v1/conversations/{S['conv']}/messages",
                                {"client_id": "rest-5", "body": "hello 5 ✓"},
                                token=S["alice"]["token"], conn=conn)
        check(status in (200, 201) and obj["message"]["seq"] == 5,
              f"resend: {status} {obj}")
    finally:
        conn.close()


def t_history():
    status, obj = http_json("GET", f"/api/v1/conversations/{S['conv']}/messages?limit=20",
                            token=S["bob"]["token"])
    check(status == 200, f"history: {status} {obj}")
    msgs = obj["messages"]
    check([m["seq"] for m in msgs] == [1, 2, 3, 4, 5], f"seqs {[m['seq'] for m in msgs]}")
    check([m["body"] for m in msgs] == [f"hello {i} ✓" for i in range(1, 6)], "bodies")
    check(all(m["sender"] == S["alice"]["id"] for m in msgs), "sender")
    check(obj["has_more"] is False, "has_more")
    status, obj = http_json("GET", f"/api/v1/conversations/{S['conv']}/messages?after=2&limit=2",
                            token=S["alice"]["token"])
    check(status == 200 and [m["seq"] for m in obj["messages"]] == [3, 4]
          and obj["has_more"] is True, f"after=2&limit=2: {status} {obj}")


def t_pipelined_healthz():
    with Conn(S["server"]) as c:
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
        for i in range(20):
            status, _, body = c.read_response()
            check(status == 200, f"response {i}: {status}")
            check(json.loads(body)["status"] == "ok", f"response {i}: {body!r}")
        # Nothing more, and the connection is still usable.
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = c.read_response()
        check(status == 200, f"21st: {status}")
        check(c.closed_by_peer(), "not closed after Connection: close")


def t_pipelined_order():
    # Different routes so the order is visible.
    kinds = []
    reqs = b""
    for i in range(20):
        k = i % 3
        kinds.append(k)
        if k == 0:
            reqs += b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        elif k == 1:
            reqs += f"GET /api/v1/no-such-route-{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        else:
            reqs += b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    with Conn(S["server"]) as c:
        c.send(reqs)
        for i, k in enumerate(kinds):
            status, headers, body = c.read_response()
            ctype = headers.get("content-type", "")
            if k == 0:
                check(status == 200 and json.loads(body)["status"] == "ok", f"{i}: healthz")
            elif k == 1:
                check(status == 404 and error_code(body) == "not_found", f"{i}: {status} {body!r}")
            else:
                check(status == 200 and ctype.startswith("text/plain")
                      and b"ssq_http_requests_total" in body, f"{i}: metrics {status} {ctype}")
        check(c.buf == b"", f"extra bytes after the answers: {c.buf[:80]!r}")


def t_head_then_get():
    # RFC 9110 9.3.2: no content in an answer to HEAD. A body there is read
    # by the client as the start of the next answer on the connection.
    # (Python's http.client happens to hide it when the body arrives with
    # the head: it drops what it buffered with each answer.)
    with Conn(S["server"]) as c:
        c.send(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = c.read_response(head_only=True)
        check(status == 200, f"HEAD status {status}")
        check(int(headers.get("content-length", "0")) > 0, "HEAD without Content-Length")
        try:
            status, _, body = c.read_response()
        except Fail as e:
            raise Fail(f"the answer after HEAD: {e} (the HEAD answer carried a body)") from None
        check(status == 200 and json.loads(body)["status"] == "ok",
              f"GET after HEAD: {status} {body!r}")


def t_huge_content_length():
    with Conn(S["server"]) as c:
        t0 = time.monotonic()
        c.send(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n")
        status, headers, body = c.read_response()
        elapsed = time.monotonic() - t0
        print(f"# 413 after {elapsed * 1000:.1f} ms")
        check(status == 413, f"status {status}")
        check(error_code(body) == "too_large", f"body {body!r}")
        check(elapsed < 5.0, f"answered after {elapsed:.1f} s, not at once")
        check(c.closed_by_peer(), "connection not closed after the 413")


def send_until_answer(c, pieces):
    """Sends pieces until the server answers (readable) or refuses more.
    Returns how many pieces went out."""
    sent = 0
    for p in pieces:
        r, _, _ = select.select([c.sock], [], [], 0)
        if r:
            break
        try:
            c.sock.settimeout(IO_TIMEOUT)
            c.sock.sendall(p)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += 1
    return sent


def t_chunked_too_large():
    with Conn(S["server"]) as c:
        c.send(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 4096
        pieces = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 64 + [b"0\r\n\r\n"]
        sent = send_until_answer(c, pieces)
        print(f"# {sent} of {len(pieces)} chunk writes went out before the answer")
        status, _, body = c.read_response()
        check(status == 413, f"status {status}")
        check(error_code(body) == "too_large", f"body {body!r}")


def t_chunked_ok():
    # Under the limit a chunked body works, in small and odd-sized chunks.
    body = json.dumps({"username": "carol", "password": "correct horse carol"}).encode()
    with Conn(S["server"]) as c:
        c.send(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(body), 7):
            part = body[i:i + 7]
            c.send(b"%x\r\n%s\r\n" % (len(part), part))
        c.send(b"0\r\n\r\n")
        status, _, resp = c.read_response()
        check(status == 201, f"status {status} {resp!r}")
        check(json.loads(resp)["user"]["username"] == "carol", f"{resp!r}")
    # A chunk extension and a trailer (RFC 9112 7.1) are allowed too.
    body = json.dumps({"username": "carol2", "password": "correct horse carol"}).encode()
    with Conn(S["server"]) as c:
        c.send(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"%x;name=value\r\n%s\r\n0\r\nX-Trailer: yes\r\n\r\n" % (len(body), body))
        status, _, resp = c.read_response()
        check(status == 201, f"extension and trailer: status {status} {resp!r}")


def t_expect_continue():
    body = json.dumps({"username": "dave", "password": "correct horse dave"}).encode()
    with Conn(S["server"]) as c:
        c.send(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        status, _, _ = c.read_response()
        check(status == 100, f"first answer {status}, not 100 Continue")
        c.send(body)
        status, _, resp = c.read_response()
        check(status == 201, f"status {status} {resp!r}")
    with Conn(S["server"]) as c:
        c.send(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1))
        status, _, resp = c.read_response()
        check(status == 413, f"over the limit with Expect: {status} (no 100 expected)")


def t_many_headers():
    with Conn(S["server"]) as c:
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        head += b"".join(b"X-Filler-%d: %d\r\n" % (i, i) for i in range(100))
        c.send(head + b"\r\n")
        status, _, body = c.read_response()
        check(status == 431, f"status {status} {body!r}")
        check(c.closed_by_peer(), "connection not closed after the 431")


def t_bad_request_line():
    for line in (b"THIS IS NOT HTTP\r\n\r\n", b"GET /healthz HTTP/9.Q\r\n\r\n",
                 b"GET\x00 / HTTP/1.1\r\n\r\n"):
        with Conn(S["server"]) as c:
            c.send(line)
            status, _, body = c.read_response()
            check(status == 400, f"{line!r}: status {status} {body!r}")
            check(c.closed_by_peer(), f"{line!r}: connection not closed after the 400")


def t_host_required():
    # RFC 9112 3.2: an HTTP/1.1 request without exactly one Host is a 400;
    # HTTP/1.0 requests need none.
    for head in (b"GET /healthz HTTP/1.1\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"):
        with Conn(S["server"]) as c:
            c.send(head)
            status, _, body = c.read_response()
            check(status == 400, f"{head!r}: status {status} {body!r}")
            check(c.closed_by_peer(), f"{head!r}: connection not closed after the 400")
    with Conn(S["server"]) as c:
        c.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        status, _, body = c.read_response()
        check(status == 200, f"HTTP/1.0 without Host: status {status} {body!r}")


def t_header_timeout():
    with Conn(S["server"]) as c:
        t0 = time.monotonic()
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        status, _, _ = c.read_response(timeout=HEADER_TIMEOUT + IO_TIMEOUT)
        elapsed = time.monotonic() - t0
        print(f"# 408 after {elapsed:.1f} s (header_timeout={HEADER_TIMEOUT})")
        check(status == 408, f"status {status}")
        check(elapsed >= HEADER_TIMEOUT - 1.0, f"408 too early ({elapsed:.1f} s)")
        check(c.closed_by_peer(), "connection not closed after the 408")


def t_ws_refused():
    try:
        ws = WS(S["server"], "not-a-token")
        ws.close()
        raise Fail("upgrade accepted with a bad token")
    except Fail as e:
        check("answered 401" in str(e), str(e))


def t_ws_bad_handshake():
    # RFC 6455 4.2.2: a version other than 13 is refused, naming 13.
    key = base64.b64encode(os.urandom(16)).decode()
    for name, extra in (("version 8", "Sec-WebSocket-Version: 8\r\n"
                                      f"Sec-WebSocket-Key: {key}\r\n"),
                        ("no key", "Sec-WebSocket-Version: 13\r\n")):
        with Conn(S["server"]) as c:
            c.send((f"GET /api/v1/ws?access_token={S['alice']['token']} HTTP/1.1\r\n"
                    "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + extra + "\r\n").encode())
            status, headers, body = c.read_response()
            check(400 <= status < 500, f"{name}: status {status}")
            if name == "version 8":
                check(headers.get("sec-websocket-version") == "13",
                      f"{name}: Sec-WebSocket-Version {headers.get('sec-websocket-version')!r}")


def t_ws_welcome_first():
    # PROTOCOL.md: "On connect: welcome"; the session code says "welcome
    # goes first: the hub announces presence only after this". A user's
    # first session must not get its own presence before its welcome.
    status, obj = http_json("POST", "/api/v1/register",
                            {"username": "erin", "password": "correct horse erin"})
    check(status == 201, f"register: {status}")
    ws = WS(S["server"], obj["token"])
    try:
        op, payload = ws.recv_message()
        first = json.loads(payload) if op == OP_TEXT else {"opcode": op}
        check(first.get("type") == "welcome", f"first frame {first}")
    finally:
        ws.close()


def t_ws_early_frames():
    # Frames sent in the same write as the handshake (before the 101 is
    # read) are kept by the transport and answered after the welcome.
    srv = S["server"]
    key = base64.b64encode(os.urandom(16)).decode()
    c = Conn(srv)
    try:
        c.send((f"GET /api/v1/ws?access_token={S['bob']['token']} HTTP/1.1\r\n"
                f"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
               + ws_frame(OP_TEXT, b'{"type":"ping","id":"early"}') + ws_frame(OP_PING, b"early"))
        status, _, _ = c.read_response(head_only=True)
        check(status == 101, f"status {status}")
        ws = WS.__new__(WS)
        ws.conn, ws.partial, ws.skipped = c, None, []
        got = {}
        deadline = time.monotonic() + IO_TIMEOUT
        while not ("pong" in got and OP_PONG in got):
            check(time.monotonic() < deadline, f"got only {got}")
            op, payload = ws.recv_message(deadline - time.monotonic())
            if op == OP_PONG:
                got[OP_PONG] = payload
            elif op == OP_TEXT:
                o = json.loads(payload)
                check(o.get("type") != "error", f"error {o}")
                got.setdefault(o["type"], o)
        check("welcome" in got, "no welcome before the pong")
        check(got["pong"].get("id") == "early" and got[OP_PONG] == b"early", f"{got}")
    finally:
        c.close()


def t_ws_protocol_errors():
    # RFC 6455: a server closes with 1002 on an unmasked client frame (5.1),
    # RSV bits without an extension (5.2), a reserved opcode (5.2), a
    # continuation without a start (5.4), a new message inside a fragmented
    # one (5.4), a close code that may not be sent (7.4).
    cases = [
        ("unmasked frame", lambda ws: ws.send_raw(struct.pack("!BB", 0x81, 5) + b"hello")),
        ("RSV1 set", lambda ws: ws.send_raw(ws_frame(OP_TEXT, b'{"type":"ping","id":1}', rsv=4))),
        ("reserved opcode 3", lambda ws: ws.send_frame(3, b"x")),
        ("continuation without start", lambda ws: ws.send_frame(OP_CONT, b"x")),
        ("text inside a fragmented message", lambda ws: (ws.send_frame(OP_TEXT, b"a", fin=False),
                                                         ws.send_frame(OP_TEXT, b"b"))),
        ("close code 999", lambda ws: ws.send_frame(OP_CLOSE, struct.pack("!H", 999))),
        ("close code 1005", lambda ws: ws.send_frame(OP_CLOSE, struct.pack("!H", 1005))),
        ("close payload of one byte", lambda ws: ws.send_frame(OP_CLOSE, b"\x03")),
    ]
    bad = []
    for name, act in cases:
        ws = WS(S["server"], S["bob"]["token"])
        try:
            ws.expect_type("welcome")
            act(ws)
            try:
                code = ws.expect_close()
            except EOFError:
                code = "TCP close without a close frame"
            if code != 1002:
                bad.append(f"{name}: {code}")
        finally:
            ws.close()
    check(not bad, "; ".join(bad))


def t_ws_welcome():
    S["wa"] = WS(S["server"], S["alice"]["token"])
    w = S["wa"].expect_type("welcome")
    check(w["user"]["username"] == "alice", f"welcome user {w['user']}")
    check(w.get("protocol") == 1 and "session_id" in w, f"welcome {w}")
    S["wb"] = WS(S["server"], S["bob"]["token"])
    w = S["wb"].expect_type("welcome")
    check(w["user"]["username"] == "bob", f"welcome user {w['user']}")


def t_ws_ping_frame():
    S["wa"].send_json({"type": "ping", "id": 1})
    p = S["wa"].expect_type("pong")
    check(p.get("id") == 1, f"pong {p}")


def t_ws_ping_control():
    ws = S["wa"]
    ws.send_frame(OP_PING, b"are you there")
    deadline = time.monotonic() + IO_TIMEOUT
    while True:
        check(time.monotonic() < deadline, "no pong control frame")
        op, payload = ws.recv_message(deadline - time.monotonic())
        if op == OP_PONG:
            check(payload == b"are you there", f"pong payload {payload!r}")
            return
        check(op == OP_TEXT, f"unexpected opcode {op}")
        ws.skipped.append(json.loads(payload))


def t_ws_send():
    ws = S["wa"]
    ws.send_json({"type": "send", "id": 2, "conversation_id": S["conv"],
                  "client_id": "c1", "body": "hi"})
    seen = []
    deadline = time.monotonic() + IO_TIMEOUT
    while not ({"ack", "message"} <= set(seen)):
        o = ws.expect(lambda o: (o.get("type") == "ack" and o.get("id") == 2)
                      or o.get("type") == "error"
                      or (o.get("type") == "message"
                          and o["message"].get("client_id") == "c1"),
                      max(0.1, deadline - time.monotonic()), what="ack and message")
        check(o["type"] != "error", f"error {o}")
        seen.append(o["type"])
        if o["type"] == "ack":
            check(o["message"]["body"] == "hi" and o["message"]["seq"] == 6,
                  f"ack {o}")
            S["seq"] = o["message"]["seq"]
        else:
            check(o["message"]["body"] == "hi", f"message {o}")
    check(seen == ["ack", "message"], f"order {seen}")


def t_ws_other_user():
    m = S["wb"].expect(lambda o: o.get("type") == "message"
                       and o["message"].get("client_id") == "c1", what="bob's message")
    check(m["message"]["body"] == "hi" and m["message"]["sender"] == S["alice"]["id"],
          f"message {m}")
    check(m["message"]["conversation_id"] == S["conv"], "conversation")


def t_ws_strict_json():
    """Frames are JSON both ways: U+001F comes back escaped (json.loads,
    strict, reads every frame), and a number past 64 bits is refused, not
    wrapped (json-glib read -18446744073709551615 as 1: a reply to seq 1)."""
    ws = S["wa"]
    ws.send_json({"type": "send", "id": 40, "conversation_id": S["conv"],
                  "client_id": "unit-sep", "body": "a\u001fb"})
    ack = ws.expect(lambda o: o.get("id") == 40, what="ack of a body with U+001F")
    check(ack["type"] == "ack" and ack["message"]["body"] == "a\x1fb", f"{ack}")
    m = S["wb"].expect(lambda o: o.get("type") == "message"
                       and o["message"].get("client_id") == "unit-sep", what="bob's copy")
    check(m["message"]["body"] == "a\x1fb", f"{m}")
    wrapped = ('{"type":"send","id":41,"conversation_id":"%s","client_id":"wrap",'
               '"body":"x","reply_to":-18446744073709551615}' % S["conv"])
    for text, reason in ((wrapped, "number out of range at byte"),
                         ("{'type':'ping','id':'q'}", "expected a member name at byte 1"),
                         ('{"type":"ping","id":01}', "at byte 21"),
                         ('{"type":"ping","id":"c"} // c', "unexpected text after the value")):
        ws.send_frame(OP_TEXT, text.encode())
        err = ws.expect_type("error")
        check(err["code"] == "invalid" and "Malformed JSON" in err["message"]
              and reason in err["message"], f"{text}: {err}")
    ws.send_json({"type": "ping", "id": "after"})
    ws.expect_type("pong", id="after")


def t_ws_fragmented():
    ws = S["wa"]
    text = json.dumps({"type": "ping", "id": "fragmented-3"}).encode()
    a, b = len(text) // 3, 2 * len(text) // 3
    ws.send_frame(OP_TEXT, text[:a], fin=False)
    ws.send_frame(OP_PING, b"between")  # control frames may interleave
    ws.send_frame(OP_CONT, text[a:b], fin=False)
    ws.send_frame(OP_CONT, text[b:], fin=True)
    got_pong_frame = got_pong_json = False
    deadline = time.monotonic() + IO_TIMEOUT
    while True:
        check(time.monotonic() < deadline, "no answer to the fragmented message")
        op, payload = ws.recv_message(deadline - time.monotonic())
        if op == OP_PONG:
            check(payload == b"between", f"pong payload {payload!r}")
            got_pong_frame = True
            if got_pong_json:
                break
            continue
        check(op == OP_TEXT, f"opcode {op}")
        o = json.loads(payload)
        if o.get("type") == "pong":
            check(o.get("id") == "fragmented-3", f"pong {o}")
            got_pong_json = True
        check(o.get("type") != "error", f"error {o}")
        # The pong control frame may come before or after the reply.
        if got_pong_frame and got_pong_json:
            break
    # A message with a multi-byte character split across fragments.
    text = json.dumps({"type": "ping", "id": "é👋"}, ensure_ascii=False).encode()
    cut = text.index("👋".encode()) + 2
    ws.send_frame(OP_TEXT, text[:cut], fin=False)
    ws.send_frame(OP_CONT, text[cut:cut + 1], fin=False)
    ws.send_frame(OP_CONT, text[cut + 1:], fin=True)
    o = ws.expect_type("pong")
    check(o.get("id") == "é👋", f"pong {o}")


def t_ws_invalid_utf8():
    ws = WS(S["server"], S["bob"]["token"])
    try:
        ws.expect_type("welcome")
        ws.send_frame(OP_TEXT, b'{"type":"ping","id":"\xff\xfe"}')
        code = ws.expect_close()
        check(code == 1007, f"close code {code}")
        try:
            ws.send_frame(OP_CLOSE, struct.pack("!H", 1007))
        except OSError:
            pass
        check(ws.conn.closed_by_peer(), "TCP connection not closed")
    finally:
        ws.close()
    # The subtler cases: a surrogate, above U+10FFFF, an overlong form, a
    # sequence cut short at the end of a fragmented message, and a close
    # reason that is not UTF-8.
    cases = [
        ("surrogate", [(OP_TEXT, b'{"type":"ping","id":"\xed\xa0\x80"}', True)]),
        ("above U+10FFFF", [(OP_TEXT, b'{"type":"ping","id":"\xf4\x90\x80\x80"}', True)]),
        ("overlong", [(OP_TEXT, b'{"type":"ping","id":"\xc0\xaf"}', True)]),
        ("cut across fragments", [(OP_TEXT, b'{"type":"ping","id":"\xe2\x82', False),
                                  (OP_CONT, b'"}', True)]),
        ("close reason", [(OP_CLOSE, struct.pack("!H", 1000) + b"\xff", True)]),
    ]
    bad = []
    for name, frames in cases:
        ws = WS(S["server"], S["bob"]["token"])
        try:
            ws.expect_type("welcome")
            for op, payload, fin in frames:
                ws.send_frame(op, payload, fin)
            code = ws.expect_close()
            if code != 1007:
                bad.append(f"{name}: {code}")
        finally:
            ws.close()
    check(not bad, "; ".join(bad))


def t_ws_too_big():
    ws = WS(S["server"], S["bob"]["token"])
    try:
        ws.expect_type("welcome")
        payload = json.dumps({"type": "ping", "id": 9, "pad": "x" * 100_000}).encode()
        frame = ws_frame(OP_TEXT, payload)
        pieces = [frame[i:i + 8192] for i in range(0, len(frame), 8192)]
        sent = send_until_answer(ws.conn, pieces)
        print(f"# {sent} of {len(pieces)} writes went out before the server answered")
        code = ws.expect_close()
        check(code == 1009, f"close code {code}")
        check(ws.conn.closed_by_peer(), "TCP connection not closed")
    finally:
        ws.close()


def t_ws_too_big_fragments():
    # The same limit over fragments: 40 KB + 40 KB passes 65536.
    ws = WS(S["server"], S["bob"]["token"])
    try:
        ws.expect_type("welcome")
        ws.send_frame(OP_TEXT, b'{"type":"ping","id":10,"pad":"' + b"y" * 40_000, fin=False)
        try:
            ws.send_frame(OP_CONT, b"y" * 40_000, fin=False)
        except (BrokenPipeError, ConnectionResetError):
            pass
        code = ws.expect_close()
        check(code == 1009, f"close code {code}")
    finally:
        ws.close()


def t_ws_client_close():
    ws = WS(S["server"], S["bob"]["token"])
    try:
        ws.expect_type("welcome")
        ws.send_frame(OP_CLOSE, struct.pack("!H", 1000) + b"bye")
        code = ws.expect_close()
        check(code == 1000, f"close reply code {code}")
        check(ws.conn.closed_by_peer(), "TCP connection not closed after the close handshake")
    finally:
        ws.close()


def t_ws_still_fine():
    # After all of the above, the first sessions still work.
    S["wb"].send_json({"type": "ping", "id": "late"})
    check(S["wb"].expect_type("pong").get("id") == "late", "pong")
    S["wa"].send_json({"type": "ping", "id": "late"})
    check(S["wa"].expect_type("pong").get("id") == "late", "pong")
    status, obj = http_json("GET", "/healthz")
    check(status == 200, f"healthz {status}")


def t_graceful_stop():
    srv = S["server"]
    check(srv.alive(), "server died during the tests")
    for k in ("wa", "wb"):
        S[k].close()
    rc = srv.stop()
    check(rc == 0, f"exit status {rc} after SIGTERM")


TESTS = [
    ("http.client: 200 keep-alive GET /healthz on one connection", t_keepalive),
    ("http.client: register alice and bob (201, token)", t_register),
    ("http.client: create a direct conversation", t_conversation),
    ("http.client: post messages over REST", t_rest_messages),
    ("http.client: read history", t_history),
    ("raw: 20 pipelined GET /healthz in one write, 20 answers", t_pipelined_healthz),
    ("raw: 20 pipelined mixed requests (healthz, 404, metrics) answered in order", t_pipelined_order),
    ("raw: HEAD /healthz then GET pipelined: no body after HEAD", t_head_then_get),
    ("raw: Content-Length 2000000000 without a body gets 413 at once and a close", t_huge_content_length),
    ("raw: chunked body over max_body_size gets 413", t_chunked_too_large),
    ("raw: chunked body under the limit in 7-byte chunks, with extension and trailer, works", t_chunked_ok),
    ("raw: Expect: 100-continue honoured, and 413 instead over the limit", t_expect_continue),
    ("raw: 100 header lines get 431 and a close", t_many_headers),
    ("raw: malformed request lines get 400 and a close", t_bad_request_line),
    ("raw: an unfinished head gets 408 after header_timeout", t_header_timeout),
    ("ws: upgrade with a bad token is a plain 401", t_ws_refused),
    ("ws: a handshake with version 8 or without a key is refused", t_ws_bad_handshake),
    ("ws: handshake (Sec-WebSocket-Accept) and welcome, two users", t_ws_welcome),
    ("ws: welcome is the first frame of a user's first session", t_ws_welcome_first),
    ("ws: frames in the same write as the handshake are answered", t_ws_early_frames),
    ("ws: ping request gets pong with the same id", t_ws_ping_frame),
    ("ws: ping control frame gets a pong control frame", t_ws_ping_control),
    ("ws: send gets ack, then message", t_ws_send),
    ("ws: the other user gets the message", t_ws_other_user),
    ("ws: strict JSON both ways (U+001F escaped, 64-bit numbers not wrapped, no JSON5)",
     t_ws_strict_json),
    ("ws: fragmented text messages (3 fragments, interleaved ping) reassembled", t_ws_fragmented),
    ("ws: invalid UTF-8 closes with 1007 (also surrogates, overlong, cut, close reason)", t_ws_invalid_utf8),
    ("http: an HTTP/1.1 request needs one Host header", t_host_required),
    ("ws: protocol errors close with 1002 (unmasked, RSV, opcode, fragments, close codes)", t_ws_protocol_errors),
    ("ws: a 100 KB message closes with 1009", t_ws_too_big),
    ("ws: fragments over the limit close with 1009", t_ws_too_big_fragments),
    ("ws: a client close gets the server's close reply", t_ws_client_close),
    ("ws: earlier sessions and HTTP unaffected", t_ws_still_fine),
    ("server exits 0 on SIGTERM", t_graceful_stop),
]


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    print(f"1..{len(TESTS)}", flush=True)
    server = Server()
    S["server"] = server
    try:
        try:
            print(f"# server at {server.start()}", flush=True)
        except Exception as e:
            ssq_tap.fail_all([name for name, *_ in TESTS], f"server did not start: {e}")
            return 1
        failed = ssq_tap.run(TESTS, server)
    finally:
        server.cleanup()
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
