/* SPDX-License-Identifier: MIT */
/* libvirt RPC message framing (see message.h). */
#include <stdio.h>
#include <string.h>

#include <virtrpc/protocol.h>

#include "error.h"
#include "message.h"
#include "xdr.h"

void vrpc_msg_header_put(uint8_t *p, const vrpc_msg_header *h)
{
    vrpc_put_u32(p, h->prog);
    vrpc_put_u32(p + 4, h->vers);
    vrpc_put_u32(p + 8, (uint32_t)h->proc);
    vrpc_put_u32(p + 12, (uint32_t)h->type);
    vrpc_put_u32(p + 16, h->serial);
    vrpc_put_u32(p + 20, (uint32_t)h->status);
}

void vrpc_msg_header_get(const uint8_t *p, vrpc_msg_header *h)
{
    h->prog = vrpc_get_u32(p);
    h->vers = vrpc_get_u32(p + 4);
    h->proc = (int32_t)vrpc_get_u32(p + 8);
    h->type = (int32_t)vrpc_get_u32(p + 12);
    h->serial = vrpc_get_u32(p + 16);
    h->status = (int32_t)vrpc_get_u32(p + 20);
}

int vrpc_msg_check_length(uint32_t total, vrpc_error **err)
{
    if (total < VRPC_MSG_PACKET_MIN) {
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_RPC,
                       "packet of %u bytes received is too small (a packet has at least %u "
                       "bytes: length word and header)",
                       total, VRPC_MSG_PACKET_MIN);
        return VRPC_E_PROTO;
    }
    if (total > VRPC_MSG_PACKET_MAX) {
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_RPC,
                       "packet of %u bytes received is too large (at most %u bytes)", total,
                       VRPC_MSG_PACKET_MAX);
        return VRPC_E_PROTO;
    }
    return 0;
}

int vrpc_msg_parse(const uint8_t *data, size_t len, vrpc_packet *pkt, size_t *need,
                   vrpc_error **err)
{
    uint32_t total;
    int rc;

    if (len < VRPC_MSG_LEN_SIZE) {
        if (need)
            *need = VRPC_MSG_LEN_SIZE;
        return VRPC_E_AGAIN;
    }
    total = vrpc_get_u32(data);
    rc = vrpc_msg_check_length(total, err);
    if (rc)
        return rc;
    if (len < total) {
        if (need)
            *need = total;
        return VRPC_E_AGAIN;
    }
    vrpc_msg_header_get(data + VRPC_MSG_LEN_SIZE, &pkt->hdr);
    pkt->payload = data + VRPC_MSG_PACKET_MIN;
    pkt->payload_len = total - VRPC_MSG_PACKET_MIN;
    pkt->size = total;
    if (need)
        *need = total;
    return 0;
}

int vrpc_msg_take_nfds(vrpc_packet *pkt, uint32_t *nfds, vrpc_error **err)
{
    uint32_t n;
    if (pkt->payload_len < 4) {
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_RPC,
                       "message with file descriptors has no descriptor count");
        return VRPC_E_PROTO;
    }
    n = vrpc_get_u32(pkt->payload);
    if (n > VRPC_MSG_FDS_MAX) {
        vrpc_error_set(err, VRPC_ERR_RPC, VRPC_FROM_RPC,
                       "message announces %u file descriptors (at most %u)", n, VRPC_MSG_FDS_MAX);
        return VRPC_E_PROTO;
    }
    pkt->payload += 4;
    pkt->payload_len -= 4;
    *nfds = n;
    return 0;
}

int vrpc_msg_build(vrpc_buf *out, const vrpc_msg_header *h, const vrpc_type *t, const void *value)
{
    size_t start = out->len;
    size_t total;
    int rc;

    rc = vrpc_buf_reserve(out, VRPC_MSG_PACKET_MIN);
    if (rc)
        return rc;
    /* Length word written as 0 for now, then the header. */
    vrpc_put_u32(out->data + out->len, 0);
    vrpc_msg_header_put(out->data + out->len + VRPC_MSG_LEN_SIZE, h);
    out->len += VRPC_MSG_PACKET_MIN;
    if (t) {
        rc = vrpc_xdr_encode(t, value, out);
        if (rc) {
            out->len = start;
            return rc;
        }
    }
    total = out->len - start;
    if (total > VRPC_MSG_PACKET_MAX) {
        out->len = start;
        return VRPC_E_TOO_BIG;
    }
    vrpc_put_u32(out->data + start, (uint32_t)total);
    return 0;
}

