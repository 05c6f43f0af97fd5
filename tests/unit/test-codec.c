/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the XDR codec: hand-built descriptors with known byte
 * vectors, malformed-input rejection, allocation accounting and failure
 * injection, and a round trip over every generated procedure type.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/types.h>
#ifndef VRPC_TEST_NO_GENERATED
#include <virtrpc/protocol.h>
#endif

#include "../tap.h"
#include "xdr.h"

/* ------------------------------------------------------------------ */
/* Allocator hook: counts, tracks the largest request, injects failures */

static long a_live;      /* allocations not yet freed */
static long a_count;     /* allocations since the last a_reset() */
static size_t a_largest; /* largest single request since a_reset() */
static long a_fail_at;   /* fail the a_fail_at-th allocation (1-based); 0: never */

static void a_reset(void)
{
    a_count = 0;
    a_largest = 0;
    a_fail_at = 0;
}

static void *h_malloc(size_t n, void *opaque)
{
    void *p;
    (void)opaque;
    a_count++;
    if (n > a_largest)
        a_largest = n;
    if (a_fail_at && a_count == a_fail_at)
        return NULL;
    p = malloc(n);
    if (p)
        a_live++;
    return p;
}

static void *h_realloc(void *p, size_t n, void *opaque)
{
    void *q;
    (void)opaque;
    a_count++;
    if (n > a_largest)
        a_largest = n;
    if (a_fail_at && a_count == a_fail_at)
        return NULL;
    q = realloc(p, n);
    if (q && !p)
        a_live++;
    return q;
}

static void h_free(void *p, void *opaque)
{
    (void)opaque;
    if (p)
        a_live--;
    free(p);
}

/* ------------------------------------------------------------------ */
/* Byte helpers */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        int v;
        char ch = *hex;
        if (ch >= '0' && ch <= '9')
            v = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            v = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            v = ch - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(hi << 4 | v);
            n++;
            hi = -1;
        }
    }
    return n;
}

static void dump(const char *what, const uint8_t *p, size_t n)
{
    char line[3 * 64 + 8];
    size_t i, k = 0;
    for (i = 0; i < n && i < 64; i++)
        k += (size_t)snprintf(line + k, sizeof line - k, "%02x%s", p[i], (i & 3) == 3 ? " " : "");
    tap_diag("%s (%zu bytes): %s%s", what, n, line, n > 64 ? "..." : "");
}

/* Encode v and compare with the hex string. */
static int enc_is(const vrpc_type *t, const void *v, const char *hex, const char *name)
{
    uint8_t want[512];
    size_t wn = unhex(hex, want, sizeof want);
    vrpc_buf b = {0};
    int rc = vrpc_xdr_encode(t, v, &b);
    int ok = rc == 0 && b.len == wn && memcmp(b.data, want, wn) == 0;
    if (!tap_ok(ok, "encode %s", name)) {
        tap_diag("rc %d", rc);
        dump("got", b.data, b.len);
        dump("want", want, wn);
    }
    vrpc_buf_reset(&b);
    return ok;
}

/* Decode the hex string; returns the rc, *out the value. */
static int dec_hex(const vrpc_type *t, const char *hex, void **out)
{
    uint8_t in[512];
    size_t n = unhex(hex, in, sizeof in);
    return vrpc_xdr_decode(t, in, n, out);
}

/* Encode, decode, re-encode: the two encodings must match. */
static int roundtrip(const vrpc_type *t, const void *v, vrpc_buf *first, void **decoded)
{
    vrpc_buf a = {0}, b = {0};
    void *d = NULL;
    int rc = vrpc_xdr_encode(t, v, &a), ok;
    if (rc)
        return rc;
    rc = vrpc_xdr_decode(t, a.data, a.len, &d);
    if (rc) {
        vrpc_buf_reset(&a);
        return rc;
    }
    rc = vrpc_xdr_encode(t, d, &b);
    ok = rc == 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    vrpc_buf_reset(&b);
    if (first)
        *first = a;
    else
        vrpc_buf_reset(&a);
    if (decoded)
        *decoded = d;
    else
        vrpc_free(d);
    return ok ? 0 : (rc ? rc : 99);
}

/* ------------------------------------------------------------------ */
/* Hand-built descriptors */

