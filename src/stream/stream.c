/* SPDX-License-Identifier: MIT */
/*
 * Streams: the packets that follow a stream-opening call.
 *
 * Everything here is protected by the connection's lock: the dispatch hook
 * (stream_hook) runs in whichever thread performs I/O, with the lock held,
 * and only queues data and wakes the threads waiting on the stream; the
 * operations take the lock, look at the queue and, to wait, sleep on a
 * waiter (a vrpc_pending that is never sent), performing the connection's
 * I/O themselves while nobody else does.
 *
 * Buffering: see "BUFFERING AND BACK-PRESSURE" in <virtrpc/stream.h>. A
 * stream whose buffered data reaches its soft limit counts in c->rx_full;
 * the core then reads the socket only while something else needs input
 * (vrpc_conn_input_wanted_locked). The stream leaves rx_full again when its
 * reader has brought it down to half the soft limit (hysteresis, so that
 * the socket is not polled on and off for every read).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <virtrpc/consts.h>
#include <virtrpc/protocol.h>
#include <virtrpc/stream.h>

#include "alloc.h"
#include "clock.h"
#include "conn-internal.h"
#include "error.h"
#include "message.h"

#define ST_ERR(code, ...) vrpc_error_new(code, VRPC_FROM_STREAMS, __VA_ARGS__)

/* How long vrpc_stream_free() waits for the confirmation of its abort. */
#define STREAM_FREE_ABORT_MS 5000
/* Size of a STREAM_HOLE payload: hyper length, unsigned int flags. */
#define HOLE_PAYLOAD 12u

/* An item of the receive queue: data, or a hole (len == 0, hole > 0). */
typedef struct rx_item {
    struct rx_item *next;
    size_t len, off;
    uint64_t hole;
    uint8_t data[];
} rx_item;

/* A thread waiting for something to happen on the stream. */
typedef struct st_waiter {
    vrpc_pending w;
    struct st_waiter *next;
} st_waiter;

enum {
    ST_OPEN = 0,
    ST_FINISHING, /* OK sent, waiting for the confirmation */
    ST_ABORTING,  /* ERROR sent, waiting for the confirmation */
    ST_CLOSED,    /* finished, aborted, or detached from its connection */
};

struct vrpc_stream {
    vrpc_conn *c; /* NULL once detached */
    struct vrpc_stream *next, *prev;
    bool registered;
    const vrpc_proc *proc;
    uint32_t prog, vers, serial;
    int32_t procnum;
    bool sparse;
    int state;

    rx_item *rx_head, *rx_tail;
    size_t rx_bytes; /* data bytes in the queue */
    size_t soft, hard;
    bool full;   /* counted in c->rx_full */
    bool hungry; /* a non-blocking receive found nothing: counted in c->rx_waiters */
    bool eof;    /* the daemon's end of data (after the queued items) */
    bool confirmed;
    bool abort_sent; /* the library aborted it itself (buffer overflow, bad hole) */

    int err_rc; /* sticky: 0 or the code of err */
    vrpc_error *err;
    st_waiter *waiters;
};

/* ---- small helpers (lock held) ---- */

static void rx_drop(vrpc_stream *st)
{
    rx_item *it = st->rx_head, *n;
    for (; it; it = n) {
        n = it->next;
        vrpc_free(it);
    }
    st->rx_head = st->rx_tail = NULL;
    st->rx_bytes = 0;
}

static void set_full(vrpc_stream *st, bool full)
{
    vrpc_conn *c = st->c;
    if (st->full == full || !c)
        return;
    st->full = full;
    if (full) {
        c->rx_full++;
    } else {
        c->rx_full--;
        vrpc_conn_wake_locked(c); /* the I/O owner may poll without POLLIN */
    }
}

static void set_hungry(vrpc_stream *st, bool hungry)
{
    vrpc_conn *c = st->c;
    if (st->hungry == hungry || !c)
        return;
    st->hungry = hungry;
    if (hungry) {
        c->rx_waiters++;
        if (c->rx_full)
            vrpc_conn_wake_locked(c);
    } else {
        c->rx_waiters--;
    }
}

static void update_full(vrpc_stream *st)
{
    if (!st->full && st->rx_bytes >= st->soft)
        set_full(st, true);
    else if (st->full && st->rx_bytes <= st->soft / 2)
        set_full(st, false);
}

