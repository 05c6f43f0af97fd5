/* SPDX-License-Identifier: MIT */
/*
 * virtrpc's codec against rpcgen + libtirpc, on xdr_compat.x (every
 * construct virtrpc-gen accepts). For each type, many random values:
 *
 *   V  a random value, built by walking virtrpc's type descriptor
 *   A  = virtrpc encode(V)
 *   R  = libtirpc decode(A)          must take every byte; R must equal V
 *   B  = libtirpc encode(R)          must equal A, byte for byte
 *   V2 = virtrpc decode(B)           must equal R
 *
 * The equality of a virtrpc value and an rpcgen value is written out per
 * type below (the two C representations differ: bool, optional strings,
 * array and union member names). Enums carry values outside the enum too
 * (a third of them, any int32), as a newer peer may send: libtirpc's
 * xdr_enum passes them on and so must virtrpc. Then the bytes are damaged at
 * random: where virtrpc's decoder accepts them, libtirpc's must accept them
 * too and find the same value (virtrpc is stricter only on strings: one with
 * an embedded NUL is refused). Last, a union discriminant without an arm (and
 * no default) is refused by both, encoding and decoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/protocol.h> /* virtrpc-gen's output for xdr_compat.x */

#include "xdr_compat.h" /* rpcgen's */

#include "../tap.h"

/* ---- random numbers (xorshift64*, fixed seed: reproducible) ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd64(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd(uint32_t n) /* 0 .. n-1 */
{
    return n ? (uint32_t)(rnd64() % n) : 0;
}

/* ---- an arena for the random virtrpc values ---- */

static uint8_t arena[1 << 20];
static size_t arena_used;

static void *arena_alloc(size_t n)
{
    size_t at = (arena_used + 15) & ~(size_t)15;
    if (n > sizeof(arena) - at) {
        fprintf(stderr, "arena exhausted\n");
        exit(1);
    }
    arena_used = at + n;
    memset(arena + at, 0, n);
    return arena + at;
}

/* ---- random virtrpc values, from the descriptors ---- */

static uint32_t cap(uint32_t bound, uint32_t limit)
{
    return bound < limit ? bound : limit;
}

static void store_disc(const vrpc_type *t, uint8_t *v, int64_t value)
{
    switch (t->kind) {
    case VRPC_KIND_BOOL:
        *(bool *)v = value != 0;
        break;
    case VRPC_KIND_UINT:
        *(uint32_t *)v = (uint32_t)value;
        break;
    default:
        *(int32_t *)v = (int32_t)value;
        break;
    }
}

/* An enum value: mostly one the enum lists, a third of the time any int32
 * (the extremes among them), as a daemon with a newer .x file may send. */
static int32_t gen_enum(const vrpc_type *t)
{
    switch (rnd(12)) {
    case 0:
        return INT32_MIN;
    case 1:
        return INT32_MAX;
    case 2:
    case 3:
        return (int32_t)rnd64();
    default:
        return t->values[rnd(t->nvalues)].value;
    }
}

static bool is_label(const vrpc_type *u, int64_t value)
{
    for (uint32_t i = 0; i < u->narms; i++)
        if (u->arms[i].value == value)
            return true;
    return false;
}

