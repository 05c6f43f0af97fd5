/* SPDX-License-Identifier: MIT */
/*
 * Checks of the TCP and TLS transports through their internal interfaces.
 * Prints TAP lines without a plan (the calling script counts them).
 *
 *   tls-internal files            where the credentials are looked for
 *   tls-internal timeouts PKIDIR  connect and handshake deadlines, against
 *                                 local listeners that never answer
 *   tls-internal ssf URI MIN      open URI; the TLS strength a SASL layer
 *                                 would use is >= MIN (MIN -1: not TLS)
 *   tls-internal threads URI      8 threads share one connection, calls of
 *                                 several sizes in flight together (replies
 *                                 buffered inside TLS records, partial writes)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "conn-internal.h"
#include "tcp.h"
#include "tls.h"
#include "../testlib.h"

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void touch(const char *dir, const char *name)
{
    char p[4096];
    int fd;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

static void rm(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    unlink(p);
}

static int test_files(void)
{
    char home[] = "/tmp/vrpc-tls-home-XXXXXX", pki[4200], p[4400];
    vrpc_tls_files f;

    if (!mkdtemp(home)) {
        tap_ok(0, "mkdtemp: %s", strerror(errno));
        return 1;
    }
    snprintf(pki, sizeof(pki), "%s/.pki", home);
    mkdir(pki, 0700);
    snprintf(pki, sizeof(pki), "%s/.pki/libvirt", home);
    mkdir(pki, 0700);

    /* pkipath: that directory, whether the files exist or not. */
    vrpc_tls_locate_files("/nonexistent/dir", true, home, &f);
    tap_ok(streq(f.cacert, "/nonexistent/dir/cacert.pem") &&
               streq(f.cacrl, "/nonexistent/dir/cacrl.pem") &&
               streq(f.cert, "/nonexistent/dir/clientcert.pem") &&
               streq(f.key, "/nonexistent/dir/clientkey.pem"),
           "pkipath=DIR: DIR/{cacert,cacrl,clientcert,clientkey}.pem even if missing");
    vrpc_tls_files_clear(&f);

    /* Non-root, empty ~/.pki/libvirt: the system files. */
    vrpc_tls_locate_files(NULL, true, home, &f);
    tap_ok(streq(f.cacert, VRPC_TLS_SYSTEM_CACERT) && streq(f.cacrl, VRPC_TLS_SYSTEM_CACRL) &&
               streq(f.cert, VRPC_TLS_SYSTEM_CLIENTCERT) && streq(f.key, VRPC_TLS_SYSTEM_CLIENTKEY),
           "non-root without ~/.pki/libvirt files: /etc/pki/CA/cacert.pem, "
           "/etc/pki/libvirt/clientcert.pem, /etc/pki/libvirt/private/clientkey.pem");
    vrpc_tls_files_clear(&f);

    /* Per-file fallback: the CA from home, the pair from the system. */
    touch(pki, "cacert.pem");
    touch(pki, "clientcert.pem");
    vrpc_tls_locate_files(NULL, true, home, &f);
    snprintf(p, sizeof(p), "%s/cacert.pem", pki);
    tap_ok(streq(f.cacert, p) && streq(f.cacrl, VRPC_TLS_SYSTEM_CACRL) &&
               streq(f.cert, VRPC_TLS_SYSTEM_CLIENTCERT) && streq(f.key, VRPC_TLS_SYSTEM_CLIENTKEY),
           "per-file fallback: ~/.pki/libvirt/cacert.pem, and the system pair when "
           "clientkey.pem is missing");
    vrpc_tls_files_clear(&f);

    /* Certificate and key together: both from home. */
    touch(pki, "clientkey.pem");
    rm(pki, "cacert.pem");
    vrpc_tls_locate_files(NULL, true, home, &f);
    snprintf(p, sizeof(p), "%s/clientcert.pem", pki);
    tap_ok(streq(f.cacert, VRPC_TLS_SYSTEM_CACERT) && streq(f.cert, p) &&
               strstr(f.key, "/.pki/libvirt/clientkey.pem"),
           "certificate and key as a pair from ~/.pki/libvirt, the CA from the system");
    vrpc_tls_files_clear(&f);

    /* Root: only the system files. */
    touch(pki, "cacert.pem");
    vrpc_tls_locate_files(NULL, false, home, &f);
    tap_ok(streq(f.cacert, VRPC_TLS_SYSTEM_CACERT) && streq(f.cert, VRPC_TLS_SYSTEM_CLIENTCERT) &&
               streq(f.key, VRPC_TLS_SYSTEM_CLIENTKEY),
           "root: the system files even when ~/.pki/libvirt has some");
    vrpc_tls_files_clear(&f);

    rm(pki, "cacert.pem");
    rm(pki, "clientcert.pem");
    rm(pki, "clientkey.pem");
    rmdir(pki);
    snprintf(pki, sizeof(pki), "%s/.pki", home);
    rmdir(pki);
    rmdir(home);
    return 0;
}

