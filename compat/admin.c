/* SPDX-License-Identifier: MIT */
/*
 * libvirt-admin.so.0: libvirt's admin API (virAdm*) over virtrpc's admin
 * connections. Every function is written here; the errors are libvirt.so.0's
 * (compat_* of its private node), so virGetLastError() sees them, as with
 * libvirt's own libvirt-admin.so.
 */
#include "compat.h"

#include <libvirt/libvirt-admin.h>

#include <stdlib.h>
#include <string.h>

#define ADM_MAGIC_CONNECT 0x76726101u
#define ADM_MAGIC_SERVER 0x76726102u
#define ADM_MAGIC_CLIENT 0x76726103u

struct _virAdmConnect {
    compat_obj o;
    vrpc_conn *c;
    char *uri;
    pthread_mutex_t lock; /* the close callback */
    virAdmConnectCloseFunc close_cb;
    void *close_opaque;
    virFreeCallback close_free;
    compat_watch *watch; /* with a loop registered at open (compat/watch.c) */
};

struct _virAdmServer {
    compat_obj o;
    virAdmConnectPtr conn; /* holds a reference */
    char *name;
};

struct _virAdmClient {
    compat_obj o;
    virAdmServerPtr srv; /* holds a reference */
    unsigned long long id;
    long long timestamp;
    unsigned int transport;
};

/* The admin program's typed parameters have the remote program's layout,
 * so the remote conversions of compat_params_* serve both. */
_Static_assert(sizeof(vrpc_admin_typed_param) == sizeof(vrpc_typed_param), "layout");
_Static_assert(offsetof(vrpc_admin_typed_param, value) == offsetof(vrpc_typed_param, value),
               "layout");
_Static_assert(offsetof(vrpc_admin_typed_param_value, u) == offsetof(vrpc_typed_param_value, u),
               "layout");

/* ---- objects ---- */

static bool adm_conn_ok(const virAdmConnect *c)
{
    return c && c->o.magic == ADM_MAGIC_CONNECT;
}

static bool adm_server_ok(const virAdmServer *s)
{
    return s && s->o.magic == ADM_MAGIC_SERVER && adm_conn_ok(s->conn);
}

static bool adm_client_ok(const virAdmClient *cl)
{
    return cl && cl->o.magic == ADM_MAGIC_CLIENT && adm_server_ok(cl->srv);
}

/* libvirt reports every invalid admin object as an invalid connection. */
static void adm_invalid(const char *func)
{
    compat_error(VIR_FROM_ADMIN, VIR_ERR_INVALID_CONN, "invalid admin object in %s", func);
    compat_dispatch(NULL);
}

/* The end of an admin connection, once no callback of its watch runs. */
static void adm_conn_finish(void *opaque)
{
    virAdmConnectPtr c = opaque;

    vrpc_conn_close(c->c);
    pthread_mutex_lock(&c->lock);
    virFreeCallback ff = c->close_free;
    void *op = c->close_opaque;
    c->close_cb = NULL;
    c->close_free = NULL;
    pthread_mutex_unlock(&c->lock);
    if (ff)
        ff(op);
    pthread_mutex_destroy(&c->lock);
    free(c->uri);
    free(c);
}

static void adm_conn_unref(virAdmConnectPtr c)
{
    if (atomic_fetch_sub(&c->o.refs, 1) != 1)
        return;
    c->o.magic = 0;
    /* as libvirt: closing on purpose does not run the close callback */
    vrpc_conn_set_close_callback(c->c, NULL, NULL, NULL, NULL);
    /* the loop stops watching first; a callback of the watch under way
     * (the close callback dropping the last reference) ends first */
    compat_watch_free_then(c->watch, adm_conn_finish, c);
}

static void adm_server_unref(virAdmServerPtr s)
{
    if (atomic_fetch_sub(&s->o.refs, 1) != 1)
        return;
    s->o.magic = 0;
    adm_conn_unref(s->conn);
    free(s->name);
    free(s);
}

static void adm_client_unref(virAdmClientPtr cl)
{
    if (atomic_fetch_sub(&cl->o.refs, 1) != 1)
        return;
    cl->o.magic = 0;
    adm_server_unref(cl->srv);
    free(cl);
}

static virAdmServerPtr adm_server_new(virAdmConnectPtr conn, const char *name)
{
    virAdmServerPtr s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(name))) {
        free(s);
        compat_no_memory();
        return NULL;
    }
    s->o.magic = ADM_MAGIC_SERVER;
    atomic_init(&s->o.refs, 1);
    atomic_fetch_add(&conn->o.refs, 1);
    s->conn = conn;
    return s;
}

