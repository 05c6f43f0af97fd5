/* SPDX-License-Identifier: MIT */
/*
 * The connection: one socket shared by any number of threads, a thin layer
 * over the protocol core (proto.c), which owns framing, reply matching, fd
 * carriers and the output queue. This file owns the lock, the I/O role,
 * poll() and the transport calls.
 *
 * At most one thread owns the I/O role at a time. The owner polls the socket
 * (and a wakeup eventfd) without the lock, then with the lock held writes
 * queued packets in order, reads whatever is available and dispatches every
 * complete packet: replies complete their pending call and wake its thread,
 * keepalive PINGs queue a PONG, events and stream packets go to their hooks.
 * When the owner's own reply has arrived it gives up the role and wakes the
 * first thread still waiting, which takes over ("passing the buck").
 * Threads that are not the owner sleep on their call's condition variable.
 *
 * Choices the public contract leaves open:
 *  - vrpc_call_send() queues at most VRPC_CONN_OUT_MAX (64 MiB) of unwritten
 *    bytes and returns VRPC_E_AGAIN beyond it; blocking calls are exempt.
 *  - Public calls wait without a deadline (as libvirt's client does);
 *    internally vrpc_conn_call_timeout() exists, and vrpc_conn_close()
 *    waits at most VRPC_CONN_CLOSE_TIMEOUT_MS for CONNECT_CLOSE.
 *  - vrpc_conn_process() and vrpc_call_poll() return at once when another
 *    thread owns the I/O role (that thread is reading for everybody).
 *  - A reply whose procedure or status is wrong, or whose payload does not
 *    decode, fails only its call; anything that breaks the framing or the
 *    matching (unknown serial, CALL from the daemon, bad length, unknown
 *    type, EOF) fails the whole connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "clock.h"
#include "conn-internal.h"
#include "error.h"

#define RPC_ERR(...) vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, __VA_ARGS__)

static void close_transport(vrpc_conn *c);
static int flush_out(vrpc_conn *c);

/* ---- pending calls ---- */