#define T_SCALAR(id, k, ct, w)                                                                     \
    static const vrpc_type id = {.name = #id, .kind = k, .size = sizeof(ct), .min_wire = w}
#define T_STR(id, k, b)                                                                            \
    static const vrpc_type id = {                                                                  \
        .name = #id, .kind = k, .size = sizeof(char *), .bound = b, .min_wire = 4}
#define T_ARRV(id, e, b)                                                                           \
    static const vrpc_type id = {.name = #id,                                                      \
                                 .kind = VRPC_KIND_ARRAY_VAR,                                      \
                                 .size = sizeof(vrpc_array),                                       \
                                 .bound = b,                                                       \
                                 .min_wire = 4,                                                    \
                                 .elem = &e}

T_SCALAR(td_int, VRPC_KIND_INT, int32_t, 4);
T_SCALAR(td_uint, VRPC_KIND_UINT, uint32_t, 4);
T_SCALAR(td_hyper, VRPC_KIND_HYPER, int64_t, 8);
T_SCALAR(td_uhyper, VRPC_KIND_UHYPER, uint64_t, 8);
T_SCALAR(td_char, VRPC_KIND_CHAR, char, 4);
T_SCALAR(td_uchar, VRPC_KIND_UCHAR, uint8_t, 4);
T_SCALAR(td_short, VRPC_KIND_SHORT, int16_t, 4);
T_SCALAR(td_ushort, VRPC_KIND_USHORT, uint16_t, 4);
T_SCALAR(td_bool, VRPC_KIND_BOOL, bool, 4);
T_SCALAR(td_float, VRPC_KIND_FLOAT, float, 4);
T_SCALAR(td_double, VRPC_KIND_DOUBLE, double, 8);
static const vrpc_type td_void = {.name = "void", .kind = VRPC_KIND_VOID};

static const vrpc_enum_value color_values[] = {
    {"RED", 0}, {"GREEN", 1}, {"BLUE", 5}, {"BLACK", -3}};
static const vrpc_type td_enum = {.name = "color",
                                  .kind = VRPC_KIND_ENUM,
                                  .size = sizeof(int32_t),
                                  .min_wire = 4,
                                  .nvalues = 4,
                                  .values = color_values};

T_STR(td_str4, VRPC_KIND_STRING, 4);
T_STR(td_str8, VRPC_KIND_STRING, 8);
T_STR(td_str, VRPC_KIND_STRING, VRPC_UNBOUNDED);
T_STR(td_optstr, VRPC_KIND_OPT_STRING, 16);

static const vrpc_type td_opq8 = {.name = "opq8",
                                  .kind = VRPC_KIND_OPAQUE_VAR,
                                  .size = sizeof(vrpc_bytes),
                                  .bound = 8,
                                  .min_wire = 4};
static const vrpc_type td_opq = {.name = "opq",
                                 .kind = VRPC_KIND_OPAQUE_VAR,
                                 .size = sizeof(vrpc_bytes),
                                 .bound = VRPC_UNBOUNDED,
                                 .min_wire = 4};
static const vrpc_type td_opq3 = {
    .name = "opq3", .kind = VRPC_KIND_OPAQUE_FIXED, .size = 3, .bound = 3, .min_wire = 4};
static const vrpc_type td_uuid = {
    .name = "uuid", .kind = VRPC_KIND_OPAQUE_FIXED, .size = 16, .bound = 16, .min_wire = 16};

/* char x[32] and char x[4] */
static const vrpc_type td_char32 = {.name = "char32",
                                    .kind = VRPC_KIND_ARRAY_FIXED,
                                    .size = 32,
                                    .bound = 32,
                                    .min_wire = 128,
                                    .elem = &td_char};
static const vrpc_type td_char4 = {.name = "char4",
                                   .kind = VRPC_KIND_ARRAY_FIXED,
                                   .size = 4,
                                   .bound = 4,
                                   .min_wire = 16,
                                   .elem = &td_char};
/* char x<8> */
T_ARRV(td_charv, td_char, 8);
T_ARRV(td_intv3, td_int, 3);
T_ARRV(td_intv, td_int, VRPC_UNBOUNDED);
T_ARRV(td_uintv, td_uint, VRPC_UNBOUNDED);
T_ARRV(td_hyperv, td_hyper, VRPC_UNBOUNDED);
T_ARRV(td_uhyperv, td_uhyper, VRPC_UNBOUNDED);
T_ARRV(td_shortv, td_short, VRPC_UNBOUNDED);
T_ARRV(td_ushortv, td_ushort, VRPC_UNBOUNDED);
T_ARRV(td_ucharv, td_uchar, VRPC_UNBOUNDED);
T_ARRV(td_boolv, td_bool, VRPC_UNBOUNDED);
T_ARRV(td_floatv, td_float, VRPC_UNBOUNDED);
T_ARRV(td_doublev, td_double, VRPC_UNBOUNDED);
T_ARRV(td_enumv, td_enum, VRPC_UNBOUNDED);
T_ARRV(td_strv, td_str8, VRPC_UNBOUNDED);
T_ARRV(td_optstrv, td_optstr, VRPC_UNBOUNDED);
T_ARRV(td_uuidv, td_uuid, VRPC_UNBOUNDED);
T_ARRV(td_opq8v, td_opq8, VRPC_UNBOUNDED);

static const vrpc_type td_optint = {.name = "optint",
                                    .kind = VRPC_KIND_OPTIONAL,
                                    .size = sizeof(void *),
                                    .min_wire = 4,
                                    .elem = &td_int};

/* struct inner { string s<8>; int vals<3>; unsigned hyper h; } */
struct inner {
    char *s;
    struct {
        uint32_t n;
        int32_t *items;
    } vals;
    uint64_t h;
};
static const vrpc_field inner_fields[] = {
    {"s", &td_str8, offsetof(struct inner, s)},
    {"vals", &td_intv3, offsetof(struct inner, vals)},
    {"h", &td_uhyper, offsetof(struct inner, h)},
};
static const vrpc_type td_inner = {.name = "inner",
                                   .kind = VRPC_KIND_STRUCT,
                                   .size = sizeof(struct inner),
                                   .min_wire = 16,
                                   .nfields = 3,
                                   .fields = inner_fields};
T_ARRV(td_innerv4, td_inner, 4);
T_ARRV(td_innerv, td_inner, VRPC_UNBOUNDED);
static const vrpc_type td_optinner = {.name = "optinner",
                                      .kind = VRPC_KIND_OPTIONAL,
                                      .size = sizeof(void *),
                                      .min_wire = 4,
                                      .elem = &td_inner};

/* struct outer { int id; string name<8>; inner inners<4>; opaque tag<8>;
 *                string *opt; inner *maybe; opaque uuid[16]; short sh;
 *                bool flag; char model[4]; color c; } */
struct outer {
    int32_t id;
    char *name;
    struct {
        uint32_t n;
        struct inner *items;
    } inners;
    vrpc_bytes tag;
    char *opt;
    struct inner *maybe;
    uint8_t uuid[16];
    int16_t sh;
    bool flag;
    char model[4];
    int32_t c;
};
static const vrpc_field outer_fields[] = {
    {"id", &td_int, offsetof(struct outer, id)},
    {"name", &td_str8, offsetof(struct outer, name)},
    {"inners", &td_innerv4, offsetof(struct outer, inners)},
    {"tag", &td_opq8, offsetof(struct outer, tag)},
    {"opt", &td_optstr, offsetof(struct outer, opt)},
    {"maybe", &td_optinner, offsetof(struct outer, maybe)},
    {"uuid", &td_uuid, offsetof(struct outer, uuid)},
    {"sh", &td_short, offsetof(struct outer, sh)},
    {"flag", &td_bool, offsetof(struct outer, flag)},
    {"model", &td_char4, offsetof(struct outer, model)},
    {"c", &td_enum, offsetof(struct outer, c)},
};
static const vrpc_type td_outer = {.name = "outer",
                                   .kind = VRPC_KIND_STRUCT,
                                   .size = sizeof(struct outer),
                                   .min_wire = 4 + 4 + 4 + 4 + 4 + 4 + 16 + 4 + 4 + 16 + 4,
                                   .nfields = 11,
                                   .fields = outer_fields};

/* A flat struct (all scalars, an enum among them): arrays of it take the
 * flat path. */
struct flat {
    uint32_t number;
    int32_t state; /* enum color; the tests store -1, outside the enum */
    uint64_t cpu_time;
    int32_t cpu;
};
static const vrpc_field flat_fields[] = {
    {"number", &td_uint, offsetof(struct flat, number)},
    {"state", &td_enum, offsetof(struct flat, state)},
    {"cpu_time", &td_uhyper, offsetof(struct flat, cpu_time)},
    {"cpu", &td_int, offsetof(struct flat, cpu)},
};
static const vrpc_type td_flat = {.name = "flat",
                                  .kind = VRPC_KIND_STRUCT,
                                  .size = sizeof(struct flat),
                                  .min_wire = 20,
                                  .nfields = 4,
                                  .fields = flat_fields};
T_ARRV(td_flatv, td_flat, VRPC_UNBOUNDED);

/* union switch (int d) { case 1: int i; case 2: string s<8>; case 3: void;
 *                        case 4: unsigned hyper h; [default: ...] } */
struct un {
    int32_t d;
    union {
        int32_t i;
        char *s;
        uint64_t h;
    } u;
};
static const vrpc_field un_disc[] = {{"d", &td_int, offsetof(struct un, d)}};
static const vrpc_union_arm un_arms[] = {
    {1, "i", &td_int, offsetof(struct un, u.i)},
    {2, "s", &td_str8, offsetof(struct un, u.s)},
    {3, NULL, NULL, 0},
    {4, "h", &td_uhyper, offsetof(struct un, u.h)},
};
static const vrpc_union_arm un_def_int = {0, "i", &td_int, offsetof(struct un, u.i)};
static const vrpc_union_arm un_def_void = {0, NULL, NULL, 0};
#define T_UNION(id, def)                                                                           \
    static const vrpc_type id = {.name = #id,                                                      \
                                 .kind = VRPC_KIND_UNION,                                          \
                                 .size = sizeof(struct un),                                        \
                                 .min_wire = 4,                                                    \
                                 .nfields = 1,                                                     \
                                 .fields = un_disc,                                                \
                                 .narms = 4,                                                       \
                                 .arms = un_arms,                                                  \
                                 .default_arm = def}
T_UNION(td_un, NULL);
T_UNION(td_un_def, &un_def_int);
T_UNION(td_un_voiddef, &un_def_void);
T_ARRV(td_unv, td_un, VRPC_UNBOUNDED);

/* union switch (color c) { case GREEN: int i; case BLACK: void; } */
static const vrpc_field une_disc[] = {{"c", &td_enum, offsetof(struct un, d)}};
static const vrpc_union_arm une_arms[] = {
    {1, "i", &td_int, offsetof(struct un, u.i)},
    {-3, NULL, NULL, 0},
};
static const vrpc_type td_une = {.name = "une",
                                 .kind = VRPC_KIND_UNION,
                                 .size = sizeof(struct un),
                                 .min_wire = 4,
                                 .nfields = 1,
                                 .fields = une_disc,
                                 .narms = 2,
                                 .arms = une_arms};

/* union switch (unsigned d) { case 0xffffffff: int i; } */
static const vrpc_field unu_disc[] = {{"d", &td_uint, offsetof(struct un, d)}};
static const vrpc_union_arm unu_arms[] = {{0xffffffffLL, "i", &td_int, offsetof(struct un, u.i)}};
static const vrpc_type td_unu = {.name = "unu",
                                 .kind = VRPC_KIND_UNION,
                                 .size = sizeof(struct un),
                                 .min_wire = 8,
                                 .nfields = 1,
                                 .fields = unu_disc,
                                 .narms = 1,
                                 .arms = unu_arms};

/* struct node { int v; node *next; } : a recursive list */
struct node {
    int32_t v;
    struct node *next;
};
static const vrpc_type td_node;
static const vrpc_type td_nodeptr = {.name = "nodeptr",
                                     .kind = VRPC_KIND_OPTIONAL,
                                     .size = sizeof(void *),
                                     .min_wire = 4,
                                     .elem = &td_node};
static const vrpc_field node_fields[] = {
    {"v", &td_int, offsetof(struct node, v)},
    {"next", &td_nodeptr, offsetof(struct node, next)},
};
static const vrpc_type td_node = {.name = "node",
                                  .kind = VRPC_KIND_STRUCT,
                                  .size = sizeof(struct node),
                                  .min_wire = 8,
                                  .nfields = 2,
                                  .fields = node_fields};

/* ------------------------------------------------------------------ */
/* Sections */

static void test_misc(void)
{
    static const int codes[] = {VRPC_OK,        VRPC_E_NOMEM,       VRPC_E_INVALID, VRPC_E_IO,
                                VRPC_E_PROTO,   VRPC_E_REMOTE,      VRPC_E_CLOSED,  VRPC_E_AGAIN,
                                VRPC_E_TOO_BIG, VRPC_E_UNSUPPORTED, VRPC_E_TIMEOUT, VRPC_E_AUTH,
                                VRPC_E_URI,     VRPC_E_NOT_FOUND,   VRPC_E_CONNECT};
    size_t i;
    int all = 1;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = vrpc_strerror(codes[i]);
        if (!s || !*s || strcmp(s, vrpc_strerror(-999)) == 0) {
            tap_diag("no message for code %d", codes[i]);
            all = 0;
        }
    }
    tap_ok(all, "vrpc_strerror has a message for every code");
    tap_ok(vrpc_strerror(-999) != NULL && vrpc_strerror(42) != NULL,
           "vrpc_strerror of unknown codes");
    tap_ok(strcmp(vrpc_version(), "0.1.0") == 0, "vrpc_version is 0.1.0");
}

static void test_helpers(void)
{
    uint8_t p[8];
    vrpc_buf b = {0};
    int rc;

    vrpc_put_u32(p, 0x01020304u);
    tap_ok(p[0] == 1 && p[1] == 2 && p[2] == 3 && p[3] == 4 && vrpc_get_u32(p) == 0x01020304u,
           "vrpc_put_u32/vrpc_get_u32 are big-endian");
    vrpc_put_u64(p, 0x0102030405060708ull);
    tap_ok(p[0] == 1 && p[7] == 8 && vrpc_get_u64(p) == 0x0102030405060708ull,
           "vrpc_put_u64/vrpc_get_u64 are big-endian");
    tap_ok(vrpc_pad4(0) == 0 && vrpc_pad4(1) == 3 && vrpc_pad4(2) == 2 && vrpc_pad4(3) == 1 &&
               vrpc_pad4(4) == 0,
           "vrpc_pad4");

    rc = vrpc_buf_put_u32(&b, 7);
    rc |= vrpc_buf_put_u64(&b, 8);
    rc |= vrpc_buf_put_opaque(&b, "ab", 2);
    rc |= vrpc_buf_put_bytes(&b, "xyz", 3);
    tap_ok(rc == 0 && b.len == 4 + 8 + 4 + 3 && b.cap >= b.len &&
               memcmp(b.data,
                      "\0\0\0\7\0\0\0\0\0\0\0\x08"
                      "ab\0\0xyz",
                      b.len) == 0,
           "vrpc_buf_put_* append");

    /* The cap: a message (with its length word) never exceeds 4 + VRPC_MESSAGE_MAX. */
    rc = vrpc_buf_reserve(&b, VRPC_BUF_MAX + 1);
    tap_ok(rc == VRPC_E_TOO_BIG && b.len == 19, "vrpc_buf_reserve over the cap: VRPC_E_TOO_BIG");
    rc = vrpc_buf_reserve(&b, (size_t)-1);
    tap_ok(rc == VRPC_E_TOO_BIG, "vrpc_buf_reserve(SIZE_MAX): VRPC_E_TOO_BIG");
    {
        /* A buffer already near the cap: no allocation is even tried. */
        vrpc_buf fake = {NULL, VRPC_BUF_MAX - 2, VRPC_BUF_MAX - 2};
        a_reset();
        rc = vrpc_buf_reserve(&fake, 3);
        tap_ok(rc == VRPC_E_TOO_BIG && a_count == 0, "growth stops at 4 + VRPC_MESSAGE_MAX");
    }
    vrpc_buf_reset(&b);
    tap_ok(b.data == NULL && b.len == 0 && b.cap == 0, "vrpc_buf_reset");

    {
        size_t big = (size_t)1 << (sizeof(size_t) * 8 - 1);
        tap_ok(vrpc_calloc(big, 4) == NULL, "vrpc_calloc detects overflow");
    }
    {
        char *s = vrpc_strdup("hello");
        void *z = vrpc_malloc(0);
        tap_ok(s && strcmp(s, "hello") == 0 && z != NULL && vrpc_strdup(NULL) == NULL,
               "vrpc_strdup / vrpc_malloc(0)");
        vrpc_free(s);
        vrpc_free(z);
        vrpc_free(NULL);
    }
}

static void test_primitives(void)
{
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    char ch;
    uint8_t uc;
    int16_t sh;
    uint16_t us;
    bool bo;
    float fl;
    double db;
    void *out;
    int rc;

    i32 = -1;
    enc_is(&td_int, &i32, "ffffffff", "int -1");
    i32 = 0x01020304;
    enc_is(&td_int, &i32, "01020304", "int 0x01020304");
    u32 = 0xdeadbeef;
    enc_is(&td_uint, &u32, "deadbeef", "unsigned int 0xdeadbeef");
    i64 = -2;
    enc_is(&td_hyper, &i64, "ffffffff fffffffe", "hyper -2");
    i64 = 0x0102030405060708ll;
    enc_is(&td_hyper, &i64, "01020304 05060708", "hyper 0x0102030405060708");
    u64 = UINT64_MAX;
    enc_is(&td_uhyper, &u64, "ffffffff ffffffff", "unsigned hyper max");
    ch = -1;
    enc_is(&td_char, &ch, "ffffffff", "char -1 sign-extends");
    ch = 'A';
    enc_is(&td_char, &ch, "00000041", "char 'A'");
    uc = 255;
    enc_is(&td_uchar, &uc, "000000ff", "unsigned char 255");
    sh = -2;
    enc_is(&td_short, &sh, "fffffffe", "short -2");
    us = 65535;
    enc_is(&td_ushort, &us, "0000ffff", "unsigned short 65535");
    bo = true;
    enc_is(&td_bool, &bo, "00000001", "bool true");
    bo = false;
    enc_is(&td_bool, &bo, "00000000", "bool false");
    fl = 1.5f;
    enc_is(&td_float, &fl, "3fc00000", "float 1.5");
    db = 1.5;
    enc_is(&td_double, &db, "3ff80000 00000000", "double 1.5");
    db = -2.0;
    enc_is(&td_double, &db, "c0000000 00000000", "double -2");
    i32 = -3;
    enc_is(&td_enum, &i32, "fffffffd", "enum BLACK (-3)");
    i32 = 5;
    enc_is(&td_enum, &i32, "00000005", "enum BLUE (5)");

    /* Decoding, including truncation of the wide words. */
    rc = dec_hex(&td_int, "fffffffe", &out);
    tap_ok(rc == 0 && *(int32_t *)out == -2, "decode int -2");
    vrpc_free(out);
    rc = dec_hex(&td_hyper, "80000000 00000000", &out);
    tap_ok(rc == 0 && *(int64_t *)out == INT64_MIN, "decode hyper min");
    vrpc_free(out);
    rc = dec_hex(&td_uhyper, "01020304 05060708", &out);
    tap_ok(rc == 0 && *(uint64_t *)out == 0x0102030405060708ull, "decode unsigned hyper");
    vrpc_free(out);
    rc = dec_hex(&td_char, "ffffffff", &out);
    tap_ok(rc == 0 && *(signed char *)out == -1, "decode char -1");
    vrpc_free(out);
    rc = dec_hex(&td_char, "00000141", &out);
    tap_ok(rc == 0 && *(char *)out == 0x41, "decode char truncates 0x141 to 0x41");
    vrpc_free(out);
    rc = dec_hex(&td_uchar, "000000ff", &out);
    tap_ok(rc == 0 && *(uint8_t *)out == 255, "decode unsigned char 255");
    vrpc_free(out);
    rc = dec_hex(&td_short, "fffffffe", &out);
    tap_ok(rc == 0 && *(int16_t *)out == -2, "decode short -2");
    vrpc_free(out);
    rc = dec_hex(&td_ushort, "00012345", &out);
    tap_ok(rc == 0 && *(uint16_t *)out == 0x2345, "decode unsigned short truncates");
    vrpc_free(out);
    rc = dec_hex(&td_bool, "00000002", &out);
    tap_ok(rc == 0 && *(bool *)out == true, "decode bool: any non-zero is true");
    if (rc == 0)
        enc_is(&td_bool, out, "00000001", "re-encode bool true as 1");
    vrpc_free(out);
    rc = dec_hex(&td_float, "3fc00000", &out);
    tap_ok(rc == 0 && *(float *)out == 1.5f, "decode float 1.5");
    vrpc_free(out);
    rc = dec_hex(&td_double, "3ff80000 00000000", &out);
    tap_ok(rc == 0 && *(double *)out == 1.5, "decode double 1.5");
    vrpc_free(out);
    rc = dec_hex(&td_enum, "00000005", &out);
    tap_ok(rc == 0 && *(int32_t *)out == 5, "decode enum BLUE");
    vrpc_free(out);

    /* Short inputs. */
    tap_ok(dec_hex(&td_int, "000000", &out) == VRPC_E_PROTO && out == NULL, "int from 3 bytes");
    tap_ok(dec_hex(&td_hyper, "00000000", &out) == VRPC_E_PROTO, "hyper from 4 bytes");
    tap_ok(dec_hex(&td_double, "", &out) == VRPC_E_PROTO, "double from nothing");
}

static void test_void(void)
{
    vrpc_buf b = {0};
    void *out = (void *)1;
    uint8_t one = 0;
    int rc;

    rc = vrpc_xdr_encode(&td_void, NULL, &b);
    tap_ok(rc == 0 && b.len == 0, "encode void writes nothing");
    rc = vrpc_xdr_encode(NULL, NULL, &b);
    tap_ok(rc == 0 && b.len == 0, "encode with a NULL descriptor (void procedure) writes nothing");
    rc = vrpc_xdr_decode(&td_void, NULL, 0, &out);
    tap_ok(rc == 0 && out == NULL, "decode void: *out = NULL");
    rc = vrpc_xdr_decode(&td_void, &one, 1, &out);
    tap_ok(rc == VRPC_E_PROTO && out == NULL, "decode void with a byte: VRPC_E_PROTO");
    rc = vrpc_xdr_decode(NULL, &one, 0, &out);
    tap_ok(rc == 0 && out == NULL, "decode with a NULL descriptor: void");
    rc = vrpc_xdr_encode(&td_int, NULL, &b);
    tap_ok(rc == VRPC_E_INVALID, "encode a NULL value: VRPC_E_INVALID");
    rc = vrpc_xdr_decode(&td_int, NULL, 0, &out);
    tap_ok(rc == VRPC_E_PROTO && out == NULL, "decode an int from (NULL, 0): VRPC_E_PROTO");
    rc = vrpc_xdr_decode(&td_int, NULL, 4, &out);
    tap_ok(rc == VRPC_E_INVALID, "decode from (NULL, 4): VRPC_E_INVALID");
    rc = vrpc_xdr_decode(&td_int, &one, 1, NULL);
    tap_ok(rc == VRPC_E_INVALID, "decode without an out pointer: VRPC_E_INVALID");
    rc = vrpc_xdr_encode(&td_int, &one, NULL);
    tap_ok(rc == VRPC_E_INVALID, "encode without a buffer: VRPC_E_INVALID");
    {
        /* Zero-length encodings into a fresh buffer. */
        static const vrpc_type empty_arr = {
            .name = "int[0]", .kind = VRPC_KIND_ARRAY_FIXED, .bound = 0, .elem = &td_int};
        static const vrpc_type empty_opq = {.name = "opaque[0]", .kind = VRPC_KIND_OPAQUE_FIXED};
        vrpc_buf e = {0};
        int32_t none = 0;
        rc = vrpc_xdr_encode(&empty_arr, &none, &e);
        rc |= vrpc_xdr_encode(&empty_opq, &none, &e);
        rc |= vrpc_buf_put_opaque(&e, NULL, 0);
        tap_ok(rc == 0 && e.len == 0, "zero-length encodings");
        vrpc_buf_reset(&e);
        rc = vrpc_buf_put_opaque(&e, NULL, 0);
        tap_ok(rc == 0 && e.len == 0, "vrpc_buf_put_opaque of nothing into an empty buffer");
        vrpc_buf_reset(&e);
        rc = vrpc_xdr_decode(&empty_arr, NULL, 0, &out);
        tap_ok(rc == 0 && out != NULL, "decode int[0] from nothing");
        vrpc_free(out);
    }
    vrpc_buf_reset(&b);
}

static void test_opaque_string(void)
{
    static const char *const want_opaque[] = {
        "00000000",          "00000001 61000000", "00000002 61620000",
        "00000003 61626300", "00000004 61626364", "00000005 61626364 65000000",
    };
    const char *src = "abcde";
    size_t n;
    int rc;
    void *out;

    for (n = 0; n <= 5; n++) {
        vrpc_bytes by = {(uint32_t)n, n ? (uint8_t *)src : NULL};
        char name[64], s[8];
        char *sp = s;
        vrpc_bytes *d;
        memcpy(s, src, n);
        s[n] = 0;
        snprintf(name, sizeof name, "opaque<> of %zu bytes, padded", n);
        enc_is(&td_opq, &by, want_opaque[n], name);
        snprintf(name, sizeof name, "string<> of %zu bytes, padded", n);
        enc_is(&td_str, &sp, want_opaque[n], name);

        rc = dec_hex(&td_opq, want_opaque[n], &out);
        d = out;
        tap_ok(rc == 0 && d->len == n && (n ? memcmp(d->data, src, n) == 0 : d->data == NULL),
               "decode opaque<> of %zu bytes%s", n, n ? "" : " (data == NULL)");
        vrpc_free(out);
        rc = dec_hex(&td_str, want_opaque[n], &out);
        tap_ok(rc == 0 && strcmp(*(char **)out, s) == 0, "decode string<> of %zu bytes", n);
        vrpc_free(out);
    }

    {
        uint8_t three[3] = {1, 2, 3}, uuid[16];
        size_t i;
        for (i = 0; i < 16; i++)
            uuid[i] = (uint8_t)(0xa0 + i);
        enc_is(&td_opq3, three, "01020300", "opaque[3] padded to 4");
        enc_is(&td_uuid, uuid, "a0a1a2a3 a4a5a6a7 a8a9aaab acadaeaf", "opaque[16] (uuid)");
        rc = dec_hex(&td_opq3, "010203ff", &out);
        tap_ok(rc == 0 && memcmp(out, three, 3) == 0, "decode opaque[3] (padding not checked)");
        vrpc_free(out);
        rc = dec_hex(&td_uuid, "a0a1a2a3 a4a5a6a7 a8a9aaab acadae", &out);
        tap_ok(rc == VRPC_E_PROTO, "decode opaque[16] from 15 bytes");
    }

    /* Optional string. */
    {
        char *s = NULL;
        enc_is(&td_optstr, &s, "00000000", "optional string absent");
        s = "hi";
        enc_is(&td_optstr, &s, "00000001 00000002 68690000", "optional string present");
        rc = dec_hex(&td_optstr, "00000000", &out);
        tap_ok(rc == 0 && *(char **)out == NULL, "decode optional string absent");
        vrpc_free(out);
        rc = dec_hex(&td_optstr, "00000001 00000002 68690000", &out);
        tap_ok(rc == 0 && strcmp(*(char **)out, "hi") == 0, "decode optional string present");
        vrpc_free(out);
    }

    /* NULL where a string is required. */
    {
        char *s = NULL;
        vrpc_buf b = {0};
        vrpc_buf_put_u32(&b, 42);
        rc = vrpc_xdr_encode(&td_str, &s, &b);
        tap_ok(rc == VRPC_E_INVALID && b.len == 4,
               "encode NULL string: VRPC_E_INVALID, len restored");
        vrpc_buf_reset(&b);
    }

    /* Embedded NUL. */
    rc = dec_hex(&td_str, "00000003 61006200", &out);
    tap_ok(rc == VRPC_E_PROTO && out == NULL, "decode string with an embedded NUL: VRPC_E_PROTO");
    rc = dec_hex(&td_str, "00000003 61620000", &out);
    tap_ok(rc == VRPC_E_PROTO, "decode string with a NUL as last byte: VRPC_E_PROTO");
    rc = dec_hex(&td_str, "00000003 616263", &out);
    tap_ok(rc == VRPC_E_PROTO, "decode string without its padding: VRPC_E_PROTO");
}

static void test_char_arrays(void)
{
    char model[32] = "x86_64";
    char want[32 * 9 + 1];
    size_t i, k = 0;
    void *out;
    int rc;

    for (i = 0; i < 32; i++)
        k += (size_t)snprintf(want + k, sizeof want - k, "000000%02x ", (uint8_t)model[i]);
    enc_is(&td_char32, model, want, "char x[32] is 32 4-byte words (128 bytes)");
    rc = dec_hex(&td_char32, want, &out);
    tap_ok(rc == 0 && memcmp(out, model, 32) == 0, "decode char x[32]");
    vrpc_free(out);

    {
        char abc[3] = {'a', 'b', 'c'};
        vrpc_array a = {3, abc};
        vrpc_array *d;
        enc_is(&td_charv, &a, "00000003 00000061 00000062 00000063",
               "char x<8>: count + 4 bytes/char");
        rc = dec_hex(&td_charv, "00000003 00000061 00000062 00000063", &out);
        d = out;
        tap_ok(rc == 0 && d->n == 3 && memcmp(d->items, "abc", 3) == 0, "decode char x<8>");
        vrpc_free(out);
        abc[0] = -1;
        enc_is(&td_charv, &a, "00000003 ffffffff 00000062 00000063", "char x<8> sign-extends");
    }
}

static void test_optional(void)
{
    int32_t v = 7, *p = NULL;
    void *out;
    int rc;

    enc_is(&td_optint, &p, "00000000", "optional int absent");
    p = &v;
    enc_is(&td_optint, &p, "00000001 00000007", "optional int present");
    rc = dec_hex(&td_optint, "00000000", &out);
    tap_ok(rc == 0 && *(int32_t **)out == NULL, "decode optional absent");
    vrpc_free(out);
    rc = dec_hex(&td_optint, "00000001 00000007", &out);
    tap_ok(rc == 0 && **(int32_t **)out == 7, "decode optional present");
    vrpc_free(out);
    rc = dec_hex(&td_optint, "00000001", &out);
    tap_ok(rc == VRPC_E_PROTO, "decode optional present but missing");
}

/* A filled-in outer value (static storage). */
static struct outer *sample_outer(void)
{
    static int32_t v1[] = {1, 2, 3}, v2[] = {-1};
    static struct inner in[2] = {
        {"first", {3, v1}, 0x1122334455667788ull},
        {"", {0, NULL}, 0},
    };
    static struct inner maybe = {"maybe", {1, v2}, 42};
    static uint8_t tag[5] = {9, 8, 7, 6, 5};
    static struct outer o;
    size_t i;

    memset(&o, 0, sizeof o);
    o.id = 77;
    o.name = "outer";
    o.inners.n = 2;
    o.inners.items = in;
    o.tag.len = 5;
    o.tag.data = tag;
    o.opt = "opt";
    o.maybe = &maybe;
    for (i = 0; i < 16; i++)
        o.uuid[i] = (uint8_t)i;
    o.sh = -300;
    o.flag = true;
    memcpy(o.model, "ab\xff", 4);
    o.c = 1;
    return &o;
}

static const char outer_hex[] = "0000004d"                            /* id */
                                "00000005 6f757465 72000000"          /* name */
                                "00000002"                            /* inners.n */
                                "00000005 66697273 74000000"          /* [0].s */
                                "00000003 00000001 00000002 00000003" /* [0].vals */
                                "11223344 55667788"                   /* [0].h */
                                "00000000 00000000 00000000 00000000" /* [1] */
                                "00000005 09080706 05000000"          /* tag */
                                "00000001 00000003 6f707400"          /* opt */
                                "00000001 00000005 6d617962 65000000" /* maybe.s */
                                "00000001 ffffffff 00000000 0000002a" /* maybe.vals, h */
                                "00010203 04050607 08090a0b 0c0d0e0f" /* uuid */
                                "fffffed4"                            /* sh */
                                "00000001"                            /* flag */
                                "00000061 00000062 ffffffff 00000000" /* model */
                                "00000001";                           /* c */

static void test_nested(void)
{
    struct outer *o = sample_outer(), *d;
    uint8_t in[512];
    size_t n = unhex(outer_hex, in, sizeof in), k;
    void *out = NULL;
    long live;
    int rc, all;

    enc_is(&td_outer, o, outer_hex, "nested struct with arrays of structs with strings");

    a_reset();
    rc = vrpc_xdr_decode(&td_outer, in, n, &out);
    d = out;
    tap_ok(rc == 0 && a_count == 1, "decode nested struct: one allocation");
    tap_ok(rc == 0 && d->id == 77 && strcmp(d->name, "outer") == 0 && d->inners.n == 2 &&
               strcmp(d->inners.items[0].s, "first") == 0 && d->inners.items[0].vals.n == 3 &&
               d->inners.items[0].vals.items[2] == 3 &&
               d->inners.items[0].h == 0x1122334455667788ull &&
               strcmp(d->inners.items[1].s, "") == 0 && d->inners.items[1].vals.n == 0 &&
               d->inners.items[1].vals.items == NULL && d->tag.len == 5 && d->tag.data[4] == 5 &&
               strcmp(d->opt, "opt") == 0 && d->maybe && strcmp(d->maybe->s, "maybe") == 0 &&
               d->maybe->vals.items[0] == -1 && d->maybe->h == 42 && d->uuid[15] == 15 &&
               d->sh == -300 && d->flag && d->model[2] == (char)0xff && d->c == 1,
           "decoded nested struct has the right contents");
    if (rc == 0) {
        uint8_t *lo = (uint8_t *)d, *hi = lo + sizeof *d + 512;
        tap_ok((uint8_t *)d->name > lo && (uint8_t *)d->name < hi &&
                   (uint8_t *)d->inners.items > lo && (uint8_t *)d->inners.items < hi &&
                   ((uintptr_t)d->inners.items & 7) == 0 && ((uintptr_t)d->maybe & 7) == 0,
               "decoded pointers point into the one block, 8-byte aligned");
    }
    vrpc_free(out);

    rc = roundtrip(&td_outer, o, NULL, NULL);
    tap_ok(rc == 0, "round trip of the nested struct");

    /* Truncated at every byte offset: rejected, nothing allocated or leaked. */
    all = 1;
    live = a_live;
    a_reset();
    for (k = 0; k < n; k++) {
        out = (void *)1;
        rc = vrpc_xdr_decode(&td_outer, in, k, &out);
        if (rc != VRPC_E_PROTO || out != NULL) {
            tap_diag("prefix of %zu bytes: rc %d", k, rc);
            all = 0;
        }
    }
    tap_ok(all && a_count == 0 && a_live == live,
           "every truncation (%zu) of the nested struct is rejected, no allocation", n);

    /* A trailing byte / word. */
    in[n] = 0;
    rc = vrpc_xdr_decode(&td_outer, in, n + 1, &out);
    tap_ok(rc == VRPC_E_PROTO, "trailing byte rejected");
    memset(in + n, 0, 4);
    rc = vrpc_xdr_decode(&td_outer, in, n + 4, &out);
    tap_ok(rc == VRPC_E_PROTO, "trailing word rejected");

    /* An enum value outside the enum is passed on both ways (as xdr_enum). */
    {
        struct outer bad = *o;
        vrpc_buf b = {0};
        bad.c = 99;
        rc = vrpc_xdr_encode(&td_outer, &bad, &b);
        tap_ok(rc == 0 && b.len == n && vrpc_get_u32(b.data + n - 4) == 99,
               "encode enum field not in the enum: 99 on the wire");
        vrpc_buf_reset(&b);
        vrpc_put_u32(in + n - 4, 99);
        rc = vrpc_xdr_decode(&td_outer, in, n, &out);
        tap_ok(rc == 0 && ((struct outer *)out)->c == 99, "decode enum field not in the enum: 99");
        vrpc_free(out);
        out = NULL;
        vrpc_put_u32(in + n - 4, 1);
    }

    /* Every single bit flip: no crash, no leak; a success re-encodes the same way twice. */
    all = 1;
    live = a_live;
    for (k = 0; k < n * 8; k++) {
        vrpc_buf b1 = {0};
        in[k / 8] ^= (uint8_t)(1u << (k % 8));
        rc = vrpc_xdr_decode(&td_outer, in, n, &out);
        if (rc == 0) {
            vrpc_buf b2 = {0};
            void *again = NULL;
            if (vrpc_xdr_encode(&td_outer, out, &b1) ||
                vrpc_xdr_decode(&td_outer, b1.data, b1.len, &again) ||
                vrpc_xdr_encode(&td_outer, again, &b2) || b1.len != b2.len ||
                memcmp(b1.data, b2.data, b1.len) != 0)
                all = 0;
            vrpc_free(again);
            vrpc_buf_reset(&b2);
        }
        vrpc_free(out);
        vrpc_buf_reset(&b1);
        in[k / 8] ^= (uint8_t)(1u << (k % 8));
    }
    tap_ok(all && a_live == live,
           "every bit flip of the nested struct: decode safe, re-encoding stable");
}

static void test_bounds(void)
{
    int32_t four[4] = {1, 2, 3, 4};
    vrpc_array a = {4, four};
    char *s = "abcde";
    uint8_t nine[9] = {0};
    vrpc_bytes by = {9, nine};
    char chars[9] = "abcdefgh";
    vrpc_array ca = {9, chars};
    vrpc_buf b = {0};
    void *out;
    int rc;

    rc = vrpc_xdr_encode(&td_intv3, &a, &b);
    tap_ok(rc == VRPC_E_TOO_BIG && b.len == 0, "encode int x<3> with 4 items: VRPC_E_TOO_BIG");
    a.n = 3;
    rc = vrpc_xdr_encode(&td_intv3, &a, &b);
    tap_ok(rc == 0 && b.len == 16, "encode int x<3> with 3 items");
    b.len = 0;
    rc = vrpc_xdr_encode(&td_str4, &s, &b);
    tap_ok(rc == VRPC_E_TOO_BIG && b.len == 0, "encode string<4> of 5 chars: VRPC_E_TOO_BIG");
    rc = vrpc_xdr_encode(&td_opq8, &by, &b);
    tap_ok(rc == VRPC_E_TOO_BIG && b.len == 0, "encode opaque<8> of 9 bytes: VRPC_E_TOO_BIG");
    rc = vrpc_xdr_encode(&td_charv, &ca, &b);
    tap_ok(rc == VRPC_E_TOO_BIG && b.len == 0, "encode char x<8> of 9: VRPC_E_TOO_BIG");
    {
        char *o = "0123456789abcdefg"; /* 17 > 16 */
        rc = vrpc_xdr_encode(&td_optstr, &o, &b);
        tap_ok(rc == VRPC_E_TOO_BIG && b.len == 0,
               "encode optional string<16> of 17: VRPC_E_TOO_BIG");
    }
    {
        vrpc_array bad = {2, NULL};
        vrpc_bytes badb = {2, NULL};
        rc = vrpc_xdr_encode(&td_intv, &bad, &b);
        tap_ok(rc == VRPC_E_INVALID && b.len == 0, "encode an array with n > 0 and no items");
        rc = vrpc_xdr_encode(&td_opq, &badb, &b);
        tap_ok(rc == VRPC_E_INVALID && b.len == 0, "encode an opaque with len > 0 and no data");
    }
    vrpc_buf_reset(&b);

    rc = dec_hex(&td_intv3, "00000004 00000001 00000002 00000003 00000004", &out);
    tap_ok(rc == VRPC_E_TOO_BIG, "decode int x<3> with 4 items: VRPC_E_TOO_BIG");
    rc = dec_hex(&td_intv3, "00000003 00000001 00000002 00000003", &out);
    tap_ok(rc == 0 && ((vrpc_array *)out)->n == 3, "decode int x<3> with 3 items");
    vrpc_free(out);
    rc = dec_hex(&td_str4, "00000005 61626364 65000000", &out);
    tap_ok(rc == VRPC_E_TOO_BIG, "decode string<4> of 5: VRPC_E_TOO_BIG");
    rc = dec_hex(&td_str4, "00000004 61626364", &out);
    tap_ok(rc == 0 && strcmp(*(char **)out, "abcd") == 0, "decode string<4> of 4");
    vrpc_free(out);
    rc = dec_hex(&td_opq8, "00000009 00000000 00000000 00000000", &out);
    tap_ok(rc == VRPC_E_TOO_BIG, "decode opaque<8> of 9: VRPC_E_TOO_BIG");
    rc = dec_hex(&td_charv,
                 "00000009 00000061 00000061 00000061 00000061 00000061 00000061 "
                 "00000061 00000061 00000061",
                 &out);
    tap_ok(rc == VRPC_E_TOO_BIG, "decode char x<8> of 9: VRPC_E_TOO_BIG");
    rc =
        dec_hex(&td_optstr, "00000001 00000011 30313233 34353637 38394142 43444546 47000000", &out);
    tap_ok(rc == VRPC_E_TOO_BIG, "decode optional string<16> of 17: VRPC_E_TOO_BIG");
}

static void test_huge_counts(void)
{
    static const struct {
        const vrpc_type *t;
        const char *hex;
        const char *name;
    } cases[] = {
        {&td_intv, "7fffffff 00000001", "int x<> count 2^31-1"},
        {&td_intv, "ffffffff 00000001 00000002 00000003 00000004 00000005 00000006",
         "int x<> count 2^32-1"},
        {&td_hyperv, "40000000 00000000 00000001", "hyper x<> count 2^30"},
        {&td_strv, "10000000 00000000 00000000", "string x<> count 2^28"},
        {&td_innerv, "0fffffff 00000000 00000000 00000000 00000000", "struct x<> count 2^28"},
        {&td_opq, "fffffff0 00000000", "opaque<> length 2^32-16"},
        {&td_str, "ffffffff 61626364", "string<> length 2^32-1"},
        {&td_uuidv, "08000000 00000000 00000000 00000000 00000000", "opaque[16] x<> count 2^27"},
        {&td_flatv, "01000000 00000000 00000000 00000000 00000000 00000000",
         "flat struct x<> count 2^24"},
        {&td_unv, "40000000 00000003 00000003 00000003", "union x<> count 2^30"},
        {&td_optstrv, "40000000 00000000 00000000", "optional string x<> count 2^30"},
        {&td_enumv, "40000000 00000000", "enum x<> count 2^30"},
        {&td_opq8v, "40000000 00000000 00000000", "opaque<8> x<> count 2^30"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *out = (void *)1;
        long live = a_live;
        int rc;
        a_reset();
        rc = dec_hex(cases[i].t, cases[i].hex, &out);
        tap_ok(rc == VRPC_E_PROTO && out == NULL && a_largest == 0 && a_live == live,
               "huge count, tiny input: %s rejected without allocating", cases[i].name);
    }

    /* A legitimate big list: the allocation matches the data. */
    {
        size_t n = 100000, k;
        int32_t *v = malloc(n * sizeof *v);
        vrpc_array a = {(uint32_t)n, v}, *d;
        vrpc_buf b = {0};
        void *out = NULL;
        int rc;
        for (k = 0; k < n; k++)
            v[k] = (int32_t)(k * 2654435761u);
        rc = vrpc_xdr_encode(&td_intv, &a, &b);
        a_reset();
        if (rc == 0)
            rc = vrpc_xdr_decode(&td_intv, b.data, b.len, &out);
        d = out;
        tap_ok(rc == 0 && b.len == 4 + 4 * n && d->n == n && memcmp(d->items, v, 4 * n) == 0 &&
                   a_count == 1 && a_largest <= 4 * n + 64,
               "int x<> of 100000: one allocation of %zu bytes", a_largest);
        vrpc_free(out);
        vrpc_buf_reset(&b);
        free(v);
    }
}

static void test_scalar_arrays(void)
{
    int64_t h[3] = {-1, 0, INT64_MAX};
    uint64_t uh[2] = {1, UINT64_MAX};
    int16_t sh[3] = {-2, 0, 32767};
    uint16_t us[2] = {65535, 1};
    uint8_t uc[3] = {0, 255, 7};
    bool bo[3] = {true, false, true};
    float fl[2] = {1.5f, -0.0f};
    double db[2] = {1.5, -2.0};
    int32_t en[3] = {0, 5, -3};
    uint32_t ui[2] = {0x80000000u, 7};
    vrpc_array a;
    void *out;
    int rc;

#define ARR(t, arr, hex, name)                                                                     \
    do {                                                                                           \
        a.n = sizeof arr / sizeof arr[0];                                                          \
        a.items = arr;                                                                             \
        enc_is(&t, &a, hex, name);                                                                 \
        rc = roundtrip(&t, &a, NULL, &out);                                                        \
        tap_ok(rc == 0 && ((vrpc_array *)out)->n == a.n &&                                         \
                   memcmp(((vrpc_array *)out)->items, arr, sizeof arr) == 0,                       \
               "round trip " name);                                                                \
        vrpc_free(out);                                                                            \
    } while (0)

    ARR(td_hyperv, h, "00000003 ffffffff ffffffff 00000000 00000000 7fffffff ffffffff",
        "hyper x<>");
    ARR(td_uhyperv, uh, "00000002 00000000 00000001 ffffffff ffffffff", "unsigned hyper x<>");
    ARR(td_shortv, sh, "00000003 fffffffe 00000000 00007fff", "short x<>");
    ARR(td_ushortv, us, "00000002 0000ffff 00000001", "unsigned short x<>");
    ARR(td_ucharv, uc, "00000003 00000000 000000ff 00000007", "unsigned char x<>");
    ARR(td_boolv, bo, "00000003 00000001 00000000 00000001", "bool x<>");
    ARR(td_floatv, fl, "00000002 3fc00000 80000000", "float x<>");
    ARR(td_doublev, db, "00000002 3ff80000 00000000 c0000000 00000000", "double x<>");
    ARR(td_enumv, en, "00000003 00000000 00000005 fffffffd", "enum x<>");
    ARR(td_uintv, ui, "00000002 80000000 00000007", "unsigned int x<>");
#undef ARR

    rc = dec_hex(&td_enumv, "00000002 00000000 00000002", &out);
    tap_ok(rc == 0 && ((int32_t *)((vrpc_array *)out)->items)[1] == 2,
           "decode enum x<> with a value outside the enum: passed on");
    vrpc_free(out);
    out = NULL;
    en[1] = 4;
    a.n = 3;
    a.items = en;
    {
        vrpc_buf b = {0};
        rc = vrpc_xdr_encode(&td_enumv, &a, &b);
        tap_ok(rc == 0 && b.len == 16 && vrpc_get_u32(b.data + 8) == 4,
               "encode enum x<> with a value outside the enum: passed on");
        vrpc_buf_reset(&b);
    }
    /* color x[3]: a fixed array of an enum, any int32 passed on both ways. */
    {
        static const vrpc_type td_enum3 = {.name = "enum3",
                                           .kind = VRPC_KIND_ARRAY_FIXED,
                                           .size = 3 * sizeof(int32_t),
                                           .bound = 3,
                                           .min_wire = 12,
                                           .elem = &td_enum};
        int32_t e3[3] = {INT32_MIN, 2, INT32_MAX};
        enc_is(&td_enum3, e3, "80000000 00000002 7fffffff",
               "enum x[3] with values outside the enum");
        rc = dec_hex(&td_enum3, "80000000 00000002 7fffffff", &out);
        tap_ok(rc == 0 && memcmp(out, e3, sizeof e3) == 0,
               "decode enum x[3] with values outside the enum: passed on");
        vrpc_free(out);
        out = NULL;
        rc = dec_hex(&td_enum3, "80000000 00000002", &out);
        tap_ok(rc == VRPC_E_PROTO && out == NULL, "decode enum x[3] with 2 words: VRPC_E_PROTO");
    }
    rc = dec_hex(&td_boolv, "00000002 00000000 00000009", &out);
    tap_ok(rc == 0 && ((bool *)((vrpc_array *)out)->items)[1] == true,
           "decode bool x<>: 9 is true");
    vrpc_free(out);

    rc = dec_hex(&td_intv, "00000000", &out);
    tap_ok(rc == 0 && ((vrpc_array *)out)->n == 0 && ((vrpc_array *)out)->items == NULL,
           "decode an empty array: items == NULL");
    vrpc_free(out);

    /* Arrays of strings, optional strings, uuids, flat structs. */
    {
        char *ss[3] = {"a", "", "abcdefgh"};
        char *os[3] = {NULL, "x", NULL};
        uint8_t uu[2][16];
        struct flat fs[2] = {{1, -1, 0x100000000ull, 3}, {2, 0, 5, -7}};
        memset(uu, 0x5a, sizeof uu);
        uu[1][15] = 1;

        a.n = 3;
        a.items = ss;
        enc_is(&td_strv, &a, "00000003 00000001 61000000 00000000 00000008 61626364 65666768",
               "string x<>");
        rc = roundtrip(&td_strv, &a, NULL, &out);
        tap_ok(rc == 0 && strcmp(((char **)((vrpc_array *)out)->items)[2], "abcdefgh") == 0 &&
                   strcmp(((char **)((vrpc_array *)out)->items)[1], "") == 0,
               "round trip string x<>");
        vrpc_free(out);
        ss[1] = NULL;
        {
            vrpc_buf b = {0};
            rc = vrpc_xdr_encode(&td_strv, &a, &b);
            tap_ok(rc == VRPC_E_INVALID && b.len == 0,
                   "encode string x<> with a NULL: VRPC_E_INVALID");
            vrpc_buf_reset(&b);
        }
        a.items = os;
        enc_is(&td_optstrv, &a, "00000003 00000000 00000001 00000001 78000000 00000000",
               "optional string x<>");
        rc = roundtrip(&td_optstrv, &a, NULL, &out);
        tap_ok(rc == 0 && ((char **)((vrpc_array *)out)->items)[0] == NULL &&
                   strcmp(((char **)((vrpc_array *)out)->items)[1], "x") == 0,
               "round trip optional string x<>");
        vrpc_free(out);
        a.n = 2;
        a.items = uu;
        rc = roundtrip(&td_uuidv, &a, NULL, &out);
        tap_ok(rc == 0 && memcmp(((vrpc_array *)out)->items, uu, 32) == 0,
               "round trip opaque[16] x<>");
        vrpc_free(out);
        a.items = fs;
        enc_is(&td_flatv, &a,
               "00000002 00000001 ffffffff 00000001 00000000 00000003"
               "00000002 00000000 00000000 00000005 fffffff9",
               "flat struct x<>");
        rc = roundtrip(&td_flatv, &a, NULL, &out);
        tap_ok(rc == 0 && ((struct flat *)((vrpc_array *)out)->items)[1].cpu == -7 &&
                   ((struct flat *)((vrpc_array *)out)->items)[0].cpu_time == 0x100000000ull,
               "round trip flat struct x<>");
        vrpc_free(out);
        rc = dec_hex(&td_flatv, "00000002 00000001 ffffffff 00000001 00000000 00000003", &out);
        tap_ok(rc == VRPC_E_PROTO, "flat struct x<> short by one element: VRPC_E_PROTO");
    }
}

static void test_unions(void)
{
    struct un u;
    void *out;
    int rc;
    vrpc_buf b = {0};

    memset(&u, 0, sizeof u);
    u.d = 1;
    u.u.i = -5;
    enc_is(&td_un, &u, "00000001 fffffffb", "union arm int");
    u.d = 2;
    u.u.s = "str";
    enc_is(&td_un, &u, "00000002 00000003 73747200", "union arm string");
    u.d = 3;
    enc_is(&td_un, &u, "00000003", "union void arm");
    u.d = 4;
    u.u.h = 0x0102030405060708ull;
    enc_is(&td_un, &u, "00000004 01020304 05060708", "union arm hyper");

    u.d = 9;
    rc = vrpc_xdr_encode(&td_un, &u, &b);
    tap_ok(rc == VRPC_E_INVALID && b.len == 0,
           "encode union discriminant with no arm: VRPC_E_INVALID");
    u.u.i = 12;
    enc_is(&td_un_def, &u, "00000009 0000000c", "union default arm (int)");
    enc_is(&td_un_voiddef, &u, "00000009", "union void default arm");
    vrpc_buf_reset(&b);

    rc = dec_hex(&td_un, "00000002 00000003 73747200", &out);
    tap_ok(rc == 0 && ((struct un *)out)->d == 2 && strcmp(((struct un *)out)->u.s, "str") == 0,
           "decode union arm string");
    vrpc_free(out);
    rc = dec_hex(&td_un, "00000004 01020304 05060708", &out);
    tap_ok(rc == 0 && ((struct un *)out)->u.h == 0x0102030405060708ull, "decode union arm hyper");
    vrpc_free(out);
    rc = dec_hex(&td_un, "00000003", &out);
    tap_ok(rc == 0 && ((struct un *)out)->d == 3, "decode union void arm");
    vrpc_free(out);
    rc = dec_hex(&td_un, "00000008 00000000", &out);
    tap_ok(rc == VRPC_E_PROTO && out == NULL,
           "decode union discriminant with no arm: VRPC_E_PROTO");
    rc = dec_hex(&td_un, "00000003 00000000", &out);
    tap_ok(rc == VRPC_E_PROTO, "decode union void arm with a trailing word: VRPC_E_PROTO");
    rc = dec_hex(&td_un_def, "00000008 00000007", &out);
    tap_ok(rc == 0 && ((struct un *)out)->d == 8 && ((struct un *)out)->u.i == 7,
           "decode union default arm");
    vrpc_free(out);
    rc = dec_hex(&td_un_voiddef, "fffffff8", &out);
    tap_ok(rc == 0 && ((struct un *)out)->d == -8, "decode union void default arm");
    vrpc_free(out);

    /* Enum discriminant: any value may be sent (as for an enum field), but
     * one without an arm (and no default) is refused both ways. */
    u.d = 1;
    u.u.i = 3;
    enc_is(&td_une, &u, "00000001 00000003", "enum-discriminated union");
    u.d = -3;
    enc_is(&td_une, &u, "fffffffd", "enum-discriminated union, void arm");
    u.d = 0;
    rc = vrpc_xdr_encode(&td_une, &u, &b);
    tap_ok(rc == VRPC_E_INVALID, "enum-discriminated union: enum value without an arm");
    rc = dec_hex(&td_une, "00000005", &out);
    tap_ok(rc == VRPC_E_PROTO, "decode enum-discriminated union: value without an arm");
    rc = dec_hex(&td_une, "00000007", &out);
    tap_ok(rc == VRPC_E_PROTO, "decode enum-discriminated union: value outside the enum, no arm");
    vrpc_buf_reset(&b);

    /* Unsigned discriminant with a case label above INT32_MAX. */
    u.d = -1;
    u.u.i = 1;
    enc_is(&td_unu, &u, "ffffffff 00000001", "unsigned discriminant 0xffffffff");
    rc = dec_hex(&td_unu, "ffffffff 00000001", &out);
    tap_ok(rc == 0 && ((struct un *)out)->u.i == 1, "decode unsigned discriminant 0xffffffff");
    vrpc_free(out);

    /* Arrays of unions. */
    {
        struct un us[3];
        vrpc_array a = {3, us};
        memset(us, 0, sizeof us);
        us[0].d = 2;
        us[0].u.s = "ab";
        us[1].d = 3;
        us[2].d = 1;
        us[2].u.i = 9;
        rc = roundtrip(&td_unv, &a, NULL, &out);
        tap_ok(rc == 0 && strcmp(((struct un *)((vrpc_array *)out)->items)[0].u.s, "ab") == 0,
               "round trip union x<>");
        vrpc_free(out);
    }
}

static void test_depth(void)
{
    struct node nodes[100];
    vrpc_buf b = {0};
    void *out = NULL;
    int rc, i;

    for (i = 0; i < 100; i++) {
        nodes[i].v = i;
        nodes[i].next = i < 99 ? &nodes[i + 1] : NULL;
    }
    nodes[9].next = NULL; /* a list of 10 */
    rc = roundtrip(&td_node, &nodes[0], NULL, &out);
    tap_ok(rc == 0 && ((struct node *)out)->next->next->v == 2, "recursive list of 10: round trip");
    vrpc_free(out);

    nodes[9].next = &nodes[10]; /* 100 deep */
    rc = vrpc_xdr_encode(&td_node, &nodes[0], &b);
    tap_ok(rc == VRPC_E_INVALID && b.len == 0, "encode a list nested 200 levels: VRPC_E_INVALID");
    vrpc_buf_reset(&b);

    /* Hand-built wire form of a list of 100. */
    for (i = 0; i < 100; i++) {
        vrpc_buf_put_u32(&b, (uint32_t)i);
        vrpc_buf_put_u32(&b, i < 99);
    }
    a_reset();
    rc = vrpc_xdr_decode(&td_node, b.data, b.len, &out);
    tap_ok(rc == VRPC_E_PROTO && a_count == 0, "decode a list nested 200 levels: VRPC_E_PROTO");
    vrpc_buf_reset(&b);
}

/* Allocation failure injection. */
static void test_nomem(void)
{
    struct outer *o = sample_outer();
    vrpc_buf enc = {0};
    long live, k;
    int rc, all = 1, ok_seen = 0;

    vrpc_xdr_encode(&td_outer, o, &enc);
    live = a_live;
    for (k = 1; k < 10 && !ok_seen; k++) {
        void *out = (void *)1;
        a_reset();
        a_fail_at = k;
        rc = vrpc_xdr_decode(&td_outer, enc.data, enc.len, &out);
        a_fail_at = 0;
        if (rc == 0) {
            ok_seen = 1;
            vrpc_free(out);
        } else if (rc != VRPC_E_NOMEM || out != NULL) {
            all = 0;
        }
        if (a_live != live)
            all = 0;
    }
    tap_ok(all && ok_seen && k == 3, "decode: failing allocation 1 gives VRPC_E_NOMEM, no leak");

    /* Encode into a fresh buffer with a big value: fail each growth in turn. */
    {
        static int32_t big[20000];
        vrpc_array a = {20000, big};
        all = 1;
        ok_seen = 0;
        for (k = 1; k < 40 && !ok_seen; k++) {
            vrpc_buf b = {0};
            vrpc_buf_put_u32(&b, 0xabcd);
            a_reset();
            a_fail_at = k;
            rc = vrpc_xdr_encode(&td_intv, &a, &b);
            a_fail_at = 0;
            if (rc == 0)
                ok_seen = 1;
            else if (rc != VRPC_E_NOMEM || b.len != 4 || vrpc_get_u32(b.data) != 0xabcd)
                all = 0;
            vrpc_buf_reset(&b);
            if (a_live != live)
                all = 0;
        }
        tap_ok(all && ok_seen,
               "encode: failing each buffer growth gives VRPC_E_NOMEM, len restored (%ld tries)",
               k - 1);
        /* The same with a value that grows the buffer element by element. */
        all = 1;
        ok_seen = 0;
        for (k = 1; k < 40 && !ok_seen; k++) {
            vrpc_buf b = {0};
            a_reset();
            a_fail_at = k;
            rc = vrpc_xdr_encode(&td_outer, o, &b);
            a_fail_at = 0;
            if (rc == 0)
                ok_seen = 1;
            else if (rc != VRPC_E_NOMEM || b.len != 0)
                all = 0;
            vrpc_buf_reset(&b);
        }
        tap_ok(all && ok_seen && a_live == live, "encode nested: allocation failure handled");
    }
    vrpc_buf_reset(&enc);
    tap_ok(a_live == live - 1, "no allocation leaked by the failure injection");
}

/* ------------------------------------------------------------------ */
/* Generated descriptors */

#ifndef VRPC_TEST_NO_GENERATED

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t rnd(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 2685821657736338717ull) >> 32);
}

