/* SPDX-License-Identifier: MIT */
/*
 * Reconnecting connections against a private libvirtd that this program
 * starts, kills (SIGKILL) and starts again (scripts/test-daemon.sh
 * start-one in a temporary directory; no other daemon is touched):
 *
 *  - restarts: 20 kills and restarts while 4 threads make calls and an event
 *    callback counts lifecycle events; after every restart the connection
 *    comes back (state "reconnected"), destroying and starting the test
 *    domain brings new lifecycle events through the callback registered
 *    once at the start, the calls fail only with VRPC_E_CLOSED (in flight at
 *    the kill) or VRPC_E_TIMEOUT and succeed again; no descriptor or thread
 *    is left after vrpc_conn_close();
 *  - stream: a stream open when the connection is lost fails with
 *    VRPC_E_CLOSED, also after the reconnection;
 *  - stopped: a daemon stopped (SIGSTOP): keepalive declares the loss,
 *    attempts are bounded by attempt_timeout, SIGCONT brings it back, a
 *    close during an attempt returns at once;
 *  - give up: a daemon that never comes back: a call made while
 *    reconnecting fails with VRPC_E_TIMEOUT after the call bound, "gave up"
 *    is reported within the total bound, later calls fail with
 *    VRPC_E_CLOSED, the close callback runs once;
 *  - close while reconnecting: returns at once, nothing left behind.
 *
 *   test-reconnect SRCDIR   (needs root and libvirtd; skipped otherwise)
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "../testlib.h"

#define RESTARTS 20
#define WORKERS 4

static const char *top;
static char *dir, *uri;

/* ---- the private daemon ---- */

