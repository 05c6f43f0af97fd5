/* SPDX-License-Identifier: MIT */
/*
 * Integration: the admin program on the daemon's admin socket, compared with
 * what virt-admin reports for the same daemon.
 */
#include "itest.h"
#include "ittap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static vrpc_conn *a;
static const char *auri;

/* The typed parameter named field of a reply's params, or NULL. */
#define FIND_PARAM(params, name)                                                                   \
    ({                                                                                             \
        __typeof__((params).items) found_ = NULL;                                                  \
        for (uint32_t i_ = 0; i_ < (params).n; i_++)                                               \
            if (strcmp((params).items[i_].field, (name)) == 0)                                     \
                found_ = &(params).items[i_];                                                      \
        found_;                                                                                    \
    })

/* Every typed parameter == the "name : value" virt-admin printed. */
#define CHECK_VS_VADMIN(params, text, what)                                                        \
    do {                                                                                           \
        bool all_ = (params).n > 0;                                                                \
        for (uint32_t i_ = 0; i_ < (params).n; i_++) {                                             \
            char *v_ = it_kv((text), (params).items[i_].field);                                    \
            if (!IT_TP_EQ((params).items[i_].value, v_)) {                                         \
                char *m_ = IT_TP_STR((params).items[i_].value);                                    \
                it_diag("%s: %s = '%s', virt-admin '%s'", (what), (params).items[i_].field, m_,    \
                        v_ ? v_ : "(none)");                                                       \
                free(m_);                                                                          \
                all_ = false;                                                                      \
            }                                                                                      \
            free(v_);                                                                              \
        }                                                                                          \
        TAP_OK(all_, "%s: %u typed params == virt-admin", (what), (params).n);                     \
    } while (0)

static void test_version(void)
{
    vrpc_admin_connect_get_lib_version_ret *r = NULL;
    if (!TAP_OK(IT(vrpc_admin_connect_get_lib_version, a, &r) == 0,
                "admin_connect_get_lib_version"))
        return;
    char *v = it_vadmin_out(auri, "version");
    char *d = it_kv(v, "Running against daemon");
    unsigned x = 0, y = 0, z = 0;
    int n = d ? sscanf(d, "%u.%u.%u", &x, &y, &z) : 0;
    uint64_t expect = (uint64_t)x * 1000000 + (uint64_t)y * 1000 + z;
    TAP_OK(n >= 2 && expect == r->libVer, "daemon version %" PRIu64 " == virt-admin '%s'",
           r->libVer, d ? d : "?");
    free(d);
    free(v);
    vrpc_free(r);
}

