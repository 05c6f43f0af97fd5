/* SPDX-License-Identifier: MIT */
/*
 * Internal: the open sequence for the layers above it (the reconnect layer),
 * with a watch on the connection it builds, so that the caller can bound or
 * cancel the sequence while it runs (keepalive timer, vrpc_conn_shutdown()).
 */
#ifndef VIRTRPC_OPEN_INTERNAL_H
#define VIRTRPC_OPEN_INTERNAL_H

#include <virtrpc/conn.h>

typedef struct vrpc_open_watch {
    /* The connection exists (transport connected), no call made yet. */
    void (*created)(vrpc_conn *c, void *ctx);
    /* The open failed: the connection is closed right after this returns. */
    void (*dropped)(vrpc_conn *c, void *ctx);
    void *ctx;
} vrpc_open_watch;

/* vrpc_conn_open_auth() with a watch (w may be NULL). */
int vrpc_open_remote_watched(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_auth_cb cb,
                             void *userdata, const vrpc_open_watch *w, vrpc_error **err);

#endif