/* A listener on 127.0.0.1 that never accepts; returns its fd, port in *port. */
static int listener(int backlog, int *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static int test_timeouts(const char *pkidir)
{
    vrpc_transport *tr = NULL;
    vrpc_error *err = NULL;
    vrpc_tls_params p;
    int lfd, port = 0, fills[4], i, rc, fds0 = tl_count_fds();
    int64_t t0, dt;

    /* Connect deadline: a listener whose accept queue is full drops SYNs. */
    lfd = listener(0, &port);
    for (i = 0; i < 4; i++) {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)port);
        fills[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fills[i] >= 0)
            (void)connect(fills[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    usleep(100000);
    t0 = tl_now_ms();
    rc = vrpc_transport_tcp_connect("127.0.0.1", port, 300, &tr, &err);
    dt = tl_now_ms() - t0;
    if (rc == 0) {
        tap_skip(
            "connect deadline: this network stack completes connections beyond a full backlog");
        tr->ops->close(tr);
    } else {
        tap_ok(rc == VRPC_E_TIMEOUT && err && strstr(err->message, "timed out after 300 ms") &&
                   dt >= 250 && dt < 5000,
               "connect deadline: VRPC_E_TIMEOUT after %lld ms: %s", (long long)dt,
               err ? err->message : "(no error)");
    }
    vrpc_free(err);
    err = NULL;
    for (i = 0; i < 4; i++)
        if (fills[i] >= 0)
            close(fills[i]);
    close(lfd);

    /* Handshake deadline: the TCP connection is accepted by the kernel, but
     * nobody ever answers the ClientHello. */
    lfd = listener(16, &port);
    memset(&p, 0, sizeof(p));
    p.host = "127.0.0.1";
    p.port = port;
    p.pkipath = pkidir;
    p.verify = true;
    p.sanity = true;
    p.connect_timeout_ms = -1;
    p.handshake_timeout_ms = 300;
    t0 = tl_now_ms();
    rc = vrpc_transport_tls_connect(&p, &tr, &err);
    dt = tl_now_ms() - t0;
    tap_ok(rc == VRPC_E_TIMEOUT && err && strncmp(err->message, "handshake: ", 11) == 0 &&
               streq(err->step, "handshake") && dt >= 250 && dt < 5000,
           "handshake deadline: VRPC_E_TIMEOUT after %lld ms: %s", (long long)dt,
           err ? err->message : "(no error)");
    vrpc_free(err);
    err = NULL;
    if (rc == 0)
        tr->ops->close(tr);
    close(lfd);

    /* A peer that is not TLS at all: refused in the handshake. */
    lfd = listener(16, &port);
    {
        int pid = fork();
        if (pid == 0) {
            int c = accept(lfd, NULL, NULL);
            char buf[512];
            if (c >= 0) {
                (void)read(c, buf, sizeof(buf));
                (void)write(c, "HTTP/1.0 400 Bad Request\r\n\r\n", 28);
                close(c);
            }
            _exit(0);
        }
        p.port = port;
        p.handshake_timeout_ms = 5000;
        rc = vrpc_transport_tls_connect(&p, &tr, &err);
        tap_ok(rc == VRPC_E_CONNECT && err && strncmp(err->message, "handshake: ", 11) == 0,
               "a peer that does not speak TLS fails the handshake: %s",
               err ? err->message : "(no error)");
        vrpc_free(err);
        err = NULL;
        if (rc == 0)
            tr->ops->close(tr);
        if (pid > 0) {
            int st;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        }
    }
    close(lfd);

    tap_ok(tl_count_fds() == fds0,
           "no fd left behind by the failed connections (%d before, %d after)", fds0,
           tl_count_fds());
    return 0;
}

static int test_ssf(const char *uri, int min)
{
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;
    int rc = vrpc_conn_open(&c, uri, 0, &err), ssf;

    if (!tap_ok(rc == 0, "open %s", uri)) {
        printf("# %s\n", err && err->message ? err->message : "(no message)");
        vrpc_free(err);
        return 1;
    }
    ssf = vrpc_transport_tls_ssf(c->tr);
    if (min < 0)
        tap_ok(ssf == -1 && !vrpc_transport_is_tls(c->tr) && vrpc_transport_is_tcp(c->tr),
               "a TCP transport is not TLS (ssf %d)", ssf);
    else
        tap_ok(ssf >= min && vrpc_transport_is_tls(c->tr),
               "the TLS channel's strength for SASL is %d bits (at least %d)", ssf, min);
    vrpc_conn_close(c);
    return 0;
}

#define THREADS 8
#define ROUNDS 150

typedef struct worker {
    vrpc_conn *c;
    const char *hostname; /* the first answer, every thread must see the same */
    const char *xml;
    int errors, mismatches;
} worker;

static void *work(void *opaque)
{
    worker *w = opaque;
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *lr = NULL;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        vrpc_connect_get_hostname_ret *h = NULL;
        vrpc_domain_get_xml_desc_ret *x = NULL;
        vrpc_domain_get_xml_desc_args xa;
        vrpc_error *err = NULL;

        if (vrpc_connect_get_hostname(w->c, &h, &err)) {
            w->errors++;
        } else {
            if (strcmp(h->hostname, w->hostname) != 0)
                w->mismatches++;
            vrpc_free(h);
        }
        vrpc_free(err);
        err = NULL;
        if (!lr && vrpc_domain_lookup_by_name(w->c, &la, &lr, &err)) {
            w->errors++;
            vrpc_free(err);
            continue;
        }
        memset(&xa, 0, sizeof(xa));
        xa.dom = lr->dom;
        if (vrpc_domain_get_xml_desc(w->c, &xa, &x, &err)) {
            w->errors++;
        } else {
            if (strcmp(x->xml, w->xml) != 0)
                w->mismatches++;
            vrpc_free(x);
        }
        vrpc_free(err);
    }
    vrpc_free(lr);
    return NULL;
}

static int test_threads(const char *uri)
{
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;
    vrpc_connect_get_hostname_ret *h = NULL;
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *lr = NULL;
    vrpc_domain_get_xml_desc_args xa;
    vrpc_domain_get_xml_desc_ret *x = NULL;
    pthread_t th[THREADS];
    worker w[THREADS];
    int i, errors = 0, mismatches = 0;

    if (!tap_ok(vrpc_conn_open(&c, uri, 0, &err) == 0, "threads: open %s", uri)) {
        printf("# %s\n", err && err->message ? err->message : "(no message)");
        vrpc_free(err);
        return 1;
    }
    memset(&xa, 0, sizeof(xa));
    if (vrpc_connect_get_hostname(c, &h, &err) || vrpc_domain_lookup_by_name(c, &la, &lr, &err) ||
        (xa.dom = lr->dom, vrpc_domain_get_xml_desc(c, &xa, &x, &err))) {
        tap_ok(0, "threads: first calls: %s", err && err->message ? err->message : "?");
        vrpc_free(err);
        vrpc_free(h);
        vrpc_free(lr);
        vrpc_conn_close(c);
        return 1;
    }
    for (i = 0; i < THREADS; i++) {
        w[i] = (worker){.c = c, .hostname = h->hostname, .xml = x->xml};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
        mismatches += w[i].mismatches;
    }
    tap_ok(errors == 0 && mismatches == 0,
           "threads: %d threads x %d rounds of calls on one connection: %d errors, %d wrong "
           "replies",
           THREADS, ROUNDS, errors, mismatches);
    vrpc_free(h);
    vrpc_free(lr);
    vrpc_free(x);
    vrpc_conn_close(c);
    return 0;
}

int main(int argc, char **argv)
{
    tap_plain = 1;
    if (argc >= 2 && strcmp(argv[1], "files") == 0)
        test_files();
    else if (argc >= 3 && strcmp(argv[1], "timeouts") == 0)
        test_timeouts(argv[2]);
    else if (argc >= 4 && strcmp(argv[1], "ssf") == 0)
        test_ssf(argv[2], atoi(argv[3]));
    else if (argc >= 3 && strcmp(argv[1], "threads") == 0)
        test_threads(argv[2]);
    else {
        fprintf(stderr,
                "usage: tls-internal files | timeouts PKIDIR | ssf URI MIN | threads URI\n");
        return 2;
    }
    return tap_failed ? 1 : 0;
}
