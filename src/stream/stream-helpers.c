/* SPDX-License-Identifier: MIT */
/*
 * Helpers built on streams: volume upload and download (sparse-aware),
 * screenshots, consoles and channels.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <virtrpc/stream.h>

#include "alloc.h"
#include "error.h"

/* Read/write buffer of the transfer helpers: four stream packets. */
#define XFER_BUF ((size_t)4 * VRPC_STREAM_CHUNK)
/* Largest screenshot accepted. */
#define SCREENSHOT_MAX ((size_t)256 << 20)

#define SYS_ERR(err, e, ...)                                                                       \
    vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_STREAMS, e, __VA_ARGS__)

static int cancelled(vrpc_error **err)
{
    vrpc_error_set(err, VRPC_ERR_OPERATION_ABORTED, VRPC_FROM_STREAMS,
                   "the transfer was cancelled");
    return VRPC_E_INVALID;
}

/* On failure: abort the stream (its outcome does not matter) and free it. */
static void fail_stream(vrpc_stream *st)
{
    vrpc_stream_abort(st, NULL);
    vrpc_stream_free(st);
}

static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Where the data of a regular file continues from pos: *data_len bytes of
 * data start at pos (0: a hole of *hole_len bytes starts there; both 0:
 * end of file).
 */
static int next_section(int fd, off_t pos, off_t end, uint64_t *data_len, uint64_t *hole_len)
{
    off_t d, h;
    *data_len = *hole_len = 0;
    if (pos >= end)
        return 0;
    d = lseek(fd, pos, SEEK_DATA);
    if (d < 0 && errno == ENXIO)
        d = end; /* only a hole up to the end */
    else if (d < 0)
        return -1;
    if (d > pos) {
        *hole_len = (uint64_t)((d < end ? d : end) - pos);
        return 0;
    }
    h = lseek(fd, pos, SEEK_HOLE);
    if (h < 0 || lseek(fd, pos, SEEK_SET) < 0) /* SEEK_HOLE moved the offset */
        return -1;
    *data_len = (uint64_t)((h < end ? h : end) - pos);
    return 0;
}

/* The transfer buffer and the stream of a volume upload or download: both
 * procedures take { vol, offset, length, flags } (the upload layout). */
_Static_assert(sizeof(vrpc_storage_vol_upload_args) == sizeof(vrpc_storage_vol_download_args) &&
                   offsetof(vrpc_storage_vol_upload_args, flags) ==
                       offsetof(vrpc_storage_vol_download_args, flags),
               "volume upload and download arguments share one layout");

static int open_vol_stream(vrpc_conn *c, const vrpc_proc *proc, const vrpc_nonnull_storage_vol *vol,
                           uint64_t offset, uint64_t length, unsigned int flags, uint8_t **buf,
                           vrpc_stream **st, vrpc_error **err)
{
    vrpc_storage_vol_upload_args args;

    *buf = vrpc_malloc(XFER_BUF);
    if (!*buf) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS, "out of memory");
        return VRPC_E_NOMEM;
    }
    memset(&args, 0, sizeof(args));
    args.vol = *vol;
    args.offset = offset;
    args.length = length;
    args.flags = flags;
    return vrpc_stream_call(c, proc, &args, NULL, st, err);
}

