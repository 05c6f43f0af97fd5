/* SPDX-License-Identifier: MIT */
/*
 * Streams of the libvirt-compatible library (compat/stream.c) against the
 * private daemons' real storage driver (VRPC_TEST_DIR; skips without):
 * upload and download with their contents checked, sparse ones, streams
 * aborted midway or freed while open, references keeping the connection,
 * and at the end of the run no descriptor, thread or (under ASan) memory
 * left. Linked with compat/'s libvirt.so.0 through libvirt's public
 * headers, as any libvirt program.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the descriptors are checked after the run without a loop (all of them),
 * then after the run with the default loop (all but the loop's own) */
#define TAP_NO_FD_CHECK
#include "../tap.h"

#define MiB (1024 * 1024)

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

static const char *last_err(void)
{
    virErrorPtr e = virGetLastError();
    return e && e->message ? e->message : "no error";
}

static unsigned char pat(size_t i)
{
    return (unsigned char)((i * 7 + (i >> 11)) & 0xff);
}

typedef struct src {
    size_t off, len;
} src;

static int src_cb(virStreamPtr st, char *buf, size_t n, void *opaque)
{
    src *s = opaque;
    (void)st;
    if (n > s->len - s->off)
        n = s->len - s->off;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)pat(s->off + i);
    s->off += n;
    return (int)n;
}

typedef struct sink {
    size_t got, bad, holes;
} sink;

static int sink_cb(virStreamPtr st, const char *buf, size_t n, void *opaque)
{
    sink *k = opaque;
    (void)st;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] != pat(k->got + i))
            k->bad++;
    k->got += n;
    return (int)n;
}

static int hole_cb(virStreamPtr st, long long len, void *opaque)
{
    sink *k = opaque;
    (void)st;
    k->holes++;
    k->got += (size_t)len;
    return 0;
}

/* A sparse source: data [0, 4096), a hole to 1 MiB, data to 1 MiB + 4096. */
typedef struct ssrc {
    size_t off;
} ssrc;

static int ssrc_read(virStreamPtr st, char *buf, size_t n, void *opaque)
{
    ssrc *s = opaque;
    (void)st;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)pat(s->off + i);
    s->off += n;
    return (int)n;
}

static int ssrc_in_data(virStreamPtr st, int *in_data, long long *len, void *opaque)
{
    ssrc *s = opaque;
    (void)st;
    if (s->off < 4096) {
        *in_data = 1, *len = (long long)(4096 - s->off);
    } else if (s->off < MiB) {
        *in_data = 0, *len = (long long)(MiB - s->off);
    } else if (s->off < MiB + 4096) {
        *in_data = 1, *len = (long long)(MiB + 4096 - s->off);
    } else {
        *in_data = 0, *len = 0;
    }
    return 0;
}

static int ssrc_skip(virStreamPtr st, long long len, void *opaque)
{
    (void)st;
    ((ssrc *)opaque)->off += (size_t)len;
    return 0;
}

/* Two transfers at once on one connection, each in a thread of its own. */
typedef struct job {
    virConnectPtr c;
    virStorageVolPtr v;
    int upload, rc;
    src s;
    sink k;
} job;

static void *job_run(void *arg)
{
    job *j = arg;
    virStreamPtr st = virStreamNew(j->c, 0);
    if (j->upload) {
        j->rc = virStorageVolUpload(j->v, st, 0, 0, 0);
        j->rc = j->rc ? j->rc : virStreamSendAll(st, src_cb, &j->s);
    } else {
        j->rc = virStorageVolDownload(j->v, st, 0, 2 * MiB, 0);
        j->rc = j->rc ? j->rc : virStreamRecvAll(st, sink_cb, &j->k);
    }
    j->rc = j->rc ? j->rc : virStreamFinish(st);
    virStreamFree(st);
    return NULL;
}