static uint32_t small(rng *r, uint32_t bound, uint32_t cap)
{
    uint32_t m = bound < cap ? bound : cap;
    return rnd(r) % (m + 1);
}

static void gen_value(const vrpc_type *t, uint8_t *dst, rng *r, int depth);

/* A random value of a 4-byte discriminant kind, stored in C form. */
static void store_disc(const vrpc_type *dt, uint8_t *dst, int64_t v)
{
    switch (dt->kind) {
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
        *dst = (uint8_t)v;
        break;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT: {
        uint16_t x = (uint16_t)v;
        memcpy(dst, &x, 2);
        break;
    }
    case VRPC_KIND_BOOL:
        *(bool *)dst = v != 0;
        break;
    default: {
        uint32_t x = (uint32_t)v;
        memcpy(dst, &x, 4);
        break;
    }
    }
}

static void gen_value(const vrpc_type *t, uint8_t *dst, rng *r, int depth)
{
    uint32_t i, n;
    switch (t->kind) {
    case VRPC_KIND_VOID:
        return;
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
    case VRPC_KIND_FLOAT: {
        uint32_t x = rnd(r);
        if (x & 1)
            x >>= (x >> 1) % 32;
        memcpy(dst, &x, 4);
        return;
    }
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE: {
        uint64_t x = (uint64_t)rnd(r) << 32 | rnd(r);
        memcpy(dst, &x, 8);
        return;
    }
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
        *dst = (uint8_t)rnd(r);
        return;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT: {
        uint16_t x = (uint16_t)rnd(r);
        memcpy(dst, &x, 2);
        return;
    }
    case VRPC_KIND_BOOL:
        *(bool *)dst = rnd(r) & 1;
        return;
    case VRPC_KIND_ENUM: {
        /* Mostly listed values; one in four any int32, as a newer peer may send. */
        int32_t x =
            t->nvalues && rnd(r) % 4 ? t->values[rnd(r) % t->nvalues].value : (int32_t)rnd(r);
        memcpy(dst, &x, 4);
        return;
    }
    case VRPC_KIND_OPT_STRING:
        if (rnd(r) % 3 == 0) {
            memset(dst, 0, sizeof(char *));
            return;
        }
        /* fall through */
    case VRPC_KIND_STRING: {
        char *s;
        n = small(r, t->bound, 12);
        s = malloc(n + 1);
        for (i = 0; i < n; i++)
            s[i] = (char)('a' + rnd(r) % 26);
        s[n] = 0;
        memcpy(dst, &s, sizeof s);
        return;
    }
    case VRPC_KIND_OPAQUE_FIXED:
        for (i = 0; i < t->bound; i++)
            dst[i] = (uint8_t)rnd(r);
        return;
    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes by;
        by.len = small(r, t->bound, 9);
        by.data = by.len ? malloc(by.len) : NULL;
        for (i = 0; i < by.len; i++)
            by.data[i] = (uint8_t)rnd(r);
        memcpy(dst, &by, sizeof by);
        return;
    }
    case VRPC_KIND_ARRAY_FIXED:
        for (i = 0; i < t->bound; i++)
            gen_value(t->elem, dst + (size_t)i * t->elem->size, r, depth + 1);
        return;
    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        a.n = depth > 6 ? 0 : small(r, t->bound, 3);
        a.items = a.n ? calloc(a.n, t->elem->size) : NULL;
        for (i = 0; i < a.n; i++)
            gen_value(t->elem, (uint8_t *)a.items + (size_t)i * t->elem->size, r, depth + 1);
        memcpy(dst, &a, sizeof a);
        return;
    }
    case VRPC_KIND_OPTIONAL: {
        uint8_t *p = NULL;
        if (depth <= 6 && rnd(r) % 2) {
            p = calloc(1, t->elem->size ? t->elem->size : 1);
            gen_value(t->elem, p, r, depth + 1);
        }
        memcpy(dst, &p, sizeof p);
        return;
    }
    case VRPC_KIND_STRUCT:
        for (i = 0; i < t->nfields; i++)
            gen_value(t->fields[i].type, dst + t->fields[i].offset, r, depth + 1);
        return;
    case VRPC_KIND_UNION: {
        const vrpc_type *dt = t->fields[0].type;
        const vrpc_union_arm *arm = NULL;
        int64_t dv = 0;
        if (t->default_arm && (t->narms == 0 || rnd(r) % 4 == 0)) {
            /* A discriminant that matches no arm. */
            uint32_t tries;
            for (tries = 0; tries < 64 && !arm; tries++) {
                uint32_t j;
                int hit = 0;
                dv = dt->kind == VRPC_KIND_ENUM
                         ? t->fields[0].type->values[rnd(r) % dt->nvalues].value
                         : (int64_t)(rnd(r) % 1000);
                if (dt->kind == VRPC_KIND_BOOL)
                    dv &= 1;
                for (j = 0; j < t->narms; j++)
                    if ((uint32_t)t->arms[j].value == (uint32_t)dv)
                        hit = 1;
                if (!hit)
                    arm = t->default_arm;
            }
        }
        if (!arm) {
            arm = &t->arms[rnd(r) % t->narms];
            dv = arm->value;
        }
        store_disc(dt, dst + t->fields[0].offset, dv);
        if (arm->type)
            gen_value(arm->type, dst + arm->offset, r, depth + 1);
        return;
    }
    }
}

