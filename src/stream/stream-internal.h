/* SPDX-License-Identifier: MIT */
/*
 * Internal: what the connection core asks of the stream module (stream.c).
 */
#ifndef VIRTRPC_STREAM_INTERNAL_H
#define VIRTRPC_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <virtrpc/conn.h>

/*
 * The connection is being closed (lock held, no thread inside the API):
 * detach every stream the application has not freed yet. Their buffers are
 * dropped; later operations on them fail with VRPC_E_CLOSED and
 * vrpc_stream_free() only releases memory.
 */
void vrpc_stream_conn_closed_locked(vrpc_conn *c);

/*
 * A REPLY with status ERROR that matches no call: libvirtd answers a failed
 * STREAM_HOLE packet that way (with the stream's serial). If a stream has
 * this (prog, vers, serial), the error becomes the stream's and true is
 * returned; false: not a stream's. Lock held.
 */
bool vrpc_stream_take_reply_error_locked(vrpc_conn *c, uint32_t prog, uint32_t vers,
                                         uint32_t serial, const uint8_t *payload, size_t len);

#endif
