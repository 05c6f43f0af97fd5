/* SPDX-License-Identifier: MIT */
/*
 * virtrpc: connections and calls.
 *
 * THREADS. A vrpc_conn may be used by any number of threads at once. Calls
 * from several threads are multiplexed on the one socket: each call gets its
 * own serial, replies are matched by (program, version, serial) and may
 * arrive in any order. At any moment at most one thread performs I/O on the
 * socket (it reads and writes for everybody and hands the role to another
 * waiting thread when its own reply has arrived); the others sleep until
 * their reply is there. A thread that only sends (vrpc_call_send) never
 * blocks on the network. Replies are decoded in the thread that collects
 * them, outside the connection lock.
 *
 * Keepalive PINGs from the daemon are answered whenever the library reads
 * the socket, i.e. while some call is waiting or vrpc_conn_process() runs.
 * The library never advertises keepalive support to the daemon unless it has
 * a way to service the socket while the application is idle (the event
 * thread, or an application that asks with vrpc_conn_set_keepalive); see
 * "Servicing the connection" below.
 *
 * ERRORS. Functions return 0 or a negative VRPC_E_* code. Where a function
 * takes `vrpc_error **err`, a non-NULL err receives, on failure, an error
 * object with every field of libvirt's remote_error: for a daemon error
 * (VRPC_E_REMOTE) exactly what the daemon sent, for a local failure a
 * libvirt-style code/domain (VRPC_ERR_*, VRPC_FROM_*) and a message that
 * says what failed. Release it with vrpc_free(). err may be NULL.
 *
 * MEMORY. A reply (`ret`) is one allocation: release it with vrpc_free().
 * Arguments are only read during the call; the library keeps no pointer.
 */
#ifndef VIRTRPC_CONN_H
#define VIRTRPC_CONN_H

#include <virtrpc/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vrpc_conn vrpc_conn;
/* Generated from libvirt's `remote_error` (code, domain, message, level, dom,
 * str1, str2, str3, int1, int2, net); see <virtrpc/protocol.h>. */
typedef struct vrpc_error vrpc_error;
/* A call that was sent and whose reply has not been collected yet. */
typedef struct vrpc_pending vrpc_pending;
/* A data stream opened by a call (<virtrpc/stream.h>). */
typedef struct vrpc_stream vrpc_stream;

enum {
    VRPC_OPEN_READONLY = 1 << 0,     /* open read-only (the daemon's -sock-ro socket) */
    VRPC_OPEN_NO_AUTOSTART = 1 << 1, /* never start a session daemon */
    VRPC_OPEN_NO_ALIASES = 1 << 2,   /* do not look the URI up in uri_aliases */
};

/*
 * Open a connection to a libvirt daemon, as libvirt's client would for the
 * same URI: driver[+transport]://[user@][host][:port]/path[?params].
 * uri == NULL (or "") takes $LIBVIRT_DEFAULT_URI, else `uri_default` of
 * libvirt's client configuration file, and without either probes the local
 * daemon.
 *
 * CLIENT CONFIGURATION. The library reads libvirt.conf as libvirt's client
 * does, at every open: /etc/libvirt/libvirt.conf when the effective uid is
 * 0, else $XDG_CONFIG_HOME/libvirt/libvirt.conf (~/.config/libvirt/ without
 * XDG_CONFIG_HOME); a missing file is no configuration. It uses
 *   uri_default   = "URI"                  (above)
 *   uri_aliases   = [ "NAME=URI", ... ]    a URI (given or default) that is
 *                   exactly NAME (case-sensitive) is replaced by URI; names
 *                   hold only A-Z a-z 0-9 _ -; entries are checked in order
 *                   up to the match, a malformed one fails the open;
 *                   VRPC_OPEN_NO_ALIASES skips the lookup
 *   remote_mode   = "auto|legacy|direct"   where the URI has no mode=
 *   remote_proxy  = "auto|netcat|native"   where the URI has no proxy=
 *   tls_priority  = "GNUTLS-PRIORITY"      tls transport, no tls_priority=
 * A file that cannot be read or parsed, or a value of the wrong type, fails
 * the open with VRPC_E_URI (step "resolve"), the message naming the file,
 * the line and the key. Runs the whole open sequence (AUTH_LIST, authentication,
 * CONNECT_OPEN with the name libvirt sends). The same as
 * vrpc_conn_open_auth() without a callback: SASL credentials can then only
 * come from the auth file.
 */
