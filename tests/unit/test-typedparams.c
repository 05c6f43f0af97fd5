/* SPDX-License-Identifier: MIT */
/* Typed parameters: every getter and adder, their errors and bounds, the text
 * form, and a builder's array through the codec and back. */
#include <float.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/typedparams.h>

#include "tap.h"

static bool err_has(const vrpc_error *e, const char *needle)
{
    return e && e->message && strstr(e->message, needle);
}

static void clear_err(vrpc_error **e)
{
    vrpc_free(*e);
    *e = NULL;
}

/* A builder with one parameter of each type. */
static vrpc_typed_params *build_all(void)
{
    vrpc_typed_params *b = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_typed_params_new(&b);
    rc = rc ? rc : vrpc_typed_params_add_int(b, "i", -7, &e);
    rc = rc ? rc : vrpc_typed_params_add_uint(b, "ui", UINT32_MAX, &e);
    rc = rc ? rc : vrpc_typed_params_add_llong(b, "l", INT64_MIN, &e);
    rc = rc ? rc : vrpc_typed_params_add_ullong(b, "ul", UINT64_MAX, &e);
    rc = rc ? rc : vrpc_typed_params_add_double(b, "d", 0.25, &e);
    rc = rc ? rc : vrpc_typed_params_add_boolean(b, "b", true, &e);
    rc = rc ? rc : vrpc_typed_params_add_string(b, "s", "hello", &e);
    if (rc) {
        tap_diag("build_all: %s", e && e->message ? e->message : vrpc_strerror(rc));
        vrpc_free(e);
        vrpc_typed_params_free(b);
        return NULL;
    }
    return b;
}

static void test_get_every_type(void)
{
    vrpc_typed_params *b = build_all();
    const vrpc_typed_param *p;
    vrpc_error *e = NULL;
    int32_t i = 0;
    uint32_t ui = 0;
    int64_t l = 0;
    uint64_t ul = 0;
    double d = 0;
    bool bo = false;
    const char *s = NULL;
    uint32_t n;

    TAP_OK(b, "a builder takes one parameter of every type");
    if (!b)
        return;
    n = vrpc_typed_params_count(b);
    p = vrpc_typed_params_items(b);
    TAP_OK(n == 7 && p, "count 7 and an array");
    TAP_OK(vrpc_typed_params_get_int(p, n, "i", &i, &e) == 0 && i == -7, "get int");
    TAP_OK(vrpc_typed_params_get_uint(p, n, "ui", &ui, &e) == 0 && ui == UINT32_MAX, "get uint");
    TAP_OK(vrpc_typed_params_get_llong(p, n, "l", &l, &e) == 0 && l == INT64_MIN, "get llong");
    TAP_OK(vrpc_typed_params_get_ullong(p, n, "ul", &ul, &e) == 0 && ul == UINT64_MAX,
           "get ullong");
    TAP_OK(vrpc_typed_params_get_double(p, n, "d", &d, &e) == 0 && d == 0.25, "get double");
    TAP_OK(vrpc_typed_params_get_boolean(p, n, "b", &bo, &e) == 0 && bo, "get boolean");
    TAP_OK(vrpc_typed_params_get_string(p, n, "s", &s, &e) == 0 && s && strcmp(s, "hello") == 0,
           "get string");
    TAP_OK(s == p[6].value.u.s, "the string points into the array");
    TAP_OK(e == NULL, "no error object after successful gets");
    TAP_OK(p[0].value.type == VRPC_TYPED_PARAM_INT && p[1].value.type == VRPC_TYPED_PARAM_UINT &&
               p[2].value.type == VRPC_TYPED_PARAM_LLONG &&
               p[3].value.type == VRPC_TYPED_PARAM_ULLONG &&
               p[4].value.type == VRPC_TYPED_PARAM_DOUBLE &&
               p[5].value.type == VRPC_TYPED_PARAM_BOOLEAN &&
               p[6].value.type == VRPC_TYPED_PARAM_STRING && p[5].value.u.b == 1,
           "the array holds the wire types in the order added (boolean stored as 1)");
    TAP_OK(vrpc_typed_params_find(p, n, "ul") == &p[3], "find returns the parameter");
    TAP_OK(vrpc_typed_params_find(p, n, "nope") == NULL, "find: NULL for a missing name");
    TAP_OK(vrpc_typed_params_find(NULL, 3, "i") == NULL &&
               vrpc_typed_params_find(p, n, NULL) == NULL,
           "find: NULL for a NULL array or name");
    vrpc_typed_params_free(b);
}

