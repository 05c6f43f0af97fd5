/* SPDX-License-Identifier: MIT */
/*
 * virtrpc: a command-line client for libvirt daemons, built on the virtrpc
 * library. Common tasks (list, dominfo, start, ...) print what virsh prints;
 * `call` reaches every procedure of every program with JSON arguments.
 *
 * Exit status: 0 success, 1 the operation failed (daemon or connection
 * error), 2 bad usage (command line, unknown procedure, JSON that does not
 * fit the procedure's arguments).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include <virtrpc/virtrpc.h>

#include "cmd-events.h"
#include "cmd-streams.h"
#include "json-bridge.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char *opt_uri;
static bool opt_readonly;
static bool opt_admin;

static void usage(FILE *f)
{
    fprintf(
        f, "Usage: virtrpc [OPTIONS] COMMAND [ARGS]\n"
           "\n"
           "Options:\n"
           "  -c, --connect URI   the daemon to talk to, or an alias of uri_aliases in\n"
           "                      libvirt.conf (default: $LIBVIRT_DEFAULT_URI, else\n"
           "                      uri_default of libvirt.conf, else the local daemon);\n"
           "                      for --admin an admin URI such as\n"
           "                      libvirtd:///system or virtqemud:///system?socket=PATH;\n"
           "                      SASL credentials come from libvirt's auth file\n"
           "                      (authfile=PATH, $LIBVIRT_AUTH_FILE), else are asked\n"
           "                      on the terminal\n"
           "  -r, --readonly      open a read-only connection\n"
           "      --admin         talk to the daemon's admin program (automatic for\n"
           "                      `call admin_...`)\n"
           "  -h, --help          this text\n"
           "  -V, --version       the version of virtrpc\n"
           "\n"
           "Commands:\n"
           "  list                all domains, their ids and states (as `virsh list --all`)\n"
           "  dominfo DOMAIN      information on a domain (as `virsh dominfo`)\n"
           "  start DOMAIN        start a defined domain\n"
           "  shutdown DOMAIN     ask a domain to shut down\n"
           "  destroy DOMAIN      stop a domain at once\n"
           "  dumpxml DOMAIN      the XML description of a domain\n"
           "  define FILE         define a domain from an XML file ('-': standard input)\n"
           "  undefine DOMAIN     undefine a domain\n"
           "  version             versions of virtrpc, of its protocol and of the daemon\n"
           "  procs               every procedure of every program\n"
           "  call PROCEDURE [JSON]\n"
           "                      call any procedure (e.g. domain_lookup_by_name or\n"
           "                      REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME) with its arguments as\n"
           "                      JSON ('-': read them from standard input; none: no\n"
           "                      arguments or {}); prints the reply as JSON\n" VIRTRPC_EVENTS_USAGE
               VIRTRPC_STREAMS_USAGE "\n"
           "DOMAIN is an id, a UUID or a name.\n"
           "Exit status: 0 success, 1 failure, 2 bad usage.\n");
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

/* "error: <message> (code N, domain N)" for a failed call; frees e. */
static int report(int rc, vrpc_error *e)
{
    if (e)
        fprintf(stderr, "error: %s (code %d, domain %d)\n",
                e->message ? e->message : vrpc_strerror(rc), (int)e->code, (int)e->domain);
    else
        fprintf(stderr, "error: %s\n", vrpc_strerror(rc));
    vrpc_free(e);
    return EXIT_FAIL;
}

/* ---- opening: credentials on the terminal, one-line failures ---- */

typedef struct tty_auth {
    bool no_tty; /* credentials were needed but stdin is not a terminal */
} tty_auth;

/*
 * Show prompt and read one line from the terminal, without echo when
 * secret (echo goes off before the prompt shows, as getpass does, so that
 * nothing typed after the prompt is echoed or flushed); NULL on EOF.
 */
static char *tty_ask(FILE *tty, const char *prompt, bool secret)
{
    struct termios old, quiet;
    bool restore = false;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (secret && tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
    }
    dprintf(fileno(tty), "%s: ", prompt); /* unbuffered: tty is only read as a FILE */
    n = getline(&line, &cap, tty);
    if (restore)
        tcsetattr(fileno(tty), TCSANOW, &old);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    return line;
}

