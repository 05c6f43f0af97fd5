/* SPDX-License-Identifier: MIT */
/*
 * Objects: the client-side handles of libvirt's API (domain, network,
 * ...). Each holds a reference to its connection (ports, snapshots and
 * checkpoints to their network or domain instead) and copies of the names
 * the wire identifies it by. A lookup makes a new object every time, as
 * libvirt's own client does; two handles of the same object compare by
 * name or UUID, not by pointer. The accessors that libvirt answers from the
 * handle (names, UUIDs, the owning connection) are here, with libvirt's
 * argument checks and error codes.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the common header ---- */

static void *obj_new(size_t size, compat_kind kind)
{
    compat_obj *o = calloc(1, size);

    if (!o) {
        compat_no_memory();
        return NULL;
    }
    o->magic = COMPAT_MAGIC(kind);
    atomic_init(&o->refs, 1);
    return o;
}

static bool obj_is(const void *p, compat_kind kind)
{
    return p && ((const compat_obj *)p)->magic == COMPAT_MAGIC(kind);
}

static void obj_ref(void *p)
{
    atomic_fetch_add(&((compat_obj *)p)->refs, 1);
}

/* Drop a reference; true when it was the last (the object is then dead:
 * its magic is cleared and the caller frees it). */
static bool obj_unref(void *p)
{
    compat_obj *o = p;

    if (atomic_fetch_sub(&o->refs, 1) != 1)
        return false;
    o->magic = 0;
    return true;
}

static const struct {
    int code;
    int domain;
    const char *what;
} invalid[COMPAT_KIND_MAX] = {
    [COMPAT_CONNECT] = {VIR_ERR_INVALID_CONN, VIR_FROM_NONE, "connection"},
    [COMPAT_DOMAIN] = {VIR_ERR_INVALID_DOMAIN, VIR_FROM_DOM, "domain"},
    [COMPAT_NETWORK] = {VIR_ERR_INVALID_NETWORK, VIR_FROM_NETWORK, "network"},
    [COMPAT_NETWORK_PORT] = {VIR_ERR_INVALID_NETWORK_PORT, VIR_FROM_NETWORK, "network port"},
    [COMPAT_INTERFACE] = {VIR_ERR_INVALID_INTERFACE, VIR_FROM_INTERFACE, "interface"},
    [COMPAT_STORAGE_POOL] = {VIR_ERR_INVALID_STORAGE_POOL, VIR_FROM_STORAGE, "storage pool"},
    [COMPAT_STORAGE_VOL] = {VIR_ERR_INVALID_STORAGE_VOL, VIR_FROM_STORAGE, "storage volume"},
    [COMPAT_NODE_DEVICE] = {VIR_ERR_INVALID_NODE_DEVICE, VIR_FROM_NODEDEV, "node device"},
    [COMPAT_SECRET] = {VIR_ERR_INVALID_SECRET, VIR_FROM_SECRET, "secret"},
    [COMPAT_NWFILTER] = {VIR_ERR_INVALID_NWFILTER, VIR_FROM_NWFILTER, "network filter"},
    [COMPAT_NWFILTER_BINDING] = {VIR_ERR_INVALID_NWFILTER_BINDING, VIR_FROM_NWFILTER,
                                 "network filter binding"},
    [COMPAT_DOMAIN_SNAPSHOT] = {VIR_ERR_INVALID_DOMAIN_SNAPSHOT, VIR_FROM_DOMAIN_SNAPSHOT,
                                "domain snapshot"},
    [COMPAT_DOMAIN_CHECKPOINT] = {VIR_ERR_INVALID_DOMAIN_CHECKPOINT, VIR_FROM_DOMAIN_CHECKPOINT,
                                  "domain checkpoint"},
    [COMPAT_STREAM] = {VIR_ERR_INVALID_STREAM, VIR_FROM_STREAMS, "stream"},
};

/* The connection an object of `kind` hangs from, NULL when the object or
 * anything it hangs from is not alive. */
