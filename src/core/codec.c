/* SPDX-License-Identifier: MIT */
/*
 * The table-driven XDR codec: walks `vrpc_type` descriptors to encode C
 * values into XDR and to decode XDR into C values.
 *
 * Encoding appends to a vrpc_buf, reserving space once per value where the
 * size is known up front (scalars, strings, opaques, arrays of scalars, arrays
 * of flat structs) and writing directly into the buffer.
 *
 * Decoding runs in two passes over the input so that the result is a single
 * allocation:
 *   pass 1 (check_*) validates every byte of the input (lengths against
 *          bounds and against the remaining input, union arms, embedded
 *          NULs, nesting depth, trailing bytes) and adds up the size of
 *          everything the value points to;
 *   pass 2 (fill_*)  walks the now-trusted input again and fills the block:
 *          the value itself at offset 0, then every array, string, opaque
 *          and optional value it points to, each 8-byte aligned, in the order
 *          met. Strings get a terminating NUL.
 * A variable array with 0 elements decodes to items == NULL, an empty
 * variable opaque to data == NULL with len 0, an absent optional to NULL.
 * Padding inside decoded structs and unions is zeroed.
 *
 * Leniencies shared with libtirpc: padding bytes are not checked, an
 * optional's "present" word, like a bool, is true for any non-zero value,
 * and an enum (a field, an array element, a union discriminant) carries any
 * int32 both ways, listed in the .x file or not, as xdr_enum does: libvirt
 * adds values to its enums from one release to the next, and a client
 * generated from older .x files must pass a newer daemon's values on. A
 * union discriminant that selects no arm (and there is no default) is still
 * refused: VRPC_E_INVALID when encoding, VRPC_E_PROTO when decoding.
 * Re-encoding a decoded value always gives canonical bytes of the same length.
 *
 * Speed: every walker handles the leaf kinds (scalars, strings, opaques)
 * inline, in the loop over a struct's members or an array's elements; only
 * nested composites (struct, union, array, optional) recurse. Arrays of
 * scalars are plain loops, arrays of flat structs are sized in O(1) in
 * pass 1, and decoding allocates exactly once.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "xdr.h"

#define KIND_MAX VRPC_KIND_UNION
#define INLINE inline __attribute__((always_inline))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Returned by the *_leaf() helpers for composite kinds (never escapes). */
#define NOT_LEAF 1

/* Wire size of a scalar kind, 0 for the others. */
static const uint8_t scalar_wire[KIND_MAX + 1] = {
    [VRPC_KIND_INT] = 4,  [VRPC_KIND_UINT] = 4,  [VRPC_KIND_HYPER] = 8,  [VRPC_KIND_UHYPER] = 8,
    [VRPC_KIND_CHAR] = 4, [VRPC_KIND_UCHAR] = 4, [VRPC_KIND_SHORT] = 4,  [VRPC_KIND_USHORT] = 4,
    [VRPC_KIND_BOOL] = 4, [VRPC_KIND_FLOAT] = 4, [VRPC_KIND_DOUBLE] = 8, [VRPC_KIND_ENUM] = 4,
};

/* Scalars whose every wire value is acceptable: all of them, enums too
 * (see the leniencies above). */
static inline bool plain_scalar(uint8_t kind)
{
    return kind <= KIND_MAX && scalar_wire[kind] != 0;
}

/* Kinds that may be a union discriminant: 4-byte integers. */
static inline bool disc_kind(uint8_t kind)
{
    return kind <= KIND_MAX && scalar_wire[kind] == 4 && kind != VRPC_KIND_FLOAT;
}

static inline size_t align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* The wire word of a 4-byte scalar stored at v. */
static INLINE uint32_t load32(uint8_t kind, const uint8_t *v)
{
    switch (kind) {
    case VRPC_KIND_CHAR: {
        int8_t x;
        memcpy(&x, v, 1);
        return (uint32_t)(int32_t)x;
    }
    case VRPC_KIND_UCHAR:
        return v[0];
    case VRPC_KIND_SHORT: {
        int16_t x;
        memcpy(&x, v, 2);
        return (uint32_t)(int32_t)x;
    }
    case VRPC_KIND_USHORT: {
        uint16_t x;
        memcpy(&x, v, 2);
        return x;
    }
    case VRPC_KIND_BOOL:
        return v[0] != 0;
    default: {
        uint32_t x;
        memcpy(&x, v, 4);
        return x;
    }
    }
}

/* Store the wire word w of a 4-byte scalar into its C representation. */
static INLINE void store32(uint8_t kind, uint8_t *dst, uint32_t w)
{
    switch (kind) {
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
        dst[0] = (uint8_t)w;
        break;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT: {
        uint16_t x = (uint16_t)w;
        memcpy(dst, &x, 2);
        break;
    }
    case VRPC_KIND_BOOL: {
        bool x = w != 0;
        memcpy(dst, &x, sizeof x);
        break;
    }
    default:
        memcpy(dst, &w, 4);
        break;
    }
}