/*
 * The credentials callback: asks on /dev/tty when standard input is a
 * terminal (names with echo, passwords without), as virsh does.
 */
static int tty_auth_cb(vrpc_auth_cred *creds, size_t n, void *userdata)
{
    tty_auth *ta = userdata;
    FILE *tty;
    size_t i;
    int fd;

    if (!isatty(STDIN_FILENO)) {
        ta->no_tty = true;
        return -1;
    }
    fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || !(tty = fdopen(fd, "r"))) {
        if (fd >= 0)
            close(fd);
        ta->no_tty = true;
        return -1;
    }
    for (i = 0; i < n; i++) {
        bool secret =
            creds[i].type == VRPC_CRED_PASSPHRASE || creds[i].type == VRPC_CRED_NOECHOPROMPT;
        /* As virsh: the prompt only; an empty answer takes the default. */
        char *answer = tty_ask(tty, creds[i].prompt ? creds[i].prompt : "Answer", secret);
        if (!answer) {
            fclose(tty);
            return -1;
        }
        if (answer[0] == 0 && creds[i].defresult) {
            free(answer); /* the library uses the default */
            continue;
        }
        creds[i].result = answer;
        creds[i].resultlen = strlen(answer);
    }
    fclose(tty);
    return 0;
}

/*
 * A failed open, in one line: "virtrpc: <step>: <reason>" (the step from
 * vrpc_open_failed_step; a local message's own "<step>: " is not
 * repeated; line breaks, e.g. in ssh's stderr, become spaces). Frees e.
 */
static int report_open(int rc, vrpc_error *e, const tty_auth *ta)
{
    const char *step = vrpc_open_failed_step(rc, e);
    const char *msg = e && e->message ? e->message : vrpc_strerror(rc);
    size_t sl = strlen(step), i;
    char *line;

    if (ta && ta->no_tty) {
        fprintf(stderr,
                "virtrpc: authentication: the daemon asks for SASL credentials and standard "
                "input is not a terminal: put them in an auth file (authfile=PATH in the URI, "
                "or $LIBVIRT_AUTH_FILE)\n");
        vrpc_free(e);
        return EXIT_FAIL;
    }
    if (strncmp(msg, step, sl) == 0 && msg[sl] == ':' && msg[sl + 1] == ' ')
        msg += sl + 2;
    line = strdup(msg);
    if (line) {
        for (i = 0; line[i]; i++)
            if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
                line[i] = ' ';
        while (i > 0 && line[i - 1] == ' ')
            line[--i] = 0;
    }
    fprintf(stderr, "virtrpc: %s: %s\n", step, line ? line : msg);
    free(line);
    vrpc_free(e);
    return EXIT_FAIL;
}

/* The reconnections of --reconnect ask on the terminal too. */
static tty_auth reconnect_ta = {false};

static int open_conn(bool admin, const vrpc_reconnect_opts *ro, vrpc_conn **c)
{
    vrpc_error *e = NULL;
    tty_auth ta = {false};
    unsigned int flags = opt_readonly ? VRPC_OPEN_READONLY : 0;
    int rc = admin ? vrpc_conn_open_admin(c, opt_uri, flags, &e)
             : ro  ? vrpc_conn_open_reconnect(c, opt_uri, flags, tty_auth_cb, &reconnect_ta, ro, &e)
                   : vrpc_conn_open_auth(c, opt_uri, flags, tty_auth_cb, &ta, &e);
    if (ro)
        ta = reconnect_ta;
    if (rc)
        return report_open(rc, e, &ta);
    return 0;
}

/* The display width of a UTF-8 string in the current locale. */
static size_t text_width(const char *s)
{
    size_t n = mbstowcs(NULL, s, 0);
    if (n != (size_t)-1) {
        wchar_t *w = calloc(n + 1, sizeof(*w));
        int width = -1;
        if (w && mbstowcs(w, s, n + 1) != (size_t)-1)
            width = wcswidth(w, n);
        free(w);
        if (width >= 0)
            return (size_t)width;
    }
    return strlen(s);
}

