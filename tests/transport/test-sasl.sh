#!/bin/sh
# SPDX-License-Identifier: MIT
# SASL against a real libvirtd on loopback, with a sasldb user made here:
#  - plain TCP with DIGEST-MD5 (a security layer, SSF 128): the common
#    checks and `virtrpc list` next to `virsh list` through the same URI,
#    credentials from an auth file (authfile= and $LIBVIRT_AUTH_FILE), and
#    no RPC plaintext on the wire after authentication (a recording proxy);
#  - SCRAM-SHA-256 (no security layer) refused on plain TCP, as by virsh;
#  - TLS with SCRAM-SHA-256 (certificates made by certtool): the common checks;
#  - a wrong password refused with libvirt's error (as virsh and
#    libvirt-python get it), no fd or child left behind, the tool's
#    one-line report; credentials asked on a terminal (a pty), without echo.
# Usage: test-sasl.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL [VIRTRPC]
set -u
check=$2
openfail=$3
cli=${4:-}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need saslpasswd2 certtool python3 "$virsh"
use_tmp

# Under LeakSanitizer: Cyrus SASL's DIGEST-MD5 plugin fetches its OpenSSL
# cipher (EVP_CIPHER_fetch) for the security layer and never frees it;
# nothing else in these processes uses OpenSSL's libcrypto.
printf 'leak:libcrypto.so\n' >"$tmp/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$tmp/lsan.supp:print_suppressions=0"

# Nobody's own auth files: only the ones made here.
export XDG_CONFIG_HOME="$tmp/xdg"
mkdir -p "$XDG_CONFIG_HOME"
unset LIBVIRT_AUTH_FILE

# A python3 with libvirt's module, for the error comparisons.
pylv=
for p in ${VRPC_PYTHON:-} $(echo "$PATH" | tr ':' ' ' | sed 's,\([^ ]*\),\1/python3,g'); do
    if [ -x "$p" ] && "$p" -c 'import libvirt' 2>/dev/null; then
        pylv=$p
        break
    fi
done

# ---- the SASL user and configuration ----
sasl="$tmp/sasl2"
mkdir -p "$sasl"
if ! printf 'secret' | saslpasswd2 -p -a libvirt -f "$tmp/sasldb" alice 2>"$tmp/saslpasswd.err"; then
    echo "1..0 # SKIP saslpasswd2 cannot make a sasldb"
    exit 0
fi
chmod 644 "$tmp/sasldb"
printf 'mech_list: scram-sha-256 digest-md5\nsasldb_path: %s\n' "$tmp/sasldb" >"$sasl/libvirt.conf"
have_digest=0
for f in /usr/lib/*/sasl2/libdigestmd5.so* /usr/lib/sasl2/libdigestmd5.so*; do
    [ -e "$f" ] && have_digest=1
done
if [ $have_digest -eq 0 ]; then
    echo "1..0 # SKIP the DIGEST-MD5 SASL plugin is not installed (libsasl2-modules)"
    exit 0
fi

# Auth files: good credentials for 127.0.0.1 and localhost, a wrong password.
cat >"$tmp/auth.conf" <<EOF
[credentials-test]
authname=alice
password=secret
[auth-libvirt-127.0.0.1]
credentials=test
[auth-libvirt-localhost]
credentials=test
EOF
sed 's/^password=.*/password=wrong/' "$tmp/auth.conf" >"$tmp/bad.conf"

# ---- certificates for TLS ----
pki="$tmp/pki"
mkdir -p "$pki"
pki_ca ca "virtrpc SASL test CA"
pki_key server
pki_key client
pki_cert server server ca 'cn = localhost' 'dns_name = localhost' 'ip_address = 127.0.0.1' \
    tls_www_server encryption_key signing_key 'expiration_days = 30'
pki_cert client client ca 'cn = virtrpc SASL test client' tls_www_client encryption_key \
    signing_key 'expiration_days = 30'
cp "$pki/ca-cert.pem" "$pki/cacert.pem"
cp "$pki/client-cert.pem" "$pki/clientcert.pem"
cp "$pki/client-key.pem" "$pki/clientkey.pem"
have_tls=1
for f in cacert server-cert clientcert; do [ -s "$pki/$f.pem" ] || have_tls=0; done

# ---- the daemon: SASL on TCP and on TLS ----
ptcp="" ptls="" started=""
for _ in 1 2 3; do
    ptcp=$(free_port)
    ptls=$(free_port)
    if SASL_CONF_PATH="$sasl" daemon_start d -l 'listen_addr = "127.0.0.1"' \
        'listen_tcp = 1' "tcp_port = \"$ptcp\"" 'auth_tcp = "sasl"' \
        "listen_tls = $have_tls" "tls_port = \"$ptls\"" 'auth_tls = "sasl"' \
        "key_file = \"$pki/server-key.pem\"" "cert_file = \"$pki/server-cert.pem\"" \
        "ca_file = \"$pki/cacert.pem\""; then
        started=d
        break
    fi
    rm -rf "${tmp:?}/d"