/* What load32() would return after store32(kind, w): the canonical word. */
static inline uint32_t canon32(uint8_t kind, uint32_t w)
{
    switch (kind) {
    case VRPC_KIND_CHAR:
        return (uint32_t)(int32_t)(int8_t)(uint8_t)w;
    case VRPC_KIND_UCHAR:
        return w & 0xffu;
    case VRPC_KIND_SHORT:
        return (uint32_t)(int32_t)(int16_t)(uint16_t)w;
    case VRPC_KIND_USHORT:
        return w & 0xffffu;
    case VRPC_KIND_BOOL:
        return w != 0;
    default:
        return w;
    }
}

/* The arm of union t for the canonical discriminant word key, or NULL. */
static INLINE const vrpc_union_arm *find_arm(const vrpc_type *t, uint32_t key)
{
    const vrpc_union_arm *arms = t->arms;
    uint32_t i, n = t->narms, idx;
    if (UNLIKELY(!arms || !n))
        return t->default_arm;
    /* Case labels are usually consecutive: try the direct index first. */
    idx = key - (uint32_t)arms[0].value;
    if (LIKELY(idx < n && (uint32_t)arms[idx].value == key))
        return &arms[idx];
    for (i = 0; i < n; i++)
        if ((uint32_t)arms[i].value == key)
            return &arms[i];
    return t->default_arm;
}

/* Is t a well-formed union descriptor? */
static inline bool union_ok(const vrpc_type *t)
{
    return t->nfields >= 1 && t->fields && t->fields[0].type && disc_kind(t->fields[0].type->kind);
}

/* Wire size of a struct made only of plain scalars and fixed opaques
 * (one level deep), or 0 if t is anything else. */
static size_t flat_wire(const vrpc_type *t)
{
    size_t sz = 0;
    uint32_t i;
    if (t->kind != VRPC_KIND_STRUCT || !t->nfields || !t->fields)
        return 0;
    for (i = 0; i < t->nfields; i++) {
        const vrpc_type *ft = t->fields[i].type;
        if (!ft)
            return 0;
        if (plain_scalar(ft->kind))
            sz += scalar_wire[ft->kind];
        else if (ft->kind == VRPC_KIND_OPAQUE_FIXED && ft->bound <= 65536)
            sz += vrpc_xdr_round4(ft->bound);
        else
            return 0;
    }
    return sz;
}

static INLINE bool zero_byte64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0;
}

static INLINE bool zero_byte32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return ((w - 0x01010101u) & ~w & 0x80808080u) != 0;
}

/* Does p[0..len) contain a NUL byte? Reads only p[0..len). */
static INLINE bool has_nul(const uint8_t *p, size_t len)
{
    size_t i;
    if (len > 64)
        return memchr(p, 0, len) != NULL;
    if (len >= 8) {
        for (i = 0; i + 8 <= len; i += 8)
            if (zero_byte64(p + i))
                return true;
        return zero_byte64(p + len - 8); /* the tail, overlapping */
    }
    if (len >= 4)
        return zero_byte32(p) || zero_byte32(p + len - 4);
    for (i = 0; i < len; i++)
        if (!p[i])
            return true;
    return false;
}

/* ======================================================================
 * Encoding
 * ====================================================================== */

/*
 * The write cursor. Each non-inlined encoder keeps one as a local variable so
 * that p and end live in registers; b->len is brought up to date (w_sync)
 * before calling another encoder or growing the buffer, and p/end are
 * reloaded (w_load) after.
 */
typedef struct wcur {
    uint8_t *p;
    uint8_t *end;
    vrpc_buf *b;
} wcur;

static INLINE void w_load(wcur *w)
{
    w->p = w->b->data + w->b->len;
    w->end = w->b->data + w->b->cap;
}

static INLINE void w_sync(wcur *w)
{
    w->b->len = (size_t)(w->p - w->b->data);
}

/* Make room for n more bytes. */
static INLINE int w_need(wcur *w, size_t n)
{
    int rc;
    if (LIKELY((size_t)(w->end - w->p) >= n))
        return 0;
    w_sync(w);
    rc = vrpc_buf_grow(w->b, n);
    w_load(w);
    return rc;
}

static INLINE int w_u32(wcur *w, uint32_t x)
{
    int rc = w_need(w, 4);
    if (UNLIKELY(rc))
        return rc;
    vrpc_put_u32(w->p, x);
    w->p += 4;
    return 0;
}

static int enc_composite(const vrpc_type *t, const uint8_t *v, vrpc_buf *b, unsigned depth);

/* n bytes from d, padded to 4, after a length word if with_len. */
static INLINE int enc_opaque(const uint8_t *d, size_t n, bool with_len, wcur *w)
{
    size_t hdr = with_len ? 4 : 0, r4 = vrpc_xdr_round4(n);
    int rc;

    if (UNLIKELY(n > VRPC_BUF_MAX))
        return VRPC_E_TOO_BIG;
    rc = w_need(w, hdr + r4);
    if (UNLIKELY(rc))
        return rc;
    if (with_len)
        vrpc_put_u32(w->p, (uint32_t)n);
    if (r4) {
        vrpc_put_u32(w->p + hdr + r4 - 4, 0); /* the padding, before the bytes cover it */
        if (n == 16)
            memcpy(w->p + hdr, d, 16); /* uuids: a constant-size copy */
        else
            memcpy(w->p + hdr, d, n);
    }
    w->p += hdr + r4;
    return 0;
}

