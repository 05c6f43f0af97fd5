/* SPDX-License-Identifier: MIT */
/*
 * The JSON bridge: JSON <-> C values, driven by vrpc_type descriptors.
 * See json-bridge.h for the interface and docs/json.md for the forms.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json-bridge.h"

/* The deepest JSON nesting accepted (libvirt's types nest far less). */
#define JSON_MAX_DEPTH 64

/*
 * An integer literal outside [INT64_MIN, UINT64_MAX] is rewritten by
 * vrpc_json_parse() into a JSON string with this prefix (json-c would clamp
 * it silently), so that it is reported as out of range where it is used.
 */
static const char BIGNUM_TAG[] = "\x01\x02virtrpc-bignum:";
#define BIGNUM_TAG_LEN (sizeof(BIGNUM_TAG) - 1)

struct vrpc_json_value {
    void *root;
    void **blocks; /* every allocation made for the value */
    size_t nblocks, cap;
};

/* ---------------------------------------------------------------- helpers */

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

__attribute__((format(printf, 2, 3))) static void set_msg(char **errmsg, const char *fmt, ...)
{
    va_list ap;
    if (!errmsg)
        return;
    va_start(ap, fmt);
    *errmsg = vfmt(fmt, ap);
    va_end(ap);
}

static bool is_bignum(json_object *j)
{
    return j && json_object_is_type(j, json_type_string) &&
           (size_t)json_object_get_string_len(j) > BIGNUM_TAG_LEN &&
           memcmp(json_object_get_string(j), BIGNUM_TAG, BIGNUM_TAG_LEN) == 0;
}

/* What a JSON value is, in words, for "expected X, got Y" messages. */
static const char *json_what(json_object *j)
{
    if (!j)
        return "null";
    if (is_bignum(j))
        return "an integer";
    switch (json_object_get_type(j)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a number";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "a value";
}

static bool jis(json_object *j, json_type t)
{
    if (!j)
        return t == json_type_null;
    if (t == json_type_string && is_bignum(j))
        return false;
    return json_object_is_type(j, t);
}

/* ------------------------------------------------------------------ UUID */

/* ---------------------------------------------------------------- base64 */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode n bytes; returns a malloc'ed NUL-terminated string or NULL. */
static char *b64_encode(const uint8_t *p, size_t n)
{
    size_t olen = (n + 2) / 3 * 4;
    char *o = malloc(olen + 1), *q = o;
    size_t i;
    if (!o)
        return NULL;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *q++ = b64chars[v >> 18];
        *q++ = b64chars[(v >> 12) & 63];
        *q++ = b64chars[(v >> 6) & 63];
        *q++ = b64chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *q++ = b64chars[v >> 18];
        *q++ = b64chars[(v >> 12) & 63];
        *q++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        *q++ = '=';
    }
    *q = '\0';
    return o;
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * The number of bytes s (standard alphabet, '=' padding optional) decodes
 * to, or -1 if it is not base64. With out != NULL also decodes.
 */
static long long b64_decode(const char *s, size_t n, uint8_t *out)
{
    size_t pad = 0, full, rem, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    while (pad < 2 && n > 0 && s[n - 1] == '=') {
        n--;
        pad++;
    }
    full = n / 4;
    rem = n % 4;
    if (rem == 1 || (pad && (n + pad) % 4 != 0))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out)
                out[o] = (uint8_t)(acc >> bits);
            o++;
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero (canonical encoding). */
    if (acc != 0)
        return -1;
    (void)full;
    return (long long)o;
}

/* ----------------------------------------------------------- parse text */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is the integer literal s[0..n) outside [INT64_MIN, UINT64_MAX]? */
static bool int_literal_overflows(const char *s, size_t n)
{
    char buf[64];
    if (n >= sizeof(buf))
        return true; /* more than 60 digits: certainly too big */
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    if (buf[0] == '-')
        (void)strtoll(buf, NULL, 10);
    else
        (void)strtoull(buf, NULL, 10);
    return errno == ERANGE;
}

/*
 * Copy text, replacing integer literals that do not fit in 64 bits by tagged
 * strings. Returns NULL (nothing to rewrite, or out of memory: *oom set).
 */