static void test_get_errors(void)
{
    vrpc_typed_params *b = build_all();
    const vrpc_typed_param *p;
    vrpc_error *e = NULL;
    uint32_t n;
    int32_t i = 42;
    uint64_t ul = 42;
    const char *s = "untouched";
    vrpc_typed_param odd;
    int rc;

    if (!b) {
        TAP_OK(0, "builder for the error tests");
        return;
    }
    n = vrpc_typed_params_count(b);
    p = vrpc_typed_params_items(b);

    rc = vrpc_typed_params_get_int(p, n, "missing", &i, &e);
    TAP_OK(rc == VRPC_E_NOT_FOUND && i == 42, "missing: VRPC_E_NOT_FOUND, value untouched");
    TAP_OK(e && e->code == VRPC_ERR_INVALID_ARG && err_has(e, "no typed parameter 'missing'"),
           "missing: the error names the parameter (%s)", e ? e->message : "none");
    clear_err(&e);

    rc = vrpc_typed_params_get_ullong(p, n, "ui", &ul, &e);
    TAP_OK(rc == VRPC_E_INVALID && ul == 42, "uint read as ullong: VRPC_E_INVALID, no conversion");
    TAP_OK(err_has(e, "'ui' has type uint, not ullong"),
           "wrong type: the error names both types (%s)", e ? e->message : "none");
    clear_err(&e);

    rc = vrpc_typed_params_get_string(p, n, "i", &s, &e);
    TAP_OK(rc == VRPC_E_INVALID && strcmp(s, "untouched") == 0 &&
               err_has(e, "'i' has type int, not string"),
           "int read as string refused (%s)", e ? e->message : "none");
    clear_err(&e);

    rc = vrpc_typed_params_get_int(p, n, NULL, &i, &e);
    TAP_OK(rc == VRPC_E_INVALID && e, "NULL name: VRPC_E_INVALID");
    clear_err(&e);
    rc = vrpc_typed_params_get_int(p, n, "i", NULL, &e);
    TAP_OK(rc == VRPC_E_INVALID && e, "NULL value pointer: VRPC_E_INVALID");
    clear_err(&e);
    TAP_OK(vrpc_typed_params_get_int(p, n, "missing", &i, NULL) == VRPC_E_NOT_FOUND,
           "err may be NULL");
    TAP_OK(vrpc_typed_params_get_int(NULL, 0, "i", &i, NULL) == VRPC_E_NOT_FOUND,
           "an empty array has no parameter");

    /* A type the protocol does not define (a newer daemon, a hostile one). */
    memset(&odd, 0, sizeof(odd));
    odd.field = "x";
    odd.value.type = 99;
    rc = vrpc_typed_params_get_int(&odd, 1, "x", &i, &e);
    TAP_OK(rc == VRPC_E_INVALID && err_has(e, "unknown type 99"), "unknown type named (%s)",
           e ? e->message : "none");
    clear_err(&e);
    vrpc_typed_params_free(b);
}

