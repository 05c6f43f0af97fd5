/* SPDX-License-Identifier: MIT */
/*
 * Internal: the TLS transport (GnuTLS), as libvirt's client does TLS.
 *
 * ORDER (libvirt's): credentials are located and loaded (and, unless
 * no_sanity=1, our own certificate and the CA certificates are checked)
 * BEFORE the TCP connection is made; then TCP, the handshake, the check of
 * the server's certificate, and the daemon's one-byte confirmation (0x01,
 * sent inside TLS once the daemon has accepted our certificate and
 * address). Only then does RPC start.
 *
 * FILES. pkipath=DIR: DIR/cacert.pem, DIR/cacrl.pem, DIR/clientcert.pem,
 * DIR/clientkey.pem, whether they exist or not. Otherwise, for a non-root
 * euid, ~/.pki/libvirt/ with the same names, each falling back on its own
 * (certificate and key as a pair) to the system files
 * /etc/pki/CA/cacert.pem, /etc/pki/CA/cacrl.pem,
 * /etc/pki/libvirt/clientcert.pem, /etc/pki/libvirt/private/clientkey.pem.
 * The CA certificate must exist; the CRL is optional; a missing client
 * certificate or key is not an error here (a daemon that does not ask for
 * one accepts us) but is named in the error when the daemon then refuses.
 *
 * CHECKS of the server certificate (all relaxed, and nothing else, by
 * no_verify=1): the chain verifies against the CA (known issuer, not
 * revoked, no insecure algorithm, signature), X.509 only, every certificate
 * of the chain inside its validity period, the leaf matches the URI host
 * (or "localhost"), is not a CA, its key usage allows digital signature and
 * key encipherment and its purpose allows a TLS web server (these two only
 * fatal when the extension is critical, as in libvirt). A failed handshake
 * or a refused confirmation is never relaxed.
 *
 * HANDSHAKE MODE: blocking inside the open sequence, driven by poll() on
 * the inner transport's fd in the direction GnuTLS asks for, with one
 * deadline (VRPC_TLS_HANDSHAKE_TIMEOUT_MS) covering the handshake and the
 * confirmation byte. Afterwards the transport is non-blocking like every
 * other: read/write map GNUTLS_E_AGAIN to VRPC_E_AGAIN, events() asks for
 * the direction GnuTLS is blocked on, pending() reports the decrypted bytes
 * buffered inside GnuTLS.
 *
 * LAYERING. The TLS transport wraps any inner vrpc_transport (TCP today)
 * through its read/write/pending/events ops, and can itself be wrapped (a
 * SASL layer): it never assumes it is the outermost one.
 */
#ifndef VIRTRPC_TLS_H
#define VIRTRPC_TLS_H

#include <stdbool.h>

#include "transport.h"
#include "uri.h"

/* Deadline of the handshake plus the confirmation byte. */
#define VRPC_TLS_HANDSHAKE_TIMEOUT_MS 30000

/* libvirt's build default priority (Debian's libvirt keeps it). */
#define VRPC_TLS_DEFAULT_PRIORITY "NORMAL"

/* The system credential paths of libvirt's client. */
#define VRPC_TLS_SYSTEM_CACERT "/etc/pki/CA/cacert.pem"
#define VRPC_TLS_SYSTEM_CACRL "/etc/pki/CA/cacrl.pem"
#define VRPC_TLS_SYSTEM_CLIENTCERT "/etc/pki/libvirt/clientcert.pem"
#define VRPC_TLS_SYSTEM_CLIENTKEY "/etc/pki/libvirt/private/clientkey.pem"

typedef struct vrpc_tls_files {
    char *cacert, *cacrl, *cert, *key;
} vrpc_tls_files;

/*
 * Where the credentials are, by libvirt's rules. pkipath: the URI's pkipath=
 * (NULL: none). user: try ~/.pki/libvirt first (libvirt: euid != 0). home:
 * the home directory (NULL: $HOME, else the password database).
 * 0 or VRPC_E_NOMEM.
 */
int vrpc_tls_locate_files(const char *pkipath, bool user, const char *home, vrpc_tls_files *f);
void vrpc_tls_files_clear(vrpc_tls_files *f);

typedef struct vrpc_tls_params {
    const char *host;         /* TCP host, and the name the certificate must match */
    int port;                 /* TCP port */
    const char *pkipath;      /* NULL: default locations */
    const char *priority;     /* NULL: VRPC_TLS_DEFAULT_PRIORITY */
    bool verify;              /* false: no_verify=1 */
    bool sanity;              /* false: no_sanity=1 */
    int connect_timeout_ms;   /* per address; < 0: VRPC_TCP_CONNECT_TIMEOUT_MS */
    int handshake_timeout_ms; /* < 0: VRPC_TLS_HANDSHAKE_TIMEOUT_MS, 0: none */
} vrpc_tls_params;

/*
 * Credentials, TCP connection, handshake, certificate check, confirmation.
 * Errors name the step:
 *   "TLS credentials: ..."              (missing CA file, unreadable, bad PEM,
 *                                        our own certificates fail the sanity checks)
 *   "resolve HOST: ...", "connect to HOST:PORT: ..."       (TCP)
 *   "TLS handshake with HOST:PORT: ..."
 *   "certificate check: ..."            (the server certificate, with the reason)
 *   "TLS confirmation from HOST:PORT: ..." (the daemon refused us after the handshake)
 * Codes: VRPC_E_NOT_FOUND (a required file is missing), VRPC_E_INVALID
 * (bad priority string, unusable credentials), VRPC_E_CONNECT,
 * VRPC_E_TIMEOUT, VRPC_E_AUTH (certificate check, confirmation refused).
 */
int vrpc_transport_tls_connect(const vrpc_tls_params *p, vrpc_transport **out, vrpc_error **err);

/* The same for a resolved URI (host, port, pkipath, tls_priority, no_verify, no_sanity). */
int vrpc_transport_tls_connect_target(const vrpc_target *t, vrpc_transport **out, vrpc_error **err);

/*
 * For a SASL layer: the strength of the TLS channel, libvirt's way (the
 * cipher's key size in bytes times 8, which the SASL client passes as
 * SASL_SSF_EXTERNAL). -1 when t is not a TLS transport.
 */
int vrpc_transport_tls_ssf(const vrpc_transport *t);

/* True when t is a TLS transport (the channel is encrypted: "secure"). */
bool vrpc_transport_is_tls(const vrpc_transport *t);

#endif
