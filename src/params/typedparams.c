/* SPDX-License-Identifier: MIT */
/*
 * Typed parameters: readers, a builder and the text form; see
 * <virtrpc/typedparams.h>. A layer above the core: it only knows the
 * generated vrpc_typed_param type, the allocator and the error helpers.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <virtrpc/typedparams.h>

#include "alloc.h"
#include "error.h"

struct vrpc_typed_params {
    vrpc_typed_param *items;
    uint32_t n, cap;
    size_t wire; /* the encoded size of items[0..n) */
};

/* ---- reading ---- */

VRPC_EXPORT const vrpc_typed_param *vrpc_typed_params_find(const vrpc_typed_param *params, size_t n,
                                                           const char *name)
{
    if (!params || !name)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (params[i].field && strcmp(params[i].field, name) == 0)
            return &params[i];
    return NULL;
}

VRPC_EXPORT const char *vrpc_typed_param_type_name(int type)
{
    switch (type) {
    case VRPC_TYPED_PARAM_INT:
        return "int";
    case VRPC_TYPED_PARAM_UINT:
        return "uint";
    case VRPC_TYPED_PARAM_LLONG:
        return "llong";
    case VRPC_TYPED_PARAM_ULLONG:
        return "ullong";
    case VRPC_TYPED_PARAM_DOUBLE:
        return "double";
    case VRPC_TYPED_PARAM_BOOLEAN:
        return "boolean";
    case VRPC_TYPED_PARAM_STRING:
        return "string";
    default:
        return NULL;
    }
}

/* The parameter called name with the wanted type, or NULL and the error. */
static const vrpc_typed_param *get_typed(const vrpc_typed_param *params, size_t n, const char *name,
                                         const void *value, int type, int *rc, vrpc_error **err)
{
    const vrpc_typed_param *p;
    if (!name || !value) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "invalid argument: typed parameter %s",
                       !name ? "name is NULL" : "value is NULL");
        *rc = VRPC_E_INVALID;
        return NULL;
    }
    p = vrpc_typed_params_find(params, n, name);
    if (!p) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE, "no typed parameter '%s'", name);
        *rc = VRPC_E_NOT_FOUND;
        return NULL;
    }
    if (p->value.type != type) {
        const char *has = vrpc_typed_param_type_name(p->value.type);
        if (has)
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                           "typed parameter '%s' has type %s, not %s", name, has,
                           vrpc_typed_param_type_name(type));
        else
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                           "typed parameter '%s' has the unknown type %d, not %s", name,
                           (int)p->value.type, vrpc_typed_param_type_name(type));
        *rc = VRPC_E_INVALID;
        return NULL;
    }
    *rc = 0;
    return p;
}

