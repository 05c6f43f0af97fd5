/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "cheaders.h"

#include "ast.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum hc_kind {
    HK_DEFINE,   /* #define NAME text */
    HK_ENUM,     /* NAME = text inside enum { } */
    HK_IMPLICIT, /* NAME inside enum { } without a value */
    HK_BROKEN,   /* an enumerator we could not read (poisons later implicit values) */
} hc_kind;

enum { ST_NEW, ST_BUSY, ST_INT, ST_STRING, ST_FAIL };

typedef struct hconst {
    const char *name;
    loc where;
    const char *file_base;
    hc_kind kind;
    const char *text;
    struct hconst *prev; /* HK_IMPLICIT: previous enumerator, NULL if first */
    int state;
    cval val;
    char *str;
    size_t slen;
} hconst;

static pvec all_consts; /* every definition, in scan order */
static smap first_def;  /* name -> first hconst */
static size_t nfiles;

size_t headers_file_count(void)
{
    return nfiles;
}

/* ---- lexical preparation ---- */

typedef struct line_rec {
    size_t start; /* offset in the clean buffer */
    int line;     /* physical line number */
} line_rec;

typedef struct ctok {
    const char *text;
    int line;
    int col;
} ctok;

static bool id_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool id_char(char c)
{
    return id_start(c) || (c >= '0' && c <= '9');
}

/*
 * Splice lines, replace comments by a blank, keep literals intact. Records
 * where each resulting line starts.
 */
static void clean_source(const char *in, size_t n, sbuf *out, line_rec **recs, size_t *nrecs)
{
    size_t cap = 64, cnt = 0;
    line_rec *r = xmalloc(cap * sizeof(*r));
    int phys = 1;
    r[cnt].start = 0;
    r[cnt].line = 1;
    cnt++;
    size_t i = 0;
    while (i < n) {
        char c = in[i];
        if (c == '\\' && i + 1 < n && in[i + 1] == '\n') {
            i += 2;
            phys++;
            continue;
        }
        if (c == '\\' && i + 2 < n && in[i + 1] == '\r' && in[i + 2] == '\n') {
            i += 3;
            phys++;
            continue;
        }
        if (c == '/' && i + 1 < n && in[i + 1] == '*') {
            i += 2;
            while (i < n && !(in[i] == '*' && i + 1 < n && in[i + 1] == '/')) {
                if (in[i] == '\n')
                    phys++;
                i++;
            }
            i = i < n ? i + 2 : n;
            sb_putc(out, ' ');
            continue;
        }
        if (c == '/' && i + 1 < n && in[i + 1] == '/') {
            while (i < n && in[i] != '\n')
                i++;
            continue;
        }
        if (c == '"' || c == '\'') {
            sb_putc(out, c);
            i++;
            while (i < n && in[i] != c && in[i] != '\n') {
                if (in[i] == '\\' && i + 1 < n && in[i + 1] != '\n') {
                    sb_putc(out, in[i]);
                    i++;
                }
                sb_putc(out, in[i]);
                i++;
            }
            if (i < n && in[i] == c) {
                sb_putc(out, c);
                i++;
            }
            continue;
        }
        if (c == '\0')
            c = ' ';
        sb_putc(out, c);
        i++;
        if (c == '\n') {
            phys++;
            if (cnt == cap) {
                cap *= 2;
                r = xrealloc(r, cap * sizeof(*r));
            }
            r[cnt].start = out->len;
            r[cnt].line = phys;
            cnt++;
        }
    }
    sb_str(out);
    *recs = r;
    *nrecs = cnt;
}