static void reap_orphans(void)
{
    /* The daemonising parents of libvirtd end up here (subreaper). */
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static pid_t daemon_pid(void)
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

static bool start_daemon(void)
{
    char *sock = tl_strf("%s/sys/run/libvirt-sock", dir);
    int rc;
    unlink(sock); /* a killed daemon's socket stays: wait for the new one */
    free(sock);
    rc = tl_sh(NULL, "%s/scripts/test-daemon.sh start-one %s >>%s/start.log 2>&1", top, dir, dir);
    reap_orphans();
    return rc == 0 && daemon_pid() > 0;
}

/* SIGKILL (or SIGTERM) the daemon and reap it (it is our child: subreaper). */
static void stop_daemon(int sig)
{
    pid_t pid = daemon_pid();
    char *path = tl_strf("%s/sys/pid", dir);
    if (pid > 0 && kill(pid, sig) == 0)
        waitpid(pid, NULL, 0);
    unlink(path);
    free(path);
}

static int count_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

/* ---- what the callbacks count ---- */

typedef struct states {
    atomic_int n[5]; /* by VRPC_RECONNECT_* */
    atomic_int attempt;
    atomic_llong gave_up_at;
    atomic_int bad_order; /* a state that cannot follow the previous one */
    atomic_int last;
} states;

static void on_state(vrpc_conn *c, int state, unsigned int attempt, const vrpc_error *err,
                     void *opaque)
{
    states *s = opaque;
    int prev = atomic_exchange(&s->last, state);
    (void)c;
    (void)err;
    if (state < 1 || state > 4 ||
        (state == VRPC_RECONNECT_LOST && prev != 0 && prev != VRPC_RECONNECT_RECONNECTED) ||
        (state != VRPC_RECONNECT_LOST && prev != VRPC_RECONNECT_LOST &&
         prev != VRPC_RECONNECT_RECONNECTING))
        atomic_fetch_add(&s->bad_order, 1);
    if (state >= 1 && state <= 4)
        atomic_fetch_add(&s->n[state], 1);
    atomic_store(&s->attempt, (int)attempt);
    if (state == VRPC_RECONNECT_GAVE_UP)
        atomic_store(&s->gave_up_at, tl_now_ms());
}

static atomic_int lifecycle;

static void on_event(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    (void)c;
    (void)ev;
    (void)opaque;
    atomic_fetch_add(&lifecycle, 1);
}

static atomic_int closes, close_reason;

static void on_close(vrpc_conn *c, int reason, void *opaque)
{
    (void)c;
    (void)opaque;
    atomic_store(&close_reason, reason);
    atomic_fetch_add(&closes, 1);
}

static bool wait_for(atomic_int *v, int want, int ms)
{
    int64_t end = tl_now_ms() + ms;
    while (atomic_load(v) < want && tl_now_ms() < end)
        tl_sleep_ms(5);
    return atomic_load(v) >= want;
}

/* ---- calling threads ---- */

typedef struct worker {
    vrpc_conn *c;
    pthread_t t;
    atomic_int stop;
    atomic_int ok, closed, timeout, other;
    int other_rc;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    while (!atomic_load(&w->stop)) {
        vrpc_connect_get_lib_version_ret *r = NULL;
        int rc = vrpc_connect_get_lib_version(w->c, &r, NULL);
        vrpc_free(r);
        if (rc == 0)
            atomic_fetch_add(&w->ok, 1);
        else if (rc == VRPC_E_CLOSED)
            atomic_fetch_add(&w->closed, 1);
        else if (rc == VRPC_E_TIMEOUT)
            atomic_fetch_add(&w->timeout, 1);
        else {
            w->other_rc = rc;
            atomic_fetch_add(&w->other, 1);
        }
        tl_sleep_ms(2);
    }
    return NULL;
}

/* Destroy and start the test domain: two lifecycle events. */
static int bounce_domain(vrpc_conn *c)
{
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *r = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_domain_lookup_by_name(c, &la, &r, &e);
    if (rc == 0) {
        vrpc_domain_destroy_args da = {.dom = r->dom};
        vrpc_domain_create_args ca = {.dom = r->dom};
        rc = vrpc_domain_destroy(c, &da, &e);
        if (rc == 0)
            rc = vrpc_domain_create(c, &ca, &e);
    }
    if (rc)
        tap_diag("bounce: %s", e && e->message ? e->message : vrpc_strerror(rc));
    vrpc_free(e);
    vrpc_free(r);
    return rc;
}

static vrpc_conn *open_reconnecting(const vrpc_reconnect_opts *o)
{
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    if (vrpc_conn_open_reconnect(&c, uri, 0, NULL, NULL, o, &e) != 0) {
        tap_diag("open %s: %s", uri, e && e->message ? e->message : "?");
        vrpc_free(e);
        return NULL;
    }
    return c;
}

static void test_restarts(void)
{
    int fds0 = tl_count_fds(), threads0 = count_threads();
    states s;
    vrpc_reconnect_opts o;
    vrpc_conn *c;
    worker w[WORKERS];
    int i, id = 0, back = 0, evs = 0, ok_after = 0, closed = 0, timeouts = 0, other = 0, rc;
    int64_t t0 = tl_now_ms();

    memset(&s, 0, sizeof(s));
    memset(&o, 0, sizeof(o));
    o.initial_delay_usec = 20 * VRPC_USEC_PER_MSEC;
    o.max_delay_usec = 400 * VRPC_USEC_PER_MSEC;
    o.max_total_usec = 60 * VRPC_USEC_PER_SEC;
    o.call_wait_usec = 20 * VRPC_USEC_PER_SEC;
    o.cb = on_state;
    o.opaque = &s;
    c = open_reconnecting(&o);
    if (!c) {
        TAP_OK(0, "restarts: open");
        return;
    }
    rc = vrpc_event_register_domain(c, VRPC_DOMAIN_EVENT_ID_LIFECYCLE, NULL, on_event, NULL, NULL,
                                    &id, NULL);
    TAP_OK(rc == 0 && vrpc_conn_start_event_thread(c) == 0 &&
               vrpc_conn_set_close_callback(c, on_close, NULL, NULL, NULL) == 0,
           "restarts: lifecycle callback registered once, event thread and close callback set");
    atomic_store(&lifecycle, 0);
    TAP_OK(bounce_domain(c) == 0 && wait_for(&lifecycle, 2, 5000),
           "restarts: destroy + create bring lifecycle events before any restart");
    for (i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].c = c;
        pthread_create(&w[i].t, NULL, work, &w[i]);
    }
    for (i = 0; i < RESTARTS; i++) {
        int n0;
        tl_sleep_ms(50 + 10 * i); /* calls in flight at varying moments */
        stop_daemon(SIGKILL);
        if (!start_daemon()) {
            tap_diag("restart %d: the daemon did not start", i + 1);
            break;
        }
        if (!wait_for(&s.n[VRPC_RECONNECT_RECONNECTED], i + 1, 20000)) {
            tap_diag("restart %d: no reconnection in 20 s", i + 1);
            break;
        }
        back++;
        n0 = atomic_load(&lifecycle);
        if (bounce_domain(c) == 0 && wait_for(&lifecycle, n0 + 2, 5000))
            evs++;
        else
            tap_diag("restart %d: no new lifecycle events (%d before, %d now)", i + 1, n0,
                     atomic_load(&lifecycle));
    }
    TAP_OK(back == RESTARTS,
           "restarts: reconnected after each of %d SIGKILL + restart (%d), %lld ms", RESTARTS, back,
           (long long)(tl_now_ms() - t0));
    TAP_OK(evs == RESTARTS,
           "restarts: new lifecycle events reach the callback after every restart "
           "(%d of %d)",
           evs, RESTARTS);
    for (i = 0; i < WORKERS; i++) {
        int ok0 = atomic_load(&w[i].ok);
        wait_for(&w[i].ok, ok0 + 3, 5000);
        ok_after += atomic_load(&w[i].ok) > ok0;
    }
    for (i = 0; i < WORKERS; i++) {
        atomic_store(&w[i].stop, 1);
        pthread_join(w[i].t, NULL);
        closed += atomic_load(&w[i].closed);
        timeouts += atomic_load(&w[i].timeout);
        other += atomic_load(&w[i].other);
        if (atomic_load(&w[i].other))
            tap_diag("worker %d: a call failed with %s", i, vrpc_strerror(w[i].other_rc));
    }
    TAP_OK(other == 0 && ok_after == WORKERS,
           "restarts: %d threads' calls failed only with VRPC_E_CLOSED (%d) or VRPC_E_TIMEOUT (%d) "
           "and succeed again after the last restart",
           WORKERS, closed, timeouts);
    TAP_OK(atomic_load(&s.n[VRPC_RECONNECT_LOST]) == RESTARTS &&
               atomic_load(&s.n[VRPC_RECONNECT_RECONNECTED]) == RESTARTS &&
               atomic_load(&s.n[VRPC_RECONNECT_GAVE_UP]) == 0 && atomic_load(&s.bad_order) == 0 &&
               vrpc_conn_get_reconnects(c) == RESTARTS,
           "restarts: states reported in order: lost %d, reconnecting %d, reconnected %d, gave up "
           "%d",
           atomic_load(&s.n[VRPC_RECONNECT_LOST]), atomic_load(&s.n[VRPC_RECONNECT_RECONNECTING]),
           atomic_load(&s.n[VRPC_RECONNECT_RECONNECTED]),
           atomic_load(&s.n[VRPC_RECONNECT_GAVE_UP]));
    {
        vrpc_event_stats st;
        vrpc_event_get_stats(c, &st);
        TAP_OK(st.callbacks == 1 && st.registrations == 1 && atomic_load(&closes) == 0,
               "restarts: one callback, one registration (%u, %u); the close callback did not run",
               st.callbacks, st.registrations);
    }
    TAP_OK(vrpc_event_deregister(c, id, NULL) == 0, "restarts: the callback's id is still valid");
    vrpc_conn_close(c);
    TAP_OK(tl_count_fds() == fds0 && count_threads() == threads0,
           "restarts: no descriptor or thread left (fds %d -> %d, threads %d -> %d)", fds0,
           tl_count_fds(), threads0, count_threads());
}

