/* SPDX-License-Identifier: MIT */
/*
 * The ListAll family: each asks the daemon for a list of objects (or only
 * their number when the caller passes NULL for the array) and hands back a
 * malloc()ed array of new objects followed by a NULL entry. The caller
 * releases each object with its vir*Free() and the array with free().
 *
 * The replies share one shape: the array `{ uint32_t n; T *items; }` first,
 * then the count the daemon computed. One helper walks any of them given
 * the size of T, where the count sits and how to make an object of one T.
 */
#include "compat.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* libvirt's read-only check, in the error domain of the public function's
 * source file (VIR_FROM_THIS there). True after setting the error. */
static bool denied(virConnectPtr conn, int domain, const char *func)
{
    if (!(conn->flags & VIR_CONNECT_RO))
        return false;
    compat_error(domain, VIR_ERR_OPERATION_DENIED, "%s is not allowed on a read-only connection",
                 func);
    return true;
}

/* Makes an object of one wire item; parent is the object the list was
 * asked of (snapshots and checkpoints keep it as their domain). */
typedef void *(*list_conv)(virConnectPtr conn, void *parent, const void *item);
typedef int (*list_release)(void *obj);

typedef struct list_spec {
    const vrpc_proc *proc;
    size_t item_size; /* sizeof(T) */
    size_t count_off; /* offsetof(reply, ret) */
    list_conv conv;
    list_release release;
} list_spec;

/* The head every ListAll reply starts with. */
typedef struct list_head {
    uint32_t n;
    const void *items;
} list_head;

/*
 * Calls spec->proc with args (need_results already set from `out`), builds
 * the array when out is not NULL. Returns the count, or -1 after setting the
 * error; *out is untouched on failure.
 */
static int list_all(virConnectPtr conn, void *parent, const list_spec *spec, const void *args,
                    void ***out)
{
    void *reply = NULL;
    if (compat_call(conn, spec->proc, args, &reply) < 0)
        return -1;

    const list_head *head = reply;
    int count;
    memcpy(&count, (const char *)reply + spec->count_off, sizeof(count));
    if (!out) {
        vrpc_free(reply);
        return count;
    }

    /* head->n is bounded by the decoder (the list's <MAX> in the .x). */
    void **objs = calloc((size_t)head->n + 1, sizeof(*objs));
    if (!objs) {
        compat_no_memory();
        vrpc_free(reply);
        return -1;
    }
    for (uint32_t i = 0; i < head->n; i++) {
        const char *item = (const char *)head->items + (size_t)i * spec->item_size;
        objs[i] = spec->conv(conn, parent, item);
        if (!objs[i]) {
            for (uint32_t j = 0; j < i; j++)
                spec->release(objs[j]);
            free(objs);
            vrpc_free(reply);
            return -1;
        }
    }
    *out = objs;
    /* The array is what the caller walks: its length is the answer. */
    count = (int)head->n;
    vrpc_free(reply);
    return count;
}

/* ---- conversions ---- */

static void *conv_domain(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_domain_from(conn, item);
}

static void *conv_network(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_network_from(conn, item);
}

static void *conv_network_port(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_network_port_from(conn, item);
}

static void *conv_interface(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_interface_from(conn, item);
}

static void *conv_storage_pool(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_storage_pool_from(conn, item);
}

static void *conv_storage_vol(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_storage_vol_from(conn, item);
}

static void *conv_node_device(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_node_device_from(conn, item);
}

static void *conv_secret(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_secret_from(conn, item);
}

static void *conv_nwfilter(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_nwfilter_from(conn, item);
}

static void *conv_nwfilter_binding(virConnectPtr conn, void *parent, const void *item)
{
    (void)parent;
    return compat_nwfilter_binding_from(conn, item);
}

/* Snapshots and checkpoints of a list belong to the domain object the list
 * was asked of (as in libvirt's client: virDomainSnapshotGetDomain() then
 * returns the caller's own domain), not to a new one made from the wire. */
static void adopt_domain(virDomainPtr *slot, virDomainPtr parent)
{
    virDomainPtr made = *slot;
    if (made == parent)
        return;
    virDomainRef(parent);
    *slot = parent;
    virDomainFree(made);
}

static void *conv_snapshot(virConnectPtr conn, void *parent, const void *item)
{
    virDomainSnapshotPtr s = compat_domain_snapshot_from(conn, item);
    if (s)
        adopt_domain(&s->domain, parent);
    return s;
}

