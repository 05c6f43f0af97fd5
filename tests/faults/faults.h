/* SPDX-License-Identifier: MIT */
/* Helpers shared by the fault-injection tests. */
#ifndef VIRTRPC_TESTS_FAULTS_H
#define VIRTRPC_TESTS_FAULTS_H

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <virtrpc/protocol.h>

#include "../tap.h"

/* Number of open descriptors of this process. */
__attribute__((unused)) static int fault_count_fds(void)
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
    return n - 1; /* the directory's own descriptor */
}

__attribute__((unused)) static double fault_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 1, 2), unused)) static char *fault_strf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        abort();
    return s;
}

/* The read-write socket of the shared test daemon ($VRPC_TEST_DIR), or NULL
 * (and the program skips). */
__attribute__((unused)) static char *fault_test_uri(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    struct stat st;
    if (!d || !*d || stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return fault_strf("test+unix:///default?socket=%s/sys/run/libvirt-sock", d);
}

#endif
