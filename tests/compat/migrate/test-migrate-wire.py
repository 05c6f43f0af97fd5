#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The migration protocols against scripted daemons (migrate-daemon.py over
the ext transport), through unmodified python3-libvirt on the system's
libvirt.so.0 and on ours: every scenario must send the same calls with the
same arguments (byte for byte) to the same daemons and end with the same
result (the destination domain's name, or the error's code and domain).
Each scenario also lists the steps it must take, checked on ours.

Usage: test-migrate-wire.py COMPAT-DIR          (TAP; runs both)
       test-migrate-wire.py --run WORKDIR       (one library: the transcript)
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DAEMON = os.path.join(HERE, "migrate-daemon.py")
V3P = "1,3,4,5,6,7,11,12,13"  # every feature: version 3 with parameters
V3 = "1,3,4,5,6,7,11,12"  # no extensible parameters
V3NOPROT = "1,3,4,5,6,11,12,13"  # no change protection
V2 = "1,3,4,5"
V1 = "1,4,5"

# name, (src features, fail, options), (dst ...), action, steps expected
# (role:procedure, supports_feature and lookups left out)
SCENARIOS = [
    ("migrate3 params", (V3P, "-", "-"), (V3P, "-", "-"), "migrate3",
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params src:confirm3_params"),
    ("migrate3 without params support", (V3, "-", "-"), (V3, "-", "-"), "migrate3",
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3 src:confirm3"),
    ("migrate3 extended param without params support", (V3, "-", "-"), (V3, "-", "-"),
     "migrate3_ext", ""),
    ("migrate3 params, destination lacks them", (V3P, "-", "-"), (V3, "-", "-"), "migrate3",
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3 src:confirm3"),
    ("migrate v3", (V3P, "-", "-"), (V3P, "-", "-"), "migrate",
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3 src:confirm3"),
    ("migrate v2", (V2, "-", "-"), (V2, "-", "-"), "migrate",
     "src:get_xml_desc src:get_info dst:prepare2 src:perform dst:finish2"),
    ("migrate v2 migratable xml", (V2 + ",11", "-", "-"), (V2, "-", "-"), "migrate",
     "src:get_xml_desc src:get_info dst:prepare2 src:perform dst:finish2"),
    ("migrate v1", (V1, "-", "-"), (V1, "-", "-"), "migrate",
     "src:get_info dst:prepare src:perform dst:finish"),
    ("migrate v1 by migrate3", (V1, "-", "-"), (V1, "-", "-"), "migrate3",
     "src:get_info dst:prepare src:perform dst:finish"),
    ("migrate2 dxml on v2", (V2, "-", "-"), (V2, "-", "-"), "migrate2_dxml", ""),
    ("migrate2 dxml on v3", (V3, "-", "-"), (V3, "-", "-"), "migrate2_dxml",
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3 src:confirm3"),
    ("no common protocol", ("4,5", "-", "-"), (V3, "-", "-"), "migrate", ""),
    ("paused source", (V3P, "-", "paused"), (V3P, "-", "-"), "migrate3",
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params src:confirm3_params"),
    ("no URI from prepare3 params", (V3P, "-", "-"), (V3P, "-", "nouri"), "migrate3_nouri",
     "src:begin3_params src:get_state dst:prepare3_params dst:finish3_params "
     "src:confirm3_params"),
    ("no URI from prepare3", (V3, "-", "-"), (V3, "-", "nouri"), "migrate_nouri",
     "src:begin3 src:get_info dst:prepare3 dst:finish3 src:confirm3"),
    ("no URI from prepare2", (V2, "-", "-"), (V2, "-", "nouri"), "migrate_nouri",
     "src:get_xml_desc src:get_info dst:prepare2"),
    ("no URI from prepare", (V1, "-", "-"), (V1, "-", "nouri"), "migrate_nouri",
     "src:get_info dst:prepare"),
    ("perform3 params fails", (V3P, "305", "-"), (V3P, "-", "-"), "migrate3",
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params"),
    ("perform3 params fails, the domain died", (V3P, "305", "-"), (V3P, "-", "died"), "migrate3",
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params"),
    ("perform3 fails", (V3, "216", "-"), (V3, "-", "-"), "migrate",
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3"),
    ("perform fails (v2)", (V2, "62", "-"), (V2, "-", "-"), "migrate",
     "src:get_xml_desc src:get_info dst:prepare2 src:perform dst:finish2"),
    ("perform fails (v1)", (V1, "62", "-"), (V1, "-", "-"), "migrate",
     "src:get_info dst:prepare src:perform"),
    ("finish3 params fails", (V3P, "-", "-"), (V3P, "306", "-"), "migrate3",
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params src:confirm3_params"),
    ("finish3 fails", (V3, "-", "-"), (V3, "217", "-"), "migrate",
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3 src:confirm3"),
    ("prepare3 params fails, change protection", (V3P, "-", "-"), (V3P, "303", "-"), "migrate3",
     "src:begin3_params src:get_state dst:prepare3_params src:confirm3_params"),
    ("prepare3 params fails, no change protection", (V3NOPROT, "-", "-"), (V3P, "303", "-"),
     "migrate3", "src:begin3_params src:get_state dst:prepare3_params"),
    ("begin3 fails", (V3, "213", "-"), (V3, "-", "-"), "migrate", "src:begin3"),
    ("confirm3 params fails", (V3P, "307", "-"), (V3P, "-", "-"), "migrate3",
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params src:confirm3_params"),
    ("offline migrate3", (V3P, "-", "-"), (V3P, "-", "-"), "migrate3_offline",
     "src:begin3_params src:get_state dst:prepare3_params dst:finish3_params "
     "src:confirm3_params"),
    ("offline unsupported", ("1,3,4,5,6,7,11,13", "-", "-"), (V3P, "-", "-"), "migrate3_offline",
     ""),
    ("migrate p2p", (V3P, "-", "nocookie"), (V3P, "-", "-"), "migrate_p2p",
     "src:perform3_params dst:lookup_by_name"),
    ("migrate2 p2p", (V3P, "-", "nocookie"), (V3P, "-", "-"), "migrate2_p2p",
     "src:perform3_params dst:lookup_by_name"),
    ("perform3 params cookie on p2p", (V3P, "-", "-"), (V3P, "-", "-"), "touri3_p2p",
     "src:perform3_params"),
    ("perform3 cookie on direct", (V3, "-", "-"), (V3, "-", "-"), "touri3_direct",
     "src:perform3"),
    ("toURI3 p2p params", (V3P, "-", "nocookie"), (V3P, "-", "-"), "touri3_p2p", "src:perform3_params"),
    ("toURI3 p2p tunnelled", (V3P, "-", "nocookie"), (V3P, "-", "-"), "touri3_p2p_tunnel",
     "src:perform3_params"),
    ("toURI3 p2p v3", (V3, "-", "nocookie"), (V3, "-", "-"), "touri3_p2p", "src:perform3"),
    ("toURI3 p2p v2", (V2, "-", "nocookie"), (V2, "-", "-"), "touri3_p2p_nouri", "src:perform"),
    ("toURI3 p2p v2 with a migration URI", (V2, "-", "nocookie"), (V2, "-", "-"), "touri3_p2p", ""),
    ("toURI3 direct", (V3P, "-", "nocookie"), (V3P, "-", "-"), "touri3_direct", "src:perform3"),
    ("toURI direct", (V3P, "-", "nocookie"), (V3P, "-", "-"), "touri_direct", "src:perform3"),
    ("toURI p2p", (V3P, "-", "nocookie"), (V3P, "-", "-"), "touri_p2p", "src:perform3_params"),
    ("toURI2 p2p", (V3P, "-", "nocookie"), (V3P, "-", "-"), "touri2_p2p", "src:perform3_params"),
    ("toURI2 direct v2", (V2, "-", "nocookie"), (V2, "-", "-"), "touri2_direct", "src:perform"),
    ("toURI3 p2p same host", (V3P, "-", "-"), (V3P, "-", "-"), "touri3_samehost", ""),
    ("toURI3 p2p localhost", (V3P, "-", "-"), (V3P, "-", "-"), "touri3_localhost", ""),
    ("toURI3 p2p not supported", ("1,3,5,6,13", "-", "-"), (V3P, "-", "-"), "touri3_p2p", ""),
    ("toURI3 direct not supported", ("1,3,4,6,13", "-", "-"), (V3P, "-", "-"), "touri3_direct",
     ""),
    ("migrate3 with p2p flag", (V3P, "-", "-"), (V3P, "-", "-"), "migrate3_p2p", ""),
    ("migrate3 tunnelled", (V3P, "-", "-"), (V3P, "-", "-"), "migrate3_tunnel", ""),
    ("migrate tunnelled without p2p", (V3P, "-", "-"), (V3P, "-", "-"), "migrate_tunnel", ""),
    ("migrate p2p not supported", ("1,3,5,6,13", "-", "-"), (V3P, "-", "-"), "migrate_p2p", ""),
    ("tunnelled and parallel", (V3P, "-", "-"), (V3P, "-", "-"), "touri3_tunnel_parallel", ""),
    ("disk and inc", (V3P, "-", "-"), (V3P, "-", "-"), "migrate3_disk_inc", ""),
    ("synchronous writes alone", (V3P, "-", "-"), (V3P, "-", "-"), "migrate3_sync", ""),
    ("change protection", (V3P, "-", "-"), (V3P, "-", "-"), "migrate3_protect",
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params src:confirm3_params"),
    ("change protection unsupported", (V3NOPROT, "-", "-"), (V3P, "-", "-"), "migrate3_protect",
     ""),
]


def action(libvirt, kind, dom, s, d, duri):
    L = libvirt
    live = L.VIR_MIGRATE_LIVE
    p2p = L.VIR_MIGRATE_PEER2PEER
    uri = {L.VIR_MIGRATE_PARAM_URI: "tcp://dst:1234"}
    if kind == "migrate3":
        return dom.migrate3(d, dict(uri, **{L.VIR_MIGRATE_PARAM_BANDWIDTH: 5}), live)
    if kind == "migrate3_ext":
        return dom.migrate3(d, dict(uri, **{L.VIR_MIGRATE_PARAM_COMPRESSION: ["xbzrle"]}), live)
    if kind == "migrate3_nouri":
        return dom.migrate3(d, {L.VIR_MIGRATE_PARAM_DEST_NAME: "renamed"}, live)
    if kind == "migrate3_offline":
        return dom.migrate3(d, {}, L.VIR_MIGRATE_OFFLINE | L.VIR_MIGRATE_PERSIST_DEST)
    if kind == "migrate3_p2p":
        return dom.migrate3(d, uri, live | p2p)
    if kind == "migrate3_tunnel":
        return dom.migrate3(d, uri, live | L.VIR_MIGRATE_TUNNELLED)
    if kind == "migrate3_disk_inc":
        return dom.migrate3(d, uri, L.VIR_MIGRATE_NON_SHARED_DISK | L.VIR_MIGRATE_NON_SHARED_INC)
    if kind == "migrate3_sync":
        return dom.migrate3(d, uri, L.VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES)
    if kind == "migrate3_protect":
        return dom.migrate3(d, uri, live | L.VIR_MIGRATE_CHANGE_PROTECTION)
    if kind == "migrate":
        return dom.migrate(d, live | L.VIR_MIGRATE_PERSIST_DEST, "newname", "tcp://dst:1234", 7)
    if kind == "migrate_nouri":
        return dom.migrate(d, live, None, None, 0)
    if kind == "migrate_tunnel":
        return dom.migrate(d, live | L.VIR_MIGRATE_TUNNELLED, None, None, 0)
    if kind == "migrate_p2p":
        return dom.migrate(d, live | p2p, None, None, 0)
    if kind == "migrate2_dxml":
        return dom.migrate2(d, "<domain/>", live, None, "tcp://dst:1234", 0)
    if kind == "migrate2_p2p":
        return dom.migrate2(d, None, live | p2p, "other", "tcp://dst:1234", 3)
    if kind == "touri3_p2p":
        return dom.migrateToURI3(duri, uri, live | p2p)
    if kind == "touri3_p2p_nouri":
        return dom.migrateToURI3(duri, {L.VIR_MIGRATE_PARAM_BANDWIDTH: 9}, live | p2p)
    if kind == "touri3_p2p_tunnel":
        return dom.migrateToURI3(duri, {}, live | p2p | L.VIR_MIGRATE_TUNNELLED)
    if kind == "touri3_direct":
        return dom.migrateToURI3(None, dict(uri, **{L.VIR_MIGRATE_PARAM_DEST_XML: "<x/>"}), live)
    if kind == "touri3_samehost":
        return dom.migrateToURI3("qemu:///system", {}, live | p2p)
    if kind == "touri3_localhost":
        return dom.migrateToURI3("qemu+ssh://localhost.localdomain/system", {}, live | p2p)
    if kind == "touri3_tunnel_parallel":
        return dom.migrateToURI3(duri, {}, p2p | L.VIR_MIGRATE_TUNNELLED | L.VIR_MIGRATE_PARALLEL)
    if kind == "touri_direct":
        return dom.migrateToURI("tcp://dst:1234", live, "n2", 11)
    if kind == "touri_p2p":
        return dom.migrateToURI(duri, live | p2p, None, 0)
    if kind == "touri2_p2p":
        return dom.migrateToURI2(duri, "tcp://dst:1", None, live | p2p, "n3", 2)
    if kind == "touri2_direct":
        return dom.migrateToURI2(None, "tcp://dst:1", None, live, None, 0)
    raise ValueError(kind)


def wrapper(work, name, log, role, cfg):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec %s %s %s %s %s %s %s\n"
                % (sys.executable, DAEMON, log, role, cfg[0], cfg[1], cfg[2]))
    os.chmod(path, 0o755)
    return path


def run(work):
    import libvirt

    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    for i, (name, src, dst, kind, _) in enumerate(SCENARIOS):
        log = os.path.join(work, "log%d" % i)
        open(log, "w").close()
        sw = wrapper(work, "src%d" % i, log, "src", src)
        dw = wrapper(work, "dst%d" % i, log, "dst", dst)
        s = libvirt.open("test+ext://src/default?command=" + sw)
        duri = "test+ext://dst/default?command=" + dw
        d = libvirt.open(duri)
        dom = s.lookupByName("guest")
        try:
            r = action(libvirt, kind, dom, s, d, duri)
            res = "ok " + (r.name() if hasattr(r, "name") else str(r))
        except libvirt.libvirtError as e:
            res = "error code %d domain %d" % (e.get_error_code(), e.get_error_domain())
            msg = e.get_error_message()
        else:
            msg = ""
        del dom
        s.close()
        d.close()
        print("== %s: %s" % (name, res))
        if msg:
            print("#msg %s" % msg)
        with open(log) as f:
            for line in f:
                print(line.rstrip())
    return 0


def steps_of(transcript, name):
    """The role:procedure list of one scenario, without feature probes and
    the test's own lookup."""
    out, on = [], False
    for line in transcript.splitlines():
        if line.startswith("== "):
            on = line[3:].split(": ")[0] == name
            continue
        if not on or line.startswith("#"):
            continue
        role, proc, args = line.split(" ")
        if proc == "supports_feature" or (role == "src" and proc == "lookup_by_name"):
            continue
        out.append("%s:%s" % (role, proc))
    return " ".join(out)


def main():
    if sys.argv[1] == "--run":
        return run(sys.argv[2])
    compat = os.path.abspath(sys.argv[1])
    py = "/usr/bin/python3"
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    if subprocess.run([py, "-c", "import libvirt"], env=env, capture_output=True).returncode:
        print("1..0 # SKIP no python3-libvirt")
        return 0
    # A sanitizer build's library needs its runtime first in the interpreter.
    preload = ""
    ldd = subprocess.run(["ldd", os.path.join(compat, "libvirt.so.0")], capture_output=True,
                         text=True).stdout
    preload = ":".join(l.split()[2] for l in ldd.splitlines()
                       if ("libasan" in l or "libubsan" in l) and len(l.split()) > 2)
    out = {}
    top = tempfile.mkdtemp(prefix="vmig.")
    work = os.path.join(top, "w")
    for lib in ("system", "ours"):
        e = dict(env)
        if lib == "ours":
            e["LD_LIBRARY_PATH"] = compat
            if preload:
                e["LD_PRELOAD"] = preload
                e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        # the same directory for both: its path is in the URIs sent
        os.mkdir(work)
        p = subprocess.run([py, os.path.abspath(__file__), "--run", work], env=e,
                           capture_output=True, text=True, timeout=300)
        shutil.rmtree(work)
        if p.returncode:
            print("not ok 1 - the scenarios run on the %s library" % lib)
            for l in (p.stdout + p.stderr).splitlines()[-20:]:
                print("# " + l)
            print("1..1")
            shutil.rmtree(top, ignore_errors=True)
            return 1
        out[lib] = p.stdout
    os.rmdir(top)
    n = failed = 0
    for name, _, _, _, want in SCENARIOS:
        n += 1
        a = [l for l in section(out["system"], name) if not l.startswith("#msg")]
        b = [l for l in section(out["ours"], name) if not l.startswith("#msg")]
        got = steps_of(out["ours"], name)
        okay = a == b and got == want
        failed += not okay
        print("%s %d - %s: %s" % ("ok" if okay else "not ok", n, name,
                                  b[0] if b else "(no result)"))
        if not okay:
            if got != want:
                print("#   steps:    %s\n#   expected: %s" % (got, want))
            for l in a:
                if l not in b:
                    print("#   system only: " + l[:200])
            for l in b:
                if l not in a:
                    print("#   ours only:   " + l[:200])
    print("1..%d" % n)
    return 1 if failed else 0


def section(transcript, name):
    lines, on = [], False
    for line in transcript.splitlines():
        if line.startswith("== "):
            on = line[3:].split(": ")[0] == name
            if on:
                lines.append(line.split(": ", 1)[1])
            continue
        if on:
            lines.append(line)
    return lines


if __name__ == "__main__":
    sys.exit(main())
