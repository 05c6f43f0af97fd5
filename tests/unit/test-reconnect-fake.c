/* SPDX-License-Identifier: MIT */
/*
 * The reconnecting mode against a fake daemon on a Unix socket (one thread,
 * one connection at a time, the open sequence answered by hand):
 *  - a call the daemon reads and then hangs up on fails with VRPC_E_CLOSED
 *    and is never sent again: the next connection sees only the calls made
 *    after the reconnection;
 *  - a protocol error (a packet of an unknown type) is a loss too: the call
 *    fails, the connection comes back;
 *  - vrpc_conn_close() says goodbye on the current connection; nothing left.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <virtrpc/virtrpc.h>

#include "../hostile/hostile-server.h"

#define MAXCONN 8

typedef struct fake {
    int lfd;
    pthread_t th;
    atomic_int stop;
    atomic_int conns;              /* connections accepted */
    atomic_int libver[MAXCONN];    /* connect_get_lib_version calls, per connection */
    atomic_int closes[MAXCONN];    /* CONNECT_CLOSE calls, per connection */
    atomic_int hostnames[MAXCONN]; /* connect_get_hostname calls, per connection */
} fake;

static void serve(fake *f, int fd, int n)
{
    hs_server s = {.fd = fd};
    hs_pkt p;
    while (hs_read_call(&s, &p) == 0) {
        int32_t proc = p.h.proc;
        uint8_t zero[8] = {0};
        free(p.payload);
        if (proc == vrpc_pd_auth_list.number) {
            hs_reply(&s, &p, VRPC_MSG_REPLY, VRPC_MSG_OK, zero, 4); /* no types */
        } else if (proc == vrpc_pd_connect_supports_feature.number) {
            hs_reply(&s, &p, VRPC_MSG_REPLY, VRPC_MSG_OK, zero, 4); /* 0: not supported */
        } else if (proc == vrpc_pd_connect_get_lib_version.number) {
            uint8_t v[8] = {0, 0, 0, 0, 0, 0x89, 0x54, 0x40}; /* 9.0.0 */
            atomic_fetch_add(&f->libver[n], 1);
            if (n == 0)
                break; /* read, then hang up without a reply */
            hs_reply(&s, &p, VRPC_MSG_REPLY, VRPC_MSG_OK, v, 8);
        } else if (proc == vrpc_pd_connect_get_hostname.number) {
            atomic_fetch_add(&f->hostnames[n], 1);
            /* A packet type no daemon sends: the client's protocol error. */
            hs_send(&s, p.h.prog, p.h.vers, p.h.proc, 99, p.h.serial, VRPC_MSG_OK, NULL, 0);
        } else {
            if (proc == vrpc_pd_connect_close.number)
                atomic_fetch_add(&f->closes[n], 1);
            hs_reply(&s, &p, VRPC_MSG_REPLY, VRPC_MSG_OK, NULL, 0);
        }
    }
    close(fd);
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd pf = {f->lfd, POLLIN, 0};
        int fd, n;
        if (poll(&pf, 1, 50) <= 0)
            continue;
        fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        n = atomic_fetch_add(&f->conns, 1);
        serve(f, fd, n < MAXCONN ? n : MAXCONN - 1);
    }
    return NULL;
}

typedef struct states {
    atomic_int n[5];
} states;

static void on_state(vrpc_conn *c, int state, unsigned int attempt, const vrpc_error *err,
                     void *opaque)
{
    states *s = opaque;
    (void)c;
    (void)attempt;
    (void)err;
    if (state >= 1 && state <= 4)
        atomic_fetch_add(&s->n[state], 1);
}

static bool wait_for(atomic_int *v, int want, int ms)
{
    int64_t end = tl_now_ms() + ms;
    while (atomic_load(v) < want && tl_now_ms() < end)
        tl_sleep_ms(2);
    return atomic_load(v) >= want;
}

