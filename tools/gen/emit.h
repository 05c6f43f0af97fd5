/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: output files.
 */
#ifndef VRPCGEN_EMIT_H
#define VRPCGEN_EMIT_H

#include "util.h"

void emit_header(sbuf *o);
void emit_source(sbuf *o);
void emit_consts(sbuf *o);
/* emit-events.c: the event-ID table of src/events (event-ids.c). */
void emit_events(sbuf *o);

#endif
