/* SPDX-License-Identifier: MIT */
/* The TLS transport (GnuTLS) over an inner transport, with libvirt's checks. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "tcp.h"
#include "tls.h"

/* At most this many CA certificates in cacert.pem are sanity-checked (libvirt: 16). */
#define TLS_MAX_CA_CERTS 16
/* Certificate files are read up to this size for the sanity checks (libvirt: 64 KiB). */
#define TLS_MAX_CERT_FILE (64 * 1024)

/* ---- locating the files ---- */

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *s = vrpc_malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static bool file_exists(const char *path)
{
    return path && access(path, F_OK) == 0;
}

void vrpc_tls_files_clear(vrpc_tls_files *f)
{
    vrpc_free(f->cacert);
    vrpc_free(f->cacrl);
    vrpc_free(f->cert);
    vrpc_free(f->key);
    memset(f, 0, sizeof(*f));
}

int vrpc_tls_locate_files(const char *pkipath, bool user, const char *home, vrpc_tls_files *f)
{
    memset(f, 0, sizeof(*f));
    if (pkipath) {
        /* An explicit directory is used whether the files exist or not. */
        f->cacert = join(pkipath, "cacert.pem");
        f->cacrl = join(pkipath, "cacrl.pem");
        f->cert = join(pkipath, "clientcert.pem");
        f->key = join(pkipath, "clientkey.pem");
        if (!f->cacert || !f->cacrl || !f->cert || !f->key)
            goto nomem;
        return 0;
    }
    if (user) {
        char pwbuf[4096], *dir;
        struct passwd pw, *res = NULL;

        if (!home || !*home)
            home = getenv("HOME");
        if ((!home || !*home) && getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
            home = res->pw_dir;
        if (home && *home) {
            dir = join(home, ".pki/libvirt");
            if (!dir)
                goto nomem;
            f->cacert = join(dir, "cacert.pem");
            f->cacrl = join(dir, "cacrl.pem");
            f->cert = join(dir, "clientcert.pem");
            f->key = join(dir, "clientkey.pem");
            vrpc_free(dir);
            if (!f->cacert || !f->cacrl || !f->cert || !f->key)
                goto nomem;
            /* Each missing file falls back to the system one; certificate
             * and key only as a pair. */
            if (!file_exists(f->cacert)) {
                vrpc_free(f->cacert);
                f->cacert = NULL;
            }
            if (!file_exists(f->cacrl)) {
                vrpc_free(f->cacrl);
                f->cacrl = NULL;
            }
            if (!file_exists(f->cert) || !file_exists(f->key)) {
                vrpc_free(f->cert);
                vrpc_free(f->key);
                f->cert = f->key = NULL;
            }
        }
    }
    if (!f->cacert && !(f->cacert = vrpc_strdup(VRPC_TLS_SYSTEM_CACERT)))
        goto nomem;
    if (!f->cacrl && !(f->cacrl = vrpc_strdup(VRPC_TLS_SYSTEM_CACRL)))
        goto nomem;
    if (!f->cert) {
        f->cert = vrpc_strdup(VRPC_TLS_SYSTEM_CLIENTCERT);
        f->key = vrpc_strdup(VRPC_TLS_SYSTEM_CLIENTKEY);
        if (!f->cert || !f->key)
            goto nomem;
    }
    return 0;
nomem:
    vrpc_tls_files_clear(f);
    return VRPC_E_NOMEM;
}

/* ---- checks on one certificate (libvirt's rules) ---- */

#define TLS_ERR(err, code, ...) vrpc_error_set(err, code, VRPC_FROM_RPC, __VA_ARGS__)

static void format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (t == (time_t)-1 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, len, "an unknown date");
}

/*
 * Validity period. Returns NULL when fine, else a reason ("has expired (on
 * DATE)") written into buf.
 */
static const char *check_times(gnutls_x509_crt_t cert, time_t now, char *buf, size_t len)
{
    char date[64];
    time_t exp = gnutls_x509_crt_get_expiration_time(cert);
    time_t act = gnutls_x509_crt_get_activation_time(cert);
    if (exp != (time_t)-1 && exp < now) {
        format_time(exp, date, sizeof(date));
        snprintf(buf, len, "has expired (not valid after %s)", date);
        return buf;
    }
    if (act != (time_t)-1 && act > now) {
        format_time(act, date, sizeof(date));
        snprintf(buf, len, "is not yet active (not valid before %s)", date);
        return buf;
    }
    return NULL;
}

