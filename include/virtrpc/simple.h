/* SPDX-License-Identifier: MIT */
/*
 * virtrpc: the convenience layer.
 *
 * A few functions for what programs do most with a hypervisor connection:
 * list the domains with their state, look at one, start it, shut it down,
 * destroy it, read its XML, define and undefine it. Each is built on the
 * generated per-procedure calls of <virtrpc/protocol.h>, which remain
 * available for everything else.
 *
 * DOMAINS. The functions that take `const char *name` find the domain by
 * its NAME only: vrpc_simple_domain_get_info(c, "1", ...) answers for the
 * domain named "1", never for the domain whose id is 1. To find a domain
 * otherwise use the explicit lookups (_lookup_by_name, _lookup_by_uuid,
 * _lookup_by_id), or vrpc_simple_domain_resolve() for text a user typed
 * where virsh would take an id, a UUID or a name.
 *
 * HANDLES. Every domain this layer returns carries `dom`, the
 * vrpc_nonnull_domain that the generated calls of <virtrpc/protocol.h>
 * take, so the two layers mix:
 *
 *     vrpc_simple_domain *d;
 *     vrpc_simple_domain_lookup_by_name(c, "web", &d, &err);
 *     vrpc_domain_suspend_args a = {.dom = d->dom};
 *     vrpc_domain_suspend(c, &a, &err);
 *     vrpc_simple_domain_get_info_dom(c, &d->dom, &info, &err);
 *     vrpc_free(d);
 *
 * `dom` points into the object that holds it (dom.name is that object's
 * `name`): it is valid until that object is freed. The `_dom` functions
 * take any handle, also one from a generated reply, and skip the lookup.
 *
 * ERRORS follow <virtrpc/conn.h>: every function returns 0 or a negative
 * VRPC_E_* code, and on failure a non-NULL `err` receives a vrpc_error
 * (for VRPC_E_REMOTE exactly what the daemon sent, e.g. code
 * VRPC_ERR_NO_DOMAIN for an unknown domain) to release with vrpc_free().
 * When the connection fails, the error is the connection's own (e.g. what
 * was wrong with the daemon's bytes), not a generic word.
 *
 * MEMORY: every result is ONE allocation released with one vrpc_free();
 * the strings and arrays inside it belong to it.
 *
 * THREADS: the functions may be called from any number of threads on one
 * connection, like the calls they are made of.
 */
#ifndef VIRTRPC_SIMPLE_H
#define VIRTRPC_SIMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtrpc/conn.h>
#include <virtrpc/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A domain as listed: identity and state. */
typedef struct vrpc_simple_domain {
    vrpc_nonnull_domain dom; /* the handle for generated calls; dom.name == name */
    char *name;
    uint8_t uuid[16];
    int32_t id;     /* -1 when the domain is not running */
    int32_t state;  /* virDomainState: VRPC_DOMAIN_RUNNING, VRPC_DOMAIN_SHUTOFF, ... */
    int32_t reason; /* the reason of that state (virDomain*Reason); 0 when unknown */
} vrpc_simple_domain;

typedef struct vrpc_simple_domain_list {
    size_t count;
    /* Sorted as `virsh list --all` shows them: running domains by id,
     * then the others by name (case-insensitively). */
    vrpc_simple_domain *domains;
} vrpc_simple_domain_list;

/* What `virsh dominfo` shows of a domain. */
typedef struct vrpc_simple_domain_info {
    vrpc_nonnull_domain dom; /* the handle for generated calls; dom.name == name */
    char *name;
    uint8_t uuid[16];
    int32_t id;              /* -1 when the domain is not running */
    int32_t state;           /* virDomainState */
    int32_t reason;          /* virDomain*Reason; 0 when unknown */
    char *os_type;           /* "hvm", "linux"...; NULL if the driver does not tell */
    uint32_t vcpus;          /* virtual CPUs */
    uint64_t cpu_time_ns;    /* CPU time used, nanoseconds */
    uint64_t max_memory_kib; /* maximum memory, KiB */
    uint64_t memory_kib;     /* memory in use, KiB */
    int persistent;          /* 1 yes, 0 no, -1 unknown */
    int autostart;           /* 1 yes, 0 no, -1 unknown */
    int managed_save;        /* 1 has a managed save image, 0 none, -1 unknown */
} vrpc_simple_domain_info;

