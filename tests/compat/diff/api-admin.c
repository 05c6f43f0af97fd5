/* SPDX-License-Identifier: MIT */
/*
 * The differential transcript of a C program linked with -lvirt-admin
 * against the system's libvirt headers: libvirt's admin API on the private
 * libvirtd's admin socket in $VRPC_DIFF_DIR (servers, clients, thread
 * pool and client limits, logging settings, invalid objects and
 * arguments). run-diff.py runs it on the system's libvirt-admin.so.0 and on
 * the compat libraries and compares what it prints (docs/compat.md: one
 * line per check, "TAG: result"; errors print code and domain, and the
 * message when the daemon sent it). Values that change from run to run
 * (client ids, timestamps, thread counts that follow the load) are
 * printed as their kind only.
 */
#include <libvirt/libvirt-admin.h>
#include <libvirt/virterror.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void section(const char *name)
{
    printf("== %s\n", name);
    fflush(stdout);
}

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

/* names and types of a typed-parameter list; values only where stable */
static void print_params(const char *tag, virTypedParameterPtr p, int n, int values)
{
    printf("%s: [", tag);
    for (int i = 0; i < n; i++) {
        printf("%s%s:%d", i ? ", " : "", p[i].field, p[i].type);
        if (values && p[i].type == VIR_TYPED_PARAM_UINT)
            printf("=%u", p[i].value.ui);
    }
    printf("]\n");
}

static void quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

