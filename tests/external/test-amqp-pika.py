#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SupersoniQ's AMQP 0-9-1 broker seen by Python's pika (Debian's
python3-pika, 1.2), a client nobody on the team wrote, and by a raw
socket where a library hides what is tested (heartbeats not sent, frames
over frame_max, channel floods). TAP on stdout.

By default it starts the real supersoniq-server ($SSQ_SERVER_BIN, as
test-stdlib.py does) with `[amqp] listen=127.0.0.1:0`, registers accounts
over REST and reads the `amqp listening on amqp://HOST:PORT` line.

  --rabbitmq            start a throwaway RabbitMQ (tests/external/
                        rabbitmq.py) and run the tests against it instead
  SSQ_AMQP_URL=amqp://guest:guest@127.0.0.1:5672
                        run against that running RabbitMQ

Against RabbitMQ, the SupersoniQ-only tests (accounts, ownership, the
bridge to conversations, REST queues) are skipped: the rest must pass
there first, which is how these tests were checked.
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

import base64
import datetime
import decimal
import http.client
import importlib.util
import json
import re
import signal
import socket
import struct
import threading
import time
import traceback
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

IO_TIMEOUT = 15.0
CHANNEL_MAX = 64       # configured on both servers, for the channel flood
MAX_CONNECTIONS = 48   # SupersoniQ's [amqp] max_connections here


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
            f.write(std.CONFIG + "[amqp]\nlisten=127.0.0.1:0\n"
                    f"channel_max={CHANNEL_MAX}\nmax_connections={MAX_CONNECTIONS}\n"
                    + self.extra)
        with self.log_lock:
            self.log.clear()
        self.url = None
        self.url_found.clear()
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


# ---------------------------------------------------------------------------
# Connections


def t_connect():
    c = connect()
    props = c._impl.server_properties
    print(f"# server product {props.get('product')!r} version {props.get('version')!r}")
    check(isinstance(props.get("capabilities"), dict), f"capabilities {props.get('capabilities')}")
    caps = props["capabilities"]
    for cap in ("publisher_confirms", "basic.nack", "consumer_cancel_notify",
                "authentication_failure_close", "per_consumer_qos"):
        check(caps.get(cap) is True, f"capability {cap}: {caps.get(cap)!r}")
    ch = c.channel()
    check(ch.is_open, "channel not open")


def t_wrong_password():
    try:
        connect(password="not the password")
    except (pex.ProbableAuthenticationError, pex.AuthenticationError) as e:
        print(f"# refused: {e!r}")
    else:
        raise Fail("a wrong password was let in")
    # The reply code, on a raw socket: connection.close 403 ACCESS_REFUSED.
    r = amqp_raw.Raw(T.host, T.port)
    OPEN.append(r)
    u, _ = T.creds("alice")
    try:
        r.handshake(u, "not the password")
    except amqp_raw.ConnectionClosedByPeer as e:
        check(e.code == 403, f"code {e.code} {e.text!r}")
        check(e.text.startswith("ACCESS_REFUSED"), f"text {e.text!r}")
    else:
        raise Fail("open-ok after a wrong password")


def t_other_vhost():
    try:
        connect(vhost="elsewhere")
    except pex.ConnectionClosedByBroker as e:
        check(e.reply_code == 530, f"{e.reply_code} {e.reply_text!r}")
        check(e.reply_text.startswith("NOT_ALLOWED"), e.reply_text)
    except pex.AMQPConnectionError as e:
        # pika wraps a close during open (ProbableAccessDeniedError).
        check("(530)" in repr(e) and "NOT_ALLOWED" in repr(e), f"{e!r}")
    else:
        raise Fail("vhost 'elsewhere' opened")


# ---------------------------------------------------------------------------
# Exchanges and routing


def t_default_exchange():
    ch = channel()
    q = qn("default")
    ok = ch.queue_declare(q)
    check(ok.method.queue == q and ok.method.message_count == 0
          and ok.method.consumer_count == 0, f"declare-ok {ok.method}")
    ch.basic_publish("", q, b"via the default exchange")
    ch.basic_publish("", qn("nowhere"), b"dropped: no such queue")
    check(bodies(ch, q) == [b"via the default exchange"], "body")
    # The default exchange cannot be bound to or deleted.
    channel_error(403, ch.queue_bind, q, "", "x")


def t_direct():
    ch = channel()
    x = qn("direct")
    ch.exchange_declare(x, "direct")
    qa, qb = qn("da"), qn("db")
    for q in (qa, qb):
        ch.queue_declare(q)
    ch.queue_bind(qa, x, "red")
    ch.queue_bind(qa, x, "green")
    ch.queue_bind(qb, x, "green")
    for key in ("red", "green", "blue"):
        ch.basic_publish(x, key, key.encode())
    check(bodies(ch, qa) == [b"red", b"green"], "qa")
    check(bodies(ch, qb) == [b"green"], "qb")
    ch.queue_unbind(qa, x, "red")
    ch.basic_publish(x, "red", b"red2")
    ch.basic_publish(x, "green", b"green2")
    check(bodies(ch, qa) == [b"green2"], "qa after unbind")
    check(bodies(ch, qb) == [b"green2"], "qb after unbind of another")
    # amq.direct is there for everyone.
    ch.queue_bind(qb, "amq.direct", "k")
    ch.basic_publish("amq.direct", "k", b"amq")
    check(bodies(ch, qb) == [b"amq"], "amq.direct")
    # Unbinding what is not bound is fine in 0-9-1.
    ch.queue_unbind(qb, x, "never-bound")


def t_fanout():
    ch = channel()
    x = qn("fanout")
    ch.exchange_declare(x, "fanout")
    qs = [qn("f") for _ in range(3)]
    for q in qs:
        ch.queue_declare(q)
        ch.queue_bind(q, x, "ignored")
    ch.basic_publish(x, "any key", b"to all")
    for q in qs:
        check(bodies(ch, q) == [b"to all"], q)
    ch.queue_unbind(qs[0], x, "ignored")
    ch.basic_publish(x, "", b"two")
    check(bodies(ch, qs[0]) == [], "unbound queue got it")
    check(bodies(ch, qs[1]) == [b"two"], "bound queue")


def t_topic():
    ch = channel()
    x = qn("topic")
    ch.exchange_declare(x, "topic")
    patterns = {"star": "a.*.c", "hash": "a.#", "all": "#", "exact": "a.b.c",
                "mid": "*.b.#", "hashmid": "a.#.c", "one": "*"}
    qs = {}
    for name, pat in patterns.items():
        q = qn("t-" + name)
        ch.queue_declare(q)
        ch.queue_bind(q, x, pat)
        qs[name] = q
    keys = ["a.b.c", "a.c", "a", "a.x.y.c", "b", "", "a.b", "x.b.c.d", "a..c"]
    for k in keys:
        ch.basic_publish(x, k, k.encode() or b"(empty)")
    want = {
        "star": ["a.b.c", "a..c"],
        "hash": ["a.b.c", "a.c", "a", "a.x.y.c", "a.b", "a..c"],
        "all": keys,
        "exact": ["a.b.c"],
        "mid": ["a.b.c", "a.b", "x.b.c.d"],
        "hashmid": ["a.b.c", "a.c", "a.x.y.c", "a..c"],
        # An empty key has no word for "*" (RabbitMQ); "a..c" has an empty one.
    "one": ["a", "b"],
    }
    for name, q in qs.items():
        got = [b.decode() for b in bodies(ch, q)]
        exp = [k or "(empty)" for k in want[name]]
        check(got == exp, f"{patterns[name]!r}: got {got}, expected {exp}")
    ch.queue_unbind(qs["all"], x, "#")
    ch.basic_publish(x, "a.b.c", b"again")
    check(bodies(ch, qs["all"]) == [], "unbound '#' still routed")
    check(bodies(ch, qs["exact"]) == [b"again"], "exact after unbind of another")


