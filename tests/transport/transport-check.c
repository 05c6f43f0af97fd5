/* SPDX-License-Identifier: MIT */
/*
 * transport-check URI: the common checks every transport runs against a real
 * daemon serving the test driver, compared with virsh through the same URI:
 * open, list, lookup, an error reply, a reply over 1 MiB, close — and no fd
 * or child process left behind.
 *
 * Prints TAP lines without a plan (a calling script adds its own), then
 * "# checks: N failed: M". Exit status 1 when a check failed.
 * Environment: VRPC_CHECK_VIRSH_URI (URI for virsh, default the same),
 * VRPC_CHECK_NO_VIRSH=1 (skip comparisons), VRPC_CHECK_PREFIX (TAP names),
 * VRPC_VIRSH (virsh binary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "../testlib.h"

int main(int argc, char **argv)
{
    const char *uri, *vuri, *virsh;
    char *qv, *out = NULL;
    int fds0, kids0, use_virsh, rc;
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: transport-check URI\n");
        return 2;
    }
    uri = argv[1];
    vuri = getenv("VRPC_CHECK_VIRSH_URI") ? getenv("VRPC_CHECK_VIRSH_URI") : uri;
    virsh = getenv("VRPC_VIRSH") ? getenv("VRPC_VIRSH") : "virsh";
    use_virsh = !(getenv("VRPC_CHECK_NO_VIRSH") && strcmp(getenv("VRPC_CHECK_NO_VIRSH"), "1") == 0);
    tap_plain = 1;
    if (getenv("VRPC_CHECK_PREFIX"))
        tap_prefix = getenv("VRPC_CHECK_PREFIX");
    qv = tl_shq(vuri);

    fds0 = tl_count_fds();
    kids0 = tl_count_children();

    /* open */
    rc = vrpc_conn_open(&c, uri, 0, &err);
    if (!tap_ok(rc == 0, "open %s%s%s", uri, rc ? ": " : "", rc && err ? err->message : "")) {
        vrpc_free(err);
        printf("# checks: %d failed: %d\n", tap_n, tap_failed);
        free(qv);
        return 1;
    }

    /* list, compared with virsh list --all */
    {
        vrpc_simple_domain_list *l = NULL;
        rc = vrpc_simple_list_domains(c, &l, &err);
        tap_ok(rc == 0 && l && l->count > 0, "list all domains (%zu)",
               rc == 0 && l ? l->count : (size_t)0);
        if (rc == 0 && use_virsh) {
            int vrc = tl_sh(&out, "%s -q -c %s list --all 2>/dev/null", virsh, qv);
            size_t matched = 0, rows = 0;
            char *save = NULL, *line;
            for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char id[32], name[256], state[64] = "";
                int k;
                if (sscanf(line, " %31s %255s %n", id, name, &k) < 2)
                    continue;
                snprintf(state, sizeof(state), "%s", line + k);
                rows++;
                for (size_t i = 0; i < l->count; i++) {
                    const vrpc_simple_domain *d = &l->domains[i];
                    char ours[32];
                    if (d->id >= 0 && d->state != VRPC_DOMAIN_SHUTOFF)
                        snprintf(ours, sizeof(ours), "%d", d->id);
                    else
                        snprintf(ours, sizeof(ours), "-");
                    if (strcmp(d->name, name) == 0 && strcmp(ours, id) == 0 &&
                        strcmp(vrpc_simple_state_name(d->state), state) == 0)
                        matched++;
                }
            }
            tap_ok(vrc == 0 && rows == l->count && matched == rows,
                   "list agrees with virsh list --all (%zu rows, %zu matched, virsh exit %d)", rows,
                   matched, vrc);
            free(out);
        }
        vrpc_free(l);
        vrpc_free(err);
        err = NULL;
    }

    /* lookup by name */
    {
        vrpc_domain_lookup_by_name_args a = {.name = "test"};
        vrpc_domain_lookup_by_name_ret *r = NULL;
        rc = vrpc_domain_lookup_by_name(c, &a, &r, &err);
        tap_ok(rc == 0 && r && strcmp(r->dom.name, "test") == 0, "lookup domain 'test'");
        if (rc == 0 && use_virsh) {
            int vrc = tl_sh(&out, "%s -q -c %s domid test 2>/dev/null", virsh, qv);
            tap_ok(vrc == 0 && atoi(out) == r->dom.id, "its id %d agrees with virsh domid (%d)",
                   r->dom.id, atoi(out));
            free(out);
        }
        vrpc_free(r);
        vrpc_free(err);
        err = NULL;
    }

    /* an error reply (a missing network: virsh shows the daemon's message for it) */
    {
        vrpc_network_lookup_by_name_args a = {.name = "vrpc-no-such-network"};
        vrpc_network_lookup_by_name_ret *r = NULL;
        rc = vrpc_network_lookup_by_name(c, &a, &r, &err);
        tap_ok(rc == VRPC_E_REMOTE && err && err->code == VRPC_ERR_NO_NETWORK && err->message,
               "a missing network is the daemon's error %d: %s", err ? err->code : 0,
               err && err->message ? err->message : "(none)");
        if (rc == VRPC_E_REMOTE && err && err->message && use_virsh) {
            int vrc = tl_sh(&out, "%s -q -c %s net-info vrpc-no-such-network 2>&1", virsh, qv);
            tap_ok(vrc != 0 && strstr(out, err->message) != NULL, "virsh reports the same message");
            free(out);
        }
        vrpc_free(r);
        vrpc_free(err);
        err = NULL;
    }

    /* a reply over 1 MiB: the XML of a domain with a large description */
    {
        size_t dlen = 1536 * 1024;
        char name[64], *xml, *desc = malloc(dlen + 1);
        vrpc_domain_define_xml_args da;
        vrpc_domain_define_xml_ret *dr = NULL;
        snprintf(name, sizeof(name), "vrpc-big-%d", (int)getpid());
        memset(desc, 'x', dlen);
        desc[dlen] = '\0';
        if (asprintf(&xml,
                     "<domain type='test'><name>%s</name><memory>8192</memory>"
                     "<os><type>hvm</type></os><description>%s</description></domain>",
                     name, desc) < 0)
            abort();
        da.xml = xml;
        rc = vrpc_domain_define_xml(c, &da, &dr, &err);
        tap_ok(rc == 0, "define a domain with a 1.5 MiB description%s%s", err ? ": " : "",
               err && err->message ? err->message : "");
        if (rc == 0) {
            vrpc_domain_get_xml_desc_args xa = {.dom = dr->dom, .flags = 0};
            vrpc_domain_get_xml_desc_ret *xr = NULL;
            rc = vrpc_domain_get_xml_desc(c, &xa, &xr, &err);
            tap_ok(rc == 0 && xr && strlen(xr->xml) > 1024 * 1024 && strstr(xr->xml, desc),
                   "its XML comes back over 1 MiB (%zu bytes)", rc == 0 ? strlen(xr->xml) : 0);
            if (rc == 0 && use_virsh) {
                int vrc = tl_sh(&out, "%s -q -c %s dumpxml %s 2>/dev/null", virsh, qv, name);
                size_t ol = strlen(out);
                while (ol && out[ol - 1] == '\n')
                    out[--ol] = '\0';
                size_t xl = strlen(xr->xml);
                while (xl && xr->xml[xl - 1] == '\n')
                    xl--;
                tap_ok(vrc == 0 && ol == xl && memcmp(out, xr->xml, xl) == 0,
                       "it is byte-identical to virsh dumpxml");
                free(out);
            }
            vrpc_free(xr);
            vrpc_free(err);
            err = NULL;
            {
                vrpc_domain_undefine_args ua = {.dom = dr->dom};
                rc = vrpc_domain_undefine(c, &ua, &err);
                tap_ok(rc == 0, "undefine it");
            }
        }
        vrpc_free(dr);
        vrpc_free(err);
        err = NULL;
        free(xml);
        free(desc);
    }

    /* close: nothing left behind */
    vrpc_conn_close(c);
    {
        int fds1 = tl_count_fds(), kids1;
        /* a child transport is reaped in close(); give a killed child a moment */
        for (int i = 0; i < 50 && (kids1 = tl_count_children()) > kids0; i++)
            usleep(20000);
        tap_ok(fds1 == fds0, "close leaves no fd behind (%d before, %d after)", fds0, fds1);
        tap_ok(kids1 == kids0, "close leaves no child process behind (%d before, %d after)", kids0,
               kids1);
    }
    free(qv);
    printf("# checks: %d failed: %d\n", tap_n, tap_failed);
    return tap_failed ? 1 : 0;
}
