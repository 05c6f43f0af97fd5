/* SPDX-License-Identifier: MIT */
/*
 * Internal: URIs, and what libvirt's remote driver makes of them.
 *
 * vrpc_uri_parse() is a general parser:
 *     scheme:[//[user@]host[:port]]path[?query][#fragment]
 * with `[v6addr]` hosts and percent-decoding of user, host, path and query
 * parameters (the raw forms are kept too, to rebuild names faithfully).
 *
 * vrpc_remote_resolve() applies the remote driver's rules: scheme
 * `driver[+transport]`, the transport (default tls with a host, unix
 * without), the query parameters the driver consumes, the name sent in
 * CONNECT_OPEN, and for local transports the Unix socket path (system or
 * session directory, legacy `libvirt` or direct `virt<driver>d` prefix,
 * `-sock-ro` when read-only, `socket=` wins). vrpc_admin_resolve() does the
 * same for admin URIs (`libvirtd:///system`, `virtqemud:///session`, ...).
 *
 * Both read libvirt's client configuration as libvirt's client does (conf.h
 * for the syntax): libvirt.conf for the remote driver, libvirt-admin.conf for
 * admin URIs; /etc/libvirt/FILE when the effective uid is 0, else
 * $XDG_CONFIG_HOME/libvirt/FILE or ~/.config/libvirt/FILE. A missing file is
 * no configuration.
 *
 * Everything the environment contributes (variables, euid, whether a socket
 * exists, the system configuration directory) comes through a vrpc_uri_env
 * so unit tests can inject it.
 */
#ifndef VIRTRPC_URI_H
#define VIRTRPC_URI_H

#include <stdbool.h>
#include <stddef.h>

#include <virtrpc/conn.h>

typedef struct vrpc_uri_param {
    char *name;    /* decoded */
    char *value;   /* decoded; "" when the parameter has no '=' */
    char *raw;     /* the parameter exactly as written ("x=a%20b") */
    bool consumed; /* used by the remote driver, not passed on in the name */
} vrpc_uri_param;

typedef struct vrpc_uri {
    char *scheme;       /* as written, e.g. "qemu+ssh" */
    char *user;         /* decoded userinfo, NULL if absent */
    char *host;         /* decoded, brackets of an IPv6 literal removed; NULL if empty */
    int port;           /* -1 if absent */
    char *path;         /* decoded ("" if none) */
    char *path_raw;     /* as written */
    char *query_raw;    /* after '?', NULL if absent */
    char *fragment_raw; /* after '#', NULL if absent */
    size_t nparams;
    vrpc_uri_param *params;
} vrpc_uri;

/* Parse str. VRPC_E_URI (err names the problem), VRPC_E_NOMEM or 0. */
int vrpc_uri_parse(const char *str, vrpc_uri **out, vrpc_error **err);
void vrpc_uri_free(vrpc_uri *u);

/* Transports of the remote driver (libvirt's order). */
typedef enum vrpc_transport_kind {
    VRPC_TRANSPORT_TLS = 0,
    VRPC_TRANSPORT_UNIX,
    VRPC_TRANSPORT_SSH,
    VRPC_TRANSPORT_LIBSSH2,
    VRPC_TRANSPORT_EXT,
    VRPC_TRANSPORT_TCP,
    VRPC_TRANSPORT_LIBSSH,
} vrpc_transport_kind;

const char *vrpc_transport_kind_name(vrpc_transport_kind k);

typedef enum vrpc_socket_mode {
    VRPC_MODE_AUTO = 0,
    VRPC_MODE_LEGACY,
    VRPC_MODE_DIRECT,
} vrpc_socket_mode;

typedef enum vrpc_proxy_mode {
    VRPC_PROXY_AUTO = 0,
    VRPC_PROXY_NETCAT,
    VRPC_PROXY_NATIVE,
} vrpc_proxy_mode;

/* The environment; every member may be NULL (then the process's own is used). */
typedef struct vrpc_uri_env {
    const char *(*get_env)(void *ctx, const char *name);
    unsigned int (*get_euid)(void *ctx);
    bool (*path_exists)(void *ctx, const char *path); /* a socket (or file) is there */
    void *ctx;
    /* Root's configuration directory. NULL: /etc/libvirt with the real
     * environment (get_env NULL), none with an injected one. */
    const char *system_conf_dir;
} vrpc_uri_env;

