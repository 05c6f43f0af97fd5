/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: recursive-descent parser for XDR (RFC 4506 section 6) with the
 * extensions libvirt relies on: char/short, bare `unsigned`, `%` lines, and
 * constants defined by libvirt's C headers.
 *
 * The grammar is flat (no inline struct/union/enum bodies), so the parser
 * never recurses. Constants are resolved while parsing (they must be defined
 * before use); type names are resolved afterwards by sema.c.
 */
#include "ast.h"
#include "cheaders.h"

#include <stdlib.h>
#include <string.h>

#define VRPC_UNBOUNDED_VALUE 0xffffffffu
/* Largest count accepted for a fixed-size array (opaque x[N], T x[N]). */
#define MAX_FIXED_COUNT (16u * 1024 * 1024)

typedef struct parser {
    lexer lx;
    token tok;  /* current token */
    token next; /* one token of lookahead */
    bool have_next;
    program *prog;
} parser;

static void advance(parser *p)
{
    if (p->have_next) {
        p->tok = p->next;
        p->have_next = false;
    } else {
        lexer_next(&p->lx, &p->tok);
    }
}

static const token *peek(parser *p)
{
    if (!p->have_next) {
        lexer_next(&p->lx, &p->next);
        p->have_next = true;
    }
    return &p->next;
}

static bool is_punct(const token *t, char c)
{
    return t->kind == TK_PUNCT && t->punct == c;
}

static bool is_kw(const token *t, const char *kw)
{
    return t->kind == TK_IDENT && strcmp(t->text, kw) == 0;
}

static const char *const keywords[] = {
    "bool",  "case",     "char",   "const",     "default", "double",  "enum",   "float",
    "hyper", "int",      "opaque", "short",     "string",  "struct",  "switch", "typedef",
    "union", "unsigned", "void",   "quadruple", "program", "version",
};

static bool is_keyword(const char *s)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (strcmp(s, keywords[i]) == 0)
            return true;
    return false;
}

static _Noreturn void expected(parser *p, const char *what)
{
    fatal_at(p->tok.where, "expected %s, got %s", what, token_describe(&p->tok));
}

static void expect_punct(parser *p, char c, const char *context)
{
    if (!is_punct(&p->tok, c)) {
        char *w = xasprintf("'%c' %s", c, context);
        expected(p, w);
    }
    advance(p);
}

/* An identifier usable as a name (not a keyword). */
static const char *expect_name(parser *p, const char *what)
{
    if (p->tok.kind != TK_IDENT)
        expected(p, what);
    if (is_keyword(p->tok.text))
        fatal_at(p->tok.where, "'%s' is a keyword and cannot be used as %s", p->tok.text, what);
    const char *s = p->tok.text;
    advance(p);
    return s;
}

/* ---- constants ---- */

static xconst *find_const(const char *name)
{
    return smap_get(&G.const_map, name);
}

/* The value of a number or a constant name; *src gets its spelling. */
static xval parse_value(parser *p, const char *what, const char **src, int *hex_digits)
{
    token t = p->tok;
    if (hex_digits)
        *hex_digits = 0;
    if (t.kind == TK_NUMBER) {
        advance(p);
        if (src)
            *src = t.text;
        if (hex_digits)
            *hex_digits = t.hex_digits;
        return t.value;
    }
    if (t.kind != TK_IDENT || is_keyword(t.text))
        expected(p, what);
    advance(p);
    if (src)
        *src = t.text;
    xconst *c = find_const(t.text);
    if (c)
        return c->value;
    xval v;
    loc where;
    switch (headers_value(t.text, &v, &where)) {
    case HC_INT:
        return v;
    case HC_STRING:
        fatal_at(t.where, "constant '%s' (%s:%d) is a string, not a number", t.text, where.file,
                 where.line);
    case HC_UNEVALUABLE:
        fatal_at(t.where, "constant '%s' (%s:%d) is not an integer constant expression", t.text,
                 where.file, where.line);
    case HC_NOT_FOUND:
        break;
    }
    fatal_at(t.where, "unknown constant '%s'", t.text);
}