static void test_first_and_next(void)
{
    vrpc_typed_param a[4];
    const vrpc_typed_param *p;
    size_t pos = 0, k = 0;
    int32_t v = 0;
    const char *order[4];

    memset(a, 0, sizeof(a));
    a[0].field = "x";
    a[0].value.type = VRPC_TYPED_PARAM_INT;
    a[0].value.u.i = 1;
    a[1].field = "y";
    a[1].value.type = VRPC_TYPED_PARAM_STRING;
    a[1].value.u.s = "one";
    a[2].field = "x";
    a[2].value.type = VRPC_TYPED_PARAM_INT;
    a[2].value.u.i = 2;
    a[3].field = "y";
    a[3].value.type = VRPC_TYPED_PARAM_STRING;
    a[3].value.u.s = "two";

    TAP_OK(vrpc_typed_params_get_int(a, 4, "x", &v, NULL) == 0 && v == 1,
           "a name that occurs twice: the first counts");
    while ((p = vrpc_typed_params_next(a, 4, NULL, &pos)) && k < 4)
        order[k++] = p->field;
    TAP_OK(k == 4 && pos == 4 && strcmp(order[0], "x") == 0 && strcmp(order[1], "y") == 0 &&
               strcmp(order[2], "x") == 0 && strcmp(order[3], "y") == 0,
           "next(NULL) walks every parameter in order");
    pos = 0;
    k = 0;
    while ((p = vrpc_typed_params_next(a, 4, "y", &pos)) && k < 4)
        order[k++] = p->value.u.s;
    TAP_OK(k == 2 && strcmp(order[0], "one") == 0 && strcmp(order[1], "two") == 0,
           "next(name) gives every value of a repeated name");
    pos = 0;
    TAP_OK(vrpc_typed_params_next(a, 4, "z", &pos) == NULL && pos == 4, "next: none for 'z'");
    pos = 0;
    TAP_OK(vrpc_typed_params_next(NULL, 4, NULL, &pos) == NULL &&
               vrpc_typed_params_next(a, 4, NULL, NULL) == NULL,
           "next: NULL array or position gives nothing");
    TAP_OK(vrpc_typed_params_next(a, 0, NULL, &pos) == NULL, "next: empty array");
}

