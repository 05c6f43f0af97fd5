/* SPDX-License-Identifier: MIT */
/*
 * Streams: libvirt's virStream API over virtrpc's vrpc_stream.
 *
 * libvirt's model: virStreamNew() makes an unbound stream object, and the
 * call that takes it (virStorageVolUpload, virStorageVolDownload,
 * virDomainScreenshot, virDomainOpenConsole, virDomainOpenChannel) binds it
 * to the data stream the daemon opens. virtrpc's model: vrpc_stream_call()
 * makes the call and returns the vrpc_stream; here the call binds it to the
 * object (struct _virStream in compat.h).
 *
 * What libvirt's client does and this file does the same way:
 *   - operations on an unbound stream fail with VIR_ERR_NO_SUPPORT
 *     (VIR_FROM_STREAMS), except virStreamAbort, which succeeds;
 *   - after virStreamFinish or virStreamAbort every operation fails with
 *     the error the close failed with, else VIR_ERR_OPERATION_FAILED
 *     (VIR_FROM_RPC) "closed";
 *   - a hole of a sparse stream is kept as a count: virStreamRecv returns
 *     it as zeros, virStreamRecvFlags with VIR_STREAM_RECV_STOP_AT_HOLE
 *     returns -3 at it, virStreamRecvHole hands it out (0 when none);
 *   - VIR_STREAM_NONBLOCK: -2 where the operation would wait;
 *   - the receive buffer is not limited (libvirt's client buffers all that
 *     arrives; virtrpc's hard limit would fail a slow reader's stream);
 *   - the *All helpers abort the stream when they fail, keeping the error
 *     that made them fail.
 * A finished or aborted stream may be bound again by another call, as in
 * libvirt (its earlier vrpc_stream is kept until the object goes: another
 * thread may still be inside an operation on it). Unlike libvirt's client,
 * the last virStreamFree of a stream still open aborts it on the daemon
 * (libvirt leaves it open until the connection closes), and a stream still
 * open cannot be bound again (VIR_ERR_OPERATION_INVALID; libvirt's client
 * would lose the first transfer).
 */
#include "compat.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/stream.h>

/* One send of virStreamSend queues at most this much (libvirt's client
 * refuses a packet larger than its message limit; the API allows short
 * writes). */
#define SEND_MAX ((size_t)VRPC_STREAM_CHUNK * 16)

/* ---- the object ---- */

static void stream_ref(virStreamPtr s)
{
    atomic_fetch_add(&s->o.refs, 1);
}

static void stream_unref(virStreamPtr s)
{
    if (atomic_fetch_sub(&s->o.refs, 1) != 1)
        return;
    s->o.magic = 0;
    vrpc_stream_free(s->st); /* aborts it on the daemon when still open */
    for (size_t i = 0; i < s->nspent; i++)
        vrpc_stream_free(s->spent[i]);
    free(s->spent);
    virResetError(&s->err);
    pthread_mutex_destroy(&s->lock);
    compat_connect_unref(s->conn);
    free(s);
}

/* ---- errors ---- */

/* Set the thread's error to a copy of e. */
static void error_restore(const virError *e)
{
    vrpc_error v;

    memset(&v, 0, sizeof(v));
    v.code = e->code;
    v.domain = e->domain;
    v.message = e->message;
    v.level = e->level;
    v.str1 = e->str1;
    v.str2 = e->str2;
    v.str3 = e->str3;
    v.int1 = e->int1;
    v.int2 = e->int2;
    compat_error_vrpc(VRPC_E_REMOTE, &v);
}

/* The error of an operation on a finished or aborted stream (lock held). */
static void error_closed(virStreamPtr s)
{
    if (s->err.code != VIR_ERR_OK)
        error_restore(&s->err);
    else
        compat_error(VIR_FROM_RPC, VIR_ERR_OPERATION_FAILED, "the stream is closed");
}

/* The error of a failed vrpc_stream operation. */
static void error_op(int rc, vrpc_error *err)
{
    if (rc == VRPC_E_INVALID && err && err->code == VRPC_ERR_OPERATION_INVALID)
        compat_error(VIR_FROM_RPC, VIR_ERR_OPERATION_FAILED, "the stream is closed");
    else
        compat_error_vrpc(rc, err);
    vrpc_free(err);
}

static void error_unbound(const char *func)
{
    compat_error(VIR_FROM_STREAMS, VIR_ERR_NO_SUPPORT,
                 "%s: the stream is not bound to any transfer yet", func);
}

