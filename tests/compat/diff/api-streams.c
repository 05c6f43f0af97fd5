/* SPDX-License-Identifier: MIT */
/*
 * The differential transcript of libvirt's stream API (docs/compat.md,
 * "Streams"), a C program linked with -lvirt against the system's libvirt
 * headers: volume upload and download through the real storage driver of
 * the private daemons in $VRPC_DIFF_DIR (plain, with offset and length,
 * sparse with the *All helpers and by hand with virStreamRecvFlags and
 * virStreamRecvHole), the error cases (abort midway, finish twice, data on
 * a download, handlers failing), argument checks and references.
 * run-diff.py runs it on the system's libvirt.so.0 and on the compat
 * libraries and compares what it prints: one line per check, "TAG: result";
 * errors print code and domain, and the message when the daemon sent it.
 * Contents are printed as their size and FNV-1a hash; a received stream as
 * its sequence of data runs and holes (packets may be cut differently).
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1024 * 1024)

static char g_dir[4096];
static int g_handled;

static void section(const char *name)
{
    printf("== %s\n", name);
    fflush(stdout);
}

static void print_err(const char *tag, int daemon)
{
    virErrorPtr e = virGetLastError();
    if (!e) {
        printf("%s: ERR none\n", tag);
        return;
    }
    printf("%s: ERR code=%d domain=%d", tag, e->code, e->domain);
    if (daemon)
        printf(" msg=%s", e->message ? e->message : "(null)");
    printf("\n");
}

static void print_int(const char *tag, long long r, int daemon)
{
    if (r == -1)
        print_err(tag, daemon);
    else
        printf("%s: %lld\n", tag, r);
}

static void quiet(void *data, virErrorPtr err)
{
    (void)err;
    (*(int *)data)++;
}

/* ---- contents ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}
#define FNV0 14695981039346656037ULL

static unsigned char pat(size_t i)
{
    return (unsigned char)((i * 131 + (i >> 9)) & 0xff);
}

/* A source of len bytes of the pattern, failing (errno EPIPE) after
 * fail_after bytes when fail_after >= 0. */
typedef struct src {
    size_t off, len;
    long fail_after;
} src;

static int src_cb(virStreamPtr st, char *buf, size_t n, void *opaque)
{
    src *s = opaque;
    (void)st;
    if (s->fail_after >= 0 && s->off >= (size_t)s->fail_after) {
        errno = EPIPE;
        return -1;
    }
    if (n > s->len - s->off)
        n = s->len - s->off;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)pat(s->off + i);
    s->off += n;
    return (int)n;
}

/* A sink: hash, size, the sequence of data runs and holes. */
typedef struct sink {
    uint64_t h;
    size_t total;
    char seq[512];
    size_t run;
    long fail_after;
} sink;

static void sink_init(sink *k)
{
    memset(k, 0, sizeof(*k));
    k->h = FNV0;
    k->fail_after = -1;
}

static void seq_add(sink *k, const char *fmt, unsigned long long v)
{
    size_t l = strlen(k->seq);
    if (l + 32 < sizeof(k->seq))
        snprintf(k->seq + l, sizeof(k->seq) - l, fmt, v);
}

static void sink_end_run(sink *k)
{
    if (k->run)
        seq_add(k, " data:%llu", k->run);
    k->run = 0;
}

static int sink_cb(virStreamPtr st, const char *buf, size_t n, void *opaque)
{
    sink *k = opaque;
    (void)st;
    if (k->fail_after >= 0 && k->total >= (size_t)k->fail_after)
        return -1; /* errno as it is: the helper takes EIO for 0 */
    k->h = fnv(k->h, buf, n);
    k->total += n;
    k->run += n;
    return (int)n;
}