static char *rewrite_bignums(const char *text, bool *oom)
{
    size_t n = strlen(text), i = 0, o = 0;
    char *out = NULL;
    *oom = false;
    while (i < n) {
        char c = text[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && text[j] != '"')
                j += text[j] == '\\' && j + 1 < n ? 2 : 1;
            j = j < n ? j + 1 : n;
            if (out)
                memcpy(out + o, text + i, j - i), o += j - i;
            i = j;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i + (c == '-'), k;
            bool isint = true;
            while (j < n && text[j] >= '0' && text[j] <= '9')
                j++;
            k = j;
            while (k < n && (text[k] == '.' || text[k] == 'e' || text[k] == 'E' || text[k] == '+' ||
                             text[k] == '-' || (text[k] >= '0' && text[k] <= '9'))) {
                isint = false;
                k++;
            }
            if (isint && j > i + (c == '-') && int_literal_overflows(text + i, j - i)) {
                if (!out) {
                    /* A literal beyond 64 bits has at least 19 digits; each
                     * grows by two quotes and the tag in \uXXXX escapes. */
                    size_t cap = n + (n / 19 + 1) * (BIGNUM_TAG_LEN * 6 + 2) + 1;
                    out = malloc(cap);
                    if (!out) {
                        *oom = true;
                        return NULL;
                    }
                    memcpy(out, text, i);
                    o = i;
                }
                out[o++] = '"';
                for (size_t t = 0; t < BIGNUM_TAG_LEN; t++)
                    o += (size_t)sprintf(out + o, "\\u%04x", (unsigned char)BIGNUM_TAG[t]);
                memcpy(out + o, text + i, j - i);
                o += j - i;
                out[o++] = '"';
                i = j;
                continue;
            }
            if (out)
                memcpy(out + o, text + i, k - i), o += k - i;
            i = k;
            continue;
        }
        if (out)
            out[o++] = c;
        i++;
    }
    if (out)
        out[o] = '\0';
    return out;
}

int vrpc_json_parse(const char *text, json_object **out, char **errmsg)
{
    struct json_tokener *tok;
    json_object *j;
    enum json_tokener_error e;
    bool oom;
    char *rewritten;
    const char *src;
    size_t len, end;

    *out = NULL;
    rewritten = rewrite_bignums(text, &oom);
    if (oom) {
        set_msg(errmsg, "out of memory");
        return VRPC_E_NOMEM;
    }
    src = rewritten ? rewritten : text;
    len = strlen(src);
    if (len > INT_MAX) {
        free(rewritten);
        set_msg(errmsg, "JSON text too long");
        return VRPC_E_TOO_BIG;
    }
    tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok) {
        free(rewritten);
        set_msg(errmsg, "out of memory");
        return VRPC_E_NOMEM;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    j = json_tokener_parse_ex(tok, src, (int)len);
    e = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (e == json_tokener_continue) {
        /* A bare number at the very end needs an explicit end of input. */
        j = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
        if (e == json_tokener_success)
            end = len;
    }
    if (e != json_tokener_success) {
        if (e == json_tokener_continue)
            set_msg(errmsg, "invalid JSON: unexpected end of input");
        else
            set_msg(errmsg, "invalid JSON at offset %zu: %s", end, json_tokener_error_desc(e));
        json_object_put(j);
        json_tokener_free(tok);
        free(rewritten);
        return VRPC_E_INVALID;
    }
    json_tokener_free(tok);
    while (end < len && is_ws(src[end]))
        end++;
    if (end < len) {
        set_msg(errmsg, "invalid JSON at offset %zu: unexpected data after the value", end);
        json_object_put(j);
        free(rewritten);
        return VRPC_E_INVALID;
    }
    free(rewritten);
    *out = j;
    return 0;
}

/* ------------------------------------------------------- JSON -> C value */

typedef struct ctx {
    vrpc_json_value *v;
    char *path;
    size_t plen, pcap;
    char **errmsg;
} ctx;