/* A stream open when the connection is lost fails, also once it is back. */
static void test_stream(void)
{
    int fds0 = tl_count_fds();
    states s;
    vrpc_reconnect_opts o;
    vrpc_conn *c;
    vrpc_stream *st = NULL;
    vrpc_error *e = NULL;
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *r = NULL;
    char buf[256];
    ssize_t n = 0;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&o, 0, sizeof(o));
    o.initial_delay_usec = 20 * VRPC_USEC_PER_MSEC;
    o.cb = on_state;
    o.opaque = &s;
    c = open_reconnecting(&o);
    if (!c) {
        TAP_OK(0, "stream: open");
        return;
    }
    rc = vrpc_domain_lookup_by_name(c, &la, &r, NULL);
    if (rc == 0) {
        vrpc_domain_screenshot_args sa = {.dom = r->dom};
        vrpc_domain_screenshot_ret *sr = NULL;
        rc = vrpc_domain_screenshot(c, &sa, &sr, &st, &e);
        vrpc_free(sr);
    }
    vrpc_free(r);
    TAP_OK(rc == 0 && st, "stream: a screenshot stream is open (%s)",
           rc ? (e && e->message ? e->message : vrpc_strerror(rc)) : "ok");
    vrpc_free(e);
    e = NULL;
    vrpc_conn_start_event_thread(c);
    stop_daemon(SIGKILL);
    if (st && start_daemon() && wait_for(&s.n[VRPC_RECONNECT_RECONNECTED], 1, 20000)) {
        vrpc_connect_get_lib_version_ret *v = NULL;
        n = vrpc_stream_recv(st, buf, sizeof(buf), 0, &e);
        TAP_OK(n == VRPC_E_CLOSED && e && e->message && strstr(e->message, "aborted"),
               "stream: after the reconnection it fails with VRPC_E_CLOSED: %s",
               e && e->message ? e->message : vrpc_strerror((int)n));
        rc = vrpc_connect_get_lib_version(c, &v, NULL);
        vrpc_free(v);
        TAP_OK(rc == 0 && vrpc_stream_abort(st, NULL) == VRPC_E_CLOSED,
               "stream: the connection works; abort reports the loss");
    } else {
        TAP_OK(0, "stream: reconnected after the kill");
    }
    vrpc_free(e);
    vrpc_stream_free(st);
    vrpc_conn_close(c);
    TAP_OK(tl_count_fds() == fds0, "stream: no descriptor left");
}

