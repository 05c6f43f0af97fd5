/* SPDX-License-Identifier: MIT */
/*
 * The connection: one socket shared by any number of threads.
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
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "auth.h"
#include "conn-internal.h"
#include "error.h"
#include "stream-internal.h"
#include "tcp.h"
#include "tls.h"
#include "transport-cmd.h"
#include "uri.h"

#define RPC_ERR(...) vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, __VA_ARGS__)

static void close_transport(vrpc_conn *c);
static int flush_out(vrpc_conn *c);

/* ---- the serial -> pending map ---- */

static size_t pmap_home(const vrpc_pmap *m, uint32_t serial)
{
    return (size_t)((serial * 2654435769u) >> (32 - m->bits));
}

static int pmap_init(vrpc_pmap *m, unsigned int bits)
{
    m->bits = bits;
    m->cap = (size_t)1 << bits;
    m->count = 0;
    m->slots = vrpc_calloc(m->cap, sizeof(*m->slots));
    return m->slots ? 0 : VRPC_E_NOMEM;
}

static vrpc_pending *pmap_get(const vrpc_pmap *m, uint32_t serial)
{
    size_t mask = m->cap - 1, i = pmap_home(m, serial);
    while (m->slots[i]) {
        if (m->slots[i]->serial == serial)
            return m->slots[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

static void pmap_insert_slot(vrpc_pmap *m, vrpc_pending *p)
{
    size_t mask = m->cap - 1, i = pmap_home(m, p->serial);
    while (m->slots[i])
        i = (i + 1) & mask;
    m->slots[i] = p;
    m->count++;
}

static int pmap_put(vrpc_pmap *m, vrpc_pending *p)
{
    if ((m->count + 1) * 2 > m->cap) {
        vrpc_pmap n;
        size_t i;
        if (m->bits >= 31 || pmap_init(&n, m->bits + 1))
            return VRPC_E_NOMEM;
        for (i = 0; i < m->cap; i++)
            if (m->slots[i])
                pmap_insert_slot(&n, m->slots[i]);
        vrpc_free(m->slots);
        *m = n;
    }
    pmap_insert_slot(m, p);
    return 0;
}

static void pmap_del(vrpc_pmap *m, vrpc_pending *p)
{
    size_t mask = m->cap - 1, i = pmap_home(m, p->serial), j;

    while (m->slots[i] != p) {
        if (!m->slots[i])
            return;
        i = (i + 1) & mask;
    }
    m->slots[i] = NULL;
    m->count--;
    /* Backward-shift the entries of the probe run behind the hole. */
    j = i;
    for (;;) {
        size_t k;
        bool stays;
        j = (j + 1) & mask;
        if (!m->slots[j])
            break;
        k = pmap_home(m, m->slots[j]->serial);
        /* The entry may stay at j iff its home lies cyclically in (i, j]. */
        if (i <= j)
            stays = i < k && k <= j;
        else
            stays = k > i || k <= j;
        if (!stays) {
            m->slots[i] = m->slots[j];
            m->slots[j] = NULL;
            i = j;
        }
    }
}

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
    close_fds(p->fds, p->nfds);
    vrpc_free(p->fds);
    vrpc_free(p->buf);
    vrpc_free(p->err);
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
    p->state = VRPC_PENDING_DONE;
    if (p->discarded)
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
        if (w->state != VRPC_PENDING_DONE) {
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
    if (c->status == 0 && c->tr && c->out_head && c->out_dirty)
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

static void outmsg_free(vrpc_outmsg *m)
{
    if (!m->data_inline)
        vrpc_free(m->data);
    if (m->fds) {
        close_fds(m->fds + m->fds_sent, m->nfds - m->fds_sent);
        vrpc_free(m->fds);
    }
    vrpc_free(m);
}

static void free_outq(vrpc_conn *c)
{
    vrpc_outmsg *m = c->out_head, *n;
    for (; m; m = n) {
        n = m->next;
        outmsg_free(m);
    }
    c->out_head = c->out_tail = NULL;
    c->out_bytes = 0;
}

void vrpc_conn_fail_locked(vrpc_conn *c, int code, vrpc_error *e)
{
    size_t i;

    if (c->status) {
        vrpc_free(e);
        return;
    }
    if (code >= 0)
        code = VRPC_E_IO;
    c->status = code;
    c->fatal = e ? e : RPC_ERR("connection failed: %s", vrpc_strerror(code));
    for (i = 0; i < c->pending.cap; i++) {
        vrpc_pending *p = c->pending.slots[i];
        if (!p)
            continue;
        c->pending.slots[i] = NULL;
        p->rc = code;
        pending_complete(p);
    }
    c->pending.count = 0;
    if (c->fd_target) {
        vrpc_pending *p = c->fd_target;
        c->fd_target = NULL;
        p->rc = code;
        pending_complete(p);
    }
    close_fds(c->rx_fds, c->rx_nfds);
    c->rx_nfds = 0;
    free_outq(c);
    c->in_len = 0;
    c->skip_carriers = 0;
    /* Waits that are not for a reply (streams, output space) learn it too. */
    for (vrpc_pending *w = c->waiters_head; w; w = w->wnext)
        pthread_cond_signal(&w->cond);
    /* LOOP: the close reason; event loops and vrpc_conn_wait() learn it. */
    vrpc_loop_failed_locked(c);
    if (c->polling)
        wake_owner(c); /* the owner closes the transport when poll() returns */
    else
        close_transport(c);
}

/* ---- output ---- */

static void enqueue(vrpc_conn *c, vrpc_outmsg *m)
{
    m->next = NULL;
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += m->len - m->off;
    c->out_dirty = true;
}

int vrpc_conn_queue_locked(vrpc_conn *c, uint8_t *data, size_t len)
{
    vrpc_outmsg *m;
    if (c->status) {
        vrpc_free(data);
        return c->status;
    }
    m = vrpc_calloc(1, sizeof(*m));
    if (!m) {
        vrpc_free(data);
        return VRPC_E_NOMEM;
    }
    m->data = data;
    m->len = len;
    enqueue(c, m);
    if (c->io_owner)
        wake_owner(c);
    else
        vrpc_loop_output_locked(c); /* LOOP: an event loop wants POLLOUT now */
    return 0;
}

static int queue_pong(vrpc_conn *c)
{
    vrpc_outmsg *m = c->out_tail;
    vrpc_msg_header h;

    /* A PONG still waiting unsent at the end of the queue answers this PING
     * too: a daemon that floods PINGs and reads nothing cannot make the
     * queue grow without bound. */
    if (m && m->data_inline && m->off == 0 && m->len == VRPC_MSG_PACKET_MIN) {
        vrpc_msg_header_get(m->data + VRPC_MSG_LEN_SIZE, &h);
        if (h.prog == VRPC_MSG_KEEPALIVE_PROG && h.proc == VRPC_MSG_KEEPALIVE_PONG)
            return 0;
    }
    m = vrpc_calloc(1, sizeof(*m) + VRPC_MSG_PACKET_MIN);
    if (!m)
        return VRPC_E_NOMEM;
    m->data = (uint8_t *)(m + 1);
    m->data_inline = true;
    m->len = VRPC_MSG_PACKET_MIN;
    vrpc_msg_keepalive(m->data, VRPC_MSG_KEEPALIVE_PONG);
    enqueue(c, m);
    return 0;
}

/* Wake the threads waiting for the output queue to shrink to their limit. */
static void wake_space_waiters(vrpc_conn *c)
{
    vrpc_pending **pp = &c->space_waiters;
    while (*pp) {
        vrpc_pending *w = *pp;
        if (c->status || c->out_bytes <= w->space_limit) {
            *pp = w->snext;
            w->snext = NULL;
            w->state = VRPC_PENDING_DONE;
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
    c->out_dirty = false;
    while (c->out_head && c->tr) {
        vrpc_outmsg *m = c->out_head;
        vrpc_error *e = NULL;
        if (m->off < m->len) {
            ssize_t n = c->tr->ops->write(c->tr, m->data + m->off, m->len - m->off, &e);
            if (n == VRPC_E_AGAIN)
                break;
            if (n < 0) {
                if (n == VRPC_E_CLOSED)
                    vrpc_error_prefix(&e, "connection closed by the daemon");
                vrpc_conn_fail_locked(c, (int)n, e);
                return (int)n;
            }
            m->off += (size_t)n;
            c->out_bytes -= (size_t)n;
        }
        /* FD PASSING: each descriptor with its own 1-byte carrier, after
         * the whole message (as libvirt sends them). */
        while (m->off == m->len && m->fds_sent < m->nfds) {
            int r = c->tr->ops->send_fd(c->tr, m->fds[m->fds_sent], &e);
            if (r == VRPC_E_AGAIN)
                break;
            if (r < 0) {
                vrpc_conn_fail_locked(c, r, e);
                return r;
            }
            close(m->fds[m->fds_sent]);
            m->fds_sent++;
        }
        if (m->off < m->len || m->fds_sent < m->nfds)
            break;
        c->out_head = m->next;
        if (!c->out_head)
            c->out_tail = NULL;
        outmsg_free(m);
    }
    wake_space_waiters(c);
    return 0;
}

/* ---- input ---- */

static int fail_proto(vrpc_conn *c, vrpc_error *e)
{
    vrpc_conn_fail_locked(c, VRPC_E_PROTO, e);
    return VRPC_E_PROTO;
}

/*
 * A reply: complete its call. When the packet fills the whole input buffer
 * (whole) and its payload is big, the buffer itself is handed to the call
 * (saving a copy) and *stolen is set.
 */
static int dispatch_reply(vrpc_conn *c, vrpc_packet *pkt, bool whole, bool *stolen)
{
    const vrpc_msg_header *h = &pkt->hdr;
    vrpc_pending *p = pmap_get(&c->pending, h->serial);
    vrpc_error *e = NULL;

    /* STREAMS: libvirtd answers a failed STREAM_HOLE packet with a REPLY
     * carrying the stream's serial; it is the stream's error. */
    if (!p && h->type == VRPC_MSG_REPLY && h->status == VRPC_MSG_ERROR &&
        vrpc_stream_take_reply_error_locked(c, h->prog, h->vers, h->serial, pkt->payload,
                                            pkt->payload_len))
        return 0;
    if (!p || p->proc->program != h->prog || p->proc->version != h->vers)
        return fail_proto(c, RPC_ERR("no call waiting for reply with prog 0x%x vers %u serial "
                                     "%u (proc %d)",
                                     h->prog, h->vers, h->serial, h->proc));
    pmap_del(&c->pending, p);

    if (h->type == VRPC_MSG_REPLY_WITH_FDS) {
        uint32_t nfds;
        if (vrpc_msg_take_nfds(pkt, &nfds, &e)) {
            p->rc = VRPC_E_PROTO;
            pending_complete(p);
            return fail_proto(c, e);
        }
        /* FD PASSING: the nfds descriptors arrive with the 1-byte carriers
         * that follow this packet; the call completes once they are in. */
        if (nfds) {
            p->fds = vrpc_malloc(nfds * sizeof(int));
            p->fds_want = nfds;
            c->skip_carriers += nfds;
            c->fd_target = p;
        }
    }

    if (h->proc != p->proc->number) {
        p->rc = VRPC_E_PROTO;
        p->err = RPC_ERR("the reply to %s (serial %u) is for procedure %d", p->proc->name,
                         p->serial, h->proc);
    } else if (h->status == VRPC_MSG_OK || h->status == VRPC_MSG_ERROR) {
        p->rc = h->status == VRPC_MSG_OK ? 0 : VRPC_E_REMOTE;
        if (p->discarded) {
            /* dropped below */
        } else if (whole && pkt->payload_len >= VRPC_CONN_IN_CHUNK) {
            /* A big reply that fills the read buffer: hand the buffer over. */
            p->buf = c->in;
            p->off = (size_t)(pkt->payload - c->in);
            p->len = pkt->payload_len;
            c->in = NULL;
            c->in_cap = 0;
            *stolen = true;
        } else if (pkt->payload_len) {
            p->buf = vrpc_malloc(pkt->payload_len);
            if (!p->buf) {
                p->rc = VRPC_E_NOMEM;
            } else {
                memcpy(p->buf, pkt->payload, pkt->payload_len);
                p->len = pkt->payload_len;
            }
        }
    } else {
        p->rc = VRPC_E_PROTO;
        p->err = RPC_ERR("the reply to %s (serial %u) has unexpected status %d", p->proc->name,
                         p->serial, h->status);
    }
    if (c->fd_target != p)
        pending_complete(p);
    return 0;
}

/* Route one packet. whole, stolen: see dispatch_reply. */
static int dispatch(vrpc_conn *c, vrpc_packet *pkt, bool whole, bool *stolen)
{
    const vrpc_msg_header *h = &pkt->hdr;
    vrpc_error *e = NULL;
    char tbuf[32];
    int rc;

    if (h->prog == VRPC_MSG_KEEPALIVE_PROG) {
        /* Answer every PING at once; PONGs and anything else are consumed. */
        if (h->type == VRPC_MSG_MESSAGE && h->vers == VRPC_MSG_KEEPALIVE_VERS &&
            h->proc == VRPC_MSG_KEEPALIVE_PING && queue_pong(c)) {
            vrpc_conn_fail_locked(c, VRPC_E_NOMEM,
                                  vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                                                 "out of memory queueing a keepalive PONG"));
            return VRPC_E_NOMEM;
        }
        return 0;
    }

    switch (h->type) {
    case VRPC_MSG_REPLY:
    case VRPC_MSG_REPLY_WITH_FDS:
        return dispatch_reply(c, pkt, whole, stolen);
    case VRPC_MSG_MESSAGE:
        /* EVENTS HOOK: events (serial ignored, as libvirtd sends 1). */
        if (c->on_event) {
            rc = c->on_event(c, pkt, c->on_event_opaque, &e);
            if (rc)
                vrpc_conn_fail_locked(c, rc, e);
            return rc;
        }
        return 0;
    case VRPC_MSG_STREAM:
    case VRPC_MSG_STREAM_HOLE:
        /* STREAMS HOOK: data, holes and finish/abort confirmations. */
        if (c->on_stream) {
            rc = c->on_stream(c, pkt, c->on_stream_opaque, &e);
            if (rc)
                vrpc_conn_fail_locked(c, rc, e);
            return rc;
        }
        return 0;
    case VRPC_MSG_CALL:
    case VRPC_MSG_CALL_WITH_FDS:
        return fail_proto(c, RPC_ERR("the daemon sent a %s (prog 0x%x proc %d serial %u); a "
                                     "client serves no calls",
                                     vrpc_msg_type_name(h->type, tbuf, sizeof(tbuf)), h->prog,
                                     h->proc, h->serial));
    default:
        return fail_proto(c, RPC_ERR("the daemon sent a message of unknown type %d (prog 0x%x "
                                     "proc %d serial %u)",
                                     h->type, h->prog, h->proc, h->serial));
    }
}

/*
 * n carrier bytes were read: each brought one descriptor (in rx_fds, in
 * arrival order); give them to the reply waiting for them, or close them.
 */
static int take_carriers(vrpc_conn *c, uint32_t n)
{
    vrpc_pending *p = c->fd_target;
    while (n--) {
        int fd;
        if (c->rx_nfds == 0)
            return fail_proto(c, RPC_ERR("the daemon sent a file descriptor carrier byte without "
                                         "a descriptor"));
        fd = c->rx_fds[0];
        c->rx_nfds--;
        memmove(c->rx_fds, c->rx_fds + 1, c->rx_nfds * sizeof(int));
        if (p && p->fds && p->nfds < p->fds_want)
            p->fds[p->nfds++] = fd;
        else
            close(fd);
    }
    if (p && !p->fds && p->rc == 0) {
        p->rc = VRPC_E_NOMEM;
        p->err = vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                                "out of memory receiving the descriptors of %s", p->proc->name);
    }
    return 0;
}

/* Dispatch every complete packet in the input buffer. */
static int process_input(vrpc_conn *c)
{
    size_t off = 0;
    bool stolen = false;

    while (c->status == 0 && !stolen) {
        vrpc_packet pkt;
        vrpc_error *e = NULL;
        int rc;

        if (c->skip_carriers) {
            size_t k = c->in_len - off;
            if (k > c->skip_carriers)
                k = c->skip_carriers;
            if (take_carriers(c, (uint32_t)k))
                return c->status;
            off += k;
            c->skip_carriers -= (uint32_t)k;
            if (c->skip_carriers)
                break;
            if (c->fd_target) {
                vrpc_pending *p = c->fd_target;
                c->fd_target = NULL;
                pending_complete(p);
            }
        }
        rc = vrpc_msg_parse(c->in + off, c->in_len - off, &pkt, NULL, &e);
        if (rc == VRPC_E_AGAIN)
            break;
        if (rc)
            return fail_proto(c, e);
        rc = dispatch(c, &pkt, off == 0 && pkt.size == c->in_len, &stolen);
        if (rc)
            return rc;
        off += pkt.size;
    }
    if (c->status)
        return c->status;
    if (stolen) {
        c->in_len = 0;
        return 0;
    }
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    if (c->in_len == 0 && c->in_cap > 4 * VRPC_CONN_IN_CHUNK) {
        vrpc_free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    return 0;
}

/* Make room for the next read: at least the rest of the current packet. */
static int input_reserve(vrpc_conn *c)
{
    size_t need = c->in_len + 1, cap;
    uint8_t *n;

    if (c->in_len >= VRPC_MSG_LEN_SIZE) {
        size_t total = vrpc_get_u32(c->in); /* validated by process_input */
        if (total > need)
            need = total;
    }
    if (c->in_cap >= need && c->in_cap > c->in_len)
        return 0;
    cap = c->in_cap ? c->in_cap : VRPC_CONN_IN_CHUNK;
    while (cap < need)
        cap *= 2;
    if (cap > VRPC_MSG_PACKET_MAX && need <= VRPC_MSG_PACKET_MAX)
        cap = VRPC_MSG_PACKET_MAX;
    n = vrpc_realloc(c->in, cap);
    if (!n)
        return VRPC_E_NOMEM;
    c->in = n;
    c->in_cap = cap;
    return 0;
}

/*
 * Read once (or, with drain, until the socket is empty) and dispatch.
 * Returns 0 or the connection's new error code.
 */
static int read_input(vrpc_conn *c, bool drain)
{
    int rounds = drain ? 64 : 1;

    while (rounds-- > 0 && c->tr && c->status == 0 && vrpc_conn_input_wanted_locked(c)) {
        int fds[VRPC_MSG_FDS_MAX];
        size_t nfds = 0, i;
        bool overflow = false;
        vrpc_error *e = NULL;
        ssize_t n;
        int rc;

        if (input_reserve(c)) {
            vrpc_conn_fail_locked(c, VRPC_E_NOMEM,
                                  vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                                                 "out of memory for the read buffer"));
            return VRPC_E_NOMEM;
        }
        n = c->tr->ops->read(c->tr, c->in + c->in_len, c->in_cap - c->in_len, fds, &nfds,
                             VRPC_MSG_FDS_MAX, &e);
        /* FD PASSING: descriptors wait in rx_fds for their carrier bytes. */
        for (i = 0; i < nfds; i++) {
            if (c->rx_nfds < sizeof(c->rx_fds) / sizeof(c->rx_fds[0])) {
                c->rx_fds[c->rx_nfds++] = fds[i];
            } else {
                close(fds[i]);
                overflow = true;
            }
        }
        if (overflow) {
            vrpc_free(e);
            return fail_proto(c, RPC_ERR("the daemon sent more file descriptors than replies "
                                         "announced"));
        }
        if (n == VRPC_E_AGAIN)
            return 0;
        if (n < 0) {
            vrpc_conn_fail_locked(c, (int)n, e);
            return (int)n;
        }
        if (n == 0) {
            if (c->in_len)
                e = vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC,
                                   "connection closed by the daemon in the middle of a packet "
                                   "(%zu bytes received)",
                                   c->in_len);
            else if (c->skip_carriers)
                e = vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC,
                                   "connection closed by the daemon before %u announced file "
                                   "descriptors arrived",
                                   c->skip_carriers);
            else
                e = vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, "connection closed by the daemon");
            vrpc_conn_fail_locked(c, VRPC_E_CLOSED, e);
            return VRPC_E_CLOSED;
        }
        c->in_len += (size_t)n;
        vrpc_ka_rx_locked(c); /* KEEPALIVE: the daemon is alive */
        rc = process_input(c);
        if (rc)
            return rc;
        if (c->rx_nfds > c->skip_carriers)
            return fail_proto(c, RPC_ERR("the daemon sent a file descriptor without a reply "
                                         "announcing it"));
        if (!drain && c->tr && c->tr->ops->pending && c->tr->ops->pending(c->tr))
            rounds = 1;
    }
    return c->status;
}

/* One non-blocking pass: write what can be written, read what is there. */
static int io_pass(vrpc_conn *c)
{
    if (c->status == 0 && c->out_head)
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
    if (c->status == 0 && c->out_head)
        flush_out(c);
    if (c->status && c->tr)
        close_transport(c);
    return c->status;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The I/O owner's loop: until p is done, the connection fails or the
 * deadline (ms on CLOCK_MONOTONIC, < 0: none) passes.
 */
static int io_loop(vrpc_conn *c, vrpc_pending *p, int64_t deadline)
{
    while (p->state != VRPC_PENDING_DONE && c->status == 0) {
        struct pollfd pfd[2];
        short want, asked;
        int n, timeout = -1, saved;
        int64_t ka;

        if (c->out_head && c->out_dirty) {
            flush_out(c);
            continue;
        }
        if (c->tr->ops->pending && c->tr->ops->pending(c->tr) && vrpc_conn_input_wanted_locked(c)) {
            read_input(c, false);
            continue;
        }
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return VRPC_E_TIMEOUT;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        /* KEEPALIVE: send a PING or give up on a silent daemon, and wake up
         * in time for the next deadline. */
        vrpc_ka_tick_locked(c);
        if (c->status)
            break;
        if (c->out_head && c->out_dirty)
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
        if (c->out_head)
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
        if ((pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) && c->out_head)
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

    while (p->state != VRPC_PENDING_DONE) {
        if (c->status && !p->discarded) {
            /* Not in the map any more (it was failed with the others). */
            p->rc = c->status;
            p->state = VRPC_PENDING_DONE;
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
        if (rc == ETIMEDOUT && p->state != VRPC_PENDING_DONE) {
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
    const vrpc_proc *proc = p->proc;
    vrpc_error *e = NULL;
    int rc = p->rc;

    live_remove(c, p);
    if (rc != 0 && rc != VRPC_E_REMOTE && !p->err && err && c->fatal)
        p->err = vrpc_error_dup(c->fatal, NULL);
    users_leave(c);
    pthread_mutex_unlock(&c->lock);

    if (rc == 0) {
        if (ret && proc->ret) {
            int drc = vrpc_xdr_decode(proc->ret, p->buf ? p->buf + p->off : no_bytes, p->len, ret);
            if (drc) {
                rc = drc == VRPC_E_NOMEM ? VRPC_E_NOMEM : VRPC_E_PROTO;
                e = RPC_ERR("cannot decode the reply to %s (serial %u, %zu bytes): %s", proc->name,
                            p->serial, p->len, vrpc_strerror(drc));
            }
        } else if (!proc->ret && p->len) {
            rc = VRPC_E_PROTO;
            e = RPC_ERR("the reply to %s (serial %u) carries %zu bytes but the procedure returns "
                        "nothing",
                        proc->name, p->serial, p->len);
        }
        if (rc == 0 && fds && p->nfds) {
            /* FD PASSING: the caller owns the descriptors from now on. */
            *fds = p->fds;
            *nfds = p->nfds;
            p->fds = NULL;
            p->nfds = 0;
        }
    } else if (rc == VRPC_E_REMOTE) {
        rc = vrpc_msg_decode_error(p->buf ? p->buf + p->off : no_bytes, p->len, &e);
    } else {
        e = p->err;
        p->err = NULL;
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

static int send_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, const vrpc_call_opts *o,
                     bool force, vrpc_pending **out, vrpc_error **err)
{
    vrpc_buf b = {0};
    vrpc_outmsg *m;
    vrpc_pending *p;
    int *dfds = NULL;
    size_t nfds = o ? o->nfds : 0;
    int rc;

    if (!c || !proc || !out) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_call_send: connection, procedure and result pointer are required");
        return VRPC_E_INVALID;
    }
    *out = NULL;
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
    m = vrpc_calloc(1, sizeof(*m));
    p = vrpc_calloc(1, sizeof(*p));
    if (!m || !p) {
        vrpc_free(m);
        vrpc_free(p);
        vrpc_buf_reset(&b);
        close_fds(dfds, (uint32_t)nfds);
        vrpc_free(dfds);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory sending %s",
                       proc->name);
        return VRPC_E_NOMEM;
    }
    m->data = b.data;
    m->len = b.len;
    m->fds = dfds;
    m->nfds = (uint32_t)nfds;
    p->proc = proc;

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
    if (!force && c->out_head && c->out_bytes + m->len > VRPC_CONN_OUT_MAX) {
        rc = VRPC_E_AGAIN;
        vrpc_error_set(err, VRPC_ERR_OPERATION_FAILED, VRPC_FROM_RPC,
                       "more than %zu bytes of calls are queued; collect replies first",
                       VRPC_CONN_OUT_MAX);
        goto fail;
    }
    do
        p->serial = c->next_serial++;
    while (pmap_get(&c->pending, p->serial));
    if (pmap_put(&c->pending, p)) {
        rc = VRPC_E_NOMEM;
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory sending %s",
                       proc->name);
        goto fail;
    }
    if (o && o->bind && (rc = o->bind(c, p->serial, o->bind_opaque, err)) != 0) {
        pmap_del(&c->pending, p);
        goto fail;
    }
    vrpc_msg_set_serial(m->data, p->serial);
    live_add(c, p);
    enqueue(c, m);
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
    outmsg_free(m);
    return rc;
}

int vrpc_call_send(vrpc_conn *c, const vrpc_proc *proc, const void *args, vrpc_pending **out)
{
    return send_call(c, proc, args, NULL, false, out, NULL);
}

int vrpc_conn_send_opts(vrpc_conn *c, const vrpc_proc *proc, const void *args,
                        const vrpc_call_opts *o, bool force, vrpc_pending **out, vrpc_error **err)
{
    return send_call(c, proc, args, o, force, out, err);
}

static int wait_common(vrpc_conn *c, vrpc_pending *p, void **ret, int **fds, size_t *nfds,
                       vrpc_error **err, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
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
        p->discarded = true;
        vrpc_error_set(err, VRPC_ERR_OPERATION_TIMEOUT, VRPC_FROM_RPC,
                       "no reply to %s (serial %u) within %d ms", p->proc->name, p->serial,
                       timeout_ms);
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
                           int timeout_ms)
{
    return wait_common(c, p, ret, NULL, NULL, err, timeout_ms);
}

void vrpc_conn_shutdown(vrpc_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    vrpc_conn_fail_locked(
        c, VRPC_E_CLOSED,
        vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, "connection shut down by the client"));
    pthread_mutex_unlock(&c->lock);
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
    if (p->state != VRPC_PENDING_DONE && !c->io_owner && c->status == 0) {
        c->io_owner = true;
        io_pass(c);
        release_io(c);
    }
    if (p->state != VRPC_PENDING_DONE) {
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
    if (p->state == VRPC_PENDING_DONE)
        pending_free(p);
    else
        p->discarded = true;
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
    return p ? p->serial : 0;
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

int64_t vrpc_conn_now_ms(void)
{
    return now_ms();
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
    w->state = VRPC_PENDING_SENT;
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
    w->state = VRPC_PENDING_DONE;
    if (w->waiting)
        pthread_cond_signal(&w->cond);
}

int vrpc_conn_wait_space_locked(vrpc_conn *c, size_t limit, int64_t deadline)
{
    vrpc_pending w, **pp;
    int rc;

    if (c->status || c->out_bytes <= limit)
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
    } else if (c->out_head) {
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
    return c->rx_full == 0 || c->rx_full_override || c->rx_waiters > 0 || c->pending.count > 0 ||
           c->fd_target != NULL;
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
    if (pmap_init(&c->pending, 6)) {
        vrpc_free(c);
        goto nomem;
    }
    if ((e = pthread_mutex_init(&c->lock, NULL)) != 0) {
        vrpc_free(c->pending.slots);
        vrpc_free(c);
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, e, "pthread_mutex_init");
        tr->ops->close(tr);
        return VRPC_E_NOMEM;
    }
    pthread_condattr_init(&c->condattr);
    pthread_condattr_setclock(&c->condattr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->idle, NULL);
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

int vrpc_conn_new_fd(vrpc_conn **out, int fd)
{
    vrpc_transport *tr;
    int rc;
    if (!out) {
        if (fd >= 0)
            close(fd);
        return VRPC_E_INVALID;
    }
    *out = NULL;
    rc = vrpc_transport_fd_new(fd, &tr, NULL);
    if (rc)
        return rc;
    return vrpc_conn_create(tr, out, NULL);
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
    /* Streams the application has not freed yet stay valid, detached. */
    vrpc_stream_conn_closed_locked(c);
    pthread_mutex_unlock(&c->lock);

    close_transport(c);
    for (p = c->live; p; p = n) {
        n = p->lnext;
        pending_free(p);
    }
    c->live = NULL;
    free_outq(c);
    vrpc_loop_fini(c); /* LOOP: reports the close, releases the callbacks */
    vrpc_free(c->pending.slots);
    vrpc_free(c->in);
    vrpc_free(c->fatal);
    vrpc_free(c->uri);
    vrpc_free(c->open_name);
    vrpc_free(c->socket_path);
    if (c->wake_rd >= 0)
        close(c->wake_rd);
    if (c->wake_wr >= 0 && c->wake_wr != c->wake_rd)
        close(c->wake_wr);
    pthread_cond_destroy(&c->idle);
    pthread_condattr_destroy(&c->condattr);
    pthread_mutex_destroy(&c->lock);
    vrpc_free(c);
}

/* ---- the open sequence ---- */

/* TRANSPORTS: the one place that knows which transport a target needs. */
static int connect_transport(const vrpc_target *t, vrpc_transport **tr, vrpc_error **err)
{
    switch (t->transport) {
    case VRPC_TRANSPORT_UNIX:
        return vrpc_transport_unix_open(t, tr, err); /* with session daemon autostart */
    case VRPC_TRANSPORT_TCP:
        return vrpc_transport_tcp_connect(t->host, t->port, -1, tr, err);
    case VRPC_TRANSPORT_TLS:
        return vrpc_transport_tls_connect_target(t, tr, err);
    case VRPC_TRANSPORT_SSH:
    case VRPC_TRANSPORT_LIBSSH:
    case VRPC_TRANSPORT_LIBSSH2:
        return vrpc_transport_ssh_connect(t, tr, err); /* libssh, libssh2: refused there */
    case VRPC_TRANSPORT_EXT:
        return vrpc_transport_ext_connect(t, tr, err);
    default:
        vrpc_error_set(err, VRPC_ERR_NO_SUPPORT, VRPC_FROM_REMOTE,
                       "transport %s is not supported yet", vrpc_transport_kind_name(t->transport));
        return VRPC_E_UNSUPPORTED;
    }
}

/*
 * A child-process transport (ssh, ext) whose child exits before the daemon
 * said anything fails the first call, AUTH_LIST, with a "connect" error.
 */
static bool failed_connecting(const vrpc_error *e)
{
    return e && e->str1 && strcmp(e->str1, "connect") == 0;
}

/*
 * AUTH_LIST, then the method, as libvirt's remoteAuthenticate(): an empty
 * list (or a daemon without AUTH_LIST) means none; auth=sasl, sasl.MECH or
 * polkit must be in the list (else libvirt's "requested authentication
 * type ... rejected"); without auth= the daemon's first type, or none when
 * it is offered at all (libvirtd only ever sends one).
 * A daemon error is passed on exactly as sent, with VRPC_E_AUTH; a local
 * one is tagged with the step "authentication" (vrpc_open_failed_step()).
 */
static int remote_authenticate(vrpc_conn *c, const vrpc_target *t, vrpc_auth_cb cb, void *userdata,
                               vrpc_error **err)
{
    vrpc_auth_list_ret *ret = NULL;
    vrpc_error *e = NULL;
    int32_t chosen = VRPC_AUTH_NONE, wanted = -1;
    uint32_t i, n;
    int rc;

    rc = vrpc_call(c, &vrpc_pd_auth_list, NULL, (void **)&ret, &e);
    if (rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT) {
        /* A daemon older than authentication: nothing to do. */
        vrpc_free(e);
        return 0;
    }
    if (rc) {
        if (rc != VRPC_E_REMOTE && !failed_connecting(e))
            vrpc_error_prefix(&e, "AUTH_LIST");
        goto out;
    }
    n = ret->types.n;
    if (n == 0)
        goto out;
    if (t->auth) {
        if (strcasecmp(t->auth, "sasl") == 0 || strncasecmp(t->auth, "sasl.", 5) == 0)
            wanted = VRPC_AUTH_SASL;
        else if (strcasecmp(t->auth, "polkit") == 0)
            wanted = VRPC_AUTH_POLKIT;
        else {
            vrpc_error_set(&e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                           "authentication failed: unknown authentication type %s", t->auth);
            rc = VRPC_E_AUTH;
            goto out;
        }
        for (i = 0; i < n && ret->types.items[i] != wanted; i++)
            ;
        if (i == n) {
            vrpc_error_set(&e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                           "authentication failed: requested authentication type %s rejected",
                           t->auth);
            rc = VRPC_E_AUTH;
            goto out;
        }
        chosen = wanted;
    } else {
        chosen = ret->types.items[0];
        for (i = 0; i < n; i++)
            if (ret->types.items[i] == VRPC_AUTH_NONE)
                chosen = VRPC_AUTH_NONE;
    }

    switch (chosen) {
    case VRPC_AUTH_NONE:
        break;
    case VRPC_AUTH_SASL:
        rc = vrpc_sasl_authenticate(
            c, t, t->auth && strncasecmp(t->auth, "sasl.", 5) == 0 ? t->auth + 5 : NULL, cb,
            userdata, &e);
        break;
    case VRPC_AUTH_POLKIT:
        rc = vrpc_polkit_authenticate(c, &e);
        break;
    default:
        vrpc_error_set(&e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                       "authentication failed: unsupported authentication type %d", chosen);
        rc = VRPC_E_AUTH;
        break;
    }

out:
    vrpc_free(ret);
    if (rc == VRPC_E_REMOTE) {
        rc = VRPC_E_AUTH; /* the daemon's error, untouched */
    } else if (failed_connecting(e)) {
        /* the connect step, named by the transport */
    } else if (rc && e) {
        /* libvirt's own messages stay as they are; ours name the step. */
        const char *m = e->message ? e->message : "";
        if (strncmp(m, "authentication", 14) != 0 && strncmp(m, "internal error: ", 16) != 0 &&
            strncmp(m, "configuration file syntax error: ", 33) != 0)
            vrpc_error_prefix(&e, "authentication");
        vrpc_error_set_step(&e, "authentication");
    }
    vrpc_error_move(err, &e);
    return rc;
}

static int open_common(const vrpc_target *t, vrpc_conn **cp, vrpc_error **err)
{
    vrpc_transport *tr = NULL;
    vrpc_error *e = NULL;
    vrpc_conn *c;
    int rc;

    rc = connect_transport(t, &tr, &e);
    if (rc) {
        /* A transport error tagged with its own step (resolve, handshake,
         * certificate check) already starts with it. */
        if (e && !e->str1) {
            vrpc_error_prefix(&e, "connect");
            vrpc_error_set_step(&e, "connect");
        }
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = vrpc_conn_create(tr, &c, &e);
    if (rc) {
        vrpc_error_prefix(&e, "connect");
        vrpc_error_set_step(&e, "connect");
        vrpc_error_move(err, &e);
        return rc;
    }
    if ((t->uri_str && !(c->uri = vrpc_strdup(t->uri_str))) ||
        (t->name && !(c->open_name = vrpc_strdup(t->name))) ||
        (t->socket_path && !(c->socket_path = vrpc_strdup(t->socket_path)))) {
        vrpc_conn_close(c);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "connect: out of memory");
        if (err)
            vrpc_error_set_step(err, "connect");
        return VRPC_E_NOMEM;
    }
    *cp = c;
    return 0;
}

int vrpc_conn_open(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_error **err)
{
    return vrpc_conn_open_auth(out, uri, flags, NULL, NULL, err);
}

int vrpc_conn_open_auth(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_auth_cb cb,
                        void *userdata, vrpc_error **err)
{
    vrpc_connect_open_args args;
    vrpc_target *t = NULL;
    vrpc_error *e = NULL;
    vrpc_conn *c = NULL;
    int rc;

    if (!out) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_REMOTE, "vrpc_conn_open: out is NULL");
        if (err)
            vrpc_error_set_step(err, "resolve");
        return VRPC_E_INVALID;
    }
    *out = NULL;
    rc = vrpc_remote_resolve(uri, flags, NULL, &t, &e);
    if (rc) {
        vrpc_error_prefix(&e, "resolve");
        vrpc_error_set_step(&e, "resolve");
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = open_common(t, &c, err);
    if (rc)
        goto out;
    rc = remote_authenticate(c, t, cb, userdata, err);
    if (rc)
        goto out;
    memset(&args, 0, sizeof(args));
    args.name = t->name;
    args.flags = t->readonly ? 1 : 0;
    rc = vrpc_call(c, &vrpc_pd_connect_open, &args, NULL, &e);
    if (rc) {
        /* A daemon error is passed on exactly as sent; local failures say the step. */
        if (rc != VRPC_E_REMOTE) {
            vrpc_error_prefix(&e, "open: CONNECT_OPEN '%s'", t->name);
            vrpc_error_set_step(&e, "open");
        }
        vrpc_error_move(err, &e);
        goto out;
    }
    c->opened = VRPC_CONN_OPENED_REMOTE;
    *out = c;
    c = NULL;
out:
    vrpc_conn_close(c);
    vrpc_target_free(t);
    return rc;
}

int vrpc_conn_open_admin(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_error **err)
{
    vrpc_admin_connect_open_args args;
    vrpc_target *t = NULL;
    vrpc_error *e = NULL;
    vrpc_conn *c = NULL;
    int rc;

    if (!out) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_ADMIN,
                       "vrpc_conn_open_admin: out is NULL");
        if (err)
            vrpc_error_set_step(err, "resolve");
        return VRPC_E_INVALID;
    }
    *out = NULL;
    rc = vrpc_admin_resolve(uri, flags, NULL, &t, &e);
    if (rc) {
        vrpc_error_prefix(&e, "resolve");
        vrpc_error_set_step(&e, "resolve");
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = open_common(t, &c, err);
    if (rc)
        goto out;
    memset(&args, 0, sizeof(args));
    args.flags = 0;
    rc = vrpc_call(c, &vrpc_pd_admin_connect_open, &args, NULL, &e);
    if (rc) {
        /* A daemon error is passed on exactly as sent; local failures say the step. */
        if (rc != VRPC_E_REMOTE) {
            vrpc_error_prefix(&e, "open: ADMIN_CONNECT_OPEN");
            vrpc_error_set_step(&e, "open");
        }
        vrpc_error_move(err, &e);
        goto out;
    }
    c->opened = VRPC_CONN_OPENED_ADMIN;
    *out = c;
    c = NULL;
out:
    vrpc_conn_close(c);
    vrpc_target_free(t);
    return rc;
}

/* ---- where an open failed; transport layers ---- */

const char *vrpc_open_failed_step(int rc, const vrpc_error *err)
{
    static const char *const steps[] = {"resolve",           "connect",        "handshake",
                                        "certificate check", "authentication", "open"};
    size_t i;

    if (rc == 0)
        return NULL;
    /* A local error names its step; a daemon error (VRPC_E_REMOTE) never does. */
    if (rc != VRPC_E_REMOTE && err && err->str1)
        for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
            if (strcmp(err->str1, steps[i]) == 0)
                return steps[i];
    switch (rc) {
    case VRPC_E_AUTH:
        return "authentication";
    case VRPC_E_REMOTE:
        return "open";
    case VRPC_E_URI:
        return "resolve";
    case VRPC_E_CONNECT:
    case VRPC_E_NOT_FOUND:
    case VRPC_E_TIMEOUT:
        return "connect";
    default:
        return "open";
    }
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
    } else if (c->io_owner || c->out_head || c->pending.count) {
        rc = VRPC_E_INVALID;
        vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                       "internal error: a transport layer cannot be installed while calls are "
                       "in flight");
    } else if (c->in_len || c->skip_carriers || buffered) {
        /* Bytes that arrived before the layer: the daemon sent something
         * unasked, which it never does at this point of the open sequence. */
        rc = VRPC_E_PROTO;
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_RPC,
                       "the daemon sent %zu unexpected bytes before the %s layer was installed",
                       c->in_len + buffered, "security");
    } else {
        rc = wrap(c->tr, ctx, &layer, err);
        if (rc == 0)
            c->tr = layer;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}
