/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: generates virtrpc's protocol layer from libvirt's XDR
 * protocol files and public headers.
 *
 *   virtrpc-gen [--libvirt-version V | --libvirt-meson LIBVIRT/meson.build]
 *               [--headers DIR]... [--out-header F] [--out-source F]
 *               [--out-consts F] [--out-events F] PROGRAM=FILE.x ...
 *   virtrpc-gen --headers DIR --compat-lib LIB --compat-syms FILE.syms
 *               --compat-out F [--compat-list F] [--compat-hand F]... PROGRAM=FILE.x ...
 */
#include "ast.h"
#include "cheaders.h"
#include "cproto.h"
#include "emit-compat.h"
#include "emit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: virtrpc-gen [--libvirt-version V | --libvirt-meson LIBVIRT/meson.build]\n"
          "                   [--headers DIR]... [--out-header F] [--out-source F]\n"
          "                   [--out-consts F] [--out-events F] PROGRAM=FILE.x ...\n"
          "       virtrpc-gen --headers DIR --compat-lib virt|virt-qemu|virt-lxc|virt-admin\n"
          "                   --compat-syms FILE.syms --compat-out F [--compat-list F]\n"
          "                   [--compat-hand F.c]... PROGRAM=FILE.x ...\n",
          f);
}

static bool valid_version(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 64)
        return false;
    for (const char *p = v; *p; p++) {
        char c = *p;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '-' || c == '_' || c == '+' || c == '~'))
            return false;
    }
    return true;
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The `version: '...'` keyword argument of project() in a meson.build file. */
static char *version_from_meson(const char *path)
{
    size_t n;
    char *s = read_file(path, &n);
    size_t i = 0;
    bool in_project = false;
    int depth = 0;
    while (i < n) {
        char c = s[i];
        if (c == '#') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        if (c == '\'') {
            i++;
            while (i < n && s[i] != '\'' && s[i] != '\n') {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                i++;
            }
            i++;
            continue;
        }
        if (ident_char(c) && (i == 0 || !ident_char(s[i - 1]))) {
            size_t st = i;
            while (i < n && ident_char(s[i]))
                i++;
            size_t len = i - st;
            size_t j = i;
            while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
                j++;
            if (!in_project && len == 7 && memcmp(s + st, "project", 7) == 0 && j < n &&
                s[j] == '(') {
                in_project = true;
                depth = 1;
                i = j + 1;
                continue;
            }
            if (in_project && depth == 1 && len == 7 && memcmp(s + st, "version", 7) == 0 &&
                j < n && s[j] == ':') {
                j++;
                while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
                    j++;
                if (j < n && s[j] == '\'') {
                    size_t vs = ++j;
                    while (j < n && s[j] != '\'' && s[j] != '\n')
                        j++;
                    if (j < n && s[j] == '\'') {
                        char *v = xstrndup(s + vs, j - vs);
                        if (!valid_version(v))
                            fatal("%s: project() version '%.64s' is not a plain version", path, v);
                        xfree(s);
                        return v;
                    }
                }
                break;
            }
            continue;
        }
        if (in_project) {
            if (c == '(' || c == '[' || c == '{')
                depth++;
            else if (c == ')' || c == ']' || c == '}') {
                if (--depth == 0)
                    break;
            }
        }
        i++;
    }
    fatal("%s: no \"version: '...'\" in project()", path);
}

