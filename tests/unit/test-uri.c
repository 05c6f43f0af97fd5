/* SPDX-License-Identifier: MIT */
/* URI parsing and the remote driver's URI rules, with an injected environment. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "tap.h"
#include "uri.h"

/* ---- injected environments ---- */

typedef struct fake_env {
    const char *name;
    unsigned int euid;
    const char *xdg;
    const char *home;
    const char *default_uri;
    const char *admin_default_uri;
    const char *exists[4];
} fake_env;

static const char *fe_get(void *ctx, const char *name)
{
    const fake_env *f = ctx;
    if (strcmp(name, "XDG_RUNTIME_DIR") == 0)
        return f->xdg;
    if (strcmp(name, "HOME") == 0)
        return f->home;
    if (strcmp(name, "LIBVIRT_DEFAULT_URI") == 0)
        return f->default_uri;
    if (strcmp(name, "LIBVIRT_ADMIN_DEFAULT_URI") == 0)
        return f->admin_default_uri;
    return NULL;
}

static unsigned int fe_euid(void *ctx)
{
    return ((const fake_env *)ctx)->euid;
}

static bool fe_exists(void *ctx, const char *path)
{
    const fake_env *f = ctx;
    size_t i;
    for (i = 0; i < 4 && f->exists[i]; i++)
        if (strcmp(f->exists[i], path) == 0)
            return true;
    return false;
}

enum {
    ROOT,
    ROOT_DIRECT,
    ROOT_LEGACY,
    ROOT_BOTH,
    ROOT_DEFURI,
    USER,
    USER_NOXDG,
    USER_NOHOME,
    USER_DIRECT,
    ROOT_ADMINURI,
    NENV
};

static const fake_env envs[NENV] = {
    [ROOT] = {"root", 0, NULL, "/root", NULL, NULL, {NULL}},
    [ROOT_DIRECT] =
        {"root+virtqemud", 0, NULL, "/root", NULL, NULL, {"/var/run/libvirt/virtqemud-sock", NULL}},
    [ROOT_LEGACY] =
        {"root+libvirtd", 0, NULL, "/root", NULL, NULL, {"/var/run/libvirt/libvirt-sock", NULL}},
    [ROOT_BOTH] = {"root+both",
                   0,
                   NULL,
                   "/root",
                   NULL,
                   NULL,
                   {"/var/run/libvirt/libvirt-sock", "/var/run/libvirt/virtqemud-sock-ro",
                    "/var/run/libvirt/virtqemud-sock", NULL}},
    [ROOT_DEFURI] = {"root+LIBVIRT_DEFAULT_URI", 0, NULL, "/root", "test:///default", NULL, {NULL}},
    [USER] = {"user", 1000, "/run/user/1000", "/home/u", NULL, NULL, {NULL}},
    [USER_NOXDG] = {"user-no-xdg", 1000, NULL, "/home/u", NULL, NULL, {NULL}},
    [USER_NOHOME] = {"user-no-home", 1000, NULL, NULL, NULL, NULL, {NULL}},
    [USER_DIRECT] = {"user+virtqemud",
                     1000,
                     "/run/user/1000",
                     "/home/u",
                     NULL,
                     NULL,
                     {"/run/user/1000/libvirt/virtqemud-sock", NULL}},
    [ROOT_ADMINURI] =
        {"root+LIBVIRT_ADMIN_DEFAULT_URI", 0, NULL, "/root", NULL, "virtqemud:///system", {NULL}},
};

/* ---- remote URIs ---- */

#define SYS "/var/run/libvirt/"
#define RUN "/run/user/1000/libvirt/"

typedef struct uri_case {
    const char *uri;
    int env;
    unsigned int flags;
    int rc;
    int transport;
    const char *host;
    int port;
    const char *user;
    const char *name;
    const char *socket;
    const char *err; /* substring of the error message */
} uri_case;

#define OK_UNIX(u, e, f, n, s)                                                                     \
    {                                                                                              \
        u, e, f, 0, VRPC_TRANSPORT_UNIX, NULL, 0, NULL, n, s, NULL                                 \
    }
