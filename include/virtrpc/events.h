/* SPDX-License-Identifier: MIT */
/*
 * virtrpc: events from the daemon (domains, networks, storage pools, node
 * devices, secrets, QEMU monitor events).
 *
 * WHICH EVENTS. Every event procedure of the protocol files this build was
 * generated from is known, and the list is derived at run time from the
 * procedure table and libvirt's event IDs (VRPC_DOMAIN_EVENT_ID_*,
 * VRPC_NETWORK_EVENT_ID_*, ...): a build from a newer libvirt knows its new
 * events without new code. vrpc_event_infos() lists them. An event is named
 * by a key, VRPC_EVENT_KEY(family, id), e.g.
 *
 *     VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE)
 *     VRPC_EVENT_STORAGE_POOL(VRPC_STORAGE_POOL_EVENT_ID_REFRESH)
 *     VRPC_EVENT_QEMU_MONITOR
 *
 * or by the number of one of its event procedures in the remote program
 * (VRPC_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE and the older
 * VRPC_PROC_DOMAIN_EVENT_LIFECYCLE both name the lifecycle event), or by
 * name through vrpc_event_info_lookup() ("domain.lifecycle", "lifecycle",
 * "storage-pool.refresh", "pm-wakeup", ...).
 *
 * REGISTRATION. vrpc_event_register() takes an optional object filter, a
 * callback, user data and a function that releases the user data, and
 * gives back an id for vrpc_event_deregister(). On the daemon it uses the
 * callback-ID procedures (CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
 * CONNECT_NETWORK_EVENT_REGISTER_ANY, ..., QEMU's
 * CONNECT_DOMAIN_MONITOR_EVENT_REGISTER): callbacks with the same event and
 * the same filter share ONE registration on the daemon, made when the first
 * of them is registered and removed when the last one goes. The events the
 * daemon sends carry that registration's callbackID and are delivered to
 * exactly its callbacks. A daemon without callback IDs (feature
 * VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK, asked once when the first event is
 * registered; libvirt before 1.2.1) gets the older domain-only procedures
 * (CONNECT_DOMAIN_EVENT_REGISTER_ANY), one registration per event, and the
 * library applies the domain filters itself; other families and the newer
 * domain events then fail with VRPC_E_UNSUPPORTED.
 *
 * DELIVERY. Callbacks run only inside vrpc_conn_process() (and so in the
 * event thread, which calls it), in the order the events arrived, one at a
 * time; never inside another thread's call. Events that arrive while any
 * thread reads the socket are queued (see VRPC_EVENT_QUEUE_MAX) until the
 * next vrpc_conn_process(). The callback receives the event decoded: `msg`
 * is the `_msg` structure of the event procedure (vrpc_ev->info->proc->msg
 * describes it), always in its callback-ID form, e.g.
 * `const vrpc_domain_event_callback_lifecycle_msg *`, whose callbackID is
 * the daemon's registration id. It is valid only during the callback;
 * vrpc_event_copy() keeps one. Callbacks may call any function of the
 * library, including vrpc_event_deregister() of themselves, except
 * vrpc_conn_close() and vrpc_conn_stop_event_thread() of their connection.
 *
 * WHAT IS DROPPED (counted in vrpc_event_stats, never fatal): events beyond
 * the queue limits (the newest are dropped: a program that stops calling
 * vrpc_conn_process() does not grow without limit); events whose payload
 * does not decode (as libvirt's client, which drops them silently); events
 * of unknown programs or procedures, with a status other than OK, or with a
 * callbackID that has no registration (events that were on their way while
 * the last callback was deregistered).
 */
#ifndef VIRTRPC_EVENTS_H
#define VIRTRPC_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <virtrpc/conn.h>
#include <virtrpc/protocol.h>
#include <virtrpc/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Event families. Families that a newer libvirt adds get the next numbers. */
enum {
    VRPC_EVENT_FAMILY_DOMAIN = 1,
    VRPC_EVENT_FAMILY_NETWORK = 2,
    VRPC_EVENT_FAMILY_STORAGE_POOL = 3,
    VRPC_EVENT_FAMILY_NODE_DEVICE = 4,
    VRPC_EVENT_FAMILY_SECRET = 5,
    VRPC_EVENT_FAMILY_QEMU_MONITOR = 6,
};

