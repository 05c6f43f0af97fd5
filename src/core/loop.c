/* SPDX-License-Identifier: MIT */
/*
 * Servicing the connection while the application is idle: the event-loop
 * interface (notify descriptor, wanted events, timeout, wait), the event
 * thread, dispatch of queued events and of the close callback, and the
 * keepalive timer.
 *
 * Who reads the socket: whichever thread owns the I/O role (conn.c). A
 * blocking call owns it while it waits for its reply; vrpc_conn_process()
 * owns it for one non-blocking pass; vrpc_conn_wait() (and so the event
 * thread) owns it while it sleeps in poll(), serving the replies of every
 * other thread's calls meanwhile. Whoever reads queues events; only
 * vrpc_conn_process() runs callbacks, outside the connection lock, one
 * dispatching thread at a time.
 *
 * Wakeups: a vrpc_conn_wait() that owns the I/O role returns as soon as it
 * has queued an event; one that sleeps because a call owns the role is
 * woken (condition variable) when an event is queued, the role comes free
 * or the connection fails. An application's loop learns the same things
 * through the notify descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "clock.h"
#include "conn-internal.h"
#include "error.h"
#include "loop.h"
#include "message.h"

/* VIR_DRV_FEATURE_* (libvirt_internal.h; not in the public headers). */
#define FEATURE_PROGRAM_KEEPALIVE 10
#define FEATURE_REMOTE_CLOSE_CALLBACK 15

struct vrpc_loop_waiter {
    vrpc_pending w; /* a waiter of the core (never sent) */
    vrpc_loop_waiter *next;
};

struct vrpc_close_holder {
    vrpc_close_cb cb;
    void *opaque;
    void (*free_opaque)(void *);
    unsigned int refs; /* 1 while installed + 1 while being called */
};

uint64_t vrpc_now_usec(void)
{
    return (uint64_t)vrpc_mono_us();
}

/* ---- the notify descriptor ---- */

static void notify_signal_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    if (ls->notify_signaled || ls->notify_wr < 0)
        return;
    if (ls->notify_is_eventfd) {
        uint64_t one = 1;
        if (write(ls->notify_wr, &one, sizeof(one)) < 0) {
            /* EAGAIN: the counter is full, a notification is pending. */
        }
    } else {
        char b = 0;
        if (write(ls->notify_wr, &b, 1) < 0) {
            /* EAGAIN: the pipe is full, a notification is pending. */
        }
    }
    ls->notify_signaled = true;
}

void vrpc_loop_drain_notify_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    uint8_t buf[64];
    if (!ls->notify_signaled || ls->notify_rd < 0)
        return;
    while (read(ls->notify_rd, buf, ls->notify_is_eventfd ? 8 : sizeof(buf)) > 0)
        if (ls->notify_is_eventfd)
            break;
    ls->notify_signaled = false;
}

/* ---- the close callback holder ---- */

/* Drop a reference (lock held); returns the holder to release outside the
 * lock when it was the last one. */
static vrpc_close_holder *holder_unref_locked(vrpc_close_holder *h)
{
    if (!h || --h->refs > 0)
        return NULL;
    return h;
}

static void holder_release(vrpc_close_holder *h)
{
    if (!h)
        return;
    if (h->free_opaque)
        h->free_opaque(h->opaque);
    vrpc_free(h);
}

static bool close_pending_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    return ls->close && !ls->close_reported && !ls->client_closing && !c->reconnecting &&
           (c->status != 0 || ls->server_close_reason >= 0);
}

/* ---- hooks of the core ---- */

/* HOOKS: queued work of the layers above (events). */
static bool layer_has_work_locked(vrpc_conn *c)
{
    const vrpc_conn_ext *x = &c->events;
    return x->hooks && x->hooks->has_work_locked && x->hooks->has_work_locked(c, x->state);
}

/* vrpc_conn_wait() callers: their waiters are done (something to process). */
static void wake_loop_waiters_locked(vrpc_conn *c)
{
    vrpc_loop_waiter *lw;
    for (lw = c->loop.lwaiters; lw; lw = lw->next)
        if (lw->w.call.state != VRPC_CALL_DONE)
            vrpc_conn_waiter_wake_locked(c, &lw->w);
}

void vrpc_loop_notify_locked(vrpc_conn *c)
{
    notify_signal_locked(c);
    wake_loop_waiters_locked(c);
    pthread_cond_broadcast(&c->loop.cond);
}