def t_headers():
    ch = channel()
    x = qn("headers")
    ch.exchange_declare(x, "headers")
    q_all, q_any, q_none = qn("h-all"), qn("h-any"), qn("h-none")
    for q in (q_all, q_any, q_none):
        ch.queue_declare(q)
    ch.queue_bind(q_all, x, "", arguments={"x-match": "all", "format": "pdf", "type": "report"})
    ch.queue_bind(q_any, x, "", arguments={"x-match": "any", "format": "pdf", "type": "log"})
    # No x-match: "all" by default; an empty table matches everything.
    ch.queue_bind(q_none, x, "", arguments={})

    def pub(body, headers):
        ch.basic_publish(x, "key ignored", body, pika.BasicProperties(headers=headers))

    pub(b"1", {"format": "pdf", "type": "report"})
    pub(b"2", {"format": "pdf", "type": "log"})
    pub(b"3", {"format": "zip", "type": "log", "extra": 1})
    pub(b"4", {"format": "zip"})
    pub(b"5", None)
    check(bodies(ch, q_all) == [b"1"], "x-match all")
    check(bodies(ch, q_any) == [b"1", b"2", b"3"], "x-match any")
    check(bodies(ch, q_none) == [b"1", b"2", b"3", b"4", b"5"], "empty binding")
    ch.queue_unbind(q_any, x, "", arguments={"x-match": "any", "format": "pdf", "type": "log"})
    pub(b"6", {"format": "pdf"})
    check(bodies(ch, q_any) == [], "unbound headers binding still routed")
    ch.exchange_declare("amq.headers", "headers", passive=True)
    ch.exchange_declare("amq.match", "headers", passive=True)


def t_amq_exchanges():
    ch = channel()
    for name, kind in (("amq.direct", "direct"), ("amq.fanout", "fanout"),
                       ("amq.topic", "topic"), ("amq.headers", "headers")):
        ch.exchange_declare(name, kind, passive=True)
        # Redeclaring with the same settings is allowed...
        ch.exchange_declare(name, kind, durable=True)
    # ...with other settings, or deleting one, is not.
    channel_error(403, ch.exchange_delete, "amq.direct")
    ch = channel()
    channel_error(403, ch.exchange_declare, "amq.mine", "direct")
    ch = channel()
    channel_error(403, ch.queue_declare, "amq.mine")


def t_exchange_redeclare():
    ch = channel()
    x = qn("redeclare")
    ch.exchange_declare(x, "direct")
    ch.exchange_declare(x, "direct")
    text = channel_error(406, ch.exchange_declare, x, "fanout")
    check(text.startswith("PRECONDITION_FAILED"), text)
    ch = channel()
    q = qn("redeclare-q")
    ch.queue_declare(q, durable=False)
    channel_error(406, ch.queue_declare, q, durable=True)
    # An unknown exchange type is a connection error, 503 COMMAND_INVALID.
    c = connect()
    try:
        c.channel().exchange_declare(qn("bad-kind"), "no-such-type")
    except pex.ConnectionClosedByBroker as e:
        check(e.reply_code == 503, f"{e.reply_code} {e.reply_text!r}")
    else:
        raise Fail("exchange type 'no-such-type' declared")


def t_auto_delete_exchange():
    ch = channel()
    x = qn("ax")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    q = qn("axq")
    ch.queue_declare(q)
    ch.queue_bind(q, x)
    ch.exchange_declare(x, "fanout", passive=True, auto_delete=True)
    ch.queue_unbind(q, x)
    ch2 = channel()
    channel_error(404, ch2.exchange_declare, x, "fanout", passive=True)


# ---------------------------------------------------------------------------
# Properties


ALL_HEADERS = {
    "S": "text ✓",
    "x": b"\x00\x01\xffbytes",
    "t": True,
    "f": False,
    "I": -123456,
    "I-max": 2**31 - 1,
    "l": 2**40 + 7,
    # Not negative: pika 1.2 decodes "l" as unsigned.
    "l-max": 2**63 - 1,
    "D": decimal.Decimal("3.14"),
    "D-int": decimal.Decimal("42"),
    "T": datetime.datetime(2024, 5, 6, 7, 8, 9),
    "F": {"nested": "yes", "n": 1, "deeper": {"a": [1, "two", None]}},
    "A": ["a", 1, True, None, {"k": "v"}, [b"x"]],
    "A-empty": [],
    "F-empty": {},
    "V": None,
    "": "empty key",
}


def t_properties():
    ch = channel()
    q = qn("props")
    ch.queue_declare(q, arguments={"x-max-priority": 9})
    u, _ = T.creds("alice")
    props = pika.BasicProperties(
        content_type="application/x-ssq; charset=utf-8",
        content_encoding="gzip",
        headers=ALL_HEADERS,
        delivery_mode=2,
        priority=7,
        correlation_id="corr-1",
        reply_to="amq.rabbitmq.reply-to-not-used",
        expiration="600000",
        message_id="msg-✓-1",
        timestamp=1700000000,
        type="a.type",
        user_id=u,
        app_id="ssq-tests",
        cluster_id="")
    body = bytes(range(256)) * 3
    ch.basic_publish("", q, body, props)
    ch.basic_publish("", q, b"", pika.BasicProperties())
    got = get_all(ch, q)
    check(len(got) == 2, f"{len(got)} messages")
    m, p, b = got[0]
    check(b == body, "body changed")
    for field in ("content_type", "content_encoding", "delivery_mode", "priority",
                  "correlation_id", "reply_to", "expiration", "message_id", "timestamp",
                  "type", "user_id", "app_id"):
        check(getattr(p, field) == getattr(props, field),
              f"{field}: sent {getattr(props, field)!r}, got {getattr(p, field)!r}")
    check(p.headers == ALL_HEADERS, f"headers: got {p.headers!r}")
    m, p, b = got[1]
    check(b == b"", "empty body")
    check(p.headers is None and p.content_type is None and p.delivery_mode is None,
          f"empty properties came back as {p}")


def t_user_id():
    ch = channel()
    q = qn("uid")
    ch.queue_declare(q)
    text = channel_error(406, publish_sync, ch, "", q, b"x",
                         pika.BasicProperties(user_id="somebody-else"))
    check(text.startswith("PRECONDITION_FAILED"), text)
    ch = channel()
    check(depth(ch, q) == 0, "the message with a false user-id was queued")


def t_large_message():
    # Bodies split over many frames (frame_max) come back whole.
    ch = channel()
    q = qn("large")
    ch.queue_declare(q)
    body = os.urandom(1 << 20)
    ch.basic_publish("", q, body)
    check(bodies(ch, q) == [body], "1 MiB body")


# ---------------------------------------------------------------------------
# Mandatory, confirms


def t_mandatory():
    c = connect()
    ch = c.channel()
    returned = []
    ch.add_on_return_callback(lambda _ch, method, props, body:
                              returned.append((method, props, body)))
    x = qn("mand")
    ch.exchange_declare(x, "direct")
    ch.basic_publish(x, "nobody", b"back to me", pika.BasicProperties(message_id="r1"),
                     mandatory=True)
    ch.basic_publish(x, "nobody", b"dropped", mandatory=False)
    eventually("basic.return", lambda: (c.process_data_events(time_limit=0.1), returned)[1])
    pump(c, 0.3)
    check(len(returned) == 1, f"{len(returned)} returns")
    method, props, body = returned[0]
    check(method.reply_code == 312 and method.reply_text == "NO_ROUTE",
          f"{method.reply_code} {method.reply_text!r}")
    check(method.exchange == x and method.routing_key == "nobody", f"{method}")
    check(body == b"back to me" and props.message_id == "r1", "returned content")
    # With confirms, pika raises UnroutableError for it (return, then ack).
    ch.confirm_delivery()
    try:
        ch.basic_publish(x, "nobody", b"again", mandatory=True)
    except pex.UnroutableError as e:
        check(len(e.messages) == 1 and e.messages[0].body == b"again", f"{e.messages}")
    else:
        raise Fail("no UnroutableError")
    q = qn("mand-q")
    ch.queue_declare(q)
    ch.queue_bind(q, x, "somebody")
    ch.basic_publish(x, "somebody", b"routed", mandatory=True)
    check(bodies(ch, q) == [b"routed"], "routed mandatory")


def confirm_stream(r, ch, queue, n, persistent, exchange="", first=1):
    """Pipelines n publishes with confirms on a raw channel whose next
    delivery tag is `first`; returns ({seq: 'ack'|'nack'}, number of
    multiple acks)."""
    out = b"".join(r.publish_frames(ch, exchange, queue, f"m{i}".encode(), persistent=persistent)
                   for i in range(1, n + 1))
    threading.Thread(target=r.send, args=(out,), daemon=True).start()
    state = {}
    multiples = 0
    deadline = time.monotonic() + 60
    while len(state) < n:
        check(time.monotonic() < deadline, f"{len(state)} of {n} confirms")
        _, cm, args = r.read_method()
        check(cm in (amqp_raw.BASIC_ACK, amqp_raw.BASIC_NACK), f"method {cm}")
        tag, bits = struct.unpack("!QB", args[:9])
        what = "ack" if cm == amqp_raw.BASIC_ACK else "nack"
        seqs = [s for s in range(first, tag + 1) if s not in state] if bits & 1 else [tag]
        if bits & 1:
            multiples += 1
        check(seqs, f"{what} {tag} multiple={bits & 1} confirms nothing new")
        for s in seqs:
            check(s not in state, f"seq {s} confirmed twice")
            check(first <= s < first + n, f"confirm of seq {s} outside [{first}, {first + n})")
            state[s] = what
    return state, multiples


