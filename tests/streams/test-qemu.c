/* SPDX-License-Identifier: MIT */
/*
 * Streams and descriptors against libvirt's real QEMU driver (a private
 * unprivileged session daemon started by test-streams.sh) with a real VM
 * under software emulation: 64 MiB, no disk, VNC on 127.0.0.1, VGA, a
 * serial console. The firmware (SeaBIOS) writes its screen to the serial
 * port too (<bios useserial='yes'/>) and reads keys from it: the console
 * test waits for "Press ESC for boot menu.", sends ESC, and reads the boot
 * menu it opens ("Select boot device:"). Also: QMP commands through the
 * monitor (compared with virsh), QEMU monitor events, screenshots (compared
 * with virsh), VNC connections through domain_open_graphics_fd (a
 * descriptor received) and domain_open_graphics (a descriptor sent),
 * qemu_domain_monitor_command_with_files and domain_fd_associate
 * (descriptors sent), a channel, the tool's console, screenshot and
 * qemu-monitor-command.
 *
 * Usage: test-qemu VIRTRPC-TOOL
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "sutil.h"

static vrpc_conn *c;
static char *uri, *name, *tool, *work;
static vrpc_nonnull_domain dom;
static void *dom_keep;

/* ---- QEMU monitor events, collected by the event thread ---- */

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static char ev_names[4096];

static void on_monitor_event(vrpc_conn *cc, const vrpc_event *ev, void *opaque)
{
    const vrpc_qemu_domain_monitor_event_msg *m = ev->msg;
    (void)cc;
    (void)opaque;
    pthread_mutex_lock(&ev_lock);
    if (strlen(ev_names) + strlen(m->event) + 2 < sizeof(ev_names)) {
        strcat(ev_names, m->event);
        strcat(ev_names, " ");
    }
    pthread_mutex_unlock(&ev_lock);
}

static bool saw_events(const char *want, int timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    bool ok = false;
    while (!ok && tl_now_ms() < end) {
        pthread_mutex_lock(&ev_lock);
        ok = strstr(ev_names, want) != NULL;
        pthread_mutex_unlock(&ev_lock);
        if (!ok)
            tl_sleep_ms(20);
    }
    return ok;
}

/* ---- the console ---- */

/* Receive from st until text contains want (or timeout). Appends to buf. */
static bool read_until(vrpc_stream *st, char *buf, size_t cap, size_t *len, const char *want,
                       int timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    while (!strstr(buf, want)) {
        int64_t left = end - tl_now_ms();
        ssize_t n;
        if (left <= 0 || *len + 1 >= cap)
            return false;
        if (vrpc_stream_wait_readable(st, (uint64_t)left * VRPC_USEC_PER_MSEC) != 1)
            return false;
        n = vrpc_stream_recv(st, buf + *len, cap - *len - 1, VRPC_STREAM_NONBLOCK, NULL);
        if (n == VRPC_E_AGAIN)
            continue;
        if (n <= 0)
            return false;
        *len += (size_t)n;
        buf[*len] = 0;
    }
    return true;
}