int vrpc_loop_init(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    int pfd[2];

    ls->notify_rd = ls->notify_wr = -1;
    ls->close_reason = -1;
    ls->server_close_reason = -1;
    ls->feature_close = -1;
    if (pthread_mutex_init(&ls->api_lock, NULL))
        return VRPC_E_NOMEM;
    if (pthread_cond_init(&ls->cond, &c->condattr)) {
        pthread_mutex_destroy(&ls->api_lock);
        return VRPC_E_NOMEM;
    }
    ls->notify_rd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ls->notify_rd >= 0) {
        ls->notify_wr = ls->notify_rd;
        ls->notify_is_eventfd = true;
    } else if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0) {
        ls->notify_rd = pfd[0];
        ls->notify_wr = pfd[1];
    } else {
        pthread_cond_destroy(&ls->cond);
        pthread_mutex_destroy(&ls->api_lock);
        return VRPC_E_IO;
    }
    ls->initialised = true;
    return 0;
}

void vrpc_loop_failed_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    if (ls->close_reason < 0)
        ls->close_reason = ls->client_closing           ? VRPC_CONNECT_CLOSE_REASON_CLIENT
                           : c->status == VRPC_E_CLOSED ? VRPC_CONNECT_CLOSE_REASON_EOF
                                                        : VRPC_CONNECT_CLOSE_REASON_ERROR;
    ls->ka_enabled = false;
    vrpc_loop_notify_locked(c);
}

void vrpc_loop_role_free_locked(vrpc_conn *c)
{
    if (c->loop.notify_used)
        notify_signal_locked(c);
}

/* Output was queued, or input resumed, while nobody owns the I/O role. */
void vrpc_loop_output_locked(vrpc_conn *c)
{
    if (c->loop.notify_used)
        notify_signal_locked(c);
}

bool vrpc_loop_has_work_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    return (layer_has_work_locked(c) && !ls->dispatching) || ls->thread_stop ||
           close_pending_locked(c);
}

/* ---- dispatch ---- */

void vrpc_loop_dispatch(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;

    pthread_mutex_lock(&c->lock);
    if (ls->dispatching) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    ls->dispatching = true;
    for (;;) {
        const vrpc_conn_ext *x = &c->events;
        void *it = x->hooks && x->hooks->take_locked ? x->hooks->take_locked(c, x->state) : NULL;
        if (it) {
            pthread_mutex_unlock(&c->lock);
            x->hooks->deliver(c, x->state, it);
            pthread_mutex_lock(&c->lock);
            continue;
        }
        if (close_pending_locked(c)) {
            vrpc_close_holder *h = ls->close;
            int reason = ls->server_close_reason >= 0 ? ls->server_close_reason : ls->close_reason;
            ls->close_reported = true;
            h->refs++;
            pthread_mutex_unlock(&c->lock);
            h->cb(c, reason, h->opaque);
            pthread_mutex_lock(&c->lock);
            h = holder_unref_locked(h);
            if (h) {
                pthread_mutex_unlock(&c->lock);
                holder_release(h);
                pthread_mutex_lock(&c->lock);
            }
            continue;
        }
        break;
    }
    ls->dispatching = false;
    pthread_mutex_unlock(&c->lock);
}

/* ---- keepalive timer ---- */

void vrpc_ka_rx_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    if (!ls->ka_enabled)
        return;
    ls->ka_start = vrpc_mono_us();
    ls->ka_to_death = ls->ka_count;
}

int64_t vrpc_ka_deadline_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    if (!ls->ka_enabled || c->status)
        return INT64_MAX;
    return ls->ka_start + ls->ka_interval;
}