static void pad(size_t n)
{
    while (n--)
        putchar(' ');
}

/* ---- list ---- */

static int cmd_list(vrpc_conn *c)
{
    vrpc_simple_domain_list *l = NULL;
    vrpc_error *e = NULL;
    char(*ids)[16];
    size_t w_id = 2, w_name = 4, w_state = 5;
    int rc = vrpc_simple_list_domains(c, &l, &e);
    if (rc)
        return report(rc, e);
    ids = calloc(l->count ? l->count : 1, sizeof(*ids));
    if (!ids) {
        vrpc_free(l);
        return report(VRPC_E_NOMEM, NULL);
    }
    for (size_t i = 0; i < l->count; i++) {
        const vrpc_simple_domain *d = &l->domains[i];
        size_t w;
        if (d->id >= 0)
            snprintf(ids[i], sizeof(ids[i]), "%" PRId32, d->id);
        else
            strcpy(ids[i], "-");
        if ((w = strlen(ids[i])) > w_id)
            w_id = w;
        if ((w = text_width(d->name)) > w_name)
            w_name = w;
        if ((w = strlen(vrpc_simple_state_name(d->state))) > w_state)
            w_state = w;
    }
    /* virsh's table: a space before each cell, two after each but the last. */
    printf(" Id");
    pad(w_id - 2 + 2);
    printf(" Name");
    pad(w_name - 4 + 2);
    printf(" State\n");
    for (size_t i = 0; i < w_id + w_name + w_state + 9; i++)
        putchar('-');
    putchar('\n');
    for (size_t i = 0; i < l->count; i++) {
        const vrpc_simple_domain *d = &l->domains[i];
        printf(" %s", ids[i]);
        pad(w_id - strlen(ids[i]) + 2);
        printf(" %s", d->name);
        pad(w_name - text_width(d->name) + 2);
        printf(" %s\n", vrpc_simple_state_name(d->state));
    }
    putchar('\n');
    free(ids);
    vrpc_free(l);
    return 0;
}

/* ---- dominfo ---- */

#define FIELD(label, ...)                                                                          \
    do {                                                                                           \
        printf("%-15s ", label);                                                                   \
        printf(__VA_ARGS__);                                                                       \
        putchar('\n');                                                                             \
    } while (0)

/* A char<> array that holds a NUL-terminated string (the NUL may be missing). */
static void print_chars(const char *items, uint32_t n)
{
    uint32_t len = 0;
    while (len < n && items[len])
        len++;
    fwrite(items, 1, len, stdout);
}

/* Security model, DOI and label, as virsh prints them. */
static int print_security(vrpc_conn *c, const vrpc_nonnull_domain *dom)
{
    vrpc_node_get_security_model_ret *m = NULL;
    vrpc_domain_get_security_label_ret *l = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_node_get_security_model(c, &m, &e);
    if (rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT) {
        vrpc_free(e);
        return 0;
    }
    if (rc)
        return report(rc, e);
    if (m->model.n == 0 || m->model.items[0] == '\0') {
        vrpc_free(m);
        return 0;
    }
    printf("%-15s ", "Security model:");
    print_chars(m->model.items, m->model.n);
    printf("\n%-15s ", "Security DOI:");
    print_chars(m->doi.items, m->doi.n);
    putchar('\n');
    vrpc_free(m);
    {
        vrpc_domain_get_security_label_args a = {.dom = *dom};
        rc = vrpc_domain_get_security_label(c, &a, &l, &e);
    }
    if (rc)
        return report(rc, e);
    if (l->label.n > 0 && l->label.items[0] != '\0') {
        printf("%-15s ", "Security label:");
        print_chars(l->label.items, l->label.n);
        printf(" (%s)\n", l->enforcing ? "enforcing" : "permissive");
    }
    vrpc_free(l);
    return 0;
}