static void define_const(parser *p, const char *name, loc where, xval v, int hex_digits,
                         bool is_enum_member)
{
    xconst *old = find_const(name);
    if (old) {
        if (!old->is_enum_member && !is_enum_member && xv_eq(old->value, v))
            return; /* identical redefinition */
        fatal_at(where, "'%s' redefined (previous definition at %s:%d:%d)", name, old->where.file,
                 old->where.line, old->where.col);
    }
    xconst *c = xmalloc(sizeof(*c));
    c->name = name;
    c->cname = const_cname(name);
    c->where = where;
    c->value = v;
    c->hex_digits = hex_digits;
    c->is_enum_member = is_enum_member;
    c->file_base = p->prog->file_base;
    smap_put(&G.const_map, name, c);
    pv_push(&G.consts, c);
}

static void parse_const(parser *p)
{
    advance(p); /* const */
    loc where = p->tok.where;
    const char *name = expect_name(p, "a constant name");
    expect_punct(p, '=', "after the constant name");
    int hex;
    xval v = parse_value(p, "a number or a constant name", NULL, &hex);
    expect_punct(p, ';', "after the constant definition");
    define_const(p, name, where, v, hex, false);
}

/* ---- types ---- */

static ntype *new_type(parser *p, nt_kind kind, const char *name, loc where)
{
    ntype *old = smap_get(&G.type_map, name);
    if (old)
        fatal_at(where, "type '%s' redefined (previous definition at %s:%d:%d)", name,
                 old->where.file, old->where.line, old->where.col);
    ntype *t = xmalloc(sizeof(*t));
    t->kind = kind;
    t->xname = name;
    t->where = where;
    t->file_base = p->prog->file_base;
    t->index = G.types.n;
    smap_put(&G.type_map, name, t);
    pv_push(&G.types, t);
    return t;
}

static uint32_t to_bound(xval v, loc where, bool fixed)
{
    if (fixed) {
        if (!xv_in_range(v, 1, MAX_FIXED_COUNT))
            fatal_at(where, "fixed array size %s is out of range (1..%u)", xv_str(v),
                     MAX_FIXED_COUNT);
    } else if (!xv_in_range(v, 0, UINT32_MAX)) {
        fatal_at(where, "array bound %s is out of range (0..4294967295)", xv_str(v));
    }
    return (uint32_t)v.bits;
}

/*
 * type-specifier: [unsigned] int|hyper|char|short, bare unsigned, float,
 * double, bool, opaque, string, [struct|union|enum] NAME
 */
static void parse_type_spec(parser *p, decl *d)
{
    token t = p->tok;
    d->where = t.where;
    if (t.kind != TK_IDENT)
        expected(p, "a type");
    if (is_kw(&t, "unsigned")) {
        advance(p);
        if (is_kw(&p->tok, "int")) {
            d->base = BK_UINT;
            advance(p);
        } else if (is_kw(&p->tok, "hyper")) {
            d->base = BK_UHYPER;
            advance(p);
        } else if (is_kw(&p->tok, "char")) {
            d->base = BK_UCHAR;
            advance(p);
        } else if (is_kw(&p->tok, "short")) {
            d->base = BK_USHORT;
            advance(p);
        } else {
            d->base = BK_UINT; /* bare `unsigned` */
        }
        return;
    }
    static const struct {
        const char *kw;
        base_kind b;
    } simple[] = {
        {"int", BK_INT},       {"hyper", BK_HYPER},   {"char", BK_CHAR},
        {"short", BK_SHORT},   {"bool", BK_BOOL},     {"float", BK_FLOAT},
        {"double", BK_DOUBLE}, {"opaque", BK_OPAQUE}, {"string", BK_STRING},
    };
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (is_kw(&t, simple[i].kw)) {
            d->base = simple[i].b;
            advance(p);
            return;
        }
    }
    if (is_kw(&t, "quadruple"))
        fatal_at(t.where, "'quadruple' is not supported");
    if (is_kw(&t, "struct") || is_kw(&t, "union") || is_kw(&t, "enum")) {
        d->tag = is_kw(&t, "struct") ? TAG_STRUCT : is_kw(&t, "union") ? TAG_UNION : TAG_ENUM;
        advance(p);
        if (is_punct(&p->tok, '{') || is_kw(&p->tok, "switch") ||
            (p->tok.kind == TK_IDENT && (is_punct(peek(p), '{') || is_kw(peek(p), "switch"))))
            fatal_at(t.where, "inline %s definitions are not supported; define a named type",
                     t.text);
        d->base = BK_NAMED;
        d->type_name = expect_name(p, "a type name");
        return;
    }
    if (is_keyword(t.text))
        expected(p, "a type");
    d->base = BK_NAMED;
    d->type_name = t.text;
    advance(p);
}

