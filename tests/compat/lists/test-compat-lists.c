/* SPDX-License-Identifier: MIT */
/*
 * The structured lists and other hand-written calls of libvirt.so.0, through
 * libvirt's public API against the private daemons of scripts/test-daemon.sh
 * (VRPC_TEST_DIR; without it the program skips).
 *
 * Built against libvirt's headers and run twice by test-compat-lists.sh: on
 * virtrpc's libvirt.so.0 and on the system's. Each run asserts what it
 * knows of the test driver and writes a transcript (LISTS_TRANSCRIPT) of
 * every result and error code; the script requires both transcripts to be
 * identical.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../tap.h"

static FILE *g_tr;

/*
 * Calls outside this part of the library (generated bodies) that the test
 * only needs to set the daemon up: looked up when the program starts, so
 * the program links and runs on a library that lacks them (those parts are
 * then skipped and the transcripts are not compared).
 */
#define OPTIONAL_CALLS(X)                                                                          \
    X(virDomainSnapshotCreateXML)                                                                  \
    X(virDomainSnapshotDelete)                                                                     \
    X(virDomainCheckpointCreateXML)                                                                \
    X(virDomainCheckpointDelete)                                                                   \
    X(virDomainDefineXML)                                                                          \
    X(virDomainDestroy)                                                                            \
    X(virDomainUndefine)                                                                           \
    X(virSecretDefineXML)                                                                          \
    X(virSecretUndefine)                                                                           \
    X(virStoragePoolCreateXML)                                                                     \
    X(virStoragePoolDestroy)                                                                       \
    X(virStorageVolCreateXML)                                                                      \
    X(virStorageVolDelete)
#define DECLARE(f) static __typeof__(f) *p_##f;
OPTIONAL_CALLS(DECLARE)
#undef DECLARE

static void find_optional(void)
{
#define FIND(f) p_##f = (__typeof__(f) *)dlsym(RTLD_DEFAULT, #f);
    OPTIONAL_CALLS(FIND)
#undef FIND
}

__attribute__((format(printf, 1, 2))) static void tr(const char *fmt, ...)
{
    if (!g_tr)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(g_tr, fmt, ap);
    va_end(ap);
    fputc('\n', g_tr);
}

/* Is s the start of a UUID's text (8-4-4-4-12 hex digits)? */
static int is_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
            return 0;
    }
    return 1;
}