static void test_servers(void)
{
    vrpc_admin_connect_list_servers_args la = {.need_results = 1, .flags = 0};
    vrpc_admin_connect_list_servers_ret *lr = NULL;
    if (!TAP_OK(IT(vrpc_admin_connect_list_servers, a, &la, &lr) == 0,
                "admin_connect_list_servers"))
        return;
    char *v = it_vadmin_out(auri, "srv-list");
    it_rows rows;
    it_table(v, 2, true, &rows);
    bool all = rows.n == lr->servers.n && lr->ret == lr->servers.n;
    for (uint32_t i = 0; all && i < lr->servers.n; i++) {
        char *id = it_strf("%u", i);
        all = rows.ncols[i] == 2 && strcmp(rows.cols[i][0], id) == 0 &&
              strcmp(rows.cols[i][1], lr->servers.items[i].name) == 0;
        free(id);
    }
    TAP_OK(all, "%u servers (ids, names, order) == virt-admin srv-list (%zu)", lr->servers.n,
           rows.n);
    it_rows_free(&rows);
    free(v);

    for (uint32_t i = 0; i < lr->servers.n; i++) {
        const char *sn = lr->servers.items[i].name;
        vrpc_admin_connect_lookup_server_args sa = {.name = (char *)sn, .flags = 0};
        vrpc_admin_connect_lookup_server_ret *sr = NULL;
        TAP_OK(IT(vrpc_admin_connect_lookup_server, a, &sa, &sr) == 0 &&
                   strcmp(sr->srv.name, sn) == 0,
               "admin_connect_lookup_server %s", sn);

        vrpc_admin_server_get_threadpool_parameters_args ta = {.srv = {.name = (char *)sn},
                                                               .flags = 0};
        vrpc_admin_server_get_threadpool_parameters_ret *tr = NULL;
        if (TAP_OK(IT(vrpc_admin_server_get_threadpool_parameters, a, &ta, &tr) == 0,
                   "%s: admin_server_get_threadpool_parameters", sn)) {
            char *tv = it_vadmin_out(auri, "srv-threadpool-info %s", sn);
            char *what = it_strf("%s thread pool", sn);
            CHECK_VS_VADMIN(tr->params, tv, what);
            free(what);
            free(tv);
        }
        vrpc_free(tr);

        vrpc_admin_server_get_client_limits_args ca = {.srv = {.name = (char *)sn}, .flags = 0};
        vrpc_admin_server_get_client_limits_ret *cr = NULL;
        if (TAP_OK(IT(vrpc_admin_server_get_client_limits, a, &ca, &cr) == 0,
                   "%s: admin_server_get_client_limits", sn)) {
            char *cv = it_vadmin_out(auri, "srv-clients-info %s", sn);
            char *what = it_strf("%s client limits", sn);
            if (strcmp(sn, "admin") == 0) {
                /* virt-admin is one more client of the admin server */
                vrpc_admin_typed_param *nc = FIND_PARAM(cr->params, "nclients");
                char *vn = it_kv(cv, "nclients");
                uint64_t x = 0;
                TAP_OK(nc && it_u64(vn, &x) && x == IT_TP_U(nc->value) + 1,
                       "admin server: virt-admin counts %s clients, we saw %" PRIu64
                       " plus virt-admin's own",
                       vn ? vn : "?", nc ? IT_TP_U(nc->value) : 0);
                free(vn);
                if (nc)
                    nc->value.u.ui++;
            }
            CHECK_VS_VADMIN(cr->params, cv, what);
            free(what);
            free(cv);
        }
        vrpc_free(cr);
        vrpc_free(sr);
    }
    vrpc_free(lr);
}

/* Change maxWorkers of "libvirtd" and put it back, checking with virt-admin. */
static void test_set_threadpool(void)
{
    vrpc_admin_server_get_threadpool_parameters_args ga = {.srv = {.name = "libvirtd"}, .flags = 0};
    vrpc_admin_server_get_threadpool_parameters_ret *gr = NULL;
    if (IT(vrpc_admin_server_get_threadpool_parameters, a, &ga, &gr) != 0)
        return;
    vrpc_admin_typed_param *mw = FIND_PARAM(gr->params, "maxWorkers");
    if (!TAP_OK(mw != NULL && mw->value.type == VRPC_TYPED_PARAM_UINT, "maxWorkers is a uint")) {
        vrpc_free(gr);
        return;
    }
    unsigned orig = mw->value.u.ui;
    for (int step = 0; step < 2; step++) {
        unsigned want = step == 0 ? orig + 3 : orig;
        vrpc_admin_typed_param p;
        memset(&p, 0, sizeof(p));
        p.field = "maxWorkers";
        p.value.type = VRPC_TYPED_PARAM_UINT;
        p.value.u.ui = want;
        vrpc_admin_server_set_threadpool_parameters_args sa = {.srv = {.name = "libvirtd"},
                                                               .flags = 0};
        sa.params.n = 1;
        sa.params.items = &p;
        if (TAP_OK(IT(vrpc_admin_server_set_threadpool_parameters, a, &sa) == 0,
                   "admin_server_set_threadpool_parameters maxWorkers=%u", want)) {
            char *tv = it_vadmin_out(auri, "srv-threadpool-info libvirtd");
            char *v = it_kv(tv, "maxWorkers");
            char *m = it_strf("%u", want);
            TAP_OK(v && strcmp(v, m) == 0, "virt-admin sees maxWorkers %s", v ? v : "?");
            free(m);
            free(v);
            free(tv);
        }
    }
    vrpc_free(gr);
}

