/* SPDX-License-Identifier: MIT */
/*
 * Streams and file-descriptor passing against a scripted fake daemon on a
 * socketpair: packets before and after the reply, chunking, finish and
 * abort confirmations, daemon errors on the next operation, holes both
 * ways, bounded buffering (the socket is not read while a stream is full,
 * other calls still complete, the hard limit aborts the stream), a peer
 * that hangs up under blocked readers and writers; CALL_WITH_FDS and
 * REPLY_WITH_FDS with carriers one sendmsg each, late carriers, discarded
 * calls, a carrier without a descriptor, transports without fd passing —
 * and no descriptor left behind.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "alloc.h"
#include "message.h"
#include "testlib.h"

/* ---- the fake daemon ---- */

typedef struct pkt {
    vrpc_msg_header h;
    uint8_t *payload; /* malloc'd */
    size_t len;
} pkt;

typedef struct fake fake;
typedef void (*script_fn)(fake *f);

struct fake {
    int fd; /* the daemon's end */
    pthread_t thr;
    script_fn script;
    atomic_size_t written; /* stream bytes written so far */
    atomic_int stop;
    atomic_int step;
    int rc; /* what the script wants the test to know */
    uint32_t stream_serial;
};

static int srv_read(fake *f, pkt *p)
{
    uint8_t lenb[4];
    uint32_t total;
    uint8_t *buf;
    memset(p, 0, sizeof(*p));
    if (tl_read_full(f->fd, lenb, 4))
        return -1;
    total = vrpc_get_u32(lenb);
    if (total < VRPC_MSG_PACKET_MIN || total > VRPC_MSG_PACKET_MAX)
        return -1;
    buf = malloc(total - 4);
    if (!buf || tl_read_full(f->fd, buf, total - 4)) {
        free(buf);
        return -1;
    }
    vrpc_msg_header_get(buf, &p->h);
    p->len = total - 4 - VRPC_HEADER_SIZE;
    p->payload = malloc(p->len + 1);
    memcpy(p->payload, buf + VRPC_HEADER_SIZE, p->len);
    free(buf);
    return 0;
}

static void pkt_free(pkt *p)
{
    free(p->payload);
    p->payload = NULL;
}

static int srv_send(fake *f, const vrpc_msg_header *h, const void *payload, size_t len)
{
    uint8_t *b = malloc(VRPC_MSG_PACKET_MIN + len);
    int rc;
    vrpc_put_u32(b, (uint32_t)(VRPC_MSG_PACKET_MIN + len));
    vrpc_msg_header_put(b + 4, h);
    if (len)
        memcpy(b + VRPC_MSG_PACKET_MIN, payload, len);
    rc = tl_send_full(f->fd, b, VRPC_MSG_PACKET_MIN + len);
    free(b);
    return rc;
}

/* A header like p's with another type and status. */
static vrpc_msg_header like(const pkt *p, int32_t type, int32_t status)
{
    vrpc_msg_header h = p->h;
    h.type = type;
    h.status = status;
    return h;
}

static int srv_send_fd(fake *f, int fd)
{
    return tl_send_fd(f->fd, fd);
}

static int srv_recv_fd(fake *f)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    char carrier;
    struct iovec iov = {.iov_base = &carrier, .iov_len = 1};
    struct msghdr msg;
    struct cmsghdr *c;
    int fd = -1;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    if (recvmsg(f->fd, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/* An XDR remote_error with code, domain and message. */
static size_t make_error(uint8_t *b, int32_t code, int32_t domain, const char *msg)
{
    size_t n = strlen(msg), off = 0, k;
    vrpc_put_u32(b + off, (uint32_t)code);
    vrpc_put_u32(b + off + 4, (uint32_t)domain);
    vrpc_put_u32(b + off + 8, 1);
    vrpc_put_u32(b + off + 12, (uint32_t)n);
    off = 16;
    memcpy(b + off, msg, n);
    off += n;
    while (off % 4)
        b[off++] = 0;
    vrpc_put_u32(b + off, 2); /* level */
    off += 4;
    for (k = 0; k < 4; k++, off += 4)
        vrpc_put_u32(b + off, 0); /* dom, str1, str2, str3 */
    vrpc_put_u32(b + off, 0);
    vrpc_put_u32(b + off + 4, 0);
    vrpc_put_u32(b + off + 8, 0); /* int1, int2, net */
    return off + 12;
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    f->script(f);
    return NULL;
}

static vrpc_conn *fake_start(fake *f, script_fn script)
{
    int sv[2];
    vrpc_conn *c = NULL;
    memset(f, 0, sizeof(*f));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return NULL;
    f->fd = sv[0];
    f->script = script;
    if (vrpc_conn_new_fd(&c, sv[1]) != 0) {
        close(sv[0]);
        return NULL;
    }
    pthread_create(&f->thr, NULL, fake_main, f);
    return c;
}

static void fake_end(fake *f, vrpc_conn *c)
{
    atomic_store(&f->stop, 1);
    shutdown(f->fd, SHUT_RDWR);
    vrpc_conn_close(c);
    pthread_join(f->thr, NULL);
    close(f->fd);
}

/* The storage volume of the stream calls (never looked at by the fake). */
static vrpc_nonnull_storage_vol test_vol(void)
{
    vrpc_nonnull_storage_vol v;
    memset(&v, 0, sizeof(v));
    v.pool = (char *)"p";
    v.name = (char *)"v";
    v.key = (char *)"k";
    return v;
}

static int open_download(vrpc_conn *c, bool sparse, vrpc_stream **st, vrpc_error **e)
{
    vrpc_storage_vol_download_args a;
    memset(&a, 0, sizeof(a));
    a.vol = test_vol();
    a.flags = sparse ? VRPC_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0;
    return VRPC_STREAM_CALL(c, storage_vol_download, &a, NULL, st, e);
}

static int open_upload(vrpc_conn *c, bool sparse, vrpc_stream **st, vrpc_error **e)
{
    vrpc_storage_vol_upload_args a;
    memset(&a, 0, sizeof(a));
    a.vol = test_vol();
    a.flags = sparse ? VRPC_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0;
    return vrpc_stream_call(c, &vrpc_pd_storage_vol_upload, &a, NULL, st, e);
}

/* A byte of the test pattern at offset i. */
static uint8_t pat(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

/* ---- S1: data before and after the reply, EOF, finish ---- */

static void script_order(fake *f)
{
    pkt p, q;
    uint8_t data[100];
    vrpc_msg_header h;
    size_t i;
    if (srv_read(f, &p))
        return;
    f->stream_serial = p.h.serial;
    for (i = 0; i < sizeof(data); i++)
        data[i] = pat(i);
    /* Data before the reply (libvirtd may do that), then the reply, then more. */
    h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE);
    srv_send(f, &h, data, 40);
    h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
    srv_send(f, &h, NULL, 0);
    h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE);
    srv_send(f, &h, data + 40, 60);
    srv_send(f, &h, NULL, 0); /* EOF */
    /* finish: STREAM/OK from the client, confirmed with STREAM/OK */
    if (srv_read(f, &q) == 0) {
        f->rc = q.h.type == VRPC_MSG_STREAM && q.h.status == VRPC_MSG_OK &&
                q.h.serial == p.h.serial && q.len == 0;
        h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_OK);
        srv_send(f, &h, NULL, 0);
        pkt_free(&q);
    }
    pkt_free(&p);
    while (srv_read(f, &q) == 0)
        pkt_free(&q);
}