VRPC_EXPORT int vrpc_conn_open(vrpc_conn **out, const char *uri, unsigned int flags,
                               vrpc_error **err);

/*
 * AUTHENTICATION CREDENTIALS (SASL), as libvirt's virConnectAuth.
 *
 * When the daemon asks for SASL, the mechanism may need credentials. They
 * are looked up first in libvirt's auth file, then asked from the
 * application's callback:
 *  - the auth file: $LIBVIRT_AUTH_FILE, else the URI's `authfile=PATH`,
 *    else $XDG_CONFIG_HOME/libvirt/auth.conf (~/.config/libvirt/auth.conf),
 *    else /etc/libvirt/auth.conf (these two only when readable). Format (a
 *    GLib key file, as libvirt reads it): a group [auth-libvirt-HOST] (HOST:
 *    the URI's host, "localhost" without one; [auth-libvirt-default] when
 *    there is no group for HOST) names `credentials=NAME`, and the group
 *    [credentials-NAME] holds the keys `authname`, `password`, `realm`.
 *  - the callback then gets, in one call, every credential still missing.
 *
 * Credential types (VRPC_CRED_* from <virtrpc/consts.h>, libvirt's
 * VIR_CRED_* values) the library asks for: VRPC_CRED_AUTHNAME (the user
 * name), VRPC_CRED_PASSPHRASE, VRPC_CRED_REALM, VRPC_CRED_ECHOPROMPT and
 * VRPC_CRED_NOECHOPROMPT (answers to the mechanism's own questions, to read
 * with and without echo): the set virsh offers. VRPC_CRED_USERNAME (a
 * separate authorization identity) is never asked for: the daemon sees the
 * authentication name, as with virsh.
 */
typedef struct vrpc_auth_cred {
    int type;              /* VRPC_CRED_* */
    const char *prompt;    /* what to ask ("Please enter your password") */
    const char *challenge; /* extra text from the mechanism, or NULL */
    const char *defresult; /* the default answer, or NULL */
    /* Set by the callback: a NUL-terminated string allocated with malloc()
     * (the C library's, not vrpc_set_allocator's), and its length without
     * the NUL. The library owns it from then on: it wipes it
     * (explicit_bzero) and frees it with free() once the mechanism has used
     * it. Left NULL: the default answer is used, else "". */
    char *result;
    size_t resultlen;
} vrpc_auth_cred;

/*
 * Fill creds[0..n-1].result. Return 0, or -1 to give up: the open then
 * fails with VRPC_E_AUTH (VRPC_ERR_AUTH_FAILED "Failed to collect auth
 * credentials", as libvirt). Called only during vrpc_conn_open_auth(), in
 * the thread that called it, possibly more than once.
 */
typedef int (*vrpc_auth_cb)(vrpc_auth_cred *creds, size_t n, void *userdata);

/*
 * vrpc_conn_open() with a credentials callback (cb NULL: the auth file only;
 * a credential it does not hold fails the open with libvirt's "No
 * authentication callback available").
 */
VRPC_EXPORT int vrpc_conn_open_auth(vrpc_conn **out, const char *uri, unsigned int flags,
                                    vrpc_auth_cb cb, void *userdata, vrpc_error **err);

/*
 * WHERE AN OPEN FAILED. vrpc_conn_open*() fail in one of these steps:
 *   "resolve"            the URI (or the daemon's host name) cannot be resolved
 *   "connect"            no connection (socket, TCP, ssh or ext child, TLS files)
 *   "handshake"          the TLS handshake failed
 *   "certificate check"  a certificate was refused: the daemon's by us, or
 *                        ours (or our address) by the daemon
 *   "authentication"     AUTH_LIST, SASL or polkit failed or was refused
 *   "open"               CONNECT_OPEN (or ADMIN_CONNECT_OPEN) failed
 * vrpc_open_failed_step(rc, err) returns that name (a static string; NULL
 * when rc is 0). The rules it applies, for programs that want them:
 *  - a LOCAL error holds the step's name in err->step (a member of its own,
 *    not on the wire; NULL in every daemon error); its message starts
 *    with "<step>: " too, except for the errors libvirt's own client reports
 *    (e.g. "authentication failed: negotiation SSF 0 was not strong
 *    enough"), which keep libvirt's code, domain and message;
 *  - a DAEMON error is exactly what the daemon sent (every field); the
 *    return code tells the step: VRPC_E_AUTH during authentication,
 *    VRPC_E_REMOTE at CONNECT_OPEN.
 */
