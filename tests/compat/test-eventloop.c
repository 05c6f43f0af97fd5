/* SPDX-License-Identifier: MIT */
/*
 * The default event loop of libvirt.so.0 (compat/eventloop.c) through
 * libvirt's public API: handles on pipes, timeouts, updates, removal from
 * the callback itself, from another callback and from another thread, the
 * free callbacks (each exactly once, never while its callback runs, never
 * inside the remove call), wakeups of a loop blocked in another thread, and
 * many iterations with churn. The expectations are libvirt's: the program
 * runs unchanged on the system's libvirt.so.0 (LD_LIBRARY_PATH), whose
 * default loop is GLib's main context.
 */
#define TAP_NO_FD_CHECK /* the loop's wakeup descriptor lives as long as the process */
#include "../tap.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* What a callback saw, and its free callback's bookkeeping. */
typedef struct rec {
    atomic_int calls;
    atomic_int frees;
    atomic_int last_watch;
    atomic_int last_fd;
    atomic_int last_events;
    atomic_bool in_cb;       /* its callback runs now */
    atomic_bool freed_in_cb; /* ff ran while the callback ran */
    atomic_bool freed_in_remove;
    atomic_bool in_remove;
    atomic_int self_remove; /* the callback removes its own id (1) */
    atomic_int remove_other_handle;
    atomic_int remove_other_timer;
    atomic_int sleep_ms; /* the callback sleeps (another thread removes it meanwhile) */
    atomic_int drain_fd; /* read a byte from this fd in the callback (-1: no) */
} rec;

static void rec_init(rec *r)
{
    memset(r, 0, sizeof(*r));
    r->drain_fd = -1;
}

static void rec_free(void *opaque)
{
    rec *r = opaque;

    if (atomic_load(&r->in_cb))
        atomic_store(&r->freed_in_cb, true);
    if (atomic_load(&r->in_remove))
        atomic_store(&r->freed_in_remove, true);
    atomic_fetch_add(&r->frees, 1);
}

static void on_handle(int watch, int fd, int events, void *opaque)
{
    rec *r = opaque;

    atomic_store(&r->in_cb, true);
    atomic_fetch_add(&r->calls, 1);
    atomic_store(&r->last_watch, watch);
    atomic_store(&r->last_fd, fd);
    atomic_store(&r->last_events, events);
    if (r->drain_fd >= 0) {
        char b;

        if (read(r->drain_fd, &b, 1) < 0) {
            /* nothing there */
        }
    }
    if (r->sleep_ms)
        sleep_ms(r->sleep_ms);
    if (r->remove_other_handle)
        virEventRemoveHandle(r->remove_other_handle);
    if (r->remove_other_timer)
        virEventRemoveTimeout(r->remove_other_timer);
    if (r->self_remove)
        virEventRemoveHandle(watch);
    atomic_store(&r->in_cb, false);
}

static void on_timer(int timer, void *opaque)
{
    rec *r = opaque;

    atomic_store(&r->in_cb, true);
    atomic_fetch_add(&r->calls, 1);
    atomic_store(&r->last_watch, timer);
    if (r->sleep_ms)
        sleep_ms(r->sleep_ms);
    if (r->remove_other_handle)
        virEventRemoveHandle(r->remove_other_handle);
    if (r->remove_other_timer)
        virEventRemoveTimeout(r->remove_other_timer);
    if (r->self_remove)
        virEventRemoveTimeout(timer);
    atomic_store(&r->in_cb, false);
}

/* A timer that keeps every iteration short (the loop never blocks long). */
static rec tick;
static int tick_id;

static void run(int n)
{
    for (int i = 0; i < n; i++)
        virEventRunDefaultImpl();
}

static int remove_handle(rec *r, int id)
{
    int rc;

    atomic_store(&r->in_remove, true);
    rc = virEventRemoveHandle(id);
    atomic_store(&r->in_remove, false);
    return rc;
}

static int remove_timeout(rec *r, int id)
{
    int rc;

    atomic_store(&r->in_remove, true);
    rc = virEventRemoveTimeout(id);
    atomic_store(&r->in_remove, false);
    return rc;
}

/* ---- a loop thread ---- */

static atomic_bool loop_stop;
static atomic_int loop_iterations;

static void *loop_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&loop_stop)) {
        virEventRunDefaultImpl();
        atomic_fetch_add(&loop_iterations, 1);
    }
    return NULL;
}

