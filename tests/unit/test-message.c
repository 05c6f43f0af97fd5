/* SPDX-License-Identifier: MIT */
/* Message framing: header and length vectors, boundaries, error payloads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "error.h"
#include "message.h"
#include "tap.h"

/* ---- a tiny XDR writer for hand-made payloads ---- */

typedef struct wbuf {
    uint8_t b[4096];
    size_t n;
} wbuf;

static void w_u32(wbuf *w, uint32_t v)
{
    vrpc_put_u32(w->b + w->n, v);
    w->n += 4;
}

static void w_bytes(wbuf *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
    while (w->n % 4)
        w->b[w->n++] = 0;
}

static void w_str(wbuf *w, const char *s)
{
    w_u32(w, (uint32_t)strlen(s));
    w_bytes(w, s, strlen(s));
}

static void w_optstr(wbuf *w, const char *s)
{
    w_u32(w, s ? 1 : 0);
    if (s)
        w_str(w, s);
}

/* A remote_error payload; dom/net present when their name is given. */
static void w_error(wbuf *w, int32_t code, int32_t domain, const char *msg, int32_t level,
                    const char *dom, const char *s1, const char *s2, const char *s3, int32_t i1,
                    int32_t i2, const char *net)
{
    static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    w_u32(w, (uint32_t)code);
    w_u32(w, (uint32_t)domain);
    w_optstr(w, msg);
    w_u32(w, (uint32_t)level);
    w_u32(w, dom ? 1 : 0);
    if (dom) {
        w_str(w, dom);
        w_bytes(w, uuid, 16);
        w_u32(w, 7);
    }
    w_optstr(w, s1);
    w_optstr(w, s2);
    w_optstr(w, s3);
    w_u32(w, (uint32_t)i1);
    w_u32(w, (uint32_t)i2);
    w_u32(w, net ? 1 : 0);
    if (net) {
        w_str(w, net);
        w_bytes(w, uuid, 16);
    }
}

static int hexeq(const uint8_t *a, const char *hex)
{
    size_t i, n = strlen(hex) / 2;
    for (i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || a[i] != v)
            return 0;
    }
    return 1;
}

static bool same(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* ---- header and length ---- */

static void test_header(void)
{
    vrpc_msg_header h = {0x20008086u, 1, 66, VRPC_MSG_CALL, 0, VRPC_MSG_OK}, g;
    vrpc_msg_header n = {0xffffffffu, 2, -1, VRPC_MSG_STREAM_HOLE, 0x80000000u, VRPC_MSG_CONTINUE};
    uint8_t b[24];

    vrpc_msg_header_put(b, &h);
    TAP_OK(hexeq(b, "200080860000000100000042000000000000000000000000"),
           "header AUTH_LIST call: 24 bytes big-endian");
    vrpc_msg_header_put(b, &n);
    vrpc_msg_header_get(b, &g);
    TAP_OK(hexeq(b, "ffffffff00000002ffffffff000000068000000000000002") && g.prog == n.prog &&
               g.vers == 2 && g.proc == -1 && g.type == 6 && g.serial == 0x80000000u &&
               g.status == 2,
           "header round trip with negative proc and high serial");
}

static void test_lengths(void)
{
    static const struct {
        uint32_t len;
        int rc;
        const char *msg;
    } v[] = {
        {0, VRPC_E_PROTO, "too small"},
        {4, VRPC_E_PROTO, "too small"},
        {27, VRPC_E_PROTO, "too small"},
        {28, 0, NULL},
        {29, 0, NULL},
        {65540, 0, NULL},
        {33554432u + 4u, 0, NULL},
        {33554432u + 5u, VRPC_E_PROTO, "too large"},
        {0xffffffffu, VRPC_E_PROTO, "too large"},
    };
    size_t i;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        vrpc_error *e = NULL;
        int rc = vrpc_msg_check_length(v[i].len, &e);
        TAP_OK(rc == v[i].rc &&
                   (v[i].msg ? e && strstr(e->message, v[i].msg) && e->code == VRPC_ERR_RPC &&
                                   e->domain == VRPC_FROM_RPC
                             : e == NULL),
               "length word %u: %s", v[i].len, v[i].rc ? v[i].msg : "accepted");
        vrpc_free(e);
    }
    TAP_OK(vrpc_msg_check_length(3, NULL) == VRPC_E_PROTO, "length check with NULL err");
}