#define FAIL(u, e, rc, msg)                                                                        \
    {                                                                                              \
        u, e, 0, rc, -1, NULL, 0, NULL, NULL, NULL, msg                                            \
    }
#define RO VRPC_OPEN_READONLY

static const uri_case cases[] = {
    /* local system daemons, mode auto / legacy / direct */
    OK_UNIX("qemu:///system", ROOT, 0, "qemu:///system", SYS "libvirt-sock"),
    OK_UNIX("qemu:///system", ROOT_DIRECT, 0, "qemu:///system", SYS "virtqemud-sock"),
    OK_UNIX("qemu:///system", ROOT_LEGACY, 0, "qemu:///system", SYS "libvirt-sock"),
    OK_UNIX("qemu:///system", ROOT_BOTH, 0, "qemu:///system", SYS "virtqemud-sock"),
    OK_UNIX("qemu:///system", ROOT_BOTH, RO, "qemu:///system", SYS "virtqemud-sock-ro"),
    OK_UNIX("qemu:///system?mode=auto", ROOT_DIRECT, 0, "qemu:///system", SYS "virtqemud-sock"),
    OK_UNIX("qemu:///system?mode=direct", ROOT, 0, "qemu:///system", SYS "virtqemud-sock"),
    OK_UNIX("qemu:///system?mode=legacy", ROOT_DIRECT, 0, "qemu:///system", SYS "libvirt-sock"),
    OK_UNIX("qemu+unix:///system?mode=direct", ROOT, 0, "qemu:///system", SYS "virtqemud-sock"),
    OK_UNIX("qemu+unix:///system?MODE=Legacy", ROOT_BOTH, 0, "qemu:///system", SYS "libvirt-sock"),
    OK_UNIX("qemu:///system", ROOT, RO, "qemu:///system", SYS "libvirt-sock-ro"),
    OK_UNIX("qemu:///system?mode=direct", ROOT, RO, "qemu:///system", SYS "virtqemud-sock-ro"),
    OK_UNIX("xen:///system?mode=direct", ROOT, RO, "xen:///system", SYS "virtxend-sock-ro"),
    OK_UNIX("lxc:///", ROOT, 0, "lxc:///", SYS "libvirt-sock"),
    OK_UNIX("network:///system?mode=direct", ROOT, 0, "network:///system", SYS "virtnetworkd-sock"),
    /* session daemons */
    OK_UNIX("qemu:///session", USER, 0, "qemu:///session", RUN "libvirt-sock"),
    OK_UNIX("qemu:///session", USER, RO, "qemu:///session", RUN "libvirt-sock"),
    OK_UNIX("qemu:///session", USER_DIRECT, 0, "qemu:///session", RUN "virtqemud-sock"),
    OK_UNIX("qemu:///session?mode=direct", USER, 0, "qemu:///session", RUN "virtqemud-sock"),
    OK_UNIX("qemu:///session", USER_NOXDG, 0, "qemu:///session",
            "/home/u/.cache/libvirt/libvirt-sock"),
    OK_UNIX("qemu:///session", ROOT, 0, "qemu:///session", "/root/.cache/libvirt/libvirt-sock"),
    FAIL("qemu:///session", USER_NOHOME, VRPC_E_URI, "neither XDG_RUNTIME_DIR nor HOME"),
    /* the test driver: the system daemon for root, the session one otherwise */
    OK_UNIX("test:///default", ROOT, 0, "test:///default", SYS "libvirt-sock"),
    OK_UNIX("test:///default", USER, 0, "test:///default", RUN "libvirt-sock"),
    OK_UNIX("test+unix:///default?socket=/srv/d/libvirt-sock", USER, 0, "test:///default",
            "/srv/d/libvirt-sock"),
    OK_UNIX("test+unix:///default?socket=/srv/d/libvirt-sock", ROOT, RO, "test:///default",
            "/srv/d/libvirt-sock"),
    OK_UNIX("test+unix:///default?socket=@virtrpc-abstract", ROOT, 0, "test:///default",
            "@virtrpc-abstract"),
    OK_UNIX("qemu:///system?SOCKET=/x/s&mode=direct", ROOT, 0, "qemu:///system", "/x/s"),
    OK_UNIX("qemu:///system?socket=%2Frun%2Fmy%20sock", ROOT, 0, "qemu:///system", "/run/my sock"),
    /* no URI: probe the legacy daemon; LIBVIRT_DEFAULT_URI */
    OK_UNIX(NULL, ROOT, 0, "", SYS "libvirt-sock"),
    OK_UNIX("", ROOT, 0, "", SYS "libvirt-sock"),
    OK_UNIX(NULL, ROOT_DIRECT, 0, "", SYS "libvirt-sock"),
    OK_UNIX(NULL, USER, 0, "", RUN "libvirt-sock"),
    OK_UNIX(NULL, ROOT, RO, "", SYS "libvirt-sock-ro"),
    OK_UNIX(NULL, ROOT_DEFURI, 0, "test:///default", SYS "libvirt-sock"),
    OK_UNIX("", ROOT_DEFURI, 0, "test:///default", SYS "libvirt-sock"),
    OK_UNIX("qemu:///system", ROOT_DEFURI, 0, "qemu:///system", SYS "libvirt-sock"),
    /* remote:// lets the daemon choose; name= overrides the name */
    OK_UNIX("remote:///", ROOT_BOTH, 0, "", SYS "libvirt-sock"),
    OK_UNIX("remote+unix:///system", ROOT, RO, "", SYS "libvirt-sock-ro"),
    OK_UNIX("qemu:///system?name=xen:///", ROOT, 0, "xen:///", SYS "libvirt-sock"),
    OK_UNIX("remote:///?name=qemu%3A%2F%2F%2Fsystem", ROOT, 0, "qemu:///system",
            SYS "libvirt-sock"),
    /* kept parameters, fragments and percent-encoding are passed on as written */
    OK_UNIX("qemu:///system?foo=bar&mode=legacy#frag", ROOT, 0, "qemu:///system?foo=bar#frag",
            SYS "libvirt-sock"),
    OK_UNIX("qemu:///system?a=%41&b=c%20d", ROOT, 0, "qemu:///system?a=%41&b=c%20d",
            SYS "libvirt-sock"),
    OK_UNIX("qemu:///sys%74em", ROOT, 0, "qemu:///sys%74em", SYS "libvirt-sock"),
    OK_UNIX("qemu:///session%20x", USER, 0, "qemu:///session%20x", SYS "libvirt-sock"),
    OK_UNIX("qemu:/system", ROOT, 0, "qemu:///system", SYS "libvirt-sock"),
    /* network transports: host, default ports, user, name without them */
    {"qemu+tcp://host/system", ROOT, 0, 0, VRPC_TRANSPORT_TCP, "host", 16509, NULL,
     "qemu:///system", NULL, NULL},
    {"qemu+tcp:///system", ROOT, 0, 0, VRPC_TRANSPORT_TCP, "localhost", 16509, NULL,
     "qemu:///system", NULL, NULL},
    {"QEMU+TCP://h/system", ROOT, 0, 0, VRPC_TRANSPORT_TCP, "h", 16509, NULL, "QEMU:///system",
     NULL, NULL},
    {"qemu+tls://host:1234/system", ROOT, 0, 0, VRPC_TRANSPORT_TLS, "host", 1234, NULL,
     "qemu:///system", NULL, NULL},
    {"qemu://host/system", ROOT, 0, 0, VRPC_TRANSPORT_TLS, "host", 16514, NULL, "qemu:///system",
     NULL, NULL},
    {"qemu://alice@host.example.org/system?pkipath=/pki&no_verify=1&tls_priority=NORMAL", ROOT, 0,
     0, VRPC_TRANSPORT_TLS, "host.example.org", 16514, "alice", "qemu:///system", NULL, NULL},
    {"qemu+tcp://[::1]:16509/system", ROOT, 0, 0, VRPC_TRANSPORT_TCP, "::1", 16509, NULL,
     "qemu:///system", NULL, NULL},
    {"qemu+tls://[fe80::1%25eth0]/system", ROOT, 0, 0, VRPC_TRANSPORT_TLS, "fe80::1%eth0", 16514,
     NULL, "qemu:///system", NULL, NULL},
    {"qemu+ssh://root@h:2222/system?keyfile=k&x=y", ROOT, 0, 0, VRPC_TRANSPORT_SSH, "h", 2222,
     "root", "qemu:///system?x=y", SYS "libvirt-sock", NULL},
    {"qemu+ssh://u@h/system", USER, 0, 0, VRPC_TRANSPORT_SSH, "h", 22, "u", "qemu:///system",
     SYS "libvirt-sock", NULL},
    {"qemu+ssh://h/system", ROOT, RO, 0, VRPC_TRANSPORT_SSH, "h", 22, NULL, "qemu:///system",
     SYS "libvirt-sock-ro", NULL},
    {"qemu+ssh://h/system?mode=direct", ROOT, 0, 0, VRPC_TRANSPORT_SSH, "h", 22, NULL,
     "qemu:///system", SYS "virtqemud-sock", NULL},
    {"qemu+ssh://h/system?socket=/srv/sock", ROOT, 0, 0, VRPC_TRANSPORT_SSH, "h", 22, NULL,
     "qemu:///system", "/srv/sock", NULL},
    {"qemu+ssh://us%65r@h/system?no_tty=1&no_verify=1&proxy=netcat&netcat=nc&pkipath=/p&"
     "tls_priority=NORMAL&authfile=/a&known_hosts_verify=auto&command=ssh&sshauth=agent",
     ROOT, 0, 0, VRPC_TRANSPORT_SSH, "h", 22, "user", "qemu:///system", SYS "libvirt-sock", NULL},
    {"qemu+libssh2://h/system?known_hosts=/k&sshauth=agent&z=1", ROOT, 0, 0, VRPC_TRANSPORT_LIBSSH2,
     "h", 22, NULL, "qemu:///system?z=1", SYS "libvirt-sock", NULL},
    {"qemu+libssh://h:2200/session", USER, 0, 0, VRPC_TRANSPORT_LIBSSH, "h", 2200, NULL,
     "qemu:///session", RUN "libvirt-sock", NULL},
    {"qemu+ext:///system?command=/bin/nc", ROOT, 0, 0, VRPC_TRANSPORT_EXT, NULL, 0, NULL,
     "qemu:///system", NULL, NULL},
    /* errors */
    FAIL("qemu+ext:///system", ROOT, VRPC_E_URI, "needs a command="),
    FAIL("qemu+unix://host/system", ROOT, VRPC_E_URI, "takes no host"),
    FAIL("qemu+foo:///system", ROOT, VRPC_E_URI, "unknown transport 'foo'"),
    FAIL("+unix:///system", ROOT, VRPC_E_URI, "no scheme"),
    FAIL("qemu+tcp://h:99999/system", ROOT, VRPC_E_URI, "invalid port '99999'"),
    FAIL("qemu+tcp://h:12ab/system", ROOT, VRPC_E_URI, "invalid port '12ab'"),
    FAIL("qemu+tcp://[::1/system", ROOT, VRPC_E_URI, "unterminated '['"),
    FAIL("qemu+tcp://[::1]x/system", ROOT, VRPC_E_URI, "after the IPv6 address"),
    FAIL("qemu:///system?mode=bogus", ROOT, VRPC_E_URI, "unknown mode 'bogus'"),
    FAIL("qemu:///system?proxy=x", ROOT, VRPC_E_URI, "unknown proxy 'x'"),
    FAIL("qemu:///system?no_verify=yes", ROOT, VRPC_E_URI, "integer"),
    FAIL("qemu+unix:///system?socket=", ROOT, VRPC_E_URI, "socket needs a path"),
    FAIL("remote+unix:///?mode=direct", ROOT, VRPC_E_URI, "needs a driver name"),
    FAIL("qemu+tcp://h/system?mode=direct", ROOT, VRPC_E_URI, "only applies"),
    FAIL("qemu", ROOT, VRPC_E_URI, "no scheme"),
    FAIL("/var/run/libvirt/libvirt-sock", ROOT, VRPC_E_URI, "no scheme"),
    FAIL("qemu:///system?bad=%zz", ROOT, VRPC_E_URI, "invalid percent-encoding '%zz'"),
    FAIL("qemu:///system?bad=%4", ROOT, VRPC_E_URI, "invalid percent-encoding"),
    FAIL("qemu:///sys%00tem", ROOT, VRPC_E_URI, "NUL"),
    FAIL("qemu:///sys tem", ROOT, VRPC_E_URI, "space or control character"),
    FAIL("qemu:///system?=x", ROOT, VRPC_E_URI, "has no name"),
    {"qemu:///system", ROOT, 0x100, VRPC_E_INVALID, -1, NULL, 0, NULL, NULL, NULL,
     "unknown open flags"},
};

