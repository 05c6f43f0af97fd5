/* SPDX-License-Identifier: MIT */
/*
 * The stream commands of the virtrpc tool: console, vol-upload,
 * vol-download, screenshot, qemu-monitor-command.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "cmd-streams.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The escape character of the console: Ctrl-], as virsh. */
#define CONSOLE_ESCAPE 0x1d

static int fail(int rc, vrpc_error *e)
{
    if (e)
        fprintf(stderr, "error: %s (code %d, domain %d)\n",
                e->message ? e->message : vrpc_strerror(rc), (int)e->code, (int)e->domain);
    else
        fprintf(stderr, "error: %s\n", vrpc_strerror(rc));
    vrpc_free(e);
    return EXIT_FAIL;
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "virtrpc: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'virtrpc --help'.\n");
    return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    unsigned long long x;
    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    x = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

/* Look a domain up (id, UUID or name, as virsh) as the procedures name it. */
static int lookup_domain(vrpc_conn *c, const char *name, vrpc_nonnull_domain *dom,
                         vrpc_simple_domain **keep)
{
    vrpc_error *e = NULL;
    int rc = vrpc_simple_domain_resolve(c, name, keep, &e);
    if (rc)
        return fail(rc, e);
    *dom = (*keep)->dom;
    return 0;
}

/* ---- progress ---- */

typedef struct progress {
    bool on;
    int64_t last_ms;
    const char *what;
    uint64_t done, total; /* total: what the helper does not know (0: unknown) */
} progress;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void show_progress(progress *p, uint64_t done, uint64_t total, bool last)
{
    char bar[31];
    double mib = (double)done / (1 << 20);
    int fill;
    if (!p->on)
        return;
    if (total) {
        fill = (int)(done >= total ? 30 : done * 30 / total);
        memset(bar, '=', (size_t)fill);
        memset(bar + fill, ' ', (size_t)(30 - fill));
        bar[30] = 0;
        fprintf(stderr, "\r%s [%s] %3d%% %.1f/%.1f MiB", p->what, bar,
                (int)(done >= total ? 100 : done * 100 / total), mib, (double)total / (1 << 20));
    } else {
        fprintf(stderr, "\r%s %.1f MiB", p->what, mib);
    }
    if (last)
        fputc('\n', stderr);
    fflush(stderr);
}

static int on_progress(uint64_t done, uint64_t total, void *opaque)
{
    progress *p = opaque;
    int64_t now = mono_ms();
    p->done = done;
    if (total)
        p->total = total;
    total = p->total;
    if (now - p->last_ms >= 100) {
        p->last_ms = now;
        show_progress(p, done, total, false);
    }
    return 0;
}

/* ---- volumes ---- */

typedef struct vol_opts {
    const char *vol, *file, *pool;
    uint64_t offset, length;
    bool sparse;
} vol_opts;

static int parse_vol_opts(const char *cmd, int argc, char **argv, vol_opts *o)
{
    int npos = 0;
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--sparse") == 0) {
            o->sparse = true;
        } else if (strcmp(a, "--pool") == 0 && i + 1 < argc) {
            o->pool = argv[++i];
        } else if (strcmp(a, "--offset") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &o->offset))
                return usage_error("%s: bad --offset '%s'", cmd, argv[i]);
        } else if (strcmp(a, "--length") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &o->length))
                return usage_error("%s: bad --length '%s'", cmd, argv[i]);
        } else if (a[0] == '-' && a[1] == '-') {
            return usage_error("%s: unknown option or missing value '%s'", cmd, a);
        } else if (npos == 0) {
            o->vol = a;
            npos++;
        } else if (npos == 1) {
            o->file = a;
            npos++;
        } else {
            return usage_error("%s: too many arguments", cmd);
        }
    }
    if (npos != 2)
        return usage_error("usage: virtrpc %s VOL FILE [--pool POOL] [--offset N] [--length N] "
                           "[--sparse]",
                           cmd);
    return 0;
}

