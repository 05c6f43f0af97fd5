/* SPDX-License-Identifier: MIT */
/*
 * The child-process transport with /bin/sh children: bytes both ways, the
 * child's stderr and exit status in the error when its end closes (bounded),
 * failures to start, a child that ignores SIGTERM, no SIGPIPE, no descriptor
 * inherited, and after every case: no child process (running or zombie) and
 * no descriptor left behind. Then the same through vrpc_conn_open() with
 * ext URIs whose command fails.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "testlib.h"
#include "transport-cmd.h"
#include "uri.h"

/* True when this process has no child at all (running or zombie). */
static bool no_children(void)
{
    pid_t r = waitpid(-1, NULL, WNOHANG);
    return r < 0 && errno == ECHILD;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static vrpc_transport *spawn_sh(const char *script, vrpc_error **err, int *rc)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    vrpc_transport *t = NULL;
    *rc = vrpc_transport_cmd_spawn("test child", argv, NULL, &t, err);
    return t;
}

/* Read until EOF/error or want bytes; returns what read() returned last. */
static ssize_t read_all(vrpc_transport *t, char *buf, size_t cap, size_t *got, vrpc_error **err)
{
    ssize_t n = 0;
    *got = 0;
    while (*got < cap) {
        struct pollfd p = {.fd = t->ops->fd(t), .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            return VRPC_E_TIMEOUT;
        n = t->ops->read(t, buf + *got, cap - *got, NULL, NULL, 0, err);
        if (n == VRPC_E_AGAIN)
            continue;
        if (n <= 0)
            return n;
        *got += (size_t)n;
    }
    return n;
}

static void test_echo(void)
{
    vrpc_error *e = NULL;
    char buf[64];
    size_t got;
    int rc, fds = tl_count_fds();
    vrpc_transport *t = spawn_sh("exec cat", &e, &rc);
    ssize_t w = -1;

    if (!TAP_OK(rc == 0 && t, "spawn cat")) {
        vrpc_free(e);
        return;
    }
    w = t->ops->write(t, "hello child", 11, &e);
    read_all(t, buf, 11, &got, &e);
    TAP_OK(w == 11 && got == 11 && memcmp(buf, "hello child", 11) == 0,
           "bytes go to the child's stdin and come back from its stdout");
    TAP_OK(fcntl(t->ops->fd(t), F_GETFL) & O_NONBLOCK, "our end is non-blocking");
    TAP_OK(fcntl(t->ops->fd(t), F_GETFD) & FD_CLOEXEC, "our end is close-on-exec");
    t->ops->close(t);
    TAP_OK(no_children() && tl_count_fds() == fds, "close reaps cat, no descriptor left");
    vrpc_free(e);
}

static void test_failure_message(void)
{
    vrpc_error *e = NULL;
    char buf[64];
    size_t got;
    int rc, fds = tl_count_fds();
    vrpc_transport *t =
        spawn_sh("echo 'first line' >&2; echo 'ssh: connect to host x: Connection refused' >&2; "
                 "exit 255",
                 &e, &rc);
    ssize_t n;

    if (!TAP_OK(rc == 0 && t, "spawn a failing child")) {
        vrpc_free(e);
        return;
    }
    n = read_all(t, buf, sizeof(buf), &got, &e);
    TAP_OK(n == VRPC_E_CONNECT && got == 0 && e && e->message &&
               strstr(e->message, "connect: test child failed (exit status 255: first line; "
                                  "ssh: connect to host x: Connection refused)") &&
               !strchr(e->message, '\n') && e->step && strcmp(e->step, "connect") == 0 && !e->str1,
           "EOF before any byte: a connect error with the exit status and stderr on one line (%s)",
           e && e->message ? e->message : "?");
    t->ops->close(t);
    TAP_OK(no_children() && tl_count_fds() == fds, "failed child reaped, no descriptor left");
    vrpc_free(e);
}

/* The child sends a few bytes, then dies: an end of file on an established connection. */
static void test_eof_after_data(void)
{
    vrpc_error *e = NULL;
    char buf[16];
    size_t got;
    int rc, fds = tl_count_fds();
    vrpc_transport *t = spawn_sh("printf abc; echo bye >&2; exit 5", &e, &rc);
    ssize_t n;

    if (!TAP_OK(rc == 0 && t, "spawn a child that answers, then dies")) {
        vrpc_free(e);
        return;
    }
    n = read_all(t, buf, sizeof(buf), &got, &e);
    TAP_OK(got == 3 && n == VRPC_E_CLOSED && e && e->message &&
               strcmp(e->message, "end of file from test child (exit status 5: bye)") == 0 &&
               !e->str1,
           "EOF after data: %s", e && e->message ? e->message : "?");
    t->ops->close(t);
    TAP_OK(no_children() && tl_count_fds() == fds, "reaped, no descriptor left");
    vrpc_free(e);
}

/* The child closes stdout first and exits a little later: the message still has both. */
static void test_late_exit(void)
{
    vrpc_error *e = NULL;
    char buf[16];
    size_t got;
    int rc, fds = tl_count_fds();
    vrpc_transport *t = spawn_sh("exec >&- <&-; sleep 0.2; echo late >&2; exit 4", &e, &rc);
    ssize_t n;

    if (!TAP_OK(rc == 0 && t, "spawn a child that closes stdout early")) {
        vrpc_free(e);
        return;
    }
    n = read_all(t, buf, sizeof(buf), &got, &e);
    TAP_OK(n == VRPC_E_CONNECT && e && e->message && strstr(e->message, "exit status 4: late"),
           "EOF before exit: waits for stderr and the status (%s)",
           e && e->message ? e->message : "?");
    t->ops->close(t);
    TAP_OK(no_children() && tl_count_fds() == fds, "reaped, no descriptor left");
    vrpc_free(e);
}

static void test_bounded_stderr(void)
{
    vrpc_error *e = NULL;
    char buf[16];
    size_t got;
    int rc;
    /* 300 KB of stderr, then a last line. */
    vrpc_transport *t =
        spawn_sh("i=0; while [ $i -lt 3000 ]; do "
                 "echo 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' >&2; i=$((i+1)); done; "
                 "echo 'the end' >&2; exit 1",
                 &e, &rc);
    ssize_t n;

    if (!TAP_OK(rc == 0 && t, "spawn a chatty child")) {
        vrpc_free(e);
        return;
    }
    n = read_all(t, buf, sizeof(buf), &got, &e);
    TAP_OK(n == VRPC_E_CONNECT && e && e->message && strlen(e->message) < 3 * VRPC_CMD_STDERR_MAX &&
               strstr(e->message, "...") && strstr(e->message, "the end"),
           "only the end of a long stderr is kept (%zu bytes of message)",
           e && e->message ? strlen(e->message) : 0);
    t->ops->close(t);
    TAP_OK(no_children(), "reaped");
    vrpc_free(e);
}

static void test_no_sigpipe(void)
{
    vrpc_error *e = NULL;
    char big[65536];
    int rc, i;
    ssize_t n = 0;
    vrpc_transport *t = spawn_sh("exec <&- >&-; exit 0", &e, &rc);

    if (!TAP_OK(rc == 0 && t, "spawn a child that exits at once")) {
        vrpc_free(e);
        return;
    }
    memset(big, 'x', sizeof(big));
    usleep(100000);
    for (i = 0; i < 100; i++) {
        n = t->ops->write(t, big, sizeof(big), &e);
        if (n < 0 && n != VRPC_E_AGAIN)
            break;
        usleep(1000);
    }
    TAP_OK(n == VRPC_E_CONNECT && e && e->message && strstr(e->message, "exit status 0"),
           "writing to a gone child: an error, no SIGPIPE (%s)",
           e && e->message ? e->message : "?");
    t->ops->close(t);
    TAP_OK(no_children(), "reaped");
    vrpc_free(e);
}

static void test_sigterm_ignored(void)
{
    vrpc_error *e = NULL;
    int rc, fds = tl_count_fds();
    double t0;
    vrpc_transport *t = spawn_sh("trap '' TERM; exec sleep 60", &e, &rc);

    if (!TAP_OK(rc == 0 && t, "spawn a child that ignores SIGTERM and its input")) {
        vrpc_free(e);
        return;
    }
    t0 = now_s();
    t->ops->close(t);
    TAP_OK(no_children() && tl_count_fds() == fds && now_s() - t0 < 10,
           "close: grace period, SIGTERM, SIGKILL; reaped in %.1f s", now_s() - t0);
    vrpc_free(e);
}

static void test_start_failures(void)
{
    char *argv[] = {"vrpc-no-such-program-here", NULL};
    char *argv2[] = {"/proc/self/fd", NULL};
    char *argv3[] = {"/dev/null", NULL};
    vrpc_transport *t = NULL;
    vrpc_error *e = NULL;
    int rc, fds = tl_count_fds();

    rc = vrpc_transport_cmd_spawn("missing", argv, NULL, &t, &e);
    TAP_OK(rc == VRPC_E_NOT_FOUND && !t && e && e->message &&
               strstr(e->message, "cannot find 'vrpc-no-such-program-here' in PATH"),
           "a program not in PATH (%s)", e && e->message ? e->message : "?");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_transport_cmd_spawn("directory", argv2, NULL, &t, &e);
    TAP_OK(rc < 0 && !t && e && e->message && strstr(e->message, "cannot run"), "a directory (%s)",
           e && e->message ? e->message : "?");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_transport_cmd_spawn("not executable", argv3, NULL, &t, &e);
    TAP_OK(rc < 0 && !t && e && e->message && strstr(e->message, "Permission denied"),
           "a file that is not executable (%s)", e && e->message ? e->message : "?");
    vrpc_free(e);
    TAP_OK(no_children() && tl_count_fds() == fds,
           "no child and no descriptor after failed starts");
}

/* Descriptors of ours, even without close-on-exec, do not reach the child. */
static void test_no_inherited_fds(void)
{
    vrpc_error *e = NULL;
    char buf[256];
    size_t got = 0;
    int rc, leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
    vrpc_transport *t = spawn_sh("exec ls /proc/self/fd", &e, &rc);

    if (!TAP_OK(rc == 0 && t, "spawn ls /proc/self/fd")) {
        vrpc_free(e);
        close(leak);
        return;
    }
    memset(buf, 0, sizeof(buf));
    read_all(t, buf, sizeof(buf) - 1, &got, &e);
    buf[got] = '\0';
    /* ls's own directory descriptor is 3: nothing else. */
    rc = strcmp(buf, "0\n1\n2\n3\n") == 0;
    for (got = 0; buf[got]; got++)
        if (buf[got] == '\n')
            buf[got] = ' ';
    TAP_OK(rc, "the child has only 0, 1, 2 (ls: %s)", buf);
    t->ops->close(t);
    close(leak);
    vrpc_free(e);
}

/* vrpc_conn_open with ext URIs: the open fails, with the child's words, and leaves nothing. */
static void test_conn_open(const char *dir)
{
    static const struct {
        const char *body;
        const char *want;
    } cases[] = {
        {"echo 'nc: unix connect failed: No such file or directory' >&2; exit 1",
         "exit status 1: nc: unix connect failed: No such file or directory"},
        {"exec >&-; echo 'closed early' >&2; sleep 0.1; exit 2", "exit status 2: closed early"},
        {"kill -9 $$", "killed by signal 9"},
    };
    size_t i;
    int fds = tl_count_fds();

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[600], uri[700];
        vrpc_conn *c = NULL;
        vrpc_error *e = NULL;
        FILE *f;
        int rc;

        snprintf(path, sizeof(path), "%s/cmd%zu.sh", dir, i);
        f = fopen(path, "w");
        if (!f) {
            TAP_OK(0, "write %s", path);
            continue;
        }
        fprintf(f, "#!/bin/sh\n%s\n", cases[i].body);
        fclose(f);
        chmod(path, 0755);
        snprintf(uri, sizeof(uri), "test+ext:///default?command=%s", path);
        rc = vrpc_conn_open(&c, uri, 0, &e);
        TAP_OK(rc == VRPC_E_CONNECT && !c && e && e->message && strstr(e->message, cases[i].want) &&
                   strncmp(e->message, "connect: ", 9) == 0 &&
                   strcmp(vrpc_open_failed_step(rc, e), "connect") == 0 && no_children() &&
                   tl_count_fds() == fds,
               "ext command failing (%s): %s", cases[i].want, e && e->message ? e->message : "?");
        vrpc_free(e);
        vrpc_conn_close(c);
        unlink(path);
    }
    {
        vrpc_conn *c = NULL;
        vrpc_error *e = NULL;
        int rc = vrpc_conn_open(&c, "test+ext:///default", 0, &e);
        TAP_OK(rc == VRPC_E_URI && !c && e && e->message && strstr(e->message, "command"),
               "ext without command= (%s)", e && e->message ? e->message : "?");
        vrpc_free(e);
    }
}