static INLINE int enc_string(const char *s, uint32_t bound, wcur *w)
{
    size_t len;
    if (UNLIKELY(!s))
        return VRPC_E_INVALID;
    len = strlen(s);
    if (UNLIKELY(len > bound))
        return VRPC_E_TOO_BIG;
    return enc_opaque((const uint8_t *)s, len, true, w);
}

/* Encode a leaf (scalar, string, opaque, void); NOT_LEAF for the others. */
static INLINE int enc_leaf(const vrpc_type *t, const uint8_t *v, wcur *w)
{
    switch (t->kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
    case VRPC_KIND_ENUM:
    case VRPC_KIND_FLOAT: {
        uint32_t x;
        memcpy(&x, v, 4);
        return w_u32(w, x);
    }
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT:
    case VRPC_KIND_BOOL:
        return w_u32(w, load32(t->kind, v));
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE: {
        uint64_t x;
        int rc = w_need(w, 8);
        if (UNLIKELY(rc))
            return rc;
        memcpy(&x, v, 8);
        vrpc_put_u64(w->p, x);
        w->p += 8;
        return 0;
    }
    case VRPC_KIND_STRING: {
        const char *s;
        memcpy(&s, v, sizeof s);
        return enc_string(s, t->bound, w);
    }
    case VRPC_KIND_OPT_STRING: {
        const char *s;
        int rc;
        memcpy(&s, v, sizeof s);
        rc = w_u32(w, s != NULL);
        if (rc || !s)
            return rc;
        return enc_string(s, t->bound, w);
    }
    case VRPC_KIND_OPAQUE_FIXED:
        return enc_opaque(v, t->bound, false, w);
    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes by;
        memcpy(&by, v, sizeof by);
        if (UNLIKELY(by.len > t->bound))
            return VRPC_E_TOO_BIG;
        if (UNLIKELY(by.len && !by.data))
            return VRPC_E_INVALID;
        return enc_opaque(by.data, by.len, true, w);
    }
    case VRPC_KIND_VOID:
        return 0;
    default:
        return NOT_LEAF;
    }
}

static INLINE int enc_call(const vrpc_type *t, const uint8_t *v, wcur *w, unsigned depth)
{
    int rc;
    w_sync(w);
    rc = enc_composite(t, v, w->b, depth);
    w_load(w);
    return rc;
}

/* A union (inline: most arms are leaves). */
static INLINE int enc_union(const vrpc_type *t, const uint8_t *v, wcur *w, unsigned depth)
{
    const vrpc_type *dt;
    const vrpc_union_arm *arm;
    const uint8_t *dv;
    int rc;

    if (UNLIKELY(++depth > VRPC_XDR_DEPTH_MAX || !union_ok(t)))
        return VRPC_E_INVALID;
    dt = t->fields[0].type;
    dv = v + t->fields[0].offset;
    arm = find_arm(t, load32(dt->kind, dv));
    if (UNLIKELY(!arm))
        return VRPC_E_INVALID;
    rc = enc_leaf(dt, dv, w);
    if (rc || !arm->type)
        return rc;
    rc = enc_leaf(arm->type, v + arm->offset, w);
    if (UNLIKELY(rc == NOT_LEAF))
        rc = enc_call(arm->type, v + arm->offset, w, depth);
    return rc;
}

/* Any type; calls out for composites with the cursor synced. */
static INLINE int enc_any(const vrpc_type *t, const uint8_t *v, wcur *w, unsigned depth)
{
    int rc = enc_leaf(t, v, w);
    if (LIKELY(rc != NOT_LEAF))
        return rc;
    if (t->kind == VRPC_KIND_UNION)
        return enc_union(t, v, w, depth);
    return enc_call(t, v, w, depth);
}

/* The members of struct t at v, into w; depth already counts t. */
static INLINE int enc_fields(const vrpc_type *t, const uint8_t *v, wcur *w, unsigned depth)
{
    const vrpc_field *f = t->fields, *fe = f + t->nfields;
    if (UNLIKELY(!f && t->nfields))
        return VRPC_E_INVALID;
    for (; f < fe; f++) {
        int rc;
        if (UNLIKELY(!f->type))
            return VRPC_E_INVALID;
        rc = enc_any(f->type, v + f->offset, w, depth);
        if (UNLIKELY(rc))
            return rc;
    }
    return 0;
}

