/* SPDX-License-Identifier: MIT */
/*
 * Events of every family through libvirt's callback signatures
 * (docs/compat.md, "Events").
 *
 * The model is libvirt's client: each connection has one event state (the
 * `events` member of struct _virConnect) holding
 *   - the application's callbacks, numbered per connection from 0 in one
 *     sequence for every family (the ids virConnect*EventRegisterAny return);
 *   - groups: one per (event, object filter) pair, each ONE callback of
 *     virtrpc's events API (vrpc_event_register), so ONE registration on the
 *     daemon that feeds every callback of the group, made with the first of
 *     them and removed with the last;
 *   - a queue of the events received (copies of the decoded messages) and a
 *     timer of the application's event loop (virEventAddTimeout) that
 *     dispatches the queue: the loop drives the connection
 *     (compat_conn_watch), virtrpc's callback queues the event and arms the
 *     timer, and the timer calls the application's callbacks, in the loop's
 *     thread, in the order the events arrived and, for one event, in the
 *     order the callbacks were registered.
 * Without an event loop implementation the timer cannot be made and the
 * registration fails, as libvirt's does.
 *
 * Each callback holds a reference to its connection (as libvirt's), so
 * virConnectClose() returns 1 while callbacks are registered. A callback
 * removed while the queue is being dispatched (from a callback, or from
 * another thread at that moment) is marked deleted: it is not called any
 * more, and its freecb runs once the dispatch of the queue ends; otherwise
 * freecb runs inside the deregistration. A failed registration never runs
 * freecb.
 */
#define VIR_ENUM_SENTINELS /* the *_EVENT_ID_LAST values */
#include "compat.h"

#include <libvirt/libvirt-qemu.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One application callback. */
typedef struct ev_cb {
    int id;         /* the callbackID the application knows */
    int family;     /* VRPC_EVENT_FAMILY_* */
    int event;      /* libvirt's event ID in the family (0 for QEMU monitor events) */
    char *key;      /* the object filter as text (uuid, node device name) or NULL */
    bool dup_check; /* takes part in the "already registered" check */
    bool legacy;    /* virConnectDomainEventRegister's */
    bool deleted;   /* removed during a dispatch: freed when it ends */
    void (*fn)(void);
    void *opaque;
    virFreeCallback freecb;
    struct ev_group *group; /* NULL once deregistered */
    virConnectPtr conn;     /* the reference the callback holds */
    struct ev_cb *next;
} ev_cb;

/* One registration of virtrpc's (so one on the daemon): the callbacks with
 * the same event and filter share it. */
typedef struct ev_group {
    int gid;       /* names the group in queued events */
    int event_key; /* VRPC_EVENT_KEY */
    char *match;   /* the full filter as text (QEMU: with event name and flags) */
    int vrpc_id;   /* vrpc_event_register's id */
    int users;     /* callbacks (deleted ones too) that use it */
    struct compat_conn_events *st;
    struct ev_group *next;
} ev_group;

/* One event waiting for the timer. */
typedef struct ev_item {
    int gid;
    const vrpc_event_info *info;
    void *msg; /* vrpc_event_copy(): one allocation */
    struct ev_item *next;
} ev_item;

struct compat_conn_events {
    atomic_int refs;      /* the connection's, the timer's, a running dispatch's */
    pthread_mutex_t reg;  /* serialises registrations and deregistrations */
    pthread_mutex_t lock; /* the lists and the queue (never held across a call out) */
    virConnectPtr conn;   /* NULL once the connection is gone */
    int next_id;
    int next_gid;
    ev_cb *cbs; /* in registration order */
    ev_group *groups;
    ev_item *q_head, *q_tail;
    size_t queued;
    int timer;       /* the loop's timer, -1 when there is none */
    int dispatching; /* a dispatch of the queue is running */
};

/* ---- the state ---- */

static void item_free(ev_item *it)
{
    vrpc_free(it->msg);
    free(it);
}

static void queue_clear(struct compat_conn_events *st)
{
    ev_item *it = st->q_head, *n;

    for (; it; it = n) {
        n = it->next;
        item_free(it);
    }
    st->q_head = st->q_tail = NULL;
    st->queued = 0;
}

