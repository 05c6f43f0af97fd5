/* SPDX-License-Identifier: MIT */
/*
 * Internal: servicing the connection while the application is idle — the
 * event-loop interface, the event thread, dispatch of what the layers above
 * queued (events, through the connection's hooks), close notification and
 * the keepalive timer (src/core/loop.c).
 *
 * The state lives in `struct vrpc_conn` (member `loop`) and is protected by
 * the connection lock; dispatch never holds it while it runs callbacks.
 *
 * The core (conn.c) calls the *_locked hooks below with the connection lock
 * held; none of them blocks or calls back into the public API.
 */
#ifndef VIRTRPC_LOOP_H
#define VIRTRPC_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtrpc/conn.h>

typedef struct vrpc_loop_waiter vrpc_loop_waiter;
typedef struct vrpc_close_holder vrpc_close_holder;

typedef struct vrpc_loop_state {
    bool initialised;
    /* Serialises the configuration calls (keepalive, close callback, the
     * event thread's start and stop); never held by the core. */
    pthread_mutex_t api_lock;

    /* Notification descriptor for event loops (eventfd, or a pipe). */
    int notify_rd, notify_wr;
    bool notify_is_eventfd;
    bool notify_signaled; /* a notification is pending in it */
    bool notify_used;     /* an event loop asked for events/notify fd/timeout */

    /* vrpc_conn_wait() callers (each a waiter of the core, woken when
     * there is something to process), and the event thread's sleep after
     * the end of the connection. */
    vrpc_loop_waiter *lwaiters;
    pthread_cond_t cond;

    /* The event thread. */
    bool thread_running; /* started and not joined yet */
    bool thread_stop;    /* asked to stop */
    bool thread_joining; /* somebody joins it */
    pthread_t thread;

    bool dispatching; /* a thread runs callbacks */

    /* Close notification. */
    bool client_closing;     /* vrpc_conn_close() has begun */
    int close_reason;        /* VRPC_CONNECT_CLOSE_REASON_*, -1 while open */
    int server_close_reason; /* from CONNECT_EVENT_CONNECTION_CLOSED, -1: none */
    bool close_reported;
    vrpc_close_holder *close; /* the application's callback, or NULL */
    int feature_close;        /* daemon supports feature 15: -1 unknown, 0, 1 */
    bool close_on_server;     /* CONNECT_REGISTER_CLOSE_CALLBACK done */

    /* Keepalive (the library's own PINGs). Times: CLOCK_MONOTONIC µs. */
    bool ka_enabled;     /* the timer runs */
    bool ka_advertised;  /* CONNECT_SUPPORTS_FEATURE(10) answered 1 */
    bool ka_configured;  /* the application called vrpc_conn_set_keepalive */
    bool ka_wanted;      /* the timer was turned on (again after a reconnect) */
    int64_t ka_interval; /* microseconds */
    unsigned int ka_count, ka_to_death;
    int64_t ka_start; /* start of the current interval */

} vrpc_loop_state;

/* ---- called by conn.c ---- */

/* At creation, lock and condattr initialised: the notify descriptor, the
 * condition variable, the MESSAGE hook. 0 or VRPC_E_IO / VRPC_E_NOMEM. */
int vrpc_loop_init(vrpc_conn *c);
/* At the start of vrpc_conn_close (no lock): stop the event thread; from now
 * on the connection ends with reason CLIENT. */
void vrpc_loop_close_begin(vrpc_conn *c);
/* At the end of vrpc_conn_close (no lock, no other thread): report a close
 * not reported yet, release callbacks, queue, descriptors. */
void vrpc_loop_fini(vrpc_conn *c);

/* The connection just failed (status set): record the reason, wake loops. */
void vrpc_loop_failed_locked(vrpc_conn *c);
/* The I/O role is free and no call waits for it. */
void vrpc_loop_role_free_locked(vrpc_conn *c);
/* Output was queued, or input resumed, while nobody owns the I/O role. */
void vrpc_loop_output_locked(vrpc_conn *c);
/* True when a vrpc_conn_wait() owning the I/O role should return. */
bool vrpc_loop_has_work_locked(vrpc_conn *c);
/* Something for vrpc_conn_process() to do: signal the notify descriptor,
 * wake vrpc_conn_wait() sleepers. */
void vrpc_loop_notify_locked(vrpc_conn *c);
/* Clear the notify descriptor (vrpc_conn_process). */
void vrpc_loop_drain_notify_locked(vrpc_conn *c);
/* Run queued event callbacks and the close callback (no lock held). */
void vrpc_loop_dispatch(vrpc_conn *c);

/* RECONNECTING: the connection got a new transport (lock held): it is open
 * again for the close notification, keepalive must be advertised anew;
 * loops are woken. */
void vrpc_loop_revived_locked(vrpc_conn *c);
/* Then, no lock held: advertise keepalive again and register the daemon's
 * close callback again, as they were before the connection was lost. */
void vrpc_loop_revive(vrpc_conn *c);

/* Keepalive timer: bytes arrived; the deadline (µs, INT64_MAX: none); run
 * it (queue a PING, or fail the connection with reason KEEPALIVE). */
void vrpc_ka_rx_locked(vrpc_conn *c);
int64_t vrpc_ka_deadline_locked(vrpc_conn *c);
void vrpc_ka_tick_locked(vrpc_conn *c);

#endif