/* n elements of type elem stored contiguously at base; depth counts the array. */
static int enc_items(const vrpc_type *elem, const uint8_t *base, size_t n, vrpc_buf *b,
                     unsigned depth)
{
    uint8_t kind = elem->kind;
    size_t i, stride = elem->size, ws;
    wcur w = {NULL, NULL, b};
    uint8_t *p;
    int rc = 0;

    if (!n)
        return 0;
    if (UNLIKELY(kind > KIND_MAX))
        return VRPC_E_INVALID;

    if ((ws = scalar_wire[kind]) != 0) {
        if (UNLIKELY(n > VRPC_BUF_MAX / ws))
            return VRPC_E_TOO_BIG;
        rc = vrpc_buf_reserve(b, n * ws);
        if (UNLIKELY(rc))
            return rc;
        p = b->data + b->len;
        switch (kind) {
        case VRPC_KIND_INT:
        case VRPC_KIND_UINT:
        case VRPC_KIND_ENUM:
        case VRPC_KIND_FLOAT:
            if (LIKELY(stride == 4)) {
                for (i = 0; i < n; i++) {
                    uint32_t x;
                    memcpy(&x, base + 4 * i, 4);
                    vrpc_put_u32(p + 4 * i, x);
                }
                break;
            }
            /* fall through */
        case VRPC_KIND_CHAR:
        case VRPC_KIND_UCHAR:
        case VRPC_KIND_SHORT:
        case VRPC_KIND_USHORT:
        case VRPC_KIND_BOOL:
            for (i = 0; i < n; i++)
                vrpc_put_u32(p + 4 * i, load32(kind, base + i * stride));
            break;
        default: /* HYPER, UHYPER, DOUBLE */
            for (i = 0; i < n; i++) {
                uint64_t x;
                memcpy(&x, base + i * stride, 8);
                vrpc_put_u64(p + 8 * i, x);
            }
            break;
        }
        b->len += n * ws;
        return 0;
    }

    w_load(&w);
    switch (kind) {
    case VRPC_KIND_STRING:
        for (i = 0; i < n && !rc; i++) {
            const char *s;
            memcpy(&s, base + i * stride, sizeof s);
            rc = enc_string(s, elem->bound, &w);
        }
        break;
    case VRPC_KIND_STRUCT: {
        size_t flat = flat_wire(elem);
        if (UNLIKELY(depth + 1 > VRPC_XDR_DEPTH_MAX))
            return VRPC_E_INVALID;
        /* Flat structs: reserve the whole array once. */
        if (flat && n <= VRPC_BUF_MAX / flat)
            rc = w_need(&w, n * flat);
        for (i = 0; i < n && !rc; i++)
            rc = enc_fields(elem, base + i * stride, &w, depth + 1);
        break;
    }
    default:
        for (i = 0; i < n && !rc; i++)
            rc = enc_any(elem, base + i * stride, &w, depth);
        break;
    }
    w_sync(&w);
    return rc;
}

/* Struct, union, arrays and optional values. */
static int enc_composite(const vrpc_type *t, const uint8_t *v, vrpc_buf *b, unsigned depth)
{
    wcur w = {NULL, NULL, b};
    int rc;

    if (UNLIKELY(++depth > VRPC_XDR_DEPTH_MAX))
        return VRPC_E_INVALID;

    switch (t->kind) {
    case VRPC_KIND_STRUCT:
        w_load(&w);
        rc = enc_fields(t, v, &w, depth);
        w_sync(&w);
        return rc;

    case VRPC_KIND_ARRAY_FIXED:
        if (UNLIKELY(!t->elem))
            return VRPC_E_INVALID;
        return enc_items(t->elem, v, t->bound, b, depth);

    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        if (UNLIKELY(!t->elem))
            return VRPC_E_INVALID;
        memcpy(&a, v, sizeof a);
        if (UNLIKELY(a.n > t->bound))
            return VRPC_E_TOO_BIG;
        if (UNLIKELY(a.n && !a.items))
            return VRPC_E_INVALID;
        rc = vrpc_buf_put_u32(b, a.n);
        return rc ? rc : enc_items(t->elem, a.items, a.n, b, depth);
    }

    case VRPC_KIND_OPTIONAL: {
        const uint8_t *p;
        if (UNLIKELY(!t->elem))
            return VRPC_E_INVALID;
        memcpy(&p, v, sizeof p);
        rc = vrpc_buf_put_u32(b, p != NULL);
        if (rc || !p)
            return rc;
        w_load(&w);
        rc = enc_any(t->elem, p, &w, depth);
        w_sync(&w);
        return rc;
    }

    case VRPC_KIND_UNION:
        w_load(&w);
        rc = enc_union(t, v, &w, depth - 1);
        w_sync(&w);
        return rc;

    default:
        return VRPC_E_INVALID;
    }
}

VRPC_EXPORT int vrpc_xdr_encode(const vrpc_type *t, const void *value, vrpc_buf *out)
{
    wcur w = {NULL, NULL, out};
    size_t start;
    int rc;

    if (!out)
        return VRPC_E_INVALID;
    if (!t || t->kind == VRPC_KIND_VOID)
        return 0;
    if (!value)
        return VRPC_E_INVALID;
    start = out->len;
    /* At least 1 byte, so that the buffer is allocated before any cursor
     * arithmetic on it. */
    rc = vrpc_buf_reserve(out, t->min_wire ? t->min_wire : 1);
    if (rc == 0) {
        w_load(&w);
        rc = enc_any(t, value, &w, 0);
        w_sync(&w);
    }
    if (rc)
        out->len = start;
    return rc;
}

