/* SPDX-License-Identifier: MIT */
/*
 * Authentication pieces without a real daemon: libvirt's auth file (where
 * it is looked for, how it is read, the lookup rules and libvirt's
 * messages), the step an open failed in, and the SASL exchange against a
 * scripted fake daemon with the PLAIN mechanism: the wire format of
 * AUTH_SASL_INIT/START/STEP (mech, nil, data as char<>), credentials from
 * the auth file before the callback, callback ownership, libvirt's
 * messages, the bound on round trips, and the SSF rule on plain TCP.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "auth.h"
#include "fake-daemon.h"
#include "tap.h"

static char tdir[512];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* ---- the auth file ---- */

/* Look up credname for host in text; "ERR" on an error, "(none)" when absent. */
static const char *lookup(const char *text, const char *host, const char *credname)
{
    static char out[256];
    vrpc_authfile *f = NULL;
    vrpc_error *e = NULL;
    char *v = NULL;
    int rc = vrpc_authfile_parse("t.conf", text, strlen(text), &f, &e);
    if (rc) {
        snprintf(out, sizeof(out), "PARSE:%s", e && e->message ? e->message : "?");
        vrpc_free(e);
        return out;
    }
    rc = vrpc_authfile_lookup(f, "libvirt", host, credname, &v, &e);
    if (rc)
        snprintf(out, sizeof(out), "ERR:%s", e && e->message ? e->message : "?");
    else
        snprintf(out, sizeof(out), "%s", v ? v : "(none)");
    vrpc_free(v);
    vrpc_free(e);
    vrpc_authfile_free(f);
    return out;
}

#define CREDS "[credentials-t]\nauthname=alice\npassword=secret\n"
#define HOSTGRP "[auth-libvirt-127.0.0.1]\ncredentials=t\n"

