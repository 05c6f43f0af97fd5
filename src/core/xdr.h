/* SPDX-License-Identifier: MIT */
/*
 * Internal: XDR helpers for code that reads or writes wire bytes by hand
 * (the message framing, the codec). The byte helpers themselves
 * (vrpc_put_u32, vrpc_get_u32, vrpc_put_u64, vrpc_get_u64, vrpc_pad4,
 * vrpc_buf_put_u32, vrpc_buf_put_u64, vrpc_buf_put_bytes, vrpc_buf_put_opaque)
 * live in alloc.h, which this header includes, so either header may be used.
 */
#ifndef VIRTRPC_XDR_H
#define VIRTRPC_XDR_H

#include "alloc.h"

/* Deepest nesting of structs, unions, arrays and optional values the codec
 * accepts (encode: VRPC_E_INVALID, decode: VRPC_E_PROTO beyond it). */
#define VRPC_XDR_DEPTH_MAX 64

/* Bytes an XDR opaque or string of n bytes takes on the wire, without the
 * length word: n rounded up to a multiple of 4. */
static inline size_t vrpc_xdr_round4(size_t n)
{
    return n + vrpc_pad4(n);
}

/* Read a u32 from *p if at least 4 bytes remain before end; advance *p.
 * Returns 0 or VRPC_E_PROTO. */
static inline int vrpc_xdr_get_u32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if ((size_t)(end - *p) < 4)
        return VRPC_E_PROTO;
    *v = vrpc_get_u32(*p);
    *p += 4;
    return 0;
}

#endif
