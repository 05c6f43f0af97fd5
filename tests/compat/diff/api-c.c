/* SPDX-License-Identifier: MIT */
/*
 * The differential transcript of a C program linked with -lvirt against the
 * system's libvirt headers (libvirt-dev): the parts of libvirt's API that the
 * bindings hide from their users -- the typed-parameter helpers, the error
 * API (last error, copies, handlers, per-connection errors), references and
 * Free of objects, caller-sized buffers (UUIDs, cpumaps, cell memory) --
 * against the private daemons in $VRPC_DIFF_DIR. run-diff.py runs it on the
 * system's libvirt.so.0 and on the compat libraries and compares what it
 * prints (rules in docs/compat.md: one line per check, "TAG: result";
 * errors print code and domain, and the message when the daemon sent it).
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_test_uri[4096], g_ro_uri[4096], g_storage_uri[4096];
static int g_handled;      /* errors seen by the global handler */
static int g_conn_handled; /* errors seen by the connection's handler */

static void section(const char *name)
{
    printf("== %s\n", name);
    fflush(stdout);
}

/* The thread's last error: code, domain and, when DAEMON, the message. */
static void print_err(const char *tag, int daemon)
{
    virErrorPtr e = virGetLastError();
    if (!e) {
        printf("%s: ERR none\n", tag);
        return;
    }
    printf("%s: ERR code=%d domain=%d", tag, e->code, e->domain);
    if (daemon)
        printf(" msg=%s", e->message ? e->message : "(null)");
    printf("\n");
}

static void print_int(const char *tag, long long r, int daemon)
{
    if (r < 0)
        print_err(tag, daemon);
    else
        printf("%s: %lld\n", tag, r);
}

static void print_str(const char *tag, const char *s, int daemon)
{
    if (!s)
        print_err(tag, daemon);
    else
        printf("%s: '%s'\n", tag, s);
}

static void quiet(void *data, virErrorPtr err)
{
    (void)err;
    (*(int *)data)++;
}

static void print_params(const char *tag, virTypedParameterPtr p, int n)
{
    printf("%s: [", tag);
    for (int i = 0; i < n; i++) {
        printf("%s%s=", i ? ", " : "", p[i].field);
        switch (p[i].type) {
        case VIR_TYPED_PARAM_INT:
            printf("int:%d", p[i].value.i);
            break;
        case VIR_TYPED_PARAM_UINT:
            printf("uint:%u", p[i].value.ui);
            break;
        case VIR_TYPED_PARAM_LLONG:
            printf("llong:%lld", p[i].value.l);
            break;
        case VIR_TYPED_PARAM_ULLONG:
            printf("ullong:%llu", p[i].value.ul);
            break;
        case VIR_TYPED_PARAM_DOUBLE:
            printf("double:%g", p[i].value.d);
            break;
        case VIR_TYPED_PARAM_BOOLEAN:
            printf("bool:%d", p[i].value.b);
            break;
        case VIR_TYPED_PARAM_STRING:
            printf("string:%s", p[i].value.s ? p[i].value.s : "(null)");
            break;
        default:
            printf("type%d", p[i].type);
        }
    }
    printf("]\n");
}

