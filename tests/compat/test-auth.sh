#!/bin/sh
# SPDX-License-Identifier: MIT
# virConnectOpenAuth's credential callbacks on virtrpc's libvirt.so.0 and on
# the system's, against a private libvirtd whose read-write socket asks for
# SASL (SCRAM-SHA-256, a sasldb user made here): the credential types asked,
# and the outcome (opened, or the error's code and domain) must be the same
# with both libraries for a good password, a wrong one, a callback that
# fails, a callback that cannot answer the passphrase, no callback, and the
# default callback answering from stdin.
# Usage: test-auth.sh SRCDIR AUTH-OPEN
set -u
prog=$2
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

# meson puts build/compat first in the loader's path: the daemons must not
# load it (they take libvirt's private symbols), only our program does.
ours_path=${LD_LIBRARY_PATH:-}
unset LD_LIBRARY_PATH

need saslpasswd2
need_root_libvirtd
use_tmp

export XDG_CONFIG_HOME="$tmp/xdg"
mkdir -p "$XDG_CONFIG_HOME"
unset LIBVIRT_AUTH_FILE

sys=$(/sbin/ldconfig -p 2>/dev/null | awk '/libvirt\.so\.0 /{print $NF; exit}')
[ -n "$sys" ] || skip_all "no system libvirt.so.0 to compare with"

sasl="$tmp/sasl2"
mkdir -p "$sasl"
if ! printf 'secret' | saslpasswd2 -p -a libvirt -f "$tmp/sasldb" alice 2>/dev/null; then
    skip_all "saslpasswd2 cannot make a sasldb"
fi
chmod 644 "$tmp/sasldb"
printf 'mech_list: scram-sha-256\nsasldb_path: %s\n' "$tmp/sasldb" >"$sasl/libvirt.conf"
if ! SASL_CONF_PATH="$sasl" daemon_start d 'auth_unix_rw = "sasl"'; then
    ok 1 "start a libvirtd asking for SASL on its socket"
    diag "$tmp/d.start"
    finish
fi
uri="test+unix:///default?socket=$tmp/d/sys/run/libvirt-sock"

for mode in good wrong refuse narrow none default; do
    printf 'alice\nsecret\n' | LD_LIBRARY_PATH=$ours_path "$prog" "$uri" $mode >"$tmp/ours.$mode" 2>&1
    # (libvirt.so and its SASL plugins leak: LeakSanitizer looks at ours only)
    printf 'alice\nsecret\n' | ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        LD_LIBRARY_PATH=$(dirname "$sys") "$prog" "$uri" $mode \
        >"$tmp/sys.$mode" 2>&1
    if cmp -s "$tmp/sys.$mode" "$tmp/ours.$mode"; then
        ok 0 "$mode: $(grep '^open:' "$tmp/ours.$mode")"
    else
        ok 1 "$mode: the same as libvirt.so"
        diff -u "$tmp/sys.$mode" "$tmp/ours.$mode" | sed 's/^/# /'
    fi
done
grep -q '^open: ok' "$tmp/ours.good"
ok $? "good: the open succeeds"
grep -q '^open: failed' "$tmp/ours.wrong"
ok $? "wrong: the open fails"
finish