static virAdmClientPtr adm_client_new(virAdmServerPtr srv, const vrpc_admin_nonnull_client *w)
{
    virAdmClientPtr cl = calloc(1, sizeof(*cl));
    if (!cl) {
        compat_no_memory();
        return NULL;
    }
    cl->o.magic = ADM_MAGIC_CLIENT;
    atomic_init(&cl->o.refs, 1);
    atomic_fetch_add(&srv->o.refs, 1);
    cl->srv = srv;
    cl->id = w->id;
    cl->timestamp = w->timestamp;
    cl->transport = w->transport;
    return cl;
}

static void adm_client_to(virAdmClientPtr cl, vrpc_admin_nonnull_client *w)
{
    w->srv.name = cl->srv->name;
    w->id = cl->id;
    w->timestamp = cl->timestamp;
    w->transport = cl->transport;
}

/* One admin call; -1 after setting the error. */
static int adm_call(virAdmConnectPtr conn, const vrpc_proc *proc, const void *args, void *ret)
{
    vrpc_error *err = NULL;
    int rc = vrpc_call(conn->c, proc, args, (void **)ret, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        return -1;
    }
    return 0;
}

/* ---- library ---- */

int virAdmInitialize(void)
{
    return 0;
}

int virAdmGetVersion(unsigned long long *libVer)
{
    compat_reset();
    if (!libVer) {
        compat_dispatch(NULL);
        return -1;
    }
    *libVer = COMPAT_LIBVIRT_VERSION;
    return 0;
}

/* ---- connections ---- */

virAdmConnectPtr virAdmConnectOpen(const char *name, unsigned int flags)
{
    compat_reset();
    virAdmConnectPtr c = calloc(1, sizeof(*c));
    if (!c) {
        compat_no_memory();
        compat_dispatch(NULL);
        return NULL;
    }
    vrpc_error *err = NULL;
    unsigned int vflags = (flags & VIR_CONNECT_NO_ALIASES) ? VRPC_OPEN_NO_ALIASES : 0;
    int rc = vrpc_conn_open_admin(&c->c, name, vflags, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        free(c);
        compat_dispatch(NULL);
        return NULL;
    }
    const char *uri = vrpc_conn_get_uri(c->c);
    if (!(c->uri = compat_strdup(uri ? uri : ""))) {
        vrpc_conn_close(c->c);
        free(c);
        compat_dispatch(NULL);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->o.magic = ADM_MAGIC_CONNECT;
    atomic_init(&c->o.refs, 1);
    /* As libvirt's admin client: with a loop registered the connection is
     * watched from the open on (its end is seen and reported to the close
     * callback without a call); a loop that refuses is tolerated. */
    if (atomic_load(&compat_event_loop) && !(c->watch = compat_watch_new(c->c)))
        compat_reset();
    return c;
}

int virAdmConnectClose(virAdmConnectPtr conn)
{
    compat_reset();
    if (!conn)
        return 0;
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    /* libvirt's answer: 1 while other references remain, 0 once closed */
    int left = atomic_load(&conn->o.refs) - 1;
    adm_conn_unref(conn);
    return left > 0 ? 1 : 0;
}

int virAdmConnectRef(virAdmConnectPtr conn)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    atomic_fetch_add(&conn->o.refs, 1);
    return 0;
}

int virAdmConnectIsAlive(virAdmConnectPtr conn)
{
    compat_reset();
    if (!conn)
        return 0;
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    return vrpc_conn_get_status(conn->c) == 0 ? 1 : 0;
}

char *virAdmConnectGetURI(virAdmConnectPtr conn)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return NULL;
    }
    char *s = compat_strdup(conn->uri);
    if (!s)
        compat_dispatch(NULL);
    return s;
}

/* virtrpc's close callback, forwarded once to the application's; then, as
 * libvirt, the registration is gone (its free callback runs, its reference
 * to the connection goes). */
