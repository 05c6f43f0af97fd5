/* SPDX-License-Identifier: MIT */
/*
 * virtrpc: streams.
 *
 * Some procedures open a data stream next to their reply: volume upload
 * (storage_vol_upload) and download (storage_vol_download), screenshots
 * (domain_screenshot), consoles and channels (domain_open_console,
 * domain_open_channel: both directions), tunnelled migration
 * (domain_migrate_prepare_tunnel3 and, although libvirt's protocol file does
 * not annotate it, domain_migrate_prepare_tunnel3_params). Their procedure
 * descriptors have `stream` set (VRPC_STREAM_READ / VRPC_STREAM_WRITE);
 * vrpc_proc_opens_stream() says which ones.
 *
 * vrpc_stream_call() makes such a call and returns a vrpc_stream. The
 * stream is registered under the call's serial BEFORE the call is sent, so
 * data that the daemon sends right after its reply is never lost.
 *
 * DATA flows in packets of at most VRPC_STREAM_CHUNK bytes. Sending queues
 * packets; receiving takes what the connection has buffered for the stream.
 * Both block by default and return VRPC_E_AGAIN instead with
 * VRPC_STREAM_NONBLOCK. The end of the daemon's data (EOF) is a receive that
 * returns 0.
 *
 * ENDING A STREAM: vrpc_stream_finish() tells the daemon that all data was
 * sent (or, for a download, received) and waits for its confirmation;
 * vrpc_stream_abort() cancels and waits for the confirmation too. An error
 * the daemon reports on the stream (a full volume, a failed read) is stored
 * and returned by the next operation (VRPC_E_REMOTE with the daemon's
 * error). vrpc_stream_free() aborts a stream that is still open (waiting at
 * most a few seconds) and releases it.
 *
 * SPARSE STREAMS (volume upload and download with the *_SPARSE_STREAM flag
 * in the call's flags): holes travel as their length instead of zeros.
 * vrpc_stream_send_hole() sends one; vrpc_stream_recv_sparse() reports one
 * (vrpc_stream_recv() returns a hole as zero bytes instead).
 *
 * BUFFERING AND BACK-PRESSURE. libvirtd sends stream data without any flow
 * control of its own: it writes the next packet as soon as the previous one
 * left its socket. Each stream buffers what arrives for it, up to a soft
 * limit (VRPC_STREAM_BUFFER_SOFT, changeable per stream). Over it the
 * library stops reading the socket, so TCP (or the Unix socket) pushes back
 * and libvirtd stops reading the volume — unless something else needs the
 * socket: a call waiting for its reply, a finish/abort confirmation, a
 * thread waiting for data on another stream. Then the library reads on (the
 * reply may be behind stream data: the socket is shared), and the full
 * stream's buffer grows past its soft limit by about one socket buffer per
 * such wait. If it reaches the hard limit (VRPC_STREAM_BUFFER_HARD) the
 * stream fails with VRPC_E_TOO_BIG (the library aborts it on the daemon) and
 * the connection goes on. So memory is bounded and other calls are never
 * stalled by a slow reader; the price is that a reader that stays far
 * behind while the connection is busy with other work loses its stream.
 * Sending blocks (or returns VRPC_E_AGAIN) while more than
 * VRPC_STREAM_SEND_QUEUE bytes are queued on the connection.
 *
 * THREADS. A stream may be used by two threads at once (one receiving, one
 * sending: a console). Stream operations never run inside another thread's
 * call; the data is moved by whichever thread performs I/O on the
 * connection. Free every stream before closing its connection; a stream
 * left over when the connection closes only fails (VRPC_E_CLOSED) and must
 * still be freed.
 *
 * ERRORS and MEMORY follow <virtrpc/conn.h>.
 */
#ifndef VIRTRPC_STREAM_H
#define VIRTRPC_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <virtrpc/conn.h>
#include <virtrpc/consts.h>
#include <virtrpc/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Payload of one STREAM packet (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, as libvirt). */
#define VRPC_STREAM_CHUNK 262120u
/* Default per-stream receive buffer limits (see BUFFERING above). */
#define VRPC_STREAM_BUFFER_SOFT ((size_t)4 << 20)
#define VRPC_STREAM_BUFFER_HARD ((size_t)64 << 20)
/* Queued output above which sending waits. */
#define VRPC_STREAM_SEND_QUEUE ((size_t)2 << 20)