static void typed_params(void)
{
    virTypedParameterPtr p = NULL;
    int n = 0, max = 0;
    section("typed-params");
    print_int("virTypedParamsAddInt", virTypedParamsAddInt(&p, &n, &max, "i", -5), 0);
    print_int("virTypedParamsAddUInt", virTypedParamsAddUInt(&p, &n, &max, "u", 7), 0);
    print_int("virTypedParamsAddLLong", virTypedParamsAddLLong(&p, &n, &max, "l", -(1LL << 40)), 0);
    print_int("virTypedParamsAddULLong", virTypedParamsAddULLong(&p, &n, &max, "ul", 1ULL << 63),
              0);
    print_int("virTypedParamsAddDouble", virTypedParamsAddDouble(&p, &n, &max, "d", 2.5), 0);
    print_int("virTypedParamsAddBoolean", virTypedParamsAddBoolean(&p, &n, &max, "b", 1), 0);
    print_int("virTypedParamsAddString", virTypedParamsAddString(&p, &n, &max, "s", "text"), 0);
    const char *list[] = {"a", "b", NULL};
    print_int("virTypedParamsAddStringList", virTypedParamsAddStringList(&p, &n, &max, "sl", list),
              0);
    print_int("virTypedParamsAddFromString",
              virTypedParamsAddFromString(&p, &n, &max, "fs", VIR_TYPED_PARAM_ULLONG, "12345"), 0);
    print_int("virTypedParamsAddFromString[bad number]",
              virTypedParamsAddFromString(&p, &n, &max, "fs2", VIR_TYPED_PARAM_INT, "x12"), 0);
    print_int("virTypedParamsAddFromString[bad type]",
              virTypedParamsAddFromString(&p, &n, &max, "fs3", 99, "1"), 0);
    print_int("virTypedParamsAddInt[duplicate]", virTypedParamsAddInt(&p, &n, &max, "i", 1), 0);
    char longname[VIR_TYPED_PARAM_FIELD_LENGTH + 8];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    print_int("virTypedParamsAddInt[long name]", virTypedParamsAddInt(&p, &n, &max, longname, 1),
              0);
    printf("count: %d\n", n);
    print_params("params", p, n);

    virTypedParameterPtr g = virTypedParamsGet(p, n, "d");
    printf("virTypedParamsGet: %s\n", g ? g->field : "NULL");
    printf("virTypedParamsGet[missing]: %s\n", virTypedParamsGet(p, n, "zz") ? "found" : "NULL");
    int iv = 0;
    unsigned int uv = 0;
    long long lv = 0;
    unsigned long long ulv = 0;
    double dv = 0;
    int bv = 0;
    const char *sv = NULL;
    int r = virTypedParamsGetInt(p, n, "i", &iv);
    printf("virTypedParamsGetInt: %d %d\n", r, iv);
    r = virTypedParamsGetUInt(p, n, "u", &uv);
    printf("virTypedParamsGetUInt: %d %u\n", r, uv);
    r = virTypedParamsGetLLong(p, n, "l", &lv);
    printf("virTypedParamsGetLLong: %d %lld\n", r, lv);
    r = virTypedParamsGetULLong(p, n, "ul", &ulv);
    printf("virTypedParamsGetULLong: %d %llu\n", r, ulv);
    r = virTypedParamsGetDouble(p, n, "d", &dv);
    printf("virTypedParamsGetDouble: %d %g\n", r, dv);
    r = virTypedParamsGetBoolean(p, n, "b", &bv);
    printf("virTypedParamsGetBoolean: %d %d\n", r, bv);
    r = virTypedParamsGetString(p, n, "s", &sv);
    printf("virTypedParamsGetString: %d %s\n", r, sv ? sv : "NULL");
    r = virTypedParamsGetString(p, n, "missing", &sv);
    printf("virTypedParamsGetString[missing]: %d\n", r);
    r = virTypedParamsGetInt(p, n, "s", &iv);
    if (r < 0)
        print_err("virTypedParamsGetInt[wrong type]", 0);
    else
        printf("virTypedParamsGetInt[wrong type]: %d\n", r);
    r = virTypedParamsGetInt(NULL, 0, "i", &iv);
    printf("virTypedParamsGetInt[empty]: %d\n", r);
    virTypedParamsClear(p, n);
    printf("virTypedParamsClear: done\n");
    virTypedParamsFree(p, 0);
    p = NULL;
    n = max = 0;
    print_int("virTypedParamsAddString[again]", virTypedParamsAddString(&p, &n, &max, "s", "again"),
              0);
    virTypedParamsFree(p, n);
    printf("virTypedParamsFree: done\n");
}

