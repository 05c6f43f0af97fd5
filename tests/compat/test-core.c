/* SPDX-License-Identifier: MIT */
/*
 * The core of the libvirt-compatible libvirt.so.0: errors, objects and
 * connections, against the private daemons (VRPC_TEST_DIR; skips without).
 *
 * Built with libvirt's public headers and linked against virtrpc's
 * libvirt.so.0; run-core.sh also runs it on the system's libvirt.so.0 (the
 * loader's path first) and compares the transcripts: every line starting
 * with "# T " must be the same on both libraries, and both must pass the
 * assertions. Assertions hold what libvirt documents or does; the
 * transcript holds codes, domains and the daemon's messages (client-side
 * messages are each library's own words and are left out).
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAP_NO_FD_CHECK
#include "../tap.h"

static char sys_uri[512], ro_uri[512], user_uri[512], secret_uri[512];

/* One transcript line: what a call returned and the thread's last error
 * (code and domain; the message only when the daemon wrote it). */
static void trace(const char *what, long rc, int daemon_msg)
{
    virErrorPtr e = virGetLastError();

    if (!e) {
        printf("# T %s: rc=%ld no error\n", what, rc);
        return;
    }
    printf("# T %s: rc=%ld code=%d domain=%d level=%d%s%s\n", what, rc, e->code, e->domain,
           e->level, daemon_msg ? " msg=" : "", daemon_msg && e->message ? e->message : "");
}

static int err_is(int code, int domain)
{
    virErrorPtr e = virGetLastError();

    return e && e->code == code && e->domain == domain && e->level == VIR_ERR_ERROR && e->message &&
           *e->message;
}

static atomic_int quiet_calls; /* handlers run in every thread */
static void quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
    quiet_calls++;
}

