/* SPDX-License-Identifier: MIT */
/* Shared by the bench programs: clocks and the result line bench/run reads. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

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

/* One line of key=value results: wall seconds, operations, CPU seconds
 * spent during the workload, peak RSS. */
static inline void bench_report(double wall, long ops, double cpu)
{
    printf("wall=%.6f ops=%ld cpu=%.6f maxrss_kb=%ld\n", wall, ops, cpu, bench_maxrss_kb());
}

#define BENCH_DIE(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)

#endif