static void test_add_errors(void)
{
    vrpc_typed_params *b = NULL;
    vrpc_error *e = NULL;
    char name[VRPC_TYPED_PARAM_FIELD_LENGTH + 1];
    int rc;

    TAP_OK(vrpc_typed_params_new(NULL) == VRPC_E_INVALID, "new(NULL) refused");
    if (vrpc_typed_params_new(&b)) {
        TAP_OK(0, "new");
        return;
    }
    TAP_OK(vrpc_typed_params_count(b) == 0 && vrpc_typed_params_items(b) == NULL,
           "a new builder is empty");

    /* Name bounds: 79 bytes fit in libvirt's char field[80]; 80 do not. */
    memset(name, 'n', sizeof(name));
    name[VRPC_TYPED_PARAM_FIELD_LENGTH - 1] = 0;
    rc = vrpc_typed_params_add_int(b, name, 1, &e);
    TAP_OK(rc == 0 && strlen(vrpc_typed_params_items(b)[0].field) == 79,
           "a 79-byte name is accepted");
    clear_err(&e);
    name[VRPC_TYPED_PARAM_FIELD_LENGTH - 1] = 'n';
    name[VRPC_TYPED_PARAM_FIELD_LENGTH] = 0;
    rc = vrpc_typed_params_add_int(b, name, 1, &e);
    TAP_OK(rc == VRPC_E_TOO_BIG && err_has(e, "too long (at most 79 bytes)"),
           "an 80-byte name is refused with VRPC_E_TOO_BIG (%s)", e ? e->message : "none");
    clear_err(&e);
    TAP_OK(vrpc_typed_params_count(b) == 1, "the refused add left the builder as it was");

    rc = vrpc_typed_params_add_int(b, "", 1, &e);
    TAP_OK(rc == VRPC_E_INVALID && e, "an empty name is refused");
    clear_err(&e);
    rc = vrpc_typed_params_add_uint(b, NULL, 1, &e);
    TAP_OK(rc == VRPC_E_INVALID && e, "a NULL name is refused");
    clear_err(&e);
    rc = vrpc_typed_params_add_int(NULL, "x", 1, &e);
    TAP_OK(rc == VRPC_E_INVALID && e, "a NULL builder is refused");
    clear_err(&e);
    rc = vrpc_typed_params_add_string(b, "s", NULL, &e);
    TAP_OK(rc == VRPC_E_INVALID && e, "a NULL string is refused");
    clear_err(&e);

    /* Duplicates, across types too. */
    TAP_OK(vrpc_typed_params_add_uint(b, "weight", 10, &e) == 0, "add weight");
    rc = vrpc_typed_params_add_uint(b, "weight", 20, &e);
    TAP_OK(rc == VRPC_E_INVALID && err_has(e, "'weight' is already set"),
           "the same name twice is refused (%s)", e ? e->message : "none");
    clear_err(&e);
    rc = vrpc_typed_params_add_string(b, "weight", "20", &e);
    TAP_OK(rc == VRPC_E_INVALID, "the same name with another type is refused too");
    clear_err(&e);
    {
        const char *v[] = {"a"};
        rc = vrpc_typed_params_add_string_list(b, "weight", v, 1, &e);
        TAP_OK(rc == VRPC_E_INVALID, "a string list under a name already set is refused");
        clear_err(&e);
    }
    {
        uint32_t w = 0;
        TAP_OK(vrpc_typed_params_get_uint(vrpc_typed_params_items(b), vrpc_typed_params_count(b),
                                          "weight", &w, NULL) == 0 &&
                   w == 10,
               "the first value stays");
    }
    TAP_OK(vrpc_typed_params_count(b) == 2, "two parameters after the refused ones");

    vrpc_typed_params_clear(b);
    TAP_OK(vrpc_typed_params_count(b) == 0 && vrpc_typed_params_items(b) == NULL,
           "clear empties the builder");
    TAP_OK(vrpc_typed_params_add_uint(b, "weight", 30, &e) == 0,
           "after clear the name can be added again");
    vrpc_typed_params_free(b);
    vrpc_typed_params_free(NULL);
    vrpc_typed_params_clear(NULL);
    TAP_OK(vrpc_typed_params_count(NULL) == 0 && vrpc_typed_params_items(NULL) == NULL,
           "NULL-safe count, items, clear, free");
}

static void test_string_list(void)
{
    vrpc_typed_params *b = NULL;
    vrpc_error *e = NULL;
    const char *disks[] = {"vda", "vdb", "vdc"};
    const char *bad[] = {"vda", NULL};
    const vrpc_typed_param *p;
    size_t pos = 0, k = 0;
    int rc;

    if (vrpc_typed_params_new(&b)) {
        TAP_OK(0, "new");
        return;
    }
    rc = vrpc_typed_params_add_string_list(b, VRPC_MIGRATE_PARAM_MIGRATE_DISKS, disks, 3, &e);
    TAP_OK(rc == 0 && vrpc_typed_params_count(b) == 3,
           "a string list adds one parameter per value");
    while ((p = vrpc_typed_params_next(vrpc_typed_params_items(b), vrpc_typed_params_count(b),
                                       VRPC_MIGRATE_PARAM_MIGRATE_DISKS, &pos)))
        if (k < 3 && p->value.type == VRPC_TYPED_PARAM_STRING &&
            strcmp(p->value.u.s, disks[k]) == 0 && p->value.u.s != disks[k])
            k++;
    TAP_OK(k == 3, "the values come back in order, as copies");
    rc = vrpc_typed_params_add_string_list(b, "other", bad, 2, &e);
    TAP_OK(rc == VRPC_E_INVALID && vrpc_typed_params_count(b) == 3,
           "a list with a NULL value adds nothing");
    clear_err(&e);
    TAP_OK(vrpc_typed_params_add_string_list(b, "none", NULL, 0, &e) == 0 &&
               vrpc_typed_params_count(b) == 3,
           "an empty list adds nothing");
    vrpc_typed_params_free(b);
}

