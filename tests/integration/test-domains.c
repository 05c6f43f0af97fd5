/* SPDX-License-Identifier: MIT */
/*
 * Integration: the connection and domain procedures on the test driver of a
 * real libvirtd, every result compared with virsh or libvirt-python on the
 * same daemon (test:///default is one shared fake host while any connection
 * to it is open, so the references see what this program changed).
 */
#include "itest.h"
#include "ittap.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static vrpc_conn *c;
static const char *uri;

/* virsh's names of the domain states. */
static const char *state_name(int st)
{
    switch (st) {
    case VRPC_DOMAIN_NOSTATE:
        return "no state";
    case VRPC_DOMAIN_RUNNING:
        return "running";
    case VRPC_DOMAIN_BLOCKED:
        return "idle";
    case VRPC_DOMAIN_PAUSED:
        return "paused";
    case VRPC_DOMAIN_SHUTDOWN:
        return "in shutdown";
    case VRPC_DOMAIN_SHUTOFF:
        return "shut off";
    case VRPC_DOMAIN_CRASHED:
        return "crashed";
    case VRPC_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "?";
    }
}

static char *dom_xml(const char *name, unsigned long long maxmem_kib, unsigned long long mem_kib,
                     int vcpus)
{
    return it_strf("<domain type='test'>\n"
                   "  <name>%s</name>\n"
                   "  <memory unit='KiB'>%llu</memory>\n"
                   "  <currentMemory unit='KiB'>%llu</currentMemory>\n"
                   "  <vcpu placement='static'>%d</vcpu>\n"
                   "  <os>\n"
                   "    <type arch='i686'>hvm</type>\n"
                   "  </os>\n"
                   "</domain>\n",
                   name, maxmem_kib, mem_kib, vcpus);
}

/* Look a domain up by name; the reply owns the returned handle. */
static vrpc_domain_lookup_by_name_ret *lookup(const char *name)
{
    vrpc_domain_lookup_by_name_args a = {.name = (char *)name};
    vrpc_domain_lookup_by_name_ret *r = NULL;
    if (IT(vrpc_domain_lookup_by_name, c, &a, &r) != 0)
        return NULL;
    return r;
}

/* The state of a domain through virsh domstate ("running", "shut off", ...). */
static char *virsh_state(const char *name)
{
    char *out = it_virsh_out(uri, "domstate %s", name);
    return out ? it_trim(out) : NULL;
}

static int get_state(const vrpc_nonnull_domain *d, int *reason)
{
    vrpc_domain_get_state_args a = {.dom = *d, .flags = 0};
    vrpc_domain_get_state_ret *r = NULL;
    if (IT(vrpc_domain_get_state, c, &a, &r) != 0)
        return -1;
    int st = r->state;
    if (reason)
        *reason = r->reason;
    vrpc_free(r);
    return st;
}

/* Our state and reason == python's d.state() == virsh domstate. */
static void check_state(const vrpc_nonnull_domain *d, int expect, const char *what)
{
    int reason = -1;
    int st = get_state(d, &reason);
    char *vs = virsh_state(d->name);
    char *expr = it_strf("c.lookupByName('%s').state()", d->name);
    char *py = it_py_eval(uri, false, expr);
    char *pyret = it_pyval(py, "ret");
    char *mine = it_strf("[%d, %d]", st, reason);
    TAP_OK(st == expect && vs && strcmp(vs, state_name(st)) == 0 &&
               (!py || (pyret && strcmp(pyret, mine) == 0)),
           "%s: state %s (%d, reason %d) == virsh '%s' == python %s", what, state_name(st), st,
           reason, vs ? vs : "?", pyret ? pyret : "(n/a)");
    free(mine);
    free(pyret);
    free(py);
    free(expr);
    free(vs);
}

/* ---------------------------------------------------------------------- */

static void test_connect(void)
{
    char *py = it_py(IT_PY_PRELUDE "print('type=%s' % c.getType())\n"
                                   "print('ver=%d' % c.getVersion())\n"
                                   "print('libver=%d' % c.getLibVersion())\n"
                                   "print('host=%s' % c.getHostname())\n"
                                   "print('secure=%d' % c.isSecure())\n"
                                   "print('maxvcpus=%d' % c.getMaxVcpus(None))\n"
                                   "print('free=%d' % c.getFreeMemory())\n"
                                   "m = c.getCPUMap()\n"
                                   "print('cpumap=%d %s %d' % (m[0], ''.join('1' if b else '0' "
                                   "for b in m[1]), m[2]))\n"
                                   "print('models=%s' % ','.join(c.getCPUModelNames('x86_64')))\n",
                     uri, "rw", NULL);
    if (!py)
        it_diag("python reference unavailable: comparing with virsh only");

    vrpc_connect_get_type_ret *t = NULL;
    if (TAP_OK(IT(vrpc_connect_get_type, c, &t) == 0, "connect_get_type")) {
        char *v = it_pyval(py, "type");
        char *vs = it_virsh_out(uri, "version");
        char *api = it_kv(vs, "Using API");
        /* virsh: "Using API: TEST 9.0.0" */
        TAP_OK(api && strncmp(api, t->type, strlen(t->type)) == 0 && api[strlen(t->type)] == ' ' &&
                   (!py || (v && strcmp(v, t->type) == 0)),
               "type '%s' == virsh 'Using API: %s' == python '%s'", t->type, api ? api : "?",
               v ? v : "(n/a)");
        free(api);
        free(vs);
        free(v);
    }
    vrpc_free(t);

    vrpc_connect_get_version_ret *ver = NULL;
    if (TAP_OK(IT(vrpc_connect_get_version, c, &ver) == 0, "connect_get_version")) {
        char *vs = it_virsh_out(uri, "version");
        char *hv = it_kv(vs, "Running hypervisor");
        /* "TEST 0.0.2": major*1000000 + minor*1000 + micro */
        unsigned a = 0, b = 0, d = 0;
        char ty[64];
        int got = hv ? sscanf(hv, "%63s %u.%u.%u", ty, &a, &b, &d) : 0;
        uint64_t from_virsh = (uint64_t)a * 1000000 + b * 1000 + d;
        char *pv = it_pyval(py, "ver");
        uint64_t pyv = 0;
        TAP_OK(got == 4 && from_virsh == ver->hv_ver &&
                   (!py || (it_u64(pv, &pyv) && pyv == ver->hv_ver)),
               "hypervisor version %" PRIu64 " == virsh '%s' == python %s", ver->hv_ver,
               hv ? hv : "?", pv ? pv : "(n/a)");
        free(pv);
        free(hv);
        free(vs);
    }
    vrpc_free(ver);

    vrpc_connect_get_lib_version_ret *lv = NULL;
    if (TAP_OK(IT(vrpc_connect_get_lib_version, c, &lv) == 0, "connect_get_lib_version")) {
        char *pv = it_pyval(py, "libver");
        uint64_t x = 0;
        if (py)
            TAP_OK(it_u64(pv, &x) && x == lv->lib_ver, "lib version %" PRIu64 " == python %s",
                   lv->lib_ver, pv ? pv : "?");
        else
            TAP_OK(lv->lib_ver >= 1000000, "lib version %" PRIu64 " plausible", lv->lib_ver);
        free(pv);
    }
    vrpc_free(lv);

    vrpc_connect_get_hostname_ret *h = NULL;
    if (TAP_OK(IT(vrpc_connect_get_hostname, c, &h) == 0, "connect_get_hostname")) {
        char *vs = it_virsh_out(uri, "hostname");
        TAP_OK(vs && it_same_text(vs, h->hostname), "hostname '%s' == virsh hostname '%s'",
               h->hostname, vs ? it_trim(vs) : "?");
        free(vs);
    }
    vrpc_free(h);

    /* The daemon reports the URI of its own driver connection: ours
     * without the transport and the query ("test+unix:///default?socket=..."
     * -> "test:///default"). */
    vrpc_connect_get_uri_ret *u = NULL;
    if (TAP_OK(IT(vrpc_connect_get_uri, c, &u) == 0, "connect_get_uri")) {
        char *expect = it_strdup(uri);
        char *plus = strchr(expect, '+'), *colon = strchr(expect, ':');
        if (plus && colon && plus < colon)
            memmove(plus, colon, strlen(colon) + 1);
        char *q = strchr(expect, '?');
        if (q)
            *q = '\0';
        TAP_OK(strcmp(u->uri, expect) == 0, "daemon-side URI '%s' == '%s'", u->uri, expect);
        free(expect);
    }
    vrpc_free(u);
    TAP_OK(vrpc_conn_get_uri(c) && strcmp(vrpc_conn_get_uri(c), uri) == 0,
           "vrpc_conn_get_uri returns the URI opened");

    vrpc_connect_get_capabilities_ret *caps = NULL;
    if (TAP_OK(IT(vrpc_connect_get_capabilities, c, &caps) == 0, "connect_get_capabilities")) {
        char *vs = it_virsh_out(uri, "capabilities");
        TAP_OK(vs && it_same_text(vs, caps->capabilities),
               "capabilities XML (%zu bytes) == virsh capabilities", strlen(caps->capabilities));
        free(vs);
    }
    vrpc_free(caps);

    vrpc_connect_get_sysinfo_args sa = {.flags = 0};
    vrpc_connect_get_sysinfo_ret *si = NULL;
    if (TAP_OK(IT(vrpc_connect_get_sysinfo, c, &sa, &si) == 0, "connect_get_sysinfo")) {
        char *vs = it_virsh_out(uri, "sysinfo");
        TAP_OK(vs && it_same_text(vs, si->sysinfo), "sysinfo XML == virsh sysinfo");
        free(vs);
    }
    vrpc_free(si);

    vrpc_connect_is_secure_ret *sec = NULL;
    if (TAP_OK(IT(vrpc_connect_is_secure, c, &sec) == 0, "connect_is_secure")) {
        char *pv = it_pyval(py, "secure");
        char *mine = it_strf("%d", sec->secure);
        TAP_OK(!py || (pv && strcmp(pv, mine) == 0), "is_secure %d == python %s", sec->secure,
               pv ? pv : "(n/a)");
        free(mine);
        free(pv);
    }
    vrpc_free(sec);

    vrpc_connect_get_max_vcpus_args mva = {.type = NULL};
    vrpc_connect_get_max_vcpus_ret *mv = NULL;
    if (TAP_OK(IT(vrpc_connect_get_max_vcpus, c, &mva, &mv) == 0,
               "connect_get_max_vcpus (type absent)")) {
        char *vs = it_virsh_out(uri, "maxvcpus");
        char *pv = it_pyval(py, "maxvcpus");
        int64_t a = -1, b = -1;
        TAP_OK(vs && it_i64(it_trim(vs), &a) && a == mv->max_vcpus &&
                   (!py || (it_i64(pv, &b) && b == mv->max_vcpus)),
               "max vcpus %d == virsh maxvcpus %s == python %s", mv->max_vcpus, vs ? vs : "?",
               pv ? pv : "(n/a)");
        free(pv);
        free(vs);
    }
    vrpc_free(mv);

    /* node_get_info vs virsh nodeinfo */
    vrpc_node_get_info_ret *ni = NULL;
    if (TAP_OK(IT(vrpc_node_get_info, c, &ni) == 0, "node_get_info")) {
        char *vs = it_virsh_out(uri, "nodeinfo");
        char model[33];
        memcpy(model, ni->model, 32);
        model[32] = '\0';
        struct {
            const char *key;
            long long mine;
        } f[] = {
            {"CPU(s)", ni->cpus},
            {"CPU frequency", ni->mhz},
            {"CPU socket(s)", ni->sockets},
            {"Core(s) per socket", ni->cores},
            {"Thread(s) per core", ni->threads},
            {"NUMA cell(s)", ni->nodes},
            {"Memory size", (long long)ni->memory},
        };
        char *vm = it_kv(vs, "CPU model");
        TAP_OK(vm && strcmp(vm, model) == 0, "node model '%s' == virsh '%s'", model, vm ? vm : "?");
        free(vm);
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
            char *v = it_kv(vs, f[i].key);
            long long x = v ? strtoll(v, NULL, 10) : -1;
            TAP_OK(x == f[i].mine, "node %s %lld == virsh '%s'", f[i].key, f[i].mine, v ? v : "?");
            free(v);
        }
        free(vs);
    }

    vrpc_node_get_free_memory_ret *fm = NULL;
    if (TAP_OK(IT(vrpc_node_get_free_memory, c, &fm) == 0, "node_get_free_memory")) {
        char *pv = it_pyval(py, "free");
        uint64_t x = 0;
        TAP_OK(!py || (it_u64(pv, &x) && x == fm->freeMem), "free memory %" PRIu64 " == python %s",
               fm->freeMem, pv ? pv : "(n/a)");
        free(pv);
    }
    vrpc_free(fm);

    if (ni) {
        vrpc_node_get_cells_free_memory_args ca = {.startCell = 0, .maxcells = ni->nodes};
        vrpc_node_get_cells_free_memory_ret *cf = NULL;
        if (TAP_OK(IT(vrpc_node_get_cells_free_memory, c, &ca, &cf) == 0,
                   "node_get_cells_free_memory") &&
            TAP_OK(cf->cells.n == (uint32_t)ni->nodes, "%u cells == %d NUMA nodes", cf->cells.n,
                   ni->nodes)) {
            /* virsh freecell --cellno N: "N: X KiB" */
            for (uint32_t i = 0; i < cf->cells.n; i++) {
                char *vs = it_virsh_out(uri, "freecell --cellno %u", i);
                char *colon = vs ? strchr(vs, ':') : NULL;
                unsigned long long kib = colon ? strtoull(colon + 1, NULL, 10) : 0;
                TAP_OK(colon && kib * 1024 == cf->cells.items[i],
                       "cell %u free %" PRIu64 " bytes == virsh freecell %llu KiB", i,
                       cf->cells.items[i], kib);
                free(vs);
            }
        }
        vrpc_free(cf);
    }
    vrpc_free(ni);

    vrpc_node_get_cpu_map_args cma = {.need_map = 1, .need_online = 1, .flags = 0};
    vrpc_node_get_cpu_map_ret *cm = NULL;
    if (TAP_OK(IT(vrpc_node_get_cpu_map, c, &cma, &cm) == 0, "node_get_cpu_map")) {
        char bits[1024];
        size_t nb = 0;
        for (int i = 0; i < cm->ret && nb + 1 < sizeof(bits); i++)
            bits[nb++] =
                ((uint32_t)i / 8 < cm->cpumap.len && (cm->cpumap.data[i / 8] >> (i % 8)) & 1) ? '1'
                                                                                              : '0';
        bits[nb] = '\0';
        char *mine = it_strf("%d %s %u", cm->ret, bits, cm->online);
        char *pv = it_pyval(py, "cpumap");
        TAP_OK(!py || (pv && strcmp(pv, mine) == 0), "cpu map '%s' == python '%s'", mine,
               pv ? pv : "(n/a)");
        free(pv);
        free(mine);
    }
    vrpc_free(cm);

    vrpc_connect_get_cpu_model_names_args mna = {.arch = "x86_64", .need_results = 1, .flags = 0};
    vrpc_connect_get_cpu_model_names_ret *mn = NULL;
    if (TAP_OK(IT(vrpc_connect_get_cpu_model_names, c, &mna, &mn) == 0,
               "connect_get_cpu_model_names x86_64")) {
        size_t len = 1;
        for (uint32_t i = 0; i < mn->models.n; i++)
            len += strlen(mn->models.items[i]) + 1;
        char *joined = calloc(1, len);
        for (uint32_t i = 0; joined && i < mn->models.n; i++) {
            if (i)
                strcat(joined, ",");
            strcat(joined, mn->models.items[i]);
        }
        char *pv = it_pyval(py, "models");
        TAP_OK(joined && mn->ret == (int)mn->models.n && (!py || (pv && strcmp(pv, joined) == 0)),
               "%d CPU models == python's list", mn->ret);
        free(pv);
        free(joined);
    }
    vrpc_free(mn);
    free(py);
}

