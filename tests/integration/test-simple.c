/* SPDX-License-Identifier: MIT */
/*
 * Integration: the convenience layer's lookups and handles on a real
 * libvirtd (test driver), compared with virsh and libvirt-python.
 *  - a domain named "1" is found by name, not as the domain with id 1;
 *  - the explicit lookups (name, UUID, id) and virsh's rules (resolve);
 *  - the handle a simple object carries works in generated calls;
 *  - when the connection fails while the layer's queries are being sent,
 *    the error is the connection's own reason: a proxy between the library
 *    and the daemon appends a packet no client accepts after chosen replies.
 */
#include "itest.h"
#include "ittap.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static vrpc_conn *c;
static const char *uri;

static char *dom_xml(const char *name)
{
    return it_strf("<domain type='test'>\n"
                   "  <name>%s</name>\n"
                   "  <memory unit='KiB'>65536</memory>\n"
                   "  <vcpu>1</vcpu>\n"
                   "  <os><type arch='i686'>hvm</type></os>\n"
                   "</domain>\n",
                   name);
}

static bool define(const char *name, uint8_t uuid[16])
{
    char *xml = dom_xml(name);
    vrpc_simple_domain *d = NULL;
    int rc = vrpc_simple_domain_define(c, xml, &d, it_errp());
    free(xml);
    if (rc) {
        it_diag("define %s: %s", name, it_errstr(it_err()));
        return false;
    }
    if (uuid)
        memcpy(uuid, d->uuid, 16);
    vrpc_free(d);
    return true;
}

static void undefine(const char *name)
{
    vrpc_simple_domain *d = NULL;
    if (vrpc_simple_domain_lookup_by_name(c, name, &d, NULL) == 0) {
        if (d->id >= 0)
            vrpc_simple_domain_destroy_dom(c, &d->dom, NULL);
        vrpc_simple_domain_undefine_dom(c, &d->dom, 0, NULL);
        vrpc_free(d);
    }
}

/* ---- a domain named "1" ---- */

