#!/bin/sh
# SPDX-License-Identifier: MIT
# Start or stop private libvirt daemons that touch nothing outside DIR.
#   test-daemon.sh start DIR [TCP_PORT]
#   test-daemon.sh stop DIR
#   test-daemon.sh start-one DIR [-l] [CONFIG-LINE...]
#       one root libvirtd serving the test driver, with extra libvirtd.conf lines
#       (e.g. 'listen_tls = 1' 'tls_port = "16600"' 'auth_tcp = "sasl"'); -l makes
#       it listen on TCP/TLS. Its environment is inherited (SASL_CONF_PATH...).
#       Sockets in DIR/sys/run; stop it with `stop DIR`.
#   test-daemon.sh conf DIR [CONFIG-LINE...]
#       only write DIR/libvirtd.conf as the daemons above get it (sockets in
#       DIR/run, log in DIR/libvirtd.log), for a daemon started elsewhere.
#
# Two daemons are started:
#  - DIR/sys: a libvirtd serving only its built-in test driver (test:///default),
#    with the read-write, read-only and admin sockets:
#      DIR/sys/run/libvirt-sock, libvirt-sock-ro, libvirt-admin-sock
#    (and TCP on 127.0.0.1:TCP_PORT when given).
#  - DIR/user: a libvirtd running as an unprivileged user with the real storage
#    and secret drivers (storage:///session, secret:///session), whose state stays
#    in DIR/user/state:  DIR/user/run/libvirt-sock; pools go under DIR/user/pool.
#
# With VRPC_DAEMON_ROOT set to a root made by scripts/debian-root.sh build,
# every daemon is that root's libvirtd, run in it (debian-root.sh run): DIR
# must then be below the temporary directory that the root sees at the same
# path (${TMPDIR:-/tmp}).
set -eu
cmd=${1:?usage: test-daemon.sh start|stop DIR [TCP_PORT]}
dir=${2:?usage: test-daemon.sh start|stop DIR [TCP_PORT]}
tcp=${3:-}

top=$(cd "$(dirname "$0")/.." && pwd)
root=${VRPC_DAEMON_ROOT:-}
# The daemon's driver modules, as the daemon sees them ($root$moddir here).
moddir=
for d in /usr/lib/x86_64-linux-gnu/libvirt/connection-driver /usr/lib/*/libvirt/connection-driver /usr/lib64/libvirt/connection-driver; do
    [ -d "$root$d" ] && moddir=$d && break
done

# Run a daemon command: on the host, or in VRPC_DAEMON_ROOT.
daemon_run() {
    if [ -n "$root" ]; then
        "$top/scripts/debian-root.sh" run "$root" "$@"
    else
        "$@"
    fi
}
user=nobody
group=$(id -gn nobody 2>/dev/null || echo nogroup)

wait_socket() {
    i=0
    while [ ! -S "$1" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "test-daemon: no socket $1; log:" >&2
            cat "$2" >&2 || true
            exit 1
        fi
        sleep 0.05
    done
}

conf() { # DIR EXTRA...
    d=$1
    shift
    # libvirt's configuration files keep the FIRST value of a key: the extra
    # lines come first so that they override the defaults below.
    {
        for l in "$@"; do echo "$l"; done
        echo "unix_sock_dir = \"$d/run\""
        echo 'unix_sock_rw_perms = "0777"'
        echo 'unix_sock_ro_perms = "0777"'
        echo 'auth_unix_rw = "none"'
        echo 'auth_unix_ro = "none"'
        echo 'listen_tls = 0'
        echo "log_outputs = \"3:file:$d/libvirtd.log\""
        echo 'max_client_requests = 64'
    } > "$d/libvirtd.conf"
}

stop_one() {
    if [ -f "$1/pid" ]; then
        pid=$(cat "$1/pid")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null; do
            i=$((i + 1))
            if [ $i -gt 100 ]; then kill -9 "$pid" 2>/dev/null || true; fi
            sleep 0.05
        done
        rm -f "$1/pid"
    fi
}

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 755 "$dir"
    # The system-style daemon: test driver only.
    s="$dir/sys"
    mkdir -p "$s/run" "$s/drivers"
    if [ -n "$tcp" ]; then
        conf "$s" 'listen_tcp = 1' 'listen_addr = "127.0.0.1"' "tcp_port = \"$tcp\"" 'auth_tcp = "none"'
        daemon_run env LIBVIRT_DRIVER_DIR="$s/drivers" libvirtd -f "$s/libvirtd.conf" -p "$s/pid" -d -l
    else
        conf "$s"
        daemon_run env LIBVIRT_DRIVER_DIR="$s/drivers" libvirtd -f "$s/libvirtd.conf" -p "$s/pid" -d
    fi
    wait_socket "$s/run/libvirt-sock" "$s/libvirtd.log"
    wait_socket "$s/run/libvirt-admin-sock" "$s/libvirtd.log"
    # The unprivileged daemon: real storage and secret drivers.
    u="$dir/user"
    mkdir -p "$u/run" "$u/drivers" "$u/state/config" "$u/state/cache" "$u/state/runtime" "$u/pool"
    for m in storage secret; do
        if [ -n "$moddir" ] && [ -f "$root$moddir/libvirt_driver_$m.so" ]; then
            ln -sf "$moddir/libvirt_driver_$m.so" "$u/drivers/"
        fi
    done
    conf "$u"
    chown -R "$user:$group" "$u"
    (cd "$u" && daemon_run env -i PATH="$PATH" HOME="$u/state" XDG_CONFIG_HOME="$u/state/config" \
        XDG_CACHE_HOME="$u/state/cache" XDG_RUNTIME_DIR="$u/state/runtime" \
        LIBVIRT_DRIVER_DIR="$u/drivers" \
        setpriv --reuid="$user" --regid="$group" --clear-groups \
        libvirtd -f "$u/libvirtd.conf" -p "$u/pid" -d)
    wait_socket "$u/run/libvirt-sock" "$u/libvirtd.log"
    ;;
stop)
    stop_one "$dir/sys"
    stop_one "$dir/user"
    ;;
start-one)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    shift 2
    listen=
    if [ "${1:-}" = -l ]; then
        listen=-l
        shift
    fi
    s="$dir/sys"
    mkdir -p "$s/run" "$s/drivers"
    conf "$s" "$@"
    # shellcheck disable=SC2086
    daemon_run env LIBVIRT_DRIVER_DIR="$s/drivers" libvirtd -f "$s/libvirtd.conf" -p "$s/pid" -d $listen
    wait_socket "$s/run/libvirt-sock" "$s/libvirtd.log"
    ;;
conf)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    shift 2
    conf "$dir" "$@"
    ;;
*)
    echo "usage: test-daemon.sh start|stop DIR [TCP_PORT] | start-one DIR [-l] [CONFIG-LINE...] | conf DIR [CONFIG-LINE...]" >&2
    exit 2
    ;;
esac
