/* SPDX-License-Identifier: MIT */
/*
 * Internal: transports that run a program (ssh, ext), and starting session
 * daemons.
 *
 * A child-process transport spawns a command whose stdin and stdout are one
 * end of a socketpair (our end: non-blocking, close-on-exec, written with
 * MSG_NOSIGNAL) and whose stderr is a pipe that is drained into a bounded
 * buffer (the last VRPC_CMD_STDERR_MAX bytes). When the child's end closes,
 * the error names the child's exit status and quotes its stderr. close()
 * reaps the child: it waits a short grace period, then sends SIGTERM, then
 * SIGKILL. Every failure path reaps too. The child inherits no descriptor of
 * ours but 0, 1 and 2 (every other descriptor is closed before exec), starts
 * with default signal dispositions and an empty signal mask, and gets the
 * environment libvirt gives it: LC_ALL=C plus a fixed list of variables
 * passed through when set.
 *
 * The ssh command line and its remote command are built by pure functions
 * (unit-tested against libvirt's expected strings).
 */
#ifndef VIRTRPC_TRANSPORT_CMD_H
#define VIRTRPC_TRANSPORT_CMD_H

#include <stdbool.h>

#include "transport.h"
#include "uri.h"

/* How much of a child's stderr is kept (the most recent bytes). */
#define VRPC_CMD_STDERR_MAX 8192

/*
 * Spawn argv (argv[0] without '/' is looked up in $PATH) with environment
 * envp (NULL: ours) on a socketpair. what names the child in messages
 * ("ssh to host"). On failure (no such program, exec failed, ...) nothing is
 * left behind and *err says why.
 */
int vrpc_transport_cmd_spawn(const char *what, char *const argv[], char *const envp[],
                             vrpc_transport **out, vrpc_error **err);

/*
 * The child's environment as libvirt builds it: "LC_ALL=C", then for each of
 * LD_PRELOAD LD_LIBRARY_PATH DYLD_INSERT_LIBRARIES DYLD_FORCE_FLAT_NAMESPACE
 * PATH HOME USER LOGNAME TMPDIR and then each name in extra (NULL-terminated,
 * may be NULL) that is set, "NAME=value". NULL-terminated; free with
 * vrpc_strv_free(). NULL when out of memory.
 */
char **vrpc_cmd_env(const char *const *extra);
void vrpc_strv_free(char **v);

/*
 * virBufferEscapeShell: s unchanged when it has no shell metacharacter,
 * "''" when empty, else in single quotes with each ' written as '\''.
 * NULL when out of memory.
 */
char *vrpc_shell_escape(const char *s);

/*
 * The remote command of the ssh transport (virNetClientSSHHelperCommand):
 * proxy auto (with netcat NULL; a netcat path turns auto into netcat),
 * netcat or native; netcat NULL means "nc"; socket_path is inserted as is;
 * driver_uri is the name given to virt-ssh-helper (-r when readonly). NULL
 * with *err set for native with a netcat path, or out of memory.
 */
char *vrpc_ssh_remote_command(vrpc_proxy_mode proxy, const char *netcat, const char *socket_path,
                              const char *driver_uri, bool readonly, vrpc_error **err);

/* What the ssh transport runs for a target. */
typedef struct vrpc_ssh_cmdline {
    const char *binary;  /* command= or "ssh" */
    const char *host;    /* URI host or "localhost" */
    const char *port;    /* only when the URI has one, else NULL */
    const char *user;    /* URI user or NULL */
    const char *keyfile; /* keyfile= or NULL */
    bool no_tty;         /* -o BatchMode=yes */
    bool no_verify;      /* -o StrictHostKeyChecking=no */
    const char *command; /* the remote command */
} vrpc_ssh_cmdline;

/*
 * argv of virNetSocketNewConnectSSH:
 *   BINARY [-p PORT] [-l USER] [-i KEYFILE] -T -e none [-o BatchMode=yes]
 *          [-o StrictHostKeyChecking=no] -- HOST COMMAND
 * NULL-terminated, free with vrpc_strv_free(); NULL when out of memory.
 */
char **vrpc_ssh_argv(const vrpc_ssh_cmdline *c);

/*
 * The proxy libvirt uses for a target: proxy= when given, else netcat with
 * socket=, native for session targets, auto otherwise.
 */
vrpc_proxy_mode vrpc_ssh_proxy_for(const vrpc_target *t);

/*
 * The whole ssh argv for a target (vrpc_ssh_proxy_for, the remote command
 * with the target's netcat=, socket path, name and read-only flag, then
 * vrpc_ssh_argv). NULL with *err set on failure.
 */
char **vrpc_ssh_target_argv(const vrpc_target *t, vrpc_error **err);

/* Transports for targets. */
int vrpc_transport_ssh_connect(const vrpc_target *t, vrpc_transport **out, vrpc_error **err);
int vrpc_transport_ext_connect(const vrpc_target *t, vrpc_transport **out, vrpc_error **err);

/*
 * The Unix transport of a remote target, with session daemon autostart
 * (libvirt's virNetSocketNewConnectUNIX) when t->autostart: if the socket is
 * not there (ENOENT) or nobody listens (ECONNREFUSED), create
 * $XDG_RUNTIME_DIR/libvirt (0700), take an exclusive lock on byte 0 of
 * <dir>/<daemon>.lock, start `<daemon> --timeout=120` daemonized (once),
 * retry every 10 ms up to 500 times, then unlink the lock file. The daemon
 * is libvirtd (legacy socket) or virt<driver>d (direct socket), in the
 * directory $VIRTD_PATH, else $LIBVIRTD_PATH, else VRPC_SBINDIR.
 */
int vrpc_transport_unix_open(const vrpc_target *t, vrpc_transport **out, vrpc_error **err);

/*
 * vrpc_transport_unix_connect(), and *errnum (may be NULL) receives
 * connect()'s errno when the connect itself failed (0 otherwise).
 */
int vrpc_transport_unix_connect_errno(const char *path, int *errnum, vrpc_transport **out,
                                      vrpc_error **err);

/* The session daemon's program for a target (see above); NULL when out of memory. */
char *vrpc_session_daemon_path(const vrpc_target *t);

/*
 * Start path --timeout=120 as a daemon (double fork, new session, stdio on
 * /dev/null, cwd /, libvirt's environment plus XDG_CACHE_HOME,
 * XDG_CONFIG_HOME, XDG_RUNTIME_DIR). 0 once it has been exec'd.
 */
int vrpc_spawn_daemon(const char *path, vrpc_error **err);

#endif
