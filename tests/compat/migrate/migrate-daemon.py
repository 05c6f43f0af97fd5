#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted daemon for the migration steps, speaking on stdin/stdout (the
ext transport: test+ext://host/default?command=WRAPPER), for
test-migrate-wire.py.

Usage: migrate-daemon.py LOG ROLE FEATURES FAIL OPTIONS
  LOG       file that receives one line per call of interest:
            "<role> <procedure> <arguments in hex>"
  ROLE      the name the log gives this daemon (src, dst)
  FEATURES  comma-separated feature numbers it announces (libvirt's
            internal virDrvFeature values; "-" for none)
  FAIL      comma-separated procedure numbers it fails ("-" for none), with
            VIR_ERR_OPERATION_FAILED of VIR_FROM_QEMU
  OPTIONS   comma-separated: "nouri" (Prepare gives no URI), "paused" (the
            domain is paused), "nocookie" (Perform returns no cookie, as
            a daemon does for the unmanaged forms), "died" (a Finish told
            that the migration was cancelled reports an internal error of
            QEMU, as when the domain died on the destination, instead of
            VIR_ERR_MIGRATE_FINISH_OK), "-" for none

Replies carry cookies of their own ("cookie:<procedure>") so that the log
shows which step's cookie the client passed on.
"""
import struct
import sys

REMOTE_PROGRAM = 0x20008086
CALL, REPLY = 0, 1
OK, ERROR = 0, 1
UUID = bytes(range(16))

NAMES = {
    14: "get_xml_desc", 16: "get_info", 212: "get_state", 23: "lookup_by_name",
    60: "supports_feature", 61: "prepare", 62: "perform", 63: "finish",
    108: "prepare2", 109: "finish2", 213: "begin3", 214: "prepare3", 216: "perform3",
    217: "finish3", 218: "confirm3", 302: "begin3_params", 303: "prepare3_params",
    305: "perform3_params", 306: "finish3_params", 307: "confirm3_params",
}
# the features the migration code asks about (others are the connection's)
MIGRATION_FEATURES = {1, 3, 4, 5, 6, 7, 11, 12, 13}


def words(*values):
    return b"".join(struct.pack(">I", v & 0xFFFFFFFF) for v in values)


def hyper(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def string(text):
    data = text.encode() if isinstance(text, str) else text
    return words(len(data)) + data + b"\0" * (-len(data) % 4)


def optional(text):
    return words(0) if text is None else words(1) + string(text)


def domain(name):
    return string(name) + UUID + words(1)


def error(code, dom, message):
    # code, domain, message, level, dom, str1..3, int1, int2, net
    return words(code, dom, 1) + string(message) + words(2, 0, 0, 0, 0, 0, 0, 0)


def read_exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def first_string(args):
    (n,) = struct.unpack(">I", args[:4])
    return args[4:4 + n].decode()


def main():
    log_path, role, features, fail, options = sys.argv[1:6]
    features = set() if features == "-" else {int(x) for x in features.split(",")}
    fail = set() if fail == "-" else {int(x) for x in fail.split(",")}
    options = set() if options == "-" else set(options.split(","))
    state = 3 if "paused" in options else 1
    uri_out = None if "nouri" in options else "tcp://fake:49999"
    rd, wr = sys.stdin.buffer, sys.stdout.buffer
    log = open(log_path, "a")
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
        args = body[24:]
        if prog != REMOTE_PROGRAM or mtype != CALL:
            continue
        if proc in NAMES and not (proc == 60 and struct.unpack(">i", args[:4])[0]
                                  not in MIGRATION_FEATURES):
            log.write("%s %s %s\n" % (role, NAMES[proc], args.hex()))
            log.flush()
        cookie = string("cookie:%s" % NAMES.get(proc, proc))
        if "nocookie" in options and proc in (216, 305):
            cookie = string("")
        replies = {
            1: b"", 2: b"", 66: words(1, 0),
            60: words(1 if struct.unpack(">i", args[:4])[0] in features else 0)
            if proc == 60 else b"",
            110: string("test:///default"), 3: string("QEMU"),
            23: domain(first_string(args)) if proc == 23 else b"",
            16: words(state) + hyper(65536) + hyper(65536) + words(1) + hyper(0),
            212: words(state, 1),
            14: string("<domain type='qemu'><name>fake</name></domain>"),
            61: cookie + optional(uri_out), 62: b"", 63: domain("fake"),
            108: cookie + optional(uri_out), 109: domain("fake"),
            213: cookie + string("<domain type='qemu'><name>fake</name></domain>"),
            214: cookie + optional(uri_out), 216: cookie, 217: domain("fake") + cookie,
            218: b"",
            302: cookie + string("<domain type='qemu'><name>fake</name></domain>"),
            303: cookie + optional(uri_out), 305: cookie, 306: domain("fake") + cookie,
            307: b"",
        }
        cancelled = proc in (109, 217, 306) and struct.unpack(">i", args[-4:])[0] != 0
        if proc in fail:
            status, payload = ERROR, error(9, 10, "scripted failure of %s" % NAMES.get(proc))
        elif cancelled and "died" in options:
            status, payload = ERROR, error(1, 10, "the domain died on the destination")
        elif cancelled:
            # a destination that cleaned up: VIR_ERR_MIGRATE_FINISH_OK
            status, payload = ERROR, error(93, 10, "migration successfully aborted")
        elif proc in replies:
            status, payload = OK, replies[proc]
        else:
            status, payload = ERROR, error(3, 7, "no procedure %d here" % proc)
        reply = words(prog, vers, proc, REPLY, serial, status) + payload
        wr.write(words(len(reply) + 4) + reply)
        wr.flush()
        if proc == 2:
            return


if __name__ == "__main__":
    main()
