#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted daemon "newer" than the client's protocol files, speaking on
stdin/stdout (for the ext transport: test+ext:///default?command=...).

Its replies carry values that the .x files the client was generated from do
not list: authentication types 3, 99 and -2^31 after NONE, a domain state
and reason no release defines, and a typed parameter of type 8 (no arm in
remote_typed_param_value). With NEWER_DAEMON_AUTH=only-new in the
environment, AUTH_LIST offers type 3 alone.
"""
import os
import struct
import sys

REMOTE_PROGRAM = 0x20008086
CALL, REPLY = 0, 1
OK, ERROR = 0, 1
CONNECT_OPEN, CONNECT_CLOSE = 1, 2
CONNECT_GET_HOSTNAME, CONNECT_SUPPORTS_FEATURE = 59, 60
AUTH_LIST = 66
DOMAIN_GET_STATE = 212
NODE_GET_MEMORY_PARAMETERS = 289
ERR_NO_SUPPORT, FROM_RPC = 3, 7


def words(*values):
    return b"".join(struct.pack(">I", v & 0xFFFFFFFF) for v in values)


def xdr_string(text):
    data = text.encode()
    return words(len(data)) + data + b"\0" * (-len(data) % 4)


def remote_error(message):
    # code, domain, message (present), level, dom, str1..3, int1, int2, net
    return (words(ERR_NO_SUPPORT, FROM_RPC, 1) + xdr_string(message) +
            words(2, 0, 0, 0, 0, 0, 0, 0))


def answer(proc, only_new_auth):
    """(status, payload) for a call of the remote program."""
    if proc in (CONNECT_OPEN, CONNECT_CLOSE):
        return OK, b""
    if proc == AUTH_LIST:
        types = [3] if only_new_auth else [0, 3, 99, -2**31]
        return OK, words(len(types), *types)
    if proc == CONNECT_SUPPORTS_FEATURE:
        return OK, words(0)
    if proc == CONNECT_GET_HOSTNAME:
        return OK, xdr_string("newer")
    if proc == DOMAIN_GET_STATE:
        return OK, words(9, 42)
    if proc == NODE_GET_MEMORY_PARAMETERS:
        # params<>: one, named shm_new, of type 8 (1 as a hyper); nparams 1
        return OK, words(1) + xdr_string("shm_new") + words(8, 0, 1, 1)
    return ERROR, remote_error("unknown procedure %d" % proc)


def read_exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main():
    only_new_auth = os.environ.get("NEWER_DAEMON_AUTH") == "only-new"
    rd, wr = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = read_exactly(rd, 4)
        if head is None:
            return
        (length,) = struct.unpack(">I", head)
        if length < 28 or length > 1 << 20:
            return
        body = read_exactly(rd, length - 4)
        if body is None:
            return
        prog, vers, proc, mtype, serial, _ = struct.unpack(">6I", body[:24])
        if prog != REMOTE_PROGRAM or mtype != CALL:
            continue  # keepalive and anything else: not answered
        status, payload = answer(proc, only_new_auth)
        reply = words(prog, vers, proc, REPLY, serial, status) + payload
        wr.write(words(len(reply) + 4) + reply)
        wr.flush()
        if proc == CONNECT_CLOSE:
            return


if __name__ == "__main__":
    main()