static int cmd_dominfo(vrpc_conn *c, const char *name)
{
    vrpc_simple_domain *d = NULL;
    vrpc_simple_domain_info *i = NULL;
    vrpc_error *e = NULL;
    vrpc_nonnull_domain dom;
    char uuid[VRPC_UUID_STRING_BUFLEN];
    /* NAME as virsh takes it: an id, a UUID or a name. */
    int rc = vrpc_simple_domain_resolve(c, name, &d, &e);
    if (rc == 0)
        rc = vrpc_simple_domain_get_info_dom(c, &d->dom, &i, &e);
    vrpc_free(d);
    if (rc)
        return report(rc, e);
    vrpc_uuid_format(i->uuid, uuid);
    if (i->id >= 0)
        FIELD("Id:", "%" PRId32, i->id);
    else
        FIELD("Id:", "-");
    FIELD("Name:", "%s", i->name);
    FIELD("UUID:", "%s", uuid);
    if (i->os_type)
        FIELD("OS Type:", "%s", i->os_type);
    FIELD("State:", "%s", vrpc_simple_state_name(i->state));
    FIELD("CPU(s):", "%" PRIu32, i->vcpus);
    if (i->cpu_time_ns != 0)
        FIELD("CPU time:", "%.1lfs", (double)i->cpu_time_ns / 1000000000.0);
    if (i->max_memory_kib != UINT_MAX)
        FIELD("Max memory:", "%" PRIu64 " KiB", i->max_memory_kib);
    else
        FIELD("Max memory:", "no limit");
    FIELD("Used memory:", "%" PRIu64 " KiB", i->memory_kib);
    FIELD("Persistent:", "%s", i->persistent < 0 ? "unknown" : i->persistent ? "yes" : "no");
    if (i->autostart >= 0)
        FIELD("Autostart:", "%s", i->autostart ? "enable" : "disable");
    FIELD("Managed save:", "%s", i->managed_save < 0 ? "unknown" : i->managed_save ? "yes" : "no");

    dom = i->dom;
    rc = print_security(c, &dom);
    if (rc == 0) {
        vrpc_domain_get_messages_args a = {.dom = dom, .flags = 0};
        vrpc_domain_get_messages_ret *m = NULL;
        if (vrpc_domain_get_messages(c, &a, &m, &e) == 0) {
            for (uint32_t k = 0; k < m->msgs.n; k++)
                FIELD(k ? "" : "Messages:", "%s", m->msgs.items[k]);
            vrpc_free(m);
        } else {
            vrpc_free(e); /* older daemons: no messages */
        }
        putchar('\n');
    }
    vrpc_free(i);
    return rc;
}

/* ---- lifecycle ---- */

static int cmd_lifecycle(vrpc_conn *c, const char *cmd, const char *name)
{
    vrpc_simple_domain *d = NULL;
    vrpc_error *e = NULL;
    int rc;
    const char *done;
    /* NAME as virsh takes it: an id, a UUID or a name. */
    rc = vrpc_simple_domain_resolve(c, name, &d, &e);
    if (rc)
        return report(rc, e);
    if (strcmp(cmd, "start") == 0) {
        rc = vrpc_simple_domain_start_dom(c, &d->dom, &e);
        done = "started";
    } else if (strcmp(cmd, "shutdown") == 0) {
        rc = vrpc_simple_domain_shutdown_dom(c, &d->dom, &e);
        done = "is being shutdown";
    } else if (strcmp(cmd, "destroy") == 0) {
        rc = vrpc_simple_domain_destroy_dom(c, &d->dom, &e);
        done = "destroyed";
    } else {
        rc = vrpc_simple_domain_undefine_dom(c, &d->dom, 0, &e);
        done = "has been undefined";
    }
    if (rc == 0)
        printf("Domain '%s' %s\n", name, done);
    vrpc_free(d);
    return rc ? report(rc, e) : 0;
}

static int cmd_dumpxml(vrpc_conn *c, const char *name)
{
    vrpc_simple_domain *d = NULL;
    vrpc_error *e = NULL;
    char *xml = NULL;
    size_t n;
    int rc = vrpc_simple_domain_resolve(c, name, &d, &e);
    if (rc == 0)
        rc = vrpc_simple_domain_get_xml_dom(c, &d->dom, 0, &xml, &e);
    vrpc_free(d);
    if (rc)
        return report(rc, e);
    n = strlen(xml);
    fputs(xml, stdout);
    if (n == 0 || xml[n - 1] != '\n')
        putchar('\n');
    putchar('\n'); /* a blank line after the XML, as virsh prints it */
    vrpc_free(xml);
    return 0;
}

