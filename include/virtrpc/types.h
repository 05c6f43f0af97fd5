/* SPDX-License-Identifier: MIT */
/*
 * virtrpc: type descriptors and the XDR codec.
 *
 * Every XDR type of libvirt's protocol files is described at build time by a
 * constant `vrpc_type` descriptor emitted by virtrpc-gen. One codec walks the
 * descriptors to encode a C value into XDR bytes and to decode XDR bytes into
 * a C value. The same descriptors drive reflection (the JSON bridge of the
 * `virtrpc` tool, fuzzing every decoder, language bindings).
 *
 * C representation of each XDR construct (what the generated headers declare):
 *
 *   int / unsigned int / bare unsigned   int32_t / uint32_t
 *   hyper / unsigned hyper               int64_t / uint64_t
 *   char / unsigned char                 char / uint8_t        (4 bytes on the wire)
 *   short / unsigned short               int16_t / uint16_t    (4 bytes on the wire)
 *   bool                                 bool                  (4 bytes on the wire)
 *   float / double                       float / double
 *   enum                                 int32_t (typedef), values as VRPC_ constants
 *   string<N>                            const char *          (NUL-terminated)
 *   optional string (T *x, T a string)   const char *          (NULL when absent)
 *   opaque x[N]                          uint8_t x[N]
 *   opaque x<N>                          vrpc_bytes            { uint32_t len; uint8_t *data; }
 *   T x[N]                               T x[N]
 *   T x<N>                               struct { uint32_t n; T *items; } x;
 *   T *x (optional)                      T *x                  (NULL when absent)
 *   struct                               struct
 *   union switch (D d)                   struct { D d; union { arms } u; }
 *
 * Memory: a decoded value is ONE allocation (the value itself followed by
 * everything it points to). Release it with vrpc_free(). Nothing inside it
 * may be freed separately.
 */
#ifndef VIRTRPC_TYPES_H
#define VIRTRPC_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VIRTRPC_BUILDING) && defined(__GNUC__)
#define VRPC_EXPORT __attribute__((visibility("default")))
#else
#define VRPC_EXPORT
#endif

/* Largest message (header + payload, without the length word): 32 MiB. */
#define VRPC_MESSAGE_MAX 33554432u
/* Size of the message header. */
#define VRPC_HEADER_SIZE 24u
/* Bound value meaning "no bound" (`string<>`, `T x<>`). */
#define VRPC_UNBOUNDED 0xffffffffu

/* Return codes. Every function that can fail returns 0 or one of these. */
enum {
    VRPC_OK = 0,
    VRPC_E_NOMEM = -1,       /* an allocation failed */
    VRPC_E_INVALID = -2,     /* bad argument from the caller (NULL string, bad value...) */
    VRPC_E_IO = -3,          /* a system call on the connection failed */
    VRPC_E_PROTO = -4,       /* the peer sent bytes that break the protocol */
    VRPC_E_REMOTE = -5,      /* the daemon answered with an error (see the vrpc_error) */
    VRPC_E_CLOSED = -6,      /* the connection is closed */
    VRPC_E_AGAIN = -7,       /* not ready yet (non-blocking calls) */
    VRPC_E_TOO_BIG = -8,     /* a value exceeds its <N> bound or the message cap */
    VRPC_E_UNSUPPORTED = -9, /* the operation is not supported (by us or the peer) */
    VRPC_E_TIMEOUT = -10,    /* a deadline passed */
    VRPC_E_AUTH = -11,       /* authentication failed or is not possible */
    VRPC_E_URI = -12,        /* the URI is invalid */
    VRPC_E_NOT_FOUND = -13,  /* no such procedure, type, file or socket */
    VRPC_E_CONNECT = -14,    /* could not connect */
};

/*
 * TIME. Every duration and deadline of the API is a uint64_t in microseconds
 * (as sd-bus): durations (timeouts, intervals) are relative, deadlines
 * (vrpc_conn_get_timeout) absolute on CLOCK_MONOTONIC (vrpc_now_usec()).
 * VRPC_USEC_INFINITY means "no limit" / "no deadline".
 */
#define VRPC_USEC_INFINITY UINT64_MAX
#define VRPC_USEC_PER_MSEC UINT64_C(1000)
#define VRPC_USEC_PER_SEC UINT64_C(1000000)

/* A human-readable, static description of a return code. */
VRPC_EXPORT const char *vrpc_strerror(int code);

