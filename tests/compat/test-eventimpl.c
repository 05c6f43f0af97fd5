/* SPDX-License-Identifier: MIT */
/*
 * An application's event loop (virEventRegisterImpl) driving connections,
 * on the private test daemon (VRPC_TEST_DIR; skips without): a small poll
 * loop of the test's own running in a thread, numbering its handles and
 * timeouts from 0 as python's libvirtaio does, running free callbacks
 * after removal from the loop. Checks: the registration routes the
 * virEvent* calls and stays (a second one and virEventRegisterDefaultImpl
 * are ignored); a connection opened before it has no keepalive; one opened
 * after is watched (a handle on its socket), keepalive works while idle;
 * once it is closed every handle and timeout the library added is removed
 * (and its free callback run by the loop). The expectations
 * are libvirt's: the program runs unchanged on the system's libvirt.so.0
 * (LD_LIBRARY_PATH).
 */
#define TAP_NO_FD_CHECK /* the loop's wakeup pipe lives as long as the process */
#include "../tap.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

/* ---- the application's loop ---- */

enum { MAX = 256 };

typedef struct entry {
    bool used, removed, is_timer;
    int id, fd, events, interval;
    double due;
    virEventHandleCallback hcb;
    virEventTimeoutCallback tcb;
    void *opaque;
    virFreeCallback ff;
} entry;

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static entry ents[MAX];
static int next_id; /* from 0, as libvirtaio */
static int wake[2] = {-1, -1};
static atomic_int adds, removes, frees, calls;
static atomic_bool stop;

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

static void poke(void)
{
    if (write(wake[1], "w", 1) < 0) {
        /* full: a wakeup is pending */
    }
}

static entry *find(int id)
{
    for (int i = 0; i < MAX; i++)
        if (ents[i].used && !ents[i].removed && ents[i].id == id)
            return &ents[i];
    return NULL;
}

static entry *slot(void)
{
    for (int i = 0; i < MAX; i++)
        if (!ents[i].used) {
            memset(&ents[i], 0, sizeof(ents[i]));
            ents[i].used = true;
            return &ents[i];
        }
    return NULL;
}

static int app_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
                          virFreeCallback ff)
{
    entry *e;
    int id;

    pthread_mutex_lock(&lk);
    if (!(e = slot())) {
        pthread_mutex_unlock(&lk);
        return -1;
    }
    e->id = id = next_id++;
    e->fd = fd;
    e->events = events;
    e->hcb = cb;
    e->opaque = opaque;
    e->ff = ff;
    atomic_fetch_add(&adds, 1);
    pthread_mutex_unlock(&lk);
    poke();
    return id;
}

static void app_update_handle(int id, int events)
{
    entry *e;

    pthread_mutex_lock(&lk);
    if ((e = find(id)) && !e->is_timer)
        e->events = events;
    pthread_mutex_unlock(&lk);
    poke();
}

static int app_remove(int id, bool timer)
{
    entry *e;

    pthread_mutex_lock(&lk);
    if (!(e = find(id)) || e->is_timer != timer) {
        pthread_mutex_unlock(&lk);
        return -1;
    }
    e->removed = true;
    atomic_fetch_add(&removes, 1);
    pthread_mutex_unlock(&lk);
    poke();
    return 0;
}

static int app_remove_handle(int id)
{
    return app_remove(id, false);
}

static int app_add_timeout(int interval, virEventTimeoutCallback cb, void *opaque,
                           virFreeCallback ff)
{
    entry *e;
    int id;

    pthread_mutex_lock(&lk);
    if (!(e = slot())) {
        pthread_mutex_unlock(&lk);
        return -1;
    }
    e->id = id = next_id++;
    e->is_timer = true;
    e->interval = interval;
    e->due = now_s() + (interval > 0 ? interval / 1000.0 : 0);
    e->tcb = cb;
    e->opaque = opaque;
    e->ff = ff;
    atomic_fetch_add(&adds, 1);
    pthread_mutex_unlock(&lk);
    poke();
    return id;
}

static void app_update_timeout(int id, int interval)
{
    entry *e;

    pthread_mutex_lock(&lk);
    if ((e = find(id)) && e->is_timer) {
        e->interval = interval;
        e->due = now_s() + (interval > 0 ? interval / 1000.0 : 0);
    }
    pthread_mutex_unlock(&lk);
    poke();
}

static int app_remove_timeout(int id)
{
    return app_remove(id, true);
}