static void test_errors(void)
{
    unsigned long v = 0, tv = 0;
    virError copy;
    int rc;
    virErrorPtr saved;

    TAP_OK(virInitialize() == 0, "virInitialize succeeds");
    rc = virGetVersion(&v, NULL, &tv);
    TAP_OK(rc == 0 && v == LIBVIR_VERSION_NUMBER && tv == v,
           "virGetVersion gives the library's version (%lu)", v);
    TAP_OK(virGetVersion(NULL, NULL, NULL) == -1 && err_is(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE),
           "virGetVersion(NULL) fails with the generic internal error");
    trace("virGetVersion(NULL)", -1, 0);

    virResetLastError();
    TAP_OK(virGetLastError() == NULL, "no last error after virResetLastError");
    TAP_OK(virGetLastErrorCode() == VIR_ERR_OK && virGetLastErrorDomain() == VIR_FROM_NONE,
           "code and domain are 0 without an error");
    TAP_OK(strcmp(virGetLastErrorMessage(), "no error") == 0, "message without an error: %s",
           virGetLastErrorMessage());
    TAP_OK(virCopyLastError(&copy) == VIR_ERR_OK && copy.code == 0 && copy.message == NULL,
           "virCopyLastError without an error copies nothing");
    virResetError(&copy);
    TAP_OK(virCopyLastError(NULL) == -1, "virCopyLastError(NULL) is -1");

    TAP_OK(virDomainGetName(NULL) == NULL && err_is(VIR_ERR_INVALID_DOMAIN, VIR_FROM_DOM),
           "virDomainGetName(NULL): VIR_ERR_INVALID_DOMAIN from DOM");
    TAP_OK(virGetLastErrorCode() == VIR_ERR_INVALID_DOMAIN &&
               virGetLastErrorDomain() == VIR_FROM_DOM,
           "virGetLastErrorCode/Domain give it");
    TAP_OK(virCopyLastError(&copy) == VIR_ERR_INVALID_DOMAIN && copy.message &&
               strcmp(copy.message, virGetLastErrorMessage()) == 0,
           "virCopyLastError copies it");
    virResetError(&copy);
    TAP_OK(copy.code == 0 && copy.message == NULL, "virResetError clears the copy");
    saved = virSaveLastError();
    TAP_OK(saved && saved->code == VIR_ERR_INVALID_DOMAIN && saved->message,
           "virSaveLastError keeps it");
    virResetLastError();
    TAP_OK(saved && saved->code == VIR_ERR_INVALID_DOMAIN && virGetLastError() == NULL,
           "the saved copy outlives virResetLastError");
    virFreeError(saved);
    virFreeError(NULL);

    /* Every invalid-object error, as libvirt's argument checks give them. */
    TAP_OK(virConnectClose(NULL) == -1 && err_is(VIR_ERR_INVALID_CONN, VIR_FROM_NONE),
           "virConnectClose(NULL)");
    trace("virConnectClose(NULL)", -1, 0);
    TAP_OK(virConnectGetType(NULL) == NULL && err_is(VIR_ERR_INVALID_CONN, VIR_FROM_DOMAIN),
           "virConnectGetType(NULL)");
    TAP_OK(virConnectRef(NULL) == -1 && err_is(VIR_ERR_INVALID_CONN, VIR_FROM_DOMAIN),
           "virConnectRef(NULL)");
    TAP_OK(virNetworkLookupByUUIDString(NULL, "x") == NULL &&
               err_is(VIR_ERR_INVALID_CONN, VIR_FROM_NETWORK),
           "virNetworkLookupByUUIDString(NULL conn): the network file's domain");
    TAP_OK(virStoragePoolLookupByUUIDString(NULL, "x") == NULL &&
               err_is(VIR_ERR_INVALID_CONN, VIR_FROM_STORAGE),
           "virStoragePoolLookupByUUIDString(NULL conn)");
    TAP_OK(virSecretLookupByUUIDString(NULL, "x") == NULL &&
               err_is(VIR_ERR_INVALID_CONN, VIR_FROM_SECRET),
           "virSecretLookupByUUIDString(NULL conn)");
    TAP_OK(virNWFilterLookupByUUIDString(NULL, "x") == NULL &&
               err_is(VIR_ERR_INVALID_CONN, VIR_FROM_NWFILTER),
           "virNWFilterLookupByUUIDString(NULL conn)");
    TAP_OK(virDomainFree(NULL) == -1 && err_is(VIR_ERR_INVALID_DOMAIN, VIR_FROM_DOM),
           "virDomainFree(NULL)");
    TAP_OK(virNetworkFree(NULL) == -1 && err_is(VIR_ERR_INVALID_NETWORK, VIR_FROM_NETWORK),
           "virNetworkFree(NULL)");
    TAP_OK(virNetworkPortFree(NULL) == -1 && err_is(VIR_ERR_INVALID_NETWORK_PORT, VIR_FROM_NETWORK),
           "virNetworkPortFree(NULL)");
    TAP_OK(virInterfaceFree(NULL) == -1 && err_is(VIR_ERR_INVALID_INTERFACE, VIR_FROM_INTERFACE),
           "virInterfaceFree(NULL)");
    TAP_OK(virStoragePoolFree(NULL) == -1 && err_is(VIR_ERR_INVALID_STORAGE_POOL, VIR_FROM_STORAGE),
           "virStoragePoolFree(NULL)");
    TAP_OK(virStorageVolFree(NULL) == -1 && err_is(VIR_ERR_INVALID_STORAGE_VOL, VIR_FROM_STORAGE),
           "virStorageVolFree(NULL)");
    TAP_OK(virNodeDeviceFree(NULL) == -1 && err_is(VIR_ERR_INVALID_NODE_DEVICE, VIR_FROM_NODEDEV),
           "virNodeDeviceFree(NULL)");
    TAP_OK(virSecretFree(NULL) == -1 && err_is(VIR_ERR_INVALID_SECRET, VIR_FROM_SECRET),
           "virSecretFree(NULL)");
    TAP_OK(virNWFilterFree(NULL) == -1 && err_is(VIR_ERR_INVALID_NWFILTER, VIR_FROM_NWFILTER),
           "virNWFilterFree(NULL)");
    TAP_OK(virNWFilterBindingFree(NULL) == -1 &&
               err_is(VIR_ERR_INVALID_NWFILTER_BINDING, VIR_FROM_NWFILTER),
           "virNWFilterBindingFree(NULL)");
    TAP_OK(virDomainSnapshotFree(NULL) == -1 &&
               err_is(VIR_ERR_INVALID_DOMAIN_SNAPSHOT, VIR_FROM_DOMAIN_SNAPSHOT),
           "virDomainSnapshotFree(NULL)");
    TAP_OK(virDomainCheckpointFree(NULL) == -1 &&
               err_is(VIR_ERR_INVALID_DOMAIN_CHECKPOINT, VIR_FROM_DOMAIN_CHECKPOINT),
           "virDomainCheckpointFree(NULL)");
    TAP_OK(virSecretGetUsageType(NULL) == -1 && err_is(VIR_ERR_INVALID_SECRET, VIR_FROM_SECRET),
           "virSecretGetUsageType(NULL) is -1");
    TAP_OK(virDomainGetID(NULL) == (unsigned int)-1, "virDomainGetID(NULL) is (unsigned)-1");
    TAP_OK(virDomainSnapshotGetConnect(NULL) == NULL &&
               err_is(VIR_ERR_INVALID_DOMAIN_SNAPSHOT, VIR_FROM_DOMAIN_SNAPSHOT),
           "virDomainSnapshotGetConnect(NULL)");
    TAP_OK(virNetworkPortGetNetwork(NULL) == NULL &&
               err_is(VIR_ERR_INVALID_NETWORK_PORT, VIR_FROM_NETWORK),
           "virNetworkPortGetNetwork(NULL)");
}

