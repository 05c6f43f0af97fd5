/* SPDX-License-Identifier: MIT */
/*
 * The event loop API: the application's loop (virEventRegisterImpl) or the
 * library's default one (virEventRegisterDefaultImpl, run one iteration at
 * a time by virEventRunDefaultImpl), and the virEventAdd/Update/Remove
 * functions that reach whichever is registered.
 *
 * The default loop is poll(2) based and thread-safe: any thread may add,
 * update or remove handles and timeouts while another one runs an
 * iteration; a wakeup descriptor makes a running poll() start again with
 * the change. Semantics follow libvirt's loop (GLib's main context):
 *  - ids start at 1 and are never reused;
 *  - a handle with events 0 is disabled (not polled); a timeout of -1 is
 *    disabled, 0 fires at every iteration, n > 0 fires n ms after it was
 *    added, updated or last fired;
 *  - a removed handle or timeout is never called again, also when removed
 *    from another callback of the same iteration, and its free callback
 *    runs from the loop (the next iteration's start or this iteration's
 *    end), after its callback has returned, never inside the remove call;
 *  - a callback of a handle or timeout that was updated during the
 *    iteration (new events, new interval) waits for the next iteration;
 *  - only one thread runs an iteration at a time; another one calling
 *    virEventRunDefaultImpl waits for it.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* ---- the registered implementation ---- */

static int dl_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
                         virFreeCallback ff);

static pthread_mutex_t impl_lock = PTHREAD_MUTEX_INITIALIZER;
static virEventAddHandleFunc impl_add_handle;
static virEventUpdateHandleFunc impl_update_handle;
static virEventRemoveHandleFunc impl_remove_handle;
static virEventAddTimeoutFunc impl_add_timeout;
static virEventUpdateTimeoutFunc impl_update_timeout;
static virEventRemoveTimeoutFunc impl_remove_timeout;

void virEventRegisterImpl(virEventAddHandleFunc addHandle, virEventUpdateHandleFunc updateHandle,
                          virEventRemoveHandleFunc removeHandle, virEventAddTimeoutFunc addTimeout,
                          virEventUpdateTimeoutFunc updateTimeout,
                          virEventRemoveTimeoutFunc removeTimeout)
{
    pthread_mutex_lock(&impl_lock);
    /* As libvirt: the first registration stays; later ones are ignored. */
    if (!impl_add_handle && !impl_update_handle && !impl_remove_handle && !impl_add_timeout &&
        !impl_update_timeout && !impl_remove_timeout) {
        impl_add_handle = addHandle;
        impl_update_handle = updateHandle;
        impl_remove_handle = removeHandle;
        impl_add_timeout = addTimeout;
        impl_update_timeout = updateTimeout;
        impl_remove_timeout = removeTimeout;
        if (addHandle && addTimeout)
            atomic_store(&compat_event_loop, true);
    }
    pthread_mutex_unlock(&impl_lock);
}

bool compat_event_loop_is_default(void)
{
    bool r;

    pthread_mutex_lock(&impl_lock);
    r = impl_add_handle == dl_add_handle;
    pthread_mutex_unlock(&impl_lock);
    return r;
}