static const vrpc_uri_env *env_of(int i, vrpc_uri_env *buf)
{
    buf->get_env = fe_get;
    buf->get_euid = fe_euid;
    buf->path_exists = fe_exists;
    buf->ctx = (void *)&envs[i];
    return buf;
}

static bool same(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static void run_remote_cases(void)
{
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const uri_case *k = &cases[i];
        vrpc_uri_env eb;
        vrpc_target *t = NULL;
        vrpc_error *e = NULL;
        const char *label = k->uri ? k->uri : "(null)";
        int rc = vrpc_remote_resolve(k->uri, k->flags, env_of(k->env, &eb), &t, &e);
        bool ok = rc == k->rc;

        if (ok && rc == 0) {
            ok = (int)t->transport == k->transport && same(t->host, k->host) &&
                 t->port == k->port && same(t->user, k->user) && same(t->name, k->name) &&
                 same(t->socket_path, k->socket) && t->readonly == !!(k->flags & RO) && !e;
        } else if (ok) {
            ok = t == NULL && e && e->message && strstr(e->message, k->err) &&
                 e->level == VRPC_ERR_ERROR;
        }
        if (!TAP_OK(ok, "remote %-60s [%s%s]", label, envs[k->env].name,
                    (k->flags & RO) ? ",ro" : "")) {
            tap_diag("rc %d (want %d)", rc, k->rc);
            if (t)
                tap_diag("transport %s host %s port %d user %s name '%s' socket %s ro %d",
                         vrpc_transport_kind_name(t->transport), t->host ? t->host : "NULL",
                         t->port, t->user ? t->user : "NULL", t->name,
                         t->socket_path ? t->socket_path : "NULL", t->readonly);
            if (e)
                tap_diag("error: %s", e->message);
        }
        vrpc_target_free(t);
        vrpc_free(e);
    }
}