static void path_add(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_add(ctx *x, const char *fmt, ...)
{
    va_list ap;
    char *s;
    size_t n;
    va_start(ap, fmt);
    s = vfmt(fmt, ap);
    va_end(ap);
    if (!s)
        return; /* the path is only for messages: a shorter one will do */
    n = strlen(s);
    if (x->plen + n + 1 > x->pcap) {
        size_t cap = (x->plen + n + 1) * 2;
        char *p = realloc(x->path, cap);
        if (!p) {
            free(s);
            return;
        }
        x->path = p;
        x->pcap = cap;
    }
    memcpy(x->path + x->plen, s, n + 1);
    x->plen += n;
    free(s);
}

static void path_cut(ctx *x, size_t mark)
{
    if (x->path && mark <= x->plen) {
        x->plen = mark;
        x->path[mark] = '\0';
    }
}

__attribute__((format(printf, 3, 4))) static int fail(ctx *x, int rc, const char *fmt, ...)
{
    va_list ap;
    char *m;
    if (!x->errmsg || *x->errmsg)
        return rc;
    va_start(ap, fmt);
    m = vfmt(fmt, ap);
    va_end(ap);
    if (m && x->path && x->plen) {
        char *full = NULL;
        if (asprintf(&full, "%s: %s", x->path, m) < 0)
            full = NULL;
        free(m);
        m = full;
    }
    *x->errmsg = m;
    return rc;
}

static int oom(ctx *x)
{
    return fail(x, VRPC_E_NOMEM, "out of memory");
}

static void *take(ctx *x, size_t n)
{
    vrpc_json_value *v = x->v;
    void *p;
    if (v->nblocks == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **b = realloc(v->blocks, cap * sizeof(*b));
        if (!b)
            return NULL;
        v->blocks = b;
        v->cap = cap;
    }
    p = calloc(1, n ? n : 1);
    if (p)
        v->blocks[v->nblocks++] = p;
    return p;
}

/*
 * Read an integer: a JSON integer or a decimal string. *neg tells whether
 * it is negative; *mag is its magnitude. Returns 0, 1 (not an integer) or
 * 2 (an integer too large for 64 bits).
 */
static int read_integer(json_object *j, bool *neg, uint64_t *mag)
{
    if (is_bignum(j))
        return 2;
    if (jis(j, json_type_int)) {
        int64_t i = json_object_get_int64(j);
        if (i < 0) {
            *neg = true;
            *mag = (uint64_t)(-(i + 1)) + 1;
        } else {
            *neg = false;
            *mag = json_object_get_uint64(j);
        }
        return 0;
    }
    if (jis(j, json_type_string)) {
        const char *s = json_object_get_string(j), *d = s;
        char *end;
        if (*d == '-')
            d++;
        if (*d < '0' || *d > '9' || strlen(s) != (size_t)json_object_get_string_len(j))
            return 1;
        for (const char *p = d; *p; p++)
            if (*p < '0' || *p > '9')
                return 1;
        errno = 0;
        *mag = strtoull(d, &end, 10);
        if (errno == ERANGE)
            return 2;
        *neg = s[0] == '-' && *mag != 0;
        return 0;
    }
    return 1;
}

static const char *kind_word(uint8_t kind)
{
    switch (kind) {
    case VRPC_KIND_INT:
        return "int";
    case VRPC_KIND_UINT:
        return "unsigned int";
    case VRPC_KIND_HYPER:
        return "hyper";
    case VRPC_KIND_UHYPER:
        return "unsigned hyper";
    case VRPC_KIND_CHAR:
        return "char";
    case VRPC_KIND_UCHAR:
        return "unsigned char";
    case VRPC_KIND_SHORT:
        return "short";
    case VRPC_KIND_USHORT:
        return "unsigned short";
    case VRPC_KIND_ENUM:
        return "enum";
    }
    return "integer";
}

/* An integer in [min, max] (min <= 0). */
static int get_int(ctx *x, json_object *j, uint8_t kind, int64_t min, uint64_t max, int64_t *s,
                   uint64_t *u)
{
    bool neg = false;
    uint64_t mag = 0;
    int r = read_integer(j, &neg, &mag);
    if (r == 1)
        return fail(x, VRPC_E_INVALID, "expected an integer (%s), got %s", kind_word(kind),
                    json_what(j));
    if (r == 2 || (neg && (min == 0 || mag - 1 > (uint64_t)(-(min + 1)))) || (!neg && mag > max))
        return fail(x, VRPC_E_INVALID, "value out of range for %s [%" PRId64 ", %" PRIu64 "]",
                    kind_word(kind), min, max);
    if (neg) {
        *s = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        *u = 0;
    } else {
        *s = mag <= (uint64_t)INT64_MAX ? (int64_t)mag : INT64_MAX;
        *u = mag;
    }
    return 0;
}

static int get_double(ctx *x, json_object *j, double *d)
{
    if (jis(j, json_type_double) || jis(j, json_type_int)) {
        *d = json_object_get_double(j);
        if (jis(j, json_type_int) && json_object_get_int64(j) >= 0)
            *d = (double)json_object_get_uint64(j);
        return 0;
    }
    if (jis(j, json_type_string)) {
        const char *s = json_object_get_string(j);
        if (strcmp(s, "NaN") == 0) {
            *d = NAN;
            return 0;
        }
        if (strcmp(s, "Infinity") == 0) {
            *d = INFINITY;
            return 0;
        }
        if (strcmp(s, "-Infinity") == 0) {
            *d = -INFINITY;
            return 0;
        }
    }
    return fail(x, VRPC_E_INVALID, "expected a number, got %s", json_what(j));
}

static const char *type_name(const vrpc_type *t)
{
    return t->name ? t->name : "the type";
}

/* An enumerator's name, or any int32 as a number: a value the .x file does
 * not list is passed on (a newer daemon may know it), as the codec does. */
static int get_enum(ctx *x, const vrpc_type *t, json_object *j, int32_t *out)
{
    int64_t s;
    uint64_t u;
    int rc;
    if (jis(j, json_type_string)) {
        const char *name = json_object_get_string(j);
        bool digits = (*name == '-' || (*name >= '0' && *name <= '9'));
        if (!digits) {
            for (uint32_t i = 0; i < t->nvalues; i++)
                if (strcmp(t->values[i].name, name) == 0) {
                    *out = t->values[i].value;
                    return 0;
                }
            for (uint32_t i = 0; i < t->nvalues; i++)
                if (strcasecmp(t->values[i].name, name) == 0) {
                    *out = t->values[i].value;
                    return 0;
                }
            return fail(x, VRPC_E_INVALID, "\"%s\" is not a value of %s", name, type_name(t));
        }
    }
    if (!jis(j, json_type_int) && !jis(j, json_type_string) && !is_bignum(j))
        return fail(x, VRPC_E_INVALID, "expected an integer or an enumerator name (%s), got %s",
                    type_name(t), json_what(j));
    rc = get_int(x, j, VRPC_KIND_ENUM, INT32_MIN, INT32_MAX, &s, &u);
    if (rc)
        return rc;
    *out = (int32_t)s;
    return 0;
}

static int get_string(ctx *x, const vrpc_type *t, json_object *j, char **out)
{
    const char *s;
    size_t n;
    char *d;
    if (!jis(j, json_type_string))
        return fail(x, VRPC_E_INVALID, "expected a string, got %s", json_what(j));
    s = json_object_get_string(j);
    n = (size_t)json_object_get_string_len(j);
    if (strlen(s) != n)
        return fail(x, VRPC_E_INVALID, "the string contains a NUL character");
    if (t->bound != VRPC_UNBOUNDED && n > t->bound)
        return fail(x, VRPC_E_TOO_BIG, "string of %zu bytes exceeds the bound of %" PRIu32, n,
                    t->bound);
    d = take(x, n + 1);
    if (!d)
        return oom(x);
    memcpy(d, s, n + 1);
    *out = d;
    return 0;
}

static int to_c(ctx *x, const vrpc_type *t, json_object *j, uint8_t *dst);

static bool is_char_kind(const vrpc_type *t)
{
    return t && (t->kind == VRPC_KIND_CHAR || t->kind == VRPC_KIND_UCHAR);
}

/* n elements of type elem from a JSON array (or, for char elements, a string). */
/*
 * Char arrays travel as JSON strings with one character per byte: bytes
 * 0x00-0x7f as themselves, 0x80-0xff as U+0080-U+00FF (two bytes of UTF-8).
 * Decode such a string: the number of bytes it stands for, or -1 when it
 * holds a character above U+00FF or is not UTF-8. With out, store them.
 */
static long long latin1_decode(const char *s, size_t len, uint8_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (out)
                out[n] = c;
            i++;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < len &&
                   ((unsigned char)s[i + 1] & 0xc0) == 0x80) {
            if (out)
                out[n] = (uint8_t)((c & 0x03) << 6 | ((unsigned char)s[i + 1] & 0x3f));
            i += 2;
        } else {
            return -1;
        }
    }
    return (long long)n;
}

