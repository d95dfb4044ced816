# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP/2 frames and HPACK literals built by hand, for what no polite
client sends: test-http2.py's raw client and tests/fuzz/h2-seeds.py."""

import struct


def hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """A literal field without indexing, new name, no Huffman."""
    name, value = name.encode(), value.encode()
    return (b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value)


def frame(type_, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([type_, flags]) + \
        struct.pack(">I", stream) + payload