/* Basic constraints: a CA where one is wanted, and not a CA otherwise. */
static const char *check_basic_constraints(gnutls_x509_crt_t cert, bool want_ca, char *buf,
                                           size_t len)
{
    int status = gnutls_x509_crt_get_basic_constraints(cert, NULL, NULL, NULL);
    if (status > 0 && !want_ca)
        return "is a CA certificate (basic constraints)";
    if (status == 0 && want_ca)
        return "is not a CA certificate (basic constraints)";
    if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && want_ca)
        return "has no basic constraints (a CA needs them)";
    if (status < 0 && status != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        snprintf(buf, len, "has unreadable basic constraints: %s", gnutls_strerror(status));
        return buf;
    }
    return NULL;
}

/* Key usage: fatal only when the extension is critical (libvirt warns otherwise). */
static const char *check_key_usage(gnutls_x509_crt_t cert, bool is_ca, char *buf, size_t len)
{
    unsigned int usage = 0, critical = 0;
    int status = gnutls_x509_crt_get_key_usage(cert, &usage, &critical);
    if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return NULL; /* no extension: every usage allowed */
    if (status < 0) {
        snprintf(buf, len, "has an unreadable key usage: %s", gnutls_strerror(status));
        return buf;
    }
    if (!critical)
        return NULL;
    if (is_ca && !(usage & GNUTLS_KEY_KEY_CERT_SIGN))
        return "has a key usage that does not permit certificate signing";
    if (!is_ca && !(usage & GNUTLS_KEY_DIGITAL_SIGNATURE))
        return "has a key usage that does not permit digital signature";
    if (!is_ca && !(usage & GNUTLS_KEY_KEY_ENCIPHERMENT))
        return "has a key usage that does not permit key encipherment";
    return NULL;
}

/*
 * Extended key usage: TLS WWW server (server) or client. No extension: any
 * use. Fatal only when critical. As in libvirt, a purpose other than the
 * two TLS ones and anyExtendedKeyUsage counts as allowing both.
 */
static const char *check_purpose(gnutls_x509_crt_t cert, bool server, char *buf, size_t len)
{
    bool allow_server = false, allow_client = false, critical = false;
    unsigned int i;

    for (i = 0;; i++) {
        char oid[256];
        size_t size = sizeof(oid);
        unsigned int crit = 0;
        int status = gnutls_x509_crt_get_key_purpose_oid(cert, i, oid, &size, &crit);
        if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            if (i == 0)
                allow_server = allow_client = true;
            break;
        }
        if (status < 0) {
            snprintf(buf, len, "has an unreadable key purpose: %s", gnutls_strerror(status));
            return buf;
        }
        if (crit)
            critical = true;
        if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
            allow_server = true;
        else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
            allow_client = true;
        else if (strcmp(oid, GNUTLS_KP_ANY) != 0)
            allow_server = allow_client = true;
    }
    if (!critical)
        return NULL;
    if (server && !allow_server)
        return "has a purpose (extended key usage) that does not allow a TLS server";
    if (!server && !allow_client)
        return "has a purpose (extended key usage) that does not allow a TLS client";
    return NULL;
}

/* Why a chain verification failed, from GnuTLS's status bits. */
static const char *verify_reason(unsigned int status)
{
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
        return "is not trusted (unknown CA)";
    if (status & GNUTLS_CERT_SIGNER_NOT_CA)
        return "is not trusted (its issuer is not a CA)";
    if (status & GNUTLS_CERT_REVOKED)
        return "is not trusted (revoked)";
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
        return "is not trusted (insecure algorithm)";
    if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
        return "is not trusted (bad signature)";
    if (status & GNUTLS_CERT_EXPIRED)
        return "has expired";
    if (status & GNUTLS_CERT_NOT_ACTIVATED)
        return "is not yet active";
    if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
        return "is not trusted (the CA's constraints do not allow it)";
    return "is not trusted";
}

/* The names a certificate is for: its DNS and IP subject alternative names, else its CN. */
static void cert_names(gnutls_x509_crt_t cert, char *out, size_t outlen)
{
    size_t used = 0;
    unsigned int seq;

    out[0] = '\0';
    for (seq = 0; seq < 32; seq++) {
        unsigned char data[256];
        char text[INET6_ADDRSTRLEN + 1];
        const char *name = NULL;
        size_t size = sizeof(data) - 1;
        int type = gnutls_x509_crt_get_subject_alt_name(cert, seq, data, &size, NULL);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (type == GNUTLS_SAN_DNSNAME) {
            data[size] = '\0';
            name = (const char *)data;
        } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
            if (inet_ntop(size == 4 ? AF_INET : AF_INET6, data, text, sizeof(text)))
                name = text;
        }
        if (name && used + strlen(name) + 3 < outlen)
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", name);
    }
    if (!used) {
        size_t size = outlen;
        if (gnutls_x509_crt_get_dn_by_oid(cert, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &size) < 0)
            snprintf(out, outlen, "no name");
    }
}