void vrpc_ka_tick_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    uint8_t *ping;
    int64_t now;

    if (!ls->ka_enabled || c->status)
        return;
    now = vrpc_mono_us();
    if (now < ls->ka_start + ls->ka_interval)
        return;
    if (!vrpc_conn_input_wanted_locked(c)) {
        /* Input is paused (a stream's reader is behind): the daemon's
         * answers wait in the socket, so silence proves nothing and does
         * not count towards death; but keep sending PINGs, since the
         * daemon only counts what it receives and would drop us. */
        ls->ka_to_death = ls->ka_count;
    } else if (ls->ka_to_death == 0) {
        ls->close_reason = VRPC_CONNECT_CLOSE_REASON_KEEPALIVE;
        vrpc_conn_fail_locked(c, VRPC_E_CLOSED,
                              vrpc_error_new(VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                                             "connection closed due to keepalive timeout (no "
                                             "answer from the daemon in %.3g s)",
                                             (double)ls->ka_interval * (ls->ka_count + 1.0) / 1e6));
        return;
    } else {
        ls->ka_to_death--;
    }
    ls->ka_start = now;
    ping = vrpc_malloc(VRPC_MSG_PACKET_MIN);
    if (ping)
        vrpc_msg_keepalive(ping, VRPC_MSG_KEEPALIVE_PING);
    if (!ping || vrpc_conn_queue_locked(c, ping, VRPC_MSG_PACKET_MIN) == VRPC_E_NOMEM)
        vrpc_conn_fail_locked(c, VRPC_E_NOMEM,
                              vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                                             "out of memory queueing a keepalive PING"));
}

/* Advertise keepalive once and start the timer. Not under the lock. */
static int ka_enable(vrpc_conn *c, int64_t interval, unsigned int count, bool by_app,
                     vrpc_error **err)
{
    vrpc_loop_state *ls = &c->loop;
    bool advertised;
    int opened, rc;

    pthread_mutex_lock(&c->lock);
    advertised = ls->ka_advertised;
    opened = c->opened;
    rc = c->status;
    if (rc && err)
        *err = vrpc_error_dup(c->fatal, NULL);
    pthread_mutex_unlock(&c->lock);
    if (rc)
        return rc;

    if (interval > 0 && !advertised) {
        vrpc_connect_supports_feature_args a = {.feature = FEATURE_PROGRAM_KEEPALIVE};
        vrpc_connect_supports_feature_ret *r = NULL;
        vrpc_error *e = NULL;
        if (opened == VRPC_CONN_OPENED_ADMIN) {
            vrpc_error_set(err, VRPC_ERR_NO_SUPPORT, VRPC_FROM_RPC,
                           "keepalive is not available on admin connections");
            return VRPC_E_UNSUPPORTED;
        }
        rc = vrpc_connect_supports_feature(c, &a, &r, &e);
        if (rc == VRPC_E_REMOTE) {
            vrpc_error_prefix(&e, "the daemon does not support keepalive");
            vrpc_error_move(err, &e);
            return VRPC_E_UNSUPPORTED;
        }
        if (rc) {
            vrpc_error_move(err, &e);
            return rc;
        }
        advertised = r->supported != 0;
        vrpc_free(r);
        if (!advertised) {
            vrpc_error_set(err, VRPC_ERR_NO_SUPPORT, VRPC_FROM_RPC,
                           "the daemon does not support keepalive");
            return VRPC_E_UNSUPPORTED;
        }
    }

    pthread_mutex_lock(&c->lock);
    if (advertised)
        ls->ka_advertised = true;
    if (by_app)
        ls->ka_configured = true;
    ls->ka_wanted = interval > 0;
    if (interval > 0 && c->status == 0) {
        ls->ka_enabled = true;
        ls->ka_interval = interval;
        ls->ka_count = count;
        ls->ka_to_death = count;
        ls->ka_start = vrpc_mono_us();
    } else {
        ls->ka_enabled = false;
    }
    /* The owner's poll timeout and a loop's deadline change. */
    vrpc_conn_wake_locked(c);
    if (ls->notify_used)
        notify_signal_locked(c);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int vrpc_conn_set_keepalive(vrpc_conn *c, uint64_t interval_usec, unsigned int count,
                            vrpc_error **err)
{
    int rc;
    if (!c) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_conn_set_keepalive: no connection");
        return VRPC_E_INVALID;
    }
    if (interval_usec > (uint64_t)INT32_MAX * VRPC_USEC_PER_MSEC) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_conn_set_keepalive: interval %llu us is too large",
                       (unsigned long long)interval_usec);
        return VRPC_E_INVALID;
    }
    pthread_mutex_lock(&c->loop.api_lock);
    rc = ka_enable(c, (int64_t)interval_usec, count, true, err);
    pthread_mutex_unlock(&c->loop.api_lock);
    return rc;
}

/* ---- the event-loop interface ---- */