static virConnectPtr live_conn(const void *obj, compat_kind kind)
{
    switch (kind) {
    case COMPAT_CONNECT:
        return obj_is(obj, kind) ? (virConnectPtr)obj : NULL;
    case COMPAT_DOMAIN:
        return obj_is(obj, kind) ? live_conn(((virDomainPtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_NETWORK:
        return obj_is(obj, kind) ? live_conn(((virNetworkPtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_NETWORK_PORT:
        return obj_is(obj, kind) ? live_conn(((virNetworkPortPtr)obj)->net, COMPAT_NETWORK) : NULL;
    case COMPAT_INTERFACE:
        return obj_is(obj, kind) ? live_conn(((virInterfacePtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_STORAGE_POOL:
        return obj_is(obj, kind) ? live_conn(((virStoragePoolPtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_STORAGE_VOL:
        return obj_is(obj, kind) ? live_conn(((virStorageVolPtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_NODE_DEVICE:
        return obj_is(obj, kind) ? live_conn(((virNodeDevicePtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_SECRET:
        return obj_is(obj, kind) ? live_conn(((virSecretPtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_NWFILTER:
        return obj_is(obj, kind) ? live_conn(((virNWFilterPtr)obj)->conn, COMPAT_CONNECT) : NULL;
    case COMPAT_NWFILTER_BINDING:
        return obj_is(obj, kind) ? live_conn(((virNWFilterBindingPtr)obj)->conn, COMPAT_CONNECT)
                                 : NULL;
    case COMPAT_DOMAIN_SNAPSHOT:
        return obj_is(obj, kind) ? live_conn(((virDomainSnapshotPtr)obj)->domain, COMPAT_DOMAIN)
                                 : NULL;
    case COMPAT_DOMAIN_CHECKPOINT:
        return obj_is(obj, kind) ? live_conn(((virDomainCheckpointPtr)obj)->domain, COMPAT_DOMAIN)
                                 : NULL;
    case COMPAT_STREAM:
        return obj_is(obj, kind) ? live_conn(((virStreamPtr)obj)->conn, COMPAT_CONNECT) : NULL;
    default:
        return NULL;
    }
}

virConnectPtr compat_obj_conn_at(const void *obj, compat_kind kind, const char *func)
{
    virConnectPtr conn = NULL;
    int domain;

    if (kind > 0 && kind < COMPAT_KIND_MAX)
        conn = live_conn(obj, kind);
    if (conn)
        return conn;
    if (kind <= 0 || kind >= COMPAT_KIND_MAX)
        kind = COMPAT_CONNECT;
    domain = kind == COMPAT_CONNECT ? compat_func_domain(func) : invalid[kind].domain;
    compat_error(domain, invalid[kind].code, "%s: not a valid %s object", func ? func : "?",
                 invalid[kind].what);
    return NULL;
}

bool compat_readonly_at(virConnectPtr conn, const char *func)
{
    if (!(conn->flags & VIR_CONNECT_RO))
        return false;
    compat_error(compat_func_domain(func), VIR_ERR_OPERATION_DENIED,
                 "%s changes state: refused on a read-only connection", func ? func : "the call");
    return true;
}

/* Copy src into dst (a NULL src gives an empty string, as the wire has no
 * NULL there); false after setting VIR_ERR_NO_MEMORY. */
static bool dup_into(char **dst, const char *src)
{
    *dst = strdup(src ? src : "");
    if (!*dst) {
        compat_no_memory();
        return false;
    }
    return true;
}

static void uuid_format(const unsigned char *u, char *buf)
{
    snprintf(buf, VIR_UUID_STRING_BUFLEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* A UUID as libvirt reads one: 32 hex digits in pairs, '-' or ' ' allowed
 * between the pairs, white space around. */
static bool uuid_parse(const char *s, unsigned char *u)
{
    size_t i = 0;

    while (is_space(*s))
        s++;
    while (i < VIR_UUID_BUFLEN) {
        int hi, lo;

        if (*s == '-' || *s == ' ') {
            s++;
            continue;
        }
        if ((hi = hexval(s[0])) < 0 || (lo = hexval(s[1])) < 0)
            return false;
        u[i++] = (unsigned char)(hi * 16 + lo);
        s += 2;
    }
    while (*s)
        if (!is_space(*s++))
            return false;
    return true;
}

int compat_uuid_parse(const char *s, unsigned char *u)
{
    return uuid_parse(s, u) ? 0 : -1;
}

void compat_uuid_format(const unsigned char *u, char *buf)
{
    uuid_format(u, buf);
}

/* ---- dropping references ---- */

static void network_unref(virNetworkPtr o);
static void domain_unref(virDomainPtr o);

static void domain_unref(virDomainPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    compat_connect_unref(o->conn);
    free(o);
}

static void network_unref(virNetworkPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    compat_connect_unref(o->conn);
    free(o);
}

static void network_port_unref(virNetworkPortPtr o)
{
    if (!obj_unref(o))
        return;
    network_unref(o->net);
    free(o);
}

static void interface_unref(virInterfacePtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    free(o->mac);
    compat_connect_unref(o->conn);
    free(o);
}

static void storage_pool_unref(virStoragePoolPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    compat_connect_unref(o->conn);
    free(o);
}

static void storage_vol_unref(virStorageVolPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->pool);
    free(o->name);
    free(o->key);
    compat_connect_unref(o->conn);
    free(o);
}

static void node_device_unref(virNodeDevicePtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    free(o->parent);
    compat_connect_unref(o->conn);
    free(o);
}

static void secret_unref(virSecretPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->usageID);
    compat_connect_unref(o->conn);
    free(o);
}

static void nwfilter_unref(virNWFilterPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    compat_connect_unref(o->conn);
    free(o);
}

static void nwfilter_binding_unref(virNWFilterBindingPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->portdev);
    free(o->filtername);
    compat_connect_unref(o->conn);
    free(o);
}

static void domain_snapshot_unref(virDomainSnapshotPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    domain_unref(o->domain);
    free(o);
}

static void domain_checkpoint_unref(virDomainCheckpointPtr o)
{
    if (!obj_unref(o))
        return;
    free(o->name);
    domain_unref(o->domain);
    free(o);
}

/* ---- from the wire ---- */

virDomainPtr compat_domain_from(virConnectPtr conn, const vrpc_nonnull_domain *w)
{
    virDomainPtr o = obj_new(sizeof(*o), COMPAT_DOMAIN);

    if (!o)
        return NULL;
    if (!dup_into(&o->name, w->name)) {
        free(o);
        return NULL;
    }
    memcpy(o->uuid, w->uuid, VIR_UUID_BUFLEN);
    o->id = w->id;
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virNetworkPtr compat_network_from(virConnectPtr conn, const vrpc_nonnull_network *w)
{
    virNetworkPtr o = obj_new(sizeof(*o), COMPAT_NETWORK);

    if (!o)
        return NULL;
    if (!dup_into(&o->name, w->name)) {
        free(o);
        return NULL;
    }
    memcpy(o->uuid, w->uuid, VIR_UUID_BUFLEN);
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virNetworkPortPtr compat_network_port_from(virConnectPtr conn, const vrpc_nonnull_network_port *w)
{
    virNetworkPortPtr o;
    virNetworkPtr net = compat_network_from(conn, &w->net);

    if (!net)
        return NULL;
    o = obj_new(sizeof(*o), COMPAT_NETWORK_PORT);
    if (!o) {
        network_unref(net);
        return NULL;
    }
    memcpy(o->uuid, w->uuid, VIR_UUID_BUFLEN);
    o->net = net;
    return o;
}

virInterfacePtr compat_interface_from(virConnectPtr conn, const vrpc_nonnull_interface *w)
{
    virInterfacePtr o = obj_new(sizeof(*o), COMPAT_INTERFACE);

    if (!o)
        return NULL;
    if (!dup_into(&o->name, w->name) || !dup_into(&o->mac, w->mac)) {
        free(o->name);
        free(o);
        return NULL;
    }
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virStoragePoolPtr compat_storage_pool_from(virConnectPtr conn, const vrpc_nonnull_storage_pool *w)
{
    virStoragePoolPtr o = obj_new(sizeof(*o), COMPAT_STORAGE_POOL);

    if (!o)
        return NULL;
    if (!dup_into(&o->name, w->name)) {
        free(o);
        return NULL;
    }
    memcpy(o->uuid, w->uuid, VIR_UUID_BUFLEN);
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virStorageVolPtr compat_storage_vol_from(virConnectPtr conn, const vrpc_nonnull_storage_vol *w)
{
    virStorageVolPtr o = obj_new(sizeof(*o), COMPAT_STORAGE_VOL);

    if (!o)
        return NULL;
    if (!dup_into(&o->pool, w->pool) || !dup_into(&o->name, w->name) ||
        !dup_into(&o->key, w->key)) {
        free(o->pool);
        free(o->name);
        free(o);
        return NULL;
    }
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virNodeDevicePtr compat_node_device_from(virConnectPtr conn, const vrpc_nonnull_node_device *w)
{
    virNodeDevicePtr o = obj_new(sizeof(*o), COMPAT_NODE_DEVICE);

    if (!o)
        return NULL;
    if (!dup_into(&o->name, w->name)) {
        free(o);
        return NULL;
    }
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virSecretPtr compat_secret_from(virConnectPtr conn, const vrpc_nonnull_secret *w)
{
    virSecretPtr o = obj_new(sizeof(*o), COMPAT_SECRET);

    if (!o)
        return NULL;
    if (!dup_into(&o->usageID, w->usageID)) {
        free(o);
        return NULL;
    }
    memcpy(o->uuid, w->uuid, VIR_UUID_BUFLEN);
    o->usageType = w->usageType;
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virNWFilterPtr compat_nwfilter_from(virConnectPtr conn, const vrpc_nonnull_nwfilter *w)
{
    virNWFilterPtr o = obj_new(sizeof(*o), COMPAT_NWFILTER);

    if (!o)
        return NULL;
    if (!dup_into(&o->name, w->name)) {
        free(o);
        return NULL;
    }
    memcpy(o->uuid, w->uuid, VIR_UUID_BUFLEN);
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virNWFilterBindingPtr compat_nwfilter_binding_from(virConnectPtr conn,
                                                   const vrpc_nonnull_nwfilter_binding *w)
{
    virNWFilterBindingPtr o = obj_new(sizeof(*o), COMPAT_NWFILTER_BINDING);

    if (!o)
        return NULL;
    if (!dup_into(&o->portdev, w->portdev) || !dup_into(&o->filtername, w->filtername)) {
        free(o->portdev);
        free(o);
        return NULL;
    }
    obj_ref(conn);
    o->conn = conn;
    return o;
}

virDomainSnapshotPtr compat_domain_snapshot_from(virConnectPtr conn,
                                                 const vrpc_nonnull_domain_snapshot *w)
{
    virDomainSnapshotPtr o;
    virDomainPtr dom = compat_domain_from(conn, &w->dom);

    if (!dom)
        return NULL;
    o = obj_new(sizeof(*o), COMPAT_DOMAIN_SNAPSHOT);
    if (!o || !dup_into(&o->name, w->name)) {
        free(o);
        domain_unref(dom);
        return NULL;
    }
    o->domain = dom;
    return o;
}

virDomainCheckpointPtr compat_domain_checkpoint_from(virConnectPtr conn,
                                                     const vrpc_nonnull_domain_checkpoint *w)
{
    virDomainCheckpointPtr o;
    virDomainPtr dom = compat_domain_from(conn, &w->dom);

    if (!dom)
        return NULL;
    o = obj_new(sizeof(*o), COMPAT_DOMAIN_CHECKPOINT);
    if (!o || !dup_into(&o->name, w->name)) {
        free(o);
        domain_unref(dom);
        return NULL;
    }
    o->domain = dom;
    return o;
}

/* ---- to the wire ---- */

void compat_domain_to(virDomainPtr o, vrpc_nonnull_domain *w)
{
    w->name = o->name;
    memcpy(w->uuid, o->uuid, VIR_UUID_BUFLEN);
    w->id = o->id;
}

void compat_network_to(virNetworkPtr o, vrpc_nonnull_network *w)
{
    w->name = o->name;
    memcpy(w->uuid, o->uuid, VIR_UUID_BUFLEN);
}

void compat_network_port_to(virNetworkPortPtr o, vrpc_nonnull_network_port *w)
{
    compat_network_to(o->net, &w->net);
    memcpy(w->uuid, o->uuid, VIR_UUID_BUFLEN);
}

void compat_interface_to(virInterfacePtr o, vrpc_nonnull_interface *w)
{
    w->name = o->name;
    w->mac = o->mac;
}

void compat_storage_pool_to(virStoragePoolPtr o, vrpc_nonnull_storage_pool *w)
{
    w->name = o->name;
    memcpy(w->uuid, o->uuid, VIR_UUID_BUFLEN);
}

void compat_storage_vol_to(virStorageVolPtr o, vrpc_nonnull_storage_vol *w)
{
    w->pool = o->pool;
    w->name = o->name;
    w->key = o->key;
}

void compat_node_device_to(virNodeDevicePtr o, vrpc_nonnull_node_device *w)
{
    w->name = o->name;
}

void compat_secret_to(virSecretPtr o, vrpc_nonnull_secret *w)
{
    memcpy(w->uuid, o->uuid, VIR_UUID_BUFLEN);
    w->usageType = o->usageType;
    w->usageID = o->usageID;
}

void compat_nwfilter_to(virNWFilterPtr o, vrpc_nonnull_nwfilter *w)
{
    w->name = o->name;
    memcpy(w->uuid, o->uuid, VIR_UUID_BUFLEN);
}

void compat_nwfilter_binding_to(virNWFilterBindingPtr o, vrpc_nonnull_nwfilter_binding *w)
{
    w->portdev = o->portdev;
    w->filtername = o->filtername;
}

void compat_domain_snapshot_to(virDomainSnapshotPtr o, vrpc_nonnull_domain_snapshot *w)
{
    w->name = o->name;
    compat_domain_to(o->domain, &w->dom);
}

void compat_domain_checkpoint_to(virDomainCheckpointPtr o, vrpc_nonnull_domain_checkpoint *w)
{
    w->name = o->name;
    compat_domain_to(o->domain, &w->dom);
}

/* ---- Ref and Free ---- */

int virDomainRef(virDomainPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virDomainFree(virDomainPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN)) {
        compat_dispatch(NULL);
        return -1;
    }
    domain_unref(o);
    return 0;
}

int virNetworkRef(virNetworkPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NETWORK)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virNetworkFree(virNetworkPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NETWORK)) {
        compat_dispatch(NULL);
        return -1;
    }
    network_unref(o);
    return 0;
}

int virNetworkPortRef(virNetworkPortPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NETWORK_PORT)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virNetworkPortFree(virNetworkPortPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NETWORK_PORT)) {
        compat_dispatch(NULL);
        return -1;
    }
    network_port_unref(o);
    return 0;
}

int virInterfaceRef(virInterfacePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_INTERFACE)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virInterfaceFree(virInterfacePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_INTERFACE)) {
        compat_dispatch(NULL);
        return -1;
    }
    interface_unref(o);
    return 0;
}

int virStoragePoolRef(virStoragePoolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_POOL)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virStoragePoolFree(virStoragePoolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_POOL)) {
        compat_dispatch(NULL);
        return -1;
    }
    storage_pool_unref(o);
    return 0;
}

int virStorageVolRef(virStorageVolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_VOL)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virStorageVolFree(virStorageVolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_VOL)) {
        compat_dispatch(NULL);
        return -1;
    }
    storage_vol_unref(o);
    return 0;
}

int virNodeDeviceRef(virNodeDevicePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NODE_DEVICE)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virNodeDeviceFree(virNodeDevicePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NODE_DEVICE)) {
        compat_dispatch(NULL);
        return -1;
    }
    node_device_unref(o);
    return 0;
}

int virSecretRef(virSecretPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_SECRET)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virSecretFree(virSecretPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_SECRET)) {
        compat_dispatch(NULL);
        return -1;
    }
    secret_unref(o);
    return 0;
}

int virNWFilterRef(virNWFilterPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NWFILTER)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virNWFilterFree(virNWFilterPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NWFILTER)) {
        compat_dispatch(NULL);
        return -1;
    }
    nwfilter_unref(o);
    return 0;
}

int virNWFilterBindingRef(virNWFilterBindingPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NWFILTER_BINDING)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virNWFilterBindingFree(virNWFilterBindingPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NWFILTER_BINDING)) {
        compat_dispatch(NULL);
        return -1;
    }
    nwfilter_binding_unref(o);
    return 0;
}

int virDomainSnapshotRef(virDomainSnapshotPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_SNAPSHOT)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virDomainSnapshotFree(virDomainSnapshotPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_SNAPSHOT)) {
        compat_dispatch(NULL);
        return -1;
    }
    domain_snapshot_unref(o);
    return 0;
}

int virDomainCheckpointRef(virDomainCheckpointPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_CHECKPOINT)) {
        compat_dispatch(NULL);
        return -1;
    }
    obj_ref(o);
    return 0;
}

int virDomainCheckpointFree(virDomainCheckpointPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_CHECKPOINT)) {
        compat_dispatch(NULL);
        return -1;
    }
    domain_checkpoint_unref(o);
    return 0;
}

/* ---- accessors answered from the handle ---- */

const char *virDomainGetName(virDomainPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

unsigned int virDomainGetID(virDomainPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN)) {
        compat_dispatch(NULL);
        return (unsigned int)-1;
    }
    return (unsigned int)o->id;
}

virConnectPtr virDomainGetConnect(virDomainPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->conn;
}

const char *virNetworkGetName(virNetworkPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NETWORK)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

virConnectPtr virNetworkGetConnect(virNetworkPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NETWORK)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->conn;
}

virNetworkPtr virNetworkPortGetNetwork(virNetworkPortPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NETWORK_PORT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->net;
}

const char *virInterfaceGetName(virInterfacePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_INTERFACE)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

const char *virInterfaceGetMACString(virInterfacePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_INTERFACE)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->mac;
}

