/* SPDX-License-Identifier: MIT */
/*
 * The virTypedParams* helpers of the compat libvirt.so.0 against the
 * system's libvirt.so.0: both are loaded with dlopen() and the same
 * sequence of calls runs on each; after every call the return value, the
 * array (count, allocated size, every field, type and value) and the
 * last error's code and domain must be the same. (The messages are our
 * own words, so they are not compared.)
 *
 * Usage: test-compat-typedparams OURS.so [SYSTEM.so]
 * Without a system library (or when it does not load) the comparison is
 * skipped and only our library's own expectations are checked.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <virtrpc/protocol.h>

#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

/* The functions under test, from one library. */
typedef struct lib {
    const char *name;
    void *h;
    int (*init)(void);
    void (*set_error_func)(void *, virErrorFunc);
    virErrorPtr (*last_error)(void);
    void (*reset_error)(void);
    virTypedParameterPtr (*get)(virTypedParameterPtr, int, const char *);
    int (*get_int)(virTypedParameterPtr, int, const char *, int *);
    int (*get_uint)(virTypedParameterPtr, int, const char *, unsigned int *);
    int (*get_llong)(virTypedParameterPtr, int, const char *, long long *);
    int (*get_ullong)(virTypedParameterPtr, int, const char *, unsigned long long *);
    int (*get_double)(virTypedParameterPtr, int, const char *, double *);
    int (*get_boolean)(virTypedParameterPtr, int, const char *, int *);
    int (*get_string)(virTypedParameterPtr, int, const char *, const char **);
    int (*add_int)(virTypedParameterPtr *, int *, int *, const char *, int);
    int (*add_uint)(virTypedParameterPtr *, int *, int *, const char *, unsigned int);
    int (*add_llong)(virTypedParameterPtr *, int *, int *, const char *, long long);
    int (*add_ullong)(virTypedParameterPtr *, int *, int *, const char *, unsigned long long);
    int (*add_double)(virTypedParameterPtr *, int *, int *, const char *, double);
    int (*add_boolean)(virTypedParameterPtr *, int *, int *, const char *, int);
    int (*add_string)(virTypedParameterPtr *, int *, int *, const char *, const char *);
    int (*add_string_list)(virTypedParameterPtr *, int *, int *, const char *, const char **);
    int (*add_from_string)(virTypedParameterPtr *, int *, int *, const char *, int, const char *);
    void (*clear)(virTypedParameterPtr, int);
    void (*free_)(virTypedParameterPtr, int);
    /* the state the sequence builds */
    virTypedParameterPtr params;
    int n, max;
} lib;

static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

