#!/bin/sh
# SPDX-License-Identifier: MIT
# libvirt's client configuration (libvirt.conf, libvirt-admin.conf) read by
# the tool against the private daemon of scripts/test-daemon.sh, next to
# virsh and virt-admin reading the same file:
#  - as nobody, the file is $XDG_CONFIG_HOME/libvirt/libvirt.conf in a
#    temporary directory;
#  - as root, the file is /etc/libvirt/libvirt.conf: a temporary directory is
#    bind-mounted over /etc/libvirt in a private mount namespace (unshare -m),
#    which changes nothing outside it.
# Checked: an alias resolves and the command works; -c beats
# LIBVIRT_DEFAULT_URI beats uri_default; malformed files fail naming the
# file, the line and the key, and virsh refuses them too.
# Usage: test-libvirt-conf.sh SRCDIR VIRTRPC
# Needs VRPC_TEST_DIR (scripts/test-daemon.sh start).
set -u
cli=${2:?usage: test-libvirt-conf.sh SRCDIR VIRTRPC}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

if [ -z "${VRPC_TEST_DIR:-}" ] || [ ! -S "$VRPC_TEST_DIR/sys/run/libvirt-sock" ]; then
    skip_all "no private daemon (VRPC_TEST_DIR)"
fi
need virsh
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
    skip_all "needs root and setpriv to run as another user"
fi
user=nobody
group=$(id -gn nobody 2>/dev/null || echo nogroup)
sock="$VRPC_TEST_DIR/sys/run/libvirt-sock"
asock="$VRPC_TEST_DIR/sys/run/libvirt-admin-sock"
uri="test+unix:///default?socket=$sock"

use_tmp
home="$tmp/home"
cfg="$home/cfg"
mkdir -p "$cfg/libvirt" "$home/run" "$tmp/etc"
chown -R "$user:$group" "$home"
conf="$cfg/libvirt/libvirt.conf"

# Write the user's libvirt.conf (readable by nobody).
put() { # TEXT (printf format)
    # shellcheck disable=SC2059
    printf "$1" >"$conf"
    chmod 644 "$conf"
}

# Run as nobody with only the variables given (VAR=VALUE...) and the
# temporary HOME / XDG_CONFIG_HOME.
asuser() {
    setpriv --reuid="$user" --regid="$group" --clear-groups env -i PATH="$PATH" HOME="$home" \
        XDG_CONFIG_HOME="$cfg" XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$home/run" \
        ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
        ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} "$@"
}

# ours CMD...: run the tool (its output in $tmp/ours, $tmp/ours.err, status in $a)
ours() {
    "$@" >"$tmp/ours" 2>"$tmp/ours.err"
    a=$?
}
# theirs CMD...: the same for virsh (into $tmp/theirs*, status in $b)
theirs() {
    "$@" >"$tmp/theirs" 2>"$tmp/theirs.err"
    b=$?
}
show() {
    sed 's/^/# virtrpc: /' "$tmp/ours" "$tmp/ours.err"
    [ -f "$tmp/theirs" ] && sed 's/^/# virsh: /' "$tmp/theirs" "$tmp/theirs.err"
    rm -f "$tmp/theirs" "$tmp/theirs.err"
}
check() { # NAME CONDITION-STATUS
    ok "$2" "$1"
    [ "$2" -eq 0 ] || show
    rm -f "$tmp/theirs" "$tmp/theirs.err"
}

# Both list the same domains, both exit 0.
both_list() { # NAME PREFIX-CMD [ARGS...]: ARGS go to both tools
    t_n=$1
    shift
    ours "$@" "$cli" ${c:+-c "$c"} list
    theirs "$@" "$virsh" ${c:+-c "$c"} list
    [ $a -eq 0 ] && [ $b -eq 0 ] && cmp -s "$tmp/ours" "$tmp/theirs"
    check "$t_n (exit $a/$b)" $?
}

# Both fail; ours names WANT (a fixed string) in its one-line error.
both_fail() { # NAME WANT PREFIX-CMD...
    t_n=$1 t_want=$2
    shift 2
    ours "$@" "$cli" ${c:+-c "$c"} list
    theirs "$@" "$virsh" ${c:+-c "$c"} list
    [ $a -eq 1 ] && [ $b -ne 0 ] && grep -qF -- "$t_want" "$tmp/ours.err" &&
        [ "$(wc -l <"$tmp/ours.err")" -eq 1 ]
    check "$t_n: $(cat "$tmp/ours.err") | virsh: $(grep -v '^$' "$tmp/theirs.err" | tail -n 1)" $?
}

