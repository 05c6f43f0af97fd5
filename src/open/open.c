/* SPDX-License-Identifier: MIT */
/*
 * The open layer: libvirt's open sequence above the connection core —
 * resolve the URI, choose and connect the transport, wrap it in a
 * connection, authenticate (AUTH_LIST, SASL, polkit), CONNECT_OPEN or
 * ADMIN_CONNECT_OPEN — and the name of the step an open failed in.
 *
 * It may call every layer below it: uri, transport, auth, events (to attach
 * them to each new connection) and the core's internal interface
 * (conn-internal.h). Nothing below calls it.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "auth.h"
#include "conn-internal.h"
#include "error.h"
#include "events-internal.h"
#include "open-internal.h"
#include "tcp.h"
#include "tls.h"
#include "transport.h"
#include "transport-cmd.h"
#include "uri.h"

/* ---- creating a connection ---- */

/* The core's connection with the layers that attach to every connection
 * (events; streams attach with their first stream). Takes tr. */
static int create_conn(vrpc_transport *tr, vrpc_conn **out, vrpc_error **err)
{
    int rc = vrpc_conn_create(tr, out, err);
    if (rc)
        return rc;
    rc = vrpc_events_attach(*out);
    if (rc) {
        vrpc_conn_close(*out);
        *out = NULL;
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                       "out of memory creating a connection");
    }
    return rc;
}

int vrpc_conn_new_fd(vrpc_conn **out, int fd)
{
    vrpc_transport *tr;
    int rc;
    if (!out) {
        if (fd >= 0)
            close(fd);
        return VRPC_E_INVALID;
    }
    *out = NULL;
    rc = vrpc_transport_fd_new(fd, &tr, NULL);
    if (rc)
        return rc;
    return create_conn(tr, out, NULL);
}

/* ---- the open sequence ---- */

/* TRANSPORTS: the one place that knows which transport a target needs. */
static int connect_transport(const vrpc_target *t, vrpc_transport **tr, vrpc_error **err)
{
    switch (t->transport) {
    case VRPC_TRANSPORT_UNIX:
        return vrpc_transport_unix_open(t, tr, err); /* with session daemon autostart */
    case VRPC_TRANSPORT_TCP:
        return vrpc_transport_tcp_connect(t->host, t->port, -1, tr, err);
    case VRPC_TRANSPORT_TLS:
        return vrpc_transport_tls_connect_target(t, tr, err);
    case VRPC_TRANSPORT_SSH:
    case VRPC_TRANSPORT_LIBSSH:
    case VRPC_TRANSPORT_LIBSSH2:
        return vrpc_transport_ssh_connect(t, tr, err); /* libssh, libssh2: refused there */
    case VRPC_TRANSPORT_EXT:
        return vrpc_transport_ext_connect(t, tr, err);
    default:
        vrpc_error_set(err, VRPC_ERR_NO_SUPPORT, VRPC_FROM_REMOTE,
                       "transport %s is not supported yet", vrpc_transport_kind_name(t->transport));
        return VRPC_E_UNSUPPORTED;
    }
}

/*
 * A child-process transport (ssh, ext) whose child exits before the daemon
 * said anything fails the first call, AUTH_LIST, with a "connect" error.
 */
static bool failed_connecting(const vrpc_error *e)
{
    return vrpc_error_step(e) == VRPC_STEP_CONNECT;
}

/*
 * The errors whose code gives libvirt's own message form ("authentication
 * failed: ...", "internal error: ...", "configuration file syntax error:
 * ...", as virErrorMsg builds them): they are reported as libvirt's client
 * reports them, without our step prefix. Decided on the code, never on the
 * message text.
 */
static bool libvirt_form(const vrpc_error *e)
{
    return e->code == VRPC_ERR_AUTH_FAILED || e->code == VRPC_ERR_INTERNAL_ERROR ||
           e->code == VRPC_ERR_CONF_SYNTAX;
}

/*
 * AUTH_LIST, then the method, as libvirt's remoteAuthenticate(): an empty
 * list (or a daemon without AUTH_LIST) means none; auth=sasl, sasl.MECH or
 * polkit must be in the list (else libvirt's "requested authentication
 * type ... rejected"); without auth= the daemon's first type, or none when
 * it is offered at all (libvirtd only ever sends one).
 * A daemon error is passed on exactly as sent, with VRPC_E_AUTH; a local
 * one is tagged with the step "authentication" (vrpc_open_failed_step()).
 */