/* Change nclients_max of "libvirtd" and put it back. */
static void test_set_client_limits(void)
{
    vrpc_admin_server_get_client_limits_args ga = {.srv = {.name = "libvirtd"}, .flags = 0};
    vrpc_admin_server_get_client_limits_ret *gr = NULL;
    if (IT(vrpc_admin_server_get_client_limits, a, &ga, &gr) != 0)
        return;
    vrpc_admin_typed_param *mx = FIND_PARAM(gr->params, "nclients_max");
    if (!TAP_OK(mx != NULL && mx->value.type == VRPC_TYPED_PARAM_UINT, "nclients_max is a uint")) {
        vrpc_free(gr);
        return;
    }
    unsigned orig = mx->value.u.ui;
    for (int step = 0; step < 2; step++) {
        unsigned want = step == 0 ? orig - 1 : orig;
        vrpc_admin_typed_param p;
        memset(&p, 0, sizeof(p));
        p.field = "nclients_max";
        p.value.type = VRPC_TYPED_PARAM_UINT;
        p.value.u.ui = want;
        vrpc_admin_server_set_client_limits_args sa = {.srv = {.name = "libvirtd"}, .flags = 0};
        sa.params.n = 1;
        sa.params.items = &p;
        if (TAP_OK(IT(vrpc_admin_server_set_client_limits, a, &sa) == 0,
                   "admin_server_set_client_limits nclients_max=%u", want)) {
            char *cv = it_vadmin_out(auri, "srv-clients-info libvirtd");
            char *v = it_kv(cv, "nclients_max");
            char *m = it_strf("%u", want);
            TAP_OK(v && strcmp(v, m) == 0, "virt-admin sees nclients_max %s", v ? v : "?");
            free(m);
            free(v);
            free(cv);
        }
    }
    vrpc_free(gr);
}

static void fmt_time(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S+0000", &tm);
}