static void run(const char *dir)
{
    char uri[4200], xml[8400];
    snprintf(uri, sizeof(uri), "storage+unix:///session?socket=%s/user/run/libvirt-sock", dir);
    virConnectPtr c = virConnectOpen(uri);
    if (!TAP_OK(c, "open the storage daemon (%s)", c ? "ok" : last_err()))
        return;
    snprintf(xml, sizeof(xml),
             "<pool type='dir'><name>cst-%d</name><target><path>%s/user/pool/cst-%d</path>"
             "</target></pool>",
             (int)getpid(), dir, (int)getpid());
    /* defined, so that its directory can be deleted at the end: the
     * daemons' pool directory is shared with other tests */
    virStoragePoolPtr pool = virStoragePoolDefineXML(c, xml, 0);
    if (pool && (virStoragePoolBuild(pool, 0) < 0 || virStoragePoolCreate(pool, 0) < 0)) {
        virStoragePoolUndefine(pool);
        virStoragePoolFree(pool);
        pool = NULL;
    }
    TAP_OK(pool, "a pool of our own (%s)", pool ? "ok" : last_err());
    virStorageVolPtr v =
        pool ? virStorageVolCreateXML(pool,
                                      "<volume><name>cst.img</name><capacity unit='MiB'>3"
                                      "</capacity><allocation>0</allocation></volume>",
                                      0)
             : NULL;
    TAP_OK(v, "a volume of 3 MiB (%s)", v ? "ok" : last_err());
    if (!v) {
        if (pool) {
            virStoragePoolDestroy(pool);
            virStoragePoolDelete(pool, 0);
            virStoragePoolUndefine(pool);
            virStoragePoolFree(pool);
        }
        virConnectClose(c);
        return;
    }

    /* upload 2 MiB + 1, download it, compare */
    virStreamPtr st = virStreamNew(c, 0);
    src s = {0, 2 * MiB + 1};
    int r = virStorageVolUpload(v, st, 0, 0, 0);
    r = r ? r : virStreamSendAll(st, src_cb, &s);
    r = r ? r : virStreamFinish(st);
    TAP_OK(r == 0 && s.off == s.len, "upload of 2 MiB + 1 with virStreamSendAll (%s)",
           r ? last_err() : "ok");
    virStreamFree(st);
    st = virStreamNew(c, 0);
    sink k = {0, 0, 0};
    r = virStorageVolDownload(v, st, 0, 2 * MiB + 1, 0);
    r = r ? r : virStreamRecvAll(st, sink_cb, &k);
    r = r ? r : virStreamFinish(st);
    TAP_OK(r == 0 && k.got == 2 * MiB + 1 && k.bad == 0,
           "download with virStreamRecvAll: the same bytes (%zu, %zu differ) %s", k.got, k.bad,
           r ? last_err() : "");
    virStreamFree(st);

    /* sparse upload and download, on a volume of its own */
    virStorageVolPtr v2 = virStorageVolCreateXML(pool,
                                                 "<volume><name>cst2.img</name><capacity "
                                                 "unit='MiB'>2</capacity><allocation>0"
                                                 "</allocation></volume>",
                                                 0);
    st = virStreamNew(c, 0);
    ssrc ss = {0};
    r = virStorageVolUpload(v2, st, 0, 0, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM);
    r = r ? r : virStreamSparseSendAll(st, ssrc_read, ssrc_in_data, ssrc_skip, &ss);
    r = r ? r : virStreamFinish(st);
    TAP_OK(r == 0 && ss.off == MiB + 4096, "sparse upload with virStreamSparseSendAll (%s)",
           r ? last_err() : "ok");
    virStreamFree(st);
    st = virStreamNew(c, 0);
    memset(&k, 0, sizeof(k));
    r = virStorageVolDownload(v2, st, 0, MiB + 4096, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM);
    r = r ? r : virStreamSparseRecvAll(st, sink_cb, hole_cb, &k);
    r = r ? r : virStreamFinish(st);
    TAP_OK(r == 0 && k.got == MiB + 4096 && k.holes == 1 && k.bad == 0,
           "sparse download with virStreamSparseRecvAll: %zu bytes, %zu hole (%s)", k.got, k.holes,
           r ? last_err() : "ok");
    virStreamFree(st);
    virStorageVolDelete(v2, 0);
    virStorageVolFree(v2);

    /* a download of v and an upload to a second volume at the same time */
    virStorageVolPtr v3 = virStorageVolCreateXML(pool,
                                                 "<volume><name>cst3.img</name><capacity "
                                                 "unit='MiB'>3</capacity><allocation>0"
                                                 "</allocation></volume>",
                                                 0);
    job jd = {c, v, 0, -1, {0, 0}, {0, 0, 0}}, ju = {c, v3, 1, -1, {0, 3 * MiB}, {0, 0, 0}};
    pthread_t td, tu;
    int started = v3 && pthread_create(&td, NULL, job_run, &jd) == 0;
    if (started && pthread_create(&tu, NULL, job_run, &ju) != 0) {
        pthread_join(td, NULL);
        started = 0;
    }
    if (started) {
        pthread_join(td, NULL);
        pthread_join(tu, NULL);
    }
    TAP_OK(started && jd.rc == 0 && ju.rc == 0 && jd.k.got == 2 * MiB && jd.k.bad == 0 &&
               ju.s.off == 3 * MiB,
           "a download and an upload at once in two threads (%d, %d; %zu bytes, %zu differ)", jd.rc,
           ju.rc, jd.k.got, jd.k.bad);
    if (v3) {
        virStorageVolDelete(v3, 0);
        virStorageVolFree(v3);
    }

    /* aborted midway, freed while open, freed unbound */
    st = virStreamNew(c, 0);
    char buf[65536];
    r = virStorageVolDownload(v, st, 0, 0, 0);
    int n = r ? -1 : virStreamRecv(st, buf, sizeof(buf));
    TAP_OK(n > 0 && virStreamAbort(st) == 0, "a download aborted midway (%d)", n);
    virStreamFree(st);
    st = virStreamNew(c, 0);
    r = virStorageVolUpload(v, st, 0, 0, 0);
    n = r ? -1 : virStreamSend(st, buf, sizeof(buf));
    TAP_OK(n == (int)sizeof(buf), "an upload left open (%d)", n);
    TAP_OK(virStreamFree(st) == 0, "... and freed: it is aborted on the daemon");
    st = virStreamNew(c, VIR_STREAM_NONBLOCK);
    TAP_OK(virStreamFree(st) == 0, "a stream never bound, freed");

    /* the stream keeps the connection: virConnectClose leaves it to the stream */
    st = virStreamNew(c, 0);
    r = virStorageVolDownload(v, st, 0, 100, 0);
    TAP_OK(r == 0 && virStreamRef(st) == 0, "a download with two references");
    virStorageVolDelete(v, 0);
    virStorageVolFree(v);
    virStoragePoolDestroy(pool);
    TAP_OK(virStoragePoolDelete(pool, 0) == 0 && virStoragePoolUndefine(pool) == 0,
           "the pool and its directory are gone (%s)", last_err());
    virStoragePoolFree(pool);
    r = virConnectClose(c);
    TAP_OK(r == 1, "virConnectClose: the stream still holds the connection (%d)", r);
    n = virStreamRecv(st, buf, sizeof(buf));
    TAP_OK(n == 100, "the stream still works after virConnectClose (%d)", n);
    virStreamFree(st);
    TAP_OK(virStreamFinish(st) == 0, "finish after the first of two virStreamFree");
    virStreamFree(st);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* A non-blocking download driven by a READABLE callback on the default
 * event loop. */
typedef struct cbrun {
    sink k;
    int done, calls, freed;
} cbrun;

static void on_readable(virStreamPtr st, int events, void *opaque)
{
    cbrun *r = opaque;
    char buf[65536];
    r->calls++;
    if (!(events & VIR_STREAM_EVENT_READABLE))
        return;
    for (;;) {
        int n = virStreamRecv(st, buf, sizeof(buf));
        if (n == -2)
            return;
        if (n <= 0) {
            virStreamEventRemoveCallback(st);
            if (n == 0)
                virStreamFinish(st);
            r->done = n == 0 ? 1 : -1;
            return;
        }
        sink_cb(st, buf, (size_t)n, &r->k);
    }
}

static void on_free(void *opaque)
{
    ((cbrun *)opaque)->freed++;
}

static void tick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

static void run_loop(const char *dir)
{
    char uri[4200], xml[8400];
    snprintf(uri, sizeof(uri), "storage+unix:///session?socket=%s/user/run/libvirt-sock", dir);
    virConnectPtr c = virConnectOpen(uri);
    if (!TAP_OK(c, "loop: open the storage daemon (%s)", c ? "ok" : last_err()))
        return;
    snprintf(xml, sizeof(xml),
             "<pool type='dir'><name>cstl-%d</name><target><path>%s/user/pool/cstl-%d</path>"
             "</target></pool>",
             (int)getpid(), dir, (int)getpid());
    virStoragePoolPtr pool = virStoragePoolDefineXML(c, xml, 0);
    if (pool && (virStoragePoolBuild(pool, 0) < 0 || virStoragePoolCreate(pool, 0) < 0)) {
        virStoragePoolUndefine(pool);
        virStoragePoolFree(pool);
        pool = NULL;
    }
    virStorageVolPtr v =
        pool ? virStorageVolCreateXML(pool,
                                      "<volume><name>cstl.img</name><capacity unit='MiB'>2"
                                      "</capacity><allocation>0</allocation></volume>",
                                      0)
             : NULL;
    TAP_OK(v, "loop: a pool and a volume (%s)", v ? "ok" : last_err());
    if (v) {
        virStreamPtr st = virStreamNew(c, 0);
        src s = {0, 2 * MiB};
        int r = virStorageVolUpload(v, st, 0, 0, 0);
        r = r ? r : virStreamSendAll(st, src_cb, &s);
        r = r ? r : virStreamFinish(st);
        virStreamFree(st);
        TAP_OK(r == 0, "loop: 2 MiB uploaded (%s)", r ? last_err() : "ok");

        static cbrun cr;
        st = virStreamNew(c, VIR_STREAM_NONBLOCK);
        r = virStorageVolDownload(v, st, 0, 0, 0);
        r = r ? r
              : virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE, on_readable, &cr, on_free);
        TAP_OK(r == 0, "loop: a non-blocking download with a READABLE callback (%s)",
               r ? last_err() : "ok");
        for (int i = 0; r == 0 && !cr.done && i < 20000; i++)
            virEventRunDefaultImpl();
        TAP_OK(cr.done == 1 && cr.k.got == 2 * MiB && cr.k.bad == 0,
               "loop: the callback read all of it (%zu bytes, %zu differ, %d calls)", cr.k.got,
               cr.k.bad, cr.calls);
        TAP_OK(cr.freed == 1, "loop: ff ran once the callback removed itself (%d)", cr.freed);
        virStreamFree(st);
        virStorageVolDelete(v, 0);
        virStorageVolFree(v);
    }
    if (pool) {
        virStoragePoolDestroy(pool);
        virStoragePoolDelete(pool, 0);
        virStoragePoolUndefine(pool);
        virStoragePoolFree(pool);
    }
    int r = virConnectClose(c);
    /* the loop frees the callback's timeout (and its stream reference) on
     * its next iterations */
    for (int i = 0; i < 10; i++)
        virEventRunDefaultImpl();
    TAP_OK(r == 0 || r == 1, "loop: virConnectClose (%d)", r);
}

