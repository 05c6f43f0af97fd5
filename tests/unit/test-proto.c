/* SPDX-License-Identifier: MIT */
/*
 * The protocol core without I/O: no socket, no thread, no clock.
 *
 *  1. One session of daemon bytes (replies of every kind, an error reply,
 *     a reply with descriptors and their carrier bytes, events, stream
 *     packets, keepalive PINGs and PONGs, a reply too big to copy, a reply
 *     for the wrong procedure, end of stream) is fed whole, byte by byte
 *     and in 300 random splits: every way gives the same trace of
 *     callbacks and the same bytes to send, and the whole feed gives the
 *     trace written below.
 *  2. A table of single packets, one per type/status/program combination
 *     libvirt's client distinguishes: what is accepted, what fails only
 *     its call and what fails the connection, with the reason.
 *  3. Descriptors: a carrier without a descriptor, descriptors nobody
 *     announced, more than can wait, and no descriptor leaked.
 *
 * With --replay PREFIX it replays a real session instead, recorded at test
 * time from a private daemon (tests/integration/test-proto-replay.sh):
 * PREFIX.calls holds what the client sent, PREFIX.replies what the daemon
 * sent. The calls are entered in the core in the order they were sent, the
 * daemon's bytes are fed whole, byte by byte and in random splits, and each
 * way must give the same trace; every call must complete with a reply that
 * decodes, or a daemon error; each PING must be answered.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "message.h"
#include "proto.h"
#include "tap.h"

#define TPROG 0x7e570001u
#define EPROG 0x20008086u /* the remote program: events */

static const vrpc_proc pd_a = {.name = "a", .program = TPROG, .version = 1, .number = 1};
static const vrpc_proc pd_b = {.name = "b", .program = TPROG, .version = 1, .number = 2};
static const vrpc_proc pd_fd = {.name = "fd", .program = TPROG, .version = 1, .number = 3};

/* ---- the trace the callbacks write ---- */

typedef struct trace {
    char buf[32768];
    size_t len;
    bool take_orphans; /* the orphan_error callback answers true */
    int fds_seen;
} trace;

__attribute__((format(printf, 2, 3))) static void tr_add(trace *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->len >= sizeof(t->buf) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < sizeof(t->buf) - t->len ? (size_t)n : sizeof(t->buf) - t->len - 1;
}

static uint32_t sum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    while (n--)
        s = s * 31 + *p++;
    return s;
}

static const char *code(int rc)
{
    switch (rc) {
    case 0:
        return "0";
    case VRPC_E_PROTO:
        return "PROTO";
    case VRPC_E_REMOTE:
        return "REMOTE";
    case VRPC_E_CLOSED:
        return "CLOSED";
    case VRPC_E_IO:
        return "IO";
    case VRPC_E_NOMEM:
        return "NOMEM";
    default:
        return "other";
    }
}

static void cb_done(vrpc_proto_call *call, void *ud)
{
    trace *t = ud;
    uint32_t i;
    tr_add(t, "done %s#%u rc=%s len=%zu sum=%08x fds=%u err=%s\n", call->proc->name, call->serial,
           code(call->rc), call->len, call->buf ? sum(call->buf + call->off, call->len) : 0,
           call->nfds, call->err ? call->err->message : "-");
    for (i = 0; i < call->nfds; i++) {
        t->fds_seen++;
        close(call->fds[i]);
    }
    vrpc_free(call->fds);
    vrpc_free(call->buf);
    vrpc_free(call->err);
    call->fds = NULL;
    call->buf = NULL;
    call->err = NULL;
    call->nfds = 0;
}

static int cb_event(const vrpc_packet *pkt, void *ud, vrpc_error **err)
{
    (void)err;
    tr_add(ud, "event prog=%x vers=%u proc=%d len=%zu sum=%08x\n", pkt->hdr.prog, pkt->hdr.vers,
           pkt->hdr.proc, pkt->payload_len, sum(pkt->payload, pkt->payload_len));
    return 0;
}

static int cb_stream(const vrpc_packet *pkt, void *ud, vrpc_error **err)
{
    (void)err;
    tr_add(ud, "stream type=%d serial=%u status=%d len=%zu\n", pkt->hdr.type, pkt->hdr.serial,
           pkt->hdr.status, pkt->payload_len);
    return 0;
}

static bool cb_orphan(const vrpc_packet *pkt, void *ud)
{
    trace *t = ud;
    tr_add(t, "orphan serial=%u taken=%d\n", pkt->hdr.serial, t->take_orphans);
    return t->take_orphans;
}

static void cb_keepalive(int32_t proc, void *ud)
{
    tr_add(ud, "keepalive proc=%d\n", proc);
}