/* The message with every UUID replaced by "UUID" (new objects get new ones). */
static void tr_masked(const char *prefix, const char *msg)
{
    char out[1024];
    size_t o = 0;
    for (const char *p = msg; *p && o + 5 < sizeof(out);) {
        if (is_uuid(p)) {
            memcpy(out + o, "UUID", 4);
            o += 4;
            p += 36;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    tr("%s %s", prefix, out);
}

/* The last error as "code/domain"; with_msg adds the message (for errors
 * the daemon sends: client-side wording is not compared). */
static void tr_err(const char *what, int with_msg)
{
    virErrorPtr e = virGetLastError();
    if (!e) {
        tr("%s: error unset", what);
        return;
    }
    if (with_msg) {
        char prefix[256];
        snprintf(prefix, sizeof(prefix), "%s: error %d/%d", what, e->code, e->domain);
        tr_masked(prefix, e->message ? e->message : "-");
    } else
        tr("%s: error %d/%d", what, e->code, e->domain);
}

static int last_code(void)
{
    virErrorPtr e = virGetLastError();
    return e ? e->code : 0;
}

static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

/* Without the calls the part needs: a skip line and a transcript mark. */
static int missing(const char *part, int have)
{
    if (have)
        return 0;
    tap_skip("%s: the library lacks a call this part needs", part);
    tr("missing: %s", part);
    return 1;
}

/* The domain of that name, found through ListAllDomains. */
static virDomainPtr find_domain(virConnectPtr c, const char *name)
{
    virDomainPtr *doms = NULL, found = NULL;
    int n = virConnectListAllDomains(c, &doms, 0);
    for (int i = 0; i < n; i++) {
        if (!found && strcmp(virDomainGetName(doms[i]), name) == 0)
            found = doms[i];
        else
            virDomainFree(doms[i]);
    }
    free(doms);
    return found;
}

static int is_null_terminated(void **arr, int n)
{
    return arr && arr[n] == NULL;
}

static void test_lists(virConnectPtr c)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(c, &doms, 0);
    tap_ok(n >= 1 && is_null_terminated((void **)doms, n), "ListAllDomains: %d, NULL-terminated",
           n);
    int found = 0;
    for (int i = 0; i < n; i++) {
        tr("domain %s id %d", virDomainGetName(doms[i]), virDomainGetID(doms[i]));
        found += strcmp(virDomainGetName(doms[i]), "test") == 0;
        virDomainFree(doms[i]);
    }
    free(doms);
    tap_ok(found == 1, "ListAllDomains names the test domain");
    tap_ok(virConnectListAllDomains(c, NULL, 0) == n, "ListAllDomains with NULL counts only");
    n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_INACTIVE);
    tr("inactive domains %d", n);
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);

    doms = (virDomainPtr *)&n; /* not NULL: must be reset on failure */
    tap_ok(virConnectListAllDomains(NULL, &doms, 0) == -1 && doms == NULL &&
               last_code() == VIR_ERR_INVALID_CONN,
           "ListAllDomains(NULL conn): -1, INVALID_CONN, result reset");
    tr_err("ListAllDomains(NULL)", 0);

    virNetworkPtr *nets = NULL;
    n = virConnectListAllNetworks(c, &nets, 0);
    tap_ok(n == 1 && is_null_terminated((void **)nets, n) &&
               strcmp(virNetworkGetName(nets[0]), "default") == 0,
           "ListAllNetworks: the default network");
    for (int i = 0; i < n; i++) {
        tr("network %s", virNetworkGetName(nets[i]));
        virNetworkPortPtr *ports = NULL;
        int np = virNetworkListAllPorts(nets[i], &ports, 0);
        tap_ok(np == -1 && last_code() == VIR_ERR_NO_SUPPORT,
               "NetworkListAllPorts: the test driver has none (NO_SUPPORT)");
        tr_err("ListAllPorts", 1);
        virNetworkDHCPLeasePtr *leases = NULL;
        int nl = virNetworkGetDHCPLeases(nets[i], NULL, &leases, 0);
        tr("leases %d", nl);
        if (nl < 0)
            tr_err("GetDHCPLeases", 1);
        for (int j = 0; j < nl; j++) {
            tr("lease %s %s", leases[j]->iface, leases[j]->ipaddr);
            virNetworkDHCPLeaseFree(leases[j]);
        }
        free(leases);
        virNetworkFree(nets[i]);
    }
    free(nets);

    virInterfacePtr *ifs = NULL;
    n = virConnectListAllInterfaces(c, &ifs, 0);
    tap_ok(n >= 1 && is_null_terminated((void **)ifs, n), "ListAllInterfaces: %d", n);
    for (int i = 0; i < n; i++) {
        tr("interface %s %s", virInterfaceGetName(ifs[i]), virInterfaceGetMACString(ifs[i]));
        virInterfaceFree(ifs[i]);
    }
    free(ifs);

    virStoragePoolPtr *pools = NULL;
    n = virConnectListAllStoragePools(c, &pools, 0);
    tap_ok(n >= 1 && is_null_terminated((void **)pools, n), "ListAllStoragePools: %d", n);
    for (int i = 0; i < n; i++) {
        tr("pool %s", virStoragePoolGetName(pools[i]));
        virStorageVolPtr *vols = NULL;
        int nv = virStoragePoolListAllVolumes(pools[i], &vols, 0);
        tap_ok(nv >= 0 && is_null_terminated((void **)vols, nv),
               "StoragePoolListAllVolumes(%s): %d", virStoragePoolGetName(pools[i]), nv);
        for (int j = 0; j < nv; j++) {
            tr("volume %s %s", virStorageVolGetName(vols[j]), virStorageVolGetKey(vols[j]));
            virStorageVolFree(vols[j]);
        }
        free(vols);
        virStoragePoolFree(pools[i]);
    }
    free(pools);

    virNodeDevicePtr *devs = NULL;
    n = virConnectListAllNodeDevices(c, &devs, 0);
    tap_ok(n >= 2 && is_null_terminated((void **)devs, n), "ListAllNodeDevices: %d", n);
    int parents = 0;
    for (int i = 0; i < n; i++) {
        const char *p = virNodeDeviceGetParent(devs[i]);
        const char *p2 = virNodeDeviceGetParent(devs[i]);
        parents += p != NULL;
        tap_ok(p == p2, "NodeDeviceGetParent(%s) is cached on the object",
               virNodeDeviceGetName(devs[i]));
        tr("nodedev %s parent %s", virNodeDeviceGetName(devs[i]), p ? p : "(none)");
        virNodeDeviceFree(devs[i]);
    }
    free(devs);
    tap_ok(parents >= 1, "some node device has a parent");

    virSecretPtr *secs = NULL;
    n = virConnectListAllSecrets(c, &secs, 0);
    tap_ok(n == -1 && secs == NULL && last_code() == VIR_ERR_NO_SUPPORT,
           "ListAllSecrets on the test driver: NO_SUPPORT");
    tr_err("ListAllSecrets", 1);
    virNWFilterPtr *filters = NULL;
    n = virConnectListAllNWFilters(c, &filters, 0);
    tr("nwfilters %d", n);
    tr_err("ListAllNWFilters", 1);
    virNWFilterBindingPtr *bindings = NULL;
    n = virConnectListAllNWFilterBindings(c, &bindings, 0);
    tr("bindings %d", n);
    tr_err("ListAllNWFilterBindings", 1);
}