static const vrpc_union_arm *gen_arm(const vrpc_type *t, const uint8_t *v)
{
    const vrpc_type *dt = t->fields[0].type;
    const uint8_t *dv = v + t->fields[0].offset;
    uint32_t key, i;
    switch (dt->kind) {
    case VRPC_KIND_CHAR:
        key = (uint32_t)(int32_t)(int8_t)*dv;
        break;
    case VRPC_KIND_UCHAR:
        key = *dv;
        break;
    case VRPC_KIND_SHORT: {
        int16_t x;
        memcpy(&x, dv, 2);
        key = (uint32_t)(int32_t)x;
        break;
    }
    case VRPC_KIND_USHORT: {
        uint16_t x;
        memcpy(&x, dv, 2);
        key = x;
        break;
    }
    case VRPC_KIND_BOOL:
        key = *(const bool *)dv;
        break;
    default:
        memcpy(&key, dv, 4);
        break;
    }
    for (i = 0; i < t->narms; i++)
        if ((uint32_t)t->arms[i].value == key)
            return &t->arms[i];
    return t->default_arm;
}

static void free_gen(const vrpc_type *t, uint8_t *v)
{
    uint32_t i;
    switch (t->kind) {
    case VRPC_KIND_STRING:
    case VRPC_KIND_OPT_STRING: {
        char *s;
        memcpy(&s, v, sizeof s);
        free(s);
        return;
    }
    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes by;
        memcpy(&by, v, sizeof by);
        free(by.data);
        return;
    }
    case VRPC_KIND_ARRAY_FIXED:
        for (i = 0; i < t->bound; i++)
            free_gen(t->elem, v + (size_t)i * t->elem->size);
        return;
    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        memcpy(&a, v, sizeof a);
        for (i = 0; i < a.n; i++)
            free_gen(t->elem, (uint8_t *)a.items + (size_t)i * t->elem->size);
        free(a.items);
        return;
    }
    case VRPC_KIND_OPTIONAL: {
        uint8_t *p;
        memcpy(&p, v, sizeof p);
        if (p)
            free_gen(t->elem, p);
        free(p);
        return;
    }
    case VRPC_KIND_STRUCT:
        for (i = 0; i < t->nfields; i++)
            free_gen(t->fields[i].type, v + t->fields[i].offset);
        return;
    case VRPC_KIND_UNION: {
        const vrpc_union_arm *arm = gen_arm(t, v);
        if (arm && arm->type)
            free_gen(arm->type, v + arm->offset);
        return;
    }
    default:
        return;
    }
}

