/* SPDX-License-Identifier: MIT */
/*
 * Keepalive and the death of a daemon, against private libvirtd processes
 * (started by test-keepalive.sh, which passes their directories):
 *
 *   keepalive-check STOP-DIR IDLE-DIR KILL-DIR
 *
 *   STOP-DIR  a default daemon that this program stops with SIGSTOP: every
 *             waiting call fails within interval * (count + 1) + 1 s, the
 *             close callback says KEEPALIVE (calls driving the timer, and the
 *             event thread);
 *   IDLE-DIR  a daemon with keepalive_interval = 1, keepalive_count = 2 (it
 *             drops a silent client that advertised keepalive after ~3 s):
 *             a connection serviced by the event thread, or by the
 *             application's poll loop, stays up twice as long; one that
 *             advertised keepalive and is not serviced is dropped; one that
 *             did not advertise stays up;
 *   KILL-DIR  a daemon killed (SIGKILL) in the middle of many calls from many
 *             threads: every waiter returns an error, nothing hangs, no
 *             descriptor is left.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "../testlib.h"

static pid_t pid_of(const char *dir)
{
    char *path = tl_strf("%s/sys/pid", dir);
    FILE *f = fopen(path, "r");
    long pid = -1;
    free(path);
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return (pid_t)pid;
}

static vrpc_conn *open_uri(const char *uri)
{
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    if (vrpc_conn_open(&c, uri, 0, &e) != 0) {
        tap_diag("open %s: %s", uri, e && e->message ? e->message : "?");
        vrpc_free(e);
        return NULL;
    }
    return c;
}

static int lib_version(vrpc_conn *c)
{
    vrpc_connect_get_lib_version_ret *r = NULL;
    int rc = vrpc_connect_get_lib_version(c, &r, NULL);
    vrpc_free(r);
    return rc;
}

typedef struct closer {
    atomic_int calls;
    atomic_int reason;
} closer;

static void on_close(vrpc_conn *c, int reason, void *opaque)
{
    closer *k = opaque;
    (void)c;
    atomic_store(&k->reason, reason);
    atomic_fetch_add(&k->calls, 1);
}

/* A thread making blocking calls until one fails. */
typedef struct looper {
    vrpc_conn *c;
    pthread_t t;
    atomic_int started;
    int rc, calls;
    int64_t ended;
} looper;

static void *loop_calls(void *arg)
{
    looper *l = arg;
    for (;;) {
        int rc = lib_version(l->c);
        atomic_store(&l->started, 1);
        if (rc) {
            l->rc = rc;
            break;
        }
        l->calls++;
        tl_sleep_ms(5);
    }
    l->ended = tl_now_ms();
    return NULL;
}

/* ---- SIGSTOP: keepalive declares the daemon dead ---- */

#define INTERVAL 1 /* seconds */
#define COUNT 2

