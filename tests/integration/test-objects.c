/* SPDX-License-Identifier: MIT */
/*
 * Integration: networks, storage pools and volumes (test driver and the real
 * storage driver), node devices, interfaces, snapshots, checkpoints, secrets
 * (real secret driver), each compared with virsh or libvirt-python on the
 * same daemon.
 */
#include "itest.h"
#include "ittap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static vrpc_conn *c;    /* test driver */
static vrpc_conn *cs;   /* storage driver, unprivileged daemon */
static vrpc_conn *csec; /* secret driver, unprivileged daemon */
static const char *uri;

/* Does the set of names `mine` equal the lines virsh printed? */
static bool same_names(const char *const *mine, size_t n, const char *virsh_lines)
{
    size_t nv;
    char **v = it_lines(virsh_lines, &nv);
    bool eq = nv == n;
    for (size_t i = 0; eq && i < n; i++)
        eq = it_strv_find(v, mine[i]) >= 0;
    if (!eq) {
        it_diag("virtrpc has %zu names, virsh %zu", n, nv);
        for (size_t i = 0; i < n; i++)
            it_diag("  virtrpc: %s", mine[i]);
        for (size_t i = 0; i < nv; i++)
            it_diag("  virsh:   %s", v[i]);
    }
    it_strv_free(v);
    return eq;
}

static bool name_listed(const char *virsh_lines, const char *name)
{
    char **v = it_lines(virsh_lines, NULL);
    bool found = it_strv_find(v, name) >= 0;
    it_strv_free(v);
    return found;
}

/* Remove <timestamps>...</timestamps> (volume XML: atime moves on its own). */
static char *strip_timestamps(const char *xml)
{
    char *s = it_strdup(xml);
    char *a = strstr(s, "<timestamps>");
    char *b = a ? strstr(a, "</timestamps>") : NULL;
    if (a && b) {
        b += strlen("</timestamps>");
        while (*b == '\n' || *b == ' ')
            b++;
        memmove(a, b, strlen(b) + 1);
    }
    return s;
}

/* ---------------------------------------------------------------------- */
/* Networks */

static void check_net_flags(const vrpc_nonnull_network *n, const char *what)
{
    vrpc_network_is_active_args aa = {.net = *n};
    vrpc_network_is_active_ret *ar = NULL;
    vrpc_network_is_persistent_args pa = {.net = *n};
    vrpc_network_is_persistent_ret *pr = NULL;
    vrpc_network_get_autostart_args ga = {.net = *n};
    vrpc_network_get_autostart_ret *gr = NULL;
    if (TAP_OK(IT(vrpc_network_is_active, c, &aa, &ar) == 0 &&
                   IT(vrpc_network_is_persistent, c, &pa, &pr) == 0 &&
                   IT(vrpc_network_get_autostart, c, &ga, &gr) == 0,
               "%s: network_is_active/is_persistent/get_autostart", what)) {
        char *ni = it_virsh_out(uri, "net-info %s", n->name);
        char *va = it_kv(ni, "Active"), *vp = it_kv(ni, "Persistent"), *vs = it_kv(ni, "Autostart");
        TAP_OK(va && vp && vs && strcmp(va, ar->active ? "yes" : "no") == 0 &&
                   strcmp(vp, pr->persistent ? "yes" : "no") == 0 &&
                   strcmp(vs, gr->autostart ? "yes" : "no") == 0,
               "%s: active %d persistent %d autostart %d == virsh net-info %s/%s/%s", what,
               ar->active, pr->persistent, gr->autostart, va ? va : "?", vp ? vp : "?",
               vs ? vs : "?");
        free(va);
        free(vp);
        free(vs);
        free(ni);
    }
    vrpc_free(ar);
    vrpc_free(pr);
    vrpc_free(gr);
}

static void test_networks(void)
{
    vrpc_connect_list_all_networks_args la = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_networks_ret *lr = NULL;
    if (TAP_OK(IT(vrpc_connect_list_all_networks, c, &la, &lr) == 0, "connect_list_all_networks")) {
        char *vs = it_virsh_out(uri, "net-list --all");
        it_rows rows;
        it_table(vs, 4, true, &rows);
        bool all = rows.n == lr->nets.n && lr->ret == lr->nets.n;
        for (uint32_t i = 0; i < lr->nets.n; i++) {
            vrpc_nonnull_network *n = &lr->nets.items[i];
            long row = it_rows_find(&rows, 0, n->name);
            vrpc_network_is_active_args aa = {.net = *n};
            vrpc_network_is_active_ret *ar = NULL;
            if (row < 0 || rows.ncols[row] != 4 || IT(vrpc_network_is_active, c, &aa, &ar) != 0 ||
                strcmp(rows.cols[row][1], ar->active ? "active" : "inactive") != 0)
                all = false;
            vrpc_free(ar);
        }
        TAP_OK(all, "%u networks (names, states) == virsh net-list --all (%zu rows)", lr->nets.n,
               rows.n);
        it_rows_free(&rows);
        free(vs);
    }
    vrpc_free(lr);

    vrpc_connect_num_of_networks_ret *nn = NULL;
    vrpc_connect_list_networks_ret *ln = NULL;
    if (TAP_OK(IT(vrpc_connect_num_of_networks, c, &nn) == 0, "connect_num_of_networks")) {
        vrpc_connect_list_networks_args a = {.maxnames = nn->num};
        if (TAP_OK(IT(vrpc_connect_list_networks, c, &a, &ln) == 0, "connect_list_networks")) {
            char *vs = it_virsh_out(uri, "net-list --name");
            TAP_OK((int)ln->names.n == nn->num && same_names(ln->names.items, ln->names.n, vs),
                   "%d active networks == virsh net-list --name", nn->num);
            free(vs);
        }
    }
    vrpc_free(nn);
    vrpc_free(ln);

    vrpc_network_lookup_by_name_args na = {.name = "default"};
    vrpc_network_lookup_by_name_ret *nr = NULL;
    if (!TAP_OK(IT(vrpc_network_lookup_by_name, c, &na, &nr) == 0,
                "network_lookup_by_name default (documented test:///default network)"))
        return;
    char us[37];
    it_uuid_fmt(nr->net.uuid, us);
    char *vu = it_virsh_out(uri, "net-uuid default");
    TAP_OK(vu && it_same_text(vu, us), "network uuid %s == virsh net-uuid", us);
    free(vu);
    vrpc_network_lookup_by_uuid_args ua;
    memcpy(ua.uuid, nr->net.uuid, 16);
    vrpc_network_lookup_by_uuid_ret *ur = NULL;
    TAP_OK(IT(vrpc_network_lookup_by_uuid, c, &ua, &ur) == 0 &&
               strcmp(ur->net.name, "default") == 0,
           "network_lookup_by_uuid gives 'default'");
    vrpc_free(ur);

    vrpc_network_get_xml_desc_args xa = {.net = nr->net, .flags = 0};
    vrpc_network_get_xml_desc_ret *xr = NULL;
    if (TAP_OK(IT(vrpc_network_get_xml_desc, c, &xa, &xr) == 0, "network_get_xml_desc")) {
        char *vs = it_virsh_out(uri, "net-dumpxml default");
        TAP_OK(vs && it_same_text(vs, xr->xml), "network XML == virsh net-dumpxml");
        free(vs);
    }
    vrpc_free(xr);
    vrpc_network_get_bridge_name_args ba = {.net = nr->net};
    vrpc_network_get_bridge_name_ret *br = NULL;
    if (TAP_OK(IT(vrpc_network_get_bridge_name, c, &ba, &br) == 0, "network_get_bridge_name")) {
        char *ni = it_virsh_out(uri, "net-info default");
        char *v = it_kv(ni, "Bridge");
        TAP_OK(v && strcmp(v, br->name) == 0, "bridge '%s' == virsh net-info '%s'", br->name,
               v ? v : "?");
        free(v);
        free(ni);
    }
    vrpc_free(br);
    check_net_flags(&nr->net, "default");

    /* DHCP leases are not in the test driver: the error as python sees it. */
    vrpc_network_get_dhcp_leases_args dla = {
        .net = nr->net, .mac = NULL, .need_results = 1, .flags = 0};
    vrpc_network_get_dhcp_leases_ret *dlr = NULL;
    int rc = ITQ(vrpc_network_get_dhcp_leases, c, &dla, &dlr);
    char *py = it_py_eval(uri, false, "c.networkLookupByName('default').DHCPLeases()");
    if (rc == 0) {
        char *pv = it_pyval(py, "ok");
        TAP_OK(pv && strcmp(pv, "1") == 0, "network_get_dhcp_leases works like python (%u leases)",
               dlr->leases.n);
        free(pv);
    } else {
        TAP_OK(rc == VRPC_E_REMOTE && (!py || it_err_matches_py(it_err(), py)),
               "network_get_dhcp_leases error == python's: %s", it_errstr(it_err()));
    }
    free(py);
    vrpc_free(dlr);
    vrpc_free(nr);

    /* define / create / autostart / destroy / undefine */
    char *name = it_unique("vrpc-it-net");
    static int k;
    char *xml = it_strf("<network>\n"
                        "  <name>%s</name>\n"
                        "  <bridge name='vrpcbr%d%d'/>\n"
                        "  <ip address='192.168.%d.1' netmask='255.255.255.0'/>\n"
                        "</network>\n",
                        name, (int)(getpid() % 1000), ++k, 200 + (int)(getpid() % 50));
    vrpc_network_define_xml_args da = {.xml = xml};
    vrpc_network_define_xml_ret *dr = NULL;
    if (TAP_OK(IT(vrpc_network_define_xml, c, &da, &dr) == 0, "network_define_xml %s", name)) {
        char *vs = it_virsh_out(uri, "net-list --inactive --name");
        TAP_OK(name_listed(vs, name), "virsh net-list --inactive shows %s", name);
        free(vs);
        vrpc_network_create_args ca = {.net = dr->net};
        if (TAP_OK(IT(vrpc_network_create, c, &ca) == 0, "network_create %s", name))
            check_net_flags(&dr->net, "after network_create");
        vrpc_network_set_autostart_args sa = {.net = dr->net, .autostart = 1};
        if (TAP_OK(IT(vrpc_network_set_autostart, c, &sa) == 0, "network_set_autostart 1"))
            check_net_flags(&dr->net, "after network_set_autostart");
        sa.autostart = 0;
        IT(vrpc_network_set_autostart, c, &sa);
        vrpc_network_destroy_args xa2 = {.net = dr->net};
        if (TAP_OK(IT(vrpc_network_destroy, c, &xa2) == 0, "network_destroy %s", name))
            check_net_flags(&dr->net, "after network_destroy");
        vrpc_network_undefine_args ua2 = {.net = dr->net};
        if (TAP_OK(IT(vrpc_network_undefine, c, &ua2) == 0, "network_undefine %s", name)) {
            vs = it_virsh_out(uri, "net-list --all --name");
            TAP_OK(!name_listed(vs, name), "virsh net-list --all no longer shows %s", name);
            free(vs);
        }
    }
    vrpc_free(dr);

    vrpc_network_create_xml_args cxa = {.xml = xml};
    vrpc_network_create_xml_ret *cxr = NULL;
    if (TAP_OK(IT(vrpc_network_create_xml, c, &cxa, &cxr) == 0, "network_create_xml (transient)")) {
        check_net_flags(&cxr->net, "transient network");
        vrpc_network_destroy_args xa2 = {.net = cxr->net};
        if (TAP_OK(IT(vrpc_network_destroy, c, &xa2) == 0, "network_destroy transient")) {
            char *vs = it_virsh_out(uri, "net-list --all --name");
            TAP_OK(!name_listed(vs, name), "a destroyed transient network is gone for virsh");
            free(vs);
        }
    }
    vrpc_free(cxr);
    free(xml);
    free(name);
}