def t_confirms():
    r = raw()
    r.open_channel(1)
    q = qn("confirms")
    r.queue_declare(1, q, durable=True)
    r.confirm_select(1)
    n = 2000
    for first, persistent in ((1, False), (n + 1, True)):
        state, multiples = confirm_stream(r, 1, q, n, persistent, first=first)
        check(all(v == "ack" for v in state.values()), "nacks")
        print(f"# persistent={persistent}: {n} confirms, {multiples} of them multiple")
    ch = channel()
    check(depth(ch, q) == 4000, f"depth {depth(ch, q)}")
    ch.queue_delete(q)
    # A publish to no queue is confirmed at once; to a missing exchange it
    # is a channel error.
    c = connect()
    ch = c.channel()
    ch.confirm_delivery()
    ch.basic_publish("", qn("nowhere"), b"unrouted but confirmed")
    channel_error(404, ch.basic_publish, qn("no-exchange"), "k", b"x")


# ---------------------------------------------------------------------------
# Consumers, qos, acknowledgements


def fill(ch, q, n, prefix="m"):
    for i in range(n):
        ch.basic_publish("", q, f"{prefix}{i}".encode())


def t_qos_per_consumer():
    c = connect()
    ch = c.channel()
    q1, q2 = qn("qos1"), qn("qos2")
    for q in (q1, q2):
        ch.queue_declare(q)
        fill(ch, q, 10)
    ch.basic_qos(prefetch_count=2)
    got = {q1: [], q2: []}
    for q in (q1, q2):
        ch.basic_consume(q, lambda _c, m, p, b, q=q: got[q].append(m.delivery_tag))
    eventually("deliveries", lambda: (c.process_data_events(0.1),
                                      len(got[q1]) >= 2 and len(got[q2]) >= 2)[1])
    pump(c, 0.5)
    check(len(got[q1]) == 2 and len(got[q2]) == 2,
          f"prefetch 2 per consumer: {len(got[q1])} and {len(got[q2])} unacked")
    check(depth(c.channel(), q1) == 8, "8 left ready")
    ch.basic_ack(got[q1][0])
    eventually("one more after an ack", lambda: (c.process_data_events(0.1),
                                                 len(got[q1]) == 3)[1])
    pump(c, 0.3)
    check(len(got[q1]) == 3 and len(got[q2]) == 2, f"{len(got[q1])}, {len(got[q2])}")


def t_qos_global():
    c = connect()
    ch = c.channel()
    q1, q2 = qn("gqos1"), qn("gqos2")
    for q in (q1, q2):
        ch.queue_declare(q)
        fill(ch, q, 10)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    got = []
    for q in (q1, q2):
        ch.basic_consume(q, lambda _c, m, p, b: got.append(m.delivery_tag))
    eventually("deliveries", lambda: (c.process_data_events(0.1), len(got) >= 3)[1])
    pump(c, 0.5)
    check(len(got) == 3, f"global prefetch 3 on the channel: {len(got)} unacked")
    ch.basic_ack(got[-1], multiple=True)
    eventually("three more", lambda: (c.process_data_events(0.1), len(got) == 6)[1])
    pump(c, 0.3)
    check(len(got) == 6, f"{len(got)} after acking all")


def t_ack_nack_reject():
    ch = channel()
    q = qn("acks")
    ch.queue_declare(q)
    fill(ch, q, 6)

    def get():
        m, p, b = ch.basic_get(q, auto_ack=False)
        check(m is not None, "queue empty")
        return m, b

    m, b = get()
    check(b == b"m0" and not m.redelivered, f"{b} {m.redelivered}")
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, b = get()
    check(b == b"m0" and m.redelivered, f"after reject+requeue: {b} redelivered={m.redelivered}")
    ch.basic_ack(m.delivery_tag)
    m, b = get()
    check(b == b"m1" and not m.redelivered, f"{b}")
    ch.basic_reject(m.delivery_tag, requeue=False)
    m2, b2 = get()
    m3, b3 = get()
    check((b2, b3) == (b"m2", b"m3"), f"{b2} {b3}")
    ch.basic_nack(m3.delivery_tag, multiple=True, requeue=True)
    m2, b2 = get()
    m3, b3 = get()
    check((b2, b3) == (b"m2", b"m3") and m2.redelivered and m3.redelivered,
          f"after nack multiple: {b2} {b3} {m2.redelivered} {m3.redelivered}")
    ch.basic_ack(m3.delivery_tag, multiple=True)
    m, b = get()
    check(b == b"m4", f"{b}")
    ch.basic_nack(m.delivery_tag, requeue=False)
    m, b = get()
    check(b == b"m5" and not m.redelivered, f"{b}")
    ch.basic_ack(m.delivery_tag)
    check(ch.basic_get(q)[0] is None, "queue not empty")
    # An unknown delivery tag closes the channel with 406.
    text = channel_error(406, lambda: (ch.basic_ack(99999), ch.basic_get(q)))
    check(text.startswith("PRECONDITION_FAILED"), text)


def t_redelivered_on_channel_close():
    c = connect()
    ch = c.channel()
    q = qn("chclose")
    ch.queue_declare(q)
    fill(ch, q, 3)
    got = []
    ch.basic_consume(q, lambda _c, m, p, b: got.append((m.redelivered, b)))
    eventually("deliveries", lambda: (c.process_data_events(0.1), len(got) == 3)[1])
    check(all(not r for r, _ in got), "first deliveries redelivered")
    ch.close()
    ch = c.channel()
    got2 = get_all(ch, q)
    check([b for _, _, b in got2] == [b"m0", b"m1", b"m2"], f"{[b for _, _, b in got2]}")
    check(all(m.redelivered for m, _, _ in got2), "not redelivered after channel close")


def t_basic_get():
    ch = channel()
    q = qn("get")
    ch.queue_declare(q)
    m, p, b = ch.basic_get(q)
    check(m is None, "get on an empty queue")
    fill(ch, q, 3)
    m, p, b = ch.basic_get(q, auto_ack=True)
    check(b == b"m0" and m.message_count == 2, f"{b} count {m.message_count}")
    m, p, b = ch.basic_get(q, auto_ack=False)
    check(b == b"m1" and m.message_count == 1, f"{b} count {m.message_count}")
    check(depth(ch, q) == 1, "unacked counted as ready")
    ch.basic_ack(m.delivery_tag)
    channel_error(404, ch.basic_get, qn("missing"))


def t_recover():
    c = connect()
    ch = c.channel()
    q = qn("recover")
    ch.queue_declare(q)
    fill(ch, q, 3)
    got = []
    ch.basic_consume(q, lambda _c, m, p, b: got.append((m.redelivered, b, m.delivery_tag)))
    eventually("deliveries", lambda: (c.process_data_events(0.1), len(got) == 3)[1])
    ch.basic_recover(requeue=True)
    eventually("redeliveries", lambda: (c.process_data_events(0.1), len(got) == 6)[1])
    again = got[3:]
    check(sorted(b for _, b, _ in again) == [b"m0", b"m1", b"m2"], f"{again}")
    check(all(r for r, _, _ in again), "recovered without redelivered")
    for _, _, tag in again:
        ch.basic_ack(tag)
    pump(c, 0.2)
    check(depth(c.channel(), q) == 0, "left after acks")


def t_consumer_tags():
    c = connect()
    ch = c.channel()
    q = qn("ctag")
    ch.queue_declare(q)
    tag = ch.basic_consume(q, lambda *a: None, consumer_tag="my-tag")
    check(tag == "my-tag", tag)
    check(ch.queue_declare(q, passive=True).method.consumer_count == 1, "consumer count")
    ch2 = c.channel()
    # Same tag again on the channel: 530 NOT_ALLOWED (a connection error).
    ch.basic_cancel("my-tag")
    check(ch2.queue_declare(q, passive=True).method.consumer_count == 0, "cancelled")
    auto = ch.basic_consume(q, lambda *a: None)
    check(auto and auto != "my-tag", f"server tag {auto!r}")
    # An exclusive consumer keeps the others out: 403.
    q2 = qn("exclusive-consumer")
    ch.queue_declare(q2)
    ch.basic_consume(q2, lambda *a: None, exclusive=True)
    ch3 = channel()
    channel_error(403, ch3.basic_consume, q2, lambda *a: None)


