/* SPDX-License-Identifier: MIT */
/*
 * The connection against a scripted fake daemon on a socketpair: reply
 * matching, many threads on one connection, keepalive, sticky errors,
 * discard, non-blocking collection, fd carriers, and no descriptor leaks.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "conn-internal.h"
#include "message.h"
#include "tap.h"

/* ---- test procedures (a private program) ---- */

#define TPROG 0x7e570001u

typedef struct echo_args {
    uint32_t x;
} echo_args;
typedef struct echo_ret {
    uint32_t y;
} echo_ret;
typedef struct blob {
    vrpc_bytes data;
} blob;

static const vrpc_type td_u32 = {.name = "u32", .kind = VRPC_KIND_UINT, .size = 4, .min_wire = 4};
static const vrpc_field x_fields[] = {{"x", &td_u32, 0}};
static const vrpc_field y_fields[] = {{"y", &td_u32, 0}};
static const vrpc_type td_echo_args = {.name = "echo_args",
                                       .kind = VRPC_KIND_STRUCT,
                                       .size = sizeof(echo_args),
                                       .min_wire = 4,
                                       .nfields = 1,
                                       .fields = x_fields};
static const vrpc_type td_echo_ret = {.name = "echo_ret",
                                      .kind = VRPC_KIND_STRUCT,
                                      .size = sizeof(echo_ret),
                                      .min_wire = 4,
                                      .nfields = 1,
                                      .fields = y_fields};
static const vrpc_type td_opq = {.name = "opq",
                                 .kind = VRPC_KIND_OPAQUE_VAR,
                                 .size = sizeof(vrpc_bytes),
                                 .bound = VRPC_UNBOUNDED,
                                 .min_wire = 4};
static const vrpc_field blob_fields[] = {{"data", &td_opq, 0}};
static const vrpc_type td_blob = {.name = "blob",
                                  .kind = VRPC_KIND_STRUCT,
                                  .size = sizeof(blob),
                                  .min_wire = 4,
                                  .nfields = 1,
                                  .fields = blob_fields};

#define PROC(id, num, a, r)                                                                        \
    static const vrpc_proc id = {.name = #id,                                                      \
                                 .program = TPROG,                                                 \
                                 .version = 1,                                                     \
                                 .number = num,                                                    \
                                 .stream_param = -1,                                               \
                                 .args = a,                                                        \
                                 .ret = r}
PROC(pd_echo, 1, &td_echo_args, &td_echo_ret); /* y = 3x + 1 */
PROC(pd_void, 2, NULL, NULL);
PROC(pd_fail, 3, &td_echo_args, &td_echo_ret); /* always an error */
PROC(pd_blob, 4, &td_echo_args, &td_blob);     /* x bytes back */
PROC(pd_sink, 5, &td_blob, NULL);

static uint32_t f3(uint32_t x)
{
    return 3 * x + 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    return n - 1; /* the DIR's own descriptor */
}

/* ---- the fake daemon ---- */

typedef struct srv_pkt {
    vrpc_msg_header h;
    uint8_t *payload;
    size_t len;
} srv_pkt;

typedef struct fake fake;
typedef void (*script_fn)(fake *f);

struct fake {
    int fd;
    pthread_t th;
    script_fn script;
    atomic_int pongs;
    atomic_int calls;
    atomic_llong trigger_ms;
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_cond;
    int gate; /* times the test opened the gate the script waits at */
    void *data;
};

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Read one packet (blocking); -1 at EOF. */
static int srv_read(fake *f, srv_pkt *p)
{
    uint8_t hdr[28];
    uint32_t len;
    if (read_full(f->fd, hdr, 28))
        return -1;
    len = vrpc_get_u32(hdr);
    vrpc_msg_header_get(hdr + 4, &p->h);
    p->len = len - 28;
    p->payload = malloc(p->len + 1);
    if (p->len && read_full(f->fd, p->payload, p->len)) {
        free(p->payload);
        return -1;
    }
    if (p->h.prog == VRPC_MSG_KEEPALIVE_PROG && p->h.proc == VRPC_MSG_KEEPALIVE_PONG)
        atomic_fetch_add(&f->pongs, 1);
    else if (p->h.type == VRPC_MSG_CALL)
        atomic_fetch_add(&f->calls, 1);
    return 0;
}

/* Send a packet with the given header fields and payload. */
static int srv_send(fake *f, uint32_t prog, int32_t proc, int32_t type, uint32_t serial,
                    int32_t status, const void *payload, size_t len)
{
    vrpc_msg_header h = {prog, 1, proc, type, serial, status};
    uint8_t *b = malloc(28 + len);
    int rc;
    vrpc_put_u32(b, (uint32_t)(28 + len));
    vrpc_msg_header_put(b + 4, &h);
    if (len)
        memcpy(b + 28, payload, len);
    rc = write_full(f->fd, b, 28 + len);
    free(b);
    return rc;
}

static int srv_reply(fake *f, const srv_pkt *call, int32_t status, const void *payload, size_t len)
{
    return srv_send(f, call->h.prog, call->h.proc, VRPC_MSG_REPLY, call->h.serial, status, payload,
                    len);
}

/* An error payload with every field set. */
static size_t make_error(uint8_t *b, int32_t code, int32_t domain, const char *msg)
{
    static const uint8_t uuid[16] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xbb};
    size_t n = 0, l;
#define U32(v) (vrpc_put_u32(b + n, (uint32_t)(v)), n += 4)
#define STR(s)                                                                                     \
    (l = strlen(s), U32(l), memcpy(b + n, s, l), n += l, memset(b + n, 0, (4 - l % 4) % 4),        \
     n += (4 - l % 4) % 4)
    U32(code);
    U32(domain);
    U32(1);
    STR(msg);
    U32(2); /* level */
    U32(1); /* dom */
    STR("guest");
    memcpy(b + n, uuid, 16);
    n += 16;
    U32(42);
    U32(1);
    STR("one");
    U32(0); /* str2 absent */
    U32(1);
    STR("three");
    U32(-7);
    U32(123456);
    U32(1); /* net */
    STR("default");
    memcpy(b + n, uuid, 16);
    n += 16;
#undef U32
#undef STR
    return n;
}

/* Answer one call as the test program defines it. */
static void srv_answer(fake *f, const srv_pkt *p)
{
    uint8_t b[512];
    if (p->h.proc == 1 && p->len == 4) {
        vrpc_put_u32(b, f3(vrpc_get_u32(p->payload)));
        srv_reply(f, p, VRPC_MSG_OK, b, 4);
    } else if (p->h.proc == 2 || p->h.proc == 5) {
        srv_reply(f, p, VRPC_MSG_OK, NULL, 0);
    } else if (p->h.proc == 3) {
        size_t n = make_error(b, 42, 10, "Domain not found: no domain with matching name");
        srv_reply(f, p, VRPC_MSG_ERROR, b, n);
    } else if (p->h.proc == 4) {
        uint32_t n = vrpc_get_u32(p->payload), i;
        size_t total = 4 + n + (4 - n % 4) % 4;
        uint8_t *d = calloc(1, total);
        vrpc_put_u32(d, n);
        for (i = 0; i < n; i++)
            d[4 + i] = (uint8_t)(i * 7);
        srv_reply(f, p, VRPC_MSG_OK, d, total);
        free(d);
    } else {
        size_t n = make_error(b, VRPC_ERR_RPC, VRPC_FROM_RPC, "unknown procedure: 99");
        srv_reply(f, p, VRPC_MSG_ERROR, b, n);
    }
}