/* Consumed parameter values are kept for the transports. */
static void test_consumed_values(void)
{
    vrpc_uri_env eb;
    vrpc_target *t = NULL;
    int rc = vrpc_remote_resolve(
        "qemu+ssh://h/system?keyfile=%2Fk%20f&no_tty=1&no_verify=0&proxy=native&netcat=/bin/nc&"
        "auth=sasl.gssapi&sshauth=agent,privkey&known_hosts=/kh&known_hosts_verify=ignore&"
        "pkipath=/pki&tls_priority=NONE&authfile=/af&no_sanity=2&command=myssh&keep=1",
        0, env_of(ROOT, &eb), &t, NULL);
    TAP_OK(rc == 0 && t && same(t->keyfile, "/k f") && t->no_tty && !t->no_verify && t->no_sanity &&
               t->proxy == VRPC_PROXY_NATIVE && same(t->netcat, "/bin/nc") &&
               same(t->auth, "sasl.gssapi") && same(t->sshauth, "agent,privkey") &&
               same(t->known_hosts, "/kh") && same(t->known_hosts_verify, "ignore") &&
               same(t->pkipath, "/pki") && same(t->tls_priority, "NONE") &&
               same(t->authfile, "/af") && same(t->command, "myssh") &&
               same(t->name, "qemu:///system?keep=1") && !t->port_explicit,
           "consumed parameters are kept for the transport and removed from the name");
    vrpc_target_free(t);

    rc = vrpc_remote_resolve("qemu:///session", 0, env_of(USER, &eb), &t, NULL);
    TAP_OK(rc == 0 && t->session && t->socket_mode == VRPC_MODE_LEGACY && !t->socket_explicit &&
               same(t->driver, "qemu") && same(t->uri_str, "qemu:///session"),
           "qemu:///session: session, legacy socket, driver qemu");
    vrpc_target_free(t);

    rc = vrpc_remote_resolve("qemu:///system", 0, env_of(ROOT_DIRECT, &eb), &t, NULL);
    TAP_OK(rc == 0 && !t->session && t->socket_mode == VRPC_MODE_DIRECT &&
               t->mode == VRPC_MODE_AUTO,
           "qemu:///system with virtqemud running: auto mode picks direct");
    vrpc_target_free(t);

    rc = vrpc_remote_resolve(NULL, 0, env_of(ROOT, &eb), &t, NULL);
    TAP_OK(rc == 0 && t->uri == NULL && t->uri_str == NULL && t->driver == NULL,
           "no URI: nothing parsed");
    vrpc_target_free(t);

    rc = vrpc_remote_resolve("qemu:///system?bad=%zz", 0, env_of(ROOT, &eb), &t, NULL);
    TAP_OK(rc == VRPC_E_URI && t == NULL, "errors without an error pointer");
}