/*
 * A daemon that stops answering (SIGSTOP): keepalive declares the
 * connection lost, each attempt ends after attempt_timeout of silence
 * (the daemon's socket still accepts), SIGCONT brings it back; then a
 * close during an attempt that waits for the stopped daemon returns at
 * once.
 */
static void test_stopped(void)
{
    int fds0 = tl_count_fds(), threads0 = count_threads();
    pid_t pid = daemon_pid();
    states s;
    vrpc_reconnect_opts o;
    vrpc_conn *c;
    int64_t t0;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&o, 0, sizeof(o));
    o.initial_delay_usec = 50 * VRPC_USEC_PER_MSEC;
    o.max_delay_usec = 100 * VRPC_USEC_PER_MSEC;
    o.attempt_timeout_usec = 400 * VRPC_USEC_PER_MSEC;
    o.cb = on_state;
    o.opaque = &s;
    c = open_reconnecting(&o);
    if (!c || pid <= 0) {
        TAP_OK(0, "stopped: open");
        vrpc_conn_close(c);
        return;
    }
    vrpc_conn_start_event_thread(c);
    rc = vrpc_conn_set_keepalive(c, 300 * VRPC_USEC_PER_MSEC, 1, NULL);
    kill(pid, SIGSTOP);
    t0 = tl_now_ms();
    {
        bool lost = wait_for(&s.n[VRPC_RECONNECT_LOST], 1, 3000);
        long long t = (long long)(tl_now_ms() - t0);
        bool tried = wait_for(&s.n[VRPC_RECONNECT_RECONNECTING], 4, 4000);
        long long t2 = (long long)(tl_now_ms() - t0);
        TAP_OK(rc == 0 && lost, "stopped: keepalive declares the connection lost (%lld ms)", t);
        TAP_OK(tried, "stopped: attempts end after 400 ms of silence: %d attempts in %lld ms",
               atomic_load(&s.n[VRPC_RECONNECT_RECONNECTING]), t2);
    }
    kill(pid, SIGCONT);
    TAP_OK(wait_for(&s.n[VRPC_RECONNECT_RECONNECTED], 1, 5000) && vrpc_conn_get_status(c) == 0,
           "stopped: SIGCONT, reconnected");
    {
        int n0 = atomic_load(&s.n[VRPC_RECONNECT_RECONNECTING]);
        kill(pid, SIGSTOP);
        wait_for(&s.n[VRPC_RECONNECT_RECONNECTING], n0 + 1, 4000);
        tl_sleep_ms(100); /* inside an open sequence the daemon does not answer */
        t0 = tl_now_ms();
        vrpc_conn_close(c);
        t0 = tl_now_ms() - t0;
        kill(pid, SIGCONT);
    }
    TAP_OK(t0 < 200 && atomic_load(&s.bad_order) == 0,
           "stopped: vrpc_conn_close() during an attempt on a stopped daemon returns in %lld ms",
           (long long)t0);
    TAP_OK(tl_count_fds() == fds0 && count_threads() == threads0,
           "stopped: no descriptor or thread left (fds %d -> %d, threads %d -> %d)", fds0,
           tl_count_fds(), threads0, count_threads());
}