/* Live entries (not removed). */
static int live(bool timers)
{
    int n = 0;

    pthread_mutex_lock(&lk);
    for (int i = 0; i < MAX; i++)
        n += ents[i].used && !ents[i].removed && ents[i].is_timer == timers;
    pthread_mutex_unlock(&lk);
    return n;
}

/* One iteration: poll, dispatch one ready thing at a time (looked up again
 * before each call), then the free callbacks of removed entries. */
static void iterate(void)
{
    struct pollfd pfd[MAX + 1];
    int ids[MAX + 1], n = 0, timeout = 500;
    double now;
    int due[MAX], nd = 0;
    char buf[64];

    pthread_mutex_lock(&lk);
    pfd[n].fd = wake[0];
    pfd[n++].events = POLLIN;
    now = now_s();
    for (int i = 0; i < MAX; i++) {
        entry *e = &ents[i];

        if (!e->used || e->removed)
            continue;
        if (!e->is_timer && e->events) {
            pfd[n].fd = e->fd;
            pfd[n].events = (short)(((e->events & VIR_EVENT_HANDLE_READABLE) ? POLLIN : 0) |
                                    ((e->events & VIR_EVENT_HANDLE_WRITABLE) ? POLLOUT : 0));
            ids[n++] = e->id;
        } else if (e->is_timer && e->interval >= 0) {
            int ms = e->due <= now ? 0 : (int)((e->due - now) * 1000) + 1;

            if (ms < timeout)
                timeout = ms;
        }
    }
    pthread_mutex_unlock(&lk);
    if (poll(pfd, (nfds_t)n, timeout) < 0)
        return;
    while (read(wake[0], buf, sizeof(buf)) > 0)
        ;
    for (int i = 1; i < n; i++) {
        entry *e;
        virEventHandleCallback cb;
        int ev = 0, fd;
        void *op;

        if (!pfd[i].revents)
            continue;
        if (pfd[i].revents & POLLIN)
            ev |= VIR_EVENT_HANDLE_READABLE;
        if (pfd[i].revents & POLLOUT)
            ev |= VIR_EVENT_HANDLE_WRITABLE;
        if (pfd[i].revents & POLLHUP)
            ev |= VIR_EVENT_HANDLE_HANGUP;
        if (pfd[i].revents & (POLLERR | POLLNVAL))
            ev |= VIR_EVENT_HANDLE_ERROR;
        pthread_mutex_lock(&lk);
        if (!(e = find(ids[i])) || !e->events) {
            pthread_mutex_unlock(&lk);
            continue;
        }
        cb = e->hcb;
        op = e->opaque;
        fd = e->fd;
        pthread_mutex_unlock(&lk);
        atomic_fetch_add(&calls, 1);
        cb(ids[i], fd, ev, op);
    }
    pthread_mutex_lock(&lk);
    now = now_s();
    for (int i = 0; i < MAX; i++)
        if (ents[i].used && !ents[i].removed && ents[i].is_timer && ents[i].interval >= 0 &&
            ents[i].due <= now)
            due[nd++] = ents[i].id;
    pthread_mutex_unlock(&lk);
    for (int i = 0; i < nd; i++) {
        entry *e;
        virEventTimeoutCallback cb;
        void *op;

        pthread_mutex_lock(&lk);
        if (!(e = find(due[i])) || e->interval < 0) {
            pthread_mutex_unlock(&lk);
            continue;
        }
        e->due = now_s() + (e->interval > 0 ? e->interval / 1000.0 : 0);
        cb = e->tcb;
        op = e->opaque;
        pthread_mutex_unlock(&lk);
        atomic_fetch_add(&calls, 1);
        cb(due[i], op);
    }
    /* free callbacks of removed entries, after the callbacks */
    for (;;) {
        virFreeCallback ff = NULL;
        void *op = NULL;
        bool found = false;

        pthread_mutex_lock(&lk);
        for (int i = 0; i < MAX && !found; i++)
            if (ents[i].used && ents[i].removed) {
                found = true;
                ff = ents[i].ff;
                op = ents[i].opaque;
                ents[i].used = false;
            }
        pthread_mutex_unlock(&lk);
        if (!found)
            break;
        if (ff)
            ff(op);
        atomic_fetch_add(&frees, 1);
    }
}

static void *loop_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop))
        iterate();
    return NULL;
}

/* ---- a second implementation, which must stay unused ---- */

static atomic_int other_calls;