done
if [ -z "$started" ]; then
    ok 1 "start a libvirtd with SASL on TCP and TLS"
    diag "$tmp/d.start"
    finish
fi

tcp="test+tcp://127.0.0.1:$ptcp/default"
tls="test+tls://localhost:$ptls/default?pkipath=$pki"

# ---- plain TCP, DIGEST-MD5 (security layer) ----
VRPC_CHECK_PREFIX="tcp+sasl authfile=: " tap "$check" "$tcp?authfile=$tmp/auth.conf"
LIBVIRT_AUTH_FILE="$tmp/auth.conf" VRPC_CHECK_PREFIX="tcp+sasl \$LIBVIRT_AUTH_FILE: " \
    tap "$check" "$tcp"

same_list "$tcp?authfile=$tmp/auth.conf"

# The wire: a proxy records both directions. The SASL exchange is in clear
# (the mechanism name), what follows is not (the name sent in CONNECT_OPEN,
# the domain XML of the reply).
pport=$(free_port)
python3 - "$pport" "$ptcp" "$tmp/wire" >"$tmp/proxy.log" 2>&1 <<'EOF' &
import socket, sys, threading
lport, dport, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport)); ls.listen(4)
print("ready", flush=True)
def pump(a, b, f):
    while True:
        d = a.recv(65536)
        if not d:
            try: b.shutdown(socket.SHUT_WR)
            except OSError: pass
            return
        f.write(d); f.flush(); b.sendall(d)
while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", dport))
    up, down = open(out + ".up", "ab"), open(out + ".down", "ab")
    threading.Thread(target=pump, args=(c, s, up), daemon=True).start()
    threading.Thread(target=pump, args=(s, c, down), daemon=True).start()
EOF
proxy_pid=$!
at_exit 'kill_wait $proxy_pid' # at exit: the proxy then running, if any
wait_until 100 grep -q ready "$tmp/proxy.log"
if [ -n "$cli" ]; then
    "$cli" -c "test+tcp://127.0.0.1:$pport/default?authfile=$tmp/auth.conf" dumpxml test \
        >"$tmp/proxied.xml" 2>"$tmp/proxied.err"
    r=$?
    grep -q '<domain' "$tmp/proxied.xml"
    ok $((r + $?)) "through the recording proxy: dumpxml works"
    grep -aq 'DIGEST-MD5' "$tmp/wire.up" 2>/dev/null
    ok $? "the wire shows the SASL exchange (mechanism DIGEST-MD5) in clear"
    ! grep -aq 'test:///default' "$tmp/wire.up" && ! grep -aq '<domain' "$tmp/wire.down"
    ok $? "no RPC plaintext after authentication (CONNECT_OPEN's name, the XML) either way"
else
    skip "the wire check needs the tool"
fi
kill_wait "$proxy_pid"
proxy_pid=

# ---- refusals: SCRAM on plain TCP, a wrong password ----
# libvirt-python's error for URI with AUTHFILE's credentials: "code domain message".
py_error() { # URI
    "$pylv" - "$1" <<'EOF'
import libvirt, sys
libvirt.registerErrorHandler(lambda a, b: None, None)
def cb(creds, data):
    return -1
try:
    libvirt.openAuth(sys.argv[1], [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], cb, None], 0)
    print("opened")
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
EOF
}
# Our library (3 opens, no fd or child left, the message), our tool (one
# line naming the step), virsh and libvirt-python (the same message).
refused() { # NAME URI CODE DOMAIN MESSAGE
    rname=$1 ruri=$2 rcode=$3 rdom=$4 rmsg=$5
    VRPC_CHECK_PREFIX="$rname: " tap "$openfail" 3 "$ruri" "$rmsg"
    if [ -n "$cli" ]; then
        "$cli" -c "$ruri" list >"$tmp/ours" 2>"$tmp/ours.err" </dev/null
        a=$?
        [ $a -eq 1 ] && [ "$(wc -l <"$tmp/ours.err")" -eq 1 ] &&
            [ "$(cat "$tmp/ours.err")" = "virtrpc: authentication: $rmsg" ]
        r=$?
        ok $r "$rname: virtrpc says 'virtrpc: authentication: $rmsg' in one line, exit 1"
        [ $r -ne 0 ] && diag "$tmp/ours.err"
    fi
    "$virsh" -c "$ruri" list >"$tmp/theirs" 2>"$tmp/theirs.err" </dev/null
    b=$?
    [ $b -ne 0 ] && grep -qF "error: $rmsg" "$tmp/theirs.err"
    r=$?
    ok $r "$rname: virsh refuses with the same message"
    [ $r -ne 0 ] && diag "$tmp/theirs.err"
    if [ -n "$pylv" ]; then
        got=$(py_error "$ruri")
        [ "$got" = "$rcode $rdom $rmsg" ]
        r=$?
        ok $r "$rname: libvirt-python gets the same code, domain and message"
        [ $r -ne 0 ] && echo "# python: $got"
    else
        skip "$rname: no python3 with libvirt's module"
    fi
}
refused "tcp+sasl wrong password" "$tcp?authfile=$tmp/bad.conf" 45 7 \
    "authentication failed: authentication failed"