static void test_named_one(void)
{
    uint8_t uuid1[16], test_uuid[16];
    char u1[37], ut[37];
    vrpc_simple_domain *d = NULL;
    vrpc_simple_domain_info *info = NULL;
    char *xml = NULL;
    int rc;

    if (!TAP_OK(define("1", uuid1), "a domain named \"1\" is defined"))
        return;
    it_uuid_fmt(uuid1, u1);

    /* The test driver's own domain "test" runs with id 1. */
    rc = vrpc_simple_domain_lookup_by_id(c, 1, &d, it_errp());
    TAP_OK(rc == 0 && strcmp(d->name, "test") == 0 && d->id == 1,
           "lookup_by_id(1) finds 'test' (%s)", rc ? it_errstr(it_err()) : d->name);
    if (rc == 0)
        memcpy(test_uuid, d->uuid, 16);
    vrpc_free(d);
    d = NULL;
    if (rc)
        goto out;
    it_uuid_fmt(test_uuid, ut);

    rc = vrpc_simple_domain_lookup_by_name(c, "1", &d, it_errp());
    TAP_OK(rc == 0 && strcmp(d->name, "1") == 0 && d->id == -1 && memcmp(d->uuid, uuid1, 16) == 0 &&
               d->state == VRPC_DOMAIN_SHUTOFF,
           "lookup_by_name(\"1\") finds the shut-off domain named \"1\", not id 1");
    {
        char *script =
            it_strf("%sprint('uuid=%%s' %% c.lookupByName('1').UUIDString())\n", IT_PY_PRELUDE);
        char *py = it_python() ? it_py(script, uri, NULL) : NULL;
        char *pu = py ? it_pyval(py, "uuid") : NULL;
        if (it_python())
            TAP_OK(pu && strcmp(pu, u1) == 0, "python-libvirt's lookupByName('1') has UUID %s",
                   pu ? pu : "(none)");
        free(pu);
        free(py);
        free(script);
    }
    vrpc_free(d);
    d = NULL;

    rc = vrpc_simple_domain_get_info(c, "1", &info, it_errp());
    TAP_OK(rc == 0 && strcmp(info->name, "1") == 0 && memcmp(info->uuid, uuid1, 16) == 0 &&
               info->state == VRPC_DOMAIN_SHUTOFF && info->id == -1,
           "get_info(\"1\") answers for the domain named \"1\" (%s)",
           rc ? it_errstr(it_err()) : info->name);
    TAP_OK(rc == 0 && info->dom.name == info->name && memcmp(info->dom.uuid, uuid1, 16) == 0 &&
               info->dom.id == -1,
           "the info carries the domain's handle");
    vrpc_free(info);
    info = NULL;

    rc = vrpc_simple_domain_get_xml(c, "1", 0, &xml, it_errp());
    TAP_OK(rc == 0 && strstr(xml, "<name>1</name>") && strstr(xml, u1),
           "get_xml(\"1\") is the XML of the domain named \"1\"");
    vrpc_free(xml);
    xml = NULL;

    /* virsh's rules: "1" is the id first. */
    rc = vrpc_simple_domain_resolve(c, "1", &d, it_errp());
    {
        char *vname = it_virsh_out(uri, "domname 1");
        TAP_OK(rc == 0 && strcmp(d->name, "test") == 0 && vname && it_same_text(vname, "test"),
               "resolve(\"1\") follows virsh's rules: the domain with id 1, as `virsh domname 1`");
        free(vname);
    }
    vrpc_free(d);
    d = NULL;
    rc = vrpc_simple_domain_resolve(c, u1, &d, it_errp());
    TAP_OK(rc == 0 && strcmp(d->name, "1") == 0, "resolve(UUID of \"1\") finds \"1\"");
    vrpc_free(d);
    d = NULL;
    rc = vrpc_simple_domain_lookup_by_uuid(c, uuid1, &d, it_errp());
    TAP_OK(rc == 0 && strcmp(d->name, "1") == 0, "lookup_by_uuid finds \"1\"");
    vrpc_free(d);
    d = NULL;

    /* Start by name: the domain named "1" runs, "test" is untouched. */
    rc = vrpc_simple_domain_start(c, "1", it_errp());
    {
        char *st1 = it_virsh_out(uri, "domstate %s", u1);
        char *stt = it_virsh_out(uri, "domstate %s", ut);
        TAP_OK(
            rc == 0 && st1 && it_same_text(st1, "running") && stt && it_same_text(stt, "running"),
            "start(\"1\") started the domain named \"1\" (virsh: %s)", st1 ? it_oneline(st1) : "?");
        free(st1);
        free(stt);
    }
    rc = vrpc_simple_domain_destroy(c, "1", it_errp());
    {
        char *st1 = it_virsh_out(uri, "domstate %s", u1);
        char *stt = it_virsh_out(uri, "domstate %s", ut);
        TAP_OK(rc == 0 && st1 && it_same_text(st1, "shut off") && stt &&
                   it_same_text(stt, "running"),
               "destroy(\"1\") stopped \"1\" and left 'test' running");
        free(st1);
        free(stt);
    }
out:
    rc = vrpc_simple_domain_undefine(c, "1", 0, it_errp());
    TAP_OK(rc == 0, "undefine(\"1\")");
    rc = vrpc_simple_domain_lookup_by_name(c, "1", &d, it_errp());
    TAP_OK(rc == VRPC_E_REMOTE && it_err() && it_err()->code == VRPC_ERR_NO_DOMAIN,
           "then lookup_by_name(\"1\") fails with the daemon's VRPC_ERR_NO_DOMAIN");
    vrpc_free(d);
}

/* ---- handles in generated calls ---- */