static int get_items(ctx *x, const vrpc_type *elem, json_object *j, uint8_t *items, size_t n)
{
    if (jis(j, json_type_string)) {
        /* array_count() has checked the string and its length. */
        latin1_decode(json_object_get_string(j), (size_t)json_object_get_string_len(j), items);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t mark = x->plen;
        int rc;
        path_add(x, "[%zu]", i);
        rc = to_c(x, elem, json_object_array_get_idx(j, i), items + i * elem->size);
        if (rc)
            return rc;
        path_cut(x, mark);
    }
    return 0;
}

/* The number of elements j holds, checking its JSON type. */
static int array_count(ctx *x, const vrpc_type *t, json_object *j, size_t *n)
{
    if (jis(j, json_type_array)) {
        *n = json_object_array_length(j);
        return 0;
    }
    if (is_char_kind(t->elem) && jis(j, json_type_string)) {
        long long len =
            latin1_decode(json_object_get_string(j), (size_t)json_object_get_string_len(j), NULL);
        if (len < 0)
            return fail(x, VRPC_E_INVALID,
                        "a string for a char array may only hold the characters U+0000 to "
                        "U+00FF (one per byte)");
        *n = (size_t)len;
        return 0;
    }
    return fail(x, VRPC_E_INVALID, "expected %s, got %s",
                is_char_kind(t->elem) ? "a string or an array" : "an array", json_what(j));
}

static int discriminant_value(const vrpc_type *dt, const uint8_t *p, int64_t *v)
{
    switch (dt->kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_ENUM: {
        int32_t i;
        memcpy(&i, p, 4);
        *v = i;
        return 0;
    }
    case VRPC_KIND_UINT: {
        uint32_t i;
        memcpy(&i, p, 4);
        *v = i;
        return 0;
    }
    case VRPC_KIND_BOOL: {
        bool b;
        memcpy(&b, p, sizeof(b));
        *v = b;
        return 0;
    }
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER: {
        int64_t i;
        memcpy(&i, p, 8);
        *v = i;
        return 0;
    }
    case VRPC_KIND_SHORT: {
        int16_t i;
        memcpy(&i, p, 2);
        *v = i;
        return 0;
    }
    case VRPC_KIND_USHORT: {
        uint16_t i;
        memcpy(&i, p, 2);
        *v = i;
        return 0;
    }
    case VRPC_KIND_CHAR:
        *v = *(const char *)p;
        return 0;
    case VRPC_KIND_UCHAR:
        *v = *p;
        return 0;
    }
    return -1;
}

