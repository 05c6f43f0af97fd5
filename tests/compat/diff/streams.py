#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The differential transcript of streams through unmodified python3-libvirt
# (docs/compat.md, "Streams"): non-blocking upload and download driven by
# stream event callbacks on libvirt's default event loop, the python
# binding's sparseSendAll / sparseRecvAll (over virStreamSendHole,
# virStreamRecvFlags(STOP_AT_HOLE) and virStreamRecvHole) with a file that
# has holes, and the callbacks' error cases, against the private storage
# daemon in $VRPC_DIFF_DIR. run-diff.py runs it on the system's
# libvirt.so.0 and on compat/ and compares the transcripts ("TAG: result";
# errors print code and domain, and the message when the daemon sent it).
import hashlib
import os
import sys
import time

import libvirt

D = os.environ["VRPC_DIFF_DIR"]
MiB = 1024 * 1024


def section(name):
    print("== " + name, flush=True)


def err(tag, e, daemon=False):
    s = "%s: ERR code=%d domain=%d" % (tag, e.get_error_code(), e.get_error_domain())
    if daemon:
        s += " msg=%s" % e.get_error_message()
    print(s, flush=True)


def call(tag, f, *a, daemon=False):
    try:
        r = f(*a)
        print("%s: %s" % (tag, r if not isinstance(r, bytes) else "%d bytes" % len(r)), flush=True)
        return r
    except libvirt.libvirtError as e:
        err(tag, e, daemon)
        return None


def pattern(n, seed=0):
    return bytes(((i * 131 + seed + (i >> 9)) & 0xFF) for i in range(n))


def run_loop(state, what, limit=60.0):
    """Run the default loop until state['done'] (bounded)."""
    end = time.monotonic() + limit
    while not state.get("done") and time.monotonic() < end:
        libvirt.virEventRunDefaultImpl()
    print("%s: %s" % (what, "done" if state.get("done") else "timed out"), flush=True)