/* ---------------------------------------------------------------------- */
/* Storage */

static const char *pool_state_name(int st)
{
    switch (st) {
    case VRPC_STORAGE_POOL_INACTIVE:
        return "inactive";
    case VRPC_STORAGE_POOL_BUILDING:
        return "building";
    case VRPC_STORAGE_POOL_RUNNING:
        return "running";
    case VRPC_STORAGE_POOL_DEGRADED:
        return "degraded";
    case VRPC_STORAGE_POOL_INACCESSIBLE:
        return "inaccessible";
    default:
        return "?";
    }
}

static const char *vol_type_name(int t)
{
    switch (t) {
    case VRPC_STORAGE_VOL_FILE:
        return "file";
    case VRPC_STORAGE_VOL_BLOCK:
        return "block";
    case VRPC_STORAGE_VOL_DIR:
        return "dir";
    case VRPC_STORAGE_VOL_NETWORK:
        return "network";
    case VRPC_STORAGE_VOL_NETDIR:
        return "netdir";
    case VRPC_STORAGE_VOL_PLOOP:
        return "ploop";
    default:
        return "?";
    }
}

/* pool get_info + flags vs virsh pool-info --bytes */
static void check_pool(vrpc_conn *cc, const char *curi, const vrpc_nonnull_storage_pool *p,
                       const char *what)
{
    vrpc_storage_pool_get_info_args ia = {.pool = *p};
    vrpc_storage_pool_get_info_ret *ir = NULL;
    vrpc_storage_pool_get_autostart_args aa = {.pool = *p};
    vrpc_storage_pool_get_autostart_ret *ar = NULL;
    vrpc_storage_pool_is_persistent_args pa = {.pool = *p};
    vrpc_storage_pool_is_persistent_ret *pr = NULL;
    vrpc_storage_pool_is_active_args xa = {.pool = *p};
    vrpc_storage_pool_is_active_ret *xr = NULL;
    if (TAP_OK(IT(vrpc_storage_pool_get_info, cc, &ia, &ir) == 0 &&
                   IT(vrpc_storage_pool_get_autostart, cc, &aa, &ar) == 0 &&
                   IT(vrpc_storage_pool_is_persistent, cc, &pa, &pr) == 0 &&
                   IT(vrpc_storage_pool_is_active, cc, &xa, &xr) == 0,
               "%s: storage_pool_get_info/get_autostart/is_persistent/is_active", what)) {
        char *pi = it_virsh_out(curi, "pool-info --bytes %s", p->name);
        char *st = it_kv(pi, "State"), *cap = it_kv(pi, "Capacity"), *al = it_kv(pi, "Allocation"),
             *av = it_kv(pi, "Available"), *ps = it_kv(pi, "Persistent"),
             *as = it_kv(pi, "Autostart"), *uu = it_kv(pi, "UUID");
        char us[37];
        it_uuid_fmt(p->uuid, us);
        bool active = ir->state == VRPC_STORAGE_POOL_RUNNING;
        uint64_t a = 0, b = 0, d = 0;
        TAP_OK(
            st && strcmp(st, pool_state_name(ir->state)) == 0 && uu && strcmp(uu, us) == 0 && ps &&
                strcmp(ps, pr->persistent ? "yes" : "no") == 0 && as &&
                strcmp(as, ar->autostart ? "yes" : "no") == 0 && (xr->active != 0) == active,
            "%s: state %s uuid %s persistent %d autostart %d == virsh pool-info (%s, %s, %s, %s)",
            what, pool_state_name(ir->state), us, pr->persistent, ar->autostart, st ? st : "?",
            uu ? uu : "?", ps ? ps : "?", as ? as : "?");
        if (active)
            TAP_OK(it_u64(cap, &a) && it_u64(al, &b) && it_u64(av, &d) && a == ir->capacity &&
                       b == ir->allocation && d == ir->available,
                   "%s: capacity/allocation/available %" PRIu64 "/%" PRIu64 "/%" PRIu64
                   " == virsh %s/%s/%s",
                   what, ir->capacity, ir->allocation, ir->available, cap ? cap : "?",
                   al ? al : "?", av ? av : "?");
        free(st);
        free(cap);
        free(al);
        free(av);
        free(ps);
        free(as);
        free(uu);
        free(pi);
    }
    vrpc_free(ir);
    vrpc_free(ar);
    vrpc_free(pr);
    vrpc_free(xr);
}

static void check_vol(vrpc_conn *cc, const char *curi, const vrpc_nonnull_storage_vol *v,
                      const char *what)
{
    vrpc_storage_vol_get_info_args ia = {.vol = *v};
    vrpc_storage_vol_get_info_ret *ir = NULL;
    if (TAP_OK(IT(vrpc_storage_vol_get_info, cc, &ia, &ir) == 0, "%s: storage_vol_get_info",
               what)) {
        char *vi = it_virsh_out(curi, "vol-info --bytes %s --pool %s", v->name, v->pool);
        char *ty = it_kv(vi, "Type"), *cap = it_kv(vi, "Capacity"), *al = it_kv(vi, "Allocation");
        uint64_t a = 0, b = 0;
        /* "Capacity:       10485760 bytes" */
        if (cap && strstr(cap, " bytes"))
            *strstr(cap, " bytes") = '\0';
        if (al && strstr(al, " bytes"))
            *strstr(al, " bytes") = '\0';
        TAP_OK(ty && strcmp(ty, vol_type_name(ir->type)) == 0 && it_u64(cap, &a) &&
                   it_u64(al, &b) && a == ir->capacity && b == ir->allocation,
               "%s: type %s capacity %" PRIu64 " allocation %" PRIu64
               " == virsh vol-info (%s, %s, %s)",
               what, vol_type_name(ir->type), ir->capacity, ir->allocation, ty ? ty : "?",
               cap ? cap : "?", al ? al : "?");
        free(ty);
        free(cap);
        free(al);
        free(vi);
    }
    vrpc_free(ir);

    /* get_info_flags: not every driver has it; the outcome must be python's */
    vrpc_storage_vol_get_info_flags_args fa = {.vol = *v, .flags = 0};
    vrpc_storage_vol_get_info_flags_ret *fr = NULL;
    int rc = ITQ(vrpc_storage_vol_get_info_flags, cc, &fa, &fr);
    char *expr = it_strf("c.storageVolLookupByKey('%s').infoFlags(0)", v->key);
    char *py = it_py_eval(curi, false, expr);
    if (rc == 0) {
        char *pv = it_pyval(py, "ret");
        char *mine =
            it_strf("[%d, %" PRIu64 ", %" PRIu64 "]", fr->type, fr->capacity, fr->allocation);
        TAP_OK(!py || (pv && strcmp(pv, mine) == 0),
               "%s: storage_vol_get_info_flags %s == python %s", what, mine, pv ? pv : "(n/a)");
        free(mine);
        free(pv);
    } else {
        TAP_OK(rc == VRPC_E_REMOTE && (!py || it_err_matches_py(it_err(), py)),
               "%s: storage_vol_get_info_flags fails exactly like python: %s", what,
               it_errstr(it_err()));
    }
    free(py);
    free(expr);
    vrpc_free(fr);

    vrpc_storage_vol_get_path_args pa = {.vol = *v};
    vrpc_storage_vol_get_path_ret *pr = NULL;
    if (TAP_OK(IT(vrpc_storage_vol_get_path, cc, &pa, &pr) == 0, "%s: storage_vol_get_path",
               what)) {
        char *vp = it_virsh_out(curi, "vol-path %s --pool %s", v->name, v->pool);
        TAP_OK(vp && it_same_text(vp, pr->name), "%s: path '%s' == virsh vol-path", what, pr->name);
        free(vp);
        char *vk = it_virsh_out(curi, "vol-key %s --pool %s", v->name, v->pool);
        TAP_OK(vk && it_same_text(vk, v->key), "%s: key '%s' == virsh vol-key", what, v->key);
        free(vk);

        vrpc_storage_vol_lookup_by_path_args la = {.path = pr->name};
        vrpc_storage_vol_lookup_by_path_ret *lr = NULL;
        TAP_OK(IT(vrpc_storage_vol_lookup_by_path, cc, &la, &lr) == 0 &&
                   strcmp(lr->vol.name, v->name) == 0 && strcmp(lr->vol.pool, v->pool) == 0,
               "%s: storage_vol_lookup_by_path finds it", what);
        vrpc_free(lr);
    }
    vrpc_free(pr);

    vrpc_storage_vol_lookup_by_key_args ka = {.key = v->key};
    vrpc_storage_vol_lookup_by_key_ret *kr = NULL;
    TAP_OK(IT(vrpc_storage_vol_lookup_by_key, cc, &ka, &kr) == 0 &&
               strcmp(kr->vol.name, v->name) == 0,
           "%s: storage_vol_lookup_by_key finds it", what);
    vrpc_free(kr);

    vrpc_storage_vol_get_xml_desc_args xa = {.vol = *v, .flags = 0};
    vrpc_storage_vol_get_xml_desc_ret *xr = NULL;
    if (TAP_OK(IT(vrpc_storage_vol_get_xml_desc, cc, &xa, &xr) == 0, "%s: storage_vol_get_xml_desc",
               what)) {
        char *vx = it_virsh_out(curi, "vol-dumpxml %s --pool %s", v->name, v->pool);
        char *a = strip_timestamps(xr->xml), *b = vx ? strip_timestamps(vx) : NULL;
        TAP_OK(b && it_same_text(a, b), "%s: volume XML == virsh vol-dumpxml (timestamps aside)",
               what);
        free(a);
        free(b);
        free(vx);
    }
    vrpc_free(xr);
}