static void gen(const vrpc_type *t, uint8_t *v, int depth)
{
    static const char chars[] = "abcXYZ019 -_./\\\"'~";
    switch (t->kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
        *(uint32_t *)v = (uint32_t)rnd64();
        break;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
        *(uint64_t *)v = rnd64();
        break;
    case VRPC_KIND_CHAR:
        *(char *)v = (char)rnd64();
        break;
    case VRPC_KIND_UCHAR:
        *(uint8_t *)v = (uint8_t)rnd64();
        break;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT:
        *(uint16_t *)v = (uint16_t)rnd64();
        break;
    case VRPC_KIND_BOOL:
        *(bool *)v = rnd(2);
        break;
    case VRPC_KIND_FLOAT:
        *(float *)v = (float)(int32_t)rnd64() / 1024.0f;
        break;
    case VRPC_KIND_DOUBLE:
        *(double *)v = (double)(int64_t)rnd64() / 3.0;
        break;
    case VRPC_KIND_ENUM:
        *(int32_t *)v = gen_enum(t);
        break;
    case VRPC_KIND_STRING:
    case VRPC_KIND_OPT_STRING: {
        if (t->kind == VRPC_KIND_OPT_STRING && rnd(4) == 0) {
            *(char **)v = NULL;
            break;
        }
        uint32_t n = rnd(cap(t->bound, 20) + 1);
        char *s = arena_alloc(n + 1);
        for (uint32_t i = 0; i < n; i++)
            s[i] = chars[rnd(sizeof(chars) - 1)];
        *(char **)v = s;
        break;
    }
    case VRPC_KIND_OPAQUE_FIXED:
        for (uint32_t i = 0; i < t->bound; i++)
            v[i] = (uint8_t)rnd64();
        break;
    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes *b = (vrpc_bytes *)v;
        b->len = rnd(cap(t->bound, 20) + 1);
        b->data = b->len ? arena_alloc(b->len) : NULL;
        for (uint32_t i = 0; i < b->len; i++)
            b->data[i] = (uint8_t)rnd64();
        break;
    }
    case VRPC_KIND_ARRAY_FIXED:
        for (uint32_t i = 0; i < t->bound; i++)
            gen(t->elem, v + (size_t)i * t->elem->size, depth);
        break;
    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array *a = (vrpc_array *)v;
        a->n = rnd(cap(t->bound, 4) + 1);
        a->items = a->n ? arena_alloc((size_t)a->n * t->elem->size) : NULL;
        for (uint32_t i = 0; i < a->n; i++)
            gen(t->elem, (uint8_t *)a->items + (size_t)i * t->elem->size, depth);
        break;
    }
    case VRPC_KIND_OPTIONAL:
        if (depth > 4 || rnd(3) == 0) {
            *(void **)v = NULL;
        } else {
            uint8_t *p = arena_alloc(t->elem->size);
            gen(t->elem, p, depth + 1);
            *(void **)v = p;
        }
        break;
    case VRPC_KIND_STRUCT:
        for (uint32_t i = 0; i < t->nfields; i++)
            gen(t->fields[i].type, v + t->fields[i].offset, depth);
        break;
    case VRPC_KIND_UNION: {
        const vrpc_type *dt = t->fields[0].type;
        uint8_t *dv = v + t->fields[0].offset;
        uint32_t k = rnd(t->narms + (t->default_arm ? 1 : 0));
        const vrpc_union_arm *arm;
        if (k < t->narms) {
            arm = &t->arms[k];
            store_disc(dt, dv, arm->value);
        } else {
            int64_t d;
            do
                d = dt->kind == VRPC_KIND_ENUM   ? gen_enum(dt)
                    : dt->kind == VRPC_KIND_UINT ? (int64_t)(uint32_t)rnd64()
                                                 : (int64_t)(int32_t)rnd64();
            while (is_label(t, d));
            arm = t->default_arm;
            store_disc(dt, dv, d);
        }
        if (arm->type)
            gen(arm->type, v + arm->offset, depth);
        break;
    }
    default:
        break;
    }
}

/* ---- equality of a virtrpc value and an rpcgen value ---- */

static bool eq_str(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool eq_opt_str(const char *a, char *const *b)
{
    return (!a && !b) || (a && b && eq_str(a, *b));
}

static bool eq_bytes(const vrpc_bytes *a, u_int blen, const char *bval)
{
    return a->len == blen && (blen == 0 || memcmp(a->data, bval, blen) == 0);
}

static bool eq_opt_int(const int32_t *a, const int *b)
{
    return (!a && !b) || (a && b && *a == *b);
}

static bool eq_point(const vrpc_xc_point *a, const xc_point *b)
{
    return a->x == b->x && a->y == b->y;
}

static bool eq_opt_point(const vrpc_xc_point *a, const xc_point *b)
{
    return (!a && !b) || (a && b && eq_point(a, b));
}

static bool eq_scalars(const vrpc_xc_scalars *a, const xc_scalars *b)
{
    return a->i == b->i && a->u == b->u && a->h == b->h && a->uh == b->uh && a->c == b->c &&
           a->uc == b->uc && a->s == b->s && a->us == b->us && (int)a->b == b->b &&
           memcmp(&a->f, &b->f, sizeof(float)) == 0 && memcmp(&a->d, &b->d, sizeof(double)) == 0 &&
           a->col == (int32_t)b->col && a->col2 == (int32_t)b->col2;
}

static bool eq_value(const vrpc_xc_value *a, const xc_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case 1:
        return a->u.i == b->xc_value_u.i;
    case 2:
        return a->u.h == b->xc_value_u.h;
    case 3:
        return eq_str(a->u.s, b->xc_value_u.s);
    case 4:
    case 5:
        return memcmp(&a->u.d, &b->xc_value_u.d, sizeof(double)) == 0;
    case 6:
        return true;
    case 7:
        return eq_point(&a->u.p, &b->xc_value_u.p);
    case -1:
        return eq_str(a->u.t, b->xc_value_u.t);
    default:
        return false;
    }
}