/* The registered function (read once: registration happens once). */
#define IMPL(name)                                                                                 \
    ({                                                                                             \
        __typeof__(impl_##name) f_;                                                                \
        pthread_mutex_lock(&impl_lock);                                                            \
        f_ = impl_##name;                                                                          \
        pthread_mutex_unlock(&impl_lock);                                                          \
        f_;                                                                                        \
    })

int virEventAddHandle(int fd, int events, virEventHandleCallback cb, void *opaque,
                      virFreeCallback ff)
{
    virEventAddHandleFunc f = IMPL(add_handle);

    return f ? f(fd, events, cb, opaque, ff) : -1;
}

void virEventUpdateHandle(int watch, int events)
{
    virEventUpdateHandleFunc f = IMPL(update_handle);

    if (f)
        f(watch, events);
}

int virEventRemoveHandle(int watch)
{
    virEventRemoveHandleFunc f = IMPL(remove_handle);

    return f ? f(watch) : -1;
}

int virEventAddTimeout(int timeout, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
    virEventAddTimeoutFunc f = IMPL(add_timeout);

    return f ? f(timeout, cb, opaque, ff) : -1;
}

void virEventUpdateTimeout(int timer, int timeout)
{
    virEventUpdateTimeoutFunc f = IMPL(update_timeout);

    if (f)
        f(timer, timeout);
}

int virEventRemoveTimeout(int timer)
{
    virEventRemoveTimeoutFunc f = IMPL(remove_timeout);

    return f ? f(timer) : -1;
}

/* ---- the default loop ---- */

typedef struct dl_handle {
    int id;
    int fd;
    int events;   /* VIR_EVENT_HANDLE_*; 0: disabled */
    unsigned gen; /* changes when the events change */
    bool removed;
    virEventHandleCallback cb;
    void *opaque;
    virFreeCallback ff;
} dl_handle;

typedef struct dl_timeout {
    int id;
    int interval; /* ms; -1: disabled */
    unsigned gen; /* changes at each update */
    int64_t due;  /* CLOCK_MONOTONIC ms */
    bool removed;
    virEventTimeoutCallback cb;
    void *opaque;
    virFreeCallback ff;
} dl_timeout;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t idle; /* signalled when an iteration ends */
    bool ready;          /* the wakeup descriptor exists */
    int wake_rd, wake_wr;
    bool running;    /* an iteration is under way */
    bool polling;    /* ... and sleeps in poll() */
    bool wake_sent;  /* a wakeup is pending in the descriptor */
    dl_handle **h;   /* live and removed (until reaped) handles */
    size_t nh, caph; /* */
    dl_timeout **t;
    size_t nt, capt;
    int next_handle, next_timer;
} dl = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .idle = PTHREAD_COND_INITIALIZER,
    .wake_rd = -1,
    .wake_wr = -1,
    .next_handle = 1,
    .next_timer = 1,
};

/* Is this thread running an iteration (a callback calling back)? */
static _Thread_local bool dl_in_run;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Create the wakeup descriptor (lock held). 0, or -1 after the error. */
static int dl_init_locked(void)
{
    int fds[2];

    if (dl.ready)
        return 0;
    fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fds[0] >= 0) {
        fds[1] = fds[0];
    } else if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        compat_error(VIR_FROM_EVENT, VIR_ERR_SYSTEM_ERROR,
                     "cannot create the event loop's wakeup descriptor: %s", strerror(errno));
        return -1;
    }
    dl.wake_rd = fds[0];
    dl.wake_wr = fds[1];
    dl.ready = true;
    return 0;
}

/* Make a poll() under way start again (lock held). */
static void dl_wake_locked(void)
{
    if (!dl.polling || dl.wake_sent || dl.wake_wr < 0)
        return;
    if (dl.wake_wr == dl.wake_rd) {
        uint64_t one = 1;

        if (write(dl.wake_wr, &one, sizeof(one)) < 0) {
            /* EAGAIN: the counter is full, a wakeup is pending anyway. */
        }
    } else {
        char b = 0;

        if (write(dl.wake_wr, &b, 1) < 0) {
            /* EAGAIN: the pipe is full, a wakeup is pending anyway. */
        }
    }
    dl.wake_sent = true;
}

static void dl_drain_locked(void)
{
    char buf[64];

    if (!dl.wake_sent)
        return;
    while (read(dl.wake_rd, buf, sizeof(buf)) > 0)
        if (dl.wake_wr == dl.wake_rd)
            break;
    dl.wake_sent = false;
}

