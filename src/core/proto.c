/* SPDX-License-Identifier: MIT */
/*
 * The protocol core: framing, reassembly, reply matching, descriptor
 * carriers, keepalive answers and the output queue, without I/O (proto.h).
 */
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "proto.h"

#define RPC_ERR(...) vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, __VA_ARGS__)

/* ---- the serial -> call map ---- */

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

static vrpc_proto_call *pmap_get(const vrpc_pmap *m, uint32_t serial)
{
    size_t mask = m->cap - 1, i = pmap_home(m, serial);
    while (m->slots[i]) {
        if (m->slots[i]->serial == serial)
            return m->slots[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

static void pmap_insert_slot(vrpc_pmap *m, vrpc_proto_call *p)
{
    size_t mask = m->cap - 1, i = pmap_home(m, p->serial);
    while (m->slots[i])
        i = (i + 1) & mask;
    m->slots[i] = p;
    m->count++;
}

static int pmap_put(vrpc_pmap *m, vrpc_proto_call *p)
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

static void pmap_del(vrpc_pmap *m, vrpc_proto_call *p)
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

/* ---- life cycle ---- */

static void close_fds(const int *fds, uint32_t n)
{
    uint32_t i;
    for (i = 0; fds && i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int vrpc_proto_init(vrpc_proto *pr, const vrpc_proto_cbs *cb, void *ud)
{
    memset(pr, 0, sizeof(*pr));
    pr->cb = cb;
    pr->ud = ud;
    return pmap_init(&pr->calls, 6);
}

static void out_free(vrpc_proto_out *m)
{
    if (!m->data_inline)
        vrpc_free(m->data);
    if (m->fds) {
        close_fds(m->fds + m->fds_sent, m->nfds - m->fds_sent);
        vrpc_free(m->fds);
    }
    vrpc_free(m);
}

static void out_drop_all(vrpc_proto *pr)
{
    vrpc_proto_out *m = pr->out_head, *n;
    for (; m; m = n) {
        n = m->next;
        out_free(m);
    }
    pr->out_head = pr->out_tail = NULL;
    pr->out_bytes = 0;
}

void vrpc_proto_fini(vrpc_proto *pr)
{
    out_drop_all(pr);
    close_fds(pr->rx_fds, pr->rx_nfds);
    pr->rx_nfds = 0;
    vrpc_free(pr->calls.slots);
    pr->calls.slots = NULL;
    vrpc_free(pr->in);
    pr->in = NULL;
    pr->in_len = pr->in_cap = 0;
}

static void call_complete(vrpc_proto *pr, vrpc_proto_call *p)
{
    p->state = VRPC_CALL_DONE;
    pr->cb->call_done(p, pr->ud);
}

void vrpc_proto_fail(vrpc_proto *pr, int code, vrpc_error *e)
{
    size_t i;

    if (pr->status) {
        vrpc_free(e);
        return;
    }
    if (code >= 0)
        code = VRPC_E_IO;
    pr->status = code;
    if (!e)
        e = RPC_ERR("connection failed: %s", vrpc_strerror(code));
    for (i = 0; i < pr->calls.cap; i++) {
        vrpc_proto_call *p = pr->calls.slots[i];
        if (!p)
            continue;
        pr->calls.slots[i] = NULL;
        p->rc = code;
        call_complete(pr, p);
    }
    pr->calls.count = 0;
    if (pr->fd_target) {
        vrpc_proto_call *p = pr->fd_target;
        pr->fd_target = NULL;
        p->rc = code;
        call_complete(pr, p);
    }
    close_fds(pr->rx_fds, pr->rx_nfds);
    pr->rx_nfds = 0;
    out_drop_all(pr);
    pr->in_len = 0;
    pr->skip_carriers = 0;
    pr->cb->fatal(code, e, pr->ud);
}

static int fail_proto(vrpc_proto *pr, vrpc_error *e)
{
    vrpc_proto_fail(pr, VRPC_E_PROTO, e);
    return VRPC_E_PROTO;
}

/* ---- calls ---- */

int vrpc_proto_call_add(vrpc_proto *pr, vrpc_proto_call *call)
{
    do
        call->serial = pr->next_serial++;
    while (pmap_get(&pr->calls, call->serial));
    call->state = VRPC_CALL_SENT;
    return pmap_put(&pr->calls, call);
}

void vrpc_proto_call_remove(vrpc_proto *pr, vrpc_proto_call *call)
{
    pmap_del(&pr->calls, call);
}

bool vrpc_proto_awaits_input(const vrpc_proto *pr)
{
    return pr->calls.count > 0 || pr->fd_target != NULL;
}

/* ---- output ---- */

static void enqueue(vrpc_proto *pr, vrpc_proto_out *m)
{
    m->next = NULL;
    if (pr->out_tail)
        pr->out_tail->next = m;
    else
        pr->out_head = m;
    pr->out_tail = m;
    pr->out_bytes += m->len - m->off;
    pr->out_dirty = true;
}

vrpc_proto_out *vrpc_proto_out_new(uint8_t *data, size_t len, int *fds, uint32_t nfds)
{
    vrpc_proto_out *m = vrpc_calloc(1, sizeof(*m));
    if (!m) {
        vrpc_free(data);
        close_fds(fds, nfds);
        vrpc_free(fds);
        return NULL;
    }
    m->data = data;
    m->len = len;
    m->fds = fds;
    m->nfds = fds ? nfds : 0;
    return m;
}

void vrpc_proto_out_discard(vrpc_proto_out *m)
{
    if (m)
        out_free(m);
}

int vrpc_proto_queue_out(vrpc_proto *pr, vrpc_proto_out *m)
{
    if (pr->status) {
        out_free(m);
        return pr->status;
    }
    enqueue(pr, m);
    return 0;
}

int vrpc_proto_queue(vrpc_proto *pr, uint8_t *data, size_t len, int *fds, uint32_t nfds)
{
    vrpc_proto_out *m;

    if (pr->status) {
        vrpc_free(data);
        close_fds(fds, nfds);
        vrpc_free(fds);
        return pr->status;
    }
    m = vrpc_proto_out_new(data, len, fds, nfds);
    if (!m)
        return VRPC_E_NOMEM;
    enqueue(pr, m);
    return 0;
}

static int queue_pong(vrpc_proto *pr)
{
    vrpc_proto_out *m = pr->out_tail;
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
    enqueue(pr, m);
    return 0;
}

/* The head was sent completely: free it. The queue never holds a packet
 * that is completely sent, so out_peek looks at the head only. */
static void out_pop_head(vrpc_proto *pr)
{
    vrpc_proto_out *m = pr->out_head;
    pr->out_head = m->next;
    if (!pr->out_head)
        pr->out_tail = NULL;
    out_free(m);
}

size_t vrpc_proto_out_peek(vrpc_proto *pr, const uint8_t **data, int *fd)
{
    vrpc_proto_out *m = pr->out_head;

    *fd = -1;
    if (!m) {
        *data = NULL;
        return 0;
    }
    if (m->off < m->len) {
        *data = m->data + m->off;
        return m->len - m->off;
    }
    *data = NULL;
    *fd = m->fds[m->fds_sent];
    return 0;
}

void vrpc_proto_out_sent(vrpc_proto *pr, size_t n)
{
    vrpc_proto_out *m = pr->out_head;
    if (!m || n > m->len - m->off)
        return;
    m->off += n;
    pr->out_bytes -= n;
    if (m->off == m->len && m->fds_sent == m->nfds)
        out_pop_head(pr);
}

void vrpc_proto_out_fd_sent(vrpc_proto *pr)
{
    vrpc_proto_out *m = pr->out_head;
    if (!m || m->off < m->len || m->fds_sent >= m->nfds)
        return;
    close(m->fds[m->fds_sent]);
    m->fds_sent++;
    if (m->fds_sent == m->nfds)
        out_pop_head(pr);
}

/* ---- input ---- */

/*
 * A reply: complete its call. When the packet fills the whole input buffer
 * (whole) and its payload is big, the buffer itself is handed to the call
 * (saving a copy) and *stolen is set.
 */
static int dispatch_reply(vrpc_proto *pr, vrpc_packet *pkt, bool whole, bool *stolen)
{
    const vrpc_msg_header *h = &pkt->hdr;
    vrpc_proto_call *p = pmap_get(&pr->calls, h->serial);
    vrpc_error *e = NULL;
    char tbuf[32];

    if (p && (p->proc->program != h->prog || p->proc->version != h->vers))
        p = NULL;
    if (!p && h->type == VRPC_MSG_REPLY && h->status == VRPC_MSG_ERROR && pr->cb->orphan_error &&
        pr->cb->orphan_error(pkt, pr->ud))
        return 0;
    if (!p) {
        if (h->prog == VRPC_MSG_KEEPALIVE_PROG)
            return fail_proto(pr, RPC_ERR("the daemon sent a %s of the keepalive program (proc %d "
                                          "serial %u); only keepalive MESSAGEs are allowed",
                                          vrpc_msg_type_name(h->type, tbuf, sizeof(tbuf)), h->proc,
                                          h->serial));
        return fail_proto(pr, RPC_ERR("no call waiting for reply with prog 0x%x vers %u serial "
                                      "%u (proc %d)",
                                      h->prog, h->vers, h->serial, h->proc));
    }
    pmap_del(&pr->calls, p);

    if (h->type == VRPC_MSG_REPLY_WITH_FDS) {
        uint32_t nfds;
        if (vrpc_msg_take_nfds(pkt, &nfds, &e)) {
            p->rc = VRPC_E_PROTO;
            call_complete(pr, p);
            return fail_proto(pr, e);
        }
        /* The nfds descriptors arrive with the 1-byte carriers that follow
         * this packet; the call completes once they are in. */
        if (nfds) {
            p->fds = vrpc_malloc(nfds * sizeof(int));
            p->fds_want = nfds;
            pr->skip_carriers += nfds;
            pr->fd_target = p;
        }
    }

    if (h->proc != p->proc->number) {
        p->rc = VRPC_E_PROTO;
        p->err = RPC_ERR("the reply to %s (serial %u) is for procedure %d", p->proc->name,
                         p->serial, h->proc);
    } else if (h->status == VRPC_MSG_OK || h->status == VRPC_MSG_ERROR) {
        p->rc = h->status == VRPC_MSG_OK ? 0 : VRPC_E_REMOTE;
        if (p->discarded) {
            /* nobody reads it */
        } else if (whole && pkt->payload_len >= VRPC_PROTO_IN_CHUNK) {
            /* A big reply that fills the input buffer: hand the buffer over. */
            p->buf = pr->in;
            p->off = (size_t)(pkt->payload - pr->in);
            p->len = pkt->payload_len;
            pr->in = NULL;
            pr->in_cap = 0;
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
    if (pr->fd_target != p)
        call_complete(pr, p);
    return 0;
}

static int hook_result(vrpc_proto *pr, int rc, vrpc_error *e)
{
    if (rc)
        vrpc_proto_fail(pr, rc, e);
    else
        vrpc_free(e);
    return rc;
}

/* Route one packet. whole, stolen: see dispatch_reply. */
static int dispatch(vrpc_proto *pr, vrpc_packet *pkt, bool whole, bool *stolen)
{
    const vrpc_msg_header *h = &pkt->hdr;
    vrpc_error *e = NULL;
    char tbuf[32];

    /* libvirt's client consumes keepalive MESSAGEs of version 1 only, of
     * any procedure; every other packet is taken by its type. */
    if (h->prog == VRPC_MSG_KEEPALIVE_PROG && h->vers == VRPC_MSG_KEEPALIVE_VERS &&
        h->type == VRPC_MSG_MESSAGE) {
        if (h->proc == VRPC_MSG_KEEPALIVE_PING && queue_pong(pr)) {
            vrpc_proto_fail(pr, VRPC_E_NOMEM,
                            vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                                           "out of memory queueing a keepalive PONG"));
            return VRPC_E_NOMEM;
        }
        if (pr->cb->keepalive)
            pr->cb->keepalive(h->proc, pr->ud);
        return 0;
    }

    switch (h->type) {
    case VRPC_MSG_REPLY:
    case VRPC_MSG_REPLY_WITH_FDS:
        return dispatch_reply(pr, pkt, whole, stolen);
    case VRPC_MSG_MESSAGE:
        /* Events (serial ignored, as libvirtd sends 1). */
        if (!pr->cb->event)
            return 0;
        return hook_result(pr, pr->cb->event(pkt, pr->ud, &e), e);
    case VRPC_MSG_STREAM:
    case VRPC_MSG_STREAM_HOLE:
        if (!pr->cb->stream)
            return 0;
        return hook_result(pr, pr->cb->stream(pkt, pr->ud, &e), e);
    case VRPC_MSG_CALL:
    case VRPC_MSG_CALL_WITH_FDS:
        return fail_proto(pr, RPC_ERR("the daemon sent a %s (prog 0x%x proc %d serial %u); a "
                                      "client serves no calls",
                                      vrpc_msg_type_name(h->type, tbuf, sizeof(tbuf)), h->prog,
                                      h->proc, h->serial));
    default:
        return fail_proto(pr, RPC_ERR("the daemon sent a message of unknown type %d (prog 0x%x "
                                      "proc %d serial %u)",
                                      h->type, h->prog, h->proc, h->serial));
    }
}

/*
 * n carrier bytes arrived: each brought one descriptor (in rx_fds, in
 * arrival order); give them to the reply waiting for them, or close them.
 */
static int take_carriers(vrpc_proto *pr, uint32_t n)
{
    vrpc_proto_call *p = pr->fd_target;
    while (n--) {
        int fd;
        if (pr->rx_nfds == 0)
            return fail_proto(pr, RPC_ERR("the daemon sent a file descriptor carrier byte without "
                                          "a descriptor"));
        fd = pr->rx_fds[0];
        pr->rx_nfds--;
        memmove(pr->rx_fds, pr->rx_fds + 1, pr->rx_nfds * sizeof(int));
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
static int process_input(vrpc_proto *pr)
{
    size_t off = 0;
    bool stolen = false;

    while (pr->status == 0 && !stolen) {
        vrpc_packet pkt;
        vrpc_error *e = NULL;
        int rc;

        if (pr->skip_carriers) {
            size_t k = pr->in_len - off;
            if (k > pr->skip_carriers)
                k = pr->skip_carriers;
            if (take_carriers(pr, (uint32_t)k))
                return pr->status;
            off += k;
            pr->skip_carriers -= (uint32_t)k;
            if (pr->skip_carriers)
                break;
            if (pr->fd_target) {
                vrpc_proto_call *p = pr->fd_target;
                pr->fd_target = NULL;
                call_complete(pr, p);
            }
        }
        rc = vrpc_msg_parse(pr->in + off, pr->in_len - off, &pkt, NULL, &e);
        if (rc == VRPC_E_AGAIN)
            break;
        if (rc)
            return fail_proto(pr, e);
        rc = dispatch(pr, &pkt, off == 0 && pkt.size == pr->in_len, &stolen);
        if (rc)
            return rc;
        off += pkt.size;
    }
    if (pr->status)
        return pr->status;
    if (stolen) {
        pr->in_len = 0;
        return 0;
    }
    if (off) {
        memmove(pr->in, pr->in + off, pr->in_len - off);
        pr->in_len -= off;
    }
    if (pr->in_len == 0 && pr->in_cap > 4 * VRPC_PROTO_IN_CHUNK) {
        vrpc_free(pr->in);
        pr->in = NULL;
        pr->in_cap = 0;
    }
    return 0;
}

uint8_t *vrpc_proto_in_space(vrpc_proto *pr, size_t *avail)
{
    size_t need = pr->in_len + 1, cap;
    uint8_t *n;

    if (pr->in_len >= VRPC_MSG_LEN_SIZE) {
        size_t total = vrpc_get_u32(pr->in); /* validated by process_input */
        if (total > need)
            need = total;
    }
    if (!(pr->in_cap >= need && pr->in_cap > pr->in_len)) {
        cap = pr->in_cap ? pr->in_cap : VRPC_PROTO_IN_CHUNK;
        while (cap < need)
            cap *= 2;
        if (cap > VRPC_MSG_PACKET_MAX && need <= VRPC_MSG_PACKET_MAX)
            cap = VRPC_MSG_PACKET_MAX;
        n = vrpc_realloc(pr->in, cap);
        if (!n)
            return NULL;
        pr->in = n;
        pr->in_cap = cap;
    }
    *avail = pr->in_cap - pr->in_len;
    return pr->in + pr->in_len;
}

int vrpc_proto_take_fds(vrpc_proto *pr, const int *fds, size_t n)
{
    bool overflow = false;
    size_t i;

    for (i = 0; i < n; i++) {
        if (pr->status == 0 && pr->rx_nfds < sizeof(pr->rx_fds) / sizeof(pr->rx_fds[0])) {
            pr->rx_fds[pr->rx_nfds++] = fds[i];
        } else {
            close(fds[i]);
            overflow = pr->status == 0;
        }
    }
    if (overflow)
        return fail_proto(pr, RPC_ERR("the daemon sent more file descriptors than replies "
                                      "announced"));
    return pr->status;
}

int vrpc_proto_commit(vrpc_proto *pr, size_t n)
{
    int rc;

    if (pr->status)
        return pr->status;
    if (n > pr->in_cap - pr->in_len)
        n = pr->in_cap - pr->in_len;
    pr->in_len += n;
    rc = process_input(pr);
    if (rc)
        return rc;
    if (pr->rx_nfds > pr->skip_carriers)
        return fail_proto(pr, RPC_ERR("the daemon sent a file descriptor without a reply "
                                      "announcing it"));
    return 0;
}

int vrpc_proto_feed(vrpc_proto *pr, const uint8_t *data, size_t n)
{
    while (n > 0 && pr->status == 0) {
        size_t avail, k;
        uint8_t *dst = vrpc_proto_in_space(pr, &avail);
        if (!dst) {
            vrpc_proto_fail(pr, VRPC_E_NOMEM,
                            vrpc_error_new(VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                                           "out of memory for the read buffer"));
            break;
        }
        k = n < avail ? n : avail;
        memcpy(dst, data, k);
        data += k;
        n -= k;
        vrpc_proto_commit(pr, k);
    }
    return pr->status;
}

void vrpc_proto_eof(vrpc_proto *pr)
{
    vrpc_error *e;

    if (pr->status)
        return;
    if (pr->in_len)
        e = RPC_ERR("connection closed by the daemon in the middle of a packet (%zu bytes "
                    "received)",
                    pr->in_len);
    else if (pr->skip_carriers)
        e = RPC_ERR("connection closed by the daemon before %u announced file descriptors "
                    "arrived",
                    pr->skip_carriers);
    else
        e = RPC_ERR("connection closed by the daemon");
    vrpc_proto_fail(pr, VRPC_E_CLOSED, e);
}

size_t vrpc_proto_in_buffered(const vrpc_proto *pr)
{
    return pr->in_len + pr->skip_carriers;
}