static void test_order(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_order);
    vrpc_stream *st = NULL;
    vrpc_error *e = NULL;
    uint8_t buf[256];
    size_t got = 0;
    bool same = true;
    int rc;
    ssize_t n;

    rc = open_download(c, false, &st, &e);
    TAP_OK(rc == 0 && st, "S1: a stream call returns a stream");
    TAP_OK(vrpc_stream_serial(st) == f.stream_serial, "S1: the stream has the call's serial");
    while ((n = vrpc_stream_recv(st, buf + got, 7, 0, &e)) > 0)
        got += (size_t)n;
    for (size_t i = 0; i < got; i++)
        same = same && buf[i] == pat(i);
    TAP_OK(n == 0 && got == 100 && same,
           "S1: data sent before and after the reply arrives whole and in order, then EOF");
    TAP_OK(vrpc_stream_recv(st, buf, 7, 0, NULL) == 0, "S1: EOF again after EOF");
    rc = vrpc_stream_finish(st, &e);
    TAP_OK(rc == 0, "S1: finish is confirmed");
    TAP_OK(vrpc_stream_recv(st, buf, 7, 0, NULL) < 0, "S1: no receive after finish");
    vrpc_stream_free(st);
    fake_end(&f, c);
    TAP_OK(f.rc == 1, "S1: the daemon saw STREAM/OK with the stream's serial, empty");
    vrpc_free(e);
}

/* ---- S2: chunking of uploads, abort confirmation ---- */

static void script_upload(fake *f)
{
    pkt p, q;
    vrpc_msg_header h;
    size_t total = 0, maxlen = 0, n = 0;
    bool ok = true;
    if (srv_read(f, &p))
        return;
    h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
    srv_send(f, &h, NULL, 0);
    while (srv_read(f, &q) == 0) {
        if (q.h.type == VRPC_MSG_STREAM && q.h.status == VRPC_MSG_CONTINUE) {
            for (size_t i = 0; i < q.len; i++)
                ok = ok && q.payload[i] == pat(total + i);
            total += q.len;
            if (q.len > maxlen)
                maxlen = q.len;
            n++;
        } else if (q.h.type == VRPC_MSG_STREAM && q.h.status == VRPC_MSG_ERROR) {
            h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_OK); /* abort confirmed */
            srv_send(f, &h, NULL, 0);
            f->rc = ok && total == 1000000 && maxlen == VRPC_STREAM_CHUNK && n == 4 ? 1 : 0;
        }
        pkt_free(&q);
    }
    pkt_free(&p);
}

static void test_upload_chunks(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_upload);
    vrpc_stream *st = NULL;
    uint8_t *buf = malloc(1000000);
    int rc;
    ssize_t n;

    for (size_t i = 0; i < 1000000; i++)
        buf[i] = pat(i);
    rc = open_upload(c, false, &st, NULL);
    n = vrpc_stream_send(st, buf, 1000000, 0, NULL);
    TAP_OK(rc == 0 && n == 1000000, "S2: a blocking send takes 1000000 bytes");
    TAP_OK(vrpc_stream_send_hole(st, 4096, 0, NULL) == VRPC_E_INVALID,
           "S2: no holes on a stream opened without its sparse flag");
    rc = vrpc_stream_abort(st, NULL);
    TAP_OK(rc == 0, "S2: abort is confirmed");
    TAP_OK(vrpc_stream_send(st, buf, 10, 0, NULL) < 0, "S2: no send after abort");
    vrpc_stream_free(st);
    fake_end(&f, c);
    TAP_OK(f.rc == 1, "S2: the daemon got the bytes in packets of at most %u bytes, then abort",
           VRPC_STREAM_CHUNK);
    free(buf);
}