/* ---- local credentials ---- */

/* Read a whole (small) file; NULL with errno set on failure. */
static char *read_small_file(const char *path, size_t *len)
{
    char *buf;
    size_t cap = TLS_MAX_CERT_FILE, n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    buf = vrpc_malloc(cap + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            vrpc_free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/*
 * libvirt's sanity checks of our own files (skipped with no_sanity=1): the
 * client certificate (if readable) and every CA certificate (if readable)
 * pass the per-certificate checks, and the client certificate verifies
 * against the CA.
 */
static int sanity_check(const vrpc_tls_files *f, vrpc_error **err)
{
    gnutls_x509_crt_t cert = NULL, cas[TLS_MAX_CA_CERTS];
    unsigned int nca = 0, i;
    char buf[256];
    const char *why;
    time_t now = time(NULL);
    int rc = VRPC_E_INVALID;

    if (access(f->cert, R_OK) == 0) {
        size_t len = 0;
        gnutls_datum_t d;
        char *pem = read_small_file(f->cert, &len);
        if (!pem) {
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errno,
                                 "TLS credentials: read client certificate %s", f->cert);
            return VRPC_E_IO;
        }
        d.data = (unsigned char *)pem;
        d.size = (unsigned int)len;
        if (gnutls_x509_crt_init(&cert) < 0 ||
            gnutls_x509_crt_import(cert, &d, GNUTLS_X509_FMT_PEM) < 0) {
            vrpc_free(pem);
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR,
                    "TLS credentials: cannot import client certificate %s", f->cert);
            goto out;
        }
        vrpc_free(pem);
    }
    if (access(f->cacert, R_OK) == 0) {
        size_t len = 0;
        gnutls_datum_t d;
        char *pem = read_small_file(f->cacert, &len);
        int r;
        if (!pem) {
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errno,
                                 "TLS credentials: read CA certificate %s", f->cacert);
            rc = VRPC_E_IO;
            goto out;
        }
        d.data = (unsigned char *)pem;
        d.size = (unsigned int)len;
        nca = TLS_MAX_CA_CERTS;
        r = gnutls_x509_crt_list_import(cas, &nca, &d, GNUTLS_X509_FMT_PEM, 0);
        vrpc_free(pem);
        if (r < 0) {
            nca = 0;
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR,
                    "TLS credentials: cannot import CA certificate list %s: %s", f->cacert,
                    gnutls_strerror(r));
            goto out;
        }
    }

    if (cert) {
        if ((why = check_times(cert, now, buf, sizeof(buf))) ||
            (why = check_basic_constraints(cert, false, buf, sizeof(buf))) ||
            (why = check_key_usage(cert, false, buf, sizeof(buf))) ||
            (why = check_purpose(cert, false, buf, sizeof(buf)))) {
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS credentials: the client certificate %s %s",
                    f->cert, why);
            goto out;
        }
    }
    for (i = 0; i < nca; i++) {
        if ((why = check_times(cas[i], now, buf, sizeof(buf))) ||
            (why = check_basic_constraints(cas[i], true, buf, sizeof(buf))) ||
            (why = check_key_usage(cas[i], true, buf, sizeof(buf)))) {
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS credentials: the CA certificate in %s %s",
                    f->cacert, why);
            goto out;
        }
    }
    if (cert && nca) {
        unsigned int status = 0;
        if (gnutls_x509_crt_list_verify(&cert, 1, cas, nca, NULL, 0, 0, &status) < 0) {
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR,
                    "TLS credentials: cannot verify the client certificate %s against %s", f->cert,
                    f->cacert);
            goto out;
        }
        if (status) {
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR,
                    "TLS credentials: the client certificate %s %s by %s", f->cert,
                    verify_reason(status), f->cacert);
            goto out;
        }
    }
    rc = 0;
out:
    if (cert)
        gnutls_x509_crt_deinit(cert);
    for (i = 0; i < nca; i++)
        gnutls_x509_crt_deinit(cas[i]);
    return rc;
}

typedef struct tls_creds {
    gnutls_certificate_credentials_t x509;
    gnutls_priority_t prio;
    char *missing; /* "client certificate PATH" we could not send, or NULL */
} tls_creds;

static void creds_free(tls_creds *c)
{
    if (c->x509)
        gnutls_certificate_free_credentials(c->x509);
    if (c->prio)
        gnutls_priority_deinit(c->prio);
    vrpc_free(c->missing);
    memset(c, 0, sizeof(*c));
}

static char *describe_missing(const char *what, const char *path)
{
    size_t n = strlen(what) + strlen(path) + 16;
    char *s = vrpc_malloc(n);
    if (s)
        snprintf(s, n, "missing %s %s", what, path);
    return s;
}

