#!/bin/sh
# SPDX-License-Identifier: MIT
# TCP (IPv4 and IPv6) and TLS against real libvirt daemons on loopback, with
# certificates made here by certtool: the common checks, `virtrpc list` next
# to `virsh list`, and the refusals (unknown CA, expired certificate,
# hostname mismatch, missing client certificate), each refused by default
# and, where libvirt accepts it, accepted with no_verify=1 - by virsh too.
# Usage: test-tcp-tls.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL TLS-INTERNAL [VIRTRPC]
set -u
check=$2
openfail=$3
internal=$4
cli=${5:-}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

use_tmp
need certtool python3

# ---- certificates ----
pki="$tmp/pki"
mkdir -p "$pki"
pki_ca ca "virtrpc test CA"
pki_ca ca2 "virtrpc other CA"
pki_key server
pki_key client
pki_key client2
server_lines="tls_www_server
encryption_key
signing_key"
# shellcheck disable=SC2086
pki_cert server server ca "cn = localhost" "dns_name = localhost" "ip_address = 127.0.0.1" \
    "ip_address = ::1" $server_lines "expiration_days = 30"
# shellcheck disable=SC2086
pki_cert expired server ca "cn = localhost" "dns_name = localhost" "ip_address = 127.0.0.1" \
    $server_lines 'activation_date = "2020-01-01 00:00:00 UTC"' \
    'expiration_date = "2021-01-01 00:00:00 UTC"'
# shellcheck disable=SC2086
pki_cert wronghost server ca "cn = wronghost.example" "dns_name = wronghost.example" \
    $server_lines "expiration_days = 30"
pki_cert client client ca "cn = virtrpc test client" tls_www_client encryption_key \
    signing_key "expiration_days = 30"
pki_cert client2 client2 ca2 "cn = virtrpc other client" tls_www_client encryption_key \
    signing_key "expiration_days = 30"
# The daemons trust both CAs, so a client of the other CA gets in once it
# stops checking the server (no_verify=1).
cat "$pki/ca-cert.pem" "$pki/ca2-cert.pem" >"$pki/both-ca.pem"
for f in ca-cert server-cert expired-cert wronghost-cert client-cert client2-cert; do
    if [ ! -s "$pki/$f.pem" ]; then
        echo "1..0 # SKIP certtool could not make $f.pem"
        exit 0
    fi
done

# Client directories for pkipath=.
clientdir() { # DIR CA CLIENT (CLIENT "" = none)
    mkdir -p "$tmp/$1"
    cp "$pki/$2-cert.pem" "$tmp/$1/cacert.pem"
    if [ -n "$3" ]; then
        cp "$pki/$3-cert.pem" "$tmp/$1/clientcert.pem"
        cp "$pki/$3-key.pem" "$tmp/$1/clientkey.pem"
    fi
}
clientdir good ca client
clientdir otherca ca2 client2
clientdir nocert ca ""
# Our own certificate is not from the CA we trust: libvirt's sanity check.
clientdir mixed ca client2

# ---- daemons ----
# start NAME ADDR CERT TCP(0/1) TLS(0/1) [EXTRA...]: sets NAME_tcp, NAME_tls.
start() {
    name=$1 addr=$2 cert=$3 tcp=$4 tls=$5
    shift 5
    for _ in 1 2 3; do
        ptcp=$(free_port "$addr")
        ptls=$(free_port "$addr")
        if daemon_start "$name" -l "listen_addr = \"$addr\"" \
            "listen_tcp = $tcp" "tcp_port = \"$ptcp\"" 'auth_tcp = "none"' \
            "listen_tls = $tls" "tls_port = \"$ptls\"" 'auth_tls = "none"' \
            "key_file = \"$pki/server-key.pem\"" "cert_file = \"$pki/$cert-cert.pem\"" \
            "ca_file = \"$pki/both-ca.pem\"" 'tls_no_verify_certificate = 0' "$@"; then
            eval "${name}_tcp=$ptcp ${name}_tls=$ptls"
            return 0
        fi
        rm -rf "${tmp:?}/$name"
    done
    diag "$tmp/$name.start"
    return 1
}
main_tcp="" main_tls="" expired_tls="" wrong_tls="" v6_tcp="" v6_tls=""
start main 127.0.0.1 server 1 1 || ok 1 "start a daemon with TCP and TLS on 127.0.0.1"
start expired 127.0.0.1 expired 0 1 'tls_no_sanity_certificate = 1' ||
    ok 1 "start a daemon with an expired certificate"
