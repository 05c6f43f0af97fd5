/* SPDX-License-Identifier: MIT */
/*
 * Internal: the TCP transport (test+tcp://, and the socket under TLS).
 *
 * The host is resolved with getaddrinfo() (AF_UNSPEC: IPv4 and IPv6, with
 * AI_ADDRCONFIG | AI_V4MAPPED as libvirt's client asks) and every address is
 * tried in turn with a non-blocking connect() bounded by a deadline PER
 * ADDRESS, so one unreachable address family does not eat the time of the
 * next one. libvirt's client has no deadline here (a blocking connect waits
 * for the kernel, about two minutes); we stop after
 * VRPC_TCP_CONNECT_TIMEOUT_MS. The socket is close-on-exec, non-blocking
 * and has TCP_NODELAY (as libvirt sets it: small RPC packets must not wait).
 *
 * Errors: "resolve: HOST: <gai_strerror>" (tagged with the step "resolve")
 * and "connect to HOST:PORT: <strerror>" (or "...: timed out after N ms"),
 * code VRPC_E_CONNECT (VRPC_E_TIMEOUT for the deadline).
 *
 * A layer installed over this transport (TLS, a SASL security layer) finds
 * the local and remote addresses with getsockname()/getpeername() on fd().
 */
#ifndef VIRTRPC_TCP_H
#define VIRTRPC_TCP_H

#include "transport.h"

/* Deadline of connect() to each resolved address. */
#define VRPC_TCP_CONNECT_TIMEOUT_MS 30000

/*
 * Connect to host:port. timeout_ms bounds each address's connect()
 * (< 0: VRPC_TCP_CONNECT_TIMEOUT_MS, 0: no deadline). The transport's peer
 * reads "HOST:PORT" ("[v6addr]:PORT" for IPv6 literals).
 */
int vrpc_transport_tcp_connect(const char *host, int port, int timeout_ms, vrpc_transport **out,
                               vrpc_error **err);

/* "HOST:PORT", with brackets around an IPv6 literal; NULL if out of memory. */
char *vrpc_tcp_peer_name(const char *host, int port);

/* True when t is a TCP transport made by vrpc_transport_tcp_connect(). */
bool vrpc_transport_is_tcp(const vrpc_transport *t);

#endif
