/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: prototypes, variables and structs of libvirt's public
 * headers; version nodes of its .syms files. See cproto.h.
 */
#include "cproto.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static smap funcs;    /* name -> cfunc */
static smap vars;     /* name -> cvar */
static smap structs;  /* tag -> cstruct */
static smap typedefs; /* name -> tdef */
static size_t nfuncs;

typedef struct tdef {
    const char *target; /* "struct _X", another typedef name, or "" */
    bool pointer;
    bool is_enum;
} tdef;

typedef struct tok {
    const char *text;
    int line;
    int col;
} tok;

static bool id_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool id_char(char c)
{
    return id_start(c) || (c >= '0' && c <= '9');
}

static bool is_ident(const char *s)
{
    if (!id_start(*s))
        return false;
    for (; *s; s++)
        if (!id_char(*s))
            return false;
    return true;
}

/* Tokens of a header: comments removed, preprocessor lines skipped, and
 * the lines of `#ifdef __cplusplus` blocks left out. */
static void tokenize(const char *path, const char *s, size_t n, pvec *toks)
{
    int line = 1;
    size_t i = 0, line_start = 0;
    bool at_line_start = true;
    int cplus_depth = 0; /* > 0: inside #ifdef __cplusplus (nesting depth) */
    while (i < n) {
        char c = s[i];
        if (c == '\n') {
            line++;
            i++;
            line_start = i;
            at_line_start = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            i += 2;
            while (i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/')) {
                if (s[i] == '\n') {
                    line++;
                    line_start = i + 1;
                }
                i++;
            }
            i = i < n ? i + 2 : n;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        if (c == '#' && at_line_start) {
            /* A directive, with its continuation lines. */
            size_t st = i;
            while (i < n && s[i] != '\n') {
                if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\n') {
                    line++;
                    i++;
                }
                i++;
            }
            char word[32] = "", arg[32] = "";
            size_t p = st + 1;
            while (p < i && (s[p] == ' ' || s[p] == '\t'))
                p++;
            size_t w = 0;
            while (p < i && id_char(s[p]) && w + 1 < sizeof(word))
                word[w++] = s[p++];
            word[w] = '\0';
            while (p < i && (s[p] == ' ' || s[p] == '\t'))
                p++;
            w = 0;
            while (p < i && id_char(s[p]) && w + 1 < sizeof(arg))
                arg[w++] = s[p++];
            arg[w] = '\0';
            if (strncmp(word, "if", 2) == 0) {
                if (cplus_depth > 0)
                    cplus_depth++;
                else if (strcmp(word, "ifdef") == 0 && strcmp(arg, "__cplusplus") == 0)
                    cplus_depth = 1;
            } else if (strcmp(word, "endif") == 0) {
                if (cplus_depth > 0)
                    cplus_depth--;
            } else if ((strcmp(word, "else") == 0 || strcmp(word, "elif") == 0) &&
                       cplus_depth == 1) {
                cplus_depth = 0;
            }
            continue;
        }
        at_line_start = false;
        size_t st = i;
        if (id_start(c)) {
            while (i < n && id_char(s[i]))
                i++;
        } else if (c >= '0' && c <= '9') {
            while (i < n && (id_char(s[i]) || s[i] == '.'))
                i++;
        } else if (c == '"' || c == '\'') {
            i++;
            while (i < n && s[i] != c && s[i] != '\n') {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                i++;
            }
            if (i < n && s[i] == c)
                i++;
        } else if (c == '.' && i + 2 < n && s[i + 1] == '.' && s[i + 2] == '.') {
            i += 3;
        } else {
            i++;
        }
        if (cplus_depth > 0)
            continue;
        tok *t = xmalloc(sizeof(*t));
        t->text = xstrndup(s + st, i - st);
        t->line = line;
        t->col = (int)(st - line_start + 1 > 100000 ? 100000 : st - line_start + 1);
        pv_push(toks, t);
        (void)path;
    }
}

static bool tis(const tok *t, const char *s)
{
    return strcmp(t->text, s) == 0;
}

/* Tokens [a, b) joined as a C type: one space between words, '*' bound to
 * what follows ("char **const"). Macros the headers decorate declarations
 * with are left out. */