/* The echo daemon: answers calls in batches, in reverse order of arrival. */
static void script_echo(fake *f)
{
    srv_pkt batch[64];
    int nb = 0, i;
    for (;;) {
        struct pollfd pf = {.fd = f->fd, .events = POLLIN};
        if (nb > 0 && (nb == 64 || poll(&pf, 1, 0) == 0)) {
            for (i = nb - 1; i >= 0; i--) {
                srv_answer(f, &batch[i]);
                free(batch[i].payload);
            }
            nb = 0;
            continue;
        }
        if (srv_read(f, &batch[nb]))
            break;
        if (batch[nb].h.type != VRPC_MSG_CALL) {
            free(batch[nb].payload);
            continue;
        }
        nb++;
    }
    for (i = 0; i < nb; i++)
        free(batch[i].payload);
}

static void gate_wait(fake *f)
{
    pthread_mutex_lock(&f->gate_lock);
    while (f->gate == 0)
        pthread_cond_wait(&f->gate_cond, &f->gate_lock);
    f->gate--;
    pthread_mutex_unlock(&f->gate_lock);
}

static void gate_open(fake *f)
{
    pthread_mutex_lock(&f->gate_lock);
    f->gate++;
    pthread_cond_signal(&f->gate_cond);
    pthread_mutex_unlock(&f->gate_lock);
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    f->script(f);
    return NULL;
}

static int fake_start(fake *f, vrpc_conn **c, script_fn script)
{
    int sv[2];
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->gate_lock, NULL);
    pthread_cond_init(&f->gate_cond, NULL);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    f->fd = sv[1];
    f->script = script;
    if (vrpc_conn_new_fd(c, sv[0]) != 0) {
        close(sv[1]);
        return -1;
    }
    pthread_create(&f->th, NULL, fake_main, f);
    return 0;
}

/* The daemon hangs up (the descriptor itself is closed by fake_finish). */
static void fake_hangup(fake *f)
{
    shutdown(f->fd, SHUT_RDWR);
}

/* Close the daemon's end (the script ends at EOF or returns), join. */
static void fake_finish(fake *f)
{
    pthread_mutex_lock(&f->gate_lock);
    f->gate = 1 << 20;
    pthread_cond_broadcast(&f->gate_cond);
    pthread_mutex_unlock(&f->gate_lock);
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
    pthread_mutex_destroy(&f->gate_lock);
    pthread_cond_destroy(&f->gate_cond);
}

static int call_echo(vrpc_conn *c, uint32_t x, uint32_t *y, vrpc_error **err)
{
    echo_args a = {x};
    echo_ret *r = NULL;
    int rc = vrpc_call(c, &pd_echo, &a, (void **)&r, err);
    if (rc == 0) {
        *y = r->y;
        vrpc_free(r);
    }
    return rc;
}

/* ---- tests ---- */

static void test_basic(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_pending *p0 = NULL, *p1 = NULL, *p2 = NULL;
    vrpc_error *e = NULL;
    uint32_t y = 0;
    void *ret = (void *)1;
    int rc;

    if (fake_start(&f, &c, script_echo)) {
        TAP_OK(0, "basic: fake daemon");
        return;
    }
    TAP_OK(vrpc_conn_get_fd(c) >= 0 && vrpc_conn_get_status(c) == 0 && !vrpc_conn_get_uri(c) &&
               !vrpc_conn_get_open_name(c) && !vrpc_conn_get_socket_path(c),
           "basic: new_fd connection is usable, no URI");
    rc = vrpc_call_send(c, &pd_void, NULL, &p0, NULL);
    TAP_OK(rc == 0 && vrpc_pending_serial(p0) == 0, "basic: first serial is 0");
    rc = vrpc_call_send(c, &pd_void, NULL, &p1, NULL);
    rc |= vrpc_call_send(c, &pd_void, NULL, &p2, NULL);
    TAP_OK(rc == 0 && vrpc_pending_serial(p1) == 1 && vrpc_pending_serial(p2) == 2,
           "basic: serials increase by one");
    TAP_OK(vrpc_call_wait(c, p2, &ret, NULL) == 0 && ret == NULL &&
               vrpc_call_wait(c, p0, NULL, NULL) == 0 && vrpc_call_wait(c, p1, NULL, NULL) == 0,
           "basic: void calls collected out of order, ret NULL");
    rc = call_echo(c, 41, &y, &e);
    TAP_OK(rc == 0 && y == 124 && !e, "basic: echo(41) = 124");

    rc = vrpc_call(c, &pd_echo, NULL, NULL, &e);
    TAP_OK(rc == VRPC_E_INVALID && e && strstr(e->message, "needs arguments"),
           "basic: missing arguments -> INVALID");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_call_send(c, &pd_echo, NULL, &p0, &e);
    TAP_OK(rc == VRPC_E_INVALID && p0 == NULL && e && strstr(e->message, "needs arguments"),
           "basic: a send without arguments -> INVALID with the reason in the error");
    vrpc_free(e);
    e = NULL;
    TAP_OK(vrpc_call_send(NULL, &pd_void, NULL, &p0, NULL) == VRPC_E_INVALID &&
               vrpc_call_send(c, NULL, NULL, &p0, NULL) == VRPC_E_INVALID &&
               vrpc_call_wait(c, NULL, NULL, NULL) == VRPC_E_INVALID &&
               vrpc_conn_process(NULL) == VRPC_E_INVALID && vrpc_conn_get_fd(NULL) == -1,
           "basic: NULL arguments rejected");
    vrpc_call_discard(c, NULL);
    vrpc_call_discard(NULL, NULL);
    vrpc_conn_close(NULL);

    vrpc_conn_close(c);
    fake_finish(&f);
}

/* Replies to 6 calls come in a scrambled order. */
static void script_scrambled(fake *f)
{
    static const int order[6] = {3, 5, 0, 4, 1, 2};
    srv_pkt p[6];
    int i;
    for (i = 0; i < 6; i++)
        if (srv_read(f, &p[i]))
            return;
    for (i = 0; i < 6; i++)
        srv_answer(f, &p[order[i]]);
    for (i = 0; i < 6; i++)
        free(p[i].payload);
    script_echo(f);
}

