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
        int32_t v = t->nvalues ? t->values[rnd_below(t->nvalues)].value : 0;
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
            /* The default arm: a discriminant no case label takes. */
            int64_t v = 1000;
            bool taken;
            arm = t->default_arm;
            do {
                taken = false;
                v++;
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

#define ITERATIONS 12

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
static void expect_error(const char *tname, const char *text, const char *want)
{
    const vrpc_type *t = vrpc_type_lookup(tname);
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
static void expect_ok(const char *tname, const char *text, const char *hex)
{
    const vrpc_type *t = vrpc_type_lookup(tname);
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
    expect_ok("remote_domain_lookup_by_name_args", "{\"name\": \"test\"}",
              "0000000474657374");

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
    expect_error("remote_auth_list_ret", "{\"types\": [0, 9]}",
                 "args.types[1]: 9 is not a value of remote_auth_type");
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
                 "args.model: expected an array or a string");

    /* JSON text. */
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": \"x\"", "invalid JSON");
    expect_error("remote_domain_lookup_by_name_args", "{\"name\": \"x\"} 1", "invalid JSON");
    expect_error("remote_domain_lookup_by_name_args", "{'name': 'x'}", "invalid JSON");
    expect_error("remote_domain_lookup_by_name_args", "", "invalid JSON");
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

int main(void)
{
    test_round_trips();
    test_errors();
    test_void();
    test_shapes();
    free(blocks);
    return tap_done();
}