static bool eq_shape(const vrpc_xc_shape *a, const xc_shape *b)
{
    if (a->c != (int32_t)b->c)
        return false;
    if (a->c == XC_RED)
        return eq_point(&a->u.centre, &b->xc_shape_u.centre);
    if (a->c == XC_GREEN)
        return true;
    return eq_bytes(&a->u.raw, b->xc_shape_u.raw.xc_blob_len, b->xc_shape_u.raw.xc_blob_val);
}

static bool eq_mood(const vrpc_xc_mood *a, const xc_mood *b)
{
    if (a->c != (int32_t)b->c)
        return false;
    if (a->c == XC_GREEN)
        return a->u.level == b->xc_mood_u.level;
    return a->c == XC_NEG;
}

static bool eq_flag(const vrpc_xc_flag *a, const xc_flag *b)
{
    if ((int)a->on != b->on)
        return false;
    return !a->on || a->u.level == b->xc_flag_u.level;
}

static bool eq_code(const vrpc_xc_code *a, const xc_code *b)
{
    if (a->code != b->code)
        return false;
    if (a->code == 4294967295u)
        return eq_opt_str(a->u.why, b->xc_code_u.why);
    if (a->code == 0)
        return a->u.n == b->xc_code_u.n;
    return true;
}

static bool eq_node(const vrpc_xc_node *a, const xc_node *b)
{
    for (; a && b; a = a->next, b = b->next)
        if (a->v != b->v)
            return false;
    return !a && !b;
}

/* var arrays: virtrpc {n, items}, rpcgen {x_len, x_val} */
#define EQ_VAR(a, b, fld, eq)                                                                      \
    ((a)->fld.n == (b)->fld.fld##_len && ({                                                        \
         bool ok_ = true;                                                                          \
         for (uint32_t i_ = 0; ok_ && i_ < (a)->fld.n; i_++)                                       \
             ok_ = eq(&(a)->fld.items[i_], &(b)->fld.fld##_val[i_]);                               \
         ok_;                                                                                      \
     }))
#define EQ_FIX(a, b, fld, n, eq)                                                                   \
    ({                                                                                             \
        bool ok_ = true;                                                                           \
        for (uint32_t i_ = 0; ok_ && i_ < (n); i_++)                                               \
            ok_ = eq(&(a)->fld[i_], &(b)->fld[i_]);                                                \
        ok_;                                                                                       \
    })

static bool eq_i32(const int32_t *a, const int *b)
{
    return *a == *b;
}
static bool eq_u32(const uint32_t *a, const u_int *b)
{
    return *a == *b;
}
static bool eq_i64(const int64_t *a, const quad_t *b)
{
    return *a == *b;
}
static bool eq_u64(const uint64_t *a, const u_quad_t *b)
{
    return *a == *b;
}
static bool eq_bool(const bool *a, const bool_t *b)
{
    return (int)*a == *b;
}
static bool eq_color(const int32_t *a, const xc_color *b)
{
    return *a == (int32_t)*b;
}
static bool eq_name(const char *const *a, char *const *b)
{
    return eq_str(*a, *b);
}
static bool eq_uuid(const vrpc_xc_uuid *a, const xc_uuid *b)
{
    return memcmp(*a, *b, 16) == 0;
}
static bool eq_blob(const vrpc_xc_blob *a, const xc_blob *b)
{
    return eq_bytes(a, b->xc_blob_len, b->xc_blob_val);
}
static bool eq_opt_int_p(int32_t *const *a, int *const *b)
{
    return eq_opt_int(*a, *b);
}
static bool eq_opt_name_p(const char *const *a, xc_name *const *b)
{
    return eq_opt_str(*a, *b);
}
static bool eq_opt_point_p(vrpc_xc_point *const *a, xc_point *const *b)
{
    return eq_opt_point(*a, *b);
}
static bool eq_ints3(const vrpc_xc_ints3 *a, const xc_ints3 *b)
{
    return (*a)[0] == (*b)[0] && (*a)[1] == (*b)[1] && (*a)[2] == (*b)[2];
}
static bool eq_float(const float *a, const float *b)
{
    return memcmp(a, b, sizeof(float)) == 0;
}
static bool eq_double(const double *a, const double *b)
{
    return memcmp(a, b, sizeof(double)) == 0;
}
static bool eq_i16(const int16_t *a, const short *b)
{
    return *a == *b;
}
static bool eq_u16(const uint16_t *a, const u_short *b)
{
    return *a == *b;
}
static bool eq_char(const char *a, const char *b)
{
    return *a == *b;
}
static bool eq_u8(const uint8_t *a, const u_char *b)
{
    return *a == *b;
}