#define VRPC_EVENT_KEY(family, id) ((int)(((family) << 16) | (id)))
#define VRPC_EVENT_DOMAIN(id) VRPC_EVENT_KEY(VRPC_EVENT_FAMILY_DOMAIN, id)
#define VRPC_EVENT_NETWORK(id) VRPC_EVENT_KEY(VRPC_EVENT_FAMILY_NETWORK, id)
#define VRPC_EVENT_STORAGE_POOL(id) VRPC_EVENT_KEY(VRPC_EVENT_FAMILY_STORAGE_POOL, id)
#define VRPC_EVENT_NODE_DEVICE(id) VRPC_EVENT_KEY(VRPC_EVENT_FAMILY_NODE_DEVICE, id)
#define VRPC_EVENT_SECRET(id) VRPC_EVENT_KEY(VRPC_EVENT_FAMILY_SECRET, id)
/* QEMU monitor events (qemu program); filter: vrpc_qemu_monitor_filter. */
#define VRPC_EVENT_QEMU_MONITOR VRPC_EVENT_KEY(VRPC_EVENT_FAMILY_QEMU_MONITOR, 0)

/* Events waiting for vrpc_conn_process() at most (count and payload bytes). */
#define VRPC_EVENT_QUEUE_MAX 4096
#define VRPC_EVENT_QUEUE_MAX_BYTES ((size_t)16 << 20)

typedef struct vrpc_event_info {
    int key;             /* VRPC_EVENT_KEY(family, id) */
    int family;          /* VRPC_EVENT_FAMILY_* */
    int id;              /* libvirt's event ID within the family (0 for QEMU monitor events) */
    const char *name;    /* "domain.lifecycle", "storage-pool.refresh", "qemu.monitor" */
    const char *id_name; /* "VIR_DOMAIN_EVENT_ID_LIFECYCLE" (NULL for QEMU monitor events) */
    /* The event procedure sent for callback-ID registrations: the one whose
     * `msg` the callbacks receive. */
    const vrpc_proc *proc;
    /* The older form without callbackID (16 domain events), or NULL. */
    const vrpc_proc *legacy_proc;
    const vrpc_proc *register_proc;   /* e.g. connect_domain_event_callback_register_any */
    const vrpc_proc *deregister_proc; /* e.g. connect_domain_event_callback_deregister_any */
    const void *reserved1;            /* NULL; room for later members (the infos are an array) */
    const void *reserved2;
} vrpc_event_info;

/* Every event this build knows, grouped by family. */
VRPC_EXPORT const vrpc_event_info *vrpc_event_infos(size_t *count);
/* The event named by a key (VRPC_EVENT_KEY) or an event procedure number of
 * the remote program; NULL if unknown. */
VRPC_EXPORT const vrpc_event_info *vrpc_event_info_get(int event);
/*
 * The event named: "family.event" ("domain.lifecycle", "storage-pool.refresh",
 * "qemu.monitor"), a bare domain event name ("lifecycle", "block-job-2", as
 * virsh event names them), an event procedure ("domain_event_callback_tunable",
 * "REMOTE_PROC_DOMAIN_EVENT_CALLBACK_TUNABLE") or an event ID constant
 * ("VIR_DOMAIN_EVENT_ID_TUNABLE"). Case, '-' and '_' do not matter
 * ("pm-wakeup" = "pmwakeup"). NULL if unknown.
 */
VRPC_EXPORT const vrpc_event_info *vrpc_event_info_lookup(const char *name);

/* What a callback receives. Valid only during the callback. */
typedef struct vrpc_event {
    const vrpc_event_info *info;
    const vrpc_type *type; /* == info->proc->msg: the type of msg */
    const void *msg;       /* the decoded `_msg` (callback-ID form) */
    int callback;          /* the id vrpc_event_register() returned */
    const uint8_t *xdr;    /* msg as XDR bytes (what vrpc_event_copy decodes) */
    size_t xdr_len;
} vrpc_event;

typedef void (*vrpc_event_cb)(vrpc_conn *c, const vrpc_event *ev, void *opaque);

/* The filter of QEMU monitor events (every member optional). */
typedef struct vrpc_qemu_monitor_filter {
    const vrpc_nonnull_domain *dom; /* NULL: every domain */
    const char *event;              /* NULL: every event; else the name (or a regex, see flags) */
    unsigned int flags; /* VRPC_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX | _NOCASE */
    /* Zero-initialise the filter: later members take these, NULL meaning
     * what the library does today. */
    const void *reserved1;
    const void *reserved2;
} vrpc_qemu_monitor_filter;

/*
 * Register cb for an event (see WHICH EVENTS). filter, NULL for every
 * object, points to the object of the event's family:
 *   domain: const vrpc_nonnull_domain *     network: const vrpc_nonnull_network *
 *   storage pool: const vrpc_nonnull_storage_pool *
 *   node device: const vrpc_nonnull_node_device *
 *   secret: const vrpc_nonnull_secret *     QEMU: const vrpc_qemu_monitor_filter *
 * (the daemon matches domains, networks, pools and secrets by UUID, node
 * devices by name). free_opaque (may be NULL) is called with opaque once cb
 * can no longer run: in vrpc_event_deregister() (which first waits for a
 * call of cb running in another thread; when cb deregisters itself, after
 * it returns) or in vrpc_conn_close(); not when the registration fails (as
 * libvirt). *id receives the callback's id (> 0).
 * Blocks for the daemon's registration when the (event, filter) pair is
 * new. Returns 0, VRPC_E_INVALID (unknown event, bad filter),
 * VRPC_E_UNSUPPORTED (admin connection, daemon without the procedure, or
 * a daemon that does not know this event: one older than the libvirt the
 * build was generated from; `err` then holds the daemon's own error,
 * VRPC_ERR_NO_SUPPORT, or VRPC_ERR_INTERNAL_ERROR "unsupported ... event ID
 * N" as daemons up to at least 11.3.0 send it) or the call's error.
 */