/* Grow an array of pointers to hold one more. */
static bool grow(void ***arr, size_t n, size_t *cap)
{
    void **p;
    size_t c;

    if (n < *cap)
        return true;
    if (*cap > SIZE_MAX / 2 / sizeof(void *))
        return false;
    c = *cap ? *cap * 2 : 16;
    p = realloc(*arr, c * sizeof(void *));
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

static dl_handle *dl_find_handle_locked(int id)
{
    for (size_t i = 0; i < dl.nh; i++)
        if (dl.h[i]->id == id && !dl.h[i]->removed)
            return dl.h[i];
    return NULL;
}

static dl_timeout *dl_find_timeout_locked(int id)
{
    for (size_t i = 0; i < dl.nt; i++)
        if (dl.t[i]->id == id && !dl.t[i]->removed)
            return dl.t[i];
    return NULL;
}

static int dl_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
                         virFreeCallback ff)
{
    dl_handle *h;
    int id;

    pthread_mutex_lock(&dl.lock);
    if (dl_init_locked() < 0 || dl.next_handle == INT_MAX || !cb ||
        !grow((void ***)&dl.h, dl.nh, &dl.caph) || !(h = calloc(1, sizeof(*h)))) {
        pthread_mutex_unlock(&dl.lock);
        return -1;
    }
    h->id = id = dl.next_handle++;
    h->fd = fd;
    h->events = events & (VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_WRITABLE |
                          VIR_EVENT_HANDLE_ERROR | VIR_EVENT_HANDLE_HANGUP);
    h->cb = cb;
    h->opaque = opaque;
    h->ff = ff;
    dl.h[dl.nh++] = h;
    dl_wake_locked();
    pthread_mutex_unlock(&dl.lock);
    return id;
}

static void dl_update_handle(int watch, int events)
{
    dl_handle *h;

    events &= VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_WRITABLE | VIR_EVENT_HANDLE_ERROR |
              VIR_EVENT_HANDLE_HANGUP;
    pthread_mutex_lock(&dl.lock);
    if ((h = dl_find_handle_locked(watch)) && h->events != events) {
        h->events = events;
        h->gen++;
        dl_wake_locked();
    }
    pthread_mutex_unlock(&dl.lock);
}

static int dl_remove_handle(int watch)
{
    dl_handle *h;

    pthread_mutex_lock(&dl.lock);
    if (!(h = dl_find_handle_locked(watch))) {
        pthread_mutex_unlock(&dl.lock);
        return -1;
    }
    /* Reaped (and its ff run) by the loop, once no callback of it runs. */
    h->removed = true;
    h->events = 0;
    dl_wake_locked();
    pthread_mutex_unlock(&dl.lock);
    return 0;
}

static int dl_add_timeout(int interval, virEventTimeoutCallback cb, void *opaque,
                          virFreeCallback ff)
{
    dl_timeout *t;
    int id;

    pthread_mutex_lock(&dl.lock);
    if (dl_init_locked() < 0 || dl.next_timer == INT_MAX || !cb ||
        !grow((void ***)&dl.t, dl.nt, &dl.capt) || !(t = calloc(1, sizeof(*t)))) {
        pthread_mutex_unlock(&dl.lock);
        return -1;
    }
    t->id = id = dl.next_timer++;
    t->interval = interval < 0 ? -1 : interval;
    t->due = now_ms() + (interval < 0 ? 0 : interval);
    t->cb = cb;
    t->opaque = opaque;
    t->ff = ff;
    dl.t[dl.nt++] = t;
    dl_wake_locked();
    pthread_mutex_unlock(&dl.lock);
    return id;
}

static void dl_update_timeout(int timer, int interval)
{
    dl_timeout *t;

    pthread_mutex_lock(&dl.lock);
    if ((t = dl_find_timeout_locked(timer)) && (interval >= 0 || t->interval >= 0)) {
        t->interval = interval < 0 ? -1 : interval;
        t->due = now_ms() + (interval < 0 ? 0 : interval);
        t->gen++;
        dl_wake_locked();
    }
    pthread_mutex_unlock(&dl.lock);
}

static int dl_remove_timeout(int timer)
{
    dl_timeout *t;

    pthread_mutex_lock(&dl.lock);
    if (!(t = dl_find_timeout_locked(timer))) {
        pthread_mutex_unlock(&dl.lock);
        return -1;
    }
    t->removed = true;
    t->interval = -1;
    dl_wake_locked();
    pthread_mutex_unlock(&dl.lock);
    return 0;
}

