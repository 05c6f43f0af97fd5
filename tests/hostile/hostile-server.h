/* SPDX-License-Identifier: MIT */
/*
 * A scripted hostile server for the hostile scenarios: one end of a Unix
 * socketpair, served by a thread that runs a script. Scripts read the
 * client's packets and write whatever bytes they like (well-formed packets,
 * broken ones, descriptors with or without carriers), then hang up or go
 * silent. A watchdog turns a scenario that hangs into a failure.
 */
#ifndef VIRTRPC_TESTS_HOSTILE_SERVER_H
#define VIRTRPC_TESTS_HOSTILE_SERVER_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../testlib.h"
#include "message.h"
#include "xdr.h"

typedef struct hs_pkt {
    vrpc_msg_header h;
    uint8_t *payload;
    size_t len;
} hs_pkt;

typedef struct hs_server hs_server;
typedef void (*hs_script)(hs_server *s);

struct hs_server {
    int fd;
    pthread_t th;
    hs_script script;
    const void *arg;   /* the scenario's data */
    atomic_int calls;  /* CALL packets read */
    atomic_int pongs;  /* keepalive PONGs read */
    atomic_int stop;   /* set by the test: end endless scripts */
    atomic_llong mark; /* a time the script records (ms) */
};

__attribute__((unused)) static int hs_write(hs_server *s, const void *buf, size_t n)
{
    return tl_send_full(s->fd, buf, n);
}

/* Read one packet (blocking); -1 at EOF or on a packet a client never sends. */
__attribute__((unused)) static int hs_read(hs_server *s, hs_pkt *p)
{
    uint8_t hdr[28];
    uint32_t len;
    p->payload = NULL;
    if (tl_read_full(s->fd, hdr, 28))
        return -1;
    len = vrpc_get_u32(hdr);
    vrpc_msg_header_get(hdr + 4, &p->h);
    if (len < 28 || len > VRPC_MSG_PACKET_MAX)
        return -1;
    p->len = len - 28;
    p->payload = malloc(p->len + 1);
    if (!p->payload || (p->len && tl_read_full(s->fd, p->payload, p->len))) {
        free(p->payload);
        p->payload = NULL;
        return -1;
    }
    if (p->h.prog == VRPC_MSG_KEEPALIVE_PROG && p->h.proc == VRPC_MSG_KEEPALIVE_PONG)
        atomic_fetch_add(&s->pongs, 1);
    else if (p->h.type == VRPC_MSG_CALL || p->h.type == VRPC_MSG_CALL_WITH_FDS)
        atomic_fetch_add(&s->calls, 1);
    return 0;
}

/* Read the next CALL (skipping PONGs, stream packets); -1 at EOF. */
__attribute__((unused)) static int hs_read_call(hs_server *s, hs_pkt *p)
{
    for (;;) {
        if (hs_read(s, p))
            return -1;
        if (p->h.type == VRPC_MSG_CALL || p->h.type == VRPC_MSG_CALL_WITH_FDS)
            return 0;
        free(p->payload);
    }
}

/* A packet with the given header fields and payload (length word computed). */
__attribute__((unused)) static int hs_send(hs_server *s, uint32_t prog, uint32_t vers, int32_t proc,
                                           int32_t type, uint32_t serial, int32_t status,
                                           const void *payload, size_t len)
{
    vrpc_msg_header h = {prog, vers, proc, type, serial, status};
    uint8_t *b = malloc(28 + len);
    int rc;
    if (!b)
        return -1;
    vrpc_put_u32(b, (uint32_t)(28 + len));
    vrpc_msg_header_put(b + 4, &h);
    if (len)
        memcpy(b + 28, payload, len);
    rc = hs_write(s, b, 28 + len);
    free(b);
    return rc;
}

/* A REPLY (type) to call with status and payload. */
__attribute__((unused)) static int hs_reply(hs_server *s, const hs_pkt *call, int32_t type,
                                            int32_t status, const void *payload, size_t len)
{
    return hs_send(s, call->h.prog, call->h.vers, call->h.proc, type, call->h.serial, status,
                   payload, len);
}

/* One fd-carrier byte, with descriptor fd attached (fd < 0: none). */
__attribute__((unused)) static int hs_send_carrier(hs_server *s, int fd)
{
    return tl_send_fd(s->fd, fd);
}

/* Close the server's end for good (the client sees EOF). */
__attribute__((unused)) static void hs_hangup(hs_server *s)
{
    shutdown(s->fd, SHUT_RDWR);
}

/* Read and drop everything until the client hangs up. */
__attribute__((unused)) static void hs_drain(hs_server *s)
{
    hs_pkt p;
    while (hs_read(s, &p) == 0)
        free(p.payload);
}

static void *hs_main(void *arg)
{
    hs_server *s = arg;
    s->script(s);
    return NULL;
}

/*
 * Start a server running script on one end of a new socketpair; *client_fd
 * gets the other end. 0 or -1.
 */
__attribute__((unused)) static int hs_start(hs_server *s, hs_script script, const void *arg,
                                            int *client_fd)
{
    int sv[2];
    memset(s, 0, sizeof(*s));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    s->fd = sv[1];
    s->script = script;
    s->arg = arg;
    *client_fd = sv[0];
    if (pthread_create(&s->th, NULL, hs_main, s) != 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    return 0;
}

/* After the client closed its end: wait for the script, close ours. */
__attribute__((unused)) static void hs_finish(hs_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->fd);
    s->fd = -1;
}

/* ---- the watchdog: a scenario that does not finish in time fails ---- */

static pthread_mutex_t hs_wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hs_wd_cond = PTHREAD_COND_INITIALIZER;
static const char *hs_wd_name;
static int64_t hs_wd_deadline;
static bool hs_wd_started;

static void *hs_wd_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hs_wd_lock);
    for (;;) {
        struct timespec ts;
        int64_t now = tl_now_ms();
        if (hs_wd_name && now >= hs_wd_deadline) {
            printf("not ok - %s: HUNG (no result within its time limit)\nBail out! %s hung\n",
                   hs_wd_name, hs_wd_name);
            fflush(stdout);
            _exit(1);
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&hs_wd_cond, &hs_wd_lock, &ts);
    }
    return NULL;
}

/* Arm the watchdog for a scenario (name must stay valid); NULL disarms it. */
__attribute__((unused)) static void hs_watchdog(const char *name, int limit_ms)
{
    pthread_mutex_lock(&hs_wd_lock);
    if (!hs_wd_started) {
        pthread_t th;
        hs_wd_started = pthread_create(&th, NULL, hs_wd_main, NULL) == 0;
        if (hs_wd_started)
            pthread_detach(th);
    }
    hs_wd_name = name;
    hs_wd_deadline = tl_now_ms() + limit_ms;
    pthread_cond_signal(&hs_wd_cond);
    pthread_mutex_unlock(&hs_wd_lock);
}

#endif
