/* SPDX-License-Identifier: MIT */
/*
 * The libuv adapter (<virtrpc/adapters/libuv.h>) against a real daemon:
 *
 *   test-uv DIR     (DIR: a daemon of `test-daemon.sh start-one DIR
 *                      'keepalive_interval = 1' 'keepalive_count = 2'`)
 *
 * calls sent from the loop's thread complete through the loop; blocking
 * calls from another thread share the socket with the loop; lifecycle
 * events arrive through the loop; an idle connection served by the loop
 * outlives the daemon's keepalive (one that is not served is dropped); an
 * idle loop does not spin; detach (also from inside a callback) leaves the
 * connection usable; a connection that dies is reported once by the close
 * callback inside the loop and the source goes quiet.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <virtrpc/adapters/libuv.h>

/* libuv keeps a process-wide signal pipe open for good: the generic check of
 * tap.h would count it; this program counts descriptors itself, after it. */
#define TAP_NO_FD_CHECK
#include "loops-common.h"

static uv_loop_t g_loop;
static uv_timer_t g_tick;

static void tick(uv_timer_t *t)
{
    (void)t; /* bounds every iteration to 20 ms */
}

static void iterate(void)
{
    uv_run(&g_loop, UV_RUN_ONCE);
}

/* Run the loop until *flag (if given) or ms pass. */
static void run_loop(const int *flag, int ms)
{
    uint64_t end = vrpc_now_usec() + (uint64_t)ms * 1000;
    while ((!flag || !*flag) && vrpc_now_usec() < end)
        iterate();
}

static vrpc_uv *g_detach_me;
static int g_detached_in_cb;

static void on_event_detach(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    (void)c;
    (void)ev;
    (void)opaque;
    if (g_detach_me) {
        vrpc_uv_detach(g_detach_me);
        g_detach_me = NULL;
        g_detached_in_cb = 1;
    }
}

static void on_close_detach(vrpc_conn *c, int reason, void *opaque)
{
    lc_close_state *cs = opaque;
    lc_on_close(c, reason, opaque);
    if (g_detach_me) {
        vrpc_uv_detach(g_detach_me);
        g_detach_me = NULL;
        cs->detached = 1;
    }
}