static int other_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
                            virFreeCallback ff)
{
    (void)fd;
    (void)events;
    (void)cb;
    (void)opaque;
    (void)ff;
    atomic_fetch_add(&other_calls, 1);
    return -1;
}

static int other_add_timeout(int interval, virEventTimeoutCallback cb, void *opaque,
                             virFreeCallback ff)
{
    (void)interval;
    (void)cb;
    (void)opaque;
    (void)ff;
    atomic_fetch_add(&other_calls, 1);
    return -1;
}

static void nop_handle(int watch, int fd, int events, void *opaque)
{
    (void)watch;
    (void)fd;
    (void)events;
    (void)opaque;
}

int main(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    const char *prefix = getenv("VRPC_TAP_PREFIX");
    char uri[4096];
    virConnectPtr early, conn;
    pthread_t th;
    int id, adds0;
    double start;

    if (prefix)
        tap_prefix = prefix;
    if (!d) {
        tap_skip("VRPC_TEST_DIR not set: no daemon tests");
        return tap_done();
    }
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", d);
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return 1;

    early = virConnectOpen(uri);
    tap_ok(early != NULL, "a connection opened before any loop");

    virEventRegisterImpl(app_add_handle, app_update_handle, app_remove_handle, app_add_timeout,
                         app_update_timeout, app_remove_timeout);
    virEventRegisterImpl(other_add_handle, NULL, NULL, other_add_timeout, NULL, NULL);
    tap_ok(virEventRegisterDefaultImpl() == 0, "virEventRegisterDefaultImpl after it returns 0");
    id = virEventAddHandle(wake[0], 0, nop_handle, NULL, NULL);
    tap_ok(id == 0 && atomic_load(&adds) == 1 && atomic_load(&other_calls) == 0,
           "virEventAddHandle reaches the first implementation registered (id %d)", id);
    tap_ok(virEventRemoveHandle(id) == 0 && atomic_load(&removes) == 1,
           "virEventRemoveHandle reaches it too");
    tap_ok(virEventRemoveHandle(id) == -1, "its -1 for an unknown handle comes back");

    pthread_create(&th, NULL, loop_main, NULL);
    start = now_s();
    while (atomic_load(&frees) < 1 && now_s() - start < 5)
        sleep_ms(10);
    tap_ok(atomic_load(&frees) == 1, "the loop ran the free callback");

    tap_ok(early && virConnectSetKeepAlive(early, 1, 2) == -1 &&
               virGetLastErrorCode() == VIR_ERR_INTERNAL_ERROR &&
               virGetLastErrorDomain() == VIR_FROM_REMOTE,
           "opened before the loop: virConnectSetKeepAlive refused (internal error, remote)");
    tap_ok(early && virConnectClose(early) == 0, "closed");

    adds0 = atomic_load(&adds);
    conn = virConnectOpen(uri);
    tap_ok(conn != NULL, "a connection opened with the loop registered");
    tap_ok(live(false) >= 1, "the library watches it: %d handle(s) added", live(false));
    tap_ok(conn && virConnectSetKeepAlive(conn, 1, 2) == 0, "virConnectSetKeepAlive(1, 2) is 0");
    if (conn) {
        char *h = virConnectGetHostname(conn);

        tap_ok(h != NULL, "a call with the loop running");
        free(h);
    }
    sleep_ms(2500);
    tap_ok(conn && virConnectIsAlive(conn) == 1, "idle 2.5 s with keepalive (1, 2): alive");
    tap_ok(atomic_load(&calls) > 0, "the loop called the library back (%d calls)",
           atomic_load(&calls));
    tap_ok(conn && virConnectClose(conn) == 0, "closed");

    start = now_s();
    while ((live(false) || live(true) || atomic_load(&frees) < atomic_load(&removes)) &&
           now_s() - start < 10)
        sleep_ms(20);
    tap_ok(live(false) == 0 && live(true) == 0,
           "after the close nothing is registered any more (%d handles, %d timeouts)", live(false),
           live(true));
    tap_ok(atomic_load(&adds) - adds0 == atomic_load(&removes) - 1,
           "each of the %d additions was removed", atomic_load(&adds) - adds0);
    tap_ok(atomic_load(&frees) == atomic_load(&removes),
           "each removal's free callback ran (%d of %d)", atomic_load(&frees),
           atomic_load(&removes));

    atomic_store(&stop, true);
    poke();
    pthread_join(th, NULL);
    close(wake[0]);
    close(wake[1]);
    return tap_done();
}