def t_no_ack_consumer():
    c = connect()
    ch = c.channel()
    q = qn("noack")
    ch.queue_declare(q)
    fill(ch, q, 50)
    got = []
    ch.basic_consume(q, lambda _c, m, p, b: got.append(b), auto_ack=True)
    eventually("50 deliveries", lambda: (c.process_data_events(0.1), len(got) == 50)[1])
    check(got == [f"m{i}".encode() for i in range(50)], "order")
    check(depth(c.channel(), q) == 0, "left")


# ---------------------------------------------------------------------------
# Dead-lettering, TTL, lengths, priorities


def dlx_pair(ch, tag, args):
    dlx, dlq, q = qn(tag + "-dlx"), qn(tag + "-dlq"), qn(tag)
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dlq)
    ch.queue_bind(dlq, dlx)
    args = dict(args, **{"x-dead-letter-exchange": dlx})
    ch.queue_declare(q, arguments=args)
    return q, dlx, dlq


def check_x_death(props, queue, reason, exchange, keys, count=1):
    h = props.headers or {}
    xd = h.get("x-death")
    check(isinstance(xd, list) and xd, f"x-death {xd!r}")
    d = xd[0]
    check(d.get("queue") == queue, f"x-death queue {d.get('queue')!r}")
    check(d.get("reason") == reason, f"x-death reason {d.get('reason')!r}, want {reason}")
    check(d.get("count") == count, f"x-death count {d.get('count')!r}")
    check(d.get("exchange") == exchange, f"x-death exchange {d.get('exchange')!r}")
    check(d.get("routing-keys") == keys, f"x-death routing-keys {d.get('routing-keys')!r}")
    check(isinstance(d.get("time"), datetime.datetime), f"x-death time {d.get('time')!r}")
    check(h.get("x-first-death-queue") == queue, f"x-first-death-queue {h.get('x-first-death-queue')!r}")
    check(h.get("x-first-death-reason") == reason, f"x-first-death-reason {h.get('x-first-death-reason')!r}")
    check(h.get("x-first-death-exchange") == exchange,
          f"x-first-death-exchange {h.get('x-first-death-exchange')!r}")
    return d


def t_dlx_reject_nack():
    ch = channel()
    q, dlx, dlq = dlx_pair(ch, "dlrej", {})
    ch.basic_publish("", q, b"rejected", pika.BasicProperties(headers={"mine": "kept"}))
    ch.basic_publish("", q, b"nacked")
    ch.basic_publish("", q, b"requeued")
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, _, _ = ch.basic_get(q)
    ch.basic_nack(m.delivery_tag, requeue=False)
    m, _, _ = ch.basic_get(q)
    ch.basic_nack(m.delivery_tag, requeue=True)
    got = dead_letters(ch, dlq, 2)
    check([b for _, _, b in got] == [b"rejected", b"nacked"], f"{[b for _, _, b in got]}")
    for m, p, _ in got:
        check_x_death(p, q, "rejected", "", [q])
        check(m.exchange == dlx and m.routing_key == q, f"dead-lettered via {m.exchange!r} {m.routing_key!r}")
    check(got[0][1].headers.get("mine") == "kept", "own headers lost")
    check(depth(ch, q) == 1, "requeued one gone")
    # Twice through the same queue: count 2, one x-death entry.
    ch.queue_bind(q, "amq.direct", "back")   # so the dead letter can come back
    m, p, b = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, b = dead_letters(ch, dlq, 1)[0]
    ch.basic_publish("amq.direct", "back", b, p)
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, b = dead_letters(ch, dlq, 1)[0]
    check(len(p.headers["x-death"]) == 1, f"x-death {p.headers['x-death']}")
    check_x_death(p, q, "rejected", "", [q], count=2)


def t_dlx_routing_key():
    ch = channel()
    dlq = qn("dlrk-target")
    ch.queue_declare(dlq)
    q = qn("dlrk")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"to the default exchange")
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    got = dead_letters(ch, dlq, 1)
    check(got[0][0].routing_key == dlq, f"{got}")
    check_x_death(got[0][1], q, "rejected", "", [q])


def t_message_ttl():
    ch = channel()
    q, dlx, dlq = dlx_pair(ch, "ttl", {"x-message-ttl": 50})
    ch.basic_publish("", q, b"short-lived")
    eventually("expired into the dead-letter queue", lambda: depth(ch, dlq) == 1)
    check(depth(ch, q) == 0, "still in the queue")
    m, p, b = get_all(ch, dlq)[0]
    check(b == b"short-lived", f"{b}")
    check_x_death(p, q, "expired", "", [q])
    # x-message-ttl 0: gone unless a consumer takes it at once.
    q0 = qn("ttl0")
    ch.queue_declare(q0, arguments={"x-message-ttl": 0})
    ch.basic_publish("", q0, b"never seen")
    pump(ch.connection, 0.1)
    check(depth(ch, q0) == 0, "ttl 0 kept")


def t_per_message_expiration():
    ch = channel()
    q, dlx, dlq = dlx_pair(ch, "exp", {})
    ch.basic_publish("", q, b"expires", pika.BasicProperties(expiration="50"))
    ch.basic_publish("", q, b"stays", pika.BasicProperties(expiration="600000"))
    # RabbitMQ expires only at the head: the first one goes, then "stays" is head.
    eventually("per-message expiry", lambda: depth(ch, dlq) == 1)
    m, p, b = get_all(ch, dlq)[0]
    check(b == b"expires", f"{b}")
    d = check_x_death(p, q, "expired", "", [q])
    check(d.get("original-expiration") == "50", f"original-expiration {d.get('original-expiration')!r}")
    check(p.expiration is None, f"expiration kept on the dead letter: {p.expiration!r}")
    got = get_all(ch, q)
    check([b for _, _, b in got] == [b"stays"], f"{got}")
    check(got[0][1].expiration == "600000", "expiration of a delivered message")
    # A malformed expiration is a channel error.
    channel_error(406, publish_sync, ch, "", q, b"x", pika.BasicProperties(expiration="soon"))


def t_queue_expires():
    ch = channel()
    q = qn("expires")
    ch.queue_declare(q, arguments={"x-expires": 100})
    # A declare, passive too, counts as a use: look less often than that.
    eventually("queue expired", lambda: not queue_exists(q), step=0.5)
    # A consumer keeps it alive: checked by its still being there after
    # the others expired.
    c = connect()
    ch = c.channel()
    q2, q3 = qn("expires-used"), qn("expires-unused")
    ch.queue_declare(q2, arguments={"x-expires": 100})
    ch.basic_consume(q2, lambda *a: None)
    ch.queue_declare(q3, arguments={"x-expires": 100})
    eventually("unused queue expired", lambda: not queue_exists(q3), step=0.5)
    check(queue_exists(q2), "queue with a consumer expired")


def queue_exists(q):
    ch = channel()
    try:
        ch.queue_declare(q, passive=True)
        ch.close()
        return True
    except pex.ChannelClosedByBroker as e:
        check(e.reply_code == 404, f"passive declare: {e.reply_code}")
        return False


def t_max_length_drop_head():
    ch = channel()
    q, dlx, dlq = dlx_pair(ch, "maxlen", {"x-max-length": 3})
    fill(ch, q, 5)
    check(bodies(ch, q) == [b"m2", b"m3", b"m4"], "kept")
    got = dead_letters(ch, dlq, 2)
    check([b for _, _, b in got] == [b"m0", b"m1"], f"dropped {[b for _, _, b in got]}")
    check_x_death(got[0][1], q, "maxlen", "", [q])
    # x-max-length-bytes is RabbitMQ's too; x-max-length 0 keeps nothing.
    q0 = qn("maxlen0")
    ch.queue_declare(q0, arguments={"x-max-length": 0})
    fill(ch, q0, 2)
    check(depth(ch, q0) == 0, "x-max-length 0")


