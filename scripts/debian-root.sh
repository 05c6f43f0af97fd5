#!/bin/sh
# SPDX-License-Identifier: MIT
# Minimal Debian roots holding another release's libvirt daemon, and running
# commands in them, for the daemon matrix of the test suite (root only).
#
#   debian-root.sh build RELEASE   debootstrap a minimal root of RELEASE with its
#                                  libvirt daemon (and the storage and secret
#                                  drivers) into the cache, once; print its path
#   debian-root.sh path RELEASE    print where that root is (built or not)
#   debian-root.sh run ROOT CMD... run CMD chrooted in ROOT, in a mount namespace
#                                  of its own
#
# The archive is the one the machine's apt configuration installs its own
# release from (scripts/apt-archive.sh). Roots live in
# ${VIRTRPC_CACHE_DIR:-~/.cache/virtrpc}/roots/RELEASE.
#
# `run` changes nothing outside ROOT: in a new mount namespace (private
# propagation) it mounts /proc, /sys and /dev, a tmpfs on ROOT's /run, binds
# the host's /etc/hosts (read-only) and its temporary directory
# (${TMPDIR:-/tmp}) at the same path, then chroots. Paths below the temporary directory (configuration files,
# sockets, pid files, logs) are therefore the same on both sides, and a
# daemon's sockets there are reachable from the host. The mounts go away
# with the last process of the namespace; a daemon that forks into the
# background keeps them until it exits. No pid or network namespace: pids in
# pid files are the host's, TCP ports are the host's.
set -eu
cmd=${1:?usage: debian-root.sh build|path RELEASE | run ROOT CMD...}
here=$(cd "$(dirname "$0")" && pwd)
cache="${VIRTRPC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/virtrpc}"

log() { echo "debian-root: $*" >&2; }

# The daemon's packages per release. Debian 13 split the daemon's drivers
# into packages of their own; before that libvirt-daemon holds them.
packages() {
    case $1 in
    buster | bullseye | bookworm) echo "libvirt-daemon" ;;
    *) echo "libvirt-daemon libvirt-daemon-driver-storage libvirt-daemon-driver-secret" ;;
    esac
}

rootdir() { echo "$cache/roots/$1"; }

case $cmd in
path)
    rootdir "${2:?usage: debian-root.sh path RELEASE}"
    ;;
build)
    rel=${2:?usage: debian-root.sh build RELEASE}
    dest=$(rootdir "$rel")
    pk=$(packages "$rel")
    # Complete, and made with the same package list: reuse it.
    if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$pk" ]; then
        echo "$dest"
        exit 0
    fi
    [ "$(id -u)" = 0 ] || { log "building a root needs root"; exit 1; }
    command -v debootstrap >/dev/null 2>&1 || { log "debootstrap is not installed"; exit 1; }
    archive=$("$here/apt-archive.sh") || { log "no Debian archive in the apt configuration"; exit 1; }
    mkdir -p "$cache/roots"
    work=$(mktemp -d "$cache/roots/.$rel.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    log "debootstrap $rel from $archive, then: $pk"
    # A minimal base first, then the daemon's packages by apt inside it (apt
    # orders their installation; debootstrap's --include does not always:
    # trixie's systemd). Both in a mount namespace of their own: the /proc,
    # /sys and /dev mounted in the target cannot outlive them. No service is
    # started (policy-rc.d; no init runs in the root anyway).
    # shellcheck disable=SC2016
    if ! unshare --mount --propagation private --fork sh -ec '
        r=$1 rel=$2 archive=$3 pk=$4
        debootstrap --variant=minbase --components=main \
            --keyring=/usr/share/keyrings/debian-archive-keyring.gpg "$rel" "$r" "$archive"
        mount -t proc proc "$r/proc"
        mount --rbind /sys "$r/sys"
        mount --rbind /dev "$r/dev"
        printf "#!/bin/sh\nexit 101\n" >"$r/usr/sbin/policy-rc.d"
        chmod 755 "$r/usr/sbin/policy-rc.d"
        chroot "$r" apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get install -y -qq \
            --no-install-recommends $pk' debian-root "$work/root" "$rel" "$archive" "$pk" \
        >"$work/log" 2>&1; then
        tail -n 40 "$work/log" >&2
        log "building the $rel root failed (the log's end above)"
        exit 1
    fi
    # The downloaded packages are not needed any more.
    rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*_Packages*
    [ -x "$work/root/usr/sbin/libvirtd" ] || { log "no libvirtd in the $rel root"; exit 1; }
    echo "$pk" >"$work/root/.complete"
    rm -rf "$dest"
    mv "$work/root" "$dest"
    log "$rel root in $dest: $(chroot "$dest" libvirtd --version)"
    echo "$dest"
    ;;
run)
    root=${2:?usage: debian-root.sh run ROOT CMD...}
    shift 2
    [ -f "$root/.complete" ] || { log "$root is not a root made by debian-root.sh build"; exit 1; }
    [ "$(id -u)" = 0 ] || { log "running in a root needs root"; exit 1; }
    t=$(cd "${TMPDIR:-/tmp}" && pwd -P)
    # shellcheck disable=SC2016
    exec unshare --mount --propagation private --fork sh -ec '
        r=$1 t=$2
        shift 2
        mount -t proc proc "$r/proc"
        mount --rbind /sys "$r/sys"
        mount --rbind /dev "$r/dev"
        mount -t tmpfs -o mode=755 tmpfs "$r/run"
        # The names of the host: the daemon resolves the name of the
        # machine (connect_get_hostname), without them by a DNS query.
        touch "$r/etc/hosts"
        mount --bind -o ro /etc/hosts "$r/etc/hosts"
        mkdir -p "$r$t"
        mount --bind "$t" "$r$t"
        exec chroot "$r" "$@"' debian-root "$root" "$t" "$@"
    ;;
*)
    echo "usage: debian-root.sh build|path RELEASE | run ROOT CMD..." >&2
    exit 2
    ;;
esac
