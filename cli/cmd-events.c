/* SPDX-License-Identifier: MIT */
/*
 * `virtrpc events`: register for events and print each one as a JSON line
 *
 *     {"event": "domain.lifecycle", "msg": {"callbackID": 1, "msg": {...}}}
 *
 * where "msg" is the event's `_msg` structure in the JSON form of the
 * bridge (docs/json.md). The library's event thread services the
 * connection and runs the callbacks; the main thread only waits for a
 * signal, the --timeout or the end of the connection.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtrpc/virtrpc.h>

#include "cmd-events.h"
#include "json-bridge.h"

static atomic_int closed_reason = -1;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_event(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    json_object *o, *m = NULL;
    char *msg = NULL;
    (void)c;
    (void)opaque;
    if (vrpc_json_from_c(ev->type, ev->msg, &m, &msg) != 0) {
        fprintf(stderr, "virtrpc: cannot show a %s event: %s\n", ev->info->name,
                msg ? msg : "out of memory");
        free(msg);
        return;
    }
    o = json_object_new_object();
    if (!o) {
        json_object_put(m);
        return;
    }
    json_object_object_add(o, "event", json_object_new_string(ev->info->name));
    json_object_object_add(o, "msg", m);
    pthread_mutex_lock(&out_lock);
    puts(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    json_object_put(o);
}

static void on_close(vrpc_conn *c, int reason, void *opaque)
{
    (void)c;
    (void)opaque;
    atomic_store(&closed_reason, reason);
}

static const char *reason_name(int r)
{
    switch (r) {
    case VRPC_CONNECT_CLOSE_REASON_ERROR:
        return "an error";
    case VRPC_CONNECT_CLOSE_REASON_EOF:
        return "the daemon closed it";
    case VRPC_CONNECT_CLOSE_REASON_KEEPALIVE:
        return "keepalive timeout";
    case VRPC_CONNECT_CLOSE_REASON_CLIENT:
        return "closed by the client";
    default:
        return "unknown reason";
    }
}

/* --reconnect: each state change on stderr, one line. */
static void on_reconnect(vrpc_conn *c, int state, unsigned int attempt, const vrpc_error *err,
                         void *opaque)
{
    const char *why = err && err->message ? err->message : NULL;
    (void)c;
    (void)opaque;
    pthread_mutex_lock(&out_lock);
    switch (state) {
    case VRPC_RECONNECT_LOST:
        fprintf(stderr, "virtrpc: connection lost: %s\n", why ? why : "unknown reason");
        break;
    case VRPC_RECONNECT_RECONNECTING:
        fprintf(stderr, "virtrpc: reconnecting (attempt %u)%s%s\n", attempt,
                why ? ", last attempt failed: " : "", why ? why : "");
        break;
    case VRPC_RECONNECT_RECONNECTED:
        fprintf(stderr, "virtrpc: reconnected (attempt %u)%s%s\n", attempt, why ? ": " : "",
                why ? why : "");
        break;
    case VRPC_RECONNECT_GAVE_UP:
        fprintf(stderr, "virtrpc: gave up reconnecting after %u attempts: %s\n", attempt,
                why ? why : "unknown reason");
        break;
    }
    fflush(stderr);
    pthread_mutex_unlock(&out_lock);
}

bool virtrpc_events_wants_reconnect(int argc, char **argv, vrpc_reconnect_opts *o)
{
    for (int k = 0; k < argc; k++) {
        if (strcmp(argv[k], "--domain") == 0 || strcmp(argv[k], "--timeout") == 0) {
            k++;
        } else if (strcmp(argv[k], "--reconnect") == 0) {
            memset(o, 0, sizeof(*o));
            o->cb = on_reconnect;
            return true;
        }
    }
    return false;
}

int virtrpc_cmd_events_list(void)
{
    size_t n = 0, i;
    const vrpc_event_info *in = vrpc_event_infos(&n);
    for (i = 0; i < n; i++)
        printf("%-34s %s\n", in[i].name, in[i].proc->name);
    return 0;
}

static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "virtrpc: events: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: virtrpc events [--all | EVENT...] [--domain DOMAIN] [--timeout S] "
                    "[--reconnect] [--list]\n");
    return 2;
}

/* Register one event. With `optional` (--all) an event the daemon does not
 * offer is skipped and named on stderr: one it does not know or has no
 * driver for (VRPC_E_UNSUPPORTED) always, and, as virsh's `event --all`
 * does, any refusal by the daemon once an earlier registration succeeded
 * (`nreg` > 0; an older daemon may refuse a newer event in other words).
 * Local failures (connection, memory) stay fatal. 1 registered, 0
 * skipped, -1 failed. */
static int register_one(vrpc_conn *c, const vrpc_event_info *in, const vrpc_nonnull_domain *dom,
                        bool optional, int nreg)
{
    vrpc_error *e = NULL;
    int id, rc;
    const void *filter = in->family == VRPC_EVENT_FAMILY_DOMAIN ? (const void *)dom : NULL;
    vrpc_qemu_monitor_filter qf = {.dom = dom};

    if (in->family == VRPC_EVENT_FAMILY_QEMU_MONITOR)
        filter = &qf;
    rc = vrpc_event_register(c, in->key, filter, on_event, NULL, NULL, &id, &e);
    if (rc == 0)
        return 1;
    if (optional && (rc == VRPC_E_UNSUPPORTED || (rc == VRPC_E_REMOTE && nreg > 0))) {
        fprintf(stderr, "virtrpc: events: skipped %s: %s\n", in->name,
                e && e->message ? e->message : vrpc_strerror(rc));
        vrpc_free(e);
        return 0;
    }
    fprintf(stderr, "error: cannot register for %s events: %s\n", in->name,
            e && e->message ? e->message : vrpc_strerror(rc));
    vrpc_free(e);
    return -1;
}