int vrpc_stream_vol_upload(vrpc_conn *c, const vrpc_nonnull_storage_vol *vol, int fd,
                           uint64_t offset, uint64_t length, unsigned int flags,
                           vrpc_progress_cb progress, void *opaque, vrpc_error **err)
{
    bool sparse = (flags & VRPC_STORAGE_VOL_UPLOAD_SPARSE_STREAM) != 0;
    uint64_t done = 0, total = length;
    vrpc_stream *st = NULL;
    uint8_t *buf = NULL;
    struct stat sb;
    off_t pos = 0, end = 0;
    bool seekable;
    int rc;

    if (!c || !vol || fd < 0) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       "vrpc_stream_vol_upload: connection, volume and descriptor are required");
        return VRPC_E_INVALID;
    }
    if (fstat(fd, &sb) < 0) {
        SYS_ERR(err, errno, "fstat on the file to upload");
        return VRPC_E_IO;
    }
    seekable = S_ISREG(sb.st_mode) && (pos = lseek(fd, 0, SEEK_CUR)) >= 0;
    if (seekable) {
        end = sb.st_size;
        if (length && (uint64_t)(end - pos) > length)
            end = pos + (off_t)length;
        if (pos > end)
            end = pos;
        total = (uint64_t)(end - pos);
    }
    rc =
        open_vol_stream(c, &vrpc_pd_storage_vol_upload, vol, offset, length, flags, &buf, &st, err);
    if (rc)
        goto out;

    for (;;) {
        uint64_t want = XFER_BUF, data_len = 0, hole_len = 0;
        ssize_t n;

        if (sparse && seekable) {
            if (next_section(fd, pos, end, &data_len, &hole_len) < 0) {
                rc = VRPC_E_IO;
                SYS_ERR(err, errno, "lseek(SEEK_DATA/SEEK_HOLE) on the file to upload");
                break;
            }
            if (hole_len) {
                rc = vrpc_stream_send_hole(st, hole_len, 0, err);
                if (rc)
                    break;
                pos += (off_t)hole_len;
                done += hole_len;
                if (lseek(fd, pos, SEEK_SET) < 0) {
                    rc = VRPC_E_IO;
                    SYS_ERR(err, errno, "lseek on the file to upload");
                    break;
                }
                if (progress && progress(done, total, opaque)) {
                    rc = cancelled(err);
                    break;
                }
                continue;
            }
            if (data_len == 0)
                break; /* end of file */
            if (want > data_len)
                want = data_len;
        } else if (seekable) {
            if (pos >= end)
                break;
            if (want > (uint64_t)(end - pos))
                want = (uint64_t)(end - pos);
        } else if (length && want > length - done) {
            want = length - done;
            if (want == 0)
                break;
        }
        n = read_full(fd, buf, (size_t)want);
        if (n < 0) {
            rc = VRPC_E_IO;
            SYS_ERR(err, errno, "read from the file to upload");
            break;
        }
        if (n == 0)
            break;
        if ((n = vrpc_stream_send(st, buf, (size_t)n, 0, err)) < 0) {
            rc = (int)n;
            break;
        }
        pos += n;
        done += (uint64_t)n;
        if (progress && progress(done, total, opaque)) {
            rc = cancelled(err);
            break;
        }
    }
    if (rc == 0) {
        rc = vrpc_stream_finish(st, err);
        vrpc_stream_free(st);
    } else {
        fail_stream(st);
    }
out:
    vrpc_free(buf);
    return rc;
}

int vrpc_stream_vol_download(vrpc_conn *c, const vrpc_nonnull_storage_vol *vol, int fd,
                             uint64_t offset, uint64_t length, unsigned int flags,
                             vrpc_progress_cb progress, void *opaque, vrpc_error **err)
{
    uint64_t done = 0;
    vrpc_stream *st = NULL;
    uint8_t *buf = NULL;
    struct stat sb;
    bool regular;
    off_t pos = 0;
    int rc;

    if (!c || !vol || fd < 0) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       "vrpc_stream_vol_download: connection, volume and descriptor are required");
        return VRPC_E_INVALID;
    }
    if (fstat(fd, &sb) < 0) {
        SYS_ERR(err, errno, "fstat on the download target");
        return VRPC_E_IO;
    }
    regular = S_ISREG(sb.st_mode) && (pos = lseek(fd, 0, SEEK_CUR)) >= 0;
    rc = open_vol_stream(c, &vrpc_pd_storage_vol_download, vol, offset, length, flags, &buf, &st,
                         err);
    if (rc)
        goto out;

    for (;;) {
        uint64_t hole = 0;
        ssize_t n = vrpc_stream_recv_sparse(st, buf, XFER_BUF, &hole, 0, err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n > 0) {
            if (write_full(fd, buf, (size_t)n) < 0) {
                rc = VRPC_E_IO;
                SYS_ERR(err, errno, "write to the download target");
                break;
            }
            pos += n;
            done += (uint64_t)n;
        } else if (hole) {
            if (regular) {
                if (lseek(fd, (off_t)hole, SEEK_CUR) < 0) {
                    rc = VRPC_E_IO;
                    SYS_ERR(err, errno, "lseek over a hole in the download target");
                    break;
                }
            } else {
                uint64_t left = hole;
                memset(buf, 0, XFER_BUF);
                while (left) {
                    size_t k = left < XFER_BUF ? (size_t)left : XFER_BUF;
                    if (write_full(fd, buf, k) < 0)
                        break;
                    left -= k;
                }
                if (left) {
                    rc = VRPC_E_IO;
                    SYS_ERR(err, errno, "write to the download target");
                    break;
                }
            }
            pos += (off_t)hole;
            done += hole;
        } else {
            break; /* the end */
        }
        if (progress && progress(done, length, opaque)) {
            rc = cancelled(err);
            break;
        }
    }
    if (rc == 0 && regular) {
        /* A trailing hole: the file gets its full size. */
        if (fstat(fd, &sb) == 0 && sb.st_size < pos && ftruncate(fd, pos) < 0) {
            rc = VRPC_E_IO;
            SYS_ERR(err, errno, "ftruncate the download target");
        }
    }
    if (rc == 0) {
        rc = vrpc_stream_finish(st, err);
        vrpc_stream_free(st);
    } else {
        fail_stream(st);
    }
