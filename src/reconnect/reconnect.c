/* SPDX-License-Identifier: MIT */
/*
 * Reconnecting connections: a thread per connection that, when the core
 * reports the connection lost, opens the same URI again through the open
 * layer (the whole open sequence on a connection of its own), gives that
 * connection's transport to the lost one (vrpc_conn_adopt, the core's only
 * hook for this), then lets the layers restore what they had on the daemon
 * (keepalive and the close callback: loop.c; event registrations: events).
 *
 * It sits above the open layer and calls down only: the core knows of it
 * through its hooks (lost_locked wakes the thread, close_begin stops it).
 *
 * The state below is protected by the connection lock; `cond` uses it.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "conn-internal.h"
#include "error.h"
#include "events-internal.h"
#include "loop.h"
#include "open-internal.h"

typedef struct rc_state {
    char *uri; /* as given (NULL: the default again) */
    unsigned int flags;
    vrpc_auth_cb auth;
    void *auth_ud;
    vrpc_reconnect_opts o;
    pthread_cond_t cond; /* lost, or stop */
    pthread_t thread;
    bool started, stop;
    vrpc_conn *donor; /* the connection an attempt is opening, or NULL */
    unsigned int reconnects;
} rc_state;

const char *vrpc_reconnect_state_name(int state)
{
    switch (state) {
    case VRPC_RECONNECT_LOST:
        return "lost";
    case VRPC_RECONNECT_RECONNECTING:
        return "reconnecting";
    case VRPC_RECONNECT_RECONNECTED:
        return "reconnected";
    case VRPC_RECONNECT_GAVE_UP:
        return "gave up";
    default:
        return NULL;
    }
}

static void report(vrpc_conn *c, rc_state *s, int state, unsigned int attempt, const vrpc_error *e)
{
    if (s->o.cb)
        s->o.cb(c, state, attempt, e, s->o.opaque);
}

/* Sleep until the deadline (µs, CLOCK_MONOTONIC) or stop. Lock held. */
static void sleep_until(vrpc_conn *c, rc_state *s, int64_t until)
{
    while (!s->stop && vrpc_mono_us() < until) {
        struct timespec ts = {(time_t)(until / 1000000), (long)(until % 1000000) * 1000};
        pthread_cond_timedwait(&s->cond, &c->lock, &ts);
    }
}

static bool stopping(vrpc_conn *c, rc_state *s)
{
    return s->stop || c->no_reconnect;
}

/*
 * WATCH (open layer): the connection an attempt opens is known here while
 * the open sequence runs, so that vrpc_conn_close() can shut it down, and
 * the sequence is bounded: the core's keepalive timer on it, without
 * PINGs counted (count 0), fails it after attempt_timeout of silence
 * (a daemon that accepts and never answers, a stopped one).
 */
static void donor_created(vrpc_conn *d, void *ctx)
{
    vrpc_conn *c = ctx;
    rc_state *s = c->reconnect.state;
    pthread_mutex_lock(&c->lock);
    s->donor = d;
    pthread_mutex_lock(&d->lock);
    d->loop.ka_enabled = true;
    d->loop.ka_interval = (int64_t)s->o.attempt_timeout_usec;
    d->loop.ka_count = d->loop.ka_to_death = 0;
    d->loop.ka_start = vrpc_mono_us();
    pthread_mutex_unlock(&d->lock);
    if (s->stop)
        vrpc_conn_shutdown(d);
    pthread_mutex_unlock(&c->lock);
}

static void donor_dropped(vrpc_conn *d, void *ctx)
{
    vrpc_conn *c = ctx;
    (void)d;
    pthread_mutex_lock(&c->lock);
    ((rc_state *)c->reconnect.state)->donor = NULL;
    pthread_mutex_unlock(&c->lock);
}

