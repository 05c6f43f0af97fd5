/* SPDX-License-Identifier: MIT */
/* Event IDs as libvirt's headers declare them, for the event-table output. */
#ifndef FAKE_EVENTS_H
# define FAKE_EVENTS_H

typedef enum {
    VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0,
    VIR_DOMAIN_EVENT_ID_REBOOT = 1,
    VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2 = 2,
# ifdef VIR_ENUM_SENTINELS
    VIR_DOMAIN_EVENT_ID_LAST
# endif
} virDomainEventID;

/* a family the table has never seen: taken as it comes */
typedef enum {
    VIR_GADGET_EVENT_ID_PLUGGED,
    VIR_GADGET_EVENT_ID_UNPLUGGED = 7,
    VIR_GADGET_EVENT_ID_LAST
} virGadgetEventID;

/* not events: no family, no name, another prefix, not an integer */
# define VIR_EVENT_ID_ORPHAN 3
# define VIR_DOMAIN_EVENT_ID_ 4
# define REMOTE_DOMAIN_EVENT_ID_OTHER 5
# define VIR_DOMAIN_EVENT_ID_TEXT "text"
# define VIR_DOMAIN_EVENT_CALLBACK(cb) ((void *)(cb))

#endif