static void cb_fatal(int rc, vrpc_error *e, void *ud)
{
    tr_add(ud, "fatal %s %s\n", code(rc), e && e->message ? e->message : "?");
    vrpc_free(e);
}

static const vrpc_proto_cbs cbs = {
    .call_done = cb_done,
    .event = cb_event,
    .stream = cb_stream,
    .orphan_error = cb_orphan,
    .keepalive = cb_keepalive,
    .fatal = cb_fatal,
};

/* ---- building the daemon's bytes ---- */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
    size_t carriers[16]; /* offsets of carrier bytes */
    int ncarriers;
} bytes;

static void put(bytes *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void pkt(bytes *b, uint32_t prog, uint32_t vers, int32_t proc, int32_t type, uint32_t serial,
                int32_t status, const void *payload, size_t len)
{
    uint8_t h[VRPC_MSG_PACKET_MIN];
    vrpc_msg_header hd = {prog, vers, proc, type, serial, status};
    vrpc_put_u32(h, (uint32_t)(VRPC_MSG_PACKET_MIN + len));
    vrpc_msg_header_put(h + VRPC_MSG_LEN_SIZE, &hd);
    put(b, h, sizeof(h));
    if (len)
        put(b, payload, len);
}

static void carrier(bytes *b)
{
    uint8_t z = 0;
    b->carriers[b->ncarriers++] = b->len;
    put(b, &z, 1);
}

/* ---- the session ---- */

typedef struct call_set {
    vrpc_proto_call a0, b1, a2, fd3, b4, a5;
} call_set;

static void add_calls(vrpc_proto *pr, call_set *cs)
{
    memset(cs, 0, sizeof(*cs));
    cs->a0.proc = &pd_a;
    cs->b1.proc = &pd_b;
    cs->a2.proc = &pd_a;
    cs->fd3.proc = &pd_fd;
    cs->b4.proc = &pd_b;
    cs->a5.proc = &pd_a;
    vrpc_proto_call_add(pr, &cs->a0);
    vrpc_proto_call_add(pr, &cs->b1);
    vrpc_proto_call_add(pr, &cs->a2);
    vrpc_proto_call_add(pr, &cs->fd3);
    vrpc_proto_call_add(pr, &cs->b4);
    vrpc_proto_call_add(pr, &cs->a5);
}

static uint8_t big[100000];

static void build_session(bytes *b)
{
    uint8_t four[4] = {0, 0, 0, 42}, ev[12] = {0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8}, data[100];
    uint8_t err[16] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t fdp[8] = {0, 0, 0, 2, 0, 0, 0, 9};
    size_t i;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    pkt(b, VRPC_MSG_KEEPALIVE_PROG, 1, VRPC_MSG_KEEPALIVE_PING, VRPC_MSG_MESSAGE, 0, VRPC_MSG_OK,
        NULL, 0);
    pkt(b, EPROG, 1, 300, VRPC_MSG_MESSAGE, 1, VRPC_MSG_OK, ev, sizeof(ev));
    pkt(b, TPROG, 1, 2, VRPC_MSG_REPLY, 1, VRPC_MSG_OK, NULL, 0);
    pkt(b, TPROG, 1, 9, VRPC_MSG_STREAM, 77, VRPC_MSG_CONTINUE, data, sizeof(data));
    pkt(b, TPROG, 1, 1, VRPC_MSG_REPLY, 0, VRPC_MSG_OK, four, sizeof(four));
    pkt(b, TPROG, 1, 1, VRPC_MSG_REPLY, 2, VRPC_MSG_ERROR, err, sizeof(err));
    pkt(b, TPROG, 1, 3, VRPC_MSG_REPLY_WITH_FDS, 3, VRPC_MSG_OK, fdp, sizeof(fdp));
    carrier(b);
    carrier(b);
    pkt(b, VRPC_MSG_KEEPALIVE_PROG, 1, VRPC_MSG_KEEPALIVE_PONG, VRPC_MSG_MESSAGE, 0, VRPC_MSG_OK,
        NULL, 0);
    pkt(b, VRPC_MSG_KEEPALIVE_PROG, 1, VRPC_MSG_KEEPALIVE_PING, VRPC_MSG_MESSAGE, 0, VRPC_MSG_OK,
        NULL, 0);
    pkt(b, TPROG, 1, 9, VRPC_MSG_STREAM_HOLE, 77, VRPC_MSG_CONTINUE, big, 12);
    pkt(b, TPROG, 1, 1, VRPC_MSG_REPLY, 4, VRPC_MSG_OK, NULL, 0); /* b4 answered as proc 1 */
    pkt(b, TPROG, 1, 1, VRPC_MSG_REPLY, 5, VRPC_MSG_OK, big, sizeof(big));
    pkt(b, TPROG, 1, 9, VRPC_MSG_STREAM, 77, VRPC_MSG_OK, NULL, 0);
}

static const char session_trace[] =
    "keepalive proc=1\n"
    "event prog=20008086 vers=1 proc=300 len=12 sum=%08x\n"
    "done b#1 rc=0 len=0 sum=00000000 fds=0 err=-\n"
    "stream type=3 serial=77 status=2 len=100\n"
    "done a#0 rc=0 len=4 sum=0000002a fds=0 err=-\n"
    "done a#2 rc=REMOTE len=16 sum=%08x fds=0 err=-\n"
    "done fd#3 rc=0 len=4 sum=00000009 fds=2 err=-\n"
    "keepalive proc=2\n"
    "keepalive proc=1\n"
    "stream type=6 serial=77 status=2 len=12\n"
    "done b#4 rc=PROTO len=0 sum=00000000 fds=0 err=the reply to b (serial 4) is for procedure 1\n"
    "done a#5 rc=0 len=100000 sum=%08x fds=0 err=-\n"
    "stream type=3 serial=77 status=0 len=0\n"
    "fatal CLOSED connection closed by the daemon\n";

/* Feed the session in chunks ending at the given cut offsets. */
static void run_session(const bytes *b, const size_t *cuts, size_t ncuts, trace *t, uint8_t *out,
                        size_t *out_len)
{
    vrpc_proto pr;
    call_set cs;
    size_t off = 0, k;
    int ci = 0;

    memset(t, 0, sizeof(*t));
    if (vrpc_proto_init(&pr, &cbs, t))
        abort();
    add_calls(&pr, &cs);
    for (k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : b->len;
        if (end <= off)
            continue;
        /* Descriptors come with the read that holds their carrier byte. */
        while (ci < b->ncarriers && b->carriers[ci] < end) {
            int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            vrpc_proto_take_fds(&pr, &fd, 1);
            ci++;
        }
        vrpc_proto_feed(&pr, b->p + off, end - off);
        off = end;
    }
    /* What the core wants sent (PONGs), before the end of the stream. */
    *out_len = 0;
    for (;;) {
        const uint8_t *d;
        int fd;
        size_t n = vrpc_proto_out_peek(&pr, &d, &fd);
        if (!n)
            break;
        if (*out_len + n <= 256)
            memcpy(out + *out_len, d, n);
        *out_len += n;
        vrpc_proto_out_sent(&pr, n);
    }
    vrpc_proto_eof(&pr);
    vrpc_proto_fini(&pr);
}

static void test_session(void)
{
    bytes b = {0};
    trace whole, t;
    uint8_t out_whole[256], out[256];
    size_t out_whole_len, out_len, i, *cuts;
    char want[sizeof(session_trace) + 64];
    uint8_t err[16] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t ev[12] = {0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t pong[VRPC_MSG_PACKET_MIN];
    bool same_bytes = true, same_random = true;
    int round;

    build_session(&b);
    snprintf(want, sizeof(want), session_trace, sum(ev, sizeof(ev)), sum(err, sizeof(err)),
             sum(big, sizeof(big)));
    run_session(&b, NULL, 0, &whole, out_whole, &out_whole_len);
    TAP_OK(strcmp(whole.buf, want) == 0, "whole session: the expected callbacks in order");
    if (strcmp(whole.buf, want) != 0)
        tap_diag("got:\n%s", whole.buf);
    vrpc_msg_keepalive(pong, VRPC_MSG_KEEPALIVE_PONG);
    /* Two PINGs, no output taken in between: one PONG answers both. */
    TAP_OK(out_whole_len == sizeof(pong) && memcmp(out_whole, pong, sizeof(pong)) == 0,
           "whole session: one PONG queued for two PINGs with nothing sent between");
    TAP_OK(whole.fds_seen == 2, "whole session: both descriptors reached their reply");

    cuts = malloc(b.len * sizeof(*cuts));
    for (i = 0; i < b.len; i++)
        cuts[i] = i + 1;
    run_session(&b, cuts, b.len, &t, out, &out_len);
    same_bytes = strcmp(t.buf, whole.buf) == 0 && out_len == out_whole_len &&
                 memcmp(out, out_whole, out_len) == 0;
    TAP_OK(same_bytes, "byte by byte (%zu feeds): the same trace and output", b.len);
    if (!same_bytes)
        tap_diag("got:\n%s", t.buf);

    srand(9);
    for (round = 0; round < 300 && same_random; round++) {
        size_t n = 0, pos = 0;
        while (pos < b.len) {
            size_t step = (size_t)rand() % (round % 3 == 0 ? 8 : round % 3 == 1 ? 300 : 70000) + 1;
            pos += step;
            cuts[n++] = pos < b.len ? pos : b.len;
        }
        run_session(&b, cuts, n, &t, out, &out_len);
        same_random = strcmp(t.buf, whole.buf) == 0 && out_len == out_whole_len &&
                      memcmp(out, out_whole, out_len) == 0 && t.fds_seen == 2;
        if (!same_random)
            tap_diag("round %d differs:\n%s", round, t.buf);
    }
    TAP_OK(same_random, "300 random splits: the same trace and output");
    free(cuts);
    free(b.p);
}

/* ---- one packet at a time: what libvirt's client accepts ---- */

typedef struct pcase {
    const char *what;
    uint32_t prog, vers;
    int32_t proc, type;
    uint32_t serial;
    int32_t status;
    uint32_t payload_u32; /* 4 payload bytes when nonzero or *_WITH_FDS (the count) */
    bool take_orphans;
    const char *want; /* substring of the trace */
    int want_status;  /* the core's status afterwards */
    int want_out;     /* packets queued to send */
} pcase;

#define KA VRPC_MSG_KEEPALIVE_PROG
#define M(t) VRPC_MSG_##t

static const pcase pcases[] = {
    {"keepalive PING", KA, 1, 1, M(MESSAGE), 0, M(OK), 0, false, "keepalive proc=1", 0, 1},
    {"keepalive PONG", KA, 1, 2, M(MESSAGE), 0, M(OK), 0, false, "keepalive proc=2", 0, 0},
    {"keepalive MESSAGE of an unknown procedure (ignored)", KA, 1, 9, M(MESSAGE), 0, M(OK), 0,
     false, "keepalive proc=9", 0, 0},
    {"keepalive PING with status ERROR (consumed as libvirt does)", KA, 1, 1, M(MESSAGE), 0,
     M(ERROR), 0, false, "keepalive proc=1", 0, 1},
    {"keepalive REPLY is a protocol error", KA, 1, 1, M(REPLY), 0, M(OK), 0, false,
     "fatal PROTO the daemon sent a REPLY of the keepalive program", VRPC_E_PROTO, 0},
    {"keepalive REPLY with the serial of a waiting call is a protocol error", KA, 1, 1, M(REPLY), 7,
     M(OK), 0, false, "fatal PROTO the daemon sent a REPLY of the keepalive program", VRPC_E_PROTO,
     0},
    {"keepalive REPLY_WITH_FDS is a protocol error", KA, 1, 1, M(REPLY_WITH_FDS), 0, M(OK), 0,
     false, "fatal PROTO the daemon sent a REPLY_WITH_FDS of the keepalive program", VRPC_E_PROTO,
     0},
    {"keepalive REPLY/ERROR is offered to streams first, then fatal", KA, 1, 1, M(REPLY), 0,
     M(ERROR), 0, false, "fatal PROTO", VRPC_E_PROTO, 0},
    {"keepalive version 2 MESSAGE is an event", KA, 2, 1, M(MESSAGE), 0, M(OK), 0, false,
     "event prog=6b656570 vers=2", 0, 0},
    {"keepalive STREAM goes to the streams", KA, 1, 1, M(STREAM), 0, M(CONTINUE), 0, false,
     "stream type=3", 0, 0},
    {"keepalive CALL is a protocol error", KA, 1, 1, M(CALL), 0, M(OK), 0, false,
     "fatal PROTO the daemon sent a CALL", VRPC_E_PROTO, 0},
    {"REPLY OK", TPROG, 1, 1, M(REPLY), 7, M(OK), 0, false, "done a#7 rc=0", 0, 0},
    {"REPLY ERROR", TPROG, 1, 1, M(REPLY), 7, M(ERROR), 0, false, "done a#7 rc=REMOTE", 0, 0},
    {"REPLY CONTINUE fails only the call", TPROG, 1, 1, M(REPLY), 7, M(CONTINUE), 0, false,
     "done a#7 rc=PROTO len=0 sum=00000000 fds=0 err=the reply to a (serial 7) has unexpected "
     "status 2",
     0, 0},
    {"REPLY with an unknown status fails only the call", TPROG, 1, 1, M(REPLY), 7, 9, 0, false,
     "unexpected status 9", 0, 0},
    {"REPLY for another procedure fails only the call", TPROG, 1, 2, M(REPLY), 7, M(OK), 0, false,
     "is for procedure 2", 0, 0},
    {"REPLY of another version is a protocol error", TPROG, 2, 1, M(REPLY), 7, M(OK), 0, false,
     "fatal PROTO no call waiting for reply with prog 0x7e570001 vers 2 serial 7", VRPC_E_PROTO, 0},
    {"REPLY of another program is a protocol error", EPROG, 1, 1, M(REPLY), 7, M(OK), 0, false,
     "fatal PROTO no call waiting", VRPC_E_PROTO, 0},
    {"REPLY for an unknown serial is a protocol error", TPROG, 1, 1, M(REPLY), 8, M(OK), 0, false,
     "fatal PROTO no call waiting for reply with prog 0x7e570001 vers 1 serial 8", VRPC_E_PROTO, 0},
    {"REPLY/ERROR for an unknown serial a stream takes", TPROG, 1, 1, M(REPLY), 8, M(ERROR), 0,
     true, "orphan serial=8 taken=1", 0, 0},
    {"REPLY/ERROR for an unknown serial nobody takes", TPROG, 1, 1, M(REPLY), 8, M(ERROR), 0, false,
     "fatal PROTO no call waiting", VRPC_E_PROTO, 0},
    {"REPLY_WITH_FDS announcing none", TPROG, 1, 1, M(REPLY_WITH_FDS), 7, M(OK), 0, false,
     "done a#7 rc=0 len=0 sum=00000000 fds=0", 0, 0},
    {"REPLY_WITH_FDS announcing 33", TPROG, 1, 1, M(REPLY_WITH_FDS), 7, M(OK), 33, false,
     "fatal PROTO", VRPC_E_PROTO, 0},
    {"MESSAGE of another program is an event", EPROG, 1, 300, M(MESSAGE), 1, M(OK), 0, false,
     "event prog=20008086 vers=1 proc=300", 0, 0},
    {"MESSAGE with status ERROR is still an event", EPROG, 1, 300, M(MESSAGE), 1, M(ERROR), 0,
     false, "event prog=20008086", 0, 0},
    {"STREAM CONTINUE", TPROG, 1, 9, M(STREAM), 7, M(CONTINUE), 0, false,
     "stream type=3 serial=7 status=2", 0, 0},
    {"STREAM OK", TPROG, 1, 9, M(STREAM), 7, M(OK), 0, false, "stream type=3 serial=7 status=0", 0,
     0},
    {"STREAM ERROR", TPROG, 1, 9, M(STREAM), 7, M(ERROR), 0, false,
     "stream type=3 serial=7 status=1", 0, 0},
    {"STREAM_HOLE", TPROG, 1, 9, M(STREAM_HOLE), 7, M(CONTINUE), 0, false, "stream type=6", 0, 0},
    {"CALL is a protocol error", TPROG, 1, 1, M(CALL), 7, M(OK), 0, false,
     "fatal PROTO the daemon sent a CALL (prog 0x7e570001 proc 1 serial 7); a client serves no "
     "calls",
     VRPC_E_PROTO, 0},
    {"CALL_WITH_FDS is a protocol error", TPROG, 1, 1, M(CALL_WITH_FDS), 7, M(OK), 0, false,
     "fatal PROTO the daemon sent a CALL_WITH_FDS", VRPC_E_PROTO, 0},
    {"type 7 is a protocol error", TPROG, 1, 1, 7, 7, M(OK), 0, false,
     "fatal PROTO the daemon sent a message of unknown type 7", VRPC_E_PROTO, 0},
    {"type -1 is a protocol error", TPROG, 1, 1, -1, 7, M(OK), 0, false,
     "fatal PROTO the daemon sent a message of unknown type -1", VRPC_E_PROTO, 0},
};

static int count_out(vrpc_proto *pr)
{
    int n = 0;
    for (;;) {
        const uint8_t *d;
        int fd;
        size_t k = vrpc_proto_out_peek(pr, &d, &fd);
        if (!k)
            return n;
        vrpc_proto_out_sent(pr, k);
        n++;
    }
}

static void test_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
        const pcase *k = &pcases[i];
        vrpc_proto pr;
        vrpc_proto_call call = {.proc = &pd_a};
        trace t;
        bytes b = {0};
        uint8_t pl[4];
        int nout;

        memset(&t, 0, sizeof(t));
        t.take_orphans = k->take_orphans;
        vrpc_proto_init(&pr, &cbs, &t);
        pr.next_serial = 7;
        vrpc_proto_call_add(&pr, &call);
        vrpc_put_u32(pl, k->payload_u32);
        pkt(&b, k->prog, k->vers, k->proc, k->type, k->serial, k->status, pl,
            k->payload_u32 || k->type == VRPC_MSG_REPLY_WITH_FDS ? 4 : 0);
        vrpc_proto_feed(&pr, b.p, b.len);
        nout = count_out(&pr);
        TAP_OK(strstr(t.buf, k->want) && pr.status == k->want_status && nout == k->want_out &&
                   (k->want_status == 0 || strstr(t.buf, "done a#7 rc=PROTO")),
               "%s", k->what);
        if (!strstr(t.buf, k->want) || pr.status != k->want_status || nout != k->want_out)
            tap_diag("status %d, %d packets out, trace:\n%s", pr.status, nout, t.buf);
        if (call.state != VRPC_CALL_DONE)
            vrpc_proto_call_remove(&pr, &call);
        vrpc_proto_eof(&pr);
        cb_done(&call, &t); /* releases what the call still holds */
        vrpc_proto_fini(&pr);
        free(b.p);
    }
}

