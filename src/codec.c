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
 *          bounds and against the remaining input, enum values, union arms,
 *          embedded NULs, nesting depth, trailing bytes) and adds up the size
 *          of everything the value points to;
 *   pass 2 (fill_*)  walks the now-trusted input again and fills the block:
 *          the value itself at offset 0, then every array, string, opaque
 *          and optional value it points to, each 8-byte aligned, in the order
 *          met. Strings get a terminating NUL.
 * A variable array with 0 elements decodes to items == NULL, an empty
 * variable opaque to data == NULL with len 0, an absent optional to NULL.
 *
 * Leniencies shared with libtirpc: padding bytes are not checked, and an
 * optional's "present" word, like a bool, is true for any non-zero value.
 * Re-encoding a decoded value always gives canonical bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "xdr.h"

#define KIND_MAX VRPC_KIND_UNION

/* Wire size of a scalar kind, 0 for the others. */
static const uint8_t scalar_wire[KIND_MAX + 1] = {
    [VRPC_KIND_INT] = 4,  [VRPC_KIND_UINT] = 4,  [VRPC_KIND_HYPER] = 8,  [VRPC_KIND_UHYPER] = 8,
    [VRPC_KIND_CHAR] = 4, [VRPC_KIND_UCHAR] = 4, [VRPC_KIND_SHORT] = 4,  [VRPC_KIND_USHORT] = 4,
    [VRPC_KIND_BOOL] = 4, [VRPC_KIND_FLOAT] = 4, [VRPC_KIND_DOUBLE] = 8, [VRPC_KIND_ENUM] = 4,
};