/* ---- connections ---- */

static void test_open_failures(void)
{
    char uri[600];
    virConnectPtr c;

    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", "/nonexistent/vrpc-sock");
    c = virConnectOpen(uri);
    TAP_OK(!c && err_is(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC),
           "open on a missing socket: VIR_ERR_SYSTEM_ERROR from RPC");
    trace("open missing socket", c ? 0 : -1, 0);
    c = virConnectOpenReadOnly(uri);
    TAP_OK(!c && err_is(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC), "the same read-only");
    c = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0);
    TAP_OK(!c && err_is(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC), "the same with virConnectOpenAuth");
    c = virConnectOpen("::not a uri");
    TAP_OK(!c && virGetLastError(), "an unparsable URI fails");
    trace("open unparsable URI", c ? 0 : -1, 0);
    /* URIs that parse but libvirt's remote driver cannot use */
    c = virConnectOpen("bogus+scheme://x/y");
    TAP_OK(!c && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_REMOTE), "an unknown transport");
    trace("open unknown transport", c ? 0 : -1, 0);
    c = virConnectOpenReadOnly("test+unix:///default?proxy=zz");
    TAP_OK(!c && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_REMOTE), "an unknown proxy= value");
    trace("open unknown proxy", c ? 0 : -1, 0);
}

struct closecb {
    int called;
    int freed;
};

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    (void)reason;
    ((struct closecb *)opaque)->called++;
}

static void on_close2(virConnectPtr conn, int reason, void *opaque)
{
    on_close(conn, reason, opaque);
}

static void close_free(void *opaque)
{
    ((struct closecb *)opaque)->freed++;
}

