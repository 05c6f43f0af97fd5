/* SPDX-License-Identifier: MIT */
/* Child-process transports: ssh and ext (see transport-cmd.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "transport-cmd.h"

extern char **environ;

#define SYS_ERR(err, errnum, ...)                                                                  \
    vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errnum, __VA_ARGS__)
#define NOMEM(err) vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory")

/* How long close() waits for the child after closing its socket, then after SIGTERM. */
#define CMD_GRACE_MS 1000
/* The capacity asked for the child's stderr pipe. */
#define CMD_STDERR_PIPE_SIZE (1024 * 1024)
/* How long a failed read/write waits for the child to finish its stderr and exit. */
#define CMD_FAIL_WAIT_MS 1000

/* ---- small string helpers (every allocation through vrpc_malloc) ---- */

VRPC_PRINTF(1, 2) static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    s = vrpc_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void vrpc_strv_free(char **v)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; v[i]; i++)
        vrpc_free(v[i]);
    vrpc_free(v);
}

/* A growable NULL-terminated string vector. */
typedef struct strv {
    char **v;
    size_t n, cap;
    bool failed;
} strv;

/* Append s (taking ownership; NULL marks the vector failed). */
static void strv_take(strv *sv, char *s)
{
    if (sv->failed || !s) {
        vrpc_free(s);
        sv->failed = true;
        return;
    }
    if (sv->n + 2 > sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 16;
        char **nv = vrpc_realloc(sv->v, nc * sizeof(*nv));
        if (!nv) {
            vrpc_free(s);
            sv->failed = true;
            return;
        }
        sv->v = nv;
        sv->cap = nc;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

static void strv_add(strv *sv, const char *s)
{
    strv_take(sv, vrpc_strdup(s));
}

static char **strv_finish(strv *sv)
{
    if (sv->failed || !sv->v) {
        if (sv->v) {
            sv->v[sv->n] = NULL;
            vrpc_strv_free(sv->v);
        }
        sv->v = NULL;
        return NULL;
    }
    return sv->v;
}

/* ---- environment ---- */

char **vrpc_cmd_env(const char *const *extra)
{
    static const char *const common[] = {
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "DYLD_INSERT_LIBRARIES",
        "DYLD_FORCE_FLAT_NAMESPACE",
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "TMPDIR",
        NULL,
    };
    const char *const *lists[2] = {common, extra};
    strv sv = {0};
    size_t l, i;

    strv_add(&sv, "LC_ALL=C");
    for (l = 0; l < 2; l++) {
        for (i = 0; lists[l] && lists[l][i]; i++) {
            const char *v = getenv(lists[l][i]);
            if (v)
                strv_take(&sv, str_printf("%s=%s", lists[l][i], v));
        }
    }
    return strv_finish(&sv);
}

/* ---- shell quoting and the ssh command line ---- */

char *vrpc_shell_escape(const char *s)
{
    size_t n = 0;
    const char *p;
    char *out, *o;

    if (!*s)
        return vrpc_strdup("''");
    if (!strpbrk(s, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~"))
        return vrpc_strdup(s);
    for (p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    out = vrpc_malloc(n + 3);
    if (!out)
        return NULL;
    o = out;
    *o++ = '\'';
    for (p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

/* Escaped twice: sshd runs the command with a shell, which runs sh -c. */
static char *double_escape(const char *s)
{
    char *once = vrpc_shell_escape(s), *twice;
    if (!once)
        return NULL;
    twice = vrpc_shell_escape(once);
    vrpc_free(once);
    return twice;
}

char *vrpc_ssh_remote_command(vrpc_proxy_mode proxy, const char *netcat, const char *socket_path,
                              const char *driver_uri, bool readonly, vrpc_error **err)
{
    char *nc = NULL, *uri = NULL, *nccmd = NULL, *helper = NULL, *cmd = NULL;

    if (proxy == VRPC_PROXY_AUTO && netcat)
        proxy = VRPC_PROXY_NETCAT;
    if (proxy == VRPC_PROXY_NATIVE && netcat) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_REMOTE,
                       "netcat path not valid with native proxy mode");
        return NULL;
    }
    nc = double_escape(netcat ? netcat : "nc");
    uri = double_escape(driver_uri ? driver_uri : "");
    if (!nc || !uri)
        goto out;
    nccmd = str_printf("if '%s' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then "
                       "ARG=-q0;"
                       "else "
                       "ARG=;"
                       "fi;"
                       "'%s' $ARG -U %s",
                       nc, nc, socket_path ? socket_path : "");
    helper = str_printf("virt-ssh-helper%s'%s'", readonly ? " -r " : " ", uri);
    if (!nccmd || !helper)
        goto out;
    switch (proxy) {
    case VRPC_PROXY_AUTO:
        cmd = str_printf("sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; "
                         "if test $? = 0; then "
                         "    %s; "
                         "else"
                         "    %s; "
                         "fi'",
                         helper, nccmd);
        break;
    case VRPC_PROXY_NETCAT:
        cmd = str_printf("sh -c '%s'", nccmd);
        break;
    case VRPC_PROXY_NATIVE:
    default:
        cmd = str_printf("sh -c '%s'", helper);
        break;
    }
out:
    if (!cmd)
        NOMEM(err);
    vrpc_free(nc);
    vrpc_free(uri);
    vrpc_free(nccmd);
    vrpc_free(helper);
    return cmd;
}

char **vrpc_ssh_argv(const vrpc_ssh_cmdline *c)
{
    strv sv = {0};

    strv_add(&sv, c->binary ? c->binary : "ssh");
    if (c->port) {
        strv_add(&sv, "-p");
        strv_add(&sv, c->port);
    }
    if (c->user) {
        strv_add(&sv, "-l");
        strv_add(&sv, c->user);
    }
    if (c->keyfile) {
        strv_add(&sv, "-i");
        strv_add(&sv, c->keyfile);
    }
    strv_add(&sv, "-T");
    strv_add(&sv, "-e");
    strv_add(&sv, "none");
    if (c->no_tty) {
        strv_add(&sv, "-o");
        strv_add(&sv, "BatchMode=yes");
    }
    if (c->no_verify) {
        strv_add(&sv, "-o");
        strv_add(&sv, "StrictHostKeyChecking=no");
    }
    strv_add(&sv, "--");
    strv_add(&sv, c->host ? c->host : "localhost");
    strv_add(&sv, c->command ? c->command : "");
    return strv_finish(&sv);
}

vrpc_proxy_mode vrpc_ssh_proxy_for(const vrpc_target *t)
{
    /* proxy= in the URI, or remote_proxy of libvirt.conf, wins. */
    if (t->proxy_set)
        return t->proxy;
    if (t->socket_explicit)
        return VRPC_PROXY_NETCAT;
    if (t->session)
        return VRPC_PROXY_NATIVE;
    return VRPC_PROXY_AUTO;
}

/* ---- spawning ---- */

/* argv0 as execve needs it: as is with a '/', else the first executable in $PATH. */
static char *find_program(const char *name)
{
    const char *path, *p, *colon;

    if (strchr(name, '/'))
        return vrpc_strdup(name);
    path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path;; p = colon + 1) {
        struct stat st;
        size_t dl;
        char *cand;

        colon = strchr(p, ':');
        dl = colon ? (size_t)(colon - p) : strlen(p);
        cand = dl ? str_printf("%.*s/%s", (int)dl, p, name) : str_printf("./%s", name);
        if (!cand)
            return NULL;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        vrpc_free(cand);
        if (!colon)
            break;
    }
    errno = ENOENT;
    return NULL;
}

static int fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        return rl.rlim_cur > (1u << 20) ? (1 << 20) : (int)rl.rlim_cur;
    return 65536;
}

/*
 * In the child, between fork and exec: async-signal-safe calls only.
 * Close every descriptor from `from` up.
 */
static void child_close_from(int from, int maxfd)
{
    int fd;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned int)from, ~0u, 0u) == 0)
        return;
#endif
    for (fd = from; fd < maxfd; fd++)
        close(fd);
}