/* ---- framing errors and descriptors ---- */

static void test_framing_and_fds(void)
{
    vrpc_proto pr;
    vrpc_proto_call call = {.proc = &pd_fd};
    trace t;
    bytes b = {0};
    uint8_t bad[4], one = 0, nfds1[4] = {0, 0, 0, 1};
    int fd, fds[70], i;

    /* A length word below the header size. */
    memset(&t, 0, sizeof(t));
    vrpc_proto_init(&pr, &cbs, &t);
    vrpc_proto_call_add(&pr, &call);
    vrpc_put_u32(bad, 20);
    vrpc_proto_feed(&pr, bad, 4);
    TAP_OK(pr.status == VRPC_E_PROTO && call.state == VRPC_CALL_DONE && call.rc == VRPC_E_PROTO &&
               strstr(t.buf, "fatal PROTO"),
           "a length word below 28 fails the connection and the waiting call");
    vrpc_proto_fini(&pr);

    /* A length word above the maximum. */
    memset(&t, 0, sizeof(t));
    vrpc_proto_init(&pr, &cbs, &t);
    vrpc_put_u32(bad, VRPC_MSG_PACKET_MAX + 1);
    vrpc_proto_feed(&pr, bad, 4);
    TAP_OK(pr.status == VRPC_E_PROTO, "a length word above 32 MiB + 4 fails the connection");
    vrpc_proto_fini(&pr);

    /* End of stream in the middle of a packet. */
    memset(&t, 0, sizeof(t));
    vrpc_proto_init(&pr, &cbs, &t);
    vrpc_put_u32(bad, 40);
    vrpc_proto_feed(&pr, bad, 4);
    vrpc_proto_eof(&pr);
    TAP_OK(pr.status == VRPC_E_CLOSED && strstr(t.buf, "in the middle of a packet (4 bytes"),
           "end of stream inside a packet says so");
    vrpc_proto_fini(&pr);

    /* A carrier byte without its descriptor. */
    memset(&t, 0, sizeof(t));
    memset(&call, 0, sizeof(call));
    call.proc = &pd_fd;
    vrpc_proto_init(&pr, &cbs, &t);
    vrpc_proto_call_add(&pr, &call);
    pkt(&b, TPROG, 1, 3, VRPC_MSG_REPLY_WITH_FDS, 0, VRPC_MSG_OK, nfds1, 4);
    vrpc_proto_feed(&pr, b.p, b.len);
    TAP_OK(call.state == VRPC_CALL_SENT && pr.status == 0,
           "REPLY_WITH_FDS: the call waits for its carrier");
    vrpc_proto_feed(&pr, &one, 1);
    TAP_OK(pr.status == VRPC_E_PROTO && call.state == VRPC_CALL_DONE &&
               strstr(t.buf, "carrier byte without a descriptor"),
           "a carrier byte without a descriptor fails the connection and the call");
    cb_done(&call, &t);
    vrpc_proto_fini(&pr);

    /* End of stream before the carriers. */
    memset(&t, 0, sizeof(t));
    memset(&call, 0, sizeof(call));
    call.proc = &pd_fd;
    vrpc_proto_init(&pr, &cbs, &t);
    vrpc_proto_call_add(&pr, &call);
    vrpc_proto_feed(&pr, b.p, b.len);
    vrpc_proto_eof(&pr);
    TAP_OK(pr.status == VRPC_E_CLOSED && call.rc == VRPC_E_CLOSED &&
               strstr(t.buf, "before 1 announced file descriptors arrived"),
           "end of stream before the announced descriptors: the call fails, and says why");
    cb_done(&call, &t);
    vrpc_proto_fini(&pr);

    /* A descriptor nobody announced. */
    memset(&t, 0, sizeof(t));
    vrpc_proto_init(&pr, &cbs, &t);
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    vrpc_proto_take_fds(&pr, &fd, 1);
    vrpc_proto_feed(&pr, b.p, 4);
    TAP_OK(pr.status == VRPC_E_PROTO && strstr(t.buf, "without a reply announcing it"),
           "a descriptor no reply announced fails the connection");
    vrpc_proto_fini(&pr);

    /* More descriptors than can wait for their carriers. */
    memset(&t, 0, sizeof(t));
    vrpc_proto_init(&pr, &cbs, &t);
    for (i = 0; i < 70; i++)
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    TAP_OK(vrpc_proto_take_fds(&pr, fds, 70) == VRPC_E_PROTO && pr.status == VRPC_E_PROTO &&
               strstr(t.buf, "more file descriptors than replies announced"),
           "70 descriptors at once: refused, all closed");
    vrpc_proto_fini(&pr);
    free(b.p);

    /* Nothing accepted after the sticky error; queued output is dropped. */
    memset(&t, 0, sizeof(t));
    vrpc_proto_init(&pr, &cbs, &t);
    vrpc_proto_queue(&pr, vrpc_malloc(8), 8, NULL, 0);
    vrpc_proto_fail(&pr, VRPC_E_IO, NULL);
    TAP_OK(pr.out_head == NULL && pr.out_bytes == 0 &&
               vrpc_proto_queue(&pr, vrpc_malloc(8), 8, NULL, 0) == VRPC_E_IO &&
               vrpc_proto_feed(&pr, bad, 4) == VRPC_E_IO,
           "after a failure: output dropped, nothing queued or fed any more");
    vrpc_proto_fini(&pr);
}