static int creds_load(const vrpc_tls_params *p, tls_creds *c, vrpc_error **err)
{
    vrpc_tls_files f;
    const char *prio = p->priority ? p->priority : VRPC_TLS_DEFAULT_PRIORITY;
    const char *errpos = NULL;
    int r, rc;

    memset(c, 0, sizeof(*c));
    if (vrpc_tls_locate_files(p->pkipath, geteuid() != 0, NULL, &f)) {
        TLS_ERR(err, VRPC_ERR_NO_MEMORY, "out of memory");
        return VRPC_E_NOMEM;
    }
    if (p->sanity && (rc = sanity_check(&f, err)))
        goto fail;

    r = gnutls_certificate_allocate_credentials(&c->x509);
    if (r < 0) {
        c->x509 = NULL;
        TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS credentials: %s", gnutls_strerror(r));
        rc = VRPC_E_NOMEM;
        goto fail;
    }
    if (!file_exists(f.cacert)) {
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errno,
                             "TLS credentials: cannot read CA certificate %s", f.cacert);
        rc = VRPC_E_NOT_FOUND;
        goto fail;
    }
    r = gnutls_certificate_set_x509_trust_file(c->x509, f.cacert, GNUTLS_X509_FMT_PEM);
    if (r < 0) {
        TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS credentials: CA certificate %s: %s", f.cacert,
                gnutls_strerror(r));
        rc = VRPC_E_INVALID;
        goto fail;
    }
    if (file_exists(f.cacrl)) {
        r = gnutls_certificate_set_x509_crl_file(c->x509, f.cacrl, GNUTLS_X509_FMT_PEM);
        if (r < 0) {
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR,
                    "TLS credentials: certificate revocation list %s: %s", f.cacrl,
                    gnutls_strerror(r));
            rc = VRPC_E_INVALID;
            goto fail;
        }
    }
    if (file_exists(f.cert) && file_exists(f.key)) {
        r = gnutls_certificate_set_x509_key_file(c->x509, f.cert, f.key, GNUTLS_X509_FMT_PEM);
        if (r < 0) {
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR,
                    "TLS credentials: client certificate %s and key %s: %s", f.cert, f.key,
                    gnutls_strerror(r));
            rc = VRPC_E_INVALID;
            goto fail;
        }
    } else {
        /* Like libvirt: go on without (the daemon may not ask for one). */
        c->missing = file_exists(f.cert) ? describe_missing("client key", f.key)
                                         : describe_missing("client certificate", f.cert);
        if (!c->missing) {
            TLS_ERR(err, VRPC_ERR_NO_MEMORY, "out of memory");
            rc = VRPC_E_NOMEM;
            goto fail;
        }
    }
    r = gnutls_priority_init(&c->prio, prio, &errpos);
    if (r < 0) {
        c->prio = NULL;
        if (r == GNUTLS_E_INVALID_REQUEST && errpos)
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS priority '%s': %s (at '%s')", prio,
                    gnutls_strerror(r), errpos);
        else
            TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS priority '%s': %s", prio, gnutls_strerror(r));
        rc = VRPC_E_INVALID;
        goto fail;
    }
    vrpc_tls_files_clear(&f);
    return 0;
fail:
    vrpc_tls_files_clear(&f);
    creds_free(c);
    return rc;
}

/* ---- the transport ---- */

typedef struct tls_transport {
    vrpc_transport base;
    vrpc_transport *inner;
    gnutls_session_t session;
    tls_creds creds;
    bool rd_blocked;   /* the last record read returned GNUTLS_E_AGAIN ... */
    bool rd_needs_out; /* ... and GnuTLS was writing */
    bool wr_blocked;   /* the same for the last record write */
    bool wr_needs_in;
    /* What the inner transport reported inside a push/pull callback. */
    int io_rc;
    vrpc_error *io_err;
} tls_transport;

static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
    tls_transport *t = ptr;
    size_t nfds = 0;
    vrpc_error *e = NULL;
    ssize_t n = t->inner->ops->read(t->inner, buf, len, NULL, &nfds, 0, &e);
    if (n >= 0)
        return n;
    if (n == VRPC_E_AGAIN) {
        gnutls_transport_set_errno(t->session, EAGAIN);
        return -1;
    }
    if (!t->io_rc) {
        t->io_rc = (int)n;
        t->io_err = e;
        e = NULL;
    }
    vrpc_free(e);
    gnutls_transport_set_errno(t->session, EIO);
    return -1;
}