refused "tcp: SCRAM-SHA-256 has no security layer" \
    "$tcp?authfile=$tmp/auth.conf&auth=sasl.SCRAM-SHA-256" 45 13 \
    "authentication failed: SASL mechanism SCRAM-SHA-256 not supported by server"
refused "tcp: auth=polkit not offered" "$tcp?authfile=$tmp/auth.conf&auth=polkit" 45 13 \
    "authentication failed: requested authentication type polkit rejected"

# Credentials needed, none in a file, no terminal: a clear one-line refusal.
if [ -n "$cli" ]; then
    # An auth file that cannot be read: said so (virsh: "the cause is unknown").
    "$cli" -c "$tcp?authfile=$tmp/missing.conf" list >"$tmp/ours" 2>"$tmp/ours.err" </dev/null
    a=$?
    [ $a -eq 1 ] && [ "$(cat "$tmp/ours.err")" = "virtrpc: authentication: cannot read the auth file \
$tmp/missing.conf: No such file or directory" ]
    r=$?
    "$virsh" -c "$tcp?authfile=$tmp/missing.conf" list >/dev/null 2>&1 </dev/null
    b=$?
    [ $r -eq 0 ] && [ $b -ne 0 ]
    r=$?
    ok $r "an auth file that cannot be read: refused by both, virtrpc names the file"
    [ $r -ne 0 ] && diag "$tmp/ours.err"

    "$cli" -c "$tcp" list >"$tmp/ours" 2>"$tmp/ours.err" </dev/null
    a=$?
    [ $a -eq 1 ] && [ "$(wc -l <"$tmp/ours.err")" -eq 1 ] &&
        grep -q '^virtrpc: authentication: .*not a terminal.*auth file' "$tmp/ours.err"
    r=$?
    ok $r "no credentials and no terminal: virtrpc says so in one line"
    [ $r -ne 0 ] && diag "$tmp/ours.err"

    # On a terminal: asked for the name (echoed) and the password (not echoed).
    python3 - "$cli" "$tcp" >"$tmp/pty.out" 2>&1 <<'EOF'
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-c", sys.argv[2], "list"])
out = b""
answers = [(b"name", b"alice\n"), (b"password", b"secret\n")]
deadline = time.time() + 20
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
    if answers and answers[0][0] in out.lower().split(b"\n")[-1]:
        os.write(fd, answers.pop(0)[1])
if time.time() >= deadline:
    os.kill(pid, 9)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("\nEXIT %d" % os.waitstatus_to_exitcode(st))
EOF
    grep -q 'EXIT 0' "$tmp/pty.out" && grep -q ' test ' "$tmp/pty.out" &&
        grep -qi 'authentication name: alice' "$tmp/pty.out" && ! grep -q secret "$tmp/pty.out"
    r=$?
    ok $r "on a terminal: name asked with echo, password without, then the list"
    [ $r -ne 0 ] && diag "$tmp/pty.out"
fi

# ---- TLS, SCRAM-SHA-256 (no layer: TLS protects the channel) ----
if [ $have_tls -eq 1 ]; then
    VRPC_CHECK_PREFIX="tls+sasl SCRAM-SHA-256: " \
        tap "$check" "$tls&authfile=$tmp/auth.conf&auth=sasl.SCRAM-SHA-256"
    VRPC_CHECK_PREFIX="tls+sasl DIGEST-MD5: " \
        tap "$check" "$tls&authfile=$tmp/auth.conf&auth=sasl.DIGEST-MD5"
    same_list "$tls&authfile=$tmp/auth.conf&auth=sasl.SCRAM-SHA-256"
    refused "tls+sasl wrong password" "$tls&authfile=$tmp/bad.conf&auth=sasl.SCRAM-SHA-256" 45 7 \
        "authentication failed: authentication failed"
else
    skip "TLS: certtool could not make the certificates"
fi

finish
