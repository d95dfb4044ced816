#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SupersoniQ's AMQP 0-9-1 broker seen by Python's pika and a raw socket,
queues and what bounds them: dead-lettering (reject, nack, TTL,
max-length; x-death as RabbitMQ writes it), x-message-ttl, per-message
expiration, x-expires, x-max-length drop-head and reject-publish,
x-max-priority, exclusive, auto-delete and server-named queues, 404s and
406s of declares and deletes, heartbeats (a silent client cut), channel
errors, and floods of channels, connections and oversize frames from
one client while another is served.

The broker under test, and --rabbitmq / SSQ_AMQP_URL to check the tests
against RabbitMQ: see amqp_harness.py. TAP on stdout.
"""

import datetime
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import amqp_harness as H  # noqa: E402 (first: pika, or a skip)
from amqp_harness import (MAX_MESSAGE, CHANNEL_MAX, Fail, IO_TIMEOUT, MAX_CONNECTIONS, OPEN, T,
                          amqp_raw, bodies, channel, channel_error, check, connect,
                          dead_letters, depth, eventually, fill, get_all, pex, pika,
                          publish_sync, pump, qn, queue_exists, raw, rest)  # noqa: E402


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


def t_body_over_max_message_size():
    other = connect()
    och = other.channel()
    q = qn("max-message")
    och.queue_declare(q)
    r = raw()
    r.open_channel(1)
    size = 2 * MAX_MESSAGE
    r.send(r.method_frame(1, amqp_raw.BASIC_PUBLISH, struct.pack("!H", 0) + amqp_raw.shortstr("")
                          + amqp_raw.shortstr(q) + b"\x00"))
    r.send(r.frame(amqp_raw.FRAME_HEADER, 1, struct.pack("!HHQH", 60, 0, size, 0)))
    # The body, for as long as the server takes it (it may refuse at the
    # header already, as SupersoniQ does; RabbitMQ reads the body first).
    chunk = b"x" * (r.frame_max - 8)
    sent = 0
    try:
        while sent < size:
            piece = chunk[:size - sent]
            r.send(r.frame(amqp_raw.FRAME_BODY, 1, piece))
            sent += len(piece)
    except OSError:
        pass
    try:
        r.read_method()
        raise Fail("the message over max_message_size was taken")
    except amqp_raw.ChannelClosedByPeer as e:
        print(f"# channel closed: {e.code} {e.text!r} after {sent} body bytes")
        check(e.code == 406, f"{e}")
    except amqp_raw.ConnectionClosedByPeer as e:
        print(f"# connection closed: {e.code} {e.text!r} after {sent} body bytes")
        check(e.code in (406, 501), f"{e}")
    except amqp_raw.Closed:
        print(f"# connection cut after {sent} body bytes")
    except TimeoutError:
        raise Fail(f"no answer to a {size}-byte body over max_message_size {MAX_MESSAGE}")
    check(depth(och, q) == 0, "queued anyway")
    och.basic_publish("", q, b"ok")
    check(bodies(och, q) == [b"ok"], "the other client")


def t_silent_peer_cut():
    # Connects and says nothing; or sends the header and nothing more.
    silent = amqp_raw.Raw(T.host, T.port)
    half = amqp_raw.Raw(T.host, T.port)
    OPEN.extend((silent, half))
    half.send(b"AMQP\x00\x00\x09\x01")
    half.expect(amqp_raw.CONNECTION_START)
    t0 = time.monotonic()
    for r, what in ((silent, "silent peer"), (half, "peer stopped after the header")):
        try:
            code = r.wait_closed(30)
        except TimeoutError:
            raise Fail(f"{what} not cut within 30 s")
        print(f"# {what}: cut after {time.monotonic() - t0:.1f} s (close code {code})")


def t_bad_protocol_header():
    # (Not "AMQP\x01\x01\x00\x09": RabbitMQ speaks 0-9 to that one.)
    for header in (b"AMQP\x00\x00\x08\x00", b"XXXXXXXX", b"GET / HTTP/1.1\r\n\r\n"):
        r = amqp_raw.Raw(T.host, T.port)
        OPEN.append(r)
        r.send(header)
        deadline = time.monotonic() + IO_TIMEOUT
        try:
            got = r.read_exact(8, deadline)
        except amqp_raw.Closed:
            raise Fail(f"{header!r}: closed without the protocol header we should send")
        check(got == b"AMQP\x00\x00\x09\x01", f"{header!r}: answered {got!r}")
        try:
            r.wait_closed(IO_TIMEOUT)
        except (TimeoutError, amqp_raw.ProtocolError):
            raise Fail(f"{header!r}: not closed after the protocol header")


def t_unknown_method():
    other = connect()
    for cm in ((60, 99), (77, 10)):
        r = raw()
        r.open_channel(1)
        r.send_method(1, cm)
        try:
            code = r.wait_closed(IO_TIMEOUT)
        except TimeoutError:
            raise Fail(f"unknown method {cm} let through")
        print(f"# method {cm}: close code {code}")
        check(code in (None, 503, 540), f"method {cm}: close code {code}")
    check(other.is_open, "other connection")
    other.channel().queue_declare("", exclusive=True)


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


def t_float_headers():
    """Header doubles JSON has no number for reach a REST reader as typed
    text; Python's json.loads reads every reply (json-glib wrote "nan.0",
    "inf.0" and "1e+20.0", which are not JSON)."""
    ch = channel()
    q = "floats"
    ch.queue_declare(q, durable=True)
    headers = {"half": 0.5, "nan": float("nan"), "inf": float("inf"),
               "ninf": float("-inf"), "big": 1e20, "odd": 1.2345678901234568e+17,
               "tiny": 1e-10, "snan": -float("nan")}
    # pika writes no floats (only decimals): the raw client does.
    r = raw()
    r.open_channel(1)
    r.send(r.publish_frames(1, "", q, b"f", headers=headers)
           + r.publish_frames(1, "", q, b"g", headers={"ok": 2.5}))
    eventually("two published", lambda: depth(ch, q) == 2)
    status, obj = rest("GET", f"/api/v1/queues/{q}/messages?max=10", user="alice")
    check(status == 200, f"take: {status} {obj}")
    got = {m["body"]: m["headers"] for m in obj["messages"]}
    h = got["f"]
    check(h["half"] == 0.5 and h["odd"] == 1.2345678901234568e+17, f"numbers {h}")
    check(h["nan"] == {"type": "double", "value": "nan"}, f"nan {h['nan']}")
    check(h["inf"] == {"type": "double", "value": "inf"}, f"inf {h['inf']}")
    check(h["ninf"] == {"type": "double", "value": "-inf"}, f"-inf {h['ninf']}")
    check(h["big"] == {"type": "double", "value": "1e+20"}, f"1e20 {h['big']}")
    check(h["tiny"] == {"type": "double", "value": "1e-10"}, f"1e-10 {h['tiny']}")
    check(h["snan"] == {"type": "double", "value": "nan"}, f"NaN with its sign bit {h['snan']}")
    check(got["g"] == {"ok": 2.5}, f"the next message {got['g']}")



def colliding_name(i):
    """Name i spells i in binary with "ab" for 0 and "bA" for 1: all such
    names share one g_str_hash, json-glib's hash of member names."""
    return "".join("bA" if (i >> bit) & 1 else "ab" for bit in range(12))