def t_max_length_reject_publish():
    c = connect()
    ch = c.channel()
    q = qn("rejpub")
    ch.queue_declare(q, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    try:
        ch.basic_publish("", q, b"3")
    except pex.NackError:
        pass
    else:
        raise Fail("no nack past x-max-length with reject-publish")
    check(bodies(ch, q) == [b"1", b"2"], "kept")
    ch.basic_publish("", q, b"4")   # room again: acked
    check(bodies(ch, q) == [b"4"], "after room")
    # Without confirms, the publish is dropped silently.
    ch2 = c.channel()
    fill(ch2, q, 4)
    # (RabbitMQ may count them a moment after answering the declare.)
    eventually("2 kept of 4 without confirms", lambda: depth(ch2, q) == 2)
    pump(c, 0.2)
    check(depth(ch2, q) == 2, f"depth {depth(ch2, q)}")
    channel_error(406, ch2.queue_declare, qn("badov"), arguments={"x-overflow": "nonsense"})


def t_priority():
    ch = channel()
    q = qn("prio")
    ch.queue_declare(q, arguments={"x-max-priority": 10})
    sent = [(0, "a"), (5, "b"), (9, "c"), (5, "d"), (None, "e"), (200, "f"), (1, "g")]
    for prio, body in sent:
        ch.basic_publish("", q, body.encode(), pika.BasicProperties(priority=prio))
    got = [b.decode() for b in bodies(ch, q)]
    # Above x-max-priority counts as the maximum; none as 0; FIFO within one.
    check(got == ["f", "c", "b", "d", "g", "a", "e"], f"order {got}")
    channel_error(406, ch.queue_declare, qn("prio-bad"), arguments={"x-max-priority": 256})


# ---------------------------------------------------------------------------
# Queue kinds and declares


def t_exclusive():
    c1 = connect()
    ch1 = c1.channel()
    q = qn("excl")
    ch1.queue_declare(q, exclusive=True)
    ch1.basic_publish("", q, b"mine")
    for fn, args in ((lambda ch: ch.queue_declare(q, passive=True), ()),
                     (lambda ch: ch.queue_declare(q, exclusive=True), ()),
                     (lambda ch: ch.basic_consume(q, lambda *a: None), ()),
                     (lambda ch: ch.basic_get(q), ()),
                     (lambda ch: ch.queue_purge(q), ()),
                     (lambda ch: ch.queue_delete(q), ()),
                     (lambda ch: ch.queue_bind(q, "amq.fanout"), ())):
        text = channel_error(405, fn, channel("bob"))
        check(text.startswith("RESOURCE_LOCKED"), text)
    # Its own connection uses it from any channel.
    ch2 = c1.channel()
    check(bodies(ch2, q) == [b"mine"], "own connection")
    c1.close()
    eventually("exclusive queue gone with its connection", lambda: not queue_exists(q))


def t_auto_delete_queue():
    c = connect()
    ch = c.channel()
    q = qn("autodel")
    ch.queue_declare(q, auto_delete=True)
    # Never consumed from: it stays.
    ch.basic_publish("", q, b"x")
    check(queue_exists(q), "auto-delete queue gone before any consumer")
    t1 = ch.basic_consume(q, lambda *a: None)
    t2 = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(t1)
    check(queue_exists(q), "gone with one consumer left")
    ch.basic_cancel(t2)
    eventually("auto-delete queue gone after its last consumer", lambda: not queue_exists(q))


def t_server_named():
    ch = channel()
    names = set()
    for _ in range(3):
        ok = ch.queue_declare("", exclusive=True)
        name = ok.method.queue
        check(name and name not in names, f"name {name!r}")
        names.add(name)
    print(f"# e.g. {sorted(names)[0]!r}")
    name = sorted(names)[0]
    ch.basic_publish("", name, b"to a server-named queue")
    check(bodies(ch, name) == [b"to a server-named queue"], "usable")


def t_passive_missing():
    ch = channel()
    text = channel_error(404, ch.queue_declare, qn("missing"), passive=True)
    check(text.startswith("NOT_FOUND"), text)
    ch = channel()
    text = channel_error(404, ch.exchange_declare, qn("missing-x"), "direct", passive=True)
    check(text.startswith("NOT_FOUND"), text)
    ch = channel()
    channel_error(404, ch.queue_bind, qn("missing"), "amq.direct", "k")
    ch = channel()
    q = qn("exists")
    ch.queue_declare(q)
    channel_error(404, ch.queue_bind, q, qn("missing-x"), "k")
    ch = channel()
    channel_error(404, ch.basic_consume, qn("missing"), lambda *a: None)
    ch = channel()
    # Deleting what is not there is fine (RabbitMQ 3.x: delete-ok 0).
    ch.queue_delete(qn("missing"))
    ch.exchange_delete(qn("missing-x"))


def t_delete_if_unused_if_empty():
    c = connect()
    ch = c.channel()
    q = qn("ifq")
    ch.queue_declare(q)
    ch.basic_publish("", q, b"x")
    text = channel_error(406, ch.queue_delete, q, if_empty=True)
    check(text.startswith("PRECONDITION_FAILED"), text)
    ch = c.channel()
    tag = ch.basic_consume(q, lambda *a: None, auto_ack=False)
    ch2 = c.channel()
    channel_error(406, ch2.queue_delete, q, if_unused=True)
    ch.basic_cancel(tag)
    ch = c.channel()
    ok = ch.queue_purge(q)
    check(ok.method.message_count in (0, 1), f"purge-ok {ok.method.message_count}")
    ok = ch.queue_delete(q, if_unused=True, if_empty=True)
    check(not queue_exists(q), "not deleted")
    x = qn("ifx")
    ch.exchange_declare(x, "direct")
    q2 = qn("ifx-q")
    ch.queue_declare(q2)
    ch.queue_bind(q2, x, "k")
    channel_error(406, ch.exchange_delete, x, if_unused=True)
    ch = c.channel()
    ch.queue_delete(q2)
    ch.exchange_delete(x, if_unused=True)
    channel_error(404, ch.exchange_declare, x, "direct", passive=True)


def t_delete_counts():
    ch = channel()
    q = qn("delcount")
    ch.queue_declare(q)
    fill(ch, q, 4)
    check(ch.queue_purge(q).method.message_count == 4, "purge count")
    fill(ch, q, 3)
    check(ch.queue_delete(q).method.message_count == 3, "delete count")


# ---------------------------------------------------------------------------
# Heartbeats, errors, bounds


def t_heartbeat_negotiated():
    c = connect(heartbeat=1)
    ch = c.channel()
    q = qn("hb")
    ch.queue_declare(q)
    # pika sends heartbeats while it pumps: idle for a while, still open.
    pump(c, 3.5)
    check(c.is_open, "closed although the client sent heartbeats")
    ch.basic_publish("", q, b"alive")
    check(bodies(ch, q) == [b"alive"], "usable after idling")
    # The server proposes a heartbeat and takes ours when lower.
    r = amqp_raw.Raw(T.host, T.port)
    OPEN.append(r)
    u, p = T.creds("alice")
    _, _, proposed = r.handshake(u, p, heartbeat=0)
    print(f"# server proposed heartbeat {proposed} s")
    check(proposed > 0, "the server proposed no heartbeat")


def t_heartbeat_silent_client_cut():
    r = raw(heartbeat=1)
    r.open_channel(1)
    # We send nothing from here on. The server sends heartbeats, then
    # closes the connection after missing ours.
    t0 = time.monotonic()
    try:
        code = r.wait_closed(30)
    except TimeoutError:
        raise Fail("a client that sends no heartbeats was not cut within 30 s")
    print(f"# cut after {time.monotonic() - t0:.1f} s, close code {code}, "
          f"{r.heartbeats_seen} heartbeats received")
    check(r.heartbeats_seen >= 1, "no heartbeat frame from the server")


def t_channel_error_keeps_connection():
    c = connect()
    ch = c.channel()
    channel_error(404, ch.queue_declare, qn("missing"), passive=True)
    check(c.is_open, "connection closed by a channel error")
    ch = c.channel()
    q = qn("after-error")
    ch.queue_declare(q)
    ch.basic_publish("", q, b"fine")
    check(bodies(ch, q) == [b"fine"], "connection unusable after a channel error")
    # The closed channel's number can be opened again.
    r = raw()
    r.open_channel(1)
    r.send_method(1, amqp_raw.QUEUE_DECLARE, struct.pack("!H", 0) + amqp_raw.shortstr(qn("missing"))
                  + b"\x01" + amqp_raw.table({}))
    try:
        r.read_method()
        raise Fail("passive declare of a missing queue answered")
    except amqp_raw.ChannelClosedByPeer as e:
        check(e.code == 404 and e.channel == 1, f"{e}")
    r.open_channel(1)
    check(r.queue_declare(1, qn("reopened")), "declare on the reopened channel")


def t_oversize_frame():
    other = connect()
    och = other.channel()
    q = qn("served")
    och.queue_declare(q)
    r = raw(frame_max=4096)
    r.open_channel(1)
    # A body frame far over frame_max: its head only, no body sent.
    r.send(r.method_frame(1, amqp_raw.BASIC_PUBLISH, struct.pack("!H", 0) + amqp_raw.shortstr("")
                          + amqp_raw.shortstr(q) + b"\x00"))
    r.send(r.frame(amqp_raw.FRAME_HEADER, 1, struct.pack("!HHQH", 60, 0, 1 << 20, 0)))
    r.send(struct.pack("!BHI", amqp_raw.FRAME_BODY, 1, 1 << 20))
    try:
        code = r.wait_closed(IO_TIMEOUT)
    except TimeoutError:
        raise Fail("a frame over frame_max did not close the connection")
    print(f"# closed with {code}")
    check(code in (None, 501), f"close code {code}")
    och.basic_publish("", q, b"still served")
    check(bodies(och, q) == [b"still served"], "the other client")


def t_frame_end_wrong():
    r = raw()
    frame = r.method_frame(0, amqp_raw.CHANNEL_OPEN, amqp_raw.shortstr(""))
    r.send(frame[:-1] + b"\x00")
    try:
        code = r.wait_closed(IO_TIMEOUT)
    except TimeoutError:
        raise Fail("a wrong frame-end octet did not close the connection")
    check(code in (None, 501), f"close code {code}")


def t_channel_flood():
    other = connect()
    och = other.channel()
    r = raw()
    check(r.channel_max <= CHANNEL_MAX, f"negotiated channel_max {r.channel_max}")
    frames = b"".join(r.method_frame(i, amqp_raw.CHANNEL_OPEN, amqp_raw.shortstr(""))
                      for i in range(1, r.channel_max + 1))
    r.send(frames)
    for _ in range(r.channel_max):
        r.expect(amqp_raw.CHANNEL_OPEN_OK)
    # One past the agreed maximum: the connection goes.
    r.send_method(r.channel_max + 1, amqp_raw.CHANNEL_OPEN, amqp_raw.shortstr(""))
    try:
        code = r.wait_closed(IO_TIMEOUT)
    except TimeoutError:
        raise Fail("a channel past channel_max was accepted")
    print(f"# channel {r.channel_max + 1} closed the connection with {code}")
    check(code in (None, 504, 530), f"close code {code}")
    q = qn("flood-served")
    och.queue_declare(q)
    och.basic_publish("", q, b"ok")
    check(bodies(och, q) == [b"ok"], "the other client")


def t_connection_flood():
    other = connect()
    och = other.channel()
    socks = []
    refused = 0
    try:
        for i in range(MAX_CONNECTIONS + 20):
            try:
                s = socket.create_connection((T.host, T.port), timeout=5)
            except OSError:
                refused += 1
                break
            socks.append(s)
            s.sendall(b"AMQP\x00\x00\x09\x01")
            try:
                data = s.recv(7)
            except (socket.timeout, OSError):
                data = b""
            if len(data) < 7 or data[0] != 1:
                refused += 1
                break
        print(f"# {len(socks)} sockets, refused after {len(socks) - refused}")
        if T.supersoniq:
            check(refused, f"{MAX_CONNECTIONS + 20} connections all welcomed "
                  f"past max_connections {MAX_CONNECTIONS}")
        q = qn("conn-flood")
        och.queue_declare(q)
        och.basic_publish("", q, b"ok")
        check(bodies(och, q) == [b"ok"], "the connected client")
    finally:
        for s in socks:
            s.close()
    # Once they are gone, a new connection is welcome again.
    eventually("a new connection after the flood", lambda: new_connection_ok())


def new_connection_ok():
    try:
        c = connect()
        c.close()
        return True
    except pex.AMQPConnectionError:
        return False


def t_closed_channel_use():
    # A method on a channel never opened: a connection error (504).
    r = raw()
    r.send_method(7, amqp_raw.QUEUE_DECLARE, struct.pack("!H", 0) + amqp_raw.shortstr("x")
                  + b"\x00" + amqp_raw.table({}))
    try:
        code = r.wait_closed(IO_TIMEOUT)
    except TimeoutError:
        raise Fail("a method on an unopened channel was let through")
    check(code == 504, f"close code {code}")


# ---------------------------------------------------------------------------
# SupersoniQ only: accounts


def t_ssq_token_login():
    c = connect("bob", password=T.users["bob"]["token"])
    ch = c.channel()
    q = qn("token")
    ch.queue_declare(q)
    try:
        connect("bob", password="x" + T.users["bob"]["token"][1:])
        raise Fail("a wrong token was let in")
    except (pex.ProbableAuthenticationError, pex.AuthenticationError):
        pass
    try:
        connect("alice", password=T.users["bob"]["token"])
        raise Fail("bob's token let alice in")
    except (pex.ProbableAuthenticationError, pex.AuthenticationError):
        pass


def t_ssq_ownership():
    ca = connect("alice")
    cha = ca.channel()
    q = qn("owned")
    cha.queue_declare(q)
    fill(cha, q, 2)
    chb = channel("bob")
    # Bob may use the queue...
    chb.queue_declare(q, passive=True)
    chb.basic_publish("", q, b"from bob")
    m, _, b = chb.basic_get(q, auto_ack=True)
    check(b == b"m0", f"{b}")
    # ...but not delete or purge it.
    text = channel_error(403, chb.queue_delete, q)
    check(text.startswith("ACCESS_REFUSED"), text)
    chb = channel("bob")
    channel_error(403, chb.queue_purge, q)
    x = qn("owned-x")
    cha.exchange_declare(x, "fanout")
    chb = channel("bob")
    chb.queue_declare(qn("bobs"))
    channel_error(403, chb.exchange_delete, x)
    check(depth(cha, q) == 2, "depth after bob's attempts")
    # The owner may.
    check(cha.queue_purge(q).method.message_count == 2, "purge")
    cha.queue_delete(q)
    cha.exchange_delete(x)
    chb = channel("bob")
    channel_error(403, chb.queue_declare, "supersoniq.mine")


def t_ssq_user_id_login():
    ch = channel("bob")
    q = qn("uid-ssq")
    ch.queue_declare(q)
    ch.basic_publish("", q, b"mine", pika.BasicProperties(user_id="bob"))
    channel_error(406, publish_sync, ch, "", q, b"x", pika.BasicProperties(user_id="alice"))
    ch = channel("bob")
    got = get_all(ch, q)
    check(len(got) == 1 and got[0][1].user_id == "bob", f"{got}")


def t_ssq_deleted_account():
    register("dave")
    c = connect("dave")
    ch = c.channel()
    status, obj = rest("DELETE", "/api/v1/me", {"password": T.users["dave"]["password"]}, user="dave")
    check(status == 204, f"delete account: {status} {obj}")

    def closed():
        try:
            c.process_data_events(time_limit=0.1)
            return not c.is_open
        except (pex.ConnectionClosed, pex.StreamLostError, pex.AMQPConnectionError):
            return True

    eventually("the deleted account's connection closed", closed)
    try:
        connect("dave")
        raise Fail("a deleted account logged in")
    except (pex.ProbableAuthenticationError, pex.AuthenticationError):
        pass


# ---------------------------------------------------------------------------
# SupersoniQ only: the bridge to conversations


def direct_conversation(user, other):
    status, obj = rest("POST", "/api/v1/conversations", {"kind": "direct", "members": [other]},
                       user=user)
    check(status in (200, 201), f"direct {user}-{other}: {status} {obj}")
    return obj["conversation"]["id"]


def history(conv, user):
    status, obj = rest("GET", f"/api/v1/conversations/{conv}/messages?limit=100", user=user)
    check(status == 200, f"history: {status} {obj}")
    return obj["messages"]


def t_ssq_bridge_publish():
    conv = direct_conversation("alice", "bob")
    S["conv_ab"] = conv
    c = connect("alice")
    ch = c.channel()
    ch.confirm_delivery()
    ch.basic_publish("supersoniq.chat", conv, "by id ✓".encode(),
                     pika.BasicProperties(content_type="text/plain"))
    # Confirmed means committed: the message is in history now.
    msgs = history(conv, "bob")
    check(msgs and msgs[-1]["body"] == "by id ✓", f"history {msgs[-1:]}")
    check(msgs[-1]["sender"] == T.users["alice"]["id"], "sender")
    seq1 = msgs[-1]["seq"]
    ch.basic_publish("supersoniq.chat", "bob", b"by username")
    ch.basic_publish("supersoniq.chat", conv,
                     json.dumps({"body": "as json", "client_id": "amqp-1"}).encode(),
                     pika.BasicProperties(content_type="application/json"))
    # The same client_id again is the same message (idempotent).
    ch.basic_publish("supersoniq.chat", conv,
                     json.dumps({"body": "as json", "client_id": "amqp-1"}).encode(),
                     pika.BasicProperties(content_type="application/json"))
    msgs = history(conv, "alice")
    tail = [(m["seq"], m["body"]) for m in msgs if m["seq"] > seq1]
    check(tail == [(seq1 + 1, "by username"), (seq1 + 2, "as json")], f"history tail {tail}")
    check(msgs[-1]["client_id"] == "amqp-1", f"client_id {msgs[-1].get('client_id')}")
    # A direct conversation with a username is created if needed.
    ch.basic_publish("supersoniq.chat", "carol", b"hello carol")
    status, obj = rest("GET", "/api/v1/conversations", user="carol")
    check(status == 200, f"{status}")
    convs = obj["conversations"] if isinstance(obj, dict) else obj
    check(any(cv["kind"] == "direct" for cv in convs), f"carol's conversations {convs}")


def t_ssq_bridge_refusals():
    register("erin")
    conv = S["conv_ab"]
    c = connect("erin")
    ch = c.channel()
    returned = []
    ch.add_on_return_callback(lambda _c, m, p, b: returned.append(m))
    ch.basic_publish("supersoniq.chat", conv, b"not a member", mandatory=True)
    ch.basic_publish("supersoniq.chat", "999999999", b"no such conversation", mandatory=True)
    ch.basic_publish("supersoniq.chat", conv, b"\xff\xfe not utf-8", mandatory=True)
    eventually("three returns", lambda: (c.process_data_events(0.1), len(returned) >= 3)[1])
    codes = [m.reply_code for m in returned]
    print(f"# returns: {[(m.reply_code, m.reply_text) for m in returned]}")
    check(codes[0] == 312 and codes[1] == 312, f"codes {codes}")
    check(codes[2] in (312, 406), f"invalid UTF-8: {codes[2]}")
    check(all(m["body"] != "not a member" for m in history(conv, "alice")), "stored anyway")
    # Without mandatory: a channel error.
    ch = channel("erin")
    code = None
    try:
        ch.basic_publish("supersoniq.chat", conv, b"not a member")
        ch.queue_declare("", exclusive=True)   # a round trip, for the error to arrive
    except pex.ChannelClosedByBroker as e:
        code = e.reply_code
    check(code in (403, 404), f"not a member without mandatory: {code}")


def consume_events(user, pattern="conversation.#"):
    c = connect(user)
    ch = c.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, "supersoniq.events", pattern)
    got = []
    ch.basic_consume(q, lambda _c, m, p, b: got.append((m, p, b)), auto_ack=True)
    return c, got


