/* SPDX-License-Identifier: MIT */
/*
 * A domain's whole life: define it from XML, start it, look at it, shut it
 * down (destroying it if the guest does not stop in time), and undefine it.
 *
 *   domain-lifecycle [URI [XML-FILE]]
 *
 * The URI defaults to $LIBVIRT_DEFAULT_URI. Without XML-FILE the domain is
 * a small one for libvirt's test driver (test:///default, or
 * test+unix:///default?socket=PATH on a daemon); for a real hypervisor give
 * an XML file whose domain name is not in use yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtrpc/virtrpc.h>

static const char test_xml[] = "<domain type='test'>\n"
                               "  <name>virtrpc-example</name>\n"
                               "  <memory unit='MiB'>64</memory>\n"
                               "  <vcpu>1</vcpu>\n"
                               "  <os><type>hvm</type></os>\n"
                               "</domain>\n";

static int fail(const char *what, int rc, vrpc_error *err)
{
    fprintf(stderr, "%s: %s\n", what, err && err->message ? err->message : vrpc_strerror(rc));
    vrpc_free(err);
    return 1;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Print the domain's state and, while it runs, its id, CPUs and memory. */
static int show(vrpc_conn *conn, const char *name)
{
    vrpc_simple_domain_info *info = NULL;
    vrpc_error *err = NULL;
    int rc = vrpc_simple_domain_get_info(conn, name, &info, &err);
    if (rc)
        return fail("cannot get the domain's information", rc, err);
    printf("  %s: %s", info->name, vrpc_simple_state_name(info->state));
    if (info->id >= 0)
        printf(", id %d, %u vCPU(s), %llu KiB", (int)info->id, (unsigned)info->vcpus,
               (unsigned long long)info->memory_kib);
    printf(", %s\n", info->persistent == 1 ? "persistent" : "transient");
    vrpc_free(info);
    return 0;
}

/* The domain's state now, or -1 on error. */
static int state_of(vrpc_conn *conn, const char *name)
{
    vrpc_simple_domain *d = NULL;
    vrpc_error *err = NULL;
    int state;
    if (vrpc_simple_domain_lookup_by_name(conn, name, &d, &err) != 0) {
        vrpc_free(err);
        return -1;
    }
    state = d->state;
    vrpc_free(d);
    return state;
}

int main(int argc, char **argv)
{
    const char *uri = argc > 1 ? argv[1] : getenv("LIBVIRT_DEFAULT_URI");
    char *xml = NULL, name[256];
    const char *desc;
    vrpc_simple_domain *dom = NULL;
    vrpc_conn *conn = NULL;
    vrpc_error *err = NULL;
    int rc, failed = 0;

    if (argc > 2 && !(xml = read_file(argv[2]))) {
        perror(argv[2]);
        return 1;
    }
    rc = vrpc_simple_open(&conn, uri, false, &err);
    if (rc) {
        free(xml);
        return fail("cannot connect", rc, err);
    }

    /* 1. Define: the daemon stores the definition; the domain is shut off. */
    rc = vrpc_simple_domain_define(conn, xml ? xml : test_xml, &dom, &err);
    free(xml);
    if (rc) {
        failed = fail("cannot define the domain", rc, err);
        goto out;
    }
    /* dom->dom is the handle the generated calls take; it stays valid until
     * vrpc_free(dom). */
    snprintf(name, sizeof(name), "%s", dom->name);
    printf("defined:\n");
    if ((failed = show(conn, name)) != 0)
        goto undefine;

    /* 2. Start it. */
    rc = vrpc_simple_domain_start_dom(conn, &dom->dom, &err);
    if (rc) {
        failed = fail("cannot start the domain", rc, err);
        goto undefine;
    }
    printf("started:\n");
    if ((failed = show(conn, name)) != 0)
        goto stop;

    /* 3. Its live XML (the first line is enough here), with a generated call
     * given the handle of the convenience layer. */
    {
        vrpc_domain_get_xml_desc_args a = {.dom = dom->dom, .flags = 0};
        vrpc_domain_get_xml_desc_ret *r = NULL;
        rc = vrpc_domain_get_xml_desc(conn, &a, &r, &err);
        if (rc) {
            failed = fail("cannot get the XML", rc, err);
            goto stop;
        }
        desc = r->xml;
        printf("XML: %.*s ...\n", (int)strcspn(desc, "\n"), desc);
        vrpc_free(r);
    }

stop:
    /* 4. Ask the guest to shut down; give it 10 seconds, then pull the plug. */
    rc = vrpc_simple_domain_shutdown_dom(conn, &dom->dom, &err);
    if (rc) {
        failed = fail("cannot shut the domain down", rc, err);
    } else {
        time_t deadline = time(NULL) + 10;
        while (state_of(conn, name) == VRPC_DOMAIN_RUNNING && time(NULL) < deadline) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (state_of(conn, name) != VRPC_DOMAIN_SHUTOFF) {
        rc = vrpc_simple_domain_destroy_dom(conn, &dom->dom, &err);
        if (rc)
            failed = fail("cannot destroy the domain", rc, err);
        else
            printf("destroyed (the guest did not shut down in time)\n");
    }
    printf("stopped:\n");
    if (show(conn, name))
        failed = 1;

undefine:
    /* 5. Undefine: the domain is gone. */
    rc = vrpc_simple_domain_undefine_dom(conn, &dom->dom, 0, &err);
    if (rc)
        failed = fail("cannot undefine the domain", rc, err);
    else
        printf("undefined: '%s' %s\n", name,
               state_of(conn, name) < 0 ? "no longer exists" : "still exists");
out:
    vrpc_free(dom);
    vrpc_conn_close(conn);
    return failed;
}