/* ---- S3: daemon errors, on the next operation ---- */

static void script_errors(fake *f)
{
    pkt p, q;
    vrpc_msg_header h;
    uint8_t eb[256];
    size_t el;
    if (srv_read(f, &p))
        return;
    h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
    srv_send(f, &h, NULL, 0);
    h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE);
    srv_send(f, &h, "abc", 3);
    el = make_error(eb, 38, 18, "Unable to write: No space left on device");
    h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_ERROR);
    srv_send(f, &h, eb, el);
    /* A second stream whose hole fails: libvirtd answers with a REPLY. */
    pkt_free(&p);
    if (srv_read(f, &p))
        return;
    h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
    srv_send(f, &h, NULL, 0);
    while (srv_read(f, &q) == 0) {
        if (q.h.type == VRPC_MSG_STREAM_HOLE) {
            f->rc =
                q.len == 12 && vrpc_get_u64(q.payload) == 12345 && vrpc_get_u32(q.payload + 8) == 0;
            el = make_error(eb, 1, 38, "hole refused");
            h = like(&q, VRPC_MSG_REPLY, VRPC_MSG_ERROR);
            srv_send(f, &h, eb, el);
        }
        pkt_free(&q);
    }
    pkt_free(&p);
}

static void test_errors(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_errors);
    vrpc_stream *st = NULL, *st2 = NULL;
    vrpc_error *e = NULL;
    uint8_t buf[16];
    int rc;
    ssize_t n;

    open_download(c, false, &st, NULL);
    /* "abc" first, unless the error was read with it (then it wins at once). */
    while ((n = vrpc_stream_recv(st, buf, sizeof(buf), 0, &e)) > 0)
        ;
    TAP_OK(n == VRPC_E_REMOTE && e && e->code == 38 && e->domain == 18 && e->message &&
               strstr(e->message, "No space left"),
           "S3: the daemon's stream error comes with the next operation, every field");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_stream_finish(st, &e);
    TAP_OK(rc == VRPC_E_REMOTE && e && e->code == 38, "S3: ... and again with finish");
    vrpc_free(e);
    e = NULL;
    TAP_OK(vrpc_stream_abort(st, NULL) == VRPC_E_REMOTE,
           "S3: abort after a daemon error reports it");
    vrpc_stream_free(st);

    open_upload(c, true, &st2, NULL);
    TAP_OK(vrpc_stream_is_sparse(st2), "S3: the sparse flag of the upload makes a sparse stream");
    rc = vrpc_stream_send_hole(st2, 12345, 0, &e);
    TAP_OK(rc == 0, "S3: send_hole");
    rc = vrpc_stream_wait_readable(st2, 5 * VRPC_USEC_PER_SEC);
    n = vrpc_stream_send(st2, "x", 1, 0, &e);
    TAP_OK(rc == 1 && n == VRPC_E_REMOTE && e && e->message &&
               strcmp(e->message, "hole refused") == 0,
           "S3: a REPLY/ERROR with the stream's serial is the stream's error");
    vrpc_free(e);
    e = NULL;
    TAP_OK(vrpc_conn_get_status(c) == 0, "S3: the connection goes on");
    vrpc_stream_free(st2);
    fake_end(&f, c);
    TAP_OK(f.rc == 1, "S3: the daemon got a 12-byte STREAM_HOLE {12345, 0}");
}

/* ---- S4: holes from the daemon ---- */

static void script_holes(fake *f)
{
    pkt p;
    vrpc_msg_header h;
    uint8_t hb[12];
    while (srv_read(f, &p) == 0) {
        if (p.h.type == VRPC_MSG_STREAM && p.h.status == VRPC_MSG_ERROR)
            f->rc++; /* the library aborts the stream with the bad hole */
        if (p.h.type == VRPC_MSG_STREAM && p.h.status != VRPC_MSG_CONTINUE) {
            h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_OK);
            srv_send(f, &h, NULL, 0);
        }
        if (p.h.type != VRPC_MSG_CALL) {
            pkt_free(&p);
            continue;
        }
        h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
        srv_send(f, &h, NULL, 0);
        h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE);
        srv_send(f, &h, "data", 4);
        vrpc_put_u64(hb, 10);
        vrpc_put_u32(hb + 8, 0);
        h = like(&p, VRPC_MSG_STREAM_HOLE, VRPC_MSG_CONTINUE);
        srv_send(f, &h, hb, 12);
        vrpc_put_u64(hb, 5);
        srv_send(f, &h, hb, 12); /* two holes in a row */
        h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE);
        srv_send(f, &h, "end", 3);
        srv_send(f, &h, NULL, 0);
        pkt_free(&p);
    }
}