/* The volume listing procedures vs virsh vol-list --details. */
static void check_vol_list(vrpc_conn *cc, const char *curi, const vrpc_nonnull_storage_pool *p)
{
    vrpc_storage_pool_list_all_volumes_args la = {.pool = *p, .need_results = 1, .flags = 0};
    vrpc_storage_pool_list_all_volumes_ret *lr = NULL;
    if (TAP_OK(IT(vrpc_storage_pool_list_all_volumes, cc, &la, &lr) == 0,
               "%s: storage_pool_list_all_volumes", p->name)) {
        char *vs = it_virsh_out(curi, "vol-list %s --details", p->name);
        it_rows rows;
        it_table(vs, 5, true, &rows);
        bool all = rows.n == lr->vols.n && lr->ret == lr->vols.n;
        for (uint32_t i = 0; i < lr->vols.n; i++) {
            long row = it_rows_find(&rows, 0, lr->vols.items[i].name);
            /* path column == the key for file volumes */
            if (row < 0 || rows.ncols[row] < 2 ||
                strcmp(rows.cols[row][1], lr->vols.items[i].key) != 0)
                all = false;
        }
        TAP_OK(all, "%s: %u volumes (names, paths) == virsh vol-list --details (%zu)", p->name,
               lr->vols.n, rows.n);
        it_rows_free(&rows);
        free(vs);
    }
    vrpc_free(lr);

    vrpc_storage_pool_num_of_volumes_args na = {.pool = *p};
    vrpc_storage_pool_num_of_volumes_ret *nr = NULL;
    if (TAP_OK(IT(vrpc_storage_pool_num_of_volumes, cc, &na, &nr) == 0,
               "%s: storage_pool_num_of_volumes", p->name)) {
        vrpc_storage_pool_list_volumes_args va = {.pool = *p, .maxnames = nr->num};
        vrpc_storage_pool_list_volumes_ret *vr = NULL;
        if (TAP_OK(IT(vrpc_storage_pool_list_volumes, cc, &va, &vr) == 0,
                   "%s: storage_pool_list_volumes", p->name)) {
            char *vs = it_virsh_out(curi, "vol-list %s --details", p->name);
            it_rows rows;
            it_table(vs, 5, true, &rows);
            char **names = calloc(rows.n + 1, sizeof(char *));
            size_t nn = 0;
            for (size_t i = 0; names && i < rows.n; i++)
                names[nn++] = rows.cols[i][0];
            char *joined = it_strdup("");
            for (size_t i = 0; i < nn; i++) {
                char *j2 = it_strf("%s%s\n", joined, names[i]);
                free(joined);
                joined = j2;
            }
            TAP_OK((int)vr->names.n == nr->num && same_names(vr->names.items, vr->names.n, joined),
                   "%s: %d volume names == virsh vol-list", p->name, nr->num);
            free(joined);
            free(names);
            it_rows_free(&rows);
            free(vs);
        }
        vrpc_free(vr);
    }
    vrpc_free(nr);
}

static void test_pools_listing(vrpc_conn *cc, const char *curi, const char *what)
{
    vrpc_connect_list_all_storage_pools_args la = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_storage_pools_ret *lr = NULL;
    if (TAP_OK(IT(vrpc_connect_list_all_storage_pools, cc, &la, &lr) == 0,
               "%s: connect_list_all_storage_pools", what)) {
        char *vs = it_virsh_out(curi, "pool-list --all");
        it_rows rows;
        it_table(vs, 3, true, &rows);
        bool all = rows.n == lr->pools.n && lr->ret == lr->pools.n;
        for (uint32_t i = 0; i < lr->pools.n; i++) {
            long row = it_rows_find(&rows, 0, lr->pools.items[i].name);
            vrpc_storage_pool_get_info_args ia = {.pool = lr->pools.items[i]};
            vrpc_storage_pool_get_info_ret *ir = NULL;
            if (row < 0 || rows.ncols[row] < 2 ||
                IT(vrpc_storage_pool_get_info, cc, &ia, &ir) != 0 ||
                strcmp(rows.cols[row][1],
                       ir->state == VRPC_STORAGE_POOL_RUNNING ? "active" : "inactive") != 0)
                all = false;
            vrpc_free(ir);
        }
        TAP_OK(all, "%s: %u pools (names, states) == virsh pool-list --all (%zu)", what,
               lr->pools.n, rows.n);
        it_rows_free(&rows);
        free(vs);
    }
    vrpc_free(lr);

    vrpc_connect_num_of_storage_pools_ret *nr = NULL;
    if (TAP_OK(IT(vrpc_connect_num_of_storage_pools, cc, &nr) == 0,
               "%s: connect_num_of_storage_pools", what)) {
        vrpc_connect_list_storage_pools_args a = {.maxnames = nr->num};
        vrpc_connect_list_storage_pools_ret *r = NULL;
        if (TAP_OK(IT(vrpc_connect_list_storage_pools, cc, &a, &r) == 0,
                   "%s: connect_list_storage_pools", what)) {
            char *vs = it_virsh_out(curi, "pool-list --name");
            TAP_OK((int)r->names.n == nr->num && same_names(r->names.items, r->names.n, vs),
                   "%s: %d active pools == virsh pool-list --name", what, nr->num);
            free(vs);
        }
        vrpc_free(r);
    }
    vrpc_free(nr);
}

