# SPDX-License-Identifier: GPL-3.0-or-later
"""A minimal AMQP 0-9-1 client written from the specification, for what a
library hides: heartbeats we choose not to send, pipelined publishes with
confirms (multiple acks), channel floods and frames larger than agreed.
Every read is bounded by a deadline."""

import socket
import struct
import time

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = 0xCE

CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
BASIC_PUBLISH = (60, 40)
BASIC_ACK = (60, 80)
BASIC_NACK = (60, 120)
CONFIRM_SELECT = (85, 10)
CONFIRM_SELECT_OK = (85, 11)


class ProtocolError(Exception):
    pass


class Closed(Exception):
    """The peer closed the TCP connection (EOF or reset)."""


class ConnectionClosedByPeer(Exception):
    def __init__(self, code, text):
        super().__init__(f"connection.close {code} {text!r}")
        self.code, self.text = code, text


class ChannelClosedByPeer(Exception):
    def __init__(self, channel, code, text):
        super().__init__(f"channel.close on {channel}: {code} {text!r}")
        self.channel, self.code, self.text = channel, code, text


def shortstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!B", len(b)) + b


def longstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!I", len(b)) + b


def table(d):
    out = b""
    for k, v in d.items():
        out += shortstr(k)
        if isinstance(v, bool):
            out += b"t" + struct.pack("!B", v)
        elif isinstance(v, int):
            out += b"l" + struct.pack("!q", v)
        elif isinstance(v, float):
            out += b"d" + struct.pack("!d", v)
        elif isinstance(v, dict):
            out += b"F" + table(v)
        else:
            out += b"S" + longstr(v)
    return struct.pack("!I", len(out)) + out


def read_shortstr(data, off):
    n = data[off]
    return data[off + 1:off + 1 + n].decode("utf-8", "replace"), off + 1 + n


