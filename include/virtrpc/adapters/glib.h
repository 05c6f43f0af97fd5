/* SPDX-License-Identifier: MIT */
/*
 * virtrpc on GLib's main loop. Header-only: the library itself does not
 * depend on GLib; a program that includes this header links GLib.
 *
 *     vrpc_glib_source *s = vrpc_glib_attach(conn, NULL, &err);  // default context
 *     ... g_main_loop_run(loop): replies, events, keepalive, the close callback ...
 *     vrpc_glib_detach(s);
 *     vrpc_conn_close(conn);
 *
 * The source (a GSource) watches the connection's socket for what
 * vrpc_conn_get_events() asks, its notify descriptor for input, and the
 * deadline of vrpc_conn_get_timeout(); it calls vrpc_conn_process() when
 * one of them is ready, so event and close callbacks run in the thread
 * that runs the context. The interest is asked again before every poll
 * (prepare). Since the loop now answers the daemon's PINGs while the
 * program is idle, vrpc_glib_attach() turns keepalive on
 * (VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC / _COUNT; vrpc_glib_attach_full() takes
 * other values, or 0 to leave keepalive as it is). Turning it on blocks for
 * the daemon's answer once.
 *
 * When the connection ends (vrpc_conn_process() returns an error; the close
 * callback has then run), the source stops watching its descriptors and
 * stays inert until vrpc_glib_detach(). vrpc_glib_detach() may be called
 * from any callback the source runs (an event or close callback): the
 * source is destroyed and vrpc_conn_process() returns to it without
 * touching it again. Close the connection only after detaching, and not
 * from inside one of its own callbacks (schedule it, e.g. with g_idle_add).
 *
 * Other threads may make calls on the connection at the same time: while
 * one of them reads the socket, get_events() is 0 and the source only waits
 * on the notify descriptor, which fires when the socket is given back.
 */
#ifndef VIRTRPC_ADAPTERS_GLIB_H
#define VIRTRPC_ADAPTERS_GLIB_H

#include <glib.h>
#include <poll.h>
#include <stdint.h>

#include <virtrpc/virtrpc.h>

typedef struct vrpc_glib_source {
    GSource source;
    vrpc_conn *conn;
    gpointer sock_tag;   /* the socket's g_source_add_unix_fd tag, NULL once gone */
    gpointer notify_tag; /* the notify descriptor's */
    GIOCondition sock_cond;
    uint64_t deadline; /* from vrpc_conn_get_timeout(), CLOCK_MONOTONIC us */
    int status;        /* 0, or what vrpc_conn_process() returned when the connection ended */
} vrpc_glib_source;

static inline void vrpc_glib__drop_fds(vrpc_glib_source *s)
{
    if (s->sock_tag)
        g_source_remove_unix_fd(&s->source, s->sock_tag);
    if (s->notify_tag)
        g_source_remove_unix_fd(&s->source, s->notify_tag);
    s->sock_tag = s->notify_tag = NULL;
}

static inline gboolean vrpc_glib__prepare(GSource *src, gint *timeout)
{
    vrpc_glib_source *s = (vrpc_glib_source *)src;
    GIOCondition cond = (GIOCondition)0;
    uint64_t now;
    int ev;

    *timeout = -1;
    if (s->status != 0)
        return FALSE;
    ev = vrpc_conn_get_events(s->conn);
    if (ev & POLLIN)
        cond = (GIOCondition)(cond | G_IO_IN);
    if (ev & POLLOUT)
        cond = (GIOCondition)(cond | G_IO_OUT);
    if (s->sock_tag && cond != s->sock_cond) {
        g_source_modify_unix_fd(src, s->sock_tag, cond);
        s->sock_cond = cond;
    }
    s->deadline = UINT64_MAX;
    vrpc_conn_get_timeout(s->conn, &s->deadline);
    if (s->deadline == UINT64_MAX)
        return FALSE;
    now = vrpc_now_usec();
    if (s->deadline <= now) {
        *timeout = 0;
        return TRUE;
    }
    *timeout = (s->deadline - now + 999) / 1000 > G_MAXINT
                   ? G_MAXINT
                   : (gint)((s->deadline - now + 999) / 1000);
    return FALSE;
}

