/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: the generated part of a libvirt-compatible library
 * (--compat-out; docs/generated-api.md).
 */
#ifndef VRPCGEN_EMIT_COMPAT_H
#define VRPCGEN_EMIT_COMPAT_H

#include "cproto.h"
#include "util.h"

/*
 * Writes to `out` a definition of every global symbol of `syms_path` that
 * none of the files of `hand` (char *) defines, for the library `lib`
 * (virt, virt-qemu, virt-lxc, virt-admin); to `list` (may be NULL) one line
 * per symbol: "NODE NAME generated|hand|stub [reason]". Needs the headers
 * read (cproto_scan_dir) and the .x files analysed (sema_run).
 */
void emit_compat(const char *lib, const char *syms_path, const pvec *hand, sbuf *out, sbuf *list);

/* emit-compat.c helpers shared with compat-body.c */
typedef struct objkind {
    const char *ctype;  /* virDomainPtr */
    const char *kind;   /* COMPAT_DOMAIN */
    const char *helper; /* domain: compat_domain_to/_from, vrpc_nonnull_domain */
} objkind;
const objkind *compat_objkind(const char *ctype);
const char *compat_fail_value(const char *ret);
void compat_signature(sbuf *o, const cfunc *f);

/*
 * compat-body.c: the mechanical body of f (signature included) when a
 * procedure matches it by name and every parameter and reply member maps
 * by the rules of docs/generated-api.md; else false and *why says what did
 * not match (nothing is written then).
 */
extern bool compat_have_params_to_wire;
bool compat_body(sbuf *o, const cfunc *f, const char *fail, const char **why);

#endif