static void test_holes(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_holes);
    vrpc_stream *st = NULL;
    vrpc_error *e = NULL;
    uint8_t buf[64];
    uint64_t hole = 0;
    ssize_t n;
    char seq[128] = "";
    int len = 0;

    open_download(c, true, &st, NULL);
    while ((n = vrpc_stream_recv_sparse(st, buf, sizeof(buf), &hole, 0, &e)) > 0 || hole) {
        if (n > 0)
            len += snprintf(seq + len, sizeof(seq) - (size_t)len, "[%.*s]", (int)n, (char *)buf);
        else
            len +=
                snprintf(seq + len, sizeof(seq) - (size_t)len, "(%llu)", (unsigned long long)hole);
    }
    /* Two holes in a row are merged when both are buffered before the read. */
    TAP_OK(n == 0 &&
               (strcmp(seq, "[data](15)[end]") == 0 || strcmp(seq, "[data](10)(5)[end]") == 0),
           "S4: recv_sparse: data, holes of 15 bytes, data, EOF: %s", seq);
    vrpc_stream_finish(st, NULL);
    vrpc_stream_free(st);

    open_download(c, true, &st, NULL);
    {
        uint8_t all[64];
        size_t got = 0;
        while ((n = vrpc_stream_recv(st, all + got, 6, 0, NULL)) > 0)
            got += (size_t)n;
        TAP_OK(got == 22 && memcmp(all, "data", 4) == 0 &&
                   memcmp(all + 4, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0 &&
                   memcmp(all + 19, "end", 3) == 0,
               "S4: plain recv returns a hole as zeros (%zu bytes)", got);
    }
    vrpc_stream_finish(st, NULL);
    vrpc_stream_free(st);

    open_download(c, false, &st, NULL);
    n = vrpc_stream_recv(st, buf, sizeof(buf), 0, NULL);
    n = vrpc_stream_recv(st, buf, sizeof(buf), 0, &e);
    TAP_OK(n == VRPC_E_PROTO && e && e->message && strstr(e->message, "Unexpected stream hole"),
           "S4: a hole on a stream that is not sparse fails the stream");
    vrpc_free(e);
    e = NULL;
    vrpc_stream_free(st);
    fake_end(&f, c);
    TAP_OK(f.rc == 1, "S4: ... and the library aborted it on the daemon");
}

/* ---- S5: bounded buffering ---- */

/* Send stream data as fast as the socket takes it; answer calls. */
typedef struct flood {
    fake *f;
    pkt call;
} flood;

static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;

static int srv_send_locked(fake *f, const vrpc_msg_header *h, const void *pl, size_t len)
{
    int rc;
    pthread_mutex_lock(&send_lock);
    rc = srv_send(f, h, pl, len);
    pthread_mutex_unlock(&send_lock);
    return rc;
}

static void *flood_reader(void *arg)
{
    fake *f = arg;
    pkt q;
    vrpc_msg_header h;
    while (srv_read(f, &q) == 0) {
        if (q.h.type == VRPC_MSG_CALL) {
            /* connect_get_lib_version: a hyper */
            uint8_t r[8];
            vrpc_put_u64(r, 9000000);
            h = like(&q, VRPC_MSG_REPLY, VRPC_MSG_OK);
            srv_send_locked(f, &h, r, 8);
        } else if (q.h.type == VRPC_MSG_STREAM && q.h.status == VRPC_MSG_ERROR) {
            atomic_store(&f->step, 2); /* the library aborted the stream */
            h = like(&q, VRPC_MSG_STREAM, VRPC_MSG_OK);
            srv_send_locked(f, &h, NULL, 0);
        } else if (q.h.type == VRPC_MSG_STREAM && q.h.status == VRPC_MSG_OK) {
            h = like(&q, VRPC_MSG_STREAM, VRPC_MSG_OK);
            srv_send_locked(f, &h, NULL, 0);
        }
        pkt_free(&q);
    }
    atomic_store(&f->stop, 1);
    return NULL;
}

static void script_flood(fake *f)
{
    pkt p;
    vrpc_msg_header h;
    pthread_t rd;
    uint8_t *chunk = malloc(VRPC_STREAM_CHUNK);
    size_t total = (size_t)48 << 20, sent = 0;

    if (srv_read(f, &p))
        return;
    h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
    srv_send(f, &h, NULL, 0);
    pthread_create(&rd, NULL, flood_reader, f);
    h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE);
    while (sent < total && !atomic_load(&f->stop)) {
        size_t n = total - sent < VRPC_STREAM_CHUNK ? total - sent : VRPC_STREAM_CHUNK;
        for (size_t i = 0; i < n; i++)
            chunk[i] = pat(sent + i);
        if (srv_send_locked(f, &h, chunk, n))
            break;
        sent += n;
        atomic_store(&f->written, sent);
    }
    if (sent == total)
        srv_send_locked(f, &h, NULL, 0);
    pthread_join(rd, NULL);
    pkt_free(&p);
    free(chunk);
}

typedef struct caller {
    vrpc_conn *c;
    int ok, n;
    int64_t worst_ms;
} caller;

static void *call_some(void *arg)
{
    caller *k = arg;
    for (int i = 0; i < k->n; i++) {
        vrpc_connect_get_lib_version_ret *r = NULL;
        int64_t t0 = tl_now_ms(), dt;
        if (vrpc_connect_get_lib_version(k->c, &r, NULL) == 0 && r->lib_ver == 9000000)
            k->ok++;
        dt = tl_now_ms() - t0;
        if (dt > k->worst_ms)
            k->worst_ms = dt;
        vrpc_free(r);
    }
    return NULL;
}

