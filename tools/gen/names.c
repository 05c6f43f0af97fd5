/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: mapping of .x names to C names, and the tables that make sure
 * no C name is produced twice.
 */
#include "ast.h"

#include <string.h>

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower_or_digit(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "MessageUUIDFoo" -> "message_uuid_foo" */
static char *camel_to_snake(const char *s)
{
    sbuf b = {0};
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_upper(c) && i > 0 && s[i - 1] != '_' &&
            (is_lower_or_digit(s[i - 1]) ||
             (is_upper(s[i - 1]) && i + 1 < n && is_lower_or_digit(s[i + 1]) &&
              !(s[i + 1] >= '0' && s[i + 1] <= '9'))))
            sb_putc(&b, '_');
        sb_putc(&b, is_upper(c) ? (char)(c - 'A' + 'a') : c);
    }
    char *r = xstrdup(sb_str(&b));
    xfree(b.s);
    return r;
}

static bool starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

char *type_cname(const char *xname)
{
    if (starts_with(xname, "remote_") && xname[7])
        return xasprintf("vrpc_%s", str_lower(xname + 7));
    if (starts_with(xname, "virNet") && is_upper(xname[6]))
        return xasprintf("vrpc_net_%s", camel_to_snake(xname + 6));
    return xasprintf("vrpc_%s", str_lower(xname));
}

char *const_cname(const char *xname)
{
    if (starts_with(xname, "REMOTE_") && xname[7])
        return xasprintf("VRPC_%s", xname + 7);
    if (starts_with(xname, "VIR_") && xname[4])
        return xasprintf("VRPC_%s", xname + 4);
    return xasprintf("VRPC_%s", xname);
}

bool is_c_keyword(const char *s)
{
    static const char *const kw[] = {
        "auto",       "break",     "case",           "char",
        "const",      "continue",  "default",        "do",
        "double",     "else",      "enum",           "extern",
        "float",      "for",       "goto",           "if",
        "inline",     "int",       "long",           "register",
        "restrict",   "return",    "short",          "signed",
        "sizeof",     "static",    "struct",         "switch",
        "typedef",    "union",     "unsigned",       "void",
        "volatile",   "while",     "_Alignas",       "_Alignof",
        "_Atomic",    "_Bool",     "_Complex",       "_Generic",
        "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
        "bool",       "true",      "false",          "NULL",
        "offsetof",   "asm",       "typeof",         "alignas",
        "alignof",    "noreturn",  "static_assert",  "thread_local",
        "nullptr",    "constexpr",
    };
    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (strcmp(s, kw[i]) == 0)
            return true;
    return false;
}

/* ---- ordinary C identifiers ---- */

typedef struct cname_entry {
    loc where;
    const char *what;
} cname_entry;

static smap cnames;

static const char *const reserved_idents[] = {
    /* <virtrpc/types.h> and <virtrpc/conn.h> */
    "vrpc_type",
    "vrpc_kind",
    "vrpc_bytes",
    "vrpc_array",
    "vrpc_field",
    "vrpc_enum_value",
    "vrpc_union_arm",
    "vrpc_buf",
    "vrpc_proc",
    "vrpc_program",
    "vrpc_conn",
    "vrpc_pending",
    "vrpc_strerror",
    "vrpc_xdr_encode",
    "vrpc_xdr_decode",
    "vrpc_free",
    "vrpc_set_allocator",
    "vrpc_programs",
    "vrpc_proc_lookup",
    "vrpc_proc_find",
    "vrpc_type_lookup",
    "vrpc_libvirt_version",
    "vrpc_version",
    "vrpc_conn_open",
    "vrpc_conn_open_admin",
    "vrpc_conn_new_fd",
    "vrpc_conn_close",
    "vrpc_conn_get_fd",
    "vrpc_conn_get_uri",
    "vrpc_conn_get_open_name",
    "vrpc_conn_get_socket_path",
    "vrpc_conn_get_status",
    "vrpc_conn_process",
    "vrpc_call_send",
    "vrpc_call_wait",
    "vrpc_call_poll",
    "vrpc_call_discard",
    "vrpc_call",
    "vrpc_pending_serial",
    /* tags of the enums in types.h */
    "vrpc_kind",
};

void cname_register(const char *cname, loc where, const char *what)
{
    for (size_t i = 0; i < sizeof(reserved_idents) / sizeof(reserved_idents[0]); i++)
        if (strcmp(cname, reserved_idents[i]) == 0)
            fatal_at(where,
                     "%s would be named %s, which <virtrpc/types.h> or <virtrpc/conn.h> "
                     "already uses",
                     what, cname);
    cname_entry *e = smap_get(&cnames, cname);
    if (e)
        fatal_at(where, "%s would be named %s, like %s at %s:%d:%d", what, cname, e->what,
                 e->where.file, e->where.line, e->where.col);
    e = xmalloc(sizeof(*e));
    e->where = where;
    e->what = what;
    smap_put(&cnames, xstrdup(cname), e);
}

/* ---- macros ---- */

typedef struct macro_entry {
    xval value;
    loc where;
} macro_entry;

static smap macros;

void names_reset(void)
{
    memset(&cnames, 0, sizeof(cnames));
    memset(&macros, 0, sizeof(macros));
}

bool macro_reserved(const char *name)
{
    static const char *const fixed[] = {
        "VRPC_EXPORT",
        "VRPC_MESSAGE_MAX",
        "VRPC_HEADER_SIZE",
        "VRPC_UNBOUNDED",
        "VRPC_OK",
        "VRPC_STREAM_NONE",
        "VRPC_STREAM_READ",
        "VRPC_STREAM_WRITE",
        "VRPC_OPEN_READONLY",
        "VRPC_OPEN_NO_AUTOSTART",
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(name, fixed[i]) == 0)
            return true;
    /* VRPC_E_* return codes and VRPC_KIND_* kinds */
    return starts_with(name, "VRPC_E_") || starts_with(name, "VRPC_KIND_") ||
           starts_with(name, "VIRTRPC_");
}

bool macro_register(const char *name, xval value, loc where)
{
    if (macro_reserved(name))
        fatal_at(where, "constant would be named %s, which <virtrpc/types.h> reserves", name);
    macro_entry *e = smap_get(&macros, name);
    if (e) {
        if (xv_eq(e->value, value))
            return false;
        fatal_at(where, "%s = %s differs from the value %s given at %s:%d:%d", name, xv_str(value),
                 xv_str(e->value), e->where.file, e->where.line, e->where.col);
    }
    e = xmalloc(sizeof(*e));
    e->value = value;
    e->where = where;
    smap_put(&macros, xstrdup(name), e);
    return true;
}

bool macro_lookup(const char *name, xval *value, loc *where)
{
    macro_entry *e = smap_get(&macros, name);
    if (!e)
        return false;
    *value = e->value;
    *where = e->where;
    return true;
}