/* ======================================================================
 * Decoding, pass 1: validate and size
 * ====================================================================== */

typedef struct check_ctx {
    const uint8_t *p;
    const uint8_t *end;
    size_t extra; /* bytes of out-of-line blocks, each rounded to 8 */
} check_ctx;

/* Cap on a decoded value's size: far above anything a 32 MiB message can
 * produce, low enough that no size arithmetic overflows. */
#define DECODED_MAX ((size_t)1 << (sizeof(size_t) > 4 ? 40 : 30))

static INLINE size_t left(const check_ctx *c)
{
    return (size_t)(c->end - c->p);
}

static INLINE int add_block(check_ctx *c, size_t bytes)
{
    if (UNLIKELY(bytes > DECODED_MAX || c->extra + align8(bytes) > DECODED_MAX))
        return VRPC_E_TOO_BIG;
    c->extra += align8(bytes);
    return 0;
}

/* A string: length word and body at c->p. */
static INLINE int check_string(check_ctx *c, uint32_t bound)
{
    uint32_t len;
    size_t r4;
    if (UNLIKELY(left(c) < 4))
        return VRPC_E_PROTO;
    len = vrpc_get_u32(c->p);
    c->p += 4;
    if (UNLIKELY(len > bound))
        return VRPC_E_TOO_BIG;
    r4 = vrpc_xdr_round4(len);
    if (UNLIKELY(len > left(c) || r4 > left(c)))
        return VRPC_E_PROTO;
    if (UNLIKELY(has_nul(c->p, len)))
        return VRPC_E_PROTO;
    c->p += r4;
    return add_block(c, (size_t)len + 1);
}

/* Check a leaf (scalar, string, opaque, void); NOT_LEAF for the others. */
static INLINE int check_leaf(const vrpc_type *t, check_ctx *c)
{
    uint32_t w;
    switch (t->kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
    case VRPC_KIND_FLOAT:
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT:
    case VRPC_KIND_BOOL:
    case VRPC_KIND_ENUM:
        if (UNLIKELY(left(c) < 4))
            return VRPC_E_PROTO;
        c->p += 4;
        return 0;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE:
        if (UNLIKELY(left(c) < 8))
            return VRPC_E_PROTO;
        c->p += 8;
        return 0;
    case VRPC_KIND_OPT_STRING:
        if (UNLIKELY(left(c) < 4))
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (!w)
            return 0;
        /* fall through */
    case VRPC_KIND_STRING:
        return check_string(c, t->bound);
    case VRPC_KIND_OPAQUE_FIXED:
        if (UNLIKELY(t->bound > left(c) || vrpc_xdr_round4(t->bound) > left(c)))
            return VRPC_E_PROTO;
        c->p += vrpc_xdr_round4(t->bound);
        return 0;
    case VRPC_KIND_OPAQUE_VAR:
        if (UNLIKELY(left(c) < 4))
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (UNLIKELY(w > t->bound))
            return VRPC_E_TOO_BIG;
        if (UNLIKELY(w > left(c) || vrpc_xdr_round4(w) > left(c)))
            return VRPC_E_PROTO;
        c->p += vrpc_xdr_round4(w);
        return w ? add_block(c, w) : 0;
    case VRPC_KIND_VOID:
        return 0;
    default:
        return NOT_LEAF;
    }
}

static int check_composite(const vrpc_type *t, check_ctx *c, unsigned depth);

/*
 * The non-inlined walkers work on a local copy of the context (kept in
 * registers) and hand it over to the functions they call.
 */
static INLINE int check_call(const vrpc_type *t, check_ctx *lc, check_ctx *c, unsigned depth)
{
    int rc;
    *c = *lc;
    rc = check_composite(t, c, depth);
    *lc = *c;
    return rc;
}

/* A union (inline: most arms are leaves). */
static INLINE int check_union(const vrpc_type *t, check_ctx *lc, check_ctx *c, unsigned depth)
{
    const vrpc_type *dt;
    const vrpc_union_arm *arm;
    uint32_t w;
    int rc;

    if (UNLIKELY(++depth > VRPC_XDR_DEPTH_MAX))
        return VRPC_E_PROTO;
    if (UNLIKELY(!t->nfields || !t->fields || !(dt = t->fields[0].type)))
        return VRPC_E_INVALID;
    if (UNLIKELY(left(lc) < 4))
        return VRPC_E_PROTO;
    w = vrpc_get_u32(lc->p);
    if (LIKELY(dt->kind == VRPC_KIND_INT || dt->kind == VRPC_KIND_UINT)) {
        lc->p += 4;
    } else {
        if (UNLIKELY(!disc_kind(dt->kind)))
            return VRPC_E_INVALID;
        rc = check_leaf(dt, lc);
        if (UNLIKELY(rc))
            return rc;
        w = canon32(dt->kind, w);
    }
    arm = find_arm(t, w);
    if (UNLIKELY(!arm))
        return VRPC_E_PROTO;
    if (!arm->type)
        return 0;
    rc = check_leaf(arm->type, lc);
    if (UNLIKELY(rc == NOT_LEAF))
        rc = check_call(arm->type, lc, c, depth);
    return rc;
}