VRPC_EXPORT int vrpc_event_register(vrpc_conn *c, int event, const void *filter, vrpc_event_cb cb,
                                    void *opaque, void (*free_opaque)(void *), int *id,
                                    vrpc_error **err);

/*
 * Remove a callback. When it was the last one of its daemon registration,
 * deregisters on the daemon (blocking; a failure there is reported but the
 * callback is gone all the same). No call of cb starts after this returns.
 * Returns 0, VRPC_E_NOT_FOUND (no such id) or the daemon call's error.
 */
VRPC_EXPORT int vrpc_event_deregister(vrpc_conn *c, int id, vrpc_error **err);

/* Typed shorthands of vrpc_event_register() for each family (id: the
 * family's event ID, e.g. VRPC_DOMAIN_EVENT_ID_REBOOT). */
VRPC_EXPORT int vrpc_event_register_domain(vrpc_conn *c, int id, const vrpc_nonnull_domain *dom,
                                           vrpc_event_cb cb, void *opaque,
                                           void (*free_opaque)(void *), int *cb_id,
                                           vrpc_error **err);
VRPC_EXPORT int vrpc_event_register_network(vrpc_conn *c, int id, const vrpc_nonnull_network *net,
                                            vrpc_event_cb cb, void *opaque,
                                            void (*free_opaque)(void *), int *cb_id,
                                            vrpc_error **err);
VRPC_EXPORT int vrpc_event_register_storage_pool(vrpc_conn *c, int id,
                                                 const vrpc_nonnull_storage_pool *pool,
                                                 vrpc_event_cb cb, void *opaque,
                                                 void (*free_opaque)(void *), int *cb_id,
                                                 vrpc_error **err);
VRPC_EXPORT int vrpc_event_register_node_device(vrpc_conn *c, int id,
                                                const vrpc_nonnull_node_device *dev,
                                                vrpc_event_cb cb, void *opaque,
                                                void (*free_opaque)(void *), int *cb_id,
                                                vrpc_error **err);
VRPC_EXPORT int vrpc_event_register_secret(vrpc_conn *c, int id, const vrpc_nonnull_secret *secret,
                                           vrpc_event_cb cb, void *opaque,
                                           void (*free_opaque)(void *), int *cb_id,
                                           vrpc_error **err);
VRPC_EXPORT int vrpc_event_register_qemu_monitor(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                                 const char *event, unsigned int flags,
                                                 vrpc_event_cb cb, void *opaque,
                                                 void (*free_opaque)(void *), int *cb_id,
                                                 vrpc_error **err);

/*
 * A copy of the event's `msg` that outlives the callback: ONE allocation
 * (of type ev->type) to release with vrpc_free(). Returns 0 or VRPC_E_NOMEM.
 */
VRPC_EXPORT int vrpc_event_copy(const vrpc_event *ev, void **out);

/* A deep copy of any value of type t (through its XDR encoding): one
 * allocation to release with vrpc_free(). 0, VRPC_E_NOMEM, VRPC_E_INVALID. */
VRPC_EXPORT int vrpc_value_copy(const vrpc_type *t, const void *value, void **out);

typedef struct vrpc_event_stats {
    uint64_t received;            /* event messages read from the daemon */
    uint64_t delivered;           /* callback invocations */
    uint64_t dropped_overflow;    /* not queued: the queue was full */
    uint64_t dropped_undecodable; /* the payload did not decode */
    uint64_t dropped_unrouted;    /* no callback for it (see WHAT IS DROPPED) */
    uint32_t queued;              /* waiting for vrpc_conn_process() now */
    uint32_t callbacks;           /* registered callbacks */
    uint32_t registrations;       /* registrations on the daemon */
    uint64_t server_calls;        /* register/deregister calls made to the daemon so far */
    uint64_t reserved[4];         /* zero; room for later counters */
} vrpc_event_stats;

/* Counters of the connection's events. 0 or VRPC_E_INVALID. */
VRPC_EXPORT int vrpc_event_get_stats(const vrpc_conn *c, vrpc_event_stats *out);

#ifdef __cplusplus
}
#endif
#endif
