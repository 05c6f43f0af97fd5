#!/bin/sh
# SPDX-License-Identifier: MIT
# The common transport checks over a Unix socket (the baseline for the others).
# Usage: test-unix.sh SRCDIR TRANSPORT-CHECK
set -u
check=$2
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
use_tmp
daemon_start_or_finish "start a private libvirtd" d
tap "$check" "test+unix:///default?socket=$tmp/d/sys/run/libvirt-sock"
finish