static void wake_once(int timer, void *opaque)
{
    (void)opaque;
    virEventRemoveTimeout(timer);
}

static void stop_loop(pthread_t th)
{
    atomic_store(&loop_stop, true);
    /* wakes the blocked iteration */
    virEventAddTimeout(0, wake_once, NULL, NULL);
    pthread_join(th, NULL);
    atomic_store(&loop_stop, false);
}

/* Wait (up to 10 s) until *v reaches want. */
static bool wait_for(atomic_int *v, int want)
{
    double end = now_s() + 10;

    while (atomic_load(v) < want && now_s() < end)
        sleep_ms(1);
    return atomic_load(v) >= want;
}

/* ---- callbacks that call back into the API ---- */

static rec chain_h, chain_t;
static atomic_int chain_handle_id, chain_timer_id;
static int chain_pipe[2];

static void on_chain(int timer, void *opaque)
{
    (void)opaque;
    /* from inside a callback: add a handle and a timeout, update, remove */
    atomic_store(&chain_handle_id, virEventAddHandle(chain_pipe[0], VIR_EVENT_HANDLE_READABLE,
                                                     on_handle, &chain_h, rec_free));
    atomic_store(&chain_timer_id, virEventAddTimeout(-1, on_timer, &chain_t, rec_free));
    virEventUpdateTimeout(atomic_load(&chain_timer_id), 0);
    virEventRemoveTimeout(timer);
}

