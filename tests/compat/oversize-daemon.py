#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted daemon whose replies overflow what the caller asked for,
speaking on stdin/stdout (for the ext transport:
test+ext:///default?command=...), for test-compat-bounds.

Every getter of compat/getters.c that fills a caller-sized buffer gets one
item more than the room the test gives it (or a name or label that does
not fit its field); the library must refuse each reply with an error
rather than write past the buffer.
"""
import struct
import sys

REMOTE_PROGRAM = 0x20008086
CALL, REPLY = 0, 1
OK, ERROR = 0, 1

UUID = bytes(range(16))


def words(*values):
    return b"".join(struct.pack(">I", v & 0xFFFFFFFF) for v in values)


def hyper(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def string(text):
    data = text.encode() if isinstance(text, str) else text
    return words(len(data)) + data + b"\0" * (-len(data) % 4)


opaque = string


def typed_int(field, value):
    return string(field) + words(1, value)  # VIR_TYPED_PARAM_INT


def char_array(text):
    # `char x<N>`: every char a 4-byte XDR int
    return words(len(text)) + b"".join(words(ord(ch)) for ch in text)


def remote_error(message):
    # code (NO_SUPPORT), domain (RPC), message, level, dom, str1..3, int1, int2, net
    return words(3, 7, 1) + string(message) + words(2, 0, 0, 0, 0, 0, 0, 0)


LONG = "n" * 80  # no room for its terminator in an 80-byte field

REPLIES = {
    1: [b""],  # CONNECT_OPEN
    2: [b""],  # CONNECT_CLOSE
    66: [words(1, 0)],  # AUTH_LIST: none
    60: [words(1)],  # CONNECT_SUPPORTS_FEATURE
    110: [string("test:///default")],  # CONNECT_GET_URI
    3: [string("Test")],  # CONNECT_GET_TYPE
    23: [string("fake") + UUID + words(1)],  # DOMAIN_LOOKUP_BY_NAME
    # NODE_GET_CELLS_FREE_MEMORY: 3 cells for room for 2
    101: [words(3) + hyper(1) + hyper(2) + hyper(3)],
    # DOMAIN_MEMORY_STATS: 3 stats for room for 2
    159: [words(3) + words(0) + hyper(1) + words(1) + hyper(2) + words(2) + hyper(3)],
    # DOMAIN_GET_VCPUS: 2 vCPUs for room for 1; then 1 vCPU with 4 map bytes for 1
    20: [words(2) + (words(0, 1) + hyper(5) + words(0)) * 2 + opaque(b"\xff\xff"),
         words(1) + words(0, 1) + hyper(5) + words(0) + opaque(b"\xff" * 4)],
    # DOMAIN_GET_BLKIO_PARAMETERS: 2 for room for 1; then a name too long
    206: [words(2) + typed_int("weight", 1) + typed_int("other", 2) + words(2),
          words(2) + string("a") + words(7) + string("a string") + typed_int(LONG, 2)
          + words(2)],
    # NODE_GET_CPU_STATS: 2 for room for 1; then a name too long
    227: [words(2) + string("user") + hyper(1) + string("kernel") + hyper(2) + words(2),
          words(1) + string(LONG) + hyper(1) + words(1)],
    # DOMAIN_GET_SECURITY_LABEL: 4097 chars, no terminator
    121: [char_array("L" * 4097) + words(1)],
    # DOMAIN_GET_CPU_STATS: 3 per CPU for room for 2
    262: [words(3) + typed_int("a", 1) + typed_int("b", 2) + typed_int("c", 3) + words(3)],
    # CONNECT_LIST_DOMAINS: 3 for room for 2
    37: [words(3, 1, 2, 3)],
    # DOMAIN_GET_DISK_ERRORS: 2 for room for 1
    263: [words(2) + string("vda") + words(1) + string("vdb") + words(2) + words(2)],
    # DOMAIN_BLOCK_PEEK: 16 bytes for 8
    103: [opaque(b"\x11" * 16)],
    # DOMAIN_GET_VCPU_PIN_INFO: 2 maps for room for 1
    230: [opaque(b"\x01\x01") + words(2)],
    # DOMAIN_GET_EMULATOR_PIN_INFO: 3 bytes for 2
    280: [opaque(b"\x01\x02\x03") + words(1)],
}


def read_exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main():
    rd, wr = sys.stdin.buffer, sys.stdout.buffer
    seen = {}
    while True:
        head = read_exactly(rd, 4)
        if head is None:
            return
        (length,) = struct.unpack(">I", head)
        if length < 28 or length > 1 << 24:
            return
        body = read_exactly(rd, length - 4)
        if body is None:
            return
        prog, vers, proc, mtype, serial, _ = struct.unpack(">6I", body[:24])
        if prog != REMOTE_PROGRAM or mtype != CALL:
            continue
        replies = REPLIES.get(proc)
        if replies:
            k = seen.get(proc, 0)
            seen[proc] = k + 1
            status, payload = OK, replies[min(k, len(replies) - 1)]
        else:
            status, payload = ERROR, remote_error("no procedure %d here" % proc)
        reply = words(prog, vers, proc, REPLY, serial, status) + payload
        wr.write(words(len(reply) + 4) + reply)
        wr.flush()
        if proc == 2:
            return


if __name__ == "__main__":
    main()
