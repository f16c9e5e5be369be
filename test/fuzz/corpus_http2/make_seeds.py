#!/usr/bin/env python3
"""Writes the handcrafted seeds of fuzz_http2 into this directory (run: python3 make_seeds.py).

Each seed is one mode byte (bit 0: client side, bit 1: prepend the client preface for the server
side, bits 2-7: piece size / 7, 0 = all at once) followed by HTTP/2 frames. Header blocks use
HPACK's static table and literals without indexing (RFC 7541), so no dynamic state is needed.
"""
import os
import struct

DATA, HEADERS, PRIORITY, RST, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def lit(name, value):  # literal without indexing, new name
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def lit_idx(index, value):  # literal without indexing, indexed name (index < 15)
    return bytes([index, len(value)]) + value


GET = b"\x82\x86\x84" + lit_idx(1, b"svc.test")  # :method GET, :scheme http, :path /, :authority
POST_GRPC = (b"\x83\x86" + lit_idx(4, b"/helloworld.Greeter/SayHello") + lit_idx(1, b"svc.test")
             + lit(b"content-type", b"application/grpc") + lit(b"te", b"trailers"))
MESSAGE = b"\x00\x00\x00\x00\x03abc"
SETTINGS_BODY = struct.pack(">HI", 3, 100) + struct.pack(">HI", 4, 65535)

seeds = {
    "server-get": bytes([0x02]) + frame(SETTINGS, 0, 0, SETTINGS_BODY) + frame(HEADERS, END_HEADERS | END_STREAM, 1, GET),
    "server-grpc-unary": bytes([0x02]) + frame(SETTINGS, 0, 0) + frame(HEADERS, END_HEADERS, 1, POST_GRPC)
        + frame(DATA, 0, 1, MESSAGE) + frame(HEADERS, END_HEADERS | END_STREAM, 1, lit(b"x-trailer", b"1")),
    "server-control-frames": bytes([0x02]) + frame(SETTINGS, 0, 0) + frame(SETTINGS, ACK, 0)
        + frame(PING, 0, 0, b"12345678") + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1000))
        + frame(HEADERS, END_HEADERS, 3, POST_GRPC) + frame(PRIORITY, 0, 3, struct.pack(">IB", 0, 16))
        + frame(RST, 0, 3, struct.pack(">I", 8)) + frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0)),
    "server-continuation-pieces": bytes([0x02 | (3 << 2)]) + frame(SETTINGS, 0, 0)
        + frame(HEADERS, 0, 1, POST_GRPC[:10]) + frame(CONTINUATION, END_HEADERS, 1, POST_GRPC[10:])
        + frame(DATA, END_STREAM, 1, MESSAGE * 3),
    "server-no-preface": bytes([0x00]) + PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, END_HEADERS, 7, GET)
        + frame(DATA, 0, 7, b"x" * 100) + frame(DATA, END_STREAM, 7, b""),
    "client-grpc-response": bytes([0x01]) + frame(SETTINGS, 0, 0, SETTINGS_BODY) + frame(SETTINGS, ACK, 0)
        + frame(HEADERS, END_HEADERS, 1, b"\x88" + lit(b"content-type", b"application/grpc"))
        + frame(DATA, 0, 1, MESSAGE) + frame(HEADERS, END_HEADERS | END_STREAM, 1, lit(b"grpc-status", b"0"))
        + frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 100000)),
    "client-informational-goaway": bytes([0x01 | (2 << 2)]) + frame(SETTINGS, 0, 0)
        + frame(HEADERS, END_HEADERS, 1, lit_idx(8, b"100")) + frame(HEADERS, END_HEADERS | END_STREAM, 3, b"\x89")
        + frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)) + frame(RST, 0, 1, struct.pack(">I", 7)),
}

here = os.path.dirname(os.path.abspath(__file__))
for name, data in seeds.items():
    with open(os.path.join(here, "seed-" + name), "wb") as f:
        f.write(data)