static bool eq_all(const vrpc_xc_all *a, const xc_all *b)
{
    return eq_scalars(&a->sc, &b->sc) && EQ_FIX(a, b, ints_f, 3, eq_i32) &&
           EQ_VAR(a, b, ints_v, eq_i32) && EQ_VAR(a, b, uints_v, eq_u32) &&
           EQ_FIX(a, b, hypers_f, 2, eq_i64) && EQ_VAR(a, b, uhypers_v, eq_u64) &&
           a->hypers_t.n == b->hypers_t.xc_hypers_len &&
           (a->hypers_t.n == 0 || memcmp(a->hypers_t.items, b->hypers_t.xc_hypers_val,
                                         a->hypers_t.n * sizeof(int64_t)) == 0) &&
           EQ_FIX(a, b, bools_f, 3, eq_bool) && EQ_VAR(a, b, bools_v, eq_bool) &&
           EQ_FIX(a, b, colors_f, 2, eq_color) && EQ_VAR(a, b, colors_v, eq_color) &&
           EQ_FIX(a, b, names_f, 2, eq_name) && EQ_VAR(a, b, names_v, eq_name) &&
           EQ_VAR(a, b, texts_v, eq_name) && EQ_FIX(a, b, uuids_f, 2, eq_uuid) &&
           EQ_VAR(a, b, uuids_v, eq_uuid) && EQ_FIX(a, b, blobs_f, 2, eq_blob) &&
           EQ_VAR(a, b, blobs_v, eq_blob) && EQ_FIX(a, b, points_f, 2, eq_point) &&
           EQ_VAR(a, b, points_v, eq_point) && EQ_FIX(a, b, values_f, 2, eq_value) &&
           EQ_VAR(a, b, values_v, eq_value) && EQ_VAR(a, b, shapes_v, eq_shape) &&
           EQ_FIX(a, b, moods_f, 2, eq_mood) && EQ_FIX(a, b, opts_f, 2, eq_opt_int_p) &&
           EQ_VAR(a, b, opts_v, eq_opt_int_p) && EQ_FIX(a, b, onames_f, 2, eq_opt_name_p) &&
           EQ_VAR(a, b, onames_v, eq_opt_name_p) && EQ_VAR(a, b, opoints_v, eq_opt_point_p) &&
           EQ_VAR(a, b, ints3_v, eq_ints3) && EQ_VAR(a, b, floats_v, eq_float) &&
           EQ_FIX(a, b, doubles_f, 2, eq_double) && EQ_VAR(a, b, shorts_v, eq_i16) &&
           EQ_FIX(a, b, ushorts_f, 2, eq_u16) && EQ_VAR(a, b, chars_v, eq_char) &&
           EQ_FIX(a, b, uchars_f, 3, eq_u8) && memcmp(a->fixed_op, b->fixed_op, 5) == 0 &&
           eq_bytes(&a->var_op, b->var_op.var_op_len, b->var_op.var_op_val) &&
           eq_bytes(&a->any_op, b->any_op.any_op_len, b->any_op.any_op_val) &&
           eq_str(a->str, b->str) && eq_str(a->ustr, b->ustr) &&
           eq_opt_str(a->opt_name, b->opt_name) && eq_opt_point(a->opt_point, b->opt_point) &&
           memcmp(a->nested_uuid, b->nested_uuid, 16) == 0 &&
           eq_point(&a->nested_point, &b->nested_point) && eq_shape(&a->shape, &b->shape) &&
           eq_flag(&a->flag, &b->flag) && eq_code(&a->code, &b->code) && eq_node(a->list, b->list);
}

/* ---- the cross-check ---- */

typedef bool (*eq_fn)(const void *v, const void *r);

typedef struct case_t {
    const char *name;
    const vrpc_type *td;
    xdrproc_t proc;
    size_t rsize; /* sizeof the rpcgen type */
    eq_fn eq;
    int count;
} case_t;

