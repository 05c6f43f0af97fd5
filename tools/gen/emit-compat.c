/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: the generated part of a libvirt-compatible library
 * (compat-gen-<lib>.c): a definition of every public symbol of the
 * library's .syms file that the hand-written files of compat/ do not
 * define, either a mechanical call of the matching remote procedure
 * (compat-body.c) or a stub failing with VIR_ERR_NO_SUPPORT.
 */
#include "emit-compat.h"

#include "ast.h"
#include "cproto.h"

#include <stdio.h>
#include <string.h>

/* ---- the hand-written files ---- */

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * The public definitions of a hand-written file: a line starting at column 0
 * with the return type and `NAME(` that does not end with ';' (a prototype),
 * and for variables a line at column 0 `TYPE NAME =` or `TYPE NAME;` not
 * starting with extern/static/typedef. Only names of `wanted` count.
 */
static void scan_hand(const char *path, const smap *wanted, smap *found)
{
    size_t n;
    char *s = read_file(path, &n);
    size_t i = 0;
    int line = 0;
    while (i < n) {
        size_t st = i;
        while (i < n && s[i] != '\n')
            i++;
        size_t end = i;
        if (i < n)
            i++;
        line++;
        if (end == st || !word_char(s[st]))
            continue;
        size_t e = end;
        while (e > st && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
            e--;
        char *l = xstrndup(s + st, e - st);
        if (strncmp(l, "static ", 7) == 0 || strncmp(l, "extern ", 7) == 0 ||
            strncmp(l, "typedef ", 8) == 0 || strncmp(l, "struct ", 7) == 0 ||
            strncmp(l, "return ", 7) == 0) {
            xfree(l);
            continue;
        }
        bool proto = e > st && s[e - 1] == ';';
        /* Every identifier followed by '(' (functions) or by ' =' / ';' (variables). */
        for (size_t k = 0; l[k];) {
            if (!word_char(l[k]) || (k > 0 && word_char(l[k - 1]))) {
                k++;
                continue;
            }
            size_t ws = k;
            while (word_char(l[k]))
                k++;
            char *w = xstrndup(l + ws, k - ws);
            if (!smap_get(wanted, w) || ws == 0) {
                xfree(w);
                continue;
            }
            size_t q = k;
            while (l[q] == ' ')
                q++;
            bool is_def = (l[k] == '(' && !proto) || (l[q] == '=' && l[q + 1] != '=') ||
                          (l[q] == ';' && l[q + 1] == '\0');
            if (!is_def) {
                xfree(w);
                break;
            }
            const char *prev = smap_get(found, w);
            if (prev)
                fatal("%s:%d: %s is also defined in %s (each public function is written in "
                      "one file)",
                      path, line, w, prev);
            smap_put(found, w, (void *)xasprintf("%s:%d", path, line));
            break;
        }
        xfree(l);
    }
}

/* ---- types ---- */

static const objkind objkinds[] = {
    {"virConnectPtr", "COMPAT_CONNECT", NULL},
    {"virDomainPtr", "COMPAT_DOMAIN", "domain"},
    {"virNetworkPtr", "COMPAT_NETWORK", "network"},
    {"virNetworkPortPtr", "COMPAT_NETWORK_PORT", "network_port"},
    {"virInterfacePtr", "COMPAT_INTERFACE", "interface"},
    {"virStoragePoolPtr", "COMPAT_STORAGE_POOL", "storage_pool"},
    {"virStorageVolPtr", "COMPAT_STORAGE_VOL", "storage_vol"},
    {"virNodeDevicePtr", "COMPAT_NODE_DEVICE", "node_device"},
    {"virSecretPtr", "COMPAT_SECRET", "secret"},
    {"virNWFilterPtr", "COMPAT_NWFILTER", "nwfilter"},
    {"virNWFilterBindingPtr", "COMPAT_NWFILTER_BINDING", "nwfilter_binding"},
    {"virDomainSnapshotPtr", "COMPAT_DOMAIN_SNAPSHOT", "domain_snapshot"},
    {"virDomainCheckpointPtr", "COMPAT_DOMAIN_CHECKPOINT", "domain_checkpoint"},
    {"virStreamPtr", "COMPAT_STREAM", NULL},
};

const objkind *compat_objkind(const char *ctype)
{
    for (size_t i = 0; i < sizeof(objkinds) / sizeof(objkinds[0]); i++)
        if (strcmp(objkinds[i].ctype, ctype) == 0)
            return &objkinds[i];
    return NULL;
}

/* The value a function returns on failure ("" for void), or NULL if the
 * return type is none the generator knows. */
const char *compat_fail_value(const char *ret)
{
    if (strcmp(ret, "void") == 0)
        return "";
    if (strchr(ret, '*') || cproto_is_pointer_typedef(ret))
        return "NULL";
    if (strncmp(ret, "unsigned ", 9) == 0 || strcmp(ret, "size_t") == 0)
        return "0";
    if (strcmp(ret, "int") == 0 || strcmp(ret, "long") == 0 || strcmp(ret, "long long") == 0 ||
        strcmp(ret, "signed char") == 0 || strcmp(ret, "double") == 0)
        return "-1";
    if (cproto_is_enum_typedef(ret))
        return xasprintf("(%s)-1", ret);
    return NULL;
}

/* `RET NAME(PARAMS)` on one line (the form the hand-written files use too). */
void compat_signature(sbuf *o, const cfunc *f)
{
    size_t rl = strlen(f->ret);
    sb_printf(o, "%s%s%s(", f->ret, rl && f->ret[rl - 1] == '*' ? "" : " ", f->name);
    for (size_t i = 0; i < f->nparams; i++)
        sb_printf(o, "%s%s", i ? ", " : "", f->params[i].decl);
    if (f->varargs)
        sb_puts(o, f->nparams ? ", ..." : "...");
    if (!f->nparams && !f->varargs)
        sb_puts(o, "void");
    sb_puts(o, ")\n");
}

static void emit_stub(sbuf *o, const cfunc *f, const char *fail)
{
    compat_signature(o, f);
    sb_puts(o, "{\n");
    for (size_t i = 0; i < f->nparams; i++)
        sb_printf(o, "    (void)%s;\n", f->params[i].name);
    sb_puts(o, "    compat_reset();\n");
    const objkind *k = f->nparams ? compat_objkind(f->params[0].type) : NULL;
    const char *conn = "NULL";
    if (k) {
        sb_printf(o,
                  "    virConnectPtr vc_conn = compat_obj_conn(%s, %s);\n"
                  "    if (!vc_conn) {\n"
                  "        compat_dispatch(NULL);\n"
                  "        return%s%s;\n"
                  "    }\n",
                  f->params[0].name, k->kind, *fail ? " " : "", fail);
        conn = "vc_conn";
    }
    sb_printf(o,
              "    compat_no_support(__func__);\n"
              "    compat_dispatch(%s);\n",
              conn);
    if (*fail)
        sb_printf(o, "    return %s;\n", fail);
    sb_puts(o, "}\n\n");
}

/* ---- the file ---- */

static const char *const lib_headers[][2] = {
    {"virt", NULL},
    {"virt-qemu", "libvirt/libvirt-qemu.h"},
    {"virt-lxc", "libvirt/libvirt-lxc.h"},
    {"virt-admin", "libvirt/libvirt-admin.h"},
};

void emit_compat(const char *lib, const char *syms_path, const pvec *hand, sbuf *out, sbuf *list)
{
    const char *extra = NULL;
    bool known = false;
    for (size_t i = 0; i < sizeof(lib_headers) / sizeof(lib_headers[0]); i++)
        if (strcmp(lib, lib_headers[i][0]) == 0) {
            known = true;
            extra = lib_headers[i][1];
        }
    if (!known)
        fatal("--compat-lib '%s': expected virt, virt-qemu, virt-lxc or virt-admin", lib);

    pvec syms = {0};
    syms_read(syms_path, &syms);
    smap wanted = {0};
    for (size_t i = 0; i < syms.n; i++) {
        csym *s = syms.v[i];
        if (smap_get(&wanted, s->name))
            fatal("%s: %s is listed twice", syms_path, s->name);
        smap_put(&wanted, s->name, s);
    }
    /* Helpers of compat.h the generated bodies need that may not be written
     * yet: the functions using them are stubs until a hand-written file
     * defines them. */
    static char helper_mark[] = "helper";
    smap_put(&wanted, "compat_params_to_wire", helper_mark);
    smap found = {0};
    for (size_t i = 0; i < hand->n; i++)
        scan_hand(hand->v[i], &wanted, &found);
    compat_have_params_to_wire = smap_get(&found, "compat_params_to_wire") != NULL;

    sbuf body = {0};
    pvec stubbed = {0};
    size_t n_gen = 0, n_hand = 0, n_stub = 0;
    for (size_t i = 0; i < syms.n; i++) {
        csym *s = syms.v[i];
        if (smap_get(&found, s->name)) {
            n_hand++;
            if (list)
                sb_printf(list, "%s %s hand\n", s->node, s->name);
            continue;
        }
        const cvar *v = cproto_var(s->name);
        if (v) {
            /* A public variable nobody wrote: defined, empty. */
            sb_printf(&body, "/* %s: not written yet */\n%s%s%s;\n\n", s->name, v->type,
                      strchr(v->type, '*') ? "" : " ", s->name);
            pv_push(&stubbed, (void *)s->name);
            n_stub++;
            if (list)
                sb_printf(list, "%s %s stub variable\n", s->node, s->name);
            continue;
        }
        const cfunc *f = cproto_func(s->name);
        if (!f)
            fatal("%s: %s (%s) is declared in none of the public headers", syms_path, s->name,
                  s->node);
        const char *fail = compat_fail_value(f->ret);
        if (!fail)
            fatal_at(f->where, "%s returns '%s': no failure value known for it", f->name, f->ret);
        const char *why = NULL;
        size_t mark = body.len;
        sb_printf(&body, "/* %s (%s) */\n", s->name, s->node);
        if (compat_body(&body, f, fail, &why)) {
            n_gen++;
            if (list)
                sb_printf(list, "%s %s generated\n", s->node, s->name);
            continue;
        }
        body.len = mark;
        sb_printf(&body, "/* %s (%s): stub, %s */\n", s->name, s->node, why ? why : "");
        emit_stub(&body, f, fail);
        pv_push(&stubbed, (void *)s->name);
        n_stub++;
        if (list)
            sb_printf(list, "%s %s stub %s\n", s->node, s->name, why ? why : "");
    }

    /* The table of stubs: compat_stubbed in libvirt.so.0 (exported through
     * the private node), compat_<lib>_stubbed (local) in the others. */
    const char *tname = "compat_stubbed";
    if (strcmp(lib, "virt") != 0) {
        char *l = xstrdup(lib + 5);
        for (char *p = l; *p; p++)
            if (*p == '-')
                *p = '_';
        tname = xasprintf("compat_%s_stubbed", l);
    }

    sb_printf(out,
              "/* Generated by virtrpc-gen from %s and libvirt's public headers; do not edit. */\n"
              "/* lib%s.so.0: %zu public symbols: %zu generated, %zu hand-written, %zu stubbed */\n"
              "#include \"compat.h\"\n",
              path_basename(syms_path), lib, syms.n, n_gen, n_hand, n_stub);
    if (extra)
        sb_printf(out, "#include <%s>\n", extra);
    sb_puts(out, "\n#include <stdlib.h>\n#include <string.h>\n\n");
    sb_puts(out, sb_str(&body));
    sb_printf(out,
              "/* The public names of this library not implemented yet: functions failing\n"
              " * with VIR_ERR_NO_SUPPORT, public variables left empty. */\n"
              "extern const char *const %s[];\n"
              "extern const unsigned int %s_count;\n"
              "const char *const %s[] = {\n",
              tname, tname, tname);
    for (size_t i = 0; i < stubbed.n; i++)
        sb_printf(out, "    \"%s\",\n", (const char *)stubbed.v[i]);
    sb_printf(out, "    NULL,\n};\nconst unsigned int %s_count = %zu;\n", tname, stubbed.n);
    fprintf(stderr, "virtrpc-gen: lib%s: %zu generated, %zu hand-written, %zu stubbed\n", lib,
            n_gen, n_hand, n_stub);
}
