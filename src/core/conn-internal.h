/* SPDX-License-Identifier: MIT */
/*
 * Internal: the connection object, for the modules that extend it
 * (authentication, events, streams, keepalive timers, more transports).
 *
 * LOCKING. Everything below is protected by `lock`. The thread that owns
 * the I/O role (`io_owner`) releases the lock only inside poll(); it reads,
 * writes and dispatches packets with the lock held, so dispatch hooks run
 * with the lock held and must not block or call back into the public API.
 *
 * LIFECYCLE OF A CALL. vrpc_call_send() encodes the arguments outside the
 * lock, then under the lock enters the call in the protocol core (which
 * chooses the serial), patches the serial into the packet and queues it in
 * the core's output queue. The I/O owner writes what the core gives and
 * feeds it what it reads; when the reply arrives the core stores the
 * payload and reports the call done, and conn.c wakes its thread (or frees
 * it, if it was discarded). The collecting thread decodes the payload
 * after releasing the lock.
 *
 * FATAL ERRORS. vrpc_conn_fail_locked() puts the core in its sticky error
 * state (every call completed with the code, queued output dropped); the
 * core reports it back and conn.c sets `status` and `fatal`, wakes every
 * waiter and closes the transport (by the I/O owner when it is inside
 * poll()).
 */
#ifndef VIRTRPC_CONN_INTERNAL_H
#define VIRTRPC_CONN_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <virtrpc/conn.h>

#include "loop.h"
#include "message.h"
#include "proto.h"
#include "conn-transport.h"

/*
 * Unwritten bytes that vrpc_call_send() may queue (64 MiB). Beyond it
 * vrpc_call_send() returns VRPC_E_AGAIN (a single packet always fits, as a
 * packet is at most 32 MiB + 4). Blocking calls (vrpc_call) are exempt:
 * each thread queues at most one packet before it waits and helps writing.
 */
#define VRPC_CONN_OUT_MAX ((size_t)64 << 20)

/* How long vrpc_conn_close() waits for the reply to CONNECT_CLOSE. */
#define VRPC_CONN_CLOSE_TIMEOUT_MS 5000

/* A call of the threaded connection: the protocol core's call plus the
 * waiting. `call` comes first (conn.c converts between the two). */
struct vrpc_pending {
    vrpc_proto_call call;
    bool waiting; /* a thread sleeps on cond */
    pthread_cond_t cond;
    struct vrpc_pending *wprev, *wnext; /* sleeping threads, FIFO */
    struct vrpc_pending *lprev, *lnext; /* handles not consumed yet */
    /* Waits for output space (vrpc_conn_wait_space_locked). */
    struct vrpc_pending *snext;
    size_t space_limit;
};

/*
 * Packet hook: called by the I/O owner with the lock held; pkt points into
 * the input buffer and is valid only during the call. Return 0, or a
 * negative VRPC_E_* to fail the connection (after setting *err).
 */
typedef int (*vrpc_packet_hook)(vrpc_conn *c, const vrpc_packet *pkt, void *state,
                                vrpc_error **err);

/*
 * HOOKS: what a layer above the core attaches to a connection (events,
 * streams). The core calls them and knows nothing else of those layers;
 * each layer owns its state. Every member may be NULL.
 */
typedef struct vrpc_conn_hooks {
    /* Packets for this layer: MESSAGE of a program other than keepalive
     * (events), STREAM and STREAM_HOLE (streams). Lock held. */
    vrpc_packet_hook packet;
    /* A REPLY with status ERROR that matches no call: true if it is this
     * layer's (libvirtd answers a failed STREAM_HOLE that way). Lock held. */
    bool (*orphan_error_locked)(vrpc_conn *c, const vrpc_packet *pkt, void *state);
    /* Work for vrpc_conn_process(): take the next queued item (lock held;
     * NULL: none), then deliver it (no lock held; one dispatching thread
     * at a time). */
    void *(*take_locked)(vrpc_conn *c, void *state);
    void (*deliver)(vrpc_conn *c, void *state, void *item);
    /* Whether take_locked would return something. Lock held. */
    bool (*has_work_locked)(vrpc_conn *c, void *state);
    /* vrpc_conn_close(): no thread is inside the API any more (lock held);
     * then, at the very end, release the state (no lock, no other thread). */
    void (*closed_locked)(vrpc_conn *c, void *state);
    void (*fini)(vrpc_conn *c, void *state);
    /* RECONNECTING: the connection was lost and the reconnect layer will
     * bring it back (streams abort here; the reconnect layer wakes its
     * thread). Lock held. */
    void (*lost_locked)(vrpc_conn *c, void *state);
    /* First thing in vrpc_conn_close(), no lock held (the reconnect layer
     * stops its thread). */
    void (*close_begin)(vrpc_conn *c, void *state);
} vrpc_conn_hooks;