start wrong 127.0.0.1 wronghost 0 1 || ok 1 "start a daemon with a certificate for another host"
have_v6=0
if free_port ::1 >/dev/null 2>&1; then
    if start v6 ::1 server 1 1; then have_v6=1; else ok 1 "start a daemon on ::1"; fi
fi

# A refusal: our library (3 times, no leak, the reason), our tool (one line,
# failure) and virsh (failure) with the same URI.
refused() { # NAME URI TEXT...
    rname=$1 ruri=$2
    shift 2
    refused_by_all "$rname" 3 "$ruri" "$@"
}

# An acceptance that needs no_verify=1, by us and by virsh.
accepted() { # NAME URI
    VRPC_CHECK_PREFIX="$1: " tap "$check" "$2"
    same_list "$2"
}

# ---- (0) internals: credential locations, deadlines ----
tap "$internal" files
tap "$internal" timeouts "$tmp/good"

# ---- (a) TCP ----
if [ -n "$main_tcp" ]; then
    u="test+tcp://127.0.0.1:$main_tcp/default"
    VRPC_CHECK_PREFIX="tcp ipv4: " tap "$check" "$u"
    same_list "$u"
    tap "$internal" ssf "$u" -1
fi
if [ $have_v6 -eq 1 ]; then
    u="test+tcp://[::1]:$v6_tcp/default"
    VRPC_CHECK_PREFIX="tcp ipv6: " tap "$check" "$u"
    same_list "$u"
else
    skip "tcp ipv6: ::1 is not available on this machine"
fi
# Nothing listens there / no such host.
refused "tcp refused" "test+tcp://127.0.0.1:$(free_port 127.0.0.1)/default" "connect: connect to 127.0.0.1:" "Connection refused"
refused "tcp unknown host" "test+tcp://nosuchhost.invalid:16509/default" "resolve: nosuchhost.invalid: "