static void close_fds(int *fds, uint32_t n)
{
    uint32_t i;
    for (i = 0; fds && i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void pending_free(vrpc_pending *p)
{
    if (!p)
        return;
    pthread_cond_destroy(&p->cond);
    close_fds(p->call.fds, p->call.nfds);
    vrpc_free(p->call.fds);
    vrpc_free(p->call.buf);
    vrpc_free(p->call.err);
    vrpc_free(p);
}

static void live_add(vrpc_conn *c, vrpc_pending *p)
{
    p->lprev = NULL;
    p->lnext = c->live;
    if (c->live)
        c->live->lprev = p;
    c->live = p;
}

static void live_remove(vrpc_conn *c, vrpc_pending *p)
{
    if (p->lprev)
        p->lprev->lnext = p->lnext;
    else if (c->live == p)
        c->live = p->lnext;
    if (p->lnext)
        p->lnext->lprev = p->lprev;
    p->lprev = p->lnext = NULL;
}

static void waiter_add(vrpc_conn *c, vrpc_pending *p)
{
    p->waiting = true;
    p->wnext = NULL;
    p->wprev = c->waiters_tail;
    if (c->waiters_tail)
        c->waiters_tail->wnext = p;
    else
        c->waiters_head = p;
    c->waiters_tail = p;
}

static void waiter_remove(vrpc_conn *c, vrpc_pending *p)
{
    if (p->wprev)
        p->wprev->wnext = p->wnext;
    else
        c->waiters_head = p->wnext;
    if (p->wnext)
        p->wnext->wprev = p->wprev;
    else
        c->waiters_tail = p->wprev;
    p->wprev = p->wnext = NULL;
    p->waiting = false;
}

/* The reply (or failure) of p is in: wake its thread, or free it. */
static void pending_complete(vrpc_pending *p)
{
    p->call.state = VRPC_CALL_DONE;
    if (p->call.discarded)
        pending_free(p);
    else if (p->waiting)
        pthread_cond_signal(&p->cond);
}

/* ---- wakeups and the I/O role ---- */

static void wake_owner(vrpc_conn *c)
{
    if (!c->polling || c->wake_signaled)
        return;
    if (c->wake_is_eventfd) {
        uint64_t one = 1;
        if (write(c->wake_wr, &one, sizeof(one)) < 0) {
            /* Only EAGAIN is possible (counter full): a wakeup is pending. */
        }
    } else {
        char b = 0;
        if (write(c->wake_wr, &b, 1) < 0) {
            /* EAGAIN: the pipe is full, a wakeup is pending anyway. */
        }
    }
    c->wake_signaled = true;
}

static void drain_wake(vrpc_conn *c)
{
    uint8_t buf[64];
    while (read(c->wake_rd, buf, c->wake_is_eventfd ? 8 : sizeof(buf)) > 0)
        if (c->wake_is_eventfd)
            break;
    c->wake_signaled = false;
}

/* Wake the first thread still waiting for its reply so it takes the I/O role. */
static void hand_on(vrpc_conn *c)
{
    vrpc_pending *w;
    if (c->io_owner)
        return;
    for (w = c->waiters_head; w; w = w->wnext) {
        if (w->call.state != VRPC_CALL_DONE) {
            pthread_cond_signal(&w->cond);
            return;
        }
    }
    /* LOOP: nobody reads now; an application's event loop takes over. */
    vrpc_loop_role_free_locked(c);
}

static void release_io(vrpc_conn *c)
{
    /* What dispatch queued (a stream's abort, a PONG) leaves now if it can. */
    if (c->status == 0 && c->tr && c->proto.out_head && c->proto.out_dirty)
        flush_out(c);
    c->io_owner = false;
    if (c->status && c->tr)
        close_transport(c);
    hand_on(c);
}

static void users_leave(vrpc_conn *c)
{
    c->users--;
    if (c->closing && c->users == 0)
        pthread_cond_broadcast(&c->idle);
}

/* ---- the sticky error state ---- */

static void close_transport(vrpc_conn *c)
{
    if (c->tr) {
        c->tr->ops->close(c->tr);
        c->tr = NULL;
    }
}

/*
 * The protocol core's callbacks. They run inside vrpc_proto_* calls, with
 * the lock held.
 */
static void on_call_done(vrpc_proto_call *call, void *ud)
{
    (void)ud;
    pending_complete((vrpc_pending *)call);
}

/* HOOKS: a packet for the layer attached in x (nothing attached: dropped). */
static int to_layer(vrpc_conn *c, const vrpc_conn_ext *x, const vrpc_packet *pkt, vrpc_error **err)
{
    return x->hooks && x->hooks->packet ? x->hooks->packet(c, pkt, x->state, err) : 0;
}

static int on_event(const vrpc_packet *pkt, void *ud, vrpc_error **err)
{
    vrpc_conn *c = ud;
    return to_layer(c, &c->events, pkt, err);
}

static int on_stream(const vrpc_packet *pkt, void *ud, vrpc_error **err)
{
    vrpc_conn *c = ud;
    return to_layer(c, &c->streams, pkt, err);
}

static bool on_orphan_error(const vrpc_packet *pkt, void *ud)
{
    vrpc_conn *c = ud;
    const vrpc_conn_ext *x = &c->streams;
    return x->hooks && x->hooks->orphan_error_locked &&
           x->hooks->orphan_error_locked(c, pkt, x->state);
}

static void wake_space_waiters(vrpc_conn *c);

/* The connection failed: the core has completed every call already. */
static void on_fatal(int code, vrpc_error *e, void *ud)
{
    vrpc_conn *c = ud;

    c->status = code;
    c->fatal = e;
    /* RECONNECTING: the reconnect layer brings the connection back unless
     * the application ends it; streams cannot survive. */
    if (c->reconnect.hooks && !c->closing && !c->no_reconnect && !c->loop.client_closing) {
        /* The parser's own failures (VRPC_E_PROTO) too: the calls it
         * failed (no error of their own) say VRPC_E_CLOSED. */
        for (vrpc_pending *p = c->live; p && code != VRPC_E_CLOSED; p = p->lnext)
            if (p->call.state == VRPC_CALL_DONE && p->call.rc == code && !p->call.err)
                p->call.rc = VRPC_E_CLOSED;
        c->reconnecting = true;
        if (c->streams.hooks && c->streams.hooks->lost_locked)
            c->streams.hooks->lost_locked(c, c->streams.state);
        c->reconnect.hooks->lost_locked(c, c->reconnect.state);
    }
    /* Waits that are not for a reply (streams, output space) learn it too. */
    for (vrpc_pending *w = c->waiters_head; w; w = w->wnext)
        pthread_cond_signal(&w->cond);
    wake_space_waiters(c);
    /* LOOP: the close reason; event loops and vrpc_conn_wait() learn it. */
    vrpc_loop_failed_locked(c);
    if (c->reconnecting)
        c->status = VRPC_E_CLOSED; /* after the close reason was taken from it */
    if (c->polling)
        wake_owner(c); /* the owner closes the transport when poll() returns */
    else
        close_transport(c);
}

static const vrpc_proto_cbs conn_cbs = {
    .call_done = on_call_done,
    .event = on_event,
    .stream = on_stream,
    .orphan_error = on_orphan_error,
    .fatal = on_fatal,
};

void vrpc_conn_fail_locked(vrpc_conn *c, int code, vrpc_error *e)
{
    /* RECONNECTING: calls in flight fail with VRPC_E_CLOSED (the message
     * tells why), whatever broke the connection. */
    if (c->reconnect.hooks && code != VRPC_E_NOMEM)
        code = VRPC_E_CLOSED;
    vrpc_proto_fail(&c->proto, code, e);
}

/* ---- output ---- */

int vrpc_conn_queue_locked(vrpc_conn *c, uint8_t *data, size_t len)
{
    int rc = vrpc_proto_queue(&c->proto, data, len, NULL, 0);
    if (rc)
        return rc;
    if (c->io_owner)
        wake_owner(c);
    else
        vrpc_loop_output_locked(c); /* LOOP: an event loop wants POLLOUT now */
    return 0;
}

/* Wake the threads waiting for the output queue to shrink to their limit. */
static void wake_space_waiters(vrpc_conn *c)
{
    vrpc_pending **pp = &c->space_waiters;
    while (*pp) {
        vrpc_pending *w = *pp;
        if (c->status || c->proto.out_bytes <= w->space_limit) {
            *pp = w->snext;
            w->snext = NULL;
            w->call.state = VRPC_CALL_DONE;
            if (w->waiting)
                pthread_cond_signal(&w->cond);
        } else {
            pp = &w->snext;
        }
    }
}

/* Write queued packets, in order, until done or the socket is full. */
static int flush_out(vrpc_conn *c)
{
    c->proto.out_dirty = false;
    while (c->tr && c->status == 0) {
        const uint8_t *data;
        vrpc_error *e = NULL;
        int fd;
        size_t len = vrpc_proto_out_peek(&c->proto, &data, &fd);

        if (len) {
            ssize_t n = c->tr->ops->write(c->tr, data, len, &e);
            if (n == VRPC_E_AGAIN)
                break;
            if (n < 0) {
                if (n == VRPC_E_CLOSED)
                    vrpc_error_prefix(&e, "connection closed by the daemon");
                vrpc_conn_fail_locked(c, (int)n, e);
                return (int)n;
            }
            vrpc_proto_out_sent(&c->proto, (size_t)n);
        } else if (fd >= 0) {
            /* FD PASSING: each descriptor with its own 1-byte carrier, after
             * the whole message (as libvirt sends them). */
            int r = c->tr->ops->send_fd(c->tr, fd, &e);
            if (r == VRPC_E_AGAIN)
                break;
            if (r < 0) {
                vrpc_conn_fail_locked(c, r, e);
                return r;
            }
            vrpc_proto_out_fd_sent(&c->proto);
        } else {
            break;
        }
    }
    wake_space_waiters(c);
    return 0;
}

/* ---- input ---- */

/*
 * Read once (or, with drain, until the socket is empty) and hand the bytes
 * to the protocol core. Returns 0 or the connection's new error code.
 */
static int read_input(vrpc_conn *c, bool drain)
{
    int rounds = drain ? 64 : 1;

    while (rounds-- > 0 && c->tr && c->status == 0 && vrpc_conn_input_wanted_locked(c)) {
        int fds[VRPC_MSG_FDS_MAX];
        size_t nfds = 0, avail;
        vrpc_error *e = NULL;
        uint8_t *dst = vrpc_proto_in_space(&c->proto, &avail);
        ssize_t n;

        if (!dst) {
            vrpc_conn_fail_locked(c, VRPC_E_NOMEM,
                                  vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                                                 "out of memory for the read buffer"));
            return VRPC_E_NOMEM;
        }
        n = c->tr->ops->read(c->tr, dst, avail, fds, &nfds, VRPC_MSG_FDS_MAX, &e);
        /* FD PASSING: descriptors wait in the core for their carrier bytes. */
        if (nfds && vrpc_proto_take_fds(&c->proto, fds, nfds)) {
            vrpc_free(e);
            return c->status;
        }
        if (n == VRPC_E_AGAIN)
            return 0;
        if (n < 0) {
            vrpc_conn_fail_locked(c, (int)n, e);
            return (int)n;
        }
        if (n == 0) {
            vrpc_proto_eof(&c->proto);
            return c->status;
        }
        vrpc_ka_rx_locked(c); /* KEEPALIVE: the daemon is alive */
        if (vrpc_proto_commit(&c->proto, (size_t)n))
            return c->status;
        if (!drain && c->tr && c->tr->ops->pending && c->tr->ops->pending(c->tr))
            rounds = 1;
    }
    return c->status;
}

static int io_pass(vrpc_conn *c)
{
    if (c->status == 0 && c->proto.out_head)
        flush_out(c);
    if (c->status == 0 && c->tr && !vrpc_conn_input_wanted_locked(c)) {
        /* Input paused (a stream's reader is behind): read only to learn
         * that the peer is gone. */
        struct pollfd pf = {c->tr->ops->fd(c->tr), POLLRDHUP, 0};
        if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR | POLLRDHUP))) {
            c->rx_full_override = true;
            read_input(c, true);
            c->rx_full_override = false;
        }
    } else if (c->status == 0) {
        read_input(c, true);
    }
    if (c->status == 0 && c->proto.out_head)
        flush_out(c);
    if (c->status && c->tr)
        close_transport(c);
    return c->status;
}