# ---- as nobody: $XDG_CONFIG_HOME/libvirt/libvirt.conf ----

asuser "$cli" -c "$uri" list >"$tmp/ours" 2>"$tmp/ours.err" ||
    skip_all "nobody cannot reach the private daemon: $(cat "$tmp/ours.err")"

put "# aliases\nuri_aliases = [\n  \"td=$uri\",\n  \"other-Name_2=test+unix:///default?socket=$tmp/none\",\n]\n"
c=td; both_list "an alias (-c td) resolves for nobody, as for virsh" asuser
c=other-Name_2; both_fail "an alias of every allowed character resolves too (to a missing socket)" \
    "$tmp/none" asuser
c=TD; both_fail "names are case-sensitive: 'TD' is no alias" "no scheme" asuser

put "uri_default = \"$uri\"\n"
c=; both_list "uri_default when no -c and no LIBVIRT_DEFAULT_URI" asuser
put "uri_aliases = [ \"td=$uri\" ]\nuri_default = 'td'\n"
c=; both_list "uri_default naming an alias" asuser

# Precedence, told by which missing socket an open fails on.
put "uri_default = \"test+unix:///default?socket=$tmp/from-default\"\n"
c=; both_fail "uri_default is used" "$tmp/from-default" asuser
c=; both_fail "LIBVIRT_DEFAULT_URI beats uri_default" "$tmp/from-env" \
    asuser LIBVIRT_DEFAULT_URI="test+unix:///default?socket=$tmp/from-env"
c="test+unix:///default?socket=$tmp/from-c"; both_fail "-c beats LIBVIRT_DEFAULT_URI" \
    "$tmp/from-c" asuser LIBVIRT_DEFAULT_URI="test+unix:///default?socket=$tmp/from-env"
c=; both_list "LIBVIRT_DEFAULT_URI (working) beats uri_default (missing)" \
    asuser LIBVIRT_DEFAULT_URI="$uri"
c="$uri"; both_list "-c (working) beats LIBVIRT_DEFAULT_URI (missing) and uri_default" \
    asuser LIBVIRT_DEFAULT_URI="test+unix:///default?socket=$tmp/from-env"
put "uri_aliases = [ \"envalias=$uri\" ]\n"
c=; both_list "LIBVIRT_DEFAULT_URI naming an alias" asuser LIBVIRT_DEFAULT_URI=envalias

# Malformed files: every open fails, -c with a working URI too.
c="$uri"
put "# one\nuri_aliases = [ \"td=$uri\" ]\nuri_default = \"test:///default\n"
both_fail "an unterminated string" "$conf:3: key 'uri_default': unterminated string" asuser
put "uri_aliases = [\n  \"td=$uri\"\n  \"x=test:///default\"\n]\n"
both_fail "a list without ','" "$conf:3: key 'uri_aliases': expected ',' or ']'" asuser
put "uri_aliases = [ \"td=$uri\",\n # a comment\n ]\n"
both_fail "a comment inside a list" "$conf:2: key 'uri_aliases'" asuser
put "\nuri_default qemu:///system\n"
both_fail "a line that is no assignment" "$conf:2: key 'uri_default': expected '='" asuser
put "uri_default = qemu:///system\n"
both_fail "a bare word as a value" "$conf:1: key 'uri_default': expected a value" asuser
put "uri_aliases = [\n \"td=$uri\",\n \"a.b=test:///default\" ]\n"
c=a.b; both_fail "an alias name with a '.'" \
    "$conf:3: key 'uri_aliases': malformed entry 'a.b=test:///default'" asuser
put "uri_aliases = [ \"noequals\", \"td=$uri\" ]\n"
c=td; both_fail "an alias entry without '=' before the match" \
    "$conf:1: key 'uri_aliases': malformed entry 'noequals'" asuser
put "uri_aliases = \"td=$uri\"\n"
c=td; both_fail "uri_aliases as a string" "$conf:1: key 'uri_aliases': expected a list" asuser
put "uri_default = 42\n"
c=; both_fail "uri_default as a number" "$conf:1: key 'uri_default': expected a string" asuser
put "remote_mode = \"sideways\"\n"
c="$uri"; both_fail "an unknown remote_mode" "$conf:1: key 'remote_mode': unknown mode" asuser
put "remote_mode = \"direct\"\n"
c="$uri"; both_list "remote_mode = direct with socket= in the URI" asuser

