/* SPDX-License-Identifier: MIT */
/*
 * Typed parameters: the conversions between libvirt's virTypedParameter
 * arrays and the wire's remote_typed_param (compat.h), and the public
 * virTypedParams* helpers, which run entirely in the client.
 *
 * Behaviour follows libvirt's (error codes and domains, the growth of the
 * arrays the Add functions manage, no duplicate check on Add, a field name
 * must fit VIR_TYPED_PARAM_FIELD_LENGTH with its terminator); the messages
 * are our own.
 */
#include "compat.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The names libvirt gives the types in its messages and XML. */
static const char *type_name(int type)
{
    static const char *const names[] = {"unknown", "int",    "uint",    "llong",
                                        "ullong",  "double", "boolean", "string"};
    if (type < 0 || type >= (int)(sizeof(names) / sizeof(names[0])))
        return "unknown";
    return names[type];
}

/* ---- the wire ---- */

int compat_params_to_wire(const virTypedParameter *params, int n, vrpc_typed_param **out)
{
    *out = NULL;
    if (n < 0 || (n > 0 && !params)) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "invalid typed parameter array (%d items)",
                     n);
        return -1;
    }
    if (n == 0)
        return 0;
    vrpc_typed_param *w = calloc((size_t)n, sizeof(*w));
    if (!w) {
        compat_no_memory();
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const virTypedParameter *p = &params[i];
        if (strnlen(p->field, VIR_TYPED_PARAM_FIELD_LENGTH) == VIR_TYPED_PARAM_FIELD_LENGTH) {
            compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                         "typed parameter name '%.*s' does not fit %d bytes",
                         VIR_TYPED_PARAM_FIELD_LENGTH, p->field, VIR_TYPED_PARAM_FIELD_LENGTH);
            goto fail;
        }
        w[i].field = p->field;
        w[i].value.type = p->type;
        switch (p->type) {
        case VIR_TYPED_PARAM_INT:
            w[i].value.u.i = p->value.i;
            break;
        case VIR_TYPED_PARAM_UINT:
            w[i].value.u.ui = p->value.ui;
            break;
        case VIR_TYPED_PARAM_LLONG:
            w[i].value.u.l = p->value.l;
            break;
        case VIR_TYPED_PARAM_ULLONG:
            w[i].value.u.ul = p->value.ul;
            break;
        case VIR_TYPED_PARAM_DOUBLE:
            w[i].value.u.d = p->value.d;
            break;
        case VIR_TYPED_PARAM_BOOLEAN:
            w[i].value.u.b = p->value.b;
            break;
        case VIR_TYPED_PARAM_STRING:
            if (!p->value.s) {
                compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                             "string typed parameter '%s' has no value", p->field);
                goto fail;
            }
            w[i].value.u.s = p->value.s;
            break;
        default:
            compat_error(VIR_FROM_NONE, VIR_ERR_RPC, "typed parameter '%s' has unknown type %d",
                         p->field, p->type);
            goto fail;
        }
    }
    *out = w;
    return 0;
fail:
    free(w);
    return -1;
}

