/* SPDX-License-Identifier: MIT */
/* The TCP transport: resolve, connect with a deadline, TCP_NODELAY. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "tcp.h"

typedef struct tcp_transport {
    vrpc_transport base;
    int fd;
} tcp_transport;

#define SYS_ERR(err, errnum, ...)                                                                  \
    vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errnum, __VA_ARGS__)

static ssize_t tcp_read(vrpc_transport *tr, void *buf, size_t len, int *fds, size_t *nfds,
                        size_t maxfds, vrpc_error **err)
{
    tcp_transport *t = (tcp_transport *)tr;
    ssize_t n;

    (void)fds;
    (void)nfds;
    (void)maxfds;
    do
        n = recv(t->fd, buf, len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK)
            return VRPC_E_AGAIN;
        SYS_ERR(err, e, "read from %s", tr->peer);
        return e == ECONNRESET ? VRPC_E_CLOSED : VRPC_E_IO;
    }
    return n;
}

static ssize_t tcp_write(vrpc_transport *tr, const void *buf, size_t len, vrpc_error **err)
{
    tcp_transport *t = (tcp_transport *)tr;
    ssize_t n;

    do
        n = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK)
            return VRPC_E_AGAIN;
        SYS_ERR(err, e, "write to %s", tr->peer);
        return (e == EPIPE || e == ECONNRESET) ? VRPC_E_CLOSED : VRPC_E_IO;
    }
    return n;
}

static int tcp_fd(const vrpc_transport *tr)
{
    return ((const tcp_transport *)tr)->fd;
}

static void tcp_close(vrpc_transport *tr)
{
    tcp_transport *t = (tcp_transport *)tr;
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    vrpc_free(t->base.peer);
    vrpc_free(t);
}

static const vrpc_transport_ops tcp_ops = {
    .name = "tcp",
    .read = tcp_read,
    .write = tcp_write,
    .send_fd = NULL,
    .pending = NULL,
    .events = NULL,
    .fd = tcp_fd,
    .close = tcp_close,
};

bool vrpc_transport_is_tcp(const vrpc_transport *t)
{
    return t && t->ops == &tcp_ops;
}

char *vrpc_tcp_peer_name(const char *host, int port)
{
    bool v6 = strchr(host, ':') != NULL;
    size_t n = strlen(host) + 16;
    char *s = vrpc_malloc(n);
    if (s)
        snprintf(s, n, v6 ? "[%s]:%d" : "%s:%d", host, port);
    return s;
}

/* Returned by connect_one() when our deadline passed (not an errno value). */
#define CONNECT_DEADLINE (-1)

/*
 * Connect fd (non-blocking) to one address. Returns 0, an errno value, or
 * CONNECT_DEADLINE (deadline < 0: none).
 */
static int connect_one(int fd, const struct addrinfo *ai, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    socklen_t el;
    int e = 0;

    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return errno;
    for (;;) {
        int timeout = -1, n;
        if (deadline >= 0) {
            int64_t left = deadline - vrpc_mono_ms();
            if (left <= 0)
                return CONNECT_DEADLINE;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        p.revents = 0;
        n = poll(&p, 1, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n > 0)
            break;
    }
    el = sizeof(e);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
        return errno;
    return e;
}

int vrpc_transport_tcp_connect(const char *host, int port, int timeout_ms, vrpc_transport **out,
                               vrpc_error **err)
{
    struct addrinfo hints, *ai = NULL, *a;
    char service[16];
    char *peer;
    tcp_transport *t;
    int fd = -1, rc, last = ENOENT, one = 1;

    *out = NULL;
    if (!host || !*host || port <= 0 || port > 65535) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "connect: invalid TCP address %s:%d", host ? host : "(null)", port);
        return VRPC_E_INVALID;
    }
    if (timeout_ms < 0)
        timeout_ms = VRPC_TCP_CONNECT_TIMEOUT_MS;
    peer = vrpc_tcp_peer_name(host, port);
    if (!peer) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
        return VRPC_E_NOMEM;
    }

    snprintf(service, sizeof(service), "%d", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_V4MAPPED | AI_NUMERICSERV;
    rc = getaddrinfo(host, service, &hints, &ai);
    if (rc) {
        if (rc == EAI_SYSTEM)
            SYS_ERR(err, errno, "resolve: %s", host);
        else
            vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, "resolve: %s: %s", host,
                           gai_strerror(rc));
        vrpc_error_set_step(err, VRPC_STEP_RESOLVE);
        vrpc_free(peer);
        return VRPC_E_CONNECT;
    }

    for (a = ai; a; a = a->ai_next) {
        int64_t deadline = timeout_ms > 0 ? vrpc_mono_ms() + timeout_ms : -1;
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        last = connect_one(fd, a, deadline);
        if (last == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);

    if (fd < 0) {
        /* The last address's outcome (libvirt reports the last errno too). */
        if (last == CONNECT_DEADLINE)
            vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC,
                           "connect to %s: timed out after %d ms", peer, timeout_ms);
        else
            SYS_ERR(err, last, "connect to %s", peer);
        vrpc_free(peer);
        return last == CONNECT_DEADLINE ? VRPC_E_TIMEOUT : VRPC_E_CONNECT;
    }
    /* Small RPC packets go out at once (libvirt sets it too); not fatal. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    t = vrpc_calloc(1, sizeof(*t));
    if (!t) {
        close(fd);
        vrpc_free(peer);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
        return VRPC_E_NOMEM;
    }
    t->base.ops = &tcp_ops;
    t->base.peer = peer;
    t->fd = fd;
    *out = &t->base;
    return 0;
}