VRPC_EXPORT const char *vrpc_open_failed_step(int rc, const vrpc_error *err);

/*
 * Open an admin connection (the admin program on a daemon's admin socket):
 * "libvirtd:///system", "virtqemud:///system", "...:///session", with an
 * optional "?socket=PATH". Runs ADMIN_PROC_CONNECT_OPEN. uri == NULL (or
 * "") takes $LIBVIRT_ADMIN_DEFAULT_URI, else `uri_default` of
 * libvirt-admin.conf (found as libvirt.conf above), else libvirtd:///system
 * as root and libvirtd:///session otherwise; `uri_aliases` of that file
 * applies as for vrpc_conn_open().
 */
VRPC_EXPORT int vrpc_conn_open_admin(vrpc_conn **out, const char *uri, unsigned int flags,
                                     vrpc_error **err);

/*
 * Wrap an already connected stream socket without any open sequence
 * (tests, custom transports). The connection owns fd from now on.
 */
VRPC_EXPORT int vrpc_conn_new_fd(vrpc_conn **out, int fd);

/*
 * Close: sends CONNECT_CLOSE (or ADMIN connect close) when the connection
 * was opened with vrpc_conn_open*, closes the socket, fails every call
 * still waiting with VRPC_E_CLOSED and frees the connection. NULL-safe.
 * No other thread may use the connection once this is called.
 */
VRPC_EXPORT void vrpc_conn_close(vrpc_conn *c);

/* The socket, for poll(). -1 when closed. */
VRPC_EXPORT int vrpc_conn_get_fd(const vrpc_conn *c);
/* The URI the connection was opened with (NULL for vrpc_conn_new_fd). */
VRPC_EXPORT const char *vrpc_conn_get_uri(const vrpc_conn *c);
/* The name sent in CONNECT_OPEN. */
VRPC_EXPORT const char *vrpc_conn_get_open_name(const vrpc_conn *c);
/* The path of the Unix socket, if any. */
VRPC_EXPORT const char *vrpc_conn_get_socket_path(const vrpc_conn *c);
/* 0 while the connection is usable, else the sticky error code that closed it. */
VRPC_EXPORT int vrpc_conn_get_status(const vrpc_conn *c);

/* ---- Servicing the connection: event loops and the event thread ----
 *
 * Events, keepalive PINGs and the end of the connection arrive when no call
 * is waiting. Somebody must then read the socket: either the application's
 * event loop (the model is sd-bus's: fd, events, timeout, process), or a
 * thread of the library (vrpc_conn_start_event_thread) for programs that
 * have no loop. Use one of the two.
 *
 * AN EVENT LOOP watches TWO descriptors:
 *   vrpc_conn_get_fd(c)         for vrpc_conn_get_events(c) (POLLIN/POLLOUT,
 *                               0 while another thread's call is reading);
 *   vrpc_conn_get_notify_fd(c)  for POLLIN: something happened that the
 *                               socket does not show (events queued by another
 *                               thread's call, that call gave the socket
 *                               back, the connection died);
 * with the deadline of vrpc_conn_get_timeout(c), and calls
 * vrpc_conn_process(c) whenever one of them is ready or the deadline
 * passes. Ask for the events and the timeout again before each poll: they
 * change. vrpc_conn_wait() does all of that for loops that only serve this
 * connection.
 *
 * CALLBACKS (events, <virtrpc/events.h>; the close callback) run only inside
 * vrpc_conn_process(), in the thread that calls it (the event thread, when
 * it runs), never inside another thread's call: events read by a thread
 * that waits for its reply are queued and dispatched by the next
 * vrpc_conn_process(). At most one thread dispatches at a time.
 *
 * KEEPALIVE. The daemon's PINGs are always answered when the library reads.
 * The library's own PINGs (vrpc_conn_set_keepalive) are sent by whoever
 * reads: vrpc_conn_process(), the event thread, and any thread waiting in a
 * call (its poll timeout is bounded by the keepalive deadline).
 */

