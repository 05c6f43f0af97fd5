/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: the wire conventions of libvirt's client that the .x files do
 * not state, and the calls generated for them (emit-calls.c).
 *
 * - Procedures that open a stream (@readstream/@writestream, and
 *   REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS, which libvirt's
 *   client streams by hand) get a call that returns the stream, through
 *   vrpc_stream_call(); no plain call, no _send/_reply pair.
 * - Procedures that pass file descriptors (known by name: the .x files do
 *   not mark them) get a call that takes and/or returns them, through
 *   vrpc_call_fds(); no plain call, no _send/_reply pair.
 * - Arguments with `int need_results` are sent with need_results = 1.
 * - The getters to which libvirt's client library adds
 *   VIR_TYPED_PARAM_STRING_OKAY get it in their blocking call when the daemon
 *   supports VIR_DRV_FEATURE_TYPED_PARAM_STRING.
 */
#ifndef VRPCGEN_CALLS_H
#define VRPCGEN_CALLS_H

#include "ast.h"

typedef enum call_shape {
    CS_PLAIN = 0, /* the blocking call and the _send/_reply pair */
    CS_STREAM,    /* one blocking call returning a vrpc_stream */
    CS_FDS,       /* one blocking call passing descriptors */
} call_shape;

enum { FDS_IN = 1, FDS_OUT = 2 };

/* Marks the unannotated stream procedures and checks the shapes the
 * conventions rely on; after sema_run(). */
void calls_prepare(void);

call_shape proc_call_shape(const proc *pr);
/* FDS_IN | FDS_OUT for a CS_FDS procedure, else 0. */
int proc_fds(const proc *pr);
bool proc_need_results(const proc *pr);
bool proc_string_okay(const proc *pr);

/* protocol.h: a note before the plain calls of a procedure with a fix-up. */
void emit_call_note(sbuf *o, const proc *pr);
/* protocol.h / protocol.c: the call of a CS_STREAM or CS_FDS procedure. */
void emit_special_call(sbuf *o, const proc *pr, bool definition);
/* protocol.c, before the calls: the static helpers the calls use. */
void emit_call_helpers(sbuf *o);
/* protocol.c: the body of the plain blocking call. */
void emit_blocking_body(sbuf *o, const proc *pr);
/* protocol.c: the arguments expression of the _send function. */
const char *send_args_expr(const proc *pr);

#endif
