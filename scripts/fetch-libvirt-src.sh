#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch the protocol files and public headers of Debian's libvirt source
# package into a cache outside the source tree and print the directory.
# Only what the generator needs is extracted. Run as root on a fresh machine
# it adds a deb-src entry when none exists.
set -eu

cache="${VIRTRPC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/virtrpc}"
mkdir -p "$cache"

log() { echo "fetch-libvirt-src: $*" >&2; }

# Which libvirt does Debian ship here?
version=$(apt-cache showsrc libvirt 2>/dev/null | sed -n 's/^Version: //p' | head -n 1 || true)
if [ -z "$version" ]; then
    if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        log "adding a deb-src entry for Debian's main archive"
        suites=$(. /etc/os-release && echo "$VERSION_CODENAME")
        cat > /etc/apt/sources.list.d/virtrpc-deb-src.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suites $suites-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    apt-get update -qq >&2
    version=$(apt-cache showsrc libvirt | sed -n 's/^Version: //p' | head -n 1)
fi
[ -n "$version" ] || { log "cannot find Debian's libvirt source package"; exit 1; }
upstream=${version#*:}
upstream=${upstream%-*}
dest="$cache/libvirt-$upstream"

if [ -f "$dest/.complete" ]; then
    echo "$dest"
    exit 0
fi

work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "downloading libvirt $version source"
(cd "$work" && apt-get source --download-only -qq "libvirt=$version" >&2 2>/dev/null) ||
    (cd "$work" && apt-get source --download-only -qq libvirt >&2)
orig=$(ls "$work"/libvirt_*.orig.tar.* | head -n 1)
tar -xf "$orig" -C "$work" --wildcards \
    "libvirt-$upstream/meson.build" \
    "libvirt-$upstream/src/rpc/virnetprotocol.x" \
    "libvirt-$upstream/src/rpc/virkeepaliveprotocol.x" \
    "libvirt-$upstream/src/remote/remote_protocol.x" \
    "libvirt-$upstream/src/remote/qemu_protocol.x" \
    "libvirt-$upstream/src/remote/lxc_protocol.x" \
    "libvirt-$upstream/src/admin/admin_protocol.x" \
    "libvirt-$upstream/include/libvirt/*"
rm -rf "$dest"
mv "$work/libvirt-$upstream" "$dest"
touch "$dest/.complete"
log "libvirt $upstream protocol files in $dest"
echo "$dest"