static void test_parse(void)
{
    uint8_t buf[200];
    vrpc_packet pkt;
    vrpc_error *e = NULL;
    size_t need = 0;
    int rc;

    memset(buf, 0, sizeof(buf));
    /* packet 1: 36 bytes, REPLY serial 5, payload 8 bytes */
    vrpc_put_u32(buf, 36);
    {
        vrpc_msg_header h = {0x20008086u, 1, 4, VRPC_MSG_REPLY, 5, VRPC_MSG_OK};
        vrpc_msg_header_put(buf + 4, &h);
    }
    vrpc_put_u32(buf + 28, 0x01020304);
    vrpc_put_u32(buf + 32, 0x05060708);
    /* packet 2: 28 bytes keepalive PING */
    vrpc_msg_keepalive(buf + 36, VRPC_MSG_KEEPALIVE_PING);

    rc = vrpc_msg_parse(buf, 0, &pkt, &need, NULL);
    TAP_OK(rc == VRPC_E_AGAIN && need == 4, "parse: empty buffer needs 4 bytes");
    rc = vrpc_msg_parse(buf, 3, &pkt, &need, NULL);
    TAP_OK(rc == VRPC_E_AGAIN && need == 4, "parse: 3 bytes need the whole length word");
    rc = vrpc_msg_parse(buf, 4, &pkt, &need, NULL);
    TAP_OK(rc == VRPC_E_AGAIN && need == 36, "parse: length word known, need 36");
    rc = vrpc_msg_parse(buf, 35, &pkt, &need, NULL);
    TAP_OK(rc == VRPC_E_AGAIN && need == 36, "parse: one byte short");
    rc = vrpc_msg_parse(buf, 64, &pkt, &need, NULL);
    TAP_OK(rc == 0 && pkt.size == 36 && pkt.payload == buf + 28 && pkt.payload_len == 8 &&
               pkt.hdr.prog == 0x20008086u && pkt.hdr.proc == 4 && pkt.hdr.serial == 5 &&
               pkt.hdr.type == VRPC_MSG_REPLY && pkt.hdr.status == VRPC_MSG_OK,
           "parse: first of two packets");
    rc = vrpc_msg_parse(buf + 36, 28, &pkt, &need, NULL);
    TAP_OK(rc == 0 && pkt.size == 28 && pkt.payload_len == 0 &&
               pkt.hdr.prog == VRPC_MSG_KEEPALIVE_PROG && pkt.hdr.type == VRPC_MSG_MESSAGE &&
               pkt.hdr.proc == VRPC_MSG_KEEPALIVE_PING,
           "parse: second packet, 28 bytes, empty payload");

    vrpc_put_u32(buf, 27);
    rc = vrpc_msg_parse(buf, 64, &pkt, &need, &e);
    TAP_OK(rc == VRPC_E_PROTO && e && strstr(e->message, "27 bytes") &&
               strstr(e->message, "too small"),
           "parse: 27-byte length word is a protocol error");
    vrpc_free(e);
    e = NULL;
    vrpc_put_u32(buf, VRPC_MSG_PACKET_MAX + 1);
    rc = vrpc_msg_parse(buf, 4, &pkt, &need, &e);
    TAP_OK(rc == VRPC_E_PROTO && e && strstr(e->message, "too large"),
           "parse: 32 MiB + 5 rejected from the length word alone");
    vrpc_free(e);
    e = NULL;
    vrpc_put_u32(buf, VRPC_MSG_PACKET_MAX);
    rc = vrpc_msg_parse(buf, 64, &pkt, &need, &e);
    TAP_OK(rc == VRPC_E_AGAIN && need == VRPC_MSG_PACKET_MAX && !e,
           "parse: 32 MiB + 4 accepted, waits for the rest");
}

static void test_nfds(void)
{
    uint8_t payload[8];
    vrpc_packet pkt;
    vrpc_error *e = NULL;
    uint32_t n = 99;

    vrpc_put_u32(payload, 2);
    vrpc_put_u32(payload + 4, 0xabcdef01u);
    pkt.payload = payload;
    pkt.payload_len = 8;
    TAP_OK(vrpc_msg_take_nfds(&pkt, &n, NULL) == 0 && n == 2 && pkt.payload == payload + 4 &&
               pkt.payload_len == 4,
           "nfds: count taken off the payload");
    vrpc_put_u32(payload, 33);
    pkt.payload = payload;
    pkt.payload_len = 8;
    TAP_OK(vrpc_msg_take_nfds(&pkt, &n, &e) == VRPC_E_PROTO && e && strstr(e->message, "33"),
           "nfds: more than 32 rejected");
    vrpc_free(e);
    e = NULL;
    pkt.payload_len = 3;
    TAP_OK(vrpc_msg_take_nfds(&pkt, &n, &e) == VRPC_E_PROTO && e, "nfds: missing count");
    vrpc_free(e);
}