static int sink_hole_cb(virStreamPtr st, long long len, void *opaque)
{
    sink *k = opaque;
    static const char zero[4096];
    (void)st;
    sink_end_run(k);
    seq_add(k, " hole:%llu", (unsigned long long)len);
    /* the hash covers the zeros of the hole, as the volume has them */
    for (long long done = 0; done < len;) {
        size_t n = len - done > (long long)sizeof(zero) ? sizeof(zero) : (size_t)(len - done);
        k->h = fnv(k->h, zero, n);
        done += (long long)n;
    }
    k->total += (size_t)len;
    return 0;
}

static void sink_print(const char *tag, sink *k)
{
    sink_end_run(k);
    printf("%s: size=%zu hash=%016llx\n", tag, k->total, (unsigned long long)k->h);
}

/* ---- a sparse source: a real file with holes (SEEK_DATA / SEEK_HOLE) ---- */

typedef struct sfile {
    int fd;
    off_t size;
} sfile;

static int sf_read(virStreamPtr st, char *buf, size_t n, void *opaque)
{
    (void)st;
    return (int)read(((sfile *)opaque)->fd, buf, n);
}

static int sf_in_data(virStreamPtr st, int *in_data, long long *len, void *opaque)
{
    sfile *f = opaque;
    off_t cur = lseek(f->fd, 0, SEEK_CUR), d, h;
    (void)st;
    if (cur >= f->size) {
        *in_data = 0;
        *len = 0;
        return 0;
    }
    d = lseek(f->fd, cur, SEEK_DATA);
    if (d < 0 && errno == ENXIO)
        d = f->size; /* a hole up to the end */
    else if (d < 0)
        return -1;
    if (d > cur) {
        *in_data = 0;
        *len = d - cur;
    } else {
        h = lseek(f->fd, cur, SEEK_HOLE);
        if (h < 0)
            return -1;
        *in_data = 1;
        *len = h - cur;
    }
    return lseek(f->fd, cur, SEEK_SET) < 0 ? -1 : 0;
}

static int sf_skip(virStreamPtr st, long long len, void *opaque)
{
    (void)st;
    return lseek(((sfile *)opaque)->fd, len, SEEK_CUR) < 0 ? -1 : 0;
}

/* A file of 4 MiB: data at 0 (64 KiB), 1 MiB (100000 bytes), 3 MiB + 4096
 * (10 bytes); holes between and after. */