#define GETTER(suffix, ctype, TYPE, expr)                                                          \
    VRPC_EXPORT int vrpc_typed_params_get_##suffix(const vrpc_typed_param *params, size_t n,       \
                                                   const char *name, ctype *value,                 \
                                                   vrpc_error **err)                               \
    {                                                                                              \
        int rc;                                                                                    \
        const vrpc_typed_param *p =                                                                \
            get_typed(params, n, name, value, VRPC_TYPED_PARAM_##TYPE, &rc, err);                  \
        if (p)                                                                                     \
            *value = (expr);                                                                       \
        return rc;                                                                                 \
    }

GETTER(int, int32_t, INT, p->value.u.i)
GETTER(uint, uint32_t, UINT, p->value.u.ui)
GETTER(llong, int64_t, LLONG, p->value.u.l)
GETTER(ullong, uint64_t, ULLONG, p->value.u.ul)
GETTER(double, double, DOUBLE, p->value.u.d)
GETTER(boolean, bool, BOOLEAN, p->value.u.b != 0)
GETTER(string, const char *, STRING, p->value.u.s)
#undef GETTER

VRPC_EXPORT const vrpc_typed_param *vrpc_typed_params_next(const vrpc_typed_param *params, size_t n,
                                                           const char *name, size_t *pos)
{
    if (!params || !pos)
        return NULL;
    while (*pos < n) {
        const vrpc_typed_param *p = &params[(*pos)++];
        if (!name || (p->field && strcmp(p->field, name) == 0))
            return p;
    }
    return NULL;
}

/* ---- text ---- */

VRPC_EXPORT int vrpc_typed_param_format(const vrpc_typed_param *p, char *buf, size_t size)
{
    const char *text = NULL;
    size_t len;
    int r;

    if (!p || (!buf && size))
        return VRPC_E_INVALID;
    switch (p->value.type) {
    case VRPC_TYPED_PARAM_INT:
        return snprintf(buf, size, "%" PRId32, p->value.u.i);
    case VRPC_TYPED_PARAM_UINT:
        return snprintf(buf, size, "%" PRIu32, p->value.u.ui);
    case VRPC_TYPED_PARAM_LLONG:
        return snprintf(buf, size, "%" PRId64, p->value.u.l);
    case VRPC_TYPED_PARAM_ULLONG:
        return snprintf(buf, size, "%" PRIu64, p->value.u.ul);
    case VRPC_TYPED_PARAM_DOUBLE:
        r = snprintf(buf, size, "%g", p->value.u.d);
        return r < 0 ? VRPC_E_INVALID : r;
    case VRPC_TYPED_PARAM_BOOLEAN:
        text = p->value.u.b ? "yes" : "no";
        break;
    case VRPC_TYPED_PARAM_STRING:
        text = p->value.u.s ? p->value.u.s : "";
        break;
    default:
        return VRPC_E_INVALID;
    }
    len = strlen(text);
    if (len > INT_MAX)
        return VRPC_E_TOO_BIG;
    if (size) {
        size_t k = len < size ? len : size - 1;
        memcpy(buf, text, k);
        buf[k] = 0;
    }
    return (int)len;
}

VRPC_EXPORT int vrpc_typed_param_to_string(const vrpc_typed_param *p, char **out, vrpc_error **err)
{
    int len;
    char *s;

    if (!out) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "invalid argument: no place for the text");
        return VRPC_E_INVALID;
    }
    *out = NULL;
    len = vrpc_typed_param_format(p, NULL, 0);
    if (len < 0) {
        if (!p)
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                           "invalid argument: no typed parameter");
        else if (len == VRPC_E_TOO_BIG)
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                           "typed parameter '%s': its string is too long to format",
                           p->field ? p->field : "");
        else
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                           "typed parameter '%s' has the unknown type %d", p->field ? p->field : "",
                           (int)p->value.type);
        return len;
    }
    s = vrpc_malloc((size_t)len + 1);
    if (!s) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_NONE, "out of memory");
        return VRPC_E_NOMEM;
    }
    vrpc_typed_param_format(p, s, (size_t)len + 1);
    *out = s;
    return 0;
}

/* ---- building ---- */

VRPC_EXPORT int vrpc_typed_params_new(vrpc_typed_params **out)
{
    if (!out)
        return VRPC_E_INVALID;
    *out = vrpc_calloc(1, sizeof(**out));
    return *out ? 0 : VRPC_E_NOMEM;
}

/* The builder owns the strings it put in its (const char *) members. */
static void free_owned(const char *s)
{
    vrpc_free((void *)s);
}

VRPC_EXPORT void vrpc_typed_params_clear(vrpc_typed_params *b)
{
    if (!b)
        return;
    for (uint32_t i = 0; i < b->n; i++) {
        free_owned(b->items[i].field);
        if (b->items[i].value.type == VRPC_TYPED_PARAM_STRING)
            free_owned(b->items[i].value.u.s);
    }
    b->n = 0;
    b->wire = 0;
}

VRPC_EXPORT void vrpc_typed_params_free(vrpc_typed_params *b)
{
    if (!b)
        return;
    vrpc_typed_params_clear(b);
    vrpc_free(b->items);
    vrpc_free(b);
}

VRPC_EXPORT uint32_t vrpc_typed_params_count(const vrpc_typed_params *b)
{
    return b ? b->n : 0;
}