/* ---- building packets ---- */

static const vrpc_type td_str = {
    .name = "s", .kind = VRPC_KIND_STRING, .size = sizeof(char *), .bound = 8, .min_wire = 4};
static const vrpc_type td_big = {.name = "big",
                                 .kind = VRPC_KIND_OPAQUE_VAR,
                                 .size = sizeof(vrpc_bytes),
                                 .bound = VRPC_UNBOUNDED,
                                 .min_wire = 4};

static void test_build(void)
{
    vrpc_buf b = {0};
    vrpc_connect_open_args oa;
    vrpc_msg_header h = {1, 2, 3, VRPC_MSG_CALL, 4, VRPC_MSG_OK};
    uint8_t ka[28];
    int rc;

    rc = vrpc_msg_build_call(&b, &vrpc_pd_auth_list, 0, NULL);
    TAP_OK(rc == 0 && b.len == 28 &&
               hexeq(b.data, "0000001c200080860000000100000042000000000000000000000000"),
           "build: AUTH_LIST call, serial 0, 28 bytes");
    vrpc_msg_set_serial(b.data, 0x01020304u);
    TAP_OK(hexeq(b.data + 20, "01020304"), "build: serial patched at offset 20");
    b.len = 0;

    oa.name = (char *)"test:///default";
    oa.flags = 1;
    rc = vrpc_msg_build_call(&b, &vrpc_pd_connect_open, 7, &oa);
    TAP_OK(rc == 0 && b.len == 56 &&
               hexeq(b.data, "00000038200080860000000100000001000000000000000700000000"
                             "000000010000000f746573743a2f2f2f64656661756c740000000001"),
           "build: CONNECT_OPEN {\"test:///default\", 1}, 56 bytes");
    b.len = 0;
    oa.name = NULL;
    oa.flags = 0;
    rc = vrpc_msg_build_call(&b, &vrpc_pd_connect_open, 1, &oa);
    TAP_OK(rc == 0 && b.len == 36 && hexeq(b.data + 28, "0000000000000000"),
           "build: CONNECT_OPEN with absent name");

    /* Appending: a second packet after the first, errors leave len alone. */
    rc = vrpc_msg_build(&b, &h, NULL, NULL);
    TAP_OK(rc == 0 && b.len == 64 &&
               hexeq(b.data + 36, "0000001c0000000100000002000000030000000000000004"),
           "build: second packet appended, void payload");
    {
        char *nul = NULL, *longs = (char *)"123456789";
        rc = vrpc_msg_build(&b, &h, &td_str, &nul);
        TAP_OK(rc == VRPC_E_INVALID && b.len == 64, "build: NULL string -> INVALID, len kept");
        rc = vrpc_msg_build(&b, &h, &td_str, &longs);
        TAP_OK(rc == VRPC_E_TOO_BIG && b.len == 64, "build: string over its bound -> TOO_BIG");
    }
    {
        vrpc_bytes big;
        size_t n = VRPC_MESSAGE_MAX - 24 - 4 + 1; /* one byte over the cap */
        big.len = (uint32_t)n;
        big.data = calloc(1, n);
        b.len = 0;
        rc = vrpc_msg_build(&b, &h, &td_big, &big);
        TAP_OK(rc == VRPC_E_TOO_BIG && b.len == 0, "build: packet over 32 MiB + 4 -> TOO_BIG");
        big.len = (uint32_t)(n - 4); /* exactly 32 MiB + 4 with padding */
        rc = vrpc_msg_build(&b, &h, &td_big, &big);
        TAP_OK(rc == 0 && b.len == VRPC_MSG_PACKET_MAX &&
                   vrpc_get_u32(b.data) == VRPC_MSG_PACKET_MAX,
               "build: packet of exactly 32 MiB + 4");
        free(big.data);
    }
    vrpc_buf_reset(&b);

    vrpc_msg_keepalive(ka, VRPC_MSG_KEEPALIVE_PONG);
    TAP_OK(hexeq(ka, "0000001c6b656570000000010000000200000002000000000000000"
                     "0"),
           "keepalive PONG: 28 bytes, prog 0x6b656570, type MESSAGE, serial 0");
}