static void *nothing(void *arg)
{
    return arg;
}

int main(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    int threads0, threads1;

    if (!d) {
        tap_skip("VRPC_TEST_DIR not set: no daemon tests");
        return tap_done();
    }
    virInitialize();
    virSetErrorFunc(NULL, quiet);
    {
        /* a thread started and joined first: ThreadSanitizer's runtime
         * starts a thread of its own with the program's first one */
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) == 0)
            pthread_join(t, NULL);
    }
    threads0 = count_threads();
    run(d);
    /* the last virStreamFree closed the connection: its threads are gone */
    threads1 = count_threads();
    for (int i = 0; i < 100 && threads1 > threads0; i++) {
        usleep(10000);
        threads1 = count_threads();
    }
    TAP_OK(threads1 == threads0, "no thread left after the run (%d, %d at the start)", threads1,
           threads0);
    tap_check_fds_at_exit();

    /* again with stream callbacks on the default event loop: after it,
     * nothing left but what the loop itself keeps */
    if (virEventRegisterDefaultImpl() < 0) {
        tap_skip("no default event loop: %s", last_err());
        return tap_done();
    }
    virEventAddTimeout(100, tick, NULL, NULL); /* iterations end within 100 ms */
    int fds0 = count_fds();
    threads0 = count_threads();
    run_loop(d);
    threads1 = count_threads();
    for (int i = 0; i < 100 && threads1 > threads0; i++) {
        usleep(10000);
        threads1 = count_threads();
    }
    TAP_OK(count_fds() == fds0, "loop: no descriptor left after the run (%d, %d before)",
           count_fds(), fds0);
    TAP_OK(threads1 == threads0, "loop: no thread left after the run (%d, %d before)", threads1,
           threads0);
    return tap_done();
}
