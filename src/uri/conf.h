/* SPDX-License-Identifier: MIT */
/*
 * Internal: libvirt's client configuration files (libvirt.conf,
 * libvirt-admin.conf).
 *
 * The syntax is the one libvirt's own parser accepts (the subset of
 * Python's that its configuration files use):
 *
 *     # a comment, to the end of the line
 *     key = "a string"          # or 'a string', no escapes, one line
 *     key = """a string that
 *     spans lines"""
 *     key = 42                  # or -42, +42
 *     key = [ "a", 'b',         # a list: values separated by ',', spanning
 *             [ "nested" ], ]   # lines, a ',' before ']' allowed
 *     a = 1; b = 2              # ';' separates statements on one line
 *
 * Keys start with a letter and hold letters, digits and '_'. A key given
 * twice keeps its FIRST value (as libvirt). Comments are not allowed inside
 * a list (libvirt refuses them there too).
 *
 * Everything is bounded before it is allocated (VRPC_CONF_MAX_*): a larger
 * file, a longer line, key or string, a longer or deeper list, or more
 * entries is an error. A syntax error, a NUL byte outside a comment, or a
 * number outside the 64-bit range is an error that names the file, the line
 * and (when the error is in a value) the key: "FILE:LINE: key 'KEY': ...",
 * with code VRPC_ERR_CONF_SYNTAX and domain VRPC_FROM_CONF.
 */
#ifndef VIRTRPC_CONF_H
#define VIRTRPC_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include <virtrpc/conn.h>

#define VRPC_CONF_MAX_FILE (1024u * 1024u) /* bytes in a file */
#define VRPC_CONF_MAX_LINE 65536u          /* bytes in a line (without its end) */
#define VRPC_CONF_MAX_STRING 65536u        /* bytes in a string value */
#define VRPC_CONF_MAX_KEY 256u             /* bytes in a key */
#define VRPC_CONF_MAX_LIST 4096u           /* values in one list */
#define VRPC_CONF_MAX_DEPTH 8u             /* lists inside lists */
#define VRPC_CONF_MAX_ENTRIES 4096u        /* keys in a file */
#define VRPC_CONF_MAX_VALUES 65536u        /* values in a file, list members included */

typedef enum vrpc_conf_type {
    VRPC_CONF_STRING = 1,
    VRPC_CONF_INT,  /* written with a '-' sign */
    VRPC_CONF_UINT, /* written without one */
    VRPC_CONF_LIST,
} vrpc_conf_type;

typedef struct vrpc_conf_value {
    vrpc_conf_type type;
    unsigned int line; /* where the value starts */
    char *str;         /* STRING */
    long long num;     /* INT, UINT */
    size_t n;          /* LIST: number of items */
    struct vrpc_conf_value *items;
} vrpc_conf_value;

typedef struct vrpc_conf_entry {
    char *key;
    unsigned int line; /* of the key */
    vrpc_conf_value value;
} vrpc_conf_entry;

typedef struct vrpc_conf {
    char *path; /* the file, as named in errors */
    size_t n;
    vrpc_conf_entry *entries;
} vrpc_conf;

/*
 * Parse data[0..len) (need not be NUL-terminated); name is the file name
 * used in errors. Returns 0, VRPC_E_URI (syntax error, a bound exceeded) or
 * VRPC_E_NOMEM.
 */
int vrpc_conf_parse(const char *name, const char *data, size_t len, vrpc_conf **out,
                    vrpc_error **err);

/*
 * Read and parse a file. A file that does not exist (ENOENT, ENOTDIR) is no
 * configuration: 0 with *out NULL. Any other failure to read it (a
 * directory, no permission, larger than VRPC_CONF_MAX_FILE) is an error
 * naming the file: VRPC_E_URI, or VRPC_E_NOMEM.
 */
int vrpc_conf_read_file(const char *path, vrpc_conf **out, vrpc_error **err);

void vrpc_conf_free(vrpc_conf *c);

/* The first entry of key, or NULL (also when c is NULL). */
const vrpc_conf_entry *vrpc_conf_find(const vrpc_conf *c, const char *key);

/*
 * The string value of key: 1 with *out set (owned by c), 0 when the key is
 * absent (*out untouched), VRPC_E_URI when it holds something else (the
 * error names the file, the line and the key).
 */
int vrpc_conf_get_string(const vrpc_conf *c, const char *key, const char **out, vrpc_error **err);

/*
 * The value of key as a list of strings: 1 with *items (the list's values,
 * owned by c) and *n set, 0 when absent, VRPC_E_URI when it is not a list or
 * holds something other than strings.
 */
int vrpc_conf_get_string_list(const vrpc_conf *c, const char *key, const vrpc_conf_value **items,
                              size_t *n, vrpc_error **err);

#endif