static void tokenize_line(const char *s, size_t n, int line, pvec *toks)
{
    static const char *const multi[] = {
        "<<=", ">>=", "...", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "->",
        "++",  "--",  "+=",  "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##"};
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n') {
            i++;
            continue;
        }
        size_t st = i;
        if (id_start(c)) {
            while (i < n && id_char(s[i]))
                i++;
        } else if (c >= '0' && c <= '9') {
            while (i < n && (id_char(s[i]) || s[i] == '.'))
                i++;
        } else if (c == '"' || c == '\'') {
            i++;
            while (i < n && s[i] != c) {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                i++;
            }
            if (i < n)
                i++;
        } else {
            size_t l = 1;
            for (size_t k = 0; k < sizeof(multi) / sizeof(multi[0]); k++) {
                size_t ml = strlen(multi[k]);
                if (n - i >= ml && memcmp(s + i, multi[k], ml) == 0) {
                    l = ml;
                    break;
                }
            }
            i += l;
        }
        ctok *t = xmalloc(sizeof(*t));
        t->text = xstrndup(s + st, i - st);
        t->line = line;
        t->col = (int)(st + 1 > INT32_MAX ? INT32_MAX : st + 1);
        pv_push(toks, t);
    }
}

static pvec file_consts; /* definitions of the file being scanned */

void headers_reset(void)
{
    memset(&all_consts, 0, sizeof(all_consts));
    memset(&first_def, 0, sizeof(first_def));
    memset(&file_consts, 0, sizeof(file_consts));
    nfiles = 0;
}

static hconst *add_const(const char *name, loc where, const char *file_base, hc_kind kind,
                         const char *text, hconst *prev)
{
    hconst *h = xmalloc(sizeof(*h));
    h->name = name;
    h->where = where;
    h->file_base = file_base;
    h->kind = kind;
    h->text = text;
    h->prev = prev;
    h->state = ST_NEW;
    pv_push(&file_consts, h);
    return h;
}

static int where_cmp(const void *a, const void *b)
{
    const hconst *x = *(const hconst *const *)a, *y = *(const hconst *const *)b;
    if (x->where.line != y->where.line)
        return x->where.line < y->where.line ? -1 : 1;
    if (x->where.col != y->where.col)
        return x->where.col < y->where.col ? -1 : 1;
    return 0;
}

/* Definitions of one file in the order they appear (macros and enums mixed). */
static void commit_file_consts(void)
{
    if (file_consts.n)
        qsort(file_consts.v, file_consts.n, sizeof(void *), where_cmp);
    for (size_t i = 0; i < file_consts.n; i++) {
        hconst *h = file_consts.v[i];
        pv_push(&all_consts, h);
        if (!smap_get(&first_def, h->name))
            smap_put(&first_def, h->name, h);
    }
    file_consts.n = 0;
}

static bool tok_is(const ctok *t, const char *s)
{
    return strcmp(t->text, s) == 0;
}

/* Collect enumeration constants from the code tokens of one file. */
static void scan_enums(pvec *toks, const char *path, const char *base)
{
    size_t n = toks->n;
    ctok **t = (ctok **)toks->v;
    for (size_t i = 0; i < n; i++) {
        if (!tok_is(t[i], "enum"))
            continue;
        size_t j = i + 1;
        if (j < n && id_start(t[j]->text[0]))
            j++;
        if (j >= n || !tok_is(t[j], "{"))
            continue;
        j++;
        hconst *prev = NULL;
        while (j < n && !tok_is(t[j], "}")) {
            ctok *name = t[j];
            loc where = {path, name->line, name->col};
            if (!id_start(name->text[0])) {
                /* not an enumerator: skip to the next separator */
                while (j < n && !tok_is(t[j], ",") && !tok_is(t[j], "}"))
                    j++;
                if (j < n && tok_is(t[j], ","))
                    j++;
                continue;
            }
            j++;
            if (j < n && tok_is(t[j], "=")) {
                j++;
                sbuf e = {0};
                int depth = 0;
                while (j < n) {
                    if (depth == 0 && (tok_is(t[j], ",") || tok_is(t[j], "}")))
                        break;
                    if (tok_is(t[j], "(") || tok_is(t[j], "[") || tok_is(t[j], "{"))
                        depth++;
                    if (tok_is(t[j], ")") || tok_is(t[j], "]") || tok_is(t[j], "}"))
                        depth--;
                    if (e.len)
                        sb_putc(&e, ' ');
                    sb_puts(&e, t[j]->text);
                    j++;
                }
                prev =
                    add_const(xstrdup(name->text), where, base, HK_ENUM, xstrdup(sb_str(&e)), NULL);
                xfree(e.s);
            } else if (j < n && (tok_is(t[j], ",") || tok_is(t[j], "}"))) {
                prev = add_const(xstrdup(name->text), where, base, HK_IMPLICIT, NULL, prev);
            } else {
                prev = add_const(xstrdup(name->text), where, base, HK_BROKEN, NULL, NULL);
                while (j < n && !tok_is(t[j], ",") && !tok_is(t[j], "}"))
                    j++;
            }
            if (j < n && tok_is(t[j], ","))
                j++;
        }
        i = j < n ? j : n - 1;
    }
}

