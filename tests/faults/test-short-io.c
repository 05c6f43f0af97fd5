/* SPDX-License-Identifier: MIT */
/*
 * Short reads and writes and EINTR on the whole I/O path. One workload
 * (open, node info, list of domains, a domain defined with a description of
 * more than 1 MiB so that both a call and its reply are larger than 1 MiB,
 * its XML read back, a pipeline of 64 calls in flight, undefine, close) runs
 * against the test daemon without faults, then under each fault plan of the
 * Unix transport's test hook (src/transport/io-faults.h): 1-byte reads, 1-byte
 * writes, both, pseudo-random short sizes, EINTR before every other system
 * call, spurious EAGAIN, all of them together; and once more with a real
 * signal storm (SIGALRM every 50 us, without SA_RESTART, so that poll,
 * recvmsg, send and the locks see real interruptions). Every run must give
 * exactly the results of the run without faults, and leave no descriptor.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "faults.h"
#include "io-faults.h"

/* The description: more than 1 MiB, less under ThreadSanitizer (which is
 * there for the locks, not for the sizes). */
#if defined(__SANITIZE_THREAD__)
#define BIG_DESC (96 * 1024)
#else
#define BIG_DESC (1100 * 1024)
#endif
#define NPIPE 64

static char *uri;
static char *big_desc;
static size_t desc_len = BIG_DESC;

static void sb_add(char **acc, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL, *n = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (asprintf(&n, "%s%s\n", *acc ? *acc : "", s) < 0)
        abort();
    free(s);
    free(*acc);
    *acc = n;
}

/* The workload; returns what it saw, one line per result ("ERR ..." for errors). */
static char *workload(void)
{
    char *out = NULL;
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;
    char name[64];
    int rc;

    snprintf(name, sizeof(name), "faults-io-%ld", (long)getpid());
    rc = vrpc_conn_open(&c, uri, 0, &err);
    if (rc) {
        sb_add(&out, "ERR open %d %s", rc, err && err->message ? err->message : "");
        vrpc_free(err);
        return out;
    }
    {
        vrpc_node_get_info_ret *r = NULL;
        rc = vrpc_node_get_info(c, &r, &err);
        if (rc == 0)
            sb_add(&out, "node %.32s %" PRIu64 " %d %d", r->model, r->memory, r->cpus, r->mhz);
        else
            sb_add(&out, "ERR node_get_info %d", rc);
        vrpc_free(r);
    }
    {
        vrpc_connect_list_all_domains_args a = {.need_results = 1};
        vrpc_connect_list_all_domains_ret *r = NULL;
        rc = vrpc_connect_list_all_domains(c, &a, &r, &err);
        if (rc == 0) {
            /* Only the domains of the test driver's default set: other
             * programs may define theirs meanwhile. */
            for (uint32_t i = 0; i < r->domains.n; i++)
                if (strcmp(r->domains.items[i].name, "test") == 0)
                    sb_add(&out, "domain test %d", r->domains.items[i].id);
        } else {
            sb_add(&out, "ERR list_all_domains %d", rc);
        }
        vrpc_free(r);
    }
    {
        char *xml = tl_strf("<domain type='test'><name>%s</name>"
                            "<uuid>6b2c3fbe-6c5d-4f3e-8d1e-2a7c5b0e9f%02x</uuid>"
                            "<description>%.*s</description><memory>8192</memory>"
                            "<os><type>hvm</type></os></domain>",
                            name, (unsigned)(getpid() & 0xff), (int)desc_len, big_desc);
        vrpc_domain_define_xml_args a = {.xml = xml};
        vrpc_domain_define_xml_ret *r = NULL;
        rc = vrpc_domain_define_xml(c, &a, &r, &err);
        free(xml);
        if (rc == 0) {
            vrpc_domain_get_xml_desc_args xa = {.dom = r->dom, .flags = 0};
            vrpc_domain_get_xml_desc_ret *xr = NULL;
            vrpc_domain_undefine_args ua = {.dom = r->dom};
            vrpc_pending *p[NPIPE];
            int nok = 0;

            sb_add(&out, "defined %s", r->dom.name);
            rc = vrpc_domain_get_xml_desc(c, &xa, &xr, &err);
            if (rc == 0) {
                const char *d = strstr(xr->xml, "<description>");
                sb_add(&out, "xml %zu bytes, description %s", strlen(xr->xml),
                       d && strncmp(d + 13, big_desc, desc_len) == 0 && d[13 + desc_len] == '<'
                           ? "intact"
                           : "CHANGED");
            } else {
                sb_add(&out, "ERR get_xml_desc %d", rc);
            }
            vrpc_free(xr);
            /* A pipeline: 64 calls queued before the first reply is read. */
            for (int i = 0; i < NPIPE; i++)
                if (vrpc_call_send(c, &vrpc_pd_node_get_info, NULL, &p[i], NULL) != 0)
                    p[i] = NULL;
            for (int i = NPIPE - 1; i >= 0; i--) {
                void *ret = NULL;
                if (p[i] && vrpc_call_wait(c, p[i], &ret, &err) == 0)
                    nok++;
                vrpc_free(ret);
                vrpc_free(err);
                err = NULL;
            }
            sb_add(&out, "pipeline %d/%d", nok, NPIPE);
            rc = vrpc_domain_undefine(c, &ua, &err);
            sb_add(&out, "undefine %d", rc);
        } else {
            sb_add(&out, "ERR define %d %s", rc, err && err->message ? err->message : "");
        }
        vrpc_free(r);
    }
    vrpc_free(err);
    vrpc_conn_close(c);
    return out;
}

