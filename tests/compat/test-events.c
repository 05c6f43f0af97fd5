/* SPDX-License-Identifier: MIT */
/*
 * Events of libvirt.so.0 in C (docs/compat.md, "Events"), against the
 * private test-driver daemon (VRPC_TEST_DIR; skips without): when freecb
 * runs, that objects given to callbacks are valid and may be kept, that a
 * callback may deregister itself, that callbacks run in the loop's thread,
 * and that no descriptor or thread is left once the callbacks are gone and
 * the connection is closed (memory: the sanitizer builds).
 *
 * run-core.sh runs it on virtrpc's libvirt.so.0 and on the system's one and
 * compares the "# T " lines; both must pass every assertion (they hold what
 * libvirt does).
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* VIR_DOMAIN_EVENT_CALLBACK() casts, as every libvirt program does */
#pragma GCC diagnostic ignored "-Wcast-function-type"

#define TAP_NO_FD_CHECK
#include "../tap.h"

static char sys_uri[512];

static void trace(const char *what, long rc)
{
    virErrorPtr e = virGetLastError();

    if (!e)
        printf("# T %s: rc=%ld no error\n", what, rc);
    else
        printf("# T %s: rc=%ld code=%d domain=%d\n", what, rc, e->code, e->domain);
}

static int err_is(int code)
{
    virErrorPtr e = virGetLastError();
    return e && e->code == code;
}

static void quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* ---- the loop ---- */

static pthread_t loop_thread;
static atomic_bool loop_stop;
static int loop_timer = -1;

static void loop_tick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

static void *loop_run(void *arg)
{
    (void)arg;
    while (!atomic_load(&loop_stop))
        virEventRunDefaultImpl();
    return NULL;
}

/* ---- what callbacks saw ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

typedef struct rec {
    const char *name;
    int calls;        /* callback invocations */
    int freed;        /* freecb invocations */
    int in_callback;  /* inside the callback now */
    int freed_inside; /* freecb ran while the callback was running */
    int wrong_thread; /* a call outside the loop's thread */
    int bad_object;   /* the domain's name or uuid was not readable */
    int last_event;
    int deregister_id; /* >= 0: deregister this id from inside the callback */
    int deregister_rc;
    int freed_calls;   /* calls seen when freecb ran */
    virDomainPtr kept; /* a reference taken in the callback */
} rec;