static void wake_all(vrpc_stream *st)
{
    st_waiter *sw;
    for (sw = st->waiters; sw; sw = sw->next)
        vrpc_conn_waiter_wake_locked(st->c, &sw->w);
}

/* Store the stream's sticky error (the first one wins). Takes e. */
static void set_error(vrpc_stream *st, int rc, vrpc_error *e)
{
    if (st->err_rc) {
        vrpc_free(e);
        return;
    }
    st->err_rc = rc;
    st->err = e;
    rx_drop(st);
    set_full(st, false);
    set_hungry(st, false);
}

/* Build a stream packet of the stream (payload copied). NULL: out of memory. */
static uint8_t *build_packet(const vrpc_stream *st, int32_t type, int32_t status,
                             const void *payload, size_t len)
{
    uint8_t *pkt = vrpc_malloc(VRPC_MSG_PACKET_MIN + len);
    vrpc_msg_header h = {st->prog, st->vers, st->procnum, type, st->serial, status};
    if (!pkt)
        return NULL;
    vrpc_put_u32(pkt, (uint32_t)(VRPC_MSG_PACKET_MIN + len));
    vrpc_msg_header_put(pkt + VRPC_MSG_LEN_SIZE, &h);
    if (len)
        memcpy(pkt + VRPC_MSG_PACKET_MIN, payload, len);
    return pkt;
}

static int queue_packet(vrpc_stream *st, int32_t type, int32_t status, const void *payload,
                        size_t len)
{
    uint8_t *pkt = build_packet(st, type, status, payload, len);
    if (!pkt)
        return VRPC_E_NOMEM;
    return vrpc_conn_queue_locked(st->c, pkt, VRPC_MSG_PACKET_MIN + len);
}

/* The library aborts a stream on its own (bad input from the daemon, overflow). */
static void local_abort(vrpc_stream *st, int rc, vrpc_error *e)
{
    set_error(st, rc, e);
    if (!st->abort_sent && st->state == ST_OPEN) {
        st->abort_sent = true;
        queue_packet(st, VRPC_MSG_STREAM, VRPC_MSG_ERROR, NULL, 0);
    }
    wake_all(st);
}

/* HOOKS: the streams layer's state on a connection (created at the first
 * stream, released when the connection is closed). Lock held. */
typedef struct stream_set {
    vrpc_stream *head;
} stream_set;

static vrpc_stream *find_stream(vrpc_conn *c, uint32_t prog, uint32_t vers, uint32_t serial)
{
    stream_set *ss = c->streams.state;
    vrpc_stream *st;
    for (st = ss ? ss->head : NULL; st; st = st->next)
        if (st->serial == serial && st->prog == prog && st->vers == vers)
            return st;
    return NULL;
}

/* ---- the dispatch hook (I/O owner, lock held) ---- */

static void take_daemon_error(vrpc_stream *st, const uint8_t *payload, size_t len)
{
    vrpc_error *e = NULL;
    int rc = vrpc_msg_decode_error(payload, len, &e);
    set_error(st, rc, e);
    /* A sender waiting for output space learns it at once. */
    for (vrpc_pending *w = st->c->space_waiters; w; w = w->snext)
        vrpc_conn_waiter_wake_locked(st->c, w);
}

static void take_data(vrpc_stream *st, const vrpc_packet *pkt)
{
    rx_item *it;

    if (st->state != ST_OPEN || st->err_rc)
        return; /* finishing, aborting or failed: drop it */
    if (pkt->payload_len == 0) {
        st->eof = true;
        return;
    }
    if (st->hard != SIZE_MAX && st->rx_bytes + pkt->payload_len > st->hard) {
        local_abort(st, VRPC_E_TOO_BIG,
                    ST_ERR(VRPC_ERR_OPERATION_ABORTED,
                           "stream %s (serial %u): more than %zu bytes buffered because the "
                           "application did not receive them while the connection was needed "
                           "for other work; the stream was aborted",
                           st->proc->name, st->serial, st->hard));
        return;
    }
    it = vrpc_malloc(sizeof(*it) + pkt->payload_len);
    if (!it) {
        local_abort(st, VRPC_E_NOMEM,
                    ST_ERR(VRPC_ERR_NO_MEMORY, "out of memory buffering stream data"));
        return;
    }
    it->next = NULL;
    it->len = pkt->payload_len;
    it->off = 0;
    it->hole = 0;
    memcpy(it->data, pkt->payload, pkt->payload_len);
    if (st->rx_tail)
        st->rx_tail->next = it;
    else
        st->rx_head = it;
    st->rx_tail = it;
    st->rx_bytes += pkt->payload_len;
    update_full(st);
}

