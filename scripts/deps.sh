#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what building, the demo and the tests need on Debian 12, if missing.
set -eu
pkgs="gcc libc6-dev meson ninja-build pkg-config libjson-c-dev python3 xz-utils dpkg-dev
      libvirt-daemon libvirt-clients python3-libvirt util-linux procps clang libgnutls28-dev gnutls-bin
      libsasl2-dev libsasl2-modules sasl2-bin valgrind
      openssh-server openssh-client netcat-openbsd
      qemu-system-x86
      libglib2.0-dev libuv1-dev
      rpcsvc-proto libtirpc-dev
      dbus-daemon dbus-bin polkitd
      debootstrap
      libvirt-dev libsys-virt-perl ruby-libvirt collectd-core prometheus-libvirt-exporter libvirt-glib-1.0-0
      libglib2.0-bin"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages:$missing (run as root to install them)" >&2
        exit 1
    fi
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
fi
# The load check of the compat libraries (tests/compat/load-check.py) also
# covers libvirt-dbus, whose package depends on the system daemons
# (libvirt-daemon-system): its files are unpacked into a cache instead.
dbus_cache=${XDG_CACHE_HOME:-$HOME/.cache}/virtrpc/libvirt-dbus
if [ ! -d "$dbus_cache/usr" ] && [ "$(id -u)" = 0 ]; then
    dl=$(mktemp -d)
    chmod 755 "$dl"
    chown _apt "$dl" 2>/dev/null || true
    if (cd "$dl" && apt-get download -qq libvirt-dbus >&2) && mkdir -p "$dbus_cache" &&
        dpkg-deb -x "$dl"/libvirt-dbus_*.deb "$dbus_cache"; then
        echo "deps: libvirt-dbus unpacked in $dbus_cache" >&2
    else
        echo "deps: could not fetch libvirt-dbus (its load check will be skipped)" >&2
    fi
    rm -rf "$dl"
fi
