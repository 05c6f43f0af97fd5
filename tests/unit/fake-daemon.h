/* SPDX-License-Identifier: MIT */
/*
 * A scripted fake libvirt daemon for the authentication tests: it listens
 * on a Unix socket (or on TCP 127.0.0.1), accepts one connection in its
 * own thread and answers each call with the test's handler. Arguments are
 * decoded and replies encoded with the library's own codec.
 */
#ifndef VIRTRPC_TESTS_FAKE_DAEMON_H
#define VIRTRPC_TESTS_FAKE_DAEMON_H

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "alloc.h"
#include "message.h"

#define FAKE_MAX_SEEN 64

typedef struct fake_daemon fake_daemon;

/*
 * Answer one call (h: its header, payload/len: its arguments). Return 0
 * after replying with fake_reply*, or -1 to hang up.
 */
typedef int (*fake_handler)(fake_daemon *d, const vrpc_msg_header *h, const uint8_t *payload,
                            size_t len);

struct fake_daemon {
    int lfd, fd;
    pthread_t th;
    fake_handler handle;
    void *data;
    int seen[FAKE_MAX_SEEN]; /* procedure numbers, in order */
    int nseen;
    int port; /* TCP */
};

static int fake_read_full(int fd, void *buf, size_t n)
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

static int fake_write_full(int fd, const void *buf, size_t n)
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

/* Reply to h with status and a raw payload. */
__attribute__((unused)) static int fake_reply_raw(fake_daemon *d, const vrpc_msg_header *h,
                                                  int32_t status, const void *payload, size_t len)
{
    vrpc_msg_header r = *h;
    uint8_t *b = malloc(28 + len);
    int rc;
    r.type = VRPC_MSG_REPLY;
    r.status = status;
    vrpc_put_u32(b, (uint32_t)(28 + len));
    vrpc_msg_header_put(b + 4, &r);
    if (len)
        memcpy(b + 28, payload, len);
    rc = fake_write_full(d->fd, b, 28 + len);
    free(b);
    return rc;
}

/* Reply with a value of type t (NULL: void). */
__attribute__((unused)) static int fake_reply(fake_daemon *d, const vrpc_msg_header *h,
                                              const vrpc_type *t, const void *value)
{
    vrpc_buf b = {0};
    int rc;
    if (t && vrpc_xdr_encode(t, value, &b) != 0)
        return -1;
    rc = fake_reply_raw(d, h, VRPC_MSG_OK, b.data, b.len);
    vrpc_free(b.data);
    return rc;
}

/* Reply with an error as libvirtd sends it (str1 = the format, str2 = the detail). */
__attribute__((unused)) static int fake_reply_error(fake_daemon *d, const vrpc_msg_header *h,
                                                    int code, int domain, const char *message,
                                                    const char *str1, const char *str2)
{
    vrpc_error e;
    vrpc_buf b = {0};
    int rc;
    memset(&e, 0, sizeof(e));
    e.code = code;
    e.domain = domain;
    e.message = (char *)message;
    e.level = VRPC_ERR_ERROR;
    e.str1 = (char *)str1;
    e.str2 = (char *)str2;
    e.int1 = -1;
    e.int2 = -1;
    if (vrpc_xdr_encode(&vrpc_td_error, &e, &b) != 0)
        return -1;
    rc = fake_reply_raw(d, h, VRPC_MSG_ERROR, b.data, b.len);
    vrpc_free(b.data);
    return rc;
}

/* The standard answers: CONNECT_OPEN and CONNECT_CLOSE succeed. */
__attribute__((unused)) static int fake_answer_open_close(fake_daemon *d, const vrpc_msg_header *h)
{
    if (h->proc == VRPC_PROC_CONNECT_OPEN || h->proc == VRPC_PROC_CONNECT_CLOSE)
        return fake_reply(d, h, NULL, NULL);
    return fake_reply_error(d, h, VRPC_ERR_RPC, VRPC_FROM_RPC, "unknown procedure", NULL, NULL);
}

static void *fake_main(void *arg)
{
    fake_daemon *d = arg;
    d->fd = accept(d->lfd, NULL, NULL);
    if (d->fd < 0)
        return NULL;
    for (;;) {
        uint8_t hdr[28];
        vrpc_msg_header h;
        uint32_t len;
        uint8_t *payload;
        int rc;
        if (fake_read_full(d->fd, hdr, 28))
            break;
        len = vrpc_get_u32(hdr);
        vrpc_msg_header_get(hdr + 4, &h);
        if (len < 28 || len > (1u << 24))
            break;
        payload = malloc(len - 28 + 1);
        if (len > 28 && fake_read_full(d->fd, payload, len - 28)) {
            free(payload);
            break;
        }
        if (h.type != VRPC_MSG_CALL) {
            free(payload);
            continue;
        }
        if (d->nseen < FAKE_MAX_SEEN)
            d->seen[d->nseen++] = h.proc;
        rc = d->handle(d, &h, payload, len - 28);
        free(payload);
        if (rc)
            break;
    }
    close(d->fd);
    d->fd = -1;
    return NULL;
}

/* Listen on path (Unix) or, path NULL, on 127.0.0.1:port (d->port). */
__attribute__((unused)) static int fake_start(fake_daemon *d, const char *path, fake_handler h,
                                              void *data)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    d->handle = h;
    d->data = data;
    if (path) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sa.sun_path))
            return -1;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        unlink(path);
        d->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (d->lfd < 0 || bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            return -1;
    } else {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        d->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (d->lfd < 0 || bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockname(d->lfd, (struct sockaddr *)&sa, &sl) < 0)
            return -1;
        d->port = ntohs(sa.sin_port);
    }
    if (listen(d->lfd, 4) < 0)
        return -1;
    return pthread_create(&d->th, NULL, fake_main, d) == 0 ? 0 : -1;
}

/* Wait for the connection to end (the client closed it), then clean up. */
__attribute__((unused)) static void fake_finish(fake_daemon *d, const char *path)
{
    /* A client that never connected: unblock accept(). */
    shutdown(d->lfd, SHUT_RDWR);
    pthread_join(d->th, NULL);
    close(d->lfd);
    if (path)
        unlink(path);
}

/* The sequence of procedures the daemon saw, as text ("66 70 1 2"). */
__attribute__((unused)) static const char *fake_seen(const fake_daemon *d)
{
    static char buf[512];
    size_t off = 0;
    int i;
    buf[0] = 0;
    for (i = 0; i < d->nseen && off + 12 < sizeof(buf); i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%d", i ? " " : "", d->seen[i]);
    return buf;
}

__attribute__((unused)) static int fake_count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;
    if (!dir)
        return -1;
    while ((de = readdir(dir)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(dir);
    return n - 1;
}

#endif