/* What a URI means to the remote driver. */
typedef struct vrpc_target {
    char *uri_str; /* the URI used (after the defaults and uri_aliases), NULL: none */
    vrpc_uri *uri; /* parsed uri_str, NULL: none */
    char *driver;  /* scheme before '+', NULL without URI */
    vrpc_transport_kind transport;
    char *host; /* NULL for local transports */
    char *user; /* URI user or NULL */
    int port;   /* explicit port, else 16514 (tls), 16509 (tcp), 22 (ssh family), 0 */
    bool port_explicit;
    char *name; /* sent in CONNECT_OPEN ("" lets the daemon probe) */
    bool readonly;
    bool session;                 /* per-user daemon (path /session, or test driver as non-root) */
    bool admin;                   /* an admin URI (vrpc_admin_resolve) */
    vrpc_socket_mode mode;        /* as requested (mode= parameter) */
    vrpc_socket_mode socket_mode; /* what the socket path was built with */
    char *socket_path;            /* Unix socket: local (unix) or on the remote host (ssh family) */
    bool socket_explicit;         /* came from socket= */

    /* Consumed query parameters (NULL / false / auto when absent). */
    char *command, *auth, *sshauth, *netcat, *keyfile, *pkipath, *known_hosts, *known_hosts_verify,
        *tls_priority, *authfile;
    vrpc_proxy_mode proxy;
    bool proxy_set; /* proxy= given, or remote_proxy in libvirt.conf */
    bool no_sanity, no_verify, no_tty;

    /* Start the session daemon when its socket is not there: session, unix
     * transport, no socket=, no VRPC_OPEN_NO_AUTOSTART, LIBVIRT_AUTOSTART != "0". */
    bool autostart;
} vrpc_target;

/* Directory of the system sockets. */
#define VRPC_SYSTEM_SOCKET_DIR "/var/run/libvirt"
/* Directory of the client configuration files root reads. */
#define VRPC_SYSTEM_CONF_DIR "/etc/libvirt"
/* Characters an alias name of uri_aliases may hold (libvirt's set). */
#define VRPC_URI_ALIAS_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/*
 * The client configuration file (file: "libvirt.conf" or
 * "libvirt-admin.conf") this process reads, in *out (a new string), or
 * *out NULL when there is none (non-root without XDG_CONFIG_HOME, HOME or
 * a home directory in the password database). 0 or VRPC_E_NOMEM.
 */
int vrpc_client_conf_path(const vrpc_uri_env *env, const char *file, char **out);

/*
 * Resolve a remote-driver URI. uri NULL or "" takes $LIBVIRT_DEFAULT_URI,
 * else uri_default of libvirt.conf, and without either gives the probing
 * target (name "", unix transport, legacy socket; session directory for
 * non-root). The URI, wherever it came from, is then looked up in
 * uri_aliases (not with VRPC_OPEN_NO_ALIASES): an alias is replaced by its
 * URI. remote_mode, remote_proxy and (tls transport) tls_priority of
 * libvirt.conf apply where the URI has no mode=, proxy=, tls_priority=.
 * flags: VRPC_OPEN_*. env NULL: the real environment.
 * Returns 0, VRPC_E_URI (malformed URI, unknown transport, bad parameter,
 * unusable combination, unreadable or malformed libvirt.conf),
 * VRPC_E_INVALID (unknown flags) or VRPC_E_NOMEM.
 */
int vrpc_remote_resolve(const char *uri, unsigned int flags, const vrpc_uri_env *env,
                        vrpc_target **out, vrpc_error **err);

/*
 * Resolve an admin URI: `<daemon>:///system` or `<daemon>:///session`
 * (daemon "libvirtd" or "virt<x>d"), only a `socket=` parameter allowed.
 * uri NULL or "" takes $LIBVIRT_ADMIN_DEFAULT_URI, else uri_default of
 * libvirt-admin.conf, else libvirtd:///system (root) or libvirtd:///session;
 * then uri_aliases of libvirt-admin.conf applies as above. The socket is `<prefix>-admin-sock`
 * where prefix is "libvirt" for libvirtd and the daemon name otherwise.
 */
int vrpc_admin_resolve(const char *uri, unsigned int flags, const vrpc_uri_env *env,
                       vrpc_target **out, vrpc_error **err);

void vrpc_target_free(vrpc_target *t);

#endif
