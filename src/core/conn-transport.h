/* SPDX-License-Identifier: MIT */
/*
 * Internal: the transport interface — how the threaded connection (conn.c)
 * moves bytes. Defined here, where it is used; the transports themselves
 * (src/transport: unix, tcp, tls, child processes; src/auth: the SASL
 * layer) implement it.
 *
 * The core (conn.c) owns one vrpc_transport and never touches its file
 * descriptor except to poll() it. Every operation is NON-BLOCKING: the core
 * polls transport->ops->events() on transport->ops->fd() and calls read or
 * write when poll says so. It holds the connection lock while calling
 * read/write (they must not block), and not while polling.
 *
 * Contract of each operation:
 *
 *   read   Read up to len bytes. Returns the number of bytes (> 0), 0 at
 *          end of stream, VRPC_E_AGAIN when nothing is available now, or
 *          another negative VRPC_E_* with *err set. File descriptors that
 *          arrived with the bytes (SCM_RIGHTS) are appended to fds
 *          (*nfds in/out, at most maxfds; extra ones are closed and reported
 *          as VRPC_E_PROTO). On Unix sockets reads use recvmsg() with a
 *          control buffer, so the 1-byte carriers that libvirt sends after
 *          a *_WITH_FDS message are never read without their descriptor,
 *          even though the core reads ahead (it reads whatever is there, not
 *          exactly one packet). Transports without fd passing never return
 *          descriptors.
 *   write  Write up to len bytes; returns bytes written (> 0), VRPC_E_AGAIN,
 *          or a negative VRPC_E_* with *err set. Must not raise SIGPIPE.
 *   send_fd  (optional, NULL when unsupported) Send one descriptor with its
 *          1-byte carrier (libvirt sends each fd with its own sendmsg after
 *          the whole message). 1 when sent, VRPC_E_AGAIN, or an error.
 *   pending  (optional) Bytes already decoded and buffered inside the
 *          transport (TLS records, SASL-decoded data, child-process pipes):
 *          the core reads again without polling while this is non-zero.
 *   events  (optional) Map what the core wants (POLLIN / POLLOUT) to what
 *          must be polled on fd() now — a TLS session that needs to read to
 *          finish a write asks for POLLIN, for instance. NULL: identity.
 *   fd     The descriptor to poll.
 *   close  Close everything (for a child process: reap it) and free t.
 *
 * Layered transports (TLS over TCP, a SASL security layer over either) wrap
 * an inner vrpc_transport and forward fd()/events(); child-process
 * transports (ssh, ext) keep a socketpair to the child as fd() and reap the
 * child in close(). None of that changes the core.
 */
#ifndef VIRTRPC_CONN_TRANSPORT_H
#define VIRTRPC_CONN_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <virtrpc/conn.h>

typedef struct vrpc_transport vrpc_transport;

typedef struct vrpc_transport_ops {
    const char *name; /* "unix", "tcp", "tls", "ssh", ... for messages */
    ssize_t (*read)(vrpc_transport *t, void *buf, size_t len, int *fds, size_t *nfds, size_t maxfds,
                    vrpc_error **err);
    ssize_t (*write)(vrpc_transport *t, const void *buf, size_t len, vrpc_error **err);
    int (*send_fd)(vrpc_transport *t, int fd, vrpc_error **err);
    size_t (*pending)(vrpc_transport *t);
    short (*events)(vrpc_transport *t, short want);
    int (*fd)(const vrpc_transport *t);
    void (*close)(vrpc_transport *t);
} vrpc_transport_ops;

/* Every transport starts with this header (implementations extend it). */
struct vrpc_transport {
    const vrpc_transport_ops *ops;
    char *peer; /* what we are connected to, for messages ("/run/libvirt/libvirt-sock") */
};

#endif
