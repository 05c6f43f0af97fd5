/* SPDX-License-Identifier: MIT */
/*
 * A virtrpc connection driven by the registered event loop, as libvirt's
 * client has its socket watched: a handle on the socket for the events
 * virtrpc wants, a handle on virtrpc's notify descriptor and a timeout at
 * virtrpc's deadline (keepalive, queued work). Each of them runs
 * vrpc_conn_process() (events, keepalive, the close callback) and then the
 * hooks, and asks virtrpc again what to watch.
 *
 * Threads. The loop calls back in its own thread(s) while the application
 * calls and closes in others. One "run" of the watch (process, hooks,
 * re-arming) happens at a time: `running` and `runner` say who has it, and
 * whoever changes the registrations has it too (creation, free), without
 * holding the lock while it calls the loop's functions (an application's
 * loop may take its own locks, Python's the GIL). compat_watch_free() from
 * another thread waits for the run under way and closes after it; called
 * from inside a run of the same watch (a callback that drops the last
 * reference of its connection) it only removes the registrations and
 * leaves the rest (the `fin` function: closing the connection) to the end
 * of that run, after vrpc_conn_process() has returned.
 *
 * Memory. The watch is freed when its owner has let go and the loop has run
 * the free callback of every registration (each holds a reference): a
 * callback the loop still calls after the removal finds `dead` set and
 * touches nothing else.
 */
#include "compat.h"

#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

typedef struct watch_hook {
    void (*fn)(void *opaque);
    void *opaque;
} watch_hook;

struct compat_watch {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a run ended */
    vrpc_conn *c;
    unsigned int refs; /* the owner's, and one per registration until its ff ran */
    bool dead;         /* freed by its owner: no more runs */
    bool running;      /* a run (or a change of the registrations) is under way */
    pthread_t runner;  /* ... in this thread */
    unsigned long seq; /* runs started */
    /* The registrations (changed by the runner only). */
    int fd;           /* the socket watched, -1 none */
    int fd_watch;     /* its handle, -1 none (an application's loop may give 0) */
    int fd_events;    /* VIR_EVENT_HANDLE_* asked */
    int notify_watch; /* -1 none */
    int timer;        /* -1 none */
    int timer_ms;     /* -1 disabled */
    watch_hook *hooks;
    size_t nhooks, caphooks;
    /* Deferred to the end of the run by a free from inside it. */
    void (*fin)(void *opaque);
    void *fin_opaque;
    bool fin_set;
    /* What the loop last reported on the socket (-1: nothing yet). */
    atomic_int sock_events;
};

