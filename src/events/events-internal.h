/* SPDX-License-Identifier: MIT */
/*
 * Internal: libvirt's event IDs, as the generator found them in libvirt's
 * headers (event-ids.c, written by virtrpc-gen --out-events, which includes
 * this header for the struct).
 */
#ifndef VIRTRPC_EVENTS_INTERNAL_H
#define VIRTRPC_EVENTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct vrpc_event_id_const {
    const char *family; /* "DOMAIN", "STORAGE_POOL", ... */
    const char *name;   /* "LIFECYCLE", "BLOCK_JOB_2", ... */
    int value;
} vrpc_event_id_const;

extern const vrpc_event_id_const vrpc_event_id_consts[];
extern const size_t vrpc_event_id_nconsts;

/*
 * Attach the events layer to a new connection (its queue, counters and
 * registrations; the MESSAGE hook). Called by the open layer right after
 * the connection is created. 0 or VRPC_E_NOMEM.
 */
struct vrpc_conn;
struct vrpc_error;
int vrpc_events_attach(struct vrpc_conn *c);

/*
 * Whether the daemon's refusal `e` of a registration for event `id` of
 * `family` (VRPC_EVENT_FAMILY_*) means the daemon does not know the event:
 * VRPC_ERR_NO_SUPPORT, or VRPC_ERR_INTERNAL_ERROR in the form older daemons
 * give an event ID beyond their table ("unsupported [family ]event ID N").
 * vrpc_event_register() then returns VRPC_E_UNSUPPORTED.
 */
struct vrpc_error;
bool vrpc_event_refused_as_unknown(int family, int id, const struct vrpc_error *e);

/*
 * After a reconnection (vrpc_conn_adopt): register again on the daemon
 * every registration made on an earlier connection, with its filter; the
 * daemon gives new callback IDs, the application's IDs stay. Returns 0 or
 * the first failure (*err says which event); the other registrations are
 * made anyway, unless the connection was lost again.
 */
int vrpc_events_revive(struct vrpc_conn *c, struct vrpc_error **err);

#endif
