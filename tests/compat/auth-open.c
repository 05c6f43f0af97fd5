/* SPDX-License-Identifier: MIT */
/*
 * virConnectOpenAuth with a credential callback, for test-auth.sh (which
 * runs it on virtrpc's libvirt.so.0 and on the system's and compares):
 *   auth-open URI MODE
 * MODE: good (alice/secret), wrong (alice/wrong), refuse (the callback
 * fails), narrow (a callback that lists no passphrase type), default
 * (virConnectAuthPtrDefault, answers from stdin), none (no auth at all).
 * Prints the credential types asked, then the open's outcome (the type, or
 * the error's code and domain) and exits 0.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *password = "secret";
static int fail_cb;

static int cb(virConnectCredentialPtr cred, unsigned int ncred, void *data)
{
    (void)data;
    for (unsigned int i = 0; i < ncred; i++) {
        const char *a = NULL;

        printf("asked: type %d\n", cred[i].type);
        if (cred[i].type == VIR_CRED_AUTHNAME)
            a = "alice";
        else if (cred[i].type == VIR_CRED_PASSPHRASE)
            a = password;
        if (a) {
            cred[i].result = strdup(a);
            cred[i].resultlen = strlen(a);
        }
    }
    return fail_cb ? -1 : 0;
}

static void quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

int main(int argc, char **argv)
{
    int all[] = {VIR_CRED_AUTHNAME, VIR_CRED_PASSPHRASE};
    int narrow[] = {VIR_CRED_AUTHNAME};
    virConnectAuth auth = {all, 2, cb, NULL};
    virConnectAuthPtr a = &auth;
    virConnectPtr c;
    virErrorPtr e;

    if (argc != 3)
        return 2;
    virSetErrorFunc(NULL, quiet);
    if (strcmp(argv[2], "wrong") == 0) {
        password = "wrong";
    } else if (strcmp(argv[2], "refuse") == 0) {
        fail_cb = 1;
    } else if (strcmp(argv[2], "narrow") == 0) {
        auth.credtype = narrow;
        auth.ncredtype = 1;
    } else if (strcmp(argv[2], "default") == 0) {
        a = virConnectAuthPtrDefault;
    } else if (strcmp(argv[2], "none") == 0) {
        a = NULL;
    }
    c = virConnectOpenAuth(argv[1], a, 0);
    fflush(stdout);
    if (c) {
        printf("\nopen: ok, type %s\n", virConnectGetType(c));
        virConnectClose(c);
        return 0;
    }
    e = virGetLastError();
    printf("\nopen: failed, code %d domain %d\n", e ? e->code : -1, e ? e->domain : -1);
    return 0;
}