VRPC_EXPORT vrpc_typed_param *vrpc_typed_params_items(const vrpc_typed_params *b)
{
    return b && b->n ? b->items : NULL;
}

/* XDR size of a string of len bytes: length word, bytes, padding. */
static size_t xdr_string_size(size_t len)
{
    return 4 + len + vrpc_pad4(len);
}

/* The encoded size of a value (discriminant included) of a type. */
static size_t xdr_value_size(int type, size_t slen)
{
    switch (type) {
    case VRPC_TYPED_PARAM_LLONG:
    case VRPC_TYPED_PARAM_ULLONG:
    case VRPC_TYPED_PARAM_DOUBLE:
        return 4 + 8;
    case VRPC_TYPED_PARAM_STRING:
        return 4 + xdr_string_size(slen);
    default:
        return 4 + 4;
    }
}

/*
 * Check that `count` parameters called name, of the given type, can be
 * added (strings: their lengths in slens), and make room for them. Returns
 * 0 or the error; the builder is unchanged either way.
 */
static int check_add(vrpc_typed_params *b, const char *name, int type, size_t count,
                     const size_t *slens, size_t *wire_add, vrpc_error **err)
{
    size_t nlen, add;
    if (!b) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "invalid argument: no typed parameter builder");
        return VRPC_E_INVALID;
    }
    if (!name || !*name) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "invalid argument: a typed parameter needs a name");
        return VRPC_E_INVALID;
    }
    nlen = strnlen(name, VRPC_TYPED_PARAM_FIELD_LENGTH);
    if (nlen >= VRPC_TYPED_PARAM_FIELD_LENGTH) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "typed parameter name '%.*s...' is too long (at most %d bytes)", 40, name,
                       VRPC_TYPED_PARAM_FIELD_LENGTH - 1);
        return VRPC_E_TOO_BIG;
    }
    if (vrpc_typed_params_find(b->items, b->n, name)) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "typed parameter '%s' is already set (a parameter may occur only once)",
                       name);
        return VRPC_E_INVALID;
    }
    if (count > VRPC_TYPED_PARAMS_MAX - b->n) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "typed parameter '%s': more than %u parameters", name,
                       VRPC_TYPED_PARAMS_MAX);
        return VRPC_E_TOO_BIG;
    }
    add = 0;
    for (size_t i = 0; i < count; i++) {
        size_t slen = slens ? slens[i] : 0;
        if (slen > VRPC_STRING_MAX) {
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                           "typed parameter '%s': its string is longer than %d bytes", name,
                           VRPC_STRING_MAX);
            return VRPC_E_TOO_BIG;
        }
        /* Each term is below 5 MiB and count at most 1024: no overflow. */
        add += xdr_string_size(nlen) + xdr_value_size(type, slen);
    }
    if (add > (size_t)VRPC_NET_MESSAGE_PAYLOAD_MAX - b->wire) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "typed parameter '%s': the parameters would exceed the %d bytes of a "
                       "message",
                       name, VRPC_NET_MESSAGE_PAYLOAD_MAX);
        return VRPC_E_TOO_BIG;
    }
    if (b->cap - b->n < count) {
        size_t want = (size_t)b->n + count, cap = b->cap ? b->cap : 8;
        vrpc_typed_param *items;
        while (cap < want)
            cap *= 2;
        if (cap > VRPC_TYPED_PARAMS_MAX)
            cap = VRPC_TYPED_PARAMS_MAX;
        items = vrpc_realloc(b->items, cap * sizeof(*items));
        if (!items) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_NONE, "out of memory");
            return VRPC_E_NOMEM;
        }
        b->items = items;
        b->cap = (uint32_t)cap;
    }
    *wire_add = add;
    return 0;
}

/* Append one scalar parameter whose value v has been filled but for its name. */
static int add_scalar(vrpc_typed_params *b, const char *name, const vrpc_typed_param_value *v,
                      vrpc_error **err)
{
    size_t wire;
    vrpc_typed_param *p;
    int rc = check_add(b, name, v->type, 1, NULL, &wire, err);
    if (rc)
        return rc;
    p = &b->items[b->n];
    p->field = vrpc_strdup(name);
    if (!p->field) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_NONE, "out of memory");
        return VRPC_E_NOMEM;
    }
    p->value = *v;
    b->n++;
    b->wire += wire;
    return 0;
}