/*
 * The I/O owner's loop: until p is done, the connection fails or the
 * deadline (ms on CLOCK_MONOTONIC, < 0: none) passes.
 */
static int io_loop(vrpc_conn *c, vrpc_pending *p, int64_t deadline)
{
    while (p->call.state != VRPC_CALL_DONE && c->status == 0) {
        struct pollfd pfd[2];
        short want, asked;
        int n, timeout = -1, saved;
        int64_t ka;

        if (c->proto.out_head && c->proto.out_dirty) {
            flush_out(c);
            continue;
        }
        if (c->tr->ops->pending && c->tr->ops->pending(c->tr) && vrpc_conn_input_wanted_locked(c)) {
            read_input(c, false);
            continue;
        }
        if (deadline >= 0) {
            int64_t left = deadline - vrpc_mono_ms();
            if (left <= 0)
                return VRPC_E_TIMEOUT;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        /* KEEPALIVE: send a PING or give up on a silent daemon, and wake up
         * in time for the next deadline. */
        vrpc_ka_tick_locked(c);
        if (c->status)
            break;
        if (c->proto.out_head && c->proto.out_dirty)
            continue;
        ka = vrpc_ka_deadline_locked(c);
        if (ka != INT64_MAX) {
            int64_t left = (ka - vrpc_mono_us() + 999) / 1000;
            if (left < 0)
                left = 0;
            if (timeout < 0 || left < timeout)
                timeout = (int)(left > 1000000 ? 1000000 : left);
        }
        want = vrpc_conn_input_wanted_locked(c) ? POLLIN : 0;
        if (c->proto.out_head)
            want |= POLLOUT;
        asked = want;
        if (c->tr->ops->events)
            want = c->tr->ops->events(c->tr, want);
        pfd[0].fd = c->tr->ops->fd(c->tr);
        /* Input paused: still learn when the peer goes (a TCP FIN is only
         * POLLRDHUP, not POLLHUP). */
        pfd[0].events = want | ((asked & POLLIN) ? 0 : POLLRDHUP);
        pfd[0].revents = 0;
        pfd[1].fd = c->wake_rd;
        pfd[1].events = POLLIN;
        pfd[1].revents = 0;

        c->polling = true;
        pthread_mutex_unlock(&c->lock);
        n = poll(pfd, 2, timeout);
        saved = errno;
        pthread_mutex_lock(&c->lock);
        c->polling = false;

        if (pfd[1].revents)
            drain_wake(c);
        if (c->status) {
            close_transport(c);
            break;
        }
        if (n < 0) {
            if (saved == EINTR || saved == EAGAIN)
                continue;
            vrpc_conn_fail_locked(c, VRPC_E_IO,
                                  vrpc_error_new(VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC,
                                                 "poll on %s: %s", c->tr->peer, strerror(saved)));
            break;
        }
        if (n == 0)
            continue;
        if (pfd[0].revents & POLLNVAL) {
            vrpc_conn_fail_locked(c, VRPC_E_IO,
                                  vrpc_error_new(VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC,
                                                 "poll on %s: descriptor is not open",
                                                 c->tr->peer));
            break;
        }
        /* A transport that remaps the directions (TLS: a read that must
         * write first, a write that must read) progresses on either: retry
         * what the core asked for. */
        if (c->tr->ops->events && (pfd[0].revents & (POLLIN | POLLOUT)))
            pfd[0].revents |= asked;
        if ((pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) && c->proto.out_head)
            flush_out(c);
        if (c->status)
            break;
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR | POLLRDHUP)) {
            if (!(asked & POLLIN) && (pfd[0].revents & (POLLHUP | POLLERR | POLLRDHUP))) {
                /* The peer is gone while input is paused: read what is left
                 * (bounded by the socket buffers) to learn why. */
                c->rx_full_override = true;
                read_input(c, true);
                c->rx_full_override = false;
            } else {
                read_input(c, false);
            }
        }
    }
    return 0;
}

