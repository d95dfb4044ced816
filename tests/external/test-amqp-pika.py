#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SupersoniQ's AMQP 0-9-1 broker seen by Python's pika (Debian's
python3-pika, 1.2), a client nobody on the team wrote, and by a raw
socket where a library hides what is tested: connections and logins,
every exchange type with bindings, properties and every field-table type
pika sends, mandatory and publisher confirms (multiple), consumers, qos
per consumer and global, ack/nack/reject, basic.get and recover.

The broker under test, and --rabbitmq / SSQ_AMQP_URL to check the tests
against RabbitMQ: see amqp_harness.py. TAP on stdout.
"""

import datetime
import decimal
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import amqp_harness as H  # noqa: E402 (first: pika, or a skip)
from amqp_harness import (IO_TIMEOUT, MAX_MESSAGE, Fail, OPEN, T, amqp_raw, bodies, channel,
                          channel_error, params,
                          check, connect, depth, eventually, fill, get_all, pex, pika,
                          publish_sync, pump, qn, raw)  # noqa: E402


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


def t_logins_at_once():
    # A pool of workers starting together (a publisher and ten consumers,
    # as the benchmark does) all log in with the right password. On raw
    # sockets, so that the twelve start-oks are really in flight at once.
    n = 12
    u, p = T.creds("alice")
    conns = []
    for _ in range(n):
        r = amqp_raw.Raw(T.host, T.port)
        OPEN.append(r)
        r.send(b"AMQP\x00\x00\x09\x01")
        r.expect(amqp_raw.CONNECTION_START)
        conns.append(r)
    for r in conns:
        r.send_method(0, amqp_raw.CONNECTION_START_OK,
                      amqp_raw.table({"product": "burst"}) + amqp_raw.shortstr("PLAIN")
                      + amqp_raw.longstr(f"\0{u}\0{p}") + amqp_raw.shortstr("en_US"))
    refused = []
    for i, r in enumerate(conns):
        try:
            r.expect(amqp_raw.CONNECTION_TUNE)
        except amqp_raw.ConnectionClosedByPeer as e:
            refused.append(f"login {i}: {e.code} {e.text}")
    check(not refused, f"{len(refused)} of {n} logins at once refused: {refused[:1]}")
    # And a pool of pika connections made at once.
    results = [None] * n
    go = threading.Event()

    def login(i):
        go.wait(IO_TIMEOUT)
        try:
            OPEN.append(pika.BlockingConnection(params()))
            results[i] = "ok"
        except Exception as e:
            results[i] = repr(e)

    threads = [threading.Thread(target=login, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(60)
    refused = [r for r in results if r != "ok"]
    check(not refused, f"pika: {len(refused)} of {n} logins at once refused: {refused[:1]}")


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
    # Bodies split over many frames (frame_max) come back whole, up to
    # max_message_size.
    ch = channel()
    q = qn("large")
    ch.queue_declare(q)
    body = os.urandom(MAX_MESSAGE - 1024)
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


TESTS = [
    ("connect: server properties and capabilities", t_connect),
    ("connect: a wrong password is refused with 403 ACCESS_REFUSED", t_wrong_password),
    ("connect: another vhost is 530 NOT_ALLOWED", t_other_vhost),
    ("connect: 12 logins at once with the right password all get in", t_logins_at_once),
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
    ("properties: a body just under max_message_size over many frames", t_large_message),
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
]


if __name__ == "__main__":
    sys.exit(H.run(sys.argv, TESTS))