/* The volume: by name in a pool, else by key, else by path (as virsh). */
static int lookup_vol(vrpc_conn *c, const vol_opts *o, void **keep, vrpc_nonnull_storage_vol **vol)
{
    vrpc_error *e = NULL;
    int rc;
    if (o->pool) {
        vrpc_storage_pool_lookup_by_name_args pa = {(char *)o->pool};
        vrpc_storage_pool_lookup_by_name_ret *pr = NULL;
        vrpc_storage_vol_lookup_by_name_args va;
        vrpc_storage_vol_lookup_by_name_ret *vr = NULL;
        rc = vrpc_storage_pool_lookup_by_name(c, &pa, &pr, &e);
        if (rc)
            return fail(rc, e);
        va.pool = pr->pool;
        va.name = (char *)o->vol;
        rc = vrpc_storage_vol_lookup_by_name(c, &va, &vr, &e);
        vrpc_free(pr);
        if (rc)
            return fail(rc, e);
        *keep = vr;
        *vol = &vr->vol;
        return 0;
    } else {
        vrpc_storage_vol_lookup_by_key_args ka = {(char *)o->vol};
        vrpc_storage_vol_lookup_by_key_ret *kr = NULL;
        vrpc_storage_vol_lookup_by_path_args xa = {(char *)o->vol};
        vrpc_storage_vol_lookup_by_path_ret *xr = NULL;
        if (vrpc_storage_vol_lookup_by_key(c, &ka, &kr, NULL) == 0) {
            *keep = kr;
            *vol = &kr->vol;
            return 0;
        }
        rc = vrpc_storage_vol_lookup_by_path(c, &xa, &xr, &e);
        if (rc)
            return fail(rc, e);
        *keep = xr;
        *vol = &xr->vol;
        return 0;
    }
}

static int cmd_vol_transfer(vrpc_conn *c, bool upload, int argc, char **argv)
{
    const char *cmd = upload ? "vol-upload" : "vol-download";
    vrpc_nonnull_storage_vol *vol = NULL;
    progress p = {0};
    vrpc_error *e = NULL;
    void *keep = NULL;
    vol_opts o;
    bool std;
    int fd, rc;

    if ((rc = parse_vol_opts(cmd, argc, argv, &o)) != 0)
        return rc;
    if ((rc = lookup_vol(c, &o, &keep, &vol)) != 0)
        return rc;
    std = strcmp(o.file, "-") == 0;
    if (upload)
        fd = std ? 0 : open(o.file, O_RDONLY | O_CLOEXEC);
    else
        fd = std ? 1 : open(o.file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        fprintf(stderr, "error: cannot open %s: %s\n", o.file, strerror(errno));
        vrpc_free(keep);
        return EXIT_FAIL;
    }
    p.on = isatty(2) && !(std && !upload && isatty(1));
    p.what = upload ? "upload" : "download";
    if (p.on && !upload) {
        /* The size to expect, for the bar. */
        vrpc_storage_vol_get_info_args ia = {*vol};
        vrpc_storage_vol_get_info_ret *ir = NULL;
        if (vrpc_storage_vol_get_info(c, &ia, &ir, NULL) == 0 && ir->capacity > o.offset)
            p.total = o.length ? o.length : ir->capacity - o.offset;
        vrpc_free(ir);
    }
    if (upload)
        rc = vrpc_stream_vol_upload(c, vol, fd, o.offset, o.length,
                                    o.sparse ? VRPC_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0,
                                    on_progress, &p, &e);
    else
        rc = vrpc_stream_vol_download(c, vol, fd, o.offset, o.length,
                                      o.sparse ? VRPC_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0,
                                      on_progress, &p, &e);
    if (p.on && rc == 0)
        show_progress(&p, p.done, p.total, true);
    else if (p.on && p.last_ms)
        fputc('\n', stderr);
    if (!std && close(fd) < 0 && rc == 0) {
        fprintf(stderr, "error: cannot close %s: %s\n", o.file, strerror(errno));
        rc = VRPC_E_IO;
    } else if (rc) {
        fail(rc, e);
    }
    if (rc && !upload && !std)
        unlink(o.file); /* as virsh: no partial download left behind */
    vrpc_free(keep);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* ---- screenshot ---- */

static int cmd_screenshot(vrpc_conn *c, int argc, char **argv)
{
    const char *dname = NULL, *file = NULL;
    vrpc_simple_domain *keep = NULL;
    vrpc_nonnull_domain dom;
    uint64_t screen = 0;
    uint8_t *data = NULL;
    char *mime = NULL;
    vrpc_error *e = NULL;
    size_t len = 0;
    FILE *f;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--screen") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &screen) || screen > UINT32_MAX)
                return usage_error("screenshot: bad --screen '%s'", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return usage_error("screenshot: unknown option '%s'", argv[i]);
        } else if (!dname) {
            dname = argv[i];
        } else if (!file) {
            file = argv[i];
        } else {
            return usage_error("screenshot: too many arguments");
        }
    }
    if (!dname || !file)
        return usage_error("usage: virtrpc screenshot DOMAIN FILE [--screen N]");
    if ((rc = lookup_domain(c, dname, &dom, &keep)) != 0)
        return rc;
    rc = vrpc_stream_screenshot(c, &dom, (unsigned int)screen, 0, &mime, &data, &len, &e);
    vrpc_free(keep);
    if (rc)
        return fail(rc, e);
    f = fopen(file, "wbe");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "error: cannot write %s: %s\n", file, strerror(errno));
        vrpc_free(data);
        vrpc_free(mime);
        return EXIT_FAIL;
    }
    printf("Screenshot saved to %s, with type of %s\n", file, mime ? mime : "(unknown)");
    vrpc_free(data);
    vrpc_free(mime);
    return EXIT_OK;
}