# Files virsh is not asked about: NUL bytes, sizes.
c="$uri"
printf 'uri_default = "test:///de\000fault"\n' >"$conf"
ours asuser "$cli" -c "$uri" list
[ $a -eq 1 ] && grep -qF "$conf:1: key 'uri_default': a NUL byte in a string" "$tmp/ours.err"
check "a NUL byte in a string: $(cat "$tmp/ours.err")" $?
head -c 2000000 /dev/zero | tr '\0' '#' >"$conf"
ours asuser "$cli" -c "$uri" list
[ $a -eq 1 ] && grep -qF "$conf: larger than 1048576 bytes" "$tmp/ours.err"
check "a 2 MB file: $(cat "$tmp/ours.err")" $?
awk 'BEGIN { printf "l = ["; for (i = 0; i < 100; i++) printf "["; print "" }' >"$conf"
ours asuser "$cli" -c "$uri" list
[ $a -eq 1 ] && grep -qF "$conf:1: key 'l': lists nested deeper than 8" "$tmp/ours.err"
check "lists 100 deep: $(cat "$tmp/ours.err")" $?
rm -f "$conf"
ours asuser "$cli" -c "$uri" list
check "no file at all: the URI as given (exit $a)" $a

# ---- as root: /etc/libvirt/libvirt.conf in a private mount namespace ----

# inns CMD...: run CMD with $tmp/etc mounted over /etc/libvirt, for it only.
# shellcheck disable=SC2317 # called through both_list and both_fail
inns() { with_etc_libvirt "$tmp/etc" "$@"; }
if ! etc_libvirt_ok; then
    skip "as root: no private mount namespace over /etc/libvirt"
    finish
fi
rootconf="/etc/libvirt/libvirt.conf"
printf 'uri_aliases = [ "td=%s" ]\n' "$uri" >"$tmp/etc/libvirt.conf"
c=td; both_list "root: an alias of /etc/libvirt/libvirt.conf" inns env -u LIBVIRT_DEFAULT_URI \
    XDG_CONFIG_HOME="$cfg"
printf 'uri_default = "%s"\n' "$uri" >"$tmp/etc/libvirt.conf"
put "uri_default = 'test:///x\n"
c=; both_list "root: uri_default of the system file; \$XDG_CONFIG_HOME's (broken) is not read" \
    inns env -u LIBVIRT_DEFAULT_URI XDG_CONFIG_HOME="$cfg"
printf '\n\nuri_aliases = [ "a=%s" "b" ]\n' "$uri" >"$tmp/etc/libvirt.conf"
c=a; both_fail "root: a malformed system file" "$rootconf:3: key 'uri_aliases'" inns env

# Admin: libvirt-admin.conf (virt-admin, when installed, reads it too).
printf 'uri_aliases = [ "adm=libvirtd:///system?socket=%s" ]\nuri_default = "adm"\n' "$asock" \
    >"$tmp/etc/libvirt-admin.conf"
: >"$tmp/etc/libvirt.conf"
for how in "-c adm" ""; do
    # shellcheck disable=SC2086
    ours inns env -u LIBVIRT_ADMIN_DEFAULT_URI "$cli" --admin $how version
    [ $a -eq 0 ] && grep -q . "$tmp/ours"
    check "admin: ${how:-uri_default naming} an alias of libvirt-admin.conf" $?
done
if command -v virt-admin >/dev/null 2>&1; then
    ours inns env -u LIBVIRT_ADMIN_DEFAULT_URI "$cli" --admin call admin_connect_list_servers \
        '{"need_results": 1, "flags": 0}'
    theirs inns env -u LIBVIRT_ADMIN_DEFAULT_URI virt-admin srv-list
    [ $a -eq 0 ] && [ $b -eq 0 ] && grep -q libvirtd "$tmp/ours" && grep -q libvirtd "$tmp/theirs"
    check "admin: virt-admin reaches the same daemon through the same file (exit $a/$b)" $?
fi
printf 'uri_default = "adm"\nuri_aliases = [ "adm=libvirtd:///system?socket=%s", ]\nx = [\n' \
    "$asock" >"$tmp/etc/libvirt-admin.conf"
ours inns env -u LIBVIRT_ADMIN_DEFAULT_URI "$cli" --admin version
[ $a -eq 1 ] && grep -qF "/etc/libvirt/libvirt-admin.conf:3: key 'x': list not closed" \
    "$tmp/ours.err"
check "admin: a malformed libvirt-admin.conf: $(cat "$tmp/ours.err")" $?

finish