/* ---------------------------------------------------------------------- */

/* list_all_domains + per-domain state vs `virsh list --all` */
static void test_list(void)
{
    vrpc_connect_list_all_domains_args a = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_domains_ret *r = NULL;
    if (!TAP_OK(IT(vrpc_connect_list_all_domains, c, &a, &r) == 0, "connect_list_all_domains"))
        return;
    char *vs = it_virsh_out(uri, "list --all");
    it_rows rows;
    it_table(vs, 3, true, &rows);
    TAP_OK(r->ret == r->domains.n && rows.n == r->domains.n,
           "list_all_domains: %u domains (ret %u) == virsh list --all: %zu rows", r->domains.n,
           r->ret, rows.n);
    bool have_test = false;
    for (uint32_t i = 0; i < r->domains.n; i++) {
        vrpc_nonnull_domain *d = &r->domains.items[i];
        long row = it_rows_find(&rows, 1, d->name);
        int st = get_state(d, NULL);
        char *id = d->id >= 0 ? it_strf("%d", d->id) : it_strdup("-");
        TAP_OK(row >= 0 && rows.ncols[row] == 3 && strcmp(rows.cols[row][0], id) == 0 &&
                   strcmp(rows.cols[row][2], state_name(st)) == 0,
               "domain '%s' id %s state '%s' == virsh row '%s %s %s'", d->name, id, state_name(st),
               row >= 0 ? rows.cols[row][0] : "?", row >= 0 ? rows.cols[row][1] : "?",
               row >= 0 && rows.ncols[row] > 2 ? rows.cols[row][2] : "?");
        if (strcmp(d->name, "test") == 0 && st == VRPC_DOMAIN_RUNNING)
            have_test = true;
        free(id);
    }
    TAP_OK(have_test, "test:///default has its documented running domain 'test'");
    it_rows_free(&rows);
    free(vs);
    vrpc_free(r);

    /* Active-only filter vs virsh list (active only). */
    vrpc_connect_list_all_domains_args aa = {.need_results = 1,
                                             .flags = VRPC_CONNECT_LIST_DOMAINS_ACTIVE};
    r = NULL;
    if (TAP_OK(IT(vrpc_connect_list_all_domains, c, &aa, &r) == 0,
               "connect_list_all_domains ACTIVE")) {
        char *names = it_virsh_out(uri, "list --name");
        char **v = it_lines(names, NULL);
        size_t nv = 0;
        while (v[nv])
            nv++;
        bool all = nv == r->domains.n;
        for (uint32_t i = 0; i < r->domains.n; i++)
            all &= it_strv_find(v, r->domains.items[i].name) >= 0;
        TAP_OK(all, "%u active domains == virsh list --name (%zu)", r->domains.n, nv);
        it_strv_free(v);
        free(names);
    }
    vrpc_free(r);

    /* The old-style calls. */
    vrpc_connect_num_of_domains_ret *n = NULL;
    vrpc_connect_list_domains_ret *ids = NULL;
    if (TAP_OK(IT(vrpc_connect_num_of_domains, c, &n) == 0, "connect_num_of_domains")) {
        vrpc_connect_list_domains_args la = {.maxids = n->num};
        if (TAP_OK(IT(vrpc_connect_list_domains, c, &la, &ids) == 0, "connect_list_domains")) {
            char *vs2 = it_virsh_out(uri, "list");
            it_rows rr;
            it_table(vs2, 3, true, &rr);
            bool all = rr.n == ids->ids.n && (int)ids->ids.n == n->num;
            for (uint32_t i = 0; i < ids->ids.n; i++) {
                char *id = it_strf("%d", ids->ids.items[i]);
                all &= it_rows_find(&rr, 0, id) >= 0;
                free(id);
            }
            TAP_OK(all, "num_of_domains %d, list_domains ids == virsh list ids (%zu)", n->num,
                   rr.n);
            it_rows_free(&rr);
            free(vs2);
        }
    }
    vrpc_free(ids);
    vrpc_free(n);

    vrpc_connect_num_of_defined_domains_ret *nd = NULL;
    vrpc_connect_list_defined_domains_ret *dn = NULL;
    if (TAP_OK(IT(vrpc_connect_num_of_defined_domains, c, &nd) == 0,
               "connect_num_of_defined_domains")) {
        vrpc_connect_list_defined_domains_args la = {.maxnames = nd->num};
        if (TAP_OK(IT(vrpc_connect_list_defined_domains, c, &la, &dn) == 0,
                   "connect_list_defined_domains")) {
            char *names = it_virsh_out(uri, "list --inactive --name");
            char **v = it_lines(names, NULL);
            size_t nv = 0;
            while (v[nv])
                nv++;
            bool all = nv == dn->names.n && (int)dn->names.n == nd->num;
            for (uint32_t i = 0; i < dn->names.n; i++)
                all &= it_strv_find(v, dn->names.items[i]) >= 0;
            TAP_OK(all, "%d defined domains == virsh list --inactive --name (%zu)", nd->num, nv);
            it_strv_free(v);
            free(names);
        }
    }
    vrpc_free(dn);
    vrpc_free(nd);
}

/* ---------------------------------------------------------------------- */

static void test_lookup(void)
{
    vrpc_domain_lookup_by_name_ret *byname = lookup("test");
    if (!TAP_OK(byname != NULL, "domain_lookup_by_name test"))
        return;
    vrpc_nonnull_domain *d = &byname->dom;
    char us[37];
    it_uuid_fmt(d->uuid, us);
    char *vu = it_virsh_out(uri, "domuuid test");
    char *vi = it_virsh_out(uri, "domid test");
    TAP_OK(vu && it_same_text(vu, us) && strcmp(d->name, "test") == 0,
           "lookup_by_name uuid %s == virsh domuuid", us);
    int64_t vid = -2;
    TAP_OK(vi && it_i64(it_trim(vi), &vid) && vid == d->id, "lookup_by_name id %d == virsh domid",
           d->id);
    free(vu);
    free(vi);

    vrpc_domain_lookup_by_id_args ia = {.id = d->id};
    vrpc_domain_lookup_by_id_ret *byid = NULL;
    if (TAP_OK(IT(vrpc_domain_lookup_by_id, c, &ia, &byid) == 0, "domain_lookup_by_id %d", d->id))
        TAP_OK(strcmp(byid->dom.name, "test") == 0 && memcmp(byid->dom.uuid, d->uuid, 16) == 0 &&
                   byid->dom.id == d->id,
               "lookup_by_id gives the same domain");
    vrpc_free(byid);

    vrpc_domain_lookup_by_uuid_args ua;
    memcpy(ua.uuid, d->uuid, 16);
    vrpc_domain_lookup_by_uuid_ret *byuuid = NULL;
    if (TAP_OK(IT(vrpc_domain_lookup_by_uuid, c, &ua, &byuuid) == 0, "domain_lookup_by_uuid %s",
               us))
        TAP_OK(strcmp(byuuid->dom.name, "test") == 0 && byuuid->dom.id == d->id,
               "lookup_by_uuid gives the same domain");
    vrpc_free(byuuid);
    vrpc_free(byname);
}

/* ---------------------------------------------------------------------- */

/* The facts about one domain, from Python. */
static const char py_dom_facts[] =
    "d = c.lookupByName(sys.argv[3])\n"
    "i = d.info()\n"
    "print('info=%d %d %d %d' % (i[0], i[1], i[2], i[3]))\n"
    "print('maxmem=%d' % d.maxMemory())\n"
    "print('active=%d' % d.isActive())\n"
    "print('persistent=%d' % d.isPersistent())\n"
    "print('updated=%d' % d.isUpdated())\n"
    "print('autostart=%d' % d.autostart())\n"
    "st = d.schedulerType()\n"
    "print('sched=%s %d' % (st[0], st[1]))\n"
    "tp('schedp', d.schedulerParameters())\n"
    "tp('mem', d.memoryParameters(0))\n"
    "tp('blkio', d.blkioParameters(0))\n"
    "tp('numa', d.numaParameters(0))\n"
    "tp('perf', d.perfEvents(0))\n"
    "l = d.securityLabel()\n"
    "print('seclabel=%s %d' % (l[0], l[1]))\n"
    "if d.isActive():\n"
    "    v = d.vcpus()\n"
    "    print('vcpus=%s' % ' '.join('%d:%d:%d' % (x[0], x[1], x[3]) for x in v[0]))\n"
    "    print('vcpumaps=%s' % ' '.join(''.join('1' if b else '0' for b in m) for m in v[1]))\n"
    "    ci = d.controlInfo()\n"
    "    print('control=%d %d %d' % (ci[0], ci[1], ci[2]))\n"
    "    t = d.getTime()\n"
    "    print('time=%d %d' % (t['seconds'], t['nseconds']))\n"
    "    print('hostname=%s' % d.hostname())\n"
    "    tp('mstat', d.memoryStats())\n"
    "    print('fsinfo=%s' % ';'.join('%s,%s,%s,%s' % (f[0], f[1], f[2], '+'.join(f[3])) for f "
    "in d.fsInfo()))\n"
    "    ia = d.interfaceAddresses(0)\n"
    "    print('ifaddrs=%s' % ';'.join('%s,%s,%s' % (k, ia[k]['hwaddr'], '+'.join('%d/%s/%d' % "
    "(a['type'], a['addr'], a['prefix']) for a in ia[k]['addrs'] or [])) for k in sorted(ia)))\n"
    "    ep = d.emulatorPinInfo()\n"
    "    print('emupin=%s' % ''.join('1' if b else '0' for b in ep))\n"
    "    print('vcpupin=%s' % ' '.join(''.join('1' if b else '0' for b in m) for m in "
    "d.vcpuPinInfo(0)))\n"
    "    print('iothreads=%d' % len(d.ioThreadInfo(0)))\n"
    "    print('diskerrors=%s' % ','.join('%s:%d' % (k, v) for k, v in "
    "sorted(d.diskErrors().items())))\n"
    "for f in (libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG):\n"
    "    for m in (0, libvirt.VIR_DOMAIN_VCPU_MAXIMUM):\n"
    "        if f == libvirt.VIR_DOMAIN_AFFECT_LIVE and not d.isActive():\n"
    "            continue\n"
    "        print('vcpuflags.%d=%d' % (f | m, d.vcpusFlags(f | m)))\n";