static char *join_type(tok **t, size_t a, size_t b)
{
    sbuf o = {0};
    const char *prev = NULL;
    for (size_t i = a; i < b; i++) {
        const char *x = t[i]->text;
        if (strcmp(x, "VIR_DEPRECATED") == 0 || strcmp(x, "VIR_EXPORT_VAR") == 0 ||
            strcmp(x, "extern") == 0)
            continue;
        if (prev && !(strcmp(prev, "*") == 0) &&
            !(strcmp(x, "[") == 0 || strcmp(x, "]") == 0 || strcmp(prev, "[") == 0 ||
              strcmp(x, ")") == 0 || strcmp(prev, "(") == 0 || strcmp(x, ",") == 0))
            sb_putc(&o, ' ');
        sb_puts(&o, x);
        prev = x;
    }
    return xstrdup(sb_str(&o));
}

static loc tloc(const char *path, const tok *t)
{
    loc l = {path, t->line, t->col};
    return l;
}

/* One parameter: tokens [a, b). */
static void parse_param(const char *path, tok **t, size_t a, size_t b, size_t index, cparam *p)
{
    if (a == b)
        fatal_at(tloc(path, t[a > 0 ? a - 1 : 0]), "empty parameter in a prototype");
    /* A function pointer written out: T (*name)(...). */
    for (size_t i = a; i < b; i++) {
        if (tis(t[i], "(")) {
            if (i + 2 < b && tis(t[i + 1], "*") && is_ident(t[i + 2]->text) && i + 3 < b &&
                tis(t[i + 3], ")")) {
                p->fnptr = true;
                p->name = t[i + 2]->text;
                p->type = join_type(t, a, b);
                p->decl = p->type;
                return;
            }
            fatal_at(tloc(path, t[i]), "cannot read this parameter (unnamed function pointer?)");
        }
    }
    /* Name: the last identifier, unless it is a type word or the only word. */
    size_t end = b;
    bool array = false;
    if (tis(t[end - 1], "]")) {
        while (end > a && !tis(t[end - 1], "["))
            end--;
        if (end == a)
            fatal_at(tloc(path, t[b - 1]), "unbalanced '[' in a parameter");
        end--;
        array = true;
    }
    static const char *const type_words[] = {"int",    "char",     "long",   "short",
                                             "void",   "unsigned", "signed", "const",
                                             "double", "float",    "size_t"};
    const char *last = t[end - 1]->text;
    bool named = end - a >= 2 && is_ident(last);
    for (size_t k = 0; named && k < sizeof(type_words) / sizeof(type_words[0]); k++)
        if (strcmp(last, type_words[k]) == 0)
            named = false;
    if (named) {
        p->name = last;
        char *ty = join_type(t, a, end - 1);
        p->type = array ? xasprintf("%s *", ty) : ty;
        p->decl = join_type(t, a, b);
    } else {
        if (array)
            fatal_at(tloc(path, t[a]), "cannot read an unnamed array parameter");
        p->name = xasprintf("arg%zu", index);
        p->type = join_type(t, a, end);
        size_t l = strlen(p->type);
        p->decl = xasprintf("%s%s%s", p->type, l && p->type[l - 1] == '*' ? "" : " ", p->name);
    }
}