int main(int argc, char **argv)
{
    char uri[512];
    vrpc_conn *c = NULL, *other = NULL, *unserved = NULL;
    vrpc_uv *s = NULL;
    vrpc_error *err = NULL;
    lc_events evs = {0};
    lc_thread th;
    int id, i, done = 0, sp[2];
    double cpu;

    if (argc != 2) {
        fprintf(stderr, "usage: test-uv DIR\n");
        return 2;
    }
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", argv[1]);
    /* libuv's process-wide signal pipe is made by the first loop; count after it */
    uv_loop_init(&g_loop);
    uv_loop_close(&g_loop);
    int fds0 = tl_count_fds();
    uv_loop_init(&g_loop);
    uv_timer_init(&g_loop, &g_tick);
    uv_timer_start(&g_tick, tick, 20, 20);

    if (!TAP_OK(vrpc_conn_open(&c, uri, 0, &err) == 0, "open %s", uri))
        goto out;
    s = vrpc_uv_attach(c, &g_loop, &err);
    TAP_OK(s != NULL, "attach (keepalive on)");
    if (!s)
        goto out;

    /* Calls from the loop's thread: sent at once, the loop reads the replies. */
    {
        lc_calls calls;
        lc_calls_send(&calls, c, 100);
        while (calls.done < calls.n && !lc_calls_timed_out(&calls)) {
            iterate();
            lc_calls_collect(&calls);
        }
        TAP_OK(calls.done == 100 && calls.failed == 0,
               "100 pipelined calls complete through the loop (%d done, %d failed)", calls.done,
               calls.failed);
    }

    /* Events through the loop. */
    TAP_OK(vrpc_event_register_domain(c, VRPC_DOMAIN_EVENT_ID_LIFECYCLE, NULL, lc_on_event, &evs,
                                      NULL, &id, &err) == 0,
           "register a lifecycle callback");
    TAP_OK(vrpc_conn_open(&other, uri, 0, &err) == 0, "open a second connection");
    TAP_OK(lc_cycle_domain(other, "uv") == 0, "start and destroy a transient domain");
    run_loop(&evs.stopped, 5000);
    TAP_OK(evs.started == 1 && evs.stopped == 1 && evs.wrong_thread == 0,
           "STARTED and STOPPED delivered by the loop, in its thread (%d, %d)", evs.started,
           evs.stopped);

    /* Another thread's blocking calls while the loop serves the connection. */
    lc_thread_start(&th, c, 300);
    while (!__atomic_load_n(&th.finished, __ATOMIC_SEQ_CST))
        iterate();
    lc_thread_join(&th);
    TAP_OK(th.ok == 300, "300 blocking calls from another thread while the loop runs (%d ok)",
           th.ok);

    /* Keepalive: the daemon drops silent clients after ~3 s. */
    TAP_OK(vrpc_conn_open(&unserved, uri, 0, &err) == 0 &&
               vrpc_conn_set_keepalive(unserved, 5 * VRPC_USEC_PER_SEC, 5, &err) == 0,
           "a connection that advertises keepalive and is not served");
    cpu = lc_cpu_seconds();
    run_loop(NULL, 4500);
    cpu = lc_cpu_seconds() - cpu;
    TAP_OK(vrpc_conn_get_status(c) == 0 && vrpc_uv_status(s) == 0 && lc_one_call(c) == 0,
           "the served connection is alive after 4.5 s idle against keepalive 1/2");
    TAP_OK(lc_one_call(unserved) != 0, "the unserved one was dropped by the daemon");
    TAP_OK(cpu < 0.5, "the idle loop does not spin (%.3f s CPU in 4.5 s)", cpu);
    vrpc_conn_close(unserved);
    unserved = NULL;

    /* Detach: the connection stays usable without the loop. */
    vrpc_uv_detach(s);
    s = NULL;
    run_loop(NULL, 100);
    TAP_OK(lc_one_call(c) == 0, "detached: blocking calls still work");
    evs.started = evs.stopped = 0;
    lc_cycle_domain(other, "uv2");
    run_loop(NULL, 300);
    TAP_OK(evs.started == 0, "detached: the loop no longer dispatches events");
    vrpc_conn_process(c); /* the queued events run here */
    TAP_OK(evs.started == 1 && evs.stopped == 1, "they run in vrpc_conn_process() instead");

    /* Detach from inside an event callback. */
    {
        int id2 = -1;
        s = vrpc_uv_attach_full(c, &g_loop, 0, 0, &err);
        g_detach_me = s;
        TAP_OK(s && vrpc_event_register_domain(c, VRPC_DOMAIN_EVENT_ID_LIFECYCLE, NULL,
                                               on_event_detach, NULL, NULL, &id2, &err) == 0,
               "re-attach, a callback that detaches");
        lc_cycle_domain(other, "uv3");
        run_loop(&g_detached_in_cb, 5000);
        TAP_OK(g_detached_in_cb, "detached from inside the event callback");
        run_loop(NULL, 100);
        TAP_OK(lc_one_call(c) == 0, "the connection is still usable");
        vrpc_event_deregister(c, id2, NULL);
        s = NULL;
    }

    /* A connection that dies under the loop: seen by the loop; with a detach in
     * its close callback; seen by another thread's call that owns the socket
     * (the library closes the socket there, the notify descriptor wakes the loop). */
    for (i = 0; i < 3; i++) {
        static const char *const what[] = {"dead connection", "detach in the close callback",
                                           "death seen by another thread's call"};
        lc_thread dt = {0};
        vrpc_conn *d = NULL;
        lc_close_state cs = {0};
        vrpc_uv *ds;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 ||
            vrpc_conn_new_fd(&d, sp[0]) != 0) {
            TAP_OK(0, "socketpair connection");
            continue;
        }
        ds = vrpc_uv_attach_full(d, &g_loop, 0, 0, &err);
        g_detach_me = i == 1 ? ds : NULL;
        vrpc_conn_set_close_callback(d, i == 1 ? on_close_detach : lc_on_close, &cs, NULL, NULL);
        if (i == 2)
            lc_thread_start(&dt, d, 1); /* a call the peer never answers */
        run_loop(NULL, 100);
        close(sp[1]); /* the peer goes away */
        run_loop(&cs.calls, 3000);
        if (i == 2) {
            lc_thread_join(&dt);
            TAP_OK(dt.finished && dt.ok == 0, "%s: the call failed", what[i]);
        }
        TAP_OK(cs.calls == 1 && cs.reason == VRPC_CONNECT_CLOSE_REASON_EOF && cs.in_loop_thread,
               "%s: the close callback ran once in the loop (EOF)", what[i]);
        cpu = lc_cpu_seconds();
        run_loop(NULL, 500);
        cpu = lc_cpu_seconds() - cpu;
        TAP_OK(cs.calls == 1 && cpu < 0.2 && (i == 1 ? cs.detached : vrpc_uv_status(ds) != 0),
               "%s: then quiet, %s (%.3f s CPU in 0.5 s)", what[i], i == 1 ? "detached" : "inert",
               cpu);
        if (i != 1)
            vrpc_uv_detach(ds);
        vrpc_conn_close(d);
    }
    done = 1;

out:
    if (err)
        tap_diag("error: %s", err->message ? err->message : "?");
    vrpc_free(err);
    vrpc_uv_detach(s);
    vrpc_conn_close(unserved);
    vrpc_conn_close(other);
    vrpc_conn_close(c);
    uv_close((uv_handle_t *)&g_tick, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT); /* the adapters' handles close */
    TAP_OK(uv_loop_close(&g_loop) == 0, "every handle closed (the adapters freed theirs)");
    TAP_OK(done && tl_count_fds() == fds0, "no descriptor left (%d before, %d after)", fds0,
           tl_count_fds());
    return tap_done();
}