static void test_backpressure(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_flood);
    vrpc_stream *st = NULL;
    uint8_t *buf = malloc(VRPC_STREAM_CHUNK);
    size_t w1, w2, b1, got = 0;
    caller k = {c, 0, 20, 0};
    pthread_t t;
    bool same = true;
    ssize_t n;

    open_download(c, false, &st, NULL);
    /* Nobody reads: the fake daemon can only write what fits. */
    vrpc_conn_process(c);
    for (int i = 0; i < 50; i++) {
        vrpc_conn_process(c);
        tl_sleep_ms(10);
    }
    w1 = atomic_load(&f.written);
    b1 = vrpc_stream_buffered(st);
    tl_sleep_ms(300);
    vrpc_conn_process(c);
    w2 = atomic_load(&f.written);
    TAP_OK(b1 >= VRPC_STREAM_BUFFER_SOFT && b1 < VRPC_STREAM_BUFFER_SOFT + 2 * VRPC_STREAM_CHUNK,
           "S5: a stream nobody reads buffers up to its soft limit (%zu bytes)", b1);
    TAP_OK(w2 == w1 && w2 < ((size_t)24 << 20),
           "S5: then the socket is not read: the daemon is held at %zu of 48 MiB", w2);
    /* Calls still complete, although their replies are behind stream data. */
    pthread_create(&t, NULL, call_some, &k);
    pthread_join(t, NULL);
    TAP_OK(k.ok == 20 && k.worst_ms < 2000, "S5: 20 calls complete meanwhile (slowest %lld ms)",
           (long long)k.worst_ms);
    b1 = vrpc_stream_buffered(st);
    TAP_OK(b1 <= VRPC_STREAM_BUFFER_HARD,
           "S5: the stream's buffer stays under its hard limit (%zu)", b1);
    /* Read everything: the pattern is intact. */
    while ((n = vrpc_stream_recv(st, buf, VRPC_STREAM_CHUNK, 0, NULL)) > 0) {
        for (ssize_t i = 0; i < n && same; i++)
            same = buf[i] == pat(got + (size_t)i);
        got += (size_t)n;
    }
    TAP_OK(n == 0 && got == ((size_t)48 << 20) && same,
           "S5: all 48 MiB arrive intact once the reader reads (%zu)", got);
    TAP_OK(vrpc_stream_ready(st) & VRPC_STREAM_EVENT_READABLE,
           "S5: ready: readable at the end of the data (%d)", vrpc_stream_ready(st));
    TAP_OK(vrpc_stream_finish(st, NULL) == 0, "S5: finish");
    TAP_OK(vrpc_stream_ready(st) == (VRPC_STREAM_EVENT_READABLE | VRPC_STREAM_EVENT_WRITABLE),
           "S5: ready: both once finished (operations fail at once) (%d)", vrpc_stream_ready(st));
    vrpc_stream_free(st);
    fake_end(&f, c);
    free(buf);
}

static void test_hard_limit(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_flood);
    vrpc_stream *st = NULL;
    vrpc_error *e = NULL;
    uint8_t buf[64];
    caller k = {c, 0, 400, 0};
    int64_t t0;
    ssize_t n;

    open_download(c, false, &st, NULL);
    TAP_OK(vrpc_stream_set_buffer(st, 1, 2) == VRPC_E_INVALID, "S6: limits are checked");
    vrpc_stream_set_buffer(st, (size_t)1 << 20, (size_t)3 << 20);
    /* Calls keep the socket busy; the stream is never read. */
    call_some(&k);
    t0 = tl_now_ms();
    while (atomic_load(&f.step) != 2 && tl_now_ms() - t0 < 5000)
        call_some(&(caller){c, 0, 1, 0});
    TAP_OK(k.ok == 400, "S6: 400 calls complete while the stream is not read");
    n = vrpc_stream_recv(st, buf, sizeof(buf), 0, &e);
    TAP_OK(n == VRPC_E_TOO_BIG && e && e->code == VRPC_ERR_OPERATION_ABORTED,
           "S6: past its hard limit the stream fails: %s", e && e->message ? e->message : "?");
    TAP_OK(atomic_load(&f.step) == 2, "S6: ... and the library aborted it on the daemon");
    TAP_OK(vrpc_stream_buffered(st) == 0, "S6: its buffer is released");
    TAP_OK(vrpc_conn_get_status(c) == 0, "S6: the connection goes on");
    vrpc_free(e);
    vrpc_stream_free(st);
    fake_end(&f, c);
}

/* ---- S7: non-blocking receive ---- */

static void script_slow(fake *f)
{
    pkt p, q;
    vrpc_msg_header h;
    if (srv_read(f, &p))
        return;
    h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
    srv_send(f, &h, NULL, 0);
    while (atomic_load(&f->step) == 0 && !atomic_load(&f->stop))
        tl_sleep_ms(5);
    h = like(&p, VRPC_MSG_STREAM, VRPC_MSG_CONTINUE);
    srv_send(f, &h, "late", 4);
    pkt_free(&p);
    while (srv_read(f, &q) == 0) {
        if (q.h.type == VRPC_MSG_STREAM && q.h.status != VRPC_MSG_CONTINUE) {
            h = like(&q, VRPC_MSG_STREAM, VRPC_MSG_OK);
            srv_send(f, &h, NULL, 0);
        }
        pkt_free(&q);
    }
}

