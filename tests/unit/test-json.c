/* SPDX-License-Identifier: MIT */
/*
 * The JSON bridge of the virtrpc tool.
 *
 * Round trips: for the argument, reply and event types of every procedure
 * of every program, pseudo-random values are encoded to XDR, converted to
 * JSON, printed, parsed, converted back to C and encoded again: the bytes
 * must be identical. The JSON of the decoded encoding must print the same.
 *
 * Errors: JSON that does not fit (wrong kinds, missing and unknown members,
 * bad UUIDs and base64, values out of range, bounds exceeded, unions with a
 * wrong arm, bad JSON text) is refused with a message naming the path.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/virtrpc.h>

#include "json-bridge.h"
#include "tap.h"

/* ---- a tiny arena for the generated values ---- */

static void **blocks;
static size_t nblocks, capblocks;

static void *alloc(size_t n)
{
    void *p;
    if (nblocks == capblocks) {
        capblocks = capblocks ? capblocks * 2 : 256;
        blocks = realloc(blocks, capblocks * sizeof(*blocks));
        if (!blocks)
            abort();
    }
    p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    blocks[nblocks++] = p;
    return p;
}

static void arena_reset(void)
{
    for (size_t i = 0; i < nblocks; i++)
        free(blocks[i]);
    nblocks = 0;
}

/* ---- pseudo-random values ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

/* Integers that are often at the edges. */
static uint64_t rnd_bits(void)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     0x7f,
                                     0x80,
                                     0xff,
                                     0x7fff,
                                     0x8000,
                                     0xffff,
                                     0x7fffffff,
                                     0x80000000,
                                     0xffffffff,
                                     0x7fffffffffffffffull,
                                     0x8000000000000000ull,
                                     0xffffffffffffffffull};
    if (rnd_below(3) == 0)
        return edges[rnd_below(sizeof(edges) / sizeof(edges[0]))];
    return rnd();
}

static void rnd_value(const vrpc_type *t, uint8_t *dst, unsigned depth);

static size_t small_count(uint32_t bound, size_t most, unsigned depth)
{
    size_t cap = depth > 6 ? 0 : most;
    if (bound != VRPC_UNBOUNDED && bound < cap)
        cap = bound;
    return (size_t)rnd_below(cap + 1);
}

static void set_discriminant(const vrpc_type *dt, uint8_t *p, int64_t v)
{
    switch (dt->kind) {
    case VRPC_KIND_INT:
    case VRPC_KIND_ENUM:
    case VRPC_KIND_UINT: {
        int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
        break;
    }
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
        memcpy(p, &v, 8);
        break;
    case VRPC_KIND_BOOL:
        *(bool *)p = v != 0;
        break;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT: {
        int16_t x = (int16_t)v;
        memcpy(p, &x, 2);
        break;
    }
    default:
        *p = (uint8_t)v;
        break;
    }
}

