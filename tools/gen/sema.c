/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: semantic analysis. Resolves type names, computes the
 * descriptor of every declaration, the order in which C definitions must be
 * written, the minimum wire sizes, and the procedure tables.
 */
#include "ast.h"
#include "calls.h"
#include "cheaders.h"

#include <stdlib.h>
#include <string.h>

/* Deepest chain of types containing or naming each other that we follow. */
#define MAX_TYPE_DEPTH 200
/* Largest C object we agree to describe. */
#define MAX_TYPE_SIZE ((uint64_t)256 * 1024 * 1024)

gen_ctx G;

static pvec anon_descs; /* tdesc * in order of creation */
static smap anon_map;   /* ident -> tdesc */
static tdesc *scalars[BK_DOUBLE + 1];
static pvec scalar_list; /* used scalar descriptors in base_kind order */
static pvec emit_order;  /* ntype * (struct/union definitions and typedefs) */

enum { ST_NONE = 0, ST_BUSY, ST_DONE };

void gen_reset(void)
{
    arena_release_all();
    memset(&G, 0, sizeof(G));
    memset(&anon_descs, 0, sizeof(anon_descs));
    memset(&anon_map, 0, sizeof(anon_map));
    memset(scalars, 0, sizeof(scalars));
    memset(&scalar_list, 0, sizeof(scalar_list));
    memset(&emit_order, 0, sizeof(emit_order));
    names_reset();
    headers_reset();
}

const char *vkind_name(vkind k)
{
    static const char *const names[VK_COUNT] = {
        "VOID",      "INT",      "UINT",       "HYPER",        "UHYPER",     "CHAR",
        "UCHAR",     "SHORT",    "USHORT",     "BOOL",         "FLOAT",      "DOUBLE",
        "ENUM",      "STRING",   "OPT_STRING", "OPAQUE_FIXED", "OPAQUE_VAR", "ARRAY_FIXED",
        "ARRAY_VAR", "OPTIONAL", "STRUCT",     "UNION",
    };
    return (unsigned)k < VK_COUNT ? names[k] : "VOID";
}

/* ---- scalar and anonymous descriptors ---- */

static const struct {
    const char *name;
    const char *ctype;
    vkind kind;
} scalar_info[] = {
    [BK_INT] = {"int", "int32_t", VK_INT},         [BK_UINT] = {"uint", "uint32_t", VK_UINT},
    [BK_HYPER] = {"hyper", "int64_t", VK_HYPER},   [BK_UHYPER] = {"uhyper", "uint64_t", VK_UHYPER},
    [BK_CHAR] = {"char", "char", VK_CHAR},         [BK_UCHAR] = {"uchar", "uint8_t", VK_UCHAR},
    [BK_SHORT] = {"short", "int16_t", VK_SHORT},   [BK_USHORT] = {"ushort", "uint16_t", VK_USHORT},
    [BK_BOOL] = {"bool", "bool", VK_BOOL},         [BK_FLOAT] = {"float", "float", VK_FLOAT},
    [BK_DOUBLE] = {"double", "double", VK_DOUBLE},
};

tdesc *scalar_desc(base_kind b)
{
    if (b < BK_INT || b > BK_DOUBLE)
        fatal("internal error: bad scalar kind %d", (int)b);
    if (!scalars[b]) {
        tdesc *d = xmalloc(sizeof(*d));
        d->origin = TO_SCALAR;
        d->kind = scalar_info[b].kind;
        d->ident = xasprintf("xd_%s", scalar_info[b].name);
        d->ctype = scalar_info[b].ctype;
        scalars[b] = d;
    }
    return scalars[b];
}

pvec *sema_scalar_descs(void)
{
    return &scalar_list;
}

pvec *sema_anon_descs(void)
{
    return &anon_descs;
}

pvec *sema_emit_order(void)
{
    return &emit_order;
}

static const char *elem_key(const tdesc *e)
{
    if (e->origin == TO_NAMED)
        return xasprintf("td_%s", e->named->suffix);
    return e->ident + 3; /* scalar: strip "xd_" */
}