/* ---- error payloads ---- */

static void test_error_full(void)
{
    wbuf w = {.n = 0};
    vrpc_error *e = NULL;
    int rc;

    w_error(&w, 42, 10, "Domain not found: vm", 2, "vm", "s1", "s2", "s3", -5, 9, "default");
    rc = vrpc_msg_decode_error(w.b, w.n, &e);
    TAP_OK(rc == VRPC_E_REMOTE && e && e->code == 42 && e->domain == 10 &&
               same(e->message, "Domain not found: vm") && e->level == 2 && e->dom &&
               same(e->dom->name, "vm") && e->dom->id == 7 && e->dom->uuid[15] == 16 &&
               same(e->str1, "s1") && same(e->str2, "s2") && same(e->str3, "s3") && e->int1 == -5 &&
               e->int2 == 9 && e->net && same(e->net->name, "default") && e->net->uuid[0] == 1,
           "error payload: every field decoded");
    if (e) {
        vrpc_error *d = vrpc_error_dup(e, NULL);
        vrpc_error *p = vrpc_error_dup(e, NULL);
        vrpc_free(e);
        TAP_OK(d && d->code == 42 && same(d->message, "Domain not found: vm") &&
                   same(d->dom->name, "vm") && d->dom->id == 7 && d->dom->uuid[3] == 4 &&
                   same(d->net->name, "default") && same(d->str3, "s3") && d->int1 == -5,
               "error dup: deep copy in one allocation");
        vrpc_error_prefix(&p, "open: CONNECT_OPEN");
        TAP_OK(p && same(p->message, "open: CONNECT_OPEN: Domain not found: vm") && p->code == 42 &&
                   p->domain == 10 && same(p->dom->name, "vm") && same(p->str1, "s1") &&
                   p->int2 == 9,
               "error prefix: message prefixed, every other field kept");
        vrpc_free(d);
        vrpc_free(p);
    }

    w.n = 0;
    w_error(&w, 1, 7, NULL, 2, NULL, NULL, NULL, NULL, 0, 0, NULL);
    rc = vrpc_msg_decode_error(w.b, w.n, &e);
    TAP_OK(rc == VRPC_E_REMOTE && e && same(e->message, "Unknown error") && e->code == 1 &&
               !e->dom && !e->net && !e->str1,
           "error payload without message: \"Unknown error\"");
    vrpc_free(e);
}

static void test_error_remap(void)
{
    static const struct {
        int32_t code, domain, level;
        const char *msg;
        int32_t want;
        const char *what;
    } v[] = {
        {39, 7, 2, "unknown procedure: 443", 3, "unknown procedure from RPC -> NO_SUPPORT"},
        {39, 13, 2, "unknown procedure: 7", 3, "unknown procedure from REMOTE -> NO_SUPPORT"},
        {39, 7, 2, "unknown procedure", 3, "bare \"unknown procedure\" -> NO_SUPPORT"},
        {39, 10, 2, "unknown procedure: 1", 39, "other domain: kept"},
        {39, 7, 1, "unknown procedure: 1", 39, "warning level: kept"},
        {39, 7, 2, "unknown proc: 1", 39, "other message: kept"},
        {38, 7, 2, "unknown procedure: 1", 38, "other code: kept"},
        {39, 7, 2, "Unknown procedure: 1", 39, "case-sensitive prefix"},
        {61, 0, 2, "x", 65, "0.7.x INVALID_NWFILTER outside nwfilter -> INVALID_SECRET"},
        {62, 10, 2, "x", 66, "0.7.x NO_NWFILTER -> NO_SECRET"},
        {63, 0, 2, "x", 67, "0.7.x BUILD_FIREWALL -> CONFIG_UNSUPPORTED"},
        {61, 33, 2, "x", 61, "INVALID_NWFILTER from nwfilter: kept"},
        {64, 10, 2, "x", 68, "0.7.x WAR_NO_SECRET from qemu -> OPERATION_TIMEOUT"},
        {64, 0, 2, "x", 64, "WAR_NO_SECRET elsewhere: kept"},
        {65, 1, 2, "x", 69, "0.7.x INVALID_SECRET from xen -> MIGRATE_PERSIST_FAILED"},
        {42, 10, 2, "Domain not found", 42, "ordinary error: kept"},
    };
    size_t i;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        wbuf w = {.n = 0};
        vrpc_error *e = NULL;
        int rc;
        w_error(&w, v[i].code, v[i].domain, v[i].msg, v[i].level, NULL, NULL, NULL, NULL, 0, 0,
                NULL);
        rc = vrpc_msg_decode_error(w.b, w.n, &e);
        TAP_OK(rc == VRPC_E_REMOTE && e && e->code == v[i].want && e->domain == v[i].domain &&
                   same(e->message, v[i].msg),
               "remap: %s", v[i].what);
        vrpc_free(e);
    }
}

