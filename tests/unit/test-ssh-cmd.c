/* SPDX-License-Identifier: MIT */
/*
 * The ssh transport's command line: shell quoting, the remote command in its
 * three forms, the ssh options, and what libvirt's URI rules make of each
 * ssh URI. The first table holds the expected outputs of libvirt 9.0.0's own
 * test of its ssh command line (tests/virnetsockettest.c, "SSH test N"),
 * which prints the arguments after the program name joined by spaces.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "tap.h"
#include "transport-cmd.h"
#include "uri.h"

#define NC_Q(nc)                                                                                   \
    "if " nc " -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then ARG=-q0;else "        \
    "ARG=;fi;" nc " $ARG -U "

static char *join_args(char **argv, size_t from)
{
    size_t i, n = 1;
    char *s;
    for (i = from; argv[i]; i++)
        n += strlen(argv[i]) + 1;
    s = vrpc_malloc(n);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (i = from; argv[i]; i++) {
        if (i > from)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static bool same(const char *got, const char *want, const char *what)
{
    if (got && strcmp(got, want) == 0)
        return true;
    tap_diag("%s:", what);
    tap_diag("  want: %s", want);
    tap_diag("  got:  %s", got ? got : "(null)");
    return false;
}

/* ---- libvirt's own expectations ---- */

typedef struct lv_case {
    const char *name;
    const char *host, *port, *user, *keyfile;
    bool no_tty, no_verify;
    vrpc_proxy_mode proxy;
    const char *netcat;
    const char *path;
    const char *want; /* arguments after argv[0], space-joined */
} lv_case;

/* Every case uses the driver URI "qemu:///session" read-only, as libvirt's test does. */
static const lv_case lv_cases[] = {
    {"SSH test 1", "somehost", NULL, NULL, NULL, false, false, VRPC_PROXY_AUTO, "nc",
     "/run/test/socket", "-T -e none -- somehost sh -c '" NC_Q("'nc'") "/run/test/socket'"},
    {"SSH test 2", "somehost", "9000", "fred", NULL, true, false, VRPC_PROXY_AUTO, "netcat",
     "/run/test/socket",
     "-p 9000 -l fred -T -e none -o BatchMode=yes -- somehost sh -c '" NC_Q(
         "'netcat'") "/run/test/socket'"},
    {"SSH test 3", "somehost", "9000", "fred", NULL, false, true, VRPC_PROXY_AUTO, "netcat",
     "/run/test/socket",
     "-p 9000 -l fred -T -e none -o StrictHostKeyChecking=no -- somehost sh -c '" NC_Q(
         "'netcat'") "/run/test/socket'"},
    {"SSH test 5", "crashyhost", NULL, NULL, NULL, false, false, VRPC_PROXY_AUTO, "nc",
     "/run/test/socket", "-T -e none -- crashyhost sh -c '" NC_Q("'nc'") "/run/test/socket'"},
    {"SSH test 6", "example.com", NULL, NULL, "/home/u/.ssh/example_key", false, true,
     VRPC_PROXY_AUTO, "nc", "/run/test/socket",
     "-i /home/u/.ssh/example_key -T -e none -o StrictHostKeyChecking=no -- example.com sh -c "
     "'" NC_Q("'nc'") "/run/test/socket'"},
    {"SSH test 7", "somehost", NULL, NULL, NULL, false, false, VRPC_PROXY_AUTO, "n c",
     "/run/test/socket",
     "-T -e none -- somehost sh -c '" NC_Q("'''\\''n c'\\''''") "/run/test/socket'"},
    {"SSH test 8", "somehost", NULL, NULL, NULL, false, false, VRPC_PROXY_AUTO, "n'c",
     "/run/test/socket",
     "-T -e none -- somehost sh -c '" NC_Q(
         "'''\\''n'\\''\\'\\'''\\''c'\\''''") "/run/test/socket'"},
    {"SSH test 9", "somehost", NULL, NULL, NULL, false, false, VRPC_PROXY_AUTO, "n\"c",
     "/run/test/socket",
     "-T -e none -- somehost sh -c '" NC_Q("'''\\''n\"c'\\''''") "/run/test/socket'"},
    {"SSH test 10", "somehost", NULL, NULL, NULL, false, false, VRPC_PROXY_AUTO, NULL,
     "/run/test/socket",
     "-T -e none -- somehost sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; "
     "then     virt-ssh-helper -r 'qemu:///session'; else    " NC_Q(
         "'nc'") "/run/test/socket; fi'"},
    {"SSH test 11", "somehost", NULL, NULL, NULL, false, false, VRPC_PROXY_NATIVE, NULL, NULL,
     "-T -e none -- somehost sh -c 'virt-ssh-helper -r 'qemu:///session''"},
};

