/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the parser of libvirt's client configuration files
 * (src/uri/conf.c).
 *
 * Input: the file's bytes, as is (NUL bytes included). The parser must
 * either give a configuration whose every entry and value is complete, or
 * fail with an error whose message starts with the file name; the typed
 * getters must agree with the value types; uri_aliases is then walked as
 * the resolver walks it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz-conf: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_value(const vrpc_conf_value *v, unsigned int depth, size_t size)
{
    size_t i;
    CHECK(depth <= VRPC_CONF_MAX_DEPTH);
    CHECK(v->line >= 1);
    switch (v->type) {
    case VRPC_CONF_STRING:
        CHECK(v->str && strlen(v->str) <= VRPC_CONF_MAX_STRING && strlen(v->str) <= size);
        break;
    case VRPC_CONF_INT:
        CHECK(v->num <= 0);
        break;
    case VRPC_CONF_UINT:
        CHECK(v->num >= 0);
        break;
    case VRPC_CONF_LIST:
        CHECK(v->n <= VRPC_CONF_MAX_LIST && (v->n == 0 || v->items));
        for (i = 0; i < v->n; i++)
            check_value(&v->items[i], depth + 1, size);
        break;
    default:
        CHECK(!"a value of no type");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vrpc_conf *c = NULL;
    vrpc_error *err = NULL;
    const vrpc_conf_value *items;
    const char *s;
    size_t i, n;
    int rc;

    rc = vrpc_conf_parse("f.conf", (const char *)data, size, &c, &err);
    if (rc) {
        CHECK(c == NULL);
        CHECK(rc == VRPC_E_URI || rc == VRPC_E_NOMEM);
        CHECK(rc == VRPC_E_NOMEM ||
              (err && err->message && strncmp(err->message, "f.conf", 6) == 0));
        vrpc_free(err);
        return 0;
    }
    CHECK(c && !err && c->n <= VRPC_CONF_MAX_ENTRIES);
    for (i = 0; i < c->n; i++) {
        const vrpc_conf_entry *e = &c->entries[i];
        CHECK(e->key && e->key[0] && strlen(e->key) <= VRPC_CONF_MAX_KEY && e->line >= 1);
        CHECK(vrpc_conf_find(c, e->key) <= e);
        check_value(&e->value, 0, size);

        err = NULL;
        rc = vrpc_conf_get_string(c, e->key, &s, &err);
        CHECK(rc == 1 || rc == VRPC_E_URI);
        CHECK((rc == 1) == (vrpc_conf_find(c, e->key)->value.type == VRPC_CONF_STRING));
        CHECK(rc == 1 || (err && strstr(err->message, e->key)));
        vrpc_free(err);
    }

    err = NULL;
    rc = vrpc_conf_get_string_list(c, "uri_aliases", &items, &n, &err);
    if (rc == 1) {
        for (i = 0; i < n; i++)
            CHECK(items[i].type == VRPC_CONF_STRING && items[i].str);
    } else {
        CHECK(rc == 0 || (rc == VRPC_E_URI && err && err->message));
    }
    vrpc_free(err);
    vrpc_conf_free(c);
    return 0;
}
