/* SPDX-License-Identifier: MIT */
/*
 * Internal: the transports that connect (unix, a given descriptor). The
 * interface they implement is src/core/conn-transport.h.
 */
#ifndef VIRTRPC_TRANSPORT_H
#define VIRTRPC_TRANSPORT_H

#include "conn-transport.h"

/*
 * Connect to a Unix stream socket at path ('@name': the abstract socket
 * "name"). Close-on-exec, non-blocking once connected. On failure:
 * VRPC_E_CONNECT (or VRPC_E_NOT_FOUND when the path does not exist) with
 * "connect to PATH: <strerror>".
 */
int vrpc_transport_unix_connect(const char *path, vrpc_transport **out, vrpc_error **err);

/*
 * Wrap a connected stream descriptor (a socket of any family, or a pipe-like
 * fd). Takes ownership of fd (closed on failure too). Sets O_NONBLOCK and
 * FD_CLOEXEC. AF_UNIX sockets get recvmsg()/SCM_RIGHTS and send_fd.
 */
int vrpc_transport_fd_new(int fd, vrpc_transport **out, vrpc_error **err);

#endif