static void test_nonblock(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_slow);
    vrpc_stream *st = NULL;
    uint8_t buf[16];
    ssize_t n;
    int rc;

    open_download(c, false, &st, NULL);
    n = vrpc_stream_recv(st, buf, sizeof(buf), VRPC_STREAM_NONBLOCK, NULL);
    TAP_OK(n == VRPC_E_AGAIN, "S7: a non-blocking receive with nothing there: VRPC_E_AGAIN");
    rc = vrpc_stream_wait_readable(st, 100 * VRPC_USEC_PER_MSEC);
    TAP_OK(rc == 0, "S7: wait_readable times out");
    TAP_OK(vrpc_stream_ready(st) == VRPC_STREAM_EVENT_WRITABLE,
           "S7: ready: writable, not readable while nothing is there (%d)", vrpc_stream_ready(st));
    atomic_store(&f.step, 1);
    rc = vrpc_stream_wait_readable(st, 5 * VRPC_USEC_PER_SEC);
    TAP_OK(vrpc_stream_ready(st) == (VRPC_STREAM_EVENT_READABLE | VRPC_STREAM_EVENT_WRITABLE),
           "S7: ready: readable once the data is there (%d)", vrpc_stream_ready(st));
    n = vrpc_stream_recv(st, buf, sizeof(buf), VRPC_STREAM_NONBLOCK, NULL);
    TAP_OK(rc == 1 && n == 4 && memcmp(buf, "late", 4) == 0,
           "S7: wait_readable, then the data without blocking");
    TAP_OK(vrpc_stream_ready(st) == VRPC_STREAM_EVENT_WRITABLE,
           "S7: ready: not readable again once it is taken (%d)", vrpc_stream_ready(st));
    TAP_OK(vrpc_stream_ready(NULL) == 0, "S7: ready of no stream: 0");
    vrpc_stream_free(st); /* aborts: the fake does not confirm, bounded wait */
    fake_end(&f, c);
}

/* ---- S8: the peer hangs up under blocked operations ---- */

typedef struct blocked {
    vrpc_stream *st;
    vrpc_conn *c;
    int rc;
    int64_t at;
} blocked;

static void *blocked_recv(void *arg)
{
    blocked *b = arg;
    uint8_t buf[64];
    ssize_t n;
    while ((n = vrpc_stream_recv(b->st, buf, sizeof(buf), 0, NULL)) > 0)
        ;
    b->rc = (int)n;
    b->at = tl_now_ms();
    return NULL;
}

static void *blocked_send(void *arg)
{
    blocked *b = arg;
    uint8_t *buf = calloc(1, (size_t)1 << 20);
    ssize_t n = 0;
    while (n >= 0)
        n = vrpc_stream_send(b->st, buf, (size_t)1 << 20, 0, NULL);
    b->rc = (int)n;
    b->at = tl_now_ms();
    free(buf);
    return NULL;
}

static void *blocked_call(void *arg)
{
    blocked *b = arg;
    b->rc = vrpc_connect_get_lib_version(b->c, NULL, NULL);
    b->at = tl_now_ms();
    return NULL;
}

static void script_hangup(fake *f)
{
    pkt p;
    vrpc_msg_header h;
    for (int i = 0; i < 2; i++) {
        if (srv_read(f, &p))
            return;
        h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
        srv_send(f, &h, NULL, 0);
        pkt_free(&p);
    }
    /* Now never read again (the uploader's sends fill the socket), then die. */
    while (atomic_load(&f->step) == 0)
        tl_sleep_ms(5);
    shutdown(f->fd, SHUT_RDWR);
}

static void test_hangup(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_hangup);
    blocked r = {0}, s = {0}, k = {0};
    pthread_t t1, t2, t3;
    int64_t t0;

    open_download(c, false, &r.st, NULL);
    open_upload(c, false, &s.st, NULL);
    k.c = c;
    pthread_create(&t1, NULL, blocked_recv, &r);
    pthread_create(&t2, NULL, blocked_send, &s);
    pthread_create(&t3, NULL, blocked_call, &k);
    tl_sleep_ms(300);
    t0 = tl_now_ms();
    atomic_store(&f.step, 1);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_join(t3, NULL);
    TAP_OK(r.rc < 0 && s.rc < 0 && k.rc < 0,
           "S8: a hang-up fails the blocked receive (%d), send (%d) and call (%d)", r.rc, s.rc,
           k.rc);
    TAP_OK(r.at - t0 < 2000 && s.at - t0 < 2000 && k.at - t0 < 2000,
           "S8: ... at once (%lld, %lld, %lld ms)", (long long)(r.at - t0), (long long)(s.at - t0),
           (long long)(k.at - t0));
    vrpc_stream_free(r.st);
    vrpc_stream_free(s.st);
    fake_end(&f, c);
}

/* ---- S9: a stream left open when the connection closes ---- */

static void script_idle(fake *f)
{
    pkt p;
    vrpc_msg_header h;
    if (srv_read(f, &p))
        return;
    h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_OK);
    srv_send(f, &h, NULL, 0);
    pkt_free(&p);
    while (srv_read(f, &p) == 0)
        pkt_free(&p);
}

static void test_detached(void)
{
    fake f;
    vrpc_conn *c = fake_start(&f, script_idle);
    vrpc_stream *st = NULL;
    uint8_t b[4];
    open_download(c, false, &st, NULL);
    fake_end(&f, c);
    TAP_OK(vrpc_stream_recv(st, b, 4, 0, NULL) == VRPC_E_CLOSED,
           "S9: a stream outliving its connection fails with VRPC_E_CLOSED");
    vrpc_stream_free(st);
}

/* ---- F: file-descriptor passing ---- */

