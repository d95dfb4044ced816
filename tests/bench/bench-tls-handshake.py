#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS on the chat port: full handshakes per second (no resumption: each
connection a new session), with and without a first request, beside plain
TCP connect + first request for scale; the server's CPU time per
connection (from /proc, the figure that does not depend on how fast the
client is); then the server's memory per idle keep-alive connection, TLS
and plain, each after one request. The real supersoniq-server (for real
figures a release build: SSQ_SERVER_BIN=build-rel/server/supersoniq-server),
the clients Python's ssl (OpenSSL) in a few processes.

    python3 tests/bench/bench-tls-handshake.py [SECONDS] [PROCESSES] [IDLE]
"""

import importlib.util
import multiprocessing
import os
import resource
import socket
import ssl
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXTERNAL = os.path.join(HERE, "..", "external")


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXTERNAL, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


std = _load("ssq_stdlib", "test-stdlib.py")
tls = _load("ssq_tls", "test-tls.py")

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


def context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE     # the pin is not what is measured
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def read_all(s):
    while s.recv(65536):
        pass


def worker(addr, mode, seconds, out):
    """Connections one after another until @seconds have passed."""
    ctx = context()
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s = socket.create_connection(addr)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if mode != "plain":
            s = ctx.wrap_socket(s)      # a full handshake: no session is reused
        if mode != "handshake":
            s.sendall(REQUEST)
            read_all(s)
        s.close()
        n += 1
    out.put(n)


def cpu_us(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e6 / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rate(srv, mode, seconds, procs):
    out = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=worker, args=((srv.host, srv.port), mode, seconds, out))
               for _ in range(procs)]
    cpu0, t0 = cpu_us(srv.proc.pid), time.monotonic()
    for w in workers:
        w.start()
    n = sum(out.get() for _ in workers)
    for w in workers:
        w.join()
    secs, cpu = time.monotonic() - t0, cpu_us(srv.proc.pid) - cpu0
    return n / secs, cpu / max(n, 1)


def server(n):
    return tls.TlsServer(extra=f"max_connections_per_address={n + 100}\n"
                         f"max_connections={n + 1000}\nidle_timeout=600\n"
                         "[log]\nrequests=false\n")


def idle_memory(use_tls, n):
    """Server RSS per connection held idle after one keep-alive request,
    on a server of its own (memory freed by the other's is not reused)."""
    srv = server(n)
    try:
        srv.start()
        return hold(srv, use_tls, n)
    finally:
        srv.stop()
        srv.cleanup()


def hold(srv, use_tls, n):
    ctx = context()
    held = []
    time.sleep(0.5)
    before = rss_kib(srv.proc.pid)
    req = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
    for _ in range(n):
        s = socket.create_connection((srv.host, srv.port))
        if use_tls:
            s = ctx.wrap_socket(s)
        s.sendall(req)
        got = b""
        while b"\r\n\r\n" not in got or not got.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        held.append(s)
    time.sleep(1.0)
    after = rss_kib(srv.proc.pid)
    for s in held:
        s.close()
    return (after - before) / n


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5
    procs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    idle = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    idle = min(idle, hard - 100)
    srv = server(idle)
    try:
        srv.start()
        print(f"server {std.SERVER_BIN}, {procs} client processes, {seconds:g} s each, "
              f"{os.cpu_count()} cores shared")
        for mode, what in (("handshake", "TLS handshake, close"),
                           ("request", "TLS handshake + GET /healthz"),
                           ("plain", "plain TCP connect + GET /healthz")):
            per_s, cpu = rate(srv, mode, seconds, procs)
            print(f"  {what:34s} {per_s:8.0f} /s   server CPU {cpu:6.1f} µs each "
                  f"(one core: {1e6 / cpu:6.0f} /s)")
    finally:
        srv.stop()
        srv.cleanup()
    tls_kib = idle_memory(True, idle)
    plain_kib = idle_memory(False, idle)
    print(f"  server memory per idle keep-alive connection ({idle}): "
          f"TLS {tls_kib:.2f} KiB, plain {plain_kib:.2f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
