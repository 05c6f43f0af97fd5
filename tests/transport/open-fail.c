/* SPDX-License-Identifier: MIT */
/*
 * open-fail N URI TEXT...: open URI N times, each open must fail with an
 * error whose message contains every TEXT; afterwards no file descriptor
 * and no child process may be left behind. Prints TAP lines without a plan
 * (VRPC_CHECK_PREFIX is put before each name) and exits 1 on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "../testlib.h"

int main(int argc, char **argv)
{
    int n, i, k, fds0, fds1, kids0, kids1, opened = 0, mismatched = 0;
    char *first = NULL, detail[4096];

    if (argc < 3 || (n = atoi(argv[1])) <= 0) {
        fprintf(stderr, "usage: open-fail N URI [TEXT...]\n");
        return 2;
    }
    tap_plain = 1;
    if (getenv("VRPC_CHECK_PREFIX"))
        tap_prefix = getenv("VRPC_CHECK_PREFIX");
    fds0 = tl_count_fds();
    kids0 = tl_count_children();
    for (i = 0; i < n; i++) {
        vrpc_conn *c = NULL;
        vrpc_error *err = NULL;
        int rc = vrpc_conn_open(&c, argv[2], 0, &err);
        const char *msg = err && err->message ? err->message : "(no message)";
        if (rc == 0) {
            opened++;
            vrpc_conn_close(c);
        } else {
            for (k = 3; k < argc; k++)
                if (!strstr(msg, argv[k]))
                    mismatched++;
            if (!first)
                first = strdup(msg);
        }
        vrpc_free(err);
    }
    fds1 = tl_count_fds();
    kids1 = tl_count_children();

    snprintf(detail, sizeof(detail), "%s", first ? first : "(opened)");
    tap_ok(opened == 0, "refused: %s", detail);
    if (argc > 3) {
        size_t off = 0;
        for (k = 3; k < argc && off < sizeof(detail); k++)
            off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s'%s'", k > 3 ? ", " : "",
                                    argv[k]);
        tap_ok(opened == 0 && mismatched == 0, "the reason says: %s", detail);
    }
    snprintf(detail, sizeof(detail), "%d opens: %d fds before, %d after", n, fds0, fds1);
    tap_ok(fds0 == fds1, "no fd left behind: %s", detail);
    snprintf(detail, sizeof(detail), "%d before, %d after", kids0, kids1);
    tap_ok(kids0 == kids1, "no child process left behind: %s", detail);
    free(first);
    return tap_failed ? 1 : 0;
}