/* Default dispositions (exec keeps ignored signals ignored) and an empty mask. */
static void child_reset_signals(void)
{
    struct sigaction sa;
    sigset_t none;
    int s;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void child_fail(int statusfd, int e)
{
    ssize_t w;
    do
        w = write(statusfd, &e, sizeof(e));
    while (w < 0 && errno == EINTR);
    _exit(127);
}

/*
 * Child side: stdin/stdout on io (or /dev/null when io < 0), stderr on errw
 * (or /dev/null), the exec status pipe on fd 3 (close-on-exec), nothing else.
 */
static void child_exec(const char *path, char *const argv[], char *const envp[], int io, int errw,
                       int statusfd, int maxfd, bool daemon)
{
    int a, b, s;

    child_reset_signals();
    s = fcntl(statusfd, F_DUPFD_CLOEXEC, 3);
    if (s < 0)
        _exit(127);
    if (io < 0 || errw < 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
            child_fail(s, errno);
        if (io < 0)
            io = null;
        if (errw < 0)
            errw = null;
    }
    a = fcntl(io, F_DUPFD, 3);
    b = fcntl(errw, F_DUPFD, 3);
    if (a < 0 || b < 0)
        child_fail(s, errno);
    if (dup2(a, 0) < 0 || dup2(a, 1) < 0 || dup2(b, 2) < 0)
        child_fail(s, errno);
    if (s != 3) {
        if (dup2(s, 3) < 0)
            child_fail(s, errno);
        s = 3;
    }
    if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        child_fail(3, errno);
    child_close_from(4, maxfd);
    if (daemon && chdir("/") < 0)
        child_fail(3, errno);
    execve(path, argv, envp ? envp : environ);
    child_fail(3, errno);
}

/* Read the exec status pipe: 0 when exec happened (EOF), else the child's errno. */
static int read_exec_status(int fd)
{
    int e = 0;
    size_t got = 0;
    while (got < sizeof(e)) {
        ssize_t n = read(fd, (char *)&e + got, sizeof(e) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got == sizeof(e) ? (e ? e : EIO) : 0;
}

static pid_t waitpid_eintr(pid_t pid, int *status, int flags)
{
    pid_t r;
    do
        r = waitpid(pid, status, flags);
    while (r < 0 && errno == EINTR);
    return r;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/*
 * Wait up to ms for pid. 1 when it was reaped (*status set; *status = -1 if
 * the process was reaped elsewhere, e.g. SIGCHLD ignored), 0 when it is
 * still running.
 */
static int wait_child(pid_t pid, int *status, int ms)
{
    int64_t end = vrpc_mono_ms() + ms;
    int step = 1;
    for (;;) {
        pid_t r = waitpid_eintr(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0) {
            *status = -1;
            return 1;
        }
        if (vrpc_mono_ms() >= end)
            return 0;
        sleep_ms(step);
        if (step < 20)
            step *= 2;
    }
}

/* Reap pid: grace period, SIGTERM, grace period, SIGKILL. */
static int reap_child(pid_t pid, int grace_ms)
{
    int status = -1;
    if (wait_child(pid, &status, grace_ms))
        return status;
    kill(pid, SIGTERM);
    if (wait_child(pid, &status, grace_ms))
        return status;
    kill(pid, SIGKILL);
    if (waitpid_eintr(pid, &status, 0) != pid)
        status = -1;
    return status;
}

/*
 * fork+exec with every signal blocked around fork (no application handler
 * runs in the child). Returns the pid or -1 with errno.
 */
static pid_t fork_blocked(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, old);
    return fork();
}

/* ---- the transport ---- */

typedef struct cmd_transport {
    vrpc_transport base;
    int fd;    /* our end of the socketpair */
    int errfd; /* read end of the child's stderr, -1 after its EOF */
    pid_t pid; /* -1 once reaped */
    int status;
    char errbuf[VRPC_CMD_STDERR_MAX];
    size_t errlen;
    bool errtrunc;
    bool received; /* a byte came from the child */
} cmd_transport;

static void errbuf_add(cmd_transport *t, const char *p, size_t n)
{
    if (n >= sizeof(t->errbuf)) {
        p += n - sizeof(t->errbuf);
        n = sizeof(t->errbuf);
        t->errtrunc = t->errtrunc || n > 0;
        t->errlen = 0;
    }
    if (t->errlen + n > sizeof(t->errbuf)) {
        size_t drop = t->errlen + n - sizeof(t->errbuf);
        memmove(t->errbuf, t->errbuf + drop, t->errlen - drop);
        t->errlen -= drop;
        t->errtrunc = true;
    }
    memcpy(t->errbuf + t->errlen, p, n);
    t->errlen += n;
}

/* Read what the child wrote to stderr so far (non-blocking). */
static void drain_stderr(cmd_transport *t)
{
    char tmp[4096];
    while (t->errfd >= 0) {
        ssize_t n = read(t->errfd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* EAGAIN, or an error: keep what we have */
        if (n == 0) {
            close(t->errfd);
            t->errfd = -1;
            return;
        }
        errbuf_add(t, tmp, (size_t)n);
    }
}

/* After the child's end closed: collect the rest of stderr and the exit status (bounded). */
static void settle_child(cmd_transport *t)
{
    int64_t end = vrpc_mono_ms() + CMD_FAIL_WAIT_MS;
    while (t->errfd >= 0) {
        struct pollfd p = {.fd = t->errfd, .events = POLLIN};
        int64_t left = end - vrpc_mono_ms();
        if (left <= 0)
            break;
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            break;
        drain_stderr(t);
    }
    if (t->pid > 0) {
        int64_t left = end - vrpc_mono_ms();
        if (wait_child(t->pid, &t->status, left > 0 ? (int)left : 0))
            t->pid = -1;
    }
}

/* "exit status 255: <stderr>" etc., one line. */
static char *describe_child(cmd_transport *t)
{
    char state[96];
    char *text, *o;
    size_t i, start = 0, len = t->errlen;
    bool space = false;

    if (t->pid > 0)
        snprintf(state, sizeof(state), "still running");
    else if (t->status == -1)
        snprintf(state, sizeof(state), "exited");
    else if (WIFEXITED(t->status))
        snprintf(state, sizeof(state), "exit status %d", WEXITSTATUS(t->status));
    else if (WIFSIGNALED(t->status))
        snprintf(state, sizeof(state), "killed by signal %d (%s)", WTERMSIG(t->status),
                 strsignal(WTERMSIG(t->status)));
    else
        snprintf(state, sizeof(state), "wait status 0x%x", (unsigned int)t->status);

    /* Trim, and fold line breaks so the message stays one line. */
    while (start < len && (t->errbuf[start] == ' ' || t->errbuf[start] == '\n' ||
                           t->errbuf[start] == '\r' || t->errbuf[start] == '\t'))
        start++;
    while (len > start && (t->errbuf[len - 1] == ' ' || t->errbuf[len - 1] == '\n' ||
                           t->errbuf[len - 1] == '\r' || t->errbuf[len - 1] == '\t'))
        len--;
    text = vrpc_malloc((len - start) * 2 + 8);
    if (!text)
        return str_printf("%s", state);
    o = text;
    if (t->errtrunc && start < len) {
        memcpy(o, "...", 3);
        o += 3;
    }
    for (i = start; i < len; i++) {
        char ch = t->errbuf[i];
        if (ch == '\n' || ch == '\r') {
            space = true;
            continue;
        }
        if (space) {
            *o++ = ';';
            *o++ = ' ';
            space = false;
        }
        *o++ = (ch == '\0' || ch == '\t') ? ' ' : ch;
    }
    *o = '\0';
    if (o == text) {
        vrpc_free(text);
        return str_printf("%s, no error output", state);
    }
    o = str_printf("%s: %s", state, text);
    vrpc_free(text);
    return o;
}

/*
 * The error for a child whose end of the connection is gone. Before the
 * first byte from the other side the connection was never made: that is the
 * connect step (e.g. ssh refused), and the error says so (message and step tag).
 */
static void child_gone(cmd_transport *t, const char *event, int errnum, vrpc_error **err)
{
    char *d;
    settle_child(t);
    d = describe_child(t);
    if (!t->received) {
        vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, "connect: %s failed (%s)",
                       t->base.peer, d ? d : "?");
        vrpc_error_set_step(err, VRPC_STEP_CONNECT);
    } else if (errnum) {
        char eb[128];
        const char *es = strerror_r(errnum, eb, sizeof(eb));
        vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, "%s %s: %s (%s)", event,
                       t->base.peer, es, d ? d : "?");
    } else {
        vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, "%s %s (%s)", event, t->base.peer,
                       d ? d : "?");
    }
    vrpc_free(d);
}

static ssize_t cmd_read(vrpc_transport *tr, void *buf, size_t len, int *fds, size_t *nfds,
                        size_t maxfds, vrpc_error **err)
{
    cmd_transport *t = (cmd_transport *)tr;
    ssize_t n;
    (void)fds;
    (void)nfds;
    (void)maxfds;

    drain_stderr(t);
    do
        n = recv(t->fd, buf, len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        t->received = true;
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return VRPC_E_AGAIN;
    if (n == 0) {
        child_gone(t, "end of file from", 0, err);
        return t->received ? VRPC_E_CLOSED : VRPC_E_CONNECT;
    }
    {
        int e = errno;
        child_gone(t, "read from", e, err);
        if (!t->received)
            return VRPC_E_CONNECT;
        return e == ECONNRESET ? VRPC_E_CLOSED : VRPC_E_IO;
    }
}

static ssize_t cmd_write(vrpc_transport *tr, const void *buf, size_t len, vrpc_error **err)
{
    cmd_transport *t = (cmd_transport *)tr;
    ssize_t n;

    drain_stderr(t);
    do
        n = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return VRPC_E_AGAIN;
    {
        int e = errno;
        child_gone(t, "write to", e, err);
        if (!t->received)
            return VRPC_E_CONNECT; /* never connected: no "closed by the daemon" */
        return (e == EPIPE || e == ECONNRESET) ? VRPC_E_CLOSED : VRPC_E_IO;
    }
}

static int cmd_fd(const vrpc_transport *tr)
{
    return ((const cmd_transport *)tr)->fd;
}

static void cmd_close(vrpc_transport *tr)
{
    cmd_transport *t = (cmd_transport *)tr;
    int saved = errno;
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    if (t->errfd >= 0)
        close(t->errfd);
    if (t->pid > 0)
        reap_child(t->pid, CMD_GRACE_MS);
    vrpc_free(t->base.peer);
    vrpc_free(t);
    errno = saved;
}

static const vrpc_transport_ops cmd_ops = {
    .name = "command",
    .read = cmd_read,
    .write = cmd_write,
    .send_fd = NULL,
    .pending = NULL,
    .events = NULL,
    .fd = cmd_fd,
    .close = cmd_close,
};

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    p[0] = p[1] = -1;
}

int vrpc_transport_cmd_spawn(const char *what, char *const argv[], char *const envp[],
                             vrpc_transport **out, vrpc_error **err)
{
    int sv[2] = {-1, -1}, ep[2] = {-1, -1}, st[2] = {-1, -1};
    cmd_transport *t = NULL;
    char *path = NULL;
    sigset_t old;
    pid_t pid;
    int maxfd, e;

    *out = NULL;
    if (!argv || !argv[0] || !*argv[0]) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC, "%s: no command to run", what);
        return VRPC_E_INVALID;
    }
    path = find_program(argv[0]);
    if (!path) {
        if (errno == ENOENT)
            vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC,
                           "%s: cannot find '%s' in PATH", what, argv[0]);
        else
            NOMEM(err);
        return errno == ENOENT ? VRPC_E_NOT_FOUND : VRPC_E_NOMEM;
    }
    t = vrpc_calloc(1, sizeof(*t));
    if (!t || !(t->base.peer = vrpc_strdup(what))) {
        vrpc_free(t);
        vrpc_free(path);
        NOMEM(err);
        return VRPC_E_NOMEM;
    }
    t->base.ops = &cmd_ops;
    t->fd = t->errfd = -1;
    t->pid = -1;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
        pipe2(st, O_CLOEXEC) < 0) {
        e = errno;
        SYS_ERR(err, e, "%s: socketpair/pipe", what);
        goto fail;
    }
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(ep[0], F_SETFL, O_NONBLOCK) < 0) {
        SYS_ERR(err, errno, "%s: fcntl(O_NONBLOCK)", what);
        goto fail;
    }
    /*
     * stderr is drained whenever the connection reads or writes; a roomy pipe
     * keeps a chatty child from blocking on it in between (best effort).
     */
    (void)fcntl(ep[0], F_SETPIPE_SZ, CMD_STDERR_PIPE_SIZE);
    maxfd = fd_limit();
    pid = fork_blocked(&old);
    if (pid == 0)
        child_exec(path, argv, envp, sv[1], ep[1], st[1], maxfd, false);
    e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        SYS_ERR(err, e, "%s: fork", what);
        goto fail;
    }
    close(sv[1]);
    close(ep[1]);
    close(st[1]);
    sv[1] = ep[1] = st[1] = -1;
    e = read_exec_status(st[0]);
    close_pair(st);
    if (e) {
        waitpid_eintr(pid, NULL, 0);
        SYS_ERR(err, e, "%s: cannot run %s", what, path);
        goto fail;
    }
    t->fd = sv[0];
    t->errfd = ep[0];
    t->pid = pid;
    vrpc_free(path);
    *out = &t->base;
    return 0;