static void test_libvirt_table(void)
{
    size_t i;
    for (i = 0; i < sizeof(lv_cases) / sizeof(lv_cases[0]); i++) {
        const lv_case *c = &lv_cases[i];
        vrpc_ssh_cmdline cl;
        vrpc_error *e = NULL;
        char *cmd, *got = NULL;
        char **argv = NULL;

        cmd = vrpc_ssh_remote_command(c->proxy, c->netcat, c->path, "qemu:///session", true, &e);
        memset(&cl, 0, sizeof(cl));
        cl.host = c->host;
        cl.port = c->port;
        cl.user = c->user;
        cl.keyfile = c->keyfile;
        cl.no_tty = c->no_tty;
        cl.no_verify = c->no_verify;
        cl.command = cmd;
        if (cmd)
            argv = vrpc_ssh_argv(&cl);
        if (argv)
            got = join_args(argv, 1);
        TAP_OK(argv && strcmp(argv[0], "ssh") == 0 && same(got, c->want, c->name), "libvirt %s",
               c->name);
        vrpc_free(got);
        vrpc_strv_free(argv);
        vrpc_free(cmd);
        vrpc_free(e);
    }
}

/* ---- quoting ---- */

static void test_escape(void)
{
    static const struct {
        const char *in, *once;
    } cases[] = {
        {"", "''"},
        {"nc", "nc"},
        {"/usr/bin/nc", "/usr/bin/nc"},
        {"qemu:///system", "qemu:///system"},
        {"a b", "'a b'"},
        {"it's", "'it'\\''s'"},
        {"x=$HOME", "'x=$HOME'"},
        {"q?a=1&b=2", "'q?a=1&b=2'"},
        {"tab\there", "'tab\there'"},
        {"%7E~", "'%7E~'"},
        {"a,b.c-d_e+f@g:h/i%", "a,b.c-d_e+f@g:h/i%"},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = vrpc_shell_escape(cases[i].in);
        TAP_OK(same(got, cases[i].once, cases[i].in), "shell escape of \"%s\"", cases[i].in);
        vrpc_free(got);
    }
}

/* ---- the remote command ---- */

static void test_remote_command(void)
{
    vrpc_error *e = NULL;
    char *got;

    got = vrpc_ssh_remote_command(VRPC_PROXY_NATIVE, "nc", "/s", "qemu:///system", false, &e);
    TAP_OK(!got && e && e->code == VRPC_ERR_INVALID_ARG && e->message &&
               strcmp(e->message, "netcat path not valid with native proxy mode") == 0,
           "native proxy with a netcat path is refused with libvirt's message");
    vrpc_free(got);
    vrpc_free(e);
    e = NULL;

    got = vrpc_ssh_remote_command(VRPC_PROXY_NETCAT, NULL, "/var/run/libvirt/libvirt-sock-ro",
                                  "qemu:///system", true, &e);
    TAP_OK(same(got, "sh -c '" NC_Q("'nc'") "/var/run/libvirt/libvirt-sock-ro'", "netcat ro"),
           "netcat form: default nc, socket inserted as is, no -r");
    vrpc_free(got);

    got = vrpc_ssh_remote_command(VRPC_PROXY_NATIVE, NULL, "/ignored", "qemu:///system?foo=bar&x=y",
                                  false, &e);
    TAP_OK(same(got, "sh -c 'virt-ssh-helper '''\\''qemu:///system?foo=bar&x=y'\\'''''",
                "native with query"),
           "native form: the URI escaped twice");
    vrpc_free(got);

    got = vrpc_ssh_remote_command(VRPC_PROXY_AUTO, NULL, "/var/run/libvirt/libvirt-sock", "", false,
                                  &e);
    TAP_OK(same(got,
                "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     "
                "virt-ssh-helper '''\\'''\\''''; else    " NC_Q(
                    "'nc'") "/var/run/libvirt/libvirt-sock; fi'",
                "auto, empty name"),
           "auto form with an empty name (remote:// URIs)");
    vrpc_free(got);
}