def t_ssq_bridge_events():
    conv = S["conv_ab"]
    c, got = consume_events("bob")
    ce, got_erin = consume_events("erin")   # erin is in none of these conversations
    cb = connect("alice")   # a third party: alice's own bot sees them too
    status, obj = rest("POST", f"/api/v1/conversations/{conv}/messages",
                       {"client_id": "rest-ev-1", "body": "over REST"}, user="alice")
    check(status == 201, f"post: {status} {obj}")
    seq = obj["message"]["seq"]
    status, obj = rest("PATCH", f"/api/v1/conversations/{conv}/messages/{seq}",
                       {"body": "edited over REST"}, user="alice")
    check(status == 200, f"edit: {status} {obj}")
    status, obj = rest("DELETE", f"/api/v1/conversations/{conv}/messages/{seq}", user="alice")
    check(status in (200, 204), f"delete: {status} {obj}")
    # And one over WebSocket.
    ws = std.WS(T.server, T.users["alice"]["token"])
    try:
        ws.send_json({"type": "send", "id": "w1", "conversation_id": conv,
                      "client_id": "ws-ev-1", "body": "over WebSocket"})
        ws.expect_type("ack")
    finally:
        ws.close()
    eventually("four events", lambda: (c.process_data_events(0.1), len(got) >= 4)[1])
    keys = [m.routing_key for m, _, _ in got]
    check(keys == [f"conversation.{conv}.message", f"conversation.{conv}.edited",
                   f"conversation.{conv}.deleted", f"conversation.{conv}.message"], f"keys {keys}")
    m, p, b = got[0]
    check(p.content_type == "application/json" and p.delivery_mode == 2, f"{p}")
    check((p.headers or {}).get("x-supersoniq-sender") == "alice", f"headers {p.headers}")
    ev = json.loads(b)
    check(ev.get("type") == "message" and ev["message"]["body"] == "over REST"
          and ev["message"]["seq"] == seq, f"event {ev}")
    ev = json.loads(got[3][2])
    check(ev["message"]["body"] == "over WebSocket", f"event {ev}")
    # A message published through the bridge comes back as an event too.
    ch = cb.channel()
    ch.confirm_delivery()
    ch.basic_publish("supersoniq.chat", conv, b"through the bridge")
    eventually("the bridge's own message as an event",
               lambda: (c.process_data_events(0.1), len(got) >= 5)[1])
    check(json.loads(got[4][2])["message"]["body"] == "through the bridge", "bridge event")
    ce.process_data_events(time_limit=0.5)
    check(got_erin == [], f"erin got events of others: {[m.routing_key for m, _, _ in got_erin]}")
    # A narrower binding gets only its own keys.
    c2, got2 = consume_events("bob", f"conversation.{conv}.edited")
    status, obj = rest("POST", f"/api/v1/conversations/{conv}/messages",
                       {"client_id": "rest-ev-2", "body": "x"}, user="alice")
    seq = obj["message"]["seq"]
    rest("PATCH", f"/api/v1/conversations/{conv}/messages/{seq}", {"body": "y"}, user="alice")
    eventually("the edit", lambda: (c2.process_data_events(0.1), len(got2) >= 1)[1])
    pump(c2, 0.3)
    check([m.routing_key for m, _, _ in got2] == [f"conversation.{conv}.edited"],
          f"{[m.routing_key for m, _, _ in got2]}")