/* ---- the general parser ---- */

static void test_parser(void)
{
    vrpc_uri *u = NULL;
    vrpc_error *e = NULL;
    int rc;

    rc = vrpc_uri_parse("sch+x://us%40er:pw@h%41st:80/p%20a/b?x=1&y&z=%3D;w=2#fr%20ag", &u, &e);
    TAP_OK(rc == 0 && same(u->scheme, "sch+x") && same(u->user, "us@er:pw") &&
               same(u->host, "hAst") && u->port == 80 && same(u->path, "/p a/b") &&
               same(u->path_raw, "/p%20a/b") && same(u->query_raw, "x=1&y&z=%3D;w=2") &&
               same(u->fragment_raw, "fr%20ag") && u->nparams == 4,
           "parser: every component, decoded and raw");
    if (rc == 0 && u->nparams == 4) {
        TAP_OK(same(u->params[0].name, "x") && same(u->params[0].value, "1") &&
                   same(u->params[1].name, "y") && same(u->params[1].value, "") &&
                   same(u->params[2].name, "z") && same(u->params[2].value, "=") &&
                   same(u->params[2].raw, "z=%3D") && same(u->params[3].name, "w") &&
                   same(u->params[3].value, "2"),
               "parser: query parameters split on & and ;, decoded");
    } else {
        TAP_OK(0, "parser: query parameters split on & and ;, decoded");
    }
    vrpc_uri_free(u);
    u = NULL;

    rc = vrpc_uri_parse("test:///default", &u, NULL);
    TAP_OK(rc == 0 && u->host == NULL && u->port == -1 && u->user == NULL &&
               same(u->path, "/default") && u->query_raw == NULL && u->nparams == 0 &&
               u->fragment_raw == NULL,
           "parser: empty authority");
    vrpc_uri_free(u);
    u = NULL;

    rc = vrpc_uri_parse("x://h:/p", &u, NULL);
    TAP_OK(rc == 0 && same(u->host, "h") && u->port == -1, "parser: empty port is no port");
    vrpc_uri_free(u);
    u = NULL;

    rc = vrpc_uri_parse("x://[2001:db8::7]:65535", &u, NULL);
    TAP_OK(rc == 0 && same(u->host, "2001:db8::7") && u->port == 65535 && same(u->path, ""),
           "parser: IPv6 literal, port 65535, no path");
    vrpc_uri_free(u);
    u = NULL;

    rc = vrpc_uri_parse("x://h:65536/", &u, &e);
    TAP_OK(rc == VRPC_E_URI && !u && e && strstr(e->message, "invalid URI 'x://h:65536/'") &&
               strstr(e->message, "invalid port") && e->domain == VRPC_FROM_URI,
           "parser: port 65536 rejected, message names the URI");
    vrpc_free(e);
    e = NULL;

    rc = vrpc_uri_parse("x://[]/", &u, &e);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "empty IPv6"), "parser: [] rejected");
    vrpc_free(e);
    e = NULL;

    rc = vrpc_uri_parse("", &u, &e);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "empty URI"), "parser: empty string");
    vrpc_free(e);
    e = NULL;

    rc = vrpc_uri_parse("1qemu:///", &u, &e);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "no scheme"),
           "parser: scheme must start with a letter");
    vrpc_free(e);
}