static void adm_close_trampoline(vrpc_conn *vc, int reason, void *opaque)
{
    (void)vc;
    virAdmConnectPtr conn = opaque;
    pthread_mutex_lock(&conn->lock);
    virAdmConnectCloseFunc cb = conn->close_cb;
    void *op = conn->close_opaque;
    virFreeCallback ff = conn->close_free;
    conn->close_cb = NULL;
    conn->close_opaque = NULL;
    conn->close_free = NULL;
    pthread_mutex_unlock(&conn->lock);
    if (!cb)
        return;
    cb(conn, compat_watch_close_reason(reason), op);
    if (ff)
        ff(op);
    /* may be the last one: the watch then closes after this callback */
    adm_conn_unref(conn);
}

int virAdmConnectRegisterCloseCallback(virAdmConnectPtr conn, virAdmConnectCloseFunc cb,
                                       void *opaque, virFreeCallback freecb)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    if (!cb) {
        compat_invalid_arg(VIR_FROM_ADMIN, __func__, "cb");
        compat_dispatch(NULL);
        return -1;
    }
    pthread_mutex_lock(&conn->lock);
    if (conn->close_cb) {
        pthread_mutex_unlock(&conn->lock);
        compat_error(VIR_FROM_NONE, VIR_ERR_OPERATION_INVALID,
                     "a close callback is registered already");
        compat_dispatch(NULL);
        return -1;
    }
    conn->close_cb = cb;
    conn->close_opaque = opaque;
    conn->close_free = freecb;
    pthread_mutex_unlock(&conn->lock);
    vrpc_error *err = NULL;
    /* as libvirt, the registration holds a reference to the connection */
    atomic_fetch_add(&conn->o.refs, 1);
    int rc = vrpc_conn_set_close_callback(conn->c, adm_close_trampoline, conn, NULL, &err);
    if (rc < 0) {
        pthread_mutex_lock(&conn->lock);
        conn->close_cb = NULL;
        conn->close_opaque = NULL;
        conn->close_free = NULL;
        pthread_mutex_unlock(&conn->lock);
        adm_conn_unref(conn);
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        compat_dispatch(NULL);
        return -1;
    }
    return 0;
}

int virAdmConnectUnregisterCloseCallback(virAdmConnectPtr conn, virAdmConnectCloseFunc cb)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    if (!cb) {
        compat_invalid_arg(VIR_FROM_ADMIN, __func__, "cb");
        compat_dispatch(NULL);
        return -1;
    }
    pthread_mutex_lock(&conn->lock);
    if (conn->close_cb != cb) {
        pthread_mutex_unlock(&conn->lock);
        compat_error(VIR_FROM_NONE, VIR_ERR_OPERATION_INVALID,
                     "the close callback given is not the one registered");
        compat_dispatch(NULL);
        return -1;
    }
    virFreeCallback ff = conn->close_free;
    void *op = conn->close_opaque;
    conn->close_cb = NULL;
    conn->close_opaque = NULL;
    conn->close_free = NULL;
    pthread_mutex_unlock(&conn->lock);
    vrpc_conn_set_close_callback(conn->c, NULL, NULL, NULL, NULL);
    if (ff)
        ff(op);
    adm_conn_unref(conn); /* the registration's reference */
    return 0;
}

int virAdmConnectGetLibVersion(virAdmConnectPtr conn, unsigned long long *libVer)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    if (!libVer) {
        compat_invalid_arg(VIR_FROM_ADMIN, __func__, "libVer");
        compat_dispatch(NULL);
        return -1;
    }
    vrpc_admin_connect_get_lib_version_ret *r = NULL;
    if (adm_call(conn, &vrpc_pd_admin_connect_get_lib_version, NULL, &r) < 0) {
        compat_dispatch(NULL);
        return -1;
    }
    *libVer = r->libVer;
    vrpc_free(r);
    return 0;
}

int virAdmConnectListServers(virAdmConnectPtr conn, virAdmServerPtr **servers, unsigned int flags)
{
    compat_reset();
    if (servers)
        *servers = NULL;
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_admin_connect_list_servers_args a = {.need_results = servers != NULL, .flags = flags};
    vrpc_admin_connect_list_servers_ret *r = NULL;
    if (adm_call(conn, &vrpc_pd_admin_connect_list_servers, &a, &r) < 0)
        goto error;
    if (servers) {
        virAdmServerPtr *list = calloc((size_t)r->servers.n + 1, sizeof(*list));
        if (!list) {
            compat_no_memory();
            vrpc_free(r);
            goto error;
        }
        for (uint32_t i = 0; i < r->servers.n; i++) {
            if (!(list[i] = adm_server_new(conn, r->servers.items[i].name))) {
                for (uint32_t j = 0; j < i; j++)
                    adm_server_unref(list[j]);
                free(list);
                vrpc_free(r);
                goto error;
            }
        }
        *servers = list;
    }
    int n = (int)r->ret;
    vrpc_free(r);
    return n;
error:
    compat_dispatch(NULL);
    return -1;
}