virConnectPtr virInterfaceGetConnect(virInterfacePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_INTERFACE)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->conn;
}

const char *virStoragePoolGetName(virStoragePoolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_POOL)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

virConnectPtr virStoragePoolGetConnect(virStoragePoolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_POOL)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->conn;
}

const char *virStorageVolGetName(virStorageVolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_VOL)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

const char *virStorageVolGetKey(virStorageVolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_VOL)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->key;
}

virConnectPtr virStorageVolGetConnect(virStorageVolPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_STORAGE_VOL)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->conn;
}

const char *virNodeDeviceGetName(virNodeDevicePtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NODE_DEVICE)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

int virSecretGetUsageType(virSecretPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_SECRET)) {
        compat_dispatch(NULL);
        return -1;
    }
    return o->usageType;
}

const char *virSecretGetUsageID(virSecretPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_SECRET)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->usageID;
}

virConnectPtr virSecretGetConnect(virSecretPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_SECRET)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->conn;
}

const char *virNWFilterGetName(virNWFilterPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NWFILTER)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

const char *virNWFilterBindingGetPortDev(virNWFilterBindingPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NWFILTER_BINDING)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->portdev;
}

const char *virNWFilterBindingGetFilterName(virNWFilterBindingPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_NWFILTER_BINDING)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->filtername;
}

