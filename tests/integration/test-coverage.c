/* SPDX-License-Identifier: MIT */
/*
 * Integration: the distinct procedures the other integration programs
 * exercised successfully (each wrote $VRPC_TEST_DIR/procs-<program>.txt).
 * Runs after them (lowest priority in meson.build).
 */
#include "itest.h"
#include "ittap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PROCS 60

static const char *const programs[] = {"domains",     "objects", "admin",
                                       "concurrency", "params",  "simple"};

static char **names;
static size_t nnames, capnames;

static void add(const char *n)
{
    for (size_t i = 0; i < nnames; i++)
        if (strcmp(names[i], n) == 0)
            return;
    if (nnames == capnames) {
        capnames = capnames ? capnames * 2 : 128;
        char **nn = realloc(names, capnames * sizeof(*names));
        if (!nn)
            abort();
        names = nn;
    }
    names[nnames++] = it_strdup(n);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    if (!it_start("coverage"))
        return 0;
    size_t missing = 0;
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
        char *path = it_strf("%s/procs-%s.txt", it_dir(), programs[i]);
        FILE *f = fopen(path, "r");
        if (!f) {
            tap_skip("no %s (test-%s did not run)", path, programs[i]);
            missing++;
            free(path);
            continue;
        }
        char line[256];
        size_t n = 0, unknown = 0;
        while (fgets(line, sizeof(line), f)) {
            it_trim(line);
            if (!*line)
                continue;
            if (!vrpc_proc_lookup(line)) {
                it_diag("%s: unknown procedure '%s'", programs[i], line);
                unknown++;
                continue;
            }
            add(line);
            n++;
        }
        fclose(f);
        TAP_OK(unknown == 0, "test-%s exercised %zu procedures, all known to the library",
               programs[i], n);
        free(path);
    }
    qsort(names, nnames, sizeof(*names), cmp);
    size_t len = 1;
    for (size_t i = 0; i < nnames; i++)
        len += strlen(names[i]) + 1;
    char *list = calloc(1, len);
    for (size_t i = 0; list && i < nnames; i++) {
        if (i)
            strcat(list, " ");
        strcat(list, names[i]);
    }
    it_diag("distinct procedures exercised successfully: %zu", nnames);
    it_diag("%s", list ? list : "");
    if (missing)
        tap_skip("only %zu distinct procedures seen: not every program ran", nnames);
    else
        TAP_OK(nnames >= MIN_PROCS, "%zu distinct procedures exercised (at least %d required)",
               nnames, MIN_PROCS);
    free(list);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    return tap_done();
}