class Raw:
    def __init__(self, host, port, timeout=15.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout
        self.frame_max = 131072
        self.heartbeats_seen = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def frame(self, ftype, channel, payload):
        return struct.pack("!BHI", ftype, channel, len(payload)) + payload + bytes([FRAME_END])

    def method_frame(self, channel, cm, args=b""):
        return self.frame(FRAME_METHOD, channel, struct.pack("!HH", *cm) + args)

    def send_method(self, channel, cm, args=b""):
        self.send(self.method_frame(channel, cm, args))

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no data from the server in time")
        except (ConnectionResetError, BrokenPipeError):
            raise Closed("connection reset")
        if not data:
            raise Closed("EOF")
        self.buf += data

    def read_exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        head = self.read_exact(7, deadline)
        ftype, channel, size = struct.unpack("!BHI", head)
        payload = self.read_exact(size, deadline)
        end = self.read_exact(1, deadline)
        if end[0] != FRAME_END:
            raise ProtocolError(f"frame end {end[0]:#x}")
        return ftype, channel, payload

    def read_method(self, timeout=None, skip_heartbeats=True):
        """The next method frame as (channel, (class, method), args);
        a connection.close or channel.close from the peer raises (after
        answering it)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            ftype, channel, payload = self.read_frame(max(0.01, deadline - time.monotonic()))
            if ftype == FRAME_HEARTBEAT:
                self.heartbeats_seen += 1
                if skip_heartbeats:
                    continue
                return channel, None, payload
            if ftype != FRAME_METHOD:
                raise ProtocolError(f"frame type {ftype} where a method was due")
            cm = struct.unpack("!HH", payload[:4])
            args = payload[4:]
            if cm == CONNECTION_CLOSE:
                code = struct.unpack("!H", args[:2])[0]
                text, _ = read_shortstr(args, 2)
                try:
                    self.send_method(0, CONNECTION_CLOSE_OK)
                except OSError:
                    pass
                raise ConnectionClosedByPeer(code, text)
            if cm == CHANNEL_CLOSE:
                code = struct.unpack("!H", args[:2])[0]
                text, _ = read_shortstr(args, 2)
                self.send_method(channel, CHANNEL_CLOSE_OK)
                raise ChannelClosedByPeer(channel, code, text)
            return channel, cm, args

    def expect(self, cm, timeout=None):
        channel, got, args = self.read_method(timeout)
        if got != cm:
            raise ProtocolError(f"got method {got}, expected {cm}")
        return channel, args

    def handshake(self, user, password, vhost="/", heartbeat=0, frame_max=131072,
                  channel_max=0):
        """Protocol header to open-ok. Returns the server's tune values
        (channel_max, frame_max, heartbeat); we answer with the smaller of
        each where ours is not 0."""
        self.send(b"AMQP\x00\x00\x09\x01")
        self.expect(CONNECTION_START)
        self.send_method(0, CONNECTION_START_OK,
                         table({"product": "ssq-amqp-raw",
                                "capabilities": {"authentication_failure_close": True}})
                         + shortstr("PLAIN") + longstr(f"\0{user}\0{password}") + shortstr("en_US"))
        _, args = self.expect(CONNECTION_TUNE)
        s_channel_max, s_frame_max, s_heartbeat = struct.unpack("!HIH", args[:8])

        def pick(ours, theirs):
            if ours == 0 or theirs == 0:
                return max(ours, theirs)
            return min(ours, theirs)

        self.channel_max = pick(channel_max, s_channel_max) or 65535
        self.frame_max = pick(frame_max, s_frame_max)
        self.send_method(0, CONNECTION_TUNE_OK,
                         struct.pack("!HIH", self.channel_max, self.frame_max, heartbeat))
        self.send_method(0, CONNECTION_OPEN, shortstr(vhost) + shortstr("") + b"\x00")
        self.expect(CONNECTION_OPEN_OK)
        return s_channel_max, s_frame_max, s_heartbeat

    def open_channel(self, channel):
        self.send_method(channel, CHANNEL_OPEN, shortstr(""))
        self.expect(CHANNEL_OPEN_OK)

    def queue_declare(self, channel, name, durable=False, arguments=None):
        bits = 0x02 if durable else 0
        self.send_method(channel, QUEUE_DECLARE, struct.pack("!H", 0) + shortstr(name)
                         + bytes([bits]) + table(arguments or {}))
        _, args = self.expect(QUEUE_DECLARE_OK)
        name, off = read_shortstr(args, 0)
        return name

    def confirm_select(self, channel):
        self.send_method(channel, CONFIRM_SELECT, b"\x00")
        self.expect(CONFIRM_SELECT_OK)

    def publish_frames(self, channel, exchange, routing_key, body, persistent=False,
                       mandatory=False, headers=None):
        """The three frames of a basic.publish (body in one frame: keep it
        under frame_max)."""
        out = self.method_frame(channel, BASIC_PUBLISH,
                                struct.pack("!H", 0) + shortstr(exchange) + shortstr(routing_key)
                                + bytes([0x01 if mandatory else 0]))
        flags = (0x2000 if headers is not None else 0) | (0x1000 if persistent else 0)
        props = struct.pack("!H", flags)
        if headers is not None:
            props += table(headers)
        if persistent:
            props += b"\x02"
        out += self.frame(FRAME_HEADER, channel, struct.pack("!HHQ", 60, 0, len(body)) + props)
        if body:
            out += self.frame(FRAME_BODY, channel, body)
        return out

    def connection_close(self, code=200, text="bye"):
        try:
            self.send_method(0, CONNECTION_CLOSE, struct.pack("!H", code) + shortstr(text)
                             + struct.pack("!HH", 0, 0))
            self.expect(CONNECTION_CLOSE_OK, timeout=5)
        except (OSError, Closed, TimeoutError, ProtocolError, ConnectionClosedByPeer):
            pass
        self.close()

    def wait_closed(self, timeout):
        """Reads until the peer closes; returns the connection.close code it
        sent first (or None for a bare TCP close). Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.read_method(max(0.01, deadline - time.monotonic()))
            except ConnectionClosedByPeer as e:
                return e.code
            except ChannelClosedByPeer:
                continue
            except Closed:
                return None