static void *conv_checkpoint(virConnectPtr conn, void *parent, const void *item)
{
    virDomainCheckpointPtr c = compat_domain_checkpoint_from(conn, item);
    if (c)
        adopt_domain(&c->domain, parent);
    return c;
}

static int rel_domain(void *o)
{
    return virDomainFree(o);
}
static int rel_network(void *o)
{
    return virNetworkFree(o);
}
static int rel_network_port(void *o)
{
    return virNetworkPortFree(o);
}
static int rel_interface(void *o)
{
    return virInterfaceFree(o);
}
static int rel_storage_pool(void *o)
{
    return virStoragePoolFree(o);
}
static int rel_storage_vol(void *o)
{
    return virStorageVolFree(o);
}
static int rel_node_device(void *o)
{
    return virNodeDeviceFree(o);
}
static int rel_secret(void *o)
{
    return virSecretFree(o);
}
static int rel_nwfilter(void *o)
{
    return virNWFilterFree(o);
}
static int rel_nwfilter_binding(void *o)
{
    return virNWFilterBindingFree(o);
}
static int rel_snapshot(void *o)
{
    return virDomainSnapshotFree(o);
}
static int rel_checkpoint(void *o)
{
    return virDomainCheckpointFree(o);
}

#define LIST_SPEC(proc_, ret_type, item_type, conv_, rel_)                                         \
    {                                                                                              \
        .proc = &vrpc_pd_##proc_, .item_size = sizeof(item_type),                                  \
        .count_off = offsetof(ret_type, ret), .conv = conv_, .release = rel_,                      \
    }

/* The count is read as an int whatever its signedness on the wire. */
_Static_assert(sizeof(((vrpc_connect_list_all_domains_ret *)0)->ret) == sizeof(int), "count");
_Static_assert(sizeof(((vrpc_domain_list_all_snapshots_ret *)0)->ret) == sizeof(int), "count");

/* ---- the connection's lists ---- */

int virConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains, unsigned int flags)
{
    const list_spec spec = LIST_SPEC(connect_list_all_domains, vrpc_connect_list_all_domains_ret,
                                     vrpc_nonnull_domain, conv_domain, rel_domain);
    compat_reset();
    if (domains)
        *domains = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_domains_args args = {.need_results = domains != NULL, .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)domains);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets, unsigned int flags)
{
    const list_spec spec = LIST_SPEC(connect_list_all_networks, vrpc_connect_list_all_networks_ret,
                                     vrpc_nonnull_network, conv_network, rel_network);
    compat_reset();
    if (nets)
        *nets = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_networks_args args = {.need_results = nets != NULL, .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)nets);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virConnectListAllInterfaces(virConnectPtr conn, virInterfacePtr **ifaces, unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(connect_list_all_interfaces, vrpc_connect_list_all_interfaces_ret,
                  vrpc_nonnull_interface, conv_interface, rel_interface);
    compat_reset();
    if (ifaces)
        *ifaces = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_interfaces_args args = {.need_results = ifaces != NULL, .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)ifaces);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virConnectListAllStoragePools(virConnectPtr conn, virStoragePoolPtr **pools, unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(connect_list_all_storage_pools, vrpc_connect_list_all_storage_pools_ret,
                  vrpc_nonnull_storage_pool, conv_storage_pool, rel_storage_pool);
    compat_reset();
    if (pools)
        *pools = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_storage_pools_args args = {.need_results = pools != NULL, .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)pools);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virConnectListAllNodeDevices(virConnectPtr conn, virNodeDevicePtr **devices, unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(connect_list_all_node_devices, vrpc_connect_list_all_node_devices_ret,
                  vrpc_nonnull_node_device, conv_node_device, rel_node_device);
    compat_reset();
    if (devices)
        *devices = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_node_devices_args args = {.need_results = devices != NULL,
                                                    .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)devices);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virConnectListAllSecrets(virConnectPtr conn, virSecretPtr **secrets, unsigned int flags)
{
    const list_spec spec = LIST_SPEC(connect_list_all_secrets, vrpc_connect_list_all_secrets_ret,
                                     vrpc_nonnull_secret, conv_secret, rel_secret);
    compat_reset();
    if (secrets)
        *secrets = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_secrets_args args = {.need_results = secrets != NULL, .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)secrets);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virConnectListAllNWFilters(virConnectPtr conn, virNWFilterPtr **filters, unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(connect_list_all_nwfilters, vrpc_connect_list_all_nwfilters_ret,
                  vrpc_nonnull_nwfilter, conv_nwfilter, rel_nwfilter);
    compat_reset();
    if (filters)
        *filters = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_nwfilters_args args = {.need_results = filters != NULL, .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)filters);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virConnectListAllNWFilterBindings(virConnectPtr conn, virNWFilterBindingPtr **bindings,
                                      unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(connect_list_all_nwfilter_bindings, vrpc_connect_list_all_nwfilter_bindings_ret,
                  vrpc_nonnull_nwfilter_binding, conv_nwfilter_binding, rel_nwfilter_binding);
    compat_reset();
    if (bindings)
        *bindings = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_connect_list_all_nwfilter_bindings_args args = {.need_results = bindings != NULL,
                                                         .flags = flags};
    int n = list_all(conn, NULL, &spec, &args, (void ***)bindings);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

/* ---- lists of an object ---- */

int virStoragePoolListAllVolumes(virStoragePoolPtr pool, virStorageVolPtr **vols,
                                 unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(storage_pool_list_all_volumes, vrpc_storage_pool_list_all_volumes_ret,
                  vrpc_nonnull_storage_vol, conv_storage_vol, rel_storage_vol);
    compat_reset();
    /* libvirt leaves *vols alone here until the call succeeds. */
    virConnectPtr conn = compat_obj_conn(pool, COMPAT_STORAGE_POOL);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_storage_pool_list_all_volumes_args args = {.need_results = vols != NULL, .flags = flags};
    compat_storage_pool_to(pool, &args.pool);
    int n = list_all(conn, pool, &spec, &args, (void ***)vols);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virNetworkListAllPorts(virNetworkPtr network, virNetworkPortPtr **ports, unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(network_list_all_ports, vrpc_network_list_all_ports_ret,
                  vrpc_nonnull_network_port, conv_network_port, rel_network_port);
    compat_reset();
    virConnectPtr conn = compat_obj_conn(network, COMPAT_NETWORK);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_network_list_all_ports_args args = {.need_results = ports != NULL, .flags = flags};
    compat_network_to(network, &args.network);
    int n = list_all(conn, network, &spec, &args, (void ***)ports);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virDomainListAllSnapshots(virDomainPtr domain, virDomainSnapshotPtr **snaps, unsigned int flags)
{
    const list_spec spec = LIST_SPEC(domain_list_all_snapshots, vrpc_domain_list_all_snapshots_ret,
                                     vrpc_nonnull_domain_snapshot, conv_snapshot, rel_snapshot);
    compat_reset();
    if (snaps)
        *snaps = NULL;
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_domain_list_all_snapshots_args args = {.need_results = snaps != NULL, .flags = flags};
    compat_domain_to(domain, &args.dom);
    int n = list_all(conn, domain, &spec, &args, (void ***)snaps);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virDomainSnapshotListAllChildren(virDomainSnapshotPtr snapshot, virDomainSnapshotPtr **snaps,
                                     unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(domain_snapshot_list_all_children, vrpc_domain_snapshot_list_all_children_ret,
                  vrpc_nonnull_domain_snapshot, conv_snapshot, rel_snapshot);
    compat_reset();
    if (snaps)
        *snaps = NULL;
    virConnectPtr conn = compat_obj_conn(snapshot, COMPAT_DOMAIN_SNAPSHOT);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_domain_snapshot_list_all_children_args args = {.need_results = snaps != NULL,
                                                        .flags = flags};
    compat_domain_snapshot_to(snapshot, &args.snapshot);
    int n = list_all(conn, snapshot->domain, &spec, &args, (void ***)snaps);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virDomainListAllCheckpoints(virDomainPtr domain, virDomainCheckpointPtr **checkpoints,
                                unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(domain_list_all_checkpoints, vrpc_domain_list_all_checkpoints_ret,
                  vrpc_nonnull_domain_checkpoint, conv_checkpoint, rel_checkpoint);
    compat_reset();
    if (checkpoints)
        *checkpoints = NULL;
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_domain_list_all_checkpoints_args args = {.need_results = checkpoints != NULL,
                                                  .flags = flags};
    compat_domain_to(domain, &args.dom);
    int n = list_all(conn, domain, &spec, &args, (void ***)checkpoints);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

int virDomainCheckpointListAllChildren(virDomainCheckpointPtr checkpoint,
                                       virDomainCheckpointPtr **children, unsigned int flags)
{
    const list_spec spec =
        LIST_SPEC(domain_checkpoint_list_all_children, vrpc_domain_checkpoint_list_all_children_ret,
                  vrpc_nonnull_domain_checkpoint, conv_checkpoint, rel_checkpoint);
    compat_reset();
    if (children)
        *children = NULL;
    virConnectPtr conn = compat_obj_conn(checkpoint, COMPAT_DOMAIN_CHECKPOINT);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_domain_checkpoint_list_all_children_args args = {.need_results = children != NULL,
                                                          .flags = flags};
    compat_domain_checkpoint_to(checkpoint, &args.checkpoint);
    int n = list_all(conn, checkpoint->domain, &spec, &args, (void ***)children);
    if (n < 0)
        compat_dispatch(conn);
    return n;
}

/* ---- domain statistics ---- */

void virDomainStatsRecordListFree(virDomainStatsRecordPtr *stats)
{
    if (!stats)
        return;
    for (virDomainStatsRecordPtr *rec = stats; *rec; rec++) {
        virTypedParamsFree((*rec)->params, (*rec)->nparams);
        if ((*rec)->dom)
            virDomainFree((*rec)->dom);
        free(*rec);
    }
    free(stats);
}

/* The call behind both statistics functions: doms[0..ndoms-1] (none: every
 * domain the flags select). Returns the number of records, or -1 after
 * setting the error. */
static int domain_stats(virConnectPtr conn, virDomainPtr *doms, unsigned int ndoms,
                        unsigned int stats, virDomainStatsRecordPtr **retStats, unsigned int flags)
{
    vrpc_connect_get_all_domain_stats_args args = {.stats = stats, .flags = flags};
    vrpc_nonnull_domain *wire = NULL;
    if (ndoms) {
        wire = calloc(ndoms, sizeof(*wire));
        if (!wire) {
            compat_no_memory();
            return -1;
        }
        for (unsigned int i = 0; i < ndoms; i++)
            compat_domain_to(doms[i], &wire[i]);
    }
    args.doms.n = ndoms;
    args.doms.items = wire;

    vrpc_connect_get_all_domain_stats_ret *r = NULL;
    int rc = compat_call(conn, &vrpc_pd_connect_get_all_domain_stats, &args, &r);
    free(wire);
    if (rc < 0)
        return -1;

    virDomainStatsRecordPtr *out = calloc((size_t)r->retStats.n + 1, sizeof(*out));
    if (!out) {
        compat_no_memory();
        goto fail;
    }
    for (uint32_t i = 0; i < r->retStats.n; i++) {
        const vrpc_domain_stats_record *w = &r->retStats.items[i];
        virDomainStatsRecordPtr rec = calloc(1, sizeof(*rec));
        if (!rec) {
            compat_no_memory();
            goto fail;
        }
        out[i] = rec;
        if (!(rec->dom = compat_domain_from(conn, &w->dom)))
            goto fail;
        if (compat_params_from_wire(w->params.items, w->params.n, &rec->params, &rec->nparams) < 0)
            goto fail;
    }
    *retStats = out;
    int count = (int)r->retStats.n;
    vrpc_free(r);
    return count;

fail:
    virDomainStatsRecordListFree(out);
    vrpc_free(r);
    return -1;
}

int virConnectGetAllDomainStats(virConnectPtr conn, unsigned int stats,
                                virDomainStatsRecordPtr **retStats, unsigned int flags)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!retStats) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "retStats");
        goto error;
    }
    int n = domain_stats(conn, NULL, 0, stats, retStats, flags);
    if (n >= 0)
        return n;
error:
    compat_dispatch(conn);
    return -1;
}

int virDomainListGetStats(virDomainPtr *doms, unsigned int stats,
                          virDomainStatsRecordPtr **retStats, unsigned int flags)
{
    virConnectPtr conn = NULL;
    compat_reset();
    if (!doms) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "doms");
        goto error;
    }
    if (!retStats) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "retStats");
        goto error;
    }
    if (!doms[0]) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "%s: the doms array holds no domain before its NULL end", __func__);
        goto error;
    }
    if (!(conn = compat_obj_conn(doms[0], COMPAT_DOMAIN)))
        goto error;
    unsigned int ndoms = 0;
    for (virDomainPtr *d = doms; *d; d++) {
        if (!compat_obj_conn(*d, COMPAT_DOMAIN))
            goto error;
        if ((*d)->conn != conn) {
            compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                         "%s: every domain of the doms array must come from one connection",
                         __func__);
            goto error;
        }
        if (++ndoms > VRPC_DOMAIN_LIST_MAX) {
            compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                         "%s: more than %u domains in the doms array", __func__,
                         (unsigned int)VRPC_DOMAIN_LIST_MAX);
            goto error;
        }
    }
    int n = domain_stats(conn, doms, ndoms, stats, retStats, flags);
    if (n >= 0)
        return n;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- DHCP leases ---- */