/* Any type at lc->p; c is scratch for calls out. */
static INLINE int check_any(const vrpc_type *t, check_ctx *lc, check_ctx *c, unsigned depth)
{
    int rc = check_leaf(t, lc);
    if (LIKELY(rc != NOT_LEAF))
        return rc;
    if (t->kind == VRPC_KIND_UNION)
        return check_union(t, lc, c, depth);
    return check_call(t, lc, c, depth);
}

static int check_struct(const vrpc_type *t, check_ctx *c, unsigned depth)
{
    const vrpc_field *f = t->fields, *fe = f + t->nfields;
    check_ctx lc = *c;
    int rc = 0;
    if (UNLIKELY(!f && t->nfields))
        return VRPC_E_INVALID;
    for (; f < fe; f++) {
        if (UNLIKELY(!f->type))
            return VRPC_E_INVALID;
        rc = check_any(f->type, &lc, c, depth);
        if (UNLIKELY(rc))
            break;
    }
    *c = lc;
    return rc;
}

/* n elements of elem at c->p; the caller checked n * min_wire against the input. */
static int check_items(const vrpc_type *elem, size_t n, check_ctx *c, unsigned depth)
{
    uint8_t kind = elem->kind;
    size_t i, w;
    int rc;

    if (UNLIKELY(kind > KIND_MAX))
        return VRPC_E_INVALID;
    if ((w = scalar_wire[kind]) != 0) {
        if (UNLIKELY(n > left(c) / w))
            return VRPC_E_PROTO;
        c->p += n * w;
        return 0;
    }
    switch (kind) {
    case VRPC_KIND_STRING:
        for (i = 0; i < n; i++) {
            rc = check_string(c, elem->bound);
            if (UNLIKELY(rc))
                return rc;
        }
        return 0;
    case VRPC_KIND_OPAQUE_FIXED:
        w = vrpc_xdr_round4(elem->bound);
        if (UNLIKELY(elem->bound > left(c) || (w && n > left(c) / w)))
            return VRPC_E_PROTO;
        c->p += n * w;
        return 0;
    case VRPC_KIND_STRUCT:
        if (UNLIKELY(depth + 1 > VRPC_XDR_DEPTH_MAX))
            return VRPC_E_PROTO;
        if ((w = flat_wire(elem)) != 0) {
            if (UNLIKELY(n > left(c) / w))
                return VRPC_E_PROTO;
            c->p += n * w;
            return 0;
        }
        for (i = 0; i < n; i++) {
            rc = check_struct(elem, c, depth + 1);
            if (UNLIKELY(rc))
                return rc;
        }
        return 0;
    default: {
        check_ctx lc = *c;
        for (i = 0, rc = 0; i < n && !rc; i++)
            rc = check_any(elem, &lc, c, depth);
        *c = lc;
        return rc;
    }
    }
}

/* Can n elements of elem fit in what is left of the input? */
static INLINE bool count_fits(const vrpc_type *elem, size_t n, const check_ctx *c)
{
    size_t mw = elem->min_wire ? elem->min_wire : 1;
    return n <= left(c) / mw;
}

static int check_composite(const vrpc_type *t, check_ctx *c, unsigned depth)
{
    uint32_t w;
    int rc;

    if (UNLIKELY(++depth > VRPC_XDR_DEPTH_MAX))
        return VRPC_E_PROTO;

    switch (t->kind) {
    case VRPC_KIND_STRUCT:
        return check_struct(t, c, depth);

    case VRPC_KIND_ARRAY_FIXED:
        if (UNLIKELY(!t->elem))
            return VRPC_E_INVALID;
        if (UNLIKELY(!count_fits(t->elem, t->bound, c)))
            return VRPC_E_PROTO;
        return check_items(t->elem, t->bound, c, depth);

    case VRPC_KIND_ARRAY_VAR: {
        size_t bytes;
        if (UNLIKELY(!t->elem))
            return VRPC_E_INVALID;
        if (UNLIKELY(left(c) < 4))
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (UNLIKELY(w > t->bound))
            return VRPC_E_TOO_BIG;
        if (!w)
            return 0;
        /* Never trust a count before the input is known to hold it. */
        if (UNLIKELY(!count_fits(t->elem, w, c)))
            return VRPC_E_PROTO;
        if (UNLIKELY(__builtin_mul_overflow((size_t)w, (size_t)t->elem->size, &bytes)))
            return VRPC_E_TOO_BIG;
        rc = add_block(c, bytes);
        return rc ? rc : check_items(t->elem, w, c, depth);
    }

    case VRPC_KIND_OPTIONAL:
        if (UNLIKELY(!t->elem))
            return VRPC_E_INVALID;
        if (UNLIKELY(left(c) < 4))
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (!w)
            return 0;
        rc = add_block(c, t->elem->size);
        if (!rc) {
            check_ctx lc = *c;
            rc = check_any(t->elem, &lc, c, depth);
            *c = lc;
        }
        return rc;

    case VRPC_KIND_UNION: {
        check_ctx lc = *c;
        rc = check_union(t, &lc, c, depth - 1);
        *c = lc;
        return rc;
    }

    default:
        return VRPC_E_INVALID;
    }
}