/* The free callbacks of reaped entries, run outside the lock. */
typedef struct dl_reaped {
    virFreeCallback ff;
    void *opaque;
} dl_reaped;

/* Take the removed entries out of the arrays (lock held; only the thread
 * running the iteration does it, between callbacks). *out receives their
 * free callbacks (malloc()ed; NULL when none). Returns how many. */
static size_t dl_reap_locked(dl_reaped **out)
{
    size_t n = 0, j;
    dl_reaped *r;

    *out = NULL;
    for (size_t i = 0; i < dl.nh; i++)
        n += dl.h[i]->removed;
    for (size_t i = 0; i < dl.nt; i++)
        n += dl.t[i]->removed;
    if (n == 0)
        return 0;
    /* Without memory the free callbacks wait for a later iteration. */
    if (!(r = calloc(n, sizeof(*r))))
        return 0;
    n = 0;
    for (size_t i = j = 0; i < dl.nh; i++) {
        if (dl.h[i]->removed) {
            r[n].ff = dl.h[i]->ff;
            r[n++].opaque = dl.h[i]->opaque;
            free(dl.h[i]);
        } else {
            dl.h[j++] = dl.h[i];
        }
    }
    dl.nh = j;
    for (size_t i = j = 0; i < dl.nt; i++) {
        if (dl.t[i]->removed) {
            r[n].ff = dl.t[i]->ff;
            r[n++].opaque = dl.t[i]->opaque;
            free(dl.t[i]);
        } else {
            dl.t[j++] = dl.t[i];
        }
    }
    dl.nt = j;
    *out = r;
    return n;
}

static void dl_run_reaped(dl_reaped *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].ff)
            r[i].ff(r[i].opaque);
    free(r);
}

static short to_poll(int events)
{
    short ev = 0;

    if (events & VIR_EVENT_HANDLE_READABLE)
        ev |= POLLIN;
    if (events & VIR_EVENT_HANDLE_WRITABLE)
        ev |= POLLOUT;
    return ev;
}

static int from_poll(short revents)
{
    int ev = 0;

    if (revents & POLLIN)
        ev |= VIR_EVENT_HANDLE_READABLE;
    if (revents & POLLOUT)
        ev |= VIR_EVENT_HANDLE_WRITABLE;
    if (revents & (POLLERR | POLLNVAL))
        ev |= VIR_EVENT_HANDLE_ERROR;
    if (revents & POLLHUP)
        ev |= VIR_EVENT_HANDLE_HANGUP;
    return ev;
}

/* What one iteration dispatches: ids with the generation seen. */
typedef struct dl_ref {
    int id;
    unsigned gen;
} dl_ref;