/* All of a file (or of standard input for "-"); NULL with errno set. */
static char *read_all(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!f)
        return NULL;
    for (;;) {
        size_t got;
        if (cap - len < 4096) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap ? cap * 2 : 8192);
            if (!nb) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
                errno = EIO;
            } else {
                buf[len] = '\0';
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    return buf;
}

static int cmd_define(vrpc_conn *c, const char *file)
{
    vrpc_simple_domain *d = NULL;
    vrpc_error *e = NULL;
    char *xml = read_all(file);
    int rc;
    if (!xml) {
        fprintf(stderr, "error: cannot read %s: %s\n", file, strerror(errno));
        return EXIT_FAIL;
    }
    rc = vrpc_simple_domain_define(c, xml, &d, &e);
    free(xml);
    if (rc)
        return report(rc, e);
    printf("Domain '%s' defined from %s\n", d->name, file);
    vrpc_free(d);
    return 0;
}

/* ---- version ---- */

static void print_version_number(uint64_t v)
{
    printf("%" PRIu64 ".%" PRIu64 ".%" PRIu64, v / 1000000, v / 1000 % 1000, v % 1000);
}

static int cmd_version(void)
{
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    int rc;

    printf("%-27s %s\n", "virtrpc:", vrpc_version());
    printf("%-27s libvirt %s\n", "Protocol generated from:", vrpc_libvirt_version());
    fflush(stdout);
    if ((rc = open_conn(opt_admin, NULL, &c)) != 0)
        return rc;
    if (opt_admin) {
        vrpc_admin_connect_get_lib_version_ret *lv = NULL;
        rc = vrpc_admin_connect_get_lib_version(c, &lv, &e);
        if (rc) {
            vrpc_conn_close(c);
            return report(rc, e);
        }
        printf("%-27s libvirt ", "Daemon's library:");
        print_version_number(lv->libVer);
        putchar('\n');
        vrpc_free(lv);
    } else {
        vrpc_connect_get_lib_version_ret *lv = NULL;
        vrpc_connect_get_version_ret *hv = NULL;
        vrpc_connect_get_type_ret *ty = NULL;
        rc = vrpc_connect_get_lib_version(c, &lv, &e);
        if (rc) {
            vrpc_conn_close(c);
            return report(rc, e);
        }
        printf("%-27s libvirt ", "Daemon's library:");
        print_version_number(lv->lib_ver);
        putchar('\n');
        vrpc_free(lv);
        if (vrpc_connect_get_type(c, &ty, &e) != 0) {
            vrpc_free(e);
            e = NULL;
        }
        rc = vrpc_connect_get_version(c, &hv, &e);
        if (rc) {
            vrpc_free(ty);
            vrpc_conn_close(c);
            return report(rc, e);
        }
        printf("%-27s %s%s", "Running hypervisor:", ty ? ty->type : "", ty ? " " : "");
        print_version_number(hv->hv_ver);
        putchar('\n');
        vrpc_free(hv);
        vrpc_free(ty);
    }
    vrpc_conn_close(c);
    return 0;
}

/* ---- procs ---- */

static const char *stream_word(uint8_t s)
{
    return s == VRPC_STREAM_READ ? "read" : s == VRPC_STREAM_WRITE ? "write" : "-";
}

static bool is_keepalive(const vrpc_program *p)
{
    return strcmp(p->name, "keepalive") == 0;
}