static tdesc *anon_desc(vkind kind, uint32_t bound, tdesc *elem)
{
    static const struct {
        vkind k;
        const char *tag;
    } tags[] = {
        {VK_STRING, "string"},    {VK_OPT_STRING, "optstr"}, {VK_OPAQUE_FIXED, "opaque"},
        {VK_OPAQUE_VAR, "bytes"}, {VK_ARRAY_FIXED, "arr"},   {VK_ARRAY_VAR, "vec"},
        {VK_OPTIONAL, "opt"},
    };
    const char *tag = "anon";
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (tags[i].k == kind)
            tag = tags[i].tag;
    char *bs = bound == 0xffffffffu ? xstrdup("u") : xasprintf("%u", (unsigned)bound);
    char *ident;
    if (kind == VK_OPTIONAL)
        ident = xasprintf("xd_%s_%s", tag, elem_key(elem));
    else if (elem)
        ident = xasprintf("xd_%s_%s_%s", tag, bs, elem_key(elem));
    else
        ident = xasprintf("xd_%s_%s", tag, bs);
    tdesc *d = smap_get(&anon_map, ident);
    if (d)
        return d;
    d = xmalloc(sizeof(*d));
    d->origin = TO_ANON;
    d->kind = kind;
    d->bound = kind == VK_OPTIONAL ? 0 : bound;
    d->elem = elem;
    d->ident = ident;
    switch (kind) {
    case VK_STRING:
    case VK_OPT_STRING:
        d->ctype = "char *";
        break;
    case VK_OPAQUE_FIXED:
        d->ctype = xasprintf("uint8_t[%u]", (unsigned)bound);
        break;
    case VK_OPAQUE_VAR:
        d->ctype = "vrpc_bytes";
        break;
    case VK_ARRAY_FIXED:
        d->ctype = xasprintf("%s[%u]", elem->ctype, (unsigned)bound);
        break;
    case VK_ARRAY_VAR:
        d->ctype = "vrpc_array";
        break;
    case VK_OPTIONAL:
        d->ctype = xasprintf("%s *", elem->ctype);
        break;
    default:
        fatal("internal error: bad anonymous kind");
    }
    smap_put(&anon_map, ident, d);
    pv_push(&anon_descs, d);
    return d;
}

/* ---- shapes ---- */

static tdesc *shape_of(ntype *t, int depth);

static tdesc *elem_desc(decl *d)
{
    if (d->base == BK_NAMED)
        return d->ref->ref_desc;
    return scalar_desc(d->base);
}

static tdesc *decl_desc(decl *d, int depth)
{
    if (d->desc)
        return d->desc;
    tdesc *r = NULL;
    switch (d->form) {
    case DF_VOID:
        return NULL;
    case DF_PLAIN:
        r = elem_desc(d);
        break;
    case DF_FIXED:
        if (d->base == BK_OPAQUE)
            r = anon_desc(VK_OPAQUE_FIXED, d->bound, NULL);
        else
            r = anon_desc(VK_ARRAY_FIXED, d->bound, elem_desc(d));
        break;
    case DF_VAR:
        if (d->base == BK_STRING)
            r = anon_desc(VK_STRING, d->bound, NULL);
        else if (d->base == BK_OPAQUE)
            r = anon_desc(VK_OPAQUE_VAR, d->bound, NULL);
        else
            r = anon_desc(VK_ARRAY_VAR, d->bound, elem_desc(d));
        break;
    case DF_OPT:
        if (d->base == BK_NAMED) {
            tdesc *s = shape_of(d->ref, depth + 1);
            if (s->kind == VK_STRING) {
                r = anon_desc(VK_OPT_STRING, s->bound, NULL);
                break;
            }
        }
        r = anon_desc(VK_OPTIONAL, 0, elem_desc(d));
        break;
    }
    d->desc = r;
    return r;
}

static tdesc *layout_desc(ntype *t, vkind k)
{
    tdesc *d = xmalloc(sizeof(*d));
    d->origin = TO_LAYOUT;
    d->kind = k;
    d->named = t;
    d->ident = t->ref_desc->ident;
    d->ctype = t->cname;
    return d;
}

