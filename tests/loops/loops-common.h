/* SPDX-License-Identifier: MIT */
/* Helpers shared by the event-loop adapter tests (header-only, static). */
#ifndef VIRTRPC_TESTS_LOOPS_COMMON_H
#define VIRTRPC_TESTS_LOOPS_COMMON_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "../testlib.h"

static pthread_t lc_main_thread;

__attribute__((constructor)) static void lc_init(void)
{
    lc_main_thread = pthread_self();
}

__attribute__((unused)) static double lc_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ---- lifecycle events ---- */

typedef struct lc_events {
    int started, stopped, other, wrong_thread;
} lc_events;

__attribute__((unused)) static void lc_on_event(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    const vrpc_domain_event_callback_lifecycle_msg *m = ev->msg;
    lc_events *e = opaque;
    (void)c;
    if (!pthread_equal(pthread_self(), lc_main_thread))
        e->wrong_thread++;
    if (m->msg.event == VRPC_DOMAIN_EVENT_STARTED)
        e->started++;
    else if (m->msg.event == VRPC_DOMAIN_EVENT_STOPPED)
        e->stopped++;
    else
        e->other++;
}

/* Start and destroy a transient test-driver domain (blocking calls). */
__attribute__((unused)) static int lc_cycle_domain(vrpc_conn *c, const char *tag)
{
    char xml[256];
    vrpc_domain_create_xml_args a = {.xml_desc = xml};
    vrpc_domain_create_xml_ret *r = NULL;
    int rc;
    snprintf(xml, sizeof(xml),
             "<domain type='test'><name>loops-%s-%ld</name><memory>8192</memory>"
             "<os><type>hvm</type></os></domain>",
             tag, (long)getpid());
    rc = vrpc_domain_create_xml(c, &a, &r, NULL);
    if (rc == 0) {
        vrpc_domain_destroy_args d = {.dom = r->dom};
        rc = vrpc_domain_destroy(c, &d, NULL);
    }
    vrpc_free(r);
    return rc;
}

/* One blocking call. */
__attribute__((unused)) static int lc_one_call(vrpc_conn *c)
{
    vrpc_domain_lookup_by_name_args a = {.name = (char *)"test"};
    vrpc_domain_lookup_by_name_ret *r = NULL;
    int rc = vrpc_domain_lookup_by_name(c, &a, &r, NULL);
    vrpc_free(r);
    return rc;
}

/* ---- pipelined calls from the loop's thread ---- */

typedef struct lc_calls {
    vrpc_conn *c;
    vrpc_pending *p[128];
    int n, done, failed;
    uint64_t deadline;
} lc_calls;

__attribute__((unused)) static void lc_calls_send(lc_calls *k, vrpc_conn *c, int n)
{
    vrpc_domain_lookup_by_name_args a = {.name = (char *)"test"};
    int i;
    memset(k, 0, sizeof(*k));
    k->c = c;
    k->n = n;
    k->deadline = vrpc_now_usec() + 10000000;
    for (i = 0; i < n; i++)
        if (vrpc_call_send(c, &vrpc_pd_domain_lookup_by_name, &a, &k->p[i], NULL) != 0) {
            k->p[i] = NULL;
            k->failed++;
            k->done++;
        }
}

/* Collect the replies that are there (vrpc_call_poll never blocks). */
__attribute__((unused)) static void lc_calls_collect(lc_calls *k)
{
    int i;
    for (i = 0; i < k->n; i++) {
        void *ret = NULL;
        int rc;
        if (!k->p[i])
            continue;
        rc = vrpc_call_poll(k->c, k->p[i], &ret, NULL);
        if (rc == VRPC_E_AGAIN)
            continue;
        k->p[i] = NULL;
        k->done++;
        if (rc != 0)
            k->failed++;
        vrpc_free(ret);
    }
}

__attribute__((unused)) static int lc_calls_timed_out(lc_calls *k)
{
    int i;
    if (vrpc_now_usec() < k->deadline)
        return 0;
    for (i = 0; i < k->n; i++)
        if (k->p[i])
            vrpc_call_discard(k->c, k->p[i]);
    return 1;
}

/* ---- blocking calls from another thread ---- */

typedef struct lc_thread {
    pthread_t t;
    vrpc_conn *c;
    int n, ok;
    volatile int finished;
} lc_thread;

static void *lc_thread_main(void *arg)
{
    lc_thread *t = arg;
    int i;
    for (i = 0; i < t->n; i++)
        if (lc_one_call(t->c) == 0)
            t->ok++;
    __atomic_store_n(&t->finished, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

__attribute__((unused)) static void lc_thread_start(lc_thread *t, vrpc_conn *c, int n)
{
    memset(t, 0, sizeof(*t));
    t->c = c;
    t->n = n;
    if (pthread_create(&t->t, NULL, lc_thread_main, t) != 0)
        t->finished = 1;
}

__attribute__((unused)) static void lc_thread_join(lc_thread *t)
{
    pthread_join(t->t, NULL);
}

/* ---- close callback ---- */

typedef struct lc_close_state {
    int calls, reason, in_loop_thread, detached;
} lc_close_state;

__attribute__((unused)) static void lc_on_close(vrpc_conn *c, int reason, void *opaque)
{
    lc_close_state *cs = opaque;
    (void)c;
    cs->calls++;
    cs->reason = reason;
    cs->in_loop_thread = pthread_equal(pthread_self(), lc_main_thread);
}

#endif