/* One wire parameter into *p (already zeroed); strings are copied. */
static int param_from_wire(const vrpc_typed_param *w, virTypedParameterPtr p)
{
    const char *field = w->field ? w->field : "";
    size_t len = strnlen(field, VIR_TYPED_PARAM_FIELD_LENGTH);
    if (len == VIR_TYPED_PARAM_FIELD_LENGTH) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                     "the daemon sent a typed parameter name longer than %d bytes: %.*s",
                     VIR_TYPED_PARAM_FIELD_LENGTH - 1, VIR_TYPED_PARAM_FIELD_LENGTH, field);
        return -1;
    }
    memcpy(p->field, field, len);
    p->field[len] = '\0';
    p->type = w->value.type;
    switch (w->value.type) {
    case VIR_TYPED_PARAM_INT:
        p->value.i = w->value.u.i;
        break;
    case VIR_TYPED_PARAM_UINT:
        p->value.ui = w->value.u.ui;
        break;
    case VIR_TYPED_PARAM_LLONG:
        p->value.l = w->value.u.l;
        break;
    case VIR_TYPED_PARAM_ULLONG:
        p->value.ul = w->value.u.ul;
        break;
    case VIR_TYPED_PARAM_DOUBLE:
        p->value.d = w->value.u.d;
        break;
    case VIR_TYPED_PARAM_BOOLEAN:
        p->value.b = (char)w->value.u.b;
        break;
    case VIR_TYPED_PARAM_STRING:
        p->value.s = strdup(w->value.u.s ? w->value.u.s : "");
        if (!p->value.s) {
            p->type = 0;
            compat_no_memory();
            return -1;
        }
        break;
    default:
        p->type = 0;
        compat_error(VIR_FROM_NONE, VIR_ERR_RPC, "the daemon sent a typed parameter of type %d",
                     w->value.type);
        return -1;
    }
    return 0;
}

int compat_params_from_wire(const vrpc_typed_param *w, uint32_t nw, virTypedParameterPtr *out,
                            int *n)
{
    *out = NULL;
    *n = 0;
    if (nw > INT_MAX / sizeof(virTypedParameter)) {
        compat_error(VIR_FROM_NONE, VIR_ERR_RPC, "the daemon sent %u typed parameters", nw);
        return -1;
    }
    /* one item more than needed so that an empty list is not NULL */
    virTypedParameterPtr p = calloc((size_t)nw + 1, sizeof(*p));
    if (!p) {
        compat_no_memory();
        return -1;
    }
    for (uint32_t i = 0; i < nw; i++) {
        if (param_from_wire(&w[i], &p[i]) < 0) {
            virTypedParamsFree(p, (int)i);
            return -1;
        }
    }
    *out = p;
    *n = (int)nw;
    return 0;
}

int compat_params_fill(const vrpc_typed_param *w, uint32_t nw, virTypedParameterPtr params, int *n)
{
    if (*n < 0 || nw > (uint32_t)*n) {
        compat_error(VIR_FROM_NONE, VIR_ERR_RPC,
                     "the daemon sent %u typed parameters for room for %d", nw, *n);
        return -1;
    }
    if (nw > 0 && !params) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "no array for %u typed parameters", nw);
        return -1;
    }
    for (uint32_t i = 0; i < nw; i++) {
        memset(&params[i], 0, sizeof(params[i]));
        if (param_from_wire(&w[i], &params[i]) < 0) {
            virTypedParamsClear(params, (int)i);
            return -1;
        }
    }
    *n = (int)nw;
    return 0;
}

/* ---- lookups ---- */

virTypedParameterPtr virTypedParamsGet(virTypedParameterPtr params, int nparams, const char *name)
{
    /* reports no error, so it leaves the last error alone */
    if (!params || !name)
        return NULL;
    for (int i = 0; i < nparams; i++) {
        if (strcmp(params[i].field, name) == 0)
            return &params[i];
    }
    return NULL;
}

/* The parameter called name if it has the type wanted: 1 and *found; 0
 * when there is none; -1 (error set and dispatched) when its type differs. */
static int lookup_typed(virTypedParameterPtr params, int nparams, const char *name, int type,
                        virTypedParameterPtr *found)
{
    compat_reset();
    virTypedParameterPtr p = virTypedParamsGet(params, nparams, name);
    if (!p)
        return 0;
    if (p->type != type) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                     "parameter '%s' is of type '%s', not of the type '%s' asked for", name,
                     type_name(p->type), type_name(type));
        compat_dispatch(NULL);
        return -1;
    }
    *found = p;
    return 1;
}

int virTypedParamsGetInt(virTypedParameterPtr params, int nparams, const char *name, int *value)
{
    virTypedParameterPtr p = NULL;
    int rc = lookup_typed(params, nparams, name, VIR_TYPED_PARAM_INT, &p);
    if (rc == 1 && value)
        *value = p->value.i;
    return rc;
}

