/* SPDX-License-Identifier: MIT */
/*
 * libvirt-qemu.so.0, the hand-written part: the monitor command with file
 * descriptors. The plain monitor and agent commands and attach are
 * generated.
 */
#include "compat.h"

#include <libvirt/libvirt-qemu.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int virDomainQemuMonitorCommandWithFiles(virDomainPtr domain, const char *cmd,
                                         unsigned int ninfiles, int *infiles,
                                         unsigned int *noutfiles, int **outfiles, char **result,
                                         unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!cmd) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "cmd");
        goto error;
    }
    if (ninfiles > 0 && !infiles) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "infiles");
        goto error;
    }
    if (!result) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "result");
        goto error;
    }
    if (compat_readonly(conn))
        goto error;
    vrpc_qemu_domain_monitor_command_with_files_args a = {.cmd = cmd, .flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_qemu_domain_monitor_command_with_files_ret *r = NULL;
    int *fds = NULL;
    size_t nfds = 0;
    vrpc_error *err = NULL;
    int rc =
        vrpc_call_fds(conn->c, &vrpc_pd_qemu_domain_monitor_command_with_files, &a, infiles,
                      ninfiles, (void **)&r, outfiles ? &fds : NULL, outfiles ? &nfds : NULL, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        goto error;
    }
    char *res = compat_strdup(r->result);
    vrpc_free(r);
    int *out = NULL;
    if (res && outfiles && !(out = malloc((nfds ? nfds : 1) * sizeof(int)))) {
        compat_no_memory();
        free(res);
        res = NULL;
    }
    if (!res) {
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        vrpc_free(fds);
        goto error;
    }
    if (outfiles) {
        if (nfds)
            memcpy(out, fds, nfds * sizeof(int));
        vrpc_free(fds);
        *outfiles = out;
        if (noutfiles)
            *noutfiles = (unsigned int)nfds;
    }
    *result = res;
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

int virDomainQemuMonitorCommand(virDomainPtr domain, const char *cmd, char **result,
                                unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!cmd) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "cmd");
        goto error;
    }
    if (!result) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "result");
        goto error;
    }
    if (compat_readonly(conn))
        goto error;
    vrpc_qemu_domain_monitor_command_args a = {.cmd = cmd, .flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_qemu_domain_monitor_command_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_qemu_domain_monitor_command, &a, &r) < 0)
        goto error;
    char *res = compat_strdup(r->result);
    vrpc_free(r);
    if (!res)
        goto error;
    *result = res;
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

int virConnectDomainQemuMonitorEventRegister(virConnectPtr conn, virDomainPtr dom,
                                             const char *event,
                                             virConnectDomainQemuMonitorEventCallback cb,
                                             void *opaque, virFreeCallback freecb,
                                             unsigned int flags)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (dom) {
        if (!compat_obj_conn(dom, COMPAT_DOMAIN))
            goto error;
        if (dom->conn != conn) {
            compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                         "%s: the domain does not belong to this connection", __func__);
            goto error;
        }
    }
    if (!cb) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "cb");
        goto error;
    }
    if (compat_readonly(conn))
        goto error;
    /* The daemon checks the flags and matches the event name; callbacks
     * of one domain without an event name share a registration (and are
     * checked for duplicates), as libvirt's client does. */
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    vrpc_nonnull_domain wd;
    if (dom) {
        compat_domain_to(dom, &wd);
        compat_uuid_format(dom->uuid, uuid);
    }
    vrpc_qemu_monitor_filter f = {.dom = dom ? &wd : NULL, .event = event, .flags = flags};
    char *match = NULL;
    if (asprintf(&match, "%s/%u/%s", uuid, flags, event ? event : "") < 0) {
        compat_no_memory();
        goto error;
    }
    compat_event_spec s = {
        .family = VRPC_EVENT_FAMILY_QEMU_MONITOR,
        .event = 0,
        .filter = &f,
        .key = dom ? uuid : NULL,
        .match = match,
        .dup_check = !event,
        .fn = (void (*)(void))cb,
        .opaque = opaque,
        .freecb = freecb,
    };
    int id = compat_events_register(conn, &s);
    free(match);
    if (id < 0)
        goto error;
    return id;
error:
    compat_dispatch(conn);
    return -1;
}

int virConnectDomainQemuMonitorEventDeregister(virConnectPtr conn, int callbackID)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (callbackID < 0) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "callbackID");
        goto error;
    }
    if (compat_readonly(conn))
        goto error;
    if (compat_events_deregister(conn, VRPC_EVENT_FAMILY_QEMU_MONITOR, callbackID) < 0)
        goto error;
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}