/* ---- admin URIs ---- */

typedef struct admin_case {
    const char *uri;
    int env;
    int rc;
    const char *socket;
    const char *err;
} admin_case;

static const admin_case admin_cases[] = {
    {"libvirtd:///system", ROOT, 0, SYS "libvirt-admin-sock", NULL},
    {"virtqemud:///system", ROOT, 0, SYS "virtqemud-admin-sock", NULL},
    {"virtproxyd:///system", ROOT, 0, SYS "virtproxyd-admin-sock", NULL},
    {"libvirtd:///session", USER, 0, RUN "libvirt-admin-sock", NULL},
    {"virtqemud:///session", USER, 0, RUN "virtqemud-admin-sock", NULL},
    {"virtqemud:///session", USER_NOXDG, 0, "/home/u/.cache/libvirt/virtqemud-admin-sock", NULL},
    {"libvirtd:///system?socket=/srv/d/libvirt-admin-sock", ROOT, 0, "/srv/d/libvirt-admin-sock",
     NULL},
    {"libvirtd:///session?socket=@adm", USER, 0, "@adm", NULL},
    {NULL, ROOT, 0, SYS "libvirt-admin-sock", NULL},
    {"", USER, 0, RUN "libvirt-admin-sock", NULL},
    {NULL, ROOT_ADMINURI, 0, SYS "virtqemud-admin-sock", NULL},
    {"libvirtd:///foo", ROOT, VRPC_E_URI, NULL, "expected /system or /session"},
    {"libvirtd:///system?mode=direct", ROOT, VRPC_E_URI, NULL, "unknown parameter 'mode'"},
    {"libvirtd://host/system", ROOT, VRPC_E_URI, NULL, "local"},
    {"libvirtd+unix:///system", ROOT, VRPC_E_URI, NULL, "no transport"},
    {"libvirtd:///session", USER_NOHOME, VRPC_E_URI, NULL, "neither XDG_RUNTIME_DIR nor HOME"},
};