int virTypedParamsGetUInt(virTypedParameterPtr params, int nparams, const char *name,
                          unsigned int *value)
{
    virTypedParameterPtr p = NULL;
    int rc = lookup_typed(params, nparams, name, VIR_TYPED_PARAM_UINT, &p);
    if (rc == 1 && value)
        *value = p->value.ui;
    return rc;
}

int virTypedParamsGetLLong(virTypedParameterPtr params, int nparams, const char *name,
                           long long *value)
{
    virTypedParameterPtr p = NULL;
    int rc = lookup_typed(params, nparams, name, VIR_TYPED_PARAM_LLONG, &p);
    if (rc == 1 && value)
        *value = p->value.l;
    return rc;
}

int virTypedParamsGetULLong(virTypedParameterPtr params, int nparams, const char *name,
                            unsigned long long *value)
{
    virTypedParameterPtr p = NULL;
    int rc = lookup_typed(params, nparams, name, VIR_TYPED_PARAM_ULLONG, &p);
    if (rc == 1 && value)
        *value = p->value.ul;
    return rc;
}

int virTypedParamsGetDouble(virTypedParameterPtr params, int nparams, const char *name,
                            double *value)
{
    virTypedParameterPtr p = NULL;
    int rc = lookup_typed(params, nparams, name, VIR_TYPED_PARAM_DOUBLE, &p);
    if (rc == 1 && value)
        *value = p->value.d;
    return rc;
}

int virTypedParamsGetBoolean(virTypedParameterPtr params, int nparams, const char *name, int *value)
{
    virTypedParameterPtr p = NULL;
    int rc = lookup_typed(params, nparams, name, VIR_TYPED_PARAM_BOOLEAN, &p);
    if (rc == 1 && value)
        *value = p->value.b != 0;
    return rc;
}

int virTypedParamsGetString(virTypedParameterPtr params, int nparams, const char *name,
                            const char **value)
{
    virTypedParameterPtr p = NULL;
    int rc = lookup_typed(params, nparams, name, VIR_TYPED_PARAM_STRING, &p);
    if (rc == 1 && value)
        *value = p->value.s;
    return rc;
}

/* ---- building arrays ---- */

/*
 * Room for one more item at *params[*nparams], as libvirt grows these
 * arrays: when full, by what is missing but at least half of what is
 * there; new items zeroed; *maxparams updated. The slot to fill in *slot.
 * Returns 0, or -1 after setting the error (nothing changed then).
 */
static int grow_one(virTypedParameterPtr *params, int *nparams, int *maxparams,
                    virTypedParameterPtr *slot)
{
    if (!params || !nparams || !maxparams) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "typed parameter array missing");
        return -1;
    }
    size_t n = *nparams < 0 ? 0 : (size_t)*nparams;
    size_t max = *maxparams < 0 ? 0 : (size_t)*maxparams;
    if (n + 1 > max) {
        size_t delta = n + 1 - max;
        if (delta < max / 2)
            delta = max / 2;
        size_t nmax = max + delta;
        if (nmax > INT_MAX || nmax > SIZE_MAX / sizeof(virTypedParameter)) {
            compat_no_memory();
            return -1;
        }
        virTypedParameterPtr p = realloc(*params, nmax * sizeof(*p));
        if (!p) {
            compat_no_memory();
            return -1;
        }
        memset(p + max, 0, (nmax - max) * sizeof(*p));
        *params = p;
        *maxparams = (int)nmax;
    }
    *slot = *params + n;
    return 0;
}