static void rec_free(void *opaque)
{
    rec *r = opaque;

    pthread_mutex_lock(&mu);
    r->freed++;
    if (r->in_callback)
        r->freed_inside++;
    r->freed_calls = r->calls;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int on_life(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    rec *r = opaque;
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *name = virDomainGetName(dom);
    (void)detail;
    (void)conn;

    pthread_mutex_lock(&mu);
    r->in_callback = 1;
    if (!pthread_equal(pthread_self(), loop_thread))
        r->wrong_thread++;
    if (!name || strcmp(name, "test") || virDomainGetUUIDString(dom, uuid) < 0)
        r->bad_object++;
    if (!r->kept && virDomainRef(dom) == 0)
        r->kept = dom;
    r->last_event = event;
    int dereg = r->deregister_id;
    r->deregister_id = -1;
    pthread_mutex_unlock(&mu);

    if (dereg >= 0) {
        int rc = virConnectDomainEventDeregisterAny(conn, dereg);
        pthread_mutex_lock(&mu);
        r->deregister_rc = rc;
        pthread_mutex_unlock(&mu);
    }

    pthread_mutex_lock(&mu);
    r->calls++;
    r->in_callback = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return 0;
}

/* the same, as another function (libvirt refuses the same function twice
 * for one event and object) */
static int on_life2(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    return on_life(conn, dom, event, detail, opaque);
}

/* Wait until r->calls reaches n (5 s at most). */
static int wait_calls(rec *r, int n)
{
    struct timespec t;
    int ok;

    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 15;
    pthread_mutex_lock(&mu);
    while (r->calls < n && pthread_cond_timedwait(&cv, &mu, &t) == 0)
        ;
    ok = r->calls >= n;
    pthread_mutex_unlock(&mu);
    return ok;
}

static int wait_freed(rec *r)
{
    struct timespec t;
    int ok;

    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 15;
    pthread_mutex_lock(&mu);
    while (!r->freed && pthread_cond_timedwait(&cv, &mu, &t) == 0)
        ;
    ok = r->freed;
    pthread_mutex_unlock(&mu);
    return ok;
}

static int get(rec *r, int *field)
{
    int v;
    pthread_mutex_lock(&mu);
    v = *field;
    pthread_mutex_unlock(&mu);
    (void)r;
    return v;
}

static void suspend_resume(virDomainPtr dom)
{
    TAP_OK(virDomainSuspend(dom) == 0, "suspend");
    TAP_OK(virDomainResume(dom) == 0, "resume");
}

int main(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    const char *prefix = getenv("VRPC_TAP_PREFIX");
    virConnectPtr conn;
    virDomainPtr dom;
    int rc;

    if (prefix && *prefix) {
        tap_plain = 1;
        tap_prefix = prefix;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    virSetErrorFunc(NULL, quiet);
    if (!d || !*d) {
        tap_skip("VRPC_TEST_DIR not set: no daemon tests");
        return tap_done();
    }
    snprintf(sys_uri, sizeof(sys_uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", d);

    /* Without an event loop implementation no callback registers (and no
     * freecb runs for the failed registration). */
    static rec r0 = {.name = "r0", .deregister_id = -1};
    conn = virConnectOpen(sys_uri);
    TAP_OK(conn, "open without a loop");
    if (!conn)
        return tap_done();
    rc = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                          VIR_DOMAIN_EVENT_CALLBACK(on_life), &r0, rec_free);
    trace("register without a loop", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INTERNAL_ERROR), "no loop: registration refused");
    TAP_OK(r0.freed == 0, "no loop: freecb not run for the refused registration");
    TAP_OK(virConnectClose(conn) == 0, "no loop: the connection closes");

    /* the loop, and what the process holds with it before the connection */
    TAP_OK(virEventRegisterDefaultImpl() == 0, "default loop registered");
    loop_timer = virEventAddTimeout(50, loop_tick, NULL, NULL);
    TAP_OK(loop_timer >= 0, "a timer keeps the loop turning");
    pthread_create(&loop_thread, NULL, loop_run, NULL);
    usleep(100000);
    int fds0 = count_dir("/proc/self/fd"), threads0 = count_dir("/proc/self/task");

    conn = virConnectOpen(sys_uri);
    TAP_OK(conn, "open");
    if (!conn)
        return tap_done();
    dom = virDomainLookupByName(conn, "test");
    TAP_OK(dom, "the test domain");
    if (!dom)
        return tap_done();

    /* argument checks */
    rc = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE, NULL, NULL,
                                          NULL);
    trace("NULL callback", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG), "NULL callback refused");
    rc = virConnectDomainEventRegisterAny(conn, NULL, 4096, VIR_DOMAIN_EVENT_CALLBACK(on_life),
                                          NULL, NULL);
    trace("eventID too big", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG), "unknown eventID refused");
    rc = virConnectDomainEventRegisterAny(NULL, NULL, 0, VIR_DOMAIN_EVENT_CALLBACK(on_life), NULL,
                                          NULL);
    trace("NULL connection", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_CONN), "NULL connection refused");
    rc = virConnectDomainEventDeregisterAny(conn, 77);
    trace("unknown callbackID", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG), "unknown callbackID refused");
    rc = virConnectNetworkEventDeregisterAny(conn, -2);
    trace("negative callbackID", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG), "negative callbackID refused");

    /* A: kept for the whole run; B: deregisters itself from its first
     * call; C: filtered on the domain, deregistered from this thread. */
    static rec a = {.name = "a", .deregister_id = -1};
    static rec b = {.name = "b", .deregister_id = -1};
    static rec c = {.name = "c", .deregister_id = -1};
    int ida = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                               VIR_DOMAIN_EVENT_CALLBACK(on_life), &a, rec_free);
    trace("register a", ida);
    TAP_OK(ida >= 0, "a registered");
    /* the same function for the same event and object: refused */
    rc = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                          VIR_DOMAIN_EVENT_CALLBACK(on_life), &b, rec_free);
    trace("register the same function again", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG) && b.freed == 0,
           "duplicate refused, its freecb not run");
    /* the legacy form with the same function is another registration */
    static rec l = {.name = "l", .deregister_id = -1};
    rc = virConnectDomainEventRegister(conn, on_life, &l, rec_free);
    trace("legacy register", rc);
    TAP_OK(rc == 0, "legacy registered");
    rc = virConnectDomainEventRegister(conn, on_life, &l, rec_free);
    trace("legacy register again", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG), "legacy duplicate refused");
    int idc = virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                               VIR_DOMAIN_EVENT_CALLBACK(on_life), &c, rec_free);
    trace("register c (filtered)", idc);
    TAP_OK(idc >= 0, "c registered");

    /* the callbacks hold the connection */
    TAP_OK(virConnectRef(conn) == 0, "ref");
    rc = virConnectClose(conn);
    printf("# T close with callbacks: %d\n", rc);
    TAP_OK(rc == 1, "close with callbacks registered leaves the connection open");

    suspend_resume(dom);
    TAP_OK(wait_calls(&a, 2) && wait_calls(&c, 2) && wait_calls(&l, 2),
           "every callback got both events");
    TAP_OK(get(&a, &a.wrong_thread) == 0 && get(&c, &c.wrong_thread) == 0 &&
               get(&l, &l.wrong_thread) == 0,
           "callbacks ran in the loop's thread");
    TAP_OK(get(&a, &a.bad_object) == 0 && get(&c, &c.bad_object) == 0,
           "the domains given were valid");
    /* a domain referenced in a callback outlives it */
    virDomainPtr kept = a.kept;
    TAP_OK(kept && virDomainGetName(kept) && !strcmp(virDomainGetName(kept), "test"),
           "a domain kept from a callback is valid after it");
    if (kept)
        virDomainFree(kept);
    a.kept = NULL;
    virDomainFree(c.kept);
    c.kept = NULL;
    virDomainFree(l.kept);
    l.kept = NULL;

    /* B deregisters itself inside its first call: not called again, its
     * freecb runs after the callback returned */
    int idb = virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_REBOOT,
                                               VIR_DOMAIN_EVENT_CALLBACK(on_life), &b, rec_free);
    (void)idb;
    virConnectDomainEventDeregisterAny(conn, idb);
    TAP_OK(b.freed == 1, "freecb runs in a deregistration outside the loop");
    b.freed = 0;
    idb = virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                           VIR_DOMAIN_EVENT_CALLBACK(on_life2), &b, rec_free);
    trace("register b", idb);
    pthread_mutex_lock(&mu);
    b.deregister_id = idb;
    pthread_mutex_unlock(&mu);
    suspend_resume(dom);
    TAP_OK(wait_calls(&a, 4) && wait_freed(&b), "events after b's registration");
    TAP_OK(get(&b, &b.calls) == 1 && get(&b, &b.deregister_rc) == 0,
           "b deregistered itself in its first call and was not called again");
    TAP_OK(get(&b, &b.freed) == 1 && get(&b, &b.freed_inside) == 0,
           "b's freecb ran once, after the callback returned");
    virDomainFree(b.kept);
    b.kept = NULL;

    /* C from this thread: freecb before the call returns */
    rc = virConnectDomainEventDeregisterAny(conn, idc);
    TAP_OK(rc == 0 && get(&c, &c.freed) == 1, "c's freecb ran inside its deregistration");
    rc = virConnectDomainEventDeregisterAny(conn, idc);
    trace("deregister c again", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG), "a second deregistration fails");
    rc = virConnectDomainEventDeregister(conn, on_life);
    TAP_OK(rc == 0 && get(&l, &l.freed) == 1, "legacy deregistered, freecb ran");
    rc = virConnectDomainEventDeregister(conn, on_life);
    trace("legacy deregister again", rc);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INVALID_ARG), "legacy deregistration of an unknown fn");
    TAP_OK(a.freed == 0, "a's freecb has not run while it is registered");
    rc = virConnectDomainEventDeregisterAny(conn, ida);
    TAP_OK(rc == 0 && get(&a, &a.freed) == 1, "a deregistered, freecb ran");
    rec *all[] = {&a, &b, &c, &l};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i]->kept)
            virDomainFree(all[i]->kept);
        all[i]->kept = NULL;
    }
    virDomainFree(dom);
    rc = virConnectClose(conn);
    printf("# T close: %d\n", rc);
    TAP_OK(rc == 0, "the last reference closes the connection");

    /* nothing left of the connection once the loop turned a few times */
    int fds1 = -1, threads1 = -1;
    for (int i = 0; i < 100; i++) {
        usleep(100000);
        fds1 = count_dir("/proc/self/fd");
        threads1 = count_dir("/proc/self/task");
        if (fds1 == fds0 && threads1 == threads0 && i >= 2)
            break;
    }
    TAP_OK(fds1 == fds0, "no descriptor left (%d before, %d after)", fds0, fds1);
    TAP_OK(threads1 == threads0, "no thread left (%d before, %d after)", threads0, threads1);

    atomic_store(&loop_stop, true);
    pthread_join(loop_thread, NULL);
    virEventRemoveTimeout(loop_timer);
    return tap_done();
}
