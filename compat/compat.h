/* SPDX-License-Identifier: MIT */
/*
 * The libvirt-compatible libraries: internal interface shared by the
 * hand-written files of compat/ and the bodies virtrpc-gen writes
 * (compat-gen-*.c in the build tree).
 *
 * Layering: compat/ sits above the library. It uses only virtrpc's public
 * API (<virtrpc/virtrpc.h>: vrpc_conn_open_auth, vrpc_call, vrpc_free, the
 * generated types and procedure descriptors) and libvirt's public headers
 * (taken from the libvirt source tree the build uses), and defines libvirt's
 * public functions. Nothing in src/ knows it exists.
 *
 * Conventions of every public function:
 *   1. compat_reset() first (libvirt clears the thread's last error at the
 *      entry of every public call);
 *   2. argument checks with libvirt's error codes (compat_obj_conn() for the
 *      object argument, compat_invalid_arg() for the rest);
 *   3. on failure: the thread's last error is set (compat_error*()), then
 *      compat_dispatch(conn) copies it to the connection and runs the error
 *      handlers, and the function returns -1 / NULL;
 *   4. memory handed to the caller is allocated with malloc() (the caller
 *      free()s it); decoded replies are released with vrpc_free().
 */
#ifndef VIRTRPC_COMPAT_H
#define VIRTRPC_COMPAT_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <virtrpc/virtrpc.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- objects ---- */

/* The kinds of object, for compat_obj_conn() and the magic numbers. */
typedef enum compat_kind {
    COMPAT_CONNECT = 1,
    COMPAT_DOMAIN,
    COMPAT_NETWORK,
    COMPAT_NETWORK_PORT,
    COMPAT_INTERFACE,
    COMPAT_STORAGE_POOL,
    COMPAT_STORAGE_VOL,
    COMPAT_NODE_DEVICE,
    COMPAT_SECRET,
    COMPAT_NWFILTER,
    COMPAT_NWFILTER_BINDING,
    COMPAT_DOMAIN_SNAPSHOT,
    COMPAT_DOMAIN_CHECKPOINT,
    COMPAT_STREAM,
    COMPAT_KIND_MAX
} compat_kind;

/* The header every object starts with. magic is COMPAT_MAGIC(kind) while
 * the object lives and 0 after its last reference is gone. */
typedef struct compat_obj {
    uint32_t magic;
    atomic_int refs;
} compat_obj;

#define COMPAT_MAGIC(kind) (0x76727000u | (uint32_t)(kind))

struct _virConnect {
    compat_obj o;
    vrpc_conn *c;
    unsigned int flags; /* VIR_CONNECT_RO when opened read-only */
    pthread_mutex_t lock;
    virError err;         /* the connection's last error (under lock) */
    virErrorFunc handler; /* virConnSetErrorFunc (under lock) */
    void *handler_data;
    /* the close callback (virConnectRegisterCloseCallback) */
    virConnectCloseFunc close_cb;
    void *close_opaque;
    virFreeCallback close_free;
    bool closing;               /* the last reference is gone: no close callback any more */
    char *uri;                  /* virConnectGetURI (the daemon's own after a probe) */
    char *type;                 /* virConnectGetType, asked once (under lock) */
    int transport;              /* compat_transport: what virConnectIsSecure/IsEncrypted know */
    struct compat_watch *watch; /* compat/watch.c: driven by the event loop (under lock) */
    struct compat_conn_events *events; /* compat/events.c: event callbacks (under lock) */

    /* A loop was registered at open: as libvirt's client, keepalive works. */
    bool keepalive_ok;
    /* The close callback ran: as in libvirt, its data and the registration's
     * reference are gone but cb stays registered (under lock). */
    bool close_fired;
};

/* The transport of a connection, from its URI as libvirt's remote driver
 * chooses it. */
enum compat_transport {
    COMPAT_TR_UNIX = 0,
    COMPAT_TR_TLS,
    COMPAT_TR_TCP,
    COMPAT_TR_SSH, /* ssh, libssh, libssh2 */
    COMPAT_TR_EXT,
};

/* Set by the event loop's registration (virEventRegisterImpl,
 * virEventRegisterDefaultImpl): libvirt's client refuses keepalive without
 * an event loop implementation, and so does virConnectSetKeepAlive. */
extern atomic_bool compat_event_loop;

/* ---- a connection driven by the event loop (compat/watch.c) ---- */