typedef struct vrpc_conn_ext {
    const vrpc_conn_hooks *hooks; /* NULL: nothing attached */
    void *state;
} vrpc_conn_ext;

enum {
    VRPC_CONN_OPENED_NONE = 0, /* vrpc_conn_new_fd: no open sequence */
    VRPC_CONN_OPENED_REMOTE,   /* CONNECT_OPEN done: CONNECT_CLOSE at close */
    VRPC_CONN_OPENED_ADMIN,    /* ADMIN_CONNECT_OPEN done */
};

struct vrpc_conn {
    pthread_mutex_t lock;
    pthread_condattr_t condattr; /* CLOCK_MONOTONIC, for every pending's cond */
    pthread_cond_t idle;         /* users dropped to 0 while closing */

    vrpc_transport *tr;   /* NULL once closed */
    int wake_rd, wake_wr; /* eventfd (both the same) or a pipe */
    bool wake_is_eventfd;
    bool wake_signaled; /* a wakeup is pending in the eventfd */

    bool io_owner; /* some thread owns the I/O role */
    bool polling;  /* ... and is inside poll() without the lock */
    bool closing;
    unsigned int users; /* threads inside the public API */

    int status;        /* 0, or the sticky error code */
    vrpc_error *fatal; /* the sticky error */

    /* The protocol state: framing, serial map, fd carriers, output queue. */
    vrpc_proto proto;
    vrpc_pending *waiters_head, *waiters_tail;
    vrpc_pending *live; /* every handle not yet consumed */

    char *uri;
    char *open_name;
    char *socket_path;
    int opened; /* VRPC_CONN_OPENED_* */

    /* HOOKS: events (src/events) and streams (src/stream). */
    vrpc_conn_ext events;
    vrpc_conn_ext streams;
    /* RECONNECTING (src/reconnect): while `reconnecting`, the connection
     * has failed (status set) and will come back with a new transport
     * (vrpc_conn_adopt); new calls wait on `up` for at most
     * reconnect_wait_ms (< 0: no bound). `generation` counts the
     * transports the connection has had. `no_reconnect`: shut down by the
     * application. */
    vrpc_conn_ext reconnect;
    bool reconnecting;
    bool no_reconnect;
    int reconnect_wait_ms;
    uint64_t generation;
    pthread_cond_t up;
    /* INPUT PAUSE (for streams): how many buffers are over their soft
     * limit (input is paused while rx_full > 0 and nothing else needs it,
     * see vrpc_conn_input_wanted_locked); how many stream operations wait
     * for input; threads waiting for output space. */
    unsigned int rx_full;
    unsigned int rx_waiters;
    bool rx_full_override; /* read anyway (the peer hung up) */
    vrpc_pending *space_waiters;
    /* SERVICING WHILE IDLE (loop.c): event loops, the event thread, close
     * notification, the keepalive timer. */
    vrpc_loop_state loop;
};

/* A public relative timeout (microseconds, VRPC_USEC_INFINITY: none) as the
 * milliseconds the waits take (-1: none): rounded up, at most INT_MAX. */
