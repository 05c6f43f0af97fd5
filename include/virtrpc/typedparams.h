/* SPDX-License-Identifier: MIT */
/*
 * virtrpc: typed parameters — reading them from replies, building them for
 * calls, and showing their values.
 *
 * Many procedures carry libvirt's typed parameters, an array of
 * (name, typed value) pairs: `struct { uint32_t n; vrpc_typed_param *items; }
 * params` in the generated argument and reply structs of <virtrpc/protocol.h>
 * (domain_get_scheduler_parameters, domain_get_memory_parameters,
 * domain_set_*_parameters, domain_get_block_io_tune, domain_migrate_*3_params,
 * connect_get_all_domain_stats, events...). A vrpc_typed_param is
 *
 *     { char *field; struct { int32_t type; union { i, ui, l, ul, d, b, s } u; } value; }
 *
 * with `type` one of VRPC_TYPED_PARAM_INT (u.i, int32_t), _UINT (u.ui,
 * uint32_t), _LLONG (u.l, int64_t), _ULLONG (u.ul, uint64_t), _DOUBLE (u.d),
 * _BOOLEAN (u.b, 0 or 1) and _STRING (u.s, a NUL-terminated string). These
 * functions spare every program the same switch over `type`.
 *
 * READING works on any array, e.g. a reply's `r->params.items, r->params.n`
 * (VRPC_TYPED_PARAMS_OF(r->params) expands to both). The typed getters
 * return 0 and the value; VRPC_E_NOT_FOUND when no parameter has the name;
 * VRPC_E_INVALID when it has another type (no conversion is made: a
 * VRPC_TYPED_PARAM_UINT is not read by _get_ullong, as in libvirt). The
 * first parameter of a name counts; vrpc_typed_params_next() walks them all.
 * Strings returned point into the array: they live as long as it does.
 *
 * BUILDING: a vrpc_typed_params builder owns an array and every name and
 * string in it (copies of what the caller passed, made with the library's
 * allocator, see vrpc_set_allocator()). Its rules are the daemon's:
 *  - a name is 1 to VRPC_TYPED_PARAM_FIELD_LENGTH - 1 (79) bytes
 *    (VRPC_E_TOO_BIG beyond, as libvirt refuses longer field names);
 *  - a name is added once (VRPC_E_INVALID for a second value: libvirt's
 *    drivers refuse parameters that occur more than once), except by
 *    vrpc_typed_params_add_string_list(), for the few parameters that take
 *    several values (e.g. VRPC_MIGRATE_PARAM_MIGRATE_DISKS);
 *  - a string is at most VRPC_STRING_MAX bytes, the whole array at most
 *    VRPC_TYPED_PARAMS_MAX parameters and VRPC_NET_MESSAGE_PAYLOAD_MAX
 *    bytes on the wire (VRPC_E_TOO_BIG). Each procedure has its own, usually
 *    much smaller, bound (e.g. VRPC_DOMAIN_SCHEDULER_PARAMETERS_MAX): the
 *    call refuses a longer array with VRPC_E_TOO_BIG before sending.
 * A failed add leaves the builder as it was. Hand the array to a call with
 * VRPC_TYPED_PARAMS_SET(args.params, b): the call only reads it; keep the
 * builder until the call has returned, then vrpc_typed_params_free(b).
 *
 *     vrpc_typed_params *b = NULL;
 *     vrpc_domain_set_scheduler_parameters_flags_args a = {.dom = dom, .flags = 0};
 *     if (vrpc_typed_params_new(&b) == 0 &&
 *         vrpc_typed_params_add_uint(b, "weight", 100, &err) == 0) {
 *         VRPC_TYPED_PARAMS_SET(a.params, b);
 *         rc = vrpc_domain_set_scheduler_parameters_flags(c, &a, &err);
 *     }
 *     vrpc_typed_params_free(b);
 *
 * ERRORS: functions that take `vrpc_error **err` fill it on failure (code
 * VRPC_ERR_INVALID_ARG or VRPC_ERR_NO_MEMORY, a message naming the
 * parameter); release it with vrpc_free(). err may be NULL.
 *
 * THREADS: a builder is used by one thread at a time; the readers only read.
 */
#ifndef VIRTRPC_TYPEDPARAMS_H
#define VIRTRPC_TYPEDPARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtrpc/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most parameters a builder holds: 16 times the largest bound of a
 * typed-parameter array in the arguments of any procedure of libvirt 9.0
 * (64, e.g. REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX), room for newer ones.
 * Builders are for arguments; replies are read, never built. */
#define VRPC_TYPED_PARAMS_MAX 1024u

/* `arr.items, arr.n` of a generated typed-parameter array, for the readers:
 * vrpc_typed_params_get_uint(VRPC_TYPED_PARAMS_OF(r->params), "weight", &w, &err). */
#define VRPC_TYPED_PARAMS_OF(arr) (arr).items, (arr).n

/* Point a generated typed-parameter array (e.g. args.params) at a builder's
 * array (b is evaluated twice). */
#define VRPC_TYPED_PARAMS_SET(arr, b)                                                              \
    ((arr).n = vrpc_typed_params_count(b), (arr).items = vrpc_typed_params_items(b))

/* ---- reading ---- */

/* The first parameter called name, or NULL (also for a NULL name or array). */
VRPC_EXPORT const vrpc_typed_param *vrpc_typed_params_find(const vrpc_typed_param *params, size_t n,
                                                           const char *name);