/* ---- a recorded session ---- */

static uint8_t *load(const char *prefix, const char *ext, size_t *len)
{
    char path[4096];
    uint8_t *b = NULL;
    long n;
    FILE *f;
    snprintf(path, sizeof(path), "%s.%s", prefix, ext);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

typedef struct rec_call {
    vrpc_proto_call call;
    int decoded; /* 1: payload decoded, -1: did not, 0: not done */
} rec_call;

static void rec_done(vrpc_proto_call *call, void *ud)
{
    rec_call *rc = (rec_call *)call;
    if (call->rc == 0) {
        void *v = NULL;
        static const uint8_t none[4];
        if (!call->proc->ret)
            rc->decoded = call->len == 0 ? 1 : -1;
        else
            rc->decoded = vrpc_xdr_decode(call->proc->ret, call->buf ? call->buf + call->off : none,
                                          call->len, &v) == 0
                              ? 1
                              : -1;
        vrpc_free(v);
    } else if (call->rc == VRPC_E_REMOTE) {
        vrpc_error *e = NULL;
        rc->decoded = vrpc_msg_decode_error(call->buf ? call->buf + call->off : NULL, call->len,
                                            &e) == VRPC_E_REMOTE
                          ? 1
                          : -1;
        vrpc_free(e);
    } else {
        rc->decoded = -1;
    }
    cb_done(call, ud);
}

static const vrpc_proto_cbs rec_cbs = {
    .call_done = rec_done,
    .event = cb_event,
    .stream = cb_stream,
    .orphan_error = cb_orphan,
    .keepalive = cb_keepalive,
    .fatal = cb_fatal,
};

typedef struct recording {
    uint8_t *calls, *replies;
    size_t calls_len, replies_len;
    const vrpc_proc *procs[4096];
    uint32_t serials[4096];
    size_t ncalls;
    int pings;
} recording;

/* Replay; returns how many calls completed with a payload that decodes. */
static size_t replay(const recording *r, const size_t *cuts, size_t ncuts, trace *t, int *pongs)
{
    static rec_call calls[4096];
    vrpc_proto pr;
    size_t i, off = 0, k, good = 0;

    memset(t, 0, sizeof(*t));
    memset(calls, 0, sizeof(calls));
    vrpc_proto_init(&pr, &rec_cbs, t);
    for (i = 0; i < r->ncalls; i++) {
        calls[i].call.proc = r->procs[i];
        pr.next_serial = r->serials[i];
        vrpc_proto_call_add(&pr, &calls[i].call);
    }
    for (k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : r->replies_len;
        if (end > off)
            vrpc_proto_feed(&pr, r->replies + off, end - off);
        off = end > off ? end : off;
    }
    *pongs = 0;
    for (;;) {
        const uint8_t *d;
        int fd;
        vrpc_msg_header h;
        size_t n = vrpc_proto_out_peek(&pr, &d, &fd);
        if (!n)
            break;
        vrpc_msg_header_get(d + VRPC_MSG_LEN_SIZE, &h);
        if (n == VRPC_MSG_PACKET_MIN && h.prog == VRPC_MSG_KEEPALIVE_PROG &&
            h.proc == VRPC_MSG_KEEPALIVE_PONG)
            (*pongs)++;
        vrpc_proto_out_sent(&pr, n);
    }
    vrpc_proto_eof(&pr);
    for (i = 0; i < r->ncalls; i++)
        if (calls[i].call.state == VRPC_CALL_DONE && calls[i].decoded == 1)
            good++;
    vrpc_proto_fini(&pr);
    return good;
}

static int test_replay(const char *prefix)
{
    static recording r;
    size_t off = 0, good, n, i, *cuts;
    trace whole, t;
    int pongs, p2, round;
    bool same = true;

    r.calls = load(prefix, "calls", &r.calls_len);
    r.replies = load(prefix, "replies", &r.replies_len);
    if (!TAP_OK(r.calls && r.replies && r.replies_len >= VRPC_MSG_PACKET_MIN,
                "the recording %s.calls/.replies is there", prefix))
        return tap_done();
    /* The calls the client sent, in order. */
    while (off + VRPC_MSG_PACKET_MIN <= r.calls_len && r.ncalls < 4096) {
        vrpc_packet pkt;
        if (vrpc_msg_parse(r.calls + off, r.calls_len - off, &pkt, NULL, NULL))
            break;
        if (pkt.hdr.type == VRPC_MSG_CALL) {
            r.procs[r.ncalls] = vrpc_proc_find(pkt.hdr.prog, pkt.hdr.proc);
            r.serials[r.ncalls] = pkt.hdr.serial;
            if (!r.procs[r.ncalls])
                break;
            r.ncalls++;
        }
        off += pkt.size;
    }
    TAP_OK(off == r.calls_len && r.ncalls > 2, "%zu calls in %zu bytes the client sent", r.ncalls,
           r.calls_len);
    /* The daemon's PINGs. */
    for (off = 0; off + VRPC_MSG_PACKET_MIN <= r.replies_len;) {
        vrpc_packet pkt;
        if (vrpc_msg_parse(r.replies + off, r.replies_len - off, &pkt, NULL, NULL))
            break;
        if (pkt.hdr.prog == VRPC_MSG_KEEPALIVE_PROG && pkt.hdr.proc == VRPC_MSG_KEEPALIVE_PING)
            r.pings++;
        off += pkt.size;
    }
    good = replay(&r, NULL, 0, &whole, &pongs);
    TAP_OK(good == r.ncalls,
           "whole: every call completed with a reply or daemon error that decodes "
           "(%zu of %zu)",
           good, r.ncalls);
    TAP_OK(strstr(whole.buf, "fatal CLOSED connection closed by the daemon\n") &&
               !strstr(whole.buf, "fatal PROTO"),
           "whole: no protocol error, the end of the stream at the end");
    TAP_OK((r.pings == 0 && pongs == 0) || (r.pings > 0 && pongs >= 1),
           "whole: %d PINGs from the daemon, %d PONGs queued", r.pings, pongs);
    {
        const char *q = whole.buf;
        int nev = 0;
        while ((q = strstr(q, "\nevent ")) != NULL) {
            nev++;
            q++;
        }
        tap_diag("%zu bytes from the daemon, %d events, %d PINGs", r.replies_len, nev, r.pings);
    }

    cuts = malloc((r.replies_len + 1) * sizeof(*cuts));
    for (i = 0; i < r.replies_len; i++)
        cuts[i] = i + 1;
    good = replay(&r, cuts, r.replies_len, &t, &p2);
    TAP_OK(strcmp(t.buf, whole.buf) == 0 && p2 == pongs && good == r.ncalls,
           "byte by byte: the same trace");
    srand(11);
    for (round = 0; round < 100 && same; round++) {
        size_t pos = 0;
        n = 0;
        while (pos < r.replies_len) {
            pos += (size_t)rand() % (round % 2 ? 40 : 2000) + 1;
            cuts[n++] = pos < r.replies_len ? pos : r.replies_len;
        }
        good = replay(&r, cuts, n, &t, &p2);
        same = strcmp(t.buf, whole.buf) == 0 && p2 == pongs && good == r.ncalls;
    }
    TAP_OK(same, "100 random splits: the same trace");
    free(cuts);
    free(r.calls);
    free(r.replies);
    return tap_done();
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--replay") == 0)
        return test_replay(argv[2]);
    test_session();
    test_table();
    test_framing_and_fds();
    return tap_done();
}
