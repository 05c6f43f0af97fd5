/* SPDX-License-Identifier: MIT */
/*
 * A driver for libFuzzer-style targets when libFuzzer is not available.
 *
 *   fuzz-TARGET [SEED_DIR [SECONDS]]
 *
 * Runs LLVMFuzzerTestOneInput() over every file of SEED_DIR, then over
 * pseudo-random and mutated-seed inputs for SECONDS (default 5), and prints
 * TAP. A crash or abort fails the test; the input that caused it is printed
 * in hex on stderr first. VRPC_FUZZ_SEED=N in the environment changes the
 * pseudo-random sequence (default: fixed, so runs are repeatable).
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LEN 4096

typedef struct seed {
    uint8_t *data;
    size_t len;
} seed;

static const uint8_t *volatile cur_data;
static volatile size_t cur_len;

static void put_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[3];
    size_t i;
    for (i = 0; i < n; i++) {
        buf[0] = digits[p[i] >> 4];
        buf[1] = digits[p[i] & 15];
        buf[2] = (i % 32 == 31 || i + 1 == n) ? '\n' : ' ';
        if (write(2, buf, 3) < 0)
            return;
    }
}

static void on_crash(int sig)
{
    static const char msg[] = "standalone fuzz driver: crash on this input:\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(128 + sig);
    if (cur_data)
        put_hex(cur_data, cur_len);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void run(const uint8_t *p, size_t n)
{
    cur_data = p;
    cur_len = n;
    LLVMFuzzerTestOneInput(p, n);
    cur_data = NULL;
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static int load_seeds(const char *dir, seed **out, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    seed *s = NULL;
    size_t n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        FILE *f;
        uint8_t *buf;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FUZZ_MAX_LEN)
            continue;
        f = fopen(path, "rb");
        if (!f)
            continue;
        buf = malloc((size_t)st.st_size + 1);
        if (buf && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
            s = realloc(s, (n + 1) * sizeof *s);
            s[n].data = buf;
            s[n].len = (size_t)st.st_size;
            n++;
        } else {
            free(buf);
        }
        fclose(f);
    }
    closedir(d);
    *out = s;
    *count = n;
    return 0;
}

/* A plausible XDR word: mostly small numbers (lengths, counts, enum values). */
static uint32_t xdr_word(void)
{
    static const uint32_t special[] = {0,          1,          2,          3,          4,
                                       5,          7,          8,          0x7fffffff, 0x80000000,
                                       0xffffffff, 0xfffffffe, 0x01000000, 0x10000,    16};
    uint32_t r = rnd();
    switch (r % 4) {
    case 0:
        return special[(r >> 8) % (sizeof special / sizeof special[0])];
    case 1:
        return rnd();
    default:
        return (r >> 8) % 20;
    }
}

static size_t random_input(uint8_t *buf)
{
    size_t n = 2 + (rnd() % 64) * 4, i;
    buf[0] = (uint8_t)rnd();
    buf[1] = (uint8_t)rnd();
    for (i = 2; i + 4 <= n; i += 4) {
        uint32_t w = xdr_word();
        buf[i] = (uint8_t)(w >> 24);
        buf[i + 1] = (uint8_t)(w >> 16);
        buf[i + 2] = (uint8_t)(w >> 8);
        buf[i + 3] = (uint8_t)w;
    }
    return n;
}

static size_t mutate(uint8_t *buf, size_t n)
{
    unsigned rounds = 1 + rnd() % 4, k;
    for (k = 0; k < rounds; k++) {
        size_t pos = n ? rnd() % n : 0, len;
        switch (rnd() % 8) {
        case 0: /* flip a bit */
            if (n)
                buf[pos] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1: /* set a byte */
            if (n)
                buf[pos] = (uint8_t)rnd();
            break;
        case 2: /* set an aligned word (after the selector) */
            if (n >= 6) {
                uint32_t w = xdr_word();
                pos = 2 + 4 * (rnd() % ((n - 2) / 4));
                buf[pos] = (uint8_t)(w >> 24);
                buf[pos + 1] = (uint8_t)(w >> 16);
                buf[pos + 2] = (uint8_t)(w >> 8);
                buf[pos + 3] = (uint8_t)w;
            }
            break;
        case 3: /* truncate */
            n = pos;
            break;
        case 4: /* remove a chunk */
            len = 1 + rnd() % 8;
            if (pos + len <= n) {
                memmove(buf + pos, buf + pos + len, n - pos - len);
                n -= len;
            }
            break;
        case 5: /* duplicate a chunk */
            len = 1 + rnd() % 16;
            if (pos + len <= n && n + len <= FUZZ_MAX_LEN) {
                memmove(buf + pos + len, buf + pos, n - pos);
                n += len;
            }
            break;
        case 6: /* append a word */
            if (n + 4 <= FUZZ_MAX_LEN) {
                uint32_t w = xdr_word();
                buf[n] = (uint8_t)(w >> 24);
                buf[n + 1] = (uint8_t)(w >> 16);
                buf[n + 2] = (uint8_t)(w >> 8);
                buf[n + 3] = (uint8_t)w;
                n += 4;
            }
            break;
        default: /* another type for the same bytes */
            if (n >= 2)
                buf[rnd() % 2] = (uint8_t)rnd();
            break;
        }
    }
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    seed *seeds = NULL;
    size_t nseeds = 0, i;
    unsigned long long execs = 0;
    double seconds = 5, deadline;
    const char *env = getenv("VRPC_FUZZ_SEED");
    static uint8_t buf[FUZZ_MAX_LEN];

    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
    signal(SIGABRT, on_crash);

    if (argc > 2)
        seconds = atof(argv[2]);
    rng_state = env ? strtoull(env, NULL, 0) : 0x5eed5eed12345678ull;
    if (!rng_state)
        rng_state = 1;
    printf("# random seed %llu\n", (unsigned long long)rng_state);

    if (argc > 1 && argv[1][0]) {
        if (load_seeds(argv[1], &seeds, &nseeds) != 0) {
            printf("not ok 1 - cannot read the seed directory %s\n1..1\n", argv[1]);
            return 1;
        }
        printf("# %zu seed files\n", nseeds);
    }
    for (i = 0; i < nseeds; i++) {
        /* Each seed on its own buffer of its exact size, so ASan sees overreads. */
        uint8_t *copy = malloc(seeds[i].len ? seeds[i].len : 1);
        memcpy(copy, seeds[i].data, seeds[i].len);
        run(copy, seeds[i].len);
        free(copy);
        execs++;
    }
    fflush(stdout);

    deadline = now() + seconds;
    while (now() < deadline) {
        unsigned batch;
        for (batch = 0; batch < 256; batch++) {
            size_t n;
            uint8_t *copy;
            if (nseeds && rnd() % 4 != 0) {
                const seed *s = &seeds[rnd() % nseeds];
                n = s->len < FUZZ_MAX_LEN ? s->len : FUZZ_MAX_LEN;
                memcpy(buf, s->data, n);
                n = mutate(buf, n);
            } else {
                n = random_input(buf);
                if (rnd() % 2)
                    n = mutate(buf, n);
            }
            copy = malloc(n ? n : 1);
            memcpy(copy, buf, n);
            run(copy, n);
            free(copy);
            execs++;
        }
    }

    printf("ok 1 - %llu executions without a crash\n1..1\n", execs);
    for (i = 0; i < nseeds; i++)
        free(seeds[i].data);
    free(seeds);
    return 0;
}