/* Every descriptor reachable from the procedure table. */
static const vrpc_type **all_types;
static size_t n_all_types, cap_all_types;

static void collect(const vrpc_type *t)
{
    size_t i;
    if (!t)
        return;
    for (i = 0; i < n_all_types; i++)
        if (all_types[i] == t)
            return;
    if (n_all_types == cap_all_types) {
        cap_all_types = cap_all_types ? 2 * cap_all_types : 256;
        all_types = realloc(all_types, cap_all_types * sizeof *all_types);
    }
    all_types[n_all_types++] = t;
    collect(t->elem);
    for (i = 0; i < t->nfields; i++)
        collect(t->fields[i].type);
    for (i = 0; i < t->narms; i++)
        collect(t->arms[i].type);
    if (t->default_arm)
        collect(t->default_arm->type);
}

/* The smallest encoding of t, computed independently of t->min_wire. */
static uint64_t my_min_wire(const vrpc_type *t, int depth)
{
    uint64_t m = 0, a;
    uint32_t i;
    if (depth > 64)
        return 0;
    switch (t->kind) {
    case VRPC_KIND_VOID:
        return 0;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE:
        return 8;
    case VRPC_KIND_OPAQUE_FIXED:
        return ((uint64_t)t->bound + 3) & ~(uint64_t)3;
    case VRPC_KIND_ARRAY_FIXED:
        return (uint64_t)t->bound * my_min_wire(t->elem, depth + 1);
    case VRPC_KIND_STRUCT:
        for (i = 0; i < t->nfields; i++)
            m += my_min_wire(t->fields[i].type, depth + 1);
        return m;
    case VRPC_KIND_UNION:
        m = UINT64_MAX;
        for (i = 0; i < t->narms; i++) {
            a = t->arms[i].type ? my_min_wire(t->arms[i].type, depth + 1) : 0;
            if (a < m)
                m = a;
        }
        if (t->default_arm) {
            a = t->default_arm->type ? my_min_wire(t->default_arm->type, depth + 1) : 0;
            if (a < m)
                m = a;
        }
        return 4 + (m == UINT64_MAX ? 0 : m);
    default:
        return 4; /* every other scalar, strings, opaque<>, arrays<>, optionals */
    }
}

