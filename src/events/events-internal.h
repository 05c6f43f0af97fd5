/* SPDX-License-Identifier: MIT */
/*
 * Internal: libvirt's event IDs, as the generator found them in libvirt's
 * headers (event-ids.c, written by virtrpc-gen --out-events, which includes
 * this header for the struct).
 */
#ifndef VIRTRPC_EVENTS_INTERNAL_H
#define VIRTRPC_EVENTS_INTERNAL_H

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
int vrpc_events_attach(struct vrpc_conn *c);

#endif