static void rnd_value(const vrpc_type *t, uint8_t *dst, unsigned depth)
{
    uint64_t b;
    switch (t->kind) {
    case VRPC_KIND_VOID:
        return;
    case VRPC_KIND_INT:
    case VRPC_KIND_UINT:
        b = rnd_bits();
        memcpy(dst, &(uint32_t){(uint32_t)b}, 4);
        return;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
        b = rnd_bits();
        memcpy(dst, &b, 8);
        return;
    case VRPC_KIND_CHAR:
    case VRPC_KIND_UCHAR:
        *dst = (uint8_t)rnd_bits();
        return;
    case VRPC_KIND_SHORT:
    case VRPC_KIND_USHORT:
        memcpy(dst, &(uint16_t){(uint16_t)rnd_bits()}, 2);
        return;
    case VRPC_KIND_BOOL:
        *(bool *)dst = rnd() & 1;
        return;
    case VRPC_KIND_FLOAT: {
        float f;
        do {
            uint32_t w = (uint32_t)rnd();
            memcpy(&f, &w, 4);
        } while (!isfinite(f));
        memcpy(dst, &f, 4);
        return;
    }
    case VRPC_KIND_DOUBLE: {
        double d;
        do {
            b = rnd();
            memcpy(&d, &b, 8);
        } while (!isfinite(d));
        memcpy(dst, &d, 8);
        return;
    }
    case VRPC_KIND_ENUM: {
        /* One in four outside the enum (any int32), as a newer daemon may send. */
        int32_t v =
            t->nvalues && rnd_below(4) ? t->values[rnd_below(t->nvalues)].value : (int32_t)rnd();
        memcpy(dst, &v, 4);
        return;
    }
    case VRPC_KIND_STRING:
    case VRPC_KIND_OPT_STRING: {
        static const char *const pieces[] = {
            "a",    "Z",    "0",    " ",        "\"",           "\\",   "/",    "\n", "\t",
            "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xff", "\x80", "{",  "}"};
        size_t n = small_count(t->bound, 10, 0), len = 0;
        char *s;
        if (t->kind == VRPC_KIND_OPT_STRING && rnd_below(3) == 0) {
            *(char **)dst = NULL;
            return;
        }
        s = alloc(n * 4 + 1);
        for (size_t i = 0; i < n; i++) {
            const char *p = pieces[rnd_below(sizeof(pieces) / sizeof(pieces[0]))];
            size_t pl = strlen(p);
            if (t->bound != VRPC_UNBOUNDED && len + pl > t->bound)
                break;
            memcpy(s + len, p, pl);
            len += pl;
        }
        s[len] = '\0';
        *(char **)dst = s;
        return;
    }
    case VRPC_KIND_OPAQUE_FIXED:
        for (uint32_t i = 0; i < t->bound; i++)
            dst[i] = (uint8_t)rnd();
        return;
    case VRPC_KIND_OPAQUE_VAR: {
        vrpc_bytes by;
        by.len = (uint32_t)small_count(t->bound, 20, 0);
        by.data = by.len || rnd_below(2) ? alloc(by.len) : NULL;
        for (uint32_t i = 0; i < by.len; i++)
            by.data[i] = (uint8_t)rnd();
        memcpy(dst, &by, sizeof(by));
        return;
    }
    case VRPC_KIND_ARRAY_FIXED:
        for (uint32_t i = 0; i < t->bound; i++)
            rnd_value(t->elem, dst + (size_t)i * t->elem->size, depth + 1);
        return;
    case VRPC_KIND_ARRAY_VAR: {
        vrpc_array a;
        a.n = (uint32_t)small_count(t->bound, 3, depth);
        a.items = a.n ? alloc((size_t)a.n * t->elem->size) : NULL;
        for (uint32_t i = 0; i < a.n; i++)
            rnd_value(t->elem, (uint8_t *)a.items + (size_t)i * t->elem->size, depth + 1);
        memcpy(dst, &a, sizeof(a));
        return;
    }
    case VRPC_KIND_OPTIONAL: {
        uint8_t *p = NULL;
        if (depth < 6 && rnd_below(3) != 0) {
            p = alloc(t->elem->size);
            rnd_value(t->elem, p, depth + 1);
        }
        memcpy(dst, &p, sizeof(p));
        return;
    }
    case VRPC_KIND_STRUCT:
        for (uint32_t i = 0; i < t->nfields; i++)
            rnd_value(t->fields[i].type, dst + t->fields[i].offset, depth + 1);
        return;
    case VRPC_KIND_UNION: {
        const vrpc_field *df = &t->fields[0];
        const vrpc_union_arm *arm;
        size_t choices = t->narms + (t->default_arm ? 1 : 0);
        size_t k = rnd_below(choices);
        if (k < t->narms) {
            arm = &t->arms[k];
            set_discriminant(df->type, dst + df->offset, arm->value);
        } else {
            /* The default arm: a discriminant no case label takes (for an
             * enum discriminant, one of the enum's values, else a number
             * outside the enum). */
            int64_t v = 1000;
            bool taken;
            uint32_t e = 0;
            arm = t->default_arm;
            do {
                taken = false;
                if (df->type->kind == VRPC_KIND_ENUM && e < df->type->nvalues) {
                    v = df->type->values[e++].value;
                } else {
                    v++;
                }
                for (uint32_t i = 0; i < t->narms; i++)
                    taken |= t->arms[i].value == v;
            } while (taken);
            set_discriminant(df->type, dst + df->offset, v);
        }
        if (arm->type)
            rnd_value(arm->type, dst + arm->offset, depth + 1);
        return;
    }
    }
}

/* ---- round trips ---- */

static char *to_text(json_object *j, int flags)
{
    const char *s = json_object_to_json_string_ext(j, flags);
    return strdup(s ? s : "");
}

/* One random value of t through JSON and back. NULL on success, else why not. */
static char *round_trip(const vrpc_type *t)
{
    static char why[512];
    vrpc_buf b1 = {0}, b2 = {0};
    json_object *j1 = NULL, *j2 = NULL, *j3 = NULL;
    vrpc_json_value *v = NULL;
    void *decoded = NULL;
    char *msg = NULL, *pretty = NULL, *plain1 = NULL, *plain3 = NULL;
    uint8_t *val = alloc(t->size);
    int rc;

    why[0] = '\0';
    rnd_value(t, val, 0);
    rc = vrpc_xdr_encode(t, val, &b1);
    if (rc) {
        /* A random value may exceed the message cap for giant types; skip. */
        if (rc == VRPC_E_TOO_BIG)
            goto out;
        snprintf(why, sizeof(why), "encode: %s", vrpc_strerror(rc));
        goto out;
    }
    if (vrpc_json_from_c(t, val, &j1, &msg) != 0) {
        snprintf(why, sizeof(why), "to JSON: %s", msg);
        goto out;
    }
    pretty = to_text(j1, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    plain1 = to_text(j1, JSON_C_TO_STRING_PLAIN);
    if (vrpc_json_parse(pretty, &j2, &msg) != 0) {
        snprintf(why, sizeof(why), "parse: %s in %.200s", msg, pretty);
        goto out;
    }
    if (vrpc_json_to_c(t, j2, "value", &v, &msg) != 0) {
        snprintf(why, sizeof(why), "from JSON: %s in %.200s", msg, plain1);
        goto out;
    }
    rc = vrpc_xdr_encode(t, vrpc_json_value_get(v), &b2);
    if (rc) {
        snprintf(why, sizeof(why), "re-encode: %s", vrpc_strerror(rc));
        goto out;
    }
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0) {
        snprintf(why, sizeof(why), "bytes differ (%zu vs %zu) for %.200s", b1.len, b2.len, plain1);
        goto out;
    }
    /* The decoded encoding shows as the same JSON. */
    rc = vrpc_xdr_decode(t, b1.data, b1.len, &decoded);
    if (rc) {
        snprintf(why, sizeof(why), "decode: %s", vrpc_strerror(rc));
        goto out;
    }
    if (vrpc_json_from_c(t, decoded, &j3, &msg) != 0) {
        snprintf(why, sizeof(why), "decoded to JSON: %s", msg);
        goto out;
    }
    plain3 = to_text(j3, JSON_C_TO_STRING_PLAIN);
    if (strcmp(plain1, plain3) != 0)
        snprintf(why, sizeof(why), "decoded JSON differs: %.200s vs %.200s", plain1, plain3);
out:
    free(msg);
    free(pretty);
    free(plain1);
    free(plain3);
    json_object_put(j1);
    json_object_put(j2);
    json_object_put(j3);
    vrpc_json_value_free(v);
    vrpc_free(decoded);
    vrpc_free(b1.data);
    vrpc_free(b2.data);
    arena_reset();
    return why[0] ? why : NULL;
}

