/* SPDX-License-Identifier: MIT */
/*
 * Internal: the allocator layer, the growable output buffer and the
 * big-endian byte helpers shared by the codec and the connection layer.
 *
 * Every allocation the library makes goes through vrpc_malloc / vrpc_calloc /
 * vrpc_realloc / vrpc_strdup, which call the hooks installed with
 * vrpc_set_allocator(); everything is released with vrpc_free().
 *
 * Stable names (used outside the codec):
 *
 *   void *vrpc_malloc(size_t n);                     NULL on failure; n == 0 allowed
 *   void *vrpc_calloc(size_t n, size_t sz);          zeroed; NULL on failure or n*sz overflow
 *   void *vrpc_realloc(void *p, size_t n);           NULL on failure (p untouched)
 *   char *vrpc_strdup(const char *s);                NULL on failure or s == NULL
 *
 *   void vrpc_buf_reset(vrpc_buf *b);                free b->data, zero the buffer
 *   int  vrpc_buf_reserve(vrpc_buf *b, size_t extra) make cap - len >= extra (inline fast path)
 *   int  vrpc_buf_grow(vrpc_buf *b, size_t extra)    its slow path: grow by doubling from
 *                                                    VRPC_BUF_INITIAL, capped at VRPC_BUF_MAX
 *   int  vrpc_buf_put_u32(vrpc_buf *b, uint32_t v)   append 4 bytes, big-endian
 *   int  vrpc_buf_put_u64(vrpc_buf *b, uint64_t v)   append 8 bytes, big-endian
 *   int  vrpc_buf_put_bytes(vrpc_buf *b, const void *p, size_t n)  append raw bytes, no padding
 *   int  vrpc_buf_put_opaque(vrpc_buf *b, const void *p, size_t n) append n bytes + zero pad to 4
 *
 *   void     vrpc_put_u32(uint8_t *p, uint32_t v)    store big-endian (p need not be aligned)
 *   uint32_t vrpc_get_u32(const uint8_t *p)          load big-endian
 *   void     vrpc_put_u64(uint8_t *p, uint64_t v)
 *   uint64_t vrpc_get_u64(const uint8_t *p)
 *   size_t   vrpc_pad4(size_t n)                     zero bytes that follow n bytes (0..3)
 *
 * The vrpc_buf_* functions return 0, VRPC_E_NOMEM, or VRPC_E_TOO_BIG when the
 * buffer would exceed VRPC_BUF_MAX (= 4 + VRPC_MESSAGE_MAX, a whole message
 * with its length word). On error the buffer is unchanged.
 */
#ifndef VIRTRPC_ALLOC_H
#define VIRTRPC_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <virtrpc/types.h>

/* The largest buffer vrpc_buf_reserve() will grow to: one whole message. */
#define VRPC_BUF_MAX ((size_t)VRPC_MESSAGE_MAX + 4u)
/* The first allocation of an empty buffer (grows by doubling from there). */
#define VRPC_BUF_INITIAL ((size_t)4096u)

void *vrpc_malloc(size_t n);
void *vrpc_calloc(size_t n, size_t sz);
void *vrpc_realloc(void *p, size_t n);
char *vrpc_strdup(const char *s);

void vrpc_buf_reset(vrpc_buf *b);
/* Slow path of vrpc_buf_reserve(): grows the buffer. */
int vrpc_buf_grow(vrpc_buf *b, size_t extra);

static inline int vrpc_buf_reserve(vrpc_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    return vrpc_buf_grow(b, extra);
}

/* ---- big-endian byte helpers ---- */

static inline void vrpc_put_u32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    memcpy(p, &v, 4);
#else
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
#endif
}

static inline uint32_t vrpc_get_u32(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t v;
    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
#endif
}

static inline void vrpc_put_u64(uint8_t *p, uint64_t v)
{
    vrpc_put_u32(p, (uint32_t)(v >> 32));
    vrpc_put_u32(p + 4, (uint32_t)v);
}

static inline uint64_t vrpc_get_u64(const uint8_t *p)
{
    return ((uint64_t)vrpc_get_u32(p) << 32) | vrpc_get_u32(p + 4);
}

static inline size_t vrpc_pad4(size_t n)
{
    return (4u - (n & 3u)) & 3u;
}

/* ---- appending to a vrpc_buf ---- */

static inline int vrpc_buf_put_u32(vrpc_buf *b, uint32_t v)
{
    int rc = vrpc_buf_reserve(b, 4);
    if (rc)
        return rc;
    vrpc_put_u32(b->data + b->len, v);
    b->len += 4;
    return 0;
}

static inline int vrpc_buf_put_u64(vrpc_buf *b, uint64_t v)
{
    int rc = vrpc_buf_reserve(b, 8);
    if (rc)
        return rc;
    vrpc_put_u64(b->data + b->len, v);
    b->len += 8;
    return 0;
}

static inline int vrpc_buf_put_bytes(vrpc_buf *b, const void *p, size_t n)
{
    int rc = vrpc_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static inline int vrpc_buf_put_opaque(vrpc_buf *b, const void *p, size_t n)
{
    size_t pad = vrpc_pad4(n);
    int rc;
    if (n > VRPC_BUF_MAX)
        return VRPC_E_TOO_BIG;
    rc = vrpc_buf_reserve(b, n + pad);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    if (pad)
        memset(b->data + b->len + n, 0, pad);
    b->len += n + pad;
    return 0;
}

#endif