static void test_stop(const char *dir)
{
    char *uri = tl_sys_uri(dir);
    pid_t pid = pid_of(dir);
    vrpc_conn *c1 = open_uri(uri), *c2 = open_uri(uri);
    closer k1 = {0, -1}, k2 = {0, -1};
    looper l[4];
    int64_t t0, last = 0, limit = (INTERVAL * (COUNT + 1) + 1) * 1000;
    int i, failed = 0, rc;

    if (!c1 || !c2 || pid <= 0) {
        TAP_OK(0, "stop: open two connections to the daemon to stop (pid %ld)", (long)pid);
        goto out;
    }
    rc = vrpc_conn_set_close_callback(c1, on_close, &k1, NULL, NULL);
    rc |= vrpc_conn_set_close_callback(c2, on_close, &k2, NULL, NULL);
    rc |= vrpc_conn_set_keepalive(c1, INTERVAL * VRPC_USEC_PER_SEC, COUNT, NULL);
    rc |= vrpc_conn_set_keepalive(c2, INTERVAL * VRPC_USEC_PER_SEC, COUNT, NULL);
    rc |= vrpc_conn_start_event_thread(c1);
    TAP_OK(rc == 0, "stop: keepalive %d s x %d on both; the first serviced by the event thread",
           INTERVAL, COUNT);
    /* c1: three calling threads next to the event thread; c2: one thread
     * whose blocking calls are all that reads the socket. */
    for (i = 0; i < 4; i++) {
        memset(&l[i], 0, sizeof(l[i]));
        l[i].c = i < 3 ? c1 : c2;
        pthread_create(&l[i].t, NULL, loop_calls, &l[i]);
    }
    for (i = 0; i < 4; i++)
        while (!atomic_load(&l[i].started))
            tl_sleep_ms(5);
    tl_sleep_ms(200);
    kill(pid, SIGSTOP);
    t0 = tl_now_ms();
    for (i = 0; i < 4; i++) {
        pthread_join(l[i].t, NULL);
        if (l[i].rc == VRPC_E_CLOSED)
            failed++;
        if (l[i].ended > last)
            last = l[i].ended;
    }
    TAP_OK(failed == 4 && last - t0 <= limit,
           "stop: every waiting call failed (VRPC_E_CLOSED) %lld ms after SIGSTOP (limit %lld)",
           (long long)(last - t0), (long long)limit);
    TAP_OK(l[3].ended - t0 <= limit, "stop: a blocking call alone drives the timer (%lld ms)",
           (long long)(l[3].ended - t0));
    for (i = 0; i < 200 && atomic_load(&k1.calls) == 0; i++)
        tl_sleep_ms(10);
    TAP_OK(atomic_load(&k1.calls) == 1 &&
               atomic_load(&k1.reason) == VRPC_CONNECT_CLOSE_REASON_KEEPALIVE,
           "stop: the event thread reported the close with reason KEEPALIVE (%d)",
           atomic_load(&k1.reason));
    vrpc_conn_process(c2);
    TAP_OK(atomic_load(&k2.calls) == 1 &&
               atomic_load(&k2.reason) == VRPC_CONNECT_CLOSE_REASON_KEEPALIVE &&
               vrpc_conn_get_close_reason(c2) == VRPC_CONNECT_CLOSE_REASON_KEEPALIVE,
           "stop: ... and vrpc_conn_process() on the other connection (%d)",
           atomic_load(&k2.reason));
    t0 = tl_now_ms();
    rc = lib_version(c1);
    TAP_OK(rc == VRPC_E_CLOSED && tl_now_ms() - t0 < 100, "stop: later calls fail at once");
out:
    if (pid > 0)
        kill(pid, SIGCONT);
    t0 = tl_now_ms();
    vrpc_conn_close(c1);
    vrpc_conn_close(c2);
    TAP_OK(tl_now_ms() - t0 < 1000, "stop: closing dead connections does not wait");
    free(uri);
}

/* ---- idle connections and the daemon's own keepalive ---- */

#define IDLE_MS 6500

static void test_idle(const char *dir)
{
    char *uri = tl_sys_uri(dir);
    vrpc_conn *thread_c = open_uri(uri), *loop_c = open_uri(uri), *adv_c = open_uri(uri),
              *plain_c = open_uri(uri);
    vrpc_connect_supports_feature_args fa = {.feature = 10};
    vrpc_connect_supports_feature_ret *fr = NULL;
    closer kl = {0, -1};
    int64_t until;
    int rc, turns = 0;

    if (!thread_c || !loop_c || !adv_c || !plain_c) {
        TAP_OK(0, "idle: four connections");
        goto out;
    }
    rc = vrpc_conn_start_event_thread(thread_c);
    rc |= vrpc_conn_set_keepalive(loop_c, 5 * VRPC_USEC_PER_SEC, 5, NULL);
    rc |= vrpc_conn_set_close_callback(loop_c, on_close, &kl, NULL, NULL);
    /* Advertised by hand, and then nobody reads. */
    rc |= vrpc_connect_supports_feature(adv_c, &fa, &fr, NULL);
    TAP_OK(rc == 0 && fr && fr->supported == 1,
           "idle: keepalive advertised by the event thread, by an application with its loop, "
           "and by hand on a connection nobody services");
    vrpc_free(fr);

    /* The application's loop serves loop_c; the others are idle. */
    until = tl_now_ms() + IDLE_MS;
    while (tl_now_ms() < until) {
        struct pollfd pfd[2];
        uint64_t deadline, now = vrpc_now_usec();
        int timeout = (int)(until - tl_now_ms());
        pfd[0].fd = vrpc_conn_get_fd(loop_c);
        pfd[0].events = (short)vrpc_conn_get_events(loop_c);
        pfd[1].fd = vrpc_conn_get_notify_fd(loop_c);
        pfd[1].events = POLLIN;
        vrpc_conn_get_timeout(loop_c, &deadline);
        if (deadline != UINT64_MAX && deadline > now && (int64_t)(deadline - now) / 1000 < timeout)
            timeout = (int)((deadline - now + 999) / 1000);
        else if (deadline != UINT64_MAX && deadline <= now)
            timeout = 0;
        if (timeout < 0)
            timeout = 0;
        poll(pfd, 2, timeout);
        vrpc_conn_process(loop_c);
        turns++;
    }
    TAP_OK(lib_version(thread_c) == 0 && vrpc_conn_get_status(thread_c) == 0,
           "idle: %d s idle with the event thread: still up (the daemon gives up after ~3 s)",
           IDLE_MS / 1000);
    TAP_OK(lib_version(loop_c) == 0 && vrpc_conn_get_status(loop_c) == 0 &&
               atomic_load(&kl.calls) == 0 && turns < 1000,
           "idle: ... with the application's poll loop: still up (%d loop turns)", turns);
    rc = lib_version(adv_c);
    TAP_OK(rc == VRPC_E_CLOSED &&
               vrpc_conn_get_close_reason(adv_c) == VRPC_CONNECT_CLOSE_REASON_EOF,
           "idle: advertised and not serviced: the daemon dropped it (%s)", vrpc_strerror(rc));
    TAP_OK(lib_version(plain_c) == 0,
           "idle: not advertised, not serviced: the daemon leaves it alone");
out:
    vrpc_conn_close(thread_c);
    vrpc_conn_close(loop_c);
    vrpc_conn_close(adv_c);
    vrpc_conn_close(plain_c);
    free(uri);
}

