/* SPDX-License-Identifier: MIT */
/*
 * The differential transcript of a C program linked with -lvirt-lxc (and
 * -lvirt) against the system's libvirt headers: the calls of libvirt-lxc
 * that run in the calling process (entering namespaces and security
 * labels) and the argument checks of those that reach the daemon, against
 * the private test daemon in $VRPC_DIFF_DIR. run-diff.py runs it on the
 * system's libraries and on the compat libraries and compares what it
 * prints (docs/compat.md).
 */
#include <libvirt/libvirt-lxc.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void section(const char *name)
{
    printf("== %s\n", name);
    fflush(stdout);
}

static void print_int(const char *tag, long long r, int daemon)
{
    if (r >= 0) {
        printf("%s: %lld\n", tag, r);
        return;
    }
    virErrorPtr e = virGetLastError();
    if (!e) {
        printf("%s: ERR none\n", tag);
        return;
    }
    printf("%s: ERR code=%d domain=%d", tag, e->code, e->domain);
    if (daemon)
        printf(" msg=%s", e->message ? e->message : "(null)");
    printf("\n");
}

static void quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

int main(void)
{
    const char *d = getenv("VRPC_DIFF_DIR");
    if (!d) {
        fprintf(stderr, "VRPC_DIFF_DIR is not set\n");
        return 2;
    }
    char uri[4096], ro_uri[4096];
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", d);
    snprintf(ro_uri, sizeof(ro_uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock-ro", d);
    virSetErrorFunc(NULL, quiet);

    virConnectPtr conn = virConnectOpen(uri);
    virConnectPtr ro = virConnectOpenReadOnly(ro_uri);
    if (!conn || !ro) {
        print_int("open", -1, 1);
        return 1;
    }
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    virDomainPtr rodom = virDomainLookupByName(ro, "test");
    if (!dom || !rodom) {
        print_int("lookup", -1, 1);
        return 1;
    }

    section("open namespace");
    int *fds = NULL;
    print_int("virDomainLxcOpenNamespace", virDomainLxcOpenNamespace(dom, &fds, 0), 1);
    print_int("virDomainLxcOpenNamespace[null list]", virDomainLxcOpenNamespace(dom, NULL, 0), 0);
    print_int("virDomainLxcOpenNamespace[read-only]", virDomainLxcOpenNamespace(rodom, &fds, 0), 0);
    print_int("virDomainLxcOpenNamespace[null domain]", virDomainLxcOpenNamespace(NULL, &fds, 0),
              0);

    section("enter namespace");
    /* our own namespaces: entering them changes nothing */
    int own[2];
    own[0] = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    own[1] = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
    unsigned int nold = 0;
    int *old = NULL;
    print_int("virDomainLxcEnterNamespace", virDomainLxcEnterNamespace(dom, 2, own, &nold, &old, 0),
              0);
    printf("old namespaces: %u\n", nold);
    for (unsigned int i = 0; i < nold; i++)
        close(old[i]);
    free(old);
    print_int("virDomainLxcEnterNamespace[no old]",
              virDomainLxcEnterNamespace(dom, 2, own, NULL, NULL, 0), 0);
    print_int("virDomainLxcEnterNamespace[none]",
              virDomainLxcEnterNamespace(dom, 0, own, NULL, NULL, 0), 0);
    print_int("virDomainLxcEnterNamespace[bad flags]",
              virDomainLxcEnterNamespace(dom, 2, own, NULL, NULL, 4), 0);
    int bad[1] = {-1};
    print_int("virDomainLxcEnterNamespace[skipped fd]",
              virDomainLxcEnterNamespace(dom, 1, bad, NULL, NULL, 0), 0);
    close(own[0]);
    close(own[1]);

    section("security label");
    virSecurityModel model;
    virSecurityLabel label, oldlabel;
    memset(&model, 0, sizeof(model));
    memset(&label, 0, sizeof(label));
    strcpy(model.model, "none");
    print_int("virDomainLxcEnterSecurityLabel[none]",
              virDomainLxcEnterSecurityLabel(&model, &label, &oldlabel, 0), 0);
    printf("old label: '%s' %d\n", oldlabel.label, oldlabel.enforcing);
    strcpy(model.model, "nosuchmodel");
    print_int("virDomainLxcEnterSecurityLabel[unknown]",
              virDomainLxcEnterSecurityLabel(&model, &label, NULL, 0), 0);
    print_int("virDomainLxcEnterSecurityLabel[null model]",
              virDomainLxcEnterSecurityLabel(NULL, &label, NULL, 0), 0);
    print_int("virDomainLxcEnterSecurityLabel[null label]",
              virDomainLxcEnterSecurityLabel(&model, NULL, NULL, 0), 0);
    print_int("virDomainLxcEnterSecurityLabel[bad flags]",
              virDomainLxcEnterSecurityLabel(&model, &label, NULL, 1), 0);

    section("cgroup");
    print_int("virDomainLxcEnterCGroup[read-only]", virDomainLxcEnterCGroup(rodom, 0), 0);
    print_int("virDomainLxcEnterCGroup[null domain]", virDomainLxcEnterCGroup(NULL, 0), 0);
    print_int("virDomainLxcEnterCGroup[bad flags]", virDomainLxcEnterCGroup(dom, 2), 0);

    virDomainFree(dom);
    virDomainFree(rodom);
    virConnectClose(ro);
    virConnectClose(conn);

    const char *maps = getenv("VRPC_DIFF_MAPS");
    if (maps) {
        FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(maps, "w");
        char line[4096];
        while (in && out && fgets(line, sizeof(line), in))
            if (strstr(line, "/libvirt") && strstr(line, ".so"))
                fputs(strrchr(line, ' ') + 1, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    return 0;
}