libvirt.registerErrorHandler(lambda ctx, e: None, None)
libvirt.virEventRegisterDefaultImpl()
# a tick, so that each iteration of the loop ends within half a second
libvirt.virEventAddTimeout(500, lambda timer, opaque: None, None)
section("open")
conn = libvirt.open("storage+unix:///session?socket=%s/user/run/libvirt-sock" % D)
pool = conn.storagePoolCreateXML(
    "<pool type='dir'><name>pystreams</name><target><path>%s/user/pool/pystreams</path>"
    "</target></pool>" % D, libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
print("pool: created")


def new_vol(name, mib):
    return pool.createXML("<volume><name>%s</name><capacity unit='MiB'>%d</capacity>"
                          "<allocation>0</allocation><target><format type='raw'/></target>"
                          "</volume>" % (name, mib), 0)


def download_all(vol, offset=0, length=0):
    st = conn.newStream(0)
    vol.download(st, offset, length, 0)
    h = hashlib.sha256()
    n = [0]

    def sink(s, data, _):
        h.update(data)
        n[0] += len(data)
        return len(data)

    st.recvAll(sink, None)
    st.finish()
    return "size=%d sha256=%s" % (n[0], h.hexdigest()[:16])


# ---- non-blocking transfers driven by stream callbacks ----
section("callbacks")
vol = new_vol("cb.img", 4)
data = pattern(3 * MiB + 999)
st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
call("upload", vol.upload, st, 0, 0, 0)
up = {"off": 0, "done": False, "again": 0, "calls": 0}


def on_writable(stream, events, state):
    state["calls"] += 1
    if not events & libvirt.VIR_STREAM_EVENT_WRITABLE:
        return
    if state["off"] >= len(data):
        stream.eventRemoveCallback()
        stream.finish()
        state["done"] = True
        return
    try:
        n = stream.send(data[state["off"]:state["off"] + 65536])
    except libvirt.libvirtError as e:
        err("upload: send in the callback", e, True)
        stream.eventRemoveCallback()
        state["done"] = True
        return
    if n == -2:
        state["again"] += 1
        return
    state["off"] += n


call("upload: eventAddCallback(WRITABLE)", st.eventAddCallback,
     libvirt.VIR_STREAM_EVENT_WRITABLE, on_writable, up)
call("upload: eventAddCallback again", st.eventAddCallback,
     libvirt.VIR_STREAM_EVENT_WRITABLE, on_writable, up)
run_loop(up, "upload through the callback")
print("upload: sent %d of %d" % (up["off"], len(data)))
print("upload: the callback ran: %s" % (up["calls"] > 0))
call("upload: eventRemoveCallback after", st.eventRemoveCallback)
call("upload: eventUpdateCallback after", st.eventUpdateCallback, 0)
print("upload: contents %s" % download_all(vol))
print("upload: expected (%d bytes, zeros after) sha256=%s" % (len(data), hashlib.sha256(
    data + bytes(4 * MiB - len(data))).hexdigest()[:16]))

st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
call("download", vol.download, st, 0, 0, 0)
down = {"h": hashlib.sha256(), "n": 0, "done": False, "eof": False}


def on_readable(stream, events, state):
    if not events & libvirt.VIR_STREAM_EVENT_READABLE:
        return
    while True:
        try:
            b = stream.recv(100000)
        except libvirt.libvirtError as e:
            err("download: recv in the callback", e, True)
            stream.eventRemoveCallback()
            state["done"] = True
            return
        if b == -2:
            return
        if len(b) == 0:
            state["eof"] = True
            stream.eventRemoveCallback()
            stream.finish()
            state["done"] = True
            return
        state["h"].update(b)
        state["n"] += len(b)


# first registered for nothing, then updated to READABLE
call("download: eventAddCallback(0)", st.eventAddCallback, 0, on_readable, down)
call("download: eventUpdateCallback(READABLE)", st.eventUpdateCallback,
     libvirt.VIR_STREAM_EVENT_READABLE)
run_loop(down, "download through the callback")
print("download: end seen %s, size=%d sha256=%s" % (down["eof"], down["n"],
                                                     down["h"].hexdigest()[:16]))

# a callback that aborts the stream midway
st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
call("abort: download", vol.download, st, 0, 0, 0)
ab = {"done": False, "n": 0}


def on_abort(stream, events, state):
    try:
        b = stream.recv(1000)
    except libvirt.libvirtError as e:
        err("abort: recv", e, True)
        b = None
    if isinstance(b, bytes) and len(b) > 0:
        state["n"] += len(b)
        stream.eventRemoveCallback()
        try:
            stream.abort()
            print("abort: in the callback: 0")
        except libvirt.libvirtError as e:
            err("abort: in the callback", e, True)
        state["done"] = True


call("abort: eventAddCallback(READABLE)", st.eventAddCallback,
     libvirt.VIR_STREAM_EVENT_READABLE, on_abort, ab)
run_loop(ab, "abort through the callback")
print("abort: read %d" % ab["n"])
try:
    st.recv(10)
except libvirt.libvirtError as e:
    err("abort: recv after", e)
vol.delete(0)

# ---- sparse, with the python binding's helpers ----
section("sparse")
path = os.path.join(D, "pysparse.img")
with open(path, "wb") as f:
    f.write(pattern(65536))
    f.seek(MiB)
    f.write(pattern(100000, 7))
    f.seek(3 * MiB + 4096)
    f.write(pattern(10, 9))
    f.truncate(4 * MiB)
vol = new_vol("sparse.img", 4)
fd = os.open(path, os.O_RDONLY)


def in_data(stream, fd):
    cur = os.lseek(fd, 0, os.SEEK_CUR)
    if cur >= 4 * MiB:
        return (0, 0)
    try:
        d = os.lseek(fd, cur, os.SEEK_DATA)
    except OSError:
        d = 4 * MiB
    if d > cur:
        os.lseek(fd, cur, os.SEEK_SET)
        return (0, d - cur)
    h = os.lseek(fd, cur, os.SEEK_HOLE)
    os.lseek(fd, cur, os.SEEK_SET)
    return (1, h - cur)


def skip(stream, length, fd):
    os.lseek(fd, length, os.SEEK_CUR)
    return 0


def read(stream, nbytes, fd):
    return os.read(fd, nbytes)


st = conn.newStream(0)
call("upload sparse", vol.upload, st, 0, 0, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
call("sparseSendAll", st.sparseSendAll, read, in_data, skip, fd)
call("finish", st.finish)
os.close(fd)
os.unlink(path)

seq = []
h = hashlib.sha256()


def rhole(stream, length, _):
    seq.append("hole:%d" % length)
    h.update(bytes(length))
    return 0


def rdata(stream, buf, _):
    if seq and seq[-1].startswith("data:"):
        seq[-1] = "data:%d" % (int(seq[-1][5:]) + len(buf))
    else:
        seq.append("data:%d" % len(buf))
    h.update(buf)
    return len(buf)


st = conn.newStream(0)
call("download sparse", vol.download, st, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
call("sparseRecvAll", st.sparseRecvAll, rdata, rhole, None)
call("finish (2)", st.finish)
print("sparse: sequence %s sha256=%s" % (" ".join(seq), h.hexdigest()[:16]))
print("plain: contents %s" % download_all(vol))

st = conn.newStream(0)
call("by hand: download sparse", vol.download, st, 1000, 3 * MiB,
     libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
seq = []
while True:
    b = st.recvFlags(70000, libvirt.VIR_STREAM_RECV_STOP_AT_HOLE)
    if b == -3:
        seq.append("hole:%d" % st.recvHole())
        continue
    if not isinstance(b, bytes) or len(b) == 0:
        break
    if seq and seq[-1].startswith("data:"):
        seq[-1] = "data:%d" % (int(seq[-1][5:]) + len(b))
    else:
        seq.append("data:%d" % len(b))
print("by hand: sequence %s" % " ".join(seq))
call("by hand: recvHole at the end", st.recvHole)
call("by hand: finish", st.finish)
vol.delete(0)

section("close")
call("pool destroy", pool.destroy)
call("close", conn.close)

maps = os.environ.get("VRPC_DIFF_MAPS")
if maps:
    with open("/proc/self/maps") as f, open(maps, "w") as out:
        out.write("".join(sorted({ln.split()[-1] + "\n" for ln in f
                                  if "/libvirt" in ln and ".so" in ln})))