/*
 * Process whatever is ready without blocking: write queued calls, read and
 * dispatch replies, answer keepalive PINGs, run the keepalive timer (send a
 * PING, or declare the daemon dead), then run the callbacks of queued events
 * and, once, the close callback of a connection that ended. When another
 * thread is reading the socket, only the callbacks run. Returns 0 or the
 * error code that ended the connection.
 */
VRPC_EXPORT int vrpc_conn_process(vrpc_conn *c);

/* An eventfd (or pipe) that is readable when vrpc_conn_process() has work
 * that the socket does not show. vrpc_conn_process() clears it. -1 on NULL. */
VRPC_EXPORT int vrpc_conn_get_notify_fd(vrpc_conn *c);

/* What to poll vrpc_conn_get_fd() for now: POLLIN, POLLOUT (queued output),
 * or 0 (another thread is reading the socket, or the connection ended). */
VRPC_EXPORT int vrpc_conn_get_events(vrpc_conn *c);

/*
 * When vrpc_conn_process() must run at the latest, as an ABSOLUTE time on
 * CLOCK_MONOTONIC in microseconds (vrpc_now_usec()): the next keepalive
 * deadline, 0 when there is work now (queued events, a close to report,
 * bytes buffered in the transport), VRPC_USEC_INFINITY when there is none. As
 * sd_bus_get_timeout(). Returns 0 or VRPC_E_INVALID.
 */
VRPC_EXPORT int vrpc_conn_get_timeout(vrpc_conn *c, uint64_t *usec);

/* CLOCK_MONOTONIC now, in microseconds. */
VRPC_EXPORT uint64_t vrpc_now_usec(void);

/*
 * Block until vrpc_conn_process() has something to do (events queued, the
 * connection ended) or timeout_usec (RELATIVE, VRPC_USEC_INFINITY: no limit)
 * passes. While it waits it reads the socket for everybody (replies of
 * other threads' calls included) and runs the keepalive timer. Returns 1
 * (work to process), 0 (timeout) or the error code that ended the
 * connection. Then call vrpc_conn_process().
 */
VRPC_EXPORT int vrpc_conn_wait(vrpc_conn *c, uint64_t timeout_usec);

/*
 * Start a library-owned thread that services the connection: it waits
 * (vrpc_conn_wait) and processes (vrpc_conn_process) until stopped or the
 * connection ends; event and close callbacks run in it. Unless the
 * application chose otherwise with vrpc_conn_set_keepalive(), it also turns
 * keepalive on (VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC / _COUNT) when the daemon
 * supports it, since PINGs are now answered while the application is idle.
 * The thread blocks every signal. Returns 0 (also when it already runs),
 * VRPC_E_CLOSED, VRPC_E_NOMEM or VRPC_E_IO.
 */
VRPC_EXPORT int vrpc_conn_start_event_thread(vrpc_conn *c);

/* Stop the event thread and wait for it (vrpc_conn_close does it too). Not
 * from one of its callbacks (VRPC_E_INVALID). 0 when none runs. */
VRPC_EXPORT int vrpc_conn_stop_event_thread(vrpc_conn *c);

/* ---- Keepalive ---- */

/* What the event thread uses unless the application chose: a PING after 5 s
 * of silence, dead after 5 unanswered ones. */
#define VRPC_KEEPALIVE_DEFAULT_INTERVAL_USEC (5 * VRPC_USEC_PER_SEC)
#define VRPC_KEEPALIVE_DEFAULT_COUNT 5

/*
 * Turn on keepalive (libvirt's virConnectSetKeepAlive): advertise it to the
 * daemon (CONNECT_SUPPORTS_FEATURE with VIR_DRV_FEATURE_PROGRAM_KEEPALIVE,
 * once; the daemon then PINGs a silent client and drops it when it does not
 * answer) and send a PING after interval_usec microseconds in which nothing
 * came from the daemon; after count PINGs without an answer, i.e. after
 * interval_usec * (count + 1) of silence, the connection is closed with
 * VRPC_CONNECT_CLOSE_REASON_KEEPALIVE and every waiting call fails.
 * interval_usec == 0 stops the library's PINGs (the daemon's are still
 * answered); at most 2^31 - 1 ms (VRPC_E_INVALID beyond). libvirt's
 * virConnectSetKeepAlive(interval, count) is interval * VRPC_USEC_PER_SEC.
 * Only call it when the connection is serviced while idle (an event loop,
 * the event thread): otherwise nothing answers the daemon's PINGs and it
 * drops the connection. Blocks for the daemon's answer the first time.
 * Returns 0, VRPC_E_UNSUPPORTED (the daemon does not support keepalive, or
 * an admin connection) or the call's error.
 */