static void take_hole(vrpc_stream *st, const vrpc_packet *pkt)
{
    uint64_t length;
    uint32_t flags;
    rx_item *it;

    if (st->state != ST_OPEN || st->err_rc)
        return;
    if (!st->sparse) {
        local_abort(st, VRPC_E_PROTO,
                    ST_ERR(VRPC_ERR_RPC, "Unexpected stream hole (stream %s is not sparse)",
                           st->proc->name));
        return;
    }
    if (pkt->payload_len != HOLE_PAYLOAD) {
        local_abort(
            st, VRPC_E_PROTO,
            ST_ERR(VRPC_ERR_RPC, "Malformed stream hole packet (%zu bytes)", pkt->payload_len));
        return;
    }
    length = vrpc_get_u64(pkt->payload);
    flags = vrpc_get_u32(pkt->payload + 8);
    if ((int64_t)length < 0 || flags != 0) {
        local_abort(st, VRPC_E_PROTO,
                    ST_ERR(VRPC_ERR_RPC, "Malformed stream hole packet (length %lld, flags %u)",
                           (long long)length, flags));
        return;
    }
    if (length == 0)
        return;
    if (st->rx_tail && st->rx_tail->len == 0) {
        st->rx_tail->hole += length; /* two holes in a row are one */
        return;
    }
    it = vrpc_malloc(sizeof(*it));
    if (!it) {
        local_abort(st, VRPC_E_NOMEM,
                    ST_ERR(VRPC_ERR_NO_MEMORY, "out of memory buffering a stream hole"));
        return;
    }
    it->next = NULL;
    it->len = it->off = 0;
    it->hole = length;
    if (st->rx_tail)
        st->rx_tail->next = it;
    else
        st->rx_head = it;
    st->rx_tail = it;
}

/* HOOK (packet): STREAM and STREAM_HOLE. */
static int stream_hook(vrpc_conn *c, const vrpc_packet *pkt, void *opaque, vrpc_error **err)
{
    const vrpc_msg_header *h = &pkt->hdr;
    vrpc_stream *st = find_stream(c, h->prog, h->vers, h->serial);

    (void)opaque;
    (void)err;
    if (!st || h->proc != st->procnum)
        return 0; /* not (or no longer) ours: ignored, as libvirt does */
    if (h->type == VRPC_MSG_STREAM_HOLE) {
        if (h->status == VRPC_MSG_CONTINUE)
            take_hole(st, pkt);
    } else {
        switch (h->status) {
        case VRPC_MSG_CONTINUE:
            take_data(st, pkt);
            break;
        case VRPC_MSG_OK:
            st->confirmed = true;
            break;
        case VRPC_MSG_ERROR:
            take_daemon_error(st, pkt->payload, pkt->payload_len);
            break;
        default:
            local_abort(st, VRPC_E_PROTO,
                        ST_ERR(VRPC_ERR_RPC, "stream packet with unexpected status %d", h->status));
            break;
        }
    }
    if (st->rx_head || st->eof || st->err_rc)
        set_hungry(st, false);
    wake_all(st);
    return 0;
}

/*
 * HOOK (orphan error): a REPLY with status ERROR that matches no call.
 * libvirtd answers a failed STREAM_HOLE packet that way (with the stream's
 * serial): if a stream has this (prog, vers, serial), the error becomes the
 * stream's.
 */
static bool orphan_error_locked(vrpc_conn *c, const vrpc_packet *pkt, void *state)
{
    vrpc_stream *st = find_stream(c, pkt->hdr.prog, pkt->hdr.vers, pkt->hdr.serial);
    (void)state;
    if (!st)
        return false;
    take_daemon_error(st, pkt->payload, pkt->payload_len);
    wake_all(st);
    return true;
}

/* ---- registration ---- */

/*
 * HOOK (closed): the connection is being closed (lock held, no thread
 * inside the API): detach every stream the application has not freed yet.
 * Their buffers are dropped; later operations on them fail with
 * VRPC_E_CLOSED and vrpc_stream_free() only releases memory.
 */