void virNetworkDHCPLeaseFree(virNetworkDHCPLeasePtr lease)
{
    if (!lease)
        return;
    free(lease->iface);
    free(lease->mac);
    free(lease->iaid);
    free(lease->ipaddr);
    free(lease->hostname);
    free(lease->clientid);
    free(lease);
}

/* Copies one wire string into *dst (NULL stays NULL). Returns 0, or -1 after
 * setting VIR_ERR_NO_MEMORY. */
static int copy_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    return (*dst = compat_strdup(src)) ? 0 : -1;
}

static virNetworkDHCPLeasePtr lease_from(const vrpc_network_dhcp_lease *w)
{
    virNetworkDHCPLeasePtr l = calloc(1, sizeof(*l));
    if (!l) {
        compat_no_memory();
        return NULL;
    }
    l->expirytime = w->expirytime;
    l->type = w->type;
    l->prefix = w->prefix;
    if (copy_str(&l->iface, w->iface) < 0 || copy_str(&l->mac, w->mac) < 0 ||
        copy_str(&l->iaid, w->iaid) < 0 || copy_str(&l->ipaddr, w->ipaddr) < 0 ||
        copy_str(&l->hostname, w->hostname) < 0 || copy_str(&l->clientid, w->clientid) < 0) {
        virNetworkDHCPLeaseFree(l);
        return NULL;
    }
    return l;
}

