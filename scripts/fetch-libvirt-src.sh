#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch the protocol files and public headers of Debian's libvirt source
# package into a cache outside the source tree and print the directory.
# Only what the build needs is extracted: the protocol files, the public
# headers and the public symbol lists (.syms) of the four client libraries.
# Run as root on a fresh machine it adds a deb-src entry when none exists.
#   fetch-libvirt-src.sh          the libvirt of this Debian release
#   fetch-libvirt-src.sh SUITE    the libvirt of another Debian suite (e.g. trixie),
#                                 through private package lists (the system's apt
#                                 configuration is not changed)
set -eu
suite=${1:-}

cache="${VIRTRPC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/virtrpc}"
mkdir -p "$cache"

log() { echo "fetch-libvirt-src: $*" >&2; }

codename=$(. /etc/os-release && echo "$VERSION_CODENAME")

# The address of the Debian archive this machine installs its release from.
archive=$("$(dirname "$0")/apt-archive.sh" || true)

apt_opts=
if [ -n "$suite" ]; then
    lists="$cache/apt-$suite"
    mkdir -p "$lists/lists/partial"
    [ -n "$archive" ] || { log "no Debian archive for $codename in the apt configuration"; exit 1; }
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $archive $suite main" > "$lists/sources.list"
    apt_opts="-o Dir::Etc::sourcelist=$lists/sources.list -o Dir::Etc::sourceparts=/nonexistent -o Dir::State::Lists=$lists/lists"
    # shellcheck disable=SC2086
    apt-get $apt_opts update -qq >&2
fi

# Which libvirt does Debian ship here?
# shellcheck disable=SC2086
version=$(apt-cache $apt_opts showsrc libvirt 2>/dev/null | sed -n 's/^Version: //p' | head -n 1 || true)
if [ -z "$version" ] && [ -z "$suite" ]; then
    if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        [ -n "$archive" ] || { log "no Debian archive for $codename in the apt configuration"; exit 1; }
        log "adding a deb-src entry for $archive"
        suites=$codename
        cat > /etc/apt/sources.list.d/virtrpc-deb-src.sources <<SRC
Types: deb-src
URIs: $archive
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

# .complete holds the layout version of the extract; an older extract (one
# without the .syms files) is fetched again.
layout=2
if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$layout" ]; then
    echo "$dest"
    exit 0
fi

work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "downloading libvirt $version source"
# shellcheck disable=SC2086
(cd "$work" && apt-get $apt_opts source --download-only -qq "libvirt=$version" >&2 2>&1) || true
orig=$(ls "$work"/libvirt_*.orig.tar.xz 2>/dev/null | head -n 1)
[ -n "$orig" ] || { log "download of the libvirt source package failed"; exit 1; }
tar -xf "$orig" -C "$work" --wildcards \
    "libvirt-$upstream/meson.build" \
    "libvirt-$upstream/src/rpc/virnetprotocol.x" \
    "libvirt-$upstream/src/rpc/virkeepaliveprotocol.x" \
    "libvirt-$upstream/src/remote/remote_protocol.x" \
    "libvirt-$upstream/src/remote/qemu_protocol.x" \
    "libvirt-$upstream/src/remote/lxc_protocol.x" \
    "libvirt-$upstream/src/admin/admin_protocol.x" \
    "libvirt-$upstream/src/libvirt_public.syms" \
    "libvirt-$upstream/src/libvirt_qemu.syms" \
    "libvirt-$upstream/src/libvirt_lxc.syms" \
    "libvirt-$upstream/src/admin/libvirt_admin_public.syms" \
    "libvirt-$upstream/include/libvirt/*"
rm -rf "$dest"
mv "$work/libvirt-$upstream" "$dest"
echo "$layout" >"$dest/.complete"
log "libvirt $upstream protocol files in $dest"
echo "$dest"
