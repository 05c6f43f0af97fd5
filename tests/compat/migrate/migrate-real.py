#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Real migrations of a QEMU guest (software emulation) between two private
session daemons on this machine (test-migrate-real.sh starts them, with
distinct host UUIDs), through unmodified python3-libvirt: run once on the
system's libvirt.so.0 and once on ours; the two transcripts must be the
same. Every step prints what it left behind: where the domain is, its state
and reason, whether it is persistent, and the error code and domain of the
refused calls (the messages are each library's own words).

Usage: migrate-real.py SRC-SOCKET DST-SOCKET NAME
"""
import os
import socket
import sys

import libvirt

L = libvirt


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tcp():
    return "tcp://127.0.0.1:%d" % free_port()


def counts():
    return len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))


def main():
    src_sock, dst_sock, name = sys.argv[1:4]
    suri = "qemu+unix:///session?socket=" + src_sock
    duri = "qemu+unix:///session?socket=" + dst_sock
    xml = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           "<devices><serial type='pty'><target port='0'/></serial></devices></domain>" % name)
    L.registerErrorHandler(lambda ctx, err: None, None)
    before = counts()
    conns = {"src": L.open(suri), "dst": L.open(duri)}
    s, d = conns["src"], conns["dst"]

    def where(step):
        out = []
        for side in ("src", "dst"):
            try:
                dom = conns[side].lookupByName(name)
                st = dom.state()
                out.append("%s=%s/%s%s" % (side, st[0], st[1],
                                           " persistent" if dom.isPersistent() else ""))
            except L.libvirtError as e:
                out.append("%s=none(%d/%d)" % (side, e.get_error_code(), e.get_error_domain()))
        print("%s: %s" % (step, " ".join(out)))
        sys.stdout.flush()

    def attempt(step, fn):
        try:
            r = fn()
            res = "ok " + (r.name() if hasattr(r, "name") else str(r))
        except L.libvirtError as e:
            res = "error %d/%d" % (e.get_error_code(), e.get_error_domain())
            print("#msg %s: %s" % (step, e.get_error_message()), file=sys.stderr)
        print("%s -> %s" % (step, res))
        where(step)

    live = L.VIR_MIGRATE_LIVE
    p2p = L.VIR_MIGRATE_PEER2PEER
    s.createXML(xml, 0)
    where("started on src")
    attempt("migrate3 src->dst (managed direct, params)",
            lambda: s.lookupByName(name).migrate3(d, {L.VIR_MIGRATE_PARAM_URI: tcp()}, live))
    attempt("migrate dst->src (managed direct, v3)",
            lambda: d.lookupByName(name).migrate(s, live, None, tcp(), 0))
    s.lookupByName(name).suspend()
    attempt("migrate3 paused src->dst",
            lambda: s.lookupByName(name).migrate3(d, {L.VIR_MIGRATE_PARAM_URI: tcp()}, live))
    d.lookupByName(name).resume()
    where("resumed on dst")
    attempt("toURI3 dst->src (peer-to-peer)",
            lambda: d.lookupByName(name).migrateToURI3(
                suri, {L.VIR_MIGRATE_PARAM_URI: tcp()}, live | p2p))
    attempt("toURI3 src->dst (peer-to-peer, tunnelled)",
            lambda: s.lookupByName(name).migrateToURI3(duri, {}, live | p2p | L.VIR_MIGRATE_TUNNELLED))
    # refused, whatever the daemons can do
    dom = d.lookupByName(name)
    attempt("migrate3 with the peer-to-peer flag",
            lambda: dom.migrate3(s, {L.VIR_MIGRATE_PARAM_URI: tcp()}, live | p2p))
    attempt("migrate tunnelled without peer-to-peer",
            lambda: dom.migrate(s, live | L.VIR_MIGRATE_TUNNELLED, None, None, 0))
    attempt("toURI3 to this host's own URI",
            lambda: dom.migrateToURI3("qemu:///session", {}, live | p2p))
    attempt("toURI3 tunnelled and parallel",
            lambda: dom.migrateToURI3(suri, {}, live | p2p | L.VIR_MIGRATE_TUNNELLED
                                      | L.VIR_MIGRATE_PARALLEL))
    attempt("toURI3 direct (the QEMU driver has none)",
            lambda: dom.migrateToURI3(None, {L.VIR_MIGRATE_PARAM_URI: tcp()}, live))
    # a destination that cannot listen: Prepare fails, the source keeps it
    attempt("migrate3 to an address the destination cannot listen on",
            lambda: dom.migrate3(s, {L.VIR_MIGRATE_PARAM_URI: "tcp://192.0.2.1:1"}, live))
    dom.destroy()
    del dom
    where("destroyed on dst")
    # persistent: defined on the source, moved and undefined there
    s.defineXML(xml).create()
    where("defined and started on src")
    attempt("migrate src->dst (peer-to-peer, persist, undefine source)",
            lambda: s.lookupByName(name).migrate(
                d, live | p2p | L.VIR_MIGRATE_PERSIST_DEST | L.VIR_MIGRATE_UNDEFINE_SOURCE,
                None, None, 0))
    attempt("migrate2 dst->src (managed, destination XML, persist)",
            lambda: d.lookupByName(name).migrate2(
                s, d.lookupByName(name).XMLDesc(L.VIR_DOMAIN_XML_MIGRATABLE),
                live | L.VIR_MIGRATE_PERSIST_DEST, None, tcp(), 0))
    attempt("toURI of the definition left inactive on dst (old API, peer-to-peer)",
            lambda: d.lookupByName(name).migrateToURI(suri, live | p2p, None, 0))
    # offline: the inactive definition on dst moves to src, nothing runs
    dom = s.lookupByName(name)
    dom.destroy()
    dom.undefine()
    del dom
    where("src's copy removed")
    attempt("migrate3 dst->src offline (persist, undefine source)",
            lambda: d.lookupByName(name).migrate3(
                s, {}, L.VIR_MIGRATE_OFFLINE | L.VIR_MIGRATE_PERSIST_DEST
                | L.VIR_MIGRATE_UNDEFINE_SOURCE))
    for side in ("src", "dst"):
        try:
            dom = conns[side].lookupByName(name)
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefine()
            del dom
        except L.libvirtError:
            pass
    where("cleaned up")
    s.close()
    d.close()
    del s, d, conns
    after = counts()
    print("descriptors and threads back to the start: %s" % ("yes" if after == before else
                                                             "no: %s -> %s" % (before, after)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
