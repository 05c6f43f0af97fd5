#!/bin/sh
# SPDX-License-Identifier: MIT
# TCP (IPv4 and IPv6) and TLS against real libvirt daemons on loopback, with
# certificates made here by certtool: the common checks, `virtrpc list` next
# to `virsh list`, and the refusals (unknown CA, expired certificate,
# hostname mismatch, missing client certificate), each refused by default
# and, where libvirt accepts it, accepted with no_verify=1 - by virsh too.
# Usage: test-tcp-tls.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL TLS-INTERNAL [VIRTRPC]
set -u
src=$1
check=$2
openfail=$3
internal=$4
cli=${5:-}
daemon="$src/scripts/test-daemon.sh"
virsh=${VRPC_VIRSH:-virsh}

tmp=$(mktemp -d)
chmod 755 "$tmp"
started=
cleanup() {
    # Each daemon takes a couple of seconds to shut down: stop them together.
    for d in $started; do "$daemon" stop "$tmp/$d" >/dev/null 2>&1 & done
    wait
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

all="$tmp/all.tap"
: >"$all"
status=0

# Print TAP lines and keep them for the plan.
emit() {
    cat "$1"
    cat "$1" >>"$all"
}
ok() { # COND-STATUS NAME
    if [ "$1" -eq 0 ]; then echo "ok - $2"; else
        echo "not ok - $2"
        status=1
    fi >"$tmp/line"
    emit "$tmp/line"
}
skip() {
    echo "ok - # SKIP $1" >"$tmp/line"
    emit "$tmp/line"
}
# Run a helper that prints TAP lines without a plan.
tap() {
    "$@" >"$tmp/part" 2>"$tmp/part.err"
    rc=$?
    emit "$tmp/part"
    if [ $rc -ne 0 ]; then
        status=1
        sed 's/^/# /' "$tmp/part.err"
    fi
}
finish() {
    echo "1..$(grep -cE '^(not )?ok' "$all")"
    exit $status
}

for tool in certtool python3; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "1..0 # SKIP $tool is not installed"
        exit 0
    fi
done

free_port() { # ADDR
    python3 -c 'import socket,sys
f=socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s=socket.socket(f); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

# ---- certificates ----
pki="$tmp/pki"
mkdir -p "$pki"
gen_key() { certtool --generate-privkey --bits 2048 --outfile "$pki/$1-key.pem" >/dev/null 2>&1; }
ca_cert() { # NAME CN
    gen_key "$1"
    printf 'cn = %s\nca\ncert_signing_key\nexpiration_days = 30\n' "$2" >"$pki/$1.info"
    certtool --generate-self-signed --load-privkey "$pki/$1-key.pem" --template "$pki/$1.info" \
        --outfile "$pki/$1-cert.pem" >/dev/null 2>&1
}
signed_cert() { # NAME KEY CA TEMPLATE-LINES...
    name=$1 key=$2 ca=$3
    shift 3
    printf '%s\n' "organization = virtrpc test" "$@" >"$pki/$name.info"
    certtool --generate-certificate --load-privkey "$pki/$key-key.pem" \
        --load-ca-certificate "$pki/$ca-cert.pem" --load-ca-privkey "$pki/$ca-key.pem" \
        --template "$pki/$name.info" --outfile "$pki/$name-cert.pem" >/dev/null 2>&1
}
ca_cert ca "virtrpc test CA"
ca_cert ca2 "virtrpc other CA"
gen_key server
gen_key client
gen_key client2
server_lines="tls_www_server
encryption_key
signing_key"
# shellcheck disable=SC2086
signed_cert server server ca "cn = localhost" "dns_name = localhost" "ip_address = 127.0.0.1" \
    "ip_address = ::1" $server_lines "expiration_days = 30"
# shellcheck disable=SC2086
signed_cert expired server ca "cn = localhost" "dns_name = localhost" "ip_address = 127.0.0.1" \
    $server_lines 'activation_date = "2020-01-01 00:00:00 UTC"' \
    'expiration_date = "2021-01-01 00:00:00 UTC"'
# shellcheck disable=SC2086
signed_cert wronghost server ca "cn = wronghost.example" "dns_name = wronghost.example" \
    $server_lines "expiration_days = 30"
signed_cert client client ca "cn = virtrpc test client" tls_www_client encryption_key \
    signing_key "expiration_days = 30"
signed_cert client2 client2 ca2 "cn = virtrpc other client" tls_www_client encryption_key \
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
    for try in 1 2 3; do
        ptcp=$(free_port "$addr")
        ptls=$(free_port "$addr")
        if "$daemon" start-one "$tmp/$name" -l "listen_addr = \"$addr\"" \
            "listen_tcp = $tcp" "tcp_port = \"$ptcp\"" 'auth_tcp = "none"' \
            "listen_tls = $tls" "tls_port = \"$ptls\"" 'auth_tls = "none"' \
            "key_file = \"$pki/server-key.pem\"" "cert_file = \"$pki/$cert-cert.pem\"" \
            "ca_file = \"$pki/both-ca.pem\"" 'tls_no_verify_certificate = 0' "$@" \
            >"$tmp/$name.start" 2>&1; then
            started="$started $name"
            eval "${name}_tcp=$ptcp ${name}_tls=$ptls"
            return 0
        fi
        "$daemon" stop "$tmp/$name" >/dev/null 2>&1
        rm -rf "${tmp:?}/$name"
    done
    sed 's/^/# /' "$tmp/$name.start"
    return 1
}
main_tcp= main_tls= expired_tls= wrong_tls= v6_tcp= v6_tls=
start main 127.0.0.1 server 1 1 || ok 1 "start a daemon with TCP and TLS on 127.0.0.1"
start expired 127.0.0.1 expired 0 1 'tls_no_sanity_certificate = 1' ||
    ok 1 "start a daemon with an expired certificate"
start wrong 127.0.0.1 wronghost 0 1 || ok 1 "start a daemon with a certificate for another host"
have_v6=0
if free_port ::1 >/dev/null 2>&1; then
    if start v6 ::1 server 1 1; then have_v6=1; else ok 1 "start a daemon on ::1"; fi
fi

# Both list outputs, byte for byte (URI [VIRSH-URI]).
same_list() {
    if [ -z "$cli" ]; then
        skip "virtrpc list vs virsh list: the tool is not built"
        return
    fi
    "$cli" -c "$1" list >"$tmp/ours" 2>"$tmp/ours.err"
    a=$?
    "$virsh" -c "${2:-$1}" list >"$tmp/theirs" 2>"$tmp/theirs.err"
    b=$?
    [ $a -eq 0 ] && [ $b -eq 0 ] && cmp -s "$tmp/ours" "$tmp/theirs"
    r=$?
    ok $r "virtrpc -c '$1' list prints what virsh prints (exit $a/$b)"
    if [ $r -ne 0 ]; then
        sed 's/^/# virtrpc: /' "$tmp/ours" "$tmp/ours.err"
        sed 's/^/# virsh: /' "$tmp/theirs" "$tmp/theirs.err"
    fi
}

# A refusal: our library (3 times, no leak, the reason), our tool (one line,
# failure) and virsh (failure) with the same URI.
refused() { # NAME URI TEXT...
    rname=$1 ruri=$2
    shift 2
    VRPC_CHECK_PREFIX="$rname: " tap "$openfail" 3 "$ruri" "$@"
    if [ -n "$cli" ]; then
        "$cli" -c "$ruri" list >"$tmp/ours" 2>"$tmp/ours.err"
        a=$?
        [ $a -ne 0 ] && [ "$(wc -l <"$tmp/ours.err")" -eq 1 ] && grep -qF -- "$1" "$tmp/ours.err"
        ok $? "$rname: virtrpc list fails with one line: $(cat "$tmp/ours.err")"
    fi
    if "$virsh" -c "$ruri" list >/dev/null 2>"$tmp/theirs.err"; then r=1; else r=0; fi
    ok $r "$rname: virsh refuses it too: $(grep -v ': info : \|^$' "$tmp/theirs.err" | tail -n 1)"
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
    if [ -n "$cli" ]; then
        asuser "$cli" -c "$u" list >"$tmp/ours" 2>"$tmp/ours.err"
        a=$?
        asuser "$virsh" -c "$u" list >"$tmp/theirs" 2>"$tmp/theirs.err"
        b=$?
        [ $a -eq 0 ] && [ $b -eq 0 ] && cmp -s "$tmp/ours" "$tmp/theirs"
        r=$?
        ok $r "as a non-root user, ~/.pki/libvirt is used: virtrpc list prints what virsh prints (exit $a/$b)"
        [ $r -eq 0 ] || sed 's/^/# /' "$tmp/ours.err" "$tmp/theirs.err"
    fi
fi

finish