static void test_connection(void)
{
    virConnectPtr c, ro;
    char *uri;
    const char *type;
    struct closecb cc = {0, 0};
    int rc;

    c = virConnectOpen(sys_uri);
    TAP_OK(c != NULL, "virConnectOpen %s", sys_uri);
    if (!c)
        return;
    uri = virConnectGetURI(c);
    TAP_OK(uri && strcmp(uri, sys_uri) == 0, "virConnectGetURI is the URI opened (%s)",
           uri ? uri : "NULL");
    free(uri);
    type = virConnectGetType(c);
    TAP_OK(type && strcmp(type, "TEST") == 0, "virConnectGetType: %s", type ? type : "NULL");
    TAP_OK(virConnectGetType(c) == type, "the type is asked once and kept");
    TAP_OK(virConnectIsAlive(c) == 1, "virConnectIsAlive on an open connection");
    TAP_OK(virConnectIsSecure(c) == 1, "a Unix socket is secure");
    TAP_OK(virConnectIsEncrypted(c) == 0, "a Unix socket is not encrypted");

    rc = virConnectSetKeepAlive(c, 5, 3);
    TAP_OK(rc == -1 && err_is(VIR_ERR_INTERNAL_ERROR, VIR_FROM_REMOTE),
           "keepalive without an event loop implementation fails");
    trace("virConnectSetKeepAlive without a loop", rc, 0);

    TAP_OK(virConnectRegisterCloseCallback(c, NULL, NULL, NULL) == -1 &&
               err_is(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN),
           "close callback NULL: VIR_ERR_INVALID_ARG");
    TAP_OK(virConnectRegisterCloseCallback(c, on_close, &cc, close_free) == 0,
           "virConnectRegisterCloseCallback");
    rc = virConnectRegisterCloseCallback(c, on_close2, &cc, NULL);
    TAP_OK(rc == -1 && err_is(VIR_ERR_OPERATION_INVALID, VIR_FROM_REMOTE),
           "a second close callback: VIR_ERR_OPERATION_INVALID");
    rc = virConnectUnregisterCloseCallback(c, on_close2);
    TAP_OK(rc == -1 && err_is(VIR_ERR_OPERATION_INVALID, VIR_FROM_REMOTE),
           "unregistering another callback: VIR_ERR_OPERATION_INVALID");
    TAP_OK(virConnectUnregisterCloseCallback(c, on_close) == 0 && cc.freed == 1 && cc.called == 0,
           "unregistering frees the opaque once, the callback never ran");
    TAP_OK(virConnectRegisterCloseCallback(c, on_close, &cc, close_free) == 0, "registered again");
    /* (libvirt's registration holds a reference to the connection, and
     * libvirt.so deadlocks when the unregistration drops the last one:
     * unregister while the application still holds its own.) */
    TAP_OK(virConnectUnregisterCloseCallback(c, on_close) == 0 && cc.freed == 2 && cc.called == 0,
           "unregistered again: the opaque freed again, the callback never ran");

    /* References: virConnectRef and every object hold the connection. */
    TAP_OK(virConnectRef(c) == 0, "virConnectRef");
    TAP_OK(virConnectClose(c) == 1, "virConnectClose with a reference left is 1");
    TAP_OK(virConnectIsAlive(c) == 1, "still alive");
    TAP_OK(virConnectClose(c) == 0, "the last virConnectClose is 0");

    ro = virConnectOpenReadOnly(ro_uri);
    TAP_OK(ro != NULL, "virConnectOpenReadOnly on the read-only socket");
    if (ro) {
        type = virConnectGetType(ro);
        TAP_OK(type && strcmp(type, "TEST") == 0, "read-only: type %s", type ? type : "NULL");
        TAP_OK(virConnectClose(ro) == 0, "closed");
    }
    /* No URI: $LIBVIRT_DEFAULT_URI, and virConnectGetURI gives it. */
    setenv("LIBVIRT_DEFAULT_URI", sys_uri, 1);
    c = virConnectOpen(NULL);
    unsetenv("LIBVIRT_DEFAULT_URI");
    TAP_OK(c != NULL, "virConnectOpen(NULL) with LIBVIRT_DEFAULT_URI");
    if (c) {
        uri = virConnectGetURI(c);
        TAP_OK(uri && strcmp(uri, sys_uri) == 0, "its URI is the default one");
        free(uri);
        virConnectClose(c);
    }
    ro = virConnectOpenAuth(sys_uri, virConnectAuthPtrDefault, VIR_CONNECT_RO);
    TAP_OK(ro != NULL, "virConnectOpenAuth(VIR_CONNECT_RO) with the default callback");
    if (ro)
        virConnectClose(ro);
}