typedef enum vrpc_kind {
    VRPC_KIND_VOID = 0,
    VRPC_KIND_INT,          /* int32_t */
    VRPC_KIND_UINT,         /* uint32_t */
    VRPC_KIND_HYPER,        /* int64_t */
    VRPC_KIND_UHYPER,       /* uint64_t */
    VRPC_KIND_CHAR,         /* char */
    VRPC_KIND_UCHAR,        /* uint8_t */
    VRPC_KIND_SHORT,        /* int16_t */
    VRPC_KIND_USHORT,       /* uint16_t */
    VRPC_KIND_BOOL,         /* bool */
    VRPC_KIND_FLOAT,        /* float */
    VRPC_KIND_DOUBLE,       /* double */
    VRPC_KIND_ENUM,         /* int32_t, any value; `values` lists the .x file's */
    VRPC_KIND_STRING,       /* char *, bound = max length */
    VRPC_KIND_OPT_STRING,   /* char *, NULL = absent; bound = max length */
    VRPC_KIND_OPAQUE_FIXED, /* uint8_t[bound] */
    VRPC_KIND_OPAQUE_VAR,   /* vrpc_bytes, bound = max length */
    VRPC_KIND_ARRAY_FIXED,  /* elem[bound] */
    VRPC_KIND_ARRAY_VAR,    /* vrpc_array layout, bound = max count */
    VRPC_KIND_OPTIONAL,     /* elem *, NULL = absent */
    VRPC_KIND_STRUCT,       /* fields[0..nfields) */
    VRPC_KIND_UNION,        /* fields[0] = discriminant; arms[0..narms) */
} vrpc_kind;

typedef struct vrpc_type vrpc_type;

/* opaque x<N> */
typedef struct vrpc_bytes {
    uint32_t len;
    uint8_t *data;
} vrpc_bytes;

/* The layout shared by every `struct { uint32_t n; T *items; }` member. */
typedef struct vrpc_array {
    uint32_t n;
    void *items;
} vrpc_array;

typedef struct vrpc_field {
    const char *name;      /* member name as in the .x file */
    const vrpc_type *type; /* its type */
    uint32_t offset;       /* offsetof() the member in the enclosing C struct */
} vrpc_field;

typedef struct vrpc_enum_value {
    const char *name; /* e.g. "REMOTE_AUTH_NONE" (the .x name) */
    int32_t value;
} vrpc_enum_value;

typedef struct vrpc_union_arm {
    int64_t value;         /* case label value (unused for the default arm) */
    const char *name;      /* member name; NULL for a void arm */
    const vrpc_type *type; /* member type; NULL for a void arm */
    uint32_t offset;       /* offsetof() the member from the start of the union's C struct */
} vrpc_union_arm;

/*
 * DESCRIPTORS (vrpc_type, vrpc_field, vrpc_union_arm, vrpc_enum_value,
 * vrpc_proc, vrpc_program) are owned by the library and reached through
 * pointers only: vrpc_programs(), vrpc_proc_lookup(), vrpc_proc_find(),
 * vrpc_type_lookup(), and the names of <virtrpc/protocol.h> (vrpc_pd_NAME,
 * vrpc_td_NAME stand for what those functions return; no descriptor is an
 * exported symbol). Read their members, never create or change them. A
 * vrpc_type may gain members at the end; the others come in arrays
 * (programs, procedures, fields, arms, values), so their size is part of the
 * ABI, and vrpc_proc and vrpc_program keep reserved room for growth. Members
 * marked INTERNAL belong to the library and may change in any release.
 */
struct vrpc_type {
    const char *name;      /* XDR name ("remote_domain_get_info_args"), NULL when anonymous */
    uint8_t kind;          /* vrpc_kind */
    uint32_t size;         /* sizeof() the C representation */
    uint32_t bound;        /* STRING/OPT_STRING/OPAQUE_VAR/ARRAY_VAR: max length (VRPC_UNBOUNDED
                              for none); OPAQUE_FIXED/ARRAY_FIXED: the fixed count */
    const vrpc_type *elem; /* ARRAY_FIXED, ARRAY_VAR, OPTIONAL */
    uint32_t nfields;      /* STRUCT: members; UNION: 1 (the discriminant) */
    const vrpc_field *fields;
    uint32_t narms; /* UNION: case arms */
    const vrpc_union_arm *arms;
    const vrpc_union_arm *default_arm; /* UNION: NULL when the union has no default */
    uint32_t nvalues;                  /* ENUM */
    const vrpc_enum_value *values;
    /* INTERNAL (not part of the API): */
    uint32_t min_wire; /* smallest possible encoding in bytes (bounds allocations) */
};

/* A growable output buffer. Zero-initialise; release data with vrpc_free(). */
typedef struct vrpc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} vrpc_buf;

/*
 * Append the XDR encoding of `value` (a C value of type `t`) to `out`.
 * Checks every <N> bound and the message cap. On error `out->len` is left as
 * it was. Returns 0, VRPC_E_NOMEM, VRPC_E_INVALID (NULL non-optional string,
 * enum value not in the enum, union discriminant with no arm) or VRPC_E_TOO_BIG.
 */
VRPC_EXPORT int vrpc_xdr_encode(const vrpc_type *t, const void *value, vrpc_buf *out);

/*
 * Decode exactly `len` bytes of XDR into a new C value of type `t`.
 * On success *out points to one allocation to release with vrpc_free().
 * Never reads outside data[0..len), checks every bound before allocating,
 * rejects trailing bytes, strings with an embedded NUL, enum values outside
 * the enum and union discriminants without an arm.
 * Returns 0, VRPC_E_PROTO (malformed input), VRPC_E_TOO_BIG or VRPC_E_NOMEM.
 * For a VOID type *out is set to NULL and len must be 0.
 */