/* Clients of "libvirtd": our own remote connections. */
static void test_clients(void)
{
    vrpc_conn *r1 = NULL, *r2 = NULL;
    int rc1 = vrpc_conn_open(&r1, it_sys_uri(), 0, it_errp());
    int rc2 = vrpc_conn_open(&r2, it_sys_ro_uri(), VRPC_OPEN_READONLY, it_errp());
    if (!TAP_OK(rc1 == 0 && rc2 == 0, "two remote connections to the daemon (rw, ro)")) {
        vrpc_conn_close(r1);
        vrpc_conn_close(r2);
        return;
    }
    vrpc_admin_server_list_clients_args la = {
        .srv = {.name = "libvirtd"}, .need_results = 1, .flags = 0};
    vrpc_admin_server_list_clients_ret *lr = NULL;
    if (!TAP_OK(IT(vrpc_admin_server_list_clients, a, &la, &lr) == 0,
                "admin_server_list_clients libvirtd"))
        goto out;
    char *v = it_vadmin_out(auri, "srv-clients-list libvirtd");
    it_rows rows;
    it_table(v, 3, true, &rows);
    bool all = rows.n == lr->clients.n && lr->ret == lr->clients.n;
    for (uint32_t i = 0; i < lr->clients.n; i++) {
        vrpc_admin_nonnull_client *cl = &lr->clients.items[i];
        char *id = it_strf("%" PRIu64, cl->id);
        long row = it_rows_find(&rows, 0, id);
        char when[64];
        fmt_time(cl->timestamp, when, sizeof(when));
        const char *tr = cl->transport == VRPC_CLIENT_TRANS_UNIX  ? "unix"
                         : cl->transport == VRPC_CLIENT_TRANS_TCP ? "tcp"
                                                                  : "tls";
        if (row < 0 || rows.ncols[row] != 3 || strcmp(rows.cols[row][1], tr) != 0 ||
            strcmp(rows.cols[row][2], when) != 0) {
            it_diag("client %s %s %s not in virt-admin's list", id, tr, when);
            all = false;
        }
        free(id);
    }
    TAP_OK(all && lr->clients.n >= 2,
           "%u clients (ids, transports, connection times) == virt-admin srv-clients-list (%zu)",
           lr->clients.n, rows.n);
    it_rows_free(&rows);
    free(v);

    /* client info: find our two connections by process id */
    int ours = 0;
    uint64_t rw_id = 0;
    for (uint32_t i = 0; i < lr->clients.n; i++) {
        vrpc_admin_nonnull_client *cl = &lr->clients.items[i];
        vrpc_admin_server_lookup_client_args ca = {
            .srv = {.name = "libvirtd"}, .id = cl->id, .flags = 0};
        vrpc_admin_server_lookup_client_ret *cr = NULL;
        TAP_OK(IT(vrpc_admin_server_lookup_client, a, &ca, &cr) == 0 && cr->clnt.id == cl->id &&
                   cr->clnt.timestamp == cl->timestamp,
               "admin_server_lookup_client %" PRIu64, cl->id);
        vrpc_free(cr);

        vrpc_admin_client_get_info_args ia = {.clnt = *cl, .flags = 0};
        vrpc_admin_client_get_info_ret *ir = NULL;
        if (TAP_OK(IT(vrpc_admin_client_get_info, a, &ia, &ir) == 0,
                   "admin_client_get_info %" PRIu64, cl->id)) {
            char *iv = it_vadmin_out(auri, "client-info libvirtd %" PRIu64, cl->id);
            char *what = it_strf("client %" PRIu64, cl->id);
            /* virt-admin prints booleans as yes/no */
            bool alleq = ir->params.n > 0;
            for (uint32_t k = 0; k < ir->params.n; k++) {
                vrpc_admin_typed_param *p = &ir->params.items[k];
                char *vv = it_kv(iv, p->field);
                bool eq;
                if (p->value.type == VRPC_TYPED_PARAM_BOOLEAN)
                    eq = vv && strcmp(vv, p->value.u.b ? "yes" : "no") == 0;
                else
                    eq = IT_TP_EQ(p->value, vv);
                if (!eq) {
                    char *m = IT_TP_STR(p->value);
                    it_diag("%s: %s = '%s', virt-admin '%s'", what, p->field, m, vv ? vv : "?");
                    free(m);
                    alleq = false;
                }
                free(vv);
            }
            TAP_OK(alleq, "%s: %u identity params == virt-admin client-info", what, ir->params.n);
            vrpc_admin_typed_param *pid = FIND_PARAM(ir->params, "unix_process_id");
            vrpc_admin_typed_param *ro = FIND_PARAM(ir->params, "readonly");
            if (pid && IT_TP_I(pid->value) == (int64_t)getpid()) {
                ours++;
                if (ro && !IT_TP_I(ro->value))
                    rw_id = cl->id;
            }
            free(what);
            free(iv);
        }
        vrpc_free(ir);
    }
    TAP_OK(ours == 2 && rw_id != 0,
           "the daemon shows our two connections (process %ld), one read-only", (long)getpid());

    /* Close our read-write connection from the admin side. */
    if (rw_id) {
        vrpc_admin_nonnull_client cl = {.srv = {.name = "libvirtd"}, .id = rw_id};
        for (uint32_t i = 0; i < lr->clients.n; i++)
            if (lr->clients.items[i].id == rw_id)
                cl = lr->clients.items[i];
        vrpc_admin_client_close_args ca = {.clnt = cl, .flags = 0};
        if (TAP_OK(IT(vrpc_admin_client_close, a, &ca) == 0,
                   "admin_client_close %" PRIu64 " (our read-write connection)", rw_id)) {
            /* The daemon drops it asynchronously: wait until virt-admin agrees. */
            char *id = it_strf("%" PRIu64, rw_id);
            bool gone = false;
            for (int i = 0; i < 50 && !gone; i++) {
                char *lv = it_vadmin_out(auri, "srv-clients-list libvirtd");
                it_rows rr;
                it_table(lv, 3, true, &rr);
                gone = it_rows_find(&rr, 0, id) < 0;
                it_rows_free(&rr);
                free(lv);
                if (!gone)
                    usleep(100000);
            }
            TAP_OK(gone, "virt-admin no longer lists client %s", id);
            free(id);
            vrpc_connect_get_hostname_ret *h = NULL;
            int rc = IT(vrpc_connect_get_hostname, r1, &h);
            TAP_OK(rc != 0 && rc != VRPC_E_REMOTE,
                   "a call on the closed connection fails locally: %d (%s)", rc, vrpc_strerror(rc));
            TAP_OK(vrpc_conn_get_status(r1) != 0, "the connection reports its sticky status %d",
                   vrpc_conn_get_status(r1));
            vrpc_free(h);
        }
    }
    /* the read-only one still works */
    vrpc_connect_get_hostname_ret *h2 = NULL;
    TAP_OK(IT(vrpc_connect_get_hostname, r2, &h2) == 0, "the other connection still works");
    vrpc_free(h2);
    vrpc_free(lr);
out:
    vrpc_conn_close(r1);
    vrpc_conn_close(r2);
}