int main(void)
{
    const char *d = getenv("VRPC_DIFF_DIR");
    if (!d) {
        fprintf(stderr, "VRPC_DIFF_DIR is not set\n");
        return 2;
    }
    char uri[4096];
    snprintf(uri, sizeof(uri), "libvirtd:///system?socket=%s/sys/run/libvirt-admin-sock", d);
    virSetErrorFunc(NULL, quiet);

    section("library");
    print_int("virAdmInitialize", virAdmInitialize(), 0);
    unsigned long long ver = 0;
    print_int("virAdmGetVersion", virAdmGetVersion(&ver), 0);
    print_int("virAdmGetVersion[null]", virAdmGetVersion(NULL), 0);

    section("open");
    virAdmConnectPtr bad =
        virAdmConnectOpen("libvirtd:///system?socket=/nonexistent/admin-sock", 0);
    printf("virAdmConnectOpen[no socket]: %s\n", bad ? "opened" : "NULL");
    print_err("virAdmConnectOpen[no socket] error", 0);
    virAdmConnectPtr conn = virAdmConnectOpen(uri, 0);
    if (!conn) {
        print_err("virAdmConnectOpen", 1);
        return 1;
    }
    printf("virAdmConnectOpen: ok\n");
    char *u = virAdmConnectGetURI(conn);
    printf("virAdmConnectGetURI: %s\n",
           u && strstr(u, "libvirtd:///system") == u ? "libvirtd:///system..." : "other");
    free(u);
    print_int("virAdmConnectIsAlive", virAdmConnectIsAlive(conn), 0);
    print_int("virAdmConnectIsAlive[null]", virAdmConnectIsAlive(NULL), 0);
    unsigned long long lib = 0;
    int rc = virAdmConnectGetLibVersion(conn, &lib);
    print_int("virAdmConnectGetLibVersion", rc, 1);
    printf("daemon version matches library: %d\n", rc == 0 && lib == ver);
    print_int("virAdmConnectGetLibVersion[null]", virAdmConnectGetLibVersion(conn, NULL), 0);
    print_int("virAdmConnectRef", virAdmConnectRef(conn), 0);
    print_int("virAdmConnectClose[ref]", virAdmConnectClose(conn), 0);

    section("servers");
    virAdmServerPtr *servers = NULL;
    int ns = virAdmConnectListServers(conn, &servers, 0);
    print_int("virAdmConnectListServers", ns, 1);
    /* the daemon's order follows its hash table: print them sorted */
    for (int i = 0; i < ns; i++)
        for (int j = i + 1; j < ns; j++)
            if (strcmp(virAdmServerGetName(servers[j]), virAdmServerGetName(servers[i])) < 0) {
                virAdmServerPtr t = servers[i];
                servers[i] = servers[j];
                servers[j] = t;
            }
    for (int i = 0; i < ns; i++) {
        printf("server %d: %s\n", i, virAdmServerGetName(servers[i]));
        virAdmServerFree(servers[i]);
    }
    free(servers);
    print_int("virAdmConnectListServers[count]", virAdmConnectListServers(conn, NULL, 0), 1);
    print_int("virAdmConnectListServers[bad flags]", virAdmConnectListServers(conn, NULL, 7), 1);
    virAdmServerPtr srv = virAdmConnectLookupServer(conn, "libvirtd", 0);
    printf("virAdmConnectLookupServer: %s\n", srv ? virAdmServerGetName(srv) : "NULL");
    virAdmServerPtr nosrv = virAdmConnectLookupServer(conn, "nosuch", 0);
    printf("virAdmConnectLookupServer[nosuch]: %s\n", nosrv ? "found" : "NULL");
    print_err("virAdmConnectLookupServer[nosuch] error", 1);
    nosrv = virAdmConnectLookupServer(conn, NULL, 0);
    print_err("virAdmConnectLookupServer[null] error", 0);
    nosrv = virAdmConnectLookupServer(NULL, "libvirtd", 0);
    print_err("virAdmConnectLookupServer[no conn] error", 0);
    if (!srv)
        return 1;

    section("threadpool");
    virTypedParameterPtr p = NULL;
    int np = 0;
    rc = virAdmServerGetThreadPoolParameters(srv, &p, &np, 0);
    print_int("virAdmServerGetThreadPoolParameters", rc, 1);
    if (rc == 0)
        print_params("threadpool", p, np, 0);
    virTypedParamsFree(p, np);
    print_int("virAdmServerGetThreadPoolParameters[null]",
              virAdmServerGetThreadPoolParameters(srv, NULL, &np, 0), 0);
    virTypedParameterPtr set = NULL;
    int nset = 0, maxset = 0;
    virTypedParamsAddUInt(&set, &nset, &maxset, VIR_THREADPOOL_WORKERS_MAX, 33);
    print_int("virAdmServerSetThreadPoolParameters",
              virAdmServerSetThreadPoolParameters(srv, set, nset, 0), 1);
    p = NULL;
    np = 0;
    if (virAdmServerGetThreadPoolParameters(srv, &p, &np, 0) == 0) {
        unsigned int v = 0;
        virTypedParamsGetUInt(p, np, VIR_THREADPOOL_WORKERS_MAX, &v);
        printf("maxWorkers after set: %u\n", v);
    }
    virTypedParamsFree(p, np);
    virTypedParamsFree(set, nset);
    set = NULL;
    nset = maxset = 0;
    virTypedParamsAddUInt(&set, &nset, &maxset, VIR_THREADPOOL_WORKERS_MIN, 1000);
    print_int("virAdmServerSetThreadPoolParameters[min above max]",
              virAdmServerSetThreadPoolParameters(srv, set, nset, 0), 1);
    print_int("virAdmServerSetThreadPoolParameters[negative]",
              virAdmServerSetThreadPoolParameters(srv, set, -1, 0), 0);
    virTypedParamsFree(set, nset);

    section("client limits");
    p = NULL;
    np = 0;
    rc = virAdmServerGetClientLimits(srv, &p, &np, 0);
    print_int("virAdmServerGetClientLimits", rc, 1);
    if (rc == 0)
        print_params("limits", p, np, 1);
    virTypedParamsFree(p, np);
    set = NULL;
    nset = maxset = 0;
    virTypedParamsAddUInt(&set, &nset, &maxset, VIR_SERVER_CLIENTS_MAX, 150);
    print_int("virAdmServerSetClientLimits", virAdmServerSetClientLimits(srv, set, nset, 0), 1);
    p = NULL;
    np = 0;
    if (virAdmServerGetClientLimits(srv, &p, &np, 0) == 0)
        print_params("limits after set", p, np, 1);
    virTypedParamsFree(p, np);
    virTypedParamsFree(set, nset);
    print_int("virAdmServerUpdateTlsFiles", virAdmServerUpdateTlsFiles(srv, 0), 1);

    section("clients");
    virAdmClientPtr *clients = NULL;
    int nc = virAdmServerListClients(srv, &clients, 0);
    print_int("virAdmServerListClients", nc >= 0 ? 0 : -1, 1);
    for (int i = 0; i < nc; i++)
        virAdmClientFree(clients[i]);
    free(clients);
    virAdmClientPtr nocl = virAdmServerLookupClient(srv, 123456789, 0);
    printf("virAdmServerLookupClient[nosuch]: %s\n", nocl ? "found" : "NULL");
    print_err("virAdmServerLookupClient[nosuch] error", 1);

    section("logging");
    char *outputs = NULL, *filters = NULL;
    rc = virAdmConnectGetLoggingOutputs(conn, &outputs, 0);
    print_int("virAdmConnectGetLoggingOutputs", rc, 1);
    printf("outputs: %s\n", outputs ? outputs : "(null)");
    free(outputs);
    print_int("virAdmConnectSetLoggingFilters",
              virAdmConnectSetLoggingFilters(conn, "1:rpc 3:util", 0), 1);
    rc = virAdmConnectGetLoggingFilters(conn, &filters, 0);
    print_int("virAdmConnectGetLoggingFilters", rc, 1);
    printf("filters: %s\n", filters ? filters : "(null)");
    free(filters);
    print_int("virAdmConnectSetLoggingFilters[bad]",
              virAdmConnectSetLoggingFilters(conn, "9:nothing", 0), 1);
    print_int("virAdmConnectSetLoggingOutputs[bad]",
              virAdmConnectSetLoggingOutputs(conn, "1:nowhere", 0), 1);
    print_int("virAdmConnectSetDaemonTimeout[bad flags]", virAdmConnectSetDaemonTimeout(conn, 0, 1),
              1);

    section("invalid objects");
    print_int("virAdmServerFree[null]", virAdmServerFree(NULL), 0);
    print_int("virAdmClientFree[null]", virAdmClientFree(NULL), 0);
    print_int("virAdmConnectClose[null]", virAdmConnectClose(NULL), 0);
    printf("virAdmServerGetName[null]: %s\n", virAdmServerGetName(NULL) ? "name" : "NULL");
    print_err("virAdmServerGetName[null] error", 0);
    print_int("virAdmClientGetTransport[null]", virAdmClientGetTransport(NULL), 0);
    print_int("virAdmConnectRef[null]", virAdmConnectRef(NULL), 0);
    print_int("virAdmConnectRegisterCloseCallback[null cb]",
              virAdmConnectRegisterCloseCallback(conn, NULL, NULL, NULL), 0);

    section("close");
    print_int("virAdmServerFree", virAdmServerFree(srv), 0);
    print_int("virAdmConnectClose", virAdmConnectClose(conn), 0);

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