#define ADDER(suffix, ctype, TYPE, member, expr)                                                   \
    VRPC_EXPORT int vrpc_typed_params_add_##suffix(vrpc_typed_params *b, const char *name,         \
                                                   ctype value, vrpc_error **err)                  \
    {                                                                                              \
        vrpc_typed_param_value v;                                                                  \
        memset(&v, 0, sizeof(v));                                                                  \
        v.type = VRPC_TYPED_PARAM_##TYPE;                                                          \
        v.u.member = (expr);                                                                       \
        return add_scalar(b, name, &v, err);                                                       \
    }

ADDER(int, int32_t, INT, i, value)
ADDER(uint, uint32_t, UINT, ui, value)
ADDER(llong, int64_t, LLONG, l, value)
ADDER(ullong, uint64_t, ULLONG, ul, value)
ADDER(double, double, DOUBLE, d, value)
ADDER(boolean, bool, BOOLEAN, b, value ? 1 : 0)
#undef ADDER

VRPC_EXPORT int vrpc_typed_params_add_string_list(vrpc_typed_params *b, const char *name,
                                                  const char *const *values, size_t n,
                                                  vrpc_error **err)
{
    size_t small[8], *slens = small, wire;
    size_t done = 0;
    int rc;

    if (n == 0)
        return 0;
    if (!values) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "invalid argument: typed parameter '%s' has no values", name ? name : "");
        return VRPC_E_INVALID;
    }
    if (n > VRPC_TYPED_PARAMS_MAX) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "typed parameter '%s': more than %u parameters", name ? name : "",
                       VRPC_TYPED_PARAMS_MAX);
        return VRPC_E_TOO_BIG;
    }
    if (n > sizeof(small) / sizeof(small[0])) {
        slens = vrpc_calloc(n, sizeof(*slens));
        if (!slens) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_NONE, "out of memory");
            return VRPC_E_NOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!values[i]) {
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                           "invalid argument: typed parameter '%s': value %zu is NULL",
                           name ? name : "", i);
            rc = VRPC_E_INVALID;
            goto out;
        }
        /* Bounded: a longer string is refused by check_add() anyway. */
        slens[i] = strnlen(values[i], (size_t)VRPC_STRING_MAX + 1);
    }
    rc = check_add(b, name, VRPC_TYPED_PARAM_STRING, n, slens, &wire, err);
    if (rc)
        goto out;
    for (done = 0; done < n; done++) {
        vrpc_typed_param *p = &b->items[b->n + done];
        memset(p, 0, sizeof(*p));
        p->value.type = VRPC_TYPED_PARAM_STRING;
        char *sv = vrpc_malloc(slens[done] + 1);
        p->field = vrpc_strdup(name);
        p->value.u.s = sv;
        if (!p->field || !sv) {
            free_owned(p->field);
            vrpc_free(sv);
            while (done > 0) {
                done--;
                free_owned(b->items[b->n + done].field);
                free_owned(b->items[b->n + done].value.u.s);
            }
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_NONE, "out of memory");
            rc = VRPC_E_NOMEM;
            goto out;
        }
        memcpy(sv, values[done], slens[done] + 1);
    }
    b->n += (uint32_t)n;
    b->wire += wire;
    rc = 0;
out:
    if (slens != small)
        vrpc_free(slens);
    return rc;
}

VRPC_EXPORT int vrpc_typed_params_add_string(vrpc_typed_params *b, const char *name,
                                             const char *value, vrpc_error **err)
{
    if (!value) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE,
                       "invalid argument: typed parameter '%s' has a NULL string",
                       name ? name : "");
        return VRPC_E_INVALID;
    }
    return vrpc_typed_params_add_string_list(b, name, &value, 1, err);
}
