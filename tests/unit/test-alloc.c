/* SPDX-License-Identifier: MIT */
/*
 * The allocator hook: every allocation and release of the library goes
 * through the installed vrpc_allocator, with its opaque pointer; NULL (or an
 * incomplete allocator) restores the C library's.
 */
#include <stdlib.h>
#include <string.h>

#include <virtrpc/virtrpc.h>

#include "tap.h"

typedef struct counter {
    long allocs, reallocs, frees, live;
    long fail_at; /* fail the allocation with this number (1-based), 0: never */
    int wrong_opaque;
} counter;

static counter *expected; /* what every hook must receive as opaque */

static void *c_alloc(size_t n, void *opaque)
{
    counter *k = opaque;
    void *p;
    if (k != expected)
        k->wrong_opaque++;
    if (n == 0)
        return NULL; /* the library promises never to ask for 0 bytes */
    if (k->fail_at && k->allocs + k->reallocs + 1 == k->fail_at) {
        k->allocs++;
        return NULL;
    }
    p = malloc(n);
    k->allocs++;
    if (p)
        k->live++;
    return p;
}

static void *c_realloc(void *old, size_t n, void *opaque)
{
    counter *k = opaque;
    void *p;
    if (k != expected)
        k->wrong_opaque++;
    if (n == 0)
        return NULL;
    k->reallocs++;
    p = realloc(old, n);
    if (p && !old)
        k->live++;
    return p;
}

static void c_free(void *p, void *opaque)
{
    counter *k = opaque;
    if (k != expected)
        k->wrong_opaque++;
    if (!p)
        k->wrong_opaque++; /* the library promises never to free NULL */
    k->frees++;
    k->live--;
    free(p);
}

int main(void)
{
    const vrpc_proc *proc = vrpc_proc_lookup("connect_get_hostname");
    const vrpc_type *t = proc ? proc->ret : NULL;
    vrpc_connect_get_hostname_ret v = {.hostname = "host.example"};
    vrpc_connect_get_hostname_ret *back;
    counter k = {0}, other = {0};
    vrpc_buf b = {0};
    void *out = NULL;
    int rc;

    if (!t) {
        TAP_OK(0, "connect_get_hostname has a reply type");
        return tap_done();
    }

    /* Installed from a struct on the stack: the library copies it. */
    {
        vrpc_allocator a = {
            .alloc_fn = c_alloc, .realloc_fn = c_realloc, .free_fn = c_free, .opaque = &k};
        expected = &k;
        vrpc_set_allocator(&a);
        memset(&a, 0, sizeof(a));
    }

    rc = vrpc_xdr_encode(t, &v, &b);
    TAP_OK(rc == 0 && b.len == 16, "encode through the hook (%d, %zu bytes)", rc, b.len);
    TAP_OK(k.allocs + k.reallocs >= 1, "the buffer came from the hook (%ld allocs, %ld reallocs)",
           k.allocs, k.reallocs);
    rc = vrpc_xdr_decode(t, b.data, b.len, &out);
    back = out;
    TAP_OK(rc == 0 && back && strcmp(back->hostname, "host.example") == 0,
           "decode through the hook: '%s'", back ? back->hostname : "(none)");
    TAP_OK(k.live == 2, "two live blocks counted through the opaque pointer (%ld)", k.live);
    vrpc_free(out);
    vrpc_free(b.data);
    TAP_OK(k.live == 0 && k.frees == 2, "vrpc_free() released both through the hook (%ld frees)",
           k.frees);
    TAP_OK(k.wrong_opaque == 0, "every hook got the opaque pointer it was installed with");

    /* A failing allocator: the decoder says so and leaves nothing behind. */
    memset(&b, 0, sizeof(b));
    rc = vrpc_xdr_encode(t, &v, &b);
    k.fail_at = k.allocs + k.reallocs + 1;
    out = NULL;
    rc = rc ? rc : vrpc_xdr_decode(t, b.data, b.len, &out);
    TAP_OK(rc == VRPC_E_NOMEM && out == NULL, "a failed allocation: VRPC_E_NOMEM (%d)", rc);
    k.fail_at = 0;
    vrpc_free(b.data);
    TAP_OK(k.live == 0, "nothing left after the failure (%ld)", k.live);

    /* Another allocator replaces it, with its own opaque. */
    vrpc_set_allocator(&(vrpc_allocator){
        .alloc_fn = c_alloc, .realloc_fn = c_realloc, .free_fn = c_free, .opaque = &other});
    expected = &other;
    {
        long before = k.allocs + k.reallocs;
        out = NULL;
        memset(&b, 0, sizeof(b));
        rc = vrpc_xdr_encode(t, &v, &b);
        rc = rc ? rc : vrpc_xdr_decode(t, b.data, b.len, &out);
        vrpc_free(out);
        vrpc_free(b.data);
        TAP_OK(rc == 0 && other.allocs + other.reallocs >= 2 && other.live == 0 &&
                   k.allocs + k.reallocs == before && other.wrong_opaque == 0,
               "a second allocator gets its own opaque (%ld allocations, the first: none)",
               other.allocs + other.reallocs);
    }

    /* An incomplete allocator (no free) and NULL both mean the C library's. */
    vrpc_set_allocator(
        &(vrpc_allocator){.alloc_fn = c_alloc, .realloc_fn = c_realloc, .opaque = &other});
    {
        long before = other.allocs + other.reallocs;
        out = NULL;
        memset(&b, 0, sizeof(b));
        rc = vrpc_xdr_encode(t, &v, &b);
        rc = rc ? rc : vrpc_xdr_decode(t, b.data, b.len, &out);
        vrpc_free(out);
        vrpc_free(b.data);
        TAP_OK(rc == 0 && other.allocs + other.reallocs == before,
               "an allocator without free_fn is refused: the C library's is used");
    }
    vrpc_set_allocator(NULL);
    {
        out = NULL;
        memset(&b, 0, sizeof(b));
        rc = vrpc_xdr_encode(t, &v, &b);
        rc = rc ? rc : vrpc_xdr_decode(t, b.data, b.len, &out);
        vrpc_free(out);
        vrpc_free(b.data);
        TAP_OK(rc == 0 && other.live == 0 && k.live == 0 && other.wrong_opaque == 0,
               "NULL restores the C library's allocator");
    }
    return tap_done();
}