int vrpc_conn_get_notify_fd(vrpc_conn *c)
{
    int fd;
    if (!c)
        return -1;
    pthread_mutex_lock(&c->lock);
    c->loop.notify_used = true;
    fd = c->loop.notify_rd;
    pthread_mutex_unlock(&c->lock);
    return fd;
}

int vrpc_conn_get_events(vrpc_conn *c)
{
    int ev = 0;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    c->loop.notify_used = true;
    if (c->status == 0 && c->tr && !c->io_owner) {
        /* No POLLIN while input is paused (a stream's reader is behind). */
        short want = vrpc_conn_input_wanted_locked(c) ? POLLIN : 0;
        if (c->proto.out_head)
            want |= POLLOUT;
        if (c->tr->ops->events)
            want = c->tr->ops->events(c->tr, want);
        /* Even while input is paused, a peer that hangs up must wake the
         * loop: on TCP a FIN alone is POLLRDHUP, not POLLHUP. */
        if (!vrpc_conn_input_wanted_locked(c))
            want |= POLLRDHUP;
        ev = want;
    }
    pthread_mutex_unlock(&c->lock);
    return ev;
}

int vrpc_conn_get_timeout(vrpc_conn *c, uint64_t *usec)
{
    vrpc_loop_state *ls;
    int64_t d;
    if (!c || !usec)
        return VRPC_E_INVALID;
    ls = &c->loop;
    pthread_mutex_lock(&c->lock);
    ls->notify_used = true;
    if ((layer_has_work_locked(c) && !ls->dispatching) || close_pending_locked(c) ||
        (c->status == 0 && c->tr && !c->io_owner && c->tr->ops->pending &&
         c->tr->ops->pending(c->tr) && vrpc_conn_input_wanted_locked(c))) {
        *usec = 0;
    } else {
        d = vrpc_ka_deadline_locked(c);
        *usec = d == INT64_MAX ? UINT64_MAX : (uint64_t)d;
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int vrpc_conn_wait(vrpc_conn *c, uint64_t timeout_usec)
{
    vrpc_loop_state *ls;
    vrpc_loop_waiter lw, **pp;
    int64_t deadline_ms = -1;
    int r, rc;

    if (!c)
        return VRPC_E_INVALID;
    ls = &c->loop;
    if (timeout_usec != UINT64_MAX) {
        if (timeout_usec > (uint64_t)1 << 50)
            timeout_usec = (uint64_t)1 << 50;
        deadline_ms = (vrpc_mono_us() + (int64_t)timeout_usec + 999) / 1000;
    }
    pthread_mutex_lock(&c->lock);
    vrpc_conn_enter_locked(c);
    /* RECONNECTING: wait for the new connection (or the end). */
    while (c->status && c->reconnecting && !vrpc_loop_has_work_locked(c)) {
        struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000};
        if (deadline_ms < 0)
            pthread_cond_wait(&ls->cond, &c->lock);
        else if (pthread_cond_timedwait(&ls->cond, &c->lock, &ts) == ETIMEDOUT)
            break;
    }
    if (vrpc_loop_has_work_locked(c)) {
        r = 1;
    } else if (c->status) {
        r = c->status;
    } else if (vrpc_conn_waiter_init(c, &lw.w)) {
        r = VRPC_E_NOMEM;
    } else {
        /* A waiter that nothing but this module wakes: while no call owns
         * the I/O it reads and writes for everybody (and runs the
         * keepalive timer); otherwise it sleeps until events are queued,
         * the role comes free or the connection ends. */
        lw.next = ls->lwaiters;
        ls->lwaiters = &lw;
        rc = vrpc_conn_wait_locked(c, &lw.w, deadline_ms);
        for (pp = &ls->lwaiters; *pp; pp = &(*pp)->next) {
            if (*pp == &lw) {
                *pp = lw.next;
                break;
            }
        }
        vrpc_conn_waiter_fini(&lw.w);
        if (vrpc_loop_has_work_locked(c))
            r = 1;
        else if (c->status)
            r = c->status;
        else
            r = rc == VRPC_E_TIMEOUT ? 0 : 1;
    }
    vrpc_conn_leave_locked(c);
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* ---- the event thread ---- */

static void *event_thread(void *arg)
{
    vrpc_conn *c = arg;
    vrpc_loop_state *ls = &c->loop;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        bool stop;
        int rc;

        pthread_mutex_lock(&c->lock);
        stop = ls->thread_stop;
        pthread_mutex_unlock(&c->lock);
        if (stop)
            break;
        rc = vrpc_conn_wait(c, UINT64_MAX);
        vrpc_conn_process(c);
        if (rc < 0) {
            /* The connection ended and its close has been reported: nothing
             * will happen any more, except a close callback set late. */
            pthread_mutex_lock(&c->lock);
            while (!ls->thread_stop && !close_pending_locked(c) && c->status)
                pthread_cond_wait(&ls->cond, &c->lock);
            pthread_mutex_unlock(&c->lock);
        }
    }
    return NULL;
}

int vrpc_conn_start_event_thread(vrpc_conn *c)
{
    vrpc_loop_state *ls;
    bool configured;
    int rc = 0, opened;

    if (!c)
        return VRPC_E_INVALID;
    ls = &c->loop;
    pthread_mutex_lock(&ls->api_lock);
    pthread_mutex_lock(&c->lock);
    if (ls->thread_running || c->status) {
        rc = c->status;
        pthread_mutex_unlock(&c->lock);
        pthread_mutex_unlock(&ls->api_lock);
        return rc;
    }
    configured = ls->ka_configured;
    opened = c->opened;
    pthread_mutex_unlock(&c->lock);

    /* PINGs will be answered while the application is idle: advertise
     * keepalive, unless the application decided. Older daemons: without. */
    if (!configured && opened == VRPC_CONN_OPENED_REMOTE)
        ka_enable(c, (int64_t)VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC, VRPC_KEEPALIVE_DEFAULT_COUNT,
                  false, NULL);

    pthread_mutex_lock(&c->lock);
    ls->thread_stop = false;
    rc = pthread_create(&ls->thread, NULL, event_thread, c);
    if (rc == 0)
        ls->thread_running = true;
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&ls->api_lock);
    return rc == 0 ? 0 : rc == EAGAIN ? VRPC_E_NOMEM : VRPC_E_IO;
}