#define ITERATIONS 40

static void test_round_trips(void)
{
    size_t nprog = 0, ntypes = 0, nvalues = 0;
    const vrpc_program *progs = vrpc_programs(&nprog);

    for (size_t p = 0; p < nprog; p++) {
        for (size_t k = 0; k < progs[p].nprocs; k++) {
            const vrpc_proc *proc = &progs[p].procs[k];
            const vrpc_type *types[3] = {proc->args, proc->ret, proc->msg};
            const char *roles[3] = {"args", "ret", "msg"};
            char *why = NULL;
            int n = 0;
            for (int r = 0; r < 3; r++) {
                if (!types[r])
                    continue;
                n++;
                ntypes++;
                for (int it = 0; it < ITERATIONS && !why; it++) {
                    why = round_trip(types[r]);
                    nvalues++;
                    if (why)
                        tap_diag("%s %s: %s", proc->name, roles[r], why);
                }
            }
            if (n)
                tap_ok(!why, "%s.%s: JSON round trip of %d type(s)", progs[p].name, proc->name, n);
        }
    }
    tap_ok(ntypes > 400, "round trips: %zu types, %zu values", ntypes, nvalues);
}

/* ---- error cases ---- */

/* Convert text to a value of type `tname`; expect failure with a message containing want. */
static void expect_error_t(const vrpc_type *t, const char *tname, const char *text,
                           const char *want)
{
    json_object *j = NULL;
    vrpc_json_value *v = NULL;
    char *msg = NULL;
    int rc;

    if (!t) {
        tap_ok(0, "type %s exists", tname);
        return;
    }
    rc = vrpc_json_parse(text, &j, &msg);
    if (rc == 0) {
        rc = vrpc_json_to_c(t, j, "args", &v, &msg);
        json_object_put(j);
    }
    tap_ok(rc != 0 && v == NULL && msg && strstr(msg, want), "%s %.60s -> %s (got: %s)", tname,
           text, want, msg ? msg : "success");
    free(msg);
    vrpc_json_value_free(v);
}

/* Convert text to a value of tname, encode it, and compare with hex bytes (if given). */
static void expect_ok_t(const vrpc_type *t, const char *tname, const char *text, const char *hex)
{
    json_object *j = NULL;
    vrpc_json_value *v = NULL;
    vrpc_buf b = {0};
    char *msg = NULL, got[1024] = "";
    int rc;

    if (!t) {
        tap_ok(0, "type %s exists", tname);
        return;
    }
    rc = vrpc_json_parse(text, &j, &msg);
    if (rc == 0) {
        rc = vrpc_json_to_c(t, j, "args", &v, &msg);
        json_object_put(j);
    }
    if (rc == 0)
        rc = vrpc_xdr_encode(t, vrpc_json_value_get(v), &b);
    for (size_t i = 0; rc == 0 && i < b.len && i * 2 + 2 < sizeof(got); i++)
        snprintf(got + i * 2, 3, "%02x", b.data[i]);
    tap_ok(rc == 0 && (!hex || strcmp(hex, got) == 0), "%s %.60s accepted%s%s (%s)", tname, text,
           hex ? " as " : "", hex ? hex : "", msg ? msg : got);
    free(msg);
    vrpc_json_value_free(v);
    vrpc_free(b.data);
}

static void expect_error(const char *tname, const char *text, const char *want)
{
    expect_error_t(vrpc_type_lookup(tname), tname, text, want);
}

static void expect_ok(const char *tname, const char *text, const char *hex)
{
    expect_ok_t(vrpc_type_lookup(tname), tname, text, hex);
}