static const vrpc_union_arm *union_arm(const vrpc_type *t, int64_t d)
{
    for (uint32_t i = 0; i < t->narms; i++)
        if (t->arms[i].value == d)
            return &t->arms[i];
    return t->default_arm;
}

static int to_c_struct(ctx *x, const vrpc_type *t, json_object *j, uint8_t *dst)
{
    if (!jis(j, json_type_object))
        return fail(x, VRPC_E_INVALID, "expected an object (%s), got %s", type_name(t),
                    json_what(j));
    /* Unknown members first: a misspelt name is reported as what it is. */
    json_object_object_foreach(j, key, val)
    {
        bool known = false;
        (void)val;
        for (uint32_t i = 0; i < t->nfields && !known; i++)
            known = strcmp(t->fields[i].name, key) == 0;
        if (!known) {
            path_add(x, ".%s", key);
            return fail(x, VRPC_E_INVALID, "unknown member of %s", type_name(t));
        }
    }
    for (uint32_t i = 0; i < t->nfields; i++) {
        const vrpc_field *f = &t->fields[i];
        json_object *m = NULL;
        size_t mark = x->plen;
        int rc;
        path_add(x, ".%s", f->name);
        if (!json_object_object_get_ex(j, f->name, &m))
            return fail(x, VRPC_E_INVALID, "missing member");
        rc = to_c(x, f->type, m, dst + f->offset);
        if (rc)
            return rc;
        path_cut(x, mark);
    }
    return 0;
}

static int to_c_union(ctx *x, const vrpc_type *t, json_object *j, uint8_t *dst)
{
    const vrpc_field *df = &t->fields[0];
    const vrpc_union_arm *arm;
    json_object *dj = NULL, *aj = NULL;
    size_t mark = x->plen;
    int64_t d;
    int rc;

    if (!jis(j, json_type_object))
        return fail(x, VRPC_E_INVALID, "expected an object (%s), got %s", type_name(t),
                    json_what(j));
    path_add(x, ".%s", df->name);
    if (!json_object_object_get_ex(j, df->name, &dj))
        return fail(x, VRPC_E_INVALID, "missing member (the discriminant of %s)", type_name(t));
    rc = to_c(x, df->type, dj, dst + df->offset);
    if (rc)
        return rc;
    if (discriminant_value(df->type, dst + df->offset, &d) != 0)
        return fail(x, VRPC_E_INVALID, "unsupported discriminant kind");
    arm = union_arm(t, d);
    if (!arm)
        return fail(x, VRPC_E_INVALID, "%" PRId64 " selects no arm of %s", d, type_name(t));
    path_cut(x, mark);
    json_object_object_foreach(j, key, val)
    {
        (void)val;
        if (strcmp(key, df->name) == 0 || (arm->name && strcmp(key, arm->name) == 0))
            continue;
        path_add(x, ".%s", key);
        if (arm->name)
            return fail(x, VRPC_E_INVALID, "unknown member (%s %" PRId64 " has member \"%s\")",
                        df->name, d, arm->name);
        return fail(x, VRPC_E_INVALID, "unknown member (%s %" PRId64 " has no value)", df->name, d);
    }
    if (!arm->name || !arm->type)
        return 0;
    path_add(x, ".%s", arm->name);
    if (!json_object_object_get_ex(j, arm->name, &aj))
        return fail(x, VRPC_E_INVALID, "missing member (the value for %s %" PRId64 ")", df->name,
                    d);
    rc = to_c(x, arm->type, aj, dst + arm->offset);
    if (rc)
        return rc;
    path_cut(x, mark);
    return 0;
}