/*
 * declaration: void | type-spec NAME | type-spec NAME[N] | type-spec NAME<N>
 *            | type-spec NAME<> | type-spec *NAME
 */
static void parse_declaration(parser *p, decl *d, const char *context)
{
    memset(d, 0, sizeof(*d));
    if (is_kw(&p->tok, "void")) {
        d->where = p->tok.where;
        d->form = DF_VOID;
        d->base = BK_VOID;
        advance(p);
        return;
    }
    parse_type_spec(p, d);
    if (is_punct(&p->tok, '*')) {
        if (d->base == BK_OPAQUE || d->base == BK_STRING)
            fatal_at(p->tok.where, "'%s' cannot be optional ('*'); use a typedef",
                     d->base == BK_OPAQUE ? "opaque" : "string");
        advance(p);
        d->form = DF_OPT;
        d->name_where = p->tok.where;
        d->name = expect_name(p, context);
        return;
    }
    d->name_where = p->tok.where;
    d->name = expect_name(p, context);
    if (is_punct(&p->tok, '[')) {
        loc bl = p->tok.where;
        advance(p);
        if (d->base == BK_STRING)
            fatal_at(bl, "'string' needs a variable length '<N>', not '[N]'");
        loc vl = p->tok.where;
        xval v = parse_value(p, "an array size", &d->bound_src, NULL);
        d->bound = to_bound(v, vl, true);
        expect_punct(p, ']', "to close the array size");
        d->form = DF_FIXED;
        return;
    }
    if (is_punct(&p->tok, '<')) {
        advance(p);
        if (is_punct(&p->tok, '>')) {
            d->bound = VRPC_UNBOUNDED_VALUE;
            d->bound_src = "";
        } else {
            loc vl = p->tok.where;
            xval v = parse_value(p, "an array bound or '>'", &d->bound_src, NULL);
            d->bound = to_bound(v, vl, false);
        }
        expect_punct(p, '>', "to close the array bound");
        d->form = DF_VAR;
        return;
    }
    if (d->base == BK_OPAQUE || d->base == BK_STRING)
        fatal_at(d->name_where, "'%s' needs a length ('%s %s[N]' or '<N>')",
                 d->base == BK_OPAQUE ? "opaque" : "string",
                 d->base == BK_OPAQUE ? "opaque" : "string", d->name);
    d->form = DF_PLAIN;
}

static void check_member_name(const decl *d)
{
    if (d->name && is_c_keyword(d->name))
        fatal_at(d->name_where, "'%s' is a C keyword and cannot be used as a name", d->name);
}