static void test_snapshots(virConnectPtr c)
{
    virDomainPtr dom = find_domain(c, "test");
    if (!tap_ok(dom != NULL, "the test domain is listed"))
        return;
    if (missing("snapshots and checkpoints",
                p_virDomainSnapshotCreateXML && p_virDomainSnapshotDelete &&
                    p_virDomainCheckpointCreateXML && p_virDomainCheckpointDelete)) {
        virDomainFree(dom);
        return;
    }
    virDomainSnapshotPtr s1 = p_virDomainSnapshotCreateXML(
        dom, "<domainsnapshot><name>lists-s1</name></domainsnapshot>", 0);
    virDomainSnapshotPtr s2 = p_virDomainSnapshotCreateXML(
        dom, "<domainsnapshot><name>lists-s2</name></domainsnapshot>", 0);
    tap_ok(s1 && s2, "two snapshots made");

    virDomainSnapshotPtr *snaps = NULL;
    int n = virDomainListAllSnapshots(dom, &snaps, 0);
    tap_ok(n == 2 && is_null_terminated((void **)snaps, n), "ListAllSnapshots: %d", n);
    int same_dom = 1;
    for (int i = 0; i < n; i++) {
        same_dom &= virDomainSnapshotGetDomain(snaps[i]) == dom;
        virDomainSnapshotPtr *kids = NULL;
        int nk = virDomainSnapshotListAllChildren(snaps[i], &kids, 0);
        tr("snapshot %s children %d", virDomainSnapshotGetName(snaps[i]), nk);
        for (int j = 0; j < nk; j++) {
            tr("  child %s", virDomainSnapshotGetName(kids[j]));
            same_dom &= virDomainSnapshotGetDomain(kids[j]) == dom;
            virDomainSnapshotFree(kids[j]);
        }
        free(kids);
        tap_ok(virDomainSnapshotListAllChildren(snaps[i], NULL, 0) == nk,
               "SnapshotListAllChildren with NULL counts only");
    }
    tap_ok(same_dom, "listed snapshots belong to the caller's domain object");
    tap_ok(virDomainListAllSnapshots(dom, NULL, 0) == 2, "ListAllSnapshots with NULL counts only");
    for (int i = 0; i < n; i++)
        virDomainSnapshotFree(snaps[i]);
    free(snaps);
    if (s2) {
        p_virDomainSnapshotDelete(s2, 0);
        virDomainSnapshotFree(s2);
    }
    if (s1) {
        p_virDomainSnapshotDelete(s1, 0);
        virDomainSnapshotFree(s1);
    }
    tap_ok(virDomainListAllSnapshots(dom, NULL, 0) == 0, "snapshots removed");

    /* Checkpoints: the test driver refuses them while a snapshot exists, so
     * they come after. */
    virDomainCheckpointPtr ck = p_virDomainCheckpointCreateXML(
        dom, "<domaincheckpoint><name>lists-c1</name></domaincheckpoint>", 0);
    tr("checkpoint made: %s", ck ? "yes" : "no");
    if (!ck)
        tr_err("CheckpointCreateXML", 1);
    virDomainCheckpointPtr *cks = NULL;
    n = virDomainListAllCheckpoints(dom, &cks, 0);
    tr("checkpoints %d", n);
    if (n < 0)
        tr_err("ListAllCheckpoints", 1);
    tap_ok(n >= 0 ? is_null_terminated((void **)cks, n) : cks == NULL,
           "ListAllCheckpoints: %d, array consistent", n);
    for (int i = 0; i < n; i++) {
        tap_ok(virDomainCheckpointGetDomain(cks[i]) == dom,
               "listed checkpoint belongs to the caller's domain object");
        virDomainCheckpointPtr *kids = NULL;
        int nk = virDomainCheckpointListAllChildren(cks[i], &kids, 0);
        tr("checkpoint %s children %d", virDomainCheckpointGetName(cks[i]), nk);
        for (int j = 0; j < nk; j++)
            virDomainCheckpointFree(kids[j]);
        free(kids);
        virDomainCheckpointFree(cks[i]);
    }
    free(cks);
    if (ck) {
        p_virDomainCheckpointDelete(ck, 0);
        virDomainCheckpointFree(ck);
    }
    virDomainFree(dom);
}