static void test_bounds(void)
{
    vrpc_typed_params *b = NULL;
    vrpc_error *e = NULL;
    char *big;
    const size_t chunk = (size_t)VRPC_STRING_MAX;
    char name[16];
    int rc = 0, added = 0;

    if (vrpc_typed_params_new(&b)) {
        TAP_OK(0, "new");
        return;
    }
    big = malloc(chunk + 2);
    if (!big) {
        TAP_OK(0, "malloc");
        vrpc_typed_params_free(b);
        return;
    }
    memset(big, 'x', chunk + 1);
    big[chunk + 1] = 0;
    rc = vrpc_typed_params_add_string(b, "big", big, &e);
    TAP_OK(rc == VRPC_E_TOO_BIG && vrpc_typed_params_count(b) == 0,
           "a string of VRPC_STRING_MAX + 1 bytes is refused (%s)", e ? e->message : "none");
    clear_err(&e);
    big[chunk] = 0;
    /* 8 strings of VRPC_STRING_MAX bytes are more than one message holds. */
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        rc = vrpc_typed_params_add_string(b, name, big, &e);
        if (rc)
            break;
        added++;
    }
    TAP_OK(added == 7 && rc == VRPC_E_TOO_BIG && err_has(e, "exceed"),
           "the wire size is bounded by a message: %d strings of 4 MiB fit (%s)", added,
           e ? e->message : "none");
    clear_err(&e);
    free(big);
    vrpc_typed_params_clear(b);

    for (unsigned i = 0; i < VRPC_TYPED_PARAMS_MAX; i++) {
        snprintf(name, sizeof(name), "p%u", i);
        if ((rc = vrpc_typed_params_add_int(b, name, (int32_t)i, NULL)) != 0)
            break;
    }
    TAP_OK(rc == 0 && vrpc_typed_params_count(b) == VRPC_TYPED_PARAMS_MAX,
           "VRPC_TYPED_PARAMS_MAX (%u) parameters fit", VRPC_TYPED_PARAMS_MAX);
    rc = vrpc_typed_params_add_int(b, "one-more", 1, &e);
    TAP_OK(rc == VRPC_E_TOO_BIG && vrpc_typed_params_count(b) == VRPC_TYPED_PARAMS_MAX,
           "one more is refused with VRPC_E_TOO_BIG");
    clear_err(&e);
    vrpc_typed_params_clear(b);
    {
        static const char *many[VRPC_TYPED_PARAMS_MAX + 1];
        for (size_t i = 0; i <= VRPC_TYPED_PARAMS_MAX; i++)
            many[i] = "v";
        rc = vrpc_typed_params_add_string_list(b, "l", many, VRPC_TYPED_PARAMS_MAX + 1, &e);
        TAP_OK(rc == VRPC_E_TOO_BIG && vrpc_typed_params_count(b) == 0,
               "a list longer than VRPC_TYPED_PARAMS_MAX is refused whole");
        clear_err(&e);
    }
    vrpc_typed_params_free(b);
}