fail:
    close_pair(sv);
    close_pair(ep);
    close_pair(st);
    vrpc_free(path);
    vrpc_free(t->base.peer);
    vrpc_free(t);
    return VRPC_E_CONNECT;
}

/* ---- ssh and ext ---- */

char **vrpc_ssh_target_argv(const vrpc_target *t, vrpc_error **err)
{
    vrpc_ssh_cmdline c;
    vrpc_proxy_mode proxy;
    char port[16];
    char **argv;
    char *cmd;

    proxy = vrpc_ssh_proxy_for(t);
    cmd = vrpc_ssh_remote_command(proxy, t->netcat, t->socket_path, t->name, t->readonly, err);
    if (!cmd)
        return NULL;
    memset(&c, 0, sizeof(c));
    c.binary = t->command ? t->command : "ssh";
    c.host = t->host ? t->host : "localhost";
    if (t->port_explicit) {
        snprintf(port, sizeof(port), "%d", t->port);
        c.port = port;
    }
    c.user = t->user;
    c.keyfile = t->keyfile;
    c.no_tty = t->no_tty;
    c.no_verify = t->no_verify;
    c.command = cmd;
    argv = vrpc_ssh_argv(&c);
    vrpc_free(cmd);
    if (!argv)
        NOMEM(err);
    return argv;
}

