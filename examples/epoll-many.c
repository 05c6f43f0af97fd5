/* SPDX-License-Identifier: MIT */
/*
 * epoll-many: one thread drives many connections with epoll, never
 * blocking: pipelined calls, lifecycle events on every connection, and
 * keepalive (the loop answers the daemon's PINGs and sends its own).
 *
 *     epoll-many URI [CONNECTIONS [SECONDS [IDLE-SECONDS [DEPTH]]]]
 *
 * Defaults: 200 connections, 3 s of calls, no idle phase, 4 calls in flight
 * per connection. Set-up (opening the connections, registering the event
 * callbacks, turning keepalive on) blocks, before the loop starts; the
 * connections already open are processed meanwhile, so that they answer
 * the daemon's keepalive PINGs. Then,
 * for SECONDS, every connection keeps DEPTH domain_lookup_by_name("test")
 * calls in flight (vrpc_call_send, collected with vrpc_call_poll once the
 * loop has read their replies), and the first connection starts and
 * destroys a transient domain every 100 ms, which sends a STARTED and a
 * STOPPED lifecycle event to every connection. When the calls are all
 * collected, the loop keeps serving the idle connections for IDLE-SECONDS
 * (only keepalive traffic). Only non-blocking functions run in the loop;
 * each pass over one connection (process, collect, send) is timed.
 *
 * The loop: per connection, the socket is watched for
 * vrpc_conn_get_events() and the notify descriptor for EPOLLIN; epoll_wait
 * sleeps until the earliest vrpc_conn_get_timeout(); a connection whose
 * descriptor is ready or whose deadline passed gets vrpc_conn_process(),
 * and its interest is updated afterwards.
 *
 * Prints one line and exits 0 when every connection opened and is still up
 * and no call failed:
 *   connections N alive N calls N events N min-events N max-latency-ms X max-pass-ms X
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#define MAX_DEPTH 64

typedef struct slot {
    vrpc_pending *p;
    uint64_t sent;
} slot;

typedef struct cstate {
    vrpc_conn *c;
    int fd, nfd;
    uint32_t want; /* epoll events registered for fd */
    int ready;     /* queued for a pass in this iteration */
    int closed;    /* the close callback ran (with reason) */
    int reason;
    long events;
    slot slots[MAX_DEPTH];
    int inflight;
} cstate;

static cstate *g_conns;
static int g_n, g_depth = 4;
static long g_calls, g_events, g_errors;
static uint64_t g_max_latency, g_max_pass;

/* The event trigger on connection 0: create, then destroy, a transient domain. */
static struct {
    vrpc_pending *p;
    int step; /* 0: create next, 1: destroy next */
    uint64_t next;
    vrpc_nonnull_domain dom;
    char name[64];
    long cycles;
} g_trig;

static void on_lifecycle(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    (void)c;
    (void)ev;
    ((cstate *)opaque)->events++;
    g_events++;
}

static void on_close(vrpc_conn *c, int reason, void *opaque)
{
    (void)c;
    if (!((cstate *)opaque)->closed) {
        ((cstate *)opaque)->closed = 1;
        ((cstate *)opaque)->reason = reason;
    }
}

static int send_lookup(cstate *s, slot *sl)
{
    vrpc_domain_lookup_by_name_args a = {.name = (char *)"test"};
    sl->sent = vrpc_now_usec();
    return vrpc_call_send(s->c, &vrpc_pd_domain_lookup_by_name, &a, &sl->p, NULL);
}

static void trigger(cstate *s, uint64_t now, int calls_on)
{
    void *ret = NULL;
    int rc;

    if (g_trig.p) {
        rc = vrpc_call_poll(s->c, g_trig.p, &ret, NULL);
        if (rc == VRPC_E_AGAIN)
            return;
        g_trig.p = NULL;
        if (rc != 0) {
            g_errors++;
        } else if (g_trig.step == 0) {
            /* created: keep the domain's identity for the destroy */
            vrpc_domain_create_xml_ret *r = ret;
            memcpy(g_trig.dom.uuid, r->dom.uuid, sizeof(g_trig.dom.uuid));
            g_trig.dom.id = r->dom.id;
            g_trig.dom.name = g_trig.name;
            g_trig.step = 1;
        } else {
            g_trig.step = 0;
            g_trig.cycles++;
            g_trig.next = now + 100000;
        }
        vrpc_free(ret);
    }
    if (g_trig.p)
        return;
    if (g_trig.step == 1) { /* also after the calls ended: leave no domain behind */
        vrpc_domain_destroy_args a = {.dom = g_trig.dom};
        if (vrpc_call_send(s->c, &vrpc_pd_domain_destroy, &a, &g_trig.p, NULL) != 0)
            g_errors++;
    } else if (calls_on && now >= g_trig.next) {
        char xml[256];
        vrpc_domain_create_xml_args a = {.xml_desc = xml};
        snprintf(xml, sizeof(xml),
                 "<domain type='test'><name>%s</name><memory>8192</memory>"
                 "<os><type>hvm</type></os></domain>",
                 g_trig.name);
        if (vrpc_call_send(s->c, &vrpc_pd_domain_create_xml, &a, &g_trig.p, NULL) != 0)
            g_errors++;
    }
}

