#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Record a session between a client and a libvirt daemon, for
tests/unit/test-proto.c (--replay; run by tests/unit/proto-replay.sh).

    record-session.py DAEMON_SOCKET PROXY_SOCKET OUT_PREFIX -- CLIENT ARGS...

Listens on PROXY_SOCKET, runs the client (which must connect there), relays
every byte to and from DAEMON_SOCKET, and writes what the client sent to
OUT_PREFIX.calls and what the daemon sent to OUT_PREFIX.replies. One client
connection; no descriptor passing.
"""
import os
import selectors
import socket
import subprocess
import sys


def main():
    daemon, proxy, prefix = sys.argv[1:4]
    client = sys.argv[sys.argv.index("--") + 1:]
    if os.path.exists(proxy):
        os.unlink(proxy)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(proxy)
    ls.listen(1)
    child = subprocess.Popen(client)
    c, _ = ls.accept()
    d = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    d.connect(daemon)
    out = {c: bytearray(), d: bytearray()}
    peer = {c: d, d: c}
    sel = selectors.DefaultSelector()
    sel.register(c, selectors.EVENT_READ)
    sel.register(d, selectors.EVENT_READ)
    open_ = 2
    while open_:
        for key, _ in sel.select():
            s = key.fileobj
            b = s.recv(65536)
            if not b:
                sel.unregister(s)
                open_ -= 1
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            out[s] += b
            peer[s].sendall(b)
    child.wait()
    with open(prefix + ".calls", "wb") as f:
        f.write(out[c])
    with open(prefix + ".replies", "wb") as f:
        f.write(out[d])
    os.unlink(proxy)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