static void errors_api(virConnectPtr conn)
{
    section("errors");
    virResetLastError();
    printf("virGetLastError[after reset]: %s\n", virGetLastError() ? "set" : "NULL");
    printf("virGetLastErrorCode[after reset]: %d\n", virGetLastErrorCode());
    virDomainPtr d = virDomainLookupByName(conn, "nope");
    printf("lookup: %s\n", d ? "found" : "NULL");
    print_err("virGetLastError", 1);
    printf("virGetLastErrorCode: %d\n", virGetLastErrorCode());
    printf("virGetLastErrorDomain: %d\n", virGetLastErrorDomain());
    printf("virGetLastErrorMessage: %s\n", virGetLastErrorMessage());
    virError copy;
    memset(&copy, 0, sizeof(copy));
    int r = virCopyLastError(&copy);
    printf("virCopyLastError: %d code=%d domain=%d level=%d msg=%s\n", r, copy.code, copy.domain,
           copy.level, copy.message ? copy.message : "(null)");
    virResetError(&copy);
    printf("virResetError: code=%d msg=%s\n", copy.code, copy.message ? "set" : "(null)");
    virErrorPtr saved = virSaveLastError();
    printf("virSaveLastError: code=%d domain=%d msg=%s\n", saved ? saved->code : -1,
           saved ? saved->domain : -1, saved && saved->message ? saved->message : "(null)");
    virFreeError(saved);
    virErrorPtr ce = virConnGetLastError(conn);
    printf("virConnGetLastError: code=%d domain=%d\n", ce ? ce->code : -1, ce ? ce->domain : -1);
    memset(&copy, 0, sizeof(copy));
    r = virConnCopyLastError(conn, &copy);
    printf("virConnCopyLastError: %d code=%d\n", r, copy.code);
    virResetError(&copy);
    virConnResetLastError(conn);
    ce = virConnGetLastError(conn);
    printf("virConnResetLastError: code=%d\n", ce ? ce->code : -1);
    /* the connection's handler takes the errors of its connection */
    virConnSetErrorFunc(conn, &g_conn_handled, quiet);
    int before = g_handled;
    d = virDomainLookupByName(conn, "nope2");
    printf("virConnSetErrorFunc: conn handler %d, global handler %d\n", g_conn_handled,
           g_handled - before);
    virConnSetErrorFunc(conn, NULL, NULL);
    d = virDomainLookupByName(conn, "nope3");
    printf("virConnSetErrorFunc[unset]: conn handler %d, global handler %d\n", g_conn_handled,
           g_handled - before);
    /* a client-side argument error */
    d = virDomainLookupByName(NULL, "x");
    print_err("virDomainLookupByName[NULL conn]", 0);
    r = virConnectNumOfDomains(NULL);
    print_int("virConnectNumOfDomains[NULL conn]", r, 0);
    virResetLastError();
    printf("virGetLastErrorMessage[none]: %s\n", virGetLastErrorMessage() ? "text" : "NULL");
}

static void objects(virConnectPtr conn)
{
    section("objects");
    print_int("virConnectRef", virConnectRef(conn), 0);
    print_int("virConnectClose[ref]", virConnectClose(conn), 0);
    virDomainPtr d = virDomainLookupByName(conn, "test");
    if (!d) {
        print_err("virDomainLookupByName", 1);
        return;
    }
    print_int("virDomainRef", virDomainRef(d), 0);
    print_int("virDomainFree[ref]", virDomainFree(d), 0);
    printf("virDomainGetConnect: %s\n", virDomainGetConnect(d) == conn ? "same" : "other");
    char uuid[VIR_UUID_STRING_BUFLEN];
    unsigned char raw[VIR_UUID_BUFLEN];
    print_int("virDomainGetUUIDString", virDomainGetUUIDString(d, uuid), 0);
    printf("uuid: %s\n", uuid);
    print_int("virDomainGetUUID", virDomainGetUUID(d, raw), 0);
    printf("raw: %02x%02x..%02x\n", raw[0], raw[1], raw[15]);
    virDomainInfo info;
    print_int("virDomainGetInfo", virDomainGetInfo(d, &info), 0);
    printf("info: state=%d max=%lu mem=%lu vcpus=%d\n", info.state, info.maxMem, info.memory,
           info.nrVirtCpu);
    virVcpuInfo vinfo[4];
    unsigned char maps[4 * 2];
    int nv = virDomainGetVcpus(d, vinfo, 4, maps, 2);
    print_int("virDomainGetVcpus", nv, 1);
    for (int i = 0; i < nv; i++)
        printf("vcpu %d: state=%d cpu=%d map=%02x%02x\n", vinfo[i].number, vinfo[i].state,
               vinfo[i].cpu, maps[i * 2], maps[i * 2 + 1]);
    unsigned long long cells[4];
    int nc = virNodeGetCellsFreeMemory(conn, cells, 0, 4);
    print_int("virNodeGetCellsFreeMemory", nc, 1);
    for (int i = 0; i < nc; i++)
        printf("cell %d: %llu\n", i, cells[i]);
    int np = 0;
    char *sched = virDomainGetSchedulerType(d, &np);
    print_str("virDomainGetSchedulerType", sched, 1);
    printf("nparams: %d\n", np);
    free(sched);
    virTypedParameter sp[4];
    int nsp = 0;
    memset(sp, 0, sizeof(sp));
    print_int("virDomainGetMemoryParameters[count]",
              virDomainGetMemoryParameters(d, NULL, &nsp, 0) == 0 ? nsp : -1, 1);
    nsp = nsp > 4 ? 4 : nsp;
    if (virDomainGetMemoryParameters(d, sp, &nsp, 0) == 0)
        print_params("virDomainGetMemoryParameters", sp, nsp);
    else
        print_err("virDomainGetMemoryParameters", 1);
    if (virDomainGetCPUStats(d, NULL, 0, -1, 1, 0) >= 0)
        printf("virDomainGetCPUStats[count]: ok\n");
    else
        print_err("virDomainGetCPUStats[count]", 1);
    virDomainPtr *doms = NULL;
    int nd = virConnectListAllDomains(conn, &doms, 0);
    print_int("virConnectListAllDomains", nd, 1);
    for (int i = 0; i < nd; i++) {
        printf("domain %s\n", virDomainGetName(doms[i]));
        virDomainFree(doms[i]);
    }
    free(doms);
    int ids[8];
    print_int("virConnectListDomains", virConnectListDomains(conn, ids, 8), 1);
    char *names[8];
    int nn = virConnectListDefinedDomains(conn, names, 8);
    print_int("virConnectListDefinedDomains", nn, 1);
    for (int i = 0; i < nn; i++)
        free(names[i]);
    char *xml = virDomainGetXMLDesc(d, 0);
    printf("virDomainGetXMLDesc: %s\n", xml ? "xml" : "NULL");
    free(xml);
    char *os = virDomainGetOSType(d);
    print_str("virDomainGetOSType", os, 1);
    free(os);
    virNetworkPtr n = virNetworkLookupByName(conn, "default");
    if (n) {
        printf("virNetworkGetConnect: %s\n", virNetworkGetConnect(n) == conn ? "same" : "other");
        print_int("virNetworkRef", virNetworkRef(n), 0);
        print_int("virNetworkFree[ref]", virNetworkFree(n), 0);
        char *br = virNetworkGetBridgeName(n);
        print_str("virNetworkGetBridgeName", br, 1);
        free(br);
        print_int("virNetworkFree", virNetworkFree(n), 0);
    } else {
        print_err("virNetworkLookupByName", 1);
    }
    print_int("virDomainFree", virDomainFree(d), 0);
    print_int("virDomainFree[NULL]", virDomainFree(NULL), 0);
    print_int("virDomainGetID[NULL]", (long long)virDomainGetID(NULL) == (unsigned int)-1 ? -1 : 0,
              0);
}