int vrpc_transport_ssh_connect(const vrpc_target *t, vrpc_transport **out, vrpc_error **err)
{
    static const char *const pass[] = {
        "XDG_RUNTIME_DIR", "KRB5CCNAME", "SSH_AUTH_SOCK", "SSH_ASKPASS", "GPG_TTY", "TERM",
        "OPENSSL_CONF",    "DISPLAY",    "XAUTHORITY",    NULL,
    };
    const char *host = t->host ? t->host : "localhost";
    char **argv, **envp = NULL;
    char *what = NULL;
    int rc;

    *out = NULL;
    if (t->transport == VRPC_TRANSPORT_LIBSSH || t->transport == VRPC_TRANSPORT_LIBSSH2) {
        const char *name = vrpc_transport_kind_name(t->transport);
        vrpc_error_set(err, VRPC_ERR_NO_SUPPORT, VRPC_FROM_REMOTE,
                       "transport %s is not supported; use +ssh", name);
        return VRPC_E_UNSUPPORTED;
    }
    if (vrpc_ssh_proxy_for(t) == VRPC_PROXY_NATIVE && t->netcat) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_REMOTE,
                       "netcat path not valid with native proxy mode");
        return VRPC_E_INVALID;
    }
    argv = vrpc_ssh_target_argv(t, err);
    if (!argv)
        return VRPC_E_NOMEM;
    envp = vrpc_cmd_env(pass);
    if (t->port_explicit)
        what = str_printf("%s to %s%s%s port %d", argv[0], t->user ? t->user : "",
                          t->user ? "@" : "", host, t->port);
    else
        what =
            str_printf("%s to %s%s%s", argv[0], t->user ? t->user : "", t->user ? "@" : "", host);
    if (!envp || !what) {
        NOMEM(err);
        rc = VRPC_E_NOMEM;
    } else {
        rc = vrpc_transport_cmd_spawn(what, argv, envp, out, err);
    }
    vrpc_free(what);
    vrpc_strv_free(argv);
    vrpc_strv_free(envp);
    return rc;
}