static int make_sparse_file(const char *path)
{
    static const struct {
        off_t at;
        size_t len;
    } parts[] = {{0, 65536}, {MiB, 100000}, {3 * MiB + 4096, 10}};
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
        char *b = malloc(parts[p].len);
        for (size_t i = 0; i < parts[p].len; i++)
            b[i] = (char)pat((size_t)parts[p].at + i);
        if (pwrite(fd, b, parts[p].len, parts[p].at) != (ssize_t)parts[p].len) {
            free(b);
            close(fd);
            return -1;
        }
        free(b);
    }
    if (ftruncate(fd, 4 * MiB) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- helpers ---- */

static virStorageVolPtr make_vol(virStoragePoolPtr pool, const char *name, int mib)
{
    char xml[512];
    snprintf(xml, sizeof(xml),
             "<volume><name>%s</name><capacity unit='MiB'>%d</capacity>"
             "<allocation>0</allocation><target><format type='raw'/></target></volume>",
             name, mib);
    virStorageVolPtr v = virStorageVolCreateXML(pool, xml, 0);
    if (!v)
        print_err(name, 1);
    return v;
}

/* Download [offset, offset+length) of vol with virStreamRecvAll (or
 * virStreamSparseRecvAll) and print it. */
static void download(virConnectPtr c, virStorageVolPtr v, const char *tag, unsigned long long off,
                     unsigned long long len, int sparse)
{
    char t[256];
    sink k;
    virStreamPtr st = virStreamNew(c, 0);
    sink_init(&k);
    snprintf(t, sizeof(t), "%s: virStorageVolDownload", tag);
    int r =
        virStorageVolDownload(v, st, off, len, sparse ? VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0);
    print_int(t, r, 1);
    if (r == 0) {
        snprintf(t, sizeof(t), "%s: %s", tag,
                 sparse ? "virStreamSparseRecvAll" : "virStreamRecvAll");
        r = sparse ? virStreamSparseRecvAll(st, sink_cb, sink_hole_cb, &k)
                   : virStreamRecvAll(st, sink_cb, &k);
        print_int(t, r, 1);
        snprintf(t, sizeof(t), "%s: virStreamFinish", tag);
        print_int(t, virStreamFinish(st), 1);
        snprintf(t, sizeof(t), "%s: contents", tag);
        sink_print(t, &k);
        if (sparse)
            printf("%s: sequence:%s\n", tag, k.seq);
    }
    virStreamFree(st);
}

static void no_cb(virStreamPtr st, int events, void *opaque)
{
    (void)st;
    (void)events;
    (void)opaque;
}

/* ---- sections ---- */

static void plain(virConnectPtr c, virStoragePoolPtr pool)
{
    section("upload and download");
    virStorageVolPtr v = make_vol(pool, "plain.img", 4);
    if (!v)
        return;
    virStreamPtr st = virStreamNew(c, 0);
    printf("virStreamNew: %s\n", st ? "stream" : "NULL");
    print_int("virStorageVolUpload", virStorageVolUpload(v, st, 0, 0, 0), 1);
    src s = {0, 3 * MiB + 12345, -1};
    print_int("virStreamSendAll", virStreamSendAll(st, src_cb, &s), 1);
    print_int("virStreamFinish", virStreamFinish(st), 1);
    print_int("virStreamFree", virStreamFree(st), 0);
    download(c, v, "whole", 0, 0, 0);
    download(c, v, "range", MiB + 7, 300000, 0);
    download(c, v, "tail", 3 * MiB, 0, 0);

    /* send and receive by hand, in odd sizes */
    st = virStreamNew(c, 0);
    print_int("by hand: virStorageVolUpload[offset 2 MiB, length 5000]",
              virStorageVolUpload(v, st, 2 * MiB, 5000, 0), 1);
    char buf[3000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (char)(i % 251);
    print_int("by hand: virStreamSend 3000", virStreamSend(st, buf, 3000), 1);
    print_int("by hand: virStreamSend 2000", virStreamSend(st, buf, 2000), 1);
    print_int("by hand: virStreamFinish", virStreamFinish(st), 1);
    virStreamFree(st);
    st = virStreamNew(c, 0);
    print_int("by hand: virStorageVolDownload", virStorageVolDownload(v, st, 2 * MiB - 10, 5020, 0),
              1);
    sink k;
    sink_init(&k);
    int n;
    while ((n = virStreamRecv(st, buf, 777)) > 0)
        sink_cb(st, buf, (size_t)n, &k);
    print_int("by hand: last virStreamRecv", n, 1);
    print_int("by hand: virStreamRecv after the end", virStreamRecv(st, buf, 10), 1);
    print_int("by hand: virStreamFinish", virStreamFinish(st), 1);
    sink_print("by hand: contents", &k);
    virStreamFree(st);
    download(c, v, "after by hand", 0, 0, 0);
    virStorageVolDelete(v, 0);
    virStorageVolFree(v);
}

static void sparse(virConnectPtr c, virStoragePoolPtr pool)
{
    char path[4200];
    section("sparse");
    snprintf(path, sizeof(path), "%s/sparse-src.img", g_dir);
    int fd = make_sparse_file(path);
    if (fd < 0) {
        printf("sparse source: cannot make %s\n", strerror(errno));
        return;
    }
    virStorageVolPtr v = make_vol(pool, "sparse.img", 4);
    if (!v) {
        close(fd);
        return;
    }
    sfile f = {fd, 4 * MiB};
    virStreamPtr st = virStreamNew(c, 0);
    print_int("virStorageVolUpload[sparse]",
              virStorageVolUpload(v, st, 0, 0, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM), 1);
    print_int("virStreamSparseSendAll",
              virStreamSparseSendAll(st, sf_read, sf_in_data, sf_skip, &f), 1);
    print_int("virStreamFinish", virStreamFinish(st), 1);
    virStreamFree(st);
    close(fd);
    unlink(path);
    download(c, v, "sparse whole", 0, 0, 1);
    download(c, v, "not sparse", 0, 0, 0);
    download(c, v, "sparse range", 60000, 2 * MiB, 1);

    /* by hand: RecvFlags(STOP_AT_HOLE) and RecvHole; Recv returns holes as zeros */
    st = virStreamNew(c, 0);
    print_int("by hand: virStorageVolDownload[sparse]",
              virStorageVolDownload(v, st, 0, 0, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM), 1);
    sink k;
    sink_init(&k);
    static char buf[300000];
    int n, holes = 0;
    long long hl = -5;
    print_int("by hand: virStreamRecvHole before any data", virStreamRecvHole(st, &hl, 0), 1);
    printf("by hand: its length: %lld\n", hl);
    for (;;) {
        n = virStreamRecvFlags(st, buf, sizeof(buf), VIR_STREAM_RECV_STOP_AT_HOLE);
        if (n == -3) {
            long long len = 0;
            if (virStreamRecvHole(st, &len, 0) < 0) {
                print_err("by hand: virStreamRecvHole", 1);
                break;
            }
            sink_hole_cb(st, len, &k);
            if (++holes == 1) {
                /* the hole is consumed: RecvHole again gives 0 */
                len = -1;
                print_int("by hand: virStreamRecvHole again", virStreamRecvHole(st, &len, 0), 1);
                printf("by hand: its length: %lld\n", len);
            }
            continue;
        }
        if (n <= 0)
            break;
        sink_cb(st, buf, (size_t)n, &k);
    }
    print_int("by hand: the last virStreamRecvFlags", n, 1);
    print_int("by hand: virStreamFinish", virStreamFinish(st), 1);
    sink_print("by hand: contents", &k);
    printf("by hand: sequence:%s\n", k.seq);
    virStreamFree(st);

    /* Recv on a sparse stream: holes as zeros */
    st = virStreamNew(c, 0);
    print_int("zeros: virStorageVolDownload[sparse]",
              virStorageVolDownload(v, st, 0, 2 * MiB, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM), 1);
    sink_init(&k);
    while ((n = virStreamRecv(st, buf, 65536 + 1000)) > 0)
        sink_cb(st, buf, (size_t)n, &k);
    print_int("zeros: the last virStreamRecv", n, 1);
    print_int("zeros: virStreamFinish", virStreamFinish(st), 1);
    sink_print("zeros: contents", &k);
    virStreamFree(st);

    /* a hole sent by hand, then data */
    st = virStreamNew(c, 0);
    print_int("hand holes: virStorageVolUpload[sparse]",
              virStorageVolUpload(v, st, 0, 0, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM), 1);
    print_int("hand holes: virStreamSendHole", virStreamSendHole(st, 2 * MiB, 0), 1);
    memset(buf, 'x', 1000);
    print_int("hand holes: virStreamSend", virStreamSend(st, buf, 1000), 1);
    print_int("hand holes: virStreamSendHole[to the end]", virStreamSendHole(st, 2 * MiB - 1000, 0),
              1);
    print_int("hand holes: virStreamFinish", virStreamFinish(st), 1);
    virStreamFree(st);
    download(c, v, "hand holes", 0, 0, 1);

    virStorageVolDelete(v, 0);
    virStorageVolFree(v);
}

static void errors(virConnectPtr c, virStoragePoolPtr pool)
{
    char buf[4096];
    section("errors");
    virStorageVolPtr v = make_vol(pool, "err.img", 1);
    if (!v)
        return;
    memset(buf, 'e', sizeof(buf));

    virStreamPtr st = virStreamNew(c, 0);
    print_int("unbound: virStreamSend", virStreamSend(st, buf, 10), 0);
    print_int("unbound: virStreamRecv", virStreamRecv(st, buf, 10), 0);
    print_int("unbound: virStreamRecvFlags", virStreamRecvFlags(st, buf, 10, 0), 0);
    print_int("unbound: virStreamSendHole", virStreamSendHole(st, 10, 0), 0);
    long long hl = 0;
    print_int("unbound: virStreamRecvHole", virStreamRecvHole(st, &hl, 0), 0);
    print_int("unbound: virStreamFinish", virStreamFinish(st), 0);
    print_int("unbound: virStreamAbort", virStreamAbort(st), 0);
    virStreamFree(st);

    /* on a connection of its own: libvirt's client keeps a reference to
     * the stream (and so the connection) when virStreamEventAddCallback
     * fails, ours does not (docs/compat.md): its close is not compared */
    char uri3[4200];
    snprintf(uri3, sizeof(uri3), "storage+unix:///session?socket=%s/user/run/libvirt-sock", g_dir);
    virConnectPtr c3 = virConnectOpen(uri3);
    virStorageVolPtr v3 = virStorageVolLookupByKey(c3, virStorageVolGetKey(v));
    st = virStreamNew(c3, 0);
    print_int("unbound: virStreamEventAddCallback",
              virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE, no_cb, NULL, NULL), 0);
    print_int("unbound: virStreamEventUpdateCallback", virStreamEventUpdateCallback(st, 0), 0);
    print_int("unbound: virStreamEventRemoveCallback", virStreamEventRemoveCallback(st), 0);
    print_int("no loop: virStorageVolDownload", virStorageVolDownload(v3, st, 0, 0, 0), 1);
    print_int("no loop: virStreamEventAddCallback",
              virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE, no_cb, NULL, NULL), 0);
    print_int("no loop: virStreamEventUpdateCallback", virStreamEventUpdateCallback(st, 0), 0);
    print_int("no loop: virStreamEventRemoveCallback", virStreamEventRemoveCallback(st), 0);
    print_int("no loop: virStreamAbort", virStreamAbort(st), 1);
    virStreamFree(st);
    virStorageVolFree(v3);
    virConnectClose(c3);

    /* abort midway through an upload */
    st = virStreamNew(c, 0);
    print_int("abort: virStorageVolUpload", virStorageVolUpload(v, st, 0, 0, 0), 1);
    print_int("abort: virStreamSend", virStreamSend(st, buf, sizeof(buf)), 1);
    print_int("abort: virStreamAbort", virStreamAbort(st), 1);
    print_int("abort: virStreamAbort again", virStreamAbort(st), 0);
    print_int("abort: virStreamSend after", virStreamSend(st, buf, 10), 0);
    print_int("abort: virStreamFinish after", virStreamFinish(st), 0);
    virStreamFree(st);

    /* abort midway through a download */
    st = virStreamNew(c, 0);
    print_int("abort download: virStorageVolDownload", virStorageVolDownload(v, st, 0, 0, 0), 1);
    print_int("abort download: virStreamRecv", virStreamRecv(st, buf, 100), 1);
    print_int("abort download: virStreamAbort", virStreamAbort(st), 1);
    print_int("abort download: virStreamRecv after", virStreamRecv(st, buf, 100), 0);
    virStreamFree(st);

    /* finish twice */
    st = virStreamNew(c, 0);
    print_int("finish twice: virStorageVolUpload", virStorageVolUpload(v, st, 0, 100, 0), 1);
    print_int("finish twice: virStreamSend", virStreamSend(st, buf, 100), 1);
    print_int("finish twice: virStreamFinish", virStreamFinish(st), 1);
    print_int("finish twice: virStreamFinish again", virStreamFinish(st), 0);
    print_int("finish twice: virStreamRecv after", virStreamRecv(st, buf, 10), 0);
    print_int("finish twice: virStreamAbort after", virStreamAbort(st), 0);
    print_int("finish twice: virStorageVolUpload again", virStorageVolUpload(v, st, 0, 100, 0), 1);
    virStreamFree(st);

    /* more data than the upload's length: the daemon's error at finish */
    st = virStreamNew(c, 0);
    print_int("too much: virStorageVolUpload", virStorageVolUpload(v, st, 0, 10, 0), 1);
    print_int("too much: virStreamSend", virStreamSend(st, buf, 100), 1);
    print_int("too much: virStreamFinish", virStreamFinish(st), 1);
    print_int("too much: virStreamFinish again", virStreamFinish(st), 1);
    print_int("too much: virStreamAbort after", virStreamAbort(st), 1);
    virStreamFree(st);

    /* data sent on a download */
    st = virStreamNew(c, 0);
    print_int("send on download: virStorageVolDownload", virStorageVolDownload(v, st, 0, 0, 0), 1);
    print_int("send on download: virStreamSend", virStreamSend(st, buf, 10), 1);
    print_int("send on download: virStreamAbort", virStreamAbort(st), 1);
    virStreamFree(st);

    /* holes on a stream that is not sparse; flags */
    st = virStreamNew(c, 0);
    print_int("not sparse: virStorageVolDownload", virStorageVolDownload(v, st, 0, 1000, 0), 1);
    print_int("not sparse: virStreamSendHole", virStreamSendHole(st, 10, 0), 0);
    print_int("not sparse: virStreamRecvHole", virStreamRecvHole(st, &hl, 0), 0);
    print_int("not sparse: virStreamRecvHole[flags]", virStreamRecvHole(st, &hl, 1), 0);
    print_int("not sparse: virStreamRecvFlags[unknown flag]", virStreamRecvFlags(st, buf, 10, 4),
              0);
    print_int("not sparse: virStreamRecvFlags[STOP_AT_HOLE]",
              virStreamRecvFlags(st, buf, 1000, VIR_STREAM_RECV_STOP_AT_HOLE), 0);
    print_int("not sparse: virStreamFinish", virStreamFinish(st), 1);
    virStreamFree(st);

    /* handlers failing: the helpers abort the stream */
    st = virStreamNew(c, 0);
    print_int("source fails: virStorageVolUpload", virStorageVolUpload(v, st, 0, 0, 0), 1);
    src s = {0, MiB, 300000};
    print_int("source fails: virStreamSendAll", virStreamSendAll(st, src_cb, &s), 0);
    print_int("source fails: virStreamFinish after", virStreamFinish(st), 0);
    virStreamFree(st);
    st = virStreamNew(c, 0);
    print_int("sink fails: virStorageVolDownload", virStorageVolDownload(v, st, 0, 0, 0), 1);
    sink k;
    sink_init(&k);
    k.fail_after = 1;
    errno = 0;
    print_int("sink fails: virStreamRecvAll", virStreamRecvAll(st, sink_cb, &k), 0);
    print_int("sink fails: virStreamRecv after", virStreamRecv(st, buf, 10), 0);
    virStreamFree(st);
    st = virStreamNew(c, 0);
    print_int("sparse sink fails: virStorageVolDownload",
              virStorageVolDownload(v, st, 0, 0, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM), 1);
    sink_init(&k);
    k.fail_after = 0;
    print_int("sparse sink fails: virStreamSparseRecvAll",
              virStreamSparseRecvAll(st, sink_cb, sink_hole_cb, &k), 0);
    virStreamFree(st);

    /* non-blocking streams and the helpers */
    st = virStreamNew(c, VIR_STREAM_NONBLOCK);
    print_int("nonblock: virStorageVolDownload", virStorageVolDownload(v, st, 0, 0, 0), 1);
    print_int("nonblock: virStreamRecvAll", virStreamRecvAll(st, sink_cb, &k), 0);
    print_int("nonblock: virStreamSendAll", virStreamSendAll(st, src_cb, &s), 0);
    virStreamFree(st);

    /* arguments */
    print_int("virStreamSend[NULL stream]", virStreamSend(NULL, buf, 1), 0);
    print_int("virStreamFree[NULL]", virStreamFree(NULL), 0);
    print_int("virStreamRef[NULL]", virStreamRef(NULL), 0);
    printf("virStreamNew[NULL conn]: %s\n", virStreamNew(NULL, 0) ? "stream" : "NULL");
    print_err("virStreamNew[NULL conn]", 0);
    st = virStreamNew(c, 0);
    print_int("virStreamSend[NULL data]", virStreamSend(st, NULL, 1), 0);
    print_int("virStreamRecv[NULL data]", virStreamRecv(st, NULL, 1), 0);
    print_int("virStreamRecvHole[NULL length]", virStreamRecvHole(st, NULL, 0), 0);
    print_int("virStreamSendAll[NULL handler]", virStreamSendAll(st, NULL, NULL), 0);
    print_int("virStreamSparseSendAll[NULL hole handler]",
              virStreamSparseSendAll(st, src_cb, NULL, NULL, NULL), 0);
    print_int("virStorageVolUpload[NULL stream]", virStorageVolUpload(v, NULL, 0, 0, 0), 0);
    print_int("virStorageVolDownload[NULL vol]", virStorageVolDownload(NULL, st, 0, 0, 0), 0);
    virStreamFree(st);

    /* references: the stream holds its connection */
    char uri[4200];
    snprintf(uri, sizeof(uri), "storage+unix:///session?socket=%s/user/run/libvirt-sock", g_dir);
    virConnectPtr c2 = virConnectOpen(uri);
    st = virStreamNew(c2, 0);
    print_int("a stream of another connection: virStorageVolUpload",
              virStorageVolUpload(v, st, 0, 0, 0), 0);
    print_int("virStreamRef", virStreamRef(st), 0);
    print_int("virConnectClose[with a stream]", virConnectClose(c2), 0);
    print_int("virStreamFree[1]", virStreamFree(st), 0);
    print_int("virStreamFree[2]", virStreamFree(st), 0);

    virStorageVolDelete(v, 0);
    virStorageVolFree(v);
}