# ---- (b) TLS ----
if [ -n "$main_tls" ]; then
    u="test+tls://localhost:$main_tls/default?pkipath=$tmp/good"
    VRPC_CHECK_PREFIX="tls: " tap "$check" "$u"
    same_list "$u"
    tap "$internal" ssf "$u" 128
    tap "$internal" threads "$u"
    u="test+tls://127.0.0.1:$main_tls/default?pkipath=$tmp/good"
    VRPC_CHECK_PREFIX="tls by address: " tap "$check" "$u"
    u="test+tls://localhost:$main_tls/default?pkipath=$tmp/good&tls_priority=NORMAL:-VERS-TLS1.3"
    VRPC_CHECK_PREFIX="tls 1.2: " tap "$check" "$u"
    same_list "$u"
    if [ $have_v6 -eq 1 ]; then
        u="test+tls://[::1]:$v6_tls/default?pkipath=$tmp/good"
        VRPC_CHECK_PREFIX="tls ipv6: " tap "$check" "$u"
        same_list "$u"
    fi

    # ---- (c) refusals ----
    base="test+tls://localhost:$main_tls/default"
    refused "unknown CA" "$base?pkipath=$tmp/otherca" \
        "certificate check: the server certificate of localhost:$main_tls is not trusted (unknown CA)"
    accepted "unknown CA, no_verify=1" "$base?pkipath=$tmp/otherca&no_verify=1"

    refused "missing client certificate" "$base?pkipath=$tmp/nocert" \
        "certificate check: the daemon at localhost:$main_tls refused the connection" \
        "missing client certificate $tmp/nocert/clientcert.pem"
    refused "missing client certificate, no_verify=1" "$base?pkipath=$tmp/nocert&no_verify=1" \
        "missing client certificate $tmp/nocert/clientcert.pem"

    refused "own certificate from another CA" "$base?pkipath=$tmp/mixed" \
        "connect: TLS credentials: the client certificate $tmp/mixed/clientcert.pem is not trusted (unknown CA)"
    accepted "own certificate from another CA, no_sanity=1" "$base?pkipath=$tmp/mixed&no_sanity=1"

    refused "missing CA certificate" "$base?pkipath=$tmp/empty" \
        "connect: TLS credentials: cannot read CA certificate $tmp/empty/cacert.pem"
    refused "bad tls_priority" "$base?pkipath=$tmp/good&tls_priority=NO-SUCH-PRIORITY" \
        "TLS priority 'NO-SUCH-PRIORITY'"

    # tls_priority of root's libvirt.conf (/etc/libvirt/libvirt.conf, replaced
    # in a private mount namespace), where the URI has none.
    if [ -n "$cli" ] && etc_libvirt_ok; then
        mkdir -p "$tmp/etc"
        echo 'tls_priority = "NO-SUCH-PRIORITY"' >"$tmp/etc/libvirt.conf"
        with_etc_libvirt "$tmp/etc" "$cli" -c "$base?pkipath=$tmp/good" list >"$tmp/ours" 2>&1
        a=$?
        with_etc_libvirt "$tmp/etc" "$virsh" -c "$base?pkipath=$tmp/good" list >"$tmp/theirs" 2>&1
        b=$?
        [ $a -eq 1 ] && [ $b -ne 0 ] && grep -qF "TLS priority 'NO-SUCH-PRIORITY'" "$tmp/ours"
        ok $? "tls_priority of libvirt.conf reaches the TLS transport, virsh refuses too (exit $a/$b)"
        if [ $a -ne 1 ] || [ $b -eq 0 ]; then diag "$tmp/ours" "$tmp/theirs"; fi
        run_as="with_etc_libvirt $tmp/etc"
        same_list "$base?pkipath=$tmp/good&tls_priority=NORMAL" "" \
            "tls_priority= in the URI beats libvirt.conf's"
        echo 'tls_priority = "NORMAL:-VERS-TLS1.3"' >"$tmp/etc/libvirt.conf"
        same_list "$base?pkipath=$tmp/good" "" "a valid tls_priority of libvirt.conf: list works"
        run_as=
    else
        skip "tls_priority of libvirt.conf: needs the tool and a private mount namespace"
    fi
fi
if [ -n "$expired_tls" ]; then
    base="test+tls://localhost:$expired_tls/default"
    refused "expired certificate" "$base?pkipath=$tmp/good" \
        "certificate check: the server certificate of localhost:$expired_tls has expired"
    accepted "expired certificate, no_verify=1" "$base?pkipath=$tmp/good&no_verify=1"
fi
if [ -n "$wrong_tls" ]; then
    base="test+tls://localhost:$wrong_tls/default"
    refused "hostname mismatch" "$base?pkipath=$tmp/good" \
        "certificate check: hostname mismatch (certificate is for wronghost.example, URI host is localhost)"
    accepted "hostname mismatch, no_verify=1" "$base?pkipath=$tmp/good&no_verify=1"
fi

# ---- ~/.pki/libvirt for a user other than root ----
if [ -n "$main_tls" ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    home="$tmp/home"
    mkdir -p "$home/.pki"
    cp -r "$tmp/good" "$home/.pki/libvirt"
    chown -R nobody "$home"
    group=$(id -gn nobody 2>/dev/null || echo nogroup)
    asuser() {
        setpriv --reuid=nobody --regid="$group" --clear-groups env -i PATH="$PATH" HOME="$home" \
            XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
            XDG_RUNTIME_DIR="$home/run" "$@"
    }
    u="test+tls://localhost:$main_tls/default"
    [ -z "$cli" ] || run_as=asuser same_list "$u" "$u" \
        "as a non-root user, ~/.pki/libvirt is used: virtrpc list prints what virsh prints"
fi

finish