static tdesc *shape_of(ntype *t, int depth)
{
    if (t->shape)
        return t->shape;
    if (depth > MAX_TYPE_DEPTH)
        fatal_at(t->where, "type definitions nested too deeply");
    if (t->shape_state == ST_BUSY)
        fatal_at(t->where, "typedef '%s' is defined in terms of itself", t->xname);
    t->shape_state = ST_BUSY;
    tdesc *s;
    switch (t->kind) {
    case NT_ENUM:
        s = layout_desc(t, VK_ENUM);
        break;
    case NT_STRUCT:
        s = layout_desc(t, VK_STRUCT);
        break;
    case NT_UNION:
        s = layout_desc(t, VK_UNION);
        break;
    default: {
        tdesc *d = decl_desc(&t->td, depth + 1);
        s = d->origin == TO_NAMED ? shape_of(d->named, depth + 1) : d;
        break;
    }
    }
    t->shape = s;
    t->shape_state = ST_DONE;
    return s;
}

/* ---- name resolution ---- */

static void resolve_decl(decl *d)
{
    if (d->base != BK_NAMED)
        return;
    ntype *r = smap_get(&G.type_map, d->type_name);
    if (!r)
        fatal_at(d->where, "unknown type '%s'", d->type_name);
    static const char *const tagname[] = {"", "struct", "union", "enum"};
    if ((d->tag == TAG_STRUCT && r->kind != NT_STRUCT) ||
        (d->tag == TAG_UNION && r->kind != NT_UNION) || (d->tag == TAG_ENUM && r->kind != NT_ENUM))
        fatal_at(d->where, "'%s' is not a%s %s (defined at %s:%d:%d)", d->type_name,
                 d->tag == TAG_ENUM ? "n" : "", tagname[d->tag], r->where.file, r->where.line,
                 r->where.col);
    d->ref = r;
}

static void resolve_all(void)
{
    for (size_t i = 0; i < G.types.n; i++) {
        ntype *t = G.types.v[i];
        switch (t->kind) {
        case NT_STRUCT:
            for (size_t j = 0; j < t->nfields; j++)
                resolve_decl(&t->fields[j]);
            break;
        case NT_UNION:
            resolve_decl(&t->disc);
            for (size_t j = 0; j < t->narms; j++)
                resolve_decl(&t->arms[j].d);
            if (t->has_default)
                resolve_decl(&t->def);
            break;
        case NT_TYPEDEF:
            resolve_decl(&t->td);
            break;
        case NT_ENUM:
            break;
        }
    }
}

/* ---- checks ---- */

static void check_union(ntype *t)
{
    decl *d = &t->disc;
    tdesc *s = decl_desc(d, 0);
    if (s->origin == TO_NAMED)
        s = shape_of(s->named, 0);
    int64_t lo;
    uint64_t hi;
    switch (s->kind) {
    case VK_INT:
    case VK_ENUM:
        lo = INT32_MIN;
        hi = INT32_MAX;
        break;
    case VK_UINT:
        lo = 0;
        hi = UINT32_MAX;
        break;
    case VK_BOOL:
        lo = 0;
        hi = 1;
        break;
    default:
        fatal_at(d->where,
                 "the discriminant of union '%s' must be int, unsigned int, bool or an "
                 "enum",
                 t->xname);
    }
    for (size_t i = 0; i < t->narms; i++)
        for (size_t j = 0; j < t->arms[i].nlabels; j++) {
            case_label *l = &t->arms[i].labels[j];
            if (!xv_in_range(l->value, lo, hi))
                fatal_at(l->where, "case value %s does not fit the discriminant type",
                         xv_str(l->value));
        }
}

/* ---- definition order ---- */

static void need_declared(ntype *t, int depth);
static void need_complete(ntype *t, int depth);

static void decl_deps(decl *d, bool in_typedef, int depth)
{
    if (d->base != BK_NAMED)
        return;
    switch (d->form) {
    case DF_PLAIN:
        if (in_typedef)
            need_declared(d->ref, depth + 1);
        else
            need_complete(d->ref, depth + 1);
        break;
    case DF_FIXED:
        need_complete(d->ref, depth + 1);
        break;
    default:
        need_declared(d->ref, depth + 1);
        break;
    }
}

static void need_declared(ntype *t, int depth)
{
    if (t->kind != NT_TYPEDEF || t->decl_state == ST_DONE)
        return;
    if (depth > MAX_TYPE_DEPTH)
        fatal_at(t->where, "type definitions nested too deeply");
    if (t->decl_state == ST_BUSY)
        fatal_at(t->where, "typedef '%s' cannot be written in C: it depends on itself", t->xname);
    t->decl_state = ST_BUSY;
    decl_deps(&t->td, true, depth);
    pv_push(&emit_order, t);
    t->decl_state = ST_DONE;
}

