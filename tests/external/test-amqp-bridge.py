#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What only SupersoniQ's AMQP broker does, seen by Python's pika:
logins with accounts and session tokens, deleted accounts, ownership of
queues (403), user-id against the login, the bridge to conversations both
ways (supersoniq.chat publishes into history with seq; supersoniq.events
delivers messages, edits and deletions made over REST and WebSocket,
never a third user's), and REST queues as the same queues as AMQP's
(publish and lease both ways, lease expiry, max_deliveries to the
dead-letter queue). Skipped against RabbitMQ.

The broker under test, and --rabbitmq / SSQ_AMQP_URL to check the tests
against RabbitMQ: see amqp_harness.py. TAP on stdout.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import amqp_harness as H  # noqa: E402 (first: pika, or a skip)
from amqp_harness import (Fail, S, T, channel, channel_error, check, connect, depth,
                          eventually, fill, get_all, pex, pika, publish_sync, pump, qn,
                          register, rest, std)  # noqa: E402


# ---------------------------------------------------------------------------
# SupersoniQ only: accounts


def t_ssq_token_login():
    c = connect("bob", password=T.users["bob"]["token"])
    ch = c.channel()
    q = qn("token")
    ch.queue_declare(q)
    try:
        token = T.users["bob"]["token"]
        # One character changed (a token starts with "x" one time in 64).
        connect("bob", password=("y" if token[0] == "x" else "x") + token[1:])
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
    c.channel()
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
    # Shaped like a conversation id (c + 24 hex digits), but no such one.
    ch.basic_publish("supersoniq.chat", "c" + "f" * 24, b"no such conversation", mandatory=True)
    ch.basic_publish("supersoniq.chat", "nosuchuser", b"no such user", mandatory=True)
    # erin's own direct conversation with bob, but a body that is not UTF-8.
    ch.basic_publish("supersoniq.chat", "bob", b"\xff\xfe not utf-8", mandatory=True)
    eventually("four returns", lambda: (c.process_data_events(0.1), len(returned) >= 4)[1])
    codes = [m.reply_code for m in returned]
    print(f"# returns: {[(m.reply_code, m.reply_text) for m in returned]}")
    check(codes[:3] == [312, 312, 312], f"codes {codes}")
    check(codes[3] in (312, 406), f"invalid UTF-8: {codes[3]}")
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
    check(status == 200 and obj["queue"]["owner"] in ("alice", T.users["alice"]["id"]), f"{status} {obj}")


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


if __name__ == "__main__":
    sys.exit(H.run(sys.argv, TESTS, supersoniq_only=True))