/*
 * The stream's vrpc_stream for an operation, or NULL after setting the
 * error (unbound: VIR_ERR_NO_SUPPORT; closed: see error_closed).
 */
static vrpc_stream *stream_open(virStreamPtr s, const char *func)
{
    vrpc_stream *st;

    pthread_mutex_lock(&s->lock);
    st = s->st;
    if (!st)
        error_unbound(func);
    else if (s->closed) {
        error_closed(s);
        st = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

static int nonblock(virStreamPtr s)
{
    return (s->flags & VIR_STREAM_NONBLOCK) ? VRPC_STREAM_NONBLOCK : 0;
}

/* ---- binding: the calls that take a stream ---- */

/*
 * Make the call `proc` (one that opens a stream) on s's connection and bind
 * the stream it opens to s. ret as compat_call. Returns 0, or -1 after
 * setting the error.
 */
static int stream_bind_call(virStreamPtr s, const vrpc_proc *proc, const void *args, void *ret)
{
    vrpc_stream *st = NULL;
    vrpc_error *err = NULL;
    void *r = NULL;
    bool busy;
    int rc;

    pthread_mutex_lock(&s->lock);
    busy = s->st && !s->closed;
    pthread_mutex_unlock(&s->lock);
    if (busy) {
        compat_error(VIR_FROM_STREAMS, VIR_ERR_OPERATION_INVALID,
                     "the stream is bound to a transfer still open");
        return -1;
    }
    if (vrpc_conn_get_status(s->conn->c) != 0) {
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR,
                     "the connection to the daemon is closed");
        return -1;
    }
    rc = vrpc_stream_call(s->conn->c, proc, args, ret ? &r : NULL, &st, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        return -1;
    }
    /* As libvirt's client: buffer whatever arrives, however slow the reader. */
    vrpc_stream_set_buffer(st, VRPC_STREAM_BUFFER_SOFT, SIZE_MAX);
    pthread_mutex_lock(&s->lock);
    busy = s->st && !s->closed;
    if (!busy && s->st) {
        /* an earlier, closed transfer: kept until the object goes */
        vrpc_stream **n = realloc(s->spent, (s->nspent + 1) * sizeof(*n));

        if (!n)
            busy = true;
        else {
            s->spent = n;
            s->spent[s->nspent++] = s->st;
        }
    }
    if (!busy) {
        s->st = st;
        s->closed = false;
        s->hole = 0;
        virResetError(&s->err);
    }
    pthread_mutex_unlock(&s->lock);
    if (busy) {
        /* another thread bound it meanwhile, or no memory */
        vrpc_stream_free(st);
        vrpc_free(r);
        compat_error(VIR_FROM_STREAMS, VIR_ERR_OPERATION_INVALID,
                     "the stream is bound to a transfer still open");
        return -1;
    }
    if (ret)
        *(void **)ret = r;
    return 0;
}

/* The stream argument of a call on `conn` (libvirt's checks: a live
 * stream, a writable connection, the same connection). `domain` is the
 * calling function's error domain. false after setting the error. */
static bool stream_arg_ok(virConnectPtr conn, virStreamPtr s, int domain, const char *func)
{
    if (!compat_obj_conn_at(s, COMPAT_STREAM, func))
        return false;
    if (compat_readonly_at(conn, func))
        return false;
    if (s->conn != conn) {
        compat_error(domain, VIR_ERR_INVALID_ARG,
                     "%s: the stream belongs to another connection than the object", func);
        return false;
    }
    return true;
}

int virStorageVolUpload(virStorageVolPtr vol, virStreamPtr stream, unsigned long long offset,
                        unsigned long long length, unsigned int flags)
{
    vrpc_storage_vol_upload_args a;
    virConnectPtr conn;

    compat_reset();
    if (!(conn = compat_obj_conn(vol, COMPAT_STORAGE_VOL))) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!stream_arg_ok(conn, stream, VIR_FROM_STORAGE, __func__))
        goto fail;
    memset(&a, 0, sizeof(a));
    compat_storage_vol_to(vol, &a.vol);
    a.offset = offset;
    a.length = length;
    a.flags = flags;
    if (stream_bind_call(stream, &vrpc_pd_storage_vol_upload, &a, NULL) < 0)
        goto fail;
    return 0;
fail:
    compat_dispatch(conn);
    return -1;
}

