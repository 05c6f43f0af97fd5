/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: the function prototypes, variables and structs of libvirt's
 * public C headers, and the version nodes of its .syms files (the input of
 * the libvirt-compatible libraries, emit-compat.c).
 *
 * The reader understands the declarations the headers are written with:
 * `RET NAME(PARAMS);`, `typedef struct _X X;`, `typedef X *XPtr;`,
 * `struct _X { fields };`, `typedef enum {...} X;` and `VIR_EXPORT_VAR T
 * NAME;`. Anything else at file level (function pointer typedefs, macros)
 * is skipped. A prototype it cannot read is an error naming the place.
 */
#ifndef VRPCGEN_CPROTO_H
#define VRPCGEN_CPROTO_H

#include "util.h"

/* One parameter of a prototype. */
typedef struct cparam {
    const char *type; /* the type without the name ("const char *", "char **const") */
    const char *name; /* as written, or "argN" when the header names none */
    const char *decl; /* the whole declaration with the name (for definitions) */
    bool fnptr;       /* a function pointer written out in the list */
} cparam;

typedef struct cfunc {
    const char *name;
    const char *ret; /* the return type ("int", "virDomainPtr", "char *") */
    cparam *params;
    size_t nparams;
    bool varargs;
    loc where;
} cfunc;

/* A field of a public struct; nested unions/structs have type "" */
typedef struct cfield {
    const char *type;
    const char *name;
    const char *dim; /* array dimension as written, or NULL */
} cfield;

typedef struct cstruct {
    const char *tag; /* _virDomainInfo */
    cfield *fields;
    size_t nfields;
    loc where;
} cstruct;

/* A public variable (VIR_EXPORT_VAR). */
typedef struct cvar {
    const char *name;
    const char *type;
    loc where;
} cvar;

/* Read every *.h and *.h.in of a directory (in name order). */
void cproto_scan_dir(const char *dir);

const cfunc *cproto_func(const char *name);
const cvar *cproto_var(const char *name);
/* The struct a type name stands for: "virDomainInfoPtr", "virDomainInfo"
 * or "struct _virDomainInfo" (through the typedefs); *pointer says whether
 * the name is a pointer to it. NULL if none. */
const cstruct *cproto_struct_of(const char *type, bool *pointer);
/* Is the type name a typedef of a pointer ("virDomainPtr")? */
bool cproto_is_pointer_typedef(const char *type);
/* Is the type name a typedef of an enum? */
bool cproto_is_enum_typedef(const char *type);
size_t cproto_func_count(void);

/* ---- .syms files ---- */

typedef struct csym {
    const char *name;
    const char *node;
} csym;

/* The global symbols of a version script, in file order. Exits with a
 * message naming the place on anything it cannot read. */
void syms_read(const char *path, pvec *out /* csym * */);

#endif