/* ---- session daemon autostart: when, and which program ---- */

typedef struct fenv {
    unsigned int euid;
    const char *autostart;
    const char *exists;
} fenv;

static const char *fe_get(void *ctx, const char *name)
{
    const fenv *f = ctx;
    if (strcmp(name, "XDG_RUNTIME_DIR") == 0)
        return "/run/user/1000";
    if (strcmp(name, "HOME") == 0)
        return "/home/u";
    if (strcmp(name, "LIBVIRT_AUTOSTART") == 0)
        return f->autostart;
    return NULL;
}

static unsigned int fe_euid(void *ctx)
{
    return ((const fenv *)ctx)->euid;
}

static bool fe_exists(void *ctx, const char *path)
{
    const fenv *f = ctx;
    return f->exists && strcmp(path, f->exists) == 0;
}

static void test_autostart_rules(void)
{
    static const struct {
        const char *uri;
        unsigned int euid;
        const char *env_autostart;
        unsigned int flags;
        bool want;
    } cases[] = {
        {"test:///default", 1000, NULL, 0, true},
        {"test+unix:///default", 1000, NULL, 0, true},
        {"qemu:///session", 1000, NULL, 0, true},
        {NULL, 1000, NULL, 0, true},
        {"qemu:///session", 1000, "1", 0, true},
        {"qemu:///session", 1000, "0", 0, false},
        {"qemu:///session", 1000, NULL, VRPC_OPEN_NO_AUTOSTART, false},
        {"qemu:///session?socket=/s", 1000, NULL, 0, false},
        {"qemu:///system", 1000, NULL, 0, false},
        {"test:///default", 0, NULL, 0, false},
        {NULL, 0, NULL, 0, false},
        {"qemu+ssh://h/session", 1000, NULL, 0, false},
        {"test+tcp://h/default", 1000, NULL, 0, false},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fenv f = {cases[i].euid, cases[i].env_autostart, NULL};
        vrpc_uri_env env = {fe_get, fe_euid, fe_exists, &f, NULL};
        vrpc_target *t = NULL;
        int rc = vrpc_remote_resolve(cases[i].uri, cases[i].flags, &env, &t, NULL);
        TAP_OK(rc == 0 && t->autostart == cases[i].want, "autostart %s for %s (euid %u%s%s%s)",
               cases[i].want ? "on" : "off", cases[i].uri ? cases[i].uri : "no URI", cases[i].euid,
               cases[i].env_autostart ? ", LIBVIRT_AUTOSTART=" : "",
               cases[i].env_autostart ? cases[i].env_autostart : "",
               cases[i].flags ? ", VRPC_OPEN_NO_AUTOSTART" : "");
        vrpc_target_free(t);
    }
}