static void parse_enum(parser *p)
{
    advance(p); /* enum */
    loc where = p->tok.where;
    const char *name = expect_name(p, "an enum name");
    ntype *t = new_type(p, NT_ENUM, name, where);
    expect_punct(p, '{', "to open the enum body");
    pvec members = {0};
    for (;;) {
        if (is_punct(&p->tok, '}') && members.n > 0)
            break;
        enum_member *m = xmalloc(sizeof(*m));
        m->where = p->tok.where;
        m->doc = p->tok.doc;
        m->name = expect_name(p, "an enum value name");
        expect_punct(p, '=', "after the enum value name (XDR enum values need '= value')");
        loc vl = p->tok.where;
        int hex;
        xval v = parse_value(p, "a number or a constant name", NULL, &hex);
        if (!xv_in_range(v, INT32_MIN, INT32_MAX))
            fatal_at(vl, "enum value %s is out of range for a 32-bit int", xv_str(v));
        m->value = (int32_t)xv_i64(v);
        define_const(p, m->name, m->where, v, hex, true);
        pv_push(&members, m);
        if (is_punct(&p->tok, ',')) {
            advance(p);
            continue;
        }
        if (!is_punct(&p->tok, '}'))
            expected(p, "',' or '}' after the enum value");
    }
    advance(p); /* } */
    expect_punct(p, ';', "after the enum definition");
    t->nmembers = members.n;
    t->members = xmalloc(members.n * sizeof(enum_member));
    for (size_t i = 0; i < members.n; i++)
        t->members[i] = *(enum_member *)members.v[i];
}

static void check_dup_name(smap *names, const decl *d, const char *what)
{
    if (!d->name)
        return;
    const decl *o = smap_get(names, d->name);
    if (o)
        fatal_at(d->name_where, "duplicate %s '%s' (previous at line %d)", what, d->name,
                 o->name_where.line);
    smap_put(names, d->name, (void *)d);
}

static int label_cmp(const void *a, const void *b)
{
    const case_label *x = *(const case_label *const *)a, *y = *(const case_label *const *)b;
    if (x->value.neg != y->value.neg)
        return x->value.neg ? -1 : 1;
    if (x->value.bits != y->value.bits)
        return x->value.bits < y->value.bits ? -1 : 1;
    /* equal values: report the later one */
    if (x->where.line != y->where.line)
        return x->where.line < y->where.line ? -1 : 1;
    return x->where.col < y->where.col ? -1 : (x->where.col > y->where.col);
}

static void parse_struct(parser *p)
{
    advance(p); /* struct */
    loc where = p->tok.where;
    const char *name = expect_name(p, "a struct name");
    ntype *t = new_type(p, NT_STRUCT, name, where);
    expect_punct(p, '{', "to open the struct body");
    if (is_punct(&p->tok, '}'))
        fatal_at(p->tok.where, "struct '%s' has no members", name);
    pvec fields = {0};
    do {
        decl *d = xmalloc(sizeof(*d));
        parse_declaration(p, d, "a member name");
        if (d->form == DF_VOID)
            fatal_at(d->where, "a struct member cannot be void");
        check_member_name(d);
        expect_punct(p, ';', "after the struct member");
        pv_push(&fields, d);
    } while (!is_punct(&p->tok, '}'));
    advance(p);
    expect_punct(p, ';', "after the struct definition");
    smap names = {0};
    t->nfields = fields.n;
    t->fields = xmalloc(fields.n * sizeof(decl));
    for (size_t i = 0; i < fields.n; i++) {
        t->fields[i] = *(decl *)fields.v[i];
        check_dup_name(&names, &t->fields[i], "member");
    }
}