int virtrpc_cmd_events(vrpc_conn *c, int argc, char **argv)
{
    const char *domain = NULL;
    bool all = false;
    double timeout = -1;
    const vrpc_event_info **want = NULL;
    size_t nwant = 0, i, ninfos = 0;
    const vrpc_event_info *infos = vrpc_event_infos(&ninfos);
    vrpc_simple_domain *d = NULL;
    vrpc_nonnull_domain dom;
    vrpc_error *e = NULL;
    struct timespec deadline = {0, 0};
    sigset_t sigs;
    int status = 0, nreg = 0, rc;

    want = calloc((size_t)argc + ninfos + 1, sizeof(*want));
    if (!want)
        return 1;
    for (int k = 0; k < argc; k++) {
        const char *a = argv[k];
        if (strcmp(a, "--all") == 0) {
            all = true;
        } else if (strcmp(a, "--reconnect") == 0) {
            /* taken by the caller when it opened the connection */
        } else if (strcmp(a, "--list") == 0) {
            free(want);
            return virtrpc_cmd_events_list();
        } else if (strcmp(a, "--domain") == 0 || strcmp(a, "--timeout") == 0) {
            if (k + 1 >= argc) {
                free(want);
                return usage("option '%s' needs an argument", a);
            }
            if (a[2] == 'd') {
                domain = argv[++k];
            } else {
                char *end;
                errno = 0;
                timeout = strtod(argv[++k], &end);
                if (errno || *end || end == argv[k] || timeout < 0) {
                    free(want);
                    return usage("bad --timeout '%s'", argv[k]);
                }
            }
        } else if (a[0] == '-' && a[1] == '-') {
            free(want);
            return usage("unknown option '%s'", a);
        } else {
            const vrpc_event_info *in = vrpc_event_info_lookup(a);
            if (!in) {
                free(want);
                return usage("unknown event '%s' (see `virtrpc events --list`)", a);
            }
            want[nwant++] = in;
        }
    }
    if (all && nwant) {
        free(want);
        return usage("%s", "--all and event names exclude each other");
    }
    if (!all && nwant == 0) {
        free(want);
        return usage("%s", "name events or give --all");
    }
    if (domain) {
        rc = vrpc_simple_domain_resolve(c, domain, &d, &e); /* id, UUID or name, as virsh */
        if (rc) {
            fprintf(stderr, "error: %s (code %d, domain %d)\n",
                    e && e->message ? e->message : vrpc_strerror(rc), e ? (int)e->code : 0,
                    e ? (int)e->domain : 0);
            vrpc_free(e);
            free(want);
            return 1;
        }
        dom = d->dom;
        for (i = 0; i < nwant; i++)
            if (want[i]->family != VRPC_EVENT_FAMILY_DOMAIN &&
                want[i]->family != VRPC_EVENT_FAMILY_QEMU_MONITOR) {
                const char *bad = want[i]->name;
                vrpc_free(d);
                free(want);
                return usage("--domain applies to domain events only, not %s", bad);
            }
    }
    if (all)
        for (i = 0; i < ninfos; i++)
            if (!domain || infos[i].family == VRPC_EVENT_FAMILY_DOMAIN ||
                infos[i].family == VRPC_EVENT_FAMILY_QEMU_MONITOR)
                want[nwant++] = &infos[i];

    /* Signals are taken by sigtimedwait() below; the event thread blocks them too. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    rc = vrpc_conn_set_close_callback(c, on_close, NULL, NULL, &e);
    if (rc) {
        fprintf(stderr, "error: cannot set the close callback: %s\n",
                e && e->message ? e->message : vrpc_strerror(rc));
        vrpc_free(e);
        e = NULL;
    }
    for (i = 0; i < nwant; i++) {
        int r = register_one(c, want[i], domain ? &dom : NULL, all, nreg);
        if (r < 0) {
            status = 1;
            goto out;
        }
        nreg += r;
    }
    if (nreg == 0) {
        fprintf(stderr, "error: the daemon offers none of these events on this connection\n");
        status = 1;
        goto out;
    }
    rc = vrpc_conn_start_event_thread(c);
    if (rc) {
        fprintf(stderr, "error: cannot start the event thread: %s\n", vrpc_strerror(rc));
        status = 1;
        goto out;
    }
    if (timeout >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)timeout;
        deadline.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    for (;;) {
        struct timespec step = {0, 100 * 1000 * 1000}, now;
        int sig = sigtimedwait(&sigs, NULL, &step);
        if (sig > 0)
            break;
        if (atomic_load(&closed_reason) >= 0) {
            int r = atomic_load(&closed_reason);
            fprintf(stderr, "error: the connection ended: %s\n", reason_name(r));
            status = 1;
            break;
        }
        if (timeout >= 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > deadline.tv_sec ||
                (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
                break;
        }
    }
    /* The close callback must not report the client's own close. */
    vrpc_conn_stop_event_thread(c);
    vrpc_conn_set_close_callback(c, NULL, NULL, NULL, NULL);
out:
    vrpc_free(d);
    free(want);
    return status;
}
