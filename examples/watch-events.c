/* SPDX-License-Identifier: MIT */
/*
 * watch-events: print the lifecycle events of every domain, serviced by the
 * program's own poll() loop, with keepalive. Stops after N seconds (or
 * never with 0).
 *
 *     watch-events URI SECONDS
 *
 * The loop is the one every event loop needs: poll the connection's socket
 * for what vrpc_conn_get_events() asks, its notify descriptor for POLLIN,
 * with the deadline of vrpc_conn_get_timeout(); then vrpc_conn_process(),
 * which runs the callbacks. (Programs without a loop call
 * vrpc_conn_start_event_thread() instead.)
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include <virtrpc/virtrpc.h>

static const char *const what[] = {"defined", "undefined", "started",     "suspended", "resumed",
                                   "stopped", "shutdown",  "pmsuspended", "crashed"};

static void on_lifecycle(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    const vrpc_domain_event_callback_lifecycle_msg *m = ev->msg;
    int e = m->msg.event;
    (void)c;
    (void)opaque;
    printf("domain %s: %s\n", m->msg.dom.name,
           e >= 0 && e < (int)(sizeof(what) / sizeof(what[0])) ? what[e] : "?");
    fflush(stdout);
}

static void on_close(vrpc_conn *c, int reason, void *opaque)
{
    (void)c;
    *(int *)opaque = reason;
}

int main(int argc, char **argv)
{
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;
    int id, closed = -1;
    uint64_t end;

    if (argc != 3) {
        fprintf(stderr, "usage: watch-events URI SECONDS\n");
        return 2;
    }
    end = atoi(argv[2]) > 0 ? vrpc_now_usec() + (uint64_t)atoi(argv[2]) * 1000000 : UINT64_MAX;
    if (vrpc_conn_open(&c, argv[1], 0, &err) != 0 ||
        vrpc_event_register_domain(c, VRPC_DOMAIN_EVENT_ID_LIFECYCLE, NULL, on_lifecycle, NULL,
                                   NULL, &id, &err) != 0 ||
        vrpc_conn_set_close_callback(c, on_close, &closed, NULL, &err) != 0) {
        fprintf(stderr, "error: %s\n", err && err->message ? err->message : "failed");
        vrpc_free(err);
        vrpc_conn_close(c);
        return 1;
    }
    /* This loop answers the daemon's PINGs: keepalive may be turned on. */
    vrpc_conn_set_keepalive(c, 5 * VRPC_USEC_PER_SEC, 5, NULL);

    while (closed < 0 && vrpc_now_usec() < end) {
        struct pollfd pfd[2] = {
            {.fd = vrpc_conn_get_fd(c), .events = (short)vrpc_conn_get_events(c)},
            {.fd = vrpc_conn_get_notify_fd(c), .events = POLLIN},
        };
        uint64_t deadline = UINT64_MAX, now = vrpc_now_usec();
        int timeout;

        vrpc_conn_get_timeout(c, &deadline);
        if (end < deadline)
            deadline = end;
        timeout = deadline == UINT64_MAX ? -1
                  : deadline <= now      ? 0
                                         : (int)((deadline - now + 999) / 1000);
        poll(pfd, 2, timeout);
        vrpc_conn_process(c); /* callbacks run here */
    }
    if (closed >= 0)
        fprintf(stderr, "the connection ended (reason %d)\n", closed);
    vrpc_conn_close(c);
    return closed >= 0 ? 1 : 0;
}
