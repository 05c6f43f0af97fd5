/* SPDX-License-Identifier: MIT */
/* The allocator hooks, the growable buffer, return-code strings, version. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/*
 * The hooks. Installed once, before the library is used from several
 * threads; loads and stores are atomic so a late change is not a data race,
 * but memory allocated with one allocator must be freed with the same one.
 */
static void *libc_alloc(size_t n, void *opaque)
{
    (void)opaque;
    return malloc(n);
}

static void *libc_realloc(void *p, size_t n, void *opaque)
{
    (void)opaque;
    return realloc(p, n);
}

static void libc_free(void *p, void *opaque)
{
    (void)opaque;
    free(p);
}

static void *(*hook_alloc)(size_t, void *) = libc_alloc;
static void *(*hook_realloc)(void *, size_t, void *) = libc_realloc;
static void (*hook_free)(void *, void *) = libc_free;
static void *hook_opaque;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

VRPC_EXPORT void vrpc_set_allocator(const vrpc_allocator *a)
{
    /* All three or none: a custom alloc paired with libc's free cannot work. */
    if (!a || !a->alloc_fn || !a->realloc_fn || !a->free_fn) {
        STORE(hook_alloc, libc_alloc);
        STORE(hook_realloc, libc_realloc);
        STORE(hook_free, libc_free);
        STORE(hook_opaque, NULL);
        return;
    }
    STORE(hook_opaque, a->opaque);
    STORE(hook_alloc, a->alloc_fn);
    STORE(hook_realloc, a->realloc_fn);
    STORE(hook_free, a->free_fn);
}

void *vrpc_malloc(size_t n)
{
    /* Never ask for 0 bytes: malloc(0) may return NULL, which we could not
     * tell apart from a failure. */
    return LOAD(hook_alloc)(n ? n : 1, LOAD(hook_opaque));
}

void *vrpc_calloc(size_t n, size_t sz)
{
    size_t total;
    void *p;
    if (__builtin_mul_overflow(n, sz, &total))
        return NULL;
    p = vrpc_malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *vrpc_realloc(void *p, size_t n)
{
    if (!p)
        return vrpc_malloc(n);
    return LOAD(hook_realloc)(p, n ? n : 1, LOAD(hook_opaque));
}

char *vrpc_strdup(const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = vrpc_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

VRPC_EXPORT void vrpc_free(void *p)
{
    if (p)
        LOAD(hook_free)(p, LOAD(hook_opaque));
}

void vrpc_buf_reset(vrpc_buf *b)
{
    vrpc_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int vrpc_buf_grow(vrpc_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *d;

    if (b->cap - b->len >= extra)
        return 0;
    if (extra > VRPC_BUF_MAX || b->len > VRPC_BUF_MAX - extra)
        return VRPC_E_TOO_BIG;
    need = b->len + extra;
    cap = b->cap ? b->cap : VRPC_BUF_INITIAL;
    while (cap < need)
        cap = cap > VRPC_BUF_MAX / 2 ? VRPC_BUF_MAX : cap * 2;
    if (cap > VRPC_BUF_MAX)
        cap = VRPC_BUF_MAX;
    d = vrpc_realloc(b->data, cap);
    if (!d)
        return VRPC_E_NOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

VRPC_EXPORT const char *vrpc_strerror(int code)
{
    switch (code) {
    case VRPC_OK:
        return "success";
    case VRPC_E_NOMEM:
        return "out of memory";
    case VRPC_E_INVALID:
        return "invalid argument";
    case VRPC_E_IO:
        return "input/output error on the connection";
    case VRPC_E_PROTO:
        return "protocol error: malformed data from the peer";
    case VRPC_E_REMOTE:
        return "the daemon reported an error";
    case VRPC_E_CLOSED:
        return "the connection is closed";
    case VRPC_E_AGAIN:
        return "not ready yet, try again";
    case VRPC_E_TOO_BIG:
        return "value exceeds its bound or the message size limit";
    case VRPC_E_UNSUPPORTED:
        return "operation not supported";
    case VRPC_E_TIMEOUT:
        return "timed out";
    case VRPC_E_AUTH:
        return "authentication failed";
    case VRPC_E_URI:
        return "invalid URI";
    case VRPC_E_NOT_FOUND:
        return "not found";
    case VRPC_E_CONNECT:
        return "could not connect";
    default:
        return "unknown error";
    }
}

VRPC_EXPORT const char *vrpc_version(void)
{
    return "0.1.0";
}
