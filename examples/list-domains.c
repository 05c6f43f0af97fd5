/* SPDX-License-Identifier: MIT */
/*
 * List every domain of a hypervisor with its id, UUID and state.
 *
 *   list-domains [URI]
 *
 * The URI defaults to $LIBVIRT_DEFAULT_URI (and without it, the local
 * daemon), e.g. qemu:///system or test+unix:///default?socket=PATH.
 */
#include <stdio.h>
#include <stdlib.h>

#include <virtrpc/virtrpc.h>

/* Print an error returned by the library and release it. */
static int fail(const char *what, int rc, vrpc_error *err)
{
    fprintf(stderr, "%s: %s\n", what, err && err->message ? err->message : vrpc_strerror(rc));
    vrpc_free(err);
    return 1;
}

int main(int argc, char **argv)
{
    const char *uri = argc > 1 ? argv[1] : getenv("LIBVIRT_DEFAULT_URI");
    vrpc_conn *conn = NULL;
    vrpc_simple_domain_list *list = NULL;
    vrpc_error *err = NULL;
    int rc;

    /* Listing needs no write access: a read-only connection will do. */
    rc = vrpc_simple_open(&conn, uri, true, &err);
    if (rc)
        return fail("cannot connect", rc, err);

    rc = vrpc_simple_list_domains(conn, &list, &err);
    if (rc) {
        vrpc_conn_close(conn);
        return fail("cannot list the domains", rc, err);
    }

    printf("%-4s %-36s %-12s %s\n", "ID", "UUID", "STATE", "NAME");
    for (size_t i = 0; i < list->count; i++) {
        const vrpc_simple_domain *d = &list->domains[i];
        char uuid[VRPC_UUID_STRING_BUFLEN];
        char id[16] = "-";

        vrpc_uuid_format(d->uuid, uuid);
        if (d->id >= 0)
            snprintf(id, sizeof(id), "%d", (int)d->id);
        printf("%-4s %-36s %-12s %s\n", id, uuid, vrpc_simple_state_name(d->state), d->name);
    }
    printf("%zu domain(s)\n", list->count);

    /* One vrpc_free() releases the whole list, names included. */
    vrpc_free(list);
    vrpc_conn_close(conn);
    return 0;
}