static void test_daemon_path(void)
{
    static const struct {
        const char *uri;
        const char *exists; /* a socket that is there */
        const char *virtd_path, *libvirtd_path;
        const char *want;
    } cases[] = {
        {"qemu:///session", NULL, NULL, NULL, "/usr/sbin/libvirtd"},
        {"qemu:///session", NULL, "/opt/v", "/opt/l", "/opt/v/libvirtd"},
        {"qemu:///session", NULL, NULL, "/opt/l/", "/opt/l/libvirtd"},
        {"qemu:///session", NULL, "", NULL, "libvirtd"},
        {"qemu:///session", "/run/user/1000/libvirt/virtqemud-sock", "/opt/v", NULL,
         "/opt/v/virtqemud"},
        {"qemu:///session?mode=direct", NULL, NULL, NULL, "/usr/sbin/virtqemud"},
        {"qemu:///session?mode=legacy", "/run/user/1000/libvirt/virtqemud-sock", NULL, NULL,
         "/usr/sbin/libvirtd"},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fenv f = {1000, NULL, cases[i].exists};
        vrpc_uri_env env = {fe_get, fe_euid, fe_exists, &f, NULL};
        vrpc_target *t = NULL;
        char *got = NULL;
        int rc;

        if (cases[i].virtd_path)
            setenv("VIRTD_PATH", cases[i].virtd_path, 1);
        else
            unsetenv("VIRTD_PATH");
        if (cases[i].libvirtd_path)
            setenv("LIBVIRTD_PATH", cases[i].libvirtd_path, 1);
        else
            unsetenv("LIBVIRTD_PATH");
        rc = vrpc_remote_resolve(cases[i].uri, 0, &env, &t, NULL);
        if (rc == 0)
            got = vrpc_session_daemon_path(t);
        TAP_OK(got && strcmp(got, cases[i].want) == 0,
               "daemon for %s%s%s (VIRTD_PATH %s, LIBVIRTD_PATH %s): %s", cases[i].uri,
               cases[i].exists ? " with " : "", cases[i].exists ? cases[i].exists : "",
               cases[i].virtd_path ? cases[i].virtd_path : "unset",
               cases[i].libvirtd_path ? cases[i].libvirtd_path : "unset", got ? got : "?");
        vrpc_free(got);
        vrpc_target_free(t);
    }
    unsetenv("VIRTD_PATH");
    unsetenv("LIBVIRTD_PATH");
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char tdir[256];

    test_echo();
    test_failure_message();
    test_eof_after_data();
    test_late_exit();
    test_bounded_stderr();
    test_no_sigpipe();
    test_sigterm_ignored();
    test_start_failures();
    test_no_inherited_fds();
    test_autostart_rules();
    test_daemon_path();
    snprintf(tdir, sizeof(tdir), "%s/vrpc-cmd-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (mkdtemp(tdir)) {
        test_conn_open(tdir);
        rmdir(tdir);
    } else {
        TAP_OK(0, "mkdtemp");
    }
    return tap_done();
}
