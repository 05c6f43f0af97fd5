/* SPDX-License-Identifier: MIT */
/*
 * Allocation failures: an open + calls + close sequence against the test
 * daemon is run once to count the library's allocations (N), then N times
 * more with the k-th allocation failing (k = 1..N). Every run must end in
 * an error (VRPC_E_NOMEM, or the error of a step that could not go on) or,
 * when the failed allocation was one the library can do without, in
 * success; afterwards every allocation is released (counted here; LeakSanitizer
 * in the sanitizer build checks the rest) and no descriptor is left open.
 */
#include <pthread.h>

#include "faults.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long n_allocs; /* allocations attempted since the counter was reset */
static long fail_at;  /* fail this one (1-based), 0: never */
static long live;     /* blocks handed out and not freed */
static long n_failed; /* failures injected */

static bool should_fail(void)
{
    bool f;
    pthread_mutex_lock(&lock);
    n_allocs++;
    f = fail_at && n_allocs == fail_at;
    if (f)
        n_failed++;
    pthread_mutex_unlock(&lock);
    return f;
}

static void add_live(long d)
{
    pthread_mutex_lock(&lock);
    live += d;
    pthread_mutex_unlock(&lock);
}

static void *t_malloc(size_t n, void *opaque)
{
    void *p;
    (void)opaque;
    if (should_fail())
        return NULL;
    p = malloc(n ? n : 1);
    if (p)
        add_live(1);
    return p;
}

static void *t_realloc(void *old, size_t n, void *opaque)
{
    void *p;
    (void)opaque;
    if (should_fail())
        return NULL;
    p = realloc(old, n ? n : 1);
    if (p && !old)
        add_live(1);
    return p;
}

static void t_free(void *p, void *opaque)
{
    (void)opaque;
    if (p)
        add_live(-1);
    free(p);
}

/* The sequence: open, three calls (one with a list reply, one with a
 * string), close. Returns 0 if everything succeeded, else the first error. */
static int sequence(const char *uri, int *rc_step)
{
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;
    int rc;

    *rc_step = 0;
    rc = vrpc_conn_open(&c, uri, 0, &err);
    if (rc == 0) {
        vrpc_node_get_info_ret *ni = NULL;
        *rc_step = 1;
        rc = vrpc_node_get_info(c, &ni, &err);
        vrpc_free(ni);
    }
    if (rc == 0) {
        vrpc_connect_list_all_domains_args la = {.need_results = 1, .flags = 0};
        vrpc_connect_list_all_domains_ret *lr = NULL;
        *rc_step = 2;
        rc = vrpc_connect_list_all_domains(c, &la, &lr, &err);
        vrpc_free(lr);
    }
    if (rc == 0) {
        vrpc_connect_get_capabilities_ret *cr = NULL;
        *rc_step = 3;
        rc = vrpc_connect_get_capabilities(c, &cr, &err);
        vrpc_free(cr);
    }
    if (rc)
        /* An error object may itself be missing (its allocation failed). */
        if (err && (!err->message || !err->message[0]))
            rc = -1000;
    vrpc_free(err);
    vrpc_conn_close(c);
    return rc;
}

int main(void)
{
    char *uri = fault_test_uri();
    int fds0, step, rc;
    long total, k, errors = 0, successes = 0, bad = 0, leaked_runs = 0, fd_runs = 0;
    long by_step[4] = {0};

    if (!uri) {
        printf("1..0 # SKIP no test daemon (VRPC_TEST_DIR)\n");
        return 0;
    }
    fds0 = tl_count_fds();
    vrpc_set_allocator(
        &(vrpc_allocator){.alloc_fn = t_malloc, .realloc_fn = t_realloc, .free_fn = t_free});

    rc = sequence(uri, &step);
    total = n_allocs;
    TAP_OK(rc == 0, "the sequence succeeds without faults (%ld allocations)", total);
    TAP_OK(live == 0, "and releases all it allocated (%ld left)", live);
    TAP_OK(total > 20, "the sequence allocates (%ld)", total);

    for (k = 1; k <= total; k++) {
        pthread_mutex_lock(&lock);
        n_allocs = 0;
        fail_at = k;
        pthread_mutex_unlock(&lock);
        rc = sequence(uri, &step);
        if (rc == 0) {
            successes++;
        } else if (rc == -1000) {
            bad++;
            tap_diag("allocation %ld: an error without a message", k);
        } else {
            errors++;
            by_step[step]++;
        }
        if (live != 0) {
            leaked_runs++;
            tap_diag("allocation %ld failing: %ld blocks left", k, live);
            live = 0;
        }
        if (tl_count_fds() != fds0) {
            fd_runs++;
            tap_diag("allocation %ld failing: %d descriptors open, %d before", k, tl_count_fds(),
                     fds0);
        }
    }
    pthread_mutex_lock(&lock);
    fail_at = 0;
    pthread_mutex_unlock(&lock);
    tap_diag("%ld allocations failed in turn: %ld runs ended in an error (open %ld, node_get_info "
             "%ld, list_all_domains %ld, get_capabilities %ld), %ld recovered and succeeded",
             n_failed, errors, by_step[0], by_step[1], by_step[2], by_step[3], successes);
    TAP_OK(n_failed == total, "every one of the %ld allocations was failed once", total);
    TAP_OK(bad == 0, "every error says what went wrong (%ld without a message)", bad);
    TAP_OK(leaked_runs == 0, "every run released everything (%ld runs left blocks)", leaked_runs);
    TAP_OK(fd_runs == 0, "no run left a descriptor open (%ld runs did)", fd_runs);

    rc = sequence(uri, &step);
    TAP_OK(rc == 0 && live == 0, "the sequence succeeds again afterwards");
    vrpc_set_allocator(NULL);
    free(uri);
    return tap_done();
}
