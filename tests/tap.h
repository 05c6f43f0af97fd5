/* SPDX-License-Identifier: MIT */
/* A tiny TAP producer shared by the C test programs. Each program prints
 * "ok N - name" / "not ok N - name" lines and a final "1..N" plan.
 *
 * A program run by a script that prints the plan itself (the script runs
 * several of them and numbers their lines: tests/lib.sh) sets tap_plain:
 * its lines are "ok - name", unnumbered, each name after tap_prefix, and it
 * does not call tap_done(). The rest of the test helpers: testlib.h. */
#ifndef VIRTRPC_TESTS_TAP_H
#define VIRTRPC_TESTS_TAP_H

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_n;
static int tap_failed;
static int tap_plain;               /* unnumbered lines, no plan */
static const char *tap_prefix = ""; /* before every name (plain lines) */

__attribute__((unused)) static void tap_start_line(int cond)
{
    ++tap_n;
    if (tap_plain)
        printf("%sok - %s", cond ? "" : "not ", tap_prefix);
    else
        printf("%sok %d - ", cond ? "" : "not ", tap_n);
}

__attribute__((format(printf, 2, 3), unused)) static int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_start_line(cond);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (!cond)
        tap_failed++;
    return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void tap_skip(const char *fmt, ...)
{
    va_list ap;
    tap_start_line(1);
    printf("# SKIP ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

__attribute__((format(printf, 1, 2), unused)) static void tap_diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/*
 * Descriptor-leak check: the descriptors open when the program starts are
 * noted (a constructor); tap_done() adds a test that none other is open by
 * then, naming what each leaked one is. A program that means to keep one
 * open past tap_done() defines TAP_NO_FD_CHECK before including this file.
 */
#define TAP_FD_MAX 256
static int tap_fds_start[TAP_FD_MAX]; /* e.g. a debugger's or Valgrind's, inherited ones */
static int tap_nfds_start;

__attribute__((constructor, unused)) static void tap_note_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d) && tap_nfds_start < TAP_FD_MAX)
            tap_fds_start[tap_nfds_start++] = atoi(de->d_name);
    closedir(d);
}

__attribute__((unused)) static int tap_fd_was_open(int fd)
{
    for (int i = 0; i < tap_nfds_start; i++)
        if (tap_fds_start[i] == fd)
            return 1;
    return 0;
}

__attribute__((unused)) static void tap_check_fds_at_exit(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    char leaked[512] = "";
    int n = 0;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        int fd = atoi(de->d_name);
        char path[64], target[128];
        ssize_t len;
        if (de->d_name[0] == '.' || fd == dirfd(d) || tap_fd_was_open(fd))
            continue;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        len = readlink(path, target, sizeof(target) - 1);
        target[len > 0 ? len : 0] = '\0';
        if (strlen(leaked) + strlen(target) + 16 < sizeof(leaked))
            snprintf(leaked + strlen(leaked), sizeof(leaked) - strlen(leaked), "%s%d %s",
                     n ? ", " : "", fd, target);
        n++;
    }
    closedir(d);
    printf("%sok %d - no descriptor left open%s%s\n", n ? "not " : "", ++tap_n, n ? ": " : "",
           leaked);
    fflush(stdout);
    if (n)
        tap_failed++;
}

/* Print the plan and return the exit status. */
__attribute__((unused)) static int tap_done(void)
{
#ifndef TAP_NO_FD_CHECK
    tap_check_fds_at_exit();
#endif
    printf("1..%d\n", tap_n);
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#define TAP_OK(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#endif
