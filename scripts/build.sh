#!/bin/sh
# SPDX-License-Identifier: MIT
# Configure (once) and build virtrpc in BUILD_DIR (default: build/ in the source tree).
# Extra arguments go to `meson setup` the first time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$top" "$@" >&2
fi
ninja -C "$build" >&2
