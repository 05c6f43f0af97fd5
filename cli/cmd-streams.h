/* SPDX-License-Identifier: MIT */
/* The stream commands of the virtrpc tool (cmd-streams.c): console,
 * vol-upload, vol-download, screenshot, qemu-monitor-command. */
#ifndef VIRTRPC_CLI_CMD_STREAMS_H
#define VIRTRPC_CLI_CMD_STREAMS_H

#include <stdbool.h>

#include <virtrpc/conn.h>

/* Usage lines for `virtrpc --help`. */
#define VIRTRPC_STREAMS_USAGE                                                                      \
    "  console DOMAIN [--devname DEV] [--force] [--safe] [--linger S]\n"                           \
    "                      the domain's console, both ways, in a raw terminal; Ctrl-]\n"           \
    "                      leaves (without a terminal: the end of standard input does,\n"          \
    "                      after showing the output of the next S seconds)\n"                      \
    "  vol-upload VOL FILE [--pool POOL] [--offset N] [--length N] [--sparse]\n"                   \
    "                      write FILE ('-': standard input) into a volume; --sparse\n"             \
    "                      sends the file's holes as holes\n"                                      \
    "  vol-download VOL FILE [--pool POOL] [--offset N] [--length N] [--sparse]\n"                 \
    "                      read a volume into FILE ('-': standard output); --sparse\n"             \
    "                      keeps its holes as holes\n"                                             \
    "                      (VOL: a name with --pool, else a key or a path; a progress\n"           \
    "                      bar on a terminal)\n"                                                   \
    "  screenshot DOMAIN FILE [--screen N]\n"                                                      \
    "                      save an image of the domain's screen\n"                                 \
    "  qemu-monitor-command DOMAIN COMMAND... [--hmp]\n"                                           \
    "                      send a QMP command (JSON; with --hmp a human monitor command)\n"        \
    "                      to a QEMU domain and print the answer\n"

/* Whether name is one of these commands. */
bool virtrpc_is_stream_cmd(const char *name);

/*
 * Run the command `name` on an open connection (argv: the arguments after
 * the command's name). Returns the exit status: 0 success, 1 failure, 2 bad
 * usage.
 */
int virtrpc_cmd_stream(vrpc_conn *c, const char *name, int argc, char **argv);

#endif
