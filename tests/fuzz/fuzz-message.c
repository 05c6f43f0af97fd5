/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the message framing and the protocol core.
 *
 * The input is the byte stream a daemon would send:
 *  1. vrpc_msg_parse() splits it into packets (sans I/O); every packet is
 *     checked for consistency, *_WITH_FDS counts are taken and ERROR
 *     payloads are decoded into vrpc_error objects;
 *  2. the whole input is also decoded as an error payload;
 *  3. the input is fed to the protocol core (sans I/O) with two calls
 *     waiting (see through_core).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "message.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz-message: check failed: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void parse_all(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off <= size) {
        vrpc_packet pkt;
        vrpc_error *e = NULL;
        size_t need = 0;
        int rc = vrpc_msg_parse(data + off, size - off, &pkt, &need, &e);

        if (rc == VRPC_E_AGAIN) {
            CHECK(need > size - off && need >= VRPC_MSG_LEN_SIZE && need <= VRPC_MSG_PACKET_MAX);
            CHECK(e == NULL);
            break;
        }
        if (rc) {
            CHECK(rc == VRPC_E_PROTO && e && e->message);
            vrpc_free(e);
            break;
        }
        CHECK(pkt.size >= VRPC_MSG_PACKET_MIN && pkt.size <= size - off);
        CHECK(pkt.payload == data + off + VRPC_MSG_PACKET_MIN);
        CHECK(pkt.payload_len == pkt.size - VRPC_MSG_PACKET_MIN);
        if (pkt.hdr.type == VRPC_MSG_REPLY_WITH_FDS || pkt.hdr.type == VRPC_MSG_CALL_WITH_FDS) {
            uint32_t nfds = 0;
            rc = vrpc_msg_take_nfds(&pkt, &nfds, &e);
            if (rc) {
                CHECK(rc == VRPC_E_PROTO && e);
                vrpc_free(e);
                e = NULL;
            } else {
                CHECK(nfds <= VRPC_MSG_FDS_MAX);
            }
        }
        if (pkt.hdr.status == VRPC_MSG_ERROR) {
            rc = vrpc_msg_decode_error(pkt.payload, pkt.payload_len, &e);
            CHECK(rc == VRPC_E_REMOTE || rc == VRPC_E_PROTO || rc == VRPC_E_NOMEM);
            CHECK(rc == VRPC_E_NOMEM || (e && e->message));
            vrpc_free(e);
        }
        off += pkt.size;
    }
}

static void decode_error(const uint8_t *data, size_t size)
{
    vrpc_error *e = NULL;
    int rc = vrpc_msg_decode_error(data, size, &e);
    CHECK(rc == VRPC_E_REMOTE || rc == VRPC_E_PROTO || rc == VRPC_E_NOMEM);
    if (e) {
        CHECK(e->message != NULL);
        vrpc_free(e);
    }
}

/* ---- the protocol core, driven directly ---- */

typedef struct fz {
    int done, fatal, events, streams;
} fz;

static void fz_done(vrpc_proto_call *call, void *ud)
{
    fz *f = ud;
    uint32_t i;
    CHECK(call->state == VRPC_CALL_DONE);
    CHECK(call->rc != 0 || call->err == NULL);
    CHECK(call->nfds <= call->fds_want && call->fds_want <= VRPC_MSG_FDS_MAX);
    CHECK(!call->buf || call->off + call->len <= VRPC_MSG_PACKET_MAX);
    for (i = 0; i < call->nfds; i++)
        close(call->fds[i]);
    vrpc_free(call->fds);
    vrpc_free(call->buf);
    vrpc_free(call->err);
    call->fds = NULL;
    call->buf = NULL;
    call->err = NULL;
    call->nfds = 0;
    f->done++;
}

static int fz_event(const vrpc_packet *pkt, void *ud, vrpc_error **err)
{
    (void)err;
    CHECK(pkt->hdr.type == VRPC_MSG_MESSAGE && pkt->size >= VRPC_MSG_PACKET_MIN);
    ((fz *)ud)->events++;
    return 0;
}

static int fz_stream(const vrpc_packet *pkt, void *ud, vrpc_error **err)
{
    (void)err;
    CHECK(pkt->hdr.type == VRPC_MSG_STREAM || pkt->hdr.type == VRPC_MSG_STREAM_HOLE);
    ((fz *)ud)->streams++;
    return 0;
}

static void fz_fatal(int code, vrpc_error *e, void *ud)
{
    fz *f = ud;
    CHECK(code < 0 && e);
    vrpc_free(e);
    f->fatal++;
}

static const vrpc_proto_cbs fz_cbs = {
    .call_done = fz_done, .event = fz_event, .stream = fz_stream, .fatal = fz_fatal};

/*
 * The bytes as a daemon's stream into a core with two calls waiting
 * (AUTH_LIST, serial 0, and CONNECT_OPEN, serial 1), fed in chunks whose
 * sizes the first byte chooses; a descriptor arrives with every 0x00 byte
 * fed while carriers are expected. Whatever the bytes, after the end of
 * the stream both calls are complete, the core has failed exactly once,
 * and nothing is left open or allocated.
 */
static void through_core(const uint8_t *data, size_t size)
{
    vrpc_proto pr;
    vrpc_proto_call c0 = {.proc = &vrpc_pd_auth_list}, c1 = {.proc = &vrpc_pd_connect_open};
    fz f = {0};
    size_t off = 0, chunk = size ? 1 + (size_t)(data[0] % 97) : 1;

    if (vrpc_proto_init(&pr, &fz_cbs, &f))
        return;
    CHECK(vrpc_proto_call_add(&pr, &c0) == 0 && vrpc_proto_call_add(&pr, &c1) == 0);
    CHECK(c0.serial == 0 && c1.serial == 1);
    while (off < size && pr.status == 0) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (pr.skip_carriers && data[off] == 0) {
            int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd >= 0)
                vrpc_proto_take_fds(&pr, &fd, 1);
            n = 1;
        }
        if (pr.status == 0)
            vrpc_proto_feed(&pr, data + off, n);
        off += n;
    }
    for (;;) {
        const uint8_t *d;
        int fd;
        size_t n = vrpc_proto_out_peek(&pr, &d, &fd);
        if (!n)
            break;
        CHECK(n == VRPC_MSG_PACKET_MIN); /* only PONGs are queued here */
        vrpc_proto_out_sent(&pr, n);
    }
    vrpc_proto_eof(&pr);
    CHECK(pr.status != 0 && f.fatal == 1);
    CHECK(c0.state == VRPC_CALL_DONE && c1.state == VRPC_CALL_DONE && f.done == 2);
    CHECK(pr.calls.count == 0 && pr.fd_target == NULL && pr.rx_nfds == 0);
    vrpc_proto_fini(&pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_all(data, size);
    decode_error(data, size);
    through_core(data, size);
    return 0;
}