static void unregister(vrpc_stream *st);

static void closed_locked(vrpc_conn *c, void *state)
{
    stream_set *ss = state;
    (void)c;
    while (ss->head) {
        vrpc_stream *st = ss->head;
        unregister(st);
        rx_drop(st);
        st->state = ST_CLOSED;
        st->c = NULL;
    }
}

/*
 * HOOK (lost): the connection failed and will be reconnected (lock held).
 * A stream cannot survive the daemon's end: each one gets the
 * connection's error as its own, so that it stays failed on the new
 * connection; vrpc_stream_abort() or vrpc_stream_free() unregisters it.
 */
static void lost_locked(vrpc_conn *c, void *state)
{
    stream_set *ss = state;
    vrpc_stream *st;
    for (st = ss->head; st; st = st->next) {
        vrpc_error *e = vrpc_error_dup(c->fatal, NULL);
        vrpc_error_prefix(&e, "stream %s aborted", st->proc->name);
        set_error(st, c->status, e);
        wake_all(st);
    }
}

static void streams_fini(vrpc_conn *c, void *state)
{
    vrpc_free(state);
    c->streams.hooks = NULL;
    c->streams.state = NULL;
}

static const vrpc_conn_hooks stream_hooks = {
    .packet = stream_hook,
    .orphan_error_locked = orphan_error_locked,
    .closed_locked = closed_locked,
    .fini = streams_fini,
    .lost_locked = lost_locked,
};

static int bind_stream(vrpc_conn *c, uint32_t serial, void *opaque, vrpc_error **err)
{
    vrpc_stream *st = opaque;
    stream_set *ss = c->streams.state;

    if (!ss) {
        ss = vrpc_calloc(1, sizeof(*ss));
        if (!ss) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS,
                           "out of memory registering stream %s", st->proc->name);
            return VRPC_E_NOMEM;
        }
        c->streams.state = ss;
        c->streams.hooks = &stream_hooks;
    }
    st->c = c;
    st->serial = serial;
    st->next = ss->head;
    st->prev = NULL;
    if (ss->head)
        ss->head->prev = st;
    ss->head = st;
    st->registered = true;
    return 0;
}

static void unregister(vrpc_stream *st)
{
    vrpc_conn *c = st->c;
    stream_set *ss;
    if (!st->registered)
        return;
    ss = c->streams.state;
    set_full(st, false);
    set_hungry(st, false);
    if (st->prev)
        st->prev->next = st->next;
    else
        ss->head = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->next = st->prev = NULL;
    st->registered = false;
}

/* ---- calls ---- */

bool vrpc_proc_opens_stream(const vrpc_proc *proc)
{
    if (!proc)
        return false;
    if (proc->stream != VRPC_STREAM_NONE)
        return true;
    /* libvirt's protocol file does not annotate it; its client opens a stream. */
    return proc->program == VRPC_PROGRAM &&
           proc->number == VRPC_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS;
}

/* The value of a @sparseflag macro. Every one so far is 1. */
static uint32_t sparse_flag_value(const char *name)
{
    if (strcmp(name, "VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM") == 0)
        return VRPC_STORAGE_VOL_UPLOAD_SPARSE_STREAM;
    if (strcmp(name, "VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM") == 0)
        return VRPC_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM;
    return 1;
}

/* Whether the call's arguments set its sparse flag (the `flags` member). */
static bool args_sparse(const vrpc_proc *proc, const void *args)
{
    const vrpc_type *t = proc->args;
    uint32_t i, flags;

    if (!proc->sparse_flag || !t || !args || t->kind != VRPC_KIND_STRUCT)
        return false;
    for (i = 0; i < t->nfields; i++) {
        const vrpc_field *f = &t->fields[i];
        if (strcmp(f->name, "flags") == 0 && f->type->kind == VRPC_KIND_UINT) {
            memcpy(&flags, (const uint8_t *)args + f->offset, sizeof(flags));
            return (flags & sparse_flag_value(proc->sparse_flag)) != 0;
        }
    }
    return false;
}