def t_colliding_headers():
    """Header names made to share one hash in json-glib's member table
    (2,000 of them took the server 45 ms per message taken, each compared
    with all the others): the first four of one hash reach REST, the others
    are left out, names of other hashes are all there."""
    ch = channel()
    q = "colliding"
    ch.queue_declare(q, durable=True)
    headers = {colliding_name(i): i for i in range(2000)}
    headers["plain"] = "kept"
    headers["other"] = 7
    ch.basic_publish("", q, b"c", pika.BasicProperties(headers=headers))
    eventually("published", lambda: depth(ch, q) == 1)
    status, obj = rest("GET", f"/api/v1/queues/{q}/messages?max=10", user="alice")
    check(status == 200, f"take: {status}")
    h = obj["messages"][0]["headers"]
    check(h.get("plain") == "kept" and h.get("other") == 7, "the other names are there")
    kept = sorted(v for k, v in h.items() if k not in ("plain", "other"))
    check(kept == [0, 1, 2, 3], f"colliding names kept: {kept[:10]} ({len(kept)})")
    # A table shows its first 256 names, a message 2,048 values in all
    # (the array's own and 2,047 of its elements).
    wide = {f"h{i:04d}": i for i in range(1100)}
    ch.basic_publish("", q, b"w", pika.BasicProperties(headers=wide))
    ch.basic_publish("", q, b"a", pika.BasicProperties(headers={"arr": list(range(3000))}))
    eventually("published", lambda: depth(ch, q) == 2)
    status, obj = rest("GET", f"/api/v1/queues/{q}/messages?max=10", user="alice")
    check(status == 200, f"take: {status}")
    got = {m["body"]: m["headers"] for m in obj["messages"]}
    check(got["w"] == {f"h{i:04d}": i for i in range(256)}, f"{len(got['w'])} names shown")
    check(got["a"] == {"arr": list(range(2047))}, f"{len(got['a']['arr'])} elements shown")
    # Tables nested as deep as the AMQP codec takes them show whole (the two
    # deepest levels came back null).
    nested = 1
    for _ in range(16):
        nested = {"n": nested}
    ch.basic_publish("", q, b"n", pika.BasicProperties(headers={"n": nested}))
    eventually("published", lambda: depth(ch, q) == 1)
    status, obj = rest("GET", f"/api/v1/queues/{q}/messages?max=10", user="alice")
    check(status == 200, f"take: {status}")
    check(obj["messages"][0]["headers"] == {"n": nested}, "nested tables shown whole")

TESTS = [
    ("dead-letter: reject and nack without requeue, x-death, count", t_dlx_reject_nack),
    ("dead-letter: x-dead-letter-routing-key via the default exchange", t_dlx_routing_key),
    ("ttl: x-message-ttl expires into the dead-letter exchange", t_message_ttl),
    ("ttl: per-message expiration, original-expiration, malformed 406", t_per_message_expiration),
    ("queue: x-expires deletes an unused queue", t_queue_expires),
    ("queue: x-max-length drop-head dead-letters the head (maxlen)", t_max_length_drop_head),
    ("queue: x-max-length reject-publish nacks with confirms", t_max_length_reject_publish),
    ("queue: x-max-priority order", t_priority),
    ("headers: NaN, infinities and 1e20 reach REST as typed text, JSON throughout", t_float_headers),
    ("headers: names made to collide in json-glib's table are left out past four", t_colliding_headers),
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
    ("errors: unknown classes and methods close the connection", t_unknown_method),
    ("errors: a wrong protocol header gets ours and a close", t_bad_protocol_header),
    ("bounds: a body over max_message_size is refused, others served", t_body_over_max_message_size),
    ("bounds: a peer that says nothing, or stops after the header, is cut", t_silent_peer_cut),
    ("bounds: a frame over frame_max closes that connection, others served", t_oversize_frame),
    ("bounds: a wrong frame-end octet closes the connection", t_frame_end_wrong),
    ("bounds: channels past channel_max close that connection, others served", t_channel_flood),
    ("bounds: a flood of connections is refused past max_connections, others served", t_connection_flood),
]


if __name__ == "__main__":
    sys.exit(H.run(sys.argv, TESTS))
