/* SPDX-License-Identifier: MIT */
/*
 * The JSON bridge of the `virtrpc` tool: converts between JSON and C values
 * of any type that has a vrpc_type descriptor, by walking the descriptor.
 * The JSON forms are described in docs/json.md.
 *
 * Errors are reported as one line that starts with the path of the value
 * that did not fit ("args.dom.uuid: expected a UUID string"); the caller
 * owns the message and releases it with free().
 */
#ifndef VIRTRPC_CLI_JSON_BRIDGE_H
#define VIRTRPC_CLI_JSON_BRIDGE_H

#include <json-c/json.h>

#include <virtrpc/types.h>

/* A C value built from JSON together with all the memory it points to. */
typedef struct vrpc_json_value vrpc_json_value;

/*
 * Parse JSON text (strict RFC 8259, one value, nothing but white space
 * after it). Integer literals that do not fit in a 64-bit integer are kept
 * as such, so that vrpc_json_to_c() can report them as out of range instead
 * of silently clamping them. On success *out holds a new reference.
 * Returns 0, or VRPC_E_INVALID / VRPC_E_NOMEM with *errmsg set.
 */
int vrpc_json_parse(const char *text, json_object **out, char **errmsg);

/*
 * The JSON form of `value`, a C value of type t (t == NULL or VOID: JSON
 * null). On success *out holds a new reference (NULL is JSON null, as
 * everywhere in json-c). Returns 0, or VRPC_E_NOMEM / VRPC_E_INVALID (a
 * union discriminant without an arm) with *errmsg set.
 */
int vrpc_json_from_c(const vrpc_type *t, const void *value, json_object **out, char **errmsg);

/*
 * Build a C value of type t from j (j == NULL is JSON null). `path` names
 * the value in error messages ("args"). On success *out owns the value and
 * everything it points to; release it with vrpc_json_value_free(). Returns
 * 0, or VRPC_E_INVALID / VRPC_E_NOMEM with *errmsg set and *out NULL.
 */
int vrpc_json_to_c(const vrpc_type *t, json_object *j, const char *path, vrpc_json_value **out,
                   char **errmsg);

/* The C value (t->size bytes); NULL for a VOID type. */
void *vrpc_json_value_get(const vrpc_json_value *v);

/* Release a value and all its memory. NULL-safe. */
void vrpc_json_value_free(vrpc_json_value *v);

#endif
