/* SPDX-License-Identifier: MIT */
/* The shared TAP helper plus a TODO form for known, reported library bugs. */
#ifndef VIRTRPC_TESTS_ITTAP_H
#define VIRTRPC_TESTS_ITTAP_H

#include "../tap.h"

/*
 * Like tap_ok(), but a failure is reported as "not ok N - ... # TODO reason"
 * and does not fail the program (TAP: an expected failure). Use it only for
 * a check that fails because of a known library bug; once the bug is fixed
 * the check passes as a plain "ok".
 */
__attribute__((format(printf, 3, 4), unused)) static int tap_ok_todo(int cond, const char *reason,
                                                                     const char *fmt, ...)
{
    va_list ap;
    tap_start_line(cond);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!cond)
        printf(" # TODO %s", reason);
    printf("\n");
    fflush(stdout);
    return cond;
}

#endif