static void add_func(const char *path, tok **t, size_t a, size_t lp, size_t rp)
{
    /* t[lp] is '(' after the name t[lp-1]; t[rp] is the matching ')'. */
    if (lp < a + 2)
        fatal_at(tloc(path, t[lp]), "prototype without a return type");
    cfunc *f = xmalloc(sizeof(*f));
    f->name = t[lp - 1]->text;
    f->where = tloc(path, t[lp - 1]);
    f->ret = join_type(t, a, lp - 1);
    if (!*f->ret)
        fatal_at(f->where, "prototype of %s without a return type", f->name);
    pvec ps = {0};
    if (!(rp == lp + 2 && tis(t[lp + 1], "void")) && rp > lp + 1) {
        size_t st = lp + 1;
        int depth = 0;
        for (size_t i = lp + 1; i <= rp; i++) {
            if (i < rp && (tis(t[i], "(") || tis(t[i], "[")))
                depth++;
            else if (i < rp && (tis(t[i], ")") || tis(t[i], "]")))
                depth--;
            else if (i == rp || (depth == 0 && tis(t[i], ","))) {
                if (i - st == 1 && tis(t[st], "...")) {
                    if (i != rp)
                        fatal_at(tloc(path, t[st]), "'...' before the last parameter");
                    f->varargs = true;
                } else {
                    cparam *p = xmalloc(sizeof(*p));
                    parse_param(path, t, st, i, ps.n, p);
                    pv_push(&ps, p);
                }
                st = i + 1;
            }
        }
    }
    f->nparams = ps.n;
    f->params = xmalloc((ps.n ? ps.n : 1) * sizeof(cparam));
    for (size_t i = 0; i < ps.n; i++)
        f->params[i] = *(cparam *)ps.v[i];
    if (smap_get(&funcs, f->name))
        return; /* declared twice: the first one counts */
    smap_put(&funcs, f->name, f);
    nfuncs++;
}

/* struct _X { fields } ; -- t[lb] is '{', t[rb] the matching '}'. */
static void add_struct(const char *path, tok **t, const char *tag, size_t lb, size_t rb)
{
    cstruct *s = xmalloc(sizeof(*s));
    s->tag = tag;
    s->where = tloc(path, t[lb]);
    pvec fs = {0};
    size_t st = lb + 1;
    int depth = 0;
    for (size_t i = lb + 1; i < rb; i++) {
        if (tis(t[i], "{") || tis(t[i], "(")) {
            depth++;
            continue;
        }
        if (tis(t[i], "}") || tis(t[i], ")")) {
            depth--;
            continue;
        }
        if (depth != 0 || !tis(t[i], ";"))
            continue;
        /* Fields [st, i): "T a", "T a[N]", "union {...} v", "T a, b". */
        cfield *f = xmalloc(sizeof(*f));
        size_t end = i;
        if (end > st && tis(t[end - 1], "VIR_DEPRECATED"))
            end--;
        if (end > st && tis(t[end - 1], "]")) {
            size_t k = end;
            while (k > st && !tis(t[k - 1], "["))
                k--;
            if (k <= st + 1)
                fatal_at(tloc(path, t[i]), "cannot read this struct field");
            f->dim = join_type(t, k, end - 1);
            end = k - 1;
        }
        if (end <= st + 1 || !is_ident(t[end - 1]->text))
            fatal_at(tloc(path, t[i]), "cannot read this struct field");
        f->name = t[end - 1]->text;
        bool nested = false;
        for (size_t k = st; k < end; k++)
            if (tis(t[k], "{") || tis(t[k], ","))
                nested = true;
        f->type = nested ? "" : join_type(t, st, end - 1);
        pv_push(&fs, f);
        st = i + 1;
    }
    s->nfields = fs.n;
    s->fields = xmalloc((fs.n ? fs.n : 1) * sizeof(cfield));
    for (size_t i = 0; i < fs.n; i++)
        s->fields[i] = *(cfield *)fs.v[i];
    if (!smap_get(&structs, tag))
        smap_put(&structs, tag, s);
}

static void add_typedef(const char *name, const char *target, bool pointer, bool is_enum)
{
    if (smap_get(&typedefs, name))
        return;
    tdef *d = xmalloc(sizeof(*d));
    d->target = target;
    d->pointer = pointer;
    d->is_enum = is_enum;
    smap_put(&typedefs, name, d);
}