static size_t c_size(uint8_t kind)
{
    switch (kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
    case VRPC_KIND_ENUM:
    case VRPC_KIND_FLOAT:
        return 4;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE:
        return 8;
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
        return 1;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT:
        return 2;
    case VRPC_KIND_BOOL:
        return sizeof(bool);
    case VRPC_KIND_STRING:
    case VRPC_KIND_OPT_STRING:
    case VRPC_KIND_OPTIONAL:
        return sizeof(void *);
    case VRPC_KIND_OPAQUE_VAR:
        return sizeof(vrpc_bytes);
    case VRPC_KIND_ARRAY_VAR:
        return sizeof(vrpc_array);
    default:
        return 0;
    }
}

/* Layout sanity of one descriptor; returns a complaint or NULL. */
static const char *layout_problem(const vrpc_type *t)
{
    uint32_t i;
    if (t->kind > VRPC_KIND_UNION)
        return "bad kind";
    if (c_size(t->kind) && t->size != c_size(t->kind))
        return "size differs from the C representation";
    switch (t->kind) {
    case VRPC_KIND_OPAQUE_FIXED:
        return t->size == t->bound ? NULL : "opaque[N] size != N";
    case VRPC_KIND_ARRAY_FIXED:
        if (!t->elem)
            return "no elem";
        return (uint64_t)t->size == (uint64_t)t->elem->size * t->bound ? NULL
                                                                       : "T[N] size != N*size(T)";
    case VRPC_KIND_ARRAY_VAR:
    case VRPC_KIND_OPTIONAL:
        return t->elem ? NULL : "no elem";
    case VRPC_KIND_ENUM:
        return t->nvalues && t->values ? NULL : "enum without values";
    case VRPC_KIND_STRUCT:
        for (i = 0; i < t->nfields; i++)
            if (!t->fields[i].type ||
                (uint64_t)t->fields[i].offset + t->fields[i].type->size > t->size)
                return "a member lies outside the struct";
        return NULL;
    case VRPC_KIND_UNION:
        if (t->nfields != 1 || !t->fields[0].type)
            return "no discriminant";
        if ((uint64_t)t->fields[0].offset + t->fields[0].type->size > t->size)
            return "discriminant outside the struct";
        for (i = 0; i < t->narms; i++)
            if (t->arms[i].type && (uint64_t)t->arms[i].offset + t->arms[i].type->size > t->size)
                return "an arm lies outside the struct";
        if (!t->narms && !t->default_arm)
            return "union without arms";
        return NULL;
    default:
        return NULL;
    }
}