VRPC_EXPORT int vrpc_conn_set_keepalive(vrpc_conn *c, uint64_t interval_usec, unsigned int count,
                                        vrpc_error **err);

/* ---- Close notification ---- */

/*
 * Called once when the connection ends, with why:
 * VRPC_CONNECT_CLOSE_REASON_EOF (the daemon closed it), _KEEPALIVE (the
 * daemon went silent), _ERROR (an I/O or protocol error), _CLIENT
 * (vrpc_conn_close), or the reason the daemon sent in its
 * CONNECT_EVENT_CONNECTION_CLOSED message (its own connection to the
 * hypervisor ended; the socket then stays open). Runs inside
 * vrpc_conn_process() / the event thread like every callback; for
 * vrpc_conn_close() in the thread that closes, after the event thread has
 * stopped. By then every call waiting on the connection has failed.
 */
typedef void (*vrpc_close_cb)(vrpc_conn *c, int reason, void *opaque);

/*
 * Set (cb != NULL) or remove (cb == NULL) the close callback; a previous
 * one is replaced (its free_opaque runs once it cannot be called any
 * more). On a connection opened with vrpc_conn_open*() whose daemon
 * supports it (VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK, asked once), the
 * daemon's close callback is registered too (CONNECT_REGISTER_CLOSE_CALLBACK,
 * or CONNECT_UNREGISTER_CLOSE_CALLBACK when removed). Returns 0 or the
 * call's error (the callback is then not set; free_opaque is not called).
 */
VRPC_EXPORT int vrpc_conn_set_close_callback(vrpc_conn *c, vrpc_close_cb cb, void *opaque,
                                             void (*free_opaque)(void *), vrpc_error **err);

/* Why the connection ended (VRPC_CONNECT_CLOSE_REASON_*), -1 while it is open. */
VRPC_EXPORT int vrpc_conn_get_close_reason(const vrpc_conn *c);

/* ---- Reconnecting connections (opt-in) ----
 *
 * A connection opened with vrpc_conn_open_reconnect() outlives its daemon:
 * when the connection is lost (end of file, keepalive timeout, a read or
 * write error, a protocol error), a thread of the library opens the same
 * URI again — the whole open sequence, authentication included — with
 * capped exponential backoff, puts the new socket under the same
 * vrpc_conn, registers every event callback again with its filter (the
 * daemon hands out new callback IDs; the IDs vrpc_event_register() gave
 * stay valid), turns keepalive on again if it was on, registers the
 * daemon's close callback again, and reports each step to the state
 * callback. What the application sees:
 *  - calls in flight when the connection is lost fail with VRPC_E_CLOSED
 *    (the message says why) and are never sent again: the daemon may have
 *    executed them;
 *  - calls made while it reconnects wait up to call_wait_usec; then they
 *    fail with VRPC_E_TIMEOUT (VRPC_ERR_OPERATION_TIMEOUT). Calls waiting
 *    when the library gives up, or made after, fail with VRPC_E_CLOSED;
 *  - streams open when the connection is lost fail with VRPC_E_CLOSED
 *    ("stream ... aborted: ..."), also once it is back: free them;
 *  - events queued before the loss are still delivered; events the daemon
 *    sends while it is gone are lost;
 *  - the close callback (vrpc_conn_set_close_callback) runs only when the
 *    library gives up (or at vrpc_conn_close), not at each loss;
 *  - the socket changes: event loops ask vrpc_conn_get_fd() again after
 *    each notification (the notify descriptor fires at the reconnection);
 *    vrpc_conn_get_fd() is -1 meanwhile, vrpc_conn_wait() waits for the
 *    new connection, vrpc_conn_process() returns the loss's error code
 *    (the connection is over only once the close callback ran, or
 *    vrpc_conn_get_status() stays non-zero after "gave up");
 *  - vrpc_conn_shutdown() and vrpc_conn_close() end it for good;
 *    vrpc_conn_close() during a reconnection stops it at once (an open
 *    sequence under way is shut down; only a TCP connect or TLS handshake
 *    under way is waited for, bounded to 30 s) and leaves no thread or
 *    descriptor behind.
 */