/* ---- qemu-monitor-command ---- */

static int cmd_qemu_monitor(vrpc_conn *c, int argc, char **argv)
{
    vrpc_qemu_domain_monitor_command_args a;
    vrpc_qemu_domain_monitor_command_ret *r = NULL;
    vrpc_simple_domain *keep = NULL;
    const char *dname = NULL;
    size_t cap = 1, len = 0;
    char *cmd = calloc(1, 1);
    vrpc_error *e = NULL;
    bool hmp = false;
    int rc;

    memset(&a, 0, sizeof(a));
    for (int i = 0; i < argc && cmd; i++) {
        size_t n;
        if (strcmp(argv[i], "--hmp") == 0) {
            hmp = true;
            continue;
        }
        if (!dname) {
            dname = argv[i];
            continue;
        }
        /* The words of the command are joined with spaces, as virsh does. */
        n = strlen(argv[i]);
        if (len + n + 2 > cap) {
            char *m = realloc(cmd, cap = len + n + 2);
            if (!m) {
                free(cmd);
                cmd = NULL;
                break;
            }
            cmd = m;
        }
        if (len)
            cmd[len++] = ' ';
        memcpy(cmd + len, argv[i], n + 1);
        len += n;
    }
    if (!cmd) {
        fprintf(stderr, "error: out of memory\n");
        return EXIT_FAIL;
    }
    if (!dname || len == 0) {
        free(cmd);
        return usage_error("usage: virtrpc qemu-monitor-command DOMAIN COMMAND... [--hmp]");
    }
    if ((rc = lookup_domain(c, dname, &a.dom, &keep)) != 0) {
        free(cmd);
        return rc;
    }
    a.cmd = cmd;
    a.flags = hmp ? VRPC_DOMAIN_QEMU_MONITOR_COMMAND_HMP : 0;
    rc = vrpc_qemu_domain_monitor_command(c, &a, &r, &e);
    free(cmd);
    vrpc_free(keep);
    if (rc)
        return fail(rc, e);
    fputs(r->result, stdout);
    if (!*r->result || r->result[strlen(r->result) - 1] != '\n')
        putchar('\n');
    vrpc_free(r);
    return EXIT_OK;
}

/* ---- console ---- */

typedef struct console {
    vrpc_stream *st;
    int wake[2]; /* the receiving thread says it is done */
    int rc;      /* how the receiving side ended (0: end of stream) */
    vrpc_error *err;
} console;

static void *console_rx(void *arg)
{
    console *k = arg;
    char buf[4096];
    ssize_t n;
    while ((n = vrpc_stream_recv(k->st, buf, sizeof(buf), 0, &k->err)) > 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += w;
        }
    }
    k->rc = (int)n;
    if (write(k->wake[1], "x", 1) < 0) {
        /* the main thread also polls the stream's end */
    }
    return NULL;
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
    if (tio_saved)
        tcsetattr(0, TCSAFLUSH, &saved_tio);
    tio_saved = false;
}

