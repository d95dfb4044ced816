#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS on the chat port, seen by clients nobody on the team wrote: curl with
--pinnedpubkey, Python's ssl module (https and wss, chat frames), Node's
`ws` when installed, openssl for the certificates. The real
supersoniq-server in its own process; TAP on stdout.

Reuses the server launcher and the WebSocket client of test-stdlib.py.
"""

import base64
import hashlib
import http.client
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("ssq_stdlib", os.path.join(HERE, "test-stdlib.py"))
std = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(std)
_spec = importlib.util.spec_from_file_location("ssq_tap", os.path.join(HERE, "ssq_tap.py"))
tap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tap)
check, Fail = std.check, std.Fail

HEADER_TIMEOUT = 2
IO_TIMEOUT = 15.0
NODE_WS = os.path.join(HERE, "node", "node_modules", "ws")


def insecure_context():
    """Checks nothing by itself: the tests compare pins."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def run(argv, stdin=None):
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=60)


def pin_of_der(der):
    """curl's pin (base64 SHA-256 of the SubjectPublicKeyInfo) of a DER
    certificate, by openssl."""
    pem = run(["openssl", "x509", "-inform", "der", "-pubkey", "-noout"], der).stdout
    spki = run(["openssl", "pkey", "-pubin", "-outform", "der"], pem).stdout
    check(spki, "openssl could not read the public key")
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def pin_of_pem_file(path):
    der = run(["openssl", "x509", "-in", path, "-outform", "der"]).stdout
    return pin_of_der(der)


def hex_of_pin(pin):
    return "sha256:" + ":".join(f"{b:02X}" for b in base64.b64decode(pin))


def make_cert(directory, name):
    key = os.path.join(directory, name + "-key.pem")
    cert = os.path.join(directory, name + "-cert.pem")
    r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=" + name,
             "-addext", "subjectAltName=IP:127.0.0.1"])
    check(r.returncode == 0, f"openssl req: {r.stderr.decode()}")
    return cert, key