enum {
    VRPC_RECONNECT_LOST = 1,         /* the connection was lost (err: why) */
    VRPC_RECONNECT_RECONNECTING = 2, /* attempt n starts (err: why n - 1 failed, or NULL) */
    VRPC_RECONNECT_RECONNECTED = 3,  /* back after n attempts (err: an event that could
                                        not be registered again, or NULL) */
    VRPC_RECONNECT_GAVE_UP = 4,      /* the bound was reached (err: the last failure); final */
};

/* The state callback: runs in the library's reconnect thread, one call at a
 * time. It must not call vrpc_conn_close() nor wait for a call on c (the
 * thread that brings c back is the one running it). */
typedef void (*vrpc_reconnect_cb)(vrpc_conn *c, int state, unsigned int attempt,
                                  const vrpc_error *err, void *opaque);

#define VRPC_RECONNECT_DEFAULT_INITIAL_USEC (100 * VRPC_USEC_PER_MSEC)
#define VRPC_RECONNECT_DEFAULT_MAX_DELAY_USEC (10 * VRPC_USEC_PER_SEC)
#define VRPC_RECONNECT_DEFAULT_CALL_WAIT_USEC (30 * VRPC_USEC_PER_SEC)
#define VRPC_RECONNECT_DEFAULT_ATTEMPT_TIMEOUT_USEC (10 * VRPC_USEC_PER_SEC)

typedef struct vrpc_reconnect_opts {
    /* The first attempt is made at once; the n-th waits
     * min(initial_delay_usec * 2^(n - 2), max_delay_usec) after the one
     * before (0: the defaults above; max_delay_usec at least initial). */
    uint64_t initial_delay_usec;
    uint64_t max_delay_usec;
    /* Give up after this many failed attempts (0: no bound), or when the
     * next attempt would start more than max_total_usec after the loss
     * (0 or VRPC_USEC_INFINITY: no bound). Both 0: try for ever. */
    unsigned int max_attempts;
    uint64_t max_total_usec;
    /* How long a call made while reconnecting waits for the connection
     * (0: VRPC_RECONNECT_DEFAULT_CALL_WAIT_USEC; VRPC_USEC_INFINITY: until
     * it is back or the library gives up). */
    uint64_t call_wait_usec;
    /* An attempt fails when the daemon, once connected, stays silent this
     * long during the open sequence (0:
     * VRPC_RECONNECT_DEFAULT_ATTEMPT_TIMEOUT_USEC). Connecting itself is
     * bounded as for vrpc_conn_open() (TCP: 30 s per address, TLS
     * handshake: 30 s). */
    uint64_t attempt_timeout_usec;
    /* The state callback (may be NULL); free_opaque(opaque) runs at
     * vrpc_conn_close() (or when the open fails). */
    vrpc_reconnect_cb cb;
    void *opaque;
    void (*free_opaque)(void *);
    void *reserved[4]; /* must be NULL */
} vrpc_reconnect_opts;

/*
 * vrpc_conn_open_auth() in the reconnecting mode (opts NULL: the defaults,
 * no state callback, reconnect for ever). The first open is not retried:
 * its failure is returned as vrpc_conn_open_auth() returns it. The
 * reconnections reopen uri as given (NULL: $LIBVIRT_DEFAULT_URI again),
 * with the same flags, callback and userdata (which must stay valid until
 * vrpc_conn_close()). Admin connections cannot reconnect. Returns 0,
 * VRPC_E_INVALID (opts' reserved members not NULL), or the open's error.
 */
VRPC_EXPORT int vrpc_conn_open_reconnect(vrpc_conn **out, const char *uri, unsigned int flags,
                                         vrpc_auth_cb cb, void *userdata,
                                         const vrpc_reconnect_opts *opts, vrpc_error **err);

/* How many times the connection has been reconnected (0 for a connection
 * that never was, or not in the reconnecting mode). */
VRPC_EXPORT unsigned int vrpc_conn_get_reconnects(const vrpc_conn *c);

/* The name of a VRPC_RECONNECT_* state ("lost", "reconnecting",
 * "reconnected", "gave up"; NULL for another value). */
VRPC_EXPORT const char *vrpc_reconnect_state_name(int state);

/* ---- Generic calls (the generated per-procedure functions wrap these) ---- */

