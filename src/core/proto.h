/* SPDX-License-Identifier: MIT */
/*
 * Internal: the protocol core — libvirt's RPC client side as a state
 * machine without I/O (the nghttp2 model).
 *
 * The caller feeds it the bytes (and descriptors) that arrived, takes from
 * it the bytes (and descriptors) to send, and learns what happened through
 * a table of callbacks: a call completed, an event (MESSAGE of a program
 * other than keepalive) or a stream packet arrived, a keepalive PING was
 * answered, the connection failed. It owns the framing and reassembly, the
 * serial -> call map, the matching of replies by (program, version, serial),
 * the descriptors that come with REPLY_WITH_FDS and the output queue.
 *
 * It has no lock, no clock, no socket and no poll: whoever drives it
 * serialises the calls (src/core/conn.c does it under the connection
 * lock). Callbacks run inside vrpc_proto_commit() / vrpc_proto_fail() and
 * must not call back into the same vrpc_proto except vrpc_proto_queue().
 *
 * Allocation is bounded by what it is given: the input buffer by the packet
 * being reassembled (at most VRPC_MSG_PACKET_MAX), a reply's payload by its
 * packet, received descriptors by 2 x VRPC_MSG_FDS_MAX waiting for their
 * carriers, the output queue by what the caller queues (a PONG still
 * unsent answers later PINGs too, so PINGs never grow it), the map by the
 * calls in flight.
 *
 * WHAT IS ACCEPTED (libvirt's client, virNetClientCallDispatch and
 * virKeepAliveCheckMessage; docs/design.md has the full table):
 *   keepalive program, version 1, type MESSAGE   consumed (PING -> PONG)
 *   REPLY / REPLY_WITH_FDS                       matched by (prog, vers,
 *       serial) to a call, else fatal (a REPLY/ERROR may belong to a
 *       stream: the orphan_error callback decides); wrong procedure or a
 *       status other than OK/ERROR fails only that call
 *   MESSAGE (any other program or version)       the event callback
 *   STREAM / STREAM_HOLE                         the stream callback
 *   CALL / CALL_WITH_FDS / unknown types         fatal
 * Anything else on the keepalive program (a REPLY, a STREAM, version 2)
 * is taken by its type, like any other program's packet.
 */
#ifndef VIRTRPC_PROTO_H
#define VIRTRPC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtrpc/conn.h>

#include "message.h"

/* Size the input buffer starts with (and shrinks back to). */
#define VRPC_PROTO_IN_CHUNK ((size_t)64 << 10)

enum { VRPC_CALL_SENT = 0, VRPC_CALL_DONE = 1 };

/* A call in flight (the caller embeds it in its own object). */
typedef struct vrpc_proto_call {
    const vrpc_proc *proc; /* program, version, number, name */
    uint32_t serial;       /* chosen by vrpc_proto_call_add */
    uint8_t state;         /* VRPC_CALL_* */
    bool discarded;        /* nobody collects it: its payload is not kept */
    /* Outcome, valid once DONE: rc 0 (payload = ret), VRPC_E_REMOTE
     * (payload = remote_error) or a local error (err, or the connection's
     * error when err is NULL). */
    int rc;
    uint8_t *buf; /* owns the payload bytes (vrpc_malloc) */
    size_t off, len;
    vrpc_error *err;
    /* REPLY_WITH_FDS: descriptors received (owned by the call); the call
     * completes once fds_want have arrived. */
    int *fds;
    uint32_t nfds, fds_want;
} vrpc_proto_call;

typedef struct vrpc_proto_cbs {
    /* A call completed (state DONE, outcome set); it has left the map. A
     * discarded call may be freed here. Required. */
    void (*call_done)(vrpc_proto_call *call, void *ud);
    /* MESSAGE of a program other than keepalive v1 (NULL: dropped).
     * pkt points into the input buffer for the duration of the call.
     * Nonzero: the connection fails with that code (*err says why). */
    int (*event)(const vrpc_packet *pkt, void *ud, vrpc_error **err);
    /* STREAM and STREAM_HOLE packets (NULL: dropped). As event. */
    int (*stream)(const vrpc_packet *pkt, void *ud, vrpc_error **err);
    /* A REPLY with status ERROR that matches no call: true if the caller
     * takes it (libvirtd answers a failed STREAM_HOLE that way), false:
     * the connection fails. NULL: always false. */
    bool (*orphan_error)(const vrpc_packet *pkt, void *ud);
    /* A keepalive packet was consumed (proc PING: a PONG is queued).
     * Optional. */
    void (*keepalive)(int32_t proc, void *ud);
    /* The connection failed: every call is completed, the output queue
     * dropped. Takes e. Required. */
    void (*fatal)(int code, vrpc_error *e, void *ud);
} vrpc_proto_cbs;

typedef struct vrpc_proto_out {
    struct vrpc_proto_out *next;
    uint8_t *data; /* the packet (vrpc_free'd unless inline) */
    size_t len;
    size_t off; /* bytes taken so far */
    bool data_inline;
    /* Descriptors to send once every byte is out, one per carrier byte
     * (owned; closed once sent or dropped). */
    int *fds;
    uint32_t nfds, fds_sent;
} vrpc_proto_out;