static void test_objects(void)
{
    virConnectPtr c = virConnectOpen(sys_uri);
    virDomainPtr d, d2;
    char buf[VIR_UUID_STRING_BUFLEN];
    unsigned char u[VIR_UUID_BUFLEN];
    const char *uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    void *p;

    if (!c) {
        TAP_OK(0, "open for the objects");
        return;
    }
    p = virDomainLookupByUUIDString(c, NULL);
    TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN), "uuidstr NULL: VIR_ERR_INVALID_ARG");
    p = virDomainLookupByUUIDString(c, "zz");
    TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN), "bad UUID: VIR_ERR_INVALID_ARG");
    p = virDomainLookupByUUIDString(c, "6695eb01-f6a4-8304-79aa-97f2502e193");
    TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN), "short UUID: VIR_ERR_INVALID_ARG");
    p = virDomainLookupByUUIDString(c, "6695eb01-f6a4-8304-79aa-97f2502e193f0");
    TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN), "long UUID: VIR_ERR_INVALID_ARG");
    p = virDomainLookupByUUIDString(c, "00000000-0000-0000-0000-000000000000");
    TAP_OK(!p && err_is(VIR_ERR_NO_DOMAIN, VIR_FROM_TEST), "unknown UUID: the daemon's NO_DOMAIN");
    trace("virDomainLookupByUUIDString unknown", -1, 1);
    TAP_OK(virConnGetLastError(c) && virConnGetLastError(c)->code == VIR_ERR_NO_DOMAIN,
           "the connection's last error holds it");

    d = virDomainLookupByUUIDString(c, uuid);
    TAP_OK(d != NULL, "lookup by UUID string with dashes");
    d2 = virDomainLookupByUUIDString(c, " 6695eb01f6a4830479aa97f2502e193F\n");
    TAP_OK(d2 != NULL, "without dashes, upper case, white space around");
    if (d && d2) {
        TAP_OK(strcmp(virDomainGetName(d), "test") == 0 && virDomainGetID(d) == 1,
               "name test, ID 1");
        TAP_OK(virDomainGetUUIDString(d2, buf) == 0 && strcmp(buf, uuid) == 0,
               "virDomainGetUUIDString: %s", buf);
        TAP_OK(virDomainGetUUID(d, u) == 0 && u[0] == 0x66 && u[15] == 0x3f, "virDomainGetUUID");
        TAP_OK(virDomainGetUUID(d, NULL) == -1 && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN),
               "virDomainGetUUID(NULL buffer): VIR_ERR_INVALID_ARG");
        TAP_OK(virDomainGetUUIDString(d, NULL) == -1 &&
                   err_is(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN),
               "virDomainGetUUIDString(NULL buffer): VIR_ERR_INVALID_ARG");
        TAP_OK(virDomainGetConnect(d) == c, "virDomainGetConnect is the connection");
        TAP_OK(virDomainRef(d) == 0 && virDomainFree(d) == 0, "virDomainRef then Free");
        /* The domain holds the connection. */
        TAP_OK(virConnectClose(c) == 1, "virConnectClose with live domains is 1");
        TAP_OK(strcmp(virDomainGetName(d), "test") == 0, "the domain still works");
        TAP_OK(virDomainFree(d2) == 0, "virDomainFree");
        TAP_OK(virDomainFree(d) == 0, "the last virDomainFree closes the connection");
        return;
    }
    virConnectClose(c);
}

