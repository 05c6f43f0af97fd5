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
 * lock, then under the lock takes the next serial, patches it into the
 * packet, inserts the vrpc_pending into the serial-keyed hash map and
 * appends the packet to the output queue. When the reply arrives the I/O
 * owner removes the pending from the map, stores the payload and marks it
 * done (or frees it, if it was discarded). The collecting thread decodes the
 * payload after releasing the lock.
 *
 * FATAL ERRORS. conn_fail() puts the connection in a sticky error state:
 * `status` becomes the code, `fatal` the error, every pending call is
 * completed with that code, queued output is dropped and the transport
 * closed (by the I/O owner when it is inside poll()).
 */
#ifndef VIRTRPC_CONN_INTERNAL_H
#define VIRTRPC_CONN_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <virtrpc/conn.h>

#include "message.h"
#include "transport.h"

/*
 * Unwritten bytes that vrpc_call_send() may queue (64 MiB). Beyond it
 * vrpc_call_send() returns VRPC_E_AGAIN (a single packet always fits, as a
 * packet is at most 32 MiB + 4). Blocking calls (vrpc_call) are exempt:
 * each thread queues at most one packet before it waits and helps writing.
 */
#define VRPC_CONN_OUT_MAX ((size_t)64 << 20)

/* How long vrpc_conn_close() waits for the reply to CONNECT_CLOSE. */
#define VRPC_CONN_CLOSE_TIMEOUT_MS 5000

/* Size the input buffer starts with (and shrinks back to). */
#define VRPC_CONN_IN_CHUNK ((size_t)64 << 10)

typedef struct vrpc_outmsg {
    struct vrpc_outmsg *next;
    uint8_t *data; /* the packet (freed with vrpc_free unless inline) */
    size_t len;
    size_t off; /* bytes written so far; a started packet is finished first */
    bool data_inline;
    /* fd passing: descriptors to send after the bytes go here. */
} vrpc_outmsg;

enum { VRPC_PENDING_SENT = 0, VRPC_PENDING_DONE = 1 };

struct vrpc_pending {
    const vrpc_proc *proc;
    uint32_t serial;
    uint8_t state;  /* VRPC_PENDING_* */
    bool discarded; /* nobody will collect it: free when the reply comes */
    bool waiting;   /* a thread sleeps on cond */
    pthread_cond_t cond;
    struct vrpc_pending *wprev, *wnext; /* sleeping threads, FIFO */
    struct vrpc_pending *lprev, *lnext; /* handles not consumed yet */
    /* Outcome, valid once DONE: rc 0 (payload = ret), VRPC_E_REMOTE
     * (payload = remote_error) or a local error (err, or the connection's
     * fatal error when err is NULL). */
    int rc;
    uint8_t *buf; /* owns the payload bytes */
    size_t off, len;
    vrpc_error *err;
};

/* Serial -> pending call, open addressing with linear probing. */
typedef struct vrpc_pmap {
    vrpc_pending **slots;
    size_t cap; /* power of two */
    unsigned int bits;
    size_t count;
} vrpc_pmap;

/*
 * Dispatch hook for packets the core does not handle itself (events:
 * type MESSAGE of a non-keepalive program; streams: STREAM and
 * STREAM_HOLE). Called by the I/O owner with the lock held; pkt points
 * into the input buffer and is valid only during the call. Return 0, or
 * a negative VRPC_E_* to fail the connection (after setting *err).
 */
typedef int (*vrpc_packet_hook)(vrpc_conn *c, const vrpc_packet *pkt, void *opaque,
                                vrpc_error **err);

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

    uint32_t next_serial;
    vrpc_pmap pending;
    vrpc_pending *waiters_head, *waiters_tail;
    vrpc_pending *live; /* every handle not yet consumed */

    vrpc_outmsg *out_head, *out_tail;
    size_t out_bytes; /* unwritten bytes in the queue */
    bool out_dirty;   /* queued since the last write attempt */

    uint8_t *in; /* read buffer: only the start of one packet between reads */
    size_t in_len, in_cap;
    uint32_t skip_carriers; /* 1-byte fd carriers still to drop from the stream */

    char *uri;
    char *open_name;
    char *socket_path;
    int opened; /* VRPC_CONN_OPENED_* */

    /* EVENTS HOOK: MESSAGE packets of programs other than keepalive.
     * NULL: dropped. */
    vrpc_packet_hook on_event;
    void *on_event_opaque;
    /* STREAMS HOOK: STREAM / STREAM_HOLE packets. NULL: dropped. */
    vrpc_packet_hook on_stream;
    void *on_stream_opaque;
};

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

#endif