static void run_admin_cases(void)
{
    size_t i;
    for (i = 0; i < sizeof(admin_cases) / sizeof(admin_cases[0]); i++) {
        const admin_case *k = &admin_cases[i];
        vrpc_uri_env eb;
        vrpc_target *t = NULL;
        vrpc_error *e = NULL;
        int rc = vrpc_admin_resolve(k->uri, 0, env_of(k->env, &eb), &t, &e);
        bool ok = rc == k->rc;
        if (ok && rc == 0)
            ok = t->admin && t->transport == VRPC_TRANSPORT_UNIX && same(t->socket_path, k->socket);
        else if (ok)
            ok = !t && e && strstr(e->message, k->err);
        if (!TAP_OK(ok, "admin %-50s [%s]", k->uri ? k->uri : "(null)", envs[k->env].name)) {
            tap_diag("rc %d socket %s error %s", rc, t ? t->socket_path : "-",
                     e ? e->message : "-");
        }
        vrpc_target_free(t);
        vrpc_free(e);
    }
}

/* The real environment is used when none is injected. */
static void test_real_env(void)
{
    vrpc_target *t = NULL;
    int rc =
        vrpc_remote_resolve("test+unix:///default?socket=/nonexistent/sock", 0, NULL, &t, NULL);
    TAP_OK(rc == 0 && same(t->socket_path, "/nonexistent/sock") && same(t->name, "test:///default"),
           "real environment: explicit socket");
    vrpc_target_free(t);
}

int main(void)
{
    run_remote_cases();
    test_consumed_values();
    test_parser();
    run_admin_cases();
    test_real_env();
    return tap_done();
}