int main(void)
{
    const char *d = getenv("VRPC_DIFF_DIR");
    char uri[4200], xml[8400];
    if (!d) {
        fprintf(stderr, "VRPC_DIFF_DIR is not set\n");
        return 2;
    }
    snprintf(g_dir, sizeof(g_dir), "%s", d);
    snprintf(uri, sizeof(uri), "storage+unix:///session?socket=%s/user/run/libvirt-sock", d);
    virSetErrorFunc(&g_handled, quiet);

    section("open");
    virConnectPtr c = virConnectOpen(uri);
    if (!c) {
        print_err("virConnectOpen", 0);
        return 1;
    }
    snprintf(xml, sizeof(xml),
             "<pool type='dir'><name>streams</name><target><path>%s/user/pool/streams</path>"
             "</target></pool>",
             d);
    virStoragePoolPtr pool = virStoragePoolCreateXML(c, xml, VIR_STORAGE_POOL_CREATE_WITH_BUILD);
    if (!pool) {
        print_err("virStoragePoolCreateXML", 1);
        return 1;
    }
    printf("pool: created\n");

    plain(c, pool);
    sparse(c, pool);
    errors(c, pool);

    section("close");
    print_int("virStoragePoolDestroy", virStoragePoolDestroy(pool), 1);
    virStoragePoolFree(pool);
    printf("errors seen by the global handler: %d\n", g_handled);
    print_int("virConnectClose", virConnectClose(c), 0);

    const char *maps = getenv("VRPC_DIFF_MAPS");
    if (maps) {
        FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(maps, "w");
        char line[4096];
        while (in && out && fgets(line, sizeof(line), in))
            if (strstr(line, "/libvirt") && strstr(line, ".so"))
                fputs(strrchr(line, ' ') + 1, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    return 0;
}
