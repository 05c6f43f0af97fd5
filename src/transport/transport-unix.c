/* SPDX-License-Identifier: MIT */
/* The Unix-socket transport (and plain connected descriptors). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "error.h"
#include "io-faults.h"
#include "transport-cmd.h"
#include "transport.h"

/* Descriptors one recvmsg() can bring: one message's worth. */
#define UNIX_FDS_PER_READ 32

typedef struct unix_transport {
    vrpc_transport base;
    int fd;
    bool is_socket; /* send()/MSG_NOSIGNAL works */
    bool is_unix;   /* recvmsg()/SCM_RIGHTS */
} unix_transport;

/* ---- fault injection for tests (io-faults.h) ---- */

static bool faults_on; /* read without the lock: set before the I/O under test */
static pthread_mutex_t faults_lock = PTHREAD_MUTEX_INITIALIZER;
static vrpc_io_faults faults;
static unsigned long faults_calls, faults_syscalls, faults_short, faults_eintr, faults_eagain;
static unsigned int faults_rng;

void vrpc_io_faults_set(const vrpc_io_faults *f)
{
    pthread_mutex_lock(&faults_lock);
    memset(&faults, 0, sizeof(faults));
    if (f)
        faults = *f;
    faults_rng = faults.seed ? faults.seed : 1;
    faults_calls = faults_syscalls = faults_short = faults_eintr = faults_eagain = 0;
    __atomic_store_n(&faults_on, f != NULL, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&faults_lock);
}

void vrpc_io_faults_count(unsigned long *shortened, unsigned long *eintrs, unsigned long *eagains)
{
    pthread_mutex_lock(&faults_lock);
    *shortened = faults_short;
    *eintrs = faults_eintr;
    *eagains = faults_eagain;
    pthread_mutex_unlock(&faults_lock);
}

/* Before a read (max = faults.max_read) or write: the length to ask for, or
 * 0 for a spurious EAGAIN. */
static size_t fault_len(size_t len, bool is_read)
{
    size_t max, n = len;
    if (!__atomic_load_n(&faults_on, __ATOMIC_RELAXED))
        return len;
    pthread_mutex_lock(&faults_lock);
    faults_calls++;
    if (faults.eagain_every && faults_calls % faults.eagain_every == 0) {
        faults_eagain++;
        pthread_mutex_unlock(&faults_lock);
        return 0;
    }
    max = is_read ? faults.max_read : faults.max_write;
    if (max && faults.random_sizes) {
        faults_rng = faults_rng * 1103515245u + 12345u;
        max = 1 + (faults_rng >> 8) % max;
    }
    if (max && n > max) {
        n = max;
        faults_short++;
    }
    pthread_mutex_unlock(&faults_lock);
    return n;
}

/* Before a system call: true to fail it with EINTR instead. */
static bool fault_eintr(void)
{
    bool r = false;
    if (!__atomic_load_n(&faults_on, __ATOMIC_RELAXED))
        return false;
    pthread_mutex_lock(&faults_lock);
    if (faults.eintr_every && ++faults_syscalls % faults.eintr_every == 0) {
        faults_eintr++;
        r = true;
    }
    pthread_mutex_unlock(&faults_lock);
    if (r)
        errno = EINTR;
    return r;
}

#define SYS_ERR(err, errnum, ...)                                                                  \
    vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errnum, __VA_ARGS__)

static ssize_t unix_read(vrpc_transport *tr, void *buf, size_t len, int *fds, size_t *nfds,
                         size_t maxfds, vrpc_error **err)
{
    unix_transport *t = (unix_transport *)tr;
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * UNIX_FDS_PER_READ)];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg;
    struct cmsghdr *c;
    bool overflow = false;
    ssize_t n;

    if (len && (len = fault_len(len, true)) == 0)
        return VRPC_E_AGAIN;
    iov.iov_len = len;
    if (!t->is_unix) {
        do
            n = fault_eintr() ? -1 : read(t->fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return VRPC_E_AGAIN;
            int e = errno;
            SYS_ERR(err, e, "read from %s", tr->peer);
            return e == ECONNRESET ? VRPC_E_CLOSED : VRPC_E_IO;
        }
        return n;
    }

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    do
        n = fault_eintr() ? -1 : recvmsg(t->fd, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return VRPC_E_AGAIN;
        int e = errno;
        SYS_ERR(err, e, "recvmsg from %s", tr->peer);
        return e == ECONNRESET ? VRPC_E_CLOSED : VRPC_E_IO;
    }
    for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        size_t k, cnt;
        int *in;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        in = (int *)(void *)CMSG_DATA(c);
        for (k = 0; k < cnt; k++) {
            int fd;
            memcpy(&fd, in + k, sizeof(fd));
            if (fds && nfds && *nfds < maxfds) {
                fds[(*nfds)++] = fd;
            } else {
                close(fd);
                overflow = true;
            }
        }
    }
    if (overflow || (msg.msg_flags & MSG_CTRUNC)) {
        SYS_ERR(err, EMSGSIZE, "recvmsg from %s: more file descriptors than a message may carry",
                tr->peer);
        return VRPC_E_PROTO;
    }
    return n;
}