/* A whole pool life on one connection: define, build, create, volumes, tear down. */
static void pool_lifecycle(vrpc_conn *cc, const char *curi, const char *what, const char *dirbase,
                           bool real)
{
    char *name = it_unique("vrpc-it-pool");
    char *path = it_strf("%s/%s", dirbase, name);
    char *xml = it_strf("<pool type='dir'>\n"
                        "  <name>%s</name>\n"
                        "  <target>\n"
                        "    <path>%s</path>\n"
                        "  </target>\n"
                        "</pool>\n",
                        name, path);
    vrpc_storage_pool_define_xml_args da = {.xml = xml, .flags = 0};
    vrpc_storage_pool_define_xml_ret *dr = NULL;
    if (!TAP_OK(IT(vrpc_storage_pool_define_xml, cc, &da, &dr) == 0,
                "%s: storage_pool_define_xml %s", what, name))
        goto out;
    vrpc_nonnull_storage_pool p = dr->pool;
    check_pool(cc, curi, &p, "defined pool");

    vrpc_storage_pool_lookup_by_name_args lna = {.name = name};
    vrpc_storage_pool_lookup_by_name_ret *lnr = NULL;
    TAP_OK(IT(vrpc_storage_pool_lookup_by_name, cc, &lna, &lnr) == 0 &&
               memcmp(lnr->pool.uuid, p.uuid, 16) == 0,
           "%s: storage_pool_lookup_by_name", what);
    vrpc_free(lnr);
    vrpc_storage_pool_lookup_by_uuid_args lua;
    memcpy(lua.uuid, p.uuid, 16);
    vrpc_storage_pool_lookup_by_uuid_ret *lur = NULL;
    TAP_OK(IT(vrpc_storage_pool_lookup_by_uuid, cc, &lua, &lur) == 0 &&
               strcmp(lur->pool.name, name) == 0,
           "%s: storage_pool_lookup_by_uuid", what);
    vrpc_free(lur);

    vrpc_storage_pool_build_args ba = {.pool = p, .flags = 0};
    if (TAP_OK(IT(vrpc_storage_pool_build, cc, &ba) == 0, "%s: storage_pool_build", what) && real) {
        struct stat st;
        TAP_OK(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "%s: the build made the directory",
               what);
    }
    vrpc_storage_pool_create_args ca = {.pool = p, .flags = 0};
    if (TAP_OK(IT(vrpc_storage_pool_create, cc, &ca) == 0, "%s: storage_pool_create", what))
        check_pool(cc, curi, &p, "started pool");
    vrpc_storage_pool_set_autostart_args sa = {.pool = p, .autostart = 1};
    if (TAP_OK(IT(vrpc_storage_pool_set_autostart, cc, &sa) == 0,
               "%s: storage_pool_set_autostart 1", what))
        check_pool(cc, curi, &p, "autostarted pool");
    sa.autostart = 0;
    IT(vrpc_storage_pool_set_autostart, cc, &sa);

    vrpc_storage_pool_get_xml_desc_args xa = {.pool = p, .flags = 0};
    vrpc_storage_pool_get_xml_desc_ret *xr = NULL;
    if (TAP_OK(IT(vrpc_storage_pool_get_xml_desc, cc, &xa, &xr) == 0,
               "%s: storage_pool_get_xml_desc", what)) {
        char *vx = it_virsh_out(curi, "pool-dumpxml %s", name);
        TAP_OK(vx && it_same_text(vx, xr->xml), "%s: pool XML == virsh pool-dumpxml", what);
        free(vx);
    }
    vrpc_free(xr);

    /* a volume */
    char *vxml = it_strf("<volume>\n"
                         "  <name>v1</name>\n"
                         "  <capacity unit='bytes'>%d</capacity>\n"
                         "  <target><format type='raw'/></target>\n"
                         "</volume>\n",
                         4 << 20);
    vrpc_storage_vol_create_xml_args va = {.pool = p, .xml = vxml, .flags = 0};
    vrpc_storage_vol_create_xml_ret *vr = NULL;
    if (TAP_OK(IT(vrpc_storage_vol_create_xml, cc, &va, &vr) == 0,
               "%s: storage_vol_create_xml v1 (4 MiB)", what)) {
        check_vol(cc, curi, &vr->vol, "v1");
        vrpc_storage_vol_lookup_by_name_args vla = {.pool = p, .name = "v1"};
        vrpc_storage_vol_lookup_by_name_ret *vlr = NULL;
        TAP_OK(IT(vrpc_storage_vol_lookup_by_name, cc, &vla, &vlr) == 0 &&
                   strcmp(vlr->vol.key, vr->vol.key) == 0,
               "%s: storage_vol_lookup_by_name v1", what);
        vrpc_free(vlr);
        vrpc_storage_pool_lookup_by_volume_args pla = {.vol = vr->vol};
        vrpc_storage_pool_lookup_by_volume_ret *plr = NULL;
        TAP_OK(IT(vrpc_storage_pool_lookup_by_volume, cc, &pla, &plr) == 0 &&
                   strcmp(plr->pool.name, name) == 0,
               "%s: storage_pool_lookup_by_volume gives %s", what, name);
        vrpc_free(plr);

        if (real) {
            /* clone, resize, wipe: only the real driver does these */
            char *cxml = it_strf("<volume>\n"
                                 "  <name>v1-clone</name>\n"
                                 "  <capacity unit='bytes'>%d</capacity>\n"
                                 "  <target><format type='raw'/></target>\n"
                                 "</volume>\n",
                                 4 << 20);
            vrpc_storage_vol_create_xml_from_args fa = {
                .pool = p, .xml = cxml, .clonevol = vr->vol, .flags = 0};
            vrpc_storage_vol_create_xml_from_ret *fr = NULL;
            if (TAP_OK(IT(vrpc_storage_vol_create_xml_from, cc, &fa, &fr) == 0,
                       "%s: storage_vol_create_xml_from (clone of v1)", what)) {
                check_vol(cc, curi, &fr->vol, "v1-clone");
                vrpc_storage_vol_wipe_args wa = {.vol = fr->vol, .flags = 0};
                TAP_OK(IT(vrpc_storage_vol_wipe, cc, &wa) == 0, "%s: storage_vol_wipe v1-clone",
                       what);
            }
            vrpc_free(fr);
            free(cxml);

            vrpc_storage_vol_resize_args ra = {.vol = vr->vol, .capacity = 8 << 20, .flags = 0};
            if (TAP_OK(IT(vrpc_storage_vol_resize, cc, &ra) == 0,
                       "%s: storage_vol_resize v1 to 8 MiB", what)) {
                char *vi = it_virsh_out(curi, "vol-info --bytes v1 --pool %s", name);
                char *cap = it_kv(vi, "Capacity");
                TAP_OK(cap && strtoull(cap, NULL, 10) == 8u << 20,
                       "%s: virsh vol-info capacity after resize '%s'", what, cap ? cap : "?");
                free(cap);
                free(vi);
            }
            struct stat st;
            char *file = it_strf("%s/v1", path);
            TAP_OK(stat(file, &st) == 0 && st.st_size == 8 << 20,
                   "%s: the volume file is 8 MiB on disk", what);
            free(file);
        }

        vrpc_storage_pool_refresh_args rfa = {.pool = p, .flags = 0};
        TAP_OK(IT(vrpc_storage_pool_refresh, cc, &rfa) == 0, "%s: storage_pool_refresh", what);
        check_vol_list(cc, curi, &p);
        check_pool(cc, curi, &p, "pool with volumes");

        /* delete every volume */
        vrpc_storage_pool_list_all_volumes_args la = {.pool = p, .need_results = 1, .flags = 0};
        vrpc_storage_pool_list_all_volumes_ret *lr = NULL;
        if (IT(vrpc_storage_pool_list_all_volumes, cc, &la, &lr) == 0) {
            bool ok = true;
            for (uint32_t i = 0; i < lr->vols.n; i++) {
                vrpc_storage_vol_delete_args dla = {.vol = lr->vols.items[i], .flags = 0};
                ok &= IT(vrpc_storage_vol_delete, cc, &dla) == 0;
            }
            char *vs = it_virsh_out(curi, "vol-list %s", name);
            it_rows rows;
            it_table(vs, 2, true, &rows);
            TAP_OK(ok && rows.n == 0, "%s: storage_vol_delete of %u volumes; virsh lists %zu", what,
                   lr->vols.n, rows.n);
            it_rows_free(&rows);
            free(vs);
        }
        vrpc_free(lr);
    }
    vrpc_free(vr);
    free(vxml);

    vrpc_storage_pool_destroy_args dsa = {.pool = p};
    if (TAP_OK(IT(vrpc_storage_pool_destroy, cc, &dsa) == 0, "%s: storage_pool_destroy", what))
        check_pool(cc, curi, &p, "destroyed pool");
    if (real) {
        vrpc_storage_pool_delete_args dla = {.pool = p, .flags = 0};
        if (TAP_OK(IT(vrpc_storage_pool_delete, cc, &dla) == 0, "%s: storage_pool_delete", what))
            TAP_OK(access(path, F_OK) != 0, "%s: the pool directory is gone", what);
    }
    vrpc_storage_pool_undefine_args ua = {.pool = p};
    if (TAP_OK(IT(vrpc_storage_pool_undefine, cc, &ua) == 0, "%s: storage_pool_undefine", what)) {
        char *vs = it_virsh_out(curi, "pool-list --all --name");
        TAP_OK(vs && !name_listed(vs, name), "%s: virsh pool-list --all no longer shows %s", what,
               name);
        free(vs);
    }
    vrpc_free(dr);
out:
    free(xml);
    free(path);
    free(name);
}

static void test_storage(void)
{
    /* the test driver's pool */
    test_pools_listing(c, uri, "test driver");
    vrpc_storage_pool_lookup_by_name_args la = {.name = "default-pool"};
    vrpc_storage_pool_lookup_by_name_ret *lr = NULL;
    if (TAP_OK(IT(vrpc_storage_pool_lookup_by_name, c, &la, &lr) == 0,
               "storage_pool_lookup_by_name default-pool (documented test:///default pool)")) {
        check_pool(c, uri, &lr->pool, "default-pool");
        vrpc_storage_pool_get_xml_desc_args xa = {.pool = lr->pool, .flags = 0};
        vrpc_storage_pool_get_xml_desc_ret *xr = NULL;
        if (IT(vrpc_storage_pool_get_xml_desc, c, &xa, &xr) == 0) {
            char *vx = it_virsh_out(uri, "pool-dumpxml default-pool");
            TAP_OK(vx && it_same_text(vx, xr->xml), "default-pool XML == virsh pool-dumpxml");
            free(vx);
        }
        vrpc_free(xr);
        check_vol_list(c, uri, &lr->pool);
    }
    vrpc_free(lr);
    pool_lifecycle(c, uri, "test driver", "/vrpc-it", false);

    /* the real storage driver */
    if (!cs) {
        tap_skip("no connection to the storage driver");
        return;
    }
    test_pools_listing(cs, it_storage_uri(), "storage driver");
    char *base = it_strf("%s/user/pool", it_dir());
    pool_lifecycle(cs, it_storage_uri(), "storage driver", base, true);
    free(base);
}

/* ---------------------------------------------------------------------- */
/* Node devices (test driver), compared with python: virsh 9.0.0's
 * nodedev-list asks for flags the test driver rejects. */