/* Names must fit the field with its terminator. */
static int set_field(virTypedParameterPtr slot, const char *name)
{
    if (!name) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "typed parameter name missing");
        return -1;
    }
    size_t len = strnlen(name, VIR_TYPED_PARAM_FIELD_LENGTH);
    if (len == VIR_TYPED_PARAM_FIELD_LENGTH) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                     "typed parameter name '%s' is longer than %d bytes", name,
                     VIR_TYPED_PARAM_FIELD_LENGTH - 1);
        return -1;
    }
    memcpy(slot->field, name, len);
    slot->field[len] = '\0';
    return 0;
}

/* The common path of the Add functions: *v is the value to store (its
 * string, if any, already owned by the array on success). */
static int add_value(virTypedParameterPtr *params, int *nparams, int *maxparams, const char *name,
                     int type, const virTypedParameter *v)
{
    virTypedParameterPtr slot;
    if (grow_one(params, nparams, maxparams, &slot) < 0 || set_field(slot, name) < 0) {
        compat_dispatch(NULL);
        return -1;
    }
    slot->type = type;
    slot->value = v->value;
    *nparams += 1;
    return 0;
}

int virTypedParamsAddInt(virTypedParameterPtr *params, int *nparams, int *maxparams,
                         const char *name, int value)
{
    compat_reset();
    virTypedParameter v = {.value.i = value};
    return add_value(params, nparams, maxparams, name, VIR_TYPED_PARAM_INT, &v);
}

int virTypedParamsAddUInt(virTypedParameterPtr *params, int *nparams, int *maxparams,
                          const char *name, unsigned int value)
{
    compat_reset();
    virTypedParameter v = {.value.ui = value};
    return add_value(params, nparams, maxparams, name, VIR_TYPED_PARAM_UINT, &v);
}

int virTypedParamsAddLLong(virTypedParameterPtr *params, int *nparams, int *maxparams,
                           const char *name, long long value)
{
    compat_reset();
    virTypedParameter v = {.value.l = value};
    return add_value(params, nparams, maxparams, name, VIR_TYPED_PARAM_LLONG, &v);
}

int virTypedParamsAddULLong(virTypedParameterPtr *params, int *nparams, int *maxparams,
                            const char *name, unsigned long long value)
{
    compat_reset();
    virTypedParameter v = {.value.ul = value};
    return add_value(params, nparams, maxparams, name, VIR_TYPED_PARAM_ULLONG, &v);
}

int virTypedParamsAddDouble(virTypedParameterPtr *params, int *nparams, int *maxparams,
                            const char *name, double value)
{
    compat_reset();
    virTypedParameter v = {.value.d = value};
    return add_value(params, nparams, maxparams, name, VIR_TYPED_PARAM_DOUBLE, &v);
}

int virTypedParamsAddBoolean(virTypedParameterPtr *params, int *nparams, int *maxparams,
                             const char *name, int value)
{
    compat_reset();
    virTypedParameter v = {.value.b = value != 0};
    return add_value(params, nparams, maxparams, name, VIR_TYPED_PARAM_BOOLEAN, &v);
}

int virTypedParamsAddString(virTypedParameterPtr *params, int *nparams, int *maxparams,
                            const char *name, const char *value)
{
    compat_reset();
    /* a NULL value is stored as an empty string, as libvirt does */
    virTypedParameter v = {.value.s = strdup(value ? value : "")};
    if (!v.value.s) {
        compat_no_memory();
        compat_dispatch(NULL);
        return -1;
    }
    int rc = add_value(params, nparams, maxparams, name, VIR_TYPED_PARAM_STRING, &v);
    if (rc < 0)
        free(v.value.s);
    return rc;
}

int virTypedParamsAddStringList(virTypedParameterPtr *params, int *nparams, int *maxparams,
                                const char *name, const char **values)
{
    /* like libvirt: no reset of its own, 0 for NULL, and -1 for an empty
     * list (there was nothing that succeeded) */
    int rc = -1;
    if (!values)
        return 0;
    for (size_t i = 0; values[i]; i++) {
        rc = virTypedParamsAddString(params, nparams, maxparams, name, values[i]);
        if (rc < 0)
            break;
    }
    return rc;
}

