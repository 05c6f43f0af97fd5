/* SPDX-License-Identifier: MIT */
/*
 * Small helpers of the stream tests against real daemons (test-streams.sh
 * starts the daemon and passes its socket in VRPC_STREAMS_SOCKET).
 */
#ifndef VIRTRPC_TESTS_STREAMS_SUTIL_H
#define VIRTRPC_TESTS_STREAMS_SUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "../tap.h"

static inline int64_t su_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void su_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

__attribute__((format(printf, 1, 2), unused)) static char *su_strf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

/* The URI of a driver of the test daemon: "storage:///session?socket=..." */
static inline char *su_uri(const char *driver)
{
    const char *sock = getenv("VRPC_STREAMS_SOCKET");
    return su_strf("%s:///session?socket=%s", driver, sock ? sock : "/nonexistent");
}

static inline int su_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* Run a shell command; its standard output (malloc'd) in *out if out. Exit status. */
__attribute__((format(printf, 2, 3), unused)) static int su_sh(char **out, const char *fmt, ...)
{
    va_list ap;
    char *cmd = NULL, *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *p;
    int st;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    p = popen(cmd, "re");
    free(cmd);
    if (!p)
        return -1;
    for (;;) {
        size_t n;
        if (len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            buf = realloc(buf, cap);
        }
        n = fread(buf + len, 1, cap - len - 1, p);
        if (n == 0)
            break;
        len += n;
    }
    if (buf)
        buf[len] = 0;
    st = pclose(p);
    if (out)
        *out = buf ? buf : calloc(1, 1);
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Single-quote s for the shell (malloc'd). */
static inline char *su_shq(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *q = malloc(n), *o = q;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = 0;
    return q;
}

/* The same bytes in two files? */
static inline bool su_same_files(const char *a, const char *b)
{
    FILE *x = fopen(a, "rbe"), *y = fopen(b, "rbe");
    bool same = x && y;
    static char bx[1 << 16], by[1 << 16];
    while (same) {
        size_t nx = fread(bx, 1, sizeof(bx), x), ny = fread(by, 1, sizeof(by), y);
        if (nx != ny || memcmp(bx, by, nx) != 0)
            same = false;
        if (nx == 0)
            break;
    }
    if (x)
        fclose(x);
    if (y)
        fclose(y);
    return same;
}

/* Allocated bytes of a file (st_blocks * 512), -1 on error. */
static inline long long su_allocated(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_blocks * 512 : -1;
}

/* "message (code N, domain N)" of an error, static. */
static inline const char *su_err(const vrpc_error *e)
{
    static char b[512];
    if (!e)
        return "(no error)";
    snprintf(b, sizeof(b), "%s (code %d, domain %d)", e->message ? e->message : "?", (int)e->code,
             (int)e->domain);
    return b;
}

#endif
