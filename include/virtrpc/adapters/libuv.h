/* SPDX-License-Identifier: MIT */
/*
 * virtrpc on libuv. Header-only: the library itself does not depend on
 * libuv; a program that includes this header links libuv.
 *
 *     vrpc_uv *u = vrpc_uv_attach(conn, loop, &err);
 *     ... uv_run(loop, UV_RUN_DEFAULT): replies, events, keepalive, the close callback ...
 *     vrpc_uv_detach(u);   // the handles close on the loop's next turn
 *     vrpc_conn_close(conn);
 *
 * Three handles: a uv_poll_t on the connection's socket (for what
 * vrpc_conn_get_events() asks), a uv_poll_t on its notify descriptor
 * (readable), and a uv_timer_t for the deadline of vrpc_conn_get_timeout().
 * When one of them fires the adapter calls vrpc_conn_process(), in which
 * event and close callbacks run, and then asks for the interest and the
 * deadline again. Work that the socket does not show (calls queued by any
 * thread, the socket given back by another thread's call, events read by
 * another thread, the connection's end) makes the notify descriptor
 * readable. Since the loop now answers the daemon's PINGs while the program
 * is idle, vrpc_uv_attach() turns keepalive on (VRPC_KEEPALIVE_DEFAULT_*;
 * vrpc_uv_attach_full() takes other values, or 0 to leave it alone); that
 * blocks for the daemon's answer once.
 *
 * When the connection ends (vrpc_conn_process() returns an error, after
 * the close callback), the adapter stops its handles at once (the socket
 * may be closed) and stays inert until vrpc_uv_detach(). vrpc_uv_detach()
 * may be called from inside the connection's callbacks; the memory is
 * released when libuv has closed the handles (run the loop once more).
 * Close the connection after detaching, never from inside its callbacks.
 * libuv requires that a polled descriptor is not closed under an active
 * poll handle: the library closes the socket when the connection fails, so
 * a connection that other threads use can leave the socket handle on a
 * closed descriptor until the notify descriptor wakes the loop (the next
 * turn).
 */
#ifndef VIRTRPC_ADAPTERS_LIBUV_H
#define VIRTRPC_ADAPTERS_LIBUV_H

#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include <virtrpc/virtrpc.h>

typedef struct vrpc_uv {
    uv_poll_t sock;
    uv_poll_t notify;
    uv_timer_t timer;
    uv_loop_t *loop;
    vrpc_conn *conn;
    int sock_events;  /* UV_READABLE | UV_WRITABLE being polled, -1: stopped */
    int status;       /* 0, or what vrpc_conn_process() returned when the connection ended */
    int detached;     /* vrpc_uv_detach() was called */
    int in_process;   /* inside vrpc_conn_process() */
    int open_handles; /* handles not yet closed by libuv */
} vrpc_uv;

static inline void vrpc_uv__poll_cb(uv_poll_t *h, int status, int events);
static inline void vrpc_uv__timer_cb(uv_timer_t *h);

static inline void vrpc_uv__handle_closed(uv_handle_t *h)
{
    vrpc_uv *u = (vrpc_uv *)h->data;
    if (--u->open_handles == 0)
        free(u);
}

static inline void vrpc_uv__stop(vrpc_uv *u)
{
    uv_poll_stop(&u->sock);
    uv_poll_stop(&u->notify);
    uv_timer_stop(&u->timer);
    u->sock_events = -1;
}

/* Ask the connection what to wait for next. */
static inline void vrpc_uv__update(vrpc_uv *u)
{
    int ev, want = 0;
    uint64_t deadline = UINT64_MAX, now;

    if (u->status != 0 || u->detached)
        return;
    ev = vrpc_conn_get_events(u->conn);
    if (ev & POLLIN)
        want |= UV_READABLE;
    if (ev & POLLOUT)
        want |= UV_WRITABLE;
    if (want != u->sock_events) {
        if (want)
            uv_poll_start(&u->sock, want, vrpc_uv__poll_cb);
        else
            uv_poll_stop(&u->sock);
        u->sock_events = want;
    }
    vrpc_conn_get_timeout(u->conn, &deadline);
    if (deadline == UINT64_MAX) {
        uv_timer_stop(&u->timer);
    } else {
        now = vrpc_now_usec();
        uv_timer_start(&u->timer, vrpc_uv__timer_cb,
                       deadline <= now ? 0 : (deadline - now + 999) / 1000, 0);
    }
}