/* strtod in the C locale whatever the program's locale is */
static locale_t c_locale_value;
static void c_locale_init(void)
{
    c_locale_value = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Parses s as a whole number / value of the type; 0 or -1. */
static int parse_value(const char *s, int type, virTypedParameter *v)
{
    char *end = NULL;
    errno = 0;
    switch (type) {
    case VIR_TYPED_PARAM_INT: {
        long x = strtol(s, &end, 10);
        if (errno || end == s || *end || x < INT_MIN || x > INT_MAX)
            return -1;
        v->value.i = (int)x;
        return 0;
    }
    case VIR_TYPED_PARAM_UINT: {
        unsigned long x = strtoul(s, &end, 10);
        bool bad = false;
        /* "-N" wraps around in 32 bits (so "-1" is UINT_MAX) */
        if (sizeof(long) > sizeof(int) && memchr(s, '-', (size_t)(end - s))) {
            if (-x > UINT_MAX)
                bad = true;
            else
                x &= 0xffffffffUL;
        }
        if (bad || errno || end == s || *end || x > UINT_MAX)
            return -1;
        v->value.ui = (unsigned int)x;
        return 0;
    }
    case VIR_TYPED_PARAM_LLONG: {
        long long x = strtoll(s, &end, 10);
        if (errno || end == s || *end)
            return -1;
        v->value.l = x;
        return 0;
    }
    case VIR_TYPED_PARAM_ULLONG: {
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || end == s || *end)
            return -1;
        v->value.ul = x;
        return 0;
    }
    case VIR_TYPED_PARAM_DOUBLE: {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, c_locale_init);
        double x = c_locale_value ? strtod_l(s, &end, c_locale_value) : strtod(s, &end);
        if (errno || end == s || *end)
            return -1;
        v->value.d = x;
        return 0;
    }
    case VIR_TYPED_PARAM_BOOLEAN:
        if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
            v->value.b = 1;
        else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
            v->value.b = 0;
        else
            return -1;
        return 0;
    default:
        return -1;
    }
}

int virTypedParamsAddFromString(virTypedParameterPtr *params, int *nparams, int *maxparams,
                                const char *name, int type, const char *value)
{
    compat_reset();
    virTypedParameterPtr slot;
    if (grow_one(params, nparams, maxparams, &slot) < 0)
        goto fail;
    if (!value) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "no value given for parameter '%s'",
                     name ? name : "(null)");
        goto fail;
    }
    if (set_field(slot, name) < 0)
        goto fail;
    virTypedParameter v = {0};
    if (type == VIR_TYPED_PARAM_STRING) {
        v.value.s = strdup(value);
        if (!v.value.s) {
            compat_no_memory();
            goto fail;
        }
    } else if (type < VIR_TYPED_PARAM_INT || type > VIR_TYPED_PARAM_BOOLEAN) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                     "parameter '%s' cannot have the type %d", name, type);
        goto fail;
    } else if (parse_value(value, type, &v) < 0) {
        if (type == VIR_TYPED_PARAM_BOOLEAN)
            compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                         "'%s' is no boolean value for parameter '%s'", value, name);
        else
            compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                         "'%s' is no valid %s value for parameter '%s'", value, type_name(type),
                         name);
        goto fail;
    }
    slot->type = type;
    slot->value = v.value;
    *nparams += 1;
    return 0;
fail:
    compat_dispatch(NULL);
    return -1;
}

/* ---- releasing ---- */

void virTypedParamsClear(virTypedParameterPtr params, int nparams)
{
    if (!params)
        return;
    for (int i = 0; i < nparams; i++) {
        if (params[i].type == VIR_TYPED_PARAM_STRING) {
            free(params[i].value.s);
            params[i].value.s = NULL;
        }
    }
}

void virTypedParamsFree(virTypedParameterPtr params, int nparams)
{
    virTypedParamsClear(params, nparams);
    free(params);
}