/*
 * Queue a call and return at once with a handle for its reply. Never blocks
 * on the network: bytes that cannot be written now are written by whichever
 * thread next performs I/O (a waiting call, vrpc_call_poll, vrpc_conn_process).
 * args must point to a value of proc->args (NULL for void). On failure *out
 * is NULL and a non-NULL err receives why (arguments that do not encode, a
 * closed connection, VRPC_E_AGAIN when too much output is queued).
 */
VRPC_EXPORT int vrpc_call_send(vrpc_conn *c, const vrpc_proc *proc, const void *args,
                               vrpc_pending **out, vrpc_error **err);

/*
 * Wait for the reply of a pending call and consume the handle (always, also
 * on error). On success *ret (if ret is not NULL) receives the decoded reply
 * (NULL for a void reply), to release with vrpc_free().
 */
VRPC_EXPORT int vrpc_call_wait(vrpc_conn *c, vrpc_pending *p, void **ret, vrpc_error **err);

/*
 * Like vrpc_call_wait but never blocks: performs the I/O that is ready and
 * returns VRPC_E_AGAIN (the handle stays valid) if the reply is not there yet.
 */
VRPC_EXPORT int vrpc_call_poll(vrpc_conn *c, vrpc_pending *p, void **ret, vrpc_error **err);

/*
 * vrpc_call_wait with a deadline: gives up after timeout_usec microseconds
 * (RELATIVE; waited in whole milliseconds, rounded up) with VRPC_E_TIMEOUT
 * (VRPC_ERR_OPERATION_TIMEOUT, "no reply to PROC (serial N) within T ms");
 * the handle is then consumed and the late reply dropped when it comes; the
 * connection stays usable. VRPC_USEC_INFINITY: no limit (vrpc_call_wait).
 */
VRPC_EXPORT int vrpc_call_wait_timeout(vrpc_conn *c, vrpc_pending *p, void **ret, vrpc_error **err,
                                       uint64_t timeout_usec);

/*
 * Cancel everything on the connection, from any thread: every call waiting
 * or queued fails at once with VRPC_E_CLOSED ("connection shut down by the
 * client"), the socket is closed, later calls fail the same way. Unlike
 * vrpc_conn_close() it frees nothing and may run while other threads use
 * the connection; vrpc_conn_close() must still be called. NULL-safe.
 */
VRPC_EXPORT void vrpc_conn_shutdown(vrpc_conn *c);

/* Forget a pending call: its reply is dropped when it comes. Consumes p. NULL-safe. */
VRPC_EXPORT void vrpc_call_discard(vrpc_conn *c, vrpc_pending *p);

/* Send and wait: the blocking call. */
VRPC_EXPORT int vrpc_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret,
                          vrpc_error **err);

/*
 * FILE-DESCRIPTOR PASSING (Unix sockets only): a blocking call that sends
 * n_in descriptors with the call (CALL_WITH_FDS; they are duplicated, the
 * caller keeps and closes its own) and receives the descriptors of a
 * REPLY_WITH_FDS: *out_fds (release with vrpc_free()) holds *n_out
 * close-on-exec descriptors that the caller owns and must close. out_fds
 * and n_out may both be NULL (received descriptors are then closed). On any
 * error no received descriptor is left open and *out_fds is NULL. The
 * procedures that use descriptors: domain_open_graphics (1 in),
 * domain_open_graphics_fd (1 out), domain_create_with_files and
 * domain_create_xml_with_files (in), domain_fd_associate (in),
 * qemu_domain_monitor_command_with_files (in and out), lxc_domain_open_namespace
 * (out). Other transports fail with VRPC_E_UNSUPPORTED before sending.
 */
VRPC_EXPORT int vrpc_call_fds(vrpc_conn *c, const vrpc_proc *proc, const void *args,
                              const int *in_fds, size_t n_in, void **ret, int **out_fds,
                              size_t *n_out, vrpc_error **err);

/*
 * STREAMS: call proc (one that opens a stream, see <virtrpc/stream.h>) and
 * wait for its reply. On success *st is the new stream and *ret (if ret is
 * not NULL) the decoded reply (NULL for a void reply; release with
 * vrpc_free()). On failure *st is NULL.
 */
VRPC_EXPORT int vrpc_stream_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret,
                                 vrpc_stream **st, vrpc_error **err);

/* The serial a pending call was sent with. */
VRPC_EXPORT uint32_t vrpc_pending_serial(const vrpc_pending *p);

#ifdef __cplusplus
}
#endif
#endif