static void script_fds(fake *f)
{
    pkt p;
    vrpc_msg_header h;
    uint8_t r[8];
    int pfd[2][2], in[2];
    struct stat a, b;

    /* F1: two descriptors in, three out, carriers one sendmsg each. */
    if (srv_read(f, &p))
        return;
    f->rc = p.h.type == VRPC_MSG_CALL_WITH_FDS && p.len >= 4 && vrpc_get_u32(p.payload) == 2;
    in[0] = srv_recv_fd(f);
    in[1] = srv_recv_fd(f);
    if (in[0] >= 0 && in[1] >= 0 && fstat(in[0], &a) == 0 && fstat(in[1], &b) == 0)
        f->rc = f->rc && S_ISFIFO(a.st_mode) && S_ISREG(b.st_mode) ? 1 : 0;
    else
        f->rc = 0;
    if (in[0] >= 0)
        write(in[0], "via-fd", 6) < 0 ? (void)0 : (void)0;
    close(in[0]);
    close(in[1]);
    pipe2(pfd[0], O_CLOEXEC);
    pipe2(pfd[1], O_CLOEXEC);
    vrpc_put_u32(r, 3);
    h = like(&p, VRPC_MSG_REPLY_WITH_FDS, VRPC_MSG_OK);
    srv_send(f, &h, r, 4);
    srv_send_fd(f, pfd[0][0]);
    srv_send_fd(f, pfd[1][0]);
    srv_send_fd(f, pfd[1][0]);
    write(pfd[0][1], "one", 3) < 0 ? (void)0 : (void)0;
    write(pfd[1][1], "two", 3) < 0 ? (void)0 : (void)0;
    close(pfd[0][0]);
    close(pfd[0][1]);
    close(pfd[1][0]);
    close(pfd[1][1]);
    pkt_free(&p);

    /* F2: the carriers come late. */
    if (srv_read(f, &p))
        return;
    vrpc_put_u32(r, 1);
    h = like(&p, VRPC_MSG_REPLY_WITH_FDS, VRPC_MSG_OK);
    srv_send(f, &h, r, 4);
    tl_sleep_ms(200);
    pipe2(pfd[0], O_CLOEXEC);
    srv_send_fd(f, pfd[0][0]);
    close(pfd[0][0]);
    close(pfd[0][1]);
    pkt_free(&p);

    /* F3: a discarded call's descriptors. */
    if (srv_read(f, &p))
        return;
    atomic_store(&f->step, 1);
    while (atomic_load(&f->step) != 2)
        tl_sleep_ms(5);
    vrpc_put_u32(r, 2);
    h = like(&p, VRPC_MSG_REPLY_WITH_FDS, VRPC_MSG_OK);
    srv_send(f, &h, r, 4);
    pipe2(pfd[0], O_CLOEXEC);
    srv_send_fd(f, pfd[0][0]);
    srv_send_fd(f, pfd[0][1]);
    close(pfd[0][0]);
    close(pfd[0][1]);
    pkt_free(&p);

    /* F4: an error reply to a call with descriptors. */
    if (srv_read(f, &p))
        return;
    close(srv_recv_fd(f));
    {
        uint8_t eb[128];
        size_t el = make_error(eb, 1, 10, "no graphics");
        h = like(&p, VRPC_MSG_REPLY, VRPC_MSG_ERROR);
        srv_send(f, &h, eb, el);
    }
    pkt_free(&p);

    /* F5: a carrier without its descriptor breaks the connection. */
    if (srv_read(f, &p))
        return;
    vrpc_put_u32(r, 1);
    h = like(&p, VRPC_MSG_REPLY_WITH_FDS, VRPC_MSG_OK);
    srv_send(f, &h, r, 4);
    tl_send_full(f->fd, "", 1);
    pkt_free(&p);
    while (srv_read(f, &p) == 0)
        pkt_free(&p);
}