/* One file-level declaration: tokens [a, b), t[b] is its ';'. */
static void declaration(const char *path, tok **t, size_t a, size_t b)
{
    if (a == b)
        return;
    if (tis(t[a], "typedef")) {
        if (b - a < 3)
            return;
        bool fn = false;
        for (size_t i = a; i < b; i++)
            if (tis(t[i], "("))
                fn = true;
        if (fn)
            return; /* function (pointer) types */
        const char *name = t[b - 1]->text;
        if (!is_ident(name))
            return;
        if (tis(t[a + 1], "enum")) {
            add_typedef(name, "", false, true);
            return;
        }
        if (tis(t[a + 1], "struct") || tis(t[a + 1], "union")) {
            if (is_ident(t[a + 2]->text) && a + 3 < b && tis(t[a + 3], "{")) {
                /* typedef struct _X { ... } X; */
                size_t rb = b - 1;
                while (rb > a && !tis(t[rb], "}"))
                    rb--;
                add_struct(path, t, xasprintf("struct %s", t[a + 2]->text), a + 3, rb);
            }
            if (is_ident(t[a + 2]->text)) {
                bool ptr = tis(t[b - 2], "*");
                add_typedef(name, xasprintf("struct %s", t[a + 2]->text), ptr, false);
            }
            return;
        }
        /* typedef X *XPtr; / typedef X Y; */
        bool ptr = tis(t[b - 2], "*");
        add_typedef(name, join_type(t, a + 1, ptr ? b - 2 : b - 1), ptr, false);
        return;
    }
    if (tis(t[a], "struct") && b - a >= 3 && is_ident(t[a + 1]->text) && tis(t[a + 2], "{")) {
        size_t rb = b - 1;
        while (rb > a && !tis(t[rb], "}"))
            rb--;
        add_struct(path, t, xasprintf("struct %s", t[a + 1]->text), a + 2, rb);
        return;
    }
    if (tis(t[a], "enum") || tis(t[a], "union") || tis(t[a], "struct"))
        return; /* enum definitions, forward declarations */
    /* A prototype: the first '(' follows the name. */
    size_t lp = a;
    while (lp < b && !tis(t[lp], "("))
        lp++;
    if (lp == b) {
        /* A variable. */
        if (tis(t[a], "VIR_EXPORT_VAR") && b - a >= 3 && is_ident(t[b - 1]->text)) {
            cvar *v = xmalloc(sizeof(*v));
            v->name = t[b - 1]->text;
            v->type = join_type(t, a + 1, b - 1);
            v->where = tloc(path, t[b - 1]);
            if (!smap_get(&vars, v->name))
                smap_put(&vars, v->name, v);
        }
        return;
    }
    if (lp == a || !is_ident(t[lp - 1]->text) || (lp + 1 < b && tis(t[lp + 1], "*")))
        return; /* (*fn)(...) variables, macro calls */
    int depth = 0;
    size_t rp = lp;
    for (; rp < b; rp++) {
        if (tis(t[rp], "("))
            depth++;
        else if (tis(t[rp], ")") && --depth == 0)
            break;
    }
    if (rp == b)
        fatal_at(tloc(path, t[lp]), "unbalanced parentheses in the prototype of %s",
                 t[lp - 1]->text);
    if (rp + 1 != b)
        fatal_at(tloc(path, t[rp]), "cannot read the prototype of %s (text after ')')",
                 t[lp - 1]->text);
    add_func(path, t, a, lp, rp);
}

static void scan_file(const char *path)
{
    size_t n;
    char *s = read_file(path, &n);
    pvec tv = {0};
    tokenize(path, s, n, &tv);
    tok **t = (tok **)tv.v;
    size_t st = 0;
    int depth = 0;
    for (size_t i = 0; i < tv.n; i++) {
        if (tis(t[i], "{") || tis(t[i], "(") || tis(t[i], "["))
            depth++;
        else if (tis(t[i], "}") || tis(t[i], ")") || tis(t[i], "]")) {
            if (--depth < 0)
                fatal_at(tloc(path, t[i]), "unbalanced '%s'", t[i]->text);
        } else if (depth == 0 && tis(t[i], ";")) {
            declaration(path, t, st, i);
            st = i + 1;
        }
    }
    if (depth != 0)
        fatal("%s: unbalanced braces or parentheses at the end of the file", path);
}

static int name_cmp(const void *a, const void *b)
{
    return byte_cmp(*(const char *const *)a, *(const char *const *)b);
}

void cproto_scan_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fatal("%s: cannot open directory: %s", dir, strerror(errno));
    pvec names = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        bool h = l >= 3 && strcmp(e->d_name + l - 2, ".h") == 0;
        bool hin = l >= 6 && strcmp(e->d_name + l - 5, ".h.in") == 0;
        if (e->d_name[0] == '.' || !(h || hin))
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
        scan_file(path);
    }
}