static void test_logging(void)
{
    vrpc_admin_connect_get_logging_outputs_args oa = {.flags = 0};
    vrpc_admin_connect_get_logging_outputs_ret *orr = NULL;
    if (TAP_OK(IT(vrpc_admin_connect_get_logging_outputs, a, &oa, &orr) == 0,
               "admin_connect_get_logging_outputs")) {
        char *v = it_vadmin_out(auri, "daemon-log-outputs");
        char *lf = it_strf("%s/sys/libvirtd.log", it_dir());
        TAP_OK(v && it_same_text(v, orr->outputs) && orr->noutputs == 1 && strstr(orr->outputs, lf),
               "outputs '%s' (%u) == virt-admin daemon-log-outputs '%s'", orr->outputs,
               orr->noutputs, v ? it_trim(v) : "?");
        free(lf);
        free(v);
    }
    vrpc_free(orr);

    vrpc_admin_connect_get_logging_filters_args fa = {.flags = 0};
    vrpc_admin_connect_get_logging_filters_ret *fr = NULL;
    char *orig = NULL;
    if (TAP_OK(IT(vrpc_admin_connect_get_logging_filters, a, &fa, &fr) == 0,
               "admin_connect_get_logging_filters")) {
        char *v = it_vadmin_out(auri, "daemon-log-filters");
        const char *mine = fr->filters ? fr->filters : "";
        TAP_OK(v && it_same_text(v, mine),
               "filters '%s' (%u) == virt-admin daemon-log-filters '%s'", mine, fr->nfilters,
               v ? it_trim(v) : "?");
        orig = it_strdup(mine);
        free(v);
    }
    vrpc_free(fr);

    /* set a harmless filter and restore */
    vrpc_admin_connect_set_logging_filters_args sa = {.filters = "4:util.file", .flags = 0};
    if (orig && TAP_OK(IT(vrpc_admin_connect_set_logging_filters, a, &sa) == 0,
                       "admin_connect_set_logging_filters '4:util.file'")) {
        /* the daemon shows the filter in its own form ("4:*util.file*") */
        char *v = it_vadmin_out(auri, "daemon-log-filters");
        vrpc_admin_connect_get_logging_filters_ret *f2 = NULL;
        int frc = IT(vrpc_admin_connect_get_logging_filters, a, &fa, &f2);
        const char *back = frc == 0 && f2->filters ? f2->filters : NULL;
        TAP_OK(back && f2->nfilters == 1 && strstr(back, "util.file") && v && it_same_text(v, back),
               "filters read back '%s' == virt-admin '%s'", back ? back : "?",
               v ? it_trim(v) : "?");
        vrpc_free(f2);
        free(v);
        vrpc_admin_connect_set_logging_filters_args ra = {.filters = *orig ? orig : NULL,
                                                          .flags = 0};
        if (TAP_OK(IT(vrpc_admin_connect_set_logging_filters, a, &ra) == 0,
                   "admin_connect_set_logging_filters restores '%s'", orig)) {
            v = it_vadmin_out(auri, "daemon-log-filters");
            TAP_OK(v && it_same_text(v, orig), "virt-admin sees the filters restored");
            free(v);
        }
    }
    /* outputs: set the same output again (no change) */
    vrpc_admin_connect_get_logging_outputs_ret *o2 = NULL;
    if (IT(vrpc_admin_connect_get_logging_outputs, a, &oa, &o2) == 0) {
        vrpc_admin_connect_set_logging_outputs_args so = {.outputs = o2->outputs, .flags = 0};
        if (TAP_OK(IT(vrpc_admin_connect_set_logging_outputs, a, &so) == 0,
                   "admin_connect_set_logging_outputs (the same output)")) {
            char *v = it_vadmin_out(auri, "daemon-log-outputs");
            TAP_OK(v && it_same_text(v, o2->outputs), "virt-admin still sees '%s'", o2->outputs);
            free(v);
        }
    }
    vrpc_free(o2);
    free(orig);
}