const char *virDomainSnapshotGetName(virDomainSnapshotPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_SNAPSHOT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

virDomainPtr virDomainSnapshotGetDomain(virDomainSnapshotPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_SNAPSHOT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->domain;
}

virConnectPtr virDomainSnapshotGetConnect(virDomainSnapshotPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_SNAPSHOT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->domain->conn;
}

const char *virDomainCheckpointGetName(virDomainCheckpointPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_CHECKPOINT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->name;
}

virDomainPtr virDomainCheckpointGetDomain(virDomainCheckpointPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_CHECKPOINT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->domain;
}

virConnectPtr virDomainCheckpointGetConnect(virDomainCheckpointPtr o)
{
    compat_reset();
    if (!compat_obj_conn(o, COMPAT_DOMAIN_CHECKPOINT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    return o->domain->conn;
}

/*
 * GetUUID and GetUUIDString of every object with a UUID: the object's
 * check, then the output's (in the public function's error domain), then
 * the raw bytes or the text form. The UUID is at `off` in the object.
 */
static int uuid_get(const void *obj, compat_kind kind, size_t off, void *out, bool string,
                    const char *func)
{
    virConnectPtr conn;

    compat_reset();
    if (!(conn = compat_obj_conn_at(obj, kind, func))) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!out) {
        compat_invalid_arg(compat_func_domain(func), func, string ? "buf" : "uuid");
        compat_dispatch(conn);
        return -1;
    }
    const unsigned char *uuid = (const unsigned char *)obj + off;
    if (string)
        uuid_format(uuid, out);
    else
        memcpy(out, uuid, VIR_UUID_BUFLEN);
    return 0;
}

int virDomainGetUUID(virDomainPtr domain, unsigned char *uuid)
{
    return uuid_get(domain, COMPAT_DOMAIN, offsetof(struct _virDomain, uuid), uuid, false,
                    __func__);
}

int virDomainGetUUIDString(virDomainPtr domain, char *buf)
{
    return uuid_get(domain, COMPAT_DOMAIN, offsetof(struct _virDomain, uuid), buf, true, __func__);
}

int virNetworkGetUUID(virNetworkPtr network, unsigned char *uuid)
{
    return uuid_get(network, COMPAT_NETWORK, offsetof(struct _virNetwork, uuid), uuid, false,
                    __func__);
}

int virNetworkGetUUIDString(virNetworkPtr network, char *buf)
{
    return uuid_get(network, COMPAT_NETWORK, offsetof(struct _virNetwork, uuid), buf, true,
                    __func__);
}

int virNetworkPortGetUUID(virNetworkPortPtr port, unsigned char *uuid)
{
    return uuid_get(port, COMPAT_NETWORK_PORT, offsetof(struct _virNetworkPort, uuid), uuid, false,
                    __func__);
}

int virNetworkPortGetUUIDString(virNetworkPortPtr port, char *buf)
{
    return uuid_get(port, COMPAT_NETWORK_PORT, offsetof(struct _virNetworkPort, uuid), buf, true,
                    __func__);
}

int virStoragePoolGetUUID(virStoragePoolPtr pool, unsigned char *uuid)
{
    return uuid_get(pool, COMPAT_STORAGE_POOL, offsetof(struct _virStoragePool, uuid), uuid, false,
                    __func__);
}

int virStoragePoolGetUUIDString(virStoragePoolPtr pool, char *buf)
{
    return uuid_get(pool, COMPAT_STORAGE_POOL, offsetof(struct _virStoragePool, uuid), buf, true,
                    __func__);
}

int virSecretGetUUID(virSecretPtr secret, unsigned char *uuid)
{
    return uuid_get(secret, COMPAT_SECRET, offsetof(struct _virSecret, uuid), uuid, false,
                    __func__);
}

int virSecretGetUUIDString(virSecretPtr secret, char *buf)
{
    return uuid_get(secret, COMPAT_SECRET, offsetof(struct _virSecret, uuid), buf, true, __func__);
}

int virNWFilterGetUUID(virNWFilterPtr nwfilter, unsigned char *uuid)
{
    return uuid_get(nwfilter, COMPAT_NWFILTER, offsetof(struct _virNWFilter, uuid), uuid, false,
                    __func__);
}

int virNWFilterGetUUIDString(virNWFilterPtr nwfilter, char *buf)
{
    return uuid_get(nwfilter, COMPAT_NWFILTER, offsetof(struct _virNWFilter, uuid), buf, true,
                    __func__);
}

/* ---- lookups by UUID string ---- */

/* The UUID argument of a Lookup*ByUUIDString: false after setting
 * libvirt's error (NULL or unparsable: VIR_ERR_INVALID_ARG). */
static bool lookup_uuid(const char *func, const char *uuidstr, unsigned char *uuid)
{
    if (!uuidstr) {
        compat_invalid_arg(compat_func_domain(func), func, "uuidstr");
        return false;
    }
    if (!uuid_parse(uuidstr, uuid)) {
        compat_invalid_arg(compat_func_domain(func), func, "uuidstr");
        return false;
    }
    return true;
}

virDomainPtr virDomainLookupByUUIDString(virConnectPtr conn, const char *uuidstr)
{
    vrpc_domain_lookup_by_uuid_args args;
    vrpc_domain_lookup_by_uuid_ret *ret = NULL;
    virDomainPtr o;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!lookup_uuid(__func__, uuidstr, args.uuid) ||
        compat_call(conn, &vrpc_pd_domain_lookup_by_uuid, &args, &ret) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    o = compat_domain_from(conn, &ret->dom);
    vrpc_free(ret);
    if (!o)
        compat_dispatch(conn);
    return o;
}

virNetworkPtr virNetworkLookupByUUIDString(virConnectPtr conn, const char *uuidstr)
{
    vrpc_network_lookup_by_uuid_args args;
    vrpc_network_lookup_by_uuid_ret *ret = NULL;
    virNetworkPtr o;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!lookup_uuid(__func__, uuidstr, args.uuid) ||
        compat_call(conn, &vrpc_pd_network_lookup_by_uuid, &args, &ret) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    o = compat_network_from(conn, &ret->net);
    vrpc_free(ret);
    if (!o)
        compat_dispatch(conn);
    return o;
}

virStoragePoolPtr virStoragePoolLookupByUUIDString(virConnectPtr conn, const char *uuidstr)
{
    vrpc_storage_pool_lookup_by_uuid_args args;
    vrpc_storage_pool_lookup_by_uuid_ret *ret = NULL;
    virStoragePoolPtr o;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!lookup_uuid(__func__, uuidstr, args.uuid) ||
        compat_call(conn, &vrpc_pd_storage_pool_lookup_by_uuid, &args, &ret) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    o = compat_storage_pool_from(conn, &ret->pool);
    vrpc_free(ret);
    if (!o)
        compat_dispatch(conn);
    return o;
}

virSecretPtr virSecretLookupByUUIDString(virConnectPtr conn, const char *uuidstr)
{
    vrpc_secret_lookup_by_uuid_args args;
    vrpc_secret_lookup_by_uuid_ret *ret = NULL;
    virSecretPtr o;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!lookup_uuid(__func__, uuidstr, args.uuid) ||
        compat_call(conn, &vrpc_pd_secret_lookup_by_uuid, &args, &ret) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    o = compat_secret_from(conn, &ret->secret);
    vrpc_free(ret);
    if (!o)
        compat_dispatch(conn);
    return o;
}

virNWFilterPtr virNWFilterLookupByUUIDString(virConnectPtr conn, const char *uuidstr)
{
    vrpc_nwfilter_lookup_by_uuid_args args;
    vrpc_nwfilter_lookup_by_uuid_ret *ret = NULL;
    virNWFilterPtr o;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!lookup_uuid(__func__, uuidstr, args.uuid) ||
        compat_call(conn, &vrpc_pd_nwfilter_lookup_by_uuid, &args, &ret) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    o = compat_nwfilter_from(conn, &ret->nwfilter);
    vrpc_free(ret);
    if (!o)
        compat_dispatch(conn);
    return o;
}

virNetworkPortPtr virNetworkPortLookupByUUIDString(virNetworkPtr net, const char *uuidstr)
{
    vrpc_network_port_lookup_by_uuid_args args;
    vrpc_network_port_lookup_by_uuid_ret *ret = NULL;
    virNetworkPortPtr o;
    virConnectPtr conn;

    compat_reset();
    if (!(conn = compat_obj_conn(net, COMPAT_NETWORK))) {
        compat_dispatch(NULL);
        return NULL;
    }
    compat_network_to(net, &args.network);
    if (!lookup_uuid(__func__, uuidstr, args.uuid) ||
        compat_call(conn, &vrpc_pd_network_port_lookup_by_uuid, &args, &ret) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    o = compat_network_port_from(conn, &ret->port);
    vrpc_free(ret);
    if (!o)
        compat_dispatch(conn);
    return o;
}
