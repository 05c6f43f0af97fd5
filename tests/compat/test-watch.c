/* SPDX-License-Identifier: MIT */
/*
 * Connections driven by the default event loop (compat/watch.c), on the
 * private test daemon (VRPC_TEST_DIR; skips without): opened while a
 * thread runs virEventRunDefaultImpl, used from several threads, with
 * keepalive on and a close callback registered, closed from another thread
 * and from inside a callback of the loop (a hook of the watch, which is how
 * an event callback dropping the last reference looks to the watch); after
 * the loop run ends no descriptor and no thread is left (counted in
 * /proc/self/fd and /proc/self/task), and LeakSanitizer sees no memory left
 * in the sanitizer builds.
 */
#define TAP_NO_FD_CHECK /* the loop's wakeup descriptor lives as long as the process */
#include "../tap.h"

#include "compat.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static char uri[4096];

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - (strcmp(path, "/proc/self/fd") == 0); /* the DIR's own */
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *noop_thread(void *arg)
{
    return arg;
}

/* ---- the loop thread ---- */

static atomic_bool loop_stop;

static void *loop_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&loop_stop))
        virEventRunDefaultImpl();
    return NULL;
}

static void wake_once(int timer, void *opaque)
{
    (void)opaque;
    virEventRemoveTimeout(timer);
}

/* ---- callbacks ---- */

static atomic_int close_calls, close_frees;

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    (void)reason;
    (void)opaque;
    atomic_fetch_add(&close_calls, 1);
}

static void close_free(void *opaque)
{
    (void)opaque;
    atomic_fetch_add(&close_frees, 1);
}

/* A hook that closes its connection from inside the loop's callback. */
static atomic_int hook_calls, hook_close_rc = 99;
static atomic_bool hook_armed;

static void closing_hook(void *opaque)
{
    virConnectPtr conn = opaque;

    if (!atomic_load(&hook_armed))
        return;
    if (atomic_fetch_add(&hook_calls, 1) == 0)
        atomic_store(&hook_close_rc, virConnectClose(conn));
}

static atomic_int counting_hook_calls;

static void counting_hook(void *opaque)
{
    (void)opaque;
    atomic_fetch_add(&counting_hook_calls, 1);
}

/* ---- threads calling on one connection ---- */

static atomic_int call_failures;

static void *caller(void *opaque)
{
    virConnectPtr conn = opaque;

    for (int i = 0; i < 20; i++) {
        char *h = virConnectGetHostname(conn);

        if (!h)
            atomic_fetch_add(&call_failures, 1);
        free(h);
        if (virConnectNumOfDomains(conn) < 0)
            atomic_fetch_add(&call_failures, 1);
    }
    return NULL;
}