/* A multi-line text as TAP comments. */
static void diag_lines(const char *title, const char *text)
{
    const char *p = text ? text : "(nothing)";
    tap_diag("%s", title);
    while (*p) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        tap_diag("  %.*s", n, p);
        p += n + (e ? 1 : 0);
    }
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void storm(bool on)
{
    struct itimerval it = {{0, on ? 50 : 0}, {0, on ? 50 : 0}};
    if (on) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alarm; /* no SA_RESTART: system calls fail with EINTR */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
    }
    setitimer(ITIMER_REAL, &it, NULL);
    if (!on)
        signal(SIGALRM, SIG_IGN);
}

int main(void)
{
    static const struct {
        const char *name;
        vrpc_io_faults f;
        size_t desc_len; /* 0: BIG_DESC */
    } plans[] = {
        {"read1", {.max_read = 1}, 0},
        {"write1", {.max_write = 1}, 0},
        {"both1", {.max_read = 1, .max_write = 1}, 32 * 1024},
        {"random", {.max_read = 4096, .max_write = 4096, .random_sizes = true, .seed = 7}, 0},
        {"random-small", {.max_read = 29, .max_write = 13, .random_sizes = true, .seed = 11}, 0},
        {"eintr2", {.eintr_every = 2}, 0},
        {"eintr3-eagain5", {.eintr_every = 3, .eagain_every = 5}, 0},
        {"all",
         {.max_read = 7,
          .max_write = 5,
          .random_sizes = true,
          .seed = 3,
          .eintr_every = 2,
          .eagain_every = 3},
         0},
    };
    char *ref;
    int fds0;
    unsigned long tot_short = 0, tot_eintr = 0, tot_eagain = 0;

    uri = fault_test_uri();
    if (!uri) {
        printf("1..0 # SKIP no test daemon (VRPC_TEST_DIR)\n");
        return 0;
    }
    big_desc = malloc(BIG_DESC + 1);
    for (size_t i = 0; i < BIG_DESC; i++)
        big_desc[i] = (char)('a' + i % 26);
    big_desc[BIG_DESC] = '\0';
    fds0 = tl_count_fds();

    ref = workload();
    TAP_OK(ref && !strstr(ref, "ERR") && strstr(ref, "intact") && strstr(ref, "pipeline 64/64") &&
               strstr(ref, "undefine 0"),
           "the workload runs without faults");
    diag_lines("the results:", ref);

    for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
        unsigned long s, e, a;
        double t0 = tl_now();
        char *got;
        desc_len = plans[i].desc_len ? plans[i].desc_len : BIG_DESC;
        if (desc_len != BIG_DESC) {
            free(ref);
            ref = workload();
        }
        vrpc_io_faults_set(&plans[i].f);
        got = workload();
        vrpc_io_faults_count(&s, &e, &a);
        vrpc_io_faults_set(NULL);
        tot_short += s;
        tot_eintr += e;
        tot_eagain += a;
        if (!TAP_OK(got && strcmp(got, ref) == 0,
                    "%s: the same results (%lu short transfers, %lu EINTR, %lu EAGAIN, %.2fs)",
                    plans[i].name, s, e, a, tl_now() - t0))
            diag_lines("got:", got);
        TAP_OK(s + e + a > 0, "%s: faults were injected", plans[i].name);
        TAP_OK(tl_count_fds() == fds0, "%s: no descriptor left open", plans[i].name);
        free(got);
        if (desc_len != BIG_DESC) {
            desc_len = BIG_DESC;
            free(ref);
            ref = workload();
        }
    }

    {
        char *got;
        storm(true);
        got = workload();
        storm(false);
        if (!TAP_OK(got && strcmp(got, ref) == 0,
                    "signal storm: the same results (%d signals delivered)", (int)alarms))
            diag_lines("got:", got);
        TAP_OK(alarms > 0, "signal storm: signals were delivered");
        TAP_OK(tl_count_fds() == fds0, "signal storm: no descriptor left open");
        free(got);
    }
    tap_diag("faults injected: %lu short transfers, %lu EINTR, %lu EAGAIN, %d signals", tot_short,
             tot_eintr, tot_eagain, (int)alarms);
    free(ref);
    free(big_desc);
    free(uri);
    return tap_done();
}
