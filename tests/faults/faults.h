/* SPDX-License-Identifier: MIT */
/* Helpers shared by the fault-injection tests. */
#ifndef VIRTRPC_TESTS_FAULTS_H
#define VIRTRPC_TESTS_FAULTS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <virtrpc/protocol.h>

#include "../testlib.h"

/* The read-write socket of the shared test daemon ($VRPC_TEST_DIR), or NULL
 * (and the program skips). */
__attribute__((unused)) static char *fault_test_uri(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    struct stat st;
    if (!d || !*d || stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return tl_strf("test+unix:///default?socket=%s/sys/run/libvirt-sock", d);
}

#endif