/*
 * Wait until p is done, owning the I/O role whenever nobody else does.
 * Lock held. Returns 0 (p done) or VRPC_E_TIMEOUT.
 */
static int wait_done(vrpc_conn *c, vrpc_pending *p, int64_t deadline)
{
    int rc = 0;

    while (p->call.state != VRPC_CALL_DONE) {
        if (c->status && !p->call.discarded) {
            /* Not in the map any more (it was failed with the others). */
            p->call.rc = c->status;
            p->call.state = VRPC_CALL_DONE;
            break;
        }
        if (!c->io_owner) {
            c->io_owner = true;
            rc = io_loop(c, p, deadline);
            release_io(c);
            if (rc)
                break;
            continue;
        }
        waiter_add(c, p);
        if (deadline >= 0) {
            struct timespec ts;
            ts.tv_sec = (time_t)(deadline / 1000);
            ts.tv_nsec = (long)(deadline % 1000) * 1000000;
            rc = pthread_cond_timedwait(&p->cond, &c->lock, &ts);
        } else {
            pthread_cond_wait(&p->cond, &c->lock);
        }
        waiter_remove(c, p);
        if (rc == ETIMEDOUT && p->call.state != VRPC_CALL_DONE) {
            rc = VRPC_E_TIMEOUT;
            break;
        }
        rc = 0;
    }
    /* If the role is free, make sure some other waiter picks it up. */
    hand_on(c);
    return rc;
}

/*
 * Consume p (done) and produce the caller's result. Lock held on entry,
 * released on return. The reply is decoded outside the lock.
 */
static int collect(vrpc_conn *c, vrpc_pending *p, void **ret, int **fds, size_t *nfds,
                   vrpc_error **err)
{
    static const uint8_t no_bytes[4];
    const vrpc_proc *proc = p->call.proc;
    vrpc_error *e = NULL;
    int rc = p->call.rc;

    live_remove(c, p);
    if (rc != 0 && rc != VRPC_E_REMOTE && !p->call.err && err && c->fatal)
        p->call.err = vrpc_error_dup(c->fatal, NULL);
    users_leave(c);
    pthread_mutex_unlock(&c->lock);

    if (rc == 0) {
        if (ret && proc->ret) {
            int drc = vrpc_xdr_decode(proc->ret, p->call.buf ? p->call.buf + p->call.off : no_bytes,
                                      p->call.len, ret);
            if (drc) {
                rc = drc == VRPC_E_NOMEM ? VRPC_E_NOMEM : VRPC_E_PROTO;
                e = RPC_ERR("cannot decode the reply to %s (serial %u, %zu bytes): %s", proc->name,
                            p->call.serial, p->call.len, vrpc_strerror(drc));
            }
        } else if (!proc->ret && p->call.len) {
            rc = VRPC_E_PROTO;
            e = RPC_ERR("the reply to %s (serial %u) carries %zu bytes but the procedure returns "
                        "nothing",
                        proc->name, p->call.serial, p->call.len);
        }
        if (rc == 0 && fds && p->call.nfds) {
            /* FD PASSING: the caller owns the descriptors from now on. */
            *fds = p->call.fds;
            *nfds = p->call.nfds;
            p->call.fds = NULL;
            p->call.nfds = 0;
        }
    } else if (rc == VRPC_E_REMOTE) {
        rc = vrpc_msg_decode_error(p->call.buf ? p->call.buf + p->call.off : no_bytes, p->call.len,
                                   &e);
    } else {
        e = p->call.err;
        p->call.err = NULL;
        if (!e && rc == VRPC_E_NOMEM)
            e = vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                               "out of memory storing the reply to %s", proc->name);
    }
    vrpc_error_move(err, &e);
    pending_free(p);
    return rc;
}

/* ---- public API: calls ---- */

/* A CALL_WITH_FDS packet: the header, the descriptor count, the arguments. */
static int build_call_fds(vrpc_buf *b, const vrpc_proc *proc, const void *args, uint32_t nfds)
{
    vrpc_msg_header h = {proc->program, proc->version, proc->number, VRPC_MSG_CALL_WITH_FDS, 0,
                         VRPC_MSG_OK};
    int rc = vrpc_msg_build(b, &h, NULL, NULL);
    if (rc == 0)
        rc = vrpc_buf_put_u32(b, nfds);
    if (rc == 0 && proc->args)
        rc = vrpc_xdr_encode(proc->args, args, b);
    if (rc == 0 && b->len > VRPC_MSG_PACKET_MAX)
        rc = VRPC_E_TOO_BIG;
    if (rc == 0)
        vrpc_put_u32(b->data, (uint32_t)b->len);
    return rc;
}

/* Close-on-exec duplicates of the caller's descriptors, for the output queue. */
static int dup_fds(const int *fds, size_t n, int **out, vrpc_error **err)
{
    size_t i;
    int *d = vrpc_malloc(n * sizeof(int));
    if (!d) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
        return VRPC_E_NOMEM;
    }
    for (i = 0; i < n; i++) {
        d[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
        if (d[i] < 0) {
            int e = fds[i] < 0 ? EBADF : errno;
            close_fds(d, (uint32_t)i);
            vrpc_free(d);
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, e,
                                 "cannot duplicate file descriptor %d to pass it", fds[i]);
            return e == EBADF ? VRPC_E_INVALID : VRPC_E_IO;
        }
    }
    *out = d;
    return 0;
}

/* RECONNECTING: a new call waits (bounded) until the connection is back
 * (0; check status: the reconnect may have ended), or VRPC_E_TIMEOUT. */