/* One attempt: open, adopt, restore. 0 (back), or the failure. */
static int attempt_once(vrpc_conn *c, rc_state *s, vrpc_error **err, vrpc_error **revive_err)
{
    vrpc_open_watch w = {donor_created, donor_dropped, c};
    vrpc_conn *donor = NULL;
    int rc = vrpc_open_remote_watched(&donor, s->uri, s->flags, s->auth, s->auth_ud, &w, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&donor->lock);
    donor->loop.ka_enabled = false;
    pthread_mutex_unlock(&donor->lock);
    rc = vrpc_conn_adopt(c, donor, err);
    donor_dropped(donor, c);
    vrpc_conn_close(donor); /* without transport now, or never adopted: closed politely */
    if (rc)
        return rc;
    vrpc_loop_revive(c);
    vrpc_events_revive(c, revive_err);
    return 0;
}

static void *supervise(void *arg)
{
    vrpc_conn *c = arg;
    rc_state *s = c->reconnect.state;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&c->lock);
    for (;;) {
        vrpc_error *last = NULL;
        unsigned int attempt = 0;
        uint64_t delay = s->o.initial_delay_usec;
        int64_t lost_at;
        bool back = false;

        while (!stopping(c, s) && !(c->reconnecting && c->status))
            pthread_cond_wait(&s->cond, &c->lock);
        if (stopping(c, s))
            break;
        last = vrpc_error_dup(c->fatal, NULL);
        lost_at = vrpc_mono_us();
        pthread_mutex_unlock(&c->lock);
        report(c, s, VRPC_RECONNECT_LOST, 0, last);

        for (;;) {
            vrpc_error *e = NULL, *re = NULL;
            int rc;

            attempt++;
            report(c, s, VRPC_RECONNECT_RECONNECTING, attempt, attempt > 1 ? last : NULL);
            rc = attempt_once(c, s, &e, &re);
            if (rc == 0) {
                pthread_mutex_lock(&c->lock);
                s->reconnects++;
                pthread_mutex_unlock(&c->lock);
                report(c, s, VRPC_RECONNECT_RECONNECTED, attempt, re);
                vrpc_free(re);
                back = true;
                break;
            }
            vrpc_free(last);
            last = e;
            pthread_mutex_lock(&c->lock);
            if (stopping(c, s)) {
                pthread_mutex_unlock(&c->lock);
                break;
            }
            if ((s->o.max_attempts && attempt >= s->o.max_attempts) ||
                (s->o.max_total_usec != VRPC_USEC_INFINITY &&
                 (uint64_t)(vrpc_mono_us() - lost_at) + delay > s->o.max_total_usec)) {
                pthread_mutex_unlock(&c->lock);
                vrpc_conn_reconnect_end(c);
                report(c, s, VRPC_RECONNECT_GAVE_UP, attempt, last);
                break;
            }
            sleep_until(c, s, vrpc_mono_us() + (int64_t)delay);
            pthread_mutex_unlock(&c->lock);
            delay = delay > s->o.max_delay_usec / 2 ? s->o.max_delay_usec : delay * 2;
        }
        vrpc_free(last);
        pthread_mutex_lock(&c->lock);
        if (!back) {
            /* Gave up or stopping: nothing more to do but wait for stop. */
            while (!s->stop)
                pthread_cond_wait(&s->cond, &c->lock);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* HOOK (lost): wake the thread. Lock held. */
static void lost_locked(vrpc_conn *c, void *state)
{
    (void)c;
    pthread_cond_signal(&((rc_state *)state)->cond);
}

/* HOOK (close_begin): stop and join the thread; waiting calls fail. */
static void close_begin(vrpc_conn *c, void *state)
{
    rc_state *s = state;
    pthread_mutex_lock(&c->lock);
    s->stop = true;
    c->no_reconnect = true;
    pthread_cond_broadcast(&s->cond);
    if (s->donor)
        vrpc_conn_shutdown(s->donor); /* an open sequence under way ends now */
    pthread_mutex_unlock(&c->lock);
    if (s->started) {
        pthread_join(s->thread, NULL);
        s->started = false;
    }
    vrpc_conn_reconnect_end(c);
}

static void state_free(rc_state *s)
{
    if (!s)
        return;
    if (s->o.free_opaque)
        s->o.free_opaque(s->o.opaque);
    pthread_cond_destroy(&s->cond);
    vrpc_free(s->uri);
    vrpc_free(s);
}

static void rc_fini(vrpc_conn *c, void *state)
{
    state_free(state);
    c->reconnect.hooks = NULL;
    c->reconnect.state = NULL;
}

static const vrpc_conn_hooks reconnect_hooks = {
    .lost_locked = lost_locked,
    .close_begin = close_begin,
    .fini = rc_fini,
};

int vrpc_conn_open_reconnect(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_auth_cb cb,
                             void *userdata, const vrpc_reconnect_opts *opts, vrpc_error **err)
{
    rc_state *s;
    vrpc_conn *c = NULL;
    int rc, wait_ms;

    if (out)
        *out = NULL;
    if (opts &&
        (opts->reserved[0] || opts->reserved[1] || opts->reserved[2] || opts->reserved[3])) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_conn_open_reconnect: reserved members must be NULL");
        return VRPC_E_INVALID;
    }
    s = vrpc_calloc(1, sizeof(*s));
    if (!s || (uri && !(s->uri = vrpc_strdup(uri)))) {
        vrpc_free(s);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
        return VRPC_E_NOMEM;
    }
    if (opts)
        s->o = *opts;
    s->flags = flags;
    s->auth = cb;
    s->auth_ud = userdata;
    if (!s->o.initial_delay_usec)
        s->o.initial_delay_usec = VRPC_RECONNECT_DEFAULT_INITIAL_USEC;
    if (!s->o.max_delay_usec)
        s->o.max_delay_usec = VRPC_RECONNECT_DEFAULT_MAX_DELAY_USEC;
    if (s->o.max_delay_usec < s->o.initial_delay_usec)
        s->o.max_delay_usec = s->o.initial_delay_usec;
    if (!s->o.max_total_usec)
        s->o.max_total_usec = VRPC_USEC_INFINITY;
    if (!s->o.call_wait_usec)
        s->o.call_wait_usec = VRPC_RECONNECT_DEFAULT_CALL_WAIT_USEC;
    if (!s->o.attempt_timeout_usec)
        s->o.attempt_timeout_usec = VRPC_RECONNECT_DEFAULT_ATTEMPT_TIMEOUT_USEC;
    if (s->o.attempt_timeout_usec > (uint64_t)INT32_MAX * VRPC_USEC_PER_MSEC)
        s->o.attempt_timeout_usec = (uint64_t)INT32_MAX * VRPC_USEC_PER_MSEC;
    wait_ms = vrpc_usec_to_timeout_ms(s->o.call_wait_usec);

    rc = vrpc_conn_open_auth(&c, uri, flags, cb, userdata, err);
    if (rc) {
        state_free(s);
        return rc;
    }
    pthread_cond_init(&s->cond, &c->condattr);
    pthread_mutex_lock(&c->lock);
    c->reconnect.hooks = &reconnect_hooks;
    c->reconnect.state = s;
    c->reconnect_wait_ms = wait_ms;
    if (c->status && !c->no_reconnect)
        c->reconnecting = true; /* lost already: the thread starts at once */
    pthread_mutex_unlock(&c->lock);
    rc = pthread_create(&s->thread, NULL, supervise, c);
    if (rc) {
        vrpc_conn_close(c);
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, rc,
                             "cannot start the reconnect thread");
        return VRPC_E_NOMEM;
    }
    s->started = true;
    *out = c;
    return 0;
}

unsigned int vrpc_conn_get_reconnects(const vrpc_conn *cc)
{
    vrpc_conn *c = (vrpc_conn *)cc; /* only read, under its lock */
    unsigned int n = 0;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    if (c->reconnect.state)
        n = ((rc_state *)c->reconnect.state)->reconnects;
    pthread_mutex_unlock(&c->lock);
    return n;
}