int virStorageVolDownload(virStorageVolPtr vol, virStreamPtr stream, unsigned long long offset,
                          unsigned long long length, unsigned int flags)
{
    vrpc_storage_vol_download_args a;
    virConnectPtr conn;

    compat_reset();
    if (!(conn = compat_obj_conn(vol, COMPAT_STORAGE_VOL))) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!stream_arg_ok(conn, stream, VIR_FROM_STORAGE, __func__))
        goto fail;
    memset(&a, 0, sizeof(a));
    compat_storage_vol_to(vol, &a.vol);
    a.offset = offset;
    a.length = length;
    a.flags = flags;
    if (stream_bind_call(stream, &vrpc_pd_storage_vol_download, &a, NULL) < 0)
        goto fail;
    return 0;
fail:
    compat_dispatch(conn);
    return -1;
}

char *virDomainScreenshot(virDomainPtr domain, virStreamPtr stream, unsigned int screen,
                          unsigned int flags)
{
    vrpc_domain_screenshot_args a;
    vrpc_domain_screenshot_ret *r = NULL;
    virConnectPtr conn;
    char *mime;

    compat_reset();
    if (!(conn = compat_obj_conn(domain, COMPAT_DOMAIN))) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!stream_arg_ok(conn, stream, VIR_FROM_DOMAIN, __func__))
        goto fail;
    memset(&a, 0, sizeof(a));
    compat_domain_to(domain, &a.dom);
    a.screen = screen;
    a.flags = flags;
    if (stream_bind_call(stream, &vrpc_pd_domain_screenshot, &a, &r) < 0)
        goto fail;
    if (!r || !r->mime) {
        vrpc_free(r);
        compat_error(VIR_FROM_RPC, VIR_ERR_RPC, "the daemon sent no image type");
        goto fail;
    }
    mime = compat_strdup(r->mime);
    vrpc_free(r);
    if (!mime)
        goto fail;
    return mime;
fail:
    compat_dispatch(conn);
    return NULL;
}

int virDomainOpenConsole(virDomainPtr dom, const char *dev_name, virStreamPtr st,
                         unsigned int flags)
{
    vrpc_domain_open_console_args a;
    virConnectPtr conn;

    compat_reset();
    if (!(conn = compat_obj_conn(dom, COMPAT_DOMAIN))) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!stream_arg_ok(conn, st, VIR_FROM_DOMAIN, __func__))
        goto fail;
    memset(&a, 0, sizeof(a));
    compat_domain_to(dom, &a.dom);
    a.dev_name = dev_name;
    a.flags = flags;
    if (stream_bind_call(st, &vrpc_pd_domain_open_console, &a, NULL) < 0)
        goto fail;
    return 0;
fail:
    compat_dispatch(conn);
    return -1;
}

int virDomainOpenChannel(virDomainPtr dom, const char *name, virStreamPtr st, unsigned int flags)
{
    vrpc_domain_open_channel_args a;
    virConnectPtr conn;

    compat_reset();
    if (!(conn = compat_obj_conn(dom, COMPAT_DOMAIN))) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!stream_arg_ok(conn, st, VIR_FROM_DOMAIN, __func__))
        goto fail;
    memset(&a, 0, sizeof(a));
    compat_domain_to(dom, &a.dom);
    a.name = name;
    a.flags = flags;
    if (stream_bind_call(st, &vrpc_pd_domain_open_channel, &a, NULL) < 0)
        goto fail;
    return 0;
fail:
    compat_dispatch(conn);
    return -1;
}

/* ---- the stream's own API ---- */

virStreamPtr virStreamNew(virConnectPtr conn, unsigned int flags)
{
    virStreamPtr s;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        compat_no_memory();
        compat_dispatch(conn);
        return NULL;
    }
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        compat_no_memory();
        compat_dispatch(conn);
        return NULL;
    }
    s->o.magic = COMPAT_MAGIC(COMPAT_STREAM);
    atomic_init(&s->o.refs, 1);
    atomic_fetch_add(&conn->o.refs, 1);
    s->conn = conn;
    s->flags = flags;
    return s;
}

int virStreamRef(virStreamPtr stream)
{
    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    stream_ref(stream);
    return 0;
}

int virStreamFree(virStreamPtr stream)
{
    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    stream_unref(stream);
    return 0;
}

/* virStreamSend without the entry's checks: the bytes queued, -2 (would
 * block), or -1 after setting the error. */
static int stream_send(virStreamPtr s, const char *data, size_t nbytes, const char *func)
{
    vrpc_error *err = NULL;
    vrpc_stream *st;
    ssize_t n;

    if (!(st = stream_open(s, func)))
        return -1;
    if (nbytes == 0)
        return 0;
    if (nbytes > SEND_MAX)
        nbytes = SEND_MAX;
    n = vrpc_stream_send(st, data, nbytes, nonblock(s), &err);
    if (n == VRPC_E_AGAIN) {
        vrpc_free(err);
        return -2;
    }
    if (n < 0) {
        error_op((int)n, err);
        return -1;
    }
    return (int)n;
}