static ssize_t unix_write(vrpc_transport *tr, const void *buf, size_t len, vrpc_error **err)
{
    unix_transport *t = (unix_transport *)tr;
    ssize_t n;
    if (len && (len = fault_len(len, false)) == 0)
        return VRPC_E_AGAIN;
    do {
        if (fault_eintr())
            n = -1;
        else if (t->is_socket)
            n = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        else
            n = write(t->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return VRPC_E_AGAIN;
        int e = errno;
        SYS_ERR(err, e, "write to %s", tr->peer);
        return (e == EPIPE || e == ECONNRESET) ? VRPC_E_CLOSED : VRPC_E_IO;
    }
    return n;
}

static int unix_send_fd(vrpc_transport *tr, int fd, vrpc_error **err)
{
    unix_transport *t = (unix_transport *)tr;
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    char carrier = 0;
    struct iovec iov = {.iov_base = &carrier, .iov_len = 1};
    struct msghdr msg;
    struct cmsghdr *c;
    ssize_t n;

    memset(&msg, 0, sizeof(msg));
    memset(&ctl, 0, sizeof(ctl));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    do
        n = fault_eintr() ? -1 : sendmsg(t->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return VRPC_E_AGAIN;
        SYS_ERR(err, errno, "sendmsg (file descriptor) to %s", tr->peer);
        return VRPC_E_IO;
    }
    return 1;
}

static int unix_fd(const vrpc_transport *tr)
{
    return ((const unix_transport *)tr)->fd;
}

static void unix_close(vrpc_transport *tr)
{
    unix_transport *t = (unix_transport *)tr;
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    vrpc_free(t->base.peer);
    vrpc_free(t);
}

static const vrpc_transport_ops unix_ops = {
    .name = "unix",
    .read = unix_read,
    .write = unix_write,
    .send_fd = unix_send_fd,
    .pending = NULL,
    .events = NULL,
    .fd = unix_fd,
    .close = unix_close,
};

static const vrpc_transport_ops fd_ops = {
    .name = "fd",
    .read = unix_read,
    .write = unix_write,
    .send_fd = NULL,
    .pending = NULL,
    .events = NULL,
    .fd = unix_fd,
    .close = unix_close,
};

static int set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

static int wrap(int fd, const char *peer, vrpc_transport **out, vrpc_error **err)
{
    unix_transport *t;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int type = 0;
    socklen_t tl = sizeof(type);

    t = vrpc_calloc(1, sizeof(*t));
    if (!t || !(t->base.peer = vrpc_strdup(peer))) {
        vrpc_free(t);
        close(fd);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
        return VRPC_E_NOMEM;
    }
    t->fd = fd;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0) {
        t->is_socket = true;
        memset(&ss, 0, sizeof(ss));
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_UNIX)
            t->is_unix = true;
    }
    t->base.ops = t->is_unix ? &unix_ops : &fd_ops;
    if (set_nonblock_cloexec(fd) < 0) {
        SYS_ERR(err, errno, "fcntl(O_NONBLOCK) on %s", peer);
        unix_close(&t->base);
        return VRPC_E_IO;
    }
    *out = &t->base;
    return 0;
}

int vrpc_transport_fd_new(int fd, vrpc_transport **out, vrpc_error **err)
{
    char peer[64];
    *out = NULL;
    if (fd < 0) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC, "invalid file descriptor %d", fd);
        return VRPC_E_INVALID;
    }
    snprintf(peer, sizeof(peer), "file descriptor %d", fd);
    return wrap(fd, peer, out, err);
}

int vrpc_transport_unix_connect(const char *path, vrpc_transport **out, vrpc_error **err)
{
    return vrpc_transport_unix_connect_errno(path, NULL, out, err);
}

int vrpc_transport_unix_connect_errno(const char *path, int *errnum, vrpc_transport **out,
                                      vrpc_error **err)
{
    struct sockaddr_un sa;
    socklen_t salen;
    size_t plen;
    int fd, rc, e;

    *out = NULL;
    if (errnum)
        *errnum = 0;
    if (!path || !*path) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC, "empty socket path");
        return VRPC_E_INVALID;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    plen = strlen(path);
    if (path[0] == '@') {
        /* Abstract namespace: a leading NUL, then the name (no terminator). */
        if (plen > sizeof(sa.sun_path)) {
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                           "connect to %s: abstract socket name longer than %zu bytes", path,
                           sizeof(sa.sun_path) - 1);
            return VRPC_E_INVALID;
        }
        memcpy(sa.sun_path + 1, path + 1, plen - 1);
        salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
    } else {
        if (plen >= sizeof(sa.sun_path)) {
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                           "connect to %s: socket path longer than %zu bytes", path,
                           sizeof(sa.sun_path) - 1);
            return VRPC_E_INVALID;
        }
        memcpy(sa.sun_path, path, plen);
        salen = (socklen_t)sizeof(sa);
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        SYS_ERR(err, errno, "socket(AF_UNIX) for %s", path);
        return VRPC_E_IO;
    }
    rc = connect(fd, (struct sockaddr *)&sa, salen);
    if (rc < 0 && errno == EINTR) {
        /* The connection proceeds asynchronously: wait for its outcome. */
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        socklen_t el = sizeof(e);
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
            e = errno;
        rc = e ? -1 : 0;
        errno = e;
    }
    if (rc < 0) {
        e = errno;
        close(fd);
        if (errnum)
            *errnum = e;
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, e, "connect to %s", path);
        return e == ENOENT ? VRPC_E_NOT_FOUND : VRPC_E_CONNECT;
    }
    return wrap(fd, path, out, err);
}
