#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Requests per second of GET /api/v1/conversations over TLS: HTTP/2
(h2load, from nghttp2-client) against HTTP/1.1 keep-alive (wrk, which
checks no certificate), the same clients, connections and time; prints
both and their ratio. The real supersoniq-server, a user with a few
conversations. Skips what is not installed.

    python3 tests/bench/bench-http2.py [seconds] [connections]
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXTERNAL = os.path.join(HERE, "..", "external")


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXTERNAL, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


std = _load("ssq_stdlib", "test-stdlib.py")
tls = _load("ssq_tls", "test-tls.py")


def h2load(url, token, seconds, conns, streams):
    r = subprocess.run(["h2load", "-D", str(seconds), "-c", str(conns), "-m", str(streams),
                        "-H", "authorization: Bearer " + token, url],
                       capture_output=True, timeout=seconds + 60)
    out = r.stdout.decode()
    m = re.search(r"finished in [^,]+, ([0-9.]+) req/s", out)
    ok = re.search(r"status codes: (\d+) 2xx", out)
    return (float(m.group(1)) if m else None), out, (int(ok.group(1)) if ok else 0)


def wrk(url, token, seconds, conns):
    r = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s",
                        "-H", "Authorization: Bearer " + token, url],
                       capture_output=True, timeout=seconds + 60)
    out = r.stdout.decode()
    m = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    return (float(m.group(1)) if m else None), out


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    conns = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    if shutil.which("h2load") is None or shutil.which("wrk") is None:
        print("SKIP: needs h2load (nghttp2-client) and wrk")
        return 77
    # No log line per request: the benchmark measures the transport.
    srv = tls.TlsServer(extra="[log]\nrequests=false\n")
    try:
        srv.start()
        status, obj = tls.https(srv, "POST", "/api/v1/register",
                                {"username": "bench", "password": "correct horse bench"})
        token = obj["token"]
        for name in ("b1", "b2", "b3"):
            tls.https(srv, "POST", "/api/v1/register",
                      {"username": name, "password": "correct horse " + name})
            tls.https(srv, "POST", "/api/v1/conversations", {"kind": "direct", "members": [name]},
                      token=token)
        url = f"https://{srv.host}:{srv.port}/api/v1/conversations"
        h1, out1 = wrk(url, token, seconds, conns)
        h2_1, out2, ok_1 = h2load(url, token, seconds, conns, 1)
        h2_10, out3, ok_10 = h2load(url, token, seconds, conns, 10)
        print(f"GET /api/v1/conversations over TLS, {conns} connections, {seconds} s each:")
        print(f"  HTTP/1.1 keep-alive (wrk):          {h1:10.0f} req/s")
        print(f"  HTTP/2, 1 stream per connection:    {h2_1:10.0f} req/s  ({ok_1} 2xx)")
        print(f"  HTTP/2, 10 streams per connection:  {h2_10:10.0f} req/s  ({ok_10} 2xx)")
        print(f"  ratio HTTP/2 / HTTP/1.1: {h2_1 / h1:.2f} (1 stream), {h2_10 / h1:.2f} (10 streams)")
        srv.finish()
        return 0 if h1 and h2_1 and h2_10 else 1
    finally:
        srv.cleanup()


if __name__ == "__main__":
    sys.exit(main())