static void test_structured(virConnectPtr c)
{
    virDomainPtr dom = find_domain(c, "test");
    if (!dom)
        return;

    virDomainStatsRecordPtr *recs = NULL;
    int n = virConnectGetAllDomainStats(c, VIR_DOMAIN_STATS_STATE, &recs, 0);
    tap_ok(n >= 1 && is_null_terminated((void **)recs, n), "GetAllDomainStats: %d records", n);
    for (int i = 0; i < n; i++) {
        tr("stats %s nparams %d", virDomainGetName(recs[i]->dom), recs[i]->nparams);
        for (int j = 0; j < recs[i]->nparams; j++)
            tr("  %s type %d", recs[i]->params[j].field, recs[i]->params[j].type);
    }
    virDomainStatsRecordListFree(recs);
    virDomainStatsRecordListFree(NULL);

    virDomainPtr list[2] = {dom, NULL};
    recs = NULL;
    n = virDomainListGetStats(list, VIR_DOMAIN_STATS_STATE, &recs, 0);
    int state = -1;
    if (n == 1)
        virTypedParamsGetInt(recs[0]->params, recs[0]->nparams, "state.state", &state);
    tap_ok(n == 1 && state == VIR_DOMAIN_RUNNING, "ListGetStats: one record, state.state running");
    virDomainStatsRecordListFree(recs);
    virDomainPtr empty[1] = {NULL};
    tap_ok(virDomainListGetStats(empty, 0, &recs, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "ListGetStats of no domain: INVALID_ARG");
    tr_err("ListGetStats(empty)", 0);
    tap_ok(virConnectGetAllDomainStats(c, 0, NULL, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "GetAllDomainStats(retStats NULL): INVALID_ARG");
    tr_err("GetAllDomainStats(NULL)", 0);

    virDomainInterfacePtr *ifaces = NULL;
    n = virDomainInterfaceAddresses(dom, &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0);
    tap_ok(n >= 1 && ifaces && ifaces[0]->naddrs >= 1, "InterfaceAddresses: %d interfaces", n);
    for (int i = 0; i < n; i++) {
        tr("iface %s hw %s naddrs %u", ifaces[i]->name, ifaces[i]->hwaddr ? ifaces[i]->hwaddr : "-",
           ifaces[i]->naddrs);
        for (unsigned int j = 0; j < ifaces[i]->naddrs; j++)
            tr("  addr %s/%u type %d", ifaces[i]->addrs[j].addr, ifaces[i]->addrs[j].prefix,
               ifaces[i]->addrs[j].type);
        virDomainInterfaceFree(ifaces[i]);
    }
    free(ifaces);
    tap_ok(virDomainInterfaceAddresses(dom, NULL, 0, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "InterfaceAddresses(ifaces NULL): INVALID_ARG");

    virDomainFSInfoPtr *fs = NULL;
    n = virDomainGetFSInfo(dom, &fs, 0);
    tap_ok(n >= 1 && fs && fs[0]->ndevAlias >= 1, "GetFSInfo: %d file systems", n);
    for (int i = 0; i < n; i++) {
        tr("fs %s %s %s ndev %zu", fs[i]->mountpoint, fs[i]->name, fs[i]->fstype, fs[i]->ndevAlias);
        for (size_t j = 0; j < fs[i]->ndevAlias; j++)
            tr("  dev %s", fs[i]->devAlias[j]);
        virDomainFSInfoFree(fs[i]);
    }
    free(fs);

    virDomainIOThreadInfoPtr *io = NULL;
    n = virDomainGetIOThreadInfo(dom, &io, 0);
    tr("iothreads %d", n);
    tap_ok(n >= 0, "GetIOThreadInfo: %d", n);
    for (int i = 0; i < n; i++) {
        tr("iothread %u cpumaplen %d", io[i]->iothread_id, io[i]->cpumaplen);
        virDomainIOThreadInfoFree(io[i]);
    }
    free(io);
    tap_ok(virDomainGetIOThreadInfo(dom, &io, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) ==
                   -1 &&
               last_code() == VIR_ERR_INVALID_ARG,
           "GetIOThreadInfo(LIVE|CONFIG): INVALID_ARG");

    char **keys = NULL;
    n = virDomainAuthorizedSSHKeysGet(dom, "root", &keys, 0);
    tap_ok(n == -1 && last_code() == VIR_ERR_NO_SUPPORT, "AuthorizedSSHKeysGet: NO_SUPPORT");
    tr_err("AuthorizedSSHKeysGet", 1);
    const char *k[] = {"ssh-ed25519 AAAA x"};
    tap_ok(virDomainAuthorizedSSHKeysSet(dom, "root", k, 1,
                                         VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND |
                                             VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE) == -1 &&
               last_code() == VIR_ERR_INVALID_ARG,
           "AuthorizedSSHKeysSet(APPEND|REMOVE): INVALID_ARG");
    n = virDomainAuthorizedSSHKeysSet(dom, "root", k, 1, 0);
    tr("sshkeys set %d", n);
    tr_err("AuthorizedSSHKeysSet", 1);

    char **msgs = NULL;
    n = virDomainGetMessages(dom, &msgs, 0);
    tr("messages %d", n);
    if (n < 0)
        tr_err("GetMessages", 1);
    for (int i = 0; i < n; i++) {
        tr("message %s", msgs[i]);
        free(msgs[i]);
    }
    tap_ok(n < 0 || (msgs && msgs[n] == NULL), "GetMessages: %d, NULL-terminated", n);
    free(msgs);

    char **models = NULL;
    n = virConnectGetCPUModelNames(c, "x86_64", &models, 0);
    tap_ok(n >= 1 && models && models[n] == NULL, "GetCPUModelNames(x86_64): %d", n);
    for (int i = 0; i < n; i++) {
        tr("model %s", models[i]);
        free(models[i]);
    }
    free(models);
    tap_ok(virConnectGetCPUModelNames(c, "x86_64", NULL, 0) == n,
           "GetCPUModelNames with NULL counts only");
    tap_ok(virConnectGetCPUModelNames(c, NULL, NULL, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "GetCPUModelNames(arch NULL): INVALID_ARG");
    n = virConnectGetCPUModelNames(c, "no-such-arch", &models, 0);
    tr("models of no-such-arch %d", n);
    tr_err("GetCPUModelNames(no-such-arch)", 1);

    virDomainFree(dom);
}

/* Domains started with descriptors: the test driver takes and ignores them. */
static void test_with_files(virConnectPtr c, int *fds)
{
    if (missing("domains made with files",
                p_virDomainDefineXML && p_virDomainDestroy && p_virDomainUndefine))
        return;
    /* CreateXMLWithFiles with one descriptor: a transient domain starts. */
    const char *xml = "<domain type='test'><name>lists-files</name><memory>8192</memory>"
                      "<os><type>hvm</type></os></domain>";
    virDomainPtr tmp = virDomainCreateXMLWithFiles(c, xml, 1, fds, 0);
    tap_ok(tmp != NULL && virDomainGetID(tmp) > 0, "CreateXMLWithFiles: a running domain");
    if (tmp) {
        p_virDomainDestroy(tmp);
        virDomainFree(tmp);
    } else {
        tr_err("CreateXMLWithFiles", 1);
    }
    virDomainPtr def = p_virDomainDefineXML(c, xml);
    if (tap_ok(def != NULL, "a domain defined for Create")) {
        tap_ok(virDomainCreate(def) == 0 && virDomainGetID(def) != (unsigned int)-1,
               "Create: the object has the new id (looked up by UUID)");
        p_virDomainDestroy(def);
        tap_ok(virDomainRename(def, "lists-files-2", 0) == 0 &&
                   strcmp(virDomainGetName(def), "lists-files-2") == 0,
               "Rename: the object has the new name");
        tap_ok(virDomainRename(def, "lists-files", 0) == 0, "Rename back");
        p_virDomainUndefine(def);
        virDomainFree(def);
    }
    def = p_virDomainDefineXML(c, xml);
    if (tap_ok(def != NULL, "a domain defined for CreateWithFiles")) {
        unsigned int id_before = virDomainGetID(def);
        int rc = virDomainCreateWithFiles(def, 1, fds, 0);
        tap_ok(rc == 0 && id_before == (unsigned int)-1 && virDomainGetID(def) != (unsigned int)-1,
               "CreateWithFiles: the object now has the domain's id");
        p_virDomainDestroy(def);
        p_virDomainUndefine(def);
        virDomainFree(def);
    }
}

static void test_extra(virConnectPtr c, virConnectPtr ro)
{
    virDomainPtr dom = find_domain(c, "test");
    if (!dom)
        return;
    int state = -1, reason = -1;
    tap_ok(virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_RUNNING,
           "GetState: running");
    tr("state %d reason %d", state, reason);
    tap_ok(virDomainGetState(dom, &state, NULL, 0) == 0, "GetState with reason NULL");
    tap_ok(virDomainGetState(dom, NULL, NULL, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "GetState(state NULL): INVALID_ARG");

    long long secs = 0;
    unsigned int nsecs = 0;
    tap_ok(virDomainGetTime(dom, &secs, &nsecs, 0) == 0 && secs > 0, "GetTime: %lld", secs);

    tap_ok(virDomainSetUserPassword(dom, "root", "pw", 0) == 0, "SetUserPassword");
    tap_ok(virDomainSetUserPassword(dom, NULL, "pw", 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "SetUserPassword(user NULL): INVALID_ARG");

    const char *cpus[] = {"<cpu><arch>x86_64</arch><model>core2duo</model></cpu>",
                          "<cpu><arch>x86_64</arch><model>Nehalem</model></cpu>"};
    char *base = virConnectBaselineCPU(c, cpus, 2, 0);
    tap_ok(base && strstr(base, "<model"), "BaselineCPU");
    tr("baseline %s", base ? base : "(null)");
    free(base);
    tap_ok(virConnectBaselineCPU(c, NULL, 0, 0) == NULL && last_code() == VIR_ERR_INVALID_ARG,
           "BaselineCPU(NULL): INVALID_ARG");
    base = virConnectBaselineHypervisorCPU(c, NULL, "x86_64", NULL, NULL, cpus, 2, 0);
    tr("hypervisor baseline %s", base ? base : "(null)");
    if (!base)
        tr_err("BaselineHypervisorCPU", 1);
    free(base);

    char *src = virConnectFindStoragePoolSources(c, "logical", NULL, 0);
    tap_ok(src && strstr(src, "<sources>"), "FindStoragePoolSources(logical)");
    tr("sources %s", src ? src : "(null)");
    free(src);
    tap_ok(virConnectFindStoragePoolSources(c, NULL, NULL, 0) == NULL &&
               last_code() == VIR_ERR_INVALID_ARG,
           "FindStoragePoolSources(type NULL): INVALID_ARG");

    int ids[16];
    int nids = virConnectListDomains(c, ids, 16);
    tap_ok(nids >= 1 && (unsigned int)ids[0] == virDomainGetID(dom),
           "ListDomains: %d ids, the test domain's first", nids);
    tr("domain ids %d", nids);
    tap_ok(virConnectListDomains(c, NULL, 1) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "ListDomains(ids NULL, maxids 1): INVALID_ARG");
    tap_ok(virConnectListDomains(c, ids, -1) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "ListDomains(maxids -1): INVALID_ARG");
    tap_ok(virConnectListDomains(c, ids, 0) == 0, "ListDomains(maxids 0): none");
    tap_ok(virDomainRename(dom, "", 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "Rename(\"\"): INVALID_ARG");
    tap_ok(virDomainRename(dom, "lists-other", 0) == -1 && last_code() == VIR_ERR_OPERATION_INVALID,
           "Rename of a running domain: the daemon's OPERATION_INVALID");
    tr_err("Rename(running)", 1);
    unsigned int psize[2] = {4, 2048};
    unsigned long long pcount[4];
    tap_ok(virNodeGetFreePages(c, 0, psize, 0, 1, pcount, 0) == -1 &&
               last_code() == VIR_ERR_INVALID_ARG,
           "NodeGetFreePages(npages 0): INVALID_ARG");
    int np = virNodeGetFreePages(c, 2, psize, 0, 2, pcount, 0);
    tr("free pages %d", np);
    if (np < 0)
        tr_err("NodeGetFreePages", 1);
    tap_ok(virNodeAllocPages(c, 1, psize, pcount, 0, 0, 0) == -1 &&
               last_code() == VIR_ERR_INVALID_ARG,
           "NodeAllocPages(cellCount 0): INVALID_ARG");

    /* fd passing: the test driver implements none of these. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        tap_ok(virDomainOpenGraphics(dom, 0, sv[0], 0) == -1 && last_code() == VIR_ERR_NO_SUPPORT,
               "OpenGraphics: the daemon answers NO_SUPPORT");
        tr_err("OpenGraphics", 1);
        close(sv[0]);
        close(sv[1]);
    }
    tap_ok(virDomainOpenGraphics(dom, 0, -1, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "OpenGraphics(fd -1): INVALID_ARG");
    tap_ok(virDomainOpenGraphics(dom, 0, 0, 0) == -1, "OpenGraphics(stdin): refused");
    tr_err("OpenGraphics(0)", 0);
    tap_ok(virDomainOpenGraphicsFD(dom, 0, 0) == -1 && last_code() == VIR_ERR_NO_SUPPORT,
           "OpenGraphicsFD: NO_SUPPORT");
    tr_err("OpenGraphicsFD", 1);
    int fds[1] = {1};
    tap_ok(virDomainFDAssociate(dom, "x", 1, fds, 0) == -1 && last_code() == VIR_ERR_NO_SUPPORT,
           "FDAssociate: NO_SUPPORT");
    tr_err("FDAssociate", 1);
    tap_ok(virDomainFDAssociate(dom, "x", 0, fds, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "FDAssociate(nfds 0): INVALID_ARG");

    test_with_files(c, fds);

    /* Read-only connection: the checks before any call. */
    virDomainPtr rdom = find_domain(ro, "test");
    if (rdom) {
        virDomainFSInfoPtr *fs = NULL;
        tap_ok(virDomainGetFSInfo(rdom, &fs, 0) == -1 && last_code() == VIR_ERR_OPERATION_DENIED,
               "GetFSInfo read-only: OPERATION_DENIED");
        tap_ok(virDomainGetTime(rdom, &secs, &nsecs, 0) == -1 &&
                   last_code() == VIR_ERR_OPERATION_DENIED,
               "GetTime read-only: OPERATION_DENIED");
        virDomainInterfacePtr *ifs = NULL;
        tap_ok(virDomainInterfaceAddresses(rdom, &ifs, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
                                           0) == -1 &&
                   last_code() == VIR_ERR_OPERATION_DENIED,
               "InterfaceAddresses(agent) read-only: OPERATION_DENIED");
        int n =
            virDomainInterfaceAddresses(rdom, &ifs, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0);
        tap_ok(n >= 1, "InterfaceAddresses(lease) read-only works");
        for (int i = 0; i < n; i++)
            virDomainInterfaceFree(ifs[i]);
        free(ifs);
        int st = -1;
        tap_ok(virDomainGetState(rdom, &st, NULL, 0) == 0, "GetState read-only works");
        virDomainFree(rdom);
    }
    virDomainFree(dom);
}

static void test_secrets(virConnectPtr s)
{
    if (missing("secrets", p_virSecretDefineXML && p_virSecretUndefine))
        return;
    virSecretPtr sec = p_virSecretDefineXML(
        s,
        "<secret ephemeral='no' private='no'><usage type='volume'><volume>/lists/a</volume>"
        "</usage></secret>",
        0);
    if (!tap_ok(sec != NULL, "a secret defined"))
        return;
    const unsigned char val[] = {'a', 0, 'b', 0xff, 'c'};
    tap_ok(virSecretSetValue(sec, val, sizeof(val), 0) == 0, "SecretSetValue (bytes with NUL)");
    size_t len = 0;
    unsigned char *got = virSecretGetValue(sec, &len, 0);
    tap_ok(got && len == sizeof(val) && memcmp(got, val, len) == 0,
           "SecretGetValue gives the same bytes");
    free(got);
    tap_ok(virSecretGetValue(sec, NULL, 0) == NULL && last_code() == VIR_ERR_INVALID_ARG,
           "SecretGetValue(value_size NULL): INVALID_ARG");
    tap_ok(virSecretSetValue(sec, NULL, 0, 0) == -1 && last_code() == VIR_ERR_INVALID_ARG,
           "SecretSetValue(value NULL): INVALID_ARG");

    virSecretPtr *secs = NULL;
    int n = virConnectListAllSecrets(s, &secs, 0);
    int found = 0;
    char want[VIR_UUID_STRING_BUFLEN], have[VIR_UUID_STRING_BUFLEN];
    virSecretGetUUIDString(sec, want);
    for (int i = 0; i < n; i++) {
        virSecretGetUUIDString(secs[i], have);
        found += strcmp(have, want) == 0;
        tr("secret usage %d %s", virSecretGetUsageType(secs[i]), virSecretGetUsageID(secs[i]));
        virSecretFree(secs[i]);
    }
    free(secs);
    tap_ok(n >= 1 && found == 1, "ListAllSecrets finds it");
    p_virSecretUndefine(sec);
    virSecretFree(sec);
    tap_ok(virConnectListAllSecrets(s, NULL, 0) == n - 1, "ListAllSecrets counts one less");
}

/* A transient directory pool of the real storage driver with two volumes. */
static void test_storage(virConnectPtr st, const char *dir)
{
    if (missing("storage", p_virStoragePoolCreateXML && p_virStoragePoolDestroy &&
                               p_virStorageVolCreateXML && p_virStorageVolDelete))
        return;
    char xml[4096];
    snprintf(xml, sizeof(xml),
             "<pool type='dir'><name>lists-pool</name><target><path>%s/user/pool</path>"
             "</target></pool>",
             dir);
    virStoragePoolPtr pool = p_virStoragePoolCreateXML(st, xml, 0);
    if (!tap_ok(pool != NULL, "a directory pool started")) {
        tr_err("StoragePoolCreateXML", 1);
        return;
    }
    const char *names[] = {"lists-a.img", "lists-b.img"};
    virStorageVolPtr made[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        snprintf(xml, sizeof(xml),
                 "<volume><name>%s</name><capacity>%d</capacity><target><format type='raw'/>"
                 "</target></volume>",
                 names[i], 4096 * (i + 1));
        made[i] = p_virStorageVolCreateXML(pool, xml, 0);
    }
    tap_ok(made[0] && made[1], "two volumes made");

    virStorageVolInfo vinfo;
    tap_ok(made[1] && virStorageVolGetInfoFlags(made[1], &vinfo, 0) == 0 &&
               vinfo.capacity == 8192 && vinfo.type == VIR_STORAGE_VOL_FILE,
           "StorageVolGetInfoFlags: a file of 8192 bytes");
    tap_ok(made[1] && virStorageVolGetInfoFlags(made[1], NULL, 0) == -1 &&
               last_code() == VIR_ERR_INVALID_ARG,
           "StorageVolGetInfoFlags(info NULL): INVALID_ARG");

    virStorageVolPtr *vols = NULL;
    int n = virStoragePoolListAllVolumes(pool, &vols, 0);
    int found = 0;
    for (int i = 0; i < n; i++) {
        const char *name = virStorageVolGetName(vols[i]);
        found += strcmp(name, names[0]) == 0 || strcmp(name, names[1]) == 0;
        tr("pool volume %s", name);
        virStorageVolFree(vols[i]);
    }
    tap_ok(n == 2 && found == 2 && vols && vols[2] == NULL,
           "StoragePoolListAllVolumes: both volumes, NULL-terminated");
    free(vols);
    tap_ok(virStoragePoolListAllVolumes(pool, NULL, 0) == 2,
           "StoragePoolListAllVolumes with NULL counts only");

    virStoragePoolPtr *pools = NULL;
    n = virConnectListAllStoragePools(st, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
    found = 0;
    for (int i = 0; i < n; i++) {
        found += strcmp(virStoragePoolGetName(pools[i]), "lists-pool") == 0;
        virStoragePoolFree(pools[i]);
    }
    free(pools);
    tap_ok(found == 1, "ListAllStoragePools(ACTIVE) has the pool");
    n = virConnectListAllStoragePools(st, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT);
    found = 0;
    for (int i = 0; i < n; i++) {
        found += strcmp(virStoragePoolGetName(pools[i]), "lists-pool") == 0;
        virStoragePoolFree(pools[i]);
    }
    free(pools);
    tap_ok(found == 1, "ListAllStoragePools(TRANSIENT) has the pool");
    n = virConnectListAllStoragePools(st, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT);
    found = 0;
    for (int i = 0; i < n; i++) {
        found += strcmp(virStoragePoolGetName(pools[i]), "lists-pool") == 0;
        virStoragePoolFree(pools[i]);
    }
    free(pools);
    tap_ok(n >= 0 && found == 0, "ListAllStoragePools(PERSISTENT) does not have it");

    for (int i = 0; i < 2; i++) {
        if (made[i]) {
            p_virStorageVolDelete(made[i], 0);
            virStorageVolFree(made[i]);
        }
    }
    tap_ok(virStoragePoolListAllVolumes(pool, NULL, 0) == 0, "volumes deleted");
    p_virStoragePoolDestroy(pool);
    /* A pool object whose pool is gone: the daemon's error. */
    vols = NULL;
    tap_ok(virStoragePoolListAllVolumes(pool, &vols, 0) == -1 && vols == NULL &&
               last_code() == VIR_ERR_NO_STORAGE_POOL,
           "StoragePoolListAllVolumes of a destroyed pool: NO_STORAGE_POOL");
    tr_err("ListAllVolumes(destroyed)", 1);
    virStoragePoolFree(pool);
}

int main(void)
{
    const char *d = getenv("VRPC_TEST_DIR");
    if (!d) {
        printf("1..0 # SKIP VRPC_TEST_DIR is not set (scripts/test-daemon.sh)\n");
        return 0;
    }
    const char *trf = getenv("LISTS_TRANSCRIPT");
    if (trf && !(g_tr = fopen(trf, "w"))) {
        perror(trf);
        return 1;
    }
    virSetErrorFunc(NULL, quiet);
    find_optional();

    char uri[4096];
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", d);
    virConnectPtr c = virConnectOpen(uri);
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock-ro", d);
    virConnectPtr ro = virConnectOpenReadOnly(uri);
    snprintf(uri, sizeof(uri), "secret:///session?socket=%s/user/run/libvirt-sock", d);
    virConnectPtr s = virConnectOpen(uri);
    snprintf(uri, sizeof(uri), "storage:///session?socket=%s/user/run/libvirt-sock", d);
    virConnectPtr st = virConnectOpen(uri);
    if (tap_ok(c && ro && s && st, "connections open")) {
        test_lists(c);
        test_snapshots(c);
        test_structured(c);
        test_extra(c, ro);
        test_secrets(s);
        test_storage(st, d);
    }
    if (st)
        virConnectClose(st);
    if (s)
        virConnectClose(s);
    if (ro)
        virConnectClose(ro);
    if (c)
        virConnectClose(c);
    if (g_tr)
        fclose(g_tr);
    return tap_done();
}
