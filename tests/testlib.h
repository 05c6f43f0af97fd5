/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the C test programs, next to the TAP producer (tap.h,
 * included here): what many tests measure (open descriptors, child
 * processes, the monotonic clock), small string and I/O helpers, and where
 * the private daemons of scripts/test-daemon.sh put their sockets.
 *
 * Header only, every function static and marked unused: a program includes
 * it ("testlib.h" with the tests folder on the include path, or
 * "../testlib.h") and takes what it needs.
 */
#ifndef VIRTRPC_TESTS_TESTLIB_H
#define VIRTRPC_TESTS_TESTLIB_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define TL_UNUSED __attribute__((unused))

/* ---- processes ---- */

/* Descriptors open in this process now (not counting the one used to
 * count), or -1 when /proc cannot be read. */
TL_UNUSED static int tl_count_fds(void)
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

/* Processes whose parent is this process (running or zombie), or -1. */
TL_UNUSED static int tl_count_children(void)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512];
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof(buf), f)) {
            const char *p = strrchr(buf, ')'); /* the name may hold anything */
            int ppid = 0;
            char st;
            if (p && sscanf(p + 1, " %c %d", &st, &ppid) == 2 && ppid == (int)getpid())
                n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

/* ---- time ---- */

/* The monotonic clock (the one the library's deadlines use), in ms. */
TL_UNUSED static int64_t tl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The same in seconds. */
TL_UNUSED static double tl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep ms milliseconds, a signal notwithstanding. */
TL_UNUSED static void tl_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- strings ---- */

/* printf into a new string; aborts when out of memory. */
__attribute__((format(printf, 1, 2), unused)) static char *tl_strf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

/* Single-quote s for the shell (malloc'd; aborts when out of memory). */
TL_UNUSED static char *tl_shq(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *q = malloc(n * 4 + 3);
    if (!q)
        abort();
    q[o++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(q + o, "'\\''", 4);
            o += 4;
        } else {
            q[o++] = *s;
        }
    }
    q[o++] = '\'';
    q[o] = '\0';
    return q;
}

/* ---- running other programs (virsh, python, ...) ---- */

/*
 * Run a shell command; its stdout goes to *out (malloc'd, NUL-terminated,
 * "" when it could not run; out may be NULL), its stderr where the command line sends it (here by
 * default: add "2>&1" or "2>/dev/null"). Returns its exit status, or -1 when
 * it could not run or did not exit.
 */
__attribute__((format(printf, 2, 3), unused)) static int tl_sh(char **out, const char *fmt, ...)
{
    va_list ap;
    char *cmd, *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *p;
    int st;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    fflush(stdout);
    p = popen(cmd, "re");
    free(cmd);
    if (!p) {
        if (out && !(*out = calloc(1, 1)))
            abort();
        return -1;
    }
    for (;;) {
        size_t r;
        if (len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
        r = fread(buf + len, 1, cap - len - 1, p);
        if (r == 0)
            break;
        len += r;
    }
    buf[len] = '\0';
    st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- I/O on the test's own end of a socket or pipe ---- */

/* Read exactly n bytes: 0, or -1 on an error or an early end. */
TL_UNUSED static int tl_read_full(int fd, void *buf, size_t n)
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

/* Send all n bytes on a socket (no SIGPIPE): 0, or -1. */
TL_UNUSED static int tl_send_full(int fd, const void *buf, size_t n)
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

/* One carrier byte on the Unix socket sock with descriptor fd attached
 * (SCM_RIGHTS), as libvirt's daemon passes one; fd < 0: the byte alone.
 * 0, or -1. */
TL_UNUSED static int tl_send_fd(int sock, int fd)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    char carrier = 0;
    struct iovec iov = {.iov_base = &carrier, .iov_len = 1};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    memset(&ctl, 0, sizeof(ctl));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        struct cmsghdr *c;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* ---- the private daemons (scripts/test-daemon.sh) ---- */

/* The test driver's URI of the root daemon in DIR (start or start-one):
 * test+unix:///default?socket=DIR/sys/run/libvirt-sock (malloc'd). */
TL_UNUSED static char *tl_sys_uri(const char *dir)
{
    return tl_strf("test+unix:///default?socket=%s/sys/run/libvirt-sock", dir);
}

#endif