/* The text with escape sequences and line breaks removed, for diagnostics. */
static char *printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    const char *p = n > max ? s + n - max : s;
    char *o = malloc(strlen(p) + 1), *q = o;
    for (; *p; p++) {
        if (*p == 033) {
            while (p[1] && !((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
                p++;
            if (p[1])
                p++;
        } else if (*p == '\r' || *p == '\n') {
            if (q > o && q[-1] != '|')
                *q++ = '|';
        } else if ((unsigned char)*p >= ' ') {
            *q++ = *p;
        }
    }
    *q = 0;
    return o;
}

static void test_console_and_events(void)
{
    vrpc_domain_resume_args ra = {dom};
    vrpc_domain_suspend_args sa = {dom};
    static char buf[1 << 16];
    vrpc_stream *st = NULL;
    vrpc_error *e = NULL;
    size_t len = 0;
    int rc, evid = 0;
    bool ok;
    char *pr;

    rc =
        vrpc_event_register_qemu_monitor(c, &dom, NULL, 0, on_monitor_event, NULL, NULL, &evid, &e);
    TAP_OK(rc == 0 && evid > 0, "QEMU monitor events: registered for the domain %s",
           rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_conn_start_event_thread(c);
    TAP_OK(rc == 0, "the event thread runs");

    rc = vrpc_stream_open_console(c, &dom, NULL, 0, &st, &e);
    TAP_OK(rc == 0 && st, "open the serial console of the paused domain %s", rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    if (rc)
        return;
    rc = vrpc_domain_resume(c, &ra, &e);
    TAP_OK(rc == 0, "resume: the firmware starts %s", rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    ok = read_until(st, buf, sizeof(buf), &len, "Press ESC for boot menu", 30000);
    pr = printable(buf, 200);
    TAP_OK(ok, "console, guest to us: SeaBIOS writes \"Press ESC for boot menu\" (%s)", pr);
    free(pr);
    rc = (int)vrpc_stream_send(st, "\033", 1, 0, &e);
    TAP_OK(rc == 1, "console, us to guest: send ESC %s", rc < 0 ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    ok = read_until(st, buf, sizeof(buf), &len, "Select boot device", 20000);
    pr = printable(buf, 120);
    TAP_OK(ok, "the guest answers the key with its boot menu: \"Select boot device\" (%s)", pr);
    free(pr);
    rc = vrpc_stream_abort(st, &e);
    TAP_OK(rc == 0, "console stream aborted %s", rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    vrpc_stream_free(st);

    TAP_OK(saw_events("RESUME", 10000), "QEMU monitor event RESUME after resume (%s)", ev_names);
    rc = vrpc_domain_suspend(c, &sa, NULL);
    ok = rc == 0 && saw_events("STOP", 10000);
    rc = rc ? rc : vrpc_domain_resume(c, &ra, NULL);
    TAP_OK(ok && rc == 0 && saw_events("STOP RESUME", 10000),
           "QEMU monitor events STOP and RESUME after suspend and resume (%s)", ev_names);
    rc = vrpc_event_deregister(c, evid, &e);
    TAP_OK(rc == 0, "deregister the monitor events %s", rc ? su_err(e) : "");
    vrpc_free(e);
    vrpc_conn_stop_event_thread(c);
}

/* ---- the monitor ---- */

/* The result without its "id" member (libvirt numbers its commands). */
static char *strip_id(const char *s)
{
    char *o = strdup(s), *p = strstr(o, ",\"id\":\"");
    if (p) {
        char *q = strchr(p + 7, '"');
        if (q)
            memmove(p, q + 1, strlen(q + 1) + 1);
    }
    for (p = o + strlen(o); p > o && (p[-1] == '\n' || p[-1] == ' '); p--)
        p[-1] = 0;
    return o;
}

static void test_monitor(void)
{
    vrpc_qemu_domain_monitor_command_args a;
    vrpc_qemu_domain_monitor_command_ret *r = NULL;
    vrpc_error *e = NULL;
    char *out = NULL, *mine = NULL, *theirs = NULL;
    int rc;

    memset(&a, 0, sizeof(a));
    a.dom = dom;
    a.cmd = (char *)"{\"execute\":\"query-status\"}";
    rc = vrpc_qemu_domain_monitor_command(c, &a, &r, &e);
    if (rc == 0)
        mine = strip_id(r->result);
    TAP_OK(rc == 0 && strstr(r->result, "\"status\":\"running\""),
           "QMP query-status through the monitor: %s", rc ? su_err(e) : r->result);
    vrpc_free(e);
    e = NULL;
    rc = tl_sh(&out, "virsh -c '%s' qemu-monitor-command %s '{\"execute\":\"query-status\"}'", uri,
               name);
    theirs = rc == 0 ? strip_id(out) : NULL;
    TAP_OK(mine && theirs && strcmp(mine, theirs) == 0,
           "the same answer as virsh qemu-monitor-command (without the command id): %s",
           theirs ? theirs : "?");
    free(out);
    free(theirs);
    rc = tl_sh(&out, "%s -c '%s' qemu-monitor-command %s '{\"execute\":\"query-status\"}'", tool,
               uri, name);
    theirs = rc == 0 ? strip_id(out) : NULL;
    TAP_OK(mine && theirs && strcmp(mine, theirs) == 0, "virtrpc qemu-monitor-command: the same");
    free(out);
    free(theirs);
    free(mine);
    vrpc_free(r);
    r = NULL;
    a.cmd = (char *)"info status";
    a.flags = VRPC_DOMAIN_QEMU_MONITOR_COMMAND_HMP;
    rc = vrpc_qemu_domain_monitor_command(c, &a, &r, &e);
    TAP_OK(rc == 0 && strstr(r->result, "running"), "HMP 'info status': %s",
           rc ? su_err(e) : r->result);
    vrpc_free(r);
    vrpc_free(e);
}

/* ---- screenshots ---- */

/* Width and height of a PNG or PPM image; false if neither. */
static bool image_size(const uint8_t *d, size_t n, unsigned *w, unsigned *h)
{
    if (n > 24 && memcmp(d, "\211PNG\r\n\032\n", 8) == 0 && memcmp(d + 12, "IHDR", 4) == 0) {
        *w = (unsigned)d[16] << 24 | (unsigned)d[17] << 16 | (unsigned)d[18] << 8 | d[19];
        *h = (unsigned)d[20] << 24 | (unsigned)d[21] << 16 | (unsigned)d[22] << 8 | d[23];
        return true;
    }
    if (n > 10 && d[0] == 'P' && d[1] == '6') {
        char hdr[64];
        int maxv = 0;
        memcpy(hdr, d, sizeof(hdr) - 1);
        hdr[sizeof(hdr) - 1] = 0;
        if (sscanf(hdr + 2, "%u %u %d", w, h, &maxv) == 3 && maxv == 255)
            return n >= (size_t)*w * *h * 3;
    }
    return false;
}

static bool file_image_size(const char *path, unsigned *w, unsigned *h, size_t *size)
{
    FILE *f = fopen(path, "rbe");
    static uint8_t b[64 << 20];
    size_t n = f ? fread(b, 1, sizeof(b), f) : 0;
    if (f)
        fclose(f);
    *size = n;
    return image_size(b, n, w, h);
}

static void test_screenshot(void)
{
    char *mime = NULL, *out = NULL, *vfile = tl_strf("%s/virsh.img", work);
    char *tfile = tl_strf("%s/tool.img", work);
    uint8_t *data = NULL;
    unsigned w = 0, h = 0, vw = 0, vh = 0, tw = 0, th = 0;
    size_t len = 0, vlen = 0, tlen = 0;
    vrpc_error *e = NULL;
    bool img;
    int rc;

    rc = vrpc_stream_screenshot(c, &dom, 0, 0, &mime, &data, &len, &e);
    img = rc == 0 && image_size(data, len, &w, &h);
    TAP_OK(img && w >= 320 && h >= 200, "screenshot: a %s image of %ux%u (%zu bytes) %s",
           mime ? mime : "?", w, h, len, rc ? su_err(e) : "");
    vrpc_free(e);
    rc = tl_sh(&out, "virsh -c '%s' screenshot %s %s", uri, name, vfile);
    img = rc == 0 && mime && strstr(out, mime) && file_image_size(vfile, &vw, &vh, &vlen);
    TAP_OK(img && vw == w && vh == h, "virsh screenshot: the same type and size (%ux%u, %zu bytes)",
           vw, vh, vlen);
    free(out);
    rc = tl_sh(&out, "%s -c '%s' screenshot %s %s", tool, uri, name, tfile);
    img = rc == 0 && mime && strstr(out, mime) && file_image_size(tfile, &tw, &th, &tlen);
    TAP_OK(img && tw == w && th == h, "virtrpc screenshot: the same type and size (%ux%u)", tw, th);
    free(out);
    unlink(vfile);
    unlink(tfile);
    free(vfile);
    free(tfile);
    vrpc_free(mime);
    vrpc_free(data);
}

/* ---- descriptors ---- */

static bool read_banner(int fd, char *buf)
{
    struct pollfd p = {fd, POLLIN, 0};
    size_t got = 0;
    while (got < 12 && poll(&p, 1, 5000) == 1) {
        ssize_t n = read(fd, buf + got, 12 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    return got == 12;
}

static void test_fds(void)
{
    vrpc_domain_open_graphics_fd_args ga;
    vrpc_domain_open_graphics_args oa;
    vrpc_error *e = NULL;
    int *fds = NULL, sv[2] = {-1, -1}, base = tl_count_fds(), rc;
    size_t nfds = 0;
    char banner[16] = "";

    memset(&ga, 0, sizeof(ga));
    ga.dom = dom;
    rc = vrpc_domain_open_graphics_fd(c, &ga, &fds, &nfds, &e);
    TAP_OK(rc == 0 && nfds == 1,
           "generated vrpc_domain_open_graphics_fd(): one descriptor received %s",
           rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    if (nfds == 1) {
        TAP_OK(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, "... close-on-exec");
        TAP_OK(read_banner(fds[0], banner) && strcmp(banner, "RFB 003.008\n") == 0,
               "... it is a VNC connection: \"RFB 003.008\"");
        close(fds[0]);
    }
    vrpc_free(fds);

    memset(&oa, 0, sizeof(oa));
    oa.dom = dom;
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    rc = vrpc_call_fds(c, &vrpc_pd_domain_open_graphics, &oa, &sv[1], 1, NULL, NULL, NULL, &e);
    close(sv[1]);
    memset(banner, 0, sizeof(banner));
    TAP_OK(rc == 0 && read_banner(sv[0], banner) && strcmp(banner, "RFB 003.008\n") == 0,
           "domain_open_graphics: QEMU serves VNC on the descriptor we sent %s",
           rc ? su_err(e) : "");
    close(sv[0]);
    vrpc_free(e);
    e = NULL;

    {
        vrpc_qemu_domain_monitor_command_with_files_args ma;
        vrpc_qemu_domain_monitor_command_with_files_ret *mr = NULL;
        vrpc_qemu_domain_monitor_command_args ca;
        vrpc_qemu_domain_monitor_command_ret *cr = NULL;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            p[0] = p[1] = -1;
        memset(&ma, 0, sizeof(ma));
        ma.dom = dom;
        ma.cmd = (char *)"{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"vrpcfd\"}}";
        rc = vrpc_qemu_domain_monitor_command_with_files(c, &ma, &p[1], 1, &mr, &fds, &nfds, &e);
        TAP_OK(rc == 0 && mr && strstr(mr->result, "\"return\"") && nfds == 0,
               "generated vrpc_qemu_domain_monitor_command_with_files(): getfd with a pipe %s",
               rc ? su_err(e) : mr->result);
        vrpc_free(e);
        e = NULL;
        memset(&ca, 0, sizeof(ca));
        ca.dom = dom;
        ca.cmd = (char *)"{\"execute\":\"closefd\",\"arguments\":{\"fdname\":\"vrpcfd\"}}";
        rc = vrpc_qemu_domain_monitor_command(c, &ca, &cr, &e);
        TAP_OK(rc == 0 && strstr(cr->result, "\"return\""),
               "... QEMU had received it: closefd 'vrpcfd' succeeds %s", rc ? su_err(e) : "");
        vrpc_free(cr);
        vrpc_free(mr);
        vrpc_free(e);
        e = NULL;
        close(p[0]);
        close(p[1]);
    }
    {
        vrpc_domain_fd_associate_args fa;
        int tf = open("/dev/null", O_RDWR | O_CLOEXEC);
        memset(&fa, 0, sizeof(fa));
        fa.dom = dom;
        fa.name = (char *)"vrpcgroup";
        rc = vrpc_call_fds(c, &vrpc_pd_domain_fd_associate, &fa, &tf, 1, NULL, NULL, NULL, &e);
        TAP_OK(rc == 0, "domain_fd_associate with one descriptor %s", rc ? su_err(e) : "");
        vrpc_free(e);
        close(tf);
    }
    TAP_OK(tl_count_fds() == base, "no descriptor left open by the fd calls (%d, %d)",
           tl_count_fds(), base);
}

/* ---- a channel ---- */

static void test_channel(void)
{
    vrpc_stream *st = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_stream_open_channel(c, &dom, "org.vrpc.test", 0, &st, &e);
    TAP_OK(rc == 0 && st, "domain_open_channel on a virtio channel %s", rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    if (st) {
        rc = (int)vrpc_stream_send(st, "ping\n", 5, 0, &e);
        TAP_OK(rc == 5, "... data to the channel %s", rc < 0 ? su_err(e) : "");
        vrpc_free(e);
        TAP_OK(vrpc_stream_abort(st, NULL) == 0, "... aborted");
        vrpc_stream_free(st);
    }
}

/* ---- tunnelled migration: the stream that the protocol file does not annotate ---- */

static void test_tunnel(void)
{
    vrpc_domain_migrate_prepare_tunnel3_params_args a;
    vrpc_domain_migrate_prepare_tunnel3_params_ret *r = NULL;
    vrpc_typed_param tp;
    vrpc_stream *st = NULL;
    vrpc_error *e = NULL;
    char *dname = tl_strf("%s-in", name), *out = NULL;
    const char *uuid = "5eed0000-1111-4222-8333-444455556666";
    char *xml = tl_strf("<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
                        "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                        "<devices><video><model type='vga'/></video></devices></domain>",
                        dname, uuid);
    /* The migration cookie a source host would send (libvirtd 9.0.0's qemu
     * driver crashes on a prepare without one). */
    char *cookie = tl_strf("<qemu-migration><name>%s</name><uuid>%s</uuid><hostname>source"
                           "</hostname><hostuuid>5eed0000-0000-4000-8000-000000000001</hostuuid>"
                           "</qemu-migration>",
                           dname, uuid);
    int rc;

    TAP_OK(vrpc_proc_opens_stream(&vrpc_pd_domain_migrate_prepare_tunnel3_params) &&
               vrpc_pd_domain_migrate_prepare_tunnel3_params.stream == VRPC_STREAM_WRITE,
           "domain_migrate_prepare_tunnel3_params opens a write stream (unannotated in the .x "
           "file, marked by the generator)");
    memset(&a, 0, sizeof(a));
    memset(&tp, 0, sizeof(tp));
    tp.field = (char *)VRPC_MIGRATE_PARAM_DEST_XML;
    tp.value.type = VRPC_TYPED_PARAM_STRING;
    tp.value.u.s = xml;
    a.params.n = 1;
    a.params.items = &tp;
    a.cookie_in.len = (uint32_t)strlen(cookie) + 1;
    a.cookie_in.data = (uint8_t *)cookie;
    a.flags = VRPC_MIGRATE_TUNNELLED | VRPC_MIGRATE_PEER2PEER;
    rc = vrpc_domain_migrate_prepare_tunnel3_params(c, &a, &r, &st, &e);
    TAP_OK(rc == 0 && st,
           "prepare an incoming tunnelled migration (the generated call): a stream to feed it %s",
           rc ? su_err(e) : "");
    vrpc_free(e);
    e = NULL;
    if (rc == 0) {
        tl_sh(&out, "virsh -c '%s' domstate %s", uri, dname);
        TAP_OK(out && strstr(out, "paused"), "the destination VM waits for the data (%s)",
               out ? strtok(out, "\n") : "?");
        free(out);
        out = NULL;
        rc = vrpc_stream_abort(st, &e);
        TAP_OK(rc == 0 || rc == VRPC_E_REMOTE, "abort the migration stream %s",
               rc ? su_err(e) : "");
        vrpc_free(e);
        e = NULL;
        vrpc_stream_free(st);
        {
            /* The source would now end the job (finish3 with cancelled=1);
             * destroying the waiting VM does the same here. */
            vrpc_domain_lookup_by_name_args la = {dname};
            vrpc_domain_lookup_by_name_ret *lr = NULL;
            rc = vrpc_domain_lookup_by_name(c, &la, &lr, &e);
            if (rc == 0) {
                vrpc_domain_destroy_args da = {lr->dom};
                rc = vrpc_domain_destroy(c, &da, &e);
            }
            TAP_OK(rc == 0, "destroy the destination VM %s", rc ? su_err(e) : "");
            vrpc_free(lr);
            vrpc_free(e);
            e = NULL;
        }
    }
    vrpc_free(r);
    free(xml);
    free(cookie);
    free(dname);
}

/* ---- the tool's console ---- */

static void test_tool_console(void)
{
    vrpc_qemu_domain_monitor_command_args a;
    vrpc_qemu_domain_monitor_command_ret *r = NULL;
    int in[2], out[2], rc, st = -1;
    static char buf[1 << 16];
    size_t len = 0;
    int64_t end;
    pid_t pid;
    char *pr;

    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        return;
    pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execl(tool, tool, "-c", uri, "console", name, "--linger", "5", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    /* Restart the firmware so that it shows its prompt again. */
    tl_sleep_ms(500);
    memset(&a, 0, sizeof(a));
    a.dom = dom;
    a.cmd = (char *)"{\"execute\":\"system_reset\"}";
    rc = vrpc_qemu_domain_monitor_command(c, &a, &r, NULL);
    vrpc_free(r);
    if (rc)
        tap_diag("system_reset failed: %d", rc);
    end = tl_now_ms() + 30000;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    while (tl_now_ms() < end && !strstr(buf, "Select boot device")) {
        struct pollfd p = {out[0], POLLIN, 0};
        ssize_t n;
        if (poll(&p, 1, 200) < 0)
            break;
        n = read(out[0], buf + len, sizeof(buf) - len - 1);
        if (n > 0) {
            len += (size_t)n;
            buf[len] = 0;
        } else if (n == 0) {
            break;
        }
        if (in[1] >= 0 && strstr(buf, "Press ESC for boot menu")) {
            if (write(in[1], "\033", 1) != 1) {
                /* checked below through the output */
            }
            close(in[1]); /* end of input: the tool lingers 5 s, then leaves */
            in[1] = -1;
        }
    }
    if (in[1] >= 0)
        close(in[1]);
    pr = printable(buf, 160);
    TAP_OK(strstr(buf, "Connected to domain") && strstr(buf, "Select boot device"),
           "virtrpc console: the prompt, ESC from standard input, the boot menu (%s)", pr);
    free(pr);
    end = tl_now_ms() + 15000;
    while (waitpid(pid, &st, WNOHANG) == 0 && tl_now_ms() < end)
        tl_sleep_ms(50);
    if (tl_now_ms() >= end) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    close(out[0]);
    TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "virtrpc console leaves after the end of its input (status %d)", st);
    /* On a terminal (script(1) gives it one): raw mode, Ctrl-] leaves. */
    {
        char *cmd = tl_strf("%s -c '%s' console %s", tool, uri, name), *q = tl_shq(cmd);
        char *out = NULL;
        int64_t t0 = tl_now_ms();
        rc = tl_sh(&out, "(sleep 1; printf '\\035') | timeout 20 script -qec %s /dev/null", q);
        TAP_OK(rc == 0 && strstr(out, "Escape character is ^]") && tl_now_ms() - t0 < 15000,
               "virtrpc console on a terminal: Ctrl-] leaves (status %d)", rc);
        free(out);
        free(cmd);
        free(q);
    }
}

/* ---- set-up ---- */

static int start_domain(void)
{
    vrpc_domain_create_xml_args a;
    vrpc_domain_create_xml_ret *r = NULL;
    vrpc_error *e = NULL;
    char *xml =
        tl_strf("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64' machine='pc'>hvm</type><bootmenu enable='yes' "
                "timeout='30000'/><bios useserial='yes'/></os>"
                "<devices><graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>"
                "<video><model type='vga'/></video>"
                "<serial type='pty'><target port='0'/></serial>"
                "<console type='pty'><target type='serial' port='0'/></console>"
                "<channel type='unix'><source mode='bind'/>"
                "<target type='virtio' name='org.vrpc.test'/></channel>"
                "</devices></domain>",
                name);
    int rc;
    a.xml_desc = xml;
    a.flags = VRPC_DOMAIN_START_PAUSED;
    rc = vrpc_domain_create_xml(c, &a, &r, &e);
    free(xml);
    if (rc) {
        printf("1..0 # SKIP QEMU cannot start a VM here: %s\n", su_err(e));
        vrpc_free(e);
        return rc;
    }
    dom = r->dom;
    dom_keep = r;
    return 0;
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/vrpc-sq-XXXXXX";
    vrpc_error *e = NULL;
    int base, rc;

    if (!getenv("VRPC_STREAMS_SOCKET") || argc < 2) {
        printf("1..0 # SKIP run by test-streams.sh with the qemu driver\n");
        return 0;
    }
    if (strcmp(getenv("VRPC_STREAMS_QEMU") ? getenv("VRPC_STREAMS_QEMU") : "0", "1") != 0) {
        printf("1..0 # SKIP no qemu-system-x86_64 (scripts/deps.sh installs it)\n");
        return 0;
    }
    tool = argv[1];
    base = tl_count_fds();
    uri = su_uri("qemu");
    name = tl_strf("vrpc-st-%d", (int)getpid());
    work = mkdtemp(tmpl);
    rc = vrpc_conn_open(&c, uri, 0, &e);
    if (rc) {
        printf("1..0 # SKIP cannot open %s: %s\n", uri, su_err(e));
        vrpc_free(e);
        return 0;
    }
    if (start_domain() != 0) {
        vrpc_conn_close(c);
        return 0;
    }
    test_console_and_events();
    test_monitor();
    test_screenshot();
    test_fds();
    test_channel();
    test_tunnel();
    test_tool_console();
    {
        vrpc_domain_destroy_args da = {dom};
        rc = vrpc_domain_destroy(c, &da, &e);
        TAP_OK(rc == 0, "destroy the VM %s", rc ? su_err(e) : "");
        vrpc_free(e);
    }
    vrpc_conn_close(c);
    vrpc_free(dom_keep);
    TAP_OK(tl_count_fds() == base, "no descriptor left open (%d, %d)", tl_count_fds(), base);
    rmdir(work);
    free(uri);
    free(name);
    return tap_done();
}