int vrpc_stream_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret,
                     vrpc_stream **out, vrpc_error **err)
{
    vrpc_call_opts o = {0};
    vrpc_pending *p;
    vrpc_stream *st;
    int rc;

    if (ret)
        *ret = NULL;
    if (!out || !c || !proc) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       "vrpc_stream_call: connection, procedure and stream pointer are required");
        return VRPC_E_INVALID;
    }
    *out = NULL;
    if (!vrpc_proc_opens_stream(proc)) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       "procedure %s does not open a stream", proc->name);
        return VRPC_E_INVALID;
    }
    st = vrpc_calloc(1, sizeof(*st));
    if (!st) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS, "out of memory");
        return VRPC_E_NOMEM;
    }
    st->proc = proc;
    st->prog = proc->program;
    st->vers = proc->version;
    st->procnum = proc->number;
    st->sparse = args_sparse(proc, args);
    st->soft = VRPC_STREAM_BUFFER_SOFT;
    st->hard = VRPC_STREAM_BUFFER_HARD;
    o.bind = bind_stream;
    o.bind_opaque = st;
    rc = vrpc_conn_send_opts(c, proc, args, &o, true, &p, err);
    if (rc) {
        vrpc_free(st);
        return rc;
    }
    rc = vrpc_call_wait(c, p, ret, err);
    if (rc) {
        pthread_mutex_lock(&c->lock);
        unregister(st);
        rx_drop(st);
        vrpc_free(st->err);
        pthread_mutex_unlock(&c->lock);
        vrpc_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

/* ---- operations ---- */

/*
 * Take the connection lock for an operation on st. Returns the connection,
 * or NULL (with *rc and *err set) when the stream is detached.
 */
static vrpc_conn *op_begin(vrpc_stream *st, const char *what, int *rc, vrpc_error **err)
{
    vrpc_conn *c = st ? st->c : NULL;
    if (!st) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS, "%s: no stream", what);
        *rc = VRPC_E_INVALID;
        return NULL;
    }
    if (!c) {
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_STREAMS,
                       "%s: the stream's connection is closed", what);
        *rc = VRPC_E_CLOSED;
        return NULL;
    }
    pthread_mutex_lock(&c->lock);
    vrpc_conn_enter_locked(c);
    return c;
}

static void op_end(vrpc_conn *c)
{
    vrpc_conn_leave_locked(c);
    pthread_mutex_unlock(&c->lock);
}

/* The error that stops an operation now, if any (lock held). */
static int op_check(vrpc_stream *st, bool need_open, vrpc_error **err)
{
    vrpc_conn *c = st->c;
    if (st->err_rc) {
        if (err)
            *err = vrpc_error_dup(st->err, NULL);
        return st->err_rc;
    }
    if (c->status) {
        if (err)
            *err = vrpc_error_dup(c->fatal, NULL);
        return c->status;
    }
    if (need_open && st->state != ST_OPEN) {
        vrpc_error_set(err, VRPC_ERR_OPERATION_INVALID, VRPC_FROM_STREAMS,
                       "stream %s is already %s", st->proc->name,
                       st->state == ST_CLOSED ? "closed" : "being closed");
        return VRPC_E_INVALID;
    }
    return 0;
}

/* Sleep until something happens on st (lock held). */
static int stream_wait(vrpc_stream *st, bool input, int64_t deadline)
{
    vrpc_conn *c = st->c;
    st_waiter sw, **pp;
    int rc;

    if (vrpc_conn_waiter_init(c, &sw.w))
        return VRPC_E_NOMEM;
    sw.next = st->waiters;
    st->waiters = &sw;
    if (input) {
        c->rx_waiters++;
        if (c->rx_full)
            vrpc_conn_wake_locked(c);
    }
    rc = vrpc_conn_wait_locked(c, &sw.w, deadline);
    if (input)
        c->rx_waiters--;
    for (pp = &st->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == &sw) {
            *pp = sw.next;
            break;
        }
    }
    vrpc_conn_waiter_fini(&sw.w);
    return rc;
}