static void test_nodedevs(void)
{
    char *py = it_py(IT_PY_PRELUDE
                     "print('all=%s' % ','.join(sorted(d.name() for d in c.listAllDevices(0))))\n"
                     "print('list=%s' % ','.join(c.listDevices(None, 0)))\n"
                     "print('num=%d' % c.numOfDevices(None, 0))\n"
                     "for n in c.listDevices(None, 0):\n"
                     "    d = c.nodeDeviceLookupByName(n)\n"
                     "    print('caps.%s=%s' % (n, ','.join(d.listCaps())))\n"
                     "    print('ncaps.%s=%d' % (n, d.numOfCaps()))\n"
                     "    print('parent.%s=%s' % (n, d.parent()))\n",
                     uri, "rw", NULL);
    vrpc_connect_list_all_node_devices_args la = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_node_devices_ret *lr = NULL;
    if (TAP_OK(IT(vrpc_connect_list_all_node_devices, c, &la, &lr) == 0,
               "connect_list_all_node_devices")) {
        /* sort our names the same way */
        size_t n = lr->devices.n;
        const char **names = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; names && i < n; i++)
            names[i] = lr->devices.items[i].name;
        for (size_t i = 0; names && i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (strcmp(names[j], names[i]) < 0) {
                    const char *t = names[i];
                    names[i] = names[j];
                    names[j] = t;
                }
        char *joined = it_strdup("");
        for (size_t i = 0; names && i < n; i++) {
            char *j2 = it_strf("%s%s%s", joined, i ? "," : "", names[i]);
            free(joined);
            joined = j2;
        }
        char *pv = it_pyval(py, "all");
        TAP_OK(n > 0 && lr->ret == n && (!py || (pv && strcmp(pv, joined) == 0)),
               "%zu node devices '%s' == python '%s'", n, joined, pv ? pv : "(n/a)");
        free(pv);
        free(joined);
        free(names);
    }
    vrpc_free(lr);

    vrpc_node_num_of_devices_args na = {.cap = NULL, .flags = 0};
    vrpc_node_num_of_devices_ret *nr = NULL;
    vrpc_node_list_devices_ret *ldr = NULL;
    if (TAP_OK(IT(vrpc_node_num_of_devices, c, &na, &nr) == 0, "node_num_of_devices")) {
        vrpc_node_list_devices_args lda = {.cap = NULL, .maxnames = nr->num, .flags = 0};
        if (TAP_OK(IT(vrpc_node_list_devices, c, &lda, &ldr) == 0, "node_list_devices")) {
            char *joined = it_strdup("");
            for (uint32_t i = 0; i < ldr->names.n; i++) {
                char *j2 = it_strf("%s%s%s", joined, i ? "," : "", ldr->names.items[i]);
                free(joined);
                joined = j2;
            }
            char *pv = it_pyval(py, "list"), *pn = it_pyval(py, "num");
            char *mn = it_strf("%d", nr->num);
            TAP_OK(!py || (pv && pn && strcmp(pv, joined) == 0 && strcmp(pn, mn) == 0),
                   "num %d, names '%s' == python %s '%s'", nr->num, joined, pn ? pn : "-",
                   pv ? pv : "(n/a)");
            free(mn);
            free(pn);
            free(pv);
            free(joined);
        }
    }
    vrpc_free(nr);

    for (uint32_t i = 0; ldr && i < ldr->names.n; i++) {
        const char *dn = ldr->names.items[i];
        vrpc_node_device_lookup_by_name_args a = {.name = (char *)dn};
        vrpc_node_device_lookup_by_name_ret *r = NULL;
        TAP_OK(IT(vrpc_node_device_lookup_by_name, c, &a, &r) == 0 && strcmp(r->dev.name, dn) == 0,
               "node_device_lookup_by_name %s", dn);
        vrpc_free(r);

        vrpc_node_device_get_xml_desc_args xa = {.name = (char *)dn, .flags = 0};
        vrpc_node_device_get_xml_desc_ret *xr = NULL;
        if (TAP_OK(IT(vrpc_node_device_get_xml_desc, c, &xa, &xr) == 0,
                   "node_device_get_xml_desc %s", dn)) {
            char *vx = it_virsh_out(uri, "nodedev-dumpxml %s", dn);
            TAP_OK(vx && it_same_text(vx, xr->xml), "%s: XML == virsh nodedev-dumpxml", dn);
            free(vx);
        }
        vrpc_free(xr);

        vrpc_node_device_num_of_caps_args nca = {.name = (char *)dn};
        vrpc_node_device_num_of_caps_ret *ncr = NULL;
        vrpc_node_device_list_caps_ret *lcr = NULL;
        if (TAP_OK(IT(vrpc_node_device_num_of_caps, c, &nca, &ncr) == 0,
                   "node_device_num_of_caps %s", dn)) {
            vrpc_node_device_list_caps_args lca = {.name = (char *)dn, .maxnames = ncr->num};
            if (TAP_OK(IT(vrpc_node_device_list_caps, c, &lca, &lcr) == 0,
                       "node_device_list_caps %s", dn)) {
                char *joined = it_strdup("");
                for (uint32_t k = 0; k < lcr->names.n; k++) {
                    char *j2 = it_strf("%s%s%s", joined, k ? "," : "", lcr->names.items[k]);
                    free(joined);
                    joined = j2;
                }
                char *kc = it_strf("caps.%s", dn), *kn = it_strf("ncaps.%s", dn);
                char *pc = it_pyval(py, kc), *pn = it_pyval(py, kn);
                char *mn = it_strf("%d", ncr->num);
                TAP_OK(!py || (pc && pn && strcmp(pc, joined) == 0 && strcmp(pn, mn) == 0),
                       "%s: %d caps '%s' == python %s '%s'", dn, ncr->num, joined, pn ? pn : "-",
                       pc ? pc : "(n/a)");
                free(mn);
                free(pc);
                free(pn);
                free(kc);
                free(kn);
                free(joined);
            }
        }
        vrpc_free(ncr);
        vrpc_free(lcr);

        vrpc_node_device_get_parent_args pa = {.name = (char *)dn};
        vrpc_node_device_get_parent_ret *pr = NULL;
        if (TAP_OK(IT(vrpc_node_device_get_parent, c, &pa, &pr) == 0, "node_device_get_parent %s",
                   dn)) {
            char *kp = it_strf("parent.%s", dn);
            char *pp = it_pyval(py, kp);
            const char *mine = pr->parentName ? pr->parentName : "None";
            TAP_OK(!py || (pp && strcmp(pp, mine) == 0), "%s: parent '%s' == python '%s'", dn, mine,
                   pp ? pp : "(n/a)");
            free(pp);
            free(kp);
        }
        vrpc_free(pr);
    }
    vrpc_free(ldr);
    free(py);
}

/* ---------------------------------------------------------------------- */
/* Interfaces */

static void test_interfaces(void)
{
    vrpc_connect_list_all_interfaces_args la = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_interfaces_ret *lr = NULL;
    if (!TAP_OK(IT(vrpc_connect_list_all_interfaces, c, &la, &lr) == 0,
                "connect_list_all_interfaces"))
        return;
    char *vs = it_virsh_out(uri, "iface-list --all");
    it_rows rows;
    it_table(vs, 3, true, &rows);
    TAP_OK(rows.n == lr->ifaces.n && lr->ret == lr->ifaces.n,
           "%u interfaces == virsh iface-list --all (%zu)", lr->ifaces.n, rows.n);
    for (uint32_t i = 0; i < lr->ifaces.n; i++) {
        vrpc_nonnull_interface *f = &lr->ifaces.items[i];
        long row = it_rows_find(&rows, 0, f->name);
        vrpc_interface_is_active_args aa = {.iface = *f};
        vrpc_interface_is_active_ret *ar = NULL;
        if (TAP_OK(IT(vrpc_interface_is_active, c, &aa, &ar) == 0, "interface_is_active %s",
                   f->name))
            TAP_OK(row >= 0 && rows.ncols[row] == 3 &&
                       strcmp(rows.cols[row][1], ar->active ? "active" : "inactive") == 0 &&
                       strcmp(rows.cols[row][2], f->mac) == 0,
                   "%s: %s, mac %s == virsh row", f->name, ar->active ? "active" : "inactive",
                   f->mac);
        vrpc_free(ar);

        vrpc_interface_lookup_by_name_args na = {.name = f->name};
        vrpc_interface_lookup_by_name_ret *nr = NULL;
        if (TAP_OK(IT(vrpc_interface_lookup_by_name, c, &na, &nr) == 0,
                   "interface_lookup_by_name %s", f->name)) {
            char *vm = it_virsh_out(uri, "iface-mac %s", f->name);
            TAP_OK(vm && it_same_text(vm, nr->iface.mac), "%s: mac %s == virsh iface-mac", f->name,
                   nr->iface.mac);
            free(vm);
        }
        vrpc_free(nr);
        vrpc_interface_lookup_by_mac_string_args ma = {.mac = f->mac};
        vrpc_interface_lookup_by_mac_string_ret *mr = NULL;
        if (TAP_OK(IT(vrpc_interface_lookup_by_mac_string, c, &ma, &mr) == 0,
                   "interface_lookup_by_mac_string %s", f->mac)) {
            char *vn = it_virsh_out(uri, "iface-name %s", f->mac);
            TAP_OK(vn && it_same_text(vn, mr->iface.name), "mac %s: name %s == virsh iface-name",
                   f->mac, mr->iface.name);
            free(vn);
        }
        vrpc_free(mr);
        vrpc_interface_get_xml_desc_args xa = {.iface = *f, .flags = 0};
        vrpc_interface_get_xml_desc_ret *xr = NULL;
        if (TAP_OK(IT(vrpc_interface_get_xml_desc, c, &xa, &xr) == 0, "interface_get_xml_desc %s",
                   f->name)) {
            char *vx = it_virsh_out(uri, "iface-dumpxml %s", f->name);
            TAP_OK(vx && it_same_text(vx, xr->xml), "%s: XML == virsh iface-dumpxml", f->name);
            free(vx);
        }
        vrpc_free(xr);
    }
    it_rows_free(&rows);
    free(vs);
    vrpc_free(lr);

    vrpc_connect_num_of_interfaces_ret *nr = NULL;
    if (TAP_OK(IT(vrpc_connect_num_of_interfaces, c, &nr) == 0, "connect_num_of_interfaces")) {
        vrpc_connect_list_interfaces_args a = {.maxnames = nr->num};
        vrpc_connect_list_interfaces_ret *r = NULL;
        if (TAP_OK(IT(vrpc_connect_list_interfaces, c, &a, &r) == 0, "connect_list_interfaces")) {
            /* virsh 9.0.0's iface-list has no --name: take the first column */
            char *v2 = it_virsh_out(uri, "iface-list");
            it_rows rr;
            it_table(v2, 3, true, &rr);
            char *alt = it_strdup("");
            for (size_t i = 0; i < rr.n; i++) {
                char *j2 = it_strf("%s%s\n", alt, rr.cols[i][0]);
                free(alt);
                alt = j2;
            }
            it_rows_free(&rr);
            free(v2);
            TAP_OK((int)r->names.n == nr->num && same_names(r->names.items, r->names.n, alt),
                   "%d active interfaces == virsh iface-list", nr->num);
            free(alt);
        }
        vrpc_free(r);
    }
    vrpc_free(nr);
}