typedef struct cond {
    bool sentinel; /* #ifdef/#ifndef VIR_ENUM_SENTINELS */
    bool skip;     /* this level excludes its text */
} cond;

static void scan_file(const char *path, const char *base)
{
    size_t n;
    char *src = read_file(path, &n);
    sbuf clean = {0};
    line_rec *recs;
    size_t nrecs;
    clean_source(src, n, &clean, &recs, &nrecs);
    xfree(src);

    pvec conds = {0};
    size_t skipping = 0; /* number of levels that skip */
    pvec toks = {0};
    for (size_t li = 0; li < nrecs; li++) {
        size_t st = recs[li].start;
        size_t en = li + 1 < nrecs ? recs[li + 1].start - 1 : clean.len;
        const char *s = clean.s + st;
        size_t len = en - st;
        size_t i = 0;
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < len && s[i] == '#') {
            i++;
            while (i < len && (s[i] == ' ' || s[i] == '\t'))
                i++;
            size_t ds = i;
            while (i < len && id_char(s[i]))
                i++;
            size_t dl = i - ds;
            const char *d = s + ds;
            while (i < len && (s[i] == ' ' || s[i] == '\t'))
                i++;
            size_t as = i;
            while (i < len && id_char(s[i]))
                i++;
            bool arg_sentinel = i - as == 18 && memcmp(s + as, "VIR_ENUM_SENTINELS", 18) == 0;
            /* "#if 0": a block that is never compiled */
            size_t z = as;
            while (z < len && (s[z] == ' ' || s[z] == '\t' || s[z] == '\r'))
                z++;
            bool if_zero = dl == 2 && memcmp(d, "if", 2) == 0 && z < len && s[z] == '0';
            if (if_zero) {
                z++;
                while (z < len && (s[z] == ' ' || s[z] == '\t' || s[z] == '\r'))
                    z++;
                if_zero = z == len;
            }
            if ((dl == 2 && memcmp(d, "if", 2) == 0) || (dl == 5 && memcmp(d, "ifdef", 5) == 0) ||
                (dl == 6 && memcmp(d, "ifndef", 6) == 0)) {
                cond *c = xmalloc(sizeof(*c));
                c->sentinel = (dl != 2 && arg_sentinel) || if_zero;
                c->skip = (c->sentinel && dl == 5) || if_zero;
                if (c->skip)
                    skipping++;
                pv_push(&conds, c);
            } else if (dl == 4 && memcmp(d, "else", 4) == 0) {
                if (conds.n) {
                    cond *c = conds.v[conds.n - 1];
                    if (c->sentinel) {
                        if (c->skip)
                            skipping--;
                        c->skip = !c->skip;
                        if (c->skip)
                            skipping++;
                    }
                }
            } else if (dl == 5 && memcmp(d, "endif", 5) == 0) {
                if (conds.n) {
                    cond *c = conds.v[--conds.n];
                    if (c->skip)
                        skipping--;
                    xfree(c);
                }
            } else if (dl == 6 && memcmp(d, "define", 6) == 0 && !skipping) {
                size_t name_len = i - as;
                if (name_len == 0 || !id_start(s[as]) || name_len > MAX_IDENT_LEN)
                    continue;
                if (i < len && s[i] == '(')
                    continue; /* function-like macro */
                size_t vs = i, ve = len;
                while (vs < ve && (s[vs] == ' ' || s[vs] == '\t' || s[vs] == '\r'))
                    vs++;
                while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t' || s[ve - 1] == '\r'))
                    ve--;
                if (vs == ve)
                    continue; /* no value */
                loc where = {path, recs[li].line, (int)(as + 1 > INT32_MAX ? INT32_MAX : as + 1)};
                add_const(xstrndup(s + as, name_len), where, base, HK_DEFINE,
                          xstrndup(s + vs, ve - vs), NULL);
            }
            continue;
        }
        if (!skipping)
            tokenize_line(s, len, recs[li].line, &toks);
    }
    scan_enums(&toks, path, base);
    commit_file_consts();
    for (size_t k = 0; k < toks.n; k++) {
        ctok *t = toks.v[k];
        xfree((void *)t->text);
        xfree(t);
    }
    xfree(toks.v);
    for (size_t k = 0; k < conds.n; k++)
        xfree(conds.v[k]);
    xfree(conds.v);
    xfree(recs);
    xfree(clean.s);
}