ssize_t vrpc_stream_send(vrpc_stream *st, const void *buf, size_t len, unsigned int flags,
                         vrpc_error **err)
{
    const uint8_t *p = buf;
    size_t sent = 0;
    vrpc_conn *c;
    int rc = 0;

    if (!(c = op_begin(st, "vrpc_stream_send", &rc, err)))
        return rc;
    if (!buf && len) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS, "vrpc_stream_send: no data");
        rc = VRPC_E_INVALID;
        goto out;
    }
    while (sent < len || len == 0) {
        size_t n;
        if ((rc = op_check(st, true, err)) != 0)
            break;
        if (len == 0)
            break;
        if (c->proto.out_bytes > VRPC_STREAM_SEND_QUEUE) {
            if (flags & VRPC_STREAM_NONBLOCK) {
                vrpc_conn_kick_locked(c);
                if (c->proto.out_bytes > VRPC_STREAM_SEND_QUEUE) {
                    if (sent == 0) {
                        rc = VRPC_E_AGAIN;
                        vrpc_error_set(err, VRPC_ERR_OPERATION_FAILED, VRPC_FROM_STREAMS,
                                       "the connection's output queue is full");
                    }
                    break;
                }
            } else {
                vrpc_conn_wait_space_locked(c, VRPC_STREAM_SEND_QUEUE / 2, -1);
            }
            continue;
        }
        n = len - sent;
        if (n > VRPC_STREAM_CHUNK)
            n = VRPC_STREAM_CHUNK;
        rc = queue_packet(st, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE, p + sent, n);
        if (rc) {
            if (rc == VRPC_E_NOMEM)
                vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS, "out of memory");
            else if (err)
                *err = vrpc_error_dup(c->fatal, NULL);
            break;
        }
        sent += n;
    }
    vrpc_conn_kick_locked(c);
    if (sent && (rc == 0 || rc == VRPC_E_AGAIN)) {
        rc = 0;
    }
out:
    op_end(c);
    return rc ? rc : (ssize_t)sent;
}

int vrpc_stream_send_hole(vrpc_stream *st, uint64_t length, unsigned int flags, vrpc_error **err)
{
    uint8_t payload[HOLE_PAYLOAD];
    vrpc_conn *c;
    int rc = 0;

    if (!(c = op_begin(st, "vrpc_stream_send_hole", &rc, err)))
        return rc;
    if (!st->sparse || (int64_t)length < 0) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       st->sparse ? "vrpc_stream_send_hole: length too large"
                                  : "stream %s was not opened sparse: it cannot carry holes",
                       st->proc->name);
        op_end(c);
        return VRPC_E_INVALID;
    }
    for (;;) {
        if ((rc = op_check(st, true, err)) != 0)
            break;
        if (length == 0)
            break;
        if (c->proto.out_bytes > VRPC_STREAM_SEND_QUEUE) {
            if (flags & VRPC_STREAM_NONBLOCK) {
                vrpc_conn_kick_locked(c);
                if (c->proto.out_bytes > VRPC_STREAM_SEND_QUEUE) {
                    rc = VRPC_E_AGAIN;
                    vrpc_error_set(err, VRPC_ERR_OPERATION_FAILED, VRPC_FROM_STREAMS,
                                   "the connection's output queue is full");
                    break;
                }
            } else {
                vrpc_conn_wait_space_locked(c, VRPC_STREAM_SEND_QUEUE / 2, -1);
            }
            continue;
        }
        vrpc_put_u64(payload, length);
        vrpc_put_u32(payload + 8, 0);
        rc = queue_packet(st, VRPC_MSG_STREAM_HOLE, VRPC_MSG_CONTINUE, payload, sizeof(payload));
        if (rc == VRPC_E_NOMEM)
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS, "out of memory");
        else if (rc && err)
            *err = vrpc_error_dup(c->fatal, NULL);
        break;
    }
    vrpc_conn_kick_locked(c);
    op_end(c);
    return rc;
}

/*
 * The receive operations. sparse: report holes through *hole instead of as
 * zeros.
 */