#define EQ(fn, vt, rt)                                                                             \
    static bool fn##_any(const void *v, const void *r)                                             \
    {                                                                                              \
        return fn((const vt *)v, (const rt *)r);                                                   \
    }
EQ(eq_scalars, vrpc_xc_scalars, xc_scalars)
EQ(eq_value, vrpc_xc_value, xc_value)
EQ(eq_shape, vrpc_xc_shape, xc_shape)
EQ(eq_mood, vrpc_xc_mood, xc_mood)
EQ(eq_flag, vrpc_xc_flag, xc_flag)
EQ(eq_code, vrpc_xc_code, xc_code)
EQ(eq_node, vrpc_xc_node, xc_node)
EQ(eq_all, vrpc_xc_all, xc_all)

static uint8_t tbuf[1 << 20];

/* libtirpc: decode exactly len bytes into r (zeroed, rsize bytes); true on success. */
static bool tirpc_decode(xdrproc_t proc, const uint8_t *data, size_t len, void *r, size_t rsize)
{
    XDR x;
    bool ok;
    memset(r, 0, rsize);
    xdrmem_create(&x, (char *)data, (u_int)len, XDR_DECODE);
    ok = proc(&x, r) && xdr_getpos(&x) == len;
    xdr_destroy(&x);
    return ok;
}

static bool tirpc_encode(xdrproc_t proc, void *r, size_t *len)
{
    XDR x;
    bool ok;
    xdrmem_create(&x, (char *)tbuf, sizeof(tbuf), XDR_ENCODE);
    ok = proc(&x, r);
    *len = xdr_getpos(&x);
    xdr_destroy(&x);
    return ok;
}

static void run_case(const case_t *c)
{
    int failed_roundtrip = 0, failed_damaged = 0, accepted_damaged = 0, refused_damaged = 0;
    size_t bytes = 0;
    char first[200] = "";
    void *r = malloc(c->rsize), *r2 = malloc(c->rsize);

    for (int it = 0; it < c->count; it++) {
        vrpc_buf a = {0};
        void *v, *v2 = NULL;
        size_t blen = 0;
        const char *why = NULL;

        arena_used = 0;
        v = arena_alloc(c->td->size);
        gen(c->td, v, 0);
        if (vrpc_xdr_encode(c->td, v, &a) != 0)
            why = "virtrpc cannot encode the value";
        else if (!tirpc_decode(c->proc, a.data, a.len, r, c->rsize))
            why = "libtirpc cannot decode virtrpc's bytes";
        else if (!c->eq(v, r))
            why = "libtirpc decodes virtrpc's bytes to another value";
        else if (!tirpc_encode(c->proc, r, &blen))
            why = "libtirpc cannot encode the value";
        else if (blen != a.len || memcmp(tbuf, a.data, blen) != 0)
            why = "libtirpc encodes the value to other bytes";
        else if (vrpc_xdr_decode(c->td, tbuf, blen, &v2) != 0)
            why = "virtrpc cannot decode libtirpc's bytes";
        else if (!c->eq(v2, r))
            why = "virtrpc decodes libtirpc's bytes to another value";
        bytes += a.len;
        if (why && !failed_roundtrip++)
            snprintf(first, sizeof(first), "value %d: %s", it, why);
        vrpc_free(v2);
        v2 = NULL;

        /* damaged bytes: what virtrpc accepts, libtirpc accepts with the same value */
        if (!why && a.len > 0) {
            for (int k = 0; k < 4; k++) {
                size_t len = a.len;
                memcpy(tbuf, a.data, len);
                switch (rnd(3)) {
                case 0:
                    tbuf[rnd((uint32_t)len)] ^= (uint8_t)(1u << rnd(8));
                    break;
                case 1:
                    tbuf[rnd((uint32_t)len)] = (uint8_t)rnd64();
                    break;
                default:
                    len = rnd((uint32_t)len);
                    break;
                }
                if (vrpc_xdr_decode(c->td, tbuf, len, &v2) != 0) {
                    refused_damaged++;
                    continue;
                }
                accepted_damaged++;
                if (!tirpc_decode(c->proc, tbuf, len, r2, c->rsize) || !c->eq(v2, r2)) {
                    if (!failed_damaged++ && !first[0])
                        snprintf(first, sizeof(first),
                                 "damaged value %d: virtrpc accepts bytes libtirpc %s", it,
                                 "refuses or reads otherwise");
                }
                xdr_free(c->proc, (char *)r2);
                vrpc_free(v2);
                v2 = NULL;
            }
        }
        xdr_free(c->proc, (char *)r);
        vrpc_free(a.data);
    }
    TAP_OK(failed_roundtrip == 0,
           "%s: %d random values (%zu bytes): virtrpc and libtirpc encode them to the same bytes "
           "and decode each other's %s",
           c->name, c->count, bytes, first);
    TAP_OK(failed_damaged == 0,
           "%s: damaged encodings: %d accepted by virtrpc (libtirpc agrees on each), %d refused %s",
           c->name, accepted_damaged, refused_damaged, first);
    free(r);
    free(r2);
}