static void readonly(void)
{
    section("read-only");
    virConnectPtr ro = virConnectOpenReadOnly(g_ro_uri);
    if (!ro) {
        print_err("virConnectOpenReadOnly", 0);
        return;
    }
    virDomainPtr d = virDomainLookupByName(ro, "test");
    print_int("virDomainSuspend[ro]", d ? virDomainSuspend(d) : -1, 0);
    print_int("virDomainGetID[ro]", d ? (int)virDomainGetID(d) : -1, 1);
    if (d)
        virDomainFree(d);
    print_int("virConnectClose[ro]", virConnectClose(ro), 0);
}

static int auth_cb(virConnectCredentialPtr cred, unsigned int ncred, void *data)
{
    (void)cred;
    (void)ncred;
    (void)data;
    return 0;
}

static void storage(void)
{
    section("storage");
    virConnectPtr st = virConnectOpen(g_storage_uri);
    if (!st) {
        print_err("virConnectOpen[storage]", 0);
        return;
    }
    virStoragePoolPtr *pools = NULL;
    int np = virConnectListAllStoragePools(st, &pools, 0);
    print_int("virConnectListAllStoragePools", np, 1);
    for (int i = 0; i < np; i++)
        virStoragePoolFree(pools[i]);
    free(pools);
    virStoragePoolPtr p = virStoragePoolLookupByName(st, "nope");
    printf("virStoragePoolLookupByName: %s\n", p ? "found" : "NULL");
    print_err("virStoragePoolLookupByName[missing]", 1);
    print_int("virConnectClose[storage]", virConnectClose(st), 0);
}

/* The id a domain object carries across stopping and starting it again:
 * libvirt's client clears it after Destroy, Save and ManagedSave, and takes
 * the new one from CreateWithFlags. A domain of its own, so the others are
 * left as they were. */
