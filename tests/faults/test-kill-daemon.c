/* SPDX-License-Identifier: MIT */
/*
 * The daemon killed with more than a thousand calls in flight.
 *
 *   test-kill-daemon DIR TEST-DAEMON-SCRIPT
 *
 * DIR holds a private test daemon (test-daemon.sh start-one). The daemon is
 * stopped (SIGSTOP) so that nothing is answered; four threads queue 300
 * calls each (vrpc_call_send) and wait for them, four more threads sit in
 * blocking calls; then the daemon is killed (SIGKILL). Every call must
 * return an error within one second of the kill, no thread may hang (a
 * watchdog fails the test after 20 s), no descriptor is left once the
 * connection is closed, and a new connection to a restarted daemon works.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "faults.h"

#define NSENDERS 4
#define NPER 300
#define NBLOCKERS 4

static vrpc_conn *c;
static pthread_barrier_t sent;

typedef struct worker {
    pthread_t tid;
    int errors, successes, bad_errors;
    double last_done;
    int first_rc;
} worker;

static void record(worker *w, int rc, vrpc_error *err)
{
    w->last_done = tl_now();
    if (rc == 0) {
        w->successes++;
    } else {
        w->errors++;
        if (!w->first_rc)
            w->first_rc = rc;
        if (!err || !err->message || !err->message[0])
            w->bad_errors++;
    }
    vrpc_free(err);
}

static void *sender(void *arg)
{
    worker *w = arg;
    vrpc_pending *p[NPER];
    int i;

    for (i = 0; i < NPER; i++)
        if (vrpc_call_send(c, &vrpc_pd_node_get_info, NULL, &p[i], NULL) != 0)
            p[i] = NULL;
    pthread_barrier_wait(&sent);
    for (i = 0; i < NPER; i++) {
        void *ret = NULL;
        vrpc_error *err = NULL;
        int rc = p[i] ? vrpc_call_wait(c, p[i], &ret, &err) : VRPC_E_CLOSED;
        if (!p[i])
            w->bad_errors++; /* could not even be queued */
        record(w, rc, err);
        vrpc_free(ret);
    }
    return NULL;
}

static void *blocker(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(&sent);
    for (;;) {
        vrpc_node_get_info_ret *r = NULL;
        vrpc_error *err = NULL;
        int rc = vrpc_node_get_info(c, &r, &err);
        vrpc_free(r);
        record(w, rc, err);
        if (rc)
            return NULL;
    }
}

static void *watchdog(void *arg)
{
    (void)arg;
    sleep(20);
    printf("not ok - a thread hangs 20 s after the daemon was killed\n");
    fflush(stdout);
    _exit(1);
}

static pid_t read_pid(const char *dir)
{
    char *path = tl_strf("%s/sys/pid", dir);
    FILE *f = fopen(path, "r");
    long pid = 0;
    free(path);
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

int main(int argc, char **argv)
{
    worker w[NSENDERS + NBLOCKERS];
    vrpc_error *err = NULL;
    pthread_t wd;
    char *uri, *cmd;
    double t_kill, worst = 0;
    int fds0, rc, i, total = 0, errors = 0, bad = 0, late = 0, first_rc = 0;
    pid_t pid;

    if (argc != 3) {
        fprintf(stderr, "usage: test-kill-daemon DIR TEST-DAEMON-SCRIPT\n");
        return 2;
    }
    uri = tl_strf("test+unix:///default?socket=%s/sys/run/libvirt-sock", argv[1]);
    fds0 = tl_count_fds();
    rc = vrpc_conn_open(&c, uri, 0, &err);
    if (!TAP_OK(rc == 0, "open the private daemon")) {
        tap_diag("%s", err && err->message ? err->message : "?");
        return tap_done();
    }
    pid = read_pid(argv[1]);
    if (!TAP_OK(pid > 0 && kill(pid, SIGSTOP) == 0, "stop the daemon (pid %ld)", (long)pid))
        return tap_done();

    memset(w, 0, sizeof(w));
    pthread_barrier_init(&sent, NULL, NSENDERS + NBLOCKERS + 1);
    for (i = 0; i < NSENDERS + NBLOCKERS; i++)
        pthread_create(&w[i].tid, NULL, i < NSENDERS ? sender : blocker, &w[i]);
    pthread_barrier_wait(&sent);
    usleep(300 * 1000); /* the blocking callers are in their calls */
    pthread_create(&wd, NULL, watchdog, NULL);
    pthread_detach(wd);
    t_kill = tl_now();
    kill(pid, SIGKILL);
    for (i = 0; i < NSENDERS + NBLOCKERS; i++) {
        double d;
        pthread_join(w[i].tid, NULL);
        total += w[i].errors + w[i].successes;
        errors += w[i].errors;
        bad += w[i].bad_errors;
        if (w[i].first_rc && !first_rc)
            first_rc = w[i].first_rc;
        d = w[i].last_done - t_kill;
        if (d > worst)
            worst = d;
        if (d >= 1.0)
            late++;
    }
    tap_diag("%d calls in flight from %d threads when the daemon was killed; the last returned "
             "%.3f s after the kill",
             total, NSENDERS + NBLOCKERS, worst);
    TAP_OK(total >= NSENDERS * NPER + NBLOCKERS, "at least %d calls were in flight (%d)",
           NSENDERS * NPER + NBLOCKERS, total);
    TAP_OK(errors == total, "every call returned an error (%d of %d; the first: %s)", errors, total,
           vrpc_strerror(first_rc));
    TAP_OK(bad == 0, "every error has a message (%d without)", bad);
    TAP_OK(late == 0 && worst < 1.0, "every thread returned within one second of the kill (%.3f s)",
           worst);
    {
        vrpc_node_get_info_ret *r = NULL;
        double t0 = tl_now();
        rc = vrpc_node_get_info(c, &r, &err);
        TAP_OK(rc != 0 && tl_now() - t0 < 1.0, "a call on the dead connection fails at once (%s)",
               vrpc_strerror(rc));
        vrpc_free(r);
        vrpc_free(err);
        err = NULL;
    }
    vrpc_conn_close(c);
    c = NULL;
    pthread_barrier_destroy(&sent);
    TAP_OK(tl_count_fds() == fds0, "no descriptor left after close (%d, %d before)", tl_count_fds(),
           fds0);

    cmd = tl_strf("'%s' stop '%s' >/dev/null 2>&1; '%s' start-one '%s' >/dev/null 2>&1", argv[2],
                  argv[1], argv[2], argv[1]);
    rc = system(cmd);
    free(cmd);
    TAP_OK(rc == 0, "restart the daemon");
    rc = vrpc_conn_open(&c, uri, 0, &err);
    if (TAP_OK(rc == 0, "a new connection opens")) {
        vrpc_node_get_info_ret *r = NULL;
        rc = vrpc_node_get_info(c, &r, &err);
        TAP_OK(rc == 0, "and a call on it works");
        vrpc_free(r);
        vrpc_conn_close(c);
    }
    vrpc_free(err);
    free(uri);
    return tap_done();
}