static void test_generated(void)
{
    size_t nprog = 0, p, i, k, nprocs = 0, ntypes = 0, fails = 0, nvalues = 0;
    const vrpc_program *progs = vrpc_programs(&nprog);
    const vrpc_type **top = NULL;
    size_t ntop = 0;
    long live = a_live;
    rng r = {0x9e3779b97f4a7c15ull};

    tap_ok(progs && nprog >= 5, "vrpc_programs() lists %zu programs", nprog);
    for (p = 0; p < nprog; p++) {
        for (i = 0; i < progs[p].nprocs; i++) {
            const vrpc_proc *pr = &progs[p].procs[i];
            const vrpc_type *ts[3] = {pr->args, pr->ret, pr->msg};
            nprocs++;
            for (k = 0; k < 3; k++) {
                size_t j;
                if (!ts[k])
                    continue;
                for (j = 0; j < ntop && top[j] != ts[k]; j++)
                    ;
                if (j < ntop)
                    continue;
                top = realloc(top, (ntop + 1) * sizeof *top);
                top[ntop++] = ts[k];
                collect(ts[k]);
            }
        }
    }

    /* Descriptor sanity: min_wire and layout, on every reachable descriptor. */
    {
        size_t bad_min = 0, bad_layout = 0;
        for (i = 0; i < n_all_types; i++) {
            const vrpc_type *t = all_types[i];
            const char *why = layout_problem(t);
            uint64_t m = my_min_wire(t, 0);
            if (m != t->min_wire) {
                if (bad_min++ < 10)
                    tap_diag("%s: min_wire %u, expected %llu", t->name ? t->name : "(anon)",
                             t->min_wire, (unsigned long long)m);
            }
            if (why) {
                if (bad_layout++ < 10)
                    tap_diag("%s: %s", t->name ? t->name : "(anon)", why);
            }
        }
        tap_ok(bad_min == 0, "min_wire of all %zu reachable descriptors is the smallest encoding",
               n_all_types);
        tap_ok(bad_layout == 0, "layout of all %zu reachable descriptors is consistent",
               n_all_types);
        if (bad_layout) {
            free(top);
            return;
        }
    }

    /* Round trip of pseudo-random values of every type. */
    for (i = 0; i < ntop; i++) {
        const vrpc_type *t = top[i];
        int ok = 1;
        for (k = 0; k < 4 && ok; k++) {
            uint8_t *v = calloc(1, t->size ? t->size : 1);
            vrpc_buf a = {0}, b = {0};
            void *d = NULL;
            int rc;
            gen_value(t, v, &r, 0);
            rc = vrpc_xdr_encode(t, v, &a);
            if (rc == 0)
                rc = vrpc_xdr_decode(t, a.data, a.len, &d);
            if (rc == 0)
                rc = vrpc_xdr_encode(t, d, &b);
            if (rc || a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
                tap_diag("%s: round trip failed (rc %d)", t->name ? t->name : "(anon)", rc);
                dump("first", a.data, a.len);
                dump("second", b.data, b.len);
                ok = 0;
            }
            if (rc == 0 && a.len < t->min_wire) {
                tap_diag("%s: encoding shorter than min_wire", t->name);
                ok = 0;
            }
            /* Every prefix of the first value's encoding must be rejected. */
            if (ok && k == 0) {
                size_t cut;
                for (cut = 0; cut < a.len; cut++) {
                    void *x = NULL;
                    if (vrpc_xdr_decode(t, a.data, cut, &x) == 0) {
                        tap_diag("%s: prefix of %zu/%zu bytes decoded", t->name, cut, a.len);
                        vrpc_free(x);
                        ok = 0;
                        break;
                    }
                }
            }
            vrpc_free(d);
            vrpc_buf_reset(&a);
            vrpc_buf_reset(&b);
            free_gen(t, v);
            free(v);
            nvalues++;
        }
        if (ok)
            ntypes++;
        else
            fails++;
    }
    tap_ok(
        fails == 0 && ntypes == ntop,
        "generated types: %zu of %zu args/ret/msg types of %zu procedures round-trip (%zu values)",
        ntypes, ntop, nprocs, nvalues);
    tap_diag("%zu procedure types, %zu reachable descriptors", ntop, n_all_types);

    /* Small random inputs (like a 28-byte message) never allocate much. */
    {
        size_t largest = 0, accepted = 0;
        uint8_t in[64];
        for (i = 0; i < ntop; i++) {
            for (k = 0; k < 16; k++) {
                size_t len = 4 * (1 + rnd(&r) % 15), j;
                void *x = NULL;
                for (j = 0; j < len; j += 4) {
                    /* Mostly small words, so lengths and counts look plausible. */
                    uint32_t w = rnd(&r);
                    vrpc_put_u32(in + j, w % 4 == 0 ? w : (w >> 8) % 4);
                }
                a_reset();
                if (vrpc_xdr_decode(top[i], in, len, &x) == 0)
                    accepted++;
                vrpc_free(x);
                if (a_largest > largest)
                    largest = a_largest;
            }
        }
        tap_ok(largest <= 65536 && a_live == live,
               "random inputs of 4..60 bytes over every type: largest allocation %zu bytes (%zu "
               "decoded)",
               largest, accepted);
    }
    free(top);
    free(all_types);
    all_types = NULL;
    n_all_types = cap_all_types = 0;
}