static void test_give_up(void)
{
    int fds0 = tl_count_fds(), threads0 = count_threads();
    states s;
    vrpc_reconnect_opts o;
    vrpc_conn *c;
    vrpc_error *e = NULL;
    int64_t t0, t1;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&o, 0, sizeof(o));
    o.initial_delay_usec = 50 * VRPC_USEC_PER_MSEC;
    o.max_delay_usec = 200 * VRPC_USEC_PER_MSEC;
    o.max_total_usec = 1500 * VRPC_USEC_PER_MSEC;
    o.call_wait_usec = 300 * VRPC_USEC_PER_MSEC;
    o.cb = on_state;
    o.opaque = &s;
    atomic_store(&closes, 0);
    c = open_reconnecting(&o);
    if (!c) {
        TAP_OK(0, "give up: open");
        return;
    }
    vrpc_conn_set_close_callback(c, on_close, NULL, NULL, NULL);
    vrpc_conn_start_event_thread(c);
    stop_daemon(SIGKILL);
    t0 = tl_now_ms();
    TAP_OK(wait_for(&s.n[VRPC_RECONNECT_RECONNECTING], 1, 2000), "give up: lost, reconnecting");
    {
        vrpc_connect_get_lib_version_ret *r = NULL;
        int64_t a = tl_now_ms();
        rc = vrpc_connect_get_lib_version(c, &r, &e);
        t1 = tl_now_ms() - a;
        vrpc_free(r);
    }
    TAP_OK(rc == VRPC_E_TIMEOUT && e && e->code == VRPC_ERR_OPERATION_TIMEOUT && t1 >= 290 &&
               t1 < 1000,
           "give up: a call made while reconnecting fails with VRPC_E_TIMEOUT after the call "
           "bound (%lld ms): %s",
           (long long)t1, e && e->message ? e->message : vrpc_strerror(rc));
    vrpc_free(e);
    e = NULL;
    {
        bool gave_up = wait_for(&s.n[VRPC_RECONNECT_GAVE_UP], 1, 5000);
        long long after = (long long)(atomic_load(&s.gave_up_at) - t0);
        int attempts = atomic_load(&s.attempt);
        /* Delays 50, 100, 200, 200 ... ms: it gives up when the next attempt
         * would start past 1500 ms, i.e. after 1300 ms at the earliest. */
        TAP_OK(gave_up && after >= 1200 && after <= 1500 + 500 && attempts >= 5,
               "give up: \"gave up\" after %d attempts, %lld ms after the kill (bound 1500 ms)",
               attempts, after);
    }
    {
        vrpc_connect_get_lib_version_ret *r = NULL;
        int64_t a = tl_now_ms();
        rc = vrpc_connect_get_lib_version(c, &r, NULL);
        t1 = tl_now_ms() - a;
        vrpc_free(r);
    }
    TAP_OK(rc == VRPC_E_CLOSED && t1 < 100, "give up: later calls fail at once with VRPC_E_CLOSED");
    TAP_OK(wait_for(&closes, 1, 2000) && atomic_load(&s.bad_order) == 0 &&
               atomic_load(&close_reason) == VRPC_CONNECT_CLOSE_REASON_EOF,
           "give up: the close callback runs once it gave up, with the loss's reason (EOF)");
    vrpc_conn_close(c);
    TAP_OK(atomic_load(&closes) == 1 && tl_count_fds() == fds0 && count_threads() == threads0,
           "give up: no descriptor or thread left (fds %d -> %d, threads %d -> %d)", fds0,
           tl_count_fds(), threads0, count_threads());
}