static int to_c(ctx *x, const vrpc_type *t, json_object *j, uint8_t *dst)
{
    int64_t s;
    uint64_t u;
    int rc;

    switch (t->kind) {
    case VRPC_KIND_VOID:
        if (!jis(j, json_type_null) &&
            !(jis(j, json_type_object) && json_object_object_length(j) == 0))
            return fail(x, VRPC_E_INVALID, "expected null (no value), got %s", json_what(j));
        return 0;
    case VRPC_KIND_INT:
        rc = get_int(x, j, t->kind, INT32_MIN, INT32_MAX, &s, &u);
        if (!rc)
            *(int32_t *)dst = (int32_t)s;
        return rc;
    case VRPC_KIND_UINT:
        rc = get_int(x, j, t->kind, 0, UINT32_MAX, &s, &u);
        if (!rc)
            *(uint32_t *)dst = (uint32_t)u;
        return rc;
    case VRPC_KIND_HYPER:
        rc = get_int(x, j, t->kind, INT64_MIN, INT64_MAX, &s, &u);
        if (!rc)
            *(int64_t *)dst = s;
        return rc;
    case VRPC_KIND_UHYPER:
        rc = get_int(x, j, t->kind, 0, UINT64_MAX, &s, &u);
        if (!rc)
            *(uint64_t *)dst = u;
        return rc;
    case VRPC_KIND_CHAR:
        rc = get_int(x, j, t->kind, CHAR_MIN, CHAR_MAX, &s, &u);
        if (!rc)
            *(char *)dst = (char)s;
        return rc;
    case VRPC_KIND_UCHAR:
        rc = get_int(x, j, t->kind, 0, UINT8_MAX, &s, &u);
        if (!rc)
            *dst = (uint8_t)u;
        return rc;
    case VRPC_KIND_SHORT:
        rc = get_int(x, j, t->kind, INT16_MIN, INT16_MAX, &s, &u);
        if (!rc)
            *(int16_t *)dst = (int16_t)s;
        return rc;
    case VRPC_KIND_USHORT:
        rc = get_int(x, j, t->kind, 0, UINT16_MAX, &s, &u);
        if (!rc)
            *(uint16_t *)dst = (uint16_t)u;
        return rc;
    case VRPC_KIND_BOOL:
        if (jis(j, json_type_boolean)) {
            *(bool *)dst = json_object_get_boolean(j);
            return 0;
        }
        if (jis(j, json_type_int) &&
            (json_object_get_int64(j) == 0 || json_object_get_int64(j) == 1)) {
            *(bool *)dst = json_object_get_int64(j) == 1;
            return 0;
        }
        return fail(x, VRPC_E_INVALID, "expected a boolean, got %s", json_what(j));
    case VRPC_KIND_FLOAT: {
        double d;
        rc = get_double(x, j, &d);
        if (rc)
            return rc;
        if (isfinite(d) && fabs(d) > FLT_MAX)
            return fail(x, VRPC_E_INVALID, "value out of range for float");
        *(float *)dst = (float)d;
        return 0;
    }
    case VRPC_KIND_DOUBLE:
        return get_double(x, j, (double *)dst);
    case VRPC_KIND_ENUM:
        return get_enum(x, t, j, (int32_t *)dst);
    case VRPC_KIND_STRING:
        return get_string(x, t, j, (char **)dst);
    case VRPC_KIND_OPT_STRING:
        if (jis(j, json_type_null)) {
            *(char **)dst = NULL;
            return 0;
        }
        return get_string(x, t, j, (char **)dst);
    case VRPC_KIND_OPAQUE_FIXED:
    case VRPC_KIND_OPAQUE_VAR: {
        const char *str;
        size_t slen;
        long long n;
        bool uuid = t->kind == VRPC_KIND_OPAQUE_FIXED && t->bound == 16;
        if (!jis(j, json_type_string))
            return fail(x, VRPC_E_INVALID, "expected a %s string, got %s", uuid ? "UUID" : "base64",
                        json_what(j));
        str = json_object_get_string(j);
        slen = (size_t)json_object_get_string_len(j);
        if (uuid && slen == 36) {
            if (vrpc_uuid_parse(str, dst) != 0)
                return fail(x, VRPC_E_INVALID, "expected a UUID string, got \"%s\"", str);
            return 0;
        }
        n = b64_decode(str, slen, NULL);
        if (n < 0) {
            if (uuid)
                return fail(x, VRPC_E_INVALID,
                            "expected a UUID string (or 16 bytes in base64), got \"%s\"", str);
            return fail(x, VRPC_E_INVALID, "expected a base64 string");
        }
        if (t->kind == VRPC_KIND_OPAQUE_FIXED) {
            if ((unsigned long long)n != t->bound) {
                if (uuid)
                    return fail(x, VRPC_E_INVALID,
                                "expected a UUID string (or 16 bytes in base64), got \"%s\"", str);
                return fail(x, VRPC_E_INVALID,
                            "expected exactly %" PRIu32 " bytes (in base64), got %lld", t->bound,
                            n);
            }
            b64_decode(str, slen, dst);
            return 0;
        }
        if (t->bound != VRPC_UNBOUNDED && (unsigned long long)n > t->bound)
            return fail(x, VRPC_E_TOO_BIG, "%lld bytes exceed the bound of %" PRIu32, n, t->bound);
        {
            vrpc_bytes by;
            by.len = (uint32_t)n;
            by.data = take(x, (size_t)n);
            if (!by.data)
                return oom(x);
            b64_decode(str, slen, by.data);
            memcpy(dst, &by, sizeof(by));
        }
        return 0;
    }
    case VRPC_KIND_ARRAY_FIXED: {
        size_t n;
        rc = array_count(x, t, j, &n);
        if (rc)
            return rc;
        if (jis(j, json_type_string) ? n > t->bound : n != t->bound)
            return fail(x, VRPC_E_INVALID, "expected %s%" PRIu32 " elements, got %zu",
                        jis(j, json_type_string) ? "at most " : "exactly ", t->bound, n);
        return get_items(x, t->elem, j, dst, t->bound);
    }
    case VRPC_KIND_ARRAY_VAR: {
        size_t n;
        vrpc_array a;
        rc = array_count(x, t, j, &n);
        if (rc)
            return rc;
        if (t->bound != VRPC_UNBOUNDED && n > t->bound)
            return fail(x, VRPC_E_TOO_BIG, "%zu elements exceed the bound of %" PRIu32, n,
                        t->bound);
        if (n > UINT32_MAX || (t->elem->size && n > SIZE_MAX / t->elem->size))
            return fail(x, VRPC_E_TOO_BIG, "too many elements");
        a.n = (uint32_t)n;
        a.items = take(x, n * t->elem->size);
        if (!a.items)
            return oom(x);
        memcpy(dst, &a, sizeof(a));
        return get_items(x, t->elem, j, a.items, n);
    }
    case VRPC_KIND_OPTIONAL: {
        void *p;
        if (jis(j, json_type_null)) {
            *(void **)dst = NULL;
            return 0;
        }
        p = take(x, t->elem->size);
        if (!p)
            return oom(x);
        *(void **)dst = p;
        return to_c(x, t->elem, j, p);
    }
    case VRPC_KIND_STRUCT:
        return to_c_struct(x, t, j, dst);
    case VRPC_KIND_UNION:
        return to_c_union(x, t, j, dst);
    }
    return fail(x, VRPC_E_INVALID, "unsupported type kind %u", t->kind);
}