/* ---- URIs through libvirt's rules to the whole command line ---- */

typedef struct env_ctx {
    unsigned int euid;
} env_ctx;

static const char *fe_get(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "XDG_RUNTIME_DIR") == 0)
        return "/run/user/1000";
    if (strcmp(name, "HOME") == 0)
        return "/home/u";
    return NULL;
}

static unsigned int fe_euid(void *ctx)
{
    return ((env_ctx *)ctx)->euid;
}

static bool fe_exists(void *ctx, const char *path)
{
    (void)ctx;
    (void)path;
    return false;
}

typedef struct uri_case {
    const char *uri;
    unsigned int euid;
    unsigned int flags;
    const char *want; /* the whole argv, space-joined; NULL: refused */
} uri_case;

#define AUTO_CMD(name, ro, sock)                                                                   \
    "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     "                     \
    "virt-ssh-helper" ro name "; else    " NC_Q("'nc'") sock "; fi'"

static const uri_case uri_cases[] = {
    /* system URI as root: auto proxy, legacy socket */
    {"qemu+ssh://h/system", 0, 0,
     "ssh -T -e none -- h " AUTO_CMD("'qemu:///system'", " ", "/var/run/libvirt/libvirt-sock")},
    /* port, user, key, no_tty, no_verify; consumed parameters leave the name */
    {"qemu+ssh://root@h:2222/system?keyfile=/k&no_tty=1&no_verify=1", 0, 0,
     "ssh -p 2222 -l root -i /k -T -e none -o BatchMode=yes -o StrictHostKeyChecking=no -- "
     "h " AUTO_CMD("'qemu:///system'", " ", "/var/run/libvirt/libvirt-sock")},
    /* read-only: -r and the -ro socket */
    {"qemu+ssh://h/system", 0, VRPC_OPEN_READONLY,
     "ssh -T -e none -- h " AUTO_CMD("'qemu:///system'", " -r ",
                                     "/var/run/libvirt/libvirt-sock-ro")},
    /* no host: localhost */
    {"qemu+ssh:///system", 0, 0,
     "ssh -T -e none -- localhost " AUTO_CMD("'qemu:///system'", " ",
                                             "/var/run/libvirt/libvirt-sock")},
    /* a session URI: native proxy */
    {"qemu+ssh://u@h/session", 1000, 0,
     "ssh -l u -T -e none -- h sh -c 'virt-ssh-helper 'qemu:///session''"},
    /* the test driver with a transport is a session URI for non-root */
    {"test+ssh://h/default", 1000, 0,
     "ssh -T -e none -- h sh -c 'virt-ssh-helper 'test:///default''"},
    {"test+ssh://h/default", 0, 0,
     "ssh -T -e none -- h " AUTO_CMD("'test:///default'", " ", "/var/run/libvirt/libvirt-sock")},
    /* socket=: netcat */
    {"qemu+ssh://h/system?socket=/srv/sock", 0, 0,
     "ssh -T -e none -- h sh -c '" NC_Q("'nc'") "/srv/sock'"},
    /* netcat=: netcat with that binary */
    {"qemu+ssh://h/system?netcat=/opt/bin/nc", 0, 0,
     "ssh -T -e none -- h sh -c '" NC_Q("'/opt/bin/nc'") "/var/run/libvirt/libvirt-sock'"},
    /* proxy=auto with socket=: the auto form with that socket */
    {"qemu+ssh://h/system?socket=/srv/sock&proxy=auto", 0, 0,
     "ssh -T -e none -- h " AUTO_CMD("'qemu:///system'", " ", "/srv/sock")},
    /* proxy=netcat for a session URI: the local session socket path */
    {"qemu+ssh://h/session?proxy=netcat", 1000, 0,
     "ssh -T -e none -- h sh -c '" NC_Q("'nc'") "/run/user/1000/libvirt/libvirt-sock'"},
    /* proxy=native for a system URI */
    {"qemu+ssh://h/system?proxy=native", 0, 0,
     "ssh -T -e none -- h sh -c 'virt-ssh-helper 'qemu:///system''"},
    /* command= replaces the ssh binary */
    {"qemu+ssh://h/system?command=/opt/my%20ssh&proxy=native", 0, 0,
     "/opt/my ssh -T -e none -- h sh -c 'virt-ssh-helper 'qemu:///system''"},
    /* kept parameters stay in the name, escaped twice */
    {"qemu+ssh://h/system?foo=bar&proxy=native", 0, 0,
     "ssh -T -e none -- h sh -c 'virt-ssh-helper '''\\''qemu:///system?foo=bar'\\'''''"},
    /* an IPv6 host goes to ssh without brackets */
    {"qemu+ssh://[::1]:22/system?proxy=native", 0, 0,
     "ssh -p 22 -T -e none -- ::1 sh -c 'virt-ssh-helper 'qemu:///system''"},
    /* native with a netcat path: refused */
    {"qemu+ssh://h/system?proxy=native&netcat=nc", 0, 0, NULL},
};