static void test_handles(void)
{
    vrpc_simple_domain *d = NULL;
    vrpc_simple_domain_list *l = NULL;
    char *name = it_unique("vrpc-it-handle");
    int rc, same = 0;

    rc = vrpc_simple_domain_lookup_by_name(c, "test", &d, it_errp());
    if (!TAP_OK(rc == 0, "lookup_by_name(\"test\")")) {
        free(name);
        return;
    }
    TAP_OK(d->dom.name == d->name && memcmp(d->dom.uuid, d->uuid, 16) == 0 && d->dom.id == d->id,
           "the object carries its handle (dom.name is its name)");
    {
        vrpc_domain_get_info_args a = {.dom = d->dom};
        vrpc_domain_get_info_ret *r = NULL;
        char *vinfo = it_virsh_out(uri, "dominfo test");
        char *vcpus = vinfo ? it_kv(vinfo, "CPU(s)") : NULL;
        char *want;
        rc = IT(vrpc_domain_get_info, c, &a, &r);
        want = rc == 0 ? it_strf("%u", (unsigned)r->nrVirtCpu) : NULL;
        TAP_OK(rc == 0 && r->state == VRPC_DOMAIN_RUNNING && vcpus && want &&
                   strcmp(vcpus, want) == 0,
               "the handle works in vrpc_domain_get_info (%s vCPUs, virsh %s)", want ? want : "?",
               vcpus ? vcpus : "?");
        vrpc_free(r);
        free(want);
        free(vcpus);
        free(vinfo);
    }
    {
        vrpc_domain_get_xml_desc_args a = {.dom = d->dom, .flags = 0};
        vrpc_domain_get_xml_desc_ret *r = NULL;
        char *vxml = it_virsh_out(uri, "dumpxml test");
        rc = IT(vrpc_domain_get_xml_desc, c, &a, &r);
        TAP_OK(rc == 0 && vxml && it_same_text(r->xml, vxml),
               "and in vrpc_domain_get_xml_desc (same XML as virsh dumpxml)");
        vrpc_free(r);
        free(vxml);
    }
    {
        vrpc_simple_domain_info *i = NULL;
        rc = vrpc_simple_domain_get_info_dom(c, &d->dom, &i, it_errp());
        TAP_OK(rc == 0 && strcmp(i->name, "test") == 0 && i->state == VRPC_DOMAIN_RUNNING,
               "get_info_dom takes the handle");
        vrpc_free(i);
    }
    vrpc_free(d);
    d = NULL;

    /* A handle from a generated reply works in the simple layer. */
    if (define(name, NULL)) {
        vrpc_domain_lookup_by_name_args a = {.name = name};
        vrpc_domain_lookup_by_name_ret *r = NULL;
        rc = IT(vrpc_domain_lookup_by_name, c, &a, &r);
        if (rc == 0) {
            rc = vrpc_simple_domain_start_dom(c, &r->dom, it_errp());
            char *st = it_virsh_out(uri, "domstate %s", name);
            TAP_OK(rc == 0 && st && it_same_text(st, "running"),
                   "start_dom with a generated reply's handle (virsh: %s)",
                   st ? it_oneline(st) : "?");
            free(st);
            rc = vrpc_simple_domain_destroy_dom(c, &r->dom, it_errp());
            TAP_OK(rc == 0, "destroy_dom");
            rc = vrpc_simple_domain_undefine_dom(c, &r->dom, 0, it_errp());
            {
                it_cmd vr = {0};
                int st_rc = it_virsh_cmd(&vr, uri, "domstate %s", name);
                TAP_OK(rc == 0 && st_rc != 0, "undefine_dom: virsh no longer finds it");
                it_cmd_free(&vr);
            }
            vrpc_free(r);
        }
    } else {
        TAP_OK(0, "define %s", name);
    }

    /* Every listed domain's handle works in a generated call. */
    rc = vrpc_simple_list_domains(c, &l, it_errp());
    if (TAP_OK(rc == 0 && l->count > 0, "list_domains")) {
        for (size_t i = 0; i < l->count; i++) {
            vrpc_domain_get_state_args a = {.dom = l->domains[i].dom, .flags = 0};
            vrpc_domain_get_state_ret *r = NULL;
            if (IT(vrpc_domain_get_state, c, &a, &r) == 0 && r->state == l->domains[i].state &&
                l->domains[i].dom.name == l->domains[i].name)
                same++;
            vrpc_free(r);
        }
        TAP_OK((size_t)same == l->count,
               "each listed domain's handle gives its state in vrpc_domain_get_state (%d/%zu)",
               same, l->count);
    }
    vrpc_free(l);

    rc = vrpc_simple_domain_get_info_dom(c, NULL, &(vrpc_simple_domain_info *){NULL}, it_errp());
    TAP_OK(rc == VRPC_E_INVALID, "a NULL handle is refused");
    free(name);
}

