/* SPDX-License-Identifier: MIT */
/*
 * Migration on virtrpc's libvirt.so.0 (linked against it) through every
 * protocol version and failure path, against the scripted daemons of
 * migrate-daemon.py (ext transport): each scenario's result, error and the
 * steps the daemons saw, and afterwards nothing left behind: no descriptor
 * (tap.h's check at the end), no thread, no child process; under
 * AddressSanitizer no leak either (LeakSanitizer at exit).
 *
 * Usage: test-migrate-leaks MIGRATE-DAEMON.PY
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../testlib.h"

#define V3P "1,3,4,5,6,7,11,12,13"
#define V3 "1,3,4,5,6,7,11,12"
#define V2 "1,3,4,5"
#define V1 "1,4,5"

enum kind { MIGRATE3, MIGRATE3_EXT, MIGRATE3_P2P, MIGRATE, MIGRATE_P2P, MIGRATE2_DXML, TOURI3_P2P };

typedef struct scen {
    const char *name;
    const char *src[3], *dst[3]; /* features, failing procedures, options */
    enum kind kind;
    int code, domain; /* 0, 0: success */
    const char *steps;
} scen;

static const scen scens[] = {
    {"migrate3 params",
     {V3P, "-", "-"},
     {V3P, "-", "-"},
     MIGRATE3,
     0,
     0,
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params dst:finish3_params "
     "src:confirm3_params"},
    {"migrate3 extended param, no params support",
     {V3, "-", "-"},
     {V3, "-", "-"},
     MIGRATE3_EXT,
     VIR_ERR_ARGUMENT_UNSUPPORTED,
     VIR_FROM_DOMAIN,
     ""},
    {"migrate v3",
     {V3, "-", "-"},
     {V3, "-", "-"},
     MIGRATE,
     0,
     0,
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3 src:confirm3"},
    {"migrate v2",
     {V2, "-", "-"},
     {V2, "-", "-"},
     MIGRATE,
     0,
     0,
     "src:get_xml_desc src:get_info dst:prepare2 src:perform dst:finish2"},
    {"migrate v1",
     {V1, "-", "-"},
     {V1, "-", "-"},
     MIGRATE,
     0,
     0,
     "src:get_info dst:prepare src:perform dst:finish"},
    {"begin3 fails",
     {V3, "213", "-"},
     {V3, "-", "-"},
     MIGRATE,
     VIR_ERR_OPERATION_FAILED,
     VIR_FROM_QEMU,
     "src:begin3"},
    {"prepare3 params fails",
     {V3P, "-", "-"},
     {V3P, "303", "-"},
     MIGRATE3,
     VIR_ERR_OPERATION_FAILED,
     VIR_FROM_QEMU,
     "src:begin3_params src:get_state dst:prepare3_params src:confirm3_params"},
    {"perform3 params fails",
     {V3P, "305", "-"},
     {V3P, "-", "-"},
     MIGRATE3,
     VIR_ERR_OPERATION_FAILED,
     VIR_FROM_QEMU,
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params "
     "dst:finish3_params"},
    {"finish3 fails",
     {V3, "-", "-"},
     {V3, "217", "-"},
     MIGRATE,
     VIR_ERR_OPERATION_FAILED,
     VIR_FROM_QEMU,
     "src:begin3 src:get_info dst:prepare3 src:perform3 dst:finish3 src:confirm3"},
    {"confirm3 params fails",
     {V3P, "307", "-"},
     {V3P, "-", "-"},
     MIGRATE3,
     0,
     0,
     "src:begin3_params src:get_state dst:prepare3_params src:perform3_params dst:finish3_params "
     "src:confirm3_params"},
    {"perform fails (v2)",
     {V2, "62", "-"},
     {V2, "-", "-"},
     MIGRATE,
     VIR_ERR_OPERATION_FAILED,
     VIR_FROM_QEMU,
     "src:get_xml_desc src:get_info dst:prepare2 src:perform dst:finish2"},
    {"migrate2 dxml on v1",
     {V1, "-", "-"},
     {V1, "-", "-"},
     MIGRATE2_DXML,
     VIR_ERR_ARGUMENT_UNSUPPORTED,
     VIR_FROM_DOMAIN,
     ""},
    {"toURI3 p2p",
     {V3P, "-", "nocookie"},
     {V3P, "-", "-"},
     TOURI3_P2P,
     0,
     0,
     "src:perform3_params"},
    {"toURI3 p2p, a cookie back",
     {V3P, "-", "-"},
     {V3P, "-", "-"},
     TOURI3_P2P,
     VIR_ERR_INTERNAL_ERROR,
     VIR_FROM_REMOTE,
     "src:perform3_params"},
    {"migrate p2p",
     {V3P, "-", "nocookie"},
     {V3P, "-", "-"},
     MIGRATE_P2P,
     0,
     0,
     "src:perform3_params dst:lookup_by_name"},
    {"migrate3 with the p2p flag",
     {V3P, "-", "-"},
     {V3P, "-", "-"},
     MIGRATE3_P2P,
     VIR_ERR_INVALID_ARG,
     VIR_FROM_DOMAIN,
     ""},
};

static char *work, *daemon_py;

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static char *wrapper(int i, const char *role, const char *const cfg[3], const char *log)
{
    char *path = tl_strf("%s/%s%d", work, role, i);
    FILE *f = fopen(path, "w");
    if (!f)
        return path;
    fprintf(f, "#!/bin/sh\nexec python3 %s %s %s %s %s %s\n", daemon_py, log, role, cfg[0], cfg[1],
            cfg[2]);
    fclose(f);
    chmod(path, 0755);
    return path;
}

/* The role:procedure steps of the log, without feature probes and the
 * test's own lookup on the source. */
static char *steps(const char *log)
{
    char line[8192], *out = calloc(1, 4096);
    FILE *f = fopen(log, "r");
    size_t len = 0;
    if (!f || !out)
        return out;
    while (fgets(line, sizeof(line), f)) {
        char role[16], proc[64];
        if (sscanf(line, "%15s %63s", role, proc) != 2 || strcmp(proc, "supports_feature") == 0 ||
            (strcmp(role, "src") == 0 && strcmp(proc, "lookup_by_name") == 0))
            continue;
        len += (size_t)snprintf(out + len, len < 4096 ? 4096 - len : 0, "%s%s:%s", len ? " " : "",
                                role, proc);
        if (len >= 4096)
            break;
    }
    fclose(f);
    return out;
}

static void ignore(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

static void run(int i, const scen *s)
{
    char *log = tl_strf("%s/log%d", work, i);
    char *sw = wrapper(i, "src", s->src, log), *dw = wrapper(i, "dst", s->dst, log);
    char *suri = tl_strf("test+ext://src/default?command=%s", sw);
    char *duri = tl_strf("test+ext://dst/default?command=%s", dw);
    virConnectPtr sc = virConnectOpen(suri), dc = virConnectOpen(duri);
    virDomainPtr dom = sc ? virDomainLookupByName(sc, "guest") : NULL, dd = NULL;
    virTypedParameterPtr params = NULL;
    int np = 0, maxp = 0, rc = -1;
    unsigned long live = VIR_MIGRATE_LIVE;

    fclose(fopen(log, "w"));
    if (!sc || !dc || !dom) {
        TAP_OK(0, "%s: the scripted daemons answer", s->name);
        goto out;
    }
    virTypedParamsAddString(&params, &np, &maxp, VIR_MIGRATE_PARAM_URI, "tcp://dst:1234");
    switch (s->kind) {
    case MIGRATE3:
        dd = virDomainMigrate3(dom, dc, params, (unsigned)np, (unsigned)live);
        break;
    case MIGRATE3_EXT:
        virTypedParamsAddString(&params, &np, &maxp, VIR_MIGRATE_PARAM_COMPRESSION, "xbzrle");
        dd = virDomainMigrate3(dom, dc, params, (unsigned)np, (unsigned)live);
        break;
    case MIGRATE3_P2P:
        dd = virDomainMigrate3(dom, dc, params, (unsigned)np,
                               (unsigned)(live | VIR_MIGRATE_PEER2PEER));
        break;
    case MIGRATE:
        dd = virDomainMigrate(dom, dc, live, "newname", "tcp://dst:1234", 7);
        break;
    case MIGRATE_P2P:
        dd = virDomainMigrate(dom, dc, live | VIR_MIGRATE_PEER2PEER, NULL, NULL, 0);
        break;
    case MIGRATE2_DXML:
        dd = virDomainMigrate2(dom, dc, "<domain/>", live, NULL, "tcp://dst:1234", 0);
        break;
    case TOURI3_P2P:
        rc = virDomainMigrateToURI3(dom, duri, params, (unsigned)np,
                                    (unsigned)(live | VIR_MIGRATE_PEER2PEER));
        break;
    }
    if (s->kind != TOURI3_P2P)
        rc = dd ? 0 : -1;
    if (s->code == 0) {
        TAP_OK(rc == 0, "%s: succeeds", s->name);
        if (dd)
            TAP_OK(strcmp(virDomainGetName(dd), s->kind == MIGRATE_P2P ? "guest" : "fake") == 0,
                   "%s: the destination's domain %s", s->name, virDomainGetName(dd));
    } else {
        TAP_OK(rc < 0 && virGetLastErrorCode() == s->code && virGetLastErrorDomain() == s->domain,
               "%s: fails with %d/%d (got %d/%d: %s)", s->name, s->code, s->domain,
               virGetLastErrorCode(), virGetLastErrorDomain(), virGetLastErrorMessage());
    }
    char *got = steps(log);
    TAP_OK(got && strcmp(got, s->steps) == 0, "%s: steps [%s]", s->name, got ? got : "");
    free(got);
out:
    virTypedParamsFree(params, np);
    if (dd)
        virDomainFree(dd);
    if (dom)
        virDomainFree(dom);
    if (sc)
        virConnectClose(sc);
    if (dc)
        virConnectClose(dc);
    unlink(log);
    unlink(sw);
    unlink(dw);
    free(log);
    free(sw);
    free(dw);
    free(suri);
    free(duri);
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/vmigl.XXXXXX";
    int threads;

    if (argc < 2) {
        fprintf(stderr, "usage: test-migrate-leaks MIGRATE-DAEMON.PY\n");
        return 2;
    }
    daemon_py = argv[1];
    if (!(work = mkdtemp(tmpl))) {
        TAP_OK(0, "a temporary directory");
        return tap_done();
    }
    virSetErrorFunc(NULL, ignore);
    threads = count_threads();
    for (size_t i = 0; i < sizeof(scens) / sizeof(scens[0]); i++)
        run((int)i, &scens[i]);
    /* the daemons' processes are reaped when their connection closes */
    for (int k = 0; k < 100 && tl_count_children() > 0; k++)
        tl_sleep_ms(50);
    TAP_OK(tl_count_children() == 0, "no daemon process left (%d)", tl_count_children());
    TAP_OK(count_threads() == threads, "no thread left (%d, %d at the start)", count_threads(),
           threads);
    rmdir(work);
    return tap_done();
}