static char *dom_facts(const char *name)
{
    char *script = it_strf("%s%s", IT_PY_PRELUDE, py_dom_facts);
    char *out = it_py(script, uri, "rw", name, NULL);
    free(script);
    return out;
}

/* Compare a typed-parameter reply with Python's "prefix.name=value" lines. */
#define CHECK_PARAMS(what, params, py, prefix)                                                     \
    do {                                                                                           \
        bool all_ = true;                                                                          \
        for (uint32_t i_ = 0; i_ < (params).n; i_++) {                                             \
            char *key_ = it_strf("%s.%s", (prefix), (params).items[i_].field);                     \
            char *pv_ = it_pyval((py), key_);                                                      \
            if (!IT_TP_EQ((params).items[i_].value, pv_)) {                                        \
                char *m_ = IT_TP_STR((params).items[i_].value);                                    \
                it_diag("%s: %s = '%s', python '%s'", (what), key_, m_, pv_ ? pv_ : "(none)");     \
                free(m_);                                                                          \
                all_ = false;                                                                      \
            }                                                                                      \
            free(pv_);                                                                             \
            free(key_);                                                                            \
        }                                                                                          \
        /* and python has no parameter we lack */                                                  \
        size_t npy_ = 0;                                                                           \
        char *pre_ = it_strf("%s.", (prefix));                                                     \
        for (const char *p_ = (py); p_ && (p_ = strstr(p_, pre_)); p_++)                           \
            if (p_ == (py) || p_[-1] == '\n')                                                      \
                npy_++;                                                                            \
        free(pre_);                                                                                \
        TAP_OK(all_ &&npy_ == (params).n, "%s: %u typed params == python's %zu", (what),           \
               (params).n, npy_);                                                                  \
    } while (0)