static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    tls_transport *t = ptr;
    vrpc_error *e = NULL;
    ssize_t n = t->inner->ops->write(t->inner, buf, len, &e);
    if (n >= 0)
        return n;
    if (n == VRPC_E_AGAIN) {
        gnutls_transport_set_errno(t->session, EAGAIN);
        return -1;
    }
    if (!t->io_rc) {
        t->io_rc = (int)n;
        t->io_err = e;
        e = NULL;
    }
    vrpc_free(e);
    gnutls_transport_set_errno(t->session, EIO);
    return -1;
}

/* Hand over the inner transport's error, if a callback saw one. */
static int take_io_error(tls_transport *t, vrpc_error **err)
{
    int rc = t->io_rc;
    t->io_rc = 0;
    vrpc_error_move(err, &t->io_err);
    return rc;
}

static void clear_io_error(tls_transport *t)
{
    t->io_rc = 0;
    vrpc_free(t->io_err);
    t->io_err = NULL;
}

static ssize_t tls_read(vrpc_transport *tr, void *buf, size_t len, int *fds, size_t *nfds,
                        size_t maxfds, vrpc_error **err)
{
    tls_transport *t = (tls_transport *)tr;
    ssize_t n;

    (void)fds;
    (void)nfds;
    (void)maxfds;
    clear_io_error(t);
    for (;;) {
        n = gnutls_record_recv(t->session, buf, len);
        if (n != GNUTLS_E_REHANDSHAKE && n != GNUTLS_E_INTERRUPTED)
            break;
        /* A renegotiation request is declined by ignoring it (libvirt's client
         * does not renegotiate either). */
    }
    t->rd_blocked = false;
    if (n >= 0)
        return n;
    if (n == GNUTLS_E_AGAIN) {
        t->rd_blocked = true;
        t->rd_needs_out = gnutls_record_get_direction(t->session) == 1;
        return VRPC_E_AGAIN;
    }
    if (t->io_rc)
        return take_io_error(t, err);
    if (n == GNUTLS_E_PREMATURE_TERMINATION)
        return 0; /* the peer closed the socket without a close_notify: end of stream */
    TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS read from %s: %s", tr->peer, gnutls_strerror((int)n));
    return VRPC_E_IO;
}

static ssize_t tls_write(vrpc_transport *tr, const void *buf, size_t len, vrpc_error **err)
{
    tls_transport *t = (tls_transport *)tr;
    ssize_t n;

    clear_io_error(t);
    /* After GNUTLS_E_AGAIN the core retries with the same bytes, as GnuTLS
     * requires (the record is already encrypted inside GnuTLS). */
    do
        n = gnutls_record_send(t->session, buf, len);
    while (n == GNUTLS_E_INTERRUPTED);
    t->wr_blocked = false;
    if (n >= 0)
        return n;
    if (n == GNUTLS_E_AGAIN) {
        t->wr_blocked = true;
        t->wr_needs_in = gnutls_record_get_direction(t->session) == 0;
        return VRPC_E_AGAIN;
    }
    if (t->io_rc)
        return take_io_error(t, err);
    TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS write to %s: %s", tr->peer, gnutls_strerror((int)n));
    return VRPC_E_IO;
}

static size_t tls_pending(vrpc_transport *tr)
{
    tls_transport *t = (tls_transport *)tr;
    size_t n = gnutls_record_check_pending(t->session);
    if (t->inner->ops->pending)
        n += t->inner->ops->pending(t->inner);
    return n;
}

static short tls_events(vrpc_transport *tr, short want)
{
    tls_transport *t = (tls_transport *)tr;
    short ev = 0;

    /* A blocked record operation waits for the direction GnuTLS was going. */
    if (want & POLLIN)
        ev |= (t->rd_blocked && t->rd_needs_out) ? POLLOUT : POLLIN;
    if (want & POLLOUT)
        ev |= (t->wr_blocked && t->wr_needs_in) ? POLLIN : POLLOUT;
    if (t->inner->ops->events)
        ev = t->inner->ops->events(t->inner, ev);
    return ev;
}

static int tls_fd(const vrpc_transport *tr)
{
    const tls_transport *t = (const tls_transport *)tr;
    return t->inner->ops->fd(t->inner);
}

static void tls_close(vrpc_transport *tr)
{
    tls_transport *t = (tls_transport *)tr;
    if (!t)
        return;
    /* No close_notify (libvirt's client sends none either): the core has
     * said CONNECT_CLOSE, and a forked child closing its copy of the
     * connection must not write into the parent's TLS stream. */
    if (t->session)
        gnutls_deinit(t->session);
    clear_io_error(t);
    creds_free(&t->creds);
    if (t->inner)
        t->inner->ops->close(t->inner);
    vrpc_free(t->base.peer);
    vrpc_free(t);
}

