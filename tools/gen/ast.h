/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: the parsed protocol (definitions, declarations, procedures)
 * and the descriptors computed from it.
 */
#ifndef VRPCGEN_AST_H
#define VRPCGEN_AST_H

#include "expr.h"
#include "lexer.h"
#include "util.h"

/* Mirrors vrpc_kind of <virtrpc/types.h>. */
typedef enum vkind {
    VK_VOID = 0,
    VK_INT,
    VK_UINT,
    VK_HYPER,
    VK_UHYPER,
    VK_CHAR,
    VK_UCHAR,
    VK_SHORT,
    VK_USHORT,
    VK_BOOL,
    VK_FLOAT,
    VK_DOUBLE,
    VK_ENUM,
    VK_STRING,
    VK_OPT_STRING,
    VK_OPAQUE_FIXED,
    VK_OPAQUE_VAR,
    VK_ARRAY_FIXED,
    VK_ARRAY_VAR,
    VK_OPTIONAL,
    VK_STRUCT,
    VK_UNION,
    VK_COUNT
} vkind;

/* The type named in a declaration. */
typedef enum base_kind {
    BK_VOID = 0,
    BK_INT,
    BK_UINT,
    BK_HYPER,
    BK_UHYPER,
    BK_CHAR,
    BK_UCHAR,
    BK_SHORT,
    BK_USHORT,
    BK_BOOL,
    BK_FLOAT,
    BK_DOUBLE,
    BK_OPAQUE,
    BK_STRING,
    BK_NAMED,
} base_kind;

typedef enum decl_form {
    DF_VOID = 0,
    DF_PLAIN, /* T x */
    DF_FIXED, /* T x[N] */
    DF_VAR,   /* T x<N>, T x<> */
    DF_OPT,   /* T *x */
} decl_form;

/* "struct X" / "union X" / "enum X" written as a type reference. */
typedef enum type_tag {
    TAG_NONE = 0,
    TAG_STRUCT,
    TAG_UNION,
    TAG_ENUM,
} type_tag;

struct ntype;
struct tdesc;

typedef struct decl {
    loc where;      /* start of the declaration */
    loc name_where; /* the declared name */
    decl_form form;
    base_kind base;
    const char *type_name; /* BK_NAMED */
    type_tag tag;
    const char *name;      /* NULL for void */
    uint32_t bound;        /* DF_FIXED count, DF_VAR max (VRPC_UNBOUNDED for <>) */
    const char *bound_src; /* bound as written ("" for <>) */
    struct ntype *ref;     /* resolved BK_NAMED */
    struct tdesc *desc;    /* descriptor of the declared member/type */
} decl;

typedef struct enum_member {
    const char *name;
    loc where;
    int32_t value;
    const doc_comment *doc;
} enum_member;

typedef struct case_label {
    loc where;
    xval value;
    const char *src;
} case_label;

typedef struct union_arm {
    case_label *labels;
    size_t nlabels;
    decl d;
} union_arm;

typedef enum nt_kind {
    NT_ENUM,
    NT_STRUCT,
    NT_UNION,
    NT_TYPEDEF,
} nt_kind;

typedef struct ntype {
    nt_kind kind;
    const char *xname;  /* name in the .x file */
    const char *cname;  /* vrpc_foo */
    const char *suffix; /* foo: vrpc_td_foo, xf_foo... */
    loc where;
    const char *file_base; /* basename of the defining file */
    size_t index;          /* definition order */

    enum_member *members; /* NT_ENUM */
    size_t nmembers;

    decl *fields; /* NT_STRUCT */
    size_t nfields;

    decl disc; /* NT_UNION */
    union_arm *arms;
    size_t narms;
    bool has_default;
    decl def;
    loc def_where;

    decl td; /* NT_TYPEDEF */

    /* semantic state */
    struct tdesc *ref_desc; /* descriptor "vrpc_td_<suffix>" used by references */
    struct tdesc *shape;    /* what the descriptor holds (typedef: its target's) */
    int shape_state;
    uint32_t min_wire;
    uint64_t size_est;
    int wire_state;
    int decl_state;
    int complete_state;
} ntype;

typedef enum td_origin {
    TO_SCALAR,
    TO_ANON,
    TO_NAMED,
    TO_LAYOUT, /* struct/union/enum contents of an ntype */
} td_origin;

/* A descriptor: a vrpc_type object of the generated code. */
typedef struct tdesc {
    td_origin origin;
    vkind kind;
    uint32_t bound;
    struct tdesc *elem; /* ARRAY_FIXED, ARRAY_VAR, OPTIONAL */
    ntype *named;       /* TO_NAMED: the named type; TO_LAYOUT: the struct/union/enum */
    const char *ident;  /* C identifier of the descriptor object */
    const char *ctype;  /* C type of one value (for sizeof and element types) */
    bool used;          /* referenced by the generated code (static descriptors only) */
} tdesc;

typedef struct xconst {
    const char *name;
    const char *cname;
    loc where;
    xval value;
    int hex_digits;
    bool is_enum_member;
    const char *file_base;
} xconst;

struct program;

typedef struct proc {
    const char *xname;      /* REMOTE_PROC_FOO */
    const char *short_name; /* foo */
    int32_t number;
    loc where;
    int priority;
    int stream; /* 0 none, 1 read, 2 write */
    int stream_param;
    int generate;
    const char *sparse_flag;
    const char *acl;
    ntype *args;
    ntype *ret;
    ntype *msg;
    struct program *prog;
} proc;

typedef struct program {
    const char *name; /* as given on the command line: "remote" */
    const char *file; /* path as given */
    const char *file_base;
    bool has_procs;
    uint32_t number;
    uint32_t version;
    ntype *proc_enum;
    proc **procs; /* sorted by number */
    size_t nprocs;
} program;

/* Everything the generator knows. */
typedef struct gen_ctx {
    pvec programs; /* program * in command-line order */
    pvec types;    /* ntype * in definition order */
    smap type_map; /* xname -> ntype */
    pvec consts;   /* xconst * (const definitions and enum members) in order */
    smap const_map;
    const char *libvirt_version;
    pvec header_dirs;
} gen_ctx;

extern gen_ctx G;

/* parser.c */
void parse_file(program *prog, const char *buf, size_t len);

/* sema.c */
void sema_run(void);
pvec *sema_emit_order(void);
uint32_t tdesc_min_wire(tdesc *d);
const char *vkind_name(vkind k);
tdesc *scalar_desc(base_kind b);
pvec *sema_anon_descs(void);
pvec *sema_scalar_descs(void);

/* names.c */
char *type_cname(const char *xname);
char *const_cname(const char *xname);
bool is_c_keyword(const char *s);
/* Register a C identifier (ordinary name space); exits on a clash. */
void cname_register(const char *cname, loc where, const char *what);
/* Register a macro name with its value; returns false if it already exists
 * with the same value (emit once), exits if the value differs. */
bool macro_register(const char *name, xval value, loc where);
/* Look a macro up: returns true and its value if registered. */
bool macro_lookup(const char *name, xval *value, loc *where);
bool macro_reserved(const char *name);
/* Forget every registered name (gen_reset). */
void names_reset(void);

#endif
