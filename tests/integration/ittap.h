/* SPDX-License-Identifier: MIT */
/* The shared TAP helper plus a TODO form for known, reported library bugs. */
#ifndef VIRTRPC_TESTS_ITTAP_H
#define VIRTRPC_TESTS_ITTAP_H

#include "../tap.h"
#include "itest.h"

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

/*
 * Open the program's main connection to uri (a TAP check, with the daemon's
 * reason when it fails). Without it the program cannot go on: it then ends
 * here, as main would (it_finish, the plan, the exit status).
 */
__attribute__((unused)) static void it_open_or_exit(vrpc_conn **c, const char *uri)
{
    int rc = vrpc_conn_open(c, uri, 0, it_errp());
    if (!TAP_OK(rc == 0, "vrpc_conn_open %s: %d %s", uri, rc, rc ? it_errstr(it_err()) : "")) {
        it_finish();
        exit(tap_done());
    }
}

#endif