/* ---- the connection's reason on a failed query ---- */

/*
 * A proxy between a socketpair end and the daemon's socket. Bytes from the
 * library go through unchanged. From the daemon, once a reply to procedure
 * `proc` has come, everything is held until `count` such replies are there;
 * then all of it goes to the library in one write, followed by a CALL
 * packet (serial 4242), which a client must refuse. After that nothing
 * more from the daemon is passed on.
 */
typedef struct proxy {
    int lib_fd, daemon_fd;
    int proc, count;
    pthread_t th;
} proxy;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void *proxy_main(void *arg)
{
    proxy *x = arg;
    uint8_t *held = NULL; /* bytes from the daemon not passed on yet */
    size_t nheld = 0, cap = 0, scanned = 0;
    int seen = 0;
    bool holding = false, cut = false;

    for (;;) {
        struct pollfd pf[2] = {{x->lib_fd, POLLIN, 0}, {x->daemon_fd, POLLIN, 0}};
        uint8_t buf[65536];
        ssize_t r;
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[0].revents) {
            r = read(x->lib_fd, buf, sizeof(buf));
            if (r <= 0 || !write_all(x->daemon_fd, buf, (size_t)r))
                break;
        }
        if (pf[1].revents) {
            r = read(x->daemon_fd, buf, sizeof(buf));
            if (r <= 0)
                break;
            if (cut)
                continue;
            if (cap - nheld < (size_t)r) {
                cap = (nheld + (size_t)r) * 2;
                held = realloc(held, cap);
                if (!held)
                    abort();
            }
            memcpy(held + nheld, buf, (size_t)r);
            nheld += (size_t)r;
            /* Look at every whole message not looked at yet. */
            while (nheld - scanned >= 28) {
                uint32_t len = get32(held + scanned);
                if (len < 28 || nheld - scanned < len)
                    break;
                if ((int)get32(held + scanned + 12) == x->proc && get32(held + scanned + 16) == 1) {
                    holding = true;
                    seen++;
                }
                scanned += len;
                if (!holding) { /* pass it on now */
                    if (!write_all(x->lib_fd, held, scanned))
                        goto out;
                    memmove(held, held + scanned, nheld - scanned);
                    nheld -= scanned;
                    scanned = 0;
                }
                if (holding && seen >= x->count) {
                    uint8_t call[28];
                    put32(call, 28);
                    put32(call + 4, VRPC_PROGRAM);
                    put32(call + 8, VRPC_PROTOCOL_VERSION);
                    put32(call + 12, 999);
                    put32(call + 16, 0); /* VIR_NET_CALL */
                    put32(call + 20, 4242);
                    put32(call + 24, 0);
                    if (cap - nheld < sizeof(call)) {
                        cap = nheld + sizeof(call);
                        held = realloc(held, cap);
                        if (!held)
                            abort();
                    }
                    memcpy(held + scanned, call, sizeof(call)); /* right after the last reply */
                    if (!write_all(x->lib_fd, held, scanned + sizeof(call)))
                        goto out;
                    cut = true;
                    break;
                }
            }
        }
    }
out:
    free(held);
    close(x->daemon_fd);
    close(x->lib_fd);
    return NULL;
}