static inline gboolean vrpc_glib__check(GSource *src)
{
    vrpc_glib_source *s = (vrpc_glib_source *)src;
    if (s->status != 0)
        return FALSE;
    if (s->sock_tag && g_source_query_unix_fd(src, s->sock_tag) != 0)
        return TRUE;
    if (s->notify_tag && g_source_query_unix_fd(src, s->notify_tag) != 0)
        return TRUE;
    return s->deadline != UINT64_MAX && vrpc_now_usec() >= s->deadline;
}

static inline gboolean vrpc_glib__dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    vrpc_glib_source *s = (vrpc_glib_source *)src;
    int rc;
    (void)cb;
    (void)data;
    if (s->status != 0)
        return G_SOURCE_CONTINUE;
    rc = vrpc_conn_process(s->conn); /* callbacks run here; they may detach */
    if (g_source_is_destroyed(src))
        return G_SOURCE_REMOVE;
    if (rc != 0) {
        /* The connection ended: stop watching its descriptors (the socket
         * may already be closed), stay inert until vrpc_glib_detach(). */
        s->status = rc;
        vrpc_glib__drop_fds(s);
    }
    return G_SOURCE_CONTINUE;
}

static inline void vrpc_glib__finalize(GSource *src)
{
    (void)src;
}

static GSourceFuncs vrpc_glib__funcs = {
    vrpc_glib__prepare, vrpc_glib__check, vrpc_glib__dispatch, vrpc_glib__finalize, NULL, NULL,
};

/*
 * Attach c to ctx (NULL: the default main context). keepalive_interval_usec
 * > 0 (microseconds): turn keepalive on with it and keepalive_count
 * (VRPC_E_UNSUPPORTED from a daemon without keepalive is not an error); 0:
 * leave keepalive alone.
 * Returns the source (the caller holds a reference, released by
 * vrpc_glib_detach()), or NULL with *err set (err may be NULL).
 */
static inline vrpc_glib_source *vrpc_glib_attach_full(vrpc_conn *c, GMainContext *ctx,
                                                      uint64_t keepalive_interval_usec,
                                                      unsigned int keepalive_count,
                                                      vrpc_error **err)
{
    vrpc_glib_source *s;
    int fd = vrpc_conn_get_fd(c), nfd = vrpc_conn_get_notify_fd(c), rc;

    if (fd < 0 || nfd < 0) {
        if (err)
            *err = NULL;
        return NULL;
    }
    if (keepalive_interval_usec > 0) {
        rc = vrpc_conn_set_keepalive(c, keepalive_interval_usec, keepalive_count, err);
        if (rc != 0 && rc != VRPC_E_UNSUPPORTED)
            return NULL;
        if (rc == VRPC_E_UNSUPPORTED && err) {
            vrpc_free(*err);
            *err = NULL;
        }
    }
    s = (vrpc_glib_source *)g_source_new(&vrpc_glib__funcs, sizeof(vrpc_glib_source));
    g_source_set_name(&s->source, "virtrpc connection");
    s->conn = c;
    s->status = 0;
    s->deadline = UINT64_MAX;
    s->sock_cond = G_IO_IN;
    s->sock_tag = g_source_add_unix_fd(&s->source, fd, G_IO_IN);
    s->notify_tag = g_source_add_unix_fd(&s->source, nfd, G_IO_IN);
    g_source_attach(&s->source, ctx);
    return s;
}

/* vrpc_glib_attach_full() with VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC / _COUNT. */
static inline vrpc_glib_source *vrpc_glib_attach(vrpc_conn *c, GMainContext *ctx, vrpc_error **err)
{
    return vrpc_glib_attach_full(c, ctx, VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC,
                                 VRPC_KEEPALIVE_DEFAULT_COUNT, err);
}

/* 0 while the connection is served, else the error that ended it. */
static inline int vrpc_glib_status(const vrpc_glib_source *s)
{
    return s->status;
}

/*
 * Stop serving the connection and release the source. The connection stays
 * open (close it afterwards). Safe from inside the source's callbacks and
 * after the connection ended. NULL-safe.
 */
static inline void vrpc_glib_detach(vrpc_glib_source *s)
{
    if (!s)
        return;
    if (!g_source_is_destroyed(&s->source)) {
        vrpc_glib__drop_fds(s);
        g_source_destroy(&s->source);
    }
    g_source_unref(&s->source);
}

#endif