/*
 * The value of the first parameter called name, which must have the type
 * the function names. Returns 0, VRPC_E_NOT_FOUND (no such parameter),
 * VRPC_E_INVALID (another type; NULL name or value). *value is untouched on
 * failure.
 */
VRPC_EXPORT int vrpc_typed_params_get_int(const vrpc_typed_param *params, size_t n,
                                          const char *name, int32_t *value, vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_get_uint(const vrpc_typed_param *params, size_t n,
                                           const char *name, uint32_t *value, vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_get_llong(const vrpc_typed_param *params, size_t n,
                                            const char *name, int64_t *value, vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_get_ullong(const vrpc_typed_param *params, size_t n,
                                             const char *name, uint64_t *value, vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_get_double(const vrpc_typed_param *params, size_t n,
                                             const char *name, double *value, vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_get_boolean(const vrpc_typed_param *params, size_t n,
                                              const char *name, bool *value, vrpc_error **err);
/* *value points into the array (NULL never: a string parameter always has one). */
VRPC_EXPORT int vrpc_typed_params_get_string(const vrpc_typed_param *params, size_t n,
                                             const char *name, const char **value,
                                             vrpc_error **err);

/*
 * Iterate: start with *pos = 0 and call until it returns NULL. With name
 * NULL every parameter comes in array order; otherwise only those called
 * name (a parameter with several values, e.g. a string list).
 *
 *     size_t pos = 0;
 *     const vrpc_typed_param *p;
 *     while ((p = vrpc_typed_params_next(VRPC_TYPED_PARAMS_OF(r->params), NULL, &pos)))
 *         ...
 */
VRPC_EXPORT const vrpc_typed_param *vrpc_typed_params_next(const vrpc_typed_param *params, size_t n,
                                                           const char *name, size_t *pos);

/* "int", "uint", "llong", "ullong", "double", "boolean", "string"; NULL for
 * any other value. */
VRPC_EXPORT const char *vrpc_typed_param_type_name(int type);

/*
 * The value as text, the way virsh shows it: integers in decimal, doubles
 * with "%g", booleans "yes"/"no", strings as they are. Like snprintf():
 * writes at most size bytes (NUL included; buf may be NULL when size is 0)
 * and returns the length of the whole text without the NUL, so a return
 * value >= size means it was cut. Returns VRPC_E_INVALID for a NULL
 * parameter or an unknown type, VRPC_E_TOO_BIG for a string over INT_MAX.
 */
VRPC_EXPORT int vrpc_typed_param_format(const vrpc_typed_param *p, char *buf, size_t size);

/* The same text in a new string (*out, release with vrpc_free()). */
VRPC_EXPORT int vrpc_typed_param_to_string(const vrpc_typed_param *p, char **out, vrpc_error **err);

/* ---- building ---- */

typedef struct vrpc_typed_params vrpc_typed_params;

/* A new, empty builder. Returns 0, VRPC_E_INVALID (out NULL) or VRPC_E_NOMEM. */
VRPC_EXPORT int vrpc_typed_params_new(vrpc_typed_params **out);

/* Free the builder, its array and every name and string in it. NULL-safe. */
VRPC_EXPORT void vrpc_typed_params_free(vrpc_typed_params *b);

/* Remove every parameter (the builder can be filled again). NULL-safe. */
VRPC_EXPORT void vrpc_typed_params_clear(vrpc_typed_params *b);

/*
 * Append a parameter (name and string are copied). Returns 0,
 * VRPC_E_INVALID (NULL builder, empty or NULL name, NULL string, a name
 * already present), VRPC_E_TOO_BIG (name of VRPC_TYPED_PARAM_FIELD_LENGTH
 * bytes or more, string over VRPC_STRING_MAX, the builder full) or
 * VRPC_E_NOMEM.
 */
VRPC_EXPORT int vrpc_typed_params_add_int(vrpc_typed_params *b, const char *name, int32_t value,
                                          vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_add_uint(vrpc_typed_params *b, const char *name, uint32_t value,
                                           vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_add_llong(vrpc_typed_params *b, const char *name, int64_t value,
                                            vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_add_ullong(vrpc_typed_params *b, const char *name, uint64_t value,
                                             vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_add_double(vrpc_typed_params *b, const char *name, double value,
                                             vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_add_boolean(vrpc_typed_params *b, const char *name, bool value,
                                              vrpc_error **err);
VRPC_EXPORT int vrpc_typed_params_add_string(vrpc_typed_params *b, const char *name,
                                             const char *value, vrpc_error **err);

/*
 * Append one string parameter called name per value (libvirt's string
 * lists). The name must not be present yet; all of them are added or none.
 * Same returns as the single adds; n == 0 adds nothing and returns 0.
 */
VRPC_EXPORT int vrpc_typed_params_add_string_list(vrpc_typed_params *b, const char *name,
                                                  const char *const *values, size_t n,
                                                  vrpc_error **err);

/* How many parameters the builder holds (0 for NULL). */
VRPC_EXPORT uint32_t vrpc_typed_params_count(const vrpc_typed_params *b);

/*
 * The builder's array (NULL while empty), to hand to a call. It belongs to
 * the builder: valid until the next add, clear or free; do not change or
 * free it. (Not const only because the generated argument structs are not.)
 */
VRPC_EXPORT vrpc_typed_param *vrpc_typed_params_items(const vrpc_typed_params *b);

#ifdef __cplusplus
}
#endif
#endif
