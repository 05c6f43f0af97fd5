/* SPDX-License-Identifier: MIT */
/*
 * A hostile TLS daemon for the hostile scenarios: a GnuTLS server on
 * 127.0.0.1 (port chosen by the kernel) whose certificates are made at
 * start-up (a CA, and a server certificate for 127.0.0.1 signed by it,
 * written to a private pkipath directory). It completes the handshake and
 * then misbehaves instead of sending libvirt's confirmation byte 0x01:
 * silence, a wrong byte, or a hang-up.
 */
#ifndef VIRTRPC_TESTS_HOSTILE_TLS_H
#define VIRTRPC_TESTS_HOSTILE_TLS_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { HT_SILENT, HT_WRONG_BYTE, HT_HANGUP };

typedef struct hs_tls {
    char dir[64];
    gnutls_datum_t srv_cert, srv_key;
    int lfd, port, mode;
    pthread_t th;
    atomic_int stop;
    atomic_int handshakes; /* completed on the server side */
} hs_tls;

static int ht_write_file(const char *dir, const char *name, const gnutls_datum_t *d)
{
    char path[128];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(d->data, 1, d->size, f);
    return fclose(f);
}

static int ht_make_cert(gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key, bool ca,
                        gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key, int serial)
{
    static const unsigned char ip[4] = {127, 0, 0, 1};
    unsigned char sn = (unsigned char)serial;
    time_t now = time(NULL);
    const char *cn = ca ? "hostile CA" : "127.0.0.1";
    if (gnutls_x509_privkey_init(key) < 0 ||
        gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        gnutls_x509_crt_init(crt) < 0)
        return -1;
    if (gnutls_x509_crt_set_version(*crt, 3) < 0 || gnutls_x509_crt_set_serial(*crt, &sn, 1) < 0 ||
        gnutls_x509_crt_set_activation_time(*crt, now - 3600) < 0 ||
        gnutls_x509_crt_set_expiration_time(*crt, now + 86400) < 0 ||
        gnutls_x509_crt_set_dn_by_oid(*crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                      (unsigned)strlen(cn)) < 0 ||
        gnutls_x509_crt_set_key(*crt, *key) < 0 ||
        gnutls_x509_crt_set_basic_constraints(*crt, ca ? 1 : 0, -1) < 0)
        return -1;
    if (ca) {
        if (gnutls_x509_crt_set_key_usage(*crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) < 0)
            return -1;
    } else if (gnutls_x509_crt_set_key_usage(*crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
                                                       GNUTLS_KEY_KEY_ENCIPHERMENT) < 0 ||
               gnutls_x509_crt_set_key_purpose_oid(*crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0 ||
               gnutls_x509_crt_set_subject_alt_name(*crt, GNUTLS_SAN_IPADDRESS, ip, 4,
                                                    GNUTLS_FSAN_SET) < 0) {
        return -1;
    }
    return gnutls_x509_crt_sign2(*crt, issuer ? issuer : *crt, issuer_key ? issuer_key : *key,
                                 GNUTLS_DIG_SHA256, 0) < 0
               ? -1
               : 0;
}

static void ht_serve(hs_tls *t, int fd)
{
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
    int r;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return;
    gnutls_certificate_set_x509_key_mem(cred, &t->srv_cert, &t->srv_key, GNUTLS_X509_FMT_PEM);
    gnutls_init(&s, GNUTLS_SERVER);
    gnutls_set_default_priority(s);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, 5000);
    do
        r = gnutls_handshake(s);
    while (r < 0 && !gnutls_error_is_fatal(r));
    if (r == 0) {
        atomic_fetch_add(&t->handshakes, 1);
        if (t->mode == HT_WRONG_BYTE) {
            unsigned char b = 0x00;
            gnutls_record_send(s, &b, 1);
        } else if (t->mode == HT_HANGUP) {
            shutdown(fd, SHUT_RDWR);
        }
        /* Then silence until the client goes away or the test ends. */
        while (!atomic_load(&t->stop)) {
            struct pollfd p = {fd, POLLIN, 0};
            char buf[256];
            if (poll(&p, 1, 50) > 0 && read(fd, buf, sizeof(buf)) <= 0)
                break;
        }
    }
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
}

static void *ht_main(void *arg)
{
    hs_tls *t = arg;
    while (!atomic_load(&t->stop)) {
        struct pollfd p = {t->lfd, POLLIN, 0};
        int fd;
        if (poll(&p, 1, 50) <= 0)
            continue;
        fd = accept(t->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        ht_serve(t, fd);
        close(fd);
    }
    return NULL;
}

/* Certificates, the pkipath directory, the listening socket, the thread. 0 or -1. */
__attribute__((unused)) static int ht_start(hs_tls *t, int mode)
{
    gnutls_x509_crt_t ca = NULL, srv = NULL;
    gnutls_x509_privkey_t cakey = NULL, srvkey = NULL;
    gnutls_datum_t cacert = {NULL, 0};
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int rc = -1;

    memset(t, 0, sizeof(*t));
    t->lfd = -1;
    t->mode = mode;
    snprintf(t->dir, sizeof(t->dir), "%s/vrpc-hostile-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
    if (!mkdtemp(t->dir))
        return -1;
    if (ht_make_cert(&ca, &cakey, true, NULL, NULL, 1) ||
        ht_make_cert(&srv, &srvkey, false, ca, cakey, 2) ||
        gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &cacert) < 0 ||
        gnutls_x509_crt_export2(srv, GNUTLS_X509_FMT_PEM, &t->srv_cert) < 0 ||
        gnutls_x509_privkey_export2(srvkey, GNUTLS_X509_FMT_PEM, &t->srv_key) < 0 ||
        ht_write_file(t->dir, "cacert.pem", &cacert))
        goto out;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->lfd < 0 || bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(t->lfd, (struct sockaddr *)&sa, &sl) < 0 || listen(t->lfd, 4) < 0)
        goto out;
    t->port = ntohs(sa.sin_port);
    if (pthread_create(&t->th, NULL, ht_main, t) != 0)
        goto out;
    rc = 0;
out:
    gnutls_free(cacert.data);
    if (ca)
        gnutls_x509_crt_deinit(ca);
    if (srv)
        gnutls_x509_crt_deinit(srv);
    if (cakey)
        gnutls_x509_privkey_deinit(cakey);
    if (srvkey)
        gnutls_x509_privkey_deinit(srvkey);
    return rc;
}

/* Stop the server, remove the files. */
__attribute__((unused)) static void ht_stop(hs_tls *t)
{
    char path[128];
    atomic_store(&t->stop, 1);
    if (t->port)
        pthread_join(t->th, NULL);
    if (t->lfd >= 0)
        close(t->lfd);
    gnutls_free(t->srv_cert.data);
    gnutls_free(t->srv_key.data);
    snprintf(path, sizeof(path), "%s/cacert.pem", t->dir);
    unlink(path);
    rmdir(t->dir);
}

#endif