static void test_errors(void)
{
    const char *dom_ok = "{\"name\": \"t\", \"uuid\": \"6695eb01-f6a4-8304-79aa-97f2502e193f\", "
                         "\"id\": 1}";
    char buf[512];

    /* Structs. */
    expect_error("remote_domain_lookup_by_name_args", "{}", "args.name: missing member");
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": 5}",
                 "args.name: expected a string");
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": null}",
                 "args.name: expected a string");
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": \"x\", \"nmae\": 1}",
                 "args.nmae: unknown member");
    expect_error("remote_domain_lookup_by_name_args", "[\"x\"]", "args: expected an object");
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": \"a\\u0000b\"}",
                 "args.name: the string contains a NUL");
    expect_ok("remote_domain_lookup_by_name_args", "{\"name\": \"test\"}", "0000000474657374");

    /* UUIDs. */
    expect_error("remote_domain_get_info_args",
                 "{\"dom\": {\"name\": \"t\", \"uuid\": \"zzz\", \"id\": 1}}",
                 "args.dom.uuid: expected a UUID string");
    expect_error("remote_domain_get_info_args",
                 "{\"dom\": {\"name\": \"t\", \"uuid\": \"6695eb01-f6a4-8304-79aa-97f2502e193\", "
                 "\"id\": 1}}",
                 "args.dom.uuid: expected a UUID string");
    expect_error("remote_domain_get_info_args",
                 "{\"dom\": {\"name\": \"t\", \"uuid\": \"6695eb01xf6a4-8304-79aa-97f2502e193f\", "
                 "\"id\": 1}}",
                 "args.dom.uuid: expected a UUID string");
    expect_error("remote_domain_get_info_args",
                 "{\"dom\": {\"name\": \"t\", \"uuid\": 12, \"id\": 1}}",
                 "args.dom.uuid: expected a UUID string");
    expect_error("remote_domain_get_info_args", "{\"dom\": {\"name\": \"t\", \"id\": 1}}",
                 "args.dom.uuid: missing member");
    snprintf(buf, sizeof(buf), "{\"dom\": %s}", dom_ok);
    expect_ok("remote_domain_get_info_args", buf,
              "00000001740000006695eb01f6a4830479aa97f2502e193f00000001");
    expect_ok("remote_domain_get_info_args",
              "{\"dom\": {\"name\": \"t\", \"uuid\": \"6695EB01-F6A4-8304-79AA-97F2502E193F\", "
              "\"id\": 1}}",
              "00000001740000006695eb01f6a4830479aa97f2502e193f00000001");
    /* The base64 form of the same 16 bytes. */
    expect_ok("remote_domain_get_info_args",
              "{\"dom\": {\"name\": \"t\", \"uuid\": \"ZpXrAfakgwR5qpfyUC4ZPw==\", \"id\": 1}}",
              "00000001740000006695eb01f6a4830479aa97f2502e193f00000001");

    /* Integers. */
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"flags\": -1}", dom_ok);
    expect_error("remote_domain_get_xml_desc_args", buf, "args.flags: value out of range");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"flags\": 4294967296}", dom_ok);
    expect_error("remote_domain_get_xml_desc_args", buf, "args.flags: value out of range");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"flags\": 99999999999999999999999}", dom_ok);
    expect_error("remote_domain_get_xml_desc_args", buf, "args.flags: value out of range");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"flags\": 1.5}", dom_ok);
    expect_error("remote_domain_get_xml_desc_args", buf, "args.flags: expected an integer");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"flags\": true}", dom_ok);
    expect_error("remote_domain_get_xml_desc_args", buf, "args.flags: expected an integer");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"flags\": \"12x\"}", dom_ok);
    expect_error("remote_domain_get_xml_desc_args", buf, "args.flags: expected an integer");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"flags\": \"4294967295\"}", dom_ok);
    expect_ok("remote_domain_get_xml_desc_args", buf, NULL);
    expect_error("remote_domain_get_info_args",
                 "{\"dom\": {\"name\": \"t\", \"uuid\": \"6695eb01-f6a4-8304-79aa-97f2502e193f\", "
                 "\"id\": 2147483648}}",
                 "args.dom.id: value out of range");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"memory\": 18446744073709551615}", dom_ok);
    expect_ok("remote_domain_set_max_memory_args", buf, NULL);
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"memory\": \"18446744073709551615\"}", dom_ok);
    expect_ok("remote_domain_set_max_memory_args", buf, NULL);
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"memory\": 18446744073709551616}", dom_ok);
    expect_error("remote_domain_set_max_memory_args", buf, "args.memory: value out of range");
    snprintf(buf, sizeof(buf), "{\"dom\": %s, \"memory\": -1}", dom_ok);
    expect_error("remote_domain_set_max_memory_args", buf, "args.memory: value out of range");

    /* Optional strings and optional values. */
    expect_ok("remote_connect_open_args", "{\"name\": null, \"flags\": 0}", "0000000000000000");
    expect_ok("remote_connect_open_args", "{\"name\": \"test:///default\", \"flags\": 1}", NULL);
    expect_error("remote_connect_open_args", "{\"name\": 7, \"flags\": 0}",
                 "args.name: expected a string");

    /* Enums. */
    expect_ok("remote_auth_list_ret", "{\"types\": [0, \"REMOTE_AUTH_SASL\", 2]}",
              "00000003000000000000000100000002");
    /* A value the enum does not list (a newer daemon's) is passed on as a number. */
    expect_ok("remote_auth_list_ret", "{\"types\": [0, 9, -2147483648, \"7\"]}",
              "00000004000000000000000980000000"
              "00000007");
    expect_error("remote_auth_list_ret", "{\"types\": [2147483648]}",
                 "args.types[0]: value out of range for enum [-2147483648, 2147483647]");
    expect_error("remote_auth_list_ret", "{\"types\": [1.5]}",
                 "args.types[0]: expected an integer");
    expect_error("remote_auth_list_ret", "{\"types\": [\"REMOTE_AUTH_NOPE\"]}",
                 "args.types[0]: \"REMOTE_AUTH_NOPE\" is not a value");

    /* Typed parameters: a union and an array with a bound. */
    snprintf(buf, sizeof(buf),
             "{\"dom\": %s, \"params\": [{\"field\": \"cpu_shares\", \"value\": {\"type\": 4, "
             "\"ul\": 1024}}], \"flags\": 0}",
             dom_ok);
    expect_ok("remote_domain_set_scheduler_parameters_flags_args", buf, NULL);
    snprintf(buf, sizeof(buf),
             "{\"dom\": %s, \"params\": [{\"field\": \"cpu_shares\", \"value\": {\"type\": 4, "
             "\"i\": 1024}}], \"flags\": 0}",
             dom_ok);
    expect_error("remote_domain_set_scheduler_parameters_flags_args", buf,
                 "args.params[0].value.i: unknown member");
    snprintf(buf, sizeof(buf),
             "{\"dom\": %s, \"params\": [{\"field\": \"cpu_shares\", \"value\": {\"type\": 4}}], "
             "\"flags\": 0}",
             dom_ok);
    expect_error("remote_domain_set_scheduler_parameters_flags_args", buf,
                 "args.params[0].value.ul: missing member");
    snprintf(buf, sizeof(buf),
             "{\"dom\": %s, \"params\": [{\"field\": \"x\", \"value\": {\"type\": 9, \"i\": 1}}], "
             "\"flags\": 0}",
             dom_ok);
    expect_error("remote_domain_set_scheduler_parameters_flags_args", buf,
                 "args.params[0].value.type: 9 selects no arm");
    snprintf(buf, sizeof(buf),
             "{\"dom\": %s, \"params\": [{\"field\": \"x\", \"value\": {\"type\": 7, \"s\": 1}}], "
             "\"flags\": 0}",
             dom_ok);
    expect_error("remote_domain_set_scheduler_parameters_flags_args", buf,
                 "args.params[0].value.s: expected a string");
    {
        /* 17 parameters where at most 16 are allowed. */
        char big[8192];
        size_t o = (size_t)snprintf(big, sizeof(big), "{\"dom\": %s, \"params\": [", dom_ok);
        for (int i = 0; i < 17; i++)
            o += (size_t)snprintf(big + o, sizeof(big) - o,
                                  "%s{\"field\": \"f%d\", \"value\": {\"type\": 1, \"i\": %d}}",
                                  i ? ", " : "", i, i);
        snprintf(big + o, sizeof(big) - o, "], \"flags\": 0}");
        expect_error("remote_domain_set_scheduler_parameters_flags_args", big,
                     "args.params: 17 elements exceed the bound of 16");
    }

    /* Variable opaque (base64). */
    snprintf(buf, sizeof(buf),
             "{\"dom\": %s, \"cookie\": \"!!!!\", \"uri\": \"x\", \"flags\": 0, \"dname\": null, "
             "\"resource\": 0}",
             dom_ok);
    expect_error("remote_domain_migrate_perform_args", buf,
                 "args.cookie: expected a base64 string");
    snprintf(buf, sizeof(buf),
             "{\"dom\": %s, \"cookie\": \"AQID\", \"uri\": \"x\", \"flags\": 0, \"dname\": null, "
             "\"resource\": 0}",
             dom_ok);
    expect_ok("remote_domain_migrate_perform_args", buf, NULL);

    /* Fixed char arrays: integers, or a string. */
    expect_ok("remote_node_get_info_ret",
              "{\"model\": \"x86_64\", \"memory\": 1, \"cpus\": 2, \"mhz\": 3, \"nodes\": 1, "
              "\"sockets\": 1, \"cores\": 2, \"threads\": 1}",
              NULL);
    expect_error("remote_node_get_info_ret",
                 "{\"model\": \"0123456789012345678901234567890123\", \"memory\": 1, \"cpus\": "
                 "2, \"mhz\": 3, \"nodes\": 1, \"sockets\": 1, \"cores\": 2, \"threads\": 1}",
                 "args.model: expected at most 32 elements");
    expect_error("remote_node_get_info_ret",
                 "{\"model\": [1, 2], \"memory\": 1, \"cpus\": 2, \"mhz\": 3, \"nodes\": 1, "
                 "\"sockets\": 1, \"cores\": 2, \"threads\": 1}",
                 "args.model: expected exactly 32 elements");
    expect_error("remote_node_get_info_ret",
                 "{\"model\": 5, \"memory\": 1, \"cpus\": 2, \"mhz\": 3, \"nodes\": 1, "
                 "\"sockets\": 1, \"cores\": 2, \"threads\": 1}",
                 "args.model: expected a string or an array");

    /* Char arrays as strings: one character per byte, U+0000..U+00FF. */
    expect_ok("remote_node_get_security_model_ret",
              "{\"model\": \"ab\\u0000\", \"doi\": \"\\u00e9\"}",
              "00000003000000610000006200000000"
              "00000001ffffffe9");
    expect_ok("remote_node_get_security_model_ret", "{\"model\": [97, 98, 0], \"doi\": [-23]}",
              "00000003000000610000006200000000"
              "00000001ffffffe9");
    expect_error("remote_node_get_security_model_ret", "{\"model\": \"\\u20ac\", \"doi\": \"\"}",
                 "args.model: a string for a char array may only hold the characters U+0000 to "
                 "U+00FF");
    expect_error("remote_node_get_security_model_ret", "{\"model\": [97, 300], \"doi\": \"\"}",
                 "args.model[1]: value out of range for char");

    /* JSON text. */
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": \"x\"", "invalid JSON");
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": \"x\"} 1", "invalid JSON");
    expect_error("remote_domain_lookup_by_name_args", "{'name': 'x'}", "invalid JSON");
    expect_error("remote_domain_lookup_by_name_args", "", "invalid JSON");
}