static int wait_reconnected(vrpc_conn *c, const vrpc_proc *proc, vrpc_error **err)
{
    int64_t deadline = c->reconnect_wait_ms < 0 ? -1 : vrpc_mono_ms() + c->reconnect_wait_ms;
    struct timespec ts = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000};

    while (c->status && c->reconnecting) {
        if (deadline < 0)
            pthread_cond_wait(&c->up, &c->lock);
        else if (pthread_cond_timedwait(&c->up, &c->lock, &ts) == ETIMEDOUT && c->status &&
                 c->reconnecting) {
            vrpc_error_set(err, VRPC_ERR_OPERATION_TIMEOUT, VRPC_FROM_RPC,
                           "%s: the connection is not back after %d ms of reconnecting", proc->name,
                           c->reconnect_wait_ms);
            return VRPC_E_TIMEOUT;
        }
    }
    return 0;
}

static int send_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, const vrpc_call_opts *o,
                     bool force, vrpc_pending **out, vrpc_error **err)
{
    vrpc_buf b = {0};
    vrpc_proto_out *m;
    vrpc_pending *p;
    int *dfds = NULL;
    size_t nfds = o ? o->nfds : 0;
    int rc;

    if (out)
        *out = NULL;
    if (!c || !proc || !out) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_call_send: connection, procedure and result pointer are required");
        return VRPC_E_INVALID;
    }
    if (proc->args && !args) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "procedure %s needs arguments (%s)", proc->name,
                       proc->args->name ? proc->args->name : "struct");
        return VRPC_E_INVALID;
    }
    if (nfds > VRPC_MSG_FDS_MAX || (nfds && !o->fds)) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "%s: %zu file descriptors (at most %u per call)", proc->name, nfds,
                       VRPC_MSG_FDS_MAX);
        return VRPC_E_INVALID;
    }
    rc = nfds ? build_call_fds(&b, proc, args, (uint32_t)nfds)
              : vrpc_msg_build_call(&b, proc, 0, args);
    if (rc) {
        vrpc_buf_reset(&b);
        vrpc_error_set(err, rc == VRPC_E_NOMEM ? VRPC_ERR_NO_MEMORY : VRPC_ERR_INVALID_ARG,
                       VRPC_FROM_RPC, "cannot encode the arguments of %s: %s", proc->name,
                       vrpc_strerror(rc));
        return rc;
    }
    if (nfds && (rc = dup_fds(o->fds, nfds, &dfds, err)) != 0) {
        vrpc_buf_reset(&b);
        return rc;
    }
    m = vrpc_proto_out_new(b.data, b.len, dfds, (uint32_t)nfds);
    p = vrpc_calloc(1, sizeof(*p));
    if (!m || !p) {
        vrpc_proto_out_discard(m); /* without m, data and descriptors are released */
        vrpc_free(p);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory sending %s",
                       proc->name);
        return VRPC_E_NOMEM;
    }
    p->call.proc = proc;

    if (pthread_cond_init(&p->cond, &c->condattr)) {
        rc = VRPC_E_NOMEM;
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                       "cannot create a condition variable for %s", proc->name);
        vrpc_free(p);
        p = NULL;
        goto fail_nolock;
    }

    pthread_mutex_lock(&c->lock);
    c->users++;
    if (c->status && c->reconnecting && (rc = wait_reconnected(c, proc, err)) != 0)
        goto fail;
    if (c->status) {
        rc = c->status;
        if (err)
            *err = vrpc_error_dup(c->fatal, NULL);
        goto fail;
    }
    if (nfds && (!c->tr || !c->tr->ops->send_fd)) {
        rc = VRPC_E_UNSUPPORTED;
        vrpc_error_set(err, VRPC_ERR_ARGUMENT_UNSUPPORTED, VRPC_FROM_RPC,
                       "%s: sending file descriptors is not supported on this socket (%s)",
                       proc->name, c->tr ? c->tr->ops->name : "closed");
        goto fail;
    }
    if (!force && c->proto.out_head && c->proto.out_bytes + m->len > VRPC_CONN_OUT_MAX) {
        rc = VRPC_E_AGAIN;
        vrpc_error_set(err, VRPC_ERR_OPERATION_FAILED, VRPC_FROM_RPC,
                       "more than %zu bytes of calls are queued; collect replies first",
                       VRPC_CONN_OUT_MAX);
        goto fail;
    }
    if (vrpc_proto_call_add(&c->proto, &p->call)) {
        rc = VRPC_E_NOMEM;
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory sending %s",
                       proc->name);
        goto fail;
    }
    if (o && o->bind && (rc = o->bind(c, p->call.serial, o->bind_opaque, err)) != 0) {
        vrpc_proto_call_remove(&c->proto, &p->call);
        goto fail;
    }
    vrpc_msg_set_serial(m->data, p->call.serial);
    live_add(c, p);
    vrpc_proto_queue_out(&c->proto, m); /* cannot fail: status is 0 */
    if (c->io_owner) {
        wake_owner(c);
    } else {
        /* Nobody does I/O: write now what the socket takes, without blocking. */
        c->io_owner = true;
        flush_out(c);
        release_io(c);
    }
    users_leave(c);
    pthread_mutex_unlock(&c->lock);
    *out = p;
    return 0;

fail:
    users_leave(c);
    pthread_mutex_unlock(&c->lock);
    pending_free(p);
    p = NULL;
fail_nolock:
    vrpc_free(p);
    vrpc_proto_out_discard(m);
    return rc;
}

int vrpc_call_send(vrpc_conn *c, const vrpc_proc *proc, const void *args, vrpc_pending **out,
                   vrpc_error **err)
{
    return send_call(c, proc, args, NULL, false, out, err);
}

int vrpc_conn_send_opts(vrpc_conn *c, const vrpc_proc *proc, const void *args,
                        const vrpc_call_opts *o, bool force, vrpc_pending **out, vrpc_error **err)
{
    return send_call(c, proc, args, o, force, out, err);
}

static int wait_common(vrpc_conn *c, vrpc_pending *p, void **ret, int **fds, size_t *nfds,
                       vrpc_error **err, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : vrpc_mono_ms() + timeout_ms;
    int rc;

    if (ret)
        *ret = NULL;
    if (fds)
        *fds = NULL;
    if (nfds)
        *nfds = 0;
    if (!c || !p) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_call_wait: connection and pending call are required");
        return VRPC_E_INVALID;
    }
    pthread_mutex_lock(&c->lock);
    c->users++;
    rc = wait_done(c, p, deadline);
    if (rc == VRPC_E_TIMEOUT) {
        live_remove(c, p);
        p->call.discarded = true;
        vrpc_error_set(err, VRPC_ERR_OPERATION_TIMEOUT, VRPC_FROM_RPC,
                       "no reply to %s (serial %u) within %d ms", p->call.proc->name,
                       p->call.serial, timeout_ms);
        users_leave(c);
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    return collect(c, p, ret, fds, nfds, err);
}