static void test_real_world(void)
{
    void *out;
    int rc;

    /* remote_domain_get_info_ret: running, 1 GiB max, 512 MiB, 2 vcpus, 10 s. */
    {
        const char *hex = "00000001"          /* state (unsigned char) */
                          "00000000 00100000" /* maxMem */
                          "00000000 00080000" /* memory */
                          "00000002"          /* nrVirtCpu (unsigned short) */
                          "00000002 540be400";
        vrpc_domain_get_info_ret *d;
        rc = dec_hex(&vrpc_td_domain_get_info_ret, hex, &out);
        d = out;
        tap_ok(rc == 0 && d->state == 1 && d->maxMem == 1048576 && d->memory == 524288 &&
                   d->nrVirtCpu == 2 && d->cpuTime == 10000000000ull,
               "decode a real remote_domain_get_info_ret");
        if (rc == 0)
            enc_is(&vrpc_td_domain_get_info_ret, d, hex, "re-encode remote_domain_get_info_ret");
        vrpc_free(out);
        tap_ok(sizeof(vrpc_domain_get_info_ret) == vrpc_td_domain_get_info_ret.size,
               "descriptor size of remote_domain_get_info_ret matches sizeof");
    }
    /* remote_auth_list_ret: [SASL, POLKIT]. */
    {
        vrpc_auth_list_ret *d;
        rc = dec_hex(&vrpc_td_auth_list_ret, "00000002 00000001 00000002", &out);
        d = out;
        tap_ok(rc == 0 && d->types.n == 2 && d->types.items[0] == VRPC_AUTH_SASL &&
                   d->types.items[1] == VRPC_AUTH_POLKIT,
               "decode a real remote_auth_list_ret");
        vrpc_free(out);
        /* A newer daemon's auth type (3 is not in remote_auth_type) is passed on. */
        rc = dec_hex(&vrpc_td_auth_list_ret, "00000002 00000003 7fffffff", &out);
        d = out;
        tap_ok(rc == 0 && d->types.n == 2 && d->types.items[0] == 3 &&
                   d->types.items[1] == INT32_MAX,
               "remote_auth_list_ret with auth types 3 and 2^31-1: decoded as the numbers");
        if (rc == 0)
            enc_is(&vrpc_td_auth_list_ret, d, "00000002 00000003 7fffffff",
                   "remote_auth_list_ret with auth types 3 and 2^31-1: re-encoded unchanged");
        vrpc_free(out);
        rc = dec_hex(&vrpc_td_auth_list_ret,
                     "00000015 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
                     "00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
                     "00000000 00000000 00000000 00000000 00000000 00000000",
                     &out);
        tap_ok(rc == VRPC_E_TOO_BIG, "remote_auth_list_ret with 21 types (max 20): VRPC_E_TOO_BIG");
    }
    /* remote_node_get_info_ret: char model[32] is 128 bytes. */
    {
        vrpc_buf b = {0};
        vrpc_node_get_info_ret *d;
        const char *model = "x86_64";
        size_t i;
        for (i = 0; i < 32; i++)
            vrpc_buf_put_u32(&b, i < strlen(model) ? (uint32_t)model[i] : 0);
        vrpc_buf_put_u64(&b, 16318976ull);
        for (i = 0; i < 6; i++)
            vrpc_buf_put_u32(&b, (uint32_t)(i + 1));
        rc = vrpc_xdr_decode(&vrpc_td_node_get_info_ret, b.data, b.len, &out);
        d = out;
        tap_ok(rc == 0 && b.len == 128 + 8 + 24 && strcmp(d->model, "x86_64") == 0 &&
                   d->memory == 16318976ull && d->cpus == 1 && d->threads == 6,
               "decode a real remote_node_get_info_ret (model is 128 bytes)");
        vrpc_free(out);
        vrpc_buf_reset(&b);
    }
    /* remote_connect_list_all_domains_ret: one domain. */
    {
        const char *hex = "00000001"                            /* domains.n */
                          "00000003 766d3100"                   /* name "vm1" */
                          "c0ffee00 11112222 33334444 55556666" /* uuid */
                          "00000003"                            /* id */
                          "00000001";                           /* ret */
        vrpc_connect_list_all_domains_ret *d;
        rc = dec_hex(&vrpc_td_connect_list_all_domains_ret, hex, &out);
        d = out;
        tap_ok(rc == 0 && d->domains.n == 1 && strcmp(d->domains.items[0].name, "vm1") == 0 &&
                   d->domains.items[0].uuid[0] == 0xc0 && d->domains.items[0].uuid[15] == 0x66 &&
                   d->domains.items[0].id == 3 && d->ret == 1,
               "decode a real remote_connect_list_all_domains_ret");
        if (rc == 0)
            enc_is(&vrpc_td_connect_list_all_domains_ret, d, hex,
                   "re-encode remote_connect_list_all_domains_ret");
        vrpc_free(out);
    }
    /* remote_domain_get_scheduler_parameters_ret: typed parameters. */
    {
        const char *hex = "00000002"
                          "0000000a 6370755f 73686172 65730000" /* "cpu_shares" */
                          "00000004 00000000 00000400"          /* ULLONG 1024 */
                          "0000000a 76637075 5f71756f 74610000" /* "vcpu_quota" */
                          "00000003 ffffffff ffffffff";         /* LLONG -1 */
        vrpc_domain_get_scheduler_parameters_ret *d;
        rc = dec_hex(&vrpc_td_domain_get_scheduler_parameters_ret, hex, &out);
        d = out;
        tap_ok(rc == 0 && d->params.n == 2 && strcmp(d->params.items[0].field, "cpu_shares") == 0 &&
                   d->params.items[0].value.type == 4 && d->params.items[0].value.u.ul == 1024 &&
                   d->params.items[1].value.type == 3 && d->params.items[1].value.u.l == -1,
               "decode real typed parameters");
        if (rc == 0)
            enc_is(&vrpc_td_domain_get_scheduler_parameters_ret, d, hex,
                   "re-encode typed parameters");
        vrpc_free(out);
        rc = dec_hex(&vrpc_td_domain_get_scheduler_parameters_ret,
                     "00000001 00000001 61000000 00000008 00000000", &out);
        tap_ok(rc == VRPC_E_PROTO, "typed parameter of type 8 (no arm): VRPC_E_PROTO");
    }
}

#endif /* VRPC_TEST_NO_GENERATED */

int main(void)
{
    vrpc_set_allocator(
        &(vrpc_allocator){.alloc_fn = h_malloc, .realloc_fn = h_realloc, .free_fn = h_free});

    test_misc();
    test_helpers();
    test_primitives();
    test_void();
    test_opaque_string();
    test_char_arrays();
    test_optional();
    test_nested();
    test_bounds();
    test_huge_counts();
    test_scalar_arrays();
    test_unions();
    test_depth();
    test_nomem();
#ifndef VRPC_TEST_NO_GENERATED
    test_real_world();
    test_generated();
#else
    tap_skip("generated descriptors: built without protocol.h");
#endif
    tap_ok(a_live == 0, "nothing leaked (%ld live allocations)", a_live);

    vrpc_set_allocator(NULL);
    return tap_done();
}