int vrpc_transport_ext_connect(const vrpc_target *t, vrpc_transport **out, vrpc_error **err)
{
    char *argv[2];
    char **envp;
    char *what;
    int rc;

    *out = NULL;
    if (!t->command) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_REMOTE,
                       "for 'ext' transport, command is required");
        return VRPC_E_INVALID;
    }
    argv[0] = t->command;
    argv[1] = NULL;
    envp = vrpc_cmd_env(NULL);
    what = str_printf("command %s", t->command);
    if (!envp || !what) {
        NOMEM(err);
        rc = VRPC_E_NOMEM;
    } else {
        rc = vrpc_transport_cmd_spawn(what, argv, envp, out, err);
    }
    vrpc_strv_free(envp);
    vrpc_free(what);
    return rc;
}

/* ---- session daemons ---- */

int vrpc_spawn_daemon(const char *path, vrpc_error **err)
{
    static const char *const pass[] = {"XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR",
                                       NULL};
    char *argv[3] = {NULL, NULL, NULL};
    char **envp = NULL;
    char *prog = NULL;
    int st[2] = {-1, -1};
    sigset_t old;
    pid_t pid;
    int maxfd, e, status, rc = VRPC_E_CONNECT;

    prog = find_program(path);
    if (!prog) {
        if (errno == ENOENT) {
            vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC,
                           "cannot start the session daemon: cannot find '%s' in PATH", path);
            return VRPC_E_NOT_FOUND;
        }
        NOMEM(err);
        return VRPC_E_NOMEM;
    }
    argv[0] = prog;
    argv[1] = vrpc_strdup("--timeout=120");
    envp = vrpc_cmd_env(pass);
    if (!argv[1] || !envp) {
        NOMEM(err);
        rc = VRPC_E_NOMEM;
        goto out;
    }
    if (pipe2(st, O_CLOEXEC) < 0) {
        SYS_ERR(err, errno, "cannot start the session daemon %s: pipe", prog);
        goto out;
    }
    maxfd = fd_limit();
    pid = fork_blocked(&old);
    if (pid == 0) {
        /* Intermediate child: new session, fork the daemon, exit. */
        pid_t d;
        if (setsid() < 0)
            child_fail(st[1], errno);
        d = fork();
        if (d < 0)
            child_fail(st[1], errno);
        if (d > 0)
            _exit(0);
        child_exec(prog, argv, envp, -1, -1, st[1], maxfd, true);
    }
    e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        SYS_ERR(err, e, "cannot start the session daemon %s: fork", prog);
        goto out;
    }
    close(st[1]);
    st[1] = -1;
    status = -1;
    waitpid_eintr(pid, &status, 0);
    e = read_exec_status(st[0]);
    if (e) {
        SYS_ERR(err, e, "cannot start the session daemon %s", prog);
        goto out;
    }
    rc = 0;
out:
    close_pair(st);
    vrpc_free(argv[1]);
    vrpc_free(prog);
    vrpc_strv_free(envp);
    return rc;
}