static void test_out_of_order(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_pending *p[6];
    int i, ok = 1;

    fake_start(&f, &c, script_scrambled);
    for (i = 0; i < 6; i++) {
        echo_args a = {(uint32_t)(100 + i)};
        if (vrpc_call_send(c, &pd_echo, &a, &p[i], NULL))
            ok = 0;
    }
    for (i = 0; i < 6 && ok; i++) {
        echo_ret *r = NULL;
        if (vrpc_call_wait(c, p[i], (void **)&r, NULL) || r->y != f3((uint32_t)(100 + i)))
            ok = 0;
        vrpc_free(r);
    }
    TAP_OK(ok, "out of order: 6 replies in order 3,5,0,4,1,2 matched by serial");
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* 8 threads x 500 blocking calls + one thread pipelining 1000. */
#define NTHREADS 8
#define NCALLS 500
#define NPIPE 1000

typedef struct worker {
    vrpc_conn *c;
    int id;
    int bad;
} worker;

static void *blocking_worker(void *arg)
{
    worker *w = arg;
    int i;
    for (i = 0; i < NCALLS; i++) {
        uint32_t x = (uint32_t)(w->id * 1000000 + i), y = 0;
        vrpc_error *e = NULL;
        if (call_echo(w->c, x, &y, &e) || y != f3(x))
            w->bad++;
        vrpc_free(e);
        if (i % 97 == 0) {
            if (vrpc_call(w->c, &pd_void, NULL, NULL, NULL))
                w->bad++;
        }
    }
    return NULL;
}

static void *pipelining_worker(void *arg)
{
    worker *w = arg;
    vrpc_pending **p = calloc(NPIPE, sizeof(*p));
    int i;
    for (i = 0; i < NPIPE; i++) {
        echo_args a = {(uint32_t)(900000000u + (uint32_t)i)};
        if (vrpc_call_send(w->c, &pd_echo, &a, &p[i], NULL))
            w->bad++;
    }
    for (i = 0; i < NPIPE; i++) {
        echo_ret *r = NULL;
        if (!p[i])
            continue;
        if (vrpc_call_wait(w->c, p[i], (void **)&r, NULL) ||
            r->y != f3((uint32_t)(900000000u + (uint32_t)i)))
            w->bad++;
        vrpc_free(r);
    }
    free(p);
    return NULL;
}

static void test_threads(void)
{
    fake f;
    vrpc_conn *c = NULL;
    pthread_t th[NTHREADS + 1];
    worker w[NTHREADS + 1];
    int i, bad = 0;
    int64_t t0 = now_ms();

    fake_start(&f, &c, script_echo);
    for (i = 0; i <= NTHREADS; i++) {
        w[i].c = c;
        w[i].id = i + 1;
        w[i].bad = 0;
        pthread_create(&th[i], NULL, i < NTHREADS ? blocking_worker : pipelining_worker, &w[i]);
    }
    for (i = 0; i <= NTHREADS; i++) {
        pthread_join(th[i], NULL);
        bad += w[i].bad;
    }
    TAP_OK(bad == 0,
           "threads: %d threads x %d blocking calls + %d pipelined, all verified (%d "
           "bad, %lld ms)",
           NTHREADS, NCALLS, NPIPE, bad, (long long)(now_ms() - t0));
    TAP_OK(atomic_load(&f.calls) == NTHREADS * (NCALLS + 6) + NPIPE,
           "threads: the daemon saw every call (%d)", atomic_load(&f.calls));
    TAP_OK(c->proto.calls.count == 0 && c->live == NULL && c->proto.out_head == NULL &&
               !c->io_owner,
           "threads: nothing left pending or queued");
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* PING before the reply; a PONG, an event and stream packets are ignored. */
static void script_keepalive(fake *f)
{
    srv_pkt p, q;
    uint8_t ev[8] = {0, 0, 0, 1, 0, 0, 0, 2};
    if (srv_read(f, &p))
        return;
    srv_send(f, VRPC_MSG_KEEPALIVE_PROG, VRPC_MSG_KEEPALIVE_PING, VRPC_MSG_MESSAGE, 0, VRPC_MSG_OK,
             NULL, 0);
    if (srv_read(f, &q) == 0) {
        if (q.h.prog == VRPC_MSG_KEEPALIVE_PROG && q.h.proc == VRPC_MSG_KEEPALIVE_PONG &&
            q.h.type == VRPC_MSG_MESSAGE && q.h.serial == 0 && q.h.status == 0 && q.len == 0)
            f->data = (void *)1;
        free(q.payload);
    }
    srv_send(f, VRPC_MSG_KEEPALIVE_PROG, VRPC_MSG_KEEPALIVE_PONG, VRPC_MSG_MESSAGE, 0, VRPC_MSG_OK,
             NULL, 0);
    srv_send(f, VRPC_PROGRAM, 107, VRPC_MSG_MESSAGE, 1, VRPC_MSG_OK, ev, sizeof(ev));
    srv_send(f, TPROG, 1, VRPC_MSG_STREAM, 77, VRPC_MSG_CONTINUE, "raw", 3);
    srv_send(f, TPROG, 1, VRPC_MSG_STREAM_HOLE, 77, VRPC_MSG_CONTINUE, ev, 8);
    srv_answer(f, &p);
    free(p.payload);
    /* An idle PING: answered by vrpc_conn_process. */
    gate_wait(f);
    srv_send(f, VRPC_MSG_KEEPALIVE_PROG, VRPC_MSG_KEEPALIVE_PING, VRPC_MSG_MESSAGE, 0, VRPC_MSG_OK,
             NULL, 0);
    script_echo(f);
}

static void test_keepalive(void)
{
    fake f;
    vrpc_conn *c = NULL;
    uint32_t y = 0;
    int rc, i;

    fake_start(&f, &c, script_keepalive);
    rc = call_echo(c, 5, &y, NULL);
    TAP_OK(rc == 0 && y == 16, "keepalive: call completes across PING, PONG, event, stream");
    TAP_OK(f.data == (void *)1 && atomic_load(&f.pongs) == 1,
           "keepalive: PING answered with a 28-byte PONG (serial 0, status OK) before the reply");
    gate_open(&f);
    for (i = 0; i < 200 && atomic_load(&f.pongs) < 2; i++) {
        struct pollfd pf = {.fd = vrpc_conn_get_fd(c), .events = POLLIN};
        poll(&pf, 1, 10);
        rc = vrpc_conn_process(c);
        if (rc)
            break;
    }
    TAP_OK(rc == 0 && atomic_load(&f.pongs) == 2, "keepalive: idle PING answered by process()");
    rc = call_echo(c, 6, &y, NULL);
    TAP_OK(rc == 0 && y == 19, "keepalive: connection still fine");
    {
        vrpc_error *e = NULL;
        rc = vrpc_conn_set_keepalive(c, (uint64_t)INT32_MAX * VRPC_USEC_PER_MSEC + 1, 5, &e);
        TAP_OK(rc == VRPC_E_INVALID && e && strstr(e->message, "too large"),
               "keepalive: an interval over 2^31 - 1 ms is refused (%s)",
               e ? e->message : "no error");
        vrpc_free(e);
    }
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* Public timeouts are microseconds; the waits round them up to milliseconds. */
static void test_time_unit(void)
{
    TAP_OK(vrpc_usec_to_timeout_ms(VRPC_USEC_INFINITY) == -1 && vrpc_usec_to_timeout_ms(0) == 0 &&
               vrpc_usec_to_timeout_ms(1) == 1 && vrpc_usec_to_timeout_ms(1000) == 1 &&
               vrpc_usec_to_timeout_ms(1001) == 2 &&
               vrpc_usec_to_timeout_ms(5 * VRPC_USEC_PER_SEC) == 5000 &&
               vrpc_usec_to_timeout_ms(UINT64_MAX - 1) == INT_MAX,
           "time: µs to ms rounds up, VRPC_USEC_INFINITY is none, huge values clamp");
}

/* Fatal errors: N waiters, then something breaks the connection. */
#define NWAIT 4

typedef struct waiter {
    vrpc_conn *c;
    int rc;
    int64_t done_ms;
    vrpc_error *err;
} waiter;

static void *waiting_thread(void *arg)
{
    waiter *w = arg;
    uint32_t y;
    w->rc = call_echo(w->c, 1, &y, &w->err);
    w->done_ms = now_ms();
    return NULL;
}

typedef enum {
    BREAK_UNKNOWN_SERIAL,
    BREAK_MID_PACKET,
    BREAK_CALL,
    BREAK_BAD_LENGTH,
    BREAK_BAD_TYPE,
    BREAK_WRONG_PROG,
    BREAK_KEEPALIVE_REPLY
} break_kind;

static break_kind g_break;

static void script_break(fake *f)
{
    srv_pkt p[NWAIT];
    uint8_t half[10] = {0, 0, 0, 40, 0x20, 0, 0x80, 0x86, 0, 0};
    uint8_t bad[8] = {0, 0, 0, 5, 1, 2, 3, 4};
    int i;
    for (i = 0; i < NWAIT; i++)
        if (srv_read(f, &p[i]))
            return;
    usleep(50 * 1000); /* let every thread go to sleep */
    atomic_store(&f->trigger_ms, now_ms());
    switch (g_break) {
    case BREAK_UNKNOWN_SERIAL:
        srv_send(f, TPROG, 1, VRPC_MSG_REPLY, 9999, VRPC_MSG_OK, "\0\0\0\1", 4);
        break;
    case BREAK_MID_PACKET:
        write_full(f->fd, half, sizeof(half));
        fake_hangup(f);
        break;
    case BREAK_CALL:
        srv_send(f, VRPC_PROGRAM, 1, VRPC_MSG_CALL, 0, VRPC_MSG_OK, NULL, 0);
        break;
    case BREAK_BAD_LENGTH:
        write_full(f->fd, bad, sizeof(bad));
        break;
    case BREAK_BAD_TYPE:
        srv_send(f, TPROG, 1, 9, p[0].h.serial, VRPC_MSG_OK, NULL, 0);
        break;
    case BREAK_WRONG_PROG:
        srv_send(f, TPROG + 1, 1, VRPC_MSG_REPLY, p[0].h.serial, VRPC_MSG_OK, "\0\0\0\1", 4);
        break;
    case BREAK_KEEPALIVE_REPLY:
        /* libvirt's client consumes only keepalive MESSAGEs: this one was
         * silently swallowed before and the calls waited for ever. */
        srv_send(f, VRPC_MSG_KEEPALIVE_PROG, 1, VRPC_MSG_REPLY, p[0].h.serial, VRPC_MSG_OK, NULL,
                 0);
        break;
    }
    for (i = 0; i < NWAIT; i++)
        free(p[i].payload);
    /* Wait for the client to hang up. */
    {
        srv_pkt q;
        while (srv_read(f, &q) == 0)
            free(q.payload);
    }
}

static void test_break(break_kind k, int want_rc, const char *want_msg, const char *what)
{
    fake f;
    vrpc_conn *c = NULL;
    pthread_t th[NWAIT];
    waiter w[NWAIT];
    int i, ok = 1;
    int64_t worst = 0;
    vrpc_error *e = NULL;
    vrpc_pending *p = NULL;
    uint32_t y;

    g_break = k;
    fake_start(&f, &c, script_break);
    for (i = 0; i < NWAIT; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].c = c;
        pthread_create(&th[i], NULL, waiting_thread, &w[i]);
    }
    for (i = 0; i < NWAIT; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc != want_rc || !w[i].err || !strstr(w[i].err->message, want_msg))
            ok = 0;
        if (w[i].done_ms - atomic_load(&f.trigger_ms) > worst)
            worst = w[i].done_ms - atomic_load(&f.trigger_ms);
        if (!ok && w[i].err)
            tap_diag("waiter %d: rc %d: %s", i, w[i].rc, w[i].err->message);
        vrpc_free(w[i].err);
    }
    TAP_OK(ok && worst < 1000, "%s: all %d waiters fail with %s within a second (%lld ms)", what,
           NWAIT, vrpc_strerror(want_rc), (long long)worst);
    TAP_OK(vrpc_conn_get_status(c) == want_rc && vrpc_conn_get_fd(c) == -1 && c->tr == NULL,
           "%s: sticky status, socket closed", what);
    TAP_OK(call_echo(c, 2, &y, &e) == want_rc && e && strstr(e->message, want_msg) &&
               vrpc_call_send(c, &pd_void, NULL, &p, NULL) == want_rc && p == NULL &&
               vrpc_conn_process(c) == want_rc,
           "%s: later calls fail at once with the same error", what);
    vrpc_free(e);
    e = NULL;
    p = (vrpc_pending *)&p; /* not NULL: the failed send must clear it */
    TAP_OK(vrpc_call_send(c, &pd_void, NULL, &p, &e) == want_rc && p == NULL && e && e->message &&
               strstr(e->message, want_msg),
           "%s: a send says why it failed (%s)", what, e && e->message ? e->message : "no error");
    vrpc_free(e);
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* Error replies. */
static void test_error_reply(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    echo_args a = {1};
    void *ret = (void *)1;
    int rc;
    static const vrpc_proc pd_unknown = {
        .name = "unknown", .program = TPROG, .version = 1, .number = 99, .stream_param = -1};

    fake_start(&f, &c, script_echo);
    rc = vrpc_call(c, &pd_fail, &a, &ret, &e);
    TAP_OK(rc == VRPC_E_REMOTE && ret == NULL && e && e->code == 42 && e->domain == 10 &&
               e->level == 2 && e->message &&
               strcmp(e->message, "Domain not found: no domain with matching name") == 0 &&
               e->dom && strcmp(e->dom->name, "guest") == 0 && e->dom->id == 42 &&
               e->dom->uuid[0] == 0xaa && e->dom->uuid[15] == 0xbb && e->str1 &&
               strcmp(e->str1, "one") == 0 && e->str2 == NULL && e->str3 &&
               strcmp(e->str3, "three") == 0 && e->int1 == -7 && e->int2 == 123456 && e->net &&
               strcmp(e->net->name, "default") == 0 && e->net->uuid[15] == 0xbb,
           "error reply: VRPC_E_REMOTE with every field of remote_error");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_call(c, &pd_unknown, NULL, NULL, &e);
    TAP_OK(rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT &&
               e->domain == VRPC_FROM_RPC && strstr(e->message, "unknown procedure"),
           "error reply: \"unknown procedure\" becomes VRPC_ERR_NO_SUPPORT");
    vrpc_free(e);
    TAP_OK(vrpc_conn_get_status(c) == 0, "error reply: connection stays usable");
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* Replies that fail only their call. */
static void script_odd_replies(fake *f)
{
    srv_pkt p;
    uint8_t b[8] = {0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff};
    /* 1: wrong procedure number */
    if (srv_read(f, &p))
        return;
    srv_send(f, p.h.prog, p.h.proc + 1, VRPC_MSG_REPLY, p.h.serial, VRPC_MSG_OK, b, 4);
    free(p.payload);
    /* 2: status CONTINUE */
    if (srv_read(f, &p))
        return;
    srv_reply(f, &p, VRPC_MSG_CONTINUE, b, 4);
    free(p.payload);
    /* 3: a payload that does not decode */
    if (srv_read(f, &p))
        return;
    srv_reply(f, &p, VRPC_MSG_OK, b, 8);
    free(p.payload);
    /* 4: a malformed error payload */
    if (srv_read(f, &p))
        return;
    srv_reply(f, &p, VRPC_MSG_ERROR, b, 8);
    free(p.payload);
    /* 5: bytes for a void procedure */
    if (srv_read(f, &p))
        return;
    srv_reply(f, &p, VRPC_MSG_OK, b, 4);
    free(p.payload);
    /* 6: REPLY_WITH_FDS carrying one descriptor and its 1-byte carrier */
    if (srv_read(f, &p))
        return;
    {
        uint8_t pl[8];
        int fd = dup(f->fd);
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        char carrier = 0;
        struct iovec iov = {.iov_base = &carrier, .iov_len = 1};
        struct msghdr m;
        struct cmsghdr *cm;
        vrpc_put_u32(pl, 1);
        vrpc_put_u32(pl + 4, f3(vrpc_get_u32(p.payload)));
        srv_send(f, p.h.prog, p.h.proc, VRPC_MSG_REPLY_WITH_FDS, p.h.serial, VRPC_MSG_OK, pl, 8);
        memset(&m, 0, sizeof(m));
        memset(&ctl, 0, sizeof(ctl));
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof(ctl.buf);
        cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        sendmsg(f->fd, &m, MSG_NOSIGNAL);
        close(fd);
    }
    free(p.payload);
    script_echo(f);
}

static void test_odd_replies(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    echo_args a = {10};
    void *ret = NULL;
    uint32_t y = 0;
    int rc, fds0 = count_fds();

    fake_start(&f, &c, script_odd_replies);
    rc = vrpc_call(c, &pd_echo, &a, &ret, &e);
    TAP_OK(rc == VRPC_E_PROTO && !ret && e && strstr(e->message, "is for procedure 2"),
           "odd reply: wrong procedure fails the call");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_call(c, &pd_echo, &a, &ret, &e);
    TAP_OK(rc == VRPC_E_PROTO && e && strstr(e->message, "unexpected status 2"),
           "odd reply: status CONTINUE fails the call");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_call(c, &pd_echo, &a, &ret, &e);
    TAP_OK(rc == VRPC_E_PROTO && !ret && e && strstr(e->message, "cannot decode the reply"),
           "odd reply: undecodable payload fails the call");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_call(c, &pd_echo, &a, &ret, &e);
    TAP_OK(rc == VRPC_E_PROTO && e && e->code == VRPC_ERR_RPC &&
               strstr(e->message, "cannot decode the error"),
           "odd reply: malformed error payload -> PROTO with a local error");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_call(c, &pd_void, NULL, NULL, &e);
    TAP_OK(rc == VRPC_E_PROTO && e && strstr(e->message, "returns nothing"),
           "odd reply: bytes in the reply of a void procedure");
    vrpc_free(e);
    e = NULL;
    rc = call_echo(c, 10, &y, &e);
    TAP_OK(rc == 0 && y == 31, "odd reply: REPLY_WITH_FDS decoded after the fd count");
    rc = call_echo(c, 11, &y, &e);
    TAP_OK(rc == 0 && y == 34 && vrpc_conn_get_status(c) == 0,
           "odd reply: fd carrier skipped, the next reply parses");
    vrpc_conn_close(c);
    fake_finish(&f);
    TAP_OK(count_fds() == fds0, "odd reply: received descriptor closed (%d fds, want %d)",
           count_fds(), fds0);
}

/* Discard and poll. */
static void script_gated(fake *f)
{
    srv_pkt p;
    /* Calls are answered only when the test opens the gate. */
    for (;;) {
        if (srv_read(f, &p))
            return;
        gate_wait(f);
        srv_answer(f, &p);
        free(p.payload);
    }
}

static void test_discard_and_poll(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_pending *p = NULL, *q = NULL;
    echo_ret *r = NULL;
    echo_args a = {7};
    int rc, i;

    fake_start(&f, &c, script_gated);
    rc = vrpc_call_send(c, &pd_echo, &a, &p, NULL);
    TAP_OK(rc == 0 && vrpc_call_poll(c, p, (void **)&r, NULL) == VRPC_E_AGAIN && r == NULL,
           "poll: VRPC_E_AGAIN while the reply is not there");
    TAP_OK(vrpc_call_poll(c, p, (void **)&r, NULL) == VRPC_E_AGAIN,
           "poll: the handle stays valid after AGAIN");
    gate_open(&f);
    rc = VRPC_E_AGAIN;
    for (i = 0; i < 500 && rc == VRPC_E_AGAIN; i++) {
        rc = vrpc_call_poll(c, p, (void **)&r, NULL);
        if (rc == VRPC_E_AGAIN)
            usleep(2000);
    }
    TAP_OK(rc == 0 && r && r->y == 22, "poll: reply collected once it arrived");
    vrpc_free(r);
    r = NULL;

    /* Discard before the reply: dropped when it comes. */
    rc = vrpc_call_send(c, &pd_echo, &a, &p, NULL);
    vrpc_call_discard(c, p);
    gate_open(&f);
    /* Discard after the reply arrived. */
    a.x = 8;
    rc |= vrpc_call_send(c, &pd_echo, &a, &q, NULL);
    gate_open(&f);
    for (i = 0; i < 500; i++) {
        vrpc_conn_process(c);
        pthread_mutex_lock(&c->lock);
        if (q->call.state == VRPC_CALL_DONE) {
            pthread_mutex_unlock(&c->lock);
            break;
        }
        pthread_mutex_unlock(&c->lock);
        usleep(2000);
    }
    vrpc_call_discard(c, q);
    TAP_OK(rc == 0 && c->proto.calls.count == 0 && c->live == NULL,
           "discard: before and after the reply, nothing left");
    a.x = 9;
    rc = vrpc_call_send(c, &pd_echo, &a, &p, NULL);
    gate_open(&f);
    rc |= vrpc_call_wait(c, p, (void **)&r, NULL);
    TAP_OK(rc == 0 && r && r->y == 28, "discard: later calls unaffected");
    vrpc_free(r);

    /* Handles still pending at close are released by close. */
    rc = vrpc_call_send(c, &pd_echo, &a, &p, NULL);
    rc |= vrpc_call_send(c, &pd_echo, &a, &q, NULL);
    TAP_OK(rc == 0, "close: with two uncollected calls");
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* The output queue is capped for vrpc_call_send. */
static void script_stall(fake *f)
{
    gate_wait(f);
}

static void test_queue_cap(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_pending *p[3] = {NULL, NULL, NULL};
    blob b;
    int rc0, rc1, rc2;

    fake_start(&f, &c, script_stall);
    b.data.len = 30u << 20;
    b.data.data = calloc(1, b.data.len);
    rc0 = vrpc_call_send(c, &pd_sink, &b, &p[0], NULL);
    rc1 = vrpc_call_send(c, &pd_sink, &b, &p[1], NULL);
    rc2 = vrpc_call_send(c, &pd_sink, &b, &p[2], NULL);
    TAP_OK(rc0 == 0 && rc1 == 0 && rc2 == VRPC_E_AGAIN && p[2] == NULL,
           "queue cap: a third 30 MiB call over the 64 MiB queue -> VRPC_E_AGAIN");
    TAP_OK(vrpc_pending_serial(p[1]) == 1, "queue cap: refused call took no serial");
    free(b.data.data);
    vrpc_call_discard(c, p[0]);
    vrpc_call_discard(c, p[1]);
    gate_open(&f);
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* Big replies (the read buffer is handed over) and a big argument. */
static void test_big(void)
{
    fake f;
    vrpc_conn *c = NULL;
    static const uint32_t sizes[] = {0, 1, 100, 65535, 65536, 1u << 20, (3u << 20) + 3};
    size_t i;

    fake_start(&f, &c, script_echo);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        echo_args a = {sizes[i]};
        blob *r = NULL;
        int rc = vrpc_call(c, &pd_blob, &a, (void **)&r, NULL), ok = rc == 0;
        uint32_t k;
        if (ok && r->data.len != sizes[i])
            ok = 0;
        for (k = 0; ok && k < sizes[i]; k++)
            if (r->data.data[k] != (uint8_t)(k * 7))
                ok = 0;
        TAP_OK(ok, "big: reply of %u bytes", sizes[i]);
        vrpc_free(r);
    }
    {
        vrpc_pending *p[3];
        echo_args a1 = {1u << 20}, a2 = {5}, a3 = {70000};
        blob *r1 = NULL, *r3 = NULL;
        echo_ret *r2 = NULL;
        int rc = vrpc_call_send(c, &pd_blob, &a1, &p[0], NULL);
        rc |= vrpc_call_send(c, &pd_echo, &a2, &p[1], NULL);
        rc |= vrpc_call_send(c, &pd_blob, &a3, &p[2], NULL);
        rc |= vrpc_call_wait(c, p[1], (void **)&r2, NULL);
        rc |= vrpc_call_wait(c, p[2], (void **)&r3, NULL);
        rc |= vrpc_call_wait(c, p[0], (void **)&r1, NULL);
        TAP_OK(rc == 0 && r1->data.len == 1u << 20 && r2->y == 16 && r3->data.len == 70000,
               "big: mixed big and small replies in one stream");
        vrpc_free(r1);
        vrpc_free(r2);
        vrpc_free(r3);
    }
    {
        blob b;
        int rc;
        b.data.len = 8u << 20;
        b.data.data = calloc(1, b.data.len);
        rc = vrpc_call(c, &pd_sink, &b, NULL, NULL);
        TAP_OK(rc == 0, "big: an 8 MiB argument written across many partial writes");
        free(b.data.data);
    }
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* Closing a connection while a thread waits for its reply. */
static void script_silent(fake *f)
{
    srv_pkt p;
    while (srv_read(f, &p) == 0)
        free(p.payload);
}

static void test_close_with_waiter(void)
{
    fake f;
    vrpc_conn *c = NULL;
    pthread_t th;
    waiter w;
    int i;

    memset(&w, 0, sizeof(w));
    fake_start(&f, &c, script_silent);
    w.c = c;
    pthread_create(&th, NULL, waiting_thread, &w);
    for (i = 0; i < 200 && atomic_load(&f.calls) < 1; i++)
        usleep(1000);
    usleep(20000);
    vrpc_conn_close(c);
    pthread_join(th, NULL);
    TAP_OK(w.rc == VRPC_E_CLOSED && w.err && strstr(w.err->message, "closed by the client"),
           "close: a waiting thread gets VRPC_E_CLOSED");
    vrpc_free(w.err);
    fake_finish(&f);
}

/* The daemon goes away between calls. */
static void script_hangup(fake *f)
{
    srv_pkt p;
    if (srv_read(f, &p))
        return;
    srv_answer(f, &p);
    free(p.payload);
    fake_hangup(f);
}

static void test_hangup(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    uint32_t y;
    int rc;

    fake_start(&f, &c, script_hangup);
    rc = call_echo(c, 1, &y, NULL);
    while (vrpc_conn_get_status(c) == 0 && vrpc_conn_process(c) == 0)
        usleep(1000);
    rc |= call_echo(c, 2, &y, &e) != VRPC_E_CLOSED;
    TAP_OK(rc == 0 && e &&
               (strstr(e->message, "closed by the daemon") || strstr(e->message, "Broken pipe")) &&
               vrpc_conn_get_status(c) == VRPC_E_CLOSED,
           "hangup: the next call fails with VRPC_E_CLOSED");
    vrpc_free(e);
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* Internal deadlines: the I/O owner and a sleeping waiter both time out. */
static void *owner_thread(void *arg)
{
    waiter *w = arg;
    w->rc = vrpc_call(w->c, &pd_void, NULL, NULL, &w->err);
    w->done_ms = now_ms();
    return NULL;
}

static void test_timeouts(void)
{
    fake f;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    pthread_t th;
    waiter w;
    int64_t t0;
    int rc, i;

    fake_start(&f, &c, script_gated);
    t0 = now_ms();
    rc = vrpc_conn_call_timeout(c, &pd_void, NULL, NULL, &e, 100);
    TAP_OK(rc == VRPC_E_TIMEOUT && e && strstr(e->message, "within 100 ms") &&
               now_ms() - t0 >= 100 && now_ms() - t0 < 1000,
           "timeout: the I/O owner gives up after 100 ms");
    vrpc_free(e);
    e = NULL;

    /* Another thread owns the I/O; this one sleeps and times out. */
    memset(&w, 0, sizeof(w));
    w.c = c;
    pthread_create(&th, NULL, owner_thread, &w);
    for (i = 0; i < 500 && atomic_load(&f.calls) < 2; i++)
        usleep(1000);
    usleep(20000);
    t0 = now_ms();
    rc = vrpc_conn_call_timeout(c, &pd_void, NULL, NULL, &e, 100);
    TAP_OK(rc == VRPC_E_TIMEOUT && e && now_ms() - t0 < 1000,
           "timeout: a sleeping waiter gives up too");
    vrpc_free(e);
    e = NULL;
    /* Answer the three calls: the two late replies are dropped. */
    gate_open(&f);
    gate_open(&f);
    gate_open(&f);
    pthread_join(th, NULL);
    TAP_OK(w.rc == 0, "timeout: the owner's own call completes afterwards");
    gate_open(&f);
    rc = vrpc_call(c, &pd_void, NULL, NULL, &e);
    TAP_OK(rc == 0 && vrpc_conn_get_status(c) == 0 && c->proto.calls.count == 0,
           "timeout: connection usable, nothing left pending");
    vrpc_free(e);
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* ---- the open sequence against a fake daemon on a listening socket ---- */

enum {
    AUTH_NONE_LIST,
    AUTH_EMPTY,
    AUTH_OLD_DAEMON,
    AUTH_SASL_ONLY,
    AUTH_POLKIT_ONLY,
    AUTH_SASL_AND_NONE
};

typedef struct open_case {
    const char *what;
    const char *uri_params; /* appended after socket=PATH */
    unsigned int flags;
    int auth;
    bool open_fails;
    int want_rc;
    const char *want_msg;
    const char *want_name;
    uint32_t want_flags;
} open_case;

typedef struct open_srv {
    int lfd;
    const open_case *k;
    bool admin;
    /* what the daemon saw */
    char name[256];
    int name_present;
    uint32_t flags;
    int got_close;
    int steps;
} open_srv;

static void *open_daemon(void *arg)
{
    open_srv *o = arg;
    fake f;
    srv_pkt p;
    uint8_t b[512];
    size_t n;
    int fd = accept(o->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    memset(&f, 0, sizeof(f));
    f.fd = fd;
    while (srv_read(&f, &p) == 0) {
        o->steps++;
        if (p.h.prog == VRPC_ADMIN_PROGRAM && p.h.proc == 1) {
            o->flags = p.len >= 4 ? vrpc_get_u32(p.payload) : 0xffffffffu;
            srv_reply(&f, &p, VRPC_MSG_OK, NULL, 0);
        } else if (p.h.prog == VRPC_ADMIN_PROGRAM && p.h.proc == 2) {
            o->got_close = 1;
            srv_reply(&f, &p, VRPC_MSG_OK, NULL, 0);
        } else if (p.h.prog == VRPC_PROGRAM && p.h.proc == 66) {
            switch (o->k->auth) {
            case AUTH_NONE_LIST:
                vrpc_put_u32(b, 1);
                vrpc_put_u32(b + 4, VRPC_AUTH_NONE);
                srv_reply(&f, &p, VRPC_MSG_OK, b, 8);
                break;
            case AUTH_EMPTY:
                vrpc_put_u32(b, 0);
                srv_reply(&f, &p, VRPC_MSG_OK, b, 4);
                break;
            case AUTH_OLD_DAEMON:
                n = make_error(b, VRPC_ERR_RPC, VRPC_FROM_REMOTE, "unknown procedure: 66");
                srv_reply(&f, &p, VRPC_MSG_ERROR, b, n);
                break;
            case AUTH_SASL_ONLY:
            case AUTH_POLKIT_ONLY:
                vrpc_put_u32(b, 1);
                vrpc_put_u32(b + 4,
                             o->k->auth == AUTH_SASL_ONLY ? VRPC_AUTH_SASL : VRPC_AUTH_POLKIT);
                srv_reply(&f, &p, VRPC_MSG_OK, b, 8);
                break;
            case AUTH_SASL_AND_NONE:
                vrpc_put_u32(b, 2);
                vrpc_put_u32(b + 4, VRPC_AUTH_SASL);
                vrpc_put_u32(b + 8, VRPC_AUTH_NONE);
                srv_reply(&f, &p, VRPC_MSG_OK, b, 12);
                break;
            }
        } else if (p.h.prog == VRPC_PROGRAM && p.h.proc == 1) {
            /* remote_connect_open_args { remote_string name; unsigned flags; } */
            o->name_present = p.len >= 4 ? (int)vrpc_get_u32(p.payload) : -1;
            if (o->name_present == 1 && p.len >= 8) {
                uint32_t l = vrpc_get_u32(p.payload + 4);
                if (l < sizeof(o->name) && 8 + l <= p.len) {
                    memcpy(o->name, p.payload + 8, l);
                    o->name[l] = 0;
                }
                o->flags = vrpc_get_u32(p.payload + p.len - 4);
            }
            if (o->k->open_fails) {
                n = make_error(b, VRPC_ERR_NO_CONNECT, VRPC_FROM_NONE,
                               "no connection driver available");
                srv_reply(&f, &p, VRPC_MSG_ERROR, b, n);
            } else {
                srv_reply(&f, &p, VRPC_MSG_OK, NULL, 0);
            }
        } else if (p.h.prog == VRPC_PROGRAM && p.h.proc == 2) {
            o->got_close = 1;
            srv_reply(&f, &p, VRPC_MSG_OK, NULL, 0);
        } else {
            srv_answer(&f, &p);
        }
        free(p.payload);
    }
    close(fd);
    return NULL;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa;
    socklen_t len;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (path[0] == '@') {
        memcpy(sa.sun_path + 1, path + 1, strlen(path) - 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    } else {
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        len = sizeof(sa);
    }
    if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 4) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static const open_case open_cases[] = {
    {"open: auth none, name and flags", "", 0, AUTH_NONE_LIST, false, 0, NULL, "test:///default",
     0},
    {"open: read-only sends flags 1", "&x=1", VRPC_OPEN_READONLY, AUTH_EMPTY, false, 0, NULL,
     "test:///default?x=1", 1},
    {"open: old daemon without AUTH_LIST", "", 0, AUTH_OLD_DAEMON, false, 0, NULL,
     "test:///default", 0},
    {"open: name= override", "&name=remote%3A%2F%2F%2F", 0, AUTH_NONE_LIST, false, 0, NULL,
     "remote:///", 0},
    {"open: sasl listed before none: the first is taken, as libvirt's client does", "", 0,
     AUTH_SASL_AND_NONE, false, VRPC_E_AUTH, "unknown procedure: 99", NULL, 0},
    {"open: sasl only", "", 0, AUTH_SASL_ONLY, false, VRPC_E_AUTH, "unknown procedure: 99", NULL,
     0}, /* AUTH_SASL_INIT refused: passed on */
    {"open: polkit only", "", 0, AUTH_POLKIT_ONLY, false, VRPC_E_AUTH, "unknown procedure: 99",
     NULL, 0}, /* AUTH_POLKIT refused: passed on */
    {"open: auth=polkit not offered", "&auth=polkit", 0, AUTH_NONE_LIST, false, VRPC_E_AUTH,
     "authentication failed: requested authentication type polkit rejected", NULL, 0},
    {"open: auth=bogus", "&auth=bogus", 0, AUTH_NONE_LIST, false, VRPC_E_AUTH,
     "authentication failed: unknown authentication type bogus", NULL, 0},
    {"open: CONNECT_OPEN refused", "", 0, AUTH_NONE_LIST, true, VRPC_E_REMOTE,
     "no connection driver available", NULL, 0},
};

static void test_open(const char *dir)
{
    char path[512], uri[1024];
    size_t i;

    snprintf(path, sizeof(path), "%s/libvirt-sock", dir);
    for (i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
        const open_case *k = &open_cases[i];
        open_srv o;
        pthread_t th;
        vrpc_conn *c = (vrpc_conn *)1;
        vrpc_error *e = NULL;
        int rc, ok;

        memset(&o, 0, sizeof(o));
        o.k = k;
        unlink(path);
        o.lfd = listen_unix(path);
        pthread_create(&th, NULL, open_daemon, &o);
        snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s%s", path, k->uri_params);
        rc = vrpc_conn_open(&c, uri, k->flags, &e);
        if (rc == 0) {
            ok = k->want_rc == 0 && c && !e && strcmp(vrpc_conn_get_uri(c), uri) == 0 &&
                 strcmp(vrpc_conn_get_socket_path(c), path) == 0 &&
                 strcmp(vrpc_conn_get_open_name(c), k->want_name) == 0;
            vrpc_conn_close(c);
        } else {
            ok = rc == k->want_rc && c == NULL && e && strstr(e->message, k->want_msg);
        }
        pthread_join(th, NULL);
        close(o.lfd);
        if (rc == 0)
            ok = ok && o.name_present == 1 && strcmp(o.name, k->want_name) == 0 &&
                 o.flags == k->want_flags && o.got_close;
        else
            ok = ok && !o.got_close;
        if (!TAP_OK(ok, "%s", k->what))
            tap_diag("rc %d error %s; daemon saw name '%s' flags %u close %d", rc,
                     e ? e->message : "-", o.name, o.flags, o.got_close);
        vrpc_free(e);
    }
    unlink(path);

    /* Errors before any daemon is involved. */
    {
        vrpc_conn *c = NULL;
        vrpc_error *e = NULL;
        int rc;
        snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/nothing-here", dir);
        rc = vrpc_conn_open(&c, uri, 0, &e);
        TAP_OK(rc == VRPC_E_NOT_FOUND && !c && e && strstr(e->message, "connect: connect to ") &&
                   strstr(e->message, "No such file or directory") &&
                   e->code == VRPC_ERR_SYSTEM_ERROR,
               "open: missing socket -> connect step, errno text");
        vrpc_free(e);
        e = NULL;
        /* Port 1 (tcpmux) has no listener on a loopback test machine. */
        rc = vrpc_conn_open(&c, "test+tcp://127.0.0.1:1/default", 0, &e);
        TAP_OK(rc == VRPC_E_CONNECT && !c && e &&
                   strstr(e->message, "connect: connect to 127.0.0.1:1: Connection refused"),
               "open: tcp with nothing listening -> connect step, errno text");
        vrpc_free(e);
        e = NULL;
        rc = vrpc_conn_open(&c, "test+nope:///default", 0, &e);
        TAP_OK(rc == VRPC_E_URI && e && strncmp(e->message, "resolve: ", 9) == 0,
               "open: bad URI -> resolve step");
        vrpc_free(e);
        e = NULL;
        rc = vrpc_conn_open(&c, "test:///default", 0x80, &e);
        TAP_OK(rc == VRPC_E_INVALID && e, "open: unknown flags");
        vrpc_free(e);
        TAP_OK(vrpc_conn_open(NULL, "test:///default", 0, NULL) == VRPC_E_INVALID,
               "open: NULL out");
    }

    /* Admin socket, and an abstract socket. */
    {
        open_case k = {"admin", "", 0, AUTH_NONE_LIST, false, 0, NULL, NULL, 0};
        open_srv o;
        pthread_t th;
        vrpc_conn *c = NULL;
        vrpc_error *e = NULL;
        int rc;
        char abs_name[64];

        snprintf(path, sizeof(path), "%s/libvirt-admin-sock", dir);
        memset(&o, 0, sizeof(o));
        o.k = &k;
        o.lfd = listen_unix(path);
        o.flags = 77;
        pthread_create(&th, NULL, open_daemon, &o);
        snprintf(uri, sizeof(uri), "libvirtd:///system?socket=%s", path);
        rc = vrpc_conn_open_admin(&c, uri, 0, &e);
        if (rc == 0)
            vrpc_conn_close(c);
        pthread_join(th, NULL);
        close(o.lfd);
        unlink(path);
        TAP_OK(rc == 0 && o.flags == 0 && o.got_close && o.steps == 2,
               "admin: ADMIN_CONNECT_OPEN {0} then ADMIN_CONNECT_CLOSE, nothing else");
        vrpc_free(e);
        e = NULL;

        snprintf(abs_name, sizeof(abs_name), "@virtrpc-test-%d", (int)getpid());
        memset(&o, 0, sizeof(o));
        o.k = &open_cases[0];
        o.lfd = listen_unix(abs_name);
        pthread_create(&th, NULL, open_daemon, &o);
        snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", abs_name);
        rc = vrpc_conn_open(&c, uri, 0, &e);
        if (rc == 0) {
            uint32_t y = 0;
            rc = call_echo(c, 2, &y, &e);
            rc |= y != 7;
            vrpc_conn_close(c);
        }
        pthread_join(th, NULL);
        close(o.lfd);
        if (!TAP_OK(rc == 0 && o.got_close, "open: abstract socket %s", abs_name))
            tap_diag("rc %d close %d error %s", rc, o.got_close, e ? e->message : "-");
        vrpc_free(e);
    }
}

int main(void)
{
    int fds0 = count_fds();
    char dir[256];
    const char *tmp = getenv("TMPDIR");

    test_basic();
    test_out_of_order();
    test_threads();
    test_keepalive();
    test_time_unit();
    test_break(BREAK_UNKNOWN_SERIAL, VRPC_E_PROTO, "no call waiting for reply", "unknown serial");
    test_break(BREAK_MID_PACKET, VRPC_E_CLOSED, "in the middle of a packet", "closed mid-packet");
    test_break(BREAK_CALL, VRPC_E_PROTO, "serves no calls", "CALL from the daemon");
    test_break(BREAK_BAD_LENGTH, VRPC_E_PROTO, "too small", "bad length word");
    test_break(BREAK_BAD_TYPE, VRPC_E_PROTO, "unknown type 9", "unknown message type");
    test_break(BREAK_WRONG_PROG, VRPC_E_PROTO, "no call waiting", "reply from another program");
    test_break(BREAK_KEEPALIVE_REPLY, VRPC_E_PROTO, "REPLY of the keepalive program",
               "a REPLY of the keepalive program");
    test_error_reply();
    test_odd_replies();
    test_discard_and_poll();
    test_queue_cap();
    test_big();
    test_close_with_waiter();
    test_hangup();
    test_timeouts();
    snprintf(dir, sizeof(dir), "%s/vrpc-conn-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (mkdtemp(dir)) {
        test_open(dir);
        rmdir(dir);
    } else {
        tap_skip("open: cannot create a temporary directory");
    }
    TAP_OK(count_fds() == fds0, "no descriptor leaked (%d open, %d at start)", count_fds(), fds0);
    return tap_done();
}
