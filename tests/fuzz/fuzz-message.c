/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the message framing and the connection's input path.
 *
 * The input is the byte stream a daemon would send:
 *  1. vrpc_msg_parse() splits it into packets (sans I/O); every packet is
 *     checked for consistency, *_WITH_FDS counts are taken and ERROR
 *     payloads are decoded into vrpc_error objects;
 *  2. the whole input is also decoded as an error payload;
 *  3. the input is written into a socketpair whose other end is a
 *     connection with two calls pending (AUTH_LIST, serial 0, and
 *     CONNECT_OPEN, serial 1); the calls are collected after the end of
 *     the stream. Whatever the bytes, both calls must complete (reply,
 *     error or a sticky connection error) and nothing may leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "message.h"

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

static void through_connection(const uint8_t *data, size_t size)
{
    vrpc_connect_open_args oa = {.name = (char *)"test:///default", .flags = 0};
    vrpc_pending *p0 = NULL, *p1 = NULL;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    void *ret = NULL;
    size_t done = 0;
    int sv[2], rc;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return;
    if (vrpc_conn_new_fd(&c, sv[0]) != 0) {
        close(sv[1]);
        return;
    }
    CHECK(vrpc_call_send(c, &vrpc_pd_auth_list, NULL, &p0) == 0);
    CHECK(vrpc_call_send(c, &vrpc_pd_connect_open, &oa, &p1) == 0);

    /* The daemon's side: what fits in the socket now, then end of stream. */
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    while (done < size) {
        ssize_t n = send(sv[1], data + done, size - done, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);

    rc = vrpc_call_poll(c, p0, &ret, &e);
    if (rc == VRPC_E_AGAIN)
        rc = vrpc_call_wait(c, p0, &ret, &e);
    CHECK(rc != VRPC_E_AGAIN);
    CHECK(rc == 0 || e != NULL || rc == VRPC_E_NOMEM);
    vrpc_free(ret);
    vrpc_free(e);
    ret = NULL;
    e = NULL;
    rc = vrpc_call_wait(c, p1, &ret, &e);
    CHECK(rc != VRPC_E_AGAIN);
    CHECK(ret == NULL);
    vrpc_free(e);
    CHECK(vrpc_conn_process(c) != 0);
    vrpc_conn_close(c);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_all(data, size);
    decode_error(data, size);
    through_connection(data, size);
    return 0;
}