static inline int vrpc_usec_to_timeout_ms(uint64_t usec)
{
    uint64_t ms;
    if (usec == VRPC_USEC_INFINITY)
        return -1;
    ms = usec / 1000 + (usec % 1000 != 0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Wrap a transport in a new connection (no open sequence). */
int vrpc_conn_create(vrpc_transport *tr, vrpc_conn **out, vrpc_error **err);

/*
 * A blocking call with a deadline (timeout_ms < 0: none). On VRPC_E_TIMEOUT
 * the call is discarded (its reply will be dropped) and the connection stays
 * usable.
 */
int vrpc_conn_call_timeout(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret,
                           vrpc_error **err, int timeout_ms);

/*
 * Queue a packet that is not a call (stream data, ...) after everything
 * already queued: takes ownership of data (vrpc_malloc'd). Lock held. The
 * I/O owner is woken; without one the bytes go out with the next I/O pass.
 * Returns 0, VRPC_E_NOMEM or the connection's sticky error.
 */
int vrpc_conn_queue_locked(vrpc_conn *c, uint8_t *data, size_t len);

/* Put the connection in its sticky error state (lock held; takes e). */
void vrpc_conn_fail_locked(vrpc_conn *c, int code, vrpc_error *e);

/*
 * Put a layer over the connection's transport (the SASL security layer,
 * right after the reply that completed authentication). wrap(inner, ctx,
 * &layer, err) builds it and owns inner only when it returns 0. Allowed
 * only while no call is in flight and no input is buffered: bytes already
 * read would have to go through the new layer, and at that point of the
 * open sequence the daemon sends nothing unasked, so any are refused
 * (VRPC_E_PROTO). Takes the lock.
 */
typedef int (*vrpc_layer_wrap)(vrpc_transport *inner, void *ctx, vrpc_transport **out,
                               vrpc_error **err);
int vrpc_conn_push_layer(vrpc_conn *c, vrpc_layer_wrap wrap, void *ctx, vrpc_error **err);

/* ---- Calls with descriptors, and calls that open streams ---- */

typedef struct vrpc_call_opts {
    /* CALL_WITH_FDS: descriptors to pass (duplicated; the caller keeps its
     * own). Unix sockets only. */
    const int *fds;
    size_t nfds;
    /* Called with the lock held once the serial is chosen and before the
     * packet is queued (streams register here, so that no packet of theirs
     * can arrive unrecognised). Nonzero: the call is not sent, and that
     * code is returned (the hook sets *err). */
    int (*bind)(vrpc_conn *c, uint32_t serial, void *opaque, vrpc_error **err);
    void *bind_opaque;
} vrpc_call_opts;

/* vrpc_call_send with options (o may be NULL); force: see VRPC_CONN_OUT_MAX. */
int vrpc_conn_send_opts(vrpc_conn *c, const vrpc_proc *proc, const void *args,
                        const vrpc_call_opts *o, bool force, vrpc_pending **out, vrpc_error **err);

/*
 * vrpc_call_wait that also hands over the descriptors of a REPLY_WITH_FDS
 * (fds/nfds NULL: they are closed). *fds is vrpc_malloc'd, NULL when none;
 * on any error no descriptor is left open.
 */
int vrpc_conn_wait_fds(vrpc_conn *c, vrpc_pending *p, void **ret, int **fds, size_t *nfds,
                       vrpc_error **err, int timeout_ms);

/* ---- Waits that are not for a reply (streams) ---- */

/* Count a thread inside the public API (vrpc_conn_close waits for it). Lock held. */
void vrpc_conn_enter_locked(vrpc_conn *c);
void vrpc_conn_leave_locked(vrpc_conn *c);

/*
 * A waiter: a vrpc_pending that is never sent. Whoever sees the awaited
 * condition become true (a dispatch hook) calls vrpc_conn_waiter_wake_locked.
 * vrpc_conn_wait_locked sleeps until then, performing the I/O for everybody
 * while no other thread does; it returns 0 when woken or when the
 * connection failed (check c->status), VRPC_E_TIMEOUT at the deadline
 * (ms on vrpc_mono_ms()'s clock, < 0: none). Lock held throughout.
 */
int vrpc_conn_waiter_init(vrpc_conn *c, vrpc_pending *w);
void vrpc_conn_waiter_fini(vrpc_pending *w);
int vrpc_conn_wait_locked(vrpc_conn *c, vrpc_pending *w, int64_t deadline);
void vrpc_conn_waiter_wake_locked(vrpc_conn *c, vrpc_pending *w);

/* Wait until at most limit bytes of output are queued (or the connection
 * failed, or the deadline). Lock held. 0 or VRPC_E_TIMEOUT. */
int vrpc_conn_wait_space_locked(vrpc_conn *c, size_t limit, int64_t deadline);

/* Queued output should move: wake the I/O owner, or (nobody owns I/O)
 * write what the socket takes now. Lock held. */
void vrpc_conn_kick_locked(vrpc_conn *c);

/* A non-blocking pass (write, read, dispatch to the hooks) when no thread
 * owns the I/O role; unlike vrpc_conn_process() it runs no callbacks. */
void vrpc_conn_io_pass_locked(vrpc_conn *c);

/* Something the I/O owner polls for changed (input resumed): wake it. */
void vrpc_conn_wake_locked(vrpc_conn *c);

/*
 * Whether the socket should be read now. Reading pauses while a stream's
 * buffer is over its soft limit (c->rx_full) unless something else needs
 * input: a call waiting for its reply (or descriptors), a stream operation
 * waiting for data or a confirmation. An event loop polls for POLLIN only
 * when this is true.
 */
bool vrpc_conn_input_wanted_locked(const vrpc_conn *c);

/* ---- Reconnecting (src/reconnect) ---- */

/*
 * Give c, which failed and is reconnecting, the transport of donor (a
 * connection just opened to the same URI, with no call in flight): the
 * protocol state starts afresh (serials go on), the sticky error is
 * cleared, `generation` grows and the calls waiting for the connection go
 * ahead. donor is left without transport and without an open session (close
 * it). VRPC_E_CLOSED when c is closing, shut down or not reconnecting;
 * VRPC_E_INVALID when donor is not idle.
 */
int vrpc_conn_adopt(vrpc_conn *c, vrpc_conn *donor, vrpc_error **err);

/* The reconnect layer gave up (or stops): c stays failed, waiting calls
 * fail, the close is reported. Takes the lock. */
void vrpc_conn_reconnect_end(vrpc_conn *c);

#endif