static void domain_ids(virConnectPtr conn)
{
    section("domain ids");
    const char *xml = "<domain type='test'><name>ids</name>"
                      "<uuid>6e2b5a4c-9f0d-4c39-9d7e-2f1c0d8a7b31</uuid><memory>8192</memory>"
                      "<os><type>hvm</type></os></domain>";
    virDomainPtr d = virDomainCreateXML(conn, xml, 0);
    if (!d) {
        print_err("virDomainCreateXML[ids]", 1);
        return;
    }
    printf("id after create: %d\n", (int)virDomainGetID(d) > 0);
    print_int("virDomainDestroy", virDomainDestroy(d), 1);
    printf("id after destroy: %d\n", (int)virDomainGetID(d));
    virDomainFree(d);
    virDomainPtr p = virDomainDefineXML(conn, xml);
    if (!p) {
        print_err("virDomainDefineXML[ids]", 1);
        return;
    }
    print_int("virDomainCreateWithFlags", virDomainCreateWithFlags(p, 0), 1);
    printf("id after start: %d\n", (int)virDomainGetID(p) > 0);
    print_int("virDomainManagedSave", virDomainManagedSave(p, 0), 1);
    printf("id after managed save: %d\n", (int)virDomainGetID(p));
    print_int("virDomainManagedSaveRemove", virDomainManagedSaveRemove(p, 0), 1);
    print_int("virDomainUndefine", virDomainUndefine(p), 1);
    virDomainFree(p);
}

int main(void)
{
    const char *d = getenv("VRPC_DIFF_DIR");
    if (!d) {
        fprintf(stderr, "VRPC_DIFF_DIR is not set\n");
        return 2;
    }
    snprintf(g_test_uri, sizeof(g_test_uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock",
             d);
    snprintf(g_ro_uri, sizeof(g_ro_uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock-ro",
             d);
    snprintf(g_storage_uri, sizeof(g_storage_uri),
             "storage+unix:///session?socket=%s/user/run/libvirt-sock", d);

    section("library");
    print_int("virInitialize", virInitialize(), 0);
    unsigned long lib = 0, type = 0;
    int r = virGetVersion(&lib, "Test", &type);
    printf("virGetVersion: %d %s\n", r, lib > 0 && type > 0 ? "set" : "unset");
    virSetErrorFunc(&g_handled, quiet);
    typed_params();

    section("open");
    virConnectPtr conn = virConnectOpen(g_test_uri);
    if (!conn) {
        print_err("virConnectOpen", 0);
        return 1;
    }
    printf("virConnectOpen: connected\n");
    virConnectAuth auth = {
        .credtype = (int[]){VIR_CRED_AUTHNAME}, .ncredtype = 1, .cb = auth_cb, .cbdata = NULL};
    virConnectPtr c2 = virConnectOpenAuth(g_test_uri, &auth, 0);
    printf("virConnectOpenAuth: %s\n", c2 ? "connected" : "failed");
    if (c2)
        print_int("virConnectClose[auth]", virConnectClose(c2), 0);
    c2 = virConnectOpenAuth(g_test_uri, virConnectAuthPtrDefault, 0);
    printf("virConnectOpenAuth[default]: %s\n", c2 ? "connected" : "failed");
    if (c2)
        print_int("virConnectClose[default auth]", virConnectClose(c2), 0);
    c2 = virConnectOpen("test+unix:///default?socket=/nonexistent/sock");
    printf("virConnectOpen[no socket]: %s\n", c2 ? "connected" : "failed");
    if (!c2)
        print_err("virConnectOpen[no socket]", 0);
    else
        virConnectClose(c2);
    char *uri = virConnectGetURI(conn);
    print_str("virConnectGetURI", uri, 1);
    free(uri);
    unsigned long hv = 0;
    print_int("virConnectGetVersion", virConnectGetVersion(conn, &hv), 1);
    printf("hv: %lu\n", hv);
    virNodeInfo ni;
    print_int("virNodeGetInfo", virNodeGetInfo(conn, &ni), 1);
    printf("node: %s %lu %u %u\n", ni.model, ni.memory, ni.cpus, ni.mhz);

    errors_api(conn);
    objects(conn);
    domain_ids(conn);
    readonly();
    storage();

    section("close");
    printf("errors seen by the global handler: %d\n", g_handled);
    print_int("virConnectClose", virConnectClose(conn), 0);

    const char *maps = getenv("VRPC_DIFF_MAPS");
    if (maps) {
        FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(maps, "w");
        char line[4096];
        while (in && out && fgets(line, sizeof(line), in))
            if (strstr(line, "/libvirt") && strstr(line, ".so"))
                fputs(strrchr(line, ' ') + 1, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    return 0;
}