void *vrpc_json_value_get(const vrpc_json_value *v)
{
    return v ? v->root : NULL;
}

void vrpc_json_value_free(vrpc_json_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nblocks; i++)
        free(v->blocks[i]);
    free(v->blocks);
    free(v);
}

int vrpc_json_to_c(const vrpc_type *t, json_object *j, const char *path, vrpc_json_value **out,
                   char **errmsg)
{
    ctx x = {0};
    int rc;

    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    x.errmsg = errmsg;
    x.v = calloc(1, sizeof(*x.v));
    if (!x.v)
        return oom(&x);
    path_add(&x, "%s", path && *path ? path : "value");
    if (!t || t->kind == VRPC_KIND_VOID) {
        if (!jis(j, json_type_null) &&
            !(jis(j, json_type_object) && json_object_object_length(j) == 0)) {
            rc = fail(&x, VRPC_E_INVALID, "expected no value (null or {}), got %s", json_what(j));
            goto out;
        }
        rc = 0;
        goto out;
    }
    x.v->root = take(&x, t->size);
    rc = x.v->root ? to_c(&x, t, j, x.v->root) : oom(&x);
out:
    free(x.path);
    if (rc) {
        vrpc_json_value_free(x.v);
        return rc;
    }
    *out = x.v;
    return 0;
}

/* ------------------------------------------------------- C value -> JSON */

/* JSON null is a NULL json_object: errors are told by the return code. */

static int from_c(const vrpc_type *t, const uint8_t *p, json_object **out, char **errmsg);

static int nomem(char **errmsg)
{
    if (errmsg && !*errmsg)
        set_msg(errmsg, "out of memory");
    return VRPC_E_NOMEM;
}

static int from_items(const vrpc_type *elem, const uint8_t *items, size_t n, json_object **out,
                      char **errmsg)
{
    json_object *a = json_object_new_array_ext((int)(n < INT_MAX ? n : INT_MAX));
    if (!a)
        return nomem(errmsg);
    for (size_t i = 0; i < n; i++) {
        json_object *e = NULL;
        int rc = from_c(elem, items + i * elem->size, &e, errmsg);
        if (!rc && json_object_array_add(a, e) != 0) {
            json_object_put(e);
            rc = nomem(errmsg);
        }
        if (rc) {
            json_object_put(a);
            return rc;
        }
    }
    *out = a;
    return 0;
}

/* A char array as a string of one character per byte (see latin1_decode). */
static int from_chars(const uint8_t *p, size_t n, json_object **out, char **errmsg)
{
    char *s;
    size_t o = 0;
    if (n > (size_t)INT_MAX / 2)
        return nomem(errmsg);
    s = malloc(n * 2 + 1);
    if (!s)
        return nomem(errmsg);
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            s[o++] = (char)p[i];
        } else {
            s[o++] = (char)(0xc0 | p[i] >> 6);
            s[o++] = (char)(0x80 | (p[i] & 0x3f));
        }
    }
    *out = json_object_new_string_len(s, (int)o);
    free(s);
    return *out ? 0 : nomem(errmsg);
}

static int from_double(double d, json_object **out, char **errmsg)
{
    if (isnan(d))
        *out = json_object_new_string("NaN");
    else if (isinf(d))
        *out = json_object_new_string(d > 0 ? "Infinity" : "-Infinity");
    else
        *out = json_object_new_double(d);
    return *out ? 0 : nomem(errmsg);
}

static int add_member(json_object *o, const char *key, const vrpc_type *t, const uint8_t *p,
                      char **errmsg)
{
    json_object *m = NULL;
    int rc = from_c(t, p, &m, errmsg);
    if (rc)
        return rc;
    if (json_object_object_add(o, key, m) != 0) {
        json_object_put(m);
        return nomem(errmsg);
    }
    return 0;
}