virAdmServerPtr virAdmConnectLookupServer(virAdmConnectPtr conn, const char *name,
                                          unsigned int flags)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        compat_error(VIR_FROM_ADMIN, VIR_ERR_INVALID_CONN, "invalid admin object in %s", __func__);
        goto error;
    }
    if (!name) {
        compat_invalid_arg(VIR_FROM_ADMIN, __func__, "name");
        goto error;
    }
    vrpc_admin_connect_lookup_server_args a = {.name = name, .flags = flags};
    vrpc_admin_connect_lookup_server_ret *r = NULL;
    if (adm_call(conn, &vrpc_pd_admin_connect_lookup_server, &a, &r) < 0)
        goto error;
    virAdmServerPtr s = adm_server_new(conn, r->srv.name);
    vrpc_free(r);
    if (!s)
        goto error;
    return s;
error:
    compat_dispatch(NULL);
    return NULL;
}

/* outputs / filters: the daemon's string and its count */
int virAdmConnectGetLoggingOutputs(virAdmConnectPtr conn, char **outputs, unsigned int flags)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_admin_connect_get_logging_outputs_args a = {.flags = flags};
    vrpc_admin_connect_get_logging_outputs_ret *r = NULL;
    if (adm_call(conn, &vrpc_pd_admin_connect_get_logging_outputs, &a, &r) < 0)
        goto error;
    if (outputs && !(*outputs = compat_strdup(r->outputs))) {
        vrpc_free(r);
        goto error;
    }
    int n = (int)r->noutputs;
    vrpc_free(r);
    return n;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmConnectGetLoggingFilters(virAdmConnectPtr conn, char **filters, unsigned int flags)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_admin_connect_get_logging_filters_args a = {.flags = flags};
    vrpc_admin_connect_get_logging_filters_ret *r = NULL;
    if (adm_call(conn, &vrpc_pd_admin_connect_get_logging_filters, &a, &r) < 0)
        goto error;
    if (filters) {
        *filters = NULL;
        if (r->filters && !(*filters = compat_strdup(r->filters))) {
            vrpc_free(r);
            goto error;
        }
    }
    int n = (int)r->nfilters;
    vrpc_free(r);
    return n;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmConnectSetLoggingOutputs(virAdmConnectPtr conn, const char *outputs, unsigned int flags)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_admin_connect_set_logging_outputs_args a = {.outputs = outputs, .flags = flags};
    if (adm_call(conn, &vrpc_pd_admin_connect_set_logging_outputs, &a, NULL) < 0) {
        compat_dispatch(NULL);
        return -1;
    }
    return 0;
}

int virAdmConnectSetLoggingFilters(virAdmConnectPtr conn, const char *filters, unsigned int flags)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_admin_connect_set_logging_filters_args a = {.filters = filters, .flags = flags};
    if (adm_call(conn, &vrpc_pd_admin_connect_set_logging_filters, &a, NULL) < 0) {
        compat_dispatch(NULL);
        return -1;
    }
    return 0;
}