/* One pass over a connection: process, collect replies, keep the pipeline full. */
static void pass(int ep, cstate *s, int calls_on)
{
    uint64_t t0 = vrpc_now_usec(), now;
    int i, ev;
    uint32_t want = 0;

    vrpc_conn_process(s->c); /* callbacks run here */
    now = vrpc_now_usec();
    for (i = 0; i < s->inflight;) {
        slot *sl = &s->slots[i];
        void *ret = NULL;
        int rc = vrpc_call_poll(s->c, sl->p, &ret, NULL);
        if (rc == VRPC_E_AGAIN) {
            i++;
            continue;
        }
        if (rc == 0) {
            g_calls++;
            if (now - sl->sent > g_max_latency)
                g_max_latency = now - sl->sent;
        } else {
            g_errors++;
        }
        vrpc_free(ret);
        s->slots[i] = s->slots[--s->inflight];
    }
    while (calls_on && vrpc_conn_get_status(s->c) == 0 && s->inflight < g_depth) {
        if (send_lookup(s, &s->slots[s->inflight]) != 0) {
            g_errors++;
            break;
        }
        s->inflight++;
    }
    if (s == &g_conns[0])
        trigger(s, now, calls_on);

    /* Update the socket's interest (0 once the connection ended). */
    ev = vrpc_conn_get_events(s->c);
    if (ev & POLLIN)
        want |= EPOLLIN;
    if (ev & POLLOUT)
        want |= EPOLLOUT;
    if (vrpc_conn_get_status(s->c) != 0) {
        if (s->fd >= 0) {
            epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
            epoll_ctl(ep, EPOLL_CTL_DEL, s->nfd, NULL);
            s->fd = -1;
        }
    } else if (want != s->want) {
        struct epoll_event e = {.events = want, .data.u64 = (uint64_t)(s - g_conns) << 1};
        epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
        s->want = want;
    }
    now = vrpc_now_usec() - t0;
    if (now > g_max_pass)
        g_max_pass = now;
}