# ---------------------------------------------------------------------------
# SupersoniQ only: REST and AMQP are the same queues


def t_ssq_rest_to_amqp():
    q = qn("rest")
    status, obj = rest("PUT", f"/api/v1/queues/{q}", {"durable": True}, user="alice")
    check(status in (200, 201), f"PUT queue: {status} {obj}")
    status, obj = rest("POST", f"/api/v1/queues/{q}/messages",
                       {"body": "from REST", "content_type": "text/plain", "priority": 3,
                        "headers": {"k": "v", "n": 2, "b": True}}, user="alice")
    check(status == 201 and obj.get("id"), f"POST message: {status} {obj}")
    ch = channel("bob")
    m, p, b = ch.basic_get(q, auto_ack=True)
    check(b == b"from REST", f"{b}")
    check(p.content_type == "text/plain" and p.delivery_mode == 2, f"{p}")
    check(p.headers == {"k": "v", "n": 2, "b": True}, f"headers {p.headers}")
    # And back: AMQP publish, REST lease and ack.
    ch.basic_publish("", q, b"from AMQP", pika.BasicProperties(content_type="text/plain",
                                                               headers={"h": "1"}))
    status, obj = rest("GET", f"/api/v1/queues/{q}/messages?max=5&wait=0", user="alice")
    check(status == 200, f"GET messages: {status} {obj}")
    msgs = obj["messages"]
    check(len(msgs) == 1 and msgs[0]["body"] == "from AMQP", f"{msgs}")
    check(msgs[0]["headers"].get("h") == "1", f"{msgs[0]}")
    status, obj = rest("POST", f"/api/v1/queues/{q}/ack", {"tags": [msgs[0]["tag"]]}, user="alice")
    check(status in (200, 204), f"ack: {status} {obj}")
    check(depth(ch, q) == 0, "depth after REST ack")
    status, obj = rest("GET", f"/api/v1/queues/{q}", user="alice")
    check(status == 200 and obj.get("owner") in ("alice", T.users["alice"]["id"]), f"{status} {obj}")