static void need_complete(ntype *t, int depth)
{
    if (t->kind == NT_ENUM || t->complete_state == ST_DONE)
        return;
    if (depth > MAX_TYPE_DEPTH)
        fatal_at(t->where, "type definitions nested too deeply");
    if (t->complete_state == ST_BUSY)
        fatal_at(t->where, "type '%s' contains itself", t->xname);
    t->complete_state = ST_BUSY;
    if (t->kind == NT_TYPEDEF) {
        need_declared(t, depth + 1);
        if (t->td.form == DF_PLAIN && t->td.base == BK_NAMED)
            need_complete(t->td.ref, depth + 1);
    } else if (t->kind == NT_STRUCT) {
        for (size_t i = 0; i < t->nfields; i++)
            decl_deps(&t->fields[i], false, depth);
        pv_push(&emit_order, t);
    } else {
        decl_deps(&t->disc, false, depth);
        for (size_t i = 0; i < t->narms; i++)
            decl_deps(&t->arms[i].d, false, depth);
        if (t->has_default)
            decl_deps(&t->def, false, depth);
        pv_push(&emit_order, t);
    }
    t->complete_state = ST_DONE;
}

/* ---- sizes ---- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX / 4 - b ? UINT64_MAX / 4 : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a == 0 || b == 0)
        return 0;
    return a > (UINT64_MAX / 4) / b ? UINT64_MAX / 4 : a * b;
}

static void measure_type(ntype *t, int depth);

/* min_wire and an upper estimate of sizeof() of a descriptor. */
static void measure_desc(tdesc *d, int depth, uint64_t *mw, uint64_t *sz)
{
    if (!d) {
        *mw = 0;
        *sz = 0;
        return;
    }
    switch (d->origin) {
    case TO_SCALAR:
        *mw = (d->kind == VK_HYPER || d->kind == VK_UHYPER || d->kind == VK_DOUBLE) ? 8 : 4;
        *sz = 8;
        return;
    case TO_NAMED:
    case TO_LAYOUT:
        measure_type(d->named, depth + 1);
        *mw = d->named->min_wire;
        *sz = d->named->size_est;
        return;
    case TO_ANON:
        break;
    }
    switch (d->kind) {
    case VK_OPAQUE_FIXED:
        *mw = ((uint64_t)d->bound + 3) / 4 * 4;
        *sz = d->bound;
        return;
    case VK_ARRAY_FIXED: {
        uint64_t emw, esz;
        measure_desc(d->elem, depth + 1, &emw, &esz);
        *mw = sat_mul(d->bound, emw);
        *sz = sat_mul(d->bound, esz);
        return;
    }
    case VK_OPAQUE_VAR:
    case VK_ARRAY_VAR:
        *mw = 4;
        *sz = 16;
        return;
    default: /* STRING, OPT_STRING, OPTIONAL */
        *mw = 4;
        *sz = 8;
        return;
    }
}

static void measure_type(ntype *t, int depth)
{
    if (t->wire_state == ST_DONE)
        return;
    if (depth > MAX_TYPE_DEPTH)
        fatal_at(t->where, "type definitions nested too deeply");
    if (t->wire_state == ST_BUSY)
        fatal_at(t->where, "type '%s' contains itself", t->xname);
    t->wire_state = ST_BUSY;
    uint64_t mw = 0, sz = 0, a, b;
    switch (t->kind) {
    case NT_ENUM:
        mw = 4;
        sz = 4;
        break;
    case NT_STRUCT:
        for (size_t i = 0; i < t->nfields; i++) {
            measure_desc(t->fields[i].desc, depth, &a, &b);
            mw = sat_add(mw, a);
            sz = sat_add(sz, sat_add(b, 8));
        }
        break;
    case NT_UNION: {
        uint64_t minarm = UINT64_MAX, maxsz = 0;
        for (size_t i = 0; i < t->narms + (t->has_default ? 1 : 0); i++) {
            decl *d = i < t->narms ? &t->arms[i].d : &t->def;
            measure_desc(d->desc, depth, &a, &b);
            if (a < minarm)
                minarm = a;
            if (b > maxsz)
                maxsz = b;
        }
        mw = sat_add(4, minarm);
        sz = sat_add(16, maxsz);
        break;
    }
    case NT_TYPEDEF:
        measure_desc(t->shape, depth, &mw, &sz);
        break;
    }
    if (mw > UINT32_MAX)
        fatal_at(t->where, "the smallest encoding of '%s' exceeds 4 GiB", t->xname);
    if (sz > MAX_TYPE_SIZE)
        fatal_at(t->where, "type '%s' is too large", t->xname);
    t->min_wire = (uint32_t)mw;
    t->size_est = sz;
    t->wire_state = ST_DONE;
}