static void watch_unref(void *opaque)
{
    compat_watch *w = opaque;
    bool last;

    pthread_mutex_lock(&w->lock);
    last = --w->refs == 0;
    pthread_mutex_unlock(&w->lock);
    if (!last)
        return;
    free(w->hooks);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static void watch_ref(compat_watch *w)
{
    pthread_mutex_lock(&w->lock);
    w->refs++;
    pthread_mutex_unlock(&w->lock);
}

/* virtrpc's poll events to the loop's. */
static int loop_events(int ev)
{
    int e = 0;

    if (ev & POLLIN)
        e |= VIR_EVENT_HANDLE_READABLE;
    if (ev & POLLOUT)
        e |= VIR_EVENT_HANDLE_WRITABLE;
    /* Input paused: only the end of the connection matters, which poll()
     * reports as an error or hang-up. */
    if ((ev & POLLRDHUP) && !e)
        e = VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR;
    return e;
}

/* virtrpc's absolute deadline as the loop's relative timeout. */
static int loop_timeout(vrpc_conn *c)
{
    uint64_t at, now, ms;

    if (vrpc_conn_get_timeout(c, &at) < 0 || at == VRPC_USEC_INFINITY)
        return -1;
    now = vrpc_now_usec();
    if (at <= now)
        return 0;
    ms = (at - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void watch_run(compat_watch *w);

/* The watch whose run is under way in this thread. */
static _Thread_local compat_watch *current;

static void on_socket(int watch, int fd, int events, void *opaque)
{
    compat_watch *w = opaque;

    (void)watch;
    (void)fd;
    atomic_store(&w->sock_events, events);
    watch_run(w);
}

static void on_notify(int watch, int fd, int events, void *opaque)
{
    (void)watch;
    (void)fd;
    (void)events;
    watch_run(opaque);
}

int compat_watch_close_reason(int reason)
{
    /* libvirt's client takes a hang-up or error the loop reports for the
     * end of file, and a failed read (which is what the end of file is to
     * a loop that only reports readability, as libvirtaio) for an error.
     * When virtrpc saw the end outside a callback of the socket, the last
     * thing the loop reported on it decides; with nothing reported yet, the
     * default loop (which reports hang-ups) means the end of file and an
     * application's loop an error. */
    int ev;

    if (reason != VIR_CONNECT_CLOSE_REASON_EOF || !current)
        return reason;
    ev = atomic_load(&current->sock_events);
    if (ev < 0)
        return compat_event_loop_is_default() ? reason : VIR_CONNECT_CLOSE_REASON_ERROR;
    if (!(ev & (VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)))
        return VIR_CONNECT_CLOSE_REASON_ERROR;
    return reason;
}

static void on_timer(int timer, void *opaque)
{
    (void)timer;
    watch_run(opaque);
}

/* Register with the loop, holding a reference for its ff. -1: failed. */
static int add_handle(compat_watch *w, int fd, int events, virEventHandleCallback cb)
{
    int id;

    watch_ref(w);
    if ((id = virEventAddHandle(fd, events, cb, w, watch_unref)) < 0) {
        watch_unref(w);
        return -1;
    }
    return id;
}

static void remove_handle(compat_watch *w, int id)
{
    /* The loop runs ff (dropping the reference) unless it did not know
     * the handle. */
    if (id >= 0 && virEventRemoveHandle(id) < 0)
        watch_unref(w);
}

/* Ask virtrpc what to watch now and tell the loop (the runner only).
 * Returns false when a registration could not be made. */
static bool rearm(compat_watch *w)
{
    int fd = vrpc_conn_get_fd(w->c);
    int ev = fd >= 0 ? loop_events(vrpc_conn_get_events(w->c)) : 0;
    int ms = loop_timeout(w->c);
    bool ok = true;

    if (fd != w->fd) {
        /* A new socket (a reconnection) or none any more. */
        remove_handle(w, w->fd_watch);
        w->fd_watch = -1;
        w->fd = fd;
        w->fd_events = ev;
        if (fd >= 0 && (w->fd_watch = add_handle(w, fd, ev, on_socket)) < 0)
            ok = false;
    } else if (w->fd_watch >= 0 && ev != w->fd_events) {
        w->fd_events = ev;
        virEventUpdateHandle(w->fd_watch, ev);
    }
    /* A relative timeout counts from now: set again at each run unless it
     * stays disabled. */
    if (w->timer >= 0 && (ms >= 0 || w->timer_ms >= 0)) {
        w->timer_ms = ms;
        virEventUpdateTimeout(w->timer, ms);
    }
    return ok;
}

/* Run the hooks present now; one removed by an earlier hook of this run is
 * skipped (its remover may have freed its data). */
static void run_hooks(compat_watch *w)
{
    watch_hook *copy = NULL;
    size_t n;

    pthread_mutex_lock(&w->lock);
    n = w->nhooks;
    if (n && !w->dead && (copy = malloc(n * sizeof(*copy))))
        memcpy(copy, w->hooks, n * sizeof(*copy));
    pthread_mutex_unlock(&w->lock);
    if (!copy)
        return;
    for (size_t i = 0; i < n; i++) {
        bool present = false;

        pthread_mutex_lock(&w->lock);
        for (size_t j = 0; j < w->nhooks && !w->dead; j++)
            if (w->hooks[j].fn == copy[i].fn && w->hooks[j].opaque == copy[i].opaque)
                present = true;
        pthread_mutex_unlock(&w->lock);
        if (present)
            copy[i].fn(copy[i].opaque);
    }
    free(copy);
}

/* Take the run (lock held). false when the watch is dead or somebody has
 * the run: this thread (a nested call) or another one (a run of a loop
 * that calls back from several threads, or a thread changing the
 * registrations). The loop is not made to wait: an application's loop may
 * hold a lock that thread needs (python's GIL, to remove a handle), and a
 * skipped callback is not lost (the descriptors stay ready, and whoever
 * has the run sets the timeout again when it ends). */
static bool take_run_locked(compat_watch *w)
{
    if (w->dead || w->running)
        return false;
    w->running = true;
    w->runner = pthread_self();
    w->seq++;
    return true;
}

/* End the run; runs what a free from inside it deferred. */
static void end_run(compat_watch *w)
{
    void (*fin)(void *) = NULL;
    void *fin_opaque = NULL;
    bool finish;

    pthread_mutex_lock(&w->lock);
    w->running = false;
    finish = w->fin_set;
    if (finish) {
        fin = w->fin;
        fin_opaque = w->fin_opaque;
        w->fin_set = false;
    }
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (!finish)
        return;
    if (fin)
        fin(fin_opaque);
    watch_unref(w); /* the owner's */
}

static void watch_run(compat_watch *w)
{
    compat_watch *outer;
    bool dead;

    pthread_mutex_lock(&w->lock);
    if (!take_run_locked(w)) {
        pthread_mutex_unlock(&w->lock);
        return;
    }
    pthread_mutex_unlock(&w->lock);

    outer = current;
    current = w;
    vrpc_conn_process(w->c);
    run_hooks(w);
    current = outer;

    pthread_mutex_lock(&w->lock);
    dead = w->dead;
    pthread_mutex_unlock(&w->lock);
    if (!dead)
        rearm(w);
    end_run(w);
}

compat_watch *compat_watch_new(vrpc_conn *c)
{
    compat_watch *w;
    int nfd;

    if (!atomic_load(&compat_event_loop)) {
        compat_error(VIR_FROM_EVENT, VIR_ERR_INTERNAL_ERROR,
                     "no event loop implementation is registered (virEventRegisterImpl or "
                     "virEventRegisterDefaultImpl)");
        return NULL;
    }
    if (!c || (nfd = vrpc_conn_get_notify_fd(c)) < 0) {
        compat_error(VIR_FROM_EVENT, VIR_ERR_INTERNAL_ERROR,
                     "the connection has no descriptor to watch");
        return NULL;
    }
    if (!(w = calloc(1, sizeof(*w)))) {
        compat_no_memory();
        return NULL;
    }
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        compat_no_memory();
        return NULL;
    }
    if (pthread_cond_init(&w->cond, NULL) != 0) {
        pthread_mutex_destroy(&w->lock);
        free(w);
        compat_no_memory();
        return NULL;
    }
    w->c = c;
    w->refs = 1;
    w->fd = -1;
    w->fd_watch = w->notify_watch = w->timer = -1;
    w->timer_ms = -1;
    atomic_init(&w->sock_events, -1);
    /* Registered as the runner: a callback that comes at once waits for
     * the rest to be set up. */
    w->running = true;
    w->runner = pthread_self();

    w->notify_watch = add_handle(w, nfd, VIR_EVENT_HANDLE_READABLE, on_notify);
    if (w->notify_watch >= 0) {
        watch_ref(w);
        if ((w->timer = virEventAddTimeout(-1, on_timer, w, watch_unref)) < 0) {
            watch_unref(w);
            w->timer = -1;
        }
    }
    if (w->notify_watch < 0 || w->timer < 0 || !rearm(w)) {
        end_run(w);
        compat_watch_free(w);
        compat_error(VIR_FROM_EVENT, VIR_ERR_INTERNAL_ERROR,
                     "the event loop refused to watch the connection");
        return NULL;
    }
    end_run(w);
    return w;
}

void compat_watch_free_then(compat_watch *w, void (*fin)(void *opaque), void *opaque)
{
    int fd_watch, notify_watch, timer;
    bool inside;

    if (!w) {
        if (fin)
            fin(opaque);
        return;
    }
    pthread_mutex_lock(&w->lock);
    inside = w->running && pthread_equal(w->runner, pthread_self());
    if (!inside) {
        while (w->running)
            pthread_cond_wait(&w->cond, &w->lock);
        w->running = true;
        w->runner = pthread_self();
    } else {
        w->fin = fin;
        w->fin_opaque = opaque;
        w->fin_set = true;
    }
    w->dead = true;
    fd_watch = w->fd_watch;
    notify_watch = w->notify_watch;
    timer = w->timer;
    w->fd_watch = w->notify_watch = w->timer = -1;
    pthread_mutex_unlock(&w->lock);

    remove_handle(w, fd_watch);
    remove_handle(w, notify_watch);
    if (timer >= 0 && virEventRemoveTimeout(timer) < 0)
        watch_unref(w);
    if (inside)
        return; /* end_run() finishes */

    pthread_mutex_lock(&w->lock);
    w->running = false;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (fin)
        fin(opaque);
    watch_unref(w);
}

void compat_watch_free(compat_watch *w)
{
    compat_watch_free_then(w, NULL, NULL);
}

int compat_watch_hook_add(compat_watch *w, void (*fn)(void *opaque), void *opaque)
{
    pthread_mutex_lock(&w->lock);
    if (w->nhooks == w->caphooks) {
        size_t cap = w->caphooks ? w->caphooks * 2 : 4;
        watch_hook *h = cap < SIZE_MAX / sizeof(*h) ? realloc(w->hooks, cap * sizeof(*h)) : NULL;

        if (!h) {
            pthread_mutex_unlock(&w->lock);
            compat_no_memory();
            return -1;
        }
        w->hooks = h;
        w->caphooks = cap;
    }
    w->hooks[w->nhooks].fn = fn;
    w->hooks[w->nhooks++].opaque = opaque;
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void compat_watch_hook_remove(compat_watch *w, void (*fn)(void *opaque), void *opaque)
{
    unsigned long seq;

    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->nhooks; i++) {
        if (w->hooks[i].fn == fn && w->hooks[i].opaque == opaque) {
            memmove(&w->hooks[i], &w->hooks[i + 1], (w->nhooks - i - 1) * sizeof(*w->hooks));
            w->nhooks--;
            break;
        }
    }
    /* A run of another thread may be calling it: wait for that run. */
    if (w->running && !pthread_equal(w->runner, pthread_self())) {
        seq = w->seq;
        while (w->running && w->seq == seq)
            pthread_cond_wait(&w->cond, &w->lock);
    }
    pthread_mutex_unlock(&w->lock);
}

compat_watch *compat_conn_watch(virConnectPtr conn)
{
    compat_watch *w, *extra = NULL;

    pthread_mutex_lock(&conn->lock);
    w = conn->watch;
    pthread_mutex_unlock(&conn->lock);
    if (w)
        return w;
    /* Made outside the lock: the loop's functions may take locks of their
     * own. Another thread may have made one meanwhile: the first stays. */
    if (!(w = compat_watch_new(conn->c)))
        return NULL;
    pthread_mutex_lock(&conn->lock);
    if (conn->watch) {
        extra = w;
        w = conn->watch;
    } else {
        conn->watch = w;
    }
    pthread_mutex_unlock(&conn->lock);
    compat_watch_free(extra);
    return w;
}