int vrpc_call_wait(vrpc_conn *c, vrpc_pending *p, void **ret, vrpc_error **err)
{
    return wait_common(c, p, ret, NULL, NULL, err, -1);
}

int vrpc_call_wait_timeout(vrpc_conn *c, vrpc_pending *p, void **ret, vrpc_error **err,
                           uint64_t timeout_usec)
{
    return wait_common(c, p, ret, NULL, NULL, err, vrpc_usec_to_timeout_ms(timeout_usec));
}

void vrpc_conn_shutdown(vrpc_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->no_reconnect = true;
    vrpc_conn_fail_locked(
        c, VRPC_E_CLOSED,
        vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, "connection shut down by the client"));
    pthread_mutex_unlock(&c->lock);
    vrpc_conn_reconnect_end(c);
}

int vrpc_conn_wait_fds(vrpc_conn *c, vrpc_pending *p, void **ret, int **fds, size_t *nfds,
                       vrpc_error **err, int timeout_ms)
{
    return wait_common(c, p, ret, fds, nfds, err, timeout_ms);
}

int vrpc_call_poll(vrpc_conn *c, vrpc_pending *p, void **ret, vrpc_error **err)
{
    if (ret)
        *ret = NULL;
    if (!c || !p) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_call_poll: connection and pending call are required");
        return VRPC_E_INVALID;
    }
    pthread_mutex_lock(&c->lock);
    c->users++;
    if (p->call.state != VRPC_CALL_DONE && !c->io_owner && c->status == 0) {
        c->io_owner = true;
        io_pass(c);
        release_io(c);
    }
    if (p->call.state != VRPC_CALL_DONE) {
        users_leave(c);
        pthread_mutex_unlock(&c->lock);
        return VRPC_E_AGAIN;
    }
    return collect(c, p, ret, NULL, NULL, err);
}

void vrpc_call_discard(vrpc_conn *c, vrpc_pending *p)
{
    if (!c || !p)
        return;
    pthread_mutex_lock(&c->lock);
    live_remove(c, p);
    if (p->call.state == VRPC_CALL_DONE)
        pending_free(p);
    else
        p->call.discarded = true;
    pthread_mutex_unlock(&c->lock);
}

int vrpc_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret, vrpc_error **err)
{
    return vrpc_conn_call_timeout(c, proc, args, ret, err, -1);
}

int vrpc_conn_call_timeout(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret,
                           vrpc_error **err, int timeout_ms)
{
    vrpc_pending *p;
    int rc;

    if (ret)
        *ret = NULL;
    rc = send_call(c, proc, args, NULL, true, &p, err);
    if (rc)
        return rc;
    return wait_common(c, p, ret, NULL, NULL, err, timeout_ms);
}

int vrpc_call_fds(vrpc_conn *c, const vrpc_proc *proc, const void *args, const int *in_fds,
                  size_t n_in, void **ret, int **out_fds, size_t *n_out, vrpc_error **err)
{
    vrpc_call_opts o = {.fds = in_fds, .nfds = n_in};
    vrpc_pending *p;
    int rc;

    if (ret)
        *ret = NULL;
    if (out_fds)
        *out_fds = NULL;
    if (n_out)
        *n_out = 0;
    if ((out_fds == NULL) != (n_out == NULL)) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_call_fds: out_fds and n_out go together");
        return VRPC_E_INVALID;
    }
    rc = send_call(c, proc, args, &o, true, &p, err);
    if (rc)
        return rc;
    return wait_common(c, p, ret, out_fds, n_out, err, -1);
}

uint32_t vrpc_pending_serial(const vrpc_pending *p)
{
    return p ? p->call.serial : 0;
}