/* Serial -> call, open addressing with linear probing. */
typedef struct vrpc_pmap {
    vrpc_proto_call **slots;
    size_t cap; /* power of two */
    unsigned int bits;
    size_t count;
} vrpc_pmap;

typedef struct vrpc_proto {
    const vrpc_proto_cbs *cb;
    void *ud;
    int status; /* 0, or the sticky error code */

    uint32_t next_serial;
    vrpc_pmap calls;

    vrpc_proto_out *out_head, *out_tail;
    size_t out_bytes; /* bytes not taken yet */
    bool out_dirty;   /* set when something is queued; the driver clears it */

    uint8_t *in; /* reassembly: only the start of one packet between feeds */
    size_t in_len, in_cap;
    uint32_t skip_carriers; /* fd carrier bytes still expected */
    int rx_fds[2 * VRPC_MSG_FDS_MAX];
    uint32_t rx_nfds;
    vrpc_proto_call *fd_target; /* the reply the carriers belong to */
} vrpc_proto;

/* 0 or VRPC_E_NOMEM. */
int vrpc_proto_init(vrpc_proto *pr, const vrpc_proto_cbs *cb, void *ud);
/* Release buffers, queued output and descriptors (not the calls). */
void vrpc_proto_fini(vrpc_proto *pr);

/*
 * The sticky error state: complete every call with code (>= 0 becomes
 * VRPC_E_IO), drop the output queue and the input, then report through
 * the fatal callback (e NULL: a generic message). Later calls are no-ops
 * (e is freed).
 */
void vrpc_proto_fail(vrpc_proto *pr, int code, vrpc_error *e);

/* ---- calls ---- */

/* Choose call->serial and enter it in the map. 0 or VRPC_E_NOMEM. */
int vrpc_proto_call_add(vrpc_proto *pr, vrpc_proto_call *call);
/* Take a call out of the map (not sent after all). */
void vrpc_proto_call_remove(vrpc_proto *pr, vrpc_proto_call *call);
/* Calls waiting for a reply or for the descriptors of their reply. */
bool vrpc_proto_awaits_input(const vrpc_proto *pr);

/* ---- output ---- */

/*
 * Queue a packet after everything queued before; takes data (vrpc_malloc)
 * and fds (vrpc_malloc'd array of owned descriptors, may be NULL) in every
 * case. 0, VRPC_E_NOMEM or the sticky error.
 */
int vrpc_proto_queue(vrpc_proto *pr, uint8_t *data, size_t len, int *fds, uint32_t nfds);

/* The same in two steps, so that nothing can fail once a call is entered
 * in the map: build the entry (NULL: out of memory; data and fds are
 * released), then queue it (0 or the sticky error, the entry released). */
vrpc_proto_out *vrpc_proto_out_new(uint8_t *data, size_t len, int *fds, uint32_t nfds);
int vrpc_proto_queue_out(vrpc_proto *pr, vrpc_proto_out *m);
void vrpc_proto_out_discard(vrpc_proto_out *m);

/*
 * What to send next: returns the number of bytes at *data (> 0), or 0 with
 * *fd >= 0 when a descriptor must go next (with one carrier byte), or 0
 * with *fd == -1 when nothing is queued.
 */
size_t vrpc_proto_out_peek(vrpc_proto *pr, const uint8_t **data, int *fd);
/* n bytes of what out_peek returned were sent. */
void vrpc_proto_out_sent(vrpc_proto *pr, size_t n);
/* The descriptor out_peek returned was sent (it is closed now). */
void vrpc_proto_out_fd_sent(vrpc_proto *pr);

/* ---- input ---- */

/*
 * Room for at least one byte (and for the rest of the packet being
 * reassembled): *avail bytes at the returned pointer; NULL when out of
 * memory (the caller fails the connection). Then vrpc_proto_commit().
 */
uint8_t *vrpc_proto_in_space(vrpc_proto *pr, size_t *avail);
/*
 * Descriptors that arrived (before the bytes they came with are
 * committed): taken in every case. 0, or VRPC_E_PROTO when more arrived
 * than can be waiting for their carriers (the connection has failed).
 */
int vrpc_proto_take_fds(vrpc_proto *pr, const int *fds, size_t n);
/* n bytes were written at vrpc_proto_in_space(): dispatch every complete
 * packet. 0 or the connection's error. */
int vrpc_proto_commit(vrpc_proto *pr, size_t n);
/* Copying form of in_space + commit (tests, fuzzing). */
int vrpc_proto_feed(vrpc_proto *pr, const uint8_t *data, size_t n);
/* The peer closed its side: the connection fails with VRPC_E_CLOSED and
 * a message saying where in the stream it was. */
void vrpc_proto_eof(vrpc_proto *pr);
/* Bytes received and not dispatched yet (incomplete packet, carriers). */
size_t vrpc_proto_in_buffered(const vrpc_proto *pr);

#endif