static int remote_authenticate(vrpc_conn *c, const vrpc_target *t, vrpc_auth_cb cb, void *userdata,
                               vrpc_error **err)
{
    vrpc_auth_list_ret *ret = NULL;
    vrpc_error *e = NULL;
    int32_t chosen = VRPC_AUTH_NONE, wanted = -1;
    uint32_t i, n;
    int rc;

    rc = vrpc_call(c, &vrpc_pd_auth_list, NULL, (void **)&ret, &e);
    if (rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT) {
        /* A daemon older than authentication: nothing to do. */
        vrpc_free(e);
        return 0;
    }
    if (rc) {
        if (rc != VRPC_E_REMOTE && !failed_connecting(e))
            vrpc_error_prefix(&e, "AUTH_LIST");
        goto out;
    }
    n = ret->types.n;
    if (n == 0)
        goto out;
    if (t->auth) {
        if (strcasecmp(t->auth, "sasl") == 0 || strncasecmp(t->auth, "sasl.", 5) == 0)
            wanted = VRPC_AUTH_SASL;
        else if (strcasecmp(t->auth, "polkit") == 0)
            wanted = VRPC_AUTH_POLKIT;
        else {
            vrpc_error_set(&e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                           "authentication failed: unknown authentication type %s", t->auth);
            rc = VRPC_E_AUTH;
            goto out;
        }
        for (i = 0; i < n && ret->types.items[i] != wanted; i++)
            ;
        if (i == n) {
            vrpc_error_set(&e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                           "authentication failed: requested authentication type %s rejected",
                           t->auth);
            rc = VRPC_E_AUTH;
            goto out;
        }
        chosen = wanted;
    } else {
        /* As libvirt's client: the daemon's first type, whatever follows. */
        chosen = ret->types.items[0];
    }

    switch (chosen) {
    case VRPC_AUTH_NONE:
        break;
    case VRPC_AUTH_SASL:
        rc = vrpc_sasl_authenticate(
            c, t, t->auth && strncasecmp(t->auth, "sasl.", 5) == 0 ? t->auth + 5 : NULL, cb,
            userdata, &e);
        break;
    case VRPC_AUTH_POLKIT:
        rc = vrpc_polkit_authenticate(c, &e);
        break;
    default:
        vrpc_error_set(&e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                       "authentication failed: unsupported authentication type %d", chosen);
        rc = VRPC_E_AUTH;
        break;
    }

out:
    vrpc_free(ret);
    if (rc == VRPC_E_REMOTE) {
        rc = VRPC_E_AUTH; /* the daemon's error, untouched */
    } else if (failed_connecting(e)) {
        /* the connect step, named by the transport */
    } else if (rc && e) {
        /* libvirt's own messages stay as they are; ours name the step. */
        if (!libvirt_form(e))
            vrpc_error_prefix(&e, "authentication");
        vrpc_error_set_step(&e, VRPC_STEP_AUTH);
    }
    vrpc_error_move(err, &e);
    return rc;
}

static int open_common(const vrpc_target *t, vrpc_conn **cp, vrpc_error **err)
{
    vrpc_transport *tr = NULL;
    vrpc_error *e = NULL;
    vrpc_conn *c;
    int rc;

    rc = connect_transport(t, &tr, &e);
    if (rc) {
        /* A transport error tagged with its own step (resolve, handshake,
         * certificate check) already starts with it. */
        if (e && vrpc_error_step(e) == VRPC_STEP_NONE) {
            vrpc_error_prefix(&e, "connect");
            vrpc_error_set_step(&e, VRPC_STEP_CONNECT);
        }
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = create_conn(tr, &c, &e);
    if (rc) {
        vrpc_error_prefix(&e, "connect");
        vrpc_error_set_step(&e, VRPC_STEP_CONNECT);
        vrpc_error_move(err, &e);
        return rc;
    }
    if ((t->uri_str && !(c->uri = vrpc_strdup(t->uri_str))) ||
        (t->name && !(c->open_name = vrpc_strdup(t->name))) ||
        (t->socket_path && !(c->socket_path = vrpc_strdup(t->socket_path)))) {
        vrpc_conn_close(c);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "connect: out of memory");
        if (err)
            vrpc_error_set_step(err, VRPC_STEP_CONNECT);
        return VRPC_E_NOMEM;
    }
    *cp = c;
    return 0;
}

int vrpc_conn_open(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_error **err)
{
    return vrpc_conn_open_auth(out, uri, flags, NULL, NULL, err);
}

int vrpc_conn_open_auth(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_auth_cb cb,
                        void *userdata, vrpc_error **err)
{
    return vrpc_open_remote_watched(out, uri, flags, cb, userdata, NULL, err);
}