int main(void)
{
    fake f;
    states s;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    vrpc_reconnect_opts o;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    vrpc_connect_get_lib_version_ret *v = NULL;
    vrpc_connect_get_hostname_ret *h = NULL;
    char *dir = NULL, *uri;
    int fds0, rc;

    memset(&f, 0, sizeof(f));
    memset(&s, 0, sizeof(s));
    if (tl_sh(&dir, "mktemp -d") != 0 || !*dir) {
        printf("Bail out! mktemp\n");
        return 1;
    }
    dir[strcspn(dir, "\n")] = '\0';
    snprintf(a.sun_path, sizeof(a.sun_path), "%s/sock", dir);
    uri = tl_strf("test+unix:///default?socket=%s", a.sun_path);
    fds0 = tl_count_fds();
    f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f.lfd < 0 || bind(f.lfd, (struct sockaddr *)&a, sizeof(a)) || listen(f.lfd, 8) ||
        pthread_create(&f.th, NULL, fake_main, &f)) {
        printf("Bail out! cannot listen on %s\n", a.sun_path);
        return 1;
    }

    memset(&o, 0, sizeof(o));
    o.initial_delay_usec = 10 * VRPC_USEC_PER_MSEC;
    o.cb = on_state;
    o.opaque = &s;
    rc = vrpc_conn_open_reconnect(&c, uri, 0, NULL, NULL, &o, &e);
    TAP_OK(rc == 0, "open a reconnecting connection to the fake daemon (%s)",
           rc ? (e && e->message ? e->message : vrpc_strerror(rc)) : "ok");
    vrpc_free(e);
    e = NULL;
    if (rc)
        return tap_done();

    rc = vrpc_connect_get_lib_version(c, &v, &e);
    TAP_OK(rc == VRPC_E_CLOSED && e, "a call the daemon hangs up on fails with VRPC_E_CLOSED: %s",
           e && e->message ? e->message : vrpc_strerror(rc));
    vrpc_free(e);
    e = NULL;
    vrpc_free(v);
    v = NULL;
    TAP_OK(wait_for(&s.n[VRPC_RECONNECT_RECONNECTED], 1, 5000) && atomic_load(&f.conns) == 2,
           "lost, then reconnected on a second connection");
    rc = vrpc_connect_get_lib_version(c, &v, NULL);
    TAP_OK(rc == 0 && v && v->lib_ver == 9000000 && atomic_load(&f.libver[0]) == 1 &&
               atomic_load(&f.libver[1]) == 1,
           "the failed call was not sent again: the new connection saw only the next one");
    vrpc_free(v);
    v = NULL;

    rc = vrpc_connect_get_hostname(c, &h, &e);
    TAP_OK(rc == VRPC_E_CLOSED && atomic_load(&f.hostnames[1]) == 1,
           "a protocol error fails the call in flight (VRPC_E_CLOSED): %s",
           e && e->message ? e->message : vrpc_strerror(rc));
    vrpc_free(e);
    e = NULL;
    vrpc_free(h);
    TAP_OK(wait_for(&s.n[VRPC_RECONNECT_RECONNECTED], 2, 5000) && atomic_load(&f.conns) == 3 &&
               atomic_load(&s.n[VRPC_RECONNECT_LOST]) == 2 && vrpc_conn_get_reconnects(c) == 2,
           "a protocol error is a loss too: reconnected on a third connection");
    rc = vrpc_connect_get_lib_version(c, &v, NULL);
    vrpc_free(v);
    TAP_OK(rc == 0 && atomic_load(&f.libver[2]) == 1 && atomic_load(&f.hostnames[2]) == 0,
           "calls work on the third connection; the failed one was not sent again");

    vrpc_conn_close(c);
    TAP_OK(wait_for(&f.closes[2], 1, 2000) && atomic_load(&f.closes[0]) == 0,
           "vrpc_conn_close() says goodbye on the current connection only");
    atomic_store(&f.stop, 1);
    pthread_join(f.th, NULL);
    close(f.lfd);
    TAP_OK(tl_count_fds() == fds0 && atomic_load(&s.n[VRPC_RECONNECT_GAVE_UP]) == 0,
           "no descriptor left (%d before, %d after)", fds0, tl_count_fds());
    tl_sh(NULL, "rm -rf %s", dir);
    free(dir);
    free(uri);
    return tap_done();
}