/*
 * Have the registered event loop (virEventRegisterImpl's or the default
 * one) drive a virtrpc connection as libvirt's client drives its socket: a
 * handle on vrpc_conn_get_fd() for vrpc_conn_get_events(), one on
 * vrpc_conn_get_notify_fd() and a timeout at vrpc_conn_get_timeout(), whose
 * callbacks run vrpc_conn_process() (which runs virtrpc's event, close and
 * stream callbacks in the loop's thread) and then the hooks.
 *
 * compat_watch_new() returns NULL after setting the error when no loop is
 * registered. compat_watch_free() removes the handles and the timeout and
 * returns once no callback of the watch runs any more (NULL-safe); called
 * from inside a callback of the same watch it returns at once, and the
 * connection must then not be closed before that callback ends (see
 * compat_watch_free_then). A hook runs after each vrpc_conn_process() of
 * the watch, in the loop's thread; compat_watch_hook_remove() returns once
 * the hook no longer runs (unless called from that hook).
 */
typedef struct compat_watch compat_watch;
compat_watch *compat_watch_new(vrpc_conn *c);
void compat_watch_free(compat_watch *w);
/*
 * compat_watch_free(), then fin(opaque) once no callback of the watch runs
 * any more (e.g. vrpc_conn_close of its connection): at once from another
 * thread (after waiting for a callback under way), at the end of the
 * running callback when called from inside it (from a hook, or from an
 * event or close callback run by its vrpc_conn_process(): virtrpc's
 * connection cannot be closed from there). fin may be NULL; w may be NULL
 * (fin then runs at once).
 */
void compat_watch_free_then(compat_watch *w, void (*fin)(void *opaque), void *opaque);
/* The close reason libvirt's client reports for virtrpc's `reason`, when a
 * close callback runs in a watch's callback: the reason depends on what the
 * loop reported (EOF becomes ERROR under a loop that only reports
 * readability, as python's libvirtaio). */
int compat_watch_close_reason(int reason);
/* Is the registered loop the default one (virEventRegisterDefaultImpl)? */
bool compat_event_loop_is_default(void);
int compat_watch_hook_add(compat_watch *w, void (*fn)(void *opaque), void *opaque);
void compat_watch_hook_remove(compat_watch *w, void (*fn)(void *opaque), void *opaque);

/* The connection's watch, made on first use (under conn->lock; freed by the
 * last reference of the connection), or NULL after setting the error. */
compat_watch *compat_conn_watch(virConnectPtr conn);

/* After a failed call: when the connection ended and no loop watches it,
 * run its close callback in the calling thread, as libvirt's client does
 * in the call that saw the end (the thread's last error is kept). */
void compat_conn_ended(virConnectPtr conn);

/* Drop one reference of the connection (objects hold one each); the last
 * one closes it. Returns the references left. */
int compat_connect_unref(virConnectPtr conn);

/* ---- events (compat/events.c) ---- */

/* A registration of an event callback: libvirt's event ID `event` of the
 * family (VRPC_EVENT_FAMILY_*), the object filter in virtrpc's form (see
 * vrpc_event_register) and as text (`key`: uuid or node device name, for
 * libvirt's duplicate check; `match`: what names the daemon registration,
 * NULL for key), the callback as given. */
typedef struct compat_event_spec {
    int family;
    int event;
    const void *filter;
    const char *key;
    const char *match;
    bool dup_check; /* refuse a second registration of the same fn, event and key */
    bool legacy;    /* virConnectDomainEventRegister's */
    void (*fn)(void);
    void *opaque;
    virFreeCallback freecb;
} compat_event_spec;

/* Register: the callbackID (>= 0), or -1 after setting the error (freecb
 * not run). Deregister by id within the family: 0, or -1 after setting the
 * error. Neither dispatches the error. */
int compat_events_register(virConnectPtr conn, const compat_event_spec *s);
int compat_events_deregister(virConnectPtr conn, int family, int callbackID);
/* The connection's last reference: release its event state. */
void compat_events_conn_free(virConnectPtr conn);

struct _virDomain {
    compat_obj o;
    virConnectPtr conn;
    char *name;
    unsigned char uuid[VIR_UUID_BUFLEN];
    int id;
};

struct _virNetwork {
    compat_obj o;
    virConnectPtr conn;
    char *name;
    unsigned char uuid[VIR_UUID_BUFLEN];
};

struct _virNetworkPort {
    compat_obj o;
    virNetworkPtr net; /* holds a reference */
    unsigned char uuid[VIR_UUID_BUFLEN];
};

struct _virInterface {
    compat_obj o;
    virConnectPtr conn;
    char *name;
    char *mac;
};

struct _virStoragePool {
    compat_obj o;
    virConnectPtr conn;
    char *name;
    unsigned char uuid[VIR_UUID_BUFLEN];
};

struct _virStorageVol {
    compat_obj o;
    virConnectPtr conn;
    char *pool;
    char *name;
    char *key;
};

struct _virNodeDevice {
    compat_obj o;
    virConnectPtr conn;
    char *name;
    char *parent; /* cached by virNodeDeviceGetParent, else NULL */
};

struct _virSecret {
    compat_obj o;
    virConnectPtr conn;
    unsigned char uuid[VIR_UUID_BUFLEN];
    int usageType;
    char *usageID;
};