/* ---- a daemon killed in the middle of many calls ---- */

typedef struct hammer {
    vrpc_conn *c;
    pthread_t t;
    atomic_int calls;
    int rc;
    int64_t ended;
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    for (;;) {
        vrpc_domain_lookup_by_name_ret *r = NULL;
        vrpc_pending *p[8];
        int i, n = 0, rc = vrpc_domain_lookup_by_name(h->c, &la, &r, NULL);
        if (rc == 0) {
            vrpc_domain_get_xml_desc_args xa = {.dom = r->dom};
            /* A pipeline of non-blocking calls, collected in reverse. */
            for (i = 0; i < 8; i++)
                if (vrpc_call_send(h->c, &vrpc_pd_domain_get_xml_desc, &xa, &p[n], NULL) == 0)
                    n++;
            for (i = n - 1; i >= 0; i--) {
                void *x = NULL;
                int wrc = vrpc_call_wait(h->c, p[i], &x, NULL);
                vrpc_free(x);
                if (wrc && rc == 0)
                    rc = wrc;
            }
            if (n < 8 && rc == 0)
                rc = vrpc_conn_get_status(h->c);
        }
        vrpc_free(r);
        if (rc) {
            h->rc = rc;
            break;
        }
        atomic_fetch_add(&h->calls, 1);
    }
    h->ended = tl_now_ms();
    return NULL;
}

#define NHAMMER 8

static void test_kill(const char *dir)
{
    char *uri = tl_sys_uri(dir);
    pid_t pid = pid_of(dir);
    int fds0 = tl_count_fds();
    vrpc_conn *c = open_uri(uri);
    closer k = {0, -1};
    hammer h[NHAMMER];
    int i, failed = 0, total = 0;
    int64_t t0, last = 0;

    if (!c || pid <= 0) {
        TAP_OK(0, "kill: open");
        goto out;
    }
    vrpc_conn_set_close_callback(c, on_close, &k, NULL, NULL);
    vrpc_conn_start_event_thread(c);
    for (i = 0; i < NHAMMER; i++) {
        memset(&h[i], 0, sizeof(h[i]));
        h[i].c = c;
        pthread_create(&h[i].t, NULL, hammer_main, &h[i]);
    }
    for (i = 0; i < NHAMMER; i++)
        while (atomic_load(&h[i].calls) < 3)
            tl_sleep_ms(5);
    kill(pid, SIGKILL);
    t0 = tl_now_ms();
    for (i = 0; i < NHAMMER; i++) {
        pthread_join(h[i].t, NULL);
        failed += h[i].rc < 0;
        total += atomic_load(&h[i].calls);
        if (h[i].ended > last)
            last = h[i].ended;
    }
    TAP_OK(failed == NHAMMER && last - t0 < 2000,
           "kill: %d threads (%d rounds of 1 + 8 pipelined calls) all got an error within %lld "
           "ms of SIGKILL",
           NHAMMER, total, (long long)(last - t0));
    for (i = 0; i < 200 && atomic_load(&k.calls) == 0; i++)
        tl_sleep_ms(10);
    TAP_OK(atomic_load(&k.calls) == 1 && atomic_load(&k.reason) == VRPC_CONNECT_CLOSE_REASON_EOF,
           "kill: the close callback says EOF");
out:
    vrpc_conn_close(c);
    TAP_OK(tl_count_fds() == fds0, "kill: no descriptor left (%d before, %d after)", fds0,
           tl_count_fds());
    {
        vrpc_conn *c2 = NULL;
        int rc = vrpc_conn_open(&c2, uri, 0, NULL);
        TAP_OK(rc != 0 && !c2 && tl_count_fds() == fds0,
               "kill: opening the dead daemon fails cleanly (%s)", vrpc_strerror(rc));
    }
    free(uri);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: keepalive-check STOP-DIR IDLE-DIR KILL-DIR\n");
        return 2;
    }
    test_kill(argv[3]);
    test_stop(argv[1]);
    test_idle(argv[2]);
    return tap_done();
}