static const vrpc_transport_ops tls_ops = {
    .name = "tls",
    .read = tls_read,
    .write = tls_write,
    .send_fd = NULL,
    .pending = tls_pending,
    .events = tls_events,
    .fd = tls_fd,
    .close = tls_close,
};

bool vrpc_transport_is_tls(const vrpc_transport *t)
{
    return t && t->ops == &tls_ops;
}

int vrpc_transport_tls_ssf(const vrpc_transport *tr)
{
    const tls_transport *t = (const tls_transport *)tr;
    size_t bytes;
    if (!vrpc_transport_is_tls(tr))
        return -1;
    bytes = gnutls_cipher_get_key_size(gnutls_cipher_get(t->session));
    return bytes ? (int)(bytes * 8) : -1;
}

/* ---- open: handshake, certificate check, confirmation ---- */

/*
 * Errors of the open steps after the TCP connection: the message starts
 * with the step's name and the error is tagged with it (see
 * vrpc_open_failed_step() in <virtrpc/conn.h>).
 */
#define STEP_HANDSHAKE VRPC_STEP_HANDSHAKE
#define STEP_CERT VRPC_STEP_CERTIFICATE

static void step_error(vrpc_error **err, vrpc_step step, int code, const char *fmt, ...)
    VRPC_PRINTF(4, 5);
static void step_error(vrpc_error **err, vrpc_step step, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vrpc_error_set(err, code, VRPC_FROM_RPC, "%s: %s", vrpc_step_name(step), msg);
    vrpc_error_set_step(err, step);
}

/* Prefix an error from the inner transport with "<step>: <what>" and tag it. */
static void step_wrap(vrpc_error **err, vrpc_step step, const char *what)
{
    vrpc_error_prefix(err, "%s: %s", vrpc_step_name(step), what);
    vrpc_error_set_step(err, step);
}

/*
 * Wait until the inner transport can go in the direction GnuTLS wants
 * (out: writing). 0, VRPC_E_TIMEOUT, or VRPC_E_IO with errno set.
 */
static int wait_io(tls_transport *t, bool out, int64_t deadline)
{
    struct pollfd p;

    if (!out && t->inner->ops->pending && t->inner->ops->pending(t->inner))
        return 0;
    p.fd = t->inner->ops->fd(t->inner);
    p.events = out ? POLLOUT : POLLIN;
    if (t->inner->ops->events)
        p.events = t->inner->ops->events(t->inner, p.events);
    for (;;) {
        int timeout = -1, n;
        if (deadline >= 0) {
            int64_t left = deadline - vrpc_mono_ms();
            if (left <= 0)
                return VRPC_E_TIMEOUT;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        p.revents = 0;
        n = poll(&p, 1, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return VRPC_E_IO;
        if (n > 0)
            return 0;
    }
}

static int handshake(tls_transport *t, int64_t deadline, int timeout, vrpc_error **err)
{
    char what[300];

    snprintf(what, sizeof(what), "TLS handshake with %s failed", t->base.peer);
    for (;;) {
        int r, rc;
        clear_io_error(t);
        r = gnutls_handshake(t->session);
        if (r == 0)
            return 0;
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            rc = wait_io(t, gnutls_record_get_direction(t->session) == 1, deadline);
            if (rc == VRPC_E_TIMEOUT)
                step_error(err, STEP_HANDSHAKE, VRPC_ERR_SYSTEM_ERROR,
                           "%s: no answer from the daemon within %d ms", what, timeout);
            else if (rc)
                step_error(err, STEP_HANDSHAKE, VRPC_ERR_SYSTEM_ERROR, "%s: poll: %s", what,
                           strerror(errno));
            if (rc)
                return rc;
            continue;
        }
        if (!gnutls_error_is_fatal(r))
            continue; /* warning alerts and the like */
        if (t->io_rc) {
            rc = take_io_error(t, err);
            step_wrap(err, STEP_HANDSHAKE, what);
            return rc == VRPC_E_CLOSED ? VRPC_E_CONNECT : rc;
        }
        if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
            step_error(err, STEP_HANDSHAKE, VRPC_ERR_AUTH_FAILED,
                       "%s: the daemon sent the alert '%s'", what,
                       gnutls_alert_get_name(gnutls_alert_get(t->session)));
        else if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)
            step_error(err, STEP_HANDSHAKE, VRPC_ERR_AUTH_FAILED,
                       "%s: the daemon closed the connection (%s)", what, gnutls_strerror(r));
        else
            step_error(err, STEP_HANDSHAKE, VRPC_ERR_AUTH_FAILED, "%s: %s", what,
                       gnutls_strerror(r));
        return VRPC_E_CONNECT;
    }
}

