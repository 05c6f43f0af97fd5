/* SPDX-License-Identifier: MIT */
/* Shared by the bench programs: clocks and the result line bench/run reads. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of the whole process. */
static inline double bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Peak RSS (VmHWM): unlike getrusage's ru_maxrss it does not carry over the
 * peak of the process that exec'd us. */
static inline long bench_maxrss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* The shared objects mapped in this process now (distinct files whose
 * name holds ".so" in /proc/self/maps), or -1. */
static inline long bench_nso(void)
{
    char line[4352], seen[64][256];
    long n = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *path = strchr(line, '/');
        if (!path || !strstr(path, ".so"))
            continue;
        path[strcspn(path, "\n")] = '\0';
        long i;
        for (i = 0; i < n && i < 64; i++)
            if (strncmp(seen[i], path, sizeof(seen[i]) - 1) == 0)
                break;
        if (i < n)
            continue;
        if (n < 64)
            snprintf(seen[n], sizeof(seen[n]), "%s", path);
        n++;
    }
    fclose(f);
    return n;
}

/* CPU seconds (user + system) of the daemon whose pid is in
 * $BENCH_DAEMON_PID, or -1. */
static inline double bench_daemon_cpu(void)
{
    const char *pid = getenv("BENCH_DAEMON_PID");
    char path[64], buf[1024], *q;
    unsigned long ut, st;
    FILE *f;
    size_t n;
    if (!pid)
        return -1;
    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!(q = strrchr(buf, ')')) ||
        sscanf(q + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double bench_t0, bench_c0, bench_d0;

/* The workload starts now. */
static inline void bench_start(void)
{
    bench_d0 = bench_daemon_cpu();
    bench_c0 = bench_cpu();
    bench_t0 = bench_now();
}

/* One line of key=value results: wall seconds, operations, CPU seconds of
 * this process and of the daemon during the workload, peak RSS, shared
 * objects mapped at the end. */
static inline void bench_report(long ops)
{
    double wall = bench_now() - bench_t0, cpu = bench_cpu() - bench_c0;
    double d = bench_daemon_cpu();
    printf("wall=%.6f ops=%ld cpu=%.6f maxrss_kb=%ld daemon_cpu=%.6f nso=%ld\n", wall, ops, cpu,
           bench_maxrss_kb(), d >= 0 && bench_d0 >= 0 ? d - bench_d0 : -1, bench_nso());
}

#define BENCH_DIE(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)

#endif