static void test_lookups_elsewhere(void)
{
    virConnectPtr c = virConnectOpen(sys_uri);
    virConnectPtr s = virConnectOpen(secret_uri);
    virNetworkPtr net = NULL;
    void *p;

    if (c) {
        p = virNetworkLookupByUUIDString(c, "zz");
        TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_NETWORK),
               "network: bad UUID, VIR_ERR_INVALID_ARG from NETWORK");
        p = virNetworkLookupByUUIDString(c, "00000000-0000-0000-0000-000000000001");
        TAP_OK(!p && err_is(VIR_ERR_NO_NETWORK, VIR_FROM_TEST), "network: unknown UUID");
        trace("virNetworkLookupByUUIDString unknown", -1, 1);
        p = virStoragePoolLookupByUUIDString(c, "zz");
        TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_STORAGE), "pool: bad UUID");
        p = virStoragePoolLookupByUUIDString(c, "00000000-0000-0000-0000-000000000001");
        TAP_OK(!p && virGetLastErrorCode() == VIR_ERR_NO_STORAGE_POOL, "pool: unknown UUID");
        trace("virStoragePoolLookupByUUIDString unknown", -1, 1);
        p = virNWFilterLookupByUUIDString(c, "zz");
        TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_NWFILTER), "nwfilter: bad UUID");
        p = virNWFilterLookupByUUIDString(c, "00000000-0000-0000-0000-000000000001");
        TAP_OK(!p && virGetLastError(), "nwfilter: the test driver has none");
        trace("virNWFilterLookupByUUIDString unknown", -1, 1);
        p = virNetworkPortLookupByUUIDString(NULL, "zz");
        TAP_OK(!p && err_is(VIR_ERR_INVALID_NETWORK, VIR_FROM_NETWORK), "port: NULL network");
        (void)net;
        virConnectClose(c);
    }
    TAP_OK(s != NULL, "open %s", secret_uri);
    if (s) {
        p = virSecretLookupByUUIDString(s, "zz");
        TAP_OK(!p && err_is(VIR_ERR_INVALID_ARG, VIR_FROM_SECRET), "secret: bad UUID");
        p = virSecretLookupByUUIDString(s, "00000000-0000-0000-0000-000000000001");
        TAP_OK(!p && err_is(VIR_ERR_NO_SECRET, VIR_FROM_SECRET), "secret: unknown UUID");
        trace("virSecretLookupByUUIDString unknown", -1, 1);
        virConnectClose(s);
    }
}

static int conn_handler_calls;
static void conn_handler(void *data, virErrorPtr err)
{
    (void)data;
    if (err && err->code == VIR_ERR_NO_DOMAIN)
        conn_handler_calls++;
}

static void test_handlers(void)
{
    virConnectPtr c = virConnectOpen(sys_uri);
    virError copy;
    int before;
    char buf[512] = "";
    int fds[2], saved;
    ssize_t n;

    if (!c) {
        TAP_OK(0, "open for the handlers");
        return;
    }
    before = quiet_calls;
    virDomainLookupByUUIDString(c, "zz");
    TAP_OK(quiet_calls == before + 1, "the global handler runs once per failed call");
    virConnSetErrorFunc(c, NULL, conn_handler);
    virDomainLookupByUUIDString(c, "00000000-0000-0000-0000-000000000000");
    TAP_OK(conn_handler_calls == 1 && quiet_calls == before + 1,
           "the connection's handler replaces the global one");
    TAP_OK(virConnCopyLastError(c, &copy) == VIR_ERR_NO_DOMAIN && copy.message,
           "virConnCopyLastError");
    virResetError(&copy);
    virConnResetLastError(c);
    TAP_OK(virConnGetLastError(c)->code == VIR_ERR_OK, "virConnResetLastError clears it");
    TAP_OK(virConnCopyLastError(c, &copy) == VIR_ERR_OK, "nothing to copy then");
    TAP_OK(virConnCopyLastError(NULL, &copy) == -1 && virConnGetLastError(NULL) == NULL,
           "the connection error functions on NULL");
    virConnSetErrorFunc(c, NULL, NULL);

    /* The default handler: prints on stderr. */
    virSetErrorFunc(NULL, NULL);
    fflush(stderr);
    if (pipe(fds) == 0) {
        saved = dup(2);
        dup2(fds[1], 2);
        virDomainLookupByUUIDString(c, "00000000-0000-0000-0000-000000000000");
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        close(fds[1]);
        n = read(fds[0], buf, sizeof(buf) - 1);
        close(fds[0]);
        buf[n > 0 ? n : 0] = '\0';
        if (n > 0 && buf[n - 1] == '\n')
            buf[n - 1] = '\0';
        TAP_OK(strncmp(buf, "libvirt: Test Driver error : ", 29) == 0,
               "the default handler's line: %s", buf);
        printf("# T default handler: %s\n", buf);
    }
    virSetErrorFunc(NULL, quiet);
    virConnectClose(c);
}

