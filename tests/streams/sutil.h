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

#include "../testlib.h"

/* The URI of a driver of the test daemon: "storage:///session?socket=..." */
static inline char *su_uri(const char *driver)
{
    const char *sock = getenv("VRPC_STREAMS_SOCKET");
    return tl_strf("%s:///session?socket=%s", driver, sock ? sock : "/nonexistent");
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