static int cmd_console(vrpc_conn *c, int argc, char **argv)
{
    const char *dname = NULL, *dev = NULL;
    vrpc_simple_domain *keep = NULL;
    unsigned int flags = 0;
    vrpc_nonnull_domain dom;
    uint64_t linger = 0;
    console k = {0};
    vrpc_error *e = NULL;
    bool tty = isatty(0), in_open = true;
    int64_t deadline = -1;
    pthread_t thr;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--devname") == 0 && i + 1 < argc)
            dev = argv[++i];
        else if (strcmp(argv[i], "--force") == 0)
            flags |= VRPC_DOMAIN_CONSOLE_FORCE;
        else if (strcmp(argv[i], "--safe") == 0)
            flags |= VRPC_DOMAIN_CONSOLE_SAFE;
        else if (strcmp(argv[i], "--linger") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &linger) || linger > 86400)
                return usage_error("console: bad --linger '%s'", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1] == '-')
            return usage_error("console: unknown option or missing value '%s'", argv[i]);
        else if (!dname)
            dname = argv[i];
        else
            return usage_error("console: too many arguments");
    }
    if (!dname)
        return usage_error("usage: virtrpc console DOMAIN [--devname DEV] [--force] [--safe] "
                           "[--linger S]");
    if ((rc = lookup_domain(c, dname, &dom, &keep)) != 0)
        return rc;
    rc = vrpc_stream_open_console(c, &dom, dev, flags, &k.st, &e);
    if (rc) {
        vrpc_free(keep);
        return fail(rc, e);
    }
    printf("Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", keep->name);
    fflush(stdout);
    vrpc_free(keep);
    if (pipe2(k.wake, O_CLOEXEC) < 0) {
        vrpc_stream_free(k.st);
        fprintf(stderr, "error: pipe: %s\n", strerror(errno));
        return EXIT_FAIL;
    }
    if (tty && tcgetattr(0, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        cfmakeraw(&raw);
        tio_saved = tcsetattr(0, TCSAFLUSH, &raw) == 0;
        atexit(restore_tty);
    }
    pthread_create(&thr, NULL, console_rx, &k);

    for (;;) {
        struct pollfd pf[2] = {{k.wake[0], POLLIN, 0}, {0, POLLIN, 0}};
        int timeout = -1, n;
        if (deadline >= 0) {
            int64_t left = deadline - mono_ms();
            if (left <= 0)
                break;
            timeout = (int)left;
        }
        n = poll(pf, in_open ? 2 : 1, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || pf[0].revents)
            break; /* the stream ended (or failed) */
        if (in_open && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[1024];
            ssize_t r = read(0, buf, sizeof(buf)), keepn;
            char *esc;
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                in_open = false; /* end of input: show what comes for --linger seconds */
                deadline = mono_ms() + (int64_t)linger * 1000;
                continue;
            }
            esc = memchr(buf, CONSOLE_ESCAPE, (size_t)r);
            keepn = esc ? esc - buf : r;
            if (keepn > 0 && vrpc_stream_send(k.st, buf, (size_t)keepn, 0, &e) < 0)
                break;
            if (esc)
                break;
        }
    }
    /* Leaving: abort the stream; the receiving thread sees it and ends. */
    vrpc_stream_abort(k.st, NULL);
    pthread_join(thr, NULL);
    restore_tty();
    if (tty)
        printf("\n");
    close(k.wake[0]);
    close(k.wake[1]);
    vrpc_stream_free(k.st);
    if (e)
        return fail(VRPC_E_IO, e);
    if (k.rc < 0 && k.err && k.err->code != VRPC_ERR_OPERATION_INVALID)
        return fail(k.rc, k.err);
    vrpc_free(k.err);
    return EXIT_OK;
}

/* ---- dispatch ---- */

bool virtrpc_is_stream_cmd(const char *name)
{
    return strcmp(name, "console") == 0 || strcmp(name, "vol-upload") == 0 ||
           strcmp(name, "vol-download") == 0 || strcmp(name, "screenshot") == 0 ||
           strcmp(name, "qemu-monitor-command") == 0;
}

int virtrpc_cmd_stream(vrpc_conn *c, const char *name, int argc, char **argv)
{
    if (strcmp(name, "console") == 0)
        return cmd_console(c, argc, argv);
    if (strcmp(name, "vol-upload") == 0)
        return cmd_vol_transfer(c, true, argc, argv);
    if (strcmp(name, "vol-download") == 0)
        return cmd_vol_transfer(c, false, argc, argv);
    if (strcmp(name, "screenshot") == 0)
        return cmd_screenshot(c, argc, argv);
    if (strcmp(name, "qemu-monitor-command") == 0)
        return cmd_qemu_monitor(c, argc, argv);
    return usage_error("unknown command '%s'", name);
}