/* ---- kinds that libvirt's protocols do not use (bool, float, short, unions with defaults) ---- */

typedef struct {
    int32_t d;
    union {
        int32_t i;
        char *s;
    } u;
} demo_u1;

typedef struct {
    uint32_t k;
    union {
        int64_t h;
    } u;
} demo_u2;

typedef struct {
    bool b;
    float f;
    int16_t s;
    uint16_t us;
    int64_t h;
    uint64_t uh;
    uint8_t uc;
    char c;
    uint8_t fix[5];
    struct {
        uint32_t n;
        char *items;
    } label;
    demo_u1 u;
    demo_u2 v;
    demo_u2 *ov;
} demo_t;

static const vrpc_type d_bool = {.kind = VRPC_KIND_BOOL, .size = sizeof(bool), .min_wire = 4};
static const vrpc_type d_float = {.kind = VRPC_KIND_FLOAT, .size = 4, .min_wire = 4};
static const vrpc_type d_short = {.kind = VRPC_KIND_SHORT, .size = 2, .min_wire = 4};
static const vrpc_type d_ushort = {.kind = VRPC_KIND_USHORT, .size = 2, .min_wire = 4};
static const vrpc_type d_hyper = {.kind = VRPC_KIND_HYPER, .size = 8, .min_wire = 8};
static const vrpc_type d_uhyper = {.kind = VRPC_KIND_UHYPER, .size = 8, .min_wire = 8};
static const vrpc_type d_uchar = {.kind = VRPC_KIND_UCHAR, .size = 1, .min_wire = 4};
static const vrpc_type d_char = {.kind = VRPC_KIND_CHAR, .size = 1, .min_wire = 4};
static const vrpc_type d_int = {.kind = VRPC_KIND_INT, .size = 4, .min_wire = 4};
static const vrpc_type d_uint = {.kind = VRPC_KIND_UINT, .size = 4, .min_wire = 4};
static const vrpc_type d_fix = {
    .kind = VRPC_KIND_OPAQUE_FIXED, .size = 5, .bound = 5, .min_wire = 8};