#define CERT_ERR(err, ...) step_error(err, STEP_CERT, VRPC_ERR_AUTH_FAILED, __VA_ARGS__)

/* libvirt's checks of the server's certificate, after the handshake. */
static int check_server_cert(tls_transport *t, const char *hostname, vrpc_error **err)
{
    const gnutls_datum_t *certs;
    unsigned int status = 0, ncerts = 0, i;
    time_t now = time(NULL);
    char buf[512];
    const char *why;
    int r;

    r = gnutls_certificate_verify_peers2(t->session, &status);
    if (r < 0) {
        CERT_ERR(err, "cannot verify the server certificate of %s: %s", t->base.peer,
                 gnutls_strerror(r));
        return VRPC_E_AUTH;
    }
    /* Trust problems first; time problems are described per certificate below. */
    if (status &
        ~(unsigned int)(GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED)) {
        CERT_ERR(err, "the server certificate of %s %s", t->base.peer, verify_reason(status));
        return VRPC_E_AUTH;
    }
    if (gnutls_certificate_type_get(t->session) != GNUTLS_CRT_X509) {
        CERT_ERR(err, "the server of %s did not send an X.509 certificate", t->base.peer);
        return VRPC_E_AUTH;
    }
    certs = gnutls_certificate_get_peers(t->session, &ncerts);
    if (!certs || !ncerts) {
        CERT_ERR(err, "the server of %s sent no certificate", t->base.peer);
        return VRPC_E_AUTH;
    }
    for (i = 0; i < ncerts; i++) {
        gnutls_x509_crt_t cert;
        int rc = 0;

        if (gnutls_x509_crt_init(&cert) < 0) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
            return VRPC_E_NOMEM;
        }
        if (gnutls_x509_crt_import(cert, &certs[i], GNUTLS_X509_FMT_DER) < 0) {
            CERT_ERR(err, "cannot load certificate %u sent by %s", i, t->base.peer);
            gnutls_x509_crt_deinit(cert);
            return VRPC_E_AUTH;
        }
        if ((why = check_times(cert, now, buf, sizeof(buf)))) {
            if (i == 0)
                CERT_ERR(err, "the server certificate of %s %s", t->base.peer, why);
            else
                CERT_ERR(err, "the CA certificate %u in the chain of %s %s", i, t->base.peer, why);
            rc = VRPC_E_AUTH;
        } else if (i == 0 && !gnutls_x509_crt_check_hostname(cert, hostname)) {
            char names[256];
            cert_names(cert, names, sizeof(names));
            CERT_ERR(err, "hostname mismatch (certificate is for %s, URI host is %s)", names,
                     hostname);
            rc = VRPC_E_AUTH;
        } else if (i == 0 && ((why = check_basic_constraints(cert, false, buf, sizeof(buf))) ||
                              (why = check_key_usage(cert, false, buf, sizeof(buf))) ||
                              (why = check_purpose(cert, true, buf, sizeof(buf))))) {
            CERT_ERR(err, "the server certificate of %s %s", t->base.peer, why);
            rc = VRPC_E_AUTH;
        }
        gnutls_x509_crt_deinit(cert);
        if (rc)
            return rc;
    }
    if (status) {
        /* Only time flags are left, and no certificate of the chain is out of
         * its period by our clock: still refuse, with GnuTLS's reason. */
        CERT_ERR(err, "the server certificate of %s %s", t->base.peer, verify_reason(status));
        return VRPC_E_AUTH;
    }
    return 0;
}

/*
 * The daemon's one byte after it has accepted our certificate and address
 * (its own certificate check: a refusal is a "certificate check" failure).
 */
