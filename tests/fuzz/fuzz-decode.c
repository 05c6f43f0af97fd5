/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the XDR decoder over every type of every procedure.
 *
 * Input: a 2-byte big-endian selector, then the XDR bytes to decode.
 *   selector bits 15..13  program index in vrpc_programs() (modulo the count)
 *   selector bits 12..11  0 args, 1 ret, 2 msg, 3 the first of them present
 *   selector bits 10..0   procedure index in that program (modulo its count);
 *                         procedures are sorted by number, so for the
 *                         contiguous programs this is number - 1
 * A successful decode is re-encoded, decoded again and re-encoded; the two
 * encodings must be identical (abort otherwise).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/protocol.h>
#include <virtrpc/types.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const vrpc_type *pick_type(const uint8_t *data)
{
    size_t nprog = 0;
    const vrpc_program *progs = vrpc_programs(&nprog);
    const vrpc_program *pg;
    const vrpc_proc *pr;
    unsigned sel = (unsigned)data[0] << 8 | data[1];
    unsigned which = (sel >> 11) & 3;

    if (!progs || !nprog)
        return NULL;
    pg = &progs[(sel >> 13) % nprog];
    if (!pg->nprocs)
        return NULL;
    pr = &pg->procs[(sel & 0x7ff) % pg->nprocs];
    switch (which) {
    case 0:
        return pr->args;
    case 1:
        return pr->ret;
    case 2:
        return pr->msg;
    default:
        return pr->args ? pr->args : pr->ret ? pr->ret : pr->msg;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const vrpc_type *t;
    void *v = NULL, *v2 = NULL;
    vrpc_buf e1 = {0}, e2 = {0};
    int rc;

    if (size < 2)
        return 0;
    t = pick_type(data);
    rc = vrpc_xdr_decode(t, data + 2, size - 2, &v);
    if (rc != 0) {
        if (v) {
            fprintf(stderr, "fuzz-decode: failed decode left a value\n");
            abort();
        }
        return 0;
    }
    if (!t || t->kind == VRPC_KIND_VOID) {
        if (v || size != 2)
            abort();
        return 0;
    }

    rc = vrpc_xdr_encode(t, v, &e1);
    if (rc != 0) {
        fprintf(stderr, "fuzz-decode: %s: re-encoding a decoded value failed: %s\n",
                t->name ? t->name : "?", vrpc_strerror(rc));
        abort();
    }
    rc = vrpc_xdr_decode(t, e1.data, e1.len, &v2);
    if (rc != 0) {
        fprintf(stderr, "fuzz-decode: %s: decoding our own encoding failed: %s\n",
                t->name ? t->name : "?", vrpc_strerror(rc));
        abort();
    }
    rc = vrpc_xdr_encode(t, v2, &e2);
    if (rc != 0 || e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0) {
        fprintf(stderr, "fuzz-decode: %s: the two encodings differ\n", t->name ? t->name : "?");
        abort();
    }
    /* Every construct re-encodes to the same length as it was read from. */
    if (e1.len != size - 2) {
        fprintf(stderr, "fuzz-decode: %s: encoding and input lengths differ\n",
                t->name ? t->name : "?");
        abort();
    }
    vrpc_free(v);
    vrpc_free(v2);
    vrpc_free(e1.data);
    vrpc_free(e2.data);
    return 0;
}