static const vrpc_type d_label = {.kind = VRPC_KIND_ARRAY_VAR,
                                  .size = sizeof(vrpc_array),
                                  .bound = 6,
                                  .min_wire = 4,
                                  .elem = &d_char};
static const vrpc_type d_str8 = {
    .kind = VRPC_KIND_STRING, .size = sizeof(char *), .bound = 8, .min_wire = 4};
static const vrpc_enum_value d_colors[] = {{"RED", 0}, {"GREEN", 1}, {"BLUE", 2}};
static const vrpc_type d_color = {.name = "demo_color",
                                  .kind = VRPC_KIND_ENUM,
                                  .size = 4,
                                  .min_wire = 4,
                                  .nvalues = 3,
                                  .values = d_colors};
static const vrpc_field d_u1_disc[] = {{"d", &d_color, offsetof(demo_u1, d)}};
static const vrpc_union_arm d_u1_arms[] = {{0, "i", &d_int, offsetof(demo_u1, u)},
                                           {1, NULL, NULL, 0}};
static const vrpc_union_arm d_u1_default = {0, "s", &d_str8, offsetof(demo_u1, u)};
static const vrpc_type d_u1 = {.name = "demo_u1",
                               .kind = VRPC_KIND_UNION,
                               .size = sizeof(demo_u1),
                               .min_wire = 4,
                               .nfields = 1,
                               .fields = d_u1_disc,
                               .narms = 2,
                               .arms = d_u1_arms,
                               .default_arm = &d_u1_default};
static const vrpc_field d_u2_disc[] = {{"k", &d_uint, offsetof(demo_u2, k)}};
static const vrpc_union_arm d_u2_arms[] = {{1, "h", &d_hyper, offsetof(demo_u2, u)}};
static const vrpc_union_arm d_u2_default = {0, NULL, NULL, 0};
static const vrpc_type d_u2 = {.name = "demo_u2",
                               .kind = VRPC_KIND_UNION,
                               .size = sizeof(demo_u2),
                               .min_wire = 4,
                               .nfields = 1,
                               .fields = d_u2_disc,
                               .narms = 1,
                               .arms = d_u2_arms,
                               .default_arm = &d_u2_default};
static const vrpc_type d_ou2 = {
    .kind = VRPC_KIND_OPTIONAL, .size = sizeof(void *), .min_wire = 4, .elem = &d_u2};