static int confirmation(tls_transport *t, int64_t deadline, int timeout, vrpc_error **err)
{
    char what[300];
    unsigned char byte = 0;

    snprintf(what, sizeof(what), "the daemon at %s refused the connection after the TLS handshake",
             t->base.peer);
    for (;;) {
        ssize_t n;
        int rc;
        clear_io_error(t);
        n = gnutls_record_recv(t->session, &byte, 1);
        if (n == 1) {
            if (byte == 1)
                return 0;
            step_error(err, STEP_CERT, VRPC_ERR_RPC, "%s (it sent 0x%02x instead of 0x01)", what,
                       byte);
            return VRPC_E_AUTH;
        }
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_REHANDSHAKE) {
            if (n != GNUTLS_E_AGAIN)
                continue;
            rc = wait_io(t, gnutls_record_get_direction(t->session) == 1, deadline);
            if (rc == VRPC_E_TIMEOUT)
                step_error(err, STEP_CERT, VRPC_ERR_SYSTEM_ERROR,
                           "no confirmation from the daemon at %s within %d ms after the TLS "
                           "handshake",
                           t->base.peer, timeout);
            else if (rc)
                step_error(err, STEP_CERT, VRPC_ERR_SYSTEM_ERROR,
                           "waiting for the confirmation of %s: poll: %s", t->base.peer,
                           strerror(errno));
            if (rc)
                return rc;
            continue;
        }
        if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION || t->io_rc == VRPC_E_CLOSED) {
            /* libvirt's daemon closes the socket when it refuses us. */
            clear_io_error(t);
            if (t->creds.missing)
                step_error(err, STEP_CERT, VRPC_ERR_RPC, "%s (%s)", what, t->creds.missing);
            else
                step_error(err, STEP_CERT, VRPC_ERR_RPC,
                           "%s (it did not accept our client certificate or our address)", what);
            return VRPC_E_AUTH;
        }
        if (t->io_rc) {
            rc = take_io_error(t, err);
            step_wrap(err, STEP_CERT, what);
            return rc;
        }
        if (n == GNUTLS_E_FATAL_ALERT_RECEIVED)
            step_error(err, STEP_CERT, VRPC_ERR_RPC, "%s (alert '%s')", what,
                       gnutls_alert_get_name(gnutls_alert_get(t->session)));
        else
            step_error(err, STEP_CERT, VRPC_ERR_RPC, "%s (%s)", what, gnutls_strerror((int)n));
        return VRPC_E_AUTH;
    }
}

int vrpc_transport_tls_connect(const vrpc_tls_params *p, vrpc_transport **out, vrpc_error **err)
{
    tls_transport *t;
    vrpc_transport *inner = NULL;
    int64_t deadline = -1;
    int timeout, r, rc;

    *out = NULL;
    if (!p || !p->host) {
        TLS_ERR(err, VRPC_ERR_INVALID_ARG, "TLS: no host");
        return VRPC_E_INVALID;
    }
    t = vrpc_calloc(1, sizeof(*t));
    if (!t) {
        TLS_ERR(err, VRPC_ERR_NO_MEMORY, "out of memory");
        return VRPC_E_NOMEM;
    }
    t->base.ops = &tls_ops;

    /* libvirt's order: credentials first, then the connection. */
    rc = creds_load(p, &t->creds, err);
    if (rc)
        goto fail;
    rc = vrpc_transport_tcp_connect(p->host, p->port, p->connect_timeout_ms, &inner, err);
    if (rc)
        goto fail;
    t->inner = inner;
    if (!(t->base.peer = vrpc_strdup(inner->peer))) {
        TLS_ERR(err, VRPC_ERR_NO_MEMORY, "out of memory");
        rc = VRPC_E_NOMEM;
        goto fail;
    }

    r = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    if (r < 0) {
        t->session = NULL;
        TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS session: %s", gnutls_strerror(r));
        rc = VRPC_E_NOMEM;
        goto fail;
    }
    /* No server name indication: libvirt's client sends none. */
    if ((r = gnutls_priority_set(t->session, t->creds.prio)) < 0 ||
        (r = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->creds.x509)) < 0) {
        TLS_ERR(err, VRPC_ERR_SYSTEM_ERROR, "TLS session: %s", gnutls_strerror(r));
        rc = VRPC_E_INVALID;
        goto fail;
    }
    gnutls_transport_set_ptr(t->session, t);
    gnutls_transport_set_push_function(t->session, tls_push);
    gnutls_transport_set_pull_function(t->session, tls_pull);

    timeout = p->handshake_timeout_ms < 0 ? VRPC_TLS_HANDSHAKE_TIMEOUT_MS : p->handshake_timeout_ms;
    if (timeout > 0)
        deadline = vrpc_mono_ms() + timeout;
    rc = handshake(t, deadline, timeout, err);
    if (rc)
        goto fail;
    if (p->verify) {
        rc = check_server_cert(t, p->host, err);
        if (rc)
            goto fail;
    }
    /* no_verify=1: libvirt logs the failed check and goes on; so do we (silently). */
    rc = confirmation(t, deadline, timeout, err);
    if (rc)
        goto fail;
    *out = &t->base;
    return 0;
fail:
    tls_close(&t->base);
    return rc;
}

int vrpc_transport_tls_connect_target(const vrpc_target *t, vrpc_transport **out, vrpc_error **err)
{
    vrpc_tls_params p;

    memset(&p, 0, sizeof(p));
    p.host = t->host ? t->host : "localhost";
    p.port = t->port;
    p.pkipath = t->pkipath;
    p.priority = t->tls_priority;
    p.verify = !t->no_verify;
    p.sanity = !t->no_sanity;
    p.connect_timeout_ms = -1;
    p.handshake_timeout_ms = -1;
    return vrpc_transport_tls_connect(&p, out, err);
}