int virStreamSend(virStreamPtr stream, const char *data, size_t nbytes)
{
    int n;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!data) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__, "data");
        goto fail;
    }
    n = stream_send(stream, data, nbytes, __func__);
    if (n == -1)
        goto fail;
    return n;
fail:
    compat_dispatch(stream->conn);
    return -1;
}

/*
 * Receive as libvirt's client does (see the head of the file): the bytes
 * received, 0 at the end, -2 (would block), -3 (at a hole, with
 * VIR_STREAM_RECV_STOP_AT_HOLE), or -1 after setting the error.
 */
static int stream_recv(virStreamPtr s, char *data, size_t nbytes, unsigned int flags,
                       const char *func)
{
    vrpc_stream *st;

    if (!(st = stream_open(s, func)))
        return -1;
    if (flags & ~(unsigned int)VIR_STREAM_RECV_STOP_AT_HOLE) {
        compat_error(VIR_FROM_REMOTE, VIR_ERR_INVALID_ARG, "%s: unsupported flags 0x%x", func,
                     flags & ~(unsigned int)VIR_STREAM_RECV_STOP_AT_HOLE);
        return -1;
    }
    if (nbytes > INT_MAX)
        nbytes = INT_MAX;
    for (;;) {
        vrpc_error *err = NULL;
        uint64_t hole = 0;
        ssize_t n;

        pthread_mutex_lock(&s->lock);
        if (s->hole > 0) {
            size_t z = nbytes;

            if (flags & VIR_STREAM_RECV_STOP_AT_HOLE) {
                pthread_mutex_unlock(&s->lock);
                return -3;
            }
            if (z > s->hole)
                z = (size_t)s->hole;
            memset(data, 0, z);
            s->hole -= z;
            pthread_mutex_unlock(&s->lock);
            return (int)z;
        }
        pthread_mutex_unlock(&s->lock);
        if (nbytes == 0)
            return 0;
        if (vrpc_stream_is_sparse(st))
            n = vrpc_stream_recv_sparse(st, data, nbytes, &hole, nonblock(s), &err);
        else
            n = vrpc_stream_recv(st, data, nbytes, nonblock(s), &err);
        if (n == VRPC_E_AGAIN) {
            vrpc_free(err);
            return -2;
        }
        if (n < 0) {
            error_op((int)n, err);
            return -1;
        }
        if (n > 0 || hole == 0)
            return (int)n;
        pthread_mutex_lock(&s->lock);
        s->hole += hole;
        pthread_mutex_unlock(&s->lock);
    }
}

int virStreamRecv(virStreamPtr stream, char *data, size_t nbytes)
{
    int n;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!data) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__, "data");
        goto fail;
    }
    n = stream_recv(stream, data, nbytes, 0, __func__);
    if (n == -1)
        goto fail;
    return n;
fail:
    compat_dispatch(stream->conn);
    return -1;
}

int virStreamRecvFlags(virStreamPtr stream, char *data, size_t nbytes, unsigned int flags)
{
    int n;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!data) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__, "data");
        goto fail;
    }
    n = stream_recv(stream, data, nbytes, flags, __func__);
    if (n == -1)
        goto fail;
    return n;
fail:
    compat_dispatch(stream->conn);
    return -1;
}

static int stream_send_hole(virStreamPtr s, long long length, const char *func)
{
    vrpc_error *err = NULL;
    vrpc_stream *st;
    int rc;

    pthread_mutex_lock(&s->lock);
    st = s->st;
    pthread_mutex_unlock(&s->lock);
    if (!st) {
        error_unbound(func);
        return -1;
    }
    /* before the state, as libvirt's client */
    if (!vrpc_stream_is_sparse(st)) {
        compat_error(VIR_FROM_RPC, VIR_ERR_OPERATION_INVALID,
                     "the stream was not opened sparse: it carries no holes");
        return -1;
    }
    if (!(st = stream_open(s, func)))
        return -1;
    if (length < 0) {
        compat_invalid_arg(VIR_FROM_STREAMS, func, "length");
        return -1;
    }
    /* virtrpc waits where the connection's output queue is full, as
     * libvirt's client does for every packet */
    rc = vrpc_stream_send_hole(st, (uint64_t)length, 0, &err);
    if (rc < 0) {
        error_op(rc, err);
        return -1;
    }
    return 0;
}

