/* SPDX-License-Identifier: MIT */
/*
 * Internal: libvirt RPC message framing.
 *
 * A packet on the wire is
 *
 *     u32 length      total bytes INCLUDING this length word
 *     u32 prog        program
 *     u32 vers        program version
 *     i32 proc        procedure
 *     i32 type        VRPC_MSG_CALL ... VRPC_MSG_STREAM_HOLE
 *     u32 serial
 *     i32 status      VRPC_MSG_OK / VRPC_MSG_ERROR / VRPC_MSG_CONTINUE
 *     payload         XDR (raw bytes for STREAM/CONTINUE)
 *
 * all big-endian. A packet is at least 28 bytes and at most 4 + 32 MiB.
 *
 * Everything here is pure (no I/O, no locks): vrpc_msg_parse() finds the
 * packets in a byte buffer and is what the fuzzer drives.
 */
#ifndef VIRTRPC_MESSAGE_H
#define VIRTRPC_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <virtrpc/conn.h>
#include <virtrpc/types.h>

/* Size of the length word. */
#define VRPC_MSG_LEN_SIZE 4u
/* Offset of the header fields in a packet (after the length word). */
#define VRPC_MSG_OFF_SERIAL (VRPC_MSG_LEN_SIZE + 16u)
/* Smallest and largest packet, length word included. */
#define VRPC_MSG_PACKET_MIN (VRPC_MSG_LEN_SIZE + VRPC_HEADER_SIZE)
#define VRPC_MSG_PACKET_MAX (VRPC_MSG_LEN_SIZE + VRPC_MESSAGE_MAX)
/* File descriptors one message may carry. */
#define VRPC_MSG_FDS_MAX 32u

/* Message types (virNetMessageType). */
enum {
    VRPC_MSG_CALL = 0,
    VRPC_MSG_REPLY = 1,
    VRPC_MSG_MESSAGE = 2,
    VRPC_MSG_STREAM = 3,
    VRPC_MSG_CALL_WITH_FDS = 4,
    VRPC_MSG_REPLY_WITH_FDS = 5,
    VRPC_MSG_STREAM_HOLE = 6,
};

/* Message statuses (virNetMessageStatus). */
enum {
    VRPC_MSG_OK = 0,
    VRPC_MSG_ERROR = 1,
    VRPC_MSG_CONTINUE = 2,
};

/* The keepalive program (virkeepaliveprotocol.x). */
#define VRPC_MSG_KEEPALIVE_PROG 0x6b656570u
#define VRPC_MSG_KEEPALIVE_VERS 1u
enum {
    VRPC_MSG_KEEPALIVE_PING = 1,
    VRPC_MSG_KEEPALIVE_PONG = 2,
};

typedef struct vrpc_msg_header {
    uint32_t prog;
    uint32_t vers;
    int32_t proc;
    int32_t type;
    uint32_t serial;
    int32_t status;
} vrpc_msg_header;

/* A complete packet found by vrpc_msg_parse(); pointers into the input. */
typedef struct vrpc_packet {
    vrpc_msg_header hdr;
    const uint8_t *payload; /* after the header */
    size_t payload_len;
    size_t size; /* whole packet, length word included */
} vrpc_packet;

/* Store / load the 24-byte header. */
void vrpc_msg_header_put(uint8_t *p, const vrpc_msg_header *h);
void vrpc_msg_header_get(const uint8_t *p, vrpc_msg_header *h);

/*
 * Check a length word (total packet size including the word itself).
 * Returns 0, or VRPC_E_PROTO with an error saying whether it is too small or
 * too large.
 */
int vrpc_msg_check_length(uint32_t total, vrpc_error **err);

/*
 * Find the first packet in data[0..len). Pure: no allocation, no I/O.
 *   0             *pkt describes a whole packet of pkt->size bytes at data
 *   VRPC_E_AGAIN  incomplete; *need (if not NULL) = bytes needed in total
 *                 before the next call can succeed (4 while the length word
 *                 is incomplete, then the packet size)
 *   VRPC_E_PROTO  the length word is invalid (err says why); the stream
 *                 cannot be resynchronised.
 */
int vrpc_msg_parse(const uint8_t *data, size_t len, vrpc_packet *pkt, size_t *need,
                   vrpc_error **err);

/*
 * For a *_WITH_FDS packet: read the leading u32 fd count (<= 32) and move
 * the payload past it. 0 or VRPC_E_PROTO.
 */
int vrpc_msg_take_nfds(vrpc_packet *pkt, uint32_t *nfds, vrpc_error **err);

/*
 * Append a whole packet to out: length word, header h, then the XDR encoding
 * of value (type t; t == NULL: empty payload). The length word is patched
 * once the payload is known. On error out->len is unchanged.
 * Returns 0, VRPC_E_NOMEM, VRPC_E_INVALID or VRPC_E_TOO_BIG.
 */
int vrpc_msg_build(vrpc_buf *out, const vrpc_msg_header *h, const vrpc_type *t, const void *value);

/* A CALL packet for proc with the given serial (status OK). */
int vrpc_msg_build_call(vrpc_buf *out, const vrpc_proc *proc, uint32_t serial, const void *args);

/* Patch the serial of a packet built by vrpc_msg_build*. */
void vrpc_msg_set_serial(uint8_t *packet, uint32_t serial);

/* The 28-byte keepalive packet for proc (PING or PONG). */
void vrpc_msg_keepalive(uint8_t out[VRPC_MSG_PACKET_MIN], int32_t proc);

/*
 * Apply libvirt's client-side remappings to a daemon error (in place):
 * "unknown procedure" RPC errors become VRPC_ERR_NO_SUPPORT, and the error
 * codes that 0.7.x daemons sent shifted are moved back.
 */
void vrpc_msg_remap_error(vrpc_error *e);

/*
 * Decode the payload of a reply with status ERROR into *out (always set
 * unless out of memory). Returns VRPC_E_REMOTE with the daemon's error
 * (remapped, a missing message becomes "Unknown error"), or VRPC_E_PROTO
 * with a local VRPC_ERR_RPC error when the payload is malformed, or
 * VRPC_E_NOMEM.
 */
int vrpc_msg_decode_error(const uint8_t *payload, size_t len, vrpc_error **out);

/* "CALL", "REPLY", ... or "type N" for diagnostics (static or from buf). */
const char *vrpc_msg_type_name(int32_t type, char *buf, size_t buflen);

#endif