/* One iteration (the lock held on entry and on return; dl.running set). */
static int dl_iterate_locked(void)
{
    struct pollfd *pfd = NULL;
    dl_ref *hrefs = NULL, *trefs = NULL;
    dl_reaped *reaped;
    size_t n, np = 0, nt = 0;
    int64_t now, wait = -1;
    int rc = 0, timeout;

    /* Free callbacks of what was removed while no iteration ran: they are
     * this iteration's work (as GLib's idle sources are), so it does not
     * block. */
    if ((n = dl_reap_locked(&reaped))) {
        pthread_mutex_unlock(&dl.lock);
        dl_run_reaped(reaped, n);
        pthread_mutex_lock(&dl.lock);
        wait = 0;
    }

    pfd = calloc(dl.nh + 1, sizeof(*pfd));
    hrefs = calloc(dl.nh + 1, sizeof(*hrefs));
    if (!pfd || !hrefs) {
        compat_no_memory();
        rc = -1;
        goto out;
    }
    pfd[np].fd = dl.wake_rd;
    pfd[np++].events = POLLIN;
    for (size_t i = 0; i < dl.nh; i++) {
        dl_handle *h = dl.h[i];

        if (h->removed || h->events == 0)
            continue;
        hrefs[np].id = h->id;
        hrefs[np].gen = h->gen;
        pfd[np].fd = h->fd;
        pfd[np++].events = to_poll(h->events);
    }
    now = now_ms();
    for (size_t i = 0; i < dl.nt; i++) {
        dl_timeout *t = dl.t[i];
        int64_t d;

        if (t->removed || t->interval < 0)
            continue;
        d = t->due > now ? t->due - now : 0;
        if (wait < 0 || d < wait)
            wait = d;
    }
    timeout = wait < 0 ? -1 : wait > INT_MAX ? INT_MAX : (int)wait;

    dl.polling = true;
    pthread_mutex_unlock(&dl.lock);
    if (poll(pfd, (nfds_t)np, timeout) < 0) {
        /* EINTR (a signal): an iteration that dispatched nothing. */
        for (size_t i = 0; i < np; i++)
            pfd[i].revents = 0;
    }
    pthread_mutex_lock(&dl.lock);
    dl.polling = false;
    dl_drain_locked();

    /* The timeouts due now, as they are before any callback runs. */
    now = now_ms();
    trefs = calloc(dl.nt + 1, sizeof(*trefs));
    if (!trefs) {
        compat_no_memory();
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < dl.nt; i++) {
        dl_timeout *t = dl.t[i];

        if (!t->removed && t->interval >= 0 && t->due <= now) {
            trefs[nt].id = t->id;
            trefs[nt++].gen = t->gen;
        }
    }

    for (size_t i = 1; i < np; i++) {
        dl_handle *h;
        virEventHandleCallback cb;
        void *opaque;
        int fd, ev;

        if (!pfd[i].revents)
            continue;
        h = dl_find_handle_locked(hrefs[i].id);
        if (!h || h->gen != hrefs[i].gen || h->events == 0)
            continue;
        ev = from_poll(pfd[i].revents);
        cb = h->cb;
        opaque = h->opaque;
        fd = h->fd;
        pthread_mutex_unlock(&dl.lock);
        cb(hrefs[i].id, fd, ev, opaque);
        pthread_mutex_lock(&dl.lock);
    }
    for (size_t i = 0; i < nt; i++) {
        dl_timeout *t = dl_find_timeout_locked(trefs[i].id);
        virEventTimeoutCallback cb;
        void *opaque;

        if (!t || t->gen != trefs[i].gen || t->interval < 0)
            continue;
        /* The next one counts from now (an update in the callback wins). */
        t->due = now_ms() + t->interval;
        cb = t->cb;
        opaque = t->opaque;
        pthread_mutex_unlock(&dl.lock);
        cb(trefs[i].id, opaque);
        pthread_mutex_lock(&dl.lock);
    }

out:
    free(pfd);
    free(hrefs);
    free(trefs);
    /* Free callbacks of what the callbacks (or other threads) removed. */
    if ((n = dl_reap_locked(&reaped))) {
        pthread_mutex_unlock(&dl.lock);
        dl_run_reaped(reaped, n);
        pthread_mutex_lock(&dl.lock);
    }
    return rc;
}

int virEventRegisterDefaultImpl(void)
{
    int rc;

    compat_reset();
    pthread_mutex_lock(&dl.lock);
    rc = dl_init_locked();
    pthread_mutex_unlock(&dl.lock);
    if (rc < 0)
        return -1;
    virEventRegisterImpl(dl_add_handle, dl_update_handle, dl_remove_handle, dl_add_timeout,
                         dl_update_timeout, dl_remove_timeout);
    return 0;
}

int virEventRunDefaultImpl(void)
{
    int rc;

    compat_reset();
    if (dl_in_run) {
        compat_error(VIR_FROM_EVENT, VIR_ERR_OPERATION_INVALID,
                     "the default event loop cannot be run from one of its own callbacks");
        return -1;
    }
    pthread_mutex_lock(&dl.lock);
    if (dl_init_locked() < 0) {
        pthread_mutex_unlock(&dl.lock);
        return -1;
    }
    while (dl.running)
        pthread_cond_wait(&dl.idle, &dl.lock);
    dl.running = true;
    dl_in_run = true;
    rc = dl_iterate_locked();
    dl_in_run = false;
    dl.running = false;
    pthread_cond_broadcast(&dl.idle);
    pthread_mutex_unlock(&dl.lock);
    return rc;
}