int virStreamSendHole(virStreamPtr stream, long long length, unsigned int flags)
{
    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    (void)flags; /* sent as 0: libvirt defines none */
    if (stream_send_hole(stream, length, __func__) < 0) {
        compat_dispatch(stream->conn);
        return -1;
    }
    return 0;
}

int virStreamRecvHole(virStreamPtr stream, long long *length, unsigned int flags)
{
    vrpc_stream *st;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!length) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__, "length");
        return -1; /* not dispatched, as libvirt */
    }
    pthread_mutex_lock(&stream->lock);
    st = stream->st;
    pthread_mutex_unlock(&stream->lock);
    if (!st) {
        error_unbound(__func__);
        goto fail;
    }
    if (flags) {
        compat_error(VIR_FROM_REMOTE, VIR_ERR_INVALID_ARG, "%s: unsupported flags 0x%x", __func__,
                     flags);
        goto fail;
    }
    if (!vrpc_stream_is_sparse(st)) {
        compat_error(VIR_FROM_RPC, VIR_ERR_OPERATION_INVALID,
                     "the stream was not opened sparse: it carries no holes");
        goto fail;
    }
    pthread_mutex_lock(&stream->lock);
    if (stream->closed) {
        error_closed(stream);
        pthread_mutex_unlock(&stream->lock);
        goto fail;
    }
    *length = stream->hole > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)stream->hole;
    stream->hole -= (uint64_t)*length;
    pthread_mutex_unlock(&stream->lock);
    return 0;
fail:
    compat_dispatch(stream->conn);
    return -1;
}

/* Finish (abort false) or abort: the stream is closed whatever the
 * outcome; a failure's error is kept for the operations that follow. */
static int stream_close(virStreamPtr s, bool abort_it, const char *func)
{
    vrpc_error *err = NULL;
    vrpc_stream *st;
    int rc;

    if (!(st = stream_open(s, func)))
        return -1;
    rc = abort_it ? vrpc_stream_abort(st, &err) : vrpc_stream_finish(st, &err);
    if (rc < 0)
        error_op(rc, err);
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    s->hole = 0;
    if (rc < 0) {
        virResetError(&s->err);
        virCopyLastError(&s->err);
    }
    pthread_mutex_unlock(&s->lock);
    return rc < 0 ? -1 : 0;
}

int virStreamFinish(virStreamPtr stream)
{
    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (stream_close(stream, false, __func__) < 0) {
        compat_dispatch(stream->conn);
        return -1;
    }
    return 0;
}

int virStreamAbort(virStreamPtr stream)
{
    bool bound;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    pthread_mutex_lock(&stream->lock);
    bound = stream->st != NULL;
    pthread_mutex_unlock(&stream->lock);
    if (!bound)
        return 0; /* nothing to abort, as libvirt */
    if (stream_close(stream, true, __func__) < 0) {
        compat_dispatch(stream->conn);
        return -1;
    }
    return 0;
}

/* ---- the *All helpers ---- */

/* A handler of the application failed: libvirt's system error, with the
 * errno the handler left (EIO when it left none). */
static void error_handler(const char *which)
{
    int e = errno ? errno : EIO;

    compat_error(VIR_FROM_STREAMS, VIR_ERR_SYSTEM_ERROR, "the stream's %s failed: %s", which,
                 strerror(e));
}

/* The end of a failed *All helper: abort the stream, keep the error that
 * made it fail, dispatch it. */
static int all_failed(virStreamPtr s)
{
    virError saved;
    bool bound;

    memset(&saved, 0, sizeof(saved));
    virCopyLastError(&saved);
    pthread_mutex_lock(&s->lock);
    bound = s->st != NULL;
    pthread_mutex_unlock(&s->lock);
    /* virStreamAbort's own failure (a stream closed already) is dispatched
     * too, as libvirt's helpers call the public function */
    if (bound && stream_close(s, true, "virStreamAbort") < 0)
        compat_dispatch(s->conn);
    compat_reset();
    if (saved.code != VIR_ERR_OK)
        error_restore(&saved);
    virResetError(&saved);
    compat_dispatch(s->conn);
    return -1;
}

/* The checks every *All helper starts with; false after setting the error. */
static bool all_blocking(virStreamPtr s, bool sink)
{
    if (s->flags & VIR_STREAM_NONBLOCK) {
        compat_error(VIR_FROM_STREAMS, VIR_ERR_OPERATION_INVALID,
                     "a data %s needs a blocking stream", sink ? "sink" : "source");
        return false;
    }
    return true;
}