const cfunc *cproto_func(const char *name)
{
    return smap_get(&funcs, name);
}

const cvar *cproto_var(const char *name)
{
    return smap_get(&vars, name);
}

size_t cproto_func_count(void)
{
    return nfuncs;
}

bool cproto_is_pointer_typedef(const char *type)
{
    for (int depth = 0; depth < 16; depth++) {
        const tdef *d = smap_get(&typedefs, type);
        if (!d)
            return false;
        if (d->pointer)
            return true;
        type = d->target;
    }
    return false;
}

bool cproto_is_enum_typedef(const char *type)
{
    for (int depth = 0; depth < 16; depth++) {
        const tdef *d = smap_get(&typedefs, type);
        if (!d)
            return false;
        if (d->is_enum)
            return true;
        if (d->pointer)
            return false;
        type = d->target;
    }
    return false;
}

const cstruct *cproto_struct_of(const char *type, bool *pointer)
{
    bool ptr = false;
    size_t l = strlen(type);
    if (l > 2 && strcmp(type + l - 2, " *") == 0) {
        ptr = true;
        type = xstrndup(type, l - 2);
    }
    for (int depth = 0; depth < 16; depth++) {
        const cstruct *s = smap_get(&structs, type);
        if (s) {
            *pointer = ptr;
            return s;
        }
        const tdef *d = smap_get(&typedefs, type);
        if (!d)
            return NULL;
        if (d->pointer) {
            if (ptr)
                return NULL;
            ptr = true;
        }
        type = d->target;
    }
    return NULL;
}

/* ---- .syms ---- */

void syms_read(const char *path, pvec *out)
{
    size_t n;
    char *s = read_file(path, &n);
    int line = 1;
    size_t i = 0;
    /* States: 0 outside a node (expect NAME '{'), 1 inside, 2 after '}' (expect [PARENT] ';'). */
    int state = 0;
    const char *node = NULL;
    bool global = false;
    size_t count = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\n') {
            line++;
            i++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c == '#') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        loc here = {path, line, 1};
        if (id_start(c)) {
            size_t st = i;
            while (i < n && (id_char(s[i]) || s[i] == '.'))
                i++;
            char *w = xstrndup(s + st, i - st);
            while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
            if (state == 0) {
                if (i >= n || s[i] != '{')
                    fatal_at(here, "expected '{' after the version node %s", w);
                i++;
                node = w;
                state = 1;
                global = false;
            } else if (state == 1) {
                if (i < n && s[i] == ':') {
                    i++;
                    if (strcmp(w, "global") == 0)
                        global = true;
                    else if (strcmp(w, "local") == 0)
                        global = false;
                    else
                        fatal_at(here, "unknown section '%s:'", w);
                    continue;
                }
                if (i >= n || s[i] != ';')
                    fatal_at(here, "expected ';' after the symbol %s", w);
                i++;
                if (!global)
                    continue;
                if (!is_ident(w))
                    fatal_at(here, "'%s' is not a C name", w);
                if (++count > 100000)
                    fatal_at(here, "too many symbols");
                csym *sy = xmalloc(sizeof(*sy));
                sy->name = w;
                sy->node = node;
                pv_push(out, sy);
            } else {
                /* the parent node */
                if (i >= n || s[i] != ';')
                    fatal_at(here, "expected ';' after the parent node %s", w);
                i++;
                state = 0;
            }
            continue;
        }
        if (c == '*' && state == 1) {
            i++;
            while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
            if (i >= n || s[i] != ';')
                fatal_at(here, "expected ';' after '*'");
            i++;
            continue;
        }
        if (c == '}' && state == 1) {
            i++;
            state = 2;
            continue;
        }
        if (c == ';' && state == 2) {
            i++;
            state = 0;
            continue;
        }
        fatal_at(here, "unexpected '%c' in a version script", c);
    }
    if (state != 0)
        fatal("%s: a version node is not closed at the end of the file", path);
}
