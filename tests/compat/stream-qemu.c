/* SPDX-License-Identifier: MIT */
/*
 * Streams of a QEMU guest under TCG through libvirt's API, for the
 * comparison of libvirt.so.0 with compat/ (test-stream-qemu.sh runs this
 * program on each, each time under tests/streams/test-streams.sh with a
 * private session-mode libvirtd of its own). Linked with -lvirt against
 * the system's libvirt headers.
 *
 * The guest is SeaBIOS with a serial console (<bios useserial='yes'/>),
 * started paused: the console is opened first, the guest resumed, and
 * what the firmware writes is read until "Press ESC for boot menu"; ESC
 * sent to it brings "Select boot device" -- deterministic output of a
 * guest without any disk. Then a screenshot (type, size of the image), a
 * virtio channel opened and aborted, the console through a non-blocking
 * stream, and the error cases of a console already open.
 *
 * Prints "TAG: result" lines (the transcript), "# ..." lines that are not
 * compared (the library it loaded), or "1..0 # SKIP reason".
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_handled;

static void quiet(void *data, virErrorPtr err)
{
    (void)err;
    (*(int *)data)++;
}

static void print_err(const char *tag)
{
    virErrorPtr e = virGetLastError();
    if (!e)
        printf("%s: ERR none\n", tag);
    else
        printf("%s: ERR code=%d domain=%d\n", tag, e->code, e->domain);
}

static void print_int(const char *tag, long long r)
{
    if (r == -1)
        print_err(tag);
    else
        printf("%s: %lld\n", tag, r);
    fflush(stdout);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the console until `want` appears in what came (kept in buf), for
 * at most ms milliseconds. A non-blocking stream is polled. */