/* Flags of the send/receive operations: VRPC_STREAM_NONBLOCK (libvirt's
 * VIR_STREAM_NONBLOCK, from <virtrpc/consts.h>) returns VRPC_E_AGAIN
 * instead of waiting. */

/* True when proc opens a stream (annotated ones and domain_migrate_prepare_tunnel3_params). */
VRPC_EXPORT bool vrpc_proc_opens_stream(const vrpc_proc *proc);

/*
 * vrpc_stream_call() (declared in <virtrpc/conn.h>, beside vrpc_call())
 * calls a procedure that opens a stream and returns the stream. The
 * generated call of each such procedure does the same with typed arguments:
 *   vrpc_storage_vol_download(c, &args, &st, &err)
 *   vrpc_domain_screenshot(c, &args, &ret, &st, &err)
 * and so does this macro, by procedure name:
 *   VRPC_STREAM_CALL(c, storage_vol_download, &args, NULL, &st, &err)
 *   VRPC_STREAM_CALL(c, domain_screenshot, &args, &ret, &st, &err)
 */
#define VRPC_STREAM_CALL(c, name, args, ret, st, err)                                              \
    vrpc_stream_call((c), &vrpc_pd_##name, (args), (void **)(ret), (st), (err))

/*
 * Send len bytes (len may exceed VRPC_STREAM_CHUNK: they are split).
 * Blocking: returns len once everything is queued. VRPC_STREAM_NONBLOCK:
 * returns how many bytes were queued (> 0), or VRPC_E_AGAIN when none could
 * be. Negative VRPC_E_* on error (a daemon error reported on the stream:
 * VRPC_E_REMOTE).
 */
VRPC_EXPORT ssize_t vrpc_stream_send(vrpc_stream *st, const void *buf, size_t len,
                                     unsigned int flags, vrpc_error **err);

/* Send a hole of length bytes (sparse streams only; VRPC_E_INVALID otherwise). */
VRPC_EXPORT int vrpc_stream_send_hole(vrpc_stream *st, uint64_t length, unsigned int flags,
                                      vrpc_error **err);

/*
 * Receive up to len bytes: returns the number of bytes (> 0), 0 at the end
 * of the stream, VRPC_E_AGAIN (VRPC_STREAM_NONBLOCK, nothing buffered) or
 * another negative VRPC_E_*. A hole is returned as zero bytes.
 */
VRPC_EXPORT ssize_t vrpc_stream_recv(vrpc_stream *st, void *buf, size_t len, unsigned int flags,
                                     vrpc_error **err);

/*
 * Receive data or a hole: returns the number of data bytes (> 0) with *hole
 * = 0; or 0 with *hole > 0: a hole of that many bytes (consumed whole); or
 * 0 with *hole = 0: the end of the stream. Negative VRPC_E_* as
 * vrpc_stream_recv.
 */
VRPC_EXPORT ssize_t vrpc_stream_recv_sparse(vrpc_stream *st, void *buf, size_t len, uint64_t *hole,
                                            unsigned int flags, vrpc_error **err);

/*
 * Wait (at most timeout_usec microseconds, RELATIVE, waited in whole
 * milliseconds rounded up; VRPC_USEC_INFINITY: no limit) until a receive
 * would not block: data, a hole, the end, or an error is there. 1 when
 * ready, 0 at the timeout, a negative VRPC_E_* when the connection failed.
 */
VRPC_EXPORT int vrpc_stream_wait_readable(vrpc_stream *st, uint64_t timeout_usec);

/*
 * What an operation on the stream would find now, without waiting and
 * without any I/O (for event loops that dispatch stream callbacks, as
 * libvirt's virStreamEventAddCallback): VRPC_STREAM_EVENT_READABLE when a
 * receive would not block (data, a hole, the end, an error, or a stream
 * that is closed or whose connection failed), VRPC_STREAM_EVENT_WRITABLE
 * when a send would not wait (the connection's output queue has room, or
 * the send would fail at once). 0 for NULL. It does not read the socket:
 * whoever drives the connection (vrpc_conn_process(), a waiting call, a
 * receive) brings the data in.
 */
VRPC_EXPORT int vrpc_stream_ready(const vrpc_stream *st);

/* Tell the daemon the stream is complete and wait for its confirmation. */
VRPC_EXPORT int vrpc_stream_finish(vrpc_stream *st, vrpc_error **err);

/*
 * Abort the stream and wait for the daemon's confirmation. Returns 0, or the
 * error the daemon had already reported on the stream. After finish/abort
 * the stream only accepts vrpc_stream_free().
 */
VRPC_EXPORT int vrpc_stream_abort(vrpc_stream *st, vrpc_error **err);

/* Abort if still open (bounded wait), then release. NULL-safe. */
VRPC_EXPORT void vrpc_stream_free(vrpc_stream *st);

/*
 * Change the receive buffer limits (bytes; soft >= VRPC_STREAM_CHUNK,
 * hard >= soft; hard = SIZE_MAX: never fail, grow while others need the
 * socket, as libvirt's own client does). VRPC_E_INVALID otherwise.
 */
VRPC_EXPORT int vrpc_stream_set_buffer(vrpc_stream *st, size_t soft, size_t hard);

/* Bytes of data buffered for the application now. */
VRPC_EXPORT size_t vrpc_stream_buffered(const vrpc_stream *st);
/* Whether the stream carries holes (the call had its sparse flag). */
VRPC_EXPORT bool vrpc_stream_is_sparse(const vrpc_stream *st);
/* The serial of the call that opened the stream (its packets carry it). */
VRPC_EXPORT uint32_t vrpc_stream_serial(const vrpc_stream *st);

/* ---- Helpers for the common jobs ---- */

/*
 * Progress of a transfer: bytes done so far (holes included) and the total
 * (0 when unknown). Return nonzero to cancel: the stream is aborted and the
 * helper fails with VRPC_E_INVALID ("cancelled").
 */
typedef int (*vrpc_progress_cb)(uint64_t done, uint64_t total, void *opaque);

/*
 * Upload from fd (from its current position to its end, or length bytes
 * when length > 0) into a volume at offset. With
 * VRPC_STORAGE_VOL_UPLOAD_SPARSE_STREAM in flags, the holes of a regular
 * file (found with SEEK_DATA/SEEK_HOLE) are sent as holes. progress may be
 * NULL.
 */
VRPC_EXPORT int vrpc_stream_vol_upload(vrpc_conn *c, const vrpc_nonnull_storage_vol *vol, int fd,
                                       uint64_t offset, uint64_t length, unsigned int flags,
                                       vrpc_progress_cb progress, void *opaque, vrpc_error **err);

/*
 * Download a volume (from offset; length bytes, 0: to its end) into fd at
 * its current position. With VRPC_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM in
 * flags, holes are skipped with lseek() in a regular file (which should be
 * empty beyond its current position, e.g. opened with O_TRUNC) and the file
 * is extended to its full size at the end, so it stays sparse; other fds
 * get zeros.
 */
VRPC_EXPORT int vrpc_stream_vol_download(vrpc_conn *c, const vrpc_nonnull_storage_vol *vol, int fd,
                                         uint64_t offset, uint64_t length, unsigned int flags,
                                         vrpc_progress_cb progress, void *opaque, vrpc_error **err);

/*
 * Take a screenshot of a domain's screen: *mime is the image type the
 * daemon reports ("image/x-portable-pixmap" for QEMU; may be NULL), *data
 * and *len the image. Release *mime and *data with vrpc_free().
 */
VRPC_EXPORT int vrpc_stream_screenshot(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                       unsigned int screen, unsigned int flags, char **mime,
                                       uint8_t **data, size_t *len, vrpc_error **err);

/*
 * Open a domain's console (dev_name NULL: the first one) or a named channel
 * as a stream in both directions: what is sent goes to the guest, what the
 * guest writes is received. flags: VRPC_DOMAIN_CONSOLE_FORCE / _SAFE,
 * VRPC_DOMAIN_CHANNEL_FORCE.
 */
VRPC_EXPORT int vrpc_stream_open_console(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                         const char *dev_name, unsigned int flags, vrpc_stream **st,
                                         vrpc_error **err);
VRPC_EXPORT int vrpc_stream_open_channel(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                         const char *name, unsigned int flags, vrpc_stream **st,
                                         vrpc_error **err);

#ifdef __cplusplus
}
#endif
#endif