/* ---- the thread's last error ---- */

#define NTHREADS 4
#define NLOOPS 200

static void *thread_main(void *arg)
{
    virConnectPtr c = arg;
    intptr_t bad = 0;

    for (int i = 0; i < NLOOPS; i++) {
        /* Each thread makes its own kind of failure and must see it. */
        if (((uintptr_t)pthread_self() + (unsigned)i) % 2) {
            virDomainLookupByUUIDString(c, "zz");
            if (virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
                bad++;
        } else {
            virNetworkFree(NULL);
            if (virGetLastErrorCode() != VIR_ERR_INVALID_NETWORK)
                bad++;
        }
    }
    return (void *)bad;
}

static void *type_main(void *arg)
{
    return (void *)virConnectGetType(arg);
}

static void test_threads(void)
{
    virConnectPtr c = virConnectOpen(sys_uri);
    pthread_t t[NTHREADS];
    intptr_t bad = 0;
    void *r;

    if (!c) {
        TAP_OK(0, "open for the threads");
        return;
    }
    virDomainFree(NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, thread_main, c);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], &r);
        bad += (intptr_t)r;
    }
    TAP_OK(bad == 0, "%d threads each saw their own last error (%ld wrong)", NTHREADS, (long)bad);
    TAP_OK(virGetLastErrorCode() == VIR_ERR_INVALID_DOMAIN,
           "the main thread's error is untouched by the others");
    virConnectClose(c);

    /* The type asked by several threads at once: one string for all. */
    c = virConnectOpen(sys_uri);
    if (c) {
        void *types[NTHREADS];
        int same = 1;

        for (int i = 0; i < NTHREADS; i++)
            pthread_create(&t[i], NULL, type_main, c);
        for (int i = 0; i < NTHREADS; i++)
            pthread_join(t[i], &types[i]);
        for (int i = 0; i < NTHREADS; i++)
            same = same && types[i] && strcmp(types[i], "TEST") == 0;
        TAP_OK(same, "virConnectGetType from %d threads at once: TEST for each", NTHREADS);
        /* libvirt.so may ask twice and keep the last answer; virtrpc's
         * keeps the first, so every caller has the one string. */
        if (dlsym(RTLD_DEFAULT, "compat_reset")) {
            for (int i = 0; i < NTHREADS; i++)
                same = same && types[i] == virConnectGetType(c);
            TAP_OK(same, "the one kept string for each (virtrpc's library)");
        }
        virConnectClose(c);
    }
}

int main(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    const char *prefix = getenv("VRPC_TAP_PREFIX");

    if (prefix && *prefix) {
        /* run-core.sh: unnumbered lines, each named after the library */
        tap_plain = 1;
        tap_prefix = prefix;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    virSetErrorFunc(NULL, quiet);
    test_errors();
    if (!d || !*d) {
        tap_skip("VRPC_TEST_DIR not set: no daemon tests");
        return tap_done();
    }
    snprintf(sys_uri, sizeof(sys_uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", d);
    snprintf(ro_uri, sizeof(ro_uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock-ro", d);
    snprintf(user_uri, sizeof(user_uri), "storage:///session?socket=%s/user/run/libvirt-sock", d);
    snprintf(secret_uri, sizeof(secret_uri), "secret:///session?socket=%s/user/run/libvirt-sock",
             d);
    test_open_failures();
    test_connection();
    test_objects();
    test_lookups_elsewhere();
    test_handlers();
    test_threads();
    return tap_done();
}
