/* SPDX-License-Identifier: MIT */
/*
 * An event the daemon does not know. The test daemons know every event ID of
 * the libvirt the build was generated from, so the raw registration calls of
 * each family ask for event ID 1000; the daemon's refusal (whatever its
 * version sends: VIR_ERR_INTERNAL_ERROR or VIR_ERR_NO_SUPPORT) must be what
 * vrpc_event_register() reports as VRPC_E_UNSUPPORTED, and other errors must
 * not be.
 */
#include "../integration/itest.h"
#include "../integration/ittap.h"

#include "error.h"
#include "events-internal.h"

#include <stdio.h>
#include <string.h>
#include <virtrpc/events.h>

#define UNKNOWN_ID 1000

static void check_refusal(const char *what, int family, int rc, vrpc_error *e)
{
    TAP_OK(rc == VRPC_E_REMOTE && e, "%s: the daemon refuses event ID %d (rc %d)", what, UNKNOWN_ID,
           rc);
    if (!e)
        return;
    TAP_OK(e->code == VRPC_ERR_NO_SUPPORT || e->code == VRPC_ERR_INTERNAL_ERROR,
           "%s: with code %d: %s", what, (int)e->code, e->message ? e->message : "(none)");
    TAP_OK(vrpc_event_refused_as_unknown(family, UNKNOWN_ID, e),
           "%s: the refusal reads as an event the daemon does not know", what);
    TAP_OK(!vrpc_event_refused_as_unknown(family, UNKNOWN_ID + 1, e) ||
               e->code == VRPC_ERR_NO_SUPPORT,
           "%s: not for another event ID", what);
}

static void registrations(vrpc_conn *c, bool secret)
{
    vrpc_error *e = NULL;
    void *ret = NULL;
    int rc;
    if (!secret) {
        vrpc_connect_domain_event_callback_register_any_args d = {.eventID = UNKNOWN_ID};
        vrpc_connect_network_event_register_any_args n = {.eventID = UNKNOWN_ID};
        vrpc_connect_storage_pool_event_register_any_args p = {.eventID = UNKNOWN_ID};
        vrpc_connect_node_device_event_register_any_args v = {.eventID = UNKNOWN_ID};

        rc = vrpc_call(c, &vrpc_pd_connect_domain_event_callback_register_any, &d, &ret, &e);
        vrpc_free(ret);
        ret = NULL;
        check_refusal("domain", VRPC_EVENT_FAMILY_DOMAIN, rc, e);
        vrpc_free(e);
        e = NULL;
        rc = vrpc_call(c, &vrpc_pd_connect_network_event_register_any, &n, &ret, &e);
        vrpc_free(ret);
        ret = NULL;
        check_refusal("network", VRPC_EVENT_FAMILY_NETWORK, rc, e);
        vrpc_free(e);
        e = NULL;
        rc = vrpc_call(c, &vrpc_pd_connect_storage_pool_event_register_any, &p, &ret, &e);
        vrpc_free(ret);
        ret = NULL;
        check_refusal("storage pool", VRPC_EVENT_FAMILY_STORAGE_POOL, rc, e);
        vrpc_free(e);
        e = NULL;
        rc = vrpc_call(c, &vrpc_pd_connect_node_device_event_register_any, &v, &ret, &e);
        vrpc_free(ret);
        ret = NULL;
        check_refusal("node device", VRPC_EVENT_FAMILY_NODE_DEVICE, rc, e);
        vrpc_free(e);
    } else {
        vrpc_connect_secret_event_register_any_args s = {.eventID = UNKNOWN_ID};
        rc = vrpc_call(c, &vrpc_pd_connect_secret_event_register_any, &s, &ret, &e);
        vrpc_free(ret);
        ret = NULL;
        check_refusal("secret", VRPC_EVENT_FAMILY_SECRET, rc, e);
        vrpc_free(e);
    }
}

/* Errors that are not "unknown event": the classification is narrow. */
static void narrow(void)
{
    static const struct {
        int code;
        const char *msg;
        bool unknown;
    } cases[] = {
        {VRPC_ERR_NO_SUPPORT, "anything", true},
        {VRPC_ERR_INTERNAL_ERROR, "unsupported event ID 1000", true},
        {VRPC_ERR_INTERNAL_ERROR, "unsupported network event ID 1000", true},
        {VRPC_ERR_INTERNAL_ERROR, "internal error: unsupported storage pool event ID 1000", true},
        {VRPC_ERR_INTERNAL_ERROR, "internal error: unsupported event ID 1001", false},
        {VRPC_ERR_INTERNAL_ERROR, "internal error: internal error: unsupported event ID 1000",
         false},
        {VRPC_ERR_INTERNAL_ERROR, "unsupported event ID 10000", false},
        {VRPC_ERR_INTERNAL_ERROR, "unsupported event ID 100", false},
        {VRPC_ERR_INTERNAL_ERROR, "cannot allocate the event ID 1000", false},
        {VRPC_ERR_INTERNAL_ERROR, "unsupported: x=1 event ID 1000", false},
        {VRPC_ERR_OPERATION_INVALID, "unsupported event ID 1000", false},
        {VRPC_ERR_INTERNAL_ERROR, "", false},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vrpc_error *e = NULL;
        vrpc_error_set(&e, cases[i].code, VRPC_FROM_RPC, "%s", cases[i].msg);
        TAP_OK(e && vrpc_event_refused_as_unknown(VRPC_EVENT_FAMILY_DOMAIN, UNKNOWN_ID, e) ==
                        cases[i].unknown,
               "code %d \"%s\" %s", cases[i].code, cases[i].msg,
               cases[i].unknown ? "is an unknown event" : "is not an unknown event");
        vrpc_free(e);
    }
    {
        vrpc_error *e = NULL;
        vrpc_error_set(&e, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC, "unsupported event ID 0");
        TAP_OK(!vrpc_event_refused_as_unknown(VRPC_EVENT_FAMILY_QEMU_MONITOR, 0, e),
               "QEMU monitor events have no ID: only NO_SUPPORT counts");
        vrpc_free(e);
    }
}

int main(void)
{
    vrpc_conn *c = NULL;

    if (!it_start("events-unknown"))
        return 0;
    narrow();
    if (vrpc_conn_open(&c, it_sys_uri(), 0, it_errp()) != 0) {
        TAP_OK(0, "open %s", it_sys_uri());
        return tap_done();
    }
    registrations(c, false);
    vrpc_conn_close(c);
    c = NULL;
    if (vrpc_conn_open(&c, it_secret_uri(), 0, it_errp()) != 0) {
        TAP_OK(0, "open %s", it_secret_uri());
        return tap_done();
    }
    registrations(c, true);
    vrpc_conn_close(c);
    it_finish();
    return tap_done();
}