static int cmd_procs(void)
{
    size_t nprog = 0, width = 4, shown = 0;
    const vrpc_program *progs = vrpc_programs(&nprog);

    for (size_t i = 0; i < nprog; i++)
        for (size_t k = 0; k < progs[i].nprocs; k++)
            if (strlen(progs[i].procs[k].name) > width)
                width = strlen(progs[i].procs[k].name);
    printf("%-10s %6s  %-*s  %-8s  %-6s  %s\n", "Program", "Number", (int)width, "Name", "Priority",
           "Stream", "Kind");
    /* The programs of calls first (remote, qemu, lxc, admin), keepalive last. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < nprog; i++) {
            const vrpc_program *p = &progs[i];
            if (is_keepalive(p) != (pass == 1))
                continue;
            for (size_t k = 0; k < p->nprocs; k++) {
                const vrpc_proc *x = &p->procs[k];
                const char *prio = pass ? "-" : x->priority ? "high" : "low";
                const char *kind = pass ? "keepalive" : x->msg ? "event" : "call";
                printf("%-10s %6" PRId32 "  %-*s  %-8s  %-6s  %s\n", p->name, x->number, (int)width,
                       x->name, prio, stream_word(x->stream), kind);
            }
        }
    }
    /* The totals, in the same order. */
    printf("\n");
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nprog; i++)
            if (is_keepalive(&progs[i]) == (pass == 1))
                printf("%s%s: %zu%s", shown++ ? ", " : "", progs[i].name, progs[i].nprocs,
                       pass ? " (connection messages, not callable)" : "");
    printf("\n");
    return 0;
}

/* ---- call ---- */

static const vrpc_program *program_of(const vrpc_proc *proc)
{
    size_t n = 0;
    const vrpc_program *progs = vrpc_programs(&n);
    for (size_t i = 0; i < n; i++)
        if (progs[i].number == proc->program)
            return &progs[i];
    return NULL;
}

static int cmd_call(const char *name, const char *json)
{
    const vrpc_proc *proc = vrpc_proc_lookup(name);
    const vrpc_program *prog;
    vrpc_json_value *args = NULL;
    json_object *j = NULL, *out = NULL;
    char *msg = NULL, *text = NULL;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    void *ret = NULL;
    bool admin;
    int rc;

    if (!proc) {
        fprintf(stderr, "error: unknown procedure '%s' (see `virtrpc procs`)\n", name);
        return EXIT_USAGE;
    }
    prog = program_of(proc);
    if (prog && is_keepalive(prog)) {
        fprintf(stderr, "error: %s is a keepalive message, not a call\n", proc->name);
        return EXIT_USAGE;
    }
    if (proc->msg) {
        fprintf(stderr, "error: %s is an event that the daemon sends; it cannot be called\n",
                proc->name);
        return EXIT_USAGE;
    }
    if (proc->stream != VRPC_STREAM_NONE) {
        fprintf(stderr, "error: %s opens a data stream, which `call` does not handle\n",
                proc->name);
        return EXIT_USAGE;
    }
    if (json && strcmp(json, "-") == 0) {
        text = read_all("-");
        if (!text) {
            fprintf(stderr, "error: cannot read standard input: %s\n", strerror(errno));
            return EXIT_FAIL;
        }
        json = text;
    }
    if (json) {
        rc = vrpc_json_parse(json, &j, &msg);
        free(text);
        if (rc) {
            fprintf(stderr, "error: %s\n", msg ? msg : "invalid JSON");
            free(msg);
            return EXIT_USAGE;
        }
    }
    rc = vrpc_json_to_c(proc->args, j, "args", &args, &msg);
    json_object_put(j);
    if (rc) {
        fprintf(stderr, "error: %s\n", msg ? msg : "the arguments do not fit");
        free(msg);
        return EXIT_USAGE;
    }

    admin = opt_admin || (prog && strcmp(prog->name, "admin") == 0);
    if ((rc = open_conn(admin, NULL, &c)) != 0) {
        vrpc_json_value_free(args);
        return rc;
    }
    rc = vrpc_call(c, proc, vrpc_json_value_get(args), &ret, &e);
    vrpc_json_value_free(args);
    vrpc_conn_close(c);
    if (rc)
        return report(rc, e);
    rc = vrpc_json_from_c(proc->ret, ret, &out, &msg);
    vrpc_free(ret);
    if (rc) {
        fprintf(stderr, "error: cannot show the reply: %s\n", msg ? msg : vrpc_strerror(rc));
        free(msg);
        return EXIT_FAIL;
    }
    puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(out);
    return 0;
}

/* ---- main ---- */