/*
 * Open a connection (see vrpc_conn_open() for the URI; NULL or "" takes
 * $LIBVIRT_DEFAULT_URI). Close it with vrpc_conn_close().
 */
VRPC_EXPORT int vrpc_simple_open(vrpc_conn **out, const char *uri, bool read_only,
                                 vrpc_error **err);

/* All domains, running or not, with their states. */
VRPC_EXPORT int vrpc_simple_list_domains(vrpc_conn *c, vrpc_simple_domain_list **out,
                                         vrpc_error **err);

/*
 * One domain's identity and state, found by name only, by UUID, or by id
 * (a running domain's). An unknown domain fails with VRPC_E_REMOTE and the
 * daemon's error (code VRPC_ERR_NO_DOMAIN).
 */
VRPC_EXPORT int vrpc_simple_domain_lookup_by_name(vrpc_conn *c, const char *name,
                                                  vrpc_simple_domain **out, vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_lookup_by_uuid(vrpc_conn *c, const uint8_t uuid[16],
                                                  vrpc_simple_domain **out, vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_lookup_by_id(vrpc_conn *c, int32_t id, vrpc_simple_domain **out,
                                                vrpc_error **err);

/*
 * virsh's rules for a <domain> argument typed by a user: text that is a
 * non-negative decimal number is tried as an id, text in the UUID form as a
 * UUID, and then (when no domain had that id or UUID) the text as a name.
 * So "1" finds the domain with id 1 even when another domain is named "1".
 * For programs, the explicit lookups above say what they mean.
 */
VRPC_EXPORT int vrpc_simple_domain_resolve(vrpc_conn *c, const char *text, vrpc_simple_domain **out,
                                           vrpc_error **err);

/* One domain's information: by name, or by handle. */
VRPC_EXPORT int vrpc_simple_domain_get_info(vrpc_conn *c, const char *name,
                                            vrpc_simple_domain_info **out, vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_get_info_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                                vrpc_simple_domain_info **out, vrpc_error **err);

/* Start a defined domain that is not running. */
VRPC_EXPORT int vrpc_simple_domain_start(vrpc_conn *c, const char *name, vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_start_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                             vrpc_error **err);

/* Ask the guest to shut down (returns at once; the domain stops later). */
VRPC_EXPORT int vrpc_simple_domain_shutdown(vrpc_conn *c, const char *name, vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_shutdown_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                                vrpc_error **err);

/* Stop the domain at once, like pulling the plug. */
VRPC_EXPORT int vrpc_simple_domain_destroy(vrpc_conn *c, const char *name, vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_destroy_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                               vrpc_error **err);

/*
 * The domain's XML description. flags: virDomainXMLFlags
 * (VRPC_DOMAIN_XML_SECURE, VRPC_DOMAIN_XML_INACTIVE, ...), usually 0.
 * *xml is a NUL-terminated string to release with vrpc_free().
 */
VRPC_EXPORT int vrpc_simple_domain_get_xml(vrpc_conn *c, const char *name, unsigned int flags,
                                           char **xml, vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_get_xml_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                               unsigned int flags, char **xml, vrpc_error **err);

/*
 * Define (or redefine) a persistent domain from its XML. out may be NULL;
 * otherwise it receives the domain (its state is that of the domain after
 * the definition).
 */
VRPC_EXPORT int vrpc_simple_domain_define(vrpc_conn *c, const char *xml, vrpc_simple_domain **out,
                                          vrpc_error **err);

/*
 * Undefine a domain (a running one becomes transient and keeps running).
 * flags: virDomainUndefineFlagsValues (VRPC_DOMAIN_UNDEFINE_MANAGED_SAVE,
 * VRPC_DOMAIN_UNDEFINE_NVRAM, ...), usually 0.
 */
VRPC_EXPORT int vrpc_simple_domain_undefine(vrpc_conn *c, const char *name, unsigned int flags,
                                            vrpc_error **err);
VRPC_EXPORT int vrpc_simple_domain_undefine_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                                unsigned int flags, vrpc_error **err);

/* The word virsh uses for a virDomainState: "running", "shut off", "paused"... */
VRPC_EXPORT const char *vrpc_simple_state_name(int32_t state);

/* UUIDs: vrpc_uuid_format() and vrpc_uuid_parse() in <virtrpc/types.h>. */

#ifdef __cplusplus
}
#endif
#endif