int virNetworkGetDHCPLeases(virNetworkPtr network, const char *mac, virNetworkDHCPLeasePtr **leases,
                            unsigned int flags)
{
    compat_reset();
    if (leases)
        *leases = NULL;
    virConnectPtr conn = compat_obj_conn(network, COMPAT_NETWORK);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_network_get_dhcp_leases_args args = {
        .mac = mac, .need_results = leases != NULL, .flags = flags};
    compat_network_to(network, &args.net);
    vrpc_network_get_dhcp_leases_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_network_get_dhcp_leases, &args, &r) < 0)
        goto error;

    int count = (int)r->ret;
    /* With no lease the caller's pointer stays NULL, as in libvirt. */
    if (leases && r->leases.n) {
        virNetworkDHCPLeasePtr *out = calloc((size_t)r->leases.n + 1, sizeof(*out));
        if (!out) {
            compat_no_memory();
            vrpc_free(r);
            goto error;
        }
        for (uint32_t i = 0; i < r->leases.n; i++) {
            if (!(out[i] = lease_from(&r->leases.items[i]))) {
                for (uint32_t j = 0; j < i; j++)
                    virNetworkDHCPLeaseFree(out[j]);
                free(out);
                vrpc_free(r);
                goto error;
            }
        }
        *leases = out;
        count = (int)r->leases.n;
    }
    vrpc_free(r);
    return count;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- interface addresses ---- */

void virDomainInterfaceFree(virDomainInterfacePtr iface)
{
    if (!iface)
        return;
    for (unsigned int i = 0; i < iface->naddrs; i++)
        free(iface->addrs[i].addr);
    free(iface->addrs);
    free(iface->name);
    free(iface->hwaddr);
    free(iface);
}

static virDomainInterfacePtr iface_from(const vrpc_domain_interface *w)
{
    virDomainInterfacePtr f = calloc(1, sizeof(*f));
    if (!f) {
        compat_no_memory();
        return NULL;
    }
    if (copy_str(&f->name, w->name) < 0 || copy_str(&f->hwaddr, w->hwaddr) < 0)
        goto fail;
    if (w->addrs.n) {
        /* w->addrs.n is bounded by the decoder (REMOTE_DOMAIN_IP_ADDR_MAX). */
        f->addrs = calloc(w->addrs.n, sizeof(*f->addrs));
        if (!f->addrs) {
            compat_no_memory();
            goto fail;
        }
        for (uint32_t i = 0; i < w->addrs.n; i++) {
            const vrpc_domain_ip_addr *a = &w->addrs.items[i];
            f->naddrs = i + 1;
            f->addrs[i].type = a->type;
            f->addrs[i].prefix = a->prefix;
            if (copy_str(&f->addrs[i].addr, a->addr) < 0)
                goto fail;
        }
    }
    return f;
fail:
    virDomainInterfaceFree(f);
    return NULL;
}

