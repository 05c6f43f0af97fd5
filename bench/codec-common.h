/* SPDX-License-Identifier: MIT */
/* W5: the value both codecs encode, described once (bench/codec-bench.c,
 * bench/codec-rpcgen.c). */
#ifndef CODEC_COMMON_H
#define CODEC_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define W5_NPARAMS 64

static inline void w5_dom_name(char *buf, size_t n, int i)
{
    snprintf(buf, n, "domain-%05d", i);
}
static inline uint8_t w5_uuid_byte(int i, int k)
{
    return (uint8_t)(i * 31 + k);
}
static inline int w5_dom_id(int i)
{
    return i % 3 ? i + 1 : -1;
}
static inline void w5_field(char *buf, size_t n, int p)
{
    snprintf(buf, n, "block.%d.rd.bytes", p);
}
static inline void w5_strval(char *buf, size_t n, int d, int p)
{
    snprintf(buf, n, "/var/lib/libvirt/images/d%d-%d.qcow2", d, p);
}
/* VIR_TYPED_PARAM_INT (1) .. VIR_TYPED_PARAM_STRING (7) */
static inline int w5_type(int p)
{
    return 1 + p % 7;
}

/* The rpcgen + libtirpc side (codec-rpcgen.c). */
void *rg_build(int ndoms);
/* Encode into buf; returns the length or 0 on failure. */
size_t rg_encode(void *v, char *buf, size_t cap);
/* Decode and free; returns 0 on success. */
int rg_decode(char *buf, size_t len);

#endif
