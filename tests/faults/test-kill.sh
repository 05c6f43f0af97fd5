#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs test-kill-daemon against a private test daemon of its own.
#   test-kill.sh PROGRAM TEST-DAEMON-SCRIPT
set -eu
prog=$1
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
daemon=$2
need_root_libvirtd
use_tmp
if ! daemon_start d; then
    cat "$tmp/d.start" >&2
    skip_all "the test daemon did not start"
fi
"$prog" "$tmp/d" "$daemon"