typedef struct command {
    const char *name;
    int nargs;   /* required arguments */
    int maxargs; /* allowed arguments */
    bool conn;   /* needs a (non-admin) connection opened here */
    const char *args;
} command;

static const command commands[] = {
    {"list", 0, 0, true, ""},
    {"dominfo", 1, 1, true, " DOMAIN"},
    {"start", 1, 1, true, " DOMAIN"},
    {"shutdown", 1, 1, true, " DOMAIN"},
    {"destroy", 1, 1, true, " DOMAIN"},
    {"dumpxml", 1, 1, true, " DOMAIN"},
    {"define", 1, 1, true, " FILE"},
    {"undefine", 1, 1, true, " DOMAIN"},
    {"version", 0, 0, false, ""},
    {"procs", 0, 0, false, ""},
    {"call", 1, 2, false, " PROCEDURE [JSON]"},
    {"events", 1, 256, true,
     " [--all | EVENT...] [--domain DOMAIN] [--timeout S] [--reconnect] [--list]"},
    {"console", 1, 8, true, " DOMAIN [--devname DEV] [--force] [--safe] [--linger S]"},
    {"vol-upload", 2, 10, true, " VOL FILE [--pool POOL] [--offset N] [--length N] [--sparse]"},
    {"vol-download", 2, 10, true, " VOL FILE [--pool POOL] [--offset N] [--length N] [--sparse]"},
    {"screenshot", 2, 4, true, " DOMAIN FILE [--screen N]"},
    {"qemu-monitor-command", 2, 256, true, " DOMAIN COMMAND... [--hmp]"},
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, 'c'}, {"readonly", no_argument, NULL, 'r'},
        {"admin", no_argument, NULL, 'A'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    const command *cmd = NULL;
    const char *name;
    vrpc_conn *c = NULL;
    int opt, nargs, rc;

    setlocale(LC_CTYPE, "");
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:c:rhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            opt_uri = optarg;
            break;
        case 'r':
            opt_readonly = true;
            break;
        case 'A':
            opt_admin = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("virtrpc %s (protocol of libvirt %s)\n", vrpc_version(), vrpc_libvirt_version());
            return 0;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                return usage_error("unknown option '-%c'", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("no command given");
    name = argv[optind++];
    if (strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            cmd = &commands[i];
    if (!cmd)
        return usage_error("unknown command '%s'", name);
    nargs = argc - optind;
    if (nargs < cmd->nargs || nargs > cmd->maxargs)
        return usage_error("usage: virtrpc %s%s", cmd->name, cmd->args);
    if (cmd->conn && opt_admin)
        return usage_error("'%s' does not work on an admin connection", cmd->name);

    if (strcmp(name, "version") == 0)
        return cmd_version();
    if (strcmp(name, "procs") == 0)
        return cmd_procs();
    if (strcmp(name, "call") == 0)
        return cmd_call(argv[optind], nargs > 1 ? argv[optind + 1] : NULL);
    if (strcmp(name, "events") == 0 && nargs == 1 && strcmp(argv[optind], "--list") == 0)
        return virtrpc_cmd_events_list();

    {
        vrpc_reconnect_opts ro;
        bool reconnect = strcmp(name, "events") == 0 &&
                         virtrpc_events_wants_reconnect(nargs, argv + optind, &ro);
        if ((rc = open_conn(false, reconnect ? &ro : NULL, &c)) != 0)
            return rc;
    }
    if (strcmp(name, "list") == 0)
        rc = cmd_list(c);
    else if (strcmp(name, "dominfo") == 0)
        rc = cmd_dominfo(c, argv[optind]);
    else if (strcmp(name, "dumpxml") == 0)
        rc = cmd_dumpxml(c, argv[optind]);
    else if (strcmp(name, "define") == 0)
        rc = cmd_define(c, argv[optind]);
    else if (strcmp(name, "events") == 0)
        rc = virtrpc_cmd_events(c, nargs, argv + optind);
    else if (virtrpc_is_stream_cmd(name))
        rc = virtrpc_cmd_stream(c, name, nargs, argv + optind);
    else
        rc = cmd_lifecycle(c, name, argv[optind]);
    vrpc_conn_close(c);
    return rc;
}