int vrpc_open_remote_watched(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_auth_cb cb,
                             void *userdata, const vrpc_open_watch *w, vrpc_error **err)
{
    vrpc_connect_open_args args;
    vrpc_target *t = NULL;
    vrpc_error *e = NULL;
    vrpc_conn *c = NULL;
    int rc;

    if (!out) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_REMOTE, "vrpc_conn_open: out is NULL");
        if (err)
            vrpc_error_set_step(err, VRPC_STEP_RESOLVE);
        return VRPC_E_INVALID;
    }
    *out = NULL;
    rc = vrpc_remote_resolve(uri, flags, NULL, &t, &e);
    if (rc) {
        vrpc_error_prefix(&e, "resolve");
        vrpc_error_set_step(&e, VRPC_STEP_RESOLVE);
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = open_common(t, &c, err);
    if (rc)
        goto out;
    if (w && w->created)
        w->created(c, w->ctx);
    rc = remote_authenticate(c, t, cb, userdata, err);
    if (rc)
        goto out;
    memset(&args, 0, sizeof(args));
    args.name = t->name;
    args.flags = t->readonly ? 1 : 0;
    rc = vrpc_call(c, &vrpc_pd_connect_open, &args, NULL, &e);
    if (rc) {
        /* A daemon error is passed on exactly as sent; local failures say the step. */
        if (rc != VRPC_E_REMOTE) {
            vrpc_error_prefix(&e, "open: CONNECT_OPEN '%s'", t->name);
            vrpc_error_set_step(&e, VRPC_STEP_OPEN);
        }
        vrpc_error_move(err, &e);
        goto out;
    }
    c->opened = VRPC_CONN_OPENED_REMOTE;
    *out = c;
    c = NULL;
out:
    if (c && w && w->dropped)
        w->dropped(c, w->ctx);
    vrpc_conn_close(c);
    vrpc_target_free(t);
    return rc;
}

int vrpc_conn_open_admin(vrpc_conn **out, const char *uri, unsigned int flags, vrpc_error **err)
{
    vrpc_admin_connect_open_args args;
    vrpc_target *t = NULL;
    vrpc_error *e = NULL;
    vrpc_conn *c = NULL;
    int rc;

    if (!out) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_ADMIN,
                       "vrpc_conn_open_admin: out is NULL");
        if (err)
            vrpc_error_set_step(err, VRPC_STEP_RESOLVE);
        return VRPC_E_INVALID;
    }
    *out = NULL;
    rc = vrpc_admin_resolve(uri, flags, NULL, &t, &e);
    if (rc) {
        vrpc_error_prefix(&e, "resolve");
        vrpc_error_set_step(&e, VRPC_STEP_RESOLVE);
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = open_common(t, &c, err);
    if (rc)
        goto out;
    memset(&args, 0, sizeof(args));
    args.flags = 0;
    rc = vrpc_call(c, &vrpc_pd_admin_connect_open, &args, NULL, &e);
    if (rc) {
        /* A daemon error is passed on exactly as sent; local failures say the step. */
        if (rc != VRPC_E_REMOTE) {
            vrpc_error_prefix(&e, "open: ADMIN_CONNECT_OPEN");
            vrpc_error_set_step(&e, VRPC_STEP_OPEN);
        }
        vrpc_error_move(err, &e);
        goto out;
    }
    c->opened = VRPC_CONN_OPENED_ADMIN;
    *out = c;
    c = NULL;
out:
    vrpc_conn_close(c);
    vrpc_target_free(t);
    return rc;
}

/* ---- where an open failed ---- */

const char *vrpc_open_failed_step(int rc, const vrpc_error *err)
{
    if (rc == 0)
        return NULL;
    /* A local error names its step; a daemon error (VRPC_E_REMOTE) never does. */
    if (rc != VRPC_E_REMOTE && vrpc_error_step(err) != VRPC_STEP_NONE)
        return vrpc_step_name(vrpc_error_step(err));
    switch (rc) {
    case VRPC_E_AUTH:
        return vrpc_step_name(VRPC_STEP_AUTH);
    case VRPC_E_URI:
        return vrpc_step_name(VRPC_STEP_RESOLVE);
    case VRPC_E_CONNECT:
    case VRPC_E_NOT_FOUND:
    case VRPC_E_TIMEOUT:
        return vrpc_step_name(VRPC_STEP_CONNECT);
    case VRPC_E_REMOTE:
    default:
        return vrpc_step_name(VRPC_STEP_OPEN);
    }
}
