/* SPDX-License-Identifier: MIT */
/*
 * A daemon killed (SIGKILL) in the middle of streams and calls.
 *
 * test-kill busy: a reader, a writer, a thread waiting for data on a stream
 * nobody feeds, a stream nobody reads, and threads making calls in a loop
 * all return an error at once; nothing hangs; once the streams are freed
 * and the connection is closed, no descriptor is left open.
 *
 * test-kill idle: the only activity is a full stream that has paused
 * reading, and the event thread; the end of the daemon is still noticed at
 * once (the close callback runs, the next call fails), and the stream hands
 * out what it had, then the error.
 */
#include <pthread.h>
#include <signal.h>

#include "sutil.h"

#define MiB ((uint64_t)1 << 20)

static vrpc_conn *c;
static vrpc_nonnull_storage_pool pool;

typedef struct worker {
    const char *what;
    vrpc_stream *st;
    int rc;
    int64_t at;
    long n; /* operations done before the end */
} worker;

static void *reader(void *arg)
{
    worker *w = arg;
    static uint8_t buf[1 << 16];
    ssize_t n;
    while ((n = vrpc_stream_recv(w->st, buf, sizeof(buf), 0, NULL)) > 0) {
        w->n++;
        tl_sleep_ms(2); /* a slow reader */
    }
    w->rc = n == 0 ? 1 : (int)n;
    w->at = tl_now_ms();
    return NULL;
}

static void *writer(void *arg)
{
    worker *w = arg;
    static uint8_t buf[1 << 20];
    ssize_t n;
    do {
        n = vrpc_stream_send(w->st, buf, sizeof(buf), 0, NULL);
        w->n++;
    } while (n > 0 && w->n < 60); /* at most 60 MiB: the volume holds 64 */
    w->rc = n >= 0 ? 1 : (int)n;
    while (w->rc == 1 && vrpc_conn_get_status(c) == 0)
        tl_sleep_ms(5);
    if (w->rc == 1)
        w->rc = (int)vrpc_stream_send(w->st, buf, 1, 0, NULL);
    w->at = tl_now_ms();
    return NULL;
}

/* Waits for data on an upload stream: the daemon never sends any. */
static void *waiter(void *arg)
{
    worker *w = arg;
    w->rc = vrpc_stream_wait_readable(w->st, VRPC_USEC_INFINITY);
    w->at = tl_now_ms();
    return NULL;
}

static void *caller(void *arg)
{
    worker *w = arg;
    vrpc_storage_pool_get_info_args a = {pool};
    int rc;
    do {
        vrpc_storage_pool_get_info_ret *r = NULL;
        rc = vrpc_storage_pool_get_info(c, &a, &r, NULL);
        vrpc_free(r);
        w->n++;
        tl_sleep_ms(30);
    } while (rc == 0);
    w->rc = rc;
    w->at = tl_now_ms();
    return NULL;
}

static int make_vol(const char *name, uint64_t cap, vrpc_storage_vol_create_xml_ret **out)
{
    vrpc_storage_vol_create_xml_args a;
    char *xml = tl_strf("<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
                        "<allocation>0</allocation><target><format type='raw'/></target>"
                        "</volume>",
                        name, (unsigned long long)cap);
    int rc;
    a.pool = pool;
    a.xml = xml;
    a.flags = 0;
    rc = vrpc_storage_vol_create_xml(c, &a, out, NULL);
    free(xml);
    return rc;
}

static int open_download(const vrpc_nonnull_storage_vol *v, vrpc_stream **st)
{
    vrpc_storage_vol_download_args a;
    memset(&a, 0, sizeof(a));
    a.vol = *v;
    return vrpc_stream_call(c, &vrpc_pd_storage_vol_download, &a, NULL, st, NULL);
}

static pthread_mutex_t close_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t closed_at;
static int close_reason = -1;

static void on_close(vrpc_conn *cc, int reason, void *opaque)
{
    (void)cc;
    (void)opaque;
    pthread_mutex_lock(&close_lock);
    closed_at = tl_now_ms();
    close_reason = reason;
    pthread_mutex_unlock(&close_lock);
}