static const vrpc_field d_fields[] = {
    {"b", &d_bool, offsetof(demo_t, b)},    {"f", &d_float, offsetof(demo_t, f)},
    {"s", &d_short, offsetof(demo_t, s)},   {"us", &d_ushort, offsetof(demo_t, us)},
    {"h", &d_hyper, offsetof(demo_t, h)},   {"uh", &d_uhyper, offsetof(demo_t, uh)},
    {"uc", &d_uchar, offsetof(demo_t, uc)}, {"c", &d_char, offsetof(demo_t, c)},
    {"fix", &d_fix, offsetof(demo_t, fix)}, {"label", &d_label, offsetof(demo_t, label)},
    {"u", &d_u1, offsetof(demo_t, u)},      {"v", &d_u2, offsetof(demo_t, v)},
    {"ov", &d_ou2, offsetof(demo_t, ov)},
};
static const vrpc_type d_demo = {.name = "demo",
                                 .kind = VRPC_KIND_STRUCT,
                                 .size = sizeof(demo_t),
                                 .min_wire = 64,
                                 .nfields = 13,
                                 .fields = d_fields};

#define DEMO_REST                                                                                  \
    "\"h\": -9223372036854775808, \"uh\": 18446744073709551615, \"uc\": 255, "                     \
    "\"c\": -1, \"fix\": \"AQIDBAU=\", \"label\": \"abc\", \"ov\": null"

static void test_other_kinds(void)
{
    char *why = NULL;
    for (int it = 0; it < 400 && !why; it++)
        why = round_trip(&d_demo);
    tap_ok(!why, "bool, float, short, hyper, char arrays, unions with default arms: %s",
           why ? why : "400 round trips");

    expect_ok_t(&d_demo, "demo",
                "{\"b\": true, \"f\": 0.5, \"s\": -32768, \"us\": 65535, " DEMO_REST
                ", \"u\": {\"d\": \"BLUE\", \"s\": \"hey\"}, \"v\": {\"k\": 7}}",
                "00000001"                         /* b */
                "3f000000"                         /* f */
                "ffff8000"                         /* s */
                "0000ffff"                         /* us */
                "8000000000000000"                 /* h */
                "ffffffffffffffff"                 /* uh */
                "000000ff"                         /* uc */
                "ffffffff"                         /* c */
                "0102030405000000"                 /* fix */
                "00000003000000610000006200000063" /* label */
                "00000002"
                "00000003"
                "68657900"   /* u: default arm */
                "00000007"   /* v: void default */
                "00000000"); /* ov */
    expect_ok_t(&d_demo, "demo",
                "{\"b\": 0, \"f\": \"-Infinity\", \"s\": 0, \"us\": 0, " DEMO_REST
                ", \"u\": {\"d\": 1}, \"v\": {\"k\": 1, \"h\": -2}}",
                NULL);
    expect_error_t(&d_demo, "demo",
                   "{\"b\": 2, \"f\": 0, \"s\": 0, \"us\": 0, " DEMO_REST
                   ", \"u\": {\"d\": 1}, \"v\": {\"k\": 7}}",
                   "args.b: expected a boolean");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 1e39, \"s\": 0, \"us\": 0, " DEMO_REST
                   ", \"u\": {\"d\": 1}, \"v\": {\"k\": 7}}",
                   "args.f: value out of range for float");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 32768, \"us\": 0, " DEMO_REST
                   ", \"u\": {\"d\": 1}, \"v\": {\"k\": 7}}",
                   "args.s: value out of range for short");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, " DEMO_REST
                   ", \"u\": {\"d\": 1, \"s\": \"x\"}, \"v\": {\"k\": 7}}",
                   "args.u.s: unknown member (d 1 has no value)");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, " DEMO_REST
                   ", \"u\": {\"d\": 2, \"s\": \"123456789\"}, \"v\": {\"k\": 7}}",
                   "args.u.s: string of 9 bytes exceeds the bound of 8");
    /* An enum discriminant outside the enum takes the default arm. */
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, " DEMO_REST
                   ", \"u\": {\"d\": 3}, \"v\": {\"k\": 7}}",
                   "args.u.s: missing member");
    expect_ok_t(&d_demo, "demo",
                "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, " DEMO_REST
                ", \"u\": {\"d\": 3, \"s\": \"x\"}, \"v\": {\"k\": 7}}",
                NULL);
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, " DEMO_REST
                   ", \"u\": {\"d\": 1}, \"v\": {\"k\": 7, \"h\": 1}}",
                   "args.v.h: unknown member (k 7 has no value)");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, \"h\": 0, \"uh\": 0, \"uc\": "
                   "0, \"c\": 0, \"fix\": \"AAAA\", \"label\": [], \"ov\": null, \"u\": {\"d\": "
                   "1}, \"v\": {\"k\": 7}}",
                   "args.fix: expected exactly 5 bytes");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, \"h\": 0, \"uh\": 0, \"uc\": "
                   "0, \"c\": 0, \"fix\": \"AAAAAAA=\", \"label\": \"abcdefg\", \"ov\": null, "
                   "\"u\": {\"d\": 1}, \"v\": {\"k\": 7}}",
                   "args.label: 7 elements exceed the bound of 6");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, \"h\": 0, \"uh\": 0, \"uc\": "
                   "0, \"c\": 128, \"fix\": \"AAAAAAA=\", \"label\": [], \"ov\": null, "
                   "\"u\": {\"d\": 1}, \"v\": {\"k\": 7}}",
                   "args.c: value out of range for char");
    expect_error_t(&d_demo, "demo",
                   "{\"b\": false, \"f\": 0, \"s\": 0, \"us\": 0, \"h\": 0, \"uh\": 0, \"uc\": "
                   "0, \"c\": 0, \"fix\": \"AAAAAAA=\", \"label\": [], \"ov\": {\"k\": \"x\"}, "
                   "\"u\": {\"d\": 1}, \"v\": {\"k\": 7}}",
                   "args.ov.k: expected an integer");
}