static void test_close_while_reconnecting(void)
{
    int fds0 = tl_count_fds(), threads0 = count_threads();
    states s;
    vrpc_reconnect_opts o;
    vrpc_conn *c;
    int64_t t0;

    if (!start_daemon()) {
        TAP_OK(0, "close: the daemon starts again");
        return;
    }
    memset(&s, 0, sizeof(s));
    memset(&o, 0, sizeof(o));
    o.initial_delay_usec = 100 * VRPC_USEC_PER_MSEC;
    o.cb = on_state;
    o.opaque = &s;
    c = open_reconnecting(&o);
    if (!c) {
        TAP_OK(0, "close: open");
        return;
    }
    vrpc_conn_start_event_thread(c);
    stop_daemon(SIGKILL);
    wait_for(&s.n[VRPC_RECONNECT_RECONNECTING], 2, 3000);
    t0 = tl_now_ms();
    vrpc_conn_close(c);
    t0 = tl_now_ms() - t0;
    TAP_OK(t0 < 500 && atomic_load(&s.n[VRPC_RECONNECT_GAVE_UP]) == 0,
           "close: vrpc_conn_close() while reconnecting returns in %lld ms", (long long)t0);
    TAP_OK(tl_count_fds() == fds0 && count_threads() == threads0,
           "close: no descriptor or thread left (fds %d -> %d, threads %d -> %d)", fds0,
           tl_count_fds(), threads0, count_threads());
}

static void *nothing(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    char *tmpl = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: test-reconnect SRCDIR\n");
        return 2;
    }
    top = argv[1];
    if (geteuid() != 0 || tl_sh(NULL, "command -v libvirtd >/dev/null") != 0) {
        printf("1..0 # SKIP needs root and libvirtd\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    {
        /* A first thread, so that a sanitizer's own thread (TSan starts one
         * with the first pthread_create) exists before any count. */
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) == 0)
            pthread_join(t, NULL);
    }
    /* The daemon double-forks: as a subreaper this process reaps it itself. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (tl_sh(&tmpl, "mktemp -d") != 0 || !*tmpl) {
        printf("Bail out! mktemp\n");
        return 1;
    }
    tmpl[strcspn(tmpl, "\n")] = '\0';
    chmod(tmpl, 0755);
    dir = tmpl;
    uri = tl_sys_uri(dir);
    if (!start_daemon()) {
        printf("Bail out! cannot start the private daemon (see %s/start.log)\n", dir);
        return 1;
    }
    test_restarts();
    test_stream();
    test_stopped();
    test_give_up();
    test_close_while_reconnecting();
    stop_daemon(SIGTERM);
    reap_orphans();
    tl_sh(NULL, "rm -rf %s", dir);
    free(uri);
    free(tmpl);
    return tap_done();
}
