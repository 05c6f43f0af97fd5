/* SPDX-License-Identifier: MIT */
/*
 * open-fail N URI TEXT...: open URI N times, each open must fail with an
 * error whose message contains every TEXT; afterwards no file descriptor
 * and no child process may be left behind. Prints TAP lines without a plan
 * (VRPC_CHECK_PREFIX is put before each name) and exits 1 on a failure.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

static int failed;

static void check(int cond, const char *prefix, const char *what, const char *detail)
{
    if (!cond)
        failed++;
    printf("%sok - %s%s%s%s\n", cond ? "" : "not ", prefix, what, detail ? ": " : "",
           detail ? detail : "");
    fflush(stdout);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

static int count_children(void)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[300], buf[512];
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof(buf), f)) {
            const char *p = strrchr(buf, ')');
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

int main(int argc, char **argv)
{
    const char *prefix = getenv("VRPC_CHECK_PREFIX") ? getenv("VRPC_CHECK_PREFIX") : "";
    int n, i, k, fds0, fds1, kids0, kids1, opened = 0, mismatched = 0;
    char *first = NULL, detail[4096];

    if (argc < 3 || (n = atoi(argv[1])) <= 0) {
        fprintf(stderr, "usage: open-fail N URI [TEXT...]\n");
        return 2;
    }
    fds0 = count_fds();
    kids0 = count_children();
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
    fds1 = count_fds();
    kids1 = count_children();

    snprintf(detail, sizeof(detail), "%s", first ? first : "(opened)");
    check(opened == 0, prefix, "refused", detail);
    if (argc > 3) {
        size_t off = 0;
        for (k = 3; k < argc && off < sizeof(detail); k++)
            off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s'%s'", k > 3 ? ", " : "",
                                    argv[k]);
        check(opened == 0 && mismatched == 0, prefix, "the reason says", detail);
    }
    snprintf(detail, sizeof(detail), "%d opens: %d fds before, %d after", n, fds0, fds1);
    check(fds0 == fds1, prefix, "no fd left behind", detail);
    snprintf(detail, sizeof(detail), "%d before, %d after", kids0, kids1);
    check(kids0 == kids1, prefix, "no child process left behind", detail);
    free(first);
    return failed ? 1 : 0;
}