uint32_t tdesc_min_wire(tdesc *d)
{
    uint64_t mw, sz;
    measure_desc(d, 0, &mw, &sz);
    return (uint32_t)mw;
}

/* ---- procedures ---- */

static ntype *lookup_payload(const char *prefix, const char *rest, const char *suffix)
{
    char *name = xasprintf("%s_%s_%s", prefix, rest, suffix);
    ntype *t = smap_get(&G.type_map, name);
    xfree(name);
    return t;
}

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void parse_annotations(proc *pr, const doc_comment *doc)
{
    if (!doc)
        return;
    sbuf acl = {0};
    bool have_sparse = false;
    loc sparse_where = doc->where;
    const char *s = doc->text;
    size_t n = doc->len, i = 0;
    int line = doc->where.line, line_col0 = doc->where.col - 1;
    while (i <= n) {
        size_t ls = i;
        while (i < n && s[i] != '\n')
            i++;
        size_t le = i; /* [ls, le) is one line */
        size_t p = ls;
        while (p < le && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r'))
            p++;
        if (p < le && s[p] == '*')
            p++;
        while (p < le && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r'))
            p++;
        loc where = {doc->where.file, line, (int)(p - ls) + line_col0 + 1};
        if (p < le) {
            size_t q = p;
            bool ok = s[q] == '@';
            size_t ks = ++q;
            while (ok && q < le && is_word_char(s[q]))
                q++;
            size_t ke = q;
            ok = ok && ke > ks;
            while (ok && q < le && (s[q] == ' ' || s[q] == '\t'))
                q++;
            ok = ok && q < le && s[q] == ':';
            q++;
            while (ok && q < le && (s[q] == ' ' || s[q] == '\t'))
                q++;
            size_t vs = q;
            while (ok && q < le &&
                   (is_word_char(s[q]) || s[q] == ':' || s[q] == '!' || s[q] == '|'))
                q++;
            size_t ve = q;
            ok = ok && ve > vs;
            while (ok && q < le && (s[q] == ' ' || s[q] == '\t' || s[q] == '\r'))
                q++;
            ok = ok && q == le;
            if (!ok)
                fatal_at(where, "cannot parse annotation line (expected '* @key: value')");
            char *key = xstrndup(s + ks, ke - ks);
            char *val = xstrndup(s + vs, ve - vs);
            loc vwhere = where;
            vwhere.col += (int)(vs - p);
            if (strcmp(key, "generate") == 0) {
                static const char *const gv[] = {"none", "client", "server", "both"};
                int g = -1;
                for (int k = 0; k < 4; k++)
                    if (strcmp(val, gv[k]) == 0)
                        g = k;
                if (g < 0)
                    fatal_at(vwhere,
                             "invalid @generate value '%s' (expected none, client, "
                             "server or both)",
                             val);
                pr->generate = g;
            } else if (strcmp(key, "priority") == 0) {
                if (strcmp(val, "low") == 0)
                    pr->priority = 0;
                else if (strcmp(val, "high") == 0)
                    pr->priority = 1;
                else
                    fatal_at(vwhere, "invalid @priority value '%s' (expected low or high)", val);
            } else if (strcmp(key, "readstream") == 0 || strcmp(key, "writestream") == 0) {
                int dir = key[0] == 'r' ? 1 : 2;
                long v = 0;
                bool num = true;
                for (const char *c = val; *c; c++) {
                    if (*c < '0' || *c > '9' || v > 127) {
                        num = false;
                        break;
                    }
                    v = v * 10 + (*c - '0');
                }
                if (!num || v > 127)
                    fatal_at(vwhere, "invalid @%s value '%s' (expected a parameter number 0..127)",
                             key, val);
                if (pr->stream && pr->stream != dir)
                    fatal_at(where, "a procedure cannot have both @readstream and @writestream");
                pr->stream = dir;
                pr->stream_param = (int)v;
            } else if (strcmp(key, "sparseflag") == 0) {
                pr->sparse_flag = val;
                have_sparse = true;
                sparse_where = where;
            } else if (strcmp(key, "acl") == 0) {
                if (acl.len)
                    sb_putc(&acl, ',');
                sb_puts(&acl, val);
            }
            /* @aclfilter and unknown keys carry nothing we use */
        }
        line++;
        line_col0 = 0;
        i = le + 1;
    }
    if (have_sparse && !pr->stream)
        fatal_at(sparse_where, "@sparseflag requires @readstream or @writestream");
    if (acl.len)
        pr->acl = xstrdup(sb_str(&acl));
}

static int proc_cmp(const void *a, const void *b)
{
    const proc *x = *(const proc *const *)a, *y = *(const proc *const *)b;
    return x->number < y->number ? -1 : x->number > y->number;
}

static bool proc_callable(const proc *pr)
{
    return !pr->msg && strcmp(pr->prog->name, "keepalive") != 0;
}

static void setup_program(program *pg)
{
    char *upper = str_upper(pg->name);
    char *lower = str_lower(pg->name);
    char *enum_name = xasprintf("%s_procedure", pg->name);
    char *prog_const = xasprintf("%s_PROGRAM", upper);
    char *vers_const = xasprintf("%s_PROTOCOL_VERSION", upper);
    ntype *en = smap_get(&G.type_map, enum_name);
    xconst *pc = smap_get(&G.const_map, prog_const);
    xconst *vc = smap_get(&G.const_map, vers_const);
    if (!en && !pc && !vc)
        return; /* types only */
    loc where = en ? en->where : pc ? pc->where : vc->where;
    if (!en || en->kind != NT_ENUM)
        fatal_at(where, "program '%s': no 'enum %s' with its procedures", pg->name, enum_name);
    if (!pc)
        fatal_at(where, "program '%s': no constant %s", pg->name, prog_const);
    if (!vc)
        fatal_at(where, "program '%s': no constant %s", pg->name, vers_const);
    if (!xv_in_range(pc->value, 0, UINT32_MAX))
        fatal_at(pc->where, "%s is out of range for a program number", prog_const);
    if (!xv_in_range(vc->value, 0, UINT32_MAX))
        fatal_at(vc->where, "%s is out of range for a program version", vers_const);
    pg->has_procs = true;
    pg->number = (uint32_t)pc->value.bits;
    pg->version = (uint32_t)vc->value.bits;
    pg->proc_enum = en;
    char *prefix = xasprintf("%s_PROC_", upper);
    size_t plen = strlen(prefix);
    pg->nprocs = en->nmembers;
    pg->procs = xmalloc(en->nmembers * sizeof(proc *));
    for (size_t i = 0; i < en->nmembers; i++) {
        enum_member *m = &en->members[i];
        if (strncmp(m->name, prefix, plen) != 0 || !m->name[plen])
            fatal_at(m->where, "procedure '%s' of program '%s' should be named %s<NAME>", m->name,
                     pg->name, prefix);
        proc *pr = xmalloc(sizeof(*pr));
        pr->prog = pg;
        pr->xname = m->name;
        pr->number = m->value;
        pr->where = m->where;
        pr->stream_param = -1;
        char *rest = str_lower(m->name + plen);
        pr->short_name = strcmp(pg->name, "remote") == 0 ? rest : xasprintf("%s_%s", lower, rest);
        pr->args = lookup_payload(lower, rest, "args");
        pr->ret = lookup_payload(lower, rest, "ret");
        pr->msg = lookup_payload(lower, rest, "msg");
        parse_annotations(pr, m->doc);
        pg->procs[i] = pr;
    }
    qsort(pg->procs, pg->nprocs, sizeof(proc *), proc_cmp);
    for (size_t i = 1; i < pg->nprocs; i++)
        if (pg->procs[i]->number == pg->procs[i - 1]->number)
            fatal_at(pg->procs[i]->where, "procedure number %d of program '%s' is used twice",
                     (int)pg->procs[i]->number, pg->name);
}

static void register_proc_names(program *pg)
{
    for (size_t i = 0; pg->has_procs && i < pg->nprocs; i++) {
        proc *pr = pg->procs[i];
        char *what = xasprintf("procedure %s", pr->xname);
        cname_register(xasprintf("vrpc_pd_%s", pr->short_name), pr->where, what);
        if (proc_callable(pr)) {
            cname_register(xasprintf("vrpc_%s", pr->short_name), pr->where, what);
            cname_register(xasprintf("vrpc_%s_send", pr->short_name), pr->where, what);
            cname_register(xasprintf("vrpc_%s_reply", pr->short_name), pr->where, what);
            cname_register(xasprintf("vrpc_%s_cookie", pr->short_name), pr->where, what);
        }
    }
}

/* ---- driver ---- */

void sema_run(void)
{
    /* procedures first: their function names take precedence over type names */
    for (size_t i = 0; i < G.programs.n; i++)
        setup_program(G.programs.v[i]);
    smap funcs = {0};
    for (size_t i = 0; i < G.programs.n; i++) {
        program *pg = G.programs.v[i];
        for (size_t j = 0; pg->has_procs && j < pg->nprocs; j++)
            if (proc_callable(pg->procs[j]))
                smap_put(&funcs, xasprintf("vrpc_%s", pg->procs[j]->short_name), pg->procs[j]);
    }
    /* C names of the types */
    for (size_t i = 0; i < G.types.n; i++) {
        ntype *t = G.types.v[i];
        t->cname = type_cname(t->xname);
        /* a type named like a procedure's call (struct remote_node_get_cpu_stats vs
         * REMOTE_PROC_NODE_GET_CPU_STATS) yields the name to the function */
        if (smap_get(&funcs, t->cname))
            t->cname = xasprintf("%s_type", t->cname);
        t->suffix = t->cname + 5;
        static const char *const kinds[] = {"enum", "struct", "union", "typedef"};
        char *what = xasprintf("%s '%s'", kinds[t->kind], t->xname);
        cname_register(t->cname, t->where, what);
        cname_register(xasprintf("vrpc_td_%s", t->suffix), t->where, what);
        if (strcmp(t->cname, "vrpc_error") == 0 && t->kind != NT_STRUCT)
            fatal_at(t->where, "'%s' must be a struct: <virtrpc/conn.h> declares struct vrpc_error",
                     t->xname);
        tdesc *d = xmalloc(sizeof(*d));
        d->origin = TO_NAMED;
        d->named = t;
        d->ident = xasprintf("vrpc_td_%s", t->suffix);
        d->ctype = t->cname;
        t->ref_desc = d;
    }
    /* constants and enum values */
    for (size_t i = 0; i < G.consts.n; i++) {
        xconst *c = G.consts.v[i];
        if (!macro_register(c->cname, c->value, c->where))
            c->cname = NULL; /* already emitted with the same value */
    }
    resolve_all();
    /* descriptors of every declaration */
    for (size_t i = 0; i < G.types.n; i++) {
        ntype *t = G.types.v[i];
        shape_of(t, 0);
        switch (t->kind) {
        case NT_STRUCT:
            for (size_t j = 0; j < t->nfields; j++)
                decl_desc(&t->fields[j], 0);
            break;
        case NT_UNION:
            decl_desc(&t->disc, 0);
            for (size_t j = 0; j < t->narms; j++)
                decl_desc(&t->arms[j].d, 0);
            if (t->has_default)
                decl_desc(&t->def, 0);
            check_union(t);
            break;
        default:
            break;
        }
    }
    for (size_t i = 0; i < G.types.n; i++)
        need_complete(G.types.v[i], 0);
    for (size_t i = 0; i < G.types.n; i++)
        measure_type(G.types.v[i], 0);
    for (int b = BK_INT; b <= BK_DOUBLE; b++)
        if (scalars[b])
            pv_push(&scalar_list, scalars[b]);
    for (size_t i = 0; i < G.programs.n; i++)
        register_proc_names(G.programs.v[i]);
    for (size_t i = 0; i < G.programs.n; i++) {
        program *a = G.programs.v[i];
        for (size_t j = 0; a->has_procs && j < i; j++) {
            program *b = G.programs.v[j];
            if (b->has_procs && a->number == b->number)
                fatal_at(a->proc_enum->where, "programs '%s' and '%s' have the same number",
                         b->name, a->name);
        }
    }
    calls_prepare();
}