static void test_info(const char *name)
{
    vrpc_domain_lookup_by_name_ret *lk = lookup(name);
    if (!TAP_OK(lk != NULL, "lookup %s", name))
        return;
    vrpc_nonnull_domain d = lk->dom;
    char *py = dom_facts(name);
    char *di = it_virsh_out(uri, "dominfo %s", name);

    vrpc_domain_get_info_args ia = {.dom = d};
    vrpc_domain_get_info_ret *info = NULL;
    if (TAP_OK(IT(vrpc_domain_get_info, c, &ia, &info) == 0, "%s: domain_get_info", name)) {
        char *vst = it_kv(di, "State"), *vcpu = it_kv(di, "CPU(s)"),
             *vmax = it_kv(di, "Max memory"), *vmem = it_kv(di, "Used memory"),
             *vtime = it_kv(di, "CPU time");
        TAP_OK(vst && strcmp(vst, state_name(info->state)) == 0, "%s: state %s == virsh '%s'", name,
               state_name(info->state), vst ? vst : "?");
        TAP_OK(vcpu && strtoul(vcpu, NULL, 10) == info->nrVirtCpu, "%s: %u vcpus == virsh '%s'",
               name, info->nrVirtCpu, vcpu ? vcpu : "?");
        TAP_OK(vmax && strtoull(vmax, NULL, 10) == info->maxMem && strstr(vmax, "KiB"),
               "%s: max memory %" PRIu64 " KiB == virsh '%s'", name, info->maxMem,
               vmax ? vmax : "?");
        TAP_OK(vmem && strtoull(vmem, NULL, 10) == info->memory,
               "%s: memory %" PRIu64 " KiB == virsh '%s'", name, info->memory, vmem ? vmem : "?");
        /* The test driver's CPU time follows the clock: virsh asked later. */
        double vt = vtime ? strtod(vtime, NULL) : -1, mine = (double)info->cpuTime / 1e9;
        TAP_OK(vtime && vt + 0.1 >= mine && vt - mine < 120,
               "%s: cpu time %.1fs consistent with virsh's later '%s'", name, mine,
               vtime ? vtime : "?");
        char *pinfo = it_pyval(py, "info");
        char *mi = it_strf("%d %" PRIu64 " %" PRIu64 " %u", info->state, info->maxMem, info->memory,
                           info->nrVirtCpu);
        TAP_OK(!py || (pinfo && strcmp(pinfo, mi) == 0), "%s: info '%s' == python '%s'", name, mi,
               pinfo ? pinfo : "(n/a)");
        free(mi);
        free(pinfo);
        free(vst);
        free(vcpu);
        free(vmax);
        free(vmem);
        free(vtime);
    }

    vrpc_domain_get_max_memory_args ma = {.dom = d};
    vrpc_domain_get_max_memory_ret *mm = NULL;
    if (TAP_OK(IT(vrpc_domain_get_max_memory, c, &ma, &mm) == 0, "%s: domain_get_max_memory",
               name)) {
        char *pv = it_pyval(py, "maxmem");
        uint64_t x = 0;
        TAP_OK(!py || (it_u64(pv, &x) && x == mm->memory),
               "%s: max memory %" PRIu64 " == python %s", name, mm->memory, pv ? pv : "(n/a)");
        free(pv);
    }
    vrpc_free(mm);

    vrpc_domain_get_os_type_args oa = {.dom = d};
    vrpc_domain_get_os_type_ret *os = NULL;
    if (TAP_OK(IT(vrpc_domain_get_os_type, c, &oa, &os) == 0, "%s: domain_get_os_type", name)) {
        char *v = it_kv(di, "OS Type");
        TAP_OK(v && strcmp(v, os->type) == 0, "%s: os type '%s' == virsh '%s'", name, os->type,
               v ? v : "?");
        free(v);
    }
    vrpc_free(os);

    vrpc_domain_get_autostart_args aa = {.dom = d};
    vrpc_domain_get_autostart_ret *as = NULL;
    if (TAP_OK(IT(vrpc_domain_get_autostart, c, &aa, &as) == 0, "%s: domain_get_autostart", name)) {
        char *v = it_kv(di, "Autostart");
        TAP_OK(v && strcmp(v, as->autostart ? "enable" : "disable") == 0,
               "%s: autostart %d == virsh '%s'", name, as->autostart, v ? v : "?");
        free(v);
    }
    vrpc_free(as);

    /* is_active / is_persistent / is_updated */
    vrpc_domain_is_active_args xa = {.dom = d};
    vrpc_domain_is_active_ret *act = NULL;
    vrpc_domain_is_persistent_args pa = {.dom = d};
    vrpc_domain_is_persistent_ret *per = NULL;
    vrpc_domain_is_updated_args ua = {.dom = d};
    vrpc_domain_is_updated_ret *upd = NULL;
    if (TAP_OK(IT(vrpc_domain_is_active, c, &xa, &act) == 0 &&
                   IT(vrpc_domain_is_persistent, c, &pa, &per) == 0 &&
                   IT(vrpc_domain_is_updated, c, &ua, &upd) == 0,
               "%s: domain_is_active/is_persistent/is_updated", name)) {
        char *v = it_kv(di, "Persistent");
        char *pa1 = it_pyval(py, "active"), *pp = it_pyval(py, "persistent"),
             *pu = it_pyval(py, "updated");
        char *m1 = it_strf("%d", act->active), *m2 = it_strf("%d", per->persistent),
             *m3 = it_strf("%d", upd->updated);
        TAP_OK(v && strcmp(v, per->persistent ? "yes" : "no") == 0 &&
                   (!py || (pa1 && pp && pu && strcmp(pa1, m1) == 0 && strcmp(pp, m2) == 0 &&
                            strcmp(pu, m3) == 0)),
               "%s: active %s persistent %s updated %s == virsh Persistent '%s' and python %s %s "
               "%s",
               name, m1, m2, m3, v ? v : "?", pa1 ? pa1 : "-", pp ? pp : "-", pu ? pu : "-");
        free(m1);
        free(m2);
        free(m3);
        free(pa1);
        free(pp);
        free(pu);
        free(v);
    }
    bool active = act && act->active;
    vrpc_free(act);
    vrpc_free(per);
    vrpc_free(upd);

    /* vcpus with flags vs virsh vcpucount and python vcpusFlags */
    char *vc = it_virsh_out(uri, "vcpucount %s", name);
    it_rows vr;
    it_table(vc, 3, true, &vr);
    static const struct {
        unsigned flags;
        const char *c1, *c2;
    } vf[] = {
        {VRPC_DOMAIN_AFFECT_CONFIG | VRPC_DOMAIN_VCPU_MAXIMUM, "maximum", "config"},
        {VRPC_DOMAIN_AFFECT_LIVE | VRPC_DOMAIN_VCPU_MAXIMUM, "maximum", "live"},
        {VRPC_DOMAIN_AFFECT_CONFIG, "current", "config"},
        {VRPC_DOMAIN_AFFECT_LIVE, "current", "live"},
    };
    for (size_t k = 0; k < sizeof(vf) / sizeof(vf[0]); k++) {
        if (!active && (vf[k].flags & VRPC_DOMAIN_AFFECT_LIVE))
            continue;
        vrpc_domain_get_vcpus_flags_args fa = {.dom = d, .flags = vf[k].flags};
        vrpc_domain_get_vcpus_flags_ret *fr = NULL;
        if (TAP_OK(IT(vrpc_domain_get_vcpus_flags, c, &fa, &fr) == 0,
                   "%s: domain_get_vcpus_flags %s %s", name, vf[k].c1, vf[k].c2)) {
            const char *v = NULL;
            for (size_t i = 0; i < vr.n; i++)
                if (vr.ncols[i] == 3 && strcmp(vr.cols[i][0], vf[k].c1) == 0 &&
                    strcmp(vr.cols[i][1], vf[k].c2) == 0)
                    v = vr.cols[i][2];
            char *key = it_strf("vcpuflags.%u", vf[k].flags);
            char *pv = it_pyval(py, key);
            char *m = it_strf("%d", fr->num);
            TAP_OK(v && strcmp(v, m) == 0 && (!py || (pv && strcmp(pv, m) == 0)),
                   "%s: vcpus %s %s = %d == virsh '%s' == python %s", name, vf[k].c1, vf[k].c2,
                   fr->num, v ? v : "?", pv ? pv : "(n/a)");
            free(m);
            free(pv);
            free(key);
        }
        vrpc_free(fr);
    }
    it_rows_free(&vr);
    free(vc);

    /* scheduler: type and parameters vs virsh schedinfo and python */
    char *sc = it_virsh_out(uri, "schedinfo %s", name);
    vrpc_domain_get_scheduler_type_args sta = {.dom = d};
    vrpc_domain_get_scheduler_type_ret *stp = NULL;
    if (TAP_OK(IT(vrpc_domain_get_scheduler_type, c, &sta, &stp) == 0,
               "%s: domain_get_scheduler_type", name)) {
        char *v = it_kv(sc, "Scheduler");
        char *pv = it_pyval(py, "sched");
        char *m = it_strf("%s %d", stp->type, stp->nparams);
        TAP_OK(v && strcmp(v, stp->type) == 0 && (!py || (pv && strcmp(pv, m) == 0)),
               "%s: scheduler '%s' == virsh '%s', (type, nparams) '%s' == python '%s'", name,
               stp->type, v ? v : "?", m, pv ? pv : "(n/a)");
        free(m);
        free(pv);
        free(v);

        vrpc_domain_get_scheduler_parameters_args spa = {.dom = d, .nparams = stp->nparams};
        vrpc_domain_get_scheduler_parameters_ret *sp = NULL;
        if (TAP_OK(IT(vrpc_domain_get_scheduler_parameters, c, &spa, &sp) == 0,
                   "%s: domain_get_scheduler_parameters", name)) {
            bool all = sp->params.n == (uint32_t)stp->nparams;
            for (uint32_t i = 0; i < sp->params.n; i++) {
                char *vv = it_kv(sc, sp->params.items[i].field);
                all &= IT_TP_EQ(sp->params.items[i].value, vv);
                free(vv);
            }
            TAP_OK(all, "%s: %u scheduler params == virsh schedinfo", name, sp->params.n);
            if (py)
                CHECK_PARAMS("scheduler parameters", sp->params, py, "schedp");
        }
        vrpc_free(sp);

        /* libvirt's API adds VIR_TYPED_PARAM_STRING_OKAY to this getter, on
         * the client and again in the daemon, and the test driver rejects
         * that flag: whatever happens must be what happens to python. */
        vrpc_domain_get_scheduler_parameters_flags_args sfa = {
            .dom = d, .nparams = stp->nparams, .flags = 0};
        vrpc_domain_get_scheduler_parameters_flags_ret *sf = NULL;
        int src = ITQ(vrpc_domain_get_scheduler_parameters_flags, c, &sfa, &sf);
        char *sexpr = it_strf("c.lookupByName('%s').schedulerParametersFlags(0)", name);
        char *spy = it_py_eval(uri, false, sexpr);
        char *sok = it_pyval(spy, "ok");
        if (src == 0) {
            bool all = sf->params.n == (uint32_t)stp->nparams;
            for (uint32_t i = 0; i < sf->params.n; i++) {
                char *vv = it_kv(sc, sf->params.items[i].field);
                all &= IT_TP_EQ(sf->params.items[i].value, vv);
                free(vv);
            }
            TAP_OK(all && (!spy || (sok && strcmp(sok, "1") == 0)),
                   "%s: domain_get_scheduler_parameters_flags: %u params == virsh schedinfo, "
                   "python succeeds too",
                   name, sf->params.n);
        } else {
            TAP_OK(src == VRPC_E_REMOTE && (!spy || it_err_matches_py(it_err(), spy)),
                   "%s: domain_get_scheduler_parameters_flags fails exactly like python: %s", name,
                   it_errstr(it_err()));
        }
        free(sok);
        free(spy);
        free(sexpr);
        vrpc_free(sf);
    }
    vrpc_free(stp);
    free(sc);

    /* memory / blkio / numa parameters: the two-step protocol (ask the count,
     * then the values). */
#define TWO_STEP(proc, label, prefix, fl, since, api)                                              \
    do {                                                                                           \
        vrpc_##proc##_args a0_ = {.dom = d, .nparams = 0, .flags = (fl)};                          \
        vrpc_##proc##_ret *r0_ = NULL, *r1_ = NULL;                                                \
        int rc0_ = ITQ(vrpc_##proc, c, &a0_, &r0_);                                                \
        char *l0_ = it_strf("%s: " #proc, name);                                                   \
        bool old_ = IT_LACKS(since, rc0_, "vrpc_" #proc, api, l0_);                                \
        free(l0_);                                                                                 \
        if (!old_ && TAP_OK(rc0_ == 0 && r0_->params.n == 0, "%s: " #proc " count = %d", name,     \
                            r0_ ? r0_->nparams : -1)) {                                            \
            vrpc_##proc##_args a1_ = {.dom = d, .nparams = r0_->nparams, .flags = (fl)};           \
            if (TAP_OK(IT(vrpc_##proc, c, &a1_, &r1_) == 0 && (int)r1_->params.n == r0_->nparams,  \
                       "%s: " #proc " values", name) &&                                            \
                py)                                                                                \
                CHECK_PARAMS(label, r1_->params, py, prefix);                                      \
        }                                                                                          \
        vrpc_free(r0_);                                                                            \
        vrpc_free(r1_);                                                                            \
    } while (0)
    /* Like libvirt's API, ask for string parameters where they exist
     * (VIR_TYPED_PARAM_STRING_OKAY): without it the daemon leaves them out. */
    TWO_STEP(domain_get_memory_parameters, "memory parameters", "mem", 0, 0, NULL);
    TWO_STEP(domain_get_blkio_parameters, "blkio parameters", "blkio", VRPC_TYPED_PARAM_STRING_OKAY,
             7007000, "virDomainGetBlkioParameters");
    TWO_STEP(domain_get_numa_parameters, "numa parameters", "numa", VRPC_TYPED_PARAM_STRING_OKAY, 0,
             NULL);
#undef TWO_STEP

    /* The memtune values also through virsh ("unlimited" is the documented
     * VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, 2^53-1). */
    {
        vrpc_domain_get_memory_parameters_args a = {.dom = d, .nparams = 16, .flags = 0};
        vrpc_domain_get_memory_parameters_ret *r = NULL;
        char *mt = it_virsh_out(uri, "memtune %s", name);
        if (IT(vrpc_domain_get_memory_parameters, c, &a, &r) == 0) {
            bool all = r->params.n > 0;
            for (uint32_t i = 0; i < r->params.n; i++) {
                char *v = it_kv(mt, r->params.items[i].field);
                uint64_t x = IT_TP_U(r->params.items[i].value);
                char *m =
                    x == 9007199254740991ULL ? it_strdup("unlimited") : it_strf("%" PRIu64, x);
                if (!v || strcmp(v, m) != 0) {
                    it_diag("memtune %s: mine '%s' virsh '%s'", r->params.items[i].field, m,
                            v ? v : "?");
                    all = false;
                }
                free(m);
                free(v);
            }
            TAP_OK(all, "%s: memory parameters == virsh memtune", name);
        }
        vrpc_free(r);
        free(mt);
    }

    vrpc_domain_get_perf_events_args pea = {.dom = d, .flags = 0};
    vrpc_domain_get_perf_events_ret *pe = NULL;
    if (TAP_OK(IT(vrpc_domain_get_perf_events, c, &pea, &pe) == 0, "%s: domain_get_perf_events",
               name) &&
        py)
        CHECK_PARAMS("perf events", pe->params, py, "perf");
    vrpc_free(pe);

    vrpc_domain_get_security_label_args sla = {.dom = d};
    vrpc_domain_get_security_label_ret *sl = NULL;
    int slrc = ITQ(vrpc_domain_get_security_label, c, &sla, &sl);
    char *sll = it_strf("%s: domain_get_security_label", name);
    bool slold =
        IT_LACKS(7005000, slrc, "vrpc_domain_get_security_label", "virDomainGetSecurityLabel", sll);
    free(sll);
    if (!slold && TAP_OK(slrc == 0, "%s: domain_get_security_label", name)) {
        char label[4097];
        size_t n = sl->label.n < sizeof(label) - 1 ? sl->label.n : sizeof(label) - 1;
        memcpy(label, sl->label.items, n);
        label[n] = '\0';
        char *m = it_strf("%s %d", label, sl->enforcing);
        char *pv = it_pyval(py, "seclabel");
        char *vl = it_kv(di, "Security label");
        /* virsh: "libvirt-test (enforcing)" */
        char *vm = it_strf("%s (%s)", label, sl->enforcing ? "enforcing" : "permissive");
        TAP_OK((!py || (pv && strcmp(pv, m) == 0)) && (!*label || (vl && strcmp(vl, vm) == 0)),
               "%s: security label '%s' == python '%s' == virsh '%s'", name, m, pv ? pv : "(n/a)",
               vl ? vl : "(none)");
        free(vm);
        free(vl);
        free(pv);
        free(m);
    }
    vrpc_free(sl);

    if (active) {
        int nv = info ? info->nrVirtCpu : 1;
        /* The host CPU count as libvirt-python takes it (node_get_cpu_map). */
        vrpc_node_get_cpu_map_args nca = {.need_map = 0, .need_online = 0, .flags = 0};
        vrpc_node_get_cpu_map_ret *ncr = NULL;
        int ncpus = IT(vrpc_node_get_cpu_map, c, &nca, &ncr) == 0 ? ncr->ret : 8;
        vrpc_free(ncr);
        int maplen = (ncpus + 7) / 8;
        vrpc_domain_get_vcpus_args va = {.dom = d, .maxinfo = nv, .maplen = maplen};
        vrpc_domain_get_vcpus_ret *vv = NULL;
        if (TAP_OK(IT(vrpc_domain_get_vcpus, c, &va, &vv) == 0, "%s: domain_get_vcpus", name)) {
            char buf[4096] = "", maps[4096] = "";
            size_t o = 0, om = 0;
            for (uint32_t i = 0; i < vv->info.n && o < sizeof(buf) - 64; i++)
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u:%d:%d", i ? " " : "",
                                      vv->info.items[i].number, vv->info.items[i].state,
                                      vv->info.items[i].cpu);
            for (uint32_t i = 0; i < vv->info.n && om < sizeof(maps) - 80; i++) {
                if (i)
                    maps[om++] = ' ';
                for (int b = 0; b < ncpus; b++) {
                    size_t byte = (size_t)i * (size_t)maplen + (size_t)b / 8;
                    maps[om++] = byte < vv->cpumaps.len && (vv->cpumaps.data[byte] >> (b % 8)) & 1
                                     ? '1'
                                     : '0';
                }
                maps[om] = '\0';
            }
            char *pv = it_pyval(py, "vcpus"), *pm = it_pyval(py, "vcpumaps");
            TAP_OK(!py || (pv && pm && strcmp(pv, buf) == 0 && strcmp(pm, maps) == 0),
                   "%s: vcpu info '%s' maps '%s' == python '%s' '%s'", name, buf, maps,
                   pv ? pv : "(n/a)", pm ? pm : "(n/a)");
            /* virsh vcpuinfo: "VCPU: n", "CPU: n", "CPU Affinity: yy--" */
            char *vi = it_virsh_out(uri, "vcpuinfo %s", name);
            char *vcpu0 = it_kv(vi, "CPU");
            TAP_OK(vv->info.n > 0 && vcpu0 && strtol(vcpu0, NULL, 10) == vv->info.items[0].cpu,
                   "%s: vcpu 0 runs on cpu %d == virsh vcpuinfo '%s'", name,
                   vv->info.n ? vv->info.items[0].cpu : -1, vcpu0 ? vcpu0 : "?");
            free(vcpu0);
            free(vi);
            free(pv);
            free(pm);
        }
        vrpc_free(vv);

        vrpc_domain_get_control_info_args cia = {.dom = d, .flags = 0};
        vrpc_domain_get_control_info_ret *ci = NULL;
        int circ = ITQ(vrpc_domain_get_control_info, c, &cia, &ci);
        char *cil = it_strf("%s: domain_get_control_info", name);
        bool ciold =
            IT_LACKS(7006000, circ, "vrpc_domain_get_control_info", "virDomainGetControlInfo", cil);
        free(cil);
        if (!ciold && TAP_OK(circ == 0, "%s: domain_get_control_info", name)) {
            char *m = it_strf("%u %u %" PRIu64, ci->state, ci->details, ci->stateTime);
            char *pv = it_pyval(py, "control");
            TAP_OK(!py || (pv && strcmp(pv, m) == 0), "%s: control info '%s' == python '%s'", name,
                   m, pv ? pv : "(n/a)");
            free(pv);
            free(m);
        }
        vrpc_free(ci);

        vrpc_domain_get_time_args ta = {.dom = d, .flags = 0};
        vrpc_domain_get_time_ret *tr = NULL;
        if (TAP_OK(IT(vrpc_domain_get_time, c, &ta, &tr) == 0, "%s: domain_get_time", name)) {
            char *m = it_strf("%" PRId64 " %u", tr->seconds, tr->nseconds);
            char *pv = it_pyval(py, "time");
            TAP_OK(!py || (pv && strcmp(pv, m) == 0), "%s: guest time '%s' == python '%s'", name, m,
                   pv ? pv : "(n/a)");
            free(pv);
            free(m);
        }
        vrpc_free(tr);

        vrpc_domain_get_hostname_args ha = {.dom = d, .flags = 0};
        vrpc_domain_get_hostname_ret *hr = NULL;
        if (TAP_OK(IT(vrpc_domain_get_hostname, c, &ha, &hr) == 0, "%s: domain_get_hostname",
                   name)) {
            char *vh = it_virsh_out(uri, "domhostname %s", name);
            TAP_OK(vh && it_same_text(vh, hr->hostname), "%s: guest hostname '%s' == virsh '%s'",
                   name, hr->hostname, vh ? it_trim(vh) : "?");
            free(vh);
        }
        vrpc_free(hr);

        /* memory stats: tags by name as python names them */
        static const struct {
            int tag;
            const char *name;
        } tags[] = {
            {VRPC_DOMAIN_MEMORY_STAT_SWAP_IN, "swap_in"},
            {VRPC_DOMAIN_MEMORY_STAT_SWAP_OUT, "swap_out"},
            {VRPC_DOMAIN_MEMORY_STAT_MAJOR_FAULT, "major_fault"},
            {VRPC_DOMAIN_MEMORY_STAT_MINOR_FAULT, "minor_fault"},
            {VRPC_DOMAIN_MEMORY_STAT_UNUSED, "unused"},
            {VRPC_DOMAIN_MEMORY_STAT_AVAILABLE, "available"},
            {VRPC_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, "actual"},
            {VRPC_DOMAIN_MEMORY_STAT_RSS, "rss"},
            {VRPC_DOMAIN_MEMORY_STAT_USABLE, "usable"},
            {VRPC_DOMAIN_MEMORY_STAT_LAST_UPDATE, "last_update"},
            {VRPC_DOMAIN_MEMORY_STAT_DISK_CACHES, "disk_caches"},
            {VRPC_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC, "hugetlb_pgalloc"},
            {VRPC_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL, "hugetlb_pgfail"},
        };
        vrpc_domain_memory_stats_args msa = {
            .dom = d, .maxStats = VRPC_DOMAIN_MEMORY_STAT_NR, .flags = 0};
        vrpc_domain_memory_stats_ret *ms = NULL;
        if (TAP_OK(IT(vrpc_domain_memory_stats, c, &msa, &ms) == 0, "%s: domain_memory_stats",
                   name) &&
            py) {
            bool all = true;
            size_t npy = 0;
            for (const char *q = py; (q = strstr(q, "mstat.")) != NULL; q++)
                if (q == py || q[-1] == '\n')
                    npy++;
            if (npy != ms->stats.n) {
                it_diag("%u memory stats, python has %zu", ms->stats.n, npy);
                all = false;
            }
            for (uint32_t i = 0; i < ms->stats.n; i++) {
                const char *tn = NULL;
                for (size_t k = 0; k < sizeof(tags) / sizeof(tags[0]); k++)
                    if (tags[k].tag == ms->stats.items[i].tag)
                        tn = tags[k].name;
                char *key = it_strf("mstat.%s", tn ? tn : "?");
                char *pv = it_pyval(py, key);
                uint64_t x = 0;
                if (!tn || !it_u64(pv, &x) || x != ms->stats.items[i].val) {
                    it_diag("memory stat %d (%s) = %" PRIu64 ", python %s", ms->stats.items[i].tag,
                            tn ? tn : "?", ms->stats.items[i].val, pv ? pv : "?");
                    all = false;
                }
                free(pv);
                free(key);
            }
            TAP_OK(all, "%s: %u memory stats == python memoryStats()", name, ms->stats.n);
        }
        vrpc_free(ms);

        vrpc_domain_get_fsinfo_args fa = {.dom = d, .flags = 0};
        vrpc_domain_get_fsinfo_ret *fi = NULL;
        if (TAP_OK(IT(vrpc_domain_get_fsinfo, c, &fa, &fi) == 0, "%s: domain_get_fsinfo", name)) {
            char buf[4096] = "";
            size_t o = 0;
            for (uint32_t i = 0; i < fi->info.n && o < sizeof(buf) - 512; i++) {
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s,%s,%s,", i ? ";" : "",
                                      fi->info.items[i].mountpoint, fi->info.items[i].name,
                                      fi->info.items[i].fstype);
                for (uint32_t j = 0; j < fi->info.items[i].dev_aliases.n; j++)
                    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", j ? "+" : "",
                                          fi->info.items[i].dev_aliases.items[j]);
            }
            char *pv = it_pyval(py, "fsinfo");
            TAP_OK(fi->ret == fi->info.n && (!py || (pv && strcmp(pv, buf) == 0)),
                   "%s: fsinfo '%s' == python '%s'", name, buf, pv ? pv : "(n/a)");
            free(pv);
        }
        vrpc_free(fi);

        vrpc_domain_interface_addresses_args iaa = {.dom = d, .source = 0, .flags = 0};
        vrpc_domain_interface_addresses_ret *ifa = NULL;
        if (TAP_OK(IT(vrpc_domain_interface_addresses, c, &iaa, &ifa) == 0,
                   "%s: domain_interface_addresses", name)) {
            char buf[4096] = "";
            size_t o = 0;
            /* python sorts by name; the daemon's order is kept here, so
             * compare only when it is sorted as well (one interface here). */
            for (uint32_t i = 0; i < ifa->ifaces.n && o < sizeof(buf) - 512; i++) {
                vrpc_domain_interface *it = &ifa->ifaces.items[i];
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s,%s,", i ? ";" : "", it->name,
                                      it->hwaddr ? it->hwaddr : "None");
                for (uint32_t j = 0; j < it->addrs.n; j++)
                    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%d/%s/%u", j ? "+" : "",
                                          it->addrs.items[j].type, it->addrs.items[j].addr,
                                          it->addrs.items[j].prefix);
            }
            char *pv = it_pyval(py, "ifaddrs");
            TAP_OK(!py || (pv && strcmp(pv, buf) == 0),
                   "%s: interface addresses '%s' == python '%s'", name, buf, pv ? pv : "(n/a)");
            free(pv);
        }
        vrpc_free(ifa);

        vrpc_domain_get_emulator_pin_info_args epa = {.dom = d, .maplen = maplen, .flags = 0};
        vrpc_domain_get_emulator_pin_info_ret *ep = NULL;
        if (TAP_OK(IT(vrpc_domain_get_emulator_pin_info, c, &epa, &ep) == 0,
                   "%s: domain_get_emulator_pin_info", name)) {
            char bits[1024];
            int b;
            for (b = 0; b < ncpus && b < 1023; b++)
                bits[b] =
                    (size_t)b / 8 < ep->cpumaps.len && (ep->cpumaps.data[b / 8] >> (b % 8)) & 1
                        ? '1'
                        : '0';
            bits[b] = '\0';
            char *pv = it_pyval(py, "emupin");
            TAP_OK(!py || (pv && strcmp(pv, bits) == 0), "%s: emulator pinning '%s' == python '%s'",
                   name, bits, pv ? pv : "(n/a)");
            free(pv);
        }
        vrpc_free(ep);

        vrpc_domain_get_vcpu_pin_info_args vpa = {
            .dom = d, .ncpumaps = nv, .maplen = maplen, .flags = 0};
        vrpc_domain_get_vcpu_pin_info_ret *vp = NULL;
        if (TAP_OK(IT(vrpc_domain_get_vcpu_pin_info, c, &vpa, &vp) == 0,
                   "%s: domain_get_vcpu_pin_info", name)) {
            char maps[4096];
            size_t om = 0;
            for (int i = 0; i < vp->num && om < sizeof(maps) - 80; i++) {
                if (i)
                    maps[om++] = ' ';
                for (int b = 0; b < ncpus; b++) {
                    size_t byte = (size_t)i * (size_t)maplen + (size_t)b / 8;
                    maps[om++] = byte < vp->cpumaps.len && (vp->cpumaps.data[byte] >> (b % 8)) & 1
                                     ? '1'
                                     : '0';
                }
            }
            maps[om] = '\0';
            char *pv = it_pyval(py, "vcpupin");
            TAP_OK(!py || (pv && strcmp(pv, maps) == 0), "%s: vcpu pinning '%s' == python '%s'",
                   name, maps, pv ? pv : "(n/a)");
            free(pv);
        }
        vrpc_free(vp);

        vrpc_domain_get_iothread_info_args ita = {.dom = d, .flags = 0};
        vrpc_domain_get_iothread_info_ret *itr = NULL;
        int itrc = ITQ(vrpc_domain_get_iothread_info, c, &ita, &itr);
        char *itl = it_strf("%s: domain_get_iothread_info", name);
        bool itold = IT_LACKS(7008000, itrc, "vrpc_domain_get_iothread_info",
                              "virDomainGetIOThreadInfo", itl);
        free(itl);
        if (!itold && TAP_OK(itrc == 0, "%s: domain_get_iothread_info", name)) {
            char *pv = it_pyval(py, "iothreads");
            char *m = it_strf("%u", itr->info.n);
            TAP_OK(itr->ret == itr->info.n && (!py || (pv && strcmp(pv, m) == 0)),
                   "%s: %s iothreads == python %s", name, m, pv ? pv : "(n/a)");
            free(m);
            free(pv);
        }
        vrpc_free(itr);

        vrpc_domain_get_disk_errors_args dea = {.dom = d, .maxerrors = 16, .flags = 0};
        vrpc_domain_get_disk_errors_ret *de = NULL;
        if (TAP_OK(IT(vrpc_domain_get_disk_errors, c, &dea, &de) == 0, "%s: domain_get_disk_errors",
                   name)) {
            char buf[1024] = "";
            size_t o = 0;
            for (uint32_t i = 0; i < de->errors.n && o < sizeof(buf) - 300; i++)
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:%d", i ? "," : "",
                                      de->errors.items[i].disk, de->errors.items[i].error);
            char *pv = it_pyval(py, "diskerrors");
            TAP_OK(!py || (pv && strcmp(pv, buf) == 0), "%s: disk errors '%s' == python '%s'", name,
                   buf, pv ? pv : "(n/a)");
            free(pv);
        }
        vrpc_free(de);

        /* Block and interface statistics follow the clock in the test
         * driver: the reference, asked later, must not be smaller. */
        char *xml = NULL;
        {
            vrpc_domain_get_xml_desc_args xa2 = {.dom = d, .flags = 0};
            vrpc_domain_get_xml_desc_ret *xr = NULL;
            if (IT(vrpc_domain_get_xml_desc, c, &xa2, &xr) == 0)
                xml = it_strdup(xr->xml);
            vrpc_free(xr);
        }
        char *tdev = NULL, *ifdev = NULL;
        const char *p;
        if (xml && (p = strstr(xml, "<target dev='")) != NULL)
            tdev = it_until(p + 13, '\'');
        if (xml && (p = strstr(xml, "<interface")) != NULL && (p = strstr(p, "<target dev='")))
            ifdev = it_until(p + 13, '\'');
        if (tdev) {
            vrpc_domain_block_stats_args ba = {.dom = d, .path = tdev};
            vrpc_domain_block_stats_ret *bs = NULL;
            if (TAP_OK(IT(vrpc_domain_block_stats, c, &ba, &bs) == 0, "%s: domain_block_stats %s",
                       name, tdev)) {
                char *vb = it_virsh_out(uri, "domblkstat %s %s", name, tdev);
                char *rd = it_word_after(vb, "rd_req");
                int64_t x = -1;
                TAP_OK(rd && it_i64(it_trim(rd), &x) && x >= bs->rd_req && bs->rd_req >= 0,
                       "%s: rd_req %" PRId64 " <= virsh domblkstat's later %s", name, bs->rd_req,
                       rd ? rd : "?");
                free(rd);
                free(vb);
            }
            vrpc_free(bs);

            vrpc_domain_get_block_info_args bia = {.dom = d, .path = tdev, .flags = 0};
            vrpc_domain_get_block_info_ret *bi = NULL;
            if (TAP_OK(IT(vrpc_domain_get_block_info, c, &bia, &bi) == 0,
                       "%s: domain_get_block_info %s", name, tdev)) {
                char *vb = it_virsh_out(uri, "domblkinfo %s %s", name, tdev);
                char *cap = it_kv(vb, "Capacity"), *alloc = it_kv(vb, "Allocation"),
                     *phys = it_kv(vb, "Physical");
                uint64_t a1 = 0, a2 = 0, a3 = 0;
                TAP_OK(it_u64(cap, &a1) && it_u64(alloc, &a2) && it_u64(phys, &a3) &&
                           a1 == bi->capacity && a2 == bi->allocation && a3 == bi->physical,
                       "%s: block info %" PRIu64 "/%" PRIu64 "/%" PRIu64
                       " == virsh domblkinfo %s/%s/%s",
                       name, bi->capacity, bi->allocation, bi->physical, cap ? cap : "?",
                       alloc ? alloc : "?", phys ? phys : "?");
                free(cap);
                free(alloc);
                free(phys);
                free(vb);
            }
            vrpc_free(bi);
        }
        if (ifdev) {
            vrpc_domain_interface_stats_args isa = {.dom = d, .device = ifdev};
            vrpc_domain_interface_stats_ret *is = NULL;
            if (TAP_OK(IT(vrpc_domain_interface_stats, c, &isa, &is) == 0,
                       "%s: domain_interface_stats %s", name, ifdev)) {
                char *vi = it_virsh_out(uri, "domifstat %s %s", name, ifdev);
                char *num = it_word_after(vi, "rx_bytes");
                int64_t x = -1;
                TAP_OK(num && it_i64(it_trim(num), &x) && x >= is->rx_bytes && is->rx_bytes >= 0,
                       "%s: rx_bytes %" PRId64 " <= virsh domifstat's later %s", name, is->rx_bytes,
                       num ? num : "?");
                free(num);
                free(vi);
            }
            vrpc_free(is);
        }
        free(tdev);
        free(ifdev);
        free(xml);
    }

    vrpc_free(info);
    free(di);
    free(py);
    vrpc_free(lk);
}

