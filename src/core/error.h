/* SPDX-License-Identifier: MIT */
/*
 * Internal: building vrpc_error objects.
 *
 * Every vrpc_error the library hands out is ONE allocation released with
 * vrpc_free(): the struct, followed by the optional `dom` and `net` structs,
 * followed by all of its strings. The daemon's errors come from the codec
 * (which lays them out the same way); local errors are built here with a
 * libvirt-style code (VRPC_ERR_*), domain (VRPC_FROM_*), level
 * VRPC_ERR_ERROR and a message that says what failed.
 *
 * Allocation failures never crash: a builder that cannot allocate returns
 * NULL (and the *_set functions leave *err NULL); the caller still returns
 * its error code.
 */
#ifndef VIRTRPC_ERROR_H
#define VIRTRPC_ERROR_H

#include <stdarg.h>

#include <virtrpc/conn.h>
#include <virtrpc/protocol.h>

#define VRPC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* A new local error; NULL if out of memory. */
vrpc_error *vrpc_error_new(int code, int domain, const char *fmt, ...) VRPC_PRINTF(3, 4);
vrpc_error *vrpc_error_newv(int code, int domain, const char *fmt, va_list ap) VRPC_PRINTF(3, 0);

/*
 * Store a new local error in *err. Does nothing when err is NULL. Any error
 * *err already holds is NOT freed (callers may pass an uninitialised
 * pointer); the library never sets an error twice on one path.
 */
void vrpc_error_set(vrpc_error **err, int code, int domain, const char *fmt, ...) VRPC_PRINTF(4, 5);
/* Same, with ": <strerror(errnum)>" appended to the message. */
void vrpc_error_set_errno(vrpc_error **err, int code, int domain, int errnum, const char *fmt, ...)
    VRPC_PRINTF(5, 6);

/*
 * A deep copy of e as one allocation (dom, net and every string included).
 * With message != NULL the copy's message is that string instead of e's.
 * NULL if out of memory or e is NULL.
 */
vrpc_error *vrpc_error_dup(const vrpc_error *e, const char *message);

/*
 * Rewrite *err in place so that its message reads "<prefix>: <old message>"
 * (every other field is kept). Does nothing when err or *err is NULL; on
 * allocation failure the old error is kept unchanged.
 */
void vrpc_error_prefix(vrpc_error **err, const char *fmt, ...) VRPC_PRINTF(2, 3);

/* The steps of an open, as vrpc_open_failed_step() names them. */
typedef enum vrpc_step {
    VRPC_STEP_NONE = 0,
    VRPC_STEP_RESOLVE,
    VRPC_STEP_CONNECT,
    VRPC_STEP_HANDSHAKE,
    VRPC_STEP_CERTIFICATE,
    VRPC_STEP_AUTH,
    VRPC_STEP_OPEN,
} vrpc_step;

/* "resolve", "connect", ..., NULL for VRPC_STEP_NONE. */
const char *vrpc_step_name(vrpc_step step);

/*
 * Tag a local error *err with the open step it failed in. The message is
 * not changed. On allocation failure *err stays as it was. Decisions are
 * made on the tag (vrpc_error_step()), never on message text; this pair is
 * the only code that knows where the tag is stored.
 */
void vrpc_error_set_step(vrpc_error **err, vrpc_step step);
/* The tag of a local error, VRPC_STEP_NONE when it has none. */
vrpc_step vrpc_error_step(const vrpc_error *e);

/* Hand *src to dst (if dst is not NULL) or free it; *src becomes NULL. */
void vrpc_error_move(vrpc_error **dst, vrpc_error **src);

#endif
