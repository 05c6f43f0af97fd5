#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The linker version script of a libvirt-compatible library.
#
#   compat-map.sh SYMS OUT export|local
#
# SYMS is one of libvirt's .syms files: already a version script, one node
# per release, each naming the public functions that release added. OUT is
# SYMS followed by one node of virtrpc's own: with "export" it exports the
# internal compat_* functions (libvirt.so.0, for the qemu, lxc and admin
# libraries), with "local" nothing; either way every other symbol is local.
set -eu
syms=$1
out=$2
mode=$3
{
    cat "$syms"
    echo
    echo "VIRTRPC_COMPAT_PRIVATE {"
    if [ "$mode" = export ]; then
        echo "    global:"
        echo "        compat_*;"
    fi
    echo "    local:"
    echo "        *;"
    echo "};"
} >"$out.tmp"
mv "$out.tmp" "$out"