static void idle_mode(vrpc_stream *full, int daemon_pid)
{
    static uint8_t b[1 << 16];
    vrpc_error *e = NULL;
    int64_t killed, at = 0;
    size_t got = 0, b0;
    ssize_t n;
    int rc;

    rc = vrpc_conn_set_close_callback(c, on_close, NULL, NULL, &e);
    TAP_OK(rc == 0, "close callback set %s", rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    TAP_OK(vrpc_conn_start_event_thread(c) == 0, "the event thread runs");
    /* (Those calls made the library read a few packets more.) */
    tl_sleep_ms(100);
    b0 = vrpc_stream_buffered(full);
    tl_sleep_ms(300);
    TAP_OK(vrpc_stream_buffered(full) == b0,
           "the event thread does not read while the stream is full (%zu, %zu)", b0,
           vrpc_stream_buffered(full));
    killed = tl_now_ms();
    rc = kill(daemon_pid, SIGKILL);
    TAP_OK(rc == 0, "the daemon (pid %d) is killed while reading is paused", daemon_pid);
    for (int i = 0; i < 300 && !at; i++) {
        pthread_mutex_lock(&close_lock);
        at = closed_at;
        pthread_mutex_unlock(&close_lock);
        tl_sleep_ms(10);
    }
    TAP_OK(at && at - killed < 2000 && close_reason == VRPC_CONNECT_CLOSE_REASON_EOF,
           "the close callback reports it within %lld ms (reason %d)", (long long)(at - killed),
           close_reason);
    rc = vrpc_storage_pool_get_info(c, &(vrpc_storage_pool_get_info_args){pool}, NULL, &e);
    TAP_OK(rc < 0, "the next call fails: %s", su_err(e));
    vrpc_free(e);
    e = NULL;
    while ((n = vrpc_stream_recv(full, b, sizeof(b), 0, &e)) > 0)
        got += (size_t)n;
    TAP_OK(n < 0 && got >= VRPC_STREAM_BUFFER_SOFT,
           "the full stream still hands out the %zu bytes it had, then the error: %s", got,
           su_err(e));
    vrpc_free(e);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("VRPC_STREAMS_DIR"), *pidfile = getenv("VRPC_STREAMS_PIDFILE");
    vrpc_storage_pool_create_xml_args pa;
    vrpc_storage_pool_create_xml_ret *pr = NULL;
    vrpc_storage_vol_create_xml_ret *big = NULL, *up = NULL, *empty = NULL, *zeros = NULL;
    vrpc_storage_vol_upload_args ua;
    vrpc_stream *full = NULL;
    vrpc_error *e = NULL;
    worker w[8];
    pthread_t t[8];
    int nw = 0, base, rc, daemon_pid = 0;
    int64_t killed, worst = 0;
    char *uri, *xml;
    FILE *f;
    bool all_failed = true;

    bool idle = argc > 1 && strcmp(argv[1], "idle") == 0;

    if (!dir || !pidfile) {
        printf("1..0 # SKIP run by test-streams.sh with the storage driver\n");
        return 0;
    }
    alarm(120); /* a hang fails the test instead of blocking the suite */
    base = tl_count_fds();
    uri = su_uri("storage");
    rc = vrpc_conn_open(&c, uri, 0, &e);
    if (rc) {
        TAP_OK(0, "open %s: %s", uri, su_err(e));
        return tap_done();
    }
    xml = tl_strf("<pool type='dir'><name>kp</name><target><path>%s/pool/kp</path></target>"
                  "</pool>",
                  dir);
    pa.xml = xml;
    pa.flags = VRPC_STORAGE_POOL_CREATE_WITH_BUILD;
    rc = vrpc_storage_pool_create_xml(c, &pa, &pr, &e);
    free(xml);
    TAP_OK(rc == 0, "set-up: a pool %s", rc ? su_err(e) : "");
    if (rc)
        return tap_done();
    pool = pr->pool;
    make_vol("big", 64 * MiB, &big);
    /* Unallocated: downloads of it are 512 MiB of zeros, more than the reader gets through. */
    make_vol("zeros", 512 * MiB, &zeros);
    make_vol("up", 64 * MiB, &up);
    make_vol("empty", 0, &empty);
    {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        rc = vrpc_stream_vol_upload(c, &big->vol, fd, 0, 64 * MiB, 0, NULL, NULL, &e);
        close(fd);
        TAP_OK(rc == 0, "set-up: 64 MiB of data %s", rc ? su_err(e) : "");
    }

    /* A stream whose buffer fills up, never read: reading pauses. */
    open_download(&zeros->vol, &full);
    for (int i = 0; i < 500 && vrpc_stream_buffered(full) < VRPC_STREAM_BUFFER_SOFT; i++) {
        vrpc_conn_process(c);
        tl_sleep_ms(10);
    }
    TAP_OK(vrpc_stream_buffered(full) >= VRPC_STREAM_BUFFER_SOFT,
           "a stream that nobody reads is full (%zu bytes)", vrpc_stream_buffered(full));
    f = fopen(pidfile, "re");
    if (f) {
        if (fscanf(f, "%d", &daemon_pid) != 1)
            daemon_pid = 0;
        fclose(f);
    }
    if (daemon_pid <= 0) {
        TAP_OK(0, "the daemon's pid from %s", pidfile);
        return tap_done();
    }
    if (idle) {
        idle_mode(full, daemon_pid);
        goto out;
    }

    memset(w, 0, sizeof(w));
    w[nw].what = "reader";
    open_download(&zeros->vol, &w[nw].st);
    pthread_create(&t[nw], NULL, reader, &w[nw]);
    nw++;
    w[nw].what = "writer";
    memset(&ua, 0, sizeof(ua));
    ua.vol = up->vol;
    vrpc_stream_call(c, &vrpc_pd_storage_vol_upload, &ua, NULL, &w[nw].st, NULL);
    pthread_create(&t[nw], NULL, writer, &w[nw]);
    nw++;
    w[nw].what = "waiter for data that never comes";
    memset(&ua, 0, sizeof(ua));
    ua.vol = empty->vol;
    vrpc_stream_call(c, &vrpc_pd_storage_vol_upload, &ua, NULL, &w[nw].st, NULL);
    pthread_create(&t[nw], NULL, waiter, &w[nw]);
    nw++;
    for (int i = 0; i < 3; i++, nw++) {
        w[nw].what = "caller";
        pthread_create(&t[nw], NULL, caller, &w[nw]);
    }
    tl_sleep_ms(700);

    killed = tl_now_ms();
    rc = kill(daemon_pid, SIGKILL);
    TAP_OK(rc == 0, "the daemon (pid %d) is killed in the middle of it all", daemon_pid);
    for (int i = 0; i < nw; i++) {
        pthread_join(t[i], NULL);
        if (w[i].rc >= 0) {
            all_failed = false;
            tap_diag("%s: rc %d after %ld operations", w[i].what, w[i].rc, w[i].n);
        }
        if (w[i].at - killed > worst)
            worst = w[i].at - killed;
    }
    TAP_OK(all_failed, "every reader, writer, waiter and caller returned an error");
    TAP_OK(worst < 3000, "all of them within %lld ms of the kill", (long long)worst);
    TAP_OK(w[0].n > 0 && w[1].n > 0 && w[3].n > 0, "they were busy before it (%ld, %ld, %ld)",
           w[0].n, w[1].n, w[3].n);
    TAP_OK(vrpc_conn_get_status(c) != 0, "the connection reports its end (%s)",
           vrpc_strerror(vrpc_conn_get_status(c)));
    {
        static uint8_t b[1 << 16];
        int64_t t0 = tl_now_ms();
        ssize_t n;
        rc = vrpc_storage_pool_get_info(c, &(vrpc_storage_pool_get_info_args){pool}, NULL, &e);
        TAP_OK(rc < 0 && tl_now_ms() - t0 < 1000, "afterwards a call fails at once: %s", su_err(e));
        vrpc_free(e);
        e = NULL;
        /* What it had (unless the others' reading took it past its hard limit: then it
         * failed already), then the error. */
        while ((n = vrpc_stream_recv(full, b, sizeof(b), 0, &e)) > 0)
            ;
        TAP_OK(n < 0 && tl_now_ms() - t0 < 1000, "the unread stream ends with an error too: %s",
               su_err(e));
        vrpc_free(e);
    }
    for (int i = 0; i < 3; i++)
        vrpc_stream_free(w[i].st);
out:
    vrpc_stream_free(full);
    vrpc_conn_close(c);
    vrpc_free(pr);
    vrpc_free(big);
    vrpc_free(up);
    vrpc_free(empty);
    vrpc_free(zeros);
    free(uri);
    TAP_OK(tl_count_fds() == base, "no descriptor left open (%d, %d)", tl_count_fds(), base);
    return tap_done();
}