int main(void)
{
    int p1[2], p2[2], p3[2];
    rec a, b, c, t0, t1, tn;
    int ida, idb, idt, idt2, rc;
    double start;
    pthread_t th;

    /* ---- before any registration ---- */
    rec_init(&a);
    tap_ok(virEventAddHandle(0, VIR_EVENT_HANDLE_READABLE, on_handle, &a, rec_free) == -1,
           "no loop registered: virEventAddHandle returns -1");
    tap_ok(virEventAddTimeout(0, on_timer, &a, rec_free) == -1,
           "no loop registered: virEventAddTimeout returns -1");
    tap_ok(virEventRemoveHandle(1) == -1 && virEventRemoveTimeout(1) == -1,
           "no loop registered: the removes return -1");
    virEventUpdateHandle(1, 0);
    virEventUpdateTimeout(1, 0);
    tap_ok(atomic_load(&a.frees) == 0, "no loop registered: the free callback never ran");

    tap_ok(virEventRegisterDefaultImpl() == 0, "virEventRegisterDefaultImpl returns 0");
    tap_ok(virEventRegisterDefaultImpl() == 0, "registering it again returns 0");

    rec_init(&tick);
    tick_id = virEventAddTimeout(20, on_timer, &tick, rec_free);
    tap_ok(tick_id > 0, "a 20 ms timeout gets an id > 0 (%d)", tick_id);

    /* ---- a handle on a pipe ---- */
    if (pipe2(p1, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(p2, O_CLOEXEC | O_NONBLOCK) < 0 ||
        pipe2(p3, O_CLOEXEC | O_NONBLOCK) < 0) {
        perror("pipe");
        return 1;
    }
    rec_init(&a);
    a.drain_fd = p1[0];
    ida = virEventAddHandle(p1[0], VIR_EVENT_HANDLE_READABLE, on_handle, &a, rec_free);
    tap_ok(ida > 0, "virEventAddHandle returns an id > 0 (%d)", ida);
    run(3);
    tap_ok(atomic_load(&a.calls) == 0, "nothing to read: the handle's callback did not run");
    tap_ok(write(p1[1], "x", 1) == 1, "a byte written");
    run(1);
    tap_ok(atomic_load(&a.calls) == 1 && atomic_load(&a.last_watch) == ida &&
               atomic_load(&a.last_fd) == p1[0] &&
               atomic_load(&a.last_events) == VIR_EVENT_HANDLE_READABLE,
           "readable: callback with its id, fd and VIR_EVENT_HANDLE_READABLE (calls %d events %d)",
           atomic_load(&a.calls), atomic_load(&a.last_events));

    /* update to 0: disabled */
    a.drain_fd = -1;
    virEventUpdateHandle(ida, 0);
    tap_ok(write(p1[1], "y", 1) == 1, "another byte written");
    run(3);
    tap_ok(atomic_load(&a.calls) == 1, "events 0: the handle is not watched");
    virEventUpdateHandle(ida, VIR_EVENT_HANDLE_READABLE);
    a.drain_fd = p1[0];
    run(1);
    tap_ok(atomic_load(&a.calls) == 2, "events READABLE again: the pending byte is reported");
    virEventUpdateHandle(ida, 0);

    /* the write end: writable */
    rec_init(&b);
    idb = virEventAddHandle(p1[1], VIR_EVENT_HANDLE_WRITABLE, on_handle, &b, rec_free);
    run(1);
    tap_ok(idb > ida && atomic_load(&b.calls) == 1 &&
               (atomic_load(&b.last_events) & VIR_EVENT_HANDLE_WRITABLE),
           "ids grow (%d > %d); a pipe's write end is writable", idb, ida);

    /* remove: -1 for unknown and for a second removal, ff later, once */
    tap_ok(remove_handle(&b, idb) == 0, "virEventRemoveHandle returns 0");
    tap_ok(atomic_load(&b.frees) == 0 && !atomic_load(&b.freed_in_remove),
           "the free callback does not run inside the remove call");
    tap_ok(virEventRemoveHandle(idb) == -1, "removing it again returns -1");
    tap_ok(virEventRemoveHandle(999999) == -1, "removing an unknown handle returns -1");
    run(2);
    tap_ok(atomic_load(&b.frees) == 1, "the free callback ran once, from the loop (%d)",
           atomic_load(&b.frees));
    tap_ok(atomic_load(&b.calls) == 1, "a removed handle is not called any more");
    virEventUpdateHandle(idb, VIR_EVENT_HANDLE_WRITABLE);
    run(2);
    tap_ok(atomic_load(&b.calls) == 1 && atomic_load(&b.frees) == 1,
           "updating a removed handle changes nothing");

    /* hang-up: the write end closed */
    rec_init(&c);
    c.self_remove = 1;
    rc = virEventAddHandle(p2[0], VIR_EVENT_HANDLE_READABLE, on_handle, &c, rec_free);
    close(p2[1]);
    run(2);
    tap_ok(rc > 0 && atomic_load(&c.calls) == 1 &&
               (atomic_load(&c.last_events) & VIR_EVENT_HANDLE_HANGUP),
           "the write end closed: VIR_EVENT_HANDLE_HANGUP reported (events %d)",
           atomic_load(&c.last_events));
    tap_ok(atomic_load(&c.frees) == 1 && !atomic_load(&c.freed_in_cb),
           "removed by its own callback: freed once, after the callback returned");
    close(p2[0]);

    /* ---- timeouts ---- */
    rec_init(&t0);
    idt = virEventAddTimeout(0, on_timer, &t0, rec_free);
    tap_ok(idt > 0, "virEventAddTimeout returns an id > 0 (%d)", idt);
    run(5);
    tap_ok(atomic_load(&t0.calls) == 5, "a 0 ms timeout fires at every iteration (5 of 5: %d)",
           atomic_load(&t0.calls));
    virEventUpdateTimeout(idt, -1);
    run(3);
    tap_ok(atomic_load(&t0.calls) == 5, "updated to -1: disabled");
    virEventUpdateTimeout(idt, 0);
    run(2);
    tap_ok(atomic_load(&t0.calls) == 7, "updated to 0: fires again");
    tap_ok(remove_timeout(&t0, idt) == 0 && atomic_load(&t0.frees) == 0,
           "virEventRemoveTimeout returns 0; the free callback waits for the loop");
    tap_ok(virEventRemoveTimeout(idt) == -1, "removing it again returns -1");
    run(2);
    tap_ok(atomic_load(&t0.calls) == 7 && atomic_load(&t0.frees) == 1 &&
               !atomic_load(&t0.freed_in_remove),
           "removed: not called again, freed once");

    rec_init(&t1);
    idt = virEventAddTimeout(-1, on_timer, &t1, rec_free);
    run(3);
    tap_ok(idt > 0 && atomic_load(&t1.calls) == 0, "a -1 timeout is disabled");
    start = now_s();
    virEventUpdateTimeout(idt, 100);
    while (atomic_load(&t1.calls) == 0 && now_s() - start < 5)
        run(1);
    tap_ok(atomic_load(&t1.calls) == 1 && now_s() - start >= 0.095,
           "updated to 100 ms: fires after %.3f s", now_s() - start);
    t1.self_remove = 1;
    while (atomic_load(&t1.calls) == 1 && now_s() - start < 5)
        run(1);
    run(1);
    tap_ok(atomic_load(&t1.calls) == 2 && atomic_load(&t1.frees) == 1 &&
               !atomic_load(&t1.freed_in_cb),
           "fires again, removes itself: freed once, after its callback returned");

    /* one callback removes another entry due in the same iteration */
    rec_init(&a);
    rec_init(&b);
    rec_init(&tn);
    idt = virEventAddTimeout(0, on_timer, &a, rec_free);
    idt2 = virEventAddTimeout(0, on_timer, &b, rec_free);
    a.remove_other_timer = idt2;
    b.remove_other_timer = idt;
    run(1);
    tap_ok(atomic_load(&a.calls) + atomic_load(&b.calls) == 1,
           "two timeouts due, the first to run removes the other: it does not run (%d + %d)",
           atomic_load(&a.calls), atomic_load(&b.calls));
    if (atomic_load(&a.calls))
        virEventRemoveTimeout(idt);
    else
        virEventRemoveTimeout(idt2);
    run(1);
    tap_ok(atomic_load(&a.frees) == 1 && atomic_load(&b.frees) == 1, "both freed once (%d, %d)",
           atomic_load(&a.frees), atomic_load(&b.frees));

    rec_init(&a);
    rec_init(&b);
    tap_ok(write(p3[1], "z", 1) == 1, "a byte for two handles on one pipe");
    ida = virEventAddHandle(p3[0], VIR_EVENT_HANDLE_READABLE, on_handle, &a, rec_free);
    idb = virEventAddHandle(p3[0], VIR_EVENT_HANDLE_READABLE, on_handle, &b, rec_free);
    a.remove_other_handle = idb;
    b.remove_other_handle = ida;
    run(1);
    tap_ok(atomic_load(&a.calls) + atomic_load(&b.calls) == 1,
           "two handles ready, the first to run removes the other: it does not run (%d + %d)",
           atomic_load(&a.calls), atomic_load(&b.calls));
    virEventRemoveHandle(atomic_load(&a.calls) ? ida : idb);
    run(1);
    tap_ok(atomic_load(&a.frees) == 1 && atomic_load(&b.frees) == 1, "both freed once (%d, %d)",
           atomic_load(&a.frees), atomic_load(&b.frees));
    {
        char buf[8];

        while (read(p3[0], buf, sizeof(buf)) > 0)
            ;
    }

    /* callbacks that add, update and remove */
    if (pipe2(chain_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return 1;
    rec_init(&chain_h);
    rec_init(&chain_t);
    chain_h.drain_fd = chain_pipe[0];
    idt = virEventAddTimeout(0, on_chain, NULL, NULL);
    run(1);
    tap_ok(atomic_load(&chain_handle_id) > 0 && atomic_load(&chain_timer_id) > 0,
           "a callback added a handle (%d) and a timeout (%d)", atomic_load(&chain_handle_id),
           atomic_load(&chain_timer_id));
    tap_ok(write(chain_pipe[1], "c", 1) == 1, "a byte for the handle added by a callback");
    run(2);
    tap_ok(atomic_load(&chain_h.calls) >= 1 && atomic_load(&chain_t.calls) >= 1,
           "both of them run (%d, %d)", atomic_load(&chain_h.calls), atomic_load(&chain_t.calls));
    virEventRemoveHandle(atomic_load(&chain_handle_id));
    virEventRemoveTimeout(atomic_load(&chain_timer_id));
    /* (GLib frees a handle and a timeout at different priorities) */
    run(2);
    tap_ok(atomic_load(&chain_h.frees) == 1 && atomic_load(&chain_t.frees) == 1,
           "both freed once after their removal");
    close(chain_pipe[0]);
    close(chain_pipe[1]);

    /* ---- many iterations with churn ---- */
    {
        enum { N = 2000 };
        static rec many[N];
        int last = 0;
        bool grow = true, once = true;

        rec_init(&t0);
        idt = virEventAddTimeout(0, on_timer, &t0, rec_free);
        for (int i = 0; i < N; i++) {
            int id;

            rec_init(&many[i]);
            many[i].self_remove = 1;
            id = virEventAddTimeout(i % 3, on_timer, &many[i], rec_free);
            grow = grow && id > last;
            last = id;
            if (i % 50 == 0)
                run(1);
        }
        /* (GLib's free callbacks of timeouts wait while a 0 ms timeout
         * is due: it goes first) */
        virEventRemoveTimeout(idt);
        start = now_s();
        for (int i = 0; i < 10 * N && now_s() - start < 30; i++) {
            bool all = true;

            for (int j = 0; j < N && all; j++)
                all = atomic_load(&many[j].frees) == 1;
            if (all)
                break;
            run(1);
        }
        for (int i = 0; i < N; i++)
            once = once && atomic_load(&many[i].calls) == 1 && atomic_load(&many[i].frees) == 1 &&
                   !atomic_load(&many[i].freed_in_cb);
        tap_ok(grow, "%d timeouts: ids always grow", N);
        tap_ok(once, "each self-removing timeout ran once and was freed once, after its callback");
        for (int i = 0; i < N && !once; i++)
            if (atomic_load(&many[i].calls) != 1 || atomic_load(&many[i].frees) != 1)
                tap_diag("timeout %d: %d calls, %d frees", i, atomic_load(&many[i].calls),
                         atomic_load(&many[i].frees));
        tap_ok(atomic_load(&t0.calls) > 10 && atomic_load(&t0.frees) == 1,
               "the 0 ms timeout ran at each of %d iterations, freed once", atomic_load(&t0.calls));
    }

    /* ---- another thread runs the loop ---- */
    virEventRemoveTimeout(tick_id);
    run(1);
    tap_ok(atomic_load(&tick.frees) == 1, "the ticking timeout removed and freed");
    pthread_create(&th, NULL, loop_main, NULL);
    sleep_ms(100); /* it blocks: nothing registered */

    rec_init(&a);
    a.drain_fd = p3[0];
    tap_ok(write(p3[1], "w", 1) == 1, "a byte written while the loop sleeps");
    ida = virEventAddHandle(p3[0], VIR_EVENT_HANDLE_READABLE, on_handle, &a, rec_free);
    tap_ok(wait_for(&a.calls, 1), "a handle added from another thread wakes the blocked loop");
    rec_init(&t0);
    t0.self_remove = 1;
    idt = virEventAddTimeout(0, on_timer, &t0, rec_free);
    tap_ok(wait_for(&t0.frees, 1) && atomic_load(&t0.calls) == 1,
           "a 0 ms timeout added from another thread fires once and is freed");
    virEventUpdateHandle(ida, 0);
    sleep_ms(50);
    tap_ok(write(p3[1], "v", 1) == 1, "a byte written to the disabled handle");
    sleep_ms(100);
    tap_ok(atomic_load(&a.calls) == 1, "disabled from another thread: not called");
    virEventUpdateHandle(ida, VIR_EVENT_HANDLE_READABLE);
    tap_ok(wait_for(&a.calls, 2), "enabled again from another thread: the loop wakes for it");

    /* removal while its callback runs in the loop thread */
    a.sleep_ms = 300;
    a.drain_fd = p3[0];
    tap_ok(write(p3[1], "s", 1) == 1, "a byte for a slow callback");
    start = now_s();
    while (!atomic_load(&a.in_cb) && now_s() - start < 10)
        sleep_ms(1);
    tap_ok(atomic_load(&a.in_cb), "the slow callback runs in the loop thread");
    tap_ok(remove_handle(&a, ida) == 0, "removed from this thread while it runs");
    tap_ok(wait_for(&a.frees, 1) && !atomic_load(&a.freed_in_cb) &&
               !atomic_load(&a.freed_in_remove),
           "its free callback ran once, after the callback returned");

    /* a timeout updated from another thread while the loop sleeps */
    rec_init(&t1);
    t1.self_remove = 1;
    idt = virEventAddTimeout(-1, on_timer, &t1, rec_free);
    sleep_ms(50);
    start = now_s();
    virEventUpdateTimeout(idt, 50);
    tap_ok(wait_for(&t1.frees, 1) && atomic_load(&t1.calls) == 1 && now_s() - start >= 0.045,
           "a timeout enabled from another thread fires after its interval (%.3f s)",
           now_s() - start);

    stop_loop(th);
    tap_ok(atomic_load(&loop_iterations) > 0, "the loop thread stopped after %d iterations",
           atomic_load(&loop_iterations));

    close(p1[0]);
    close(p1[1]);
    close(p3[0]);
    close(p3[1]);
    return tap_done();
}
