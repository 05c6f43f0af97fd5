/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: memory, diagnostics, growable buffers, vectors and a string map.
 *
 * Every allocation goes through one arena so that a fatal error can exit at
 * any point without leaking (everything stays reachable) and a normal run can
 * release everything at once.
 */
#ifndef VRPCGEN_UTIL_H
#define VRPCGEN_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define GEN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GEN_PRINTF(a, b)
#endif

/* A position in an input file (line and column are 1-based, column in bytes). */
typedef struct loc {
    const char *file;
    int line;
    int col;
} loc;

void *xmalloc(size_t n); /* zero-filled */
void *xrealloc(void *p, size_t n);
void xfree(void *p);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) GEN_PRINTF(1, 2);
void arena_release_all(void);

/* Print "file:line:col: message" and exit with status 1. */
_Noreturn void fatal_at(loc l, const char *fmt, ...) GEN_PRINTF(2, 3);
/* Print "virtrpc-gen: message" and exit with status 1. */
_Noreturn void fatal(const char *fmt, ...) GEN_PRINTF(1, 2);
/* For a fuzz target: when gen_fatal_jump is set, fatal errors (and running
 * out of memory) longjmp there with value 1 instead of exiting, printing
 * nothing if gen_quiet; the arena still holds every allocation. */
extern jmp_buf *gen_fatal_jump;
extern bool gen_quiet;
/* Forget every definition (and release the arena): a fresh generator. */
void gen_reset(void);
/* Files written so far are removed by fatal()/fatal_at(). */
void register_output_file(const char *path);

/* Read a whole file (at most 64 MiB). Exits on error. */
char *read_file(const char *path, size_t *len);

typedef struct sbuf {
    char *s;
    size_t len;
    size_t cap;
} sbuf;

void sb_putc(sbuf *b, char c);
void sb_putn(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) GEN_PRINTF(2, 3);
/* Terminated string view of the buffer (never NULL). */
const char *sb_str(sbuf *b);

typedef struct pvec {
    void **v;
    size_t n;
    size_t cap;
} pvec;

void pv_push(pvec *v, void *p);

/* Map from NUL-terminated keys (kept by reference) to pointers. */
typedef struct smap {
    const char **keys;
    void **vals;
    size_t cap;
    size_t n;
} smap;

void *smap_get(const smap *m, const char *key);
/* Insert or replace. */
void smap_put(smap *m, const char *key, void *val);

/* A C string literal for arbitrary bytes (quotes included, trigraph-safe). */
void sb_c_string(sbuf *b, const char *s, size_t n);
/* Copy of s with a-z upper-cased / A-Z lower-cased. */
char *str_upper(const char *s);
char *str_lower(const char *s);
/* The part of a path after the last '/'. */
const char *path_basename(const char *path);
/* Compare ASCII case-insensitively (A-Z folded to a-z), as unsigned bytes. */
int ascii_casecmp(const char *a, const char *b);
/* Compare as unsigned bytes. */
int byte_cmp(const char *a, const char *b);

#endif