static void test_format(void)
{
    vrpc_typed_params *b = build_all();
    const vrpc_typed_param *p;
    static const char *const want[] = {
        "-7", "4294967295", "-9223372036854775808", "18446744073709551615", "0.25", "yes", "hello",
    };
    char buf[64];
    char *s = NULL;
    vrpc_error *e = NULL;
    vrpc_typed_param q;
    int ok = 1, len;

    if (!b) {
        TAP_OK(0, "builder for the format tests");
        return;
    }
    p = vrpc_typed_params_items(b);
    for (int i = 0; i < 7; i++) {
        len = vrpc_typed_param_format(&p[i], buf, sizeof(buf));
        if (len != (int)strlen(want[i]) || strcmp(buf, want[i]) != 0) {
            tap_diag("%s: got '%s' (%d), want '%s'", p[i].field, buf, len, want[i]);
            ok = 0;
        }
        if (vrpc_typed_param_to_string(&p[i], &s, &e) != 0 || strcmp(s, want[i]) != 0)
            ok = 0;
        vrpc_free(s);
        s = NULL;
    }
    TAP_OK(ok, "format and to_string give virsh's text for every type");
    TAP_OK(strcmp(vrpc_typed_param_type_name(VRPC_TYPED_PARAM_ULLONG), "ullong") == 0 &&
               strcmp(vrpc_typed_param_type_name(VRPC_TYPED_PARAM_BOOLEAN), "boolean") == 0 &&
               vrpc_typed_param_type_name(0) == NULL && vrpc_typed_param_type_name(8) == NULL,
           "type names");

    len = vrpc_typed_param_format(&p[1], buf, 5);
    TAP_OK(len == 10 && strcmp(buf, "4294") == 0, "a short buffer is cut and NUL-terminated, the "
                                                  "full length returned");
    len = vrpc_typed_param_format(&p[6], buf, 3);
    TAP_OK(len == 5 && strcmp(buf, "he") == 0, "a string is cut the same way");
    TAP_OK(vrpc_typed_param_format(&p[6], NULL, 0) == 5, "size 0 measures");
    TAP_OK(vrpc_typed_param_format(&p[6], NULL, 4) == VRPC_E_INVALID, "NULL buffer with a size");

    memset(&q, 0, sizeof(q));
    q.field = "f";
    q.value.type = VRPC_TYPED_PARAM_BOOLEAN;
    q.value.u.b = 0;
    TAP_OK(vrpc_typed_param_format(&q, buf, sizeof(buf)) == 2 && strcmp(buf, "no") == 0,
           "false is 'no'");
    q.value.type = VRPC_TYPED_PARAM_DOUBLE;
    q.value.u.d = 1e300;
    TAP_OK(vrpc_typed_param_format(&q, buf, sizeof(buf)) > 0 && strcmp(buf, "1e+300") == 0,
           "doubles in %%g form (%s)", buf);
    q.value.type = 0;
    TAP_OK(vrpc_typed_param_format(&q, buf, sizeof(buf)) == VRPC_E_INVALID,
           "an unknown type is not formatted");
    len = vrpc_typed_param_to_string(&q, &s, &e);
    TAP_OK(len == VRPC_E_INVALID && s == NULL && err_has(e, "unknown type 0"),
           "to_string names the unknown type (%s)", e ? e->message : "none");
    clear_err(&e);
    TAP_OK(vrpc_typed_param_format(NULL, buf, sizeof(buf)) == VRPC_E_INVALID &&
               vrpc_typed_param_to_string(NULL, &s, NULL) == VRPC_E_INVALID &&
               vrpc_typed_param_to_string(&p[0], NULL, NULL) == VRPC_E_INVALID,
           "NULL parameter or output refused");
    vrpc_typed_params_free(b);
}