/* Without api_lock: a callback of the thread may be waiting for it. */
static int stop_thread(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    pthread_t t;

    pthread_mutex_lock(&c->lock);
    if (ls->thread_running && pthread_equal(pthread_self(), ls->thread)) {
        pthread_mutex_unlock(&c->lock);
        return VRPC_E_INVALID;
    }
    if (ls->thread_joining) {
        /* Another thread stops it: return once it is gone. */
        while (ls->thread_running)
            pthread_cond_wait(&ls->cond, &c->lock);
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    if (!ls->thread_running) {
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    t = ls->thread;
    ls->thread_stop = true;
    ls->thread_joining = true;
    wake_loop_waiters_locked(c);
    pthread_cond_broadcast(&ls->cond);
    vrpc_conn_wake_locked(c);
    pthread_mutex_unlock(&c->lock);

    pthread_join(t, NULL);

    pthread_mutex_lock(&c->lock);
    ls->thread_running = false;
    ls->thread_joining = false;
    ls->thread_stop = false;
    pthread_cond_broadcast(&ls->cond);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int vrpc_conn_stop_event_thread(vrpc_conn *c)
{
    if (!c)
        return VRPC_E_INVALID;
    return stop_thread(c);
}

/* ---- close notification ---- */

int vrpc_conn_get_close_reason(const vrpc_conn *cc)
{
    vrpc_conn *c = (vrpc_conn *)cc; /* only read, under its lock */
    int r;
    if (!c)
        return -1;
    pthread_mutex_lock(&c->lock);
    r = c->status ? c->loop.close_reason : -1;
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Ask the daemon for a feature (1 supported, 0 not, < 0 error). */
static int supports_feature(vrpc_conn *c, int feature, vrpc_error **err)
{
    vrpc_connect_supports_feature_args a = {.feature = feature};
    vrpc_connect_supports_feature_ret *r = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_connect_supports_feature(c, &a, &r, &e);
    if (rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT) {
        vrpc_free(e);
        return 0;
    }
    if (rc) {
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = r->supported != 0;
    vrpc_free(r);
    return rc;
}

int vrpc_conn_set_close_callback(vrpc_conn *c, vrpc_close_cb cb, void *opaque,
                                 void (*free_opaque)(void *), vrpc_error **err)
{
    vrpc_loop_state *ls;
    vrpc_close_holder *h = NULL, *old;
    int rc = 0, opened, status, feature;
    bool on_server;

    if (!c) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_conn_set_close_callback: no connection");
        return VRPC_E_INVALID;
    }
    ls = &c->loop;
    if (cb) {
        h = vrpc_calloc(1, sizeof(*h));
        if (!h) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                           "out of memory setting the close callback");
            return VRPC_E_NOMEM;
        }
        h->cb = cb;
        h->opaque = opaque;
        h->free_opaque = free_opaque;
        h->refs = 1;
    }
    pthread_mutex_lock(&ls->api_lock);
    pthread_mutex_lock(&c->lock);
    opened = c->opened;
    status = c->status;
    feature = ls->feature_close;
    on_server = ls->close_on_server;
    pthread_mutex_unlock(&c->lock);

    if (opened == VRPC_CONN_OPENED_REMOTE && status == 0) {
        if (cb && !on_server) {
            if (feature < 0) {
                feature = supports_feature(c, FEATURE_REMOTE_CLOSE_CALLBACK, err);
                if (feature < 0) {
                    rc = feature;
                    goto out;
                }
            }
            if (feature == 1) {
                vrpc_error *e = NULL;
                rc = vrpc_connect_register_close_callback(c, &e);
                if (rc) {
                    vrpc_error_move(err, &e);
                    goto out;
                }
                on_server = true;
            }
        } else if (!cb && on_server) {
            vrpc_error *e = NULL;
            rc = vrpc_connect_unregister_close_callback(c, &e);
            if (rc) {
                vrpc_error_move(err, &e);
                goto out;
            }
            on_server = false;
        }
    }
    pthread_mutex_lock(&c->lock);
    ls->feature_close = feature;
    ls->close_on_server = on_server;
    old = ls->close;
    ls->close = h;
    h = NULL;
    old = holder_unref_locked(old);
    /* A connection that already ended reports to the new callback. */
    if (close_pending_locked(c))
        vrpc_loop_notify_locked(c);
    pthread_mutex_unlock(&c->lock);
    holder_release(old);
out:
    pthread_mutex_unlock(&ls->api_lock);
    vrpc_free(h);
    return rc;
}

/* ---- reconnecting ---- */

void vrpc_loop_revived_locked(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    ls->close_reason = -1;
    ls->server_close_reason = -1;
    ls->close_reported = false;
    ls->ka_advertised = false;
    ls->ka_enabled = false;
    vrpc_loop_notify_locked(c);
}

void vrpc_loop_revive(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    bool ka, on_server;
    int64_t interval;
    unsigned int count;

    pthread_mutex_lock(&ls->api_lock);
    pthread_mutex_lock(&c->lock);
    ka = ls->ka_wanted;
    interval = ls->ka_interval;
    count = ls->ka_count;
    on_server = ls->close_on_server && ls->close;
    ls->close_on_server = false;
    pthread_mutex_unlock(&c->lock);
    if (ka)
        ka_enable(c, interval, count, false, NULL);
    if (on_server && vrpc_connect_register_close_callback(c, NULL) == 0) {
        pthread_mutex_lock(&c->lock);
        ls->close_on_server = true;
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&ls->api_lock);
}

/* ---- creation and close ---- */

void vrpc_loop_close_begin(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    if (!ls->initialised)
        return;
    stop_thread(c);
    pthread_mutex_lock(&c->lock);
    ls->client_closing = true;
    pthread_mutex_unlock(&c->lock);
}

void vrpc_loop_fini(vrpc_conn *c)
{
    vrpc_loop_state *ls = &c->loop;
    vrpc_close_holder *h;

    if (!ls->initialised)
        return;
    /* Nobody else runs now: report the end if it was not reported yet. */
    h = ls->close;
    ls->close = NULL;
    if (h && !ls->close_reported) {
        ls->close_reported = true;
        h->cb(c, ls->close_reason >= 0 ? ls->close_reason : VRPC_CONNECT_CLOSE_REASON_CLIENT,
              h->opaque);
    }
    holder_release(holder_unref_locked(h));
    if (ls->notify_rd >= 0)
        close(ls->notify_rd);
    if (ls->notify_wr >= 0 && ls->notify_wr != ls->notify_rd)
        close(ls->notify_wr);
    ls->notify_rd = ls->notify_wr = -1;
    pthread_cond_destroy(&ls->cond);
    pthread_mutex_destroy(&ls->api_lock);
    ls->initialised = false;
}