/* ---------------------------------------------------------------------- */

static void test_xml(const char *name)
{
    vrpc_domain_lookup_by_name_ret *lk = lookup(name);
    if (!lk)
        return;
    static const struct {
        unsigned flags;
        const char *opt;
    } v[] = {
        {0, ""},
        {VRPC_DOMAIN_XML_INACTIVE, "--inactive"},
        {VRPC_DOMAIN_XML_SECURE, "--security-info"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        vrpc_domain_get_xml_desc_args a = {.dom = lk->dom, .flags = v[i].flags};
        vrpc_domain_get_xml_desc_ret *r = NULL;
        if (TAP_OK(IT(vrpc_domain_get_xml_desc, c, &a, &r) == 0, "%s: domain_get_xml_desc %s", name,
                   v[i].opt)) {
            char *vs = it_virsh_out(uri, "dumpxml %s %s", name, v[i].opt);
            TAP_OK(vs && it_same_text(vs, r->xml), "%s: XML (%zu bytes) == virsh dumpxml %s", name,
                   strlen(r->xml), v[i].opt);
            free(vs);
        }
        vrpc_free(r);
    }
    vrpc_free(lk);
}

/* ---------------------------------------------------------------------- */

/* Typed-parameter setters, verified through virsh and python. */
static void test_set_params(const vrpc_nonnull_domain *d)
{
    vrpc_typed_param mp[1];
    memset(mp, 0, sizeof(mp));
    mp[0].field = "hard_limit";
    mp[0].value.type = VRPC_TYPED_PARAM_ULLONG;
    mp[0].value.u.ul = 524288;
    vrpc_domain_set_memory_parameters_args ma = {.dom = *d, .flags = 0};
    ma.params.n = 1;
    ma.params.items = mp;
    if (TAP_OK(IT(vrpc_domain_set_memory_parameters, c, &ma) == 0,
               "%s: domain_set_memory_parameters hard_limit=524288", d->name)) {
        char *mt = it_virsh_out(uri, "memtune %s", d->name);
        char *v = it_kv(mt, "hard_limit");
        TAP_OK(v && strcmp(v, "524288") == 0, "%s: virsh memtune hard_limit '%s'", d->name,
               v ? v : "?");
        free(v);
        free(mt);
    }

    vrpc_typed_param bp[1];
    memset(bp, 0, sizeof(bp));
    bp[0].field = "weight";
    bp[0].value.type = VRPC_TYPED_PARAM_UINT;
    bp[0].value.u.ui = 321;
    vrpc_domain_set_blkio_parameters_args ba = {.dom = *d, .flags = 0};
    ba.params.n = 1;
    ba.params.items = bp;
    int barc = ITQ(vrpc_domain_set_blkio_parameters, c, &ba);
    char *bal = it_strf("%s: domain_set_blkio_parameters", d->name);
    bool baold = IT_LACKS(7007000, barc, "vrpc_domain_set_blkio_parameters",
                          "virDomainSetBlkioParameters", bal);
    free(bal);
    if (!baold && TAP_OK(barc == 0, "%s: domain_set_blkio_parameters weight=321", d->name)) {
        char *bt = it_virsh_out(uri, "blkiotune %s", d->name);
        char *v = it_kv(bt, "weight");
        char *expr = it_strf("c.lookupByName('%s').blkioParameters(0)['weight']", d->name);
        char *py = it_py_eval(uri, false, expr);
        char *pv = it_pyval(py, "ret");
        TAP_OK(v && strcmp(v, "321") == 0 && (!py || (pv && strcmp(pv, "321") == 0)),
               "%s: virsh blkiotune weight '%s', python %s", d->name, v ? v : "?",
               pv ? pv : "(n/a)");
        free(pv);
        free(py);
        free(expr);
        free(v);
        free(bt);
    }

    /* The test driver accepts scheduler parameters (and keeps its fixed
     * values): the call must succeed like virsh schedinfo --set does, and
     * what we read afterwards must still equal virsh. */
    vrpc_typed_param sp[1];
    memset(sp, 0, sizeof(sp));
    sp[0].field = "weight";
    sp[0].value.type = VRPC_TYPED_PARAM_UINT;
    sp[0].value.u.ui = 77;
    vrpc_domain_set_scheduler_parameters_flags_args sa = {.dom = *d, .flags = 0};
    sa.params.n = 1;
    sa.params.items = sp;
    if (TAP_OK(IT(vrpc_domain_set_scheduler_parameters_flags, c, &sa) == 0,
               "%s: domain_set_scheduler_parameters_flags weight=77", d->name)) {
        vrpc_domain_get_scheduler_parameters_args ga = {.dom = *d, .nparams = 1};
        vrpc_domain_get_scheduler_parameters_ret *gr = NULL;
        char *sc = it_virsh_out(uri, "schedinfo %s", d->name);
        char *v = it_kv(sc, "weight");
        if (IT(vrpc_domain_get_scheduler_parameters, c, &ga, &gr) == 0)
            TAP_OK(gr->params.n == 1 && IT_TP_EQ(gr->params.items[0].value, v),
                   "%s: scheduler weight read back == virsh schedinfo '%s'", d->name, v ? v : "?");
        vrpc_free(gr);
        free(v);
        free(sc);
    }
}

static void test_metadata(const vrpc_nonnull_domain *d)
{
    vrpc_domain_set_metadata_args sa = {.dom = *d,
                                        .type = VRPC_DOMAIN_METADATA_DESCRIPTION,
                                        .metadata = "virtrpc integration test",
                                        .key = NULL,
                                        .uri = NULL,
                                        .flags = 0};
    if (TAP_OK(IT(vrpc_domain_set_metadata, c, &sa) == 0, "%s: domain_set_metadata description",
               d->name)) {
        char *v = it_virsh_out(uri, "desc %s", d->name);
        TAP_OK(v && it_same_text(v, "virtrpc integration test"), "%s: virsh desc '%s'", d->name,
               v ? it_trim(v) : "?");
        free(v);
        vrpc_domain_get_metadata_args ga = {
            .dom = *d, .type = VRPC_DOMAIN_METADATA_DESCRIPTION, .uri = NULL, .flags = 0};
        vrpc_domain_get_metadata_ret *gr = NULL;
        if (TAP_OK(IT(vrpc_domain_get_metadata, c, &ga, &gr) == 0, "%s: domain_get_metadata",
                   d->name)) {
            char *expr = it_strf("c.lookupByName('%s').metadata(%d, None)", d->name,
                                 VRPC_DOMAIN_METADATA_DESCRIPTION);
            char *py = it_py_eval(uri, false, expr);
            char *pv = it_pyval(py, "ret");
            char *mine = it_strf("'%s'", gr->metadata);
            TAP_OK(strcmp(gr->metadata, "virtrpc integration test") == 0 &&
                       (!py || (pv && strcmp(pv, mine) == 0)),
                   "%s: description read back '%s' == python %s", d->name, gr->metadata,
                   pv ? pv : "(n/a)");
            free(mine);
            free(pv);
            free(py);
            free(expr);
        }
        vrpc_free(gr);
    }
}

/* A persistent domain through its whole life cycle. */
static void test_lifecycle(void)
{
    char *name = it_unique("vrpc-it-dom");
    char *xml = dom_xml(name, 262144, 131072, 2);
    vrpc_domain_define_xml_flags_args da = {.xml = xml, .flags = 0};
    vrpc_domain_define_xml_flags_ret *def = NULL;
    if (!TAP_OK(IT(vrpc_domain_define_xml_flags, c, &da, &def) == 0, "domain_define_xml_flags %s",
                name)) {
        free(xml);
        free(name);
        return;
    }
    /* keep a copy of the handle, independent of later replies */
    vrpc_nonnull_domain d = def->dom;
    char us[37];
    it_uuid_fmt(d.uuid, us);
    {
        char *di = it_virsh_out(uri, "dominfo %s", name);
        char *vu = it_kv(di, "UUID"), *vid = it_kv(di, "Id"), *vst = it_kv(di, "State");
        TAP_OK(vu && strcmp(vu, us) == 0 && vid && strcmp(vid, "-") == 0 && vst &&
                   strcmp(vst, "shut off") == 0 && d.id == -1,
               "defined %s: uuid %s id %d == virsh dominfo (%s, Id %s, %s)", name, us, d.id,
               vu ? vu : "?", vid ? vid : "?", vst ? vst : "?");
        free(vu);
        free(vid);
        free(vst);
        free(di);
    }
    test_info(name);
    test_xml(name);

    /* Config changes on the inactive domain. */
    vrpc_domain_set_max_memory_args smx = {.dom = d, .memory = 300000};
    if (TAP_OK(IT(vrpc_domain_set_max_memory, c, &smx) == 0, "%s: domain_set_max_memory 300000",
               name)) {
        char *di = it_virsh_out(uri, "dominfo %s", name);
        char *v = it_kv(di, "Max memory");
        TAP_OK(v && strcmp(v, "300000 KiB") == 0, "%s: virsh Max memory '%s'", name, v ? v : "?");
        free(v);
        free(di);
    }
    vrpc_domain_set_memory_flags_args smf = {
        .dom = d, .memory = 200000, .flags = VRPC_DOMAIN_AFFECT_CONFIG};
    if (TAP_OK(IT(vrpc_domain_set_memory_flags, c, &smf) == 0,
               "%s: domain_set_memory_flags 200000 config", name)) {
        char *di = it_virsh_out(uri, "dominfo %s", name);
        char *v = it_kv(di, "Used memory");
        TAP_OK(v && strcmp(v, "200000 KiB") == 0, "%s: virsh Used memory '%s'", name, v ? v : "?");
        free(v);
        free(di);
    }
    vrpc_domain_set_vcpus_flags_args svf = {
        .dom = d, .nvcpus = 1, .flags = VRPC_DOMAIN_AFFECT_CONFIG};
    if (TAP_OK(IT(vrpc_domain_set_vcpus_flags, c, &svf) == 0, "%s: domain_set_vcpus_flags 1 config",
               name)) {
        char *vc = it_virsh_out(uri, "vcpucount %s --config --current", name);
        TAP_OK(vc && it_same_text(vc, "1"), "%s: virsh vcpucount --config --current '%s'", name,
               vc ? it_trim(vc) : "?");
        free(vc);
    }
    for (int on = 1; on >= 0; on--) {
        vrpc_domain_set_autostart_args sa = {.dom = d, .autostart = on};
        if (TAP_OK(IT(vrpc_domain_set_autostart, c, &sa) == 0, "%s: domain_set_autostart %d", name,
                   on)) {
            char *di = it_virsh_out(uri, "dominfo %s", name);
            char *v = it_kv(di, "Autostart");
            vrpc_domain_get_autostart_args ga = {.dom = d};
            vrpc_domain_get_autostart_ret *gr = NULL;
            TAP_OK(v && strcmp(v, on ? "enable" : "disable") == 0 &&
                       IT(vrpc_domain_get_autostart, c, &ga, &gr) == 0 && gr->autostart == on,
                   "%s: autostart %d == virsh '%s'", name, on, v ? v : "?");
            vrpc_free(gr);
            free(v);
            free(di);
        }
    }
    test_set_params(&d);
    test_metadata(&d);

    /* Error: suspending an inactive domain, compared with python. */
    {
        vrpc_domain_suspend_args a = {.dom = d};
        int rc = ITQ(vrpc_domain_suspend, c, &a);
        char *expr = it_strf("c.lookupByName('%s').suspend()", name);
        char *py = it_py_eval(uri, false, expr);
        TAP_OK(rc == VRPC_E_REMOTE && it_err(), "%s: suspend while shut off fails: %s", name,
               it_errstr(it_err()));
        if (py)
            TAP_OK(it_err_matches_py(it_err(), py), "%s: that error == python's, field by field",
                   name);
        free(py);
        free(expr);
    }

    /* Life cycle. */
    vrpc_domain_create_args ca = {.dom = d};
    if (TAP_OK(IT(vrpc_domain_create, c, &ca) == 0, "%s: domain_create", name)) {
        check_state(&d, VRPC_DOMAIN_RUNNING, "after create");
        vrpc_domain_lookup_by_name_ret *lk = lookup(name);
        char *vid = it_virsh_out(uri, "domid %s", name);
        int64_t id = -2;
        TAP_OK(lk && lk->dom.id > 0 && vid && it_i64(it_trim(vid), &id) && id == lk->dom.id,
               "%s: running with id %d == virsh domid", name, lk ? lk->dom.id : -1);
        free(vid);
        vrpc_free(lk);
    }
    test_info(name);
    vrpc_domain_suspend_args su = {.dom = d};
    if (TAP_OK(IT(vrpc_domain_suspend, c, &su) == 0, "%s: domain_suspend", name))
        check_state(&d, VRPC_DOMAIN_PAUSED, "after suspend");
    vrpc_domain_resume_args re = {.dom = d};
    if (TAP_OK(IT(vrpc_domain_resume, c, &re) == 0, "%s: domain_resume", name))
        check_state(&d, VRPC_DOMAIN_RUNNING, "after resume");
    vrpc_domain_reboot_args rb = {.dom = d, .flags = 0};
    if (TAP_OK(IT(vrpc_domain_reboot, c, &rb) == 0, "%s: domain_reboot", name))
        check_state(&d, VRPC_DOMAIN_RUNNING, "after reboot");
    vrpc_domain_set_memory_args sm = {.dom = d, .memory = 150000};
    if (TAP_OK(IT(vrpc_domain_set_memory, c, &sm) == 0, "%s: domain_set_memory 150000 (live)",
               name)) {
        char *di = it_virsh_out(uri, "dominfo %s", name);
        char *v = it_kv(di, "Used memory");
        TAP_OK(v && strcmp(v, "150000 KiB") == 0, "%s: virsh Used memory '%s'", name, v ? v : "?");
        free(v);
        free(di);
    }
    vrpc_domain_shutdown_args sh = {.dom = d};
    if (TAP_OK(IT(vrpc_domain_shutdown, c, &sh) == 0, "%s: domain_shutdown", name))
        check_state(&d, VRPC_DOMAIN_SHUTOFF, "after shutdown");

    vrpc_domain_create_with_flags_args cwf = {.dom = d, .flags = 0};
    vrpc_domain_create_with_flags_ret *cw = NULL;
    if (TAP_OK(IT(vrpc_domain_create_with_flags, c, &cwf, &cw) == 0, "%s: domain_create_with_flags",
               name)) {
        TAP_OK(cw->dom.id > 0 && strcmp(cw->dom.name, name) == 0,
               "%s: create_with_flags returns the running domain (id %d)", name, cw->dom.id);
        check_state(&d, VRPC_DOMAIN_RUNNING, "after create_with_flags");
    }
    vrpc_free(cw);

    /* managed save */
    vrpc_domain_managed_save_args msa = {.dom = d, .flags = 0};
    if (TAP_OK(IT(vrpc_domain_managed_save, c, &msa) == 0, "%s: domain_managed_save", name)) {
        check_state(&d, VRPC_DOMAIN_SHUTOFF, "after managed save");
        vrpc_domain_has_managed_save_image_args ha = {.dom = d, .flags = 0};
        vrpc_domain_has_managed_save_image_ret *hr = NULL;
        char *di = it_virsh_out(uri, "dominfo %s", name);
        char *v = it_kv(di, "Managed save");
        int hrc = IT(vrpc_domain_has_managed_save_image, c, &ha, &hr);
        TAP_OK(hrc == 0 && hr->result == 1 && v && strcmp(v, "yes") == 0,
               "%s: has_managed_save_image %d == virsh Managed save '%s'", name,
               hr ? hr->result : -1, v ? v : "?");
        vrpc_free(hr);
        free(v);
        free(di);
        vrpc_domain_managed_save_remove_args mr = {.dom = d, .flags = 0};
        if (TAP_OK(IT(vrpc_domain_managed_save_remove, c, &mr) == 0,
                   "%s: domain_managed_save_remove", name)) {
            di = it_virsh_out(uri, "dominfo %s", name);
            v = it_kv(di, "Managed save");
            hr = NULL;
            TAP_OK(IT(vrpc_domain_has_managed_save_image, c, &ha, &hr) == 0 && hr->result == 0 &&
                       v && strcmp(v, "no") == 0,
                   "%s: no managed save image any more (virsh '%s')", name, v ? v : "?");
            vrpc_free(hr);
            free(v);
            free(di);
        }
    }

    /* save to a file in the test directory and restore */
    if (get_state(&d, NULL) != VRPC_DOMAIN_RUNNING) {
        vrpc_domain_create_args c2 = {.dom = d};
        IT(vrpc_domain_create, c, &c2);
    }
    char *img = it_strf("%s/%s.save", it_dir(), name);
    vrpc_domain_save_args sva = {.dom = d, .to = img};
    if (TAP_OK(IT(vrpc_domain_save, c, &sva) == 0, "%s: domain_save to the test directory", name)) {
        check_state(&d, VRPC_DOMAIN_SHUTOFF, "after save");
        TAP_OK(access(img, F_OK) == 0, "%s: the save image exists", name);
        vrpc_domain_restore_args ra = {.from = img};
        if (TAP_OK(IT(vrpc_domain_restore, c, &ra) == 0, "%s: domain_restore", name))
            check_state(&d, VRPC_DOMAIN_RUNNING, "after restore");
    }
    unlink(img);
    free(img);

    vrpc_domain_destroy_args de = {.dom = d};
    if (TAP_OK(IT(vrpc_domain_destroy, c, &de) == 0, "%s: domain_destroy", name))
        check_state(&d, VRPC_DOMAIN_SHUTOFF, "after destroy");

    /* rename (inactive only) */
    char *newname = it_unique("vrpc-it-renamed");
    vrpc_domain_rename_args rn = {.dom = d, .new_name = newname, .flags = 0};
    vrpc_domain_rename_ret *rr = NULL;
    bool renamed = false;
    if (TAP_OK(IT(vrpc_domain_rename, c, &rn, &rr) == 0, "%s: domain_rename to %s", name,
               newname)) {
        it_cmd old;
        it_virsh_cmd(&old, uri, "domuuid %s", name);
        char *nu = it_virsh_out(uri, "domuuid %s", newname);
        TAP_OK(rr->retcode == 0 && old.status != 0 && nu && it_same_text(nu, us),
               "virsh: %s is gone, %s has uuid %s", name, newname, us);
        free(nu);
        it_cmd_free(&old);
        renamed = true;
    }
    vrpc_free(rr);
    const char *cur = renamed ? newname : name;
    vrpc_domain_lookup_by_name_ret *lk = lookup(cur);
    if (lk) {
        vrpc_domain_undefine_flags_args ua = {.dom = lk->dom, .flags = 0};
        if (TAP_OK(IT(vrpc_domain_undefine_flags, c, &ua) == 0, "domain_undefine_flags %s", cur)) {
            it_cmd r;
            it_virsh_cmd(&r, uri, "dominfo %s", cur);
            char *names = it_virsh_out(uri, "list --all --name");
            char **v = it_lines(names, NULL);
            TAP_OK(r.status != 0 && it_strv_find(v, cur) < 0,
                   "virsh no longer knows %s (dominfo exits %d)", cur, r.status);
            it_strv_free(v);
            free(names);
            it_cmd_free(&r);
        }
    }
    vrpc_free(lk);
    free(newname);
    vrpc_free(def);
    free(xml);
    free(name);
}

/* A second persistent domain removed with the plain undefine. */
static void test_define_plain(void)
{
    char *name = it_unique("vrpc-it-plain");
    char *xml = dom_xml(name, 131072, 131072, 1);
    vrpc_domain_define_xml_args a = {.xml = xml};
    vrpc_domain_define_xml_ret *r = NULL;
    if (TAP_OK(IT(vrpc_domain_define_xml, c, &a, &r) == 0, "domain_define_xml %s", name)) {
        char *names = it_virsh_out(uri, "list --inactive --name");
        char **v = it_lines(names, NULL);
        TAP_OK(it_strv_find(v, name) >= 0, "virsh list --inactive shows %s", name);
        it_strv_free(v);
        free(names);
        vrpc_domain_undefine_args ua = {.dom = r->dom};
        if (TAP_OK(IT(vrpc_domain_undefine, c, &ua) == 0, "domain_undefine %s", name)) {
            names = it_virsh_out(uri, "list --all --name");
            v = it_lines(names, NULL);
            TAP_OK(it_strv_find(v, name) < 0, "virsh list --all no longer shows %s", name);
            it_strv_free(v);
            free(names);
        }
    }
    vrpc_free(r);
    free(xml);
    free(name);
}

/* A transient domain. */
static void test_transient(void)
{
    char *name = it_unique("vrpc-it-transient");
    char *xml = dom_xml(name, 131072, 65536, 1);
    vrpc_domain_create_xml_args a = {.xml_desc = xml, .flags = 0};
    vrpc_domain_create_xml_ret *r = NULL;
    if (TAP_OK(IT(vrpc_domain_create_xml, c, &a, &r) == 0, "domain_create_xml %s (transient)",
               name)) {
        check_state(&r->dom, VRPC_DOMAIN_RUNNING, "transient after create_xml");
        vrpc_domain_is_persistent_args pa = {.dom = r->dom};
        vrpc_domain_is_persistent_ret *pr = NULL;
        char *di = it_virsh_out(uri, "dominfo %s", name);
        char *v = it_kv(di, "Persistent");
        TAP_OK(IT(vrpc_domain_is_persistent, c, &pa, &pr) == 0 && pr->persistent == 0 && v &&
                   strcmp(v, "no") == 0,
               "%s: not persistent (virsh '%s')", name, v ? v : "?");
        vrpc_free(pr);
        free(v);
        free(di);
        vrpc_domain_shutdown_flags_args sf = {.dom = r->dom, .flags = 0};
        vrpc_domain_destroy_flags_args df = {.dom = r->dom, .flags = 0};
        int rc = IT(vrpc_domain_shutdown_flags, c, &sf);
        TAP_OK(rc == 0, "%s: domain_shutdown_flags", name);
        if (rc != 0)
            TAP_OK(IT(vrpc_domain_destroy_flags, c, &df) == 0, "%s: domain_destroy_flags", name);
        it_cmd rr;
        it_virsh_cmd(&rr, uri, "dominfo %s", name);
        TAP_OK(rr.status != 0, "a stopped transient domain is gone for virsh too");
        it_cmd_free(&rr);

        /* and once more, stopped with destroy_flags */
        vrpc_domain_create_xml_ret *r2 = NULL;
        if (IT(vrpc_domain_create_xml, c, &a, &r2) == 0) {
            vrpc_domain_destroy_flags_args df2 = {.dom = r2->dom, .flags = 0};
            if (TAP_OK(IT(vrpc_domain_destroy_flags, c, &df2) == 0, "%s: domain_destroy_flags",
                       name)) {
                it_virsh_cmd(&rr, uri, "dominfo %s", name);
                TAP_OK(rr.status != 0, "destroyed transient domain is gone for virsh");
                it_cmd_free(&rr);
            }
        }
        vrpc_free(r2);
    }
    vrpc_free(r);
    free(xml);
    free(name);
}

/* A UTF-8 name and a multi-megabyte description: big replies, exact bytes. */
static void test_big_and_utf8(void)
{
    /* "vrpc-it-" + u-umlaut n i-diaeresis c o-slash d e-acute euro, in UTF-8 */
    char *base = it_unique("vrpc-it-\303\274n\303\257c\303\270d\303\251\342\202\254");
    char *xml = dom_xml(base, 131072, 131072, 1);
    vrpc_domain_define_xml_args da = {.xml = xml};
    vrpc_domain_define_xml_ret *dr = NULL;
    if (!TAP_OK(IT(vrpc_domain_define_xml, c, &da, &dr) == 0, "define a domain with a UTF-8 name"))
        goto out;
    {
        char *q = it_shq(base);
        char *vu = it_virsh_out(uri, "domuuid %s", q);
        char us[37];
        it_uuid_fmt(dr->dom.uuid, us);
        TAP_OK(vu && it_same_text(vu, us) && strcmp(dr->dom.name, base) == 0,
               "virsh finds the UTF-8 name, same uuid %s", us);
        free(vu);
        free(q);
    }
    /* 3 MiB of text (the string limit is 4 MiB) */
    size_t n = 3u << 20;
    char *desc = malloc(n + 1);
    if (desc) {
        for (size_t i = 0; i < n; i++)
            desc[i] = (char)('a' + (i * 7 + i / 26) % 26);
        desc[n] = '\0';
        vrpc_domain_set_metadata_args sa = {.dom = dr->dom,
                                            .type = VRPC_DOMAIN_METADATA_DESCRIPTION,
                                            .metadata = desc,
                                            .key = NULL,
                                            .uri = NULL,
                                            .flags = 0};
        if (TAP_OK(IT(vrpc_domain_set_metadata, c, &sa) == 0,
                   "domain_set_metadata with a %zu-byte description", n)) {
            vrpc_domain_get_metadata_args ga = {
                .dom = dr->dom, .type = VRPC_DOMAIN_METADATA_DESCRIPTION, .uri = NULL, .flags = 0};
            vrpc_domain_get_metadata_ret *gr = NULL;
            int rc = IT(vrpc_domain_get_metadata, c, &ga, &gr);
            TAP_OK(rc == 0 && strcmp(gr->metadata, desc) == 0,
                   "domain_get_metadata returns the same %zu bytes", n);
            vrpc_free(gr);
            vrpc_domain_get_xml_desc_args xa = {.dom = dr->dom, .flags = 0};
            vrpc_domain_get_xml_desc_ret *xr = NULL;
            rc = IT(vrpc_domain_get_xml_desc, c, &xa, &xr);
            char *q = it_shq(base);
            char *vx = it_virsh_out(uri, "dumpxml %s", q);
            TAP_OK(rc == 0 && vx && it_same_text(vx, xr->xml) && strstr(xr->xml, desc),
                   "a %zu-byte domain XML == virsh dumpxml", rc == 0 ? strlen(xr->xml) : 0);
            free(vx);
            free(q);
            vrpc_free(xr);
        }
        free(desc);
    }
    vrpc_domain_undefine_args ua = {.dom = dr->dom};
    IT(vrpc_domain_undefine, c, &ua);
    vrpc_free(dr);
out:
    free(xml);
    free(base);
}

/* libvirt-python opening sys.argv[1]: ok=1, or ok=0 and the error's fields. */
static const char py_open[] =
    "import sys, libvirt\n"
    "libvirt.registerErrorHandler(lambda *a: None, None)\n"
    "try:\n"
    "    libvirt.open(sys.argv[1])\n"
    "    print('ok=1')\n"
    "except libvirt.libvirtError as e:\n"
    "    print('ok=0')\n"
    "    print('code=%d' % e.get_error_code())\n"
    "    print('domain=%d' % e.get_error_domain())\n"
    "    print('level=%d' % e.get_error_level())\n"
    "    for k, v in (('message', e.get_error_message()), ('str1', e.get_str1()),\n"
    "                 ('str2', e.get_str2()), ('str3', e.get_str3())):\n"
    "        if v is not None:\n"
    "            print('%s=%s' % (k, v.replace('\\\\', '\\\\\\\\').replace('\\n', '\\\\n')))\n"
    "    print('int1=%d' % e.get_int1())\n"
    "    print('int2=%d' % e.get_int2())\n";

/* Failures while opening, and a value too big to send. */
static void test_local_errors(void)
{
    /* no socket: a local failure, libvirt-style code and domain like python's */
    char *bad = it_strf("test+unix:///default?socket=%s/sys/run/vrpc-no-such-sock", it_dir());
    vrpc_conn *x = NULL;
    int rc = vrpc_conn_open(&x, bad, 0, it_errp());
    vrpc_error *e = it_err();
    char *py = it_py(py_open, bad, "rw", NULL);
    char *pc = it_pyval(py, "code"), *pd = it_pyval(py, "domain");
    char *mc = e ? it_strf("%d", e->code) : NULL, *md = e ? it_strf("%d", e->domain) : NULL;
    TAP_OK(rc != 0 && rc != VRPC_E_REMOTE && x == NULL && e && e->message &&
               strstr(e->message, "vrpc-no-such-sock"),
           "open of a missing socket fails locally (%d %s): '%s'", rc, vrpc_strerror(rc),
           e && e->message ? e->message : "(no error)");
    if (py)
        TAP_OK(mc && md && pc && pd && strcmp(mc, pc) == 0 && strcmp(md, pd) == 0,
               "its code/domain %s/%s == libvirt-python's %s/%s", mc ? mc : "-", md ? md : "-",
               pc ? pc : "-", pd ? pd : "-");
    free(mc);
    free(md);
    free(pc);
    free(pd);
    free(py);
    free(bad);

    /* a driver the daemon does not have: the daemon's CONNECT_OPEN error */
    char *nod = it_strf("vrpcnodrv:///default?socket=%s/sys/run/libvirt-sock", it_dir());
    x = NULL;
    rc = vrpc_conn_open(&x, nod, 0, it_errp());
    /* libvirtd 7.0.0 hands a URI of a driver it does not have to its remote
     * driver, which fails to reach that driver's own daemon (VIR_ERR_SYSTEM_ERROR,
     * "Failed to connect socket to '.../virtvrpcnodrvd-sock'"); 9.0.0 and later
     * decline it (VIR_ERR_NO_CONNECT). Versions between are not tested. */
    int nodcode = it_daemon_before(9000000) ? VRPC_ERR_SYSTEM_ERROR : VRPC_ERR_NO_CONNECT;
    TAP_OK(rc == VRPC_E_REMOTE && x == NULL && it_err() && it_err()->code == nodcode &&
               (nodcode != VRPC_ERR_SYSTEM_ERROR ||
                (it_err()->message && strstr(it_err()->message, "virtvrpcnodrvd-sock"))),
           "open of an unknown driver: the daemon refuses (code %d expected): %s", nodcode,
           it_errstr(it_err()));
    py = it_py(py_open, nod, "rw", NULL);
    if (py) {
        /* conn.h: a daemon error is exactly what the daemon sent. */
        TAP_OK(it_err_matches_py(it_err(), py),
               "that error == libvirt-python's, field by field (same name sent in CONNECT_OPEN)");
    }
    free(py);
    vrpc_conn_close(x);
    free(nod);

    /* a string over REMOTE_STRING_MAX: refused before sending, connection intact */
    size_t n = 4194304 + 1;
    char *big = malloc(n + 1);
    vrpc_domain_lookup_by_name_ret *t = lookup("test");
    if (big && t) {
        memset(big, 'x', n);
        big[n] = '\0';
        vrpc_domain_set_metadata_args sa = {.dom = t->dom,
                                            .type = VRPC_DOMAIN_METADATA_DESCRIPTION,
                                            .metadata = big,
                                            .key = NULL,
                                            .uri = NULL,
                                            .flags = 0};
        rc = ITQ(vrpc_domain_set_metadata, c, &sa);
        TAP_OK(rc == VRPC_E_TOO_BIG, "a %zu-byte string is refused locally with VRPC_E_TOO_BIG: %d",
               n, rc);
        /* The non-blocking send says why too. */
        vrpc_domain_set_metadata_cookie ck = {.p = (vrpc_pending *)&ck};
        vrpc_error *se = NULL;
        rc = vrpc_domain_set_metadata_send(c, &sa, &ck, &se);
        TAP_OK(rc == VRPC_E_TOO_BIG && ck.p == NULL && se && se->message &&
                   strstr(se->message, "domain_set_metadata"),
               "its _send refuses it too, with the reason in the error: %s", it_errstr(se));
        vrpc_free(se);
        vrpc_connect_get_hostname_ret *h = NULL;
        TAP_OK(IT(vrpc_connect_get_hostname, c, &h) == 0 && vrpc_conn_get_status(c) == 0,
               "the connection still works after the refused call");
        vrpc_free(h);
        char *d = it_virsh_out(uri, "desc test");
        TAP_OK(d && strlen(d) < 1000, "virsh: the description of 'test' was not changed");
        free(d);
    }
    vrpc_free(t);
    free(big);
}

/* ---------------------------------------------------------------------- */

static void check_error_vs_python(int rc, const char *what, int code, const char *pyexpr)
{
    vrpc_error *e = it_err();
    TAP_OK(rc == VRPC_E_REMOTE && e && e->code == code, "%s: fails with code %d: %s", what, code,
           it_errstr(e));
    char *py = it_py_eval(uri, false, pyexpr);
    if (py)
        TAP_OK(it_err_matches_py(e, py),
               "%s: code, domain, level, message, str1-3, int1-2 == libvirt-python's", what);
    free(py);
}

static void test_errors(void)
{
    char *missing = it_unique("vrpc-it-nosuch");
    vrpc_domain_lookup_by_name_args na = {.name = missing};
    vrpc_domain_lookup_by_name_ret *nr = NULL;
    int rc = ITQ(vrpc_domain_lookup_by_name, c, &na, &nr);
    char *expr = it_strf("c.lookupByName('%s')", missing);
    check_error_vs_python(rc, "lookup of a missing domain by name", VRPC_ERR_NO_DOMAIN, expr);
    TAP_OK(it_err() && it_err()->domain == VRPC_FROM_TEST && it_err()->message &&
               strncmp(it_err()->message, "Domain not found", 16) == 0,
           "the error comes from the test driver (domain %d) saying 'Domain not found'",
           it_err() ? it_err()->domain : -1);
    free(expr);
    {
        it_cmd r;
        it_virsh_cmd(&r, uri, "domstate %s", missing);
        TAP_OK(r.status != 0, "virsh domstate %s fails too: %s", missing, it_oneline(r.err));
        it_cmd_free(&r);
    }
    vrpc_free(nr);

    vrpc_domain_lookup_by_id_args ia = {.id = 987654};
    vrpc_domain_lookup_by_id_ret *ir = NULL;
    rc = ITQ(vrpc_domain_lookup_by_id, c, &ia, &ir);
    check_error_vs_python(rc, "lookup of a missing domain by id", VRPC_ERR_NO_DOMAIN,
                          "c.lookupByID(987654)");
    vrpc_free(ir);

    vrpc_domain_lookup_by_uuid_args ua;
    it_uuid_parse("0badc0de-0000-4000-8000-00000000beef", ua.uuid);
    vrpc_domain_lookup_by_uuid_ret *ur = NULL;
    rc = ITQ(vrpc_domain_lookup_by_uuid, c, &ua, &ur);
    check_error_vs_python(rc, "lookup of a missing domain by uuid", VRPC_ERR_NO_DOMAIN,
                          "c.lookupByUUIDString('0badc0de-0000-4000-8000-00000000beef')");
    vrpc_free(ur);

    vrpc_domain_lookup_by_name_ret *t = lookup("test");
    if (t) {
        vrpc_domain_get_job_info_args ja = {.dom = t->dom};
        vrpc_domain_get_job_info_ret *jr = NULL;
        rc = ITQ(vrpc_domain_get_job_info, c, &ja, &jr);
        check_error_vs_python(rc, "domain_get_job_info (not in the test driver)",
                              VRPC_ERR_NO_SUPPORT, "c.lookupByName('test').jobInfo()");
        vrpc_free(jr);

        vrpc_domain_get_metadata_args ma = {
            .dom = t->dom, .type = VRPC_DOMAIN_METADATA_TITLE, .uri = NULL, .flags = 0};
        vrpc_domain_get_metadata_ret *mr = NULL;
        rc = ITQ(vrpc_domain_get_metadata, c, &ma, &mr);
        char *e2 = it_strf("c.lookupByName('test').metadata(%d, None)", VRPC_DOMAIN_METADATA_TITLE);
        check_error_vs_python(rc, "domain_get_metadata of an absent title",
                              VRPC_ERR_NO_DOMAIN_METADATA, e2);
        free(e2);
        vrpc_free(mr);
    }
    vrpc_free(t);

    /* malformed XML */
    const char *bad = "<domain type='test'><name>broken</name>";
    vrpc_domain_define_xml_args ba = {.xml = (char *)bad};
    vrpc_domain_define_xml_ret *br = NULL;
    rc = ITQ(vrpc_domain_define_xml, c, &ba, &br);
    check_error_vs_python(rc, "define of malformed XML", VRPC_ERR_XML_DETAIL,
                          "c.defineXML(\"<domain type='test'><name>broken</name>\")");
    vrpc_free(br);

    /* An unknown procedure number: the daemon answers VIR_ERR_RPC "unknown
     * procedure", which libvirt's client reports as VIR_ERR_NO_SUPPORT. */
    vrpc_proc bogus = vrpc_pd_connect_get_hostname;
    bogus.number = 0x7ffff0;
    bogus.ret = NULL;
    bogus.name = "bogus";
    bogus.xdr_name = "REMOTE_PROC_BOGUS";
    vrpc_error *e = NULL;
    void *ret = NULL;
    rc = vrpc_call(c, &bogus, NULL, &ret, &e);
    TAP_OK(rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT,
           "unknown procedure %d: code %d (NO_SUPPORT expected) domain %d message '%s'",
           bogus.number, e ? e->code : -1, e ? e->domain : -1,
           e && e->message ? e->message : "(null)");
    TAP_OK(e && e->message && strstr(e->message, "unknown procedure"),
           "the message is the daemon's 'unknown procedure: N'");
    vrpc_free(e);
    vrpc_free(ret);

    /* The connection is still fine after all of these. */
    vrpc_connect_get_hostname_ret *h = NULL;
    TAP_OK(IT(vrpc_connect_get_hostname, c, &h) == 0 && vrpc_conn_get_status(c) == 0,
           "the connection still works after the errors");
    vrpc_free(h);
    free(missing);
}

int main(void)
{
    if (!it_start("domains"))
        return 0;
    uri = it_sys_uri();
    it_open_or_exit(&c, uri);
    TAP_OK(vrpc_conn_get_status(c) == 0 && vrpc_conn_get_fd(c) >= 0, "connection is up");
    const char *sock = vrpc_conn_get_socket_path(c);
    char *expect_sock = it_strf("%s/sys/run/libvirt-sock", it_dir());
    TAP_OK(sock && strcmp(sock, expect_sock) == 0, "socket path %s", sock ? sock : "(null)");
    free(expect_sock);

    test_connect();
    test_lookup();
    test_info("test");
    test_xml("test");
    test_lifecycle();
    test_define_plain();
    test_transient();
    test_big_and_utf8();
    test_local_errors();
    /* listing with an extra inactive domain present */
    {
        char *name = it_unique("vrpc-it-listed");
        char *xml = dom_xml(name, 131072, 131072, 1);
        vrpc_domain_define_xml_args a = {.xml = xml};
        vrpc_domain_define_xml_ret *r = NULL;
        IT(vrpc_domain_define_xml, c, &a, &r);
        test_list();
        if (r) {
            vrpc_domain_undefine_args ua = {.dom = r->dom};
            IT(vrpc_domain_undefine, c, &ua);
        }
        vrpc_free(r);
        free(xml);
        free(name);
    }
    test_errors();

    vrpc_conn_close(c);
    it_finish();
    return tap_done();
}
