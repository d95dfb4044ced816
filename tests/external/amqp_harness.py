# SPDX-License-Identifier: GPL-3.0-or-later
"""What the AMQP tests with pika share (test-amqp-pika.py,
test-amqp-pika-queues.py, test-amqp-bridge.py, test-amqp-kill.py): the
broker under test, connections as the test's users, REST calls, waits
with deadlines, and the TAP runner.

By default the real supersoniq-server ($SSQ_SERVER_BIN, as test-stdlib.py
starts it) with `[amqp] listen=127.0.0.1:0`; accounts are registered over
REST and the port read from the `amqp listening on amqp://HOST:PORT` line.

  --rabbitmq            start a throwaway RabbitMQ (rabbitmq.py) and run
                        against it instead
  SSQ_AMQP_URL=amqp://guest:guest@127.0.0.1:5672
                        run against that running RabbitMQ (configured as
                        RABBITMQ_CONFIG below says)

Against RabbitMQ the SupersoniQ-only tests are skipped: every other test
passes there first, which is how these tests were checked.

Importing this module re-runs the script under /usr/bin/python3 when the
Python first on PATH lacks Debian's pika, or skips the script (TAP 1..0)
when there is no pika at all.
"""

import os
import sys

try:
    import pika
except ImportError:
    # pyenv and friends may put a Python without Debian's modules first.
    if os.path.exists("/usr/bin/python3") and not os.environ.get("SSQ_PIKA_REEXEC"):
        os.environ["SSQ_PIKA_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("1..0 # SKIP python3-pika not installed")
    sys.exit(0)

import http.client
import importlib.util
import json
import re
import signal
import time
import urllib.parse
import uuid

import pika.exceptions as pex

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
_spec = importlib.util.spec_from_file_location("ssq_stdlib", os.path.join(HERE, "test-stdlib.py"))
std = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(std)
check, Fail = std.check, std.Fail
import amqp_raw  # noqa: E402
import rabbitmq  # noqa: E402
import ssq_tap  # noqa: E402

IO_TIMEOUT = 15.0
CHANNEL_MAX = 64       # configured on both servers, for the channel flood
MAX_CONNECTIONS = 48   # SupersoniQ's [amqp] max_connections here
MAX_MESSAGE = 1 << 20  # body bytes, configured on both servers
# The configuration both kinds of server get, so the bounds tests hold on
# both (RabbitMQ has no connection limit of this kind).
RABBITMQ_CONFIG = f"channel_max = {CHANNEL_MAX}\nmax_message_size = {MAX_MESSAGE}\n"


# ---------------------------------------------------------------------------
# The server under test


class AmqpServer(std.Server):
    """test-stdlib's launcher with an AMQP listener; knows its port from the
    `amqp listening on amqp://HOST:PORT` line."""

    def __init__(self, extra=""):
        super().__init__()
        self.extra = extra

    def start(self):
        with open(self.conf, "w") as f:
            f.write(re.sub(r"^\[amqp\]\n(?:[^\[].*\n)*", "", std.CONFIG, flags=re.M)
                    + "[amqp]\nlisten=127.0.0.1:0\n"
                    f"channel_max={CHANNEL_MAX}\nmax_connections={MAX_CONNECTIONS}\n"
                    f"[broker]\nmax_message_size={MAX_MESSAGE}\n"
                    + self.extra)
        with self.log_lock:
            self.log.clear()
        self.url = None
        self.url_found.clear()
        # (test-stdlib's launcher may learn the AMQP line too: not an old one.)
        self.amqp_listen = None
        if hasattr(self, "amqp_found"):
            self.amqp_found.clear()
        url = super().start()
        deadline = time.monotonic() + std.START_TIMEOUT
        while True:
            with self.log_lock:
                for line in self.log:
                    m = re.search(r"amqp listening on amqp://([^\s:]+):(\d+)", line)
                    if m:
                        self.amqp_host = m.group(1)
                        if self.amqp_host == "0.0.0.0":
                            self.amqp_host = "127.0.0.1"
                        self.amqp_port = int(m.group(2))
                        return url
            if self.proc.poll() is not None:
                raise Fail(f"server exited with {self.proc.returncode}")
            check(time.monotonic() < deadline, "no 'amqp listening on' line: "
                  + " | ".join(self.tail(6)))
            time.sleep(0.05)


class Target:
    """Where the tests connect, and as whom."""

    supersoniq = True
    host = port = None
    server = None        # AmqpServer when supersoniq
    rabbit = None        # RabbitMQ we started
    users = {}           # name -> {"password", "token", "id"}

    def creds(self, user):
        if not self.supersoniq:
            return self.rabbit_user, self.rabbit_password
        return user, self.users[user]["password"]


T = Target()
OPEN = []   # connections of the running test, closed after it
S = {}      # state shared by tests


def params(user="alice", password=None, **kw):
    u, p = T.creds(user)
    if password is not None:
        p = password
    kw.setdefault("socket_timeout", IO_TIMEOUT)
    kw.setdefault("blocked_connection_timeout", IO_TIMEOUT)
    kw.setdefault("connection_attempts", 1)
    return pika.ConnectionParameters(host=T.host, port=T.port, virtual_host=kw.pop("vhost", "/"),
                                     credentials=pika.PlainCredentials(u, p), **kw)


def connect(user="alice", password=None, **kw):
    c = pika.BlockingConnection(params(user, password, **kw))
    OPEN.append(c)
    return c


def channel(user="alice"):
    return connect(user).channel()


def raw(user="alice", **kw):
    r = amqp_raw.Raw(T.host, T.port)
    OPEN.append(r)
    u, p = T.creds(user)
    r.handshake(u, p, **kw)
    return r


def close_all():
    while OPEN:
        c = OPEN.pop()
        try:
            if isinstance(c, amqp_raw.Raw):
                c.close()
            elif c.is_open:
                c.close()
        except Exception:
            pass


_counter = [0]


def qn(tag):
    """A fresh name: tests may share a RabbitMQ that lives on."""
    _counter[0] += 1
    return f"ssqt.{tag}.{_counter[0]}.{uuid.uuid4().hex[:6]}"


def channel_error(code, fn, *args, **kw):
    """fn must close the channel with `code`; returns the reply text."""
    try:
        fn(*args, **kw)
    except pex.ChannelClosedByBroker as e:
        check(e.reply_code == code, f"channel closed with {e.reply_code} {e.reply_text!r}, "
              f"expected {code}")
        return e.reply_text
    raise Fail(f"no channel error {code}")


def publish_sync(ch, exchange, key, body, props=None):
    """A publish and a round trip after it, for its channel error to come
    back (a publish has no answer of its own)."""
    ch.basic_publish(exchange, key, body, props)
    ch.exchange_declare("amq.direct", "direct", passive=True)


def get_all(ch, queue, limit=1000):
    """basic.get (auto-ack) until empty: [(method, properties, body)]."""
    out = []
    for _ in range(limit):
        m, p, b = ch.basic_get(queue, auto_ack=True)
        if m is None:
            return out
        out.append((m, p, b))
    raise Fail(f"{queue}: more than {limit} messages")


def bodies(ch, queue):
    return [b for _, _, b in get_all(ch, queue)]


def depth(ch, queue):
    return ch.queue_declare(queue, passive=True).method.message_count


def dead_letters(ch, queue, n):
    """The n messages dead-lettered into queue (dead-lettering may happen
    after the reject's answer, as RabbitMQ's does)."""
    eventually(f"{n} dead letters in {queue}", lambda: depth(ch, queue) >= n)
    got = get_all(ch, queue)
    check(len(got) == n, f"{len(got)} dead letters, expected {n}")
    return got


def eventually(what, fn, timeout=IO_TIMEOUT, step=0.05):
    """fn() true before the deadline (expiries and heartbeats take time: the
    wait is bounded, its length never asserted)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(step)


def pump(conn, seconds):
    """Lets pika dispatch deliveries for a while."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.process_data_events(time_limit=max(0.0, min(0.1, deadline - time.monotonic())))


# ---------------------------------------------------------------------------
# REST (SupersoniQ only)


def rest(method, path, body=None, token=None, user=None):
    if user is not None:
        token = T.users[user]["token"]
    conn = http.client.HTTPConnection(T.server.host, T.server.port, timeout=IO_TIMEOUT)
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
        conn.close()


def register(name):
    password = f"correct horse {name} battery"
    status, obj = rest("POST", "/api/v1/register", {"username": name, "password": password})
    check(status == 201, f"register {name}: {status} {obj}")
    T.users[name] = {"password": password, "token": obj["token"], "id": obj["user"]["id"]}


def fill(ch, q, n, prefix="m"):
    for i in range(n):
        ch.basic_publish("", q, f"{prefix}{i}".encode())


def queue_exists(q):
    ch = channel()
    try:
        ch.queue_declare(q, passive=True)
        ch.close()
        return True
    except pex.ChannelClosedByBroker as e:
        check(e.reply_code == 404, f"passive declare: {e.reply_code}")
        return False


# ---------------------------------------------------------------------------
# The TAP runner


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def setup(args):
    url = os.environ.get("SSQ_AMQP_URL")
    if "--rabbitmq" in args or url:
        T.supersoniq = False
        if url:
            u = urllib.parse.urlparse(url)
            T.host, T.port = u.hostname, u.port or 5672
            T.rabbit_user, T.rabbit_password = u.username or "guest", u.password or "guest"
        else:
            T.rabbit = rabbitmq.RabbitMQ(config=RABBITMQ_CONFIG)
            T.rabbit.start()
            T.host, T.port = T.rabbit.host, T.rabbit.port
            T.rabbit_user, T.rabbit_password = "guest", "guest"
        return f"RabbitMQ at {T.host}:{T.port}"
    T.server = AmqpServer()
    T.server.start()
    T.host, T.port = T.server.amqp_host, T.server.amqp_port
    for name in ("alice", "bob", "carol"):
        register(name)
    return f"SupersoniQ at {T.server.url}, AMQP on {T.host}:{T.port}"


def teardown():
    close_all()
    if T.rabbit is not None:
        T.rabbit.stop()
    if T.server is not None:
        T.server.cleanup()


class _NoLog:
    """ssq_tap's server, for a RabbitMQ: no log of ours to show."""

    def tail(self, n):
        return []


def _step(fn, flags):
    """fn as ssq_tap runs it: skipped where it does not apply, and every
    connection it opened closed after it."""
    def step():
        if "ssq" in flags and not T.supersoniq:
            return "SKIP SupersoniQ only"
        try:
            fn()
        except Exception:
            if T.server is not None and not T.server.alive():
                print(f"# server is gone (status {T.server.proc.returncode})")
            raise
        finally:
            close_all()
        return None
    return step


def _clean_stop():
    status = T.server.stop()
    if status != 0:
        # valgrind's report, what it counts as errors first.
        report = [line for line in T.server.tail(100000) if re.search(r"==\d+==", line)]
        firsts = [i for i, line in enumerate(report)
                  if re.search(r"definitely lost|Invalid|uninitialised|Mismatched|overlap", line)]
        for line in report[firsts[0]:firsts[0] + 60] if firsts else report[-60:]:
            print(f"#   {line}")
    check(status == 0, f"exit status {status} after SIGTERM")


def run(argv, tests_all, supersoniq_only=False):
    """Runs (name, function[, "ssq"]) tests against the broker argv and the
    environment name; returns the exit status."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    only = [a for a in argv[1:] if not a.startswith("--")]
    tests = [t for t in tests_all if not only or any(o in t[1].__name__ for o in only)]
    on_rabbitmq = "--rabbitmq" in argv or bool(os.environ.get("SSQ_AMQP_URL"))
    if supersoniq_only and on_rabbitmq:
        print("1..0 # SKIP SupersoniQ only")
        return 0
    steps = [(name, _step(fn, flags)) for name, fn, *flags in tests]
    # SupersoniQ's clean stop is a test of its own, the last.
    if not on_rabbitmq:
        steps.append(("server exits 0 on SIGTERM", _clean_stop))
    print(f"1..{len(steps)}", flush=True)
    try:
        try:
            print(f"# {setup(argv[1:])}", flush=True)
        except Exception as e:
            for n, (name, _) in enumerate(steps, 1):
                print(f"not ok {n} - {name}\n# not started: {e}", flush=True)
            return 1
        failed = ssq_tap.run(steps, T.server or _NoLog())
    finally:
        teardown()
    sys.stdout.flush()
    return 1 if failed else 0
