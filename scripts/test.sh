#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite: install what is missing, build (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), start private libvirt
# daemons, run every test in both builds, and print "N passed, N failed, N skipped".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
build=${BUILD_DIR:-$top/build}
asan=${BUILD_DIR_ASAN:-$top/build-asan}
BUILD_DIR=$build "$top/scripts/build.sh"
if [ "${VIRTRPC_SKIP_ASAN:-0}" != 1 ]; then
    BUILD_DIR=$asan "$top/scripts/build.sh" -Db_sanitize=address,undefined -Db_lundef=false
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
    meson test -C "$asan" --print-errorlogs --num-processes 2 --suite unit --suite hostile --suite fuzz --suite integration --suite transport --suite streams --suite loops || status=1
    logs="$build/meson-logs/testlog.json $asan/meson-logs/testlog.json"
else
    logs="$build/meson-logs/testlog.json"
fi
# shellcheck disable=SC2086
python3 "$top/scripts/tap-summary.py" $logs || status=1
exit $status
