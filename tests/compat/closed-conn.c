/* SPDX-License-Identifier: MIT */
/*
 * A connection whose daemon went away, for test-closed.sh (which runs it
 * on virtrpc's libvirt.so.0 and on the system's and compares):
 *   closed-conn URI
 * Opens URI, says "open", waits for a line on stdin (the daemon is stopped
 * meanwhile), then prints what the calls on the connection give: return
 * values, error codes and domains.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

static void outcome(const char *what, long rc)
{
    virErrorPtr e = virGetLastError();

    if (e)
        printf("%s: %ld, code %d domain %d\n", what, rc, e->code, e->domain);
    else
        printf("%s: %ld, no error\n", what, rc);
}

int main(int argc, char **argv)
{
    char line[64];
    virConnectPtr c;
    virDomainPtr d;
    const char *type;

    if (argc != 2)
        return 2;
    /* libvirt.so writes on the dead socket without MSG_NOSIGNAL: programs
     * ignore SIGPIPE (virsh does). */
    signal(SIGPIPE, SIG_IGN);
    virSetErrorFunc(NULL, quiet);
    c = virConnectOpen(argv[1]);
    if (!c) {
        outcome("open", -1);
        return 1;
    }
    type = virConnectGetType(c);
    printf("open, type %s, alive %d\n", type ? type : "NULL", virConnectIsAlive(c));
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin))
        return 1;
    d = virDomainLookupByUUIDString(c, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    outcome("lookup after the daemon stopped", d ? 0 : -1);
    if (d)
        virDomainFree(d);
    d = virDomainLookupByUUIDString(c, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    outcome("lookup again", d ? 0 : -1);
    if (d)
        virDomainFree(d);
    printf("alive %d\n", virConnectIsAlive(c));
    outcome("virConnectIsSecure", virConnectIsSecure(c));
    type = virConnectGetType(c);
    printf("type %s (kept)\n", type ? type : "NULL");
    printf("close %d\n", virConnectClose(c));
    return 0;
}