/* ======================================================================
 * Decoding, pass 2: fill (the input is known to be valid)
 * ====================================================================== */

typedef struct fill_ctx {
    const uint8_t *p;
    uint8_t *next; /* next free byte of the block */
} fill_ctx;

static INLINE uint8_t *take(fill_ctx *c, size_t n)
{
    uint8_t *r = c->next;
    c->next += align8(n);
    return r;
}

static INLINE char *fill_string(fill_ctx *c)
{
    uint32_t len = vrpc_get_u32(c->p);
    char *s = (char *)take(c, (size_t)len + 1);
    memcpy(s, c->p + 4, len);
    s[len] = '\0';
    c->p += 4 + vrpc_xdr_round4(len);
    return s;
}

/* Fill a leaf (scalar, string, opaque, void); false for the others. */
static INLINE bool fill_leaf(const vrpc_type *t, fill_ctx *c, uint8_t *dst)
{
    switch (t->kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
    case VRPC_KIND_FLOAT:
    case VRPC_KIND_ENUM: {
        uint32_t x = vrpc_get_u32(c->p);
        memcpy(dst, &x, 4);
        c->p += 4;
        return true;
    }
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT:
    case VRPC_KIND_BOOL:
        store32(t->kind, dst, vrpc_get_u32(c->p));
        c->p += 4;
        return true;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE: {
        uint64_t x = vrpc_get_u64(c->p);
        memcpy(dst, &x, 8);
        c->p += 8;
        return true;
    }
    case VRPC_KIND_OPT_STRING:
        if (!vrpc_get_u32(c->p)) {
            char *s = NULL;
            memcpy(dst, &s, sizeof s);
            c->p += 4;
            return true;
        }
        c->p += 4;
        /* fall through */
    case VRPC_KIND_STRING: {
        char *s = fill_string(c);
        memcpy(dst, &s, sizeof s);
        return true;
    }
    case VRPC_KIND_OPAQUE_FIXED:
        if (t->bound == 16)
            memcpy(dst, c->p, 16);
        else
            memcpy(dst, c->p, t->bound);
        c->p += vrpc_xdr_round4(t->bound);
        return true;
    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes by;
        by.len = vrpc_get_u32(c->p);
        by.data = NULL;
        if (by.len) {
            by.data = take(c, by.len);
            memcpy(by.data, c->p + 4, by.len);
        }
        c->p += 4 + vrpc_xdr_round4(by.len);
        memcpy(dst, &by, sizeof by);
        return true;
    }
    case VRPC_KIND_VOID:
        return true;
    default:
        return false;
    }
}

static void fill_composite(const vrpc_type *t, fill_ctx *c, uint8_t *dst);

static INLINE void fill_call(const vrpc_type *t, fill_ctx *lc, fill_ctx *c, uint8_t *dst)
{
    *c = *lc;
    fill_composite(t, c, dst);
    *lc = *c;
}

static INLINE void fill_union(const vrpc_type *t, fill_ctx *lc, fill_ctx *c, uint8_t *dst)
{
    const vrpc_type *dt = t->fields[0].type;
    const vrpc_union_arm *arm;
    uint32_t w = vrpc_get_u32(lc->p);
    fill_leaf(dt, lc, dst + t->fields[0].offset);
    arm = find_arm(t, canon32(dt->kind, w));
    if (arm && arm->type && !fill_leaf(arm->type, lc, dst + arm->offset))
        fill_call(arm->type, lc, c, dst + arm->offset);
}

/* Any type at lc->p; c is scratch for calls out. */
static INLINE void fill_any(const vrpc_type *t, fill_ctx *lc, fill_ctx *c, uint8_t *dst)
{
    if (LIKELY(fill_leaf(t, lc, dst)))
        return;
    if (t->kind == VRPC_KIND_UNION)
        fill_union(t, lc, c, dst);
    else
        fill_call(t, lc, c, dst);
}

static void fill_struct(const vrpc_type *t, fill_ctx *c, uint8_t *dst)
{
    const vrpc_field *f = t->fields, *fe = f + t->nfields;
    fill_ctx lc = *c;
    for (; f < fe; f++)
        fill_any(f->type, &lc, c, dst + f->offset);
    *c = lc;
}

/* Kinds whose C representation has no padding and is entirely written by
 * fill_items(), so their arrays need no zeroing. */