static void put_be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24);
    p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
}

/* xc_mood has arms for XC_GREEN and XC_NEG only: every other discriminant,
 * listed in the enum or not, is refused by both sides both ways. */
static void check_no_arm(void)
{
    static const int32_t discs[] = {XC_RED, XC_BLUE, 2, -1, INT32_MIN, INT32_MAX};
    int agree = 0, n = (int)(sizeof(discs) / sizeof(discs[0]));
    char first[120] = "";

    for (int i = 0; i < n; i++) {
        vrpc_xc_mood v = {.c = discs[i]};
        xc_mood r = {.c = (xc_color)discs[i]};
        vrpc_buf b = {0};
        uint8_t word[8];
        void *out = (void *)1;
        size_t tlen;
        int erc, drc, drc2;
        bool tenc, tdec, tdec2;

        erc = vrpc_xdr_encode(&vrpc_td_xc_mood, &v, &b);
        tenc = tirpc_encode((xdrproc_t)xdr_xc_mood, &r, &tlen);
        put_be32(word, (uint32_t)discs[i]);
        put_be32(word + 4, 5); /* as if an int arm followed */
        drc = vrpc_xdr_decode(&vrpc_td_xc_mood, word, 4, &out);
        drc2 = vrpc_xdr_decode(&vrpc_td_xc_mood, word, 8, &out);
        tdec = tirpc_decode((xdrproc_t)xdr_xc_mood, word, 4, &r, sizeof(r));
        xdr_free((xdrproc_t)xdr_xc_mood, (char *)&r);
        tdec2 = tirpc_decode((xdrproc_t)xdr_xc_mood, word, 8, &r, sizeof(r));
        xdr_free((xdrproc_t)xdr_xc_mood, (char *)&r);
        if (erc == VRPC_E_INVALID && b.len == 0 && !tenc && drc == VRPC_E_PROTO &&
            drc2 == VRPC_E_PROTO && out == NULL && !tdec && !tdec2)
            agree++;
        else if (!first[0])
            snprintf(first, sizeof(first),
                     "(discriminant %d: virtrpc encode %d decode %d/%d, libtirpc encode %d "
                     "decode %d/%d)",
                     (int)discs[i], erc, drc, drc2, tenc, tdec, tdec2);
        vrpc_free(b.data);
    }
    TAP_OK(agree == n,
           "xc_mood: %d of %d discriminants without an arm are refused by virtrpc "
           "(VRPC_E_INVALID encoding, VRPC_E_PROTO decoding) and by libtirpc %s",
           agree, n, first);
}

int main(void)
{
    const case_t cases[] = {
        {"xc_scalars", &vrpc_td_xc_scalars, (xdrproc_t)xdr_xc_scalars, sizeof(xc_scalars),
         eq_scalars_any, 3000},
        {"xc_value", &vrpc_td_xc_value, (xdrproc_t)xdr_xc_value, sizeof(xc_value), eq_value_any,
         3000},
        {"xc_shape", &vrpc_td_xc_shape, (xdrproc_t)xdr_xc_shape, sizeof(xc_shape), eq_shape_any,
         2000},
        {"xc_mood", &vrpc_td_xc_mood, (xdrproc_t)xdr_xc_mood, sizeof(xc_mood), eq_mood_any, 1000},
        {"xc_flag", &vrpc_td_xc_flag, (xdrproc_t)xdr_xc_flag, sizeof(xc_flag), eq_flag_any, 1000},
        {"xc_code", &vrpc_td_xc_code, (xdrproc_t)xdr_xc_code, sizeof(xc_code), eq_code_any, 2000},
        {"xc_node", &vrpc_td_xc_node, (xdrproc_t)xdr_xc_node, sizeof(xc_node), eq_node_any, 2000},
        {"xc_all", &vrpc_td_xc_all, (xdrproc_t)xdr_xc_all, sizeof(xc_all), eq_all_any, 2000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    check_no_arm();
    return tap_done();
}