/* Scalars whose every wire value is acceptable (all but ENUM). */
static inline bool plain_scalar(uint8_t kind)
{
    return kind <= KIND_MAX && scalar_wire[kind] != 0 && kind != VRPC_KIND_ENUM;
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

static bool enum_ok(const vrpc_type *t, int32_t v)
{
    const vrpc_enum_value *vals = t->values;
    uint32_t n = t->nvalues, i;
    int64_t idx;

    if (!n || !vals)
        return false;
    /* Most enums are contiguous: try the direct index first. */
    idx = (int64_t)v - vals[0].value;
    if (idx >= 0 && idx < (int64_t)n && vals[idx].value == v)
        return true;
    for (i = 0; i < n; i++)
        if (vals[i].value == v)
            return true;
    return false;
}

/* The wire word of a 4-byte scalar stored at v. */
static inline uint32_t load32(uint8_t kind, const uint8_t *v)
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
static inline void store32(uint8_t kind, uint8_t *dst, uint32_t w)
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
static inline const vrpc_union_arm *find_arm(const vrpc_type *t, uint32_t key)
{
    uint32_t i;
    if (!t->arms)
        return t->default_arm;
    for (i = 0; i < t->narms; i++)
        if ((uint32_t)t->arms[i].value == key)
            return &t->arms[i];
    return t->default_arm;
}

/* Wire size of a struct made only of plain scalars and fixed opaques
 * (one level deep), or 0 if t is anything else. */
static size_t flat_wire(const vrpc_type *t)
{
    size_t sz = 0;
    uint32_t i;
    if (t->kind != VRPC_KIND_STRUCT || !t->nfields)
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

/* ======================================================================
 * Encoding
 * ====================================================================== */

static int enc_value(const vrpc_type *t, const uint8_t *v, vrpc_buf *b, unsigned depth);

static inline int enc_string(const char *s, uint32_t bound, vrpc_buf *b)
{
    size_t len, pad;
    uint8_t *p;
    int rc;

    if (!s)
        return VRPC_E_INVALID;
    len = strlen(s);
    if (len > bound || len > VRPC_BUF_MAX)
        return VRPC_E_TOO_BIG;
    pad = vrpc_pad4(len);
    rc = vrpc_buf_reserve(b, 4 + len + pad);
    if (rc)
        return rc;
    p = b->data + b->len;
    vrpc_put_u32(p, (uint32_t)len);
    memcpy(p + 4, s, len);
    memset(p + 4 + len, 0, pad);
    b->len += 4 + len + pad;
    return 0;
}

static inline int enc_opaque(const uint8_t *d, size_t len, bool with_len, vrpc_buf *b)
{
    size_t pad = vrpc_pad4(len), hdr = with_len ? 4 : 0;
    uint8_t *p;
    int rc;

    if (len > VRPC_BUF_MAX)
        return VRPC_E_TOO_BIG;
    rc = vrpc_buf_reserve(b, hdr + len + pad);
    if (rc)
        return rc;
    p = b->data + b->len;
    if (with_len)
        vrpc_put_u32(p, (uint32_t)len);
    if (len)
        memcpy(p + hdr, d, len);
    memset(p + hdr + len, 0, pad);
    b->len += hdr + len + pad;
    return 0;
}

/* A scalar (any kind with scalar_wire != 0). */
static inline int enc_scalar(const vrpc_type *t, const uint8_t *v, vrpc_buf *b)
{
    uint8_t kind = t->kind;
    int rc;

    if (scalar_wire[kind] == 8) {
        uint64_t x;
        rc = vrpc_buf_reserve(b, 8);
        if (rc)
            return rc;
        memcpy(&x, v, 8);
        vrpc_put_u64(b->data + b->len, x);
        b->len += 8;
        return 0;
    }
    if (kind == VRPC_KIND_ENUM) {
        int32_t x;
        memcpy(&x, v, 4);
        if (!enum_ok(t, x))
            return VRPC_E_INVALID;
    }
    rc = vrpc_buf_reserve(b, 4);
    if (rc)
        return rc;
    vrpc_put_u32(b->data + b->len, load32(kind, v));
    b->len += 4;
    return 0;
}

/* n elements of type elem stored contiguously at base. */
static int enc_items(const vrpc_type *elem, const uint8_t *base, size_t n, vrpc_buf *b,
                     unsigned depth)
{
    uint8_t kind = elem->kind;
    size_t i, stride = elem->size, flat;
    uint8_t *p;
    int rc;

    if (!n)
        return 0;
    if (kind > KIND_MAX)
        return VRPC_E_INVALID;

    if (scalar_wire[kind]) {
        size_t w = scalar_wire[kind];
        if (n > VRPC_BUF_MAX / w)
            return VRPC_E_TOO_BIG;
        if (kind == VRPC_KIND_ENUM) {
            for (i = 0; i < n; i++) {
                int32_t x;
                memcpy(&x, base + i * stride, 4);
                if (!enum_ok(elem, x))
                    return VRPC_E_INVALID;
            }
        }
        rc = vrpc_buf_reserve(b, n * w);
        if (rc)
            return rc;
        p = b->data + b->len;
        switch (kind) {
        case VRPC_KIND_INT:
        case VRPC_KIND_UINT:
        case VRPC_KIND_ENUM:
        case VRPC_KIND_FLOAT:
            if (stride == 4) {
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
        b->len += n * w;
        return 0;
    }

    switch (kind) {
    case VRPC_KIND_STRING:
        for (i = 0; i < n; i++) {
            const char *s;
            memcpy(&s, base + i * stride, sizeof s);
            rc = enc_string(s, elem->bound, b);
            if (rc)
                return rc;
        }
        return 0;
    case VRPC_KIND_OPAQUE_FIXED:
        for (i = 0; i < n; i++) {
            rc = enc_opaque(base + i * stride, elem->bound, false, b);
            if (rc)
                return rc;
        }
        return 0;
    default:
        break;
    }

    /* Composite elements: reserve everything at once when the size is known. */
    flat = flat_wire(elem);
    if (flat) {
        if (n > VRPC_BUF_MAX / flat)
            return VRPC_E_TOO_BIG;
        rc = vrpc_buf_reserve(b, n * flat);
        if (rc)
            return rc;
    }
    for (i = 0; i < n; i++) {
        rc = enc_value(elem, base + i * stride, b, depth);
        if (rc)
            return rc;
    }
    return 0;
}

static int enc_value(const vrpc_type *t, const uint8_t *v, vrpc_buf *b, unsigned depth)
{
    uint8_t kind = t->kind;
    uint32_t i;
    int rc;

    if (kind > KIND_MAX)
        return VRPC_E_INVALID;
    if (scalar_wire[kind])
        return enc_scalar(t, v, b);

    switch (kind) {
    case VRPC_KIND_VOID:
        return 0;

    case VRPC_KIND_STRING: {
        const char *s;
        memcpy(&s, v, sizeof s);
        return enc_string(s, t->bound, b);
    }

    case VRPC_KIND_OPT_STRING: {
        const char *s;
        memcpy(&s, v, sizeof s);
        if (!s)
            return vrpc_buf_put_u32(b, 0);
        rc = vrpc_buf_put_u32(b, 1);
        return rc ? rc : enc_string(s, t->bound, b);
    }

    case VRPC_KIND_OPAQUE_FIXED:
        return enc_opaque(v, t->bound, false, b);

    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes by;
        memcpy(&by, v, sizeof by);
        if (by.len > t->bound)
            return VRPC_E_TOO_BIG;
        if (by.len && !by.data)
            return VRPC_E_INVALID;
        return enc_opaque(by.data, by.len, true, b);
    }

    default:
        break;
    }

    /* Composite kinds. */
    if (++depth > VRPC_XDR_DEPTH_MAX)
        return VRPC_E_INVALID;

    switch (kind) {
    case VRPC_KIND_ARRAY_FIXED:
        if (!t->elem)
            return VRPC_E_INVALID;
        return enc_items(t->elem, v, t->bound, b, depth);

    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        if (!t->elem)
            return VRPC_E_INVALID;
        memcpy(&a, v, sizeof a);
        if (a.n > t->bound)
            return VRPC_E_TOO_BIG;
        if (a.n && !a.items)
            return VRPC_E_INVALID;
        rc = vrpc_buf_put_u32(b, a.n);
        return rc ? rc : enc_items(t->elem, a.items, a.n, b, depth);
    }

    case VRPC_KIND_OPTIONAL: {
        const uint8_t *p;
        if (!t->elem)
            return VRPC_E_INVALID;
        memcpy(&p, v, sizeof p);
        rc = vrpc_buf_put_u32(b, p != NULL);
        if (rc || !p)
            return rc;
        return enc_value(t->elem, p, b, depth);
    }

    case VRPC_KIND_STRUCT:
        if (t->nfields && !t->fields)
            return VRPC_E_INVALID;
        for (i = 0; i < t->nfields; i++) {
            const vrpc_field *f = &t->fields[i];
            const vrpc_type *ft = f->type;
            if (!ft || ft->kind > KIND_MAX)
                return VRPC_E_INVALID;
            if (scalar_wire[ft->kind])
                rc = enc_scalar(ft, v + f->offset, b);
            else
                rc = enc_value(ft, v + f->offset, b, depth);
            if (rc)
                return rc;
        }
        return 0;

    case VRPC_KIND_UNION: {
        const vrpc_type *dt;
        const vrpc_union_arm *arm;
        const uint8_t *dv;

        if (t->nfields < 1 || !t->fields || !(dt = t->fields[0].type) || !disc_kind(dt->kind))
            return VRPC_E_INVALID;
        dv = v + t->fields[0].offset;
        arm = find_arm(t, load32(dt->kind, dv));
        if (!arm)
            return VRPC_E_INVALID;
        rc = enc_scalar(dt, dv, b);
        if (rc || !arm->type)
            return rc;
        return enc_value(arm->type, v + arm->offset, b, depth);
    }

    default:
        return VRPC_E_INVALID;
    }
}

VRPC_EXPORT int vrpc_xdr_encode(const vrpc_type *t, const void *value, vrpc_buf *out)
{
    size_t start;
    int rc;

    if (!out)
        return VRPC_E_INVALID;
    if (!t || t->kind == VRPC_KIND_VOID)
        return 0;
    if (!value)
        return VRPC_E_INVALID;
    start = out->len;
    rc = vrpc_buf_reserve(out, t->min_wire);
    if (rc == 0)
        rc = enc_value(t, value, out, 0);
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

static inline size_t left(const check_ctx *c)
{
    return (size_t)(c->end - c->p);
}

static inline int add_block(check_ctx *c, size_t bytes)
{
    if (bytes > DECODED_MAX || c->extra + align8(bytes) > DECODED_MAX)
        return VRPC_E_TOO_BIG;
    c->extra += align8(bytes);
    return 0;
}

/* A string body of length len (already read) at c->p. */
static inline int check_string_body(check_ctx *c, uint32_t len, uint32_t bound)
{
    if (len > bound)
        return VRPC_E_TOO_BIG;
    if (len > left(c) || vrpc_xdr_round4(len) > left(c))
        return VRPC_E_PROTO;
    if (memchr(c->p, 0, len))
        return VRPC_E_PROTO;
    c->p += vrpc_xdr_round4(len);
    return add_block(c, (size_t)len + 1);
}

static inline int check_scalar(const vrpc_type *t, check_ctx *c)
{
    size_t w = scalar_wire[t->kind];
    if (left(c) < w)
        return VRPC_E_PROTO;
    if (t->kind == VRPC_KIND_ENUM && !enum_ok(t, (int32_t)vrpc_get_u32(c->p)))
        return VRPC_E_PROTO;
    c->p += w;
    return 0;
}

static int check_value(const vrpc_type *t, check_ctx *c, unsigned depth);

/* n elements of type elem at c->p; the caller checked n against the input. */
static int check_items(const vrpc_type *elem, size_t n, check_ctx *c, unsigned depth)
{
    uint8_t kind = elem->kind;
    size_t i, w, flat;
    int rc;

    if (kind > KIND_MAX)
        return VRPC_E_INVALID;
    if ((w = scalar_wire[kind]) != 0) {
        if (n > left(c) / w)
            return VRPC_E_PROTO;
        if (kind == VRPC_KIND_ENUM)
            for (i = 0; i < n; i++)
                if (!enum_ok(elem, (int32_t)vrpc_get_u32(c->p + 4 * i)))
                    return VRPC_E_PROTO;
        c->p += n * w;
        return 0;
    }
    switch (kind) {
    case VRPC_KIND_STRING:
        for (i = 0; i < n; i++) {
            uint32_t len;
            if (left(c) < 4)
                return VRPC_E_PROTO;
            len = vrpc_get_u32(c->p);
            c->p += 4;
            rc = check_string_body(c, len, elem->bound);
            if (rc)
                return rc;
        }
        return 0;
    case VRPC_KIND_OPAQUE_FIXED:
        w = vrpc_xdr_round4(elem->bound);
        if (elem->bound > left(c) || (w && n > left(c) / w))
            return VRPC_E_PROTO;
        c->p += n * w;
        return 0;
    default:
        break;
    }
    flat = flat_wire(elem);
    if (flat) {
        if (n > left(c) / flat)
            return VRPC_E_PROTO;
        c->p += n * flat;
        return 0;
    }
    for (i = 0; i < n; i++) {
        rc = check_value(elem, c, depth);
        if (rc)
            return rc;
    }
    return 0;
}

/* Can n elements of elem fit in what is left of the input? */
static inline bool count_fits(const vrpc_type *elem, size_t n, const check_ctx *c)
{
    size_t mw = elem->min_wire ? elem->min_wire : 1;
    return n <= left(c) / mw;
}

static int check_value(const vrpc_type *t, check_ctx *c, unsigned depth)
{
    uint8_t kind = t->kind;
    uint32_t i, w;
    int rc;

    if (kind > KIND_MAX)
        return VRPC_E_INVALID;
    if (scalar_wire[kind])
        return check_scalar(t, c);

    switch (kind) {
    case VRPC_KIND_VOID:
        return 0;

    case VRPC_KIND_OPT_STRING:
        if (left(c) < 4)
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (!w)
            return 0;
        /* fall through */
    case VRPC_KIND_STRING:
        if (left(c) < 4)
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        return check_string_body(c, w, t->bound);

    case VRPC_KIND_OPAQUE_FIXED:
        if (t->bound > left(c) || vrpc_xdr_round4(t->bound) > left(c))
            return VRPC_E_PROTO;
        c->p += vrpc_xdr_round4(t->bound);
        return 0;

    case VRPC_KIND_OPAQUE_VAR:
        if (left(c) < 4)
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (w > t->bound)
            return VRPC_E_TOO_BIG;
        if (w > left(c) || vrpc_xdr_round4(w) > left(c))
            return VRPC_E_PROTO;
        c->p += vrpc_xdr_round4(w);
        return w ? add_block(c, w) : 0;

    default:
        break;
    }

    /* Composite kinds. */
    if (++depth > VRPC_XDR_DEPTH_MAX)
        return VRPC_E_PROTO;

    switch (kind) {
    case VRPC_KIND_ARRAY_FIXED:
        if (!t->elem)
            return VRPC_E_INVALID;
        if (!count_fits(t->elem, t->bound, c))
            return VRPC_E_PROTO;
        return check_items(t->elem, t->bound, c, depth);

    case VRPC_KIND_ARRAY_VAR:
        if (!t->elem)
            return VRPC_E_INVALID;
        if (left(c) < 4)
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (w > t->bound)
            return VRPC_E_TOO_BIG;
        if (!w)
            return 0;
        if (!count_fits(t->elem, w, c))
            return VRPC_E_PROTO;
        {
            size_t bytes;
            if (__builtin_mul_overflow((size_t)w, (size_t)t->elem->size, &bytes))
                return VRPC_E_TOO_BIG;
            rc = add_block(c, bytes);
        }
        return rc ? rc : check_items(t->elem, w, c, depth);

    case VRPC_KIND_OPTIONAL:
        if (!t->elem)
            return VRPC_E_INVALID;
        if (left(c) < 4)
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (!w)
            return 0;
        rc = add_block(c, t->elem->size);
        return rc ? rc : check_value(t->elem, c, depth);

    case VRPC_KIND_STRUCT:
        if (t->nfields && !t->fields)
            return VRPC_E_INVALID;
        for (i = 0; i < t->nfields; i++) {
            const vrpc_type *ft = t->fields[i].type;
            if (!ft || ft->kind > KIND_MAX)
                return VRPC_E_INVALID;
            rc = scalar_wire[ft->kind] ? check_scalar(ft, c) : check_value(ft, c, depth);
            if (rc)
                return rc;
        }
        return 0;

    case VRPC_KIND_UNION: {
        const vrpc_type *dt;
        const vrpc_union_arm *arm;

        if (t->nfields < 1 || !t->fields || !(dt = t->fields[0].type) || !disc_kind(dt->kind))
            return VRPC_E_INVALID;
        if (left(c) < 4)
            return VRPC_E_PROTO;
        w = vrpc_get_u32(c->p);
        rc = check_scalar(dt, c);
        if (rc)
            return rc;
        arm = find_arm(t, canon32(dt->kind, w));
        if (!arm)
            return VRPC_E_PROTO;
        return arm->type ? check_value(arm->type, c, depth) : 0;
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

static inline uint8_t *take(fill_ctx *c, size_t n)
{
    uint8_t *r = c->next;
    c->next += align8(n);
    return r;
}

static inline void fill_scalar(uint8_t kind, fill_ctx *c, uint8_t *dst)
{
    if (scalar_wire[kind] == 8) {
        uint64_t x = vrpc_get_u64(c->p);
        memcpy(dst, &x, 8);
        c->p += 8;
    } else {
        store32(kind, dst, vrpc_get_u32(c->p));
        c->p += 4;
    }
}

static inline char *fill_string(fill_ctx *c)
{
    uint32_t len = vrpc_get_u32(c->p);
    char *s = (char *)take(c, (size_t)len + 1);
    memcpy(s, c->p + 4, len);
    s[len] = '\0';
    c->p += 4 + vrpc_xdr_round4(len);
    return s;
}

/* Kinds whose C representation has no padding and is entirely written by
 * fill_items(), so their arrays need no zeroing. */
static inline bool fills_fully(uint8_t kind)
{
    return scalar_wire[kind] || kind == VRPC_KIND_STRING || kind == VRPC_KIND_OPT_STRING;
}

static void fill_value(const vrpc_type *t, fill_ctx *c, uint8_t *dst);

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
    case VRPC_KIND_STRING:
        for (i = 0; i < n; i++) {
            char *s = fill_string(c);
            memcpy(dst + i * stride, &s, sizeof s);
        }
        return;
    default:
        for (i = 0; i < n; i++)
            fill_value(elem, c, dst + i * stride);
        return;
    }
}

static void fill_value(const vrpc_type *t, fill_ctx *c, uint8_t *dst)
{
    uint8_t kind = t->kind;
    uint32_t i, w;

    if (scalar_wire[kind]) {
        fill_scalar(kind, c, dst);
        return;
    }

    switch (kind) {
    case VRPC_KIND_VOID:
        return;

    case VRPC_KIND_OPT_STRING:
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (!w) {
            char *s = NULL;
            memcpy(dst, &s, sizeof s);
            return;
        }
        /* fall through */
    case VRPC_KIND_STRING: {
        char *s = fill_string(c);
        memcpy(dst, &s, sizeof s);
        return;
    }

    case VRPC_KIND_OPAQUE_FIXED:
        memcpy(dst, c->p, t->bound);
        c->p += vrpc_xdr_round4(t->bound);
        return;

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
        return;
    }

    case VRPC_KIND_ARRAY_FIXED:
        fill_items(t->elem, t->bound, c, dst);
        return;

    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        size_t bytes;
        a.n = vrpc_get_u32(c->p);
        c->p += 4;
        a.items = NULL;
        if (a.n) {
            bytes = (size_t)a.n * t->elem->size;
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
        w = vrpc_get_u32(c->p);
        c->p += 4;
        if (w) {
            p = take(c, t->elem->size);
            memset(p, 0, t->elem->size);
            fill_value(t->elem, c, p);
        }
        memcpy(dst, &p, sizeof p);
        return;
    }

    case VRPC_KIND_STRUCT:
        for (i = 0; i < t->nfields; i++) {
            const vrpc_field *f = &t->fields[i];
            if (scalar_wire[f->type->kind])
                fill_scalar(f->type->kind, c, dst + f->offset);
            else
                fill_value(f->type, c, dst + f->offset);
        }
        return;

    case VRPC_KIND_UNION: {
        const vrpc_type *dt = t->fields[0].type;
        const vrpc_union_arm *arm;
        w = vrpc_get_u32(c->p);
        fill_scalar(dt->kind, c, dst + t->fields[0].offset);
        arm = find_arm(t, canon32(dt->kind, w));
        if (arm && arm->type)
            fill_value(arm->type, c, dst + arm->offset);
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
    if (!data && len)
        return VRPC_E_INVALID;
    if (!t || t->kind == VRPC_KIND_VOID)
        return len ? VRPC_E_PROTO : 0;

    /* Pass 1. */
    cc.p = data;
    cc.end = data + len;
    cc.extra = 0;
    rc = check_value(t, &cc, 0);
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
    fill_value(t, &fc, block);
    *out = block;
    return 0;
}