out:
    vrpc_free(buf);
    return rc;
}

int vrpc_stream_screenshot(vrpc_conn *c, const vrpc_nonnull_domain *dom, unsigned int screen,
                           unsigned int flags, char **mime, uint8_t **data, size_t *len,
                           vrpc_error **err)
{
    vrpc_domain_screenshot_args args;
    vrpc_domain_screenshot_ret *ret = NULL;
    vrpc_stream *st = NULL;
    vrpc_buf b = {0};
    int rc;

    if (mime)
        *mime = NULL;
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    if (!c || !dom || !data || !len) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       "vrpc_stream_screenshot: connection, domain, data and len are required");
        return VRPC_E_INVALID;
    }
    memset(&args, 0, sizeof(args));
    args.dom = *dom;
    args.screen = screen;
    args.flags = flags;
    rc = vrpc_stream_call(c, &vrpc_pd_domain_screenshot, &args, (void **)&ret, &st, err);
    if (rc)
        return rc;
    for (;;) {
        ssize_t n;
        if (vrpc_buf_reserve(&b, VRPC_STREAM_CHUNK)) {
            rc = VRPC_E_NOMEM;
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS, "out of memory");
            break;
        }
        n = vrpc_stream_recv(st, b.data + b.len, b.cap - b.len, 0, err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
        if (b.len > SCREENSHOT_MAX) {
            rc = VRPC_E_TOO_BIG;
            vrpc_error_set(err, VRPC_ERR_OPERATION_FAILED, VRPC_FROM_STREAMS,
                           "screenshot larger than %zu bytes", SCREENSHOT_MAX);
            break;
        }
    }
    if (rc == 0) {
        rc = vrpc_stream_finish(st, err);
        vrpc_stream_free(st);
    } else {
        fail_stream(st);
    }
    if (rc == 0 && mime && ret->mime && !(*mime = vrpc_strdup(ret->mime))) {
        rc = VRPC_E_NOMEM;
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_STREAMS, "out of memory");
    }
    vrpc_free(ret);
    if (rc) {
        vrpc_buf_reset(&b);
        return rc;
    }
    *data = b.data;
    *len = b.len;
    return 0;
}

int vrpc_stream_open_console(vrpc_conn *c, const vrpc_nonnull_domain *dom, const char *dev_name,
                             unsigned int flags, vrpc_stream **st, vrpc_error **err)
{
    vrpc_domain_open_console_args args;
    if (!dom) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       "vrpc_stream_open_console: no domain");
        return VRPC_E_INVALID;
    }
    memset(&args, 0, sizeof(args));
    args.dom = *dom;
    args.dev_name = (char *)dev_name;
    args.flags = flags;
    return vrpc_stream_call(c, &vrpc_pd_domain_open_console, &args, NULL, st, err);
}

int vrpc_stream_open_channel(vrpc_conn *c, const vrpc_nonnull_domain *dom, const char *name,
                             unsigned int flags, vrpc_stream **st, vrpc_error **err)
{
    vrpc_domain_open_channel_args args;
    if (!dom) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_STREAMS,
                       "vrpc_stream_open_channel: no domain");
        return VRPC_E_INVALID;
    }
    memset(&args, 0, sizeof(args));
    args.dom = *dom;
    args.name = (char *)name;
    args.flags = flags;
    return vrpc_stream_call(c, &vrpc_pd_domain_open_channel, &args, NULL, st, err);
}