static void test_error_malformed(void)
{
    wbuf w = {.n = 0};
    vrpc_error *e = NULL;
    size_t full, cut;
    int rc, all_ok = 1;

    w_error(&w, 42, 10, "msg", 2, "vm", "a", NULL, NULL, 1, 2, NULL);
    full = w.n;
    for (cut = 0; cut < full; cut++) {
        rc = vrpc_msg_decode_error(w.b, cut, &e);
        if (rc != VRPC_E_PROTO || !e || e->code != VRPC_ERR_RPC || e->domain != VRPC_FROM_RPC ||
            e->level != VRPC_ERR_ERROR || !strstr(e->message, "cannot decode the error"))
            all_ok = 0;
        vrpc_free(e);
        e = NULL;
    }
    TAP_OK(all_ok, "malformed: every truncation of an error payload -> PROTO + local RPC error");

    w_u32(&w, 0);
    rc = vrpc_msg_decode_error(w.b, w.n, &e);
    TAP_OK(rc == VRPC_E_PROTO && e && strstr(e->message, "cannot decode"),
           "malformed: trailing bytes");
    vrpc_free(e);
    e = NULL;

    w.n = 0;
    w_u32(&w, 1);
    w_u32(&w, 7);
    w_u32(&w, 1);
    w_u32(&w, 3);
    w_bytes(&w, "a\0b", 3);
    w_u32(&w, 2);
    w_u32(&w, 0);
    w_u32(&w, 0);
    w_u32(&w, 0);
    w_u32(&w, 0);
    w_u32(&w, 0);
    w_u32(&w, 0);
    w_u32(&w, 0);
    rc = vrpc_msg_decode_error(w.b, w.n, &e);
    TAP_OK(rc == VRPC_E_PROTO && e, "malformed: embedded NUL in the message");
    vrpc_free(e);
    e = NULL;

    w.n = 0;
    w_u32(&w, 1);
    w_u32(&w, 7);
    w_u32(&w, 1);
    w_u32(&w, 0xfffffff0u); /* a string longer than anything */
    rc = vrpc_msg_decode_error(w.b, w.n, &e);
    TAP_OK(rc == VRPC_E_PROTO && e, "malformed: huge string length");
    vrpc_free(e);
    e = NULL;

    rc = vrpc_msg_decode_error(w.b, 0, &e);
    TAP_OK(rc == VRPC_E_PROTO && e && strstr(e->message, "0 bytes"),
           "malformed: empty payload, message says how many bytes");
    vrpc_free(e);
}

/* ---- local error objects ---- */

static void test_local_errors(void)
{
    vrpc_error *e = NULL;

    vrpc_error_set(NULL, VRPC_ERR_RPC, VRPC_FROM_RPC, "nothing %d", 1);
    TAP_OK(1, "error_set with NULL err does nothing");
    vrpc_error_set_errno(&e, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, ENOENT, "connect to %s",
                         "/nowhere");
    TAP_OK(e && same(e->message, "connect to /nowhere: No such file or directory") &&
               e->code == VRPC_ERR_SYSTEM_ERROR && e->domain == VRPC_FROM_RPC &&
               e->level == VRPC_ERR_ERROR && !e->str1 && !e->dom && !e->net && e->int1 == 0,
           "error_set_errno: syscall, file and errno text");
    vrpc_free(e);
    e = vrpc_error_new(VRPC_ERR_RPC, VRPC_FROM_RPC, "%s", "");
    TAP_OK(e && same(e->message, ""), "empty message");
    vrpc_error_prefix(&e, "step");
    TAP_OK(e && same(e->message, "step: "), "prefix of an empty message");
    vrpc_free(e);
    e = NULL;
    vrpc_error_prefix(&e, "nothing");
    vrpc_error_prefix(NULL, "nothing");
    TAP_OK(e == NULL, "prefix of no error does nothing");
    {
        char msg[300];
        char buf[32];
        memset(msg, 'x', sizeof(msg) - 1);
        msg[sizeof(msg) - 1] = 0;
        e = vrpc_error_new(1, 2, "%s%s", msg, msg);
        TAP_OK(e && strlen(e->message) == 2 * (sizeof(msg) - 1), "long messages are not cut");
        vrpc_free(e);
        TAP_OK(same(vrpc_msg_type_name(5, buf, sizeof(buf)), "REPLY_WITH_FDS") &&
                   same(vrpc_msg_type_name(9, buf, sizeof(buf)), "type 9"),
               "message type names");
    }
}