static void parse_union(parser *p)
{
    advance(p); /* union */
    loc where = p->tok.where;
    const char *name = expect_name(p, "a union name");
    ntype *t = new_type(p, NT_UNION, name, where);
    if (!is_kw(&p->tok, "switch"))
        expected(p, "'switch' after the union name");
    advance(p);
    expect_punct(p, '(', "after 'switch'");
    parse_declaration(p, &t->disc, "the discriminant name");
    if (t->disc.form != DF_PLAIN)
        fatal_at(t->disc.where, "the discriminant must be a plain int, unsigned int, bool or enum");
    check_member_name(&t->disc);
    if (strcmp(t->disc.name, "u") == 0)
        fatal_at(t->disc.name_where, "the discriminant cannot be named 'u' (the C union member)");
    expect_punct(p, ')', "after the discriminant");
    expect_punct(p, '{', "to open the union body");
    pvec arms = {0};
    smap names = {0};
    while (!is_punct(&p->tok, '}')) {
        if (is_kw(&p->tok, "default")) {
            if (t->has_default)
                fatal_at(p->tok.where, "duplicate 'default' arm");
            t->def_where = p->tok.where;
            advance(p);
            expect_punct(p, ':', "after 'default'");
            parse_declaration(p, &t->def, "an arm name");
            check_member_name(&t->def);
            expect_punct(p, ';', "after the union arm");
            t->has_default = true;
            continue;
        }
        if (!is_kw(&p->tok, "case"))
            expected(p, "'case', 'default' or '}'");
        union_arm *a = xmalloc(sizeof(*a));
        pvec labels = {0};
        while (is_kw(&p->tok, "case")) {
            advance(p);
            case_label *l = xmalloc(sizeof(*l));
            l->where = p->tok.where;
            l->value = parse_value(p, "a case value", &l->src, NULL);
            expect_punct(p, ':', "after the case value");
            pv_push(&labels, l);
        }
        parse_declaration(p, &a->d, "an arm name");
        check_member_name(&a->d);
        expect_punct(p, ';', "after the union arm");
        a->nlabels = labels.n;
        a->labels = xmalloc(labels.n * sizeof(case_label));
        for (size_t i = 0; i < labels.n; i++)
            a->labels[i] = *(case_label *)labels.v[i];
        pv_push(&arms, a);
    }
    if (arms.n == 0)
        fatal_at(p->tok.where, "a union needs at least one 'case' arm");
    advance(p); /* } */
    expect_punct(p, ';', "after the union definition");
    t->narms = arms.n;
    t->arms = xmalloc(arms.n * sizeof(union_arm));
    for (size_t i = 0; i < arms.n; i++) {
        t->arms[i] = *(union_arm *)arms.v[i];
        check_dup_name(&names, &t->arms[i].d, "union arm");
    }
    if (t->has_default)
        check_dup_name(&names, &t->def, "union arm");
    /* duplicate case values */
    pvec all = {0};
    for (size_t i = 0; i < t->narms; i++)
        for (size_t j = 0; j < t->arms[i].nlabels; j++)
            pv_push(&all, &t->arms[i].labels[j]);
    qsort(all.v, all.n, sizeof(void *), label_cmp);
    for (size_t i = 1; i < all.n; i++) {
        const case_label *a = all.v[i - 1], *b = all.v[i];
        if (xv_eq(a->value, b->value))
            fatal_at(b->where, "duplicate case value %s", xv_str(b->value));
    }
}

static void parse_typedef(parser *p)
{
    advance(p); /* typedef */
    ntype tmp;
    memset(&tmp, 0, sizeof(tmp));
    parse_declaration(p, &tmp.td, "the new type name");
    if (tmp.td.form == DF_VOID)
        fatal_at(tmp.td.where, "cannot typedef void");
    expect_punct(p, ';', "after the typedef");
    if (is_keyword(tmp.td.name))
        fatal_at(tmp.td.name_where, "'%s' is a keyword", tmp.td.name);
    ntype *t = new_type(p, NT_TYPEDEF, tmp.td.name, tmp.td.name_where);
    t->td = tmp.td;
}

void parse_file(program *prog, const char *buf, size_t len)
{
    parser p;
    memset(&p, 0, sizeof(p));
    p.prog = prog;
    lexer_init(&p.lx, prog->file, buf, len);
    advance(&p);
    while (p.tok.kind != TK_EOF) {
        if (is_kw(&p.tok, "const"))
            parse_const(&p);
        else if (is_kw(&p.tok, "enum"))
            parse_enum(&p);
        else if (is_kw(&p.tok, "struct"))
            parse_struct(&p);
        else if (is_kw(&p.tok, "union"))
            parse_union(&p);
        else if (is_kw(&p.tok, "typedef"))
            parse_typedef(&p);
        else if (is_kw(&p.tok, "program"))
            fatal_at(p.tok.where, "'program' definitions are not supported");
        else
            expected(&p, "'const', 'enum', 'struct', 'union' or 'typedef'");
    }
}
