/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

typedef union block {
    struct {
        union block *prev;
        union block *next;
    } h;
    max_align_t align;
} block;

static block *arena_head;

static void arena_link(block *b)
{
    b->h.prev = NULL;
    b->h.next = arena_head;
    if (arena_head)
        arena_head->h.prev = b;
    arena_head = b;
}

static void arena_unlink(block *b)
{
    if (b->h.prev)
        b->h.prev->h.next = b->h.next;
    else
        arena_head = b->h.next;
    if (b->h.next)
        b->h.next->h.prev = b->h.prev;
}

jmp_buf *gen_fatal_jump;
bool gen_quiet;

static _Noreturn void out_of_memory(void)
{
    if (gen_fatal_jump)
        longjmp(*gen_fatal_jump, 1);
    fputs("virtrpc-gen: out of memory\n", stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    if (n > SIZE_MAX - sizeof(block))
        out_of_memory();
    block *b = calloc(1, sizeof(block) + n);
    if (!b)
        out_of_memory();
    arena_link(b);
    return b + 1;
}

void *xrealloc(void *p, size_t n)
{
    if (!p)
        return xmalloc(n);
    if (n > SIZE_MAX - sizeof(block))
        out_of_memory();
    block *old = (block *)p - 1;
    arena_unlink(old);
    block *b = realloc(old, sizeof(block) + n);
    if (!b) {
        arena_link(old);
        out_of_memory();
    }
    arena_link(b);
    return b + 1;
}

void xfree(void *p)
{
    if (!p)
        return;
    block *b = (block *)p - 1;
    arena_unlink(b);
    free(b);
}

void arena_release_all(void)
{
    while (arena_head) {
        block *b = arena_head;
        arena_head = b->h.next;
        free(b);
    }
}

char *xstrndup(const char *s, size_t n)
{
    char *r = xmalloc(n + 1);
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

static char *xvasprintf(const char *fmt, va_list ap)
{
    /* vasprintf rather than vsnprintf(NULL, 0, ...): gcc's sanitizer builds
       warn about the latter. Its result comes from libc; hand back our own. */
    char *tmp = NULL;
    if (vasprintf(&tmp, fmt, ap) < 0 || !tmp)
        out_of_memory();
    char *r = xstrdup(tmp);
    free(tmp);
    return r;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = xvasprintf(fmt, ap);
    va_end(ap);
    return r;
}

/* ---- diagnostics ---- */

static pvec outputs;

void register_output_file(const char *path)
{
    pv_push(&outputs, (void *)path);
}

static _Noreturn void die(void)
{
    if (gen_fatal_jump)
        longjmp(*gen_fatal_jump, 1);
    for (size_t i = 0; i < outputs.n; i++)
        remove((const char *)outputs.v[i]);
    fflush(stdout);
    exit(1);
}

void fatal_at(loc l, const char *fmt, ...)
{
    if (gen_quiet)
        die();
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d:%d: ", l.file ? l.file : "<input>", l.line, l.col);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    die();
}

void fatal(const char *fmt, ...)
{
    if (gen_quiet)
        die();
    va_list ap;
    va_start(ap, fmt);
    fputs("virtrpc-gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    die();
}

#define MAX_INPUT_SIZE ((size_t)64 * 1024 * 1024)

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fatal("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_INPUT_SIZE) {
                fclose(f);
                fatal("%s: file too large", path);
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                fclose(f);
                fatal("%s: read error: %s", path, strerror(e));
            }
            break;
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- string buffer ---- */

static void sb_reserve(sbuf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len)
        out_of_memory();
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void sb_putn(sbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sb_putc(sbuf *b, char c)
{
    sb_putn(b, &c, 1);
}

void sb_puts(sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    sb_puts(b, s);
    xfree(s);
}

const char *sb_str(sbuf *b)
{
    if (!b->s) {
        sb_reserve(b, 0);
        b->s[0] = '\0';
    }
    return b->s;
}

void sb_c_string(sbuf *b, const char *s, size_t n)
{
    sb_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\t') {
            sb_puts(b, "\\t");
        } else if (c == '?' && i > 0 && s[i - 1] == '?') {
            sb_puts(b, "\\?");
        } else if (c >= 0x20 && c < 0x7f) {
            sb_putc(b, (char)c);
        } else {
            sb_printf(b, "\\%03o", c);
        }
    }
    sb_putc(b, '"');
}

/* ---- vectors ---- */

void pv_push(pvec *v, void *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        v->v = xrealloc(v->v, cap * sizeof(void *));
        v->cap = cap;
    }
    v->v[v->n++] = p;
}

/* ---- string map (open addressing) ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull & SIZE_MAX;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= (size_t)1099511628211ull;
    }
    return h;
}

void *smap_get(const smap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static void smap_grow(smap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    const char **keys = xmalloc(ncap * sizeof(*keys));
    void **vals = xmalloc(ncap * sizeof(*vals));
    for (size_t j = 0; j < m->cap; j++) {
        if (!m->keys[j])
            continue;
        size_t i = hash_str(m->keys[j]) & (ncap - 1);
        while (keys[i])
            i = (i + 1) & (ncap - 1);
        keys[i] = m->keys[j];
        vals[i] = m->vals[j];
    }
    xfree(m->keys);
    xfree(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
}

void smap_put(smap *m, const char *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap)
        smap_grow(m);
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) {
            m->vals[i] = val;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
}

/* ---- strings ---- */

char *str_upper(const char *s)
{
    char *r = xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return r;
}

char *str_lower(const char *s)
{
    char *r = xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return r;
}

const char *path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

int ascii_casecmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;; x++, y++) {
        unsigned char c = fold(*x), d = fold(*y);
        if (c != d || !c)
            return (int)c - (int)d;
    }
}

int byte_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;; x++, y++) {
        if (*x != *y || !*x)
            return (int)*x - (int)*y;
    }
}