static int from_c(const vrpc_type *t, const uint8_t *p, json_object **out, char **errmsg)
{
    json_object *j = NULL;

    *out = NULL;
    switch (t->kind) {
    case VRPC_KIND_VOID:
        return 0;
    case VRPC_KIND_INT:
    case VRPC_KIND_ENUM:
        j = json_object_new_int64(*(const int32_t *)p);
        break;
    case VRPC_KIND_UINT:
        j = json_object_new_int64(*(const uint32_t *)p);
        break;
    case VRPC_KIND_HYPER:
        j = json_object_new_int64(*(const int64_t *)p);
        break;
    case VRPC_KIND_UHYPER:
        j = json_object_new_uint64(*(const uint64_t *)p);
        break;
    case VRPC_KIND_CHAR:
        j = json_object_new_int64(*(const char *)p);
        break;
    case VRPC_KIND_UCHAR:
        j = json_object_new_int64(*p);
        break;
    case VRPC_KIND_SHORT:
        j = json_object_new_int64(*(const int16_t *)p);
        break;
    case VRPC_KIND_USHORT:
        j = json_object_new_int64(*(const uint16_t *)p);
        break;
    case VRPC_KIND_BOOL:
        j = json_object_new_boolean(*(const bool *)p);
        break;
    case VRPC_KIND_FLOAT:
        return from_double(*(const float *)p, out, errmsg);
    case VRPC_KIND_DOUBLE:
        return from_double(*(const double *)p, out, errmsg);
    case VRPC_KIND_STRING:
    case VRPC_KIND_OPT_STRING: {
        const char *s = *(char *const *)p;
        if (!s)
            return 0; /* null */
        j = json_object_new_string(s);
        break;
    }
    case VRPC_KIND_OPAQUE_FIXED:
        if (t->bound == 16) {
            char u[37];
            vrpc_uuid_format(p, u);
            j = json_object_new_string(u);
        } else {
            char *s = b64_encode(p, t->bound);
            j = s ? json_object_new_string(s) : NULL;
            free(s);
        }
        break;
    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes by;
        char *s;
        memcpy(&by, p, sizeof(by));
        s = b64_encode(by.data, by.data ? by.len : 0);
        j = s ? json_object_new_string(s) : NULL;
        free(s);
        break;
    }
    case VRPC_KIND_ARRAY_FIXED:
        if (is_char_kind(t->elem)) {
            /* Trailing zero bytes are left out (and filled in on input). */
            size_t n = t->bound;
            while (n > 0 && p[n - 1] == 0)
                n--;
            return from_chars(p, n, out, errmsg);
        }
        return from_items(t->elem, p, t->bound, out, errmsg);
    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        memcpy(&a, p, sizeof(a));
        if (is_char_kind(t->elem))
            return from_chars(a.items, a.items ? a.n : 0, out, errmsg);
        return from_items(t->elem, a.items, a.items ? a.n : 0, out, errmsg);
    }
    case VRPC_KIND_OPTIONAL: {
        const uint8_t *e = *(const uint8_t *const *)p;
        if (!e)
            return 0; /* null */
        return from_c(t->elem, e, out, errmsg);
    }
    case VRPC_KIND_STRUCT:
        j = json_object_new_object();
        if (!j)
            return nomem(errmsg);
        for (uint32_t i = 0; i < t->nfields; i++) {
            const vrpc_field *f = &t->fields[i];
            int rc = add_member(j, f->name, f->type, p + f->offset, errmsg);
            if (rc) {
                json_object_put(j);
                return rc;
            }
        }
        *out = j;
        return 0;
    case VRPC_KIND_UNION: {
        const vrpc_field *df = &t->fields[0];
        const vrpc_union_arm *arm;
        int64_t d;
        int rc;
        if (discriminant_value(df->type, p + df->offset, &d) != 0) {
            if (errmsg && !*errmsg)
                set_msg(errmsg, "%s: unsupported discriminant kind", type_name(t));
            return VRPC_E_INVALID;
        }
        arm = union_arm(t, d);
        if (!arm) {
            if (errmsg && !*errmsg)
                set_msg(errmsg, "%s: discriminant %" PRId64 " selects no arm", type_name(t), d);
            return VRPC_E_INVALID;
        }
        j = json_object_new_object();
        if (!j)
            return nomem(errmsg);
        rc = add_member(j, df->name, df->type, p + df->offset, errmsg);
        if (!rc && arm->name && arm->type)
            rc = add_member(j, arm->name, arm->type, p + arm->offset, errmsg);
        if (rc) {
            json_object_put(j);
            return rc;
        }
        *out = j;
        return 0;
    }
    default:
        if (errmsg && !*errmsg)
            set_msg(errmsg, "unsupported type kind %u", t->kind);
        return VRPC_E_INVALID;
    }
    if (!j)
        return nomem(errmsg);
    *out = j;
    return 0;
}

int vrpc_json_from_c(const vrpc_type *t, const void *value, json_object **out, char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (!t || t->kind == VRPC_KIND_VOID || !value)
        return 0;
    return from_c(t, value, out, errmsg);
}