/* Send got bytes of buf whole; false after setting the error. */
static bool send_whole(virStreamPtr s, const char *buf, int got, unsigned long long *left)
{
    int off = 0;

    while (off < got) {
        int n = stream_send(s, buf + off, (size_t)(got - off), "virStreamSend");

        if (n < 0)
            return false; /* a blocking stream: never -2 */
        off += n;
        if (left)
            *left -= (unsigned long long)n;
    }
    return true;
}

int virStreamSendAll(virStreamPtr stream, virStreamSourceFunc handler, void *opaque)
{
    char *buf = NULL;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!handler) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__, "handler");
        goto fail;
    }
    if (!all_blocking(stream, false))
        goto fail;
    if (!(buf = malloc(VRPC_STREAM_CHUNK))) {
        compat_no_memory();
        goto fail;
    }
    errno = 0;
    for (;;) {
        int got = handler(stream, buf, VRPC_STREAM_CHUNK, opaque);

        if (got < 0) {
            error_handler("source handler");
            goto fail;
        }
        if (got == 0)
            break;
        if (!send_whole(stream, buf, got, NULL))
            goto fail;
    }
    free(buf);
    return 0;
fail:
    free(buf);
    return all_failed(stream);
}

int virStreamSparseSendAll(virStreamPtr stream, virStreamSourceFunc handler,
                           virStreamSourceHoleFunc holeHandler, virStreamSourceSkipFunc skipHandler,
                           void *opaque)
{
    unsigned long long data_left = 0; /* of the data section being sent */
    char *buf = NULL;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!handler || !holeHandler || !skipHandler) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__,
                           !handler       ? "handler"
                           : !holeHandler ? "holeHandler"
                                          : "skipHandler");
        goto fail;
    }
    if (!all_blocking(stream, false))
        goto fail;
    if (!(buf = malloc(VRPC_STREAM_CHUNK))) {
        compat_no_memory();
        goto fail;
    }
    errno = 0;
    for (;;) {
        size_t want = VRPC_STREAM_CHUNK;
        int got;

        if (data_left == 0) {
            long long len = 0;
            int in_data = 0;

            if (holeHandler(stream, &in_data, &len, opaque) < 0) {
                error_handler("hole handler");
                goto fail;
            }
            if (!in_data && len > 0) {
                if (stream_send_hole(stream, len, "virStreamSendHole") < 0)
                    goto fail;
                if (skipHandler(stream, len, opaque) < 0) {
                    error_handler("skip handler");
                    goto fail;
                }
                continue;
            }
            /* data (or, at the end, nothing: the handler then returns 0) */
            data_left = len > 0 ? (unsigned long long)len : 0;
        }
        if (want > data_left)
            want = (size_t)data_left;
        got = handler(stream, buf, want, opaque);
        if (got < 0) {
            error_handler("source handler");
            goto fail;
        }
        if (got == 0)
            break;
        if (!send_whole(stream, buf, got, &data_left))
            goto fail;
    }
    free(buf);
    return 0;
fail:
    free(buf);
    return all_failed(stream);
}

/* Hand got bytes of buf to the sink whole; false after setting the error. */
static bool sink_whole(virStreamPtr s, virStreamSinkFunc handler, const char *buf, int got,
                       void *opaque)
{
    int off = 0;

    while (off < got) {
        int n = handler(s, buf + off, (size_t)(got - off), opaque);

        if (n < 0) {
            error_handler("sink handler");
            return false;
        }
        off += n;
    }
    return true;
}

int virStreamRecvAll(virStreamPtr stream, virStreamSinkFunc handler, void *opaque)
{
    char *buf = NULL;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!handler) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__, "handler");
        goto fail;
    }
    if (!all_blocking(stream, true))
        goto fail;
    if (!(buf = malloc(VRPC_STREAM_CHUNK))) {
        compat_no_memory();
        goto fail;
    }
    errno = 0;
    for (;;) {
        int got = stream_recv(stream, buf, VRPC_STREAM_CHUNK, 0, "virStreamRecv");

        if (got < 0)
            goto fail;
        if (got == 0)
            break;
        if (!sink_whole(stream, handler, buf, got, opaque))
            goto fail;
    }
    free(buf);
    return 0;
fail:
    free(buf);
    return all_failed(stream);
}