int virDomainInterfaceAddresses(virDomainPtr dom, virDomainInterfacePtr **ifaces,
                                unsigned int source, unsigned int flags)
{
    compat_reset();
    if (ifaces)
        *ifaces = NULL;
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!ifaces) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "ifaces");
        goto error;
    }
    if (source == VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT &&
        denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;

    vrpc_domain_interface_addresses_args args = {.source = source, .flags = flags};
    compat_domain_to(dom, &args.dom);
    vrpc_domain_interface_addresses_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_interface_addresses, &args, &r) < 0)
        goto error;
    if (r->ifaces.n) {
        virDomainInterfacePtr *out = calloc(r->ifaces.n, sizeof(*out));
        if (!out) {
            compat_no_memory();
            vrpc_free(r);
            goto error;
        }
        for (uint32_t i = 0; i < r->ifaces.n; i++) {
            if (!(out[i] = iface_from(&r->ifaces.items[i]))) {
                for (uint32_t j = 0; j < i; j++)
                    virDomainInterfaceFree(out[j]);
                free(out);
                vrpc_free(r);
                goto error;
            }
        }
        *ifaces = out;
    }
    int count = (int)r->ifaces.n;
    vrpc_free(r);
    return count;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- file systems ---- */

void virDomainFSInfoFree(virDomainFSInfoPtr info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->ndevAlias; i++)
        free(info->devAlias[i]);
    free(info->devAlias);
    free(info->mountpoint);
    free(info->name);
    free(info->fstype);
    free(info);
}

static virDomainFSInfoPtr fsinfo_from(const vrpc_domain_fsinfo *w)
{
    virDomainFSInfoPtr f = calloc(1, sizeof(*f));
    if (!f) {
        compat_no_memory();
        return NULL;
    }
    if (copy_str(&f->mountpoint, w->mountpoint) < 0 || copy_str(&f->name, w->name) < 0 ||
        copy_str(&f->fstype, w->fstype) < 0)
        goto fail;
    if (w->dev_aliases.n) {
        /* Bounded by the decoder (REMOTE_DOMAIN_FSINFO_DISKS_MAX). */
        f->devAlias = calloc(w->dev_aliases.n, sizeof(*f->devAlias));
        if (!f->devAlias) {
            compat_no_memory();
            goto fail;
        }
        for (uint32_t i = 0; i < w->dev_aliases.n; i++) {
            f->ndevAlias = i + 1;
            if (copy_str(&f->devAlias[i], w->dev_aliases.items[i]) < 0)
                goto fail;
        }
    }
    return f;
fail:
    virDomainFSInfoFree(f);
    return NULL;
}

int virDomainGetFSInfo(virDomainPtr dom, virDomainFSInfoPtr **info, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    if (!info) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "info");
        goto error;
    }
    *info = NULL;

    vrpc_domain_get_fsinfo_args args = {.flags = flags};
    compat_domain_to(dom, &args.dom);
    vrpc_domain_get_fsinfo_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_fsinfo, &args, &r) < 0)
        goto error;
    int count = (int)r->ret;
    if (r->info.n) {
        virDomainFSInfoPtr *out = calloc(r->info.n, sizeof(*out));
        if (!out) {
            compat_no_memory();
            vrpc_free(r);
            goto error;
        }
        for (uint32_t i = 0; i < r->info.n; i++) {
            if (!(out[i] = fsinfo_from(&r->info.items[i]))) {
                for (uint32_t j = 0; j < i; j++)
                    virDomainFSInfoFree(out[j]);
                free(out);
                vrpc_free(r);
                goto error;
            }
        }
        *info = out;
        count = (int)r->info.n;
    }
    vrpc_free(r);
    return count;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- I/O threads ---- */

void virDomainIOThreadInfoFree(virDomainIOThreadInfoPtr info)
{
    if (!info)
        return;
    free(info->cpumap);
    free(info);
}