static ssize_t recv_common(vrpc_stream *st, uint8_t *buf, size_t len, uint64_t *hole, bool sparse,
                           unsigned int flags, vrpc_error **err)
{
    bool processed = false;
    ssize_t got = 0;
    vrpc_conn *c;
    int rc = 0;

    if (hole)
        *hole = 0;
    if (!(c = op_begin(st, "vrpc_stream_recv", &rc, err)))
        return rc;
    if (!buf || len == 0) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS, "vrpc_stream_recv: no buffer");
        op_end(c);
        return VRPC_E_INVALID;
    }
    for (;;) {
        rx_item *it = st->rx_head;
        if (st->err_rc || st->state != ST_OPEN) {
            rc = op_check(st, !st->err_rc, err);
            break;
        }
        if (it) {
            if (it->len == 0) {
                if (sparse) {
                    *hole = it->hole;
                    it->hole = 0;
                } else {
                    size_t n = it->hole < len ? (size_t)it->hole : len;
                    memset(buf, 0, n);
                    it->hole -= n;
                    got = (ssize_t)n;
                }
            } else {
                size_t n = it->len - it->off;
                if (n > len)
                    n = len;
                memcpy(buf, it->data + it->off, n);
                it->off += n;
                st->rx_bytes -= n;
                got = (ssize_t)n;
            }
            if (it->off == it->len && it->hole == 0) {
                st->rx_head = it->next;
                if (!st->rx_head)
                    st->rx_tail = NULL;
                vrpc_free(it);
            }
            update_full(st);
            break;
        }
        if (st->eof)
            break; /* 0: the end */
        if ((rc = op_check(st, true, err)) != 0)
            break;
        if (flags & VRPC_STREAM_NONBLOCK) {
            if (!processed && !c->io_owner) {
                /* Read what is there now (no event callbacks run here). */
                processed = true;
                set_hungry(st, true);
                vrpc_conn_io_pass_locked(c);
                continue;
            }
            set_hungry(st, true);
            rc = VRPC_E_AGAIN;
            break;
        }
        stream_wait(st, true, -1);
    }
    op_end(c);
    return rc ? rc : got;
}

ssize_t vrpc_stream_recv(vrpc_stream *st, void *buf, size_t len, unsigned int flags,
                         vrpc_error **err)
{
    return recv_common(st, buf, len, NULL, false, flags, err);
}

ssize_t vrpc_stream_recv_sparse(vrpc_stream *st, void *buf, size_t len, uint64_t *hole,
                                unsigned int flags, vrpc_error **err)
{
    uint64_t dummy;
    return recv_common(st, buf, len, hole ? hole : &dummy, true, flags, err);
}

int vrpc_stream_wait_readable(vrpc_stream *st, uint64_t timeout_usec)
{
    int timeout_ms = vrpc_usec_to_timeout_ms(timeout_usec);
    int64_t deadline = timeout_ms < 0 ? -1 : vrpc_mono_ms() + timeout_ms;
    vrpc_conn *c;
    int rc = 0;

    if (!(c = op_begin(st, "vrpc_stream_wait_readable", &rc, NULL)))
        return rc;
    for (;;) {
        if (st->rx_head || st->eof || st->err_rc || st->state != ST_OPEN) {
            rc = 1;
            break;
        }
        if (c->status) {
            rc = c->status;
            break;
        }
        if (stream_wait(st, true, deadline) == VRPC_E_TIMEOUT) {
            rc = st->rx_head || st->eof || st->err_rc ? 1 : 0;
            break;
        }
    }
    op_end(c);
    return rc;
}

/* Send the closing packet (status OK: finish; ERROR: abort) and wait for the answer. */
static int close_common(vrpc_stream *st, int32_t status, int64_t deadline, vrpc_error **err)
{
    vrpc_conn *c = st->c;
    int rc;

    st->state = status == VRPC_MSG_OK ? ST_FINISHING : ST_ABORTING;
    rx_drop(st);
    set_full(st, false);
    set_hungry(st, false);
    st->confirmed = false;
    wake_all(st); /* another thread's receive or send learns it at once */
    rc = queue_packet(st, VRPC_MSG_STREAM, status, NULL, 0);
    if (rc) {
        st->state = ST_CLOSED;
        if (rc == VRPC_E_NOMEM)
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS, "out of memory");
        else if (err)
            *err = vrpc_error_dup(c->fatal, NULL);
        return rc;
    }
    vrpc_conn_kick_locked(c);
    while (!st->confirmed && !st->err_rc && !c->status) {
        if (stream_wait(st, true, deadline) == VRPC_E_TIMEOUT && !st->confirmed && !st->err_rc &&
            !c->status) {
            vrpc_error_set(err, VRPC_ERR_OPERATION_TIMEOUT, VRPC_FROM_STREAMS,
                           "no confirmation from the daemon for closing stream %s", st->proc->name);
            st->state = ST_CLOSED;
            return VRPC_E_TIMEOUT;
        }
    }
    st->state = ST_CLOSED;
    unregister(st);
    if (st->confirmed && !st->err_rc)
        return 0;
    return op_check(st, false, err);
}