static void test_uris(void)
{
    size_t i;
    for (i = 0; i < sizeof(uri_cases) / sizeof(uri_cases[0]); i++) {
        const uri_case *c = &uri_cases[i];
        env_ctx ctx = {c->euid};
        vrpc_uri_env env = {fe_get, fe_euid, fe_exists, &ctx, NULL};
        vrpc_target *t = NULL;
        vrpc_error *e = NULL;
        char **argv = NULL;
        char *got = NULL;
        int rc;

        rc = vrpc_remote_resolve(c->uri, c->flags, &env, &t, &e);
        if (rc) {
            TAP_OK(0, "%s (euid %u): resolve failed: %s", c->uri, c->euid,
                   e && e->message ? e->message : "?");
            vrpc_free(e);
            continue;
        }
        argv = vrpc_ssh_target_argv(t, &e);
        if (argv)
            got = join_args(argv, 0);
        if (c->want)
            TAP_OK(same(got, c->want, c->uri), "%s (euid %u%s)", c->uri, c->euid,
                   c->flags ? ", read-only" : "");
        else
            TAP_OK(!argv && e && e->code == VRPC_ERR_INVALID_ARG, "%s (euid %u): refused", c->uri,
                   c->euid);
        vrpc_free(got);
        vrpc_strv_free(argv);
        vrpc_free(e);
        vrpc_target_free(t);
    }
}

/* libssh and libssh2 are refused without running anything. */
static void test_unsupported(void)
{
    static const char *const uris[] = {"qemu+libssh://h/system", "qemu+libssh2://h/system"};
    size_t i;
    for (i = 0; i < 2; i++) {
        env_ctx ctx = {0};
        vrpc_uri_env env = {fe_get, fe_euid, fe_exists, &ctx, NULL};
        vrpc_target *t = NULL;
        vrpc_transport *tr = NULL;
        vrpc_error *e = NULL;
        int rc = vrpc_remote_resolve(uris[i], 0, &env, &t, NULL);
        if (rc == 0)
            rc = vrpc_transport_ssh_connect(t, &tr, &e);
        TAP_OK(rc == VRPC_E_UNSUPPORTED && !tr && e && e->message &&
                   strstr(e->message, "is not supported; use +ssh"),
               "%s: unsupported (%s)", uris[i], e && e->message ? e->message : "?");
        vrpc_free(e);
        vrpc_target_free(t);
    }
}

/* The child's environment: LC_ALL=C first, then only the listed variables. */
static void test_env(void)
{
    static const char *const extra[] = {"VRPC_TEST_EXTRA", "VRPC_TEST_UNSET", NULL};
    char **env;
    size_t i;
    bool lc = false, extra_ok = false, secret = false, unset = false;

    setenv("VRPC_TEST_EXTRA", "x y", 1);
    setenv("VRPC_TEST_SECRET", "s", 1);
    unsetenv("VRPC_TEST_UNSET");
    env = vrpc_cmd_env(extra);
    for (i = 0; env && env[i]; i++) {
        if (i == 0 && strcmp(env[i], "LC_ALL=C") == 0)
            lc = true;
        if (strcmp(env[i], "VRPC_TEST_EXTRA=x y") == 0)
            extra_ok = true;
        if (strncmp(env[i], "VRPC_TEST_SECRET=", 17) == 0)
            secret = true;
        if (strncmp(env[i], "VRPC_TEST_UNSET", 15) == 0)
            unset = true;
    }
    TAP_OK(env && lc && extra_ok && !secret && !unset,
           "child environment: LC_ALL=C, listed variables only");
    vrpc_strv_free(env);
}

int main(void)
{
    test_libvirt_table();
    test_escape();
    test_remote_command();
    test_uris();
    test_unsupported();
    test_env();
    return tap_done();
}