static void state_unref(void *p)
{
    struct compat_conn_events *st = p;

    if (atomic_fetch_sub(&st->refs, 1) != 1)
        return;
    queue_clear(st);
    pthread_mutex_destroy(&st->reg);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* The connection's state, made on first use. NULL after setting the error. */
static struct compat_conn_events *state_get(virConnectPtr conn)
{
    struct compat_conn_events *st;

    pthread_mutex_lock(&conn->lock);
    st = conn->events;
    if (!st && (st = calloc(1, sizeof(*st)))) {
        atomic_init(&st->refs, 1);
        pthread_mutex_init(&st->reg, NULL);
        pthread_mutex_init(&st->lock, NULL);
        st->conn = conn;
        st->timer = -1;
        conn->events = st;
    }
    pthread_mutex_unlock(&conn->lock);
    if (!st)
        compat_no_memory();
    return st;
}

void compat_events_conn_free(virConnectPtr conn)
{
    struct compat_conn_events *st = conn->events;

    if (!st)
        return;
    conn->events = NULL;
    pthread_mutex_lock(&st->lock);
    st->conn = NULL;
    queue_clear(st);
    pthread_mutex_unlock(&st->lock);
    state_unref(st);
}

/* The timer goes with the last callback (and the events still queued with
 * it), as libvirt's. Under st->lock; returns the timer to remove, or -1. */
static int timer_release_locked(struct compat_conn_events *st)
{
    int t = st->timer;

    if (st->cbs || t < 0)
        return -1;
    st->timer = -1;
    queue_clear(st);
    return t;
}

static void cb_free(ev_cb *cb)
{
    free(cb->key);
    free(cb);
}

/* ---- arguments of each callback type, from the event message ---- */

static void call_domain(virConnectPtr conn, const vrpc_event_info *info, const void *m,
                        void (*fn)(void), void *opaque)
{
    const vrpc_nonnull_domain *wd;
    virDomainPtr dom;

    /* Every domain message holds the domain first after the callbackID,
     * either directly or in the nested legacy message. */
    switch (info->id) {
    case VIR_DOMAIN_EVENT_ID_LIFECYCLE:
        wd = &((const vrpc_domain_event_callback_lifecycle_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_REBOOT:
        wd = &((const vrpc_domain_event_callback_reboot_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_RTC_CHANGE:
        wd = &((const vrpc_domain_event_callback_rtc_change_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_WATCHDOG:
        wd = &((const vrpc_domain_event_callback_watchdog_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_IO_ERROR:
        wd = &((const vrpc_domain_event_callback_io_error_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_GRAPHICS:
        wd = &((const vrpc_domain_event_callback_graphics_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON:
        wd = &((const vrpc_domain_event_callback_io_error_reason_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_CONTROL_ERROR:
        wd = &((const vrpc_domain_event_callback_control_error_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_BLOCK_JOB:
        wd = &((const vrpc_domain_event_callback_block_job_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_DISK_CHANGE:
        wd = &((const vrpc_domain_event_callback_disk_change_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_TRAY_CHANGE:
        wd = &((const vrpc_domain_event_callback_tray_change_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_PMWAKEUP:
        wd = &((const vrpc_domain_event_callback_pmwakeup_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_PMSUSPEND:
        wd = &((const vrpc_domain_event_callback_pmsuspend_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE:
        wd = &((const vrpc_domain_event_callback_balloon_change_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK:
        wd = &((const vrpc_domain_event_callback_pmsuspend_disk_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED:
        wd = &((const vrpc_domain_event_callback_device_removed_msg *)m)->msg.dom;
        break;
    case VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2:
        wd = &((const vrpc_domain_event_block_job_2_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_TUNABLE:
        wd = &((const vrpc_domain_event_callback_tunable_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE:
        wd = &((const vrpc_domain_event_callback_agent_lifecycle_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_DEVICE_ADDED:
        wd = &((const vrpc_domain_event_callback_device_added_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION:
        wd = &((const vrpc_domain_event_callback_migration_iteration_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_JOB_COMPLETED:
        wd = &((const vrpc_domain_event_callback_job_completed_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED:
        wd = &((const vrpc_domain_event_callback_device_removal_failed_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_METADATA_CHANGE:
        wd = &((const vrpc_domain_event_callback_metadata_change_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD:
        wd = &((const vrpc_domain_event_block_threshold_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE:
        wd = &((const vrpc_domain_event_memory_failure_msg *)m)->dom;
        break;
    case VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE:
        wd = &((const vrpc_domain_event_memory_device_size_change_msg *)m)->dom;
        break;
#if COMPAT_LIBVIRT_VERSION >= 11002000
    case VIR_DOMAIN_EVENT_ID_NIC_MAC_CHANGE:
        wd = &((const vrpc_domain_event_nic_mac_change_msg *)m)->dom;
        break;
#endif
    default:
        return;
    }

    if (!(dom = compat_domain_from(conn, wd)))
        return;

    switch (info->id) {
    case VIR_DOMAIN_EVENT_ID_LIFECYCLE: {
        const vrpc_domain_event_callback_lifecycle_msg *e = m;
        ((virConnectDomainEventCallback)fn)(conn, dom, e->msg.event, e->msg.detail, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_REBOOT:
    case VIR_DOMAIN_EVENT_ID_CONTROL_ERROR:
        ((virConnectDomainEventGenericCallback)fn)(conn, dom, opaque);
        break;
    case VIR_DOMAIN_EVENT_ID_RTC_CHANGE: {
        const vrpc_domain_event_callback_rtc_change_msg *e = m;
        ((virConnectDomainEventRTCChangeCallback)fn)(conn, dom, e->msg.offset, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_WATCHDOG: {
        const vrpc_domain_event_callback_watchdog_msg *e = m;
        ((virConnectDomainEventWatchdogCallback)fn)(conn, dom, e->msg.action, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_IO_ERROR: {
        const vrpc_domain_event_callback_io_error_msg *e = m;
        ((virConnectDomainEventIOErrorCallback)fn)(conn, dom, e->msg.srcPath, e->msg.devAlias,
                                                   e->msg.action, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON: {
        const vrpc_domain_event_callback_io_error_reason_msg *e = m;
        ((virConnectDomainEventIOErrorReasonCallback)fn)(conn, dom, e->msg.srcPath, e->msg.devAlias,
                                                         e->msg.action, e->msg.reason, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_GRAPHICS: {
        const vrpc_domain_event_graphics_msg *e =
            &((const vrpc_domain_event_callback_graphics_msg *)m)->msg;
        virDomainEventGraphicsAddress local = {
            .family = e->local.family,
            .node = (char *)e->local.node,
            .service = (char *)e->local.service,
        };
        virDomainEventGraphicsAddress remote = {
            .family = e->remote.family,
            .node = (char *)e->remote.node,
            .service = (char *)e->remote.service,
        };
        virDomainEventGraphicsSubject subject = {.nidentity = (int)e->subject.n};
        if (e->subject.n &&
            !(subject.identities = calloc(e->subject.n, sizeof(*subject.identities))))
            break; /* dropped, as libvirt's client drops what it cannot build */
        for (uint32_t i = 0; i < e->subject.n; i++) {
            subject.identities[i].type = (char *)e->subject.items[i].type;
            subject.identities[i].name = (char *)e->subject.items[i].name;
        }
        ((virConnectDomainEventGraphicsCallback)fn)(conn, dom, e->phase, &local, &remote,
                                                    e->authScheme, &subject, opaque);
        free(subject.identities);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_BLOCK_JOB: {
        const vrpc_domain_event_callback_block_job_msg *e = m;
        ((virConnectDomainEventBlockJobCallback)fn)(conn, dom, e->msg.path, e->msg.type,
                                                    e->msg.status, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2: {
        const vrpc_domain_event_block_job_2_msg *e = m;
        ((virConnectDomainEventBlockJobCallback)fn)(conn, dom, e->dst, e->type, e->status, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_DISK_CHANGE: {
        const vrpc_domain_event_callback_disk_change_msg *e = m;
        ((virConnectDomainEventDiskChangeCallback)fn)(conn, dom, e->msg.oldSrcPath,
                                                      e->msg.newSrcPath, e->msg.devAlias,
                                                      e->msg.reason, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_TRAY_CHANGE: {
        const vrpc_domain_event_callback_tray_change_msg *e = m;
        ((virConnectDomainEventTrayChangeCallback)fn)(conn, dom, e->msg.devAlias, e->msg.reason,
                                                      opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_PMWAKEUP: {
        const vrpc_domain_event_callback_pmwakeup_msg *e = m;
        ((virConnectDomainEventPMWakeupCallback)fn)(conn, dom, e->reason, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_PMSUSPEND: {
        const vrpc_domain_event_callback_pmsuspend_msg *e = m;
        ((virConnectDomainEventPMSuspendCallback)fn)(conn, dom, e->reason, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK: {
        const vrpc_domain_event_callback_pmsuspend_disk_msg *e = m;
        ((virConnectDomainEventPMSuspendDiskCallback)fn)(conn, dom, e->reason, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE: {
        const vrpc_domain_event_callback_balloon_change_msg *e = m;
        ((virConnectDomainEventBalloonChangeCallback)fn)(conn, dom, e->msg.actual, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED: {
        const vrpc_domain_event_callback_device_removed_msg *e = m;
        ((virConnectDomainEventDeviceRemovedCallback)fn)(conn, dom, e->msg.devAlias, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_DEVICE_ADDED: {
        const vrpc_domain_event_callback_device_added_msg *e = m;
        ((virConnectDomainEventDeviceAddedCallback)fn)(conn, dom, e->devAlias, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED: {
        const vrpc_domain_event_callback_device_removal_failed_msg *e = m;
        ((virConnectDomainEventDeviceRemovalFailedCallback)fn)(conn, dom, e->devAlias, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_TUNABLE:
    case VIR_DOMAIN_EVENT_ID_JOB_COMPLETED: {
        const vrpc_typed_param *items;
        uint32_t n;
        if (info->id == VIR_DOMAIN_EVENT_ID_TUNABLE) {
            const vrpc_domain_event_callback_tunable_msg *e = m;
            items = e->params.items;
            n = e->params.n;
        } else {
            const vrpc_domain_event_callback_job_completed_msg *e = m;
            items = e->params.items;
            n = e->params.n;
        }
        virTypedParameterPtr params = NULL;
        int nparams = 0;
        if (compat_params_from_wire(items, n, &params, &nparams) < 0) {
            compat_reset(); /* dropped, as libvirt's client drops it */
            break;
        }
        /* the two callback types have the same arguments */
        ((virConnectDomainEventTunableCallback)fn)(conn, dom, params, nparams, opaque);
        virTypedParamsFree(params, nparams);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE: {
        const vrpc_domain_event_callback_agent_lifecycle_msg *e = m;
        ((virConnectDomainEventAgentLifecycleCallback)fn)(conn, dom, e->state, e->reason, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION: {
        const vrpc_domain_event_callback_migration_iteration_msg *e = m;
        ((virConnectDomainEventMigrationIterationCallback)fn)(conn, dom, e->iteration, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_METADATA_CHANGE: {
        const vrpc_domain_event_callback_metadata_change_msg *e = m;
        ((virConnectDomainEventMetadataChangeCallback)fn)(conn, dom, e->type, e->nsuri, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD: {
        const vrpc_domain_event_block_threshold_msg *e = m;
        ((virConnectDomainEventBlockThresholdCallback)fn)(conn, dom, e->dev, e->path, e->threshold,
                                                          e->excess, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE: {
        const vrpc_domain_event_memory_failure_msg *e = m;
        ((virConnectDomainEventMemoryFailureCallback)fn)(conn, dom, e->recipient, e->action,
                                                         e->flags, opaque);
        break;
    }
    case VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE: {
        const vrpc_domain_event_memory_device_size_change_msg *e = m;
        ((virConnectDomainEventMemoryDeviceSizeChangeCallback)fn)(conn, dom, e->alias, e->size,
                                                                  opaque);
        break;
    }
#if COMPAT_LIBVIRT_VERSION >= 11002000
    case VIR_DOMAIN_EVENT_ID_NIC_MAC_CHANGE: {
        const vrpc_domain_event_nic_mac_change_msg *e = m;
        ((virConnectDomainEventNICMACChangeCallback)fn)(conn, dom, e->alias, e->oldMAC, e->newMAC,
                                                        opaque);
        break;
    }
#endif
    default:
        break;
    }
    virDomainFree(dom);
}

static void call_other(virConnectPtr conn, const vrpc_event_info *info, const void *m,
                       void (*fn)(void), void *opaque)
{
    switch (info->family) {
    case VRPC_EVENT_FAMILY_NETWORK: {
        /* every network message has the network after the callbackID */
        const vrpc_network_event_lifecycle_msg *e = m;
        virNetworkPtr net = compat_network_from(conn, &e->net);
        if (!net)
            return;
        if (info->id == VIR_NETWORK_EVENT_ID_LIFECYCLE)
            ((virConnectNetworkEventLifecycleCallback)fn)(conn, net, e->event, e->detail, opaque);
#if COMPAT_LIBVIRT_VERSION >= 9008000
        else if (info->id == VIR_NETWORK_EVENT_ID_METADATA_CHANGE) {
            const vrpc_network_event_callback_metadata_change_msg *mc = m;
            ((virConnectNetworkEventMetadataChangeCallback)fn)(conn, net, mc->type, mc->nsuri,
                                                               opaque);
        }
#endif
        virNetworkFree(net);
        break;
    }
    case VRPC_EVENT_FAMILY_STORAGE_POOL: {
        const vrpc_storage_pool_event_lifecycle_msg *e = m;
        virStoragePoolPtr pool = compat_storage_pool_from(conn, &e->pool);
        if (!pool)
            return;
        if (info->id == VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE)
            ((virConnectStoragePoolEventLifecycleCallback)fn)(conn, pool, e->event, e->detail,
                                                              opaque);
        else
            ((virConnectStoragePoolEventGenericCallback)fn)(conn, pool, opaque);
        virStoragePoolFree(pool);
        break;
    }
    case VRPC_EVENT_FAMILY_NODE_DEVICE: {
        const vrpc_node_device_event_lifecycle_msg *e = m;
        virNodeDevicePtr dev = compat_node_device_from(conn, &e->dev);
        if (!dev)
            return;
        if (info->id == VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE)
            ((virConnectNodeDeviceEventLifecycleCallback)fn)(conn, dev, e->event, e->detail,
                                                             opaque);
        else
            ((virConnectNodeDeviceEventGenericCallback)fn)(conn, dev, opaque);
        virNodeDeviceFree(dev);
        break;
    }
    case VRPC_EVENT_FAMILY_SECRET: {
        const vrpc_secret_event_lifecycle_msg *e = m;
        virSecretPtr sec = compat_secret_from(conn, &e->secret);
        if (!sec)
            return;
        if (info->id == VIR_SECRET_EVENT_ID_LIFECYCLE)
            ((virConnectSecretEventLifecycleCallback)fn)(conn, sec, e->event, e->detail, opaque);
        else
            ((virConnectSecretEventGenericCallback)fn)(conn, sec, opaque);
        virSecretFree(sec);
        break;
    }
    case VRPC_EVENT_FAMILY_QEMU_MONITOR: {
        const vrpc_qemu_domain_monitor_event_msg *e = m;
        virDomainPtr dom = compat_domain_from(conn, &e->dom);
        if (!dom)
            return;
        ((virConnectDomainQemuMonitorEventCallback)fn)(conn, dom, e->event, e->seconds, e->micros,
                                                       e->details, opaque);
        virDomainFree(dom);
        break;
    }
    default:
        break;
    }
}

/* Does this build know how to call the callbacks of the event? An event
 * of a newer libvirt tree than the code knows is refused at registration. */
static bool event_known(int family, int id)
{
    switch (family) {
    case VRPC_EVENT_FAMILY_DOMAIN:
#if COMPAT_LIBVIRT_VERSION >= 11002000
        return id >= 0 && id <= VIR_DOMAIN_EVENT_ID_NIC_MAC_CHANGE;
#else
        return id >= 0 && id <= VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE;
#endif
    case VRPC_EVENT_FAMILY_NETWORK:
#if COMPAT_LIBVIRT_VERSION >= 9008000
        return id == VIR_NETWORK_EVENT_ID_LIFECYCLE || id == VIR_NETWORK_EVENT_ID_METADATA_CHANGE;
#else
        return id == VIR_NETWORK_EVENT_ID_LIFECYCLE;
#endif
    case VRPC_EVENT_FAMILY_STORAGE_POOL:
        return id == VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE || id == VIR_STORAGE_POOL_EVENT_ID_REFRESH;
    case VRPC_EVENT_FAMILY_NODE_DEVICE:
        return id == VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE || id == VIR_NODE_DEVICE_EVENT_ID_UPDATE;
    case VRPC_EVENT_FAMILY_SECRET:
        return id == VIR_SECRET_EVENT_ID_LIFECYCLE || id == VIR_SECRET_EVENT_ID_VALUE_CHANGED;
    case VRPC_EVENT_FAMILY_QEMU_MONITOR:
        return id == 0;
    default:
        return false;
    }
}

/* ---- delivery ---- */

/* virtrpc's callback (in the loop's thread, inside vrpc_conn_process() of
 * the connection's watch): queue a copy and arm the timer. */
static void on_event(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    ev_group *g = opaque;
    struct compat_conn_events *st = g->st;
    ev_item *it;
    (void)c;

    if (!(it = calloc(1, sizeof(*it))))
        return;
    if (vrpc_event_copy(ev, &it->msg) != 0) {
        free(it);
        return;
    }
    it->gid = g->gid;
    it->info = ev->info;
    pthread_mutex_lock(&st->lock);
    if (st->timer < 0) { /* the last callback went */
        pthread_mutex_unlock(&st->lock);
        item_free(it);
        return;
    }
    if (st->q_tail)
        st->q_tail->next = it;
    else
        st->q_head = it;
    st->q_tail = it;
    if (++st->queued == 1)
        virEventUpdateTimeout(st->timer, 0);
    pthread_mutex_unlock(&st->lock);
}

/* The timer: dispatch what is queued, then release the callbacks removed
 * meanwhile (their freecb and their connection reference). */
static void on_timer(int timer, void *opaque)
{
    struct compat_conn_events *st = opaque;
    ev_item *items, *it, *next;
    ev_cb *dead = NULL, **dead_tail = &dead, **pp, *cb, *cn;
    int remove_timer;
    (void)timer;

    atomic_fetch_add(&st->refs, 1);
    pthread_mutex_lock(&st->lock);
    st->dispatching++;
    items = st->q_head;
    st->q_head = st->q_tail = NULL;
    st->queued = 0;
    if (st->timer >= 0)
        virEventUpdateTimeout(st->timer, -1);
    for (it = items; it; it = next) {
        next = it->next;
        /* callbacks registered while this event is dispatched do not get
         * it (as libvirt's) */
        int id_end = st->next_id;
        /* The callbacks of the event's group, in registration order; the
         * list only grows at its end while the lock is dropped, and
         * removals during a dispatch only mark. */
        for (cb = st->cbs; cb; cb = cb->next) {
            if (cb->deleted || !cb->group || cb->group->gid != it->gid || cb->id >= id_end)
                continue;
            void (*fn)(void) = cb->fn;
            void *op = cb->opaque;
            virConnectPtr conn = st->conn;
            pthread_mutex_unlock(&st->lock);
            if (conn) {
                if (it->info->family == VRPC_EVENT_FAMILY_DOMAIN)
                    call_domain(conn, it->info, it->msg, fn, op);
                else
                    call_other(conn, it->info, it->msg, fn, op);
            }
            pthread_mutex_lock(&st->lock);
        }
        item_free(it);
    }
    if (--st->dispatching == 0) {
        for (pp = &st->cbs; *pp;) {
            cb = *pp;
            if (cb->deleted) {
                *pp = cb->next;
                cb->next = NULL;
                *dead_tail = cb;
                dead_tail = &cb->next;
            } else {
                pp = &cb->next;
            }
        }
    }
    remove_timer = timer_release_locked(st);
    pthread_mutex_unlock(&st->lock);
    if (remove_timer >= 0)
        virEventRemoveTimeout(remove_timer);
    /* in registration order; each holds a connection reference */
    for (cb = dead; cb; cb = cn) {
        cn = cb->next;
        if (cb->freecb)
            cb->freecb(cb->opaque);
        compat_connect_unref(cb->conn);
        cb_free(cb);
    }
    state_unref(st);
}

/* ---- registration ---- */

static void set_timer_error(void)
{
    compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                 "cannot add the timer that delivers events: no event loop implementation is "
                 "registered");
}

int compat_events_register(virConnectPtr conn, const compat_event_spec *s)
{
    struct compat_conn_events *st;
    const vrpc_event_info *info;
    ev_cb *cb = NULL, **pp;
    ev_group *g = NULL;
    const char *match = s->match ? s->match : s->key;
    int id, t;

    if (!event_known(s->family, s->event) ||
        !(info = vrpc_event_info_get(VRPC_EVENT_KEY(s->family, s->event)))) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "event ID %d is not supported", s->event);
        return -1;
    }
    if (!(st = state_get(conn)))
        return -1;

    pthread_mutex_lock(&st->reg);
    pthread_mutex_lock(&st->lock);
    if (!st->cbs && st->timer < 0) {
        /* the first callback: the loop's timer that dispatches the queue
         * (its reference of the state is released by the loop) */
        pthread_mutex_unlock(&st->lock);
        atomic_fetch_add(&st->refs, 1);
        t = virEventAddTimeout(-1, on_timer, st, state_unref);
        if (t < 0) {
            state_unref(st);
            set_timer_error();
            goto fail_unlocked;
        }
        pthread_mutex_lock(&st->lock);
        st->timer = t;
    }
    if (s->dup_check) {
        for (ev_cb *o = st->cbs; o; o = o->next) {
            if (o->deleted || !o->dup_check || o->family != s->family || o->event != s->event ||
                o->legacy != s->legacy || o->fn != s->fn)
                continue;
            if ((!o->key && !s->key) || (o->key && s->key && !strcmp(o->key, s->key))) {
                pthread_mutex_unlock(&st->lock);
                compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                             "this callback is already registered for the event");
                goto fail_unlocked;
            }
        }
    }
    if (!(cb = calloc(1, sizeof(*cb))) || (s->key && !(cb->key = strdup(s->key)))) {
        pthread_mutex_unlock(&st->lock);
        compat_no_memory();
        goto fail_unlocked;
    }
    /* the id is used up even when the registration fails (as libvirt's) */
    id = cb->id = st->next_id++;
    cb->family = s->family;
    cb->event = s->event;
    cb->dup_check = s->dup_check;
    cb->legacy = s->legacy;
    cb->fn = s->fn;
    cb->opaque = s->opaque;
    cb->freecb = s->freecb;
    cb->conn = conn;
    for (g = st->groups; g; g = g->next) {
        if (g->event_key == info->key &&
            ((!g->match && !match) || (g->match && match && !strcmp(g->match, match))))
            break;
    }
    if (g) {
        g->users++;
        cb->group = g;
        g = NULL;
    }
    for (pp = &st->cbs; *pp; pp = &(*pp)->next)
        ;
    *pp = cb;
    atomic_fetch_add(&conn->o.refs, 1);
    bool need_group = !cb->group;
    pthread_mutex_unlock(&st->lock);

    /* the loop drives the connection from now on */
    if (!compat_conn_watch(conn))
        goto fail_cb;
    if (need_group) {
        vrpc_error *err = NULL;
        int rc;
        if (!(g = calloc(1, sizeof(*g))) || (match && !(g->match = strdup(match)))) {
            compat_no_memory();
            goto fail_cb;
        }
        g->event_key = info->key;
        g->users = 1;
        g->st = st;
        pthread_mutex_lock(&st->lock);
        g->gid = ++st->next_gid;
        cb->group = g;
        pthread_mutex_unlock(&st->lock);
        rc = vrpc_event_register(conn->c, info->key, s->filter, on_event, g, NULL, &g->vrpc_id,
                                 &err);
        if (rc < 0) {
            compat_error_vrpc(rc, err);
            vrpc_free(err);
            goto fail_cb;
        }
        pthread_mutex_lock(&st->lock);
        g->next = st->groups;
        st->groups = g;
        pthread_mutex_unlock(&st->lock);
    }
    pthread_mutex_unlock(&st->reg);
    return id;

fail_cb:
    /* a refused registration never runs freecb */
    pthread_mutex_lock(&st->lock);
    if (cb->group && cb->group != g)
        cb->group->users--;
    cb->group = NULL;
    if (st->dispatching) {
        /* a dispatch may be at this callback: the dispatch releases it */
        cb->freecb = NULL;
        cb->deleted = true;
        cb = NULL;
    } else {
        for (pp = &st->cbs; *pp && *pp != cb; pp = &(*pp)->next)
            ;
        if (*pp)
            *pp = cb->next;
    }
    t = timer_release_locked(st);
    pthread_mutex_unlock(&st->lock);
    if (t >= 0)
        virEventRemoveTimeout(t);
    pthread_mutex_unlock(&st->reg);
    if (g) {
        free(g->match);
        free(g);
    }
    if (cb) {
        cb_free(cb);
        compat_connect_unref(conn);
    }
    return -1;

fail_unlocked:
    if (cb)
        cb_free(cb);
    pthread_mutex_lock(&st->lock);
    t = timer_release_locked(st);
    pthread_mutex_unlock(&st->lock);
    if (t >= 0)
        virEventRemoveTimeout(t);
    pthread_mutex_unlock(&st->reg);
    return -1;
}

/* Remove the callback `id` of the family (or, when fn is not NULL, the
 * legacy lifecycle callback fn). 0, or -1 after setting the error. */
static int deregister(virConnectPtr conn, int family, int id, void (*fn)(void))
{
    struct compat_conn_events *st;
    ev_cb *cb, **pp, *to_free = NULL;
    ev_group *g, *to_dereg = NULL, **gp;
    int t, rc = 0;

    pthread_mutex_lock(&conn->lock);
    st = conn->events;
    pthread_mutex_unlock(&conn->lock);
    if (!st)
        goto not_found;
    pthread_mutex_lock(&st->reg);
    pthread_mutex_lock(&st->lock);
    for (pp = &st->cbs; (cb = *pp); pp = &cb->next) {
        if (cb->deleted || cb->family != family)
            continue;
        if (fn ? (cb->legacy && cb->fn == fn) : (!cb->legacy && cb->id == id))
            break;
    }
    if (!cb) {
        pthread_mutex_unlock(&st->lock);
        pthread_mutex_unlock(&st->reg);
        goto not_found;
    }
    g = cb->group;
    cb->group = NULL;
    if (st->dispatching) {
        cb->deleted = true; /* released when the dispatch ends */
    } else {
        *pp = cb->next;
        to_free = cb;
    }
    if (g && --g->users == 0) {
        for (gp = &st->groups; *gp && *gp != g; gp = &(*gp)->next)
            ;
        if (*gp)
            *gp = g->next;
        to_dereg = g;
    }
    t = timer_release_locked(st);
    pthread_mutex_unlock(&st->lock);
    if (t >= 0)
        virEventRemoveTimeout(t);
    if (to_free && to_free->freecb)
        to_free->freecb(to_free->opaque);
    if (to_dereg) {
        vrpc_error *err = NULL;
        rc = vrpc_event_deregister(conn->c, to_dereg->vrpc_id, &err);
        if (rc < 0) {
            compat_error_vrpc(rc, err);
            vrpc_free(err);
        }
        /* no call of on_event() for the group runs any more */
        free(to_dereg->match);
        free(to_dereg);
    }
    pthread_mutex_unlock(&st->reg);
    if (to_free) {
        cb_free(to_free);
        compat_connect_unref(conn); /* the caller holds one more */
    }
    return rc < 0 ? -1 : 0;

not_found:
    if (fn)
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                     "no domain event callback %p is registered on this connection",
                     (void *)(uintptr_t)fn);
    else
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                     "no event callback with id %d is registered on this connection", id);
    return -1;
}

int compat_events_deregister(virConnectPtr conn, int family, int callbackID)
{
    return deregister(conn, family, callbackID, NULL);
}

/* ---- the public functions ---- */

/* The object filter of a registration: the wire form for virtrpc and the
 * text that names it. */
typedef struct filter_buf {
    char key[VIR_UUID_STRING_BUFLEN];
    union {
        vrpc_nonnull_domain dom;
        vrpc_nonnull_network net;
        vrpc_nonnull_storage_pool pool;
        vrpc_nonnull_node_device dev;
        vrpc_nonnull_secret secret;
    } w;
} filter_buf;

/* The checks every RegisterAny does after the connection's: the object (of
 * that connection), the callback, the event ID. False after setting the
 * error. */
static bool check_common(virConnectPtr conn, const void *obj, compat_kind kind, virConnectPtr oconn,
                         const void *cb, int eventID, int last, const char *func)
{
    int domain = compat_func_domain(func);

    if (obj) {
        if (!compat_obj_conn_at(obj, kind, func))
            return false;
        if (oconn != conn) {
            compat_error(domain, VIR_ERR_INVALID_ARG,
                         "%s: the object does not belong to this connection", func);
            return false;
        }
    }
    if (!cb) {
        compat_invalid_arg(domain, func, "cb");
        return false;
    }
    if (eventID < 0 || eventID >= last) {
        compat_error(domain, VIR_ERR_INVALID_ARG, "%s: eventID %d is not below %d", func, eventID,
                     last);
        return false;
    }
    return true;
}

static int register_any(virConnectPtr conn, int family, int eventID, const void *filter,
                        const char *key, void (*fn)(void), void *opaque, virFreeCallback freecb)
{
    compat_event_spec s = {
        .family = family,
        .event = eventID,
        .filter = filter,
        .key = key,
        .dup_check = true,
        .fn = fn,
        .opaque = opaque,
        .freecb = freecb,
    };
    int id = compat_events_register(conn, &s);
    if (id < 0)
        compat_dispatch(conn);
    return id;
}

/* The DeregisterAny functions of every family: their checks and the removal. */
static int deregister_any(virConnectPtr conn, int family, int callbackID, const char *func)
{
    compat_reset();
    if (!compat_obj_conn_at(conn, COMPAT_CONNECT, func)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (callbackID < 0) {
        compat_invalid_arg(compat_func_domain(func), func, "callbackID");
        compat_dispatch(conn);
        return -1;
    }
    if (compat_events_deregister(conn, family, callbackID) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    return 0;
}

int virConnectDomainEventRegisterAny(virConnectPtr conn, virDomainPtr dom, int eventID,
                                     virConnectDomainEventGenericCallback cb, void *opaque,
                                     virFreeCallback freecb)
{
    filter_buf f;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!check_common(conn, dom, COMPAT_DOMAIN, dom ? dom->conn : NULL, (const void *)cb, eventID,
                      VIR_DOMAIN_EVENT_ID_LAST, __func__)) {
        compat_dispatch(conn);
        return -1;
    }
    if (dom) {
        compat_domain_to(dom, &f.w.dom);
        compat_uuid_format(dom->uuid, f.key);
    }
    return register_any(conn, VRPC_EVENT_FAMILY_DOMAIN, eventID, dom ? &f.w.dom : NULL,
                        dom ? f.key : NULL, (void (*)(void))cb, opaque, freecb);
}

int virConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    return deregister_any(conn, VRPC_EVENT_FAMILY_DOMAIN, callbackID, __func__);
}

int virConnectDomainEventRegister(virConnectPtr conn, virConnectDomainEventCallback cb,
                                  void *opaque, virFreeCallback freecb)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!cb) {
        compat_invalid_arg(compat_func_domain(__func__), __func__, "cb");
        compat_dispatch(conn);
        return -1;
    }
    compat_event_spec s = {
        .family = VRPC_EVENT_FAMILY_DOMAIN,
        .event = VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        .dup_check = true,
        .legacy = true,
        .fn = (void (*)(void))cb,
        .opaque = opaque,
        .freecb = freecb,
    };
    if (compat_events_register(conn, &s) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    return 0;
}

int virConnectDomainEventDeregister(virConnectPtr conn, virConnectDomainEventCallback cb)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!cb) {
        compat_invalid_arg(compat_func_domain(__func__), __func__, "cb");
        compat_dispatch(conn);
        return -1;
    }
    if (deregister(conn, VRPC_EVENT_FAMILY_DOMAIN, -1, (void (*)(void))cb) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    return 0;
}

int virConnectNetworkEventRegisterAny(virConnectPtr conn, virNetworkPtr net, int eventID,
                                      virConnectNetworkEventGenericCallback cb, void *opaque,
                                      virFreeCallback freecb)
{
    filter_buf f;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!check_common(conn, net, COMPAT_NETWORK, net ? net->conn : NULL, (const void *)cb, eventID,
                      VIR_NETWORK_EVENT_ID_LAST, __func__)) {
        compat_dispatch(conn);
        return -1;
    }
    if (net) {
        compat_network_to(net, &f.w.net);
        compat_uuid_format(net->uuid, f.key);
    }
    return register_any(conn, VRPC_EVENT_FAMILY_NETWORK, eventID, net ? &f.w.net : NULL,
                        net ? f.key : NULL, (void (*)(void))cb, opaque, freecb);
}

int virConnectNetworkEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    return deregister_any(conn, VRPC_EVENT_FAMILY_NETWORK, callbackID, __func__);
}

int virConnectStoragePoolEventRegisterAny(virConnectPtr conn, virStoragePoolPtr pool, int eventID,
                                          virConnectStoragePoolEventGenericCallback cb,
                                          void *opaque, virFreeCallback freecb)
{
    filter_buf f;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!check_common(conn, pool, COMPAT_STORAGE_POOL, pool ? pool->conn : NULL, (const void *)cb,
                      eventID, VIR_STORAGE_POOL_EVENT_ID_LAST, __func__)) {
        compat_dispatch(conn);
        return -1;
    }
    if (pool) {
        compat_storage_pool_to(pool, &f.w.pool);
        compat_uuid_format(pool->uuid, f.key);
    }
    return register_any(conn, VRPC_EVENT_FAMILY_STORAGE_POOL, eventID, pool ? &f.w.pool : NULL,
                        pool ? f.key : NULL, (void (*)(void))cb, opaque, freecb);
}

int virConnectStoragePoolEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    return deregister_any(conn, VRPC_EVENT_FAMILY_STORAGE_POOL, callbackID, __func__);
}

int virConnectNodeDeviceEventRegisterAny(virConnectPtr conn, virNodeDevicePtr dev, int eventID,
                                         virConnectNodeDeviceEventGenericCallback cb, void *opaque,
                                         virFreeCallback freecb)
{
    filter_buf f;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!check_common(conn, dev, COMPAT_NODE_DEVICE, dev ? dev->conn : NULL, (const void *)cb,
                      eventID, VIR_NODE_DEVICE_EVENT_ID_LAST, __func__)) {
        compat_dispatch(conn);
        return -1;
    }
    if (dev)
        compat_node_device_to(dev, &f.w.dev);
    return register_any(conn, VRPC_EVENT_FAMILY_NODE_DEVICE, eventID, dev ? &f.w.dev : NULL,
                        dev ? dev->name : NULL, (void (*)(void))cb, opaque, freecb);
}

int virConnectNodeDeviceEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    return deregister_any(conn, VRPC_EVENT_FAMILY_NODE_DEVICE, callbackID, __func__);
}

int virConnectSecretEventRegisterAny(virConnectPtr conn, virSecretPtr secret, int eventID,
                                     virConnectSecretEventGenericCallback cb, void *opaque,
                                     virFreeCallback freecb)
{
    filter_buf f;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!check_common(conn, secret, COMPAT_SECRET, secret ? secret->conn : NULL, (const void *)cb,
                      eventID, VIR_SECRET_EVENT_ID_LAST, __func__)) {
        compat_dispatch(conn);
        return -1;
    }
    if (secret) {
        compat_secret_to(secret, &f.w.secret);
        compat_uuid_format(secret->uuid, f.key);
    }
    return register_any(conn, VRPC_EVENT_FAMILY_SECRET, eventID, secret ? &f.w.secret : NULL,
                        secret ? f.key : NULL, (void (*)(void))cb, opaque, freecb);
}

int virConnectSecretEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    return deregister_any(conn, VRPC_EVENT_FAMILY_SECRET, callbackID, __func__);
}
