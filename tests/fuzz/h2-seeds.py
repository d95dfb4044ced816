#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seeds for fuzz-h2: what real HTTP/2 clients send after the TLS
handshake, and frames no polite client sends.

    tests/fuzz/h2-seeds.py HOST:PORT tests/fuzz/corpus/h2

HOST:PORT is a running supersoniq-server with TLS and HTTP/2. A relay on
a loopback port takes cleartext HTTP/2 (prior knowledge) from nghttp and
curl, passes it to the server over TLS (ALPN h2), passes the answers
back, and writes what each client sent as one seed: the client preface,
SETTINGS, their ACK, HEADERS, DATA, WINDOW_UPDATE... as nghttp2 gets them
behind the handshake. The paths are those of fuzz-net-app.c (/s, /x, /r,
/f, /f2, /l, /w). Then hand-made ones: a CONTINUATION flood, a rapid
reset, streams past the limit, a header list past the limit, a body past
the limit, a PING and SETTINGS flood, a GOAWAY from the client.
"""

import hashlib
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = \
    0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "external"))
from h2_frames import frame, hpack_literal as literal  # noqa: E402


def head(method, path, extra=()):
    return b"".join(literal(n, v) for n, v in [(":method", method), (":scheme", "https"),
                                               (":path", path), (":authority", "fuzz")] +
                    list(extra))


def write_seed(out_dir, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
    return name


def relay_one(listener, server, out_dir):
    """Takes one client, relays it to @server over TLS (h2), and writes
    what the client sent once either side closes."""
    client, _ = listener.accept()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    upstream = ctx.wrap_socket(socket.create_connection(server))
    sent = bytearray()

    def down():
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
        except OSError:
            pass
        client.close()

    t = threading.Thread(target=down)
    t.start()
    try:
        while data := client.recv(65536):
            sent += data
            upstream.sendall(data)
    except OSError:
        pass
    upstream.close()
    t.join()
    print("seed", write_seed(out_dir, bytes(sent)), len(sent), "bytes")


def record(server, out_dir, argv):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    t = threading.Thread(target=relay_one, args=(listener, server, out_dir))
    t.start()
    argv = [a.replace("BASE", f"http://127.0.0.1:{port}") for a in argv]
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    t.join()
    listener.close()


def made(out_dir):
    settings = frame(SETTINGS, 0, 0)
    ack = frame(SETTINGS, ACK, 0)
    seeds = [
        # CONTINUATION flood: a header block in many small frames.
        frame(HEADERS, 0, 1, head("GET", "/")[:4]) +
        b"".join(frame(CONTINUATION, 0, 1, b"\x00\x01a\x01b") for _ in range(12)),
        # Rapid reset.
        b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, head("GET", "/l")) +
                 frame(RST_STREAM, 0, 1 + 2 * i, struct.pack(">I", 8)) for i in range(120)),
        # Streams past the limit, bodies never sent.
        ack + b"".join(frame(HEADERS, END_HEADERS, 1 + 2 * i, head("POST", "/s"))
                       for i in range(8)),
        # A header list past the limit, then a request on the same connection.
        frame(HEADERS, END_HEADERS | END_STREAM, 1, head("GET", "/", [("x-big", "x" * 3000)])) +
        frame(HEADERS, END_HEADERS | END_STREAM, 3, head("GET", "/f2")),
        # A body past the limit, without and with content-length.
        frame(HEADERS, END_HEADERS, 1, head("POST", "/")) +
        b"".join(frame(DATA, 0, 1, b"x" * 1024) for _ in range(6)) + frame(DATA, END_STREAM, 1),
        frame(HEADERS, END_HEADERS, 1, head("POST", "/", [("content-length", "99999")])) +
        frame(DATA, END_STREAM, 1, b"x"),
        # A streaming body to a full sink, to a refusing one, and refused at its head.
        frame(HEADERS, END_HEADERS, 1, head("POST", "/s")) +
        b"".join(frame(DATA, 0, 1, b"y" * 500) for _ in range(5)) + frame(DATA, END_STREAM, 1) +
        frame(HEADERS, END_HEADERS, 3, head("POST", "/x")) + frame(DATA, END_STREAM, 3, b"z" * 10) +
        frame(HEADERS, END_HEADERS, 5, head("PUT", "/r")) + frame(DATA, END_STREAM, 5, b"r" * 10),
        # Held requests past max_requests_in_flight, the WebSocket's path, a
        # GOAWAY from the client while they wait.
        b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, head("GET", p))
                 for i, p in enumerate(["/l", "/l", "/l", "/w", "/f"])) +
        frame(GOAWAY, 0, 0, struct.pack(">II", 3, 0)),
        # PINGs and SETTINGS never read back, WINDOW_UPDATE, PRIORITY.
        b"".join(frame(PING, 0, 0, b"12345678") + settings for _ in range(120)),
        frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0)) +
        frame(HEADERS, END_HEADERS | END_STREAM, 1, head("GET", "/f")) +
        frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 100)) +
        frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 16)) +
        frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)),
    ]
    for s in seeds:
        print("made", write_seed(out_dir, PREFACE + settings + s))


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    server, out_dir = (host, int(port)), sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    runs = [
        ["nghttp", "-n", "BASE/healthz"],
        ["nghttp", "-n", "-m", "2", "BASE/f", "BASE/f2", "BASE/l", "BASE/w"],
        ["nghttp", "-n", "-d", "/etc/hostname", "BASE/s", "BASE/x", "BASE/r"],
        ["nghttp", "-n", "-H", "authorization: Bearer abc", "-H", "x-a: 1", "BASE/?q=1&r=%20"],
        ["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "BASE/w"],
        ["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-d", "{\"a\":1}",
         "-H", "Content-Type: application/json", "BASE/s"],
        ["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-I", "BASE/f"],
    ]
    for argv in runs:
        record(server, out_dir, argv)
    made(out_dir)


if __name__ == "__main__":
    main()