/* A connection through a proxy; NULL on failure. */
static vrpc_conn *proxied(proxy *x, int proc, int count)
{
    int sv[2];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char *path = it_strf("%s/sys/run/libvirt-sock", it_dir());
    vrpc_conn *pc = NULL;

    memset(x, 0, sizeof(*x));
    x->proc = proc;
    x->count = count;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    free(path);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return NULL;
    x->daemon_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (x->daemon_fd < 0 || connect(x->daemon_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (x->daemon_fd >= 0)
            close(x->daemon_fd);
        close(sv[0]);
        close(sv[1]);
        return NULL;
    }
    x->lib_fd = sv[1];
    if (pthread_create(&x->th, NULL, proxy_main, x) != 0) {
        close(x->daemon_fd);
        close(sv[0]);
        close(sv[1]);
        return NULL;
    }
    if (vrpc_conn_new_fd(&pc, sv[0]) != 0) {
        close(sv[0]);
        pthread_join(x->th, NULL);
        return NULL;
    }
    {
        vrpc_connect_open_args a = {.name = (char *)vrpc_conn_get_open_name(c), .flags = 0};
        if (IT(vrpc_connect_open, pc, &a) != 0) {
            vrpc_conn_close(pc);
            pthread_join(x->th, NULL);
            return NULL;
        }
    }
    return pc;
}

static void proxy_end(proxy *x, vrpc_conn *pc)
{
    vrpc_conn_close(pc);
    pthread_join(x->th, NULL);
}

/* The connection's own error: what a call on the failed connection says. */
static char *conn_reason(vrpc_conn *pc)
{
    vrpc_error *e = NULL;
    vrpc_connect_get_version_ret *r = NULL;
    char *s = NULL;
    if (vrpc_connect_get_version(pc, &r, &e) != 0 && e && e->message)
        s = it_strdup(e->message);
    vrpc_free(r);
    vrpc_free(e);
    return s;
}

static void check_reason(const char *what, int rc, const vrpc_error *e, vrpc_conn *pc)
{
    char *reason = conn_reason(pc);
    const char *msg = e && e->message ? e->message : "";
    TAP_OK(rc < 0 && rc != VRPC_E_REMOTE && vrpc_conn_get_status(pc) != 0,
           "%s fails with the connection (rc %d)", what, rc);
    TAP_OK(reason && strstr(msg, reason) && !strstr(msg, vrpc_strerror(rc)),
           "%s: the error is the core's reason: '%s' (the connection says '%s')", what, msg,
           reason ? reason : "(none)");
    free(reason);
}

static void test_core_reason(void)
{
    enum { NDOM = 34 }; /* more than the 32 state queries the listing keeps in flight */
    char *names[NDOM];
    proxy x;
    vrpc_conn *pc;
    int defined = 0, rc;

    /* get_info: the connection fails right after the lookup's reply, so
     * the six queries that follow cannot be sent. */
    pc = proxied(&x, VRPC_PROC_DOMAIN_LOOKUP_BY_NAME, 1);
    if (TAP_OK(pc != NULL, "a connection through the proxy")) {
        vrpc_simple_domain_info *i = NULL;
        rc = vrpc_simple_domain_get_info(pc, "test", &i, it_errp());
        check_reason("get_info", rc, it_err(), pc);
        vrpc_free(i);
        proxy_end(&x, pc);
    }

    /* The listing: the connection fails after the first 32 state replies
     * came (in one read with the bad packet), so the 33rd query cannot be
     * sent while every earlier one succeeds. */
    for (int k = 0; k < NDOM; k++) {
        names[k] = it_unique("vrpc-it-many");
        if (define(names[k], NULL))
            defined++;
    }
    TAP_OK(defined == NDOM, "%d domains defined", defined);
    pc = proxied(&x, VRPC_PROC_DOMAIN_GET_STATE, 32);
    if (TAP_OK(pc != NULL, "a connection through the proxy")) {
        vrpc_simple_domain_list *l = NULL;
        rc = vrpc_simple_list_domains(pc, &l, it_errp());
        check_reason("list_domains", rc, it_err(), pc);
        vrpc_free(l);
        proxy_end(&x, pc);
    }
    for (int k = 0; k < NDOM; k++) {
        undefine(names[k]);
        free(names[k]);
    }
}

int main(void)
{
    if (!it_start("simple"))
        return 0;
    uri = it_sys_uri();
    int rc = vrpc_conn_open(&c, uri, 0, it_errp());
    if (!TAP_OK(rc == 0, "vrpc_conn_open %s: %d %s", uri, rc, rc ? it_errstr(it_err()) : "")) {
        it_finish();
        return tap_done();
    }
    test_named_one();
    test_handles();
    test_core_reason();
    vrpc_conn_close(c);
    it_finish();
    return tap_done();
}