def t_ssq_rest_leases_dead_letter():
    ch = channel("alice")
    dlq = qn("rest-dlq")
    ch.queue_declare(dlq, durable=True)
    q = qn("rest-lease")
    status, obj = rest("PUT", f"/api/v1/queues/{q}",
                       {"durable": True, "max_deliveries": 2, "dead_letter_exchange": "",
                        "dead_letter_routing_key": dlq}, user="alice")
    check(status in (200, 201), f"PUT: {status} {obj}")
    status, obj = rest("POST", f"/api/v1/queues/{q}/messages", {"body": "flaky"}, user="alice")
    check(status == 201, f"{status} {obj}")
    status, obj = rest("GET", f"/api/v1/queues/{q}/messages?max=1&wait=0&lease=1", user="alice")
    m = obj["messages"][0]
    check(m["deliveries"] == 1 and not m["redelivered"], f"{m}")
    # The lease runs out: delivered again.
    def leased_again():
        s, o = rest("GET", f"/api/v1/queues/{q}/messages?max=1&wait=1&lease=30", user="alice")
        return o["messages"][0] if s == 200 and o["messages"] else None
    m = eventually("redelivery after the lease", leased_again)
    check(m["deliveries"] == 2 and m["redelivered"], f"{m}")
    status, obj = rest("POST", f"/api/v1/queues/{q}/nack", {"tags": [m["tag"]], "requeue": True},
                       user="alice")
    check(status in (200, 204), f"nack: {status} {obj}")
    # Two deliveries failed: it is in the dead-letter queue, not in q.
    status, obj = rest("GET", f"/api/v1/queues/{q}/messages?max=1&wait=0", user="alice")
    check(status == 200 and obj["messages"] == [], f"still in the queue: {obj}")
    m, p, b = ch.basic_get(dlq, auto_ack=True)
    check(b == b"flaky", f"dead-letter queue: {b}")
    check((p.headers or {}).get("x-death"), f"no x-death: {p.headers}")


TESTS = [
    ("connect: server properties and capabilities", t_connect),
    ("connect: a wrong password is refused with 403 ACCESS_REFUSED", t_wrong_password),
    ("connect: another vhost is 530 NOT_ALLOWED", t_other_vhost),
    ("exchange: the default exchange routes by queue name", t_default_exchange),
    ("exchange: direct, bindings and unbind, amq.direct", t_direct),
    ("exchange: fanout and unbind", t_fanout),
    ("exchange: topic patterns (*, #, edges) and unbind", t_topic),
    ("exchange: headers x-match all/any, unbind", t_headers),
    ("exchange: amq.* exist, reserved for declare and delete", t_amq_exchanges),
    ("exchange/queue: redeclare with other settings is 406, unknown type 503", t_exchange_redeclare),
    ("exchange: auto-delete goes with its last binding", t_auto_delete_exchange),
    ("properties: all 14 and every field-table type pika sends, unchanged", t_properties),
    ("properties: user-id other than the login is 406", t_user_id),
    ("properties: a 1 MiB body over many frames", t_large_message),
    ("publish: mandatory gets basic.return 312 NO_ROUTE", t_mandatory),
    ("publish: confirms for 2000 pipelined publishes, transient and persistent (multiple)", t_confirms),
    ("qos: prefetch per consumer", t_qos_per_consumer),
    ("qos: prefetch global for the channel", t_qos_global),
    ("ack/nack/reject with and without requeue, multiple, redelivered, unknown tag 406", t_ack_nack_reject),
    ("consume: unacked come back redelivered when the channel closes", t_redelivered_on_channel_close),
    ("basic.get: empty, message_count, ack", t_basic_get),
    ("basic.recover requeues unacked as redelivered", t_recover),
    ("consume: consumer tags, cancel, exclusive consumer 403", t_consumer_tags),
    ("consume: no-ack consumer gets all in order", t_no_ack_consumer),
    ("dead-letter: reject and nack without requeue, x-death, count", t_dlx_reject_nack),
    ("dead-letter: x-dead-letter-routing-key via the default exchange", t_dlx_routing_key),
    ("ttl: x-message-ttl expires into the dead-letter exchange", t_message_ttl),
    ("ttl: per-message expiration, original-expiration, malformed 406", t_per_message_expiration),
    ("queue: x-expires deletes an unused queue", t_queue_expires),
    ("queue: x-max-length drop-head dead-letters the head (maxlen)", t_max_length_drop_head),
    ("queue: x-max-length reject-publish nacks with confirms", t_max_length_reject_publish),
    ("queue: x-max-priority order", t_priority),
    ("queue: exclusive, 405 RESOURCE_LOCKED for other connections, gone on close", t_exclusive),
    ("queue: auto-delete goes with its last consumer", t_auto_delete_queue),
    ("queue: server-named queues", t_server_named),
    ("declare: passive declares and binds of missing things are 404", t_passive_missing),
    ("delete: if-unused and if-empty are 406", t_delete_if_unused_if_empty),
    ("delete/purge: message counts", t_delete_counts),
    ("heartbeat: negotiated; a client sending them stays", t_heartbeat_negotiated),
    ("heartbeat: a client that stops sending heartbeats is cut (raw socket)", t_heartbeat_silent_client_cut),
    ("errors: a channel error leaves the connection usable; the channel reopens", t_channel_error_keeps_connection),
    ("errors: a method on an unopened channel is 504", t_closed_channel_use),
    ("bounds: a frame over frame_max closes that connection, others served", t_oversize_frame),
    ("bounds: a wrong frame-end octet closes the connection", t_frame_end_wrong),
    ("bounds: channels past channel_max close that connection, others served", t_channel_flood),
    ("bounds: a flood of connections is refused past max_connections, others served", t_connection_flood),
    ("supersoniq: log in with a session token; wrong or other's token refused", t_ssq_token_login, "ssq"),
    ("supersoniq: others may use but not delete or purge a queue (403)", t_ssq_ownership, "ssq"),
    ("supersoniq: user-id must be the login's username", t_ssq_user_id_login, "ssq"),
    ("supersoniq: deleting an account closes its AMQP connection", t_ssq_deleted_account, "ssq"),
    ("bridge: publish to supersoniq.chat by id, username, JSON; in history with seq", t_ssq_bridge_publish, "ssq"),
    ("bridge: not a member / unknown / bad UTF-8: basic.return or channel error", t_ssq_bridge_refusals, "ssq"),
    ("bridge: supersoniq.events gets messages, edits, deletions; others' never", t_ssq_bridge_events, "ssq"),
    ("rest: published over REST, got over AMQP, and back", t_ssq_rest_to_amqp, "ssq"),
    ("rest: lease expiry, nack, max_deliveries to the dead-letter queue", t_ssq_rest_leases_dead_letter, "ssq"),
]


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
            T.rabbit = rabbitmq.RabbitMQ(config=f"channel_max = {CHANNEL_MAX}\n")
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


def main(argv):
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    only = [a for a in argv[1:] if not a.startswith("--")]
    tests = [t for t in TESTS if not only or any(o in t[1].__name__ for o in only)]
    print(f"1..{len(tests)}", flush=True)
    failed = 0
    try:
        try:
            print(f"# {setup(argv[1:])}", flush=True)
            start_error = None
        except Exception as e:
            start_error = e
        for n, (name, fn, *flags) in enumerate(tests, 1):
            if start_error is not None:
                print(f"not ok {n} - {name}\n# not started: {start_error}", flush=True)
                failed += 1
                continue
            if "ssq" in flags and not T.supersoniq:
                print(f"ok {n} - {name} # SKIP SupersoniQ only", flush=True)
                continue
            t0 = time.monotonic()
            try:
                fn()
                print(f"ok {n} - {name}", flush=True)
            except Exception as e:
                failed += 1
                print(f"not ok {n} - {name}")
                for line in traceback.format_exception(e)[-6:]:
                    for sub in line.rstrip().splitlines():
                        print(f"# {sub}")
                if T.server is not None and not T.server.alive():
                    print(f"# server is gone (status {T.server.proc.returncode})")
                print(f"# ({time.monotonic() - t0:.2f} s)", flush=True)
            finally:
                close_all()
        if failed and T.server is not None:
            print("# server log tail:")
            for line in T.server.tail():
                print(f"#   {line}")
        if T.server is not None and T.server.alive():
            status = T.server.stop()
            if status != 0:
                print(f"# server exit status {status} after SIGTERM")
    finally:
        teardown()
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
