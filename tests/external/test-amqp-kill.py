#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Publisher confirms against a SIGKILL: a raw AMQP client publishes
persistent messages to a durable queue with confirms on, as fast as it
can; the broker is SIGKILLed mid-stream and started again on the same data
directory. Every confirmed message must be there exactly once (nothing
else twice either). A consumer holding deliveries it had not acked when
the broker died gets them again, with redelivered set. TAP on stdout.

By default the real supersoniq-server (as amqp_harness.py starts it);
with --rabbitmq, a throwaway RabbitMQ (rabbitmq.py), whose beam is the
process killed: how the test was checked.
"""

import os
import sys

try:
    import pika
except ImportError:
    if os.path.exists("/usr/bin/python3") and not os.environ.get("SSQ_PIKA_REEXEC"):
        os.environ["SSQ_PIKA_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("1..0 # SKIP python3-pika not installed")
    sys.exit(0)

import shutil
import signal
import struct
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import amqp_harness as P  # noqa: E402 (pika, or a skip)
check, Fail = P.check, P.Fail
import amqp_raw  # noqa: E402
import rabbitmq  # noqa: E402

STREAM_Q = "kill.stream"
UNACKED_Q = "kill.unacked"
UNACKED_N = 20
PREFETCH = 5
CONFIRMED_BEFORE_KILL = 3000


class Broker:
    """Started, SIGKILLed and started again on the same data."""

    def __init__(self, use_rabbitmq):
        self.use_rabbitmq = use_rabbitmq
        self.server = None
        self.rabbit = None
        self.dir = None

    def start(self):
        if self.use_rabbitmq:
            if self.dir is None:
                self.dir = tempfile.mkdtemp(prefix="ssq-kill-rabbitmq-")
            self.rabbit = rabbitmq.RabbitMQ(directory=self.dir)
            self.rabbit.start()
            P.T.supersoniq = False
            P.T.host, P.T.port = self.rabbit.host, self.rabbit.port
            P.T.rabbit_user, P.T.rabbit_password = "guest", "guest"
            return f"RabbitMQ at {P.T.host}:{P.T.port}"
        first = self.server is None
        if first:
            self.server = P.AmqpServer()
            P.T.server = self.server
        self.server.start()
        P.T.host, P.T.port = self.server.amqp_host, self.server.amqp_port
        if first:
            P.register("alice")
        return f"SupersoniQ, AMQP on {P.T.host}:{P.T.port}"

    def kill(self):
        if self.use_rabbitmq:
            beams = [pid for pid in self.rabbit._our_pids()
                     if open(f"/proc/{pid}/comm").read().strip() == "beam.smp"]
            check(beams, "no beam.smp to kill")
            for pid in beams:
                os.kill(pid, signal.SIGKILL)
            # Its epmd and helpers go too, as after a machine's crash.
            time.sleep(0.2)
            for pid in self.rabbit._our_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if self.rabbit.proc is not None:
                self.rabbit.proc.wait(10)
        else:
            self.server.proc.kill()
            self.server.proc.wait(10)

    def finish(self):
        if self.rabbit is not None:
            self.rabbit.stop()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self.server is not None:
            status = self.server.stop() if self.server.alive() else None
            self.server.cleanup()
            return status
        return None


B = None
S = {}


def t_prepare():
    c = P.connect()
    ch = c.channel()
    for q in (STREAM_Q, UNACKED_Q):
        ch.queue_declare(q, durable=True)
    ch.confirm_delivery()
    for i in range(UNACKED_N):
        ch.basic_publish("", UNACKED_Q, f"u{i}".encode(), pika.BasicProperties(delivery_mode=2))
    # A consumer takes PREFETCH of them and never acks.
    cc = P.connect()
    cch = cc.channel()
    cch.basic_qos(prefetch_count=PREFETCH)
    got = []
    cch.basic_consume(UNACKED_Q, lambda _c, m, p, b: got.append(b.decode()))
    P.eventually("deliveries", lambda: (cc.process_data_events(0.1), len(got) >= PREFETCH)[1])
    P.pump(cc, 0.3)
    check(len(got) == PREFETCH, f"{len(got)} delivered with prefetch {PREFETCH}")
    S["unacked"] = got
    S["consumer"] = cc
    print(f"# delivered, not acked: {got}")


def t_kill_mid_stream():
    r = P.raw()
    r.open_channel(1)
    r.confirm_select(1)
    sent = [0]
    stop = threading.Event()

    def sender():
        # Batches of 50 persistent publishes until the connection dies.
        try:
            while not stop.is_set():
                n = sent[0]
                out = b"".join(r.publish_frames(1, "", STREAM_Q, f"s{n + i}".encode(), persistent=True)
                               for i in range(1, 51))
                r.send(out)
                sent[0] = n + 50
        except OSError:
            pass

    th = threading.Thread(target=sender, daemon=True)
    th.start()
    confirmed = set()
    nacked = set()
    killed = False
    t0 = time.monotonic()
    try:
        while True:
            check(time.monotonic() - t0 < 120, f"only {len(confirmed)} confirms in 120 s")
            try:
                _, cm, args = r.read_method(timeout=30)
            except (amqp_raw.Closed, OSError, amqp_raw.ConnectionClosedByPeer):
                check(killed, f"connection lost before the kill, {len(confirmed)} confirmed")
                break
            except TimeoutError:
                if killed:
                    break
                raise
            check(cm in (amqp_raw.BASIC_ACK, amqp_raw.BASIC_NACK), f"method {cm}")
            tag, bits = struct.unpack("!QB", args[:9])
            done = confirmed | nacked
            seqs = [s for s in range(1, tag + 1) if s not in done] if bits & 1 else [tag]
            for s in seqs:
                check(s not in done, f"seq {s} confirmed twice")
                (confirmed if cm == amqp_raw.BASIC_ACK else nacked).add(s)
            if not killed and len(confirmed) >= CONFIRMED_BEFORE_KILL:
                B.kill()
                killed = True
                print(f"# killed with {len(confirmed)} confirmed, {sent[0]} sent "
                      f"({time.monotonic() - t0:.2f} s)")
    finally:
        stop.set()
        r.close()
        th.join(10)
    check(not nacked, f"{len(nacked)} nacks")
    S["confirmed"] = confirmed
    S["sent"] = sent[0]
    print(f"# {len(confirmed)} confirmed in all, {sent[0]} sent")


def t_restart():
    try:
        S["consumer"].close()
    except Exception:
        pass
    P.OPEN.clear()
    print(f"# {B.start()}")


def t_confirmed_there_once():
    c = P.connect()
    ch = c.channel()
    n = ch.queue_declare(STREAM_Q, durable=True, passive=True).method.message_count
    got = []
    ch.basic_qos(prefetch_count=1000)
    ch.basic_consume(STREAM_Q, lambda _c, m, p, b: got.append(int(b[1:])), auto_ack=True)
    P.eventually(f"{n} messages", lambda: (c.process_data_events(0.1), len(got) >= n)[1], timeout=60)
    P.pump(c, 0.3)
    seen = set(got)
    dups = len(got) - len(seen)
    missing = sorted(S["confirmed"] - seen)
    print(f"# after restart: {len(got)} messages, {len(seen - S['confirmed'])} unconfirmed "
          f"among them, {dups} duplicates, {len(missing)} confirmed missing")
    check(not missing, f"confirmed and lost: {missing[:20]}...")
    check(dups == 0, f"{dups} duplicates")
    check(seen <= set(range(1, S["sent"] + 1)), "messages never sent")


def t_unacked_redelivered():
    ch = P.channel()
    got = P.get_all(ch, UNACKED_Q)
    bodies = [b.decode() for _, _, b in got]
    check(sorted(bodies) == sorted(f"u{i}" for i in range(UNACKED_N)),
          f"{len(bodies)} messages: {bodies}")
    flags = {b.decode(): m.redelivered for m, _, b in got}
    print(f"# redelivered: {[k for k, v in flags.items() if v]}")
    for b in S["unacked"]:
        check(flags[b], f"{b} was delivered before the kill and came back without redelivered")


def t_clean_stop():
    if B.use_rabbitmq:
        return
    P.close_all()
    status = B.server.stop()
    check(status == 0, f"exit status {status}")


TESTS = [
    ("durable queues, 20 persistent messages, 5 delivered and not acked", t_prepare),
    ("persistent publishes with confirms, SIGKILL mid-stream", t_kill_mid_stream),
    ("start again on the same data directory", t_restart),
    ("every confirmed message is there exactly once", t_confirmed_there_once),
    ("deliveries not acked before the kill come again with redelivered", t_unacked_redelivered),
    ("server exits 0 on SIGTERM", t_clean_stop),
]


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    global B
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    print(f"1..{len(TESTS)}", flush=True)
    B = Broker("--rabbitmq" in argv)
    failed = 0
    try:
        try:
            print(f"# {B.start()}", flush=True)
            start_error = None
        except Exception as e:
            start_error = e
        for n, (name, fn) in enumerate(TESTS, 1):
            if start_error is not None or (failed and fn is not t_clean_stop):
                why = f"not started: {start_error}" if start_error else "an earlier step failed"
                print(f"not ok {n} - {name}\n# {why}", flush=True)
                failed += 1
                continue
            try:
                fn()
                print(f"ok {n} - {name}", flush=True)
            except Exception as e:
                failed += 1
                print(f"not ok {n} - {name}")
                for line in traceback.format_exception(e)[-6:]:
                    for sub in line.rstrip().splitlines():
                        print(f"# {sub}")
                sys.stdout.flush()
        if failed and B.server is not None:
            print("# server log tail:")
            for line in B.server.tail():
                print(f"#   {line}")
    finally:
        P.close_all()
        B.finish()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