static void test_authfile(void)
{
    struct {
        const char *what, *text, *host, *key, *want;
    } cases[] = {
        {"host group", CREDS HOSTGRP, "127.0.0.1", "password", "secret"},
        {"authname", CREDS HOSTGRP, "127.0.0.1", "authname", "alice"},
        {"absent key", CREDS HOSTGRP, "127.0.0.1", "realm", "(none)"},
        {"other host, no default", CREDS HOSTGRP, "example.org", "password", "(none)"},
        {"default group", CREDS "[auth-libvirt-default]\ncredentials=t\n", "example.org",
         "password", "secret"},
        {"host group wins over default",
         CREDS "[credentials-u]\npassword=other\n[auth-libvirt-default]\ncredentials=u\n" HOSTGRP,
         "127.0.0.1", "password", "secret"},
        {"no host: localhost", CREDS "[auth-libvirt-localhost]\ncredentials=t\n", NULL, "password",
         "secret"},
        {"blanks around '=' and groups, comments, CRLF",
         "# comment\r\n  [credentials-t]  \r\n  # indented\r\nauthname = alice\r\n\r\n"
         "password =   secret\r\n[auth-libvirt-h]\r\ncredentials\t=\tt\r\n",
         "h", "password", "secret"},
        {"trailing blanks are kept (as GLib)", "[credentials-t]\npassword=secret  \n" HOSTGRP,
         "127.0.0.1", "password", "secret  "},
        {"last duplicate wins", "[credentials-t]\npassword=wrong\npassword=secret\n" HOSTGRP,
         "127.0.0.1", "password", "secret"},
        {"repeated groups merge",
         "[credentials-t]\nauthname=alice\n" HOSTGRP "[credentials-t]\npassword=secret\n",
         "127.0.0.1", "password", "secret"},
        {"escapes", "[credentials-t]\npassword=\\sa\\tb\\\\c\\n\n" HOSTGRP, "127.0.0.1", "password",
         " a\tb\\c\n"},
        {"an invalid escape: no value", "[credentials-t]\npassword=a\\xb\n" HOSTGRP, "127.0.0.1",
         "password", "(none)"},
        {"keys are case-sensitive", "[credentials-t]\nPassword=secret\n" HOSTGRP, "127.0.0.1",
         "password", "(none)"},
        {"a localized key is another key",
         "[credentials-t]\npassword[de]=x\npassword=secret\n" HOSTGRP, "127.0.0.1", "password",
         "secret"},
        {"missing credentials item: libvirt's message", CREDS "[auth-libvirt-h]\nfoo=1\n", "h",
         "password",
         "ERR:configuration file syntax error: Missing item 'credentials' in group "
         "'auth-libvirt-h' in 't.conf'"},
        {"missing credentials group: libvirt's message", "[auth-libvirt-default]\ncredentials=x\n",
         "h", "password",
         "ERR:configuration file syntax error: Missing group 'credentials-x' referenced from group "
         "'auth-libvirt-default' in 't.conf'"},
        {"a line that is nothing", "garbage\n", "h", "password",
         "PARSE:configuration file syntax error: t.conf:1: not a key=value pair, group or "
         "comment"},
        {"a key before any group", "a=b\n[g]\n", "h", "password",
         "PARSE:configuration file syntax error: t.conf:1: a key before the first group"},
        {"an empty group name", "[]\n", "h", "password",
         "PARSE:configuration file syntax error: t.conf:1: an empty group name"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = lookup(cases[i].text, cases[i].host, cases[i].key);
        if (!TAP_OK(strcmp(got, cases[i].want) == 0, "auth file: %s", cases[i].what))
            tap_diag("got '%s', want '%s'", got, cases[i].want);
    }

    /* Where the file is looked for. */
    {
        char cfg[600], home[600], homecfg[700], sys[600], a[1024], b[1024];
        char *p = NULL;
        int rc;
        snprintf(cfg, sizeof(cfg), "%s/cfg", tdir);
        snprintf(home, sizeof(home), "%s/home", tdir);
        snprintf(sys, sizeof(sys), "%s/sys-auth.conf", tdir);
        snprintf(a, sizeof(a), "%s/libvirt", cfg);
        mkdir(cfg, 0700);
        mkdir(a, 0700);
        snprintf(homecfg, sizeof(homecfg), "%s/.config", home);
        mkdir(home, 0700);
        mkdir(homecfg, 0700);
        snprintf(b, sizeof(b), "%s/libvirt", homecfg);
        mkdir(b, 0700);

        rc = vrpc_authfile_find("/env.conf", "/uri.conf", cfg, home, sys, &p);
        TAP_OK(rc == 0 && p && strcmp(p, "/env.conf") == 0,
               "auth file: $LIBVIRT_AUTH_FILE first, even if missing");
        vrpc_free(p);
        rc = vrpc_authfile_find(NULL, "/uri.conf", cfg, home, sys, &p);
        TAP_OK(rc == 0 && p && strcmp(p, "/uri.conf") == 0,
               "auth file: then authfile=, even if missing");
        vrpc_free(p);
        rc = vrpc_authfile_find(NULL, NULL, cfg, home, sys, &p);
        TAP_OK(rc == 0 && p == NULL, "auth file: none readable: none");
        vrpc_free(p);
        write_file(sys, "");
        rc = vrpc_authfile_find(NULL, NULL, cfg, home, sys, &p);
        TAP_OK(rc == 0 && p && strcmp(p, sys) == 0, "auth file: the system file when readable");
        vrpc_free(p);
        snprintf(b, sizeof(b), "%s/libvirt/auth.conf", homecfg);
        write_file(b, "");
        rc = vrpc_authfile_find(NULL, NULL, NULL, home, sys, &p);
        TAP_OK(rc == 0 && p && strcmp(p, b) == 0,
               "auth file: ~/.config/libvirt/auth.conf without $XDG_CONFIG_HOME");
        vrpc_free(p);
        rc = vrpc_authfile_find(NULL, NULL, cfg, home, sys, &p);
        TAP_OK(rc == 0 && p && strcmp(p, sys) == 0,
               "auth file: $XDG_CONFIG_HOME replaces ~/.config (nothing there: system file)");
        vrpc_free(p);
        snprintf(a, sizeof(a), "%s/libvirt/auth.conf", cfg);
        write_file(a, "");
        rc = vrpc_authfile_find(NULL, NULL, cfg, home, sys, &p);
        TAP_OK(rc == 0 && p && strcmp(p, a) == 0,
               "auth file: $XDG_CONFIG_HOME/libvirt/auth.conf before the system file");
        vrpc_free(p);
        unlink(a);
        unlink(b);
        unlink(sys);
        snprintf(a, sizeof(a), "%s/libvirt", cfg);
        rmdir(a);
        rmdir(cfg);
        snprintf(b, sizeof(b), "%s/libvirt", homecfg);
        rmdir(b);
        rmdir(homecfg);
        rmdir(home);
    }
    {
        vrpc_authfile *f = NULL;
        vrpc_error *e = NULL;
        char p[600];
        int rc;
        snprintf(p, sizeof(p), "%s/nothing.conf", tdir);
        rc = vrpc_authfile_load(p, &f, &e);
        TAP_OK(rc == VRPC_E_NOT_FOUND && !f && e &&
                   strstr(e->message, "cannot read the auth file") &&
                   strstr(e->message, "No such file"),
               "auth file: a missing file says so");
        vrpc_free(e);
    }
}

/* ---- the failing step ---- */

static void test_steps(void)
{
    vrpc_error local = {0}, daemon = {0};
    local.step = "certificate check";
    daemon.str1 = (char *)"authentication failed: %s";
    TAP_OK(vrpc_open_failed_step(0, NULL) == NULL, "step: none on success");
    TAP_OK(strcmp(vrpc_open_failed_step(VRPC_E_AUTH, &local), "certificate check") == 0,
           "step: a local error names its step");
    TAP_OK(strcmp(vrpc_open_failed_step(VRPC_E_AUTH, &daemon), "authentication") == 0,
           "step: a daemon error during authentication");
    TAP_OK(strcmp(vrpc_open_failed_step(VRPC_E_REMOTE, &local), "open") == 0,
           "step: a daemon error at CONNECT_OPEN (its fields are never read as a step)");
    TAP_OK(strcmp(vrpc_open_failed_step(VRPC_E_URI, NULL), "resolve") == 0 &&
               strcmp(vrpc_open_failed_step(VRPC_E_CONNECT, NULL), "connect") == 0,
           "step: without an error object, from the code");
}

/* ---- SASL against a fake daemon (PLAIN) ---- */

enum { START_DONE, START_ERROR, NEVER_DONE };

typedef struct sasl_script {
    const char *mechlist;
    int mode;
    /* what the daemon received */
    char mech[64];
    int start_nil;
    char data[256];
    uint32_t datalen;
    int steps;
    int step_nil;
} sasl_script;

static int sasl_handler(fake_daemon *d, const vrpc_msg_header *h, const uint8_t *payload,
                        size_t len)
{
    sasl_script *s = d->data;
    if (h->proc == VRPC_PROC_AUTH_LIST) {
        int32_t t = VRPC_AUTH_SASL;
        vrpc_auth_list_ret r = {{1, &t}};
        return fake_reply(d, h, &vrpc_td_auth_list_ret, &r);
    }
    if (h->proc == VRPC_PROC_AUTH_SASL_INIT) {
        vrpc_auth_sasl_init_ret r = {(char *)s->mechlist};
        return fake_reply(d, h, &vrpc_td_auth_sasl_init_ret, &r);
    }
    if (h->proc == VRPC_PROC_AUTH_SASL_START) {
        vrpc_auth_sasl_start_args *a = NULL;
        vrpc_auth_sasl_start_ret r;
        if (vrpc_xdr_decode(&vrpc_td_auth_sasl_start_args, payload, len, (void **)&a) == 0) {
            snprintf(s->mech, sizeof(s->mech), "%s", a->mech);
            s->start_nil = a->nil;
            s->datalen = a->data.n;
            if (a->data.n <= sizeof(s->data))
                memcpy(s->data, a->data.items, a->data.n);
            vrpc_free(a);
        }
        if (s->mode == START_ERROR)
            return fake_reply_error(d, h, VRPC_ERR_AUTH_FAILED, VRPC_FROM_RPC,
                                    "authentication failed: authentication failed",
                                    "authentication failed: %s", "authentication failed");
        memset(&r, 0, sizeof(r));
        r.complete = s->mode == START_DONE;
        r.nil = 1;
        return fake_reply(d, h, &vrpc_td_auth_sasl_start_ret, &r);
    }
    if (h->proc == VRPC_PROC_AUTH_SASL_STEP) {
        vrpc_auth_sasl_step_args *a = NULL;
        vrpc_auth_sasl_step_ret r;
        s->steps++;
        if (vrpc_xdr_decode(&vrpc_td_auth_sasl_step_args, payload, len, (void **)&a) == 0) {
            s->step_nil = a->nil;
            vrpc_free(a);
        }
        memset(&r, 0, sizeof(r));
        r.complete = 0;
        r.nil = 1;
        return fake_reply(d, h, &vrpc_td_auth_sasl_step_ret, &r);
    }
    return fake_answer_open_close(d, h);
}

typedef struct cb_log {
    int calls;
    int types[8];
    char prompts[8][80];
    size_t n;
    int fail;
    const char *user, *pass;
} cb_log;

static int test_cb(vrpc_auth_cred *creds, size_t n, void *userdata)
{
    cb_log *l = userdata;
    size_t i;
    l->calls++;
    l->n = n;
    for (i = 0; i < n && i < 8; i++) {
        l->types[i] = creds[i].type;
        snprintf(l->prompts[i], sizeof(l->prompts[i]), "%s",
                 creds[i].prompt ? creds[i].prompt : "");
        if (creds[i].type == VRPC_CRED_AUTHNAME && l->user)
            creds[i].result = strdup(l->user);
        else if (creds[i].type == VRPC_CRED_PASSPHRASE && l->pass)
            creds[i].result = strdup(l->pass);
        if (creds[i].result)
            creds[i].resultlen = strlen(creds[i].result);
    }
    return l->fail ? -1 : 0;
}

/*
 * A client mechanism that never completes ("X-LOOP"), to show that the
 * exchange is bounded whatever the mechanism and the daemon do.
 */
static int loop_new(void *glob, sasl_client_params_t *params, void **ctx)
{
    (void)glob;
    (void)params;
    *ctx = NULL;
    return SASL_OK;
}

static int loop_step(void *ctx, sasl_client_params_t *params, const char *in, unsigned inlen,
                     sasl_interact_t **need, const char **out, unsigned *outlen,
                     sasl_out_params_t *oparams)
{
    (void)ctx;
    (void)params;
    (void)in;
    (void)inlen;
    (void)need;
    (void)oparams;
    *out = "more";
    *outlen = 4;
    return SASL_CONTINUE;
}

static void loop_dispose(void *ctx, const sasl_utils_t *utils)
{
    (void)ctx;
    (void)utils;
}

/*
 * "X-WEAK" claims a strong layer (so it is offered on plain TCP) but
 * completes at once with SSF 0: the client's own check must refuse it.
 */
static int weak_step(void *ctx, sasl_client_params_t *params, const char *in, unsigned inlen,
                     sasl_interact_t **need, const char **out, unsigned *outlen,
                     sasl_out_params_t *oparams)
{
    (void)ctx;
    (void)in;
    (void)inlen;
    (void)need;
    if (params->canon_user(params->utils->conn, "weak", 0, SASL_CU_AUTHID | SASL_CU_AUTHZID,
                           oparams) != SASL_OK)
        return SASL_FAIL;
    *out = "weak";
    *outlen = 4;
    oparams->doneflag = 1;
    oparams->mech_ssf = 0;
    oparams->maxoutbuf = 0;
    oparams->encode = NULL;
    oparams->decode = NULL;
    return SASL_OK;
}

static sasl_client_plug_t test_plugs[] = {
    {
        .mech_name = "X-LOOP",
        .mech_new = loop_new,
        .mech_step = loop_step,
        .mech_dispose = loop_dispose,
    },
    {
        .mech_name = "X-WEAK",
        .max_ssf = 256,
        .security_flags = SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS,
        .features = SASL_FEAT_WANT_CLIENT_FIRST,
        .mech_new = loop_new,
        .mech_step = weak_step,
        .mech_dispose = loop_dispose,
    },
};

static int loop_init(const sasl_utils_t *utils, int max_version, int *out_version,
                     sasl_client_plug_t **pluglist, int *plugcount)
{
    (void)utils;
    (void)max_version;
    *out_version = SASL_CLIENT_PLUG_VERSION;
    *pluglist = test_plugs;
    *plugcount = 2;
    return SASL_OK;
}

/* Open through a fake SASL daemon; returns rc, fills *e (caller frees). */
static int sasl_open(sasl_script *s, const char *params, bool tcp, vrpc_auth_cb cb, void *ud,
                     vrpc_error **e, fake_daemon *d)
{
    char path[600], uri[900];
    vrpc_conn *c = NULL;
    int rc;
    snprintf(path, sizeof(path), "%s/sock", tdir);
    if (fake_start(d, tcp ? NULL : path, sasl_handler, s))
        return -1000;
    if (tcp)
        snprintf(uri, sizeof(uri), "test+tcp://127.0.0.1:%d/default?x=1%s", d->port, params);
    else
        snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s%s", path, params);
    rc = vrpc_conn_open_auth(&c, uri, 0, cb, ud, e);
    if (rc == 0)
        vrpc_conn_close(c);
    fake_finish(d, tcp ? NULL : path);
    return rc;
}

static bool msg_is(const vrpc_error *e, int code, int domain, const char *msg)
{
    return e && e->code == code && e->domain == domain && e->message &&
           strcmp(e->message, msg) == 0;
}

static void test_sasl(void)
{
    char file[600], empty[600];
    sasl_script s;
    fake_daemon d;
    cb_log l;
    vrpc_error *e = NULL;
    int rc, fds0 = fake_count_fds();

    snprintf(file, sizeof(file), "%s/auth.conf", tdir);
    snprintf(empty, sizeof(empty), "%s/empty.conf", tdir);
    write_file(file, "[credentials-t]\nauthname=alice\npassword=secret\n"
                     "[auth-libvirt-localhost]\ncredentials=t\n");
    write_file(empty, "# nothing\n");

    /* Credentials from the auth file ($LIBVIRT_AUTH_FILE); the callback is not called. */
    setenv("LIBVIRT_AUTH_FILE", file, 1);
    memset(&s, 0, sizeof(s));
    memset(&l, 0, sizeof(l));
    s.mechlist = "PLAIN";
    rc = sasl_open(&s, "", false, test_cb, &l, &e, &d);
    if (!TAP_OK(rc == 0 && strcmp(fake_seen(&d), "66 67 68 1 2") == 0 && l.calls == 0 &&
                    strcmp(s.mech, "PLAIN") == 0 && s.start_nil == 0 && s.datalen == 13 &&
                    memcmp(s.data, "\0alice\0secret", 13) == 0,
                "sasl: PLAIN with the auth file: INIT, START {PLAIN, nil 0, data}, open"))
        tap_diag("rc %d seen '%s' mech '%s' nil %d len %u cb %d err %s", rc, fake_seen(&d), s.mech,
                 s.start_nil, s.datalen, l.calls, e ? e->message : "-");
    vrpc_free(e);
    e = NULL;

    /* The auth file has nothing: the callback answers, once, for both. */
    setenv("LIBVIRT_AUTH_FILE", empty, 1);
    memset(&s, 0, sizeof(s));
    memset(&l, 0, sizeof(l));
    s.mechlist = "PLAIN";
    l.user = "bob";
    l.pass = "pw";
    rc = sasl_open(&s, "", false, test_cb, &l, &e, &d);
    if (!TAP_OK(rc == 0 && l.calls == 1 && l.n == 2 && l.types[0] == VRPC_CRED_AUTHNAME &&
                    l.types[1] == VRPC_CRED_PASSPHRASE && l.prompts[1][0] && s.datalen == 7 &&
                    memcmp(s.data, "\0bob\0pw", 7) == 0,
                "sasl: the callback is asked for what the file lacks (authname, passphrase)"))
        tap_diag("rc %d calls %d n %zu types %d %d len %u err %s", rc, l.calls, l.n, l.types[0],
                 l.types[1], s.datalen, e ? e->message : "-");
    vrpc_free(e);
    e = NULL;

    /* authfile= in the URI, when $LIBVIRT_AUTH_FILE is not set. */
    unsetenv("LIBVIRT_AUTH_FILE");
    {
        char params[700];
        memset(&s, 0, sizeof(s));
        memset(&l, 0, sizeof(l));
        s.mechlist = "DIGEST-MD5,PLAIN";
        snprintf(params, sizeof(params), "&auth=sasl.PLAIN&authfile=%s", file);
        rc = sasl_open(&s, params, false, test_cb, &l, &e, &d);
        TAP_OK(rc == 0 && l.calls == 0 && strcmp(s.mech, "PLAIN") == 0 && s.datalen == 13,
               "sasl: auth=sasl.PLAIN among several, credentials from authfile=");
        vrpc_free(e);
        e = NULL;
    }
    setenv("LIBVIRT_AUTH_FILE", empty, 1);

    memset(&s, 0, sizeof(s));
    memset(&l, 0, sizeof(l));
    s.mechlist = "PLAIN";
    l.fail = 1;
    rc = sasl_open(&s, "", false, test_cb, &l, &e, &d);
    TAP_OK(rc == VRPC_E_AUTH &&
               msg_is(e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                      "authentication failed: Failed to collect auth credentials") &&
               strcmp(vrpc_open_failed_step(rc, e), "authentication") == 0 &&
               strcmp(fake_seen(&d), "66 67") == 0,
           "sasl: the callback gives up: libvirt's message, nothing sent");
    vrpc_free(e);
    e = NULL;

    memset(&s, 0, sizeof(s));
    s.mechlist = "PLAIN";
    rc = sasl_open(&s, "", false, NULL, NULL, &e, &d);
    TAP_OK(rc == VRPC_E_AUTH &&
               msg_is(e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                      "authentication failed: No authentication callback available"),
           "sasl: no callback and nothing in the file: libvirt's message");
    vrpc_free(e);
    e = NULL;

    memset(&s, 0, sizeof(s));
    s.mechlist = "PLAIN";
    rc = sasl_open(&s, "&auth=sasl.DIGEST-MD5", false, NULL, NULL, &e, &d);
    TAP_OK(rc == VRPC_E_AUTH &&
               msg_is(e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                      "authentication failed: SASL mechanism DIGEST-MD5 not supported by "
                      "server") &&
               strcmp(fake_seen(&d), "66 67") == 0,
           "sasl: auth=sasl.MECH the daemon does not list: libvirt's message");
    vrpc_free(e);
    e = NULL;

    setenv("LIBVIRT_AUTH_FILE", file, 1);
    memset(&s, 0, sizeof(s));
    s.mechlist = "PLAIN";
    s.mode = START_ERROR;
    rc = sasl_open(&s, "", false, NULL, NULL, &e, &d);
    TAP_OK(rc == VRPC_E_AUTH &&
               msg_is(e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_RPC,
                      "authentication failed: authentication failed") &&
               e->str1 && strcmp(e->str1, "authentication failed: %s") == 0 && e->int1 == -1 &&
               strcmp(vrpc_open_failed_step(rc, e), "authentication") == 0,
           "sasl: the daemon refuses: its error exactly, code VRPC_E_AUTH");
    vrpc_free(e);
    e = NULL;

    memset(&s, 0, sizeof(s));
    s.mechlist = "X-LOOP";
    s.mode = NEVER_DONE;
    rc = sasl_open(&s, "", false, NULL, NULL, &e, &d);
    if (!TAP_OK(rc == VRPC_E_AUTH && s.steps == VRPC_SASL_MAX_STEPS - 1 && s.step_nil == 0 &&
                    msg_is(e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                           "authentication failed: the SASL negotiation did not complete after "
                           "64 round trips") &&
                    strcmp(vrpc_open_failed_step(rc, e), "authentication") == 0,
                "sasl: a mechanism and a daemon that never complete: %d round trips, refused",
                VRPC_SASL_MAX_STEPS))
        tap_diag("rc %d steps %d err %s", rc, s.steps, e ? e->message : "-");
    vrpc_free(e);
    e = NULL;

    /* A mechanism that ends without the layer it promised, on plain TCP. */
    memset(&s, 0, sizeof(s));
    s.mechlist = "X-WEAK";
    rc = sasl_open(&s, "", true, NULL, NULL, &e, &d);
    if (!TAP_OK(rc == VRPC_E_AUTH &&
                    msg_is(e, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                           "authentication failed: negotiation SSF 0 was not strong enough") &&
                    strcmp(fake_seen(&d), "66 67 68") == 0,
                "sasl: plain TCP, the negotiated SSF 0 < 56: refused by the client (libvirt's "
                "message), nothing sent after"))
        tap_diag("rc %d seen '%s' err %s", rc, fake_seen(&d), e ? e->message : "-");
    vrpc_free(e);
    e = NULL;

    /* Plain TCP: min SSF 56, no plaintext mechanisms: PLAIN is not worthy. */
    memset(&s, 0, sizeof(s));
    s.mechlist = "PLAIN";
    rc = sasl_open(&s, "", true, NULL, NULL, &e, &d);
    if (!TAP_OK(rc == VRPC_E_AUTH && e && e->code == VRPC_ERR_AUTH_FAILED &&
                    e->domain == VRPC_FROM_RPC &&
                    strstr(e->message, "authentication failed: Failed to start SASL negotiation: "
                                       "-4 (SASL(-4): no mechanism available") &&
                    strcmp(fake_seen(&d), "66 67") == 0,
                "sasl: plain TCP refuses a mechanism without a security layer (libvirt's "
                "message)"))
        tap_diag("rc %d seen '%s' err %s", rc, fake_seen(&d), e ? e->message : "-");
    vrpc_free(e);
    e = NULL;

    unsetenv("LIBVIRT_AUTH_FILE");
    unlink(file);
    unlink(empty);
    TAP_OK(fake_count_fds() == fds0, "sasl: no descriptor left behind (%d)", fds0);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char cfg[600];

    snprintf(tdir, sizeof(tdir), "%s/vrpc-auth-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (!mkdtemp(tdir)) {
        printf("1..0 # SKIP no temporary directory\n");
        return 0;
    }
    /* Keep the user's own auth file out of the way. */
    snprintf(cfg, sizeof(cfg), "%s/xdg", tdir);
    mkdir(cfg, 0700);
    setenv("XDG_CONFIG_HOME", cfg, 1);
    /* The test's own mechanism, before the library's first use of SASL. */
    if (sasl_client_init(NULL) != SASL_OK || sasl_client_add_plugin("x-loop", loop_init) != SASL_OK)
        tap_diag("cannot add the X-LOOP mechanism");
    test_authfile();
    test_steps();
    test_sasl();
    rmdir(cfg);
    rmdir(tdir);
    return tap_done();
}