static bool valid_program_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z') || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static void write_output(const char *path, sbuf *b)
{
    register_output_file(path);
    FILE *f = fopen(path, "wb");
    if (!f)
        fatal("%s: cannot create: %s", path, strerror(errno));
    size_t len = b->len;
    if (len && fwrite(b->s, 1, len, f) != len) {
        int e = errno;
        fclose(f);
        fatal("%s: write error: %s", path, strerror(e));
    }
    if (fclose(f) != 0)
        fatal("%s: write error: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
    const char *version = NULL, *meson = NULL;
    const char *out_header = NULL, *out_source = NULL, *out_consts = NULL, *out_events = NULL;
    const char *compat_lib = NULL, *compat_syms = NULL, *compat_out = NULL, *compat_list = NULL;
    pvec inputs = {0}, compat_hand = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **target = NULL;
        const char *opt = NULL;
        static const char *const opts[] = {"--libvirt-version", "--libvirt-meson", "--headers",
                                           "--out-header",      "--out-source",    "--out-consts",
                                           "--out-events",      "--compat-lib",    "--compat-syms",
                                           "--compat-out",      "--compat-list",   "--compat-hand"};
        const char **targets[] = {&version,     &meson,      NULL,         &out_header,
                                  &out_source,  &out_consts, &out_events,  &compat_lib,
                                  &compat_syms, &compat_out, &compat_list, NULL};
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        const char *value = NULL;
        bool matched = false;
        for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
            size_t l = strlen(opts[k]);
            if (strncmp(a, opts[k], l) != 0)
                continue;
            if (a[l] == '=') {
                value = a + l + 1;
            } else if (a[l] == '\0') {
                if (i + 1 >= argc)
                    fatal("option %s needs a value", opts[k]);
                value = argv[++i];
            } else {
                continue;
            }
            opt = opts[k];
            target = targets[k];
            matched = true;
            break;
        }
        if (matched) {
            if (!target && strcmp(opt, "--compat-hand") == 0)
                pv_push(&compat_hand, (void *)value);
            else if (!target)
                pv_push(&G.header_dirs, (void *)value);
            else if (*target)
                fatal("option %s given twice", opt);
            else
                *target = value;
            continue;
        }
        if (a[0] == '-') {
            usage(stderr);
            fatal("unknown option '%s'", a);
        }
        pv_push(&inputs, (void *)a);
    }
    if (version && meson)
        fatal("use either --libvirt-version or --libvirt-meson, not both");
    if (inputs.n == 0) {
        usage(stderr);
        fatal("no PROGRAM=FILE.x inputs");
    }
    if (version) {
        if (!valid_version(version))
            fatal("--libvirt-version '%.64s' is not a plain version", version);
        G.libvirt_version = version;
    } else if (meson) {
        G.libvirt_version = version_from_meson(meson);
    } else {
        G.libvirt_version = "unknown";
    }

    bool compat = compat_lib || compat_syms || compat_out || compat_list || compat_hand.n;
    if (compat && !(compat_lib && compat_syms && compat_out))
        fatal("--compat-lib, --compat-syms and --compat-out go together");
    if (compat && (out_header || out_source || out_consts || out_events))
        fatal("--compat-out is written by a run of its own (no --out-* options)");
    if (compat && G.header_dirs.n == 0)
        fatal("--compat-out needs --headers (libvirt's include/libvirt)");

    for (size_t i = 0; i < G.header_dirs.n; i++) {
        headers_scan_dir(G.header_dirs.v[i]);
        if (compat)
            cproto_scan_dir(G.header_dirs.v[i]);
    }

    smap names = {0};
    for (size_t i = 0; i < inputs.n; i++) {
        const char *a = inputs.v[i];
        const char *eq = strchr(a, '=');
        if (!eq || eq == a || !eq[1])
            fatal("'%s': inputs are given as PROGRAM=FILE.x", a);
        program *pg = xmalloc(sizeof(*pg));
        pg->name = xstrndup(a, (size_t)(eq - a));
        pg->file = eq + 1;
        pg->file_base = path_basename(pg->file);
        if (!valid_program_name(pg->name))
            fatal("'%s': a program name is lower case letters, digits and '_'", pg->name);
        if (smap_get(&names, pg->name))
            fatal("program '%s' given twice", pg->name);
        smap_put(&names, pg->name, pg);
        pv_push(&G.programs, pg);
    }
    for (size_t i = 0; i < G.programs.n; i++) {
        program *pg = G.programs.v[i];
        size_t len;
        char *buf = read_file(pg->file, &len);
        parse_file(pg, buf, len);
    }
    sema_run();

    if (compat) {
        sbuf out = {0}, list = {0};
        emit_compat(compat_lib, compat_syms, &compat_hand, &out, compat_list ? &list : NULL);
        write_output(compat_out, &out);
        if (compat_list)
            write_output(compat_list, &list);
        arena_release_all();
        return 0;
    }

    sbuf header = {0}, source = {0}, consts = {0}, events = {0};
    emit_header(&header);
    emit_source(&source);
    emit_consts(&consts);
    if (out_events)
        emit_events(&events);
    if (out_header)
        write_output(out_header, &header);
    if (out_source)
        write_output(out_source, &source);
    if (out_consts)
        write_output(out_consts, &consts);
    if (out_events)
        write_output(out_events, &events);
    arena_release_all();
    return 0;
}