int main(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    int fds0, tasks0, fds1, tasks1;
    pthread_t th, callers[4];
    virConnectPtr conn;
    bool ok;

    if (!d) {
        tap_skip("VRPC_TEST_DIR not set: no daemon tests");
        return tap_done();
    }
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", d);

    /* without a loop: no watch, no keepalive */
    conn = virConnectOpen(uri);
    tap_ok(conn != NULL, "opened without an event loop");
    tap_ok(conn && conn->watch == NULL, "no watch without a loop");
    tap_ok(conn && virConnectSetKeepAlive(conn, 1, 2) == -1 &&
               virGetLastErrorCode() == VIR_ERR_INTERNAL_ERROR &&
               virGetLastErrorDomain() == VIR_FROM_REMOTE,
           "virConnectSetKeepAlive without a loop: internal error of the remote domain");
    tap_ok(conn && virConnectIsAlive(conn) == 1, "alive");
    tap_ok(conn && virConnectClose(conn) == 0, "closed");

    /* a thread made and joined first: a sanitizer's runtime starts its own
     * background thread with the first one, which must count as there
     * before */
    pthread_create(&th, NULL, noop_thread, NULL);
    pthread_join(th, NULL);
    sleep_ms(100);
    tap_ok(virEventRegisterDefaultImpl() == 0, "default loop registered");
    /* the loop's own descriptor exists from here on */
    fds0 = count_dir("/proc/self/fd");
    tasks0 = count_dir("/proc/self/task");

    pthread_create(&th, NULL, loop_main, NULL);

    /* opened before the loop: libvirt's client has no keepalive then */
    for (int round = 0; round < 5; round++) {
        atomic_store(&close_calls, 0);
        atomic_store(&close_frees, 0);
        conn = virConnectOpen(uri);
        if (!conn) {
            tap_ok(0, "round %d: open", round);
            break;
        }
        if (round == 0) {
            tap_ok(conn->watch != NULL, "opened with a loop: the connection has a watch");
            tap_ok(virConnectSetKeepAlive(conn, 1, 2) == 0, "virConnectSetKeepAlive(1, 2) is 0");
            tap_ok(virConnectRegisterCloseCallback(conn, on_close, NULL, close_free) == 0,
                   "close callback registered");
            tap_ok(compat_watch_hook_add(conn->watch, counting_hook, NULL) == 0, "a hook added");
        } else {
            virConnectSetKeepAlive(conn, 1, 2);
            virConnectRegisterCloseCallback(conn, on_close, NULL, close_free);
            compat_watch_hook_add(conn->watch, counting_hook, NULL);
        }
        for (int i = 0; i < 4; i++)
            pthread_create(&callers[i], NULL, caller, conn);
        for (int i = 0; i < 4; i++)
            pthread_join(callers[i], NULL);
        if (round == 0) {
            double start = now_s();

            tap_ok(atomic_load(&call_failures) == 0, "4 threads x 40 calls with the loop running");
            /* keepalive PINGs go out after 1 s of silence and are answered */
            while (now_s() - start < 2.5)
                sleep_ms(50);
            tap_ok(virConnectIsAlive(conn) == 1 && atomic_load(&close_calls) == 0,
                   "idle 2.5 s with keepalive (1, 2): still alive, no close callback");
            tap_ok(atomic_load(&counting_hook_calls) > 0,
                   "the hook ran after the loop's processing (%d times)",
                   atomic_load(&counting_hook_calls));
        }
        compat_watch_hook_remove(conn->watch, counting_hook, NULL);
        if (round % 2 == 0) {
            /* unregistered first: the close is then the last reference */
            ok = virConnectUnregisterCloseCallback(conn, on_close) == 0 &&
                 atomic_load(&close_frees) == 1 && virConnectClose(conn) == 0;
        } else {
            /* the registration holds a reference: 1, then closed by the unregistration */
            ok = virConnectClose(conn) == 1 &&
                 virConnectUnregisterCloseCallback(conn, on_close) == 0 &&
                 atomic_load(&close_frees) == 1;
        }
        tap_ok(ok && atomic_load(&close_calls) == 0,
               "round %d: closed by this thread while the loop runs; the client's own close is not "
               "reported",
               round);
    }

    /* closed from inside the loop's callback */
    conn = virConnectOpen(uri);
    tap_ok(conn && conn->watch, "opened again");
    if (conn && conn->watch) {
        double start = now_s();
        int before = atomic_load(&hook_calls);

        tap_ok(virConnectSetKeepAlive(conn, 1, 5) == 0 &&
                   compat_watch_hook_add(conn->watch, closing_hook, conn) == 0,
               "a hook that closes the connection, keepalive on");
        /* from here on this thread leaves the connection alone: the
         * keepalive timer wakes the watch after 1 s of silence */
        start = now_s();
        atomic_store(&hook_armed, true);
        while (atomic_load(&hook_calls) == before && now_s() - start < 10)
            sleep_ms(5);
        sleep_ms(100);
        tap_ok(atomic_load(&hook_close_rc) == 0 && atomic_load(&hook_calls) == before + 1,
               "the hook closed it (virConnectClose 0 inside the loop's callback, rc %d), and "
               "ran no more",
               atomic_load(&hook_close_rc));
    }

    sleep_ms(200);
    fds1 = count_dir("/proc/self/fd");
    tasks1 = count_dir("/proc/self/task");
    tap_ok(fds1 == fds0, "no descriptor left while the loop still runs (%d, before %d)", fds1,
           fds0);
    tap_ok(tasks1 == tasks0 + 1, "only the loop thread besides the start's (%d, before %d)", tasks1,
           tasks0);

    atomic_store(&loop_stop, true);
    virEventAddTimeout(0, wake_once, NULL, NULL);
    pthread_join(th, NULL);
    /* one more iteration (a timeout that goes at once) for the free
     * callbacks of the last removals */
    virEventAddTimeout(0, wake_once, NULL, NULL);
    virEventRunDefaultImpl();
    fds1 = count_dir("/proc/self/fd");
    tasks1 = count_dir("/proc/self/task");
    tap_ok(fds1 == fds0 && tasks1 == tasks0,
           "after the loop run: descriptors %d (before %d), threads %d (before %d)", fds1, fds0,
           tasks1, tasks0);
    return tap_done();
}