static void test_fds(void)
{
    fake f;
    vrpc_conn *c;
    vrpc_domain_open_graphics_fd_args ga;
    vrpc_pending *pd = NULL;
    vrpc_error *e = NULL;
    int *out = NULL, pin[2], ffd, base, mid;
    size_t nout = 0;
    char buf[16] = "";
    int rc;
    char tmpl[] = "/tmp/vrpc-fd-XXXXXX";

    base = tl_count_fds();
    c = fake_start(&f, script_fds);
    mid = tl_count_fds();
    memset(&ga, 0, sizeof(ga));
    ga.dom.name = (char *)"d";
    pipe2(pin, O_CLOEXEC);
    ffd = mkstemp(tmpl);
    unlink(tmpl);
    {
        int in[2] = {pin[1], ffd};
        rc = vrpc_call_fds(c, &vrpc_pd_domain_open_graphics_fd, &ga, in, 2, NULL, &out, &nout, &e);
    }
    TAP_OK(rc == 0 && nout == 3, "F1: two descriptors in, three out (rc %d, %zu)", rc, nout);
    TAP_OK(read(pin[0], buf, 6) == 6 && memcmp(buf, "via-fd", 6) == 0,
           "F1: the daemon wrote into the pipe passed to it");
    memset(buf, 0, sizeof(buf));
    TAP_OK(nout == 3 && read(out[0], buf, 3) == 3 && strcmp(buf, "one") == 0 &&
               read(out[1], buf, 3) == 3 && strcmp(buf, "two") == 0,
           "F1: the received descriptors are the daemon's, in order");
    TAP_OK(nout == 3 && (fcntl(out[0], F_GETFD) & FD_CLOEXEC) &&
               (fcntl(out[2], F_GETFD) & FD_CLOEXEC),
           "F1: received descriptors are close-on-exec");
    for (size_t i = 0; i < nout; i++)
        close(out[i]);
    vrpc_free(out);
    close(pin[0]);
    close(pin[1]);
    close(ffd);

    rc = vrpc_call_fds(c, &vrpc_pd_domain_open_graphics_fd, &ga, NULL, 0, NULL, &out, &nout, NULL);
    TAP_OK(rc == 0 && nout == 1, "F2: carriers arriving 200 ms after the reply are waited for");
    if (nout == 1)
        close(out[0]);
    vrpc_free(out);

    vrpc_call_send(c, &vrpc_pd_domain_open_graphics_fd, &ga, &pd, NULL);
    while (atomic_load(&f.step) != 1)
        tl_sleep_ms(5);
    vrpc_call_discard(c, pd);
    atomic_store(&f.step, 2);
    {
        vrpc_connect_get_lib_version_ret *r = NULL;
        int in = 0;
        rc = vrpc_call_fds(c, &vrpc_pd_domain_open_graphics, &ga, &in, 1, NULL, NULL, NULL, &e);
        TAP_OK(rc == VRPC_E_REMOTE && e && e->message && strcmp(e->message, "no graphics") == 0,
               "F4: an error reply to CALL_WITH_FDS");
        vrpc_free(e);
        e = NULL;
        vrpc_free(r);
    }
    TAP_OK(tl_count_fds() == mid, "F3: a discarded call's descriptors are closed (%d fds, %d)",
           tl_count_fds(), mid);
    rc = vrpc_call_fds(c, &vrpc_pd_domain_open_graphics, &ga, (int[]){-5}, 1, NULL, NULL, NULL, &e);
    TAP_OK(rc == VRPC_E_INVALID, "F6: a bad descriptor is refused before sending");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_call_fds(c, &vrpc_pd_domain_open_graphics_fd, &ga, NULL, 0, NULL, &out, &nout, &e);
    TAP_OK(rc == VRPC_E_PROTO && out == NULL && nout == 0,
           "F5: a carrier without a descriptor: protocol error: %s",
           e && e->message ? e->message : "?");
    vrpc_free(e);
    e = NULL;
    fake_end(&f, c);
    TAP_OK(tl_count_fds() == base, "F: no descriptor left open (%d, %d)", tl_count_fds(), base);

    /* A TCP socket has no fd passing: refused before anything is sent. */
    {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t sl = sizeof(sa);
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s, a;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(l, (struct sockaddr *)&sa, sizeof(sa));
        listen(l, 1);
        getsockname(l, (struct sockaddr *)&sa, &sl);
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        connect(s, (struct sockaddr *)&sa, sizeof(sa));
        a = accept(l, NULL, NULL);
        vrpc_conn_new_fd(&c, s);
        rc = vrpc_call_fds(c, &vrpc_pd_domain_open_graphics, &ga, (int[]){0}, 1, NULL, NULL, NULL,
                           &e);
        TAP_OK(rc == VRPC_E_UNSUPPORTED && e && e->message && strstr(e->message, "not supported"),
               "F7: fd passing over TCP: VRPC_E_UNSUPPORTED");
        vrpc_free(e);
        vrpc_conn_close(c);
        close(a);
        close(l);
    }
    TAP_OK(tl_count_fds() == base, "F7: no descriptor left open");
}

/* ---- F8: what the fd-passing design relies on ---- */

/*
 * The transport reads ahead (as much as is there) with recvmsg(); that is
 * safe only because the kernel ends a read at a byte that carries
 * descriptors: bytes before it may come in the same read, never bytes
 * after it, so each descriptor arrives with its own carrier byte.
 */
static void test_kernel_carriers(void)
{
    fake f = {0};
    int sv[2], got[8], ng = 0, fds_seen = 0;
    bool ok = true;
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    f.fd = sv[0];
    tl_send_full(sv[0], "abc", 3);
    srv_send_fd(&f, 0);
    srv_send_fd(&f, 1);
    tl_send_full(sv[0], "tail", 4);
    srv_send_fd(&f, 2);
    tl_send_full(sv[0], "end", 3);
    for (;;) {
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int) * 32)];
        } ctl;
        char buf[64];
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr m;
        struct cmsghdr *h;
        ssize_t n;
        int nf = 0;
        memset(&m, 0, sizeof(m));
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof(ctl.buf);
        n = recvmsg(sv[1], &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n <= 0)
            break;
        for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
            int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
                close(fd);
            }
            nf += k;
        }
        fds_seen += nf;
        if (ng < 8)
            got[ng++] = (int)n * 10 + nf;
        /* A read with a descriptor ends with its carrier (the 0 byte). */
        if (nf > 1 || (nf == 1 && buf[n - 1] != 0))
            ok = false;
    }
    TAP_OK(ok && fds_seen == 3 && ng == 4 && got[0] == 41 && got[1] == 11 && got[2] == 51 &&
               got[3] == 30,
           "F8: the kernel ends a read at a descriptor's carrier byte (reads: %d %d %d %d)", got[0],
           ng > 1 ? got[1] : -1, ng > 2 ? got[2] : -1, ng > 3 ? got[3] : -1);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    int base = tl_count_fds();
    test_order();
    test_upload_chunks();
    test_errors();
    test_holes();
    test_backpressure();
    test_hard_limit();
    test_nonblock();
    test_hangup();
    test_detached();
    test_fds();
    test_kernel_carriers();
    TAP_OK(tl_count_fds() == base, "no descriptor leaked by the whole program (%d, %d)",
           tl_count_fds(), base);
    return tap_done();
}