/* A void argument type takes nothing, null or {}. */
static void test_void(void)
{
    json_object *j = NULL;
    vrpc_json_value *v = NULL;
    char *msg = NULL;
    int rc = vrpc_json_to_c(NULL, NULL, "args", &v, &msg);
    tap_ok(rc == 0 && vrpc_json_value_get(v) == NULL, "void: no JSON accepted");
    vrpc_json_value_free(v);
    v = NULL;
    vrpc_json_parse("{}", &j, &msg);
    rc = vrpc_json_to_c(NULL, j, "args", &v, &msg);
    json_object_put(j);
    tap_ok(rc == 0, "void: {} accepted");
    vrpc_json_value_free(v);
    v = NULL;
    vrpc_json_parse("{\"a\": 1}", &j, &msg);
    rc = vrpc_json_to_c(NULL, j, "args", &v, &msg);
    json_object_put(j);
    tap_ok(rc != 0 && msg && strstr(msg, "args: expected no value"), "void: {\"a\":1} refused (%s)",
           msg ? msg : "accepted");
    free(msg);
    vrpc_json_value_free(v);
}

/* What a decoded UUID and a typed parameter look like. */
static void test_shapes(void)
{
    const vrpc_type *t = vrpc_type_lookup("remote_domain_set_scheduler_parameters_flags_args");
    static const char *text =
        "{\"dom\": {\"name\": \"test\", \"uuid\": \"6695eb01-f6a4-8304-79aa-97f2502e193f\", "
        "\"id\": -1}, \"params\": [{\"field\": \"cpu_shares\", \"value\": {\"type\": 4, \"ul\": "
        "1024}}, {\"field\": \"x\", \"value\": {\"type\": 7, \"s\": \"y\"}}], \"flags\": 3}";
    json_object *j = NULL, *back = NULL;
    vrpc_json_value *v = NULL;
    char *msg = NULL;
    const char *printed;
    int rc;

    if (!t) {
        tap_ok(0, "remote_domain_set_scheduler_parameters_flags_args exists");
        return;
    }
    rc = vrpc_json_parse(text, &j, &msg);
    if (!rc)
        rc = vrpc_json_to_c(t, j, "args", &v, &msg);
    if (!rc)
        rc = vrpc_json_from_c(t, vrpc_json_value_get(v), &back, &msg);
    printed = rc ? "" : json_object_to_json_string_ext(back, JSON_C_TO_STRING_SPACED);
    tap_ok(rc == 0 && strcmp(printed,
                             "{ \"dom\": { \"name\": \"test\", \"uuid\": "
                             "\"6695eb01-f6a4-8304-79aa-97f2502e193f\", \"id\": -1 }, \"params\": "
                             "[ { \"field\": \"cpu_shares\", \"value\": { \"type\": 4, \"ul\": "
                             "1024 } }, { \"field\": \"x\", \"value\": { \"type\": 7, \"s\": "
                             "\"y\" } } ], \"flags\": 3 }") == 0,
           "typed parameters and UUID print as documented: %s", msg ? msg : printed);
    free(msg);
    json_object_put(j);
    json_object_put(back);
    vrpc_json_value_free(v);
}

/* A fixed char array prints as a string without its trailing zero bytes. */
static void test_char_shape(void)
{
    const vrpc_type *t = vrpc_type_lookup("remote_node_get_info_ret");
    json_object *j = NULL, *back = NULL;
    vrpc_json_value *v = NULL;
    char *msg = NULL;
    const char *printed = "";
    int rc;

    if (!t) {
        tap_ok(0, "remote_node_get_info_ret exists");
        return;
    }
    rc = vrpc_json_parse("{\"model\": [105, 54, 56, 54, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
                         "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], \"memory\": 3145728, "
                         "\"cpus\": 16, \"mhz\": 1400, \"nodes\": 2, \"sockets\": 2, \"cores\": "
                         "2, \"threads\": 2}",
                         &j, &msg);
    if (!rc)
        rc = vrpc_json_to_c(t, j, "args", &v, &msg);
    if (!rc)
        rc = vrpc_json_from_c(t, vrpc_json_value_get(v), &back, &msg);
    if (!rc)
        printed = json_object_to_json_string_ext(back, JSON_C_TO_STRING_SPACED);
    tap_ok(rc == 0 && strcmp(printed, "{ \"model\": \"i686\", \"memory\": 3145728, \"cpus\": 16, "
                                      "\"mhz\": 1400, \"nodes\": 2, \"sockets\": 2, \"cores\": "
                                      "2, \"threads\": 2 }") == 0,
           "a fixed char array prints as a string: %s", msg ? msg : printed);
    free(msg);
    json_object_put(j);
    json_object_put(back);
    vrpc_json_value_free(v);
}

int main(void)
{
    test_round_trips();
    test_errors();
    test_other_kinds();
    test_void();
    test_shapes();
    test_char_shape();
    free(blocks);
    return tap_done();
}