int virStreamSparseRecvAll(virStreamPtr stream, virStreamSinkFunc handler,
                           virStreamSinkHoleFunc holeHandler, void *opaque)
{
    char *buf = NULL;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!handler || !holeHandler) {
        compat_invalid_arg(VIR_FROM_STREAMS, __func__, !handler ? "handler" : "holeHandler");
        goto fail;
    }
    if (!all_blocking(stream, true))
        goto fail;
    if (!(buf = malloc(VRPC_STREAM_CHUNK))) {
        compat_no_memory();
        goto fail;
    }
    errno = 0;
    for (;;) {
        int got = stream_recv(stream, buf, VRPC_STREAM_CHUNK, VIR_STREAM_RECV_STOP_AT_HOLE,
                              "virStreamRecvFlags");

        if (got == -3) {
            long long len;

            pthread_mutex_lock(&stream->lock);
            len = stream->hole > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)stream->hole;
            stream->hole -= (uint64_t)len;
            pthread_mutex_unlock(&stream->lock);
            if (holeHandler(stream, len, opaque) < 0) {
                error_handler("hole handler");
                goto fail;
            }
            continue;
        }
        if (got < 0)
            goto fail;
        if (got == 0)
            break;
        if (!sink_whole(stream, handler, buf, got, opaque))
            goto fail;
    }
    free(buf);
    return 0;
fail:
    free(buf);
    return all_failed(stream);
}

/* ---- event callbacks ----
 *
 * As libvirt's client: the callback runs from a timeout of the
 * application's event loop, armed (0: every iteration) while the stream has
 * something the callback asked for and disarmed (-1) otherwise. READABLE
 * means a receive would not block (data, a hole, the end, an error, a
 * closed stream), WRITABLE that a send would not wait (libvirt reports it
 * always: its sends block instead). Readiness is looked at again after each
 * vrpc_conn_process() of the connection's watch (a hook), after each
 * dispatch and when the callback's events change. The registration holds a
 * reference to the stream (libvirt's does too), released when the loop
 * frees the timeout after virStreamEventRemoveCallback; ff runs at the
 * removal, or after the dispatch that removed it.
 */
/* compat/watch.c drives the connection; a build without it fails stream
 * callbacks as without an event loop. */
#pragma weak compat_conn_watch
#pragma weak compat_watch_hook_add
#pragma weak compat_watch_hook_remove

struct compat_stream_cb {
    virStreamEventCallback fn;
    void *opaque;
    virFreeCallback ff;
    int events;
    int timer;
    compat_watch *watch;
    bool dispatching;
    bool removed;
};

/* The events the stream has now (lock held). */
static int events_now(virStreamPtr s)
{
    int ready = s->st ? vrpc_stream_ready(s->st) : 0, ev = 0;

    if (s->hole > 0 || s->closed || (ready & VRPC_STREAM_EVENT_READABLE))
        ev |= VIR_STREAM_EVENT_READABLE;
    if (s->closed || (ready & VRPC_STREAM_EVENT_WRITABLE))
        ev |= VIR_STREAM_EVENT_WRITABLE;
    return ev;
}

/* Arm or disarm the callback's timeout (lock held). */
static void cb_update_locked(virStreamPtr s)
{
    struct compat_stream_cb *cb = s->cb;

    if (!cb || cb->dispatching)
        return;
    virEventUpdateTimeout(cb->timer, (events_now(s) & cb->events) ? 0 : -1);
}

static void cb_hook(void *opaque)
{
    virStreamPtr s = opaque;

    pthread_mutex_lock(&s->lock);
    cb_update_locked(s);
    pthread_mutex_unlock(&s->lock);
}

static void cb_timer(int timer, void *opaque)
{
    virStreamPtr s = opaque;
    struct compat_stream_cb *cb;
    virFreeCallback ff = NULL;
    void *cb_opaque;
    int ev;

    stream_ref(s); /* the dispatch may remove the registration and its reference */
    pthread_mutex_lock(&s->lock);
    cb = s->cb;
    if (!cb || cb->timer != timer || cb->dispatching) {
        pthread_mutex_unlock(&s->lock);
        stream_unref(s);
        return;
    }
    ev = events_now(s) & cb->events;
    if (!ev) {
        cb_update_locked(s);
        pthread_mutex_unlock(&s->lock);
        stream_unref(s);
        return;
    }
    cb->dispatching = true;
    cb_opaque = cb->opaque;
    pthread_mutex_unlock(&s->lock);

    cb->fn(s, ev, cb_opaque);

    pthread_mutex_lock(&s->lock);
    cb->dispatching = false;
    if (cb->removed) {
        ff = cb->ff;
        free(cb);
    } else {
        cb_update_locked(s);
    }
    pthread_mutex_unlock(&s->lock);
    if (ff)
        ff(cb_opaque);
    stream_unref(s);
}