int vrpc_conn_process(vrpc_conn *c)
{
    int rc;
    if (!c)
        return VRPC_E_INVALID;
    pthread_mutex_lock(&c->lock);
    c->users++;
    if (!c->io_owner && c->status == 0) {
        c->io_owner = true;
        vrpc_ka_tick_locked(c); /* KEEPALIVE */
        io_pass(c);
        release_io(c);
    }
    /* LOOP: the event loop's notification is consumed; then the callbacks
     * of queued events (and the close callback) run, outside the lock. */
    vrpc_loop_drain_notify_locked(c);
    rc = c->status;
    pthread_mutex_unlock(&c->lock);
    vrpc_loop_dispatch(c);
    pthread_mutex_lock(&c->lock);
    users_leave(c);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- waits that are not for a reply (streams) ---- */

void vrpc_conn_io_pass_locked(vrpc_conn *c)
{
    if (!c->io_owner && c->status == 0) {
        c->io_owner = true;
        io_pass(c);
        release_io(c);
    }
}

void vrpc_conn_enter_locked(vrpc_conn *c)
{
    c->users++;
}

void vrpc_conn_leave_locked(vrpc_conn *c)
{
    users_leave(c);
}

int vrpc_conn_waiter_init(vrpc_conn *c, vrpc_pending *w)
{
    memset(w, 0, sizeof(*w));
    w->call.state = VRPC_CALL_SENT;
    return pthread_cond_init(&w->cond, &c->condattr) ? VRPC_E_NOMEM : 0;
}

void vrpc_conn_waiter_fini(vrpc_pending *w)
{
    pthread_cond_destroy(&w->cond);
}

int vrpc_conn_wait_locked(vrpc_conn *c, vrpc_pending *w, int64_t deadline)
{
    return wait_done(c, w, deadline);
}

void vrpc_conn_waiter_wake_locked(vrpc_conn *c, vrpc_pending *w)
{
    (void)c;
    w->call.state = VRPC_CALL_DONE;
    if (w->waiting)
        pthread_cond_signal(&w->cond);
}

int vrpc_conn_wait_space_locked(vrpc_conn *c, size_t limit, int64_t deadline)
{
    vrpc_pending w, **pp;
    int rc;

    if (c->status || c->proto.out_bytes <= limit)
        return 0;
    if (vrpc_conn_waiter_init(c, &w))
        return VRPC_E_NOMEM;
    w.space_limit = limit;
    w.snext = c->space_waiters;
    c->space_waiters = &w;
    vrpc_conn_kick_locked(c);
    rc = wait_done(c, &w, deadline);
    for (pp = &c->space_waiters; *pp; pp = &(*pp)->snext) {
        if (*pp == &w) {
            *pp = w.snext;
            break;
        }
    }
    vrpc_conn_waiter_fini(&w);
    return rc;
}

void vrpc_conn_kick_locked(vrpc_conn *c)
{
    if (c->status)
        return;
    if (c->io_owner) {
        wake_owner(c);
    } else if (c->proto.out_head) {
        c->io_owner = true;
        flush_out(c);
        release_io(c);
    }
}

void vrpc_conn_wake_locked(vrpc_conn *c)
{
    if (c->io_owner)
        wake_owner(c);
    else
        vrpc_loop_output_locked(c); /* LOOP: an event loop asks again what to poll */
}

bool vrpc_conn_input_wanted_locked(const vrpc_conn *c)
{
    return c->rx_full == 0 || c->rx_full_override || c->rx_waiters > 0 ||
           vrpc_proto_awaits_input(&c->proto);
}

/* ---- creation, accessors, close ---- */

int vrpc_conn_create(vrpc_transport *tr, vrpc_conn **out, vrpc_error **err)
{
    vrpc_conn *c;
    int e;

    *out = NULL;
    c = vrpc_calloc(1, sizeof(*c));
    if (!c)
        goto nomem;
    c->wake_rd = c->wake_wr = -1;
    if (vrpc_proto_init(&c->proto, &conn_cbs, c)) {
        vrpc_free(c);
        goto nomem;
    }
    if ((e = pthread_mutex_init(&c->lock, NULL)) != 0) {
        vrpc_proto_fini(&c->proto);
        vrpc_free(c);
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, e, "pthread_mutex_init");
        tr->ops->close(tr);
        return VRPC_E_NOMEM;
    }
    pthread_condattr_init(&c->condattr);
    pthread_condattr_setclock(&c->condattr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->idle, NULL);
    pthread_cond_init(&c->up, &c->condattr);
    c->reconnect_wait_ms = -1;
    c->wake_rd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->wake_rd >= 0) {
        c->wake_wr = c->wake_rd;
        c->wake_is_eventfd = true;
    } else {
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
            e = errno;
            c->tr = tr;
            vrpc_conn_close(c);
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, e,
                                 "eventfd/pipe for the connection's wakeups");
            return VRPC_E_IO;
        }
        c->wake_rd = pfd[0];
        c->wake_wr = pfd[1];
    }
    c->tr = tr;
    /* LOOP: notify descriptor, event hook (loop.c). */
    if ((e = vrpc_loop_init(c)) != 0) {
        vrpc_conn_close(c);
        vrpc_error_set(err, e == VRPC_E_NOMEM ? VRPC_ERR_NO_MEMORY : VRPC_ERR_SYSTEM_ERROR,
                       VRPC_FROM_RPC, "cannot set up the connection's notifications");
        return e;
    }
    *out = c;
    return 0;

nomem:
    tr->ops->close(tr);
    vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory creating a connection");
    return VRPC_E_NOMEM;
}

int vrpc_conn_get_fd(const vrpc_conn *cc)
{
    vrpc_conn *c = (vrpc_conn *)cc;
    int fd;
    if (!c)
        return -1;
    pthread_mutex_lock(&c->lock);
    fd = c->tr && c->status == 0 ? c->tr->ops->fd(c->tr) : -1;
    pthread_mutex_unlock(&c->lock);
    return fd;
}

const char *vrpc_conn_get_uri(const vrpc_conn *c)
{
    return c ? c->uri : NULL;
}

const char *vrpc_conn_get_open_name(const vrpc_conn *c)
{
    return c ? c->open_name : NULL;
}

const char *vrpc_conn_get_socket_path(const vrpc_conn *c)
{
    return c ? c->socket_path : NULL;
}

int vrpc_conn_get_status(const vrpc_conn *cc)
{
    vrpc_conn *c = (vrpc_conn *)cc;
    int st;
    if (!c)
        return VRPC_E_INVALID;
    pthread_mutex_lock(&c->lock);
    st = c->status;
    pthread_mutex_unlock(&c->lock);
    return st;
}