VRPC_EXPORT int vrpc_xdr_decode(const vrpc_type *t, const uint8_t *data, size_t len, void **out);

/* Release a value returned by the library (decoded replies, errors, buffers). NULL-safe. */
VRPC_EXPORT void vrpc_free(void *p);

/*
 * The allocator used for everything the library allocates (and so for what
 * vrpc_free() releases). Each function gets `opaque` as its last argument.
 * alloc_fn(size, opaque) and realloc_fn(ptr, size, opaque) return NULL on
 * failure (realloc_fn then leaves ptr alone); size is never 0; free_fn is
 * never given NULL. Zero-initialise the struct (the reserved members must be
 * NULL: a later release gives them a meaning, with NULL as today's behaviour).
 */
typedef struct vrpc_allocator {
    void *(*alloc_fn)(size_t size, void *opaque);
    void *(*realloc_fn)(void *ptr, size_t size, void *opaque);
    void (*free_fn)(void *ptr, void *opaque);
    void *opaque;
    void *reserved1;
    void *reserved2;
} vrpc_allocator;

/*
 * Install an allocator (copied; `a` need not outlive the call), or the C
 * library's with a == NULL (or any of the three functions NULL). Install it
 * before the library allocates anything, and before other threads use it:
 * memory allocated with one allocator must be freed with the same one.
 */
VRPC_EXPORT void vrpc_set_allocator(const vrpc_allocator *a);

/* Write a UUID in its canonical text form (8-4-4-4-12 lower-case hex) into
 * out, which must hold 37 bytes (VRPC_UUID_STRING_BUFLEN) including the NUL. */
VRPC_EXPORT void vrpc_uuid_format(const uint8_t uuid[16], char *out);
/* Parse the canonical text form (either case). Returns 0 or VRPC_E_INVALID;
 * uuid is untouched on error. */
VRPC_EXPORT int vrpc_uuid_parse(const char *s, uint8_t uuid[16]);

/* ---- Procedure tables (filled by the generated code) ---- */

enum {
    VRPC_STREAM_NONE = 0,
    VRPC_STREAM_READ = 1,  /* @readstream: data flows daemon -> client */
    VRPC_STREAM_WRITE = 2, /* @writestream: data flows client -> daemon */
};

typedef struct vrpc_proc {
    const char *name;        /* short name: "domain_get_info", "qemu_domain_monitor_command" */
    const char *xdr_name;    /* "REMOTE_PROC_DOMAIN_GET_INFO" */
    uint32_t program;        /* program number */
    uint32_t version;        /* program version */
    int32_t number;          /* procedure number */
    uint8_t priority;        /* 0 low, 1 high (@priority) */
    uint8_t stream;          /* VRPC_STREAM_* */
    int8_t stream_param;     /* @readstream/@writestream value, -1 if none */
    const char *sparse_flag; /* @sparseflag macro name, or NULL */
    const vrpc_type *args;   /* NULL: void */
    const vrpc_type *ret;    /* NULL: void */
    const vrpc_type *msg;    /* event payload (`_msg`) or NULL */
    /* INTERNAL (not part of the API: libvirt's annotations for its own
     * generators, kept for the tests): */
    uint8_t generate;      /* @generate: 0 none, 1 client, 2 server, 3 both */
    const char *acl;       /* @acl annotations joined by ',' or NULL */
    const void *reserved1; /* NULL; room for later members */
    const void *reserved2;
} vrpc_proc;

typedef struct vrpc_program {
    const char *name; /* "remote", "qemu", "lxc", "admin", "keepalive" */
    uint32_t number;
    uint32_t version;
    size_t nprocs;
    const vrpc_proc *procs; /* sorted by number */
    const void *reserved1;  /* NULL; room for later members */
    const void *reserved2;
} vrpc_program;

/* All programs known to this build (remote, qemu, lxc, admin, keepalive). */
VRPC_EXPORT const vrpc_program *vrpc_programs(size_t *count);

/*
 * Find a procedure by name: the short name ("domain_get_info",
 * "qemu_domain_monitor_command", "admin_connect_open") or the .x name
 * ("REMOTE_PROC_DOMAIN_GET_INFO"), case-insensitively. NULL if unknown.
 */
VRPC_EXPORT const vrpc_proc *vrpc_proc_lookup(const char *name);
/* Find a procedure by program and number. NULL if unknown. */
VRPC_EXPORT const vrpc_proc *vrpc_proc_find(uint32_t program, int32_t number);
/* Find a type descriptor by its .x name. NULL if unknown. */
VRPC_EXPORT const vrpc_type *vrpc_type_lookup(const char *xdr_name);

/* The libvirt release whose protocol files this build was generated from ("9.0.0"). */
VRPC_EXPORT const char *vrpc_libvirt_version(void);
/* The version of virtrpc itself. */
VRPC_EXPORT const char *vrpc_version(void);

#ifdef __cplusplus
}
#endif
#endif
