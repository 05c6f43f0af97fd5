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
 * DOMAINS are named by a string that is tried, as virsh does, as a domain
 * id (when it is a number), then as a UUID (when it has the UUID form),
 * then as a name.
 *
 * ERRORS follow <virtrpc/conn.h>: every function returns 0 or a negative
 * VRPC_E_* code, and on failure a non-NULL `err` receives a vrpc_error
 * (for VRPC_E_REMOTE exactly what the daemon sent, e.g. code
 * VRPC_ERR_NO_DOMAIN for an unknown domain) to release with vrpc_free().
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

#ifdef __cplusplus
extern "C" {
#endif

/* A domain as listed: identity and state. */
typedef struct vrpc_simple_domain {
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

/* One domain's identity and state. */
VRPC_EXPORT int vrpc_simple_domain_lookup(vrpc_conn *c, const char *domain,
                                          vrpc_simple_domain **out, vrpc_error **err);

/* One domain's information. */
VRPC_EXPORT int vrpc_simple_domain_get_info(vrpc_conn *c, const char *domain,
                                            vrpc_simple_domain_info **out, vrpc_error **err);

/* Start a defined domain that is not running. */
VRPC_EXPORT int vrpc_simple_domain_start(vrpc_conn *c, const char *domain, vrpc_error **err);

/* Ask the guest to shut down (returns at once; the domain stops later). */
VRPC_EXPORT int vrpc_simple_domain_shutdown(vrpc_conn *c, const char *domain, vrpc_error **err);

/* Stop the domain at once, like pulling the plug. */
VRPC_EXPORT int vrpc_simple_domain_destroy(vrpc_conn *c, const char *domain, vrpc_error **err);

/*
 * The domain's XML description. flags: virDomainXMLFlags
 * (VRPC_DOMAIN_XML_SECURE, VRPC_DOMAIN_XML_INACTIVE, ...), usually 0.
 * *xml is a NUL-terminated string to release with vrpc_free().
 */
VRPC_EXPORT int vrpc_simple_domain_get_xml(vrpc_conn *c, const char *domain, unsigned int flags,
                                           char **xml, vrpc_error **err);

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
VRPC_EXPORT int vrpc_simple_domain_undefine(vrpc_conn *c, const char *domain, unsigned int flags,
                                            vrpc_error **err);

/* The word virsh uses for a virDomainState: "running", "shut off", "paused"... */
VRPC_EXPORT const char *vrpc_simple_state_name(int32_t state);

/* UUIDs: vrpc_uuid_format() and vrpc_uuid_parse() in <virtrpc/types.h>. */

#ifdef __cplusplus
}
#endif
#endif