void vrpc_conn_close(vrpc_conn *c)
{
    vrpc_pending *p, *n;

    if (!c)
        return;
    /* RECONNECTING: its thread stops first (no reconnection from now on). */
    if (c->reconnect.hooks && c->reconnect.hooks->close_begin)
        c->reconnect.hooks->close_begin(c, c->reconnect.state);
    /* LOOP: the event thread stops first; from now on the end is CLIENT's. */
    vrpc_loop_close_begin(c);
    if (c->opened != VRPC_CONN_OPENED_NONE && vrpc_conn_get_status(c) == 0) {
        const vrpc_proc *proc = c->opened == VRPC_CONN_OPENED_ADMIN ? &vrpc_pd_admin_connect_close
                                                                    : &vrpc_pd_connect_close;
        /* Polite goodbye; its outcome does not matter. */
        vrpc_conn_call_timeout(c, proc, NULL, NULL, NULL, VRPC_CONN_CLOSE_TIMEOUT_MS);
    }

    pthread_mutex_lock(&c->lock);
    c->closing = true;
    vrpc_conn_fail_locked(
        c, VRPC_E_CLOSED,
        vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, "connection closed by the client"));
    /* Threads still inside (a user error, but survivable) leave first. */
    while (c->users > 0)
        pthread_cond_wait(&c->idle, &c->lock);
    /* HOOKS: e.g. streams the application has not freed yet stay valid,
     * detached. */
    if (c->streams.hooks && c->streams.hooks->closed_locked)
        c->streams.hooks->closed_locked(c, c->streams.state);
    if (c->events.hooks && c->events.hooks->closed_locked)
        c->events.hooks->closed_locked(c, c->events.state);
    pthread_mutex_unlock(&c->lock);

    close_transport(c);
    for (p = c->live; p; p = n) {
        n = p->lnext;
        pending_free(p);
    }
    c->live = NULL;
    vrpc_loop_fini(c); /* LOOP: reports the close, releases the callbacks */
    if (c->events.hooks && c->events.hooks->fini)
        c->events.hooks->fini(c, c->events.state);
    if (c->reconnect.hooks && c->reconnect.hooks->fini)
        c->reconnect.hooks->fini(c, c->reconnect.state);
    if (c->streams.hooks && c->streams.hooks->fini)
        c->streams.hooks->fini(c, c->streams.state);
    vrpc_proto_fini(&c->proto);
    vrpc_free(c->fatal);
    vrpc_free(c->uri);
    vrpc_free(c->open_name);
    vrpc_free(c->socket_path);
    if (c->wake_rd >= 0)
        close(c->wake_rd);
    if (c->wake_wr >= 0 && c->wake_wr != c->wake_rd)
        close(c->wake_wr);
    pthread_cond_destroy(&c->idle);
    pthread_cond_destroy(&c->up);
    pthread_condattr_destroy(&c->condattr);
    pthread_mutex_destroy(&c->lock);
    vrpc_free(c);
}

int vrpc_conn_push_layer(vrpc_conn *c, vrpc_layer_wrap wrap, void *ctx, vrpc_error **err)
{
    vrpc_transport *layer = NULL;
    size_t buffered = 0;
    int rc;

    pthread_mutex_lock(&c->lock);
    if (c->tr && c->tr->ops->pending)
        buffered = c->tr->ops->pending(c->tr);
    if (c->status || !c->tr) {
        rc = c->status ? c->status : VRPC_E_CLOSED;
        if (err)
            *err = c->fatal ? vrpc_error_dup(c->fatal, NULL)
                            : vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, "connection is closed");
    } else if (c->io_owner || c->proto.out_head || c->proto.calls.count) {
        rc = VRPC_E_INVALID;
        vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                       "internal error: a transport layer cannot be installed while calls are "
                       "in flight");
    } else if (vrpc_proto_in_buffered(&c->proto) || buffered) {
        /* Bytes that arrived before the layer: the daemon sent something
         * unasked, which it never does at this point of the open sequence. */
        rc = VRPC_E_PROTO;
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_RPC,
                       "the daemon sent %zu unexpected bytes before the %s layer was installed",
                       vrpc_proto_in_buffered(&c->proto) + buffered, "security");
    } else {
        rc = wrap(c->tr, ctx, &layer, err);
        if (rc == 0)
            c->tr = layer;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- reconnecting ---- */

void vrpc_conn_reconnect_end(vrpc_conn *c)
{
    pthread_mutex_lock(&c->lock);
    if (c->reconnecting) {
        c->reconnecting = false;
        pthread_cond_broadcast(&c->up);
        vrpc_loop_notify_locked(c); /* LOOP: the close is reported now */
    }
    pthread_mutex_unlock(&c->lock);
}

int vrpc_conn_adopt(vrpc_conn *c, vrpc_conn *donor, vrpc_error **err)
{
    vrpc_transport *tr = NULL;
    vrpc_proto fresh;
    vrpc_pending *p;
    uint32_t serial;
    int opened = 0;

    pthread_mutex_lock(&donor->lock);
    if (donor->status == 0 && donor->tr && !donor->io_owner && !donor->proto.out_head &&
        !donor->proto.calls.count && !vrpc_proto_in_buffered(&donor->proto) &&
        !(donor->tr->ops->pending && donor->tr->ops->pending(donor->tr))) {
        tr = donor->tr;
        opened = donor->opened;
    }
    pthread_mutex_unlock(&donor->lock);
    if (!tr) {
        vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                       "internal error: the new connection is not idle");
        return VRPC_E_INVALID;
    }
    if (vrpc_proto_init(&fresh, &conn_cbs, c)) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory reconnecting");
        return VRPC_E_NOMEM;
    }
    pthread_mutex_lock(&c->lock);
    /* An I/O owner woken by the failure leaves poll() and closes the old
     * transport: wait for it (it does not wait for anything). */
    while (c->io_owner && c->reconnecting && !c->closing && !c->no_reconnect) {
        struct timespec ts = {0, 1000000};
        pthread_mutex_unlock(&c->lock);
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&c->lock);
    }
    if (!c->reconnecting || c->closing || c->no_reconnect || c->status == 0) {
        pthread_mutex_unlock(&c->lock);
        vrpc_proto_fini(&fresh);
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_RPC, "the connection is being closed");
        return VRPC_E_CLOSED;
    }
    /* Handles not collected yet keep the reason of their failure. */
    for (p = c->live; p; p = p->lnext)
        if (p->call.state == VRPC_CALL_DONE && p->call.rc && p->call.rc != VRPC_E_REMOTE &&
            !p->call.err && c->fatal)
            p->call.err = vrpc_error_dup(c->fatal, NULL);
    close_transport(c);
    serial = c->proto.next_serial;
    vrpc_proto_fini(&c->proto);
    c->proto = fresh;
    c->proto.next_serial = serial;
    pthread_mutex_lock(&donor->lock);
    donor->tr = NULL;
    donor->opened = VRPC_CONN_OPENED_NONE;
    pthread_mutex_unlock(&donor->lock);
    c->tr = tr;
    if (c->opened != opened) /* read without the lock elsewhere: written only if it changes */
        c->opened = opened;
    c->status = 0;
    vrpc_free(c->fatal);
    c->fatal = NULL;
    c->generation++;
    c->reconnecting = false;
    if (c->wake_signaled)
        drain_wake(c);
    vrpc_loop_revived_locked(c); /* LOOP: a new socket for event loops */
    pthread_cond_broadcast(&c->up);
    pthread_mutex_unlock(&c->lock);
    return 0;
}