/* The timeout's free callback: the registration's reference. */
static void cb_timer_free(void *opaque)
{
    stream_unref(opaque);
}

int virStreamEventAddCallback(virStreamPtr stream, int events, virStreamEventCallback cb,
                              void *opaque, virFreeCallback ff)
{
    struct compat_stream_cb *c = NULL;
    compat_watch *w;
    bool bound, taken;
    int timer;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    pthread_mutex_lock(&stream->lock);
    bound = stream->st != NULL;
    taken = stream->cb != NULL;
    pthread_mutex_unlock(&stream->lock);
    if (!bound) {
        error_unbound(__func__);
        goto fail;
    }
    if (taken) {
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR,
                     "the stream has a callback already: one at a time");
        goto fail;
    }
    if (!atomic_load(&compat_event_loop)) {
        /* libvirt's client fails without saying why (virEventAddTimeout
         * has no loop to ask): the cause-unknown error of its dispatch */
        compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                     "stream callbacks need an event loop (virEventRegisterImpl or "
                     "virEventRegisterDefaultImpl)");
        goto fail;
    }
    if (!compat_conn_watch || !compat_watch_hook_add || !compat_watch_hook_remove) {
        /* a build without compat/watch.c: as without an event loop */
        compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                     "stream callbacks need the event loop's connection watch");
        goto fail;
    }
    if (!(w = compat_conn_watch(stream->conn)))
        goto fail;
    if (!(c = calloc(1, sizeof(*c)))) {
        compat_no_memory();
        goto fail;
    }
    c->fn = cb;
    c->opaque = opaque;
    c->ff = ff;
    c->events = events;
    c->watch = w;
    stream_ref(stream);
    timer = virEventAddTimeout(-1, cb_timer, stream, cb_timer_free);
    if (timer < 0) {
        stream_unref(stream);
        free(c);
        if (!virGetLastError())
            compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                         "the event loop refused a timeout for the stream");
        goto fail;
    }
    c->timer = timer;
    if (compat_watch_hook_add(w, cb_hook, stream) < 0) {
        virEventRemoveTimeout(timer);
        free(c);
        goto fail;
    }
    pthread_mutex_lock(&stream->lock);
    taken = stream->cb != NULL;
    if (!taken) {
        stream->cb = c;
        cb_update_locked(stream);
    }
    pthread_mutex_unlock(&stream->lock);
    if (taken) {
        /* another thread registered one meanwhile */
        compat_watch_hook_remove(w, cb_hook, stream);
        virEventRemoveTimeout(timer);
        free(c);
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR,
                     "the stream has a callback already: one at a time");
        goto fail;
    }
    return 0;
fail:
    compat_dispatch(stream->conn);
    return -1;
}

int virStreamEventUpdateCallback(virStreamPtr stream, int events)
{
    int rc = 0;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    pthread_mutex_lock(&stream->lock);
    if (!stream->st) {
        error_unbound(__func__);
        rc = -1;
    } else if (!stream->cb) {
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR, "the stream has no callback");
        rc = -1;
    } else {
        stream->cb->events = events;
        cb_update_locked(stream);
    }
    pthread_mutex_unlock(&stream->lock);
    if (rc < 0)
        compat_dispatch(stream->conn);
    return rc;
}

int virStreamEventRemoveCallback(virStreamPtr stream)
{
    struct compat_stream_cb *c;
    compat_watch *w = NULL;
    bool dispatching = false;
    int timer = -1, rc = 0;

    compat_reset();
    if (!compat_obj_conn(stream, COMPAT_STREAM)) {
        compat_dispatch(NULL);
        return -1;
    }
    pthread_mutex_lock(&stream->lock);
    c = stream->cb;
    if (!stream->st) {
        error_unbound(__func__);
        rc = -1;
    } else if (!c) {
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR, "the stream has no callback");
        rc = -1;
    } else {
        stream->cb = NULL;
        c->removed = true;
        dispatching = c->dispatching;
        w = c->watch;
        timer = c->timer;
    }
    pthread_mutex_unlock(&stream->lock);
    if (rc < 0) {
        compat_dispatch(stream->conn);
        return -1;
    }
    compat_watch_hook_remove(w, cb_hook, stream);
    if (!dispatching) {
        /* nothing runs it any more: ff now, as libvirt */
        if (c->ff)
            c->ff(c->opaque);
        free(c);
    }
    /* last: the loop's free of the timeout drops the registration's reference */
    virEventRemoveTimeout(timer);
    return 0;
}