/* ---------------------------------------------------------------------- */
/* Snapshots and checkpoints */

static char *snap_xml(const char *name, const char *desc)
{
    return it_strf("<domainsnapshot>\n"
                   "  <name>%s</name>\n"
                   "  <description>%s</description>\n"
                   "</domainsnapshot>\n",
                   name, desc);
}

static void test_snapshots(void)
{
    /* a running domain of our own */
    char *dname = it_unique("vrpc-it-snapdom");
    char *dxml = it_strf("<domain type='test'>\n"
                         "  <name>%s</name>\n"
                         "  <memory unit='KiB'>131072</memory>\n"
                         "  <vcpu>1</vcpu>\n"
                         "  <os><type arch='i686'>hvm</type></os>\n"
                         "</domain>\n",
                         dname);
    vrpc_domain_define_xml_args da = {.xml = dxml};
    vrpc_domain_define_xml_ret *dr = NULL;
    if (!TAP_OK(IT(vrpc_domain_define_xml, c, &da, &dr) == 0, "define %s for snapshots", dname))
        goto out;
    vrpc_nonnull_domain d = dr->dom;
    vrpc_domain_create_args ca = {.dom = d};
    IT(vrpc_domain_create, c, &ca);

    vrpc_domain_has_current_snapshot_args hca = {.dom = d, .flags = 0};
    vrpc_domain_has_current_snapshot_ret *hcr = NULL;
    TAP_OK(IT(vrpc_domain_has_current_snapshot, c, &hca, &hcr) == 0 && hcr->result == 0,
           "domain_has_current_snapshot: none yet");
    vrpc_free(hcr);

    char *x1 = snap_xml("s1", "first snapshot"), *x2 = snap_xml("s2", "second snapshot");
    vrpc_domain_snapshot_create_xml_args s1a = {.dom = d, .xml_desc = x1, .flags = 0};
    vrpc_domain_snapshot_create_xml_args s2a = {.dom = d, .xml_desc = x2, .flags = 0};
    vrpc_domain_snapshot_create_xml_ret *s1 = NULL, *s2 = NULL;
    if (!TAP_OK(IT(vrpc_domain_snapshot_create_xml, c, &s1a, &s1) == 0 &&
                    IT(vrpc_domain_snapshot_create_xml, c, &s2a, &s2) == 0,
                "domain_snapshot_create_xml s1, s2"))
        goto undefine;

    vrpc_domain_list_all_snapshots_args la = {.dom = d, .need_results = 1, .flags = 0};
    vrpc_domain_list_all_snapshots_ret *lr = NULL;
    if (TAP_OK(IT(vrpc_domain_list_all_snapshots, c, &la, &lr) == 0, "domain_list_all_snapshots")) {
        char *vs = it_virsh_out(uri, "snapshot-list %s --parent", dname);
        it_rows rows;
        it_table(vs, 4, true, &rows);
        bool all = rows.n == lr->snapshots.n && lr->ret == (int)lr->snapshots.n;
        for (uint32_t i = 0; i < lr->snapshots.n; i++) {
            vrpc_nonnull_domain_snapshot *s = &lr->snapshots.items[i];
            long row = it_rows_find(&rows, 0, s->name);
            /* parent column: s2's parent is s1, s1 has none */
            const char *parent = strcmp(s->name, "s2") == 0 ? "s1" : NULL;
            if (row < 0 || strcmp(s->dom.name, dname) != 0 ||
                (parent ? rows.ncols[row] != 4 || strcmp(rows.cols[row][3], parent) != 0
                        : rows.ncols[row] != 3))
                all = false;
        }
        TAP_OK(all, "%u snapshots with parents == virsh snapshot-list --parent (%zu)",
               lr->snapshots.n, rows.n);
        it_rows_free(&rows);
        free(vs);
    }
    vrpc_free(lr);

    vrpc_domain_snapshot_num_args na = {.dom = d, .flags = 0};
    vrpc_domain_snapshot_num_ret *nr = NULL;
    if (TAP_OK(IT(vrpc_domain_snapshot_num, c, &na, &nr) == 0, "domain_snapshot_num")) {
        vrpc_domain_snapshot_list_names_args lna = {.dom = d, .maxnames = nr->num, .flags = 0};
        vrpc_domain_snapshot_list_names_ret *lnr = NULL;
        if (TAP_OK(IT(vrpc_domain_snapshot_list_names, c, &lna, &lnr) == 0,
                   "domain_snapshot_list_names")) {
            char *vs = it_virsh_out(uri, "snapshot-list %s --name", dname);
            TAP_OK((int)lnr->names.n == nr->num && same_names(lnr->names.items, lnr->names.n, vs),
                   "%d snapshot names == virsh snapshot-list --name", nr->num);
            free(vs);
        }
        vrpc_free(lnr);
    }
    vrpc_free(nr);

    vrpc_domain_snapshot_lookup_by_name_args lba = {.dom = d, .name = "s1", .flags = 0};
    vrpc_domain_snapshot_lookup_by_name_ret *lbr = NULL;
    if (TAP_OK(IT(vrpc_domain_snapshot_lookup_by_name, c, &lba, &lbr) == 0,
               "domain_snapshot_lookup_by_name s1")) {
        vrpc_domain_snapshot_get_xml_desc_args xa = {.snap = lbr->snap, .flags = 0};
        vrpc_domain_snapshot_get_xml_desc_ret *xr = NULL;
        if (TAP_OK(IT(vrpc_domain_snapshot_get_xml_desc, c, &xa, &xr) == 0,
                   "domain_snapshot_get_xml_desc s1")) {
            char *vx = it_virsh_out(uri, "snapshot-dumpxml %s s1", dname);
            TAP_OK(vx && it_same_text(vx, xr->xml) && strstr(xr->xml, "first snapshot"),
                   "s1 XML == virsh snapshot-dumpxml");
            free(vx);
        }
        vrpc_free(xr);

        char *py = NULL;
        {
            char *script =
                it_strf("%s"
                        "d = c.lookupByName(sys.argv[3])\n"
                        "for n in ('s1', 's2'):\n"
                        "    s = d.snapshotLookupByName(n, 0)\n"
                        "    print('%%s.current=%%d' %% (n, s.isCurrent(0)))\n"
                        "    print('%%s.meta=%%d' %% (n, s.hasMetadata(0)))\n"
                        "    print('%%s.nchildren=%%d' %% (n, s.numChildren(0)))\n"
                        "    print('%%s.children=%%s' %% (n, ','.join(sorted(x.getName() "
                        "for x in s.listAllChildren(0)))))\n",
                        IT_PY_PRELUDE);
            py = it_py(script, uri, "rw", dname, NULL);
            free(script);
        }
        const struct {
            const char *n;
            vrpc_nonnull_domain_snapshot *s;
        } ss[] = {{"s1", &s1->snap}, {"s2", &s2->snap}};
        for (size_t i = 0; i < 2; i++) {
            vrpc_domain_snapshot_is_current_args ica = {.snap = *ss[i].s, .flags = 0};
            vrpc_domain_snapshot_is_current_ret *icr = NULL;
            vrpc_domain_snapshot_has_metadata_args hma = {.snap = *ss[i].s, .flags = 0};
            vrpc_domain_snapshot_has_metadata_ret *hmr = NULL;
            vrpc_domain_snapshot_num_children_args nca = {.snap = *ss[i].s, .flags = 0};
            vrpc_domain_snapshot_num_children_ret *ncr = NULL;
            vrpc_domain_snapshot_list_all_children_args lca = {
                .snapshot = *ss[i].s, .need_results = 1, .flags = 0};
            vrpc_domain_snapshot_list_all_children_ret *lcr = NULL;
            if (TAP_OK(IT(vrpc_domain_snapshot_is_current, c, &ica, &icr) == 0 &&
                           IT(vrpc_domain_snapshot_has_metadata, c, &hma, &hmr) == 0 &&
                           IT(vrpc_domain_snapshot_num_children, c, &nca, &ncr) == 0 &&
                           IT(vrpc_domain_snapshot_list_all_children, c, &lca, &lcr) == 0,
                       "%s: snapshot is_current/has_metadata/num_children/list_all_children",
                       ss[i].n)) {
                char *children = it_strdup("");
                for (uint32_t k = 0; k < lcr->snapshots.n; k++) {
                    char *j2 =
                        it_strf("%s%s%s", children, k ? "," : "", lcr->snapshots.items[k].name);
                    free(children);
                    children = j2;
                }
                char *mine =
                    it_strf("%d %d %d %s", icr->current, hmr->metadata, ncr->num, children);
                char *k1 = it_strf("%s.current", ss[i].n), *k2 = it_strf("%s.meta", ss[i].n),
                     *k3 = it_strf("%s.nchildren", ss[i].n), *k4 = it_strf("%s.children", ss[i].n);
                char *p1 = it_pyval(py, k1), *p2 = it_pyval(py, k2), *p3 = it_pyval(py, k3),
                     *p4 = it_pyval(py, k4);
                char *theirs = it_strf("%s %s %s %s", p1 ? p1 : "?", p2 ? p2 : "?", p3 ? p3 : "?",
                                       p4 ? p4 : "?");
                TAP_OK(!py || strcmp(mine, theirs) == 0,
                       "%s: current/metadata/children '%s' == python '%s'", ss[i].n, mine, theirs);
                /* virsh snapshot-info: Current, Children, Metadata */
                char *vi = it_virsh_out(uri, "snapshot-info %s %s", dname, ss[i].n);
                char *vc = it_kv(vi, "Current"), *vch = it_kv(vi, "Children"),
                     *vm = it_kv(vi, "Metadata");
                TAP_OK(vc && vch && vm && strcmp(vc, icr->current ? "yes" : "no") == 0 &&
                           strtol(vch, NULL, 10) == ncr->num &&
                           strcmp(vm, hmr->metadata ? "yes" : "no") == 0,
                       "%s: virsh snapshot-info Current %s Children %s Metadata %s", ss[i].n,
                       vc ? vc : "?", vch ? vch : "?", vm ? vm : "?");
                free(vc);
                free(vch);
                free(vm);
                free(vi);
                free(theirs);
                free(p1);
                free(p2);
                free(p3);
                free(p4);
                free(k1);
                free(k2);
                free(k3);
                free(k4);
                free(mine);
                free(children);
            }
            vrpc_free(icr);
            vrpc_free(hmr);
            vrpc_free(ncr);
            vrpc_free(lcr);
        }
        free(py);
    }
    vrpc_free(lbr);

    vrpc_domain_snapshot_get_parent_args pa = {.snap = s2->snap, .flags = 0};
    vrpc_domain_snapshot_get_parent_ret *pr = NULL;
    if (TAP_OK(IT(vrpc_domain_snapshot_get_parent, c, &pa, &pr) == 0,
               "domain_snapshot_get_parent s2")) {
        char *vp = it_virsh_out(uri, "snapshot-parent %s s2", dname);
        TAP_OK(vp && it_same_text(vp, pr->snap.name), "parent of s2 '%s' == virsh snapshot-parent",
               pr->snap.name);
        free(vp);
    }
    vrpc_free(pr);

    vrpc_domain_snapshot_current_args cua = {.dom = d, .flags = 0};
    vrpc_domain_snapshot_current_ret *cur = NULL;
    if (TAP_OK(IT(vrpc_domain_snapshot_current, c, &cua, &cur) == 0, "domain_snapshot_current")) {
        char *vc = it_virsh_out(uri, "snapshot-current %s --name", dname);
        TAP_OK(vc && it_same_text(vc, cur->snap.name), "current snapshot '%s' == virsh",
               cur->snap.name);
        free(vc);
    }
    vrpc_free(cur);

    vrpc_domain_revert_to_snapshot_args ra = {.snap = s1->snap, .flags = 0};
    if (TAP_OK(IT(vrpc_domain_revert_to_snapshot, c, &ra) == 0, "domain_revert_to_snapshot s1")) {
        char *vc = it_virsh_out(uri, "snapshot-current %s --name", dname);
        TAP_OK(vc && it_same_text(vc, "s1"), "virsh snapshot-current after revert: %s",
               vc ? it_trim(vc) : "?");
        free(vc);
    }

    vrpc_domain_snapshot_delete_args d2 = {.snap = s2->snap, .flags = 0};
    vrpc_domain_snapshot_delete_args d1 = {.snap = s1->snap, .flags = 0};
    if (TAP_OK(IT(vrpc_domain_snapshot_delete, c, &d2) == 0 &&
                   IT(vrpc_domain_snapshot_delete, c, &d1) == 0,
               "domain_snapshot_delete s2, s1")) {
        char *vs = it_virsh_out(uri, "snapshot-list %s --name", dname);
        char **v = it_lines(vs, NULL);
        TAP_OK(vs && !v[0], "virsh snapshot-list is empty again");
        it_strv_free(v);
        free(vs);
    }
undefine:
    vrpc_free(s1);
    vrpc_free(s2);
    free(x1);
    free(x2);
    {
        vrpc_domain_destroy_args xa = {.dom = d};
        IT(vrpc_domain_destroy, c, &xa);
        vrpc_domain_undefine_flags_args ua = {.dom = d,
                                              .flags = VRPC_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA};
        IT(vrpc_domain_undefine_flags, c, &ua);
    }
    vrpc_free(dr);
out:
    free(dxml);
    free(dname);
}