int vrpc_stream_finish(vrpc_stream *st, vrpc_error **err)
{
    vrpc_conn *c;
    int rc = 0;

    if (!(c = op_begin(st, "vrpc_stream_finish", &rc, err)))
        return rc;
    rc = op_check(st, true, err);
    if (rc == 0)
        rc = close_common(st, VRPC_MSG_OK, -1, err);
    op_end(c);
    return rc;
}

static int abort_locked(vrpc_stream *st, int64_t deadline, vrpc_error **err)
{
    int rc;
    if (st->state == ST_CLOSED)
        return 0;
    if (st->err_rc || st->c->status) {
        /* The daemon's side is gone already: nothing to send. */
        rc = op_check(st, false, err);
        st->state = ST_CLOSED;
        unregister(st);
        return rc;
    }
    if (st->state != ST_OPEN) {
        vrpc_error_set(err, VRPC_ERR_OPERATION_INVALID, VRPC_FROM_STREAMS,
                       "stream %s is being closed by another thread", st->proc->name);
        return VRPC_E_INVALID;
    }
    return close_common(st, VRPC_MSG_ERROR, deadline, err);
}

int vrpc_stream_abort(vrpc_stream *st, vrpc_error **err)
{
    vrpc_conn *c;
    int rc = 0;

    if (!(c = op_begin(st, "vrpc_stream_abort", &rc, err)))
        return rc == VRPC_E_CLOSED ? 0 : rc;
    rc = abort_locked(st, -1, err);
    op_end(c);
    return rc;
}

void vrpc_stream_free(vrpc_stream *st)
{
    vrpc_conn *c;

    if (!st)
        return;
    c = st->c;
    if (c) {
        pthread_mutex_lock(&c->lock);
        vrpc_conn_enter_locked(c);
        if (st->state == ST_OPEN && !st->abort_sent)
            abort_locked(st, vrpc_mono_ms() + STREAM_FREE_ABORT_MS, NULL);
        unregister(st);
        rx_drop(st);
        op_end(c);
    }
    vrpc_free(st->err);
    vrpc_free(st);
}

int vrpc_stream_set_buffer(vrpc_stream *st, size_t soft, size_t hard)
{
    vrpc_conn *c;
    int rc = 0;

    if (!st || soft < VRPC_STREAM_CHUNK || hard < soft)
        return VRPC_E_INVALID;
    if (!(c = op_begin(st, "vrpc_stream_set_buffer", &rc, NULL))) {
        st->soft = soft;
        st->hard = hard;
        return 0;
    }
    st->soft = soft;
    st->hard = hard;
    update_full(st);
    op_end(c);
    return 0;
}

size_t vrpc_stream_buffered(const vrpc_stream *cst)
{
    vrpc_stream *st = (vrpc_stream *)cst; /* only read, under the connection's lock */
    vrpc_conn *c;
    size_t n;
    int rc;

    if (!st)
        return 0;
    if (!(c = op_begin(st, "vrpc_stream_buffered", &rc, NULL)))
        return 0;
    n = st->rx_bytes;
    op_end(c);
    return n;
}

int vrpc_stream_ready(const vrpc_stream *cst)
{
    vrpc_stream *st = (vrpc_stream *)cst; /* only read, under the connection's lock */
    vrpc_conn *c;
    int rc, ev = 0;

    if (!st)
        return 0;
    if (!(c = op_begin(st, "vrpc_stream_ready", &rc, NULL)))
        return VRPC_STREAM_EVENT_READABLE | VRPC_STREAM_EVENT_WRITABLE; /* both fail at once */
    if (st->rx_head || st->eof || st->err_rc || st->state != ST_OPEN || c->status)
        ev |= VRPC_STREAM_EVENT_READABLE;
    if (st->err_rc || st->state != ST_OPEN || c->status ||
        c->proto.out_bytes <= VRPC_STREAM_SEND_QUEUE)
        ev |= VRPC_STREAM_EVENT_WRITABLE;
    op_end(c);
    return ev;
}

bool vrpc_stream_is_sparse(const vrpc_stream *st)
{
    return st && st->sparse;
}

uint32_t vrpc_stream_serial(const vrpc_stream *st)
{
    return st ? st->serial : 0;
}
