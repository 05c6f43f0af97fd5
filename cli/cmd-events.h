/* SPDX-License-Identifier: MIT */
/* The `events` command of the virtrpc tool (cmd-events.c). */
#ifndef VIRTRPC_CLI_CMD_EVENTS_H
#define VIRTRPC_CLI_CMD_EVENTS_H

#include <stdbool.h>

#include <virtrpc/conn.h>

/* Usage lines for `virtrpc --help`. */
#define VIRTRPC_EVENTS_USAGE                                                                       \
    "  events [--all | EVENT...] [--domain DOMAIN] [--timeout S] [--reconnect] [--list]\n"         \
    "                      print every event as one JSON line until interrupted\n"                 \
    "                      ({\"event\": NAME, \"msg\": ...}); EVENT as `--list` names\n"           \
    "                      them (domain events also as virsh does: lifecycle, pm-wakeup);\n"       \
    "                      --reconnect: outlive daemon restarts (state changes on stderr)\n"

/*
 * `virtrpc events ARGS` on an open connection (argv: the arguments after
 * "events"). Returns the exit status: 0 (interrupted by SIGINT, SIGTERM or
 * SIGHUP, or --timeout passed), 1 (a registration failed, the connection
 * ended), 2 (bad usage).
 */
int virtrpc_cmd_events(vrpc_conn *c, int argc, char **argv);

/* Whether ARGS ask for --reconnect; then *o holds the options to open the
 * connection with (state changes printed on stderr, reconnect for ever). */
bool virtrpc_events_wants_reconnect(int argc, char **argv, vrpc_reconnect_opts *o);

/* `virtrpc events --list` needs no connection. */
int virtrpc_cmd_events_list(void);

#endif