struct _virNWFilter {
    compat_obj o;
    virConnectPtr conn;
    char *name;
    unsigned char uuid[VIR_UUID_BUFLEN];
};

struct _virNWFilterBinding {
    compat_obj o;
    virConnectPtr conn;
    char *portdev;
    char *filtername;
};

struct _virDomainSnapshot {
    compat_obj o;
    virDomainPtr domain; /* holds a reference */
    char *name;
};

struct _virDomainCheckpoint {
    compat_obj o;
    virDomainPtr domain; /* holds a reference */
    char *name;
};

/* A stream (compat/stream.c): virStreamNew makes it unbound, the call that
 * takes it (virStorageVolUpload, virDomainOpenConsole, ...) binds it to the
 * vrpc_stream that call opened. */
struct _virStream {
    compat_obj o;
    virConnectPtr conn; /* holds a reference */
    unsigned int flags; /* virStreamNew's: VIR_STREAM_NONBLOCK */
    pthread_mutex_t lock;
    vrpc_stream *st;     /* NULL until bound (under lock) */
    vrpc_stream **spent; /* streams of earlier bindings, freed with the object */
    size_t nspent;
    bool closed;                 /* finished or aborted (under lock) */
    virError err;                /* the error its finish or abort failed with (under lock) */
    uint64_t hole;               /* the hole received and not yet consumed (under lock) */
    struct compat_stream_cb *cb; /* virStreamEventAddCallback's (under lock) */
};

/*
 * The connection of a live object of the given kind (for COMPAT_CONNECT the
 * connection itself), or NULL after setting libvirt's error for an invalid
 * object of that kind (VIR_ERR_INVALID_CONN, VIR_ERR_INVALID_DOMAIN, ...),
 * as libvirt's argument checks do (the domain of an invalid connection
 * depends on the calling function, hence the macro passing __func__). Does
 * not take a reference.
 */
virConnectPtr compat_obj_conn_at(const void *obj, compat_kind kind, const char *func);
#define compat_obj_conn(obj, kind) compat_obj_conn_at((obj), (kind), __func__)

/* libvirt's VIR_FROM_THIS of the source file that holds the public function
 * `func` (the error domain of its argument checks). */
int compat_func_domain(const char *func);

/* Is the connection read-only? Sets VIR_ERR_OPERATION_DENIED when it is
 * (the check libvirt does before calls that change state, in the calling
 * function's error domain: the macro passes __func__) and returns true. */
bool compat_readonly_at(virConnectPtr conn, const char *func);
#define compat_readonly(conn) compat_readonly_at((conn), __func__)

/*
 * From the wire to an object: a new object (one reference, owned by the
 * caller) holding a reference to its connection (or parent object), with
 * copies of the strings. NULL after setting VIR_ERR_NO_MEMORY.
 */
virDomainPtr compat_domain_from(virConnectPtr conn, const vrpc_nonnull_domain *w);
virNetworkPtr compat_network_from(virConnectPtr conn, const vrpc_nonnull_network *w);
virNetworkPortPtr compat_network_port_from(virConnectPtr conn, const vrpc_nonnull_network_port *w);
virInterfacePtr compat_interface_from(virConnectPtr conn, const vrpc_nonnull_interface *w);
virStoragePoolPtr compat_storage_pool_from(virConnectPtr conn, const vrpc_nonnull_storage_pool *w);
virStorageVolPtr compat_storage_vol_from(virConnectPtr conn, const vrpc_nonnull_storage_vol *w);
virNodeDevicePtr compat_node_device_from(virConnectPtr conn, const vrpc_nonnull_node_device *w);
virSecretPtr compat_secret_from(virConnectPtr conn, const vrpc_nonnull_secret *w);
virNWFilterPtr compat_nwfilter_from(virConnectPtr conn, const vrpc_nonnull_nwfilter *w);
virNWFilterBindingPtr compat_nwfilter_binding_from(virConnectPtr conn,
                                                   const vrpc_nonnull_nwfilter_binding *w);
virDomainSnapshotPtr compat_domain_snapshot_from(virConnectPtr conn,
                                                 const vrpc_nonnull_domain_snapshot *w);
virDomainCheckpointPtr compat_domain_checkpoint_from(virConnectPtr conn,
                                                     const vrpc_nonnull_domain_checkpoint *w);

/*
 * From an object to the wire: fills *w with pointers into the object (no
 * allocation; valid while the caller holds the object).
 */