/* Calls whose outcome (success or the error) must be virt-admin's. */
static void test_outcomes(void)
{
    vrpc_admin_server_update_tls_files_args ua = {.srv = {.name = "libvirtd"}, .flags = 0};
    int rc = ITQ(vrpc_admin_server_update_tls_files, a, &ua);
    it_cmd r;
    char *qa = it_shq(it_virt_admin()), *qu = it_shq(auri);
    it_sh(&r, "%s -q -c %s server-update-tls libvirtd", qa, qu);
    if (rc == 0)
        TAP_OK(r.status == 0, "admin_server_update_tls_files succeeds like virt-admin");
    else
        TAP_OK(r.status != 0 && it_err() && it_err()->message && strstr(r.err, it_err()->message),
               "admin_server_update_tls_files fails like virt-admin: '%s'",
               it_err() && it_err()->message ? it_err()->message : "?");
    it_cmd_free(&r);

    /* An unknown server: the daemon's error, as virt-admin prints it. */
    vrpc_admin_connect_lookup_server_args la = {.name = "vrpc-no-such-server", .flags = 0};
    vrpc_admin_connect_lookup_server_ret *lr = NULL;
    rc = ITQ(vrpc_admin_connect_lookup_server, a, &la, &lr);
    it_sh(&r, "%s -q -c %s srv-threadpool-info vrpc-no-such-server", qa, qu);
    TAP_OK(rc == VRPC_E_REMOTE && it_err() && it_err()->message && r.status != 0 &&
               strstr(r.err, it_err()->message),
           "lookup of an unknown server fails with virt-admin's message '%s' (code %d)",
           it_err() && it_err()->message ? it_err()->message : "?", it_err() ? it_err()->code : 0);
    it_cmd_free(&r);
    vrpc_free(lr);

    /* daemon timeout 0 = never: same outcome as virt-admin */
    vrpc_admin_connect_set_daemon_timeout_args ta = {.timeout = 0, .flags = 0};
    rc = ITQ(vrpc_admin_connect_set_daemon_timeout, a, &ta);
    it_sh(&r, "%s -q -c %s daemon-timeout --timeout 0", qa, qu);
    TAP_OK((rc == 0) == (r.status == 0),
           "admin_connect_set_daemon_timeout 0: rc %d, virt-admin exit %d", rc, r.status);
    it_cmd_free(&r);

    /* The admin program on the hypervisor socket: the daemon answers the
     * open with "Cannot find program ...", as virt-admin shows it. */
    char *wrong = it_strf("libvirtd:///system?socket=%s/sys/run/libvirt-sock", it_dir());
    vrpc_conn *x = NULL;
    rc = vrpc_conn_open_admin(&x, wrong, 0, it_errp());
    vrpc_error *e = it_err();
    char *qw = it_shq(wrong);
    it_sh(&r, "%s -q -c %s srv-list", qa, qw);
    TAP_OK(rc == VRPC_E_REMOTE && x == NULL && e && e->code == VRPC_ERR_RPC && r.status != 0,
           "admin open on the hypervisor socket is refused by the daemon: %s", it_errstr(e));
    TAP_OK(e && e->message && strstr(r.err, e->message) != NULL,
           "the message is the daemon's, as virt-admin prints it");
    it_cmd_free(&r);
    vrpc_conn_close(x);
    free(qw);
    free(wrong);
    free(qa);
    free(qu);
}

int main(void)
{
    if (!it_start("admin"))
        return 0;
    auri = it_admin_uri();
    int rc = vrpc_conn_open_admin(&a, auri, 0, it_errp());
    if (!TAP_OK(rc == 0, "vrpc_conn_open_admin %s: %s", auri, rc ? it_errstr(it_err()) : "ok")) {
        it_finish();
        return tap_done();
    }
    test_version();
    test_servers();
    test_set_threadpool();
    test_set_client_limits();
    test_clients();
    test_logging();
    test_outcomes();
    vrpc_conn_close(a);
    it_finish();
    return tap_done();
}
