/* SPDX-License-Identifier: MIT */
/*
 * Internal: the authentication methods of the open sequence (SASL, polkit)
 * and libvirt's auth file.
 *
 * RETURN CODES of vrpc_sasl_authenticate() and vrpc_polkit_authenticate(): 0, VRPC_E_REMOTE
 * with the daemon's error exactly as sent, or another negative code with a
 * local error. Local errors that libvirt's client also reports keep
 * libvirt's code, domain and message ("authentication failed: ..."); the
 * others say "authentication: ...". The caller (conn.c) marks the step.
 *
 * SASL follows libvirt's remoteAuthSASL(): Cyrus SASL client for service
 * "libvirt" and the URI's host ("localhost" without one), the socket's
 * addresses as "IP;PORT" ("127.0.0.1;0" on a Unix socket, none through a
 * child process), SASL_SSF_EXTERNAL = the TLS key size x 8 over TLS, and
 * security properties by whether the channel is already secure (TLS, Unix,
 * ssh: min = max SSF 0, any mechanism; plain TCP and ext: min SSF 56, max
 * 100000, no anonymous or plaintext mechanisms, and the negotiated SSF is
 * checked after the exchange). AUTH_SASL_INIT gives the daemon's list;
 * `auth=sasl.MECH` must appear in it (libvirt: a substring test) and is
 * then the only one offered to sasl_client_start. START and STEP carry
 * `nil` (1: no data, distinct from empty data) and the data as char<>;
 * the loop ends when the daemon says complete and the local step returned
 * SASL_OK (the client always steps at least once unless both were complete
 * after START), and gives up after VRPC_SASL_MAX_STEPS round trips.
 * Credentials: SASL_INTERACT, filled from the auth file first, then from
 * the application's callback.
 *
 * SECURITY LAYER. When the negotiated SSF is above 0 (a mechanism with a
 * layer, e.g. DIGEST-MD5 on plain TCP) every byte after the reply that
 * completed the exchange goes through sasl_encode/sasl_decode: the layer
 * is pushed over the connection's transport (vrpc_conn_push_layer) right
 * after that reply, before any other packet is sent.
 */
#ifndef VIRTRPC_AUTH_H
#define VIRTRPC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <virtrpc/conn.h>

#include "uri.h"

/* Round trips (START + STEPs) after which the SASL exchange is abandoned. */
#define VRPC_SASL_MAX_STEPS 64

/* Run the SASL exchange on c (mech: the MECH of auth=sasl.MECH, or NULL). */
int vrpc_sasl_authenticate(vrpc_conn *c, const vrpc_target *t, const char *mech, vrpc_auth_cb cb,
                           void *userdata, vrpc_error **err);

/* AUTH_POLKIT: the daemon checks our process with polkit; complete must be 1. */
int vrpc_polkit_authenticate(vrpc_conn *c, vrpc_error **err);

/* ---- libvirt's auth file ---- */

typedef struct vrpc_authfile vrpc_authfile;

/*
 * Which auth file libvirt would read: env_file ($LIBVIRT_AUTH_FILE) if set,
 * else uri_file (the URI's authfile=), else CONFIG_HOME/libvirt/auth.conf
 * (config_home: $XDG_CONFIG_HOME, else HOME/.config) if readable, else
 * sysconf_file (/etc/libvirt/auth.conf) if readable, else none (*out NULL).
 * Returns 0 or VRPC_E_NOMEM.
 */
int vrpc_authfile_find(const char *env_file, const char *uri_file, const char *config_home,
                       const char *home, const char *sysconf_file, char **out);

/* The same with the process's environment and the URI's authfile= (t may be NULL). */
int vrpc_authfile_find_for(const vrpc_target *t, char **out);

/*
 * Load and parse a key file (GLib's syntax: [group], key=value, # comments;
 * leading blanks of lines and values and blanks around '=' are ignored;
 * \s \n \t \r \\ escapes; the last of duplicate keys wins, repeated groups
 * merge). Errors: VRPC_E_NOT_FOUND / VRPC_E_IO (cannot read, errno text),
 * VRPC_E_INVALID (syntax: "PATH:LINE: ..."), VRPC_E_NOMEM.
 */
int vrpc_authfile_load(const char *path, vrpc_authfile **out, vrpc_error **err);
/* The same from memory (path only names it in messages). */
int vrpc_authfile_parse(const char *path, const char *data, size_t len, vrpc_authfile **out,
                        vrpc_error **err);

/*
 * libvirt's virAuthConfigLookup(): the group [auth-SERVICE-HOST] (else
 * [auth-SERVICE-default]) names credentials=NAME, whose group
 * [credentials-NAME] holds CREDNAME. *value: a copy (vrpc_free; wipe
 * secrets before) or NULL when absent or not a valid string. host NULL:
 * "localhost". Errors (VRPC_E_INVALID, libvirt's VIR_ERR_CONF_SYNTAX
 * messages): a group without `credentials`, or naming a group that does
 * not exist.
 */
int vrpc_authfile_lookup(const vrpc_authfile *f, const char *service, const char *host,
                         const char *credname, char **value, vrpc_error **err);

void vrpc_authfile_free(vrpc_authfile *f);

/* Wipe and free a string (NULL-safe); free_fn: free() or vrpc_free(). */
void vrpc_auth_wipe_free(char *s, void (*free_fn)(void *));

#endif
