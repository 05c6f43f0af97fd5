/* SPDX-License-Identifier: MIT */
/*
 * polkit (AUTH_POLKIT): the daemon asks polkit about our process (its pid,
 * uid and start time, from the socket) and answers {int complete}. libvirt's
 * client ignores `complete`; we require 1.
 */
#include <virtrpc/consts.h>
#include <virtrpc/protocol.h>

#include "alloc.h"
#include "auth.h"
#include "conn-internal.h"
#include "error.h"

int vrpc_polkit_authenticate(vrpc_conn *c, vrpc_error **err)
{
    vrpc_auth_polkit_ret *ret = NULL;
    int rc = vrpc_call(c, &vrpc_pd_auth_polkit, NULL, (void **)&ret, err);
    if (rc)
        return rc;
    if (ret->complete != 1) {
        vrpc_error_set(err, VRPC_ERR_AUTH_FAILED, VRPC_FROM_REMOTE,
                       "authentication failed: polkit authentication did not complete "
                       "(complete = %d)",
                       (int)ret->complete);
        rc = VRPC_E_AUTH;
    }
    vrpc_free(ret);
    return rc;
}