int virDomainGetIOThreadInfo(virDomainPtr dom, virDomainIOThreadInfoPtr **info, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!info) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "info");
        goto error;
    }
    *info = NULL;
    if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG)) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "%s: VIR_DOMAIN_AFFECT_LIVE and VIR_DOMAIN_AFFECT_CONFIG cannot be given "
                     "together",
                     __func__);
        goto error;
    }

    vrpc_domain_get_iothread_info_args args = {.flags = flags};
    compat_domain_to(dom, &args.dom);
    vrpc_domain_get_iothread_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_iothread_info, &args, &r) < 0)
        goto error;
    int count = (int)r->ret;
    if (r->info.n) {
        virDomainIOThreadInfoPtr *out = calloc(r->info.n, sizeof(*out));
        if (!out)
            goto nomem;
        for (uint32_t i = 0; i < r->info.n; i++) {
            const vrpc_domain_iothread_info *w = &r->info.items[i];
            virDomainIOThreadInfoPtr t = calloc(1, sizeof(*t));
            /* cpumap is bounded by the decoder (REMOTE_CPUMAP_MAX). */
            unsigned char *map = malloc(w->cpumap.len ? w->cpumap.len : 1);
            if (!t || !map) {
                free(t);
                free(map);
                for (uint32_t j = 0; j < i; j++)
                    virDomainIOThreadInfoFree(out[j]);
                free(out);
                goto nomem;
            }
            if (w->cpumap.len)
                memcpy(map, w->cpumap.data, w->cpumap.len);
            t->iothread_id = w->iothread_id;
            t->cpumap = map;
            t->cpumaplen = (int)w->cpumap.len;
            out[i] = t;
        }
        *info = out;
        count = (int)r->info.n;
    }
    vrpc_free(r);
    return count;
nomem:
    compat_no_memory();
    vrpc_free(r);
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- string lists ---- */

/* A NULL-terminated malloc()ed copy of n wire strings, or NULL after
 * setting VIR_ERR_NO_MEMORY. */
static char **strv_from(const vrpc_nonnull_string *items, uint32_t n)
{
    char **v = calloc((size_t)n + 1, sizeof(*v));
    if (!v) {
        compat_no_memory();
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!(v[i] = compat_strdup(items[i]))) {
            for (uint32_t j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return NULL;
        }
    }
    return v;
}

int virDomainAuthorizedSSHKeysGet(virDomainPtr domain, const char *user, char ***keys,
                                  unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!user) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "user");
        goto error;
    }
    if (!keys) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "keys");
        goto error;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;

    vrpc_domain_authorized_ssh_keys_get_args args = {.user = user, .flags = flags};
    compat_domain_to(domain, &args.dom);
    vrpc_domain_authorized_ssh_keys_get_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_authorized_ssh_keys_get, &args, &r) < 0)
        goto error;
    char **v = strv_from(r->keys.items, r->keys.n);
    int count = (int)r->keys.n;
    vrpc_free(r);
    if (!v)
        goto error;
    *keys = v;
    return count;
error:
    compat_dispatch(conn);
    return -1;
}

int virDomainGetMessages(virDomainPtr domain, char ***msgs, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!msgs) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "msgs");
        goto error;
    }

    vrpc_domain_get_messages_args args = {.flags = flags};
    compat_domain_to(domain, &args.dom);
    vrpc_domain_get_messages_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_messages, &args, &r) < 0)
        goto error;
    char **v = strv_from(r->msgs.items, r->msgs.n);
    int count = (int)r->msgs.n;
    vrpc_free(r);
    if (!v)
        goto error;
    *msgs = v;
    return count;
error:
    compat_dispatch(conn);
    return -1;
}

int virConnectGetCPUModelNames(virConnectPtr conn, const char *arch, char ***models,
                               unsigned int flags)
{
    compat_reset();
    if (models)
        *models = NULL;
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!arch) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "arch");
        goto error;
    }

    vrpc_connect_get_cpu_model_names_args args = {
        .arch = arch, .need_results = models != NULL, .flags = flags};
    vrpc_connect_get_cpu_model_names_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_connect_get_cpu_model_names, &args, &r) < 0)
        goto error;
    int count = r->ret;
    if (models) {
        char **v = strv_from(r->models.items, r->models.n);
        if (!v) {
            vrpc_free(r);
            goto error;
        }
        *models = v;
    }
    vrpc_free(r);
    return count;
error:
    compat_dispatch(conn);
    return -1;
}