int virAdmConnectSetDaemonTimeout(virAdmConnectPtr conn, unsigned int timeout, unsigned int flags)
{
    compat_reset();
    if (!adm_conn_ok(conn)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_admin_connect_set_daemon_timeout_args a = {.timeout = timeout, .flags = flags};
    if (adm_call(conn, &vrpc_pd_admin_connect_set_daemon_timeout, &a, NULL) < 0) {
        compat_dispatch(NULL);
        return -1;
    }
    return 0;
}

/* ---- servers ---- */

const char *virAdmServerGetName(virAdmServerPtr srv)
{
    compat_reset();
    if (!adm_server_ok(srv)) {
        adm_invalid(__func__);
        return NULL;
    }
    return srv->name;
}

int virAdmServerFree(virAdmServerPtr srv)
{
    compat_reset();
    if (!srv)
        return 0;
    if (!adm_server_ok(srv)) {
        adm_invalid(__func__);
        return -1;
    }
    adm_server_unref(srv);
    return 0;
}

/* The typed-parameter getters of servers and clients: a new array. */
static int adm_params_out(const vrpc_admin_typed_param *items, uint32_t n,
                          virTypedParameterPtr *params, int *nparams)
{
    return compat_params_from_wire((const vrpc_typed_param *)(const void *)items, n, params,
                                   nparams);
}

int virAdmServerGetThreadPoolParameters(virAdmServerPtr srv, virTypedParameterPtr *params,
                                        int *nparams, unsigned int flags)
{
    compat_reset();
    if (!adm_server_ok(srv)) {
        adm_invalid(__func__);
        return -1;
    }
    if (!params) {
        compat_invalid_arg(VIR_FROM_ADMIN, __func__, "params");
        goto error;
    }
    vrpc_admin_server_get_threadpool_parameters_args a = {.srv.name = srv->name, .flags = flags};
    vrpc_admin_server_get_threadpool_parameters_ret *r = NULL;
    if (adm_call(srv->conn, &vrpc_pd_admin_server_get_threadpool_parameters, &a, &r) < 0)
        goto error;
    int rc = adm_params_out(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    if (rc < 0)
        goto error;
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmServerGetClientLimits(virAdmServerPtr srv, virTypedParameterPtr *params, int *nparams,
                                unsigned int flags)
{
    compat_reset();
    if (!adm_server_ok(srv)) {
        compat_error(VIR_FROM_ADMIN, VIR_ERR_INVALID_CONN, "invalid admin object in %s", __func__);
        goto error;
    }
    vrpc_admin_server_get_client_limits_args a = {.srv.name = srv->name, .flags = flags};
    vrpc_admin_server_get_client_limits_ret *r = NULL;
    if (adm_call(srv->conn, &vrpc_pd_admin_server_get_client_limits, &a, &r) < 0)
        goto error;
    int rc = adm_params_out(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    if (rc < 0)
        goto error;
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

/* The setters: the caller's array to the wire. */
static int adm_params_in(const char *func, virTypedParameterPtr params, int nparams,
                         vrpc_typed_param **wire)
{
    if (!params) {
        compat_invalid_arg(VIR_FROM_ADMIN, func, "params");
        return -1;
    }
    if (nparams < 0) {
        compat_invalid_arg(VIR_FROM_ADMIN, func, "nparams");
        return -1;
    }
    return compat_params_to_wire(params, nparams, wire);
}

int virAdmServerSetThreadPoolParameters(virAdmServerPtr srv, virTypedParameterPtr params,
                                        int nparams, unsigned int flags)
{
    compat_reset();
    if (!adm_server_ok(srv)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_typed_param *w = NULL;
    if (adm_params_in(__func__, params, nparams, &w) < 0)
        goto error;
    vrpc_admin_server_set_threadpool_parameters_args a = {.srv.name = srv->name, .flags = flags};
    a.params.n = (uint32_t)nparams;
    a.params.items = (vrpc_admin_typed_param *)(void *)w;
    int rc = adm_call(srv->conn, &vrpc_pd_admin_server_set_threadpool_parameters, &a, NULL);
    free(w);
    if (rc < 0)
        goto error;
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmServerSetClientLimits(virAdmServerPtr srv, virTypedParameterPtr params, int nparams,
                                unsigned int flags)
{
    compat_reset();
    if (!adm_server_ok(srv)) {
        compat_error(VIR_FROM_ADMIN, VIR_ERR_INVALID_CONN, "invalid admin object in %s", __func__);
        goto error;
    }
    vrpc_typed_param *w = NULL;
    if (adm_params_in(__func__, params, nparams, &w) < 0)
        goto error;
    vrpc_admin_server_set_client_limits_args a = {.srv.name = srv->name, .flags = flags};
    a.params.n = (uint32_t)nparams;
    a.params.items = (vrpc_admin_typed_param *)(void *)w;
    int rc = adm_call(srv->conn, &vrpc_pd_admin_server_set_client_limits, &a, NULL);
    free(w);
    if (rc < 0)
        goto error;
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmServerUpdateTlsFiles(virAdmServerPtr srv, unsigned int flags)
{
    compat_reset();
    if (!adm_server_ok(srv)) {
        compat_error(VIR_FROM_ADMIN, VIR_ERR_INVALID_CONN, "invalid admin object in %s", __func__);
        goto error;
    }
    vrpc_admin_server_update_tls_files_args a = {.srv.name = srv->name, .flags = flags};
    if (adm_call(srv->conn, &vrpc_pd_admin_server_update_tls_files, &a, NULL) < 0)
        goto error;
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmServerListClients(virAdmServerPtr srv, virAdmClientPtr **clients, unsigned int flags)
{
    compat_reset();
    if (clients)
        *clients = NULL;
    if (!adm_server_ok(srv)) {
        adm_invalid(__func__);
        return -1;
    }
    vrpc_admin_server_list_clients_args a = {
        .srv.name = srv->name, .need_results = clients != NULL, .flags = flags};
    vrpc_admin_server_list_clients_ret *r = NULL;
    if (adm_call(srv->conn, &vrpc_pd_admin_server_list_clients, &a, &r) < 0)
        goto error;
    if (clients) {
        virAdmClientPtr *list = calloc((size_t)r->clients.n + 1, sizeof(*list));
        if (!list) {
            compat_no_memory();
            vrpc_free(r);
            goto error;
        }
        for (uint32_t i = 0; i < r->clients.n; i++) {
            if (!(list[i] = adm_client_new(srv, &r->clients.items[i]))) {
                for (uint32_t j = 0; j < i; j++)
                    adm_client_unref(list[j]);
                free(list);
                vrpc_free(r);
                goto error;
            }
        }
        *clients = list;
    }
    int n = (int)r->ret;
    vrpc_free(r);
    return n;
error:
    compat_dispatch(NULL);
    return -1;
}

virAdmClientPtr virAdmServerLookupClient(virAdmServerPtr srv, unsigned long long id,
                                         unsigned int flags)
{
    compat_reset();
    if (!adm_server_ok(srv)) {
        compat_error(VIR_FROM_ADMIN, VIR_ERR_INVALID_CONN, "invalid admin object in %s", __func__);
        goto error;
    }
    vrpc_admin_server_lookup_client_args a = {.srv.name = srv->name, .id = id, .flags = flags};
    vrpc_admin_server_lookup_client_ret *r = NULL;
    if (adm_call(srv->conn, &vrpc_pd_admin_server_lookup_client, &a, &r) < 0)
        goto error;
    virAdmClientPtr cl = adm_client_new(srv, &r->clnt);
    vrpc_free(r);
    if (!cl)
        goto error;
    return cl;
error:
    compat_dispatch(NULL);
    return NULL;
}

/* ---- clients ---- */

unsigned long long virAdmClientGetID(virAdmClientPtr client)
{
    compat_reset();
    if (!adm_client_ok(client)) {
        adm_invalid(__func__);
        return (unsigned long long)-1;
    }
    return client->id;
}

long long virAdmClientGetTimestamp(virAdmClientPtr client)
{
    compat_reset();
    if (!adm_client_ok(client)) {
        adm_invalid(__func__);
        return -1;
    }
    return client->timestamp;
}

int virAdmClientGetTransport(virAdmClientPtr client)
{
    compat_reset();
    if (!adm_client_ok(client)) {
        adm_invalid(__func__);
        return -1;
    }
    return (int)client->transport;
}

int virAdmClientGetInfo(virAdmClientPtr client, virTypedParameterPtr *params, int *nparams,
                        unsigned int flags)
{
    compat_reset();
    if (!adm_client_ok(client)) {
        adm_invalid(__func__);
        return -1;
    }
    if (!params) {
        compat_invalid_arg(VIR_FROM_ADMIN, __func__, "params");
        goto error;
    }
    vrpc_admin_client_get_info_args a = {.flags = flags};
    adm_client_to(client, &a.clnt);
    vrpc_admin_client_get_info_ret *r = NULL;
    if (adm_call(client->srv->conn, &vrpc_pd_admin_client_get_info, &a, &r) < 0)
        goto error;
    int rc = adm_params_out(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    if (rc < 0)
        goto error;
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmClientClose(virAdmClientPtr client, unsigned int flags)
{
    compat_reset();
    if (!adm_client_ok(client)) {
        compat_error(VIR_FROM_ADMIN, VIR_ERR_INVALID_CONN, "invalid admin object in %s", __func__);
        goto error;
    }
    vrpc_admin_client_close_args a = {.flags = flags};
    adm_client_to(client, &a.clnt);
    if (adm_call(client->srv->conn, &vrpc_pd_admin_client_close, &a, NULL) < 0)
        goto error;
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

int virAdmClientFree(virAdmClientPtr client)
{
    compat_reset();
    if (!client)
        return 0;
    if (!adm_client_ok(client)) {
        adm_invalid(__func__);
        return -1;
    }
    adm_client_unref(client);
    return 0;
}
