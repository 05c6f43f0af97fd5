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

#endif
