/* SPDX-License-Identifier: MIT */
/* Building vrpc_error objects: one allocation each (see error.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

#define ALIGN_UP(n, a) (((n) + ((a)-1)) & ~((size_t)(a)-1))

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy s to *pos (advancing it) and return the copy; NULL stays NULL. */
static char *str_place(char **pos, const char *s)
{
    char *d;
    size_t n;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = *pos;
    memcpy(d, s, n);
    *pos += n;
    return d;
}

vrpc_error *vrpc_error_dup(const vrpc_error *e, const char *message)
{
    size_t size, off_dom = 0, off_net = 0;
    const char *msg;
    vrpc_error *n;
    char *pos;

    if (!e)
        return NULL;
    msg = message ? message : e->message;
    size = sizeof(vrpc_error);
    if (e->dom) {
        size = ALIGN_UP(size, _Alignof(vrpc_nonnull_domain));
        off_dom = size;
        size += sizeof(vrpc_nonnull_domain);
    }
    if (e->net) {
        size = ALIGN_UP(size, _Alignof(vrpc_nonnull_network));
        off_net = size;
        size += sizeof(vrpc_nonnull_network);
    }
    size += str_size(msg) + str_size(e->str1) + str_size(e->str2) + str_size(e->str3);
    if (e->dom)
        size += str_size(e->dom->name);
    if (e->net)
        size += str_size(e->net->name);

    n = vrpc_calloc(1, size);
    if (!n)
        return NULL;
    pos = (char *)n + sizeof(vrpc_error);
    if (e->dom)
        pos = (char *)n + off_dom + sizeof(vrpc_nonnull_domain);
    if (e->net)
        pos = (char *)n + off_net + sizeof(vrpc_nonnull_network);

    n->code = e->code;
    n->domain = e->domain;
    n->level = e->level;
    n->int1 = e->int1;
    n->int2 = e->int2;
    n->message = str_place(&pos, msg);
    n->str1 = str_place(&pos, e->str1);
    n->step = e->step;
    n->str2 = str_place(&pos, e->str2);
    n->str3 = str_place(&pos, e->str3);
    if (e->dom) {
        vrpc_nonnull_domain *d = (vrpc_nonnull_domain *)(void *)((char *)n + off_dom);
        memcpy(d->uuid, e->dom->uuid, sizeof(d->uuid));
        d->id = e->dom->id;
        d->name = str_place(&pos, e->dom->name);
        n->dom = d;
    }
    if (e->net) {
        vrpc_nonnull_network *w = (vrpc_nonnull_network *)(void *)((char *)n + off_net);
        memcpy(w->uuid, e->net->uuid, sizeof(w->uuid));
        w->name = str_place(&pos, e->net->name);
        n->net = w;
    }
    return n;
}

vrpc_error *vrpc_error_newv(int code, int domain, const char *fmt, va_list ap)
{
    va_list ap2;
    vrpc_error *e;
    char *msg;
    int len;

    va_copy(ap2, ap);
    len = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (len < 0)
        len = 0;
    e = vrpc_calloc(1, sizeof(*e) + (size_t)len + 1);
    if (!e)
        return NULL;
    e->code = code;
    e->domain = domain;
    e->level = VRPC_ERR_ERROR;
    msg = (char *)(e + 1);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    e->message = msg;
    return e;
}

vrpc_error *vrpc_error_new(int code, int domain, const char *fmt, ...)
{
    va_list ap;
    vrpc_error *e;
    va_start(ap, fmt);
    e = vrpc_error_newv(code, domain, fmt, ap);
    va_end(ap);
    return e;
}

void vrpc_error_set(vrpc_error **err, int code, int domain, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    va_start(ap, fmt);
    *err = vrpc_error_newv(code, domain, fmt, ap);
    va_end(ap);
}

void vrpc_error_set_errno(vrpc_error **err, int code, int domain, int errnum, const char *fmt, ...)
{
    char what[1024], ebuf[256];
    const char *etext;
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    etext = strerror_r(errnum, ebuf, sizeof(ebuf));
    vrpc_error_set(err, code, domain, "%s: %s", what, etext);
}

void vrpc_error_prefix(vrpc_error **err, const char *fmt, ...)
{
    char prefix[512];
    const char *old;
    vrpc_error *n;
    size_t plen, olen;
    char *msg;
    va_list ap;

    if (!err || !*err)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    old = (*err)->message ? (*err)->message : "unknown error";
    plen = strlen(prefix);
    olen = strlen(old);
    msg = vrpc_malloc(plen + 2 + olen + 1);
    if (!msg)
        return;
    memcpy(msg, prefix, plen);
    memcpy(msg + plen, ": ", 2);
    memcpy(msg + plen + 2, old, olen + 1);
    n = vrpc_error_dup(*err, msg);
    vrpc_free(msg);
    if (!n)
        return;
    vrpc_free(*err);
    *err = n;
}

void vrpc_error_move(vrpc_error **dst, vrpc_error **src)
{
    if (dst)
        *dst = *src;
    else
        vrpc_free(*src);
    *src = NULL;
}

static const char *const step_names[] = {
    [VRPC_STEP_RESOLVE] = "resolve",     [VRPC_STEP_CONNECT] = "connect",
    [VRPC_STEP_HANDSHAKE] = "handshake", [VRPC_STEP_CERTIFICATE] = "certificate check",
    [VRPC_STEP_AUTH] = "authentication", [VRPC_STEP_OPEN] = "open",
};

const char *vrpc_step_name(vrpc_step step)
{
    if ((unsigned)step >= sizeof(step_names) / sizeof(step_names[0]))
        return NULL;
    return step_names[step];
}

/* The tag lives in vrpc_error's own member `step`, which is not on the wire. */
void vrpc_error_set_step(vrpc_error **err, vrpc_step step)
{
    if (!err || !*err || !vrpc_step_name(step))
        return;
    (*err)->step = vrpc_step_name(step);
}

vrpc_step vrpc_error_step(const vrpc_error *e)
{
    size_t i;
    if (!e || !e->step)
        return VRPC_STEP_NONE;
    for (i = 1; i < sizeof(step_names) / sizeof(step_names[0]); i++)
        if (strcmp(e->step, step_names[i]) == 0)
            return (vrpc_step)i;
    return VRPC_STEP_NONE;
}