/* The open-step tag: set and read by code; the public name follows. */
static void test_steps(void)
{
    vrpc_error *e = vrpc_error_new(VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, "connect: ssh failed");
    vrpc_error *d = NULL;
    static const uint8_t remote[] = {
        0,   0, 0, 1, 0, 0, 0, 7, 0,   0,   0,   1,   0,   0,   0,   1,
        'x', 0, 0, 0,                                                   /* code, domain, message */
        0,   0, 0, 2, 0, 0, 0, 0,                                       /* level, no dom */
        0,   0, 0, 1, 0, 0, 0, 7, 'c', 'o', 'n', 'n', 'e', 'c', 't', 0, /* str1 "connect" */
        0,   0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0,   0,   0,   0,   0,
        0,   0, 0, 0}; /* str2, str3, int1-2, net */

    TAP_OK(vrpc_error_step(e) == VRPC_STEP_NONE && vrpc_error_step(NULL) == VRPC_STEP_NONE,
           "steps: an untagged error has no step");
    vrpc_error_set_step(&e, VRPC_STEP_CONNECT);
    TAP_OK(e && vrpc_error_step(e) == VRPC_STEP_CONNECT &&
               strcmp(e->message, "connect: ssh failed") == 0 && e->code == VRPC_ERR_SYSTEM_ERROR &&
               e->step && strcmp(e->step, "connect") == 0 && e->str1 == NULL,
           "steps: the tag is set in its own member; message, code and str1 unchanged");
    TAP_OK(strcmp(vrpc_open_failed_step(VRPC_E_AUTH, e), "connect") == 0,
           "steps: a tagged local error names its step, whatever the return code");
    vrpc_error_set_step(&e, VRPC_STEP_CERTIFICATE);
    TAP_OK(vrpc_error_step(e) == VRPC_STEP_CERTIFICATE &&
               strcmp(vrpc_open_failed_step(VRPC_E_CONNECT, e), "certificate check") == 0,
           "steps: retagging replaces the step");
    TAP_OK(strcmp(vrpc_step_name(VRPC_STEP_AUTH), "authentication") == 0 &&
               vrpc_step_name(VRPC_STEP_NONE) == NULL && vrpc_step_name((vrpc_step)99) == NULL,
           "steps: names");
    TAP_OK(vrpc_msg_decode_error(remote, sizeof(remote), &d) == VRPC_E_REMOTE && d &&
               strcmp(vrpc_open_failed_step(VRPC_E_REMOTE, d), "open") == 0,
           "steps: a daemon error (VRPC_E_REMOTE) never names a step, even with str1 'connect'");
    TAP_OK(strcmp(vrpc_open_failed_step(VRPC_E_TIMEOUT, NULL), "connect") == 0 &&
               strcmp(vrpc_open_failed_step(VRPC_E_URI, NULL), "resolve") == 0 &&
               strcmp(vrpc_open_failed_step(VRPC_E_AUTH, NULL), "authentication") == 0 &&
               strcmp(vrpc_open_failed_step(VRPC_E_PROTO, NULL), "open") == 0 &&
               vrpc_open_failed_step(0, NULL) == NULL,
           "steps: without a tag the return code decides");
    vrpc_free(d);
    vrpc_free(e);
}

int main(void)
{
    test_header();
    test_lengths();
    test_parse();
    test_nfds();
    test_build();
    test_error_full();
    test_error_remap();
    test_error_malformed();
    test_local_errors();
    test_steps();
    return tap_done();
}