int vrpc_msg_build_call(vrpc_buf *out, const vrpc_proc *proc, uint32_t serial, const void *args)
{
    vrpc_msg_header h = {
        .prog = proc->program,
        .vers = proc->version,
        .proc = proc->number,
        .type = VRPC_MSG_CALL,
        .serial = serial,
        .status = VRPC_MSG_OK,
    };
    return vrpc_msg_build(out, &h, proc->args, args);
}

void vrpc_msg_set_serial(uint8_t *packet, uint32_t serial)
{
    vrpc_put_u32(packet + VRPC_MSG_OFF_SERIAL, serial);
}

void vrpc_msg_keepalive(uint8_t out[VRPC_MSG_PACKET_MIN], int32_t proc)
{
    vrpc_msg_header h = {
        .prog = VRPC_MSG_KEEPALIVE_PROG,
        .vers = VRPC_MSG_KEEPALIVE_VERS,
        .proc = proc,
        .type = VRPC_MSG_MESSAGE,
        .serial = 0,
        .status = VRPC_MSG_OK,
    };
    vrpc_put_u32(out, VRPC_MSG_PACKET_MIN);
    vrpc_msg_header_put(out + VRPC_MSG_LEN_SIZE, &h);
}

void vrpc_msg_remap_error(vrpc_error *e)
{
    static const char unknown_proc[] = "unknown procedure";

    /* Daemons of the 0.7.x series sent these codes shifted by 4. */
    if ((e->code == VRPC_ERR_INVALID_NWFILTER || e->code == VRPC_ERR_NO_NWFILTER ||
         e->code == VRPC_ERR_BUILD_FIREWALL) &&
        e->domain != VRPC_FROM_NWFILTER)
        e->code += 4;
    else if (e->code == VRPC_WAR_NO_SECRET && e->domain == VRPC_FROM_QEMU)
        e->code = VRPC_ERR_OPERATION_TIMEOUT;
    else if (e->code == VRPC_ERR_INVALID_SECRET && e->domain == VRPC_FROM_XEN)
        e->code = VRPC_ERR_MIGRATE_PERSIST_FAILED;

    /* A daemon that does not know a procedure: "not supported" for callers. */
    if ((e->domain == VRPC_FROM_REMOTE || e->domain == VRPC_FROM_RPC) && e->code == VRPC_ERR_RPC &&
        e->level == VRPC_ERR_ERROR && e->message &&
        strncmp(e->message, unknown_proc, sizeof(unknown_proc) - 1) == 0)
        e->code = VRPC_ERR_NO_SUPPORT;
}

int vrpc_msg_decode_error(const uint8_t *payload, size_t len, vrpc_error **out)
{
    void *v = NULL;
    vrpc_error *e;
    int rc;

    *out = NULL;
    rc = vrpc_xdr_decode(&vrpc_td_error, payload, len, &v);
    if (rc == VRPC_E_NOMEM)
        return VRPC_E_NOMEM;
    if (rc) {
        *out = vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC,
                              "cannot decode the error sent by the daemon (%zu bytes of "
                              "payload): %s",
                              len, vrpc_strerror(rc));
        return *out ? VRPC_E_PROTO : VRPC_E_NOMEM;
    }
    e = v;
    if (!e->message) {
        vrpc_error *n = vrpc_error_dup(e, "Unknown error");
        vrpc_free(e);
        if (!n)
            return VRPC_E_NOMEM;
        e = n;
    }
    vrpc_msg_remap_error(e);
    *out = e;
    return VRPC_E_REMOTE;
}

const char *vrpc_msg_type_name(int32_t type, char *buf, size_t buflen)
{
    static const char *const names[] = {
        "CALL", "REPLY", "MESSAGE", "STREAM", "CALL_WITH_FDS", "REPLY_WITH_FDS", "STREAM_HOLE",
    };
    if (type >= 0 && (size_t)type < sizeof(names) / sizeof(names[0]))
        return names[type];
    snprintf(buf, buflen, "type %d", type);
    return buf;
}
