#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite: install what is missing, build (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), start private libvirt
# daemons, run every test in both builds, the threaded tests under
# ThreadSanitizer and the integration programs under Valgrind, and print
# "N passed, N failed, N skipped".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
build=${BUILD_DIR:-$top/build}
asan=${BUILD_DIR_ASAN:-$top/build-asan}
BUILD_DIR=$build "$top/scripts/build.sh"
if [ "${VIRTRPC_SKIP_ASAN:-0}" != 1 ]; then
    BUILD_DIR=$asan "$top/scripts/build.sh" -Db_sanitize=address,undefined -Db_lundef=false
fi
# ThreadSanitizer: only the threaded tests (and only what they need is built).
tsan=${BUILD_DIR_TSAN:-$top/build-tsan}
tsan_tests="compat-core compat-events compat-stream compat-eventloop compat-watch compat-eventimpl conn-fake concurrency events-fake events keepalive kill-busy kill-idle alloc-fail short-io kill-daemon reconnect reconnect-fake"
tsan_targets="tests/compat/test-compat-core tests/compat/test-compat-events tests/compat/test-compat-stream tests/compat/test-compat-eventloop tests/compat/test-compat-watch tests/compat/test-compat-eventimpl tests/unit/test-conn-fake tests/integration/test-concurrency tests/events/test-events-fake tests/events/test-events tests/events/keepalive-check tests/streams/test-kill tests/faults/test-alloc-fail tests/faults/test-short-io tests/faults/test-kill-daemon tests/events/test-reconnect tests/unit/test-reconnect-fake"
if [ "${VIRTRPC_SKIP_TSAN:-0}" != 1 ]; then
    [ -f "$tsan/build.ninja" ] || meson setup "$tsan" "$top" -Db_sanitize=thread -Db_lundef=false >&2
    # shellcheck disable=SC2086
    ninja -C "$tsan" $tsan_targets >&2
fi

tmp=$(mktemp -d)
cleanup() { "$top/scripts/test-daemon.sh" stop "$tmp" || true; rm -rf "$tmp"; }
trap cleanup EXIT HUP INT PIPE TERM
"$top/scripts/test-daemon.sh" start "$tmp"
export VRPC_TEST_DIR="$tmp"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

status=0
meson test -C "$build" --print-errorlogs --num-processes 2 || status=1
if [ "${VIRTRPC_SKIP_ASAN:-0}" != 1 ]; then
    meson test -C "$asan" --print-errorlogs --num-processes 2 --suite unit --suite hostile --suite fuzz --suite faults --suite integration --suite transport --suite streams --suite loops --suite compat || status=1
    logs="$build/meson-logs/testlog.json $asan/meson-logs/testlog.json"
else
    logs="$build/meson-logs/testlog.json"
fi
if [ "${VIRTRPC_SKIP_TSAN:-0}" != 1 ]; then
    rm -f "$tsan"/meson-logs/testlog-tsan*.json
    # shellcheck disable=SC2086
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 meson test -C "$tsan" --no-rebuild --print-errorlogs --logbase testlog-tsan $tsan_tests || status=1
    logs="$logs $tsan/meson-logs/testlog-tsan.json"
fi
# Valgrind memcheck on the integration test programs (plain build).
if [ "${VIRTRPC_SKIP_VALGRIND:-0}" != 1 ]; then
    rm -f "$build"/meson-logs/testlog-valgrind*.json
    meson test -C "$build" --no-rebuild --print-errorlogs --logbase testlog-valgrind --wrapper "$top/scripts/valgrind-wrap.sh" domains objects admin concurrency conventions params simple events || status=1
    logs="$logs $(ls "$build"/meson-logs/testlog-valgrind*.json)"
fi
# The daemon matrix (docs/versions.md): the libvirt daemons of Debian 11 and
# 13 in cached roots, and a client generated from Debian 13's libvirt; the
# cell of this machine's daemon with the default build ran above.
if [ "${VIRTRPC_SKIP_MATRIX:-0}" != 1 ]; then
    BUILD_DIR=$build "$top/scripts/test-matrix.sh" --skip host:default --logs "$tmp/matrix-logs" ||
        status=1
    [ -f "$tmp/matrix-logs" ] && logs="$logs $(cat "$tmp/matrix-logs")"
fi
# shellcheck disable=SC2086
python3 "$top/scripts/tap-summary.py" $logs || status=1
exit $status