static void test_checkpoints(void)
{
    /* On the documented domain 'test' (it has a disk); removed afterwards. */
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *lr = NULL;
    if (IT(vrpc_domain_lookup_by_name, c, &la, &lr) != 0)
        return;
    char *cname = it_unique("vrpc-it-cp");
    char *xml = it_strf("<domaincheckpoint>\n"
                        "  <name>%s</name>\n"
                        "  <description>virtrpc</description>\n"
                        "</domaincheckpoint>\n",
                        cname);
    vrpc_domain_checkpoint_create_xml_args ca = {.dom = lr->dom, .xml_desc = xml, .flags = 0};
    vrpc_domain_checkpoint_create_xml_ret *cr = NULL;
    if (TAP_OK(IT(vrpc_domain_checkpoint_create_xml, c, &ca, &cr) == 0,
               "domain_checkpoint_create_xml %s", cname)) {
        vrpc_domain_list_all_checkpoints_args lca = {.dom = lr->dom, .need_results = 1, .flags = 0};
        vrpc_domain_list_all_checkpoints_ret *lcr = NULL;
        if (TAP_OK(IT(vrpc_domain_list_all_checkpoints, c, &lca, &lcr) == 0,
                   "domain_list_all_checkpoints")) {
            char *vs = it_virsh_out(uri, "checkpoint-list test --name");
            const char **names = calloc(lcr->checkpoints.n + 1, sizeof(char *));
            for (uint32_t i = 0; names && i < lcr->checkpoints.n; i++)
                names[i] = lcr->checkpoints.items[i].name;
            TAP_OK(names && same_names(names, lcr->checkpoints.n, vs),
                   "%u checkpoints == virsh checkpoint-list --name", lcr->checkpoints.n);
            free(names);
            free(vs);
        }
        vrpc_free(lcr);

        vrpc_domain_checkpoint_lookup_by_name_args lba = {
            .dom = lr->dom, .name = cname, .flags = 0};
        vrpc_domain_checkpoint_lookup_by_name_ret *lbr = NULL;
        TAP_OK(IT(vrpc_domain_checkpoint_lookup_by_name, c, &lba, &lbr) == 0 &&
                   strcmp(lbr->checkpoint.name, cname) == 0,
               "domain_checkpoint_lookup_by_name");
        vrpc_free(lbr);

        vrpc_domain_checkpoint_get_xml_desc_args xa = {.checkpoint = cr->checkpoint, .flags = 0};
        vrpc_domain_checkpoint_get_xml_desc_ret *xr = NULL;
        if (TAP_OK(IT(vrpc_domain_checkpoint_get_xml_desc, c, &xa, &xr) == 0,
                   "domain_checkpoint_get_xml_desc")) {
            char *vx = it_virsh_out(uri, "checkpoint-dumpxml test %s", cname);
            TAP_OK(vx && it_same_text(vx, xr->xml), "checkpoint XML == virsh checkpoint-dumpxml");
            free(vx);
        }
        vrpc_free(xr);

        vrpc_domain_checkpoint_delete_args da = {.checkpoint = cr->checkpoint, .flags = 0};
        if (TAP_OK(IT(vrpc_domain_checkpoint_delete, c, &da) == 0, "domain_checkpoint_delete")) {
            char *vs = it_virsh_out(uri, "checkpoint-list test --name");
            TAP_OK(vs && !name_listed(vs, cname), "virsh no longer lists %s", cname);
            free(vs);
        }
    }
    vrpc_free(cr);
    free(xml);
    free(cname);
    vrpc_free(lr);
}

/* ---------------------------------------------------------------------- */
/* Secrets (real secret driver) */