void compat_domain_to(virDomainPtr o, vrpc_nonnull_domain *w);
void compat_network_to(virNetworkPtr o, vrpc_nonnull_network *w);
void compat_network_port_to(virNetworkPortPtr o, vrpc_nonnull_network_port *w);
void compat_interface_to(virInterfacePtr o, vrpc_nonnull_interface *w);
void compat_storage_pool_to(virStoragePoolPtr o, vrpc_nonnull_storage_pool *w);
void compat_storage_vol_to(virStorageVolPtr o, vrpc_nonnull_storage_vol *w);
void compat_node_device_to(virNodeDevicePtr o, vrpc_nonnull_node_device *w);
void compat_secret_to(virSecretPtr o, vrpc_nonnull_secret *w);
void compat_nwfilter_to(virNWFilterPtr o, vrpc_nonnull_nwfilter *w);
void compat_nwfilter_binding_to(virNWFilterBindingPtr o, vrpc_nonnull_nwfilter_binding *w);
void compat_domain_snapshot_to(virDomainSnapshotPtr o, vrpc_nonnull_domain_snapshot *w);
void compat_domain_checkpoint_to(virDomainCheckpointPtr o, vrpc_nonnull_domain_checkpoint *w);

/* ---- errors ---- */

/* virResetLastError(): clear the calling thread's last error. */
void compat_reset(void);

/* Set the thread's last error (level VIR_ERR_ERROR) with a message of our
 * own words (printf format). Does not dispatch. */
void compat_error(int domain, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Set the thread's last error from a failed virtrpc call (rc < 0, err the
 * vrpc_error the call returned, possibly NULL): a daemon error is taken
 * field by field, a local one mapped to libvirt's code and domain. */
void compat_error_vrpc(int rc, const vrpc_error *err);

/* Make a saved error (virSaveLastError()) the thread's last error again
 * and free it; *saved becomes NULL. Nothing happens when *saved is NULL. */
void compat_error_restore(virErrorPtr *saved);

/* VIR_ERR_INVALID_ARG naming the function and argument, as libvirt's
 * virCheckNonNullArg* / virCheckNonNegativeArg* checks do. `domain` is the
 * error domain libvirt's public API file of that function reports
 * (VIR_FROM_THIS there: VIR_FROM_DOMAIN for src/libvirt-domain.c and
 * src/libvirt-host.c, VIR_FROM_NONE for libvirt.c, VIR_FROM_NETWORK,
 * VIR_FROM_STORAGE, VIR_FROM_ADMIN, ...; compat_func_domain() derives it
 * from the function's name). */
void compat_invalid_arg(int domain, const char *func, const char *arg);

/* VIR_ERR_NO_MEMORY. */
void compat_no_memory(void);

/* VIR_ERR_NO_SUPPORT for a public function not implemented yet. */
void compat_no_support(const char *func);

/* After a failure: copy the thread's last error to conn (may be NULL) and
 * call the connection's handler, else the global one (virSetErrorFunc),
 * else print it on stderr as libvirt's default handler does. */
void compat_dispatch(virConnectPtr conn);

/* ---- calls ---- */

/*
 * One call of `proc` on the connection: args encoded from *args, the reply
 * (NULL for procedures without one) stored in *ret, to release with
 * vrpc_free(). Returns 0, or -1 after setting the thread's last error.
 */
int compat_call(virConnectPtr conn, const vrpc_proc *proc, const void *args, void *ret);

/* ---- strings and memory ---- */

/* strdup() that sets VIR_ERR_NO_MEMORY on failure; NULL in, NULL out. */
char *compat_strdup(const char *s);

/* libvirt's UUID text: parse (32 hex digits, '-' or ' ' between pairs,
 * white space around; 0 or -1) and format (VIR_UUID_STRING_BUFLEN bytes). */
int compat_uuid_parse(const char *s, unsigned char *uuid);
void compat_uuid_format(const unsigned char *uuid, char *buf);

/* ---- typed parameters ---- */

/*
 * The client's virTypedParameter array to the wire: *out is an array of n
 * items allocated with malloc() whose strings point into `params` (free
 * *out with free() only). Returns 0, or -1 after setting the error
 * (VIR_ERR_INVALID_ARG for an unknown type, VIR_ERR_NO_MEMORY).
 */
int compat_params_to_wire(const virTypedParameter *params, int n, vrpc_typed_param **out);

/*
 * The wire's typed parameters to a new virTypedParameter array allocated
 * with malloc() (strings too; the caller frees with virTypedParamsFree()).
 * *n receives the count. Returns 0, or -1 after setting the error.
 */
int compat_params_from_wire(const vrpc_typed_param *w, uint32_t nw, virTypedParameterPtr *out,
                            int *n);

/*
 * The wire's typed parameters into a caller-sized array params[0..*n-1]
 * (libvirt's getters that take an nparams in/out): fails with
 * VIR_ERR_RPC when the daemon sent more than *n, sets *n to the count.
 * Returns 0, or -1 after setting the error.
 */
int compat_params_fill(const vrpc_typed_param *w, uint32_t nw, virTypedParameterPtr params, int *n);

#endif