/* The builder's array is what the codec sends, and comes back the same. */
static void test_codec_round_trip(void)
{
    const vrpc_type *t = vrpc_type_lookup("remote_domain_set_scheduler_parameters_flags_args");
    vrpc_typed_params *b = build_all();
    vrpc_domain_set_scheduler_parameters_flags_args a;
    vrpc_domain_set_scheduler_parameters_flags_args *back = NULL;
    vrpc_buf buf = {0};
    int rc;

    TAP_OK(t != NULL, "the argument type is known");
    if (!t || !b) {
        vrpc_typed_params_free(b);
        return;
    }
    memset(&a, 0, sizeof(a));
    a.dom.name = "test";
    a.dom.id = 1;
    VRPC_TYPED_PARAMS_SET(a.params, b);
    rc = vrpc_xdr_encode(t, &a, &buf);
    TAP_OK(rc == 0, "the builder's array encodes (%s)", vrpc_strerror(rc));
    if (rc == 0)
        rc = vrpc_xdr_decode(t, buf.data, buf.len, (void **)&back);
    TAP_OK(rc == 0 && back && back->params.n == 7, "and decodes to 7 parameters");
    if (rc == 0 && back) {
        int32_t i = 0;
        uint64_t ul = 0;
        double d = 0;
        bool bo = false;
        const char *s = NULL;
        TAP_OK(vrpc_typed_params_get_int(VRPC_TYPED_PARAMS_OF(back->params), "i", &i, NULL) == 0 &&
                   i == -7 &&
                   vrpc_typed_params_get_ullong(VRPC_TYPED_PARAMS_OF(back->params), "ul", &ul,
                                                NULL) == 0 &&
                   ul == UINT64_MAX &&
                   vrpc_typed_params_get_double(VRPC_TYPED_PARAMS_OF(back->params), "d", &d,
                                                NULL) == 0 &&
                   d == 0.25 &&
                   vrpc_typed_params_get_boolean(VRPC_TYPED_PARAMS_OF(back->params), "b", &bo,
                                                 NULL) == 0 &&
                   bo &&
                   vrpc_typed_params_get_string(VRPC_TYPED_PARAMS_OF(back->params), "s", &s,
                                                NULL) == 0 &&
                   strcmp(s, "hello") == 0,
               "the decoded values read back equal");
    }
    vrpc_free(back);
    vrpc_free(buf.data);
    vrpc_typed_params_free(b);
}

/* An allocator that fails the n-th allocation from now (-1: never). */
static long fail_in = -1;
static void *fail_malloc(size_t n, void *opaque)
{
    (void)opaque;
    if (fail_in == 0)
        return NULL;
    if (fail_in > 0)
        fail_in--;
    return malloc(n ? n : 1);
}
static void *fail_realloc(void *p, size_t n, void *opaque)
{
    (void)opaque;
    if (fail_in == 0)
        return NULL;
    if (fail_in > 0)
        fail_in--;
    return realloc(p, n ? n : 1);
}

static void libc_free(void *p, void *opaque)
{
    (void)opaque;
    free(p);
}

static void test_out_of_memory(void)
{
    vrpc_typed_params *b = NULL;
    const char *v[] = {"a", "b", "c"};
    int failures = 0, kept = 1;

    if (vrpc_typed_params_new(&b)) {
        TAP_OK(0, "new");
        return;
    }
    vrpc_set_allocator(&(vrpc_allocator){
        .alloc_fn = fail_malloc, .realloc_fn = fail_realloc, .free_fn = libc_free});
    for (long k = 0; k < 12; k++) {
        vrpc_error *e = NULL;
        uint32_t before = vrpc_typed_params_count(b);
        char name[16];
        int rc;
        snprintf(name, sizeof(name), "l%ld", k);
        fail_in = k;
        rc = vrpc_typed_params_add_string_list(b, name, v, 3, &e);
        fail_in = -1;
        if (rc == VRPC_E_NOMEM) {
            failures++;
            if (vrpc_typed_params_count(b) != before)
                kept = 0;
        } else if (rc != 0 || vrpc_typed_params_count(b) != before + 3) {
            kept = 0;
        }
        vrpc_free(e);
    }
    vrpc_set_allocator(NULL);
    TAP_OK(failures > 0, "allocation failures were injected (%d)", failures);
    TAP_OK(kept, "an add that runs out of memory adds nothing; one that succeeds adds all");
    vrpc_typed_params_free(b);
}

int main(void)
{
    test_get_every_type();
    test_get_errors();
    test_first_and_next();
    test_add_errors();
    test_string_list();
    test_bounds();
    test_format();
    test_codec_round_trip();
    test_out_of_memory();
    return tap_done();
}