static char *b64(const uint8_t *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = calloc(1, (n + 2) / 3 * 4 + 1);
    size_t k = 0;
    for (size_t i = 0; o && i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        o[k++] = t[v >> 18 & 63];
        o[k++] = t[v >> 12 & 63];
        o[k++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        o[k++] = i + 2 < n ? t[v & 63] : '=';
    }
    return o;
}

static void test_secrets(void)
{
    if (!csec) {
        tap_skip("no connection to the secret driver");
        return;
    }
    const char *suri = it_secret_uri();
    char *usage = it_strf("/var/lib/vrpc-it/%ld.img", (long)getpid());
    char *xml = it_strf("<secret ephemeral='no' private='no'>\n"
                        "  <description>virtrpc integration</description>\n"
                        "  <usage type='volume'>\n"
                        "    <volume>%s</volume>\n"
                        "  </usage>\n"
                        "</secret>\n",
                        usage);
    vrpc_secret_define_xml_args da = {.xml = xml, .flags = 0};
    vrpc_secret_define_xml_ret *dr = NULL;
    if (!TAP_OK(IT(vrpc_secret_define_xml, csec, &da, &dr) == 0, "secret_define_xml"))
        goto out;
    vrpc_nonnull_secret s = dr->secret;
    char us[37];
    it_uuid_fmt(s.uuid, us);
    {
        char *vs = it_virsh_out(suri, "secret-list");
        it_rows rows;
        it_table(vs, 2, true, &rows);
        long row = it_rows_find(&rows, 0, us);
        char *expect = it_strf("volume %s", usage);
        TAP_OK(row >= 0 && rows.ncols[row] == 2 && strcmp(rows.cols[row][1], expect) == 0 &&
                   s.usageType == VRPC_SECRET_USAGE_TYPE_VOLUME && strcmp(s.usageID, usage) == 0,
               "secret %s usage '%s' == virsh secret-list", us, expect);
        free(expect);
        it_rows_free(&rows);
        free(vs);
    }

    static const uint8_t value[] = {'v', 'r', 'p', 'c', 0, 1, 2, 0xff, 's', 'e', 'c'};
    vrpc_secret_set_value_args sa = {.secret = s, .flags = 0};
    sa.value.len = sizeof(value);
    sa.value.data = (uint8_t *)value;
    if (TAP_OK(IT(vrpc_secret_set_value, csec, &sa) == 0, "secret_set_value (%zu bytes)",
               sizeof(value))) {
        vrpc_secret_get_value_args ga = {.secret = s, .flags = 0};
        vrpc_secret_get_value_ret *gr = NULL;
        if (TAP_OK(IT(vrpc_secret_get_value, csec, &ga, &gr) == 0, "secret_get_value"))
            TAP_OK(gr->value.len == sizeof(value) &&
                       memcmp(gr->value.data, value, sizeof(value)) == 0,
                   "the value read back is the one set");
        vrpc_free(gr);
        char *vv = it_virsh_out(suri, "secret-get-value %s", us);
        char *mine = b64(value, sizeof(value));
        TAP_OK(vv && mine && it_same_text(vv, mine), "virsh secret-get-value '%s' == base64 '%s'",
               vv ? it_trim(vv) : "?", mine ? mine : "?");
        free(mine);
        free(vv);
    }

    vrpc_secret_lookup_by_uuid_args lua;
    memcpy(lua.uuid, s.uuid, 16);
    vrpc_secret_lookup_by_uuid_ret *lur = NULL;
    TAP_OK(IT(vrpc_secret_lookup_by_uuid, csec, &lua, &lur) == 0 &&
               strcmp(lur->secret.usageID, usage) == 0,
           "secret_lookup_by_uuid");
    vrpc_free(lur);
    vrpc_secret_lookup_by_usage_args lsa = {.usageType = VRPC_SECRET_USAGE_TYPE_VOLUME,
                                            .usageID = usage};
    vrpc_secret_lookup_by_usage_ret *lsr = NULL;
    TAP_OK(IT(vrpc_secret_lookup_by_usage, csec, &lsa, &lsr) == 0 &&
               memcmp(lsr->secret.uuid, s.uuid, 16) == 0,
           "secret_lookup_by_usage");
    vrpc_free(lsr);

    vrpc_secret_get_xml_desc_args xa = {.secret = s, .flags = 0};
    vrpc_secret_get_xml_desc_ret *xr = NULL;
    if (TAP_OK(IT(vrpc_secret_get_xml_desc, csec, &xa, &xr) == 0, "secret_get_xml_desc")) {
        char *vx = it_virsh_out(suri, "secret-dumpxml %s", us);
        TAP_OK(vx && it_same_text(vx, xr->xml), "secret XML == virsh secret-dumpxml");
        free(vx);
    }
    vrpc_free(xr);

    vrpc_connect_list_all_secrets_args la = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_secrets_ret *lr = NULL;
    if (TAP_OK(IT(vrpc_connect_list_all_secrets, csec, &la, &lr) == 0,
               "connect_list_all_secrets")) {
        char *vs = it_virsh_out(suri, "secret-list");
        it_rows rows;
        it_table(vs, 2, true, &rows);
        bool all = rows.n == lr->secrets.n;
        for (uint32_t i = 0; i < lr->secrets.n; i++) {
            char u[37];
            it_uuid_fmt(lr->secrets.items[i].uuid, u);
            all &= it_rows_find(&rows, 0, u) >= 0;
        }
        TAP_OK(all, "%u secrets == virsh secret-list (%zu)", lr->secrets.n, rows.n);
        it_rows_free(&rows);
        free(vs);
    }
    vrpc_free(lr);
    vrpc_connect_num_of_secrets_ret *nr = NULL;
    if (TAP_OK(IT(vrpc_connect_num_of_secrets, csec, &nr) == 0, "connect_num_of_secrets")) {
        vrpc_connect_list_secrets_args lsa2 = {.maxuuids = nr->num};
        vrpc_connect_list_secrets_ret *lsr2 = NULL;
        if (TAP_OK(IT(vrpc_connect_list_secrets, csec, &lsa2, &lsr2) == 0,
                   "connect_list_secrets")) {
            char *vs = it_virsh_out(suri, "secret-list");
            it_rows rows;
            it_table(vs, 2, true, &rows);
            char *joined = it_strdup("");
            for (size_t i = 0; i < rows.n; i++) {
                char *j2 = it_strf("%s%s\n", joined, rows.cols[i][0]);
                free(joined);
                joined = j2;
            }
            TAP_OK((int)lsr2->uuids.n == nr->num &&
                       same_names(lsr2->uuids.items, lsr2->uuids.n, joined),
                   "%d secret uuids == virsh secret-list", nr->num);
            free(joined);
            it_rows_free(&rows);
            free(vs);
        }
        vrpc_free(lsr2);
    }
    vrpc_free(nr);

    vrpc_secret_undefine_args ua = {.secret = s};
    if (TAP_OK(IT(vrpc_secret_undefine, csec, &ua) == 0, "secret_undefine")) {
        char *vs = it_virsh_out(suri, "secret-list");
        TAP_OK(vs && !strstr(vs, us), "virsh secret-list no longer shows %s", us);
        free(vs);
    }

    /* lookup of the removed secret: the error as python sees it */
    lsr = NULL;
    int rc = ITQ(vrpc_secret_lookup_by_usage, csec, &lsa, &lsr);
    char *expr = it_strf("c.secretLookupByUsage(%d, '%s')", VRPC_SECRET_USAGE_TYPE_VOLUME, usage);
    char *py = it_py_eval(suri, false, expr);
    TAP_OK(rc == VRPC_E_REMOTE && it_err() && it_err()->code == VRPC_ERR_NO_SECRET,
           "lookup of a removed secret fails with NO_SECRET: %s", it_errstr(it_err()));
    if (py)
        TAP_OK(it_err_matches_py(it_err(), py), "that error == python's, field by field");
    free(py);
    free(expr);
    vrpc_free(lsr);
    vrpc_free(dr);
out:
    free(xml);
    free(usage);
}

/* nwfilters are served by neither daemon: the error as python sees it. */
static void test_nwfilters(void)
{
    vrpc_connect_list_all_nwfilters_args la = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_nwfilters_ret *lr = NULL;
    int rc = ITQ(vrpc_connect_list_all_nwfilters, c, &la, &lr);
    char *py = it_py_eval(uri, false, "[f.name() for f in c.listAllNWFilters(0)]");
    char *ok = it_pyval(py, "ok");
    if (rc == 0) {
        TAP_OK(!py || (ok && strcmp(ok, "1") == 0), "connect_list_all_nwfilters: %u filters",
               lr->filters.n);
    } else {
        TAP_OK(rc == VRPC_E_REMOTE && (!py || it_err_matches_py(it_err(), py)),
               "connect_list_all_nwfilters fails like python: %s", it_errstr(it_err()));
    }
    free(ok);
    free(py);
    vrpc_free(lr);
}

int main(void)
{
    if (!it_start("objects"))
        return 0;
    uri = it_sys_uri();
    it_open_or_exit(&c, uri);
    int rc;
    rc = vrpc_conn_open(&cs, it_storage_uri(), 0, it_errp());
    TAP_OK(rc == 0, "vrpc_conn_open %s: %s", it_storage_uri(), rc ? it_errstr(it_err()) : "ok");
    if (rc)
        cs = NULL;
    rc = vrpc_conn_open(&csec, it_secret_uri(), 0, it_errp());
    TAP_OK(rc == 0, "vrpc_conn_open %s: %s", it_secret_uri(), rc ? it_errstr(it_err()) : "ok");
    if (rc)
        csec = NULL;

    test_networks();
    test_storage();
    test_nodedevs();
    test_interfaces();
    test_snapshots();
    test_checkpoints();
    test_secrets();
    test_nwfilters();

    vrpc_conn_close(csec);
    vrpc_conn_close(cs);
    vrpc_conn_close(c);
    it_finish();
    return tap_done();
}