static void raise_nofile(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    const char *uri;
    double seconds = 3, idle = 0;
    uint64_t calls_end, end, last_service;
    struct epoll_event evs[256];
    int ep, i, alive = 0, ok, setup_failed = 0;
    long min_events = -1;

    if (argc < 2 || argc > 6) {
        fprintf(stderr, "usage: epoll-many URI [CONNECTIONS [SECONDS [IDLE-SECONDS [DEPTH]]]]\n");
        return 2;
    }
    uri = argv[1];
    g_n = argc > 2 ? atoi(argv[2]) : 200;
    seconds = argc > 3 ? atof(argv[3]) : 3;
    idle = argc > 4 ? atof(argv[4]) : 0;
    g_depth = argc > 5 ? atoi(argv[5]) : 4;
    if (g_n < 1 || g_depth < 1 || g_depth > MAX_DEPTH || seconds < 0 || idle < 0) {
        fprintf(stderr, "epoll-many: bad arguments\n");
        return 2;
    }
    /* a socket, a wake-up and a notify descriptor per connection */
    raise_nofile(g_n * 4 + 64);
    snprintf(g_trig.name, sizeof(g_trig.name), "epoll-many-%ld", (long)getpid());
    g_conns = calloc((size_t)g_n, sizeof(*g_conns));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!g_conns || ep < 0) {
        perror("epoll-many");
        return 1;
    }

    /* Set-up: blocking calls, before the loop. A connection that advertised
     * keepalive must answer the daemon's PINGs from then on: while the next
     * ones open (which can take seconds for hundreds on a busy machine), the
     * open ones are processed (non-blocking) every 200 ms. */
    last_service = vrpc_now_usec();
    for (i = 0; i < g_n; i++) {
        cstate *s = &g_conns[i];
        vrpc_error *err = NULL;
        int id;
        struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)i << 1};
        struct epoll_event en = {.events = EPOLLIN, .data.u64 = ((uint64_t)i << 1) | 1};

        if (vrpc_conn_open(&s->c, uri, 0, &err) != 0 ||
            vrpc_event_register_domain(s->c, VRPC_DOMAIN_EVENT_ID_LIFECYCLE, NULL, on_lifecycle, s,
                                       NULL, &id, &err) != 0 ||
            vrpc_conn_set_close_callback(s->c, on_close, s, NULL, &err) != 0 ||
            vrpc_conn_set_keepalive(s->c, VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC,
                                    VRPC_KEEPALIVE_DEFAULT_COUNT, &err) != 0) {
            fprintf(stderr, "epoll-many: connection %d: %s\n", i,
                    err && err->message ? err->message : "failed");
            vrpc_free(err);
            g_n = i + (s->c != NULL);
            setup_failed = 1;
            goto out;
        }
        if (vrpc_now_usec() - last_service > 200000) {
            int j;
            for (j = 0; j < i; j++)
                vrpc_conn_process(g_conns[j].c);
            last_service = vrpc_now_usec();
        }
        s->fd = vrpc_conn_get_fd(s->c);
        s->nfd = vrpc_conn_get_notify_fd(s->c);
        s->want = EPOLLIN;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e) != 0 ||
            epoll_ctl(ep, EPOLL_CTL_ADD, s->nfd, &en) != 0) {
            perror("epoll-many: epoll_ctl");
            g_n = i + 1;
            setup_failed = 1;
            goto out;
        }
    }

    /* The loop: nothing in it blocks but epoll_wait. */
    calls_end = vrpc_now_usec() + (uint64_t)(seconds * 1e6);
    end = UINT64_MAX;
    for (i = 0; i < g_n; i++) /* start the pipelines */
        pass(ep, &g_conns[i], 1);
    for (;;) {
        uint64_t now = vrpc_now_usec(), deadline = UINT64_MAX;
        int calls_on = now < calls_end, n, timeout;
        long busy = 0;

        if (!calls_on && end == UINT64_MAX) {
            for (i = 0; i < g_n; i++)
                busy += g_conns[i].inflight;
            if (!busy && !g_trig.p && g_trig.step == 0)
                end = now + (uint64_t)(idle * 1e6); /* everything collected: idle phase */
        }
        if (now >= end)
            break;
        deadline = calls_on ? calls_end : end;
        if (calls_on && g_trig.next < deadline)
            deadline = g_trig.next > now ? g_trig.next : now;
        for (i = 0; i < g_n; i++) {
            uint64_t d = UINT64_MAX;
            if (g_conns[i].fd < 0)
                continue;
            vrpc_conn_get_timeout(g_conns[i].c, &d);
            if (d <= now) {
                g_conns[i].ready = 1;
                deadline = now;
            } else if (d < deadline) {
                deadline = d;
            }
        }
        timeout = deadline == UINT64_MAX ? -1
                  : deadline <= now      ? 0
                                         : (int)((deadline - now + 999) / 1000);
        n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
        if (n < 0 && errno != EINTR) {
            perror("epoll-many: epoll_wait");
            break;
        }
        for (i = 0; i < n; i++)
            g_conns[evs[i].data.u64 >> 1].ready = 1;
        if (calls_on && g_trig.next <= vrpc_now_usec())
            g_conns[0].ready = 1;
        for (i = 0; i < g_n; i++) {
            if (!g_conns[i].ready)
                continue;
            g_conns[i].ready = 0;
            if (g_conns[i].fd >= 0)
                pass(ep, &g_conns[i], vrpc_now_usec() < calls_end);
        }
    }

out:
    for (i = 0; i < g_n; i++) {
        cstate *s = &g_conns[i];
        if (!s->c)
            continue;
        if (vrpc_conn_get_status(s->c) == 0 && !s->closed)
            alive++;
        else if (s->closed)
            fprintf(stderr, "epoll-many: connection %d ended (close reason %d)\n", i, s->reason);
        if (min_events < 0 || s->events < min_events)
            min_events = s->events;
        while (s->inflight > 0)
            vrpc_call_discard(s->c, s->slots[--s->inflight].p);
        if (i == 0 && g_trig.p)
            vrpc_call_discard(s->c, g_trig.p);
        vrpc_conn_close(s->c);
    }
    close(ep);
    printf("connections %d alive %d calls %ld events %ld min-events %ld errors %ld cycles %ld "
           "max-latency-ms %.3f max-pass-ms %.3f\n",
           g_n, alive, g_calls, g_events, min_events < 0 ? 0 : min_events, g_errors, g_trig.cycles,
           (double)g_max_latency / 1000.0, (double)g_max_pass / 1000.0);
    free(g_conns);
    ok = !setup_failed && alive == g_n && g_errors == 0;
    return ok ? 0 : 1;
}
