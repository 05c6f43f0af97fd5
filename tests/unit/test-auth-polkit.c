/* SPDX-License-Identifier: MIT */
/*
 * polkit (AUTH_POLKIT) and the choice among the methods the daemon offers,
 * against a scripted fake daemon on a Unix socket: the wire exchange
 * (AUTH_LIST, AUTH_POLKIT with void arguments, {int complete}), complete
 * != 1 refused, a daemon error passed on exactly, auth= choices and
 * libvirt's messages for refused choices, and the failing step.
 */
#include <stdlib.h>

#include "fake-daemon.h"
#include "tap.h"

typedef struct polkit_script {
    int32_t offer[4];
    uint32_t noffer;
    int polkit;            /* 1: complete=1, 0: complete=0, -1: an error */
    size_t polkit_arg_len; /* what AUTH_POLKIT carried */
} polkit_script;

static int polkit_handler(fake_daemon *d, const vrpc_msg_header *h, const uint8_t *payload,
                          size_t len)
{
    polkit_script *s = d->data;
    (void)payload;
    if (h->proc == VRPC_PROC_AUTH_LIST) {
        vrpc_auth_list_ret r;
        r.types.n = s->noffer;
        r.types.items = s->offer;
        return fake_reply(d, h, &vrpc_td_auth_list_ret, &r);
    }
    if (h->proc == VRPC_PROC_AUTH_POLKIT) {
        vrpc_auth_polkit_ret r;
        s->polkit_arg_len = len;
        if (s->polkit < 0)
            return fake_reply_error(
                d, h, VRPC_ERR_AUTH_UNAVAILABLE, VRPC_FROM_POLKIT,
                "authentication unavailable: no polkit agent available to authenticate action "
                "'org.libvirt.unix.manage'",
                "authentication unavailable: %s",
                "no polkit agent available to authenticate action 'org.libvirt.unix.manage'");
        r.complete = s->polkit;
        return fake_reply(d, h, &vrpc_td_auth_polkit_ret, &r);
    }
    return fake_answer_open_close(d, h);
}

typedef struct pcase {
    const char *what;
    const char *params;
    int32_t offer;
    int polkit;
    int want_rc;
    const char *want_seen; /* procedures the daemon saw */
    int want_code, want_domain;
    const char *want_msg; /* the whole message */
} pcase;

static const pcase cases[] = {
    {"polkit offered, complete=1: open", "", VRPC_AUTH_POLKIT, 1, 0, "66 70 1 2", 0, 0, NULL},
    {"auth=polkit, offered: open", "&auth=polkit", VRPC_AUTH_POLKIT, 1, 0, "66 70 1 2", 0, 0, NULL},
    {"polkit complete=0: refused, no CONNECT_OPEN", "", VRPC_AUTH_POLKIT, 0, VRPC_E_AUTH, "66 70",
     VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
     "authentication failed: polkit authentication did not complete (complete = 0)"},
    {"polkit refused by the daemon: its error, exactly", "", VRPC_AUTH_POLKIT, -1, VRPC_E_AUTH,
     "66 70", VRPC_ERR_AUTH_UNAVAILABLE, VRPC_FROM_POLKIT,
     "authentication unavailable: no polkit agent available to authenticate action "
     "'org.libvirt.unix.manage'"},
    {"auth=polkit, daemon offers none: libvirt's refusal", "&auth=polkit", VRPC_AUTH_NONE, 1,
     VRPC_E_AUTH, "66", VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
     "authentication failed: requested authentication type polkit rejected"},
    {"auth=sasl, daemon offers polkit: libvirt's refusal", "&auth=sasl", VRPC_AUTH_POLKIT, 1,
     VRPC_E_AUTH, "66", VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
     "authentication failed: requested authentication type sasl rejected"},
    {"auth=sasl.PLAIN, daemon offers polkit: libvirt's refusal", "&auth=sasl.PLAIN",
     VRPC_AUTH_POLKIT, 1, VRPC_E_AUTH, "66", VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
     "authentication failed: requested authentication type sasl.PLAIN rejected"},
    {"auth=bogus: libvirt's refusal", "&auth=bogus", VRPC_AUTH_POLKIT, 1, VRPC_E_AUTH, "66",
     VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
     "authentication failed: unknown authentication type bogus"},
    {"auth=POLKIT (any case), offered: open", "&auth=POLKIT", VRPC_AUTH_POLKIT, 1, 0, "66 70 1 2",
     0, 0, NULL},
    {"daemon offers none, no auth=: no AUTH_POLKIT", "", VRPC_AUTH_NONE, 1, 0, "66 1 2", 0, 0,
     NULL},
};

static void run_case(const char *dir, const pcase *k)
{
    char path[600], uri[800];
    polkit_script s;
    fake_daemon d;
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    int rc, ok, fds0 = fake_count_fds();

    memset(&s, 0, sizeof(s));
    s.offer[0] = k->offer;
    s.noffer = 1;
    s.polkit = k->polkit;
    snprintf(path, sizeof(path), "%s/sock", dir);
    if (fake_start(&d, path, polkit_handler, &s)) {
        TAP_OK(0, "%s: fake daemon", k->what);
        return;
    }
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s%s", path, k->params);
    rc = vrpc_conn_open(&c, uri, 0, &e);
    if (rc == 0)
        vrpc_conn_close(c);
    fake_finish(&d, path);
    ok = rc == k->want_rc && strcmp(fake_seen(&d), k->want_seen) == 0;
    if (k->want_rc == 0) {
        ok = ok && e == NULL && s.polkit_arg_len == 0;
    } else {
        const char *step = vrpc_open_failed_step(rc, e);
        ok = ok && c == NULL && e && e->code == k->want_code && e->domain == k->want_domain &&
             e->message && strcmp(e->message, k->want_msg) == 0 && step &&
             strcmp(step, "authentication") == 0;
        if (k->polkit < 0) /* the daemon's error: every field as sent */
            ok = ok && e && e->str1 && strcmp(e->str1, "authentication unavailable: %s") == 0 &&
                 e->str2 && strncmp(e->str2, "no polkit agent", 15) == 0 && e->int1 == -1 &&
                 e->int2 == -1 && e->level == VRPC_ERR_ERROR;
        else /* ours: the step in its own member, str1 untouched */
            ok = ok && e && !e->str1 && e->step && strcmp(e->step, "authentication") == 0;
    }
    ok = ok && fake_count_fds() == fds0;
    if (!TAP_OK(ok, "%s", k->what))
        tap_diag("rc %d seen '%s' error %d/%d '%s' str1 '%s' fds %d -> %d", rc, fake_seen(&d),
                 e ? e->code : 0, e ? e->domain : 0, e && e->message ? e->message : "-",
                 e && e->str1 ? e->str1 : "-", fds0, fake_count_fds());
    vrpc_free(e);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    size_t i;

    snprintf(dir, sizeof(dir), "%s/vrpc-polkit-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (!mkdtemp(dir)) {
        printf("1..0 # SKIP no temporary directory\n");
        return 0;
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(dir, &cases[i]);
    rmdir(dir);
    return tap_done();
}