static INLINE bool fills_fully(uint8_t kind)
{
    return scalar_wire[kind] || kind == VRPC_KIND_STRING || kind == VRPC_KIND_OPT_STRING ||
           kind == VRPC_KIND_OPAQUE_FIXED;
}

static void fill_items(const vrpc_type *elem, size_t n, fill_ctx *c, uint8_t *dst)
{
    uint8_t kind = elem->kind;
    size_t i, stride = elem->size;
    const uint8_t *p = c->p;

    switch (kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
    case VRPC_KIND_ENUM:
    case VRPC_KIND_FLOAT:
        for (i = 0; i < n; i++) {
            uint32_t x = vrpc_get_u32(p + 4 * i);
            memcpy(dst + i * stride, &x, 4);
        }
        c->p = p + 4 * n;
        return;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE:
        for (i = 0; i < n; i++) {
            uint64_t x = vrpc_get_u64(p + 8 * i);
            memcpy(dst + i * stride, &x, 8);
        }
        c->p = p + 8 * n;
        return;
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
        for (i = 0; i < n; i++)
            dst[i * stride] = p[4 * i + 3];
        c->p = p + 4 * n;
        return;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT:
    case VRPC_KIND_BOOL:
        for (i = 0; i < n; i++)
            store32(kind, dst + i * stride, vrpc_get_u32(p + 4 * i));
        c->p = p + 4 * n;
        return;
    case VRPC_KIND_STRING: {
        fill_ctx lc = *c;
        for (i = 0; i < n; i++) {
            char *s = fill_string(&lc);
            memcpy(dst + i * stride, &s, sizeof s);
        }
        *c = lc;
        return;
    }
    case VRPC_KIND_STRUCT:
        for (i = 0; i < n; i++)
            fill_struct(elem, c, dst + i * stride);
        return;
    default: {
        fill_ctx lc = *c;
        for (i = 0; i < n; i++)
            fill_any(elem, &lc, c, dst + i * stride);
        *c = lc;
        return;
    }
    }
}

static void fill_composite(const vrpc_type *t, fill_ctx *c, uint8_t *dst)
{
    switch (t->kind) {
    case VRPC_KIND_STRUCT:
        fill_struct(t, c, dst);
        return;

    case VRPC_KIND_ARRAY_FIXED:
        fill_items(t->elem, t->bound, c, dst);
        return;

    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        a.n = vrpc_get_u32(c->p);
        c->p += 4;
        a.items = NULL;
        if (a.n) {
            size_t bytes = (size_t)a.n * t->elem->size;
            a.items = take(c, bytes);
            if (!fills_fully(t->elem->kind))
                memset(a.items, 0, bytes);
            fill_items(t->elem, a.n, c, a.items);
        }
        memcpy(dst, &a, sizeof a);
        return;
    }

    case VRPC_KIND_OPTIONAL: {
        uint8_t *p = NULL;
        uint32_t w = vrpc_get_u32(c->p);
        c->p += 4;
        if (w) {
            fill_ctx lc;
            p = take(c, t->elem->size);
            memset(p, 0, t->elem->size);
            lc = *c;
            fill_any(t->elem, &lc, c, p);
            *c = lc;
        }
        memcpy(dst, &p, sizeof p);
        return;
    }

    case VRPC_KIND_UNION: {
        fill_ctx lc = *c;
        fill_union(t, &lc, c, dst);
        *c = lc;
        return;
    }

    default:
        return;
    }
}

VRPC_EXPORT int vrpc_xdr_decode(const vrpc_type *t, const uint8_t *data, size_t len, void **out)
{
    check_ctx cc;
    fill_ctx fc;
    size_t head, total;
    uint8_t *block;
    int rc;

    if (!out)
        return VRPC_E_INVALID;
    *out = NULL;
    if (!data) {
        static const uint8_t nothing[1];
        if (len)
            return VRPC_E_INVALID;
        data = nothing;
    }
    if (!t || t->kind == VRPC_KIND_VOID)
        return len ? VRPC_E_PROTO : 0;
    if (t->kind > KIND_MAX)
        return VRPC_E_INVALID;

    /* Pass 1. */
    cc.p = data;
    cc.end = data + len;
    cc.extra = 0;
    {
        check_ctx scratch;
        rc = check_any(t, &cc, &scratch, 0);
    }
    if (rc)
        return rc;
    if (cc.p != cc.end)
        return VRPC_E_PROTO; /* trailing bytes */

    head = align8(t->size);
    if (head > DECODED_MAX || cc.extra > DECODED_MAX - head)
        return VRPC_E_TOO_BIG;
    total = head + cc.extra;
    block = vrpc_malloc(total);
    if (!block)
        return VRPC_E_NOMEM;

    /* Pass 2. */
    memset(block, 0, t->size);
    fc.p = data;
    fc.next = block + head;
    {
        fill_ctx scratch;
        fill_any(t, &fc, &scratch, block);
    }
    *out = block;
    return 0;
}
