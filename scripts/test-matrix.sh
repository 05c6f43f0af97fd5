#!/bin/sh
# SPDX-License-Identifier: MIT
# The daemon matrix: the integration tests (domains, objects, admin, events,
# keepalive, cli-events, ...), the unix and tcp transports (tcp-tls) and the
# storage streams, run against libvirt daemons of three Debian releases, each
# with the client generated from two libvirt versions:
#
#   daemons: the machine's own libvirtd (Debian 12: libvirt 9.0.0), and those
#            of Debian 13 (trixie, 11.3.0) and Debian 11 (bullseye, 7.0.0) in
#            minimal roots (scripts/debian-root.sh, cached)
#   clients: the default build (the machine's libvirt), and a build generated
#            from trixie's libvirt (scripts/fetch-libvirt-src.sh trixie;
#            cached in build-libvirt-VERSION/)
#
# Root only (the roots are chrooted into). Each cell gets private daemons
# (scripts/test-daemon.sh start, VRPC_DAEMON_ROOT) and runs `meson test`
# (one test at a time: the tests share the daemons) with the log
# testlog-matrix-RELEASE.json in the client's build directory; the end prints
# "N passed, N failed, N skipped" over all cells (scripts/tap-summary.py).
#
#   test-matrix.sh [--skip CELL]... [--logs FILE] [RELEASE...]
#       RELEASE: host, trixie, bullseye (default: all three)
#       --skip host:default   a cell not to run (DAEMON:CLIENT, CLIENT is
#                             default or newer); scripts/test.sh skips the
#                             cell its main run already covers
#       --logs FILE           write the paths of the cells' logs to FILE instead
#                             of printing the closing line
# Environment: VIRTRPC_MATRIX_RELEASES (the default RELEASE list),
# BUILD_DIR (the default build, default build/), BUILD_DIR_NEWER
# (default build-libvirt-VERSION/), NEWER_SUITE (default trixie),
# VIRTRPC_CACHE_DIR (roots and libvirt sources).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
suite=${NEWER_SUITE:-trixie}
skips=
logs_out=
releases=
while [ $# -gt 0 ]; do
    case $1 in
    --skip) skips="$skips $2"; shift 2 ;;
    --logs) logs_out=$2; shift 2 ;;
    -*) echo "usage: test-matrix.sh [--skip DAEMON:CLIENT]... [--logs FILE] [RELEASE...]" >&2; exit 2 ;;
    *) releases="$releases $1"; shift ;;
    esac
done
[ -n "$releases" ] || releases=${VIRTRPC_MATRIX_RELEASES:-host trixie bullseye}

log() { echo "matrix: $*" >&2; }
now() { date +%s; }
t0=$(now)

# The tests of each cell: every test of the integration suite, and these.
extra=${VRPC_MATRIX_EXTRA:-"unix tcp-tls storage kill-busy kill-idle"}

# ---- the two clients ----
BUILD_DIR=$build "$top/scripts/build.sh"
lv=$("$top/scripts/fetch-libvirt-src.sh" "$suite")
ver=$(sed -n "s/^ *version: '\([0-9.]*\)'.*/\1/p" "$lv/meson.build" | head -n 1)
newer=${BUILD_DIR_NEWER:-$top/build-libvirt-$ver}
if [ ! -f "$newer/build.ninja" ]; then
    meson setup "$newer" "$top" -Dlibvirt_src="$lv" >&2
fi
ninja -C "$newer" >&2
t_builds=$(now)
log "clients built: default, and libvirt $ver in $newer ($((t_builds - t0)) s)"

# ---- the daemons' roots ----
# A root that cannot be built (the archive no longer serves that release, no
# network) is one failed check in the closing count, and its cells do not run.
status=0
logs=
ready=
for r in $releases; do
    if [ "$r" != host ] && ! "$top/scripts/debian-root.sh" build "$r" >"$build/meson-logs/root-$r.log" 2>&1; then
        status=1
        log "no $r root: $(tail -n 1 "$build/meson-logs/root-$r.log")"
        python3 -c 'import json, sys
print(json.dumps({"name": "matrix / root " + sys.argv[1], "result": "FAIL",
    "stdout": "not ok 1 - a root with the libvirt daemon of Debian " + sys.argv[1] + "\n" +
    "".join("# " + l for l in open(sys.argv[2])) + "1..1\n"}))' "$r" "$build/meson-logs/root-$r.log" \
            >"$build/meson-logs/testlog-matrix-root-$r.json"
        logs="$logs $build/meson-logs/testlog-matrix-root-$r.json"
        continue
    fi
    rm -f "$build/meson-logs/testlog-matrix-root-$r.json"
    ready="$ready $r"
done
t_roots=$(now)
log "roots ready:$ready ($((t_roots - t_builds)) s)"

# ---- the cells ----
tmp=$(mktemp -d)
chmod 755 "$tmp"
cell_dir=
cleanup() {
    if [ -n "$cell_dir" ]; then
        "$top/scripts/test-daemon.sh" stop "$cell_dir" || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

for r in $ready; do
    root=
    [ "$r" = host ] || root=$("$top/scripts/debian-root.sh" path "$r")
    for client in default newer; do
        case " $skips " in *" $r:$client "*) continue ;; esac
        if [ $client = default ]; then b=$build; else b=$newer; fi
        t=$(now)
        cell_dir=$tmp/$r-$client
        mkdir -p "$cell_dir"
        if ! VRPC_DAEMON_ROOT=$root "$top/scripts/test-daemon.sh" start "$cell_dir"; then
            log "$r: the daemons did not start"
            status=1
            continue
        fi
        dver=$("$b/cli/virtrpc" -c "test+unix:///default?socket=$cell_dir/sys/run/libvirt-sock" \
            version 2>/dev/null | sed -n 's/^Daemon.s library: *//p')
        base=testlog-matrix-$r
        rm -f "$b/meson-logs/$base.json" "$b/meson-logs/$base.txt"
        # The compat comparisons (suite compat) are left out: their reference
        # is the host's libvirt.so against the host's daemon version.
        names=$(meson test -C "$b" --list --no-rebuild --suite integration --no-suite compat 2>/dev/null |
            sed -n 's/^[^ ]* \/ //p')
        # shellcheck disable=SC2086 # test names
        VRPC_DAEMON_ROOT=$root VRPC_TEST_DIR=$cell_dir meson test -C "$b" --no-rebuild --num-processes 1 \
            --print-errorlogs --logbase "$base" $names $extra >"$tmp/meson.out" 2>&1 || status=1
        grep -E '^ *[0-9]+/[0-9]+ ' "$tmp/meson.out" | sed "s/^/  $r:$client /" >&2
        "$top/scripts/test-daemon.sh" stop "$cell_dir" || true
        cell_dir=
        logs="$logs $b/meson-logs/$base.json"
        log "daemon $r ($dver), client $client: $(python3 "$top/scripts/tap-summary.py" \
            "$b/meson-logs/$base.json" 2>/dev/null | tail -n 1) ($(($(now) - t)) s)"
    done
done
log "cells done ($(($(now) - t_roots)) s; all: $(($(now) - t0)) s)"
if [ -n "$logs_out" ]; then
    # The caller counts these logs with its own.
    echo "$logs" >"$logs_out"
else
    # shellcheck disable=SC2086
    python3 "$top/scripts/tap-summary.py" $logs || status=1
fi
exit $status
