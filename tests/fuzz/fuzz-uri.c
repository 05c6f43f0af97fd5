/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the URI parser and the remote driver's rules (src/uri/uri.c).
 *
 * Input: one control byte, then the URI text (cut at the first NUL).
 *   bit 0      VRPC_OPEN_READONLY
 *   bit 1      VRPC_OPEN_NO_AUTOSTART
 *   bit 2      the process runs as root (else uid 1000)
 *   bit 3      every socket path "exists"
 *   bit 4      XDG_RUNTIME_DIR and HOME are set
 *   bit 5      LIBVIRT_AUTOSTART=0
 * The text goes through vrpc_uri_parse(), vrpc_remote_resolve() and
 * vrpc_admin_resolve() with that injected environment (nothing of the real
 * one is read). Each must succeed with a complete result or fail with an
 * error that has a message; a parsed URI's parts must be consistent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz-uri: check failed: %s (line %d)\n", #cond, __LINE__);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *fake_env(void *ctx, const char *name)
{
    unsigned ctl = *(const unsigned *)ctx;
    if (strcmp(name, "LIBVIRT_AUTOSTART") == 0)
        return (ctl & 32) ? "0" : NULL;
    if (!(ctl & 16))
        return NULL;
    if (strcmp(name, "XDG_RUNTIME_DIR") == 0)
        return "/run/user/1000";
    if (strcmp(name, "HOME") == 0)
        return "/home/u";
    return NULL;
}

static unsigned int fake_euid(void *ctx)
{
    return (*(const unsigned *)ctx & 4) ? 0 : 1000;
}

static bool fake_exists(void *ctx, const char *path)
{
    CHECK(path && path[0]);
    return (*(const unsigned *)ctx & 8) != 0;
}

static void check_error(int rc, vrpc_error *err)
{
    CHECK(rc == VRPC_E_URI || rc == VRPC_E_INVALID || rc == VRPC_E_NOMEM);
    CHECK(rc == VRPC_E_NOMEM || (err && err->message && err->message[0]));
    vrpc_free(err);
}

static void check_target(const vrpc_target *t, bool admin)
{
    CHECK(admin || t->name != NULL);
    CHECK(t->admin == admin);
    CHECK(t->port >= 0 && t->port <= 65535);
    if (t->transport == VRPC_TRANSPORT_UNIX)
        CHECK(t->socket_path && t->socket_path[0]);
    if (t->uri_str)
        CHECK(t->uri != NULL);
    CHECK(vrpc_transport_kind_name(t->transport) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned ctl;
    char *s;
    vrpc_uri *u = NULL;
    vrpc_target *t = NULL;
    vrpc_error *err = NULL;
    vrpc_uri_env env = {fake_env, fake_euid, fake_exists, &ctl, NULL};
    unsigned flags;
    int rc;

    if (size < 1)
        return 0;
    ctl = data[0];
    flags = ctl & 3;
    s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    rc = vrpc_uri_parse(s, &u, &err);
    if (rc == 0) {
        size_t i;
        CHECK(u && u->scheme && u->path && u->path_raw && err == NULL);
        CHECK(u->port >= -1 && u->port <= 65535);
        CHECK(u->nparams == 0 || u->params);
        for (i = 0; i < u->nparams; i++)
            CHECK(u->params[i].name && u->params[i].value && u->params[i].raw);
        if (u->nparams)
            CHECK(u->query_raw != NULL);
        vrpc_uri_free(u);
    } else {
        CHECK(u == NULL);
        check_error(rc, err);
    }

    err = NULL;
    rc = vrpc_remote_resolve(s, flags, &env, &t, &err);
    if (rc == 0) {
        CHECK(t && err == NULL);
        check_target(t, false);
        vrpc_target_free(t);
    } else {
        CHECK(t == NULL);
        check_error(rc, err);
    }

    t = NULL;
    err = NULL;
    rc = vrpc_admin_resolve(s, flags, &env, &t, &err);
    if (rc == 0) {
        CHECK(t && err == NULL);
        check_target(t, true);
        vrpc_target_free(t);
    } else {
        CHECK(t == NULL);
        check_error(rc, err);
    }
    free(s);
    return 0;
}