static int read_until(virStreamPtr st, char *buf, size_t cap, size_t *len, const char *want, int ms,
                      int nonblock)
{
    long long end = now_ms() + ms;
    while (now_ms() < end) {
        if (*len + 1 >= cap)
            *len = 0; /* only the latest output matters */
        int n = virStreamRecv(st, buf + *len, cap - *len - 1);
        if (n == -2 && nonblock) {
            usleep(20000);
            continue;
        }
        if (n <= 0)
            return n;
        *len += (size_t)n;
        buf[*len] = '\0';
        for (size_t i = 0; i < *len; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        if (strstr(buf, want))
            return 1;
    }
    return 0;
}

static int image_size(const char *d, size_t n, unsigned *w, unsigned *h)
{
    char hdr[64];
    int maxv = 0;
    if (n < 16 || d[0] != 'P' || d[1] != '6')
        return 0;
    memcpy(hdr, d, sizeof(hdr) - 1);
    hdr[sizeof(hdr) - 1] = 0;
    return sscanf(hdr + 2, "%u %u %d", w, h, &maxv) == 3 && maxv == 255;
}

/* The non-blocking console's callback: what the guest writes, until
 * `want` is seen. */
typedef struct cons {
    char buf[1 << 16];
    size_t len;
    const char *want;
    int seen, calls;
} cons;

static void on_console(virStreamPtr st, int events, void *opaque)
{
    cons *k = opaque;
    k->calls++;
    if (!(events & VIR_STREAM_EVENT_READABLE))
        return;
    for (;;) {
        if (k->len + 1 >= sizeof(k->buf))
            k->len = 0;
        int n = virStreamRecv(st, k->buf + k->len, sizeof(k->buf) - k->len - 1);
        if (n <= 0)
            return; /* -2: nothing more now */
        for (int i = 0; i < n; i++)
            if (k->buf[k->len + (size_t)i] == '\0')
                k->buf[k->len + (size_t)i] = ' ';
        k->len += (size_t)n;
        k->buf[k->len] = '\0';
        if (strstr(k->buf, k->want))
            k->seen = 1;
    }
}

static void tick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

typedef struct img {
    char *d;
    size_t n, cap;
} img;

static int img_sink(virStreamPtr st, const char *buf, size_t n, void *opaque)
{
    img *m = opaque;
    (void)st;
    if (m->n + n > m->cap) {
        size_t cap = (m->n + n) * 2;
        char *d = realloc(m->d, cap);
        if (!d)
            return -1;
        m->d = d;
        m->cap = cap;
    }
    memcpy(m->d + m->n, buf, n);
    m->n += n;
    return (int)n;
}

int main(void)
{
    const char *sock = getenv("VRPC_STREAMS_SOCKET");
    char uri[4200], name[64], xml[4096];
    static char buf[1 << 16];
    size_t len = 0;

    if (!sock) {
        printf("1..0 # SKIP run by test-stream-qemu.sh\n");
        return 0;
    }
    if (strcmp(getenv("VRPC_STREAMS_QEMU") ? getenv("VRPC_STREAMS_QEMU") : "0", "1") != 0) {
        printf("1..0 # SKIP no qemu-system-x86_64\n");
        return 0;
    }
    virSetErrorFunc(&g_handled, quiet);
    /* the default event loop, before the connection opens (libvirt's client
     * watches a connection's socket only when a loop is there at the open) */
    virEventRegisterDefaultImpl();
    virEventAddTimeout(200, tick, NULL, NULL);
    snprintf(uri, sizeof(uri), "qemu+unix:///session?socket=%s", sock);
    virConnectPtr c = virConnectOpen(uri);
    if (!c) {
        virErrorPtr e = virGetLastError();
        printf("1..0 # SKIP cannot open %s: %s\n", uri, e && e->message ? e->message : "?");
        return 0;
    }
    snprintf(name, sizeof(name), "cst-%d", (int)getpid());
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
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
    virDomainPtr d = virDomainCreateXML(c, xml, VIR_DOMAIN_START_PAUSED);
    if (!d) {
        virErrorPtr e = virGetLastError();
        printf("1..0 # SKIP QEMU cannot start a guest here: %s\n",
               e && e->message ? e->message : "?");
        virConnectClose(c);
        return 0;
    }
    printf("== console\n");
    virStreamPtr st = virStreamNew(c, 0);
    print_int("virDomainOpenConsole", virDomainOpenConsole(d, NULL, st, 0));
    print_int("virDomainResume", virDomainResume(d));
    int r = read_until(st, buf, sizeof(buf), &len, "Press ESC for boot menu", 60000, 0);
    printf("guest to us: \"Press ESC for boot menu\": %s\n", r == 1 ? "seen" : "not seen");
    print_int("virStreamSend[ESC]", virStreamSend(st, "\033", 1));
    r = read_until(st, buf, sizeof(buf), &len, "Select boot device", 30000, 0);
    printf("us to guest: ESC brings \"Select boot device\": %s\n", r == 1 ? "seen" : "not seen");

    /* a second console while this one is open: refused, or taken with FORCE */
    virStreamPtr st2 = virStreamNew(c, 0);
    print_int("virDomainOpenConsole[second]", virDomainOpenConsole(d, NULL, st2, 0));
    virStreamFree(st2);
    print_int("virStreamAbort", virStreamAbort(st));
    print_int("virStreamFree", virStreamFree(st));

    printf("== non-blocking console\n");
    st = virStreamNew(c, VIR_STREAM_NONBLOCK);
    print_int("virDomainOpenConsole[nonblock]", virDomainOpenConsole(d, NULL, st, 0));
    /* (no receive before anything reads: libvirt's client returns -2, ours
     * may read what the console sent already; docs/compat.md) */
    static cons k;
    k.want = "Booting from";
    print_int("virStreamEventAddCallback[READABLE]",
              virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE, on_console, &k, NULL));
    print_int("virStreamEventAddCallback[again]",
              virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE, on_console, &k, NULL));
    /* "1" picks the first boot device: the firmware says it boots from it */
    print_int("virStreamSend[1]", virStreamSend(st, "1", 1));
    long long end = now_ms() + 30000;
    while (!k.seen && now_ms() < end)
        virEventRunDefaultImpl();
    printf("us to guest, guest to the callback: 1 boots: %s\n", k.seen ? "seen" : "not seen");
    print_int("virStreamEventRemoveCallback", virStreamEventRemoveCallback(st));
    print_int("virStreamEventRemoveCallback[again]", virStreamEventRemoveCallback(st));
    print_int("virStreamFinish", virStreamFinish(st));
    virStreamFree(st);

    printf("== screenshot\n");
    st = virStreamNew(c, 0);
    char *mime = virDomainScreenshot(d, st, 0, 0);
    printf("virDomainScreenshot: %s\n", mime ? mime : "NULL");
    if (!mime)
        print_err("virDomainScreenshot");
    free(mime);
    img m = {0};
    print_int("virStreamRecvAll", virStreamRecvAll(st, img_sink, &m));
    print_int("virStreamFinish", virStreamFinish(st));
    unsigned w = 0, h = 0;
    int ok = image_size(m.d, m.n, &w, &h);
    printf("image: %s %ux%u, whole: %s\n", ok ? "P6" : "unknown", w, h,
           ok && m.n >= (size_t)w * h * 3 ? "yes" : "no");
    free(m.d);
    virStreamFree(st);
    st = virStreamNew(c, 0);
    mime = virDomainScreenshot(d, st, 7, 0);
    printf("virDomainScreenshot[screen 7]: %s\n", mime ? mime : "NULL");
    if (!mime)
        print_err("virDomainScreenshot[screen 7]");
    free(mime);
    virStreamFree(st);

    printf("== channel\n");
    st = virStreamNew(c, 0);
    print_int("virDomainOpenChannel", virDomainOpenChannel(d, "org.vrpc.test", st, 0));
    print_int("virStreamSend", virStreamSend(st, "hello", 5));
    print_int("virStreamAbort", virStreamAbort(st));
    virStreamFree(st);
    st = virStreamNew(c, 0);
    print_int("virDomainOpenChannel[no such channel]",
              virDomainOpenChannel(d, "org.vrpc.none", st, 0));
    virStreamFree(st);

    printf("== end\n");
    print_int("virDomainDestroy", virDomainDestroy(d));
    virDomainFree(d);
    printf("errors seen by the global handler: %d\n", g_handled);
    print_int("virConnectClose", virConnectClose(c));

    FILE *in = fopen("/proc/self/maps", "r");
    char line[4096];
    while (in && fgets(line, sizeof(line), in))
        if (strstr(line, "/libvirt.so"))
            printf("# library %s", strrchr(line, ' ') + 1);
    if (in)
        fclose(in);
    return 0;
}