static int name_cmp(const void *a, const void *b)
{
    return byte_cmp(*(const char *const *)a, *(const char *const *)b);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

void headers_scan_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fatal("%s: cannot open directory: %s", dir, strerror(errno));
    pvec names = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!has_suffix(e->d_name, ".h") && !has_suffix(e->d_name, ".h.in"))
            continue;
        pv_push(&names, xstrdup(e->d_name));
    }
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof(void *), name_cmp);
    for (size_t i = 0; i < names.n; i++) {
        char *path = xasprintf("%s/%s", dir, (char *)names.v[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        scan_file(path, names.v[i]);
        nfiles++;
    }
    xfree(names.v);
}

/* ---- evaluation ---- */

static int evaluate(hconst *h, int depth);

static int lookup_cb(void *ctx, const char *name, int depth, cval *out)
{
    (void)ctx;
    hconst *h = smap_get(&first_def, name);
    if (!h)
        return -1;
    if (evaluate(h, depth) != ST_INT)
        return -1;
    *out = h->val;
    return 0;
}

static bool is_identifier(const char *s)
{
    if (!id_start(*s))
        return false;
    for (; *s; s++)
        if (!id_char(*s))
            return false;
    return true;
}

static int evaluate(hconst *h, int depth)
{
    if (h->state != ST_NEW)
        return h->state == ST_BUSY ? ST_FAIL : h->state;
    if (depth > CEXPR_MAX_DEPTH)
        return ST_FAIL;
    h->state = ST_BUSY;
    int result = ST_FAIL;
    cval v;
    switch (h->kind) {
    case HK_BROKEN:
        break;
    case HK_IMPLICIT: {
        /* walk back to the last explicit enumerator without recursing */
        uint64_t count = 0;
        hconst *p = h;
        while (p && p->kind == HK_IMPLICIT && (p == h || p->state != ST_INT)) {
            count++;
            p = p->prev;
        }
        int64_t basev;
        if (!p) {
            basev = -1;
        } else if (p->state == ST_INT && p->kind == HK_IMPLICIT) {
            basev = xv_i64(cval_to_xval(p->val)); /* already known */
        } else {
            int st = evaluate(p, depth + 1);
            if (st != ST_INT)
                break;
            xval x = cval_to_xval(p->val);
            if (!xv_in_range(x, INT32_MIN, INT32_MAX))
                break;
            basev = xv_i64(x);
        }
        if (count > (uint64_t)INT32_MAX)
            break;
        int64_t r = basev + (int64_t)count;
        if (r < INT32_MIN || r > INT32_MAX)
            break;
        v.v = (uint64_t)r;
        v.w = 64;
        v.uns = false;
        h->val = cval_enum_constant(v);
        result = ST_INT;
        break;
    }
    case HK_ENUM:
        if (cexpr_eval(h->text, strlen(h->text), lookup_cb, NULL, depth, &v) == 0) {
            h->val = cval_enum_constant(v);
            result = ST_INT;
        }
        break;
    case HK_DEFINE: {
        sbuf s = {0};
        if (cstring_literals(h->text, strlen(h->text), &s)) {
            h->str = s.s ? s.s : xstrdup("");
            h->slen = s.len;
            result = ST_STRING;
            break;
        }
        xfree(s.s);
        if (is_identifier(h->text)) {
            hconst *o = smap_get(&first_def, h->text);
            if (o && evaluate(o, depth + 1) == ST_STRING) {
                h->str = o->str;
                h->slen = o->slen;
                result = ST_STRING;
                break;
            }
        }
        if (cexpr_eval(h->text, strlen(h->text), lookup_cb, NULL, depth, &v) == 0) {
            h->val = v;
            result = ST_INT;
        }
        break;
    }
    }
    h->state = result;
    return result;
}

hc_result headers_value(const char *name, xval *out, loc *where)
{
    hconst *h = smap_get(&first_def, name);
    if (!h)
        return HC_NOT_FOUND;
    *where = h->where;
    switch (evaluate(h, 0)) {
    case ST_INT:
        *out = cval_to_xval(h->val);
        return HC_INT;
    case ST_STRING:
        return HC_STRING;
    default:
        return HC_UNEVALUABLE;
    }
}

/* ---- consts.h ---- */

typedef struct emitted {
    bool is_string;
    xval v;
    const char *str;
    size_t slen;
    loc where;
} emitted;

static bool same_value(const hconst *a, const hconst *b)
{
    if (a->state != b->state)
        return false;
    if (a->state == ST_STRING)
        return a->slen == b->slen && memcmp(a->str, b->str, a->slen) == 0;
    return xv_eq(cval_to_xval(a->val), cval_to_xval(b->val));
}

void headers_foreach_int(hc_int_fn fn, void *ctx)
{
    for (size_t i = 0; i < all_consts.n; i++) {
        hconst *h = all_consts.v[i];
        if (smap_get(&first_def, h->name) != h || h->name[0] == '_')
            continue;
        if (evaluate(h, 0) == ST_INT)
            fn(h->name, cval_to_xval(h->val), ctx);
    }
}

void headers_emit(sbuf *out)
{
    smap done = {0};
    const char *cur_file = NULL;
    for (size_t i = 0; i < all_consts.n; i++) {
        hconst *h = all_consts.v[i];
        hconst *first = smap_get(&first_def, h->name);
        int st = evaluate(h, 0);
        if (first != h) {
            /* a second definition: only a different value matters */
            int fst = evaluate(first, 0);
            if ((st == ST_INT || st == ST_STRING) && (fst == ST_INT || fst == ST_STRING) &&
                !same_value(first, h))
                fatal_at(h->where, "'%s' redefined with a different value (first defined at %s:%d)",
                         h->name, first->where.file, first->where.line);
            continue;
        }
        if (h->name[0] == '_')
            continue;
        if (st != ST_INT && st != ST_STRING)
            continue;
        char *cname = const_cname(h->name);
        if (macro_reserved(cname))
            continue;
        xval pv;
        loc pwhere;
        if (macro_lookup(cname, &pv, &pwhere)) {
            if (st == ST_INT && xv_eq(pv, cval_to_xval(h->val)))
                continue; /* protocol.h has it */
            fatal_at(h->where, "'%s' gives %s a different value than %s:%d:%d", h->name, cname,
                     pwhere.file, pwhere.line, pwhere.col);
        }
        emitted *prev = smap_get(&done, cname);
        if (prev) {
            bool same = prev->is_string ? (st == ST_STRING && prev->slen == h->slen &&
                                           memcmp(prev->str, h->str, h->slen) == 0)
                                        : (st == ST_INT && xv_eq(prev->v, cval_to_xval(h->val)));
            if (same)
                continue;
            fatal_at(h->where, "'%s' gives %s a different value than %s:%d:%d", h->name, cname,
                     prev->where.file, prev->where.line, prev->where.col);
        }
        emitted *e = xmalloc(sizeof(*e));
        e->is_string = st == ST_STRING;
        e->where = h->where;
        if (e->is_string) {
            e->str = h->str;
            e->slen = h->slen;
        } else {
            e->v = cval_to_xval(h->val);
        }
        smap_put(&done, cname, e);
        if (!cur_file || strcmp(cur_file, h->file_base) != 0) {
            cur_file = h->file_base;
            sb_printf(out, "\n/* %s */\n", cur_file);
        }
        sb_printf(out, "#define %s ", cname);
        if (e->is_string)
            sb_c_string(out, h->str, h->slen);
        else
            xv_format(out, e->v, 0);
        sb_putc(out, '\n');
    }
}