#define SYM(l, member, sym)                                                                        \
    do {                                                                                           \
        *(void **)&(l)->member = dlsym((l)->h, sym);                                               \
        if (!(l)->member) {                                                                        \
            tap_diag("%s: no %s", (l)->name, sym);                                                 \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

static bool lib_load(lib *l, const char *path)
{
    memset(l, 0, sizeof(*l));
    l->name = path;
    l->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!l->h) {
        tap_diag("dlopen %s: %s", path, dlerror());
        return false;
    }
    SYM(l, init, "virInitialize");
    SYM(l, set_error_func, "virSetErrorFunc");
    SYM(l, last_error, "virGetLastError");
    SYM(l, reset_error, "virResetLastError");
    SYM(l, get, "virTypedParamsGet");
    SYM(l, get_int, "virTypedParamsGetInt");
    SYM(l, get_uint, "virTypedParamsGetUInt");
    SYM(l, get_llong, "virTypedParamsGetLLong");
    SYM(l, get_ullong, "virTypedParamsGetULLong");
    SYM(l, get_double, "virTypedParamsGetDouble");
    SYM(l, get_boolean, "virTypedParamsGetBoolean");
    SYM(l, get_string, "virTypedParamsGetString");
    SYM(l, add_int, "virTypedParamsAddInt");
    SYM(l, add_uint, "virTypedParamsAddUInt");
    SYM(l, add_llong, "virTypedParamsAddLLong");
    SYM(l, add_ullong, "virTypedParamsAddULLong");
    SYM(l, add_double, "virTypedParamsAddDouble");
    SYM(l, add_boolean, "virTypedParamsAddBoolean");
    SYM(l, add_string, "virTypedParamsAddString");
    SYM(l, add_string_list, "virTypedParamsAddStringList");
    SYM(l, add_from_string, "virTypedParamsAddFromString");
    SYM(l, clear, "virTypedParamsClear");
    SYM(l, free_, "virTypedParamsFree");
    if (l->init() < 0) {
        tap_diag("%s: virInitialize failed", path);
        return false;
    }
    l->set_error_func(NULL, quiet);
    return true;
}

/* What one call left behind, for comparing. */
typedef struct outcome {
    long long rc;
    int n, max;
    int err_code, err_domain;
    char value[256]; /* the value a Get returned, printed */
} outcome;

static void take_error(lib *l, outcome *o)
{
    virErrorPtr e = l->last_error();
    o->err_code = e ? e->code : 0;
    o->err_domain = e ? e->domain : 0;
    o->n = l->n;
    o->max = l->max;
}

/* One parameter printed (field, type and value). */
static void param_str(const virTypedParameter *p, char *buf, size_t len)
{
    switch (p->type) {
    case VIR_TYPED_PARAM_INT:
        snprintf(buf, len, "%s:int:%d", p->field, p->value.i);
        break;
    case VIR_TYPED_PARAM_UINT:
        snprintf(buf, len, "%s:uint:%u", p->field, p->value.ui);
        break;
    case VIR_TYPED_PARAM_LLONG:
        snprintf(buf, len, "%s:llong:%lld", p->field, p->value.l);
        break;
    case VIR_TYPED_PARAM_ULLONG:
        snprintf(buf, len, "%s:ullong:%llu", p->field, p->value.ul);
        break;
    case VIR_TYPED_PARAM_DOUBLE:
        snprintf(buf, len, "%s:double:%a", p->field, p->value.d);
        break;
    case VIR_TYPED_PARAM_BOOLEAN:
        snprintf(buf, len, "%s:boolean:%d", p->field, (int)p->value.b);
        break;
    case VIR_TYPED_PARAM_STRING:
        snprintf(buf, len, "%s:string:%s", p->field, p->value.s ? p->value.s : "(NULL)");
        break;
    default:
        snprintf(buf, len, "%s:type%d", p->field, p->type);
        break;
    }
}

/* The two arrays are the same: count, allocated size and every item in
 * use. (What a failed Add leaves in the first unused item differs and is
 * no part of the interface.) */
static bool same_arrays(const lib *a, const lib *b, char *why, size_t len)
{
    if (a->n != b->n || a->max != b->max) {
        snprintf(why, len, "n/max %d/%d vs %d/%d", a->n, a->max, b->n, b->max);
        return false;
    }
    for (int i = 0; i < a->n; i++) {
        char x[200], y[200];
        param_str(&a->params[i], x, sizeof(x));
        param_str(&b->params[i], y, sizeof(y));
        if (strcmp(x, y) != 0) {
            snprintf(why, len, "item %d: %s vs %s", i, x, y);
            return false;
        }
    }
    return true;
}

/* The steps: each runs on one library and fills an outcome. */
typedef void (*step_fn)(lib *l, outcome *o);

static char long79[80], long80[81];

#define ADD_STEP(fname, call)                                                                      \
    static void fname(lib *l, outcome *o)                                                          \
    {                                                                                              \
        o->rc = call;                                                                              \
        take_error(l, o);                                                                          \
    }

ADD_STEP(s_add_int, l->add_int(&l->params, &l->n, &l->max, "i", -7))
ADD_STEP(s_add_uint, l->add_uint(&l->params, &l->n, &l->max, "u", 4000000000u))
ADD_STEP(s_add_llong, l->add_llong(&l->params, &l->n, &l->max, "l", -(1LL << 40)))
ADD_STEP(s_add_ullong, l->add_ullong(&l->params, &l->n, &l->max, "ul", ~0ULL))
ADD_STEP(s_add_double, l->add_double(&l->params, &l->n, &l->max, "d", 3.25))
ADD_STEP(s_add_boolean, l->add_boolean(&l->params, &l->n, &l->max, "b", 5))
ADD_STEP(s_add_boolean0, l->add_boolean(&l->params, &l->n, &l->max, "b0", 0))
ADD_STEP(s_add_string, l->add_string(&l->params, &l->n, &l->max, "s", "hello"))
ADD_STEP(s_add_string_null, l->add_string(&l->params, &l->n, &l->max, "snull", NULL))
ADD_STEP(s_add_dup, l->add_int(&l->params, &l->n, &l->max, "i", 8))
ADD_STEP(s_add_name79, l->add_int(&l->params, &l->n, &l->max, long79, 1))
ADD_STEP(s_add_name80, l->add_int(&l->params, &l->n, &l->max, long80, 1))
ADD_STEP(s_add_string80, l->add_string(&l->params, &l->n, &l->max, long80, "x"))
ADD_STEP(s_list_null, l->add_string_list(&l->params, &l->n, &l->max, "list", NULL))
ADD_STEP(s_list_empty,
         l->add_string_list(&l->params, &l->n, &l->max, "list", (const char *[]){NULL}))
ADD_STEP(s_list_three, l->add_string_list(&l->params, &l->n, &l->max, "list",
                                          (const char *[]){"a", "b", "c", NULL}))
ADD_STEP(s_list_long,
         l->add_string_list(&l->params, &l->n, &l->max, long80, (const char *[]){"a", NULL}))

/* AddFromString cases: (type, text). */
static const struct {
    int type;
    const char *text;
} from_string[] = {
    {VIR_TYPED_PARAM_INT, "42"},
    {VIR_TYPED_PARAM_INT, "-2147483648"},
    {VIR_TYPED_PARAM_INT, "2147483648"},
    {VIR_TYPED_PARAM_INT, "12abc"},
    {VIR_TYPED_PARAM_INT, ""},
    {VIR_TYPED_PARAM_INT, " 5"},
    {VIR_TYPED_PARAM_UINT, "4294967295"},
    {VIR_TYPED_PARAM_UINT, "4294967296"},
    {VIR_TYPED_PARAM_UINT, "-1"},
    {VIR_TYPED_PARAM_UINT, "-4294967295"},
    {VIR_TYPED_PARAM_UINT, "-4294967296"},
    {VIR_TYPED_PARAM_LLONG, "-9223372036854775808"},
    {VIR_TYPED_PARAM_LLONG, "9223372036854775808"},
    {VIR_TYPED_PARAM_ULLONG, "18446744073709551615"},
    {VIR_TYPED_PARAM_ULLONG, "-1"},
    {VIR_TYPED_PARAM_ULLONG, "18446744073709551616"},
    {VIR_TYPED_PARAM_DOUBLE, "1e3"},
    {VIR_TYPED_PARAM_DOUBLE, "0x1p-2"},
    {VIR_TYPED_PARAM_DOUBLE, "2,5"},
    {VIR_TYPED_PARAM_DOUBLE, "1e999"},
    {VIR_TYPED_PARAM_BOOLEAN, "TRUE"},
    {VIR_TYPED_PARAM_BOOLEAN, "faLse"},
    {VIR_TYPED_PARAM_BOOLEAN, "1"},
    {VIR_TYPED_PARAM_BOOLEAN, "0"},
    {VIR_TYPED_PARAM_BOOLEAN, "yes"},
    {VIR_TYPED_PARAM_STRING, "some text"},
    {VIR_TYPED_PARAM_STRING, ""},
    {0, "1"},
    {8, "1"},
    {-1, "1"},
};
static int from_string_i;

static void s_from_string(lib *l, outcome *o)
{
    o->rc = l->add_from_string(&l->params, &l->n, &l->max, "fs", from_string[from_string_i].type,
                               from_string[from_string_i].text);
    take_error(l, o);
}

ADD_STEP(s_from_string_null,
         l->add_from_string(&l->params, &l->n, &l->max, "fsnull", VIR_TYPED_PARAM_INT, NULL))
ADD_STEP(s_from_string_long,
         l->add_from_string(&l->params, &l->n, &l->max, long80, VIR_TYPED_PARAM_INT, "1"))

/* Get steps: which getter, which name. */
static const char *get_name;
static int get_kind;

static void s_get(lib *l, outcome *o)
{
    o->value[0] = '\0';
    /* an error left by an earlier step must be cleared by the getter */
    l->add_int(&l->params, &l->n, &l->max, long80, 0);
    switch (get_kind) {
    case VIR_TYPED_PARAM_INT: {
        int v = 12345;
        o->rc = l->get_int(l->params, l->n, get_name, &v);
        snprintf(o->value, sizeof(o->value), "%d", v);
        break;
    }
    case VIR_TYPED_PARAM_UINT: {
        unsigned int v = 12345;
        o->rc = l->get_uint(l->params, l->n, get_name, &v);
        snprintf(o->value, sizeof(o->value), "%u", v);
        break;
    }
    case VIR_TYPED_PARAM_LLONG: {
        long long v = 12345;
        o->rc = l->get_llong(l->params, l->n, get_name, &v);
        snprintf(o->value, sizeof(o->value), "%lld", v);
        break;
    }
    case VIR_TYPED_PARAM_ULLONG: {
        unsigned long long v = 12345;
        o->rc = l->get_ullong(l->params, l->n, get_name, &v);
        snprintf(o->value, sizeof(o->value), "%llu", v);
        break;
    }
    case VIR_TYPED_PARAM_DOUBLE: {
        double v = 12345;
        o->rc = l->get_double(l->params, l->n, get_name, &v);
        snprintf(o->value, sizeof(o->value), "%a", v);
        break;
    }
    case VIR_TYPED_PARAM_BOOLEAN: {
        int v = 12345;
        o->rc = l->get_boolean(l->params, l->n, get_name, &v);
        snprintf(o->value, sizeof(o->value), "%d", v);
        break;
    }
    case VIR_TYPED_PARAM_STRING: {
        const char *v = "unset";
        o->rc = l->get_string(l->params, l->n, get_name, &v);
        snprintf(o->value, sizeof(o->value), "%s", v ? v : "(NULL)");
        break;
    }
    case 0: { /* virTypedParamsGet: the index of the item found */
        virTypedParameterPtr p = l->get(l->params, l->n, get_name);
        o->rc = p ? p - l->params : -1;
        break;
    }
    case 100: /* a NULL value pointer */
        o->rc = l->get_int(l->params, l->n, get_name, NULL);
        break;
    case 101: /* a NULL array */
        o->rc = l->get_int(NULL, l->n, get_name, NULL);
        break;
    }
    take_error(l, o);
}

static bool same_outcome(const outcome *a, const outcome *b, char *why, size_t len)
{
    if (a->rc != b->rc || a->err_code != b->err_code || a->err_domain != b->err_domain ||
        strcmp(a->value, b->value) != 0) {
        snprintf(why, len, "rc %lld err %d/%d value '%s' vs rc %lld err %d/%d value '%s'", a->rc,
                 a->err_code, a->err_domain, a->value, b->rc, b->err_code, b->err_domain, b->value);
        return false;
    }
    return true;
}

/* Runs a step on both libraries (or ours alone: sys NULL) and compares. */
static void run(lib *ours, lib *sys, const char *what, step_fn fn, long long want_rc, int want_code)
{
    outcome a = {0}, b = {0};
    char why[600] = "";
    fn(ours, &a);
    bool ok = a.rc == want_rc && a.err_code == want_code;
    if (!ok)
        snprintf(why, sizeof(why), "ours: rc %lld (want %lld) error %d (want %d)", a.rc, want_rc,
                 a.err_code, want_code);
    if (sys) {
        fn(sys, &b);
        if (ok)
            ok = same_outcome(&a, &b, why, sizeof(why)) && same_arrays(ours, sys, why, sizeof(why));
    }
    tap_ok(ok, "%s%s%s", what, ok ? "" : ": ", why);
}

/* ---- the wire conversions of compat.h (exported in libvirt.so.0's
 * private node for the other compat libraries) ---- */

typedef int (*to_wire_fn)(const virTypedParameter *, int, vrpc_typed_param **);
typedef int (*from_wire_fn)(const vrpc_typed_param *, uint32_t, virTypedParameterPtr *, int *);
typedef int (*fill_fn)(const vrpc_typed_param *, uint32_t, virTypedParameterPtr, int *);

static int last_code(lib *l)
{
    virErrorPtr e = l->last_error();
    return e ? e->code : 0;
}

static void wire_tests(lib *l)
{
    to_wire_fn to_wire = (to_wire_fn)dlsym(l->h, "compat_params_to_wire");
    from_wire_fn from_wire = (from_wire_fn)dlsym(l->h, "compat_params_from_wire");
    fill_fn fill = (fill_fn)dlsym(l->h, "compat_params_fill");
    if (!tap_ok(to_wire && from_wire && fill, "the wire conversions are exported"))
        return;

    virTypedParameter p[7];
    memset(p, 0, sizeof(p));
    static const char *const names[] = {"i", "ui", "l", "ul", "d", "b", "s"};
    for (int i = 0; i < 7; i++) {
        strcpy(p[i].field, names[i]);
        p[i].type = i + 1;
    }
    p[0].value.i = -5;
    p[1].value.ui = 4000000000u;
    p[2].value.l = -(1LL << 50);
    p[3].value.ul = ~0ULL;
    p[4].value.d = 0.125;
    p[5].value.b = 1;
    p[6].value.s = (char *)"text";
    vrpc_typed_param *w = NULL;
    int rc = to_wire(p, 7, &w);
    bool ok = rc == 0 && w;
    for (int i = 0; ok && i < 7; i++)
        ok = w[i].field == p[i].field && w[i].value.type == i + 1;
    ok = ok && w[0].value.u.i == -5 && w[1].value.u.ui == 4000000000u &&
         w[2].value.u.l == -(1LL << 50) && w[3].value.u.ul == ~0ULL && w[4].value.u.d == 0.125 &&
         w[5].value.u.b == 1 && strcmp(w[6].value.u.s, "text") == 0;
    tap_ok(ok, "to_wire: every type, fields pointing into the caller's array");

    /* back: a new array with copies of the strings */
    virTypedParameterPtr back = NULL;
    int n = -1;
    rc = from_wire(w, 7, &back, &n);
    ok = rc == 0 && n == 7 && back;
    for (int i = 0; ok && i < 7; i++)
        ok = strcmp(back[i].field, p[i].field) == 0 && back[i].type == p[i].type;
    ok = ok && back[0].value.i == -5 && back[1].value.ui == 4000000000u &&
         back[2].value.l == -(1LL << 50) && back[3].value.ul == ~0ULL && back[4].value.d == 0.125 &&
         back[5].value.b == 1 && back[6].value.s != p[6].value.s &&
         strcmp(back[6].value.s, "text") == 0;
    tap_ok(ok, "from_wire: the same values back, the string copied");
    l->free_(back, n);

    /* into the caller's array: room checked first */
    virTypedParameter room[7];
    n = 6;
    rc = fill(w, 7, room, &n);
    tap_ok(rc == -1 && last_code(l) == VIR_ERR_RPC && n == 6,
           "fill: 7 parameters for room for 6 fail with VIR_ERR_RPC");
    n = 7;
    rc = fill(w, 7, room, &n);
    tap_ok(rc == 0 && n == 7 && strcmp(room[6].value.s, "text") == 0 && room[3].value.ul == ~0ULL,
           "fill: 7 parameters into room for 7");
    l->clear(room, n);
    n = 3;
    rc = fill(w, 0, NULL, &n);
    tap_ok(rc == 0 && n == 0, "fill: none sets the count to 0");
    free(w);

    /* the bounds */
    w = (vrpc_typed_param *)1;
    tap_ok(to_wire(p, 0, &w) == 0 && w == NULL, "to_wire: no parameters, no array");
    memset(p[2].field, 'z', sizeof(p[2].field));
    w = NULL;
    rc = to_wire(p, 7, &w);
    tap_ok(rc == -1 && w == NULL && last_code(l) == VIR_ERR_INVALID_ARG,
           "to_wire: a name filling the field without a terminator is refused");
    strcpy(p[2].field, "l");
    p[6].value.s = NULL;
    rc = to_wire(p, 7, &w);
    tap_ok(rc == -1 && last_code(l) == VIR_ERR_INVALID_ARG, "to_wire: a NULL string is refused");
    p[6].value.s = (char *)"text";
    p[4].type = 0;
    rc = to_wire(p, 7, &w);
    tap_ok(rc == -1 && last_code(l) == VIR_ERR_RPC, "to_wire: an unset type is refused");
    p[4].type = VIR_TYPED_PARAM_STRING + 1;
    rc = to_wire(p, 7, &w);
    tap_ok(rc == -1 && last_code(l) == VIR_ERR_RPC, "to_wire: an unknown type is refused");

    char name79[80], name80[81];
    memset(name79, 'a', 79);
    name79[79] = '\0';
    memset(name80, 'b', 80);
    name80[80] = '\0';
    vrpc_typed_param ws[3] = {
        {.field = "str", .value = {.type = VIR_TYPED_PARAM_STRING, .u.s = "v"}},
        {.field = name79, .value = {.type = VIR_TYPED_PARAM_INT, .u.i = 1}},
        {.field = name80, .value = {.type = VIR_TYPED_PARAM_INT, .u.i = 2}},
    };
    back = NULL;
    rc = from_wire(ws, 2, &back, &n);
    tap_ok(rc == 0 && n == 2 && strcmp(back[1].field, name79) == 0,
           "from_wire: a 79-byte name fits");
    l->free_(back, n);
    back = (virTypedParameterPtr)1;
    rc = from_wire(ws, 3, &back, &n);
    tap_ok(rc == -1 && back == NULL && n == 0 && last_code(l) == VIR_ERR_INTERNAL_ERROR,
           "from_wire: an 80-byte name from the daemon is refused (and the string before freed)");
    ws[2].field = "t";
    ws[2].value.type = 99;
    rc = from_wire(ws, 3, &back, &n);
    tap_ok(rc == -1 && back == NULL && last_code(l) == VIR_ERR_RPC,
           "from_wire: an unknown type from the daemon is refused");
    n = 3;
    rc = fill(ws, 3, room, &n);
    tap_ok(rc == -1 && last_code(l) == VIR_ERR_RPC,
           "fill: an unknown type from the daemon is refused (and the string before freed)");
    rc = from_wire(ws, 0, &back, &n);
    tap_ok(rc == 0 && n == 0 && back != NULL, "from_wire: no parameters, an empty array");
    l->free_(back, n);
}

/* Under `meson test` LD_LIBRARY_PATH leads the loader to our library for
 * the soname too: run again without it (our library is named by its
 * path). */
static void without_library_path(char **argv)
{
    if (!getenv("LD_LIBRARY_PATH") || getenv("VRPC_COMPAT_REEXEC"))
        return;
    setenv("VRPC_COMPAT_REEXEC", "1", 1);
    unsetenv("LD_LIBRARY_PATH");
    execv("/proc/self/exe", argv);
    /* on failure go on: the comparison is then skipped */
}

int main(int argc, char **argv)
{
    without_library_path(argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s OURS.so [SYSTEM.so]\n", argv[0]);
        return 2;
    }
    memset(long79, 'x', 79);
    memset(long80, 'y', 80);

    /* the system's library first: loaded by its soname after ours, the
     * loader would hand back ours */
    lib ours, sysl, *sys = NULL;
    if (argc > 2 && lib_load(&sysl, argv[2]))
        sys = &sysl;
    if (!lib_load(&ours, argv[1])) {
        tap_ok(0, "our library loads with every virTypedParams* function");
        tap_done();
        return 1;
    }
    /* the system's library must not be ours found again by the loader */
    Dl_info da, db;
    if (sys && dladdr(*(void **)&ours.get, &da) && dladdr(*(void **)&sys->get, &db) &&
        da.dli_fbase == db.dli_fbase)
        sys = NULL;
    if (!sys)
        tap_diag("no system libvirt.so.0: our library's expectations only");

    /* growth from nothing, one of each type */
    run(&ours, sys, "AddInt to an empty array", s_add_int, 0, 0);
    run(&ours, sys, "AddUInt", s_add_uint, 0, 0);
    run(&ours, sys, "AddLLong", s_add_llong, 0, 0);
    run(&ours, sys, "AddULLong", s_add_ullong, 0, 0);
    run(&ours, sys, "AddDouble", s_add_double, 0, 0);
    run(&ours, sys, "AddBoolean (5 stored as 1)", s_add_boolean, 0, 0);
    run(&ours, sys, "AddBoolean 0", s_add_boolean0, 0, 0);
    run(&ours, sys, "AddString", s_add_string, 0, 0);
    run(&ours, sys, "AddString with a NULL value", s_add_string_null, 0, 0);
    run(&ours, sys, "AddInt of a name already there", s_add_dup, 0, 0);
    run(&ours, sys, "AddInt with a 79-byte name", s_add_name79, 0, 0);
    run(&ours, sys, "AddInt with an 80-byte name", s_add_name80, -1, VIR_ERR_INTERNAL_ERROR);
    run(&ours, sys, "AddString with an 80-byte name", s_add_string80, -1, VIR_ERR_INTERNAL_ERROR);
    /* AddStringList resets no error: the last step's stays */
    run(&ours, sys, "AddStringList NULL", s_list_null, 0, VIR_ERR_INTERNAL_ERROR);
    run(&ours, sys, "AddStringList empty", s_list_empty, -1, VIR_ERR_INTERNAL_ERROR);
    run(&ours, sys, "AddStringList of three", s_list_three, 0, 0);
    run(&ours, sys, "AddStringList with an 80-byte name", s_list_long, -1, VIR_ERR_INTERNAL_ERROR);

    for (size_t i = 0; i < sizeof(from_string) / sizeof(from_string[0]); i++) {
        /* what libvirt's rules make of each text */
        static const int fails[] = {0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0,
                                    1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1};
        char what[120];
        from_string_i = (int)i;
        snprintf(what, sizeof(what), "AddFromString type %d '%s'", from_string[i].type,
                 from_string[i].text);
        int code = !fails[i] ? 0
                   : from_string[i].type >= VIR_TYPED_PARAM_INT &&
                           from_string[i].type <= VIR_TYPED_PARAM_STRING
                       ? VIR_ERR_INVALID_ARG
                       : VIR_ERR_INTERNAL_ERROR;
        run(&ours, sys, what, s_from_string, fails[i] ? -1 : 0, code);
    }
    run(&ours, sys, "AddFromString with a NULL value", s_from_string_null, -1, VIR_ERR_INVALID_ARG);
    run(&ours, sys, "AddFromString with an 80-byte name", s_from_string_long, -1,
        VIR_ERR_INTERNAL_ERROR);

    /* lookups */
    static const struct {
        int kind;
        const char *name;
        long long rc;
        int code;
    } gets[] = {
        {VIR_TYPED_PARAM_INT, "i", 1, 0},
        {VIR_TYPED_PARAM_UINT, "u", 1, 0},
        {VIR_TYPED_PARAM_LLONG, "l", 1, 0},
        {VIR_TYPED_PARAM_ULLONG, "ul", 1, 0},
        {VIR_TYPED_PARAM_DOUBLE, "d", 1, 0},
        {VIR_TYPED_PARAM_BOOLEAN, "b", 1, 0},
        {VIR_TYPED_PARAM_BOOLEAN, "b0", 1, 0},
        {VIR_TYPED_PARAM_STRING, "s", 1, 0},
        {VIR_TYPED_PARAM_STRING, "snull", 1, 0},
        {VIR_TYPED_PARAM_STRING, "list", 1, 0},
        {VIR_TYPED_PARAM_INT, "missing", 0, 0},
        {VIR_TYPED_PARAM_INT, NULL, 0, 0},
        {VIR_TYPED_PARAM_STRING, "i", -1, VIR_ERR_INVALID_ARG},
        {VIR_TYPED_PARAM_UINT, "s", -1, VIR_ERR_INVALID_ARG},
        {VIR_TYPED_PARAM_DOUBLE, "b", -1, VIR_ERR_INVALID_ARG},
        {VIR_TYPED_PARAM_BOOLEAN, "l", -1, VIR_ERR_INVALID_ARG},
        {VIR_TYPED_PARAM_LLONG, "ul", -1, VIR_ERR_INVALID_ARG},
        {VIR_TYPED_PARAM_ULLONG, "d", -1, VIR_ERR_INVALID_ARG},
        {VIR_TYPED_PARAM_INT, "u", -1, VIR_ERR_INVALID_ARG},
        {0, "i", 0, VIR_ERR_INTERNAL_ERROR}, /* virTypedParamsGet leaves errors alone */
        {0, "list", 11, VIR_ERR_INTERNAL_ERROR},
        {0, "missing", -1, VIR_ERR_INTERNAL_ERROR},
        {100, "i", 1, 0},
        {100, "s", -1, VIR_ERR_INVALID_ARG},
        {101, "i", 0, 0},
    };
    for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
        char what[120];
        get_kind = gets[i].kind;
        get_name = gets[i].name;
        long long rc = gets[i].rc;
        snprintf(what, sizeof(what), "Get kind %d of '%s'", gets[i].kind,
                 gets[i].name ? gets[i].name : "(NULL)");
        run(&ours, sys, what, s_get, rc, gets[i].code);
    }

    /* Clear frees the strings and leaves the rest; Free the array */
    ours.clear(ours.params, ours.n);
    if (sys)
        sys->clear(sys->params, sys->n);
    char why[300] = "";
    bool same = !sys || same_arrays(&ours, sys, why, sizeof(why));
    bool cleared = true;
    for (int i = 0; i < ours.n; i++)
        if (ours.params[i].type == VIR_TYPED_PARAM_STRING && ours.params[i].value.s)
            cleared = false;
    tap_ok(same && cleared, "Clear releases the strings%s%s", why[0] ? ": " : "", why);
    ours.free_(ours.params, ours.n);
    ours.clear(NULL, 3);
    ours.free_(NULL, 3);
    if (sys)
        sys->free_(sys->params, sys->n);
    tap_ok(1, "Free and NULL arrays");
    wire_tests(&ours);
    tap_done();
    return tap_failed ? 1 : 0;
}