class TlsServer(std.Server):
    """test-stdlib's launcher with our own configuration; remembers the
    https URL and the pin the server printed."""

    def __init__(self, extra="", listen="127.0.0.1:0", amqps=False):
        super().__init__()
        self.extra = extra
        self.listen = listen
        self.amqps = amqps

    def start(self):
        config = std.CONFIG.replace(f"header_timeout={std.HEADER_TIMEOUT}",
                                    f"header_timeout={HEADER_TIMEOUT}")
        if self.amqps:
            config = config.replace("tls_listen=\n", "tls_listen=127.0.0.1:0\n")
        with open(self.conf, "w") as f:
            f.write(config + self.extra)
        with self.log_lock:
            self.log.clear()
        self.url = None
        self.url_found.clear()
        self.launch()
        self.https = None
        for line in self.lines():
            m = re.search(r"listening on (https?)://", line)
            if m:
                self.https = m.group(1) == "https"
        self.pin = self.printed_pin()
        return self.url

    def launch(self):
        """test-stdlib's start () on our listen address (it says 127.0.0.1:0)."""
        argv = shlex.split(os.environ.get("SSQ_SERVER_WRAPPER", ""))
        argv += [std.SERVER_BIN, "--listen", self.listen, "--data-dir",
                 os.path.join(self.dir, "data"), "--config", self.conf]
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for stream, name in ((self.proc.stdout, "stdout"), (self.proc.stderr, "stderr")):
            threading.Thread(target=self._drain, args=(stream, name), daemon=True).start()
        deadline = time.monotonic() + std.START_TIMEOUT
        while not self.url_found.wait(0.1):
            if self.proc.poll() is not None:
                raise Fail(f"server exited with {self.proc.returncode} before listening")
            check(time.monotonic() < deadline, "no 'listening on' line")
        m = re.match(r"http://([^:/]+):(\d+)$", self.url)
        self.host, self.port = m.group(1), int(m.group(2))
        if self.host == "0.0.0.0":
            self.host = "127.0.0.1"

    def finish(self):
        """A clean stop (exit 0: under valgrind, no error and no leak),
        then the directory goes."""
        try:
            status = self.stop()
            check(status == 0, f"server exit status {status}: "
                  + " | ".join(self.lines()[-8:]))
        finally:
            self.cleanup()

    def lines(self):
        with self.log_lock:
            return list(self.log)

    def printed_pin(self, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                m = re.search(r"--pinnedpubkey sha256//(\S+) ", line)
                if m:
                    return m.group(1)
                if "TLS is off" in line:
                    return None
            time.sleep(0.05)
        raise Fail("no pin printed")

    def printed_fingerprint(self):
        for line in self.lines():
            m = re.match(r"stderr:\s+(sha256:[0-9A-F:]{95})$", line)
            if m:
                return m.group(1)
        raise Fail("no fingerprint printed")

    def wait_log(self, text, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines()):
                return
            time.sleep(0.05)
        raise Fail(f"no {text!r} in the log")


def tls_connect(server, ctx=None, session=None, host=None):
    sock = socket.create_connection((host or server.host, server.port), timeout=IO_TIMEOUT)
    return (ctx or insecure_context()).wrap_socket(sock, session=session)


def https(server, method, path, body=None, token=None, conn=None):
    """test-stdlib's JSON request, over TLS."""
    own = conn is None
    if own:
        conn = http.client.HTTPSConnection(server.host, server.port, timeout=IO_TIMEOUT,
                                           context=insecure_context())
    try:
        return std.http_json(method, path, body, token, conn)
    finally:
        if own:
            conn.close()


class TlsConn(std.Conn):
    """test-stdlib's buffered connection, over TLS."""

    def __init__(self, server, timeout=IO_TIMEOUT):
        super().__init__(server, timeout)
        self.sock = insecure_context().wrap_socket(self.sock)


def wss(server, token):
    saved = std.Conn
    std.Conn = TlsConn
    try:
        return std.WS(server, token)
    finally:
        std.Conn = saved


def curl(server, pin, path="/healthz", url=None):
    return run(["curl", "--silent", "--show-error", "--max-time", "20", "-k",
                "--pinnedpubkey", "sha256//" + pin, (url or f"https://{server.host}:{server.port}") + path])


S = {}


# ---------------------------------------------------------------------------
# The tests


def t_first_start():
    srv = S["srv"]
    check(srv.https, "the server does not say https://")
    check(srv.pin, "no pin printed")
    data = os.path.join(srv.dir, "data")
    for name in ("tls-key.pem", "tls-cert.pem"):
        mode = stat.S_IMODE(os.stat(os.path.join(data, name)).st_mode)
        check(mode == 0o600, f"{name} is {oct(mode)}")
    cert = os.path.join(data, "tls-cert.pem")
    check(pin_of_pem_file(cert) == srv.pin, "the printed pin is not the certificate's")
    check(hex_of_pin(srv.pin) == srv.printed_fingerprint(), "hex and base64 forms differ")
    text = run(["openssl", "x509", "-in", cert, "-noout", "-text"]).stdout.decode()
    check("id-ecPublicKey" in text and "prime256v1" in text, "not ECDSA P-256")
    check("IP Address:127.0.0.1" in text and "DNS:localhost" in text, "SAN lacks 127.0.0.1")
    years = run(["openssl", "x509", "-in", cert, "-noout", "-checkend", str(10 * 365 * 86400)])
    check(years.returncode == 0, "valid for less than 10 years")


def t_curl_pin():
    srv = S["srv"]
    r = curl(srv, srv.pin)
    check(r.returncode == 0 and json.loads(r.stdout)["status"] == "ok",
          f"curl: {r.returncode} {r.stderr.decode()}")
    wrong = base64.b64encode(hashlib.sha256(b"someone else").digest()).decode()
    r = curl(srv, wrong)
    check(r.returncode == 90, f"a wrong pin: curl exit {r.returncode} {r.stderr.decode()}")


def t_server_info():
    srv = S["srv"]
    status, obj = https(srv, "GET", "/api/v1/server")
    check(status == 200, f"status {status}")
    check(obj["tls"] == {"enabled": True, "fingerprint": hex_of_pin(srv.pin)},
          f"tls {obj.get('tls')}")


def t_python_ssl():
    srv = S["srv"]
    with tls_connect(srv) as s:
        check(s.version() in ("TLSv1.2", "TLSv1.3"), f"version {s.version()}")
        check(pin_of_der(s.getpeercert(binary_form=True)) == srv.pin,
              "the certificate seen is not the one printed")
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = insecure_context()
        ctx.minimum_version = ctx.maximum_version = version
        with tls_connect(srv, ctx) as s:
            check(s.version() == version.name.replace("_", "."), f"asked {version}, got {s.version()}")
    ctx = insecure_context()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return   # this OpenSSL cannot even offer TLS 1.1
    try:
        tls_connect(srv, ctx).close()
        raise Fail("TLS 1.1 accepted")
    except (ssl.SSLError, ConnectionError):
        pass


def t_resumption():
    """Session tickets: a second connection resumes the first's session."""
    srv = S["srv"]
    ctx = insecure_context()
    c = http.client.HTTPSConnection(srv.host, srv.port, timeout=IO_TIMEOUT, context=ctx)
    c.request("GET", "/healthz")
    c.getresponse().read()
    session = c.sock.session     # TLS 1.3 tickets come after the handshake
    c.close()
    with tls_connect(srv, ctx, session=session) as s:
        check(s.session_reused, "session not resumed")


def t_wss_chat():
    srv = S["srv"]
    for name in ("alice", "bob"):
        status, obj = https(srv, "POST", "/api/v1/register",
                            {"username": name, "password": "correct horse " + name})
        check(status == 201, f"register {name}: {status} {obj}")
        S[name] = obj
    status, obj = https(srv, "POST", "/api/v1/conversations", {"kind": "direct", "members": ["bob"]},
                        token=S["alice"]["token"])
    check(status in (200, 201), f"conversation: {status} {obj}")
    S["conv"] = obj["conversation"]["id"]
    wa, wb = wss(srv, S["alice"]["token"]), wss(srv, S["bob"]["token"])
    try:
        wa.expect_type("welcome")
        wb.expect_type("welcome")
        # Many frames at once: gathered into records, and past one record.
        for i in range(50):
            wa.send_json({"type": "send", "id": 100 + i, "conversation_id": S["conv"],
                          "client_id": f"tls{i}", "body": f"over TLS {i} " + "x" * 900})
        for i in range(50):
            m = wb.expect(lambda o, i=i: o.get("type") == "message"
                          and o["message"]["client_id"] == f"tls{i}", what=f"message {i}")
            check(m["message"]["body"].startswith(f"over TLS {i} "), f"body {i}")
        a = wa.expect(lambda o: o.get("type") == "ack" and o.get("id") == 149, what="last ack")
        check(a["message"]["seq"] == 50, f"ack {a}")
    finally:
        wa.close()
        wb.close()


def t_download_over_tls():
    """A file body: read and sent a record at a time (no sendfile)."""
    srv = S["srv"]
    blob = os.urandom(3 * 1024 * 1024 + 123)
    c = http.client.HTTPSConnection(srv.host, srv.port, timeout=IO_TIMEOUT, context=insecure_context())
    try:
        c.request("POST", "/api/v1/media?name=blob.bin", body=blob,
                  headers={"Authorization": "Bearer " + S["alice"]["token"],
                           "Content-Type": "application/octet-stream"})
        r = c.getresponse()
        obj = json.loads(r.read())
        check(r.status in (200, 201), f"upload: {r.status} {obj}")
        c.request("GET", f"/api/v1/media/{obj['media']['id']}",
                  headers={"Authorization": "Bearer " + S["alice"]["token"]})
        r = c.getresponse()
        got = r.read()
        check(r.status == 200 and hashlib.sha256(got).digest() == hashlib.sha256(blob).digest(),
              f"download: {r.status}, {len(got)} bytes")
    finally:
        c.close()


def t_node_ws():
    if not os.path.isdir(NODE_WS) or shutil.which("node") is None:
        return "SKIP npm package ws not installed (npm install --prefix tests/external/node ws@8)"
    srv = S["srv"]
    script = r"""
const WebSocket = require(process.argv[1]);
const crypto = require('crypto');
const ws = new WebSocket(process.argv[2], { rejectUnauthorized: false });
const timer = setTimeout(() => { console.log('timeout'); process.exit(2); }, 15000);
ws.on('upgrade', (res) => {
  const cert = new crypto.X509Certificate(res.socket.getPeerCertificate(true).raw);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  process.stdout.write('pin ' + crypto.createHash('sha256').update(spki).digest('base64') + '\n');
});
ws.on('message', (data) => {
  const o = JSON.parse(data);
  if (o.type === 'welcome') ws.send(JSON.stringify({type: 'ping', id: 7}));
  if (o.type === 'pong' && o.id === 7) { console.log('pong'); clearTimeout(timer); ws.close(1000); }
});
ws.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
"""
    url = f"wss://{srv.host}:{srv.port}/api/v1/ws?access_token={S['bob']['token']}"
    r = subprocess.run(["node", "-e", script, NODE_WS, url], capture_output=True, timeout=60)
    out = r.stdout.decode()
    check(r.returncode == 0 and "pong" in out, f"node: {r.returncode} {out} {r.stderr.decode()}")
    check(f"pin {srv.pin}" in out, f"node saw another key: {out}")


def closed_within(sock, timeout):
    """True once the server closes (EOF or reset); False if still open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not data:
            return True
    return False


def client_hello():
    """The first flight of a real TLS client, from a memory BIO."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = insecure_context().wrap_bio(incoming, outgoing)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def t_hostile_handshakes():
    srv = S["srv"]
    hello = client_hello()
    check(hello[:1] == b"\x16", "not a handshake record")
    socks = {}
    try:
        # A record header claiming a handshake, then garbage.
        socks["garbage"] = socket.create_connection((srv.host, srv.port), timeout=IO_TIMEOUT)
        socks["garbage"].sendall(b"\x16\x03\x01\x00\x20" + os.urandom(32))
        # Half a ClientHello, then silence.
        socks["half"] = socket.create_connection((srv.host, srv.port), timeout=IO_TIMEOUT)
        socks["half"].sendall(hello[:len(hello) // 2])
        # Connected, nothing sent.
        socks["silent"] = socket.create_connection((srv.host, srv.port), timeout=IO_TIMEOUT)
        check(closed_within(socks["garbage"], IO_TIMEOUT), "garbage: still open")
        # The others are served meanwhile.
        r = curl(srv, srv.pin)
        check(r.returncode == 0, f"curl beside the hostile ones: {r.stderr.decode()}")
        # A slow loris: one byte of the ClientHello every 0.2 s.
        socks["loris"] = socket.create_connection((srv.host, srv.port), timeout=IO_TIMEOUT)
        t0 = time.monotonic()
        sent = 0
        cut = False
        while time.monotonic() - t0 < 10 * HEADER_TIMEOUT and sent < len(hello):
            try:
                socks["loris"].sendall(hello[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            sent += 1
            if closed_within(socks["loris"], 0.2):
                cut = True
                break
        check(cut, f"the slow loris sent its whole ClientHello ({sent} bytes) and is still open")
        print(f"# slow loris cut after {time.monotonic() - t0:.1f} s, {sent} of {len(hello)} bytes",
              flush=True)
        for name in ("half", "silent"):
            check(closed_within(socks[name], 5 * HEADER_TIMEOUT + 5), f"{name}: still open")
    finally:
        for s in socks.values():
            s.close()
    check(srv.alive(), "the server died")
    check(curl(srv, srv.pin).returncode == 0, "not served after the hostile handshakes")


def t_plain_loopback():
    """Plain HTTP from this machine stays, on the same port; garbage that is
    not a ClientHello gets HTTP's 400."""
    srv = S["srv"]
    status, obj = std.http_json("GET", "/api/v1/server")
    check(status == 200 and obj["tls"]["enabled"], f"plain on loopback: {status} {obj}")
    with std.Conn(srv) as c:
        c.send(b"\x00\x01garbage\r\n\r\n")
        status, _, _ = c.read_response()
        check(status == 400, f"garbage: {status}")


def lan_address():
    """An address of this machine that is not loopback, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def t_plain_refused_from_lan():
    """Listening on every interface: a LAN peer that speaks plain HTTP is told
    to use https; TLS from there works."""
    lan = lan_address()
    if lan is None:
        return "SKIP this machine has no non-loopback address"
    srv = TlsServer(listen="0.0.0.0:0")
    try:
        srv.start()
        with socket.create_connection((lan, srv.port), timeout=IO_TIMEOUT) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        check(data.startswith(b"HTTP/1.1 400") and b"https://" in data,
              f"plain from {lan}: {data[:200]!r}")
        r = curl(srv, srv.pin, url=f"https://{lan}:{srv.port}")
        check(r.returncode == 0, f"TLS from {lan}: {r.stderr.decode()}")
    finally:
        srv.finish()


def t_plain_none():
    srv = TlsServer("\n[tls]\nplain_http=none\n")
    try:
        srv.start()
        with std.Conn(srv) as c:
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = c.read_response()
            check(status == 400 and b"https://" in body, f"plain with none: {status} {body!r}")
        check(curl(srv, srv.pin).returncode == 0, "TLS with plain_http=none")
    finally:
        srv.finish()


def t_restart_same_key():
    srv = S["srv"]
    pin = srv.pin
    check(srv.stop() == 0, "stop")
    srv.start()
    check(srv.pin == pin, f"a new key after a restart: {srv.pin} != {pin}")
    check(curl(srv, pin).returncode == 0, "the old pin after a restart")


def amqps_address(srv):
    deadline = time.monotonic() + IO_TIMEOUT
    while True:
        for line in srv.lines():
            m = re.search(r"amqps listening on amqps://([^\s]+)", line)
            if m:
                host, port = m.group(1).rsplit(":", 1)
                return host, int(port)
        check(time.monotonic() < deadline, "no 'amqps listening on' line")
        time.sleep(0.05)


def t_amqps():
    """AMQP over TLS on [amqp] tls_listen: the chat port's key, a login, a
    durable queue, a confirmed persistent publish and its delivery back;
    plain AMQP bytes on that port get no AMQP answer."""
    import amqp_raw
    srv = TlsServer(amqps=True)
    try:
        srv.start()
        host, port = amqps_address(srv)
        status, obj = https(srv, "POST", "/api/v1/register",
                            {"username": "amqpsuser", "password": "correct horse amqps"})
        check(status == 201, f"register: {status} {obj}")
        raw = amqp_raw.Raw(host, port)
        try:
            raw.sock = insecure_context().wrap_socket(raw.sock)
            check(pin_of_der(raw.sock.getpeercert(True)) == srv.pin,
                  "amqps shows another key than the chat port's printed one")
            raw.handshake("amqpsuser", "correct horse amqps")
            raw.open_channel(1)
            q = raw.queue_declare(1, "over-tls", durable=True)
            raw.confirm_select(1)
            raw.send(raw.publish_frames(1, "", q, b"encrypted on the wire", persistent=True))
            raw.expect(amqp_raw.BASIC_ACK)
            raw.send_method(1, (60, 70), struct.pack("!H", 0) + amqp_raw.shortstr(q) + b"\x01")
            raw.expect((60, 71))   # basic.get-ok
            _, _, header = raw.read_frame()
            body = b""
            while len(body) < struct.unpack("!Q", header[4:12])[0]:
                body += raw.read_frame()[2]
            check(body == b"encrypted on the wire", f"body {body!r}")
        finally:
            raw.close()
        # No plain AMQP on the TLS port: the protocol header is not a
        # ClientHello, and no connection.start comes back.
        plain = socket.create_connection((host, port), timeout=IO_TIMEOUT)
        try:
            plain.sendall(b"AMQP\x00\x00\x09\x01")
            got = b""
            try:
                while len(got) < 7:
                    chunk = plain.recv(64)
                    if not chunk:
                        break
                    got += chunk
            except (socket.timeout, ConnectionResetError):
                pass
            check(not got.startswith(b"\x01\x00\x00"), f"plain AMQP answered over amqps: {got!r}")
        finally:
            plain.close()
        check(srv.alive(), "the server died")
    finally:
        srv.finish()


def t_given_certificate_and_reload():
    work = tempfile.mkdtemp(prefix="ssq-tls-certs-")
    try:
        cert1, key1 = make_cert(work, "first")
        cert2, key2 = make_cert(work, "second")
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        shutil.copy(cert1, cert)
        shutil.copy(key1, key)
        pin1, pin2 = pin_of_pem_file(cert1), pin_of_pem_file(cert2)
        srv = TlsServer(f"\n[tls]\ncertificate={cert}\nkey={key}\n")
        try:
            srv.start()
            check(srv.pin == pin1, "the printed pin is not the given certificate's")
            check(not os.path.exists(os.path.join(srv.dir, "data", "tls-key.pem")),
                  "a key of our own made beside the given one")
            old = http.client.HTTPSConnection(srv.host, srv.port, timeout=IO_TIMEOUT,
                                              context=insecure_context())
            old.request("GET", "/healthz")
            check(old.getresponse().read(), "first request")
            check(pin_of_der(old.sock.getpeercert(True)) == pin1, "first certificate")
            # A renewed pair, then SIGHUP: new connections get it.
            shutil.copy(cert2, cert)
            shutil.copy(key2, key)
            srv.proc.send_signal(signal.SIGHUP)
            srv.wait_log("TLS certificate reloaded")
            r = curl(srv, pin2)
            check(r.returncode == 0, f"new connection, new pin: {r.stderr.decode()}")
            check(curl(srv, pin1).returncode == 90, "new connection still sees the old key")
            old.request("GET", "/healthz")
            check(old.getresponse().status == 200, "the connection opened before the reload")
            old.close()
            # A bad pair: the one in use stays, and the log says why.
            with open(key, "w") as f:
                f.write("not a key\n")
            srv.proc.send_signal(signal.SIGHUP)
            srv.wait_log("not reloaded")
            check(curl(srv, pin2).returncode == 0, "a bad reload dropped the certificate")
            # Mismatched: the first certificate with the second key.
            shutil.copy(cert1, cert)
            shutil.copy(key2, key)
            srv.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + IO_TIMEOUT
            while sum("not reloaded" in l for l in srv.lines()) < 2:
                check(time.monotonic() < deadline, "no second refusal logged")
                time.sleep(0.05)
            check(curl(srv, pin2).returncode == 0, "a mismatched pair was taken")
            check(srv.alive(), "the server died")
        finally:
            srv.finish()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def t_bad_given_certificate():
    srv = TlsServer("\n[tls]\ncertificate=/nonexistent/cert.pem\nkey=/nonexistent/key.pem\n")
    try:
        try:
            srv.start()
            raise Fail("started without its certificate")
        except Fail as e:
            if "exited" not in str(e):
                raise
        check(any("/nonexistent/cert.pem" in l for l in srv.lines()), "the file is not named")
    finally:
        srv.cleanup()


def t_tls_off():
    srv = TlsServer("\n[tls]\nenabled=false\n")
    try:
        srv.start()
        check(srv.https is False and srv.pin is None, "TLS off still says https")
        with std.Conn(srv) as c:
            c.send(b"GET /api/v1/server HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = c.read_response()
            check(status == 200 and json.loads(body)["tls"] == {"enabled": False}, f"{body!r}")
        try:
            tls_connect(srv).close()
            raise Fail("a TLS handshake succeeded with TLS off")
        except (ssl.SSLError, ConnectionError):
            pass
        check(not os.path.exists(os.path.join(srv.dir, "data", "tls-key.pem")), "a key made")
    finally:
        srv.finish()


TESTS = [
    ("first start: P-256 key and 20-year certificate, 0600, pin printed", t_first_start),
    ("curl --pinnedpubkey: the printed pin passes, a wrong one is refused", t_curl_pin),
    ("GET /api/v1/server reports the fingerprint", t_server_info),
    ("Python ssl: TLS 1.2 and 1.3, the printed key; TLS 1.1 refused", t_python_ssl),
    ("session tickets: resumption", t_resumption),
    ("wss: chat frames both ways (50 messages)", t_wss_chat),
    ("https: a 3 MB download intact", t_download_over_tls),
    ("Node ws over wss", t_node_ws),
    ("garbage, half and slow-loris handshakes closed, others served", t_hostile_handshakes),
    ("plain HTTP on loopback, same port", t_plain_loopback),
    ("plain HTTP from the LAN gets 400 'use https'", t_plain_refused_from_lan),
    ("[tls] plain_http=none: plain from loopback too", t_plain_none),
    ("a restart keeps the key", t_restart_same_key),
    ("[tls] certificate/key, SIGHUP reload, bad reloads keep the old pair", t_given_certificate_and_reload),
    ("[tls] certificate missing: refuses to start, names the file", t_bad_given_certificate),
    ("[tls] enabled=false: plain HTTP, no key", t_tls_off),
    ("amqps: the printed key, login, confirmed publish and get; no plain AMQP on it", t_amqps),
]


def main():
    signal.signal(signal.SIGTERM, std.on_signal)
    signal.signal(signal.SIGINT, std.on_signal)
    print(f"1..{len(TESTS) + 1}", flush=True)
    if shutil.which("openssl") is None or shutil.which("curl") is None:
        tap.skip_all([name for name, _ in TESTS] + ["stop"], "needs openssl and curl")
        return 0
    srv = TlsServer()
    S["srv"] = std.S["server"] = srv
    failed = 0
    try:
        srv.start()
        print(f"# server at {srv.url}, pin {srv.pin}", flush=True)
        failed = tap.run(TESTS, srv)
        try:
            srv.finish()
        except Fail as e:
            failed += 1
            print(f"not ok {len(TESTS) + 1} - the server stops cleanly\n# {e}")
        else:
            print(f"ok {len(TESTS) + 1} - the server stops cleanly")
    finally:
        srv.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