static inline void vrpc_uv__run(vrpc_uv *u)
{
    int rc;
    if (u->status != 0 || u->detached || u->in_process)
        return;
    u->in_process = 1;
    rc = vrpc_conn_process(u->conn); /* callbacks run here; they may detach */
    u->in_process = 0;
    if (u->detached) /* from a callback: the handles are closing, u lives until they are */
        return;
    if (rc != 0) {
        u->status = rc;
        vrpc_uv__stop(u);
        return;
    }
    vrpc_uv__update(u);
}

static inline void vrpc_uv__poll_cb(uv_poll_t *h, int status, int events)
{
    vrpc_uv *u = (vrpc_uv *)h->data;
    (void)events;
    /* An error on the descriptor: libuv stopped the handle; process() finds
     * out what it is, and the update starts the handle again if needed. */
    if (status < 0 && h == &u->sock)
        u->sock_events = -1;
    vrpc_uv__run(u);
}

static inline void vrpc_uv__timer_cb(uv_timer_t *h)
{
    vrpc_uv__run((vrpc_uv *)h->data);
}

/*
 * Attach c to loop. keepalive_interval_usec > 0 (microseconds): turn
 * keepalive on with it and keepalive_count (VRPC_E_UNSUPPORTED from a daemon
 * without keepalive is not an error); 0: leave keepalive alone. Returns the adapter, or NULL (*err
 * set when the connection refused keepalive; err may be NULL).
 */
static inline vrpc_uv *vrpc_uv_attach_full(vrpc_conn *c, uv_loop_t *loop,
                                           uint64_t keepalive_interval_usec,
                                           unsigned int keepalive_count, vrpc_error **err)
{
    vrpc_uv *u;
    int fd = vrpc_conn_get_fd(c), nfd = vrpc_conn_get_notify_fd(c), rc;

    if (err)
        *err = NULL;
    if (fd < 0 || nfd < 0)
        return NULL;
    if (keepalive_interval_usec > 0) {
        rc = vrpc_conn_set_keepalive(c, keepalive_interval_usec, keepalive_count, err);
        if (rc != 0 && rc != VRPC_E_UNSUPPORTED)
            return NULL;
        if (rc == VRPC_E_UNSUPPORTED && err) {
            vrpc_free(*err);
            *err = NULL;
        }
    }
    u = (vrpc_uv *)calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->loop = loop;
    u->conn = c;
    u->sock_events = 0;
    if (uv_poll_init(loop, &u->sock, fd) != 0) {
        free(u);
        return NULL;
    }
    u->open_handles = 1;
    u->sock.data = u;
    if (uv_poll_init(loop, &u->notify, nfd) != 0) {
        uv_close((uv_handle_t *)&u->sock, vrpc_uv__handle_closed);
        return NULL;
    }
    u->open_handles++;
    u->notify.data = u;
    uv_timer_init(loop, &u->timer);
    u->open_handles++;
    u->timer.data = u;
    uv_poll_start(&u->notify, UV_READABLE, vrpc_uv__poll_cb);
    vrpc_uv__update(u);
    return u;
}

/* vrpc_uv_attach_full() with VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC / _COUNT. */
static inline vrpc_uv *vrpc_uv_attach(vrpc_conn *c, uv_loop_t *loop, vrpc_error **err)
{
    return vrpc_uv_attach_full(c, loop, VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC,
                               VRPC_KEEPALIVE_DEFAULT_COUNT, err);
}

/* 0 while the connection is served, else the error that ended it. */
static inline int vrpc_uv_status(const vrpc_uv *u)
{
    return u->status;
}

/*
 * Stop serving the connection; the handles are closed (uv_close) and the
 * adapter freed on the loop's next turn. The connection stays open. Safe
 * from inside the connection's callbacks and after it ended. NULL-safe.
 */
static inline void vrpc_uv_detach(vrpc_uv *u)
{
    if (!u || u->detached)
        return;
    u->detached = 1;
    vrpc_uv__stop(u);
    uv_close((uv_handle_t *)&u->sock, vrpc_uv__handle_closed);
    uv_close((uv_handle_t *)&u->notify, vrpc_uv__handle_closed);
    uv_close((uv_handle_t *)&u->timer, vrpc_uv__handle_closed);
}

#endif
