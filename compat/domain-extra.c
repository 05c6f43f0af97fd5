/* SPDX-License-Identifier: MIT */
/*
 * Hand-written calls whose C form the generator cannot derive from the
 * protocol: out values that are optional or cached on the object, opaque
 * values with a size_t length, string arrays in, and the calls that pass
 * file descriptors.
 */
#include "compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libvirt's read-only check, in the error domain of the public function's
 * source file (VIR_FROM_THIS there). True after setting the error. */
static bool denied(virConnectPtr conn, int domain, const char *func)
{
    if (!(conn->flags & VIR_CONNECT_RO))
        return false;
    compat_error(domain, VIR_ERR_OPERATION_DENIED, "%s is not allowed on a read-only connection",
                 func);
    return true;
}

/* ---- scalar results ---- */

int virDomainGetState(virDomainPtr domain, int *state, int *reason, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!state) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "state");
        goto error;
    }
    vrpc_domain_get_state_args args = {.flags = flags};
    compat_domain_to(domain, &args.dom);
    vrpc_domain_get_state_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_state, &args, &r) < 0)
        goto error;
    *state = r->state;
    if (reason)
        *reason = r->reason;
    vrpc_free(r);
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

int virDomainGetTime(virDomainPtr dom, long long *seconds, unsigned int *nseconds,
                     unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    /* libvirt's client writes both outputs unconditionally; a NULL one is
     * refused here instead of crashing. */
    if (!seconds) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "seconds");
        goto error;
    }
    if (!nseconds) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "nseconds");
        goto error;
    }
    *seconds = 0;
    *nseconds = 0;
    vrpc_domain_get_time_args args = {.flags = flags};
    compat_domain_to(dom, &args.dom);
    vrpc_domain_get_time_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_time, &args, &r) < 0)
        goto error;
    *seconds = r->seconds;
    *nseconds = r->nseconds;
    vrpc_free(r);
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- node devices ---- */

/*
 * The parent's name is asked once and kept on the object (libvirt does the
 * same; the string belongs to the object and lives as long as it). A failed
 * call leaves the error set without dispatching it, as libvirt does.
 */
const char *virNodeDeviceGetParent(virNodeDevicePtr dev)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dev, COMPAT_NODE_DEVICE);
    if (!conn) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (dev->parent)
        return dev->parent;

    vrpc_node_device_get_parent_args args = {.name = dev->name};
    vrpc_node_device_get_parent_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_device_get_parent, &args, &r) < 0)
        return NULL;
    char *parent = r->parentName ? compat_strdup(r->parentName) : NULL;
    vrpc_free(r);
    if (!parent)
        return NULL;
    /* Two threads may ask at once: the first answer stays, the other is
     * dropped, so a pointer handed out is never freed under its user. */
    char *expected = NULL;
    if (!__atomic_compare_exchange_n(&dev->parent, &expected, parent, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        free(parent);
        return expected;
    }
    return parent;
}

/* ---- storage ---- */

char *virConnectFindStoragePoolSources(virConnectPtr conn, const char *type, const char *srcSpec,
                                       unsigned int flags)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!type) {
        compat_invalid_arg(VIR_FROM_STORAGE, __func__, "type");
        goto error;
    }
    if (denied(conn, VIR_FROM_STORAGE, __func__))
        goto error;
    vrpc_connect_find_storage_pool_sources_args args = {
        .type = type, .srcSpec = srcSpec, .flags = flags};
    vrpc_connect_find_storage_pool_sources_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_connect_find_storage_pool_sources, &args, &r) < 0)
        goto error;
    char *xml = compat_strdup(r->xml);
    vrpc_free(r);
    if (xml)
        return xml;
error:
    compat_dispatch(conn);
    return NULL;
}

/* ---- CPU baselines (string arrays in) ---- */

/* Checks the caller's array of ncpus CPU descriptions before it is sent:
 * the protocol carries at most VRPC_CPU_BASELINE_MAX and no NULL entry. */
static int check_cpus(const char *func, const char **xmlCPUs, unsigned int ncpus)
{
    if (!xmlCPUs) {
        compat_invalid_arg(VIR_FROM_DOMAIN, func, "xmlCPUs");
        return -1;
    }
    if (ncpus > VRPC_CPU_BASELINE_MAX) {
        compat_error(VIR_FROM_RPC, VIR_ERR_RPC, "%s: %u CPU descriptions, at most %u can be sent",
                     func, ncpus, (unsigned int)VRPC_CPU_BASELINE_MAX);
        return -1;
    }
    for (unsigned int i = 0; i < ncpus; i++) {
        if (!xmlCPUs[i]) {
            compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                         "%s: CPU description %u of xmlCPUs is NULL", func, i);
            return -1;
        }
    }
    return 0;
}

char *virConnectBaselineCPU(virConnectPtr conn, const char **xmlCPUs, unsigned int ncpus,
                            unsigned int flags)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (check_cpus(__func__, xmlCPUs, ncpus) < 0)
        goto error;
    vrpc_connect_baseline_cpu_args args = {.flags = flags};
    args.xmlCPUs.n = ncpus;
    args.xmlCPUs.items = xmlCPUs;
    vrpc_connect_baseline_cpu_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_connect_baseline_cpu, &args, &r) < 0)
        goto error;
    char *cpu = compat_strdup(r->cpu);
    vrpc_free(r);
    if (cpu)
        return cpu;
error:
    compat_dispatch(conn);
    return NULL;
}

char *virConnectBaselineHypervisorCPU(virConnectPtr conn, const char *emulator, const char *arch,
                                      const char *machine, const char *virttype,
                                      const char **xmlCPUs, unsigned int ncpus, unsigned int flags)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!xmlCPUs) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "xmlCPUs");
        goto error;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__) || check_cpus(__func__, xmlCPUs, ncpus) < 0)
        goto error;
    vrpc_connect_baseline_hypervisor_cpu_args args = {.emulator = emulator,
                                                      .arch = arch,
                                                      .machine = machine,
                                                      .virttype = virttype,
                                                      .flags = flags};
    args.xmlCPUs.n = ncpus;
    args.xmlCPUs.items = xmlCPUs;
    vrpc_connect_baseline_hypervisor_cpu_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_connect_baseline_hypervisor_cpu, &args, &r) < 0)
        goto error;
    char *cpu = compat_strdup(r->cpu);
    vrpc_free(r);
    if (cpu)
        return cpu;
error:
    compat_dispatch(conn);
    return NULL;
}

/* ---- secrets (opaque values) ---- */

unsigned char *virSecretGetValue(virSecretPtr secret, size_t *value_size, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(secret, COMPAT_SECRET);
    if (!conn) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (denied(conn, VIR_FROM_SECRET, __func__))
        goto error;
    if (!value_size) {
        compat_invalid_arg(VIR_FROM_SECRET, __func__, "value_size");
        goto error;
    }
    vrpc_secret_get_value_args args = {.flags = flags};
    compat_secret_to(secret, &args.secret);
    vrpc_secret_get_value_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_secret_get_value, &args, &r) < 0)
        goto error;
    /* r->value.len is bounded by the decoder (REMOTE_SECRET_VALUE_MAX). An
     * empty value is a valid answer: one byte is allocated so that it is
     * not mistaken for a failure. */
    unsigned char *value = malloc(r->value.len ? r->value.len : 1);
    if (!value) {
        compat_no_memory();
        vrpc_free(r);
        goto error;
    }
    if (r->value.len)
        memcpy(value, r->value.data, r->value.len);
    *value_size = r->value.len;
    vrpc_free(r);
    return value;
error:
    compat_dispatch(conn);
    return NULL;
}

int virSecretSetValue(virSecretPtr secret, const unsigned char *value, size_t value_size,
                      unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(secret, COMPAT_SECRET);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_SECRET, __func__))
        goto error;
    if (!value) {
        compat_invalid_arg(VIR_FROM_SECRET, __func__, "value");
        goto error;
    }
    /* The length travels as 32 bits: refuse what would be cut short. */
    if (value_size > VRPC_SECRET_VALUE_MAX) {
        compat_error(VIR_FROM_SECRET, VIR_ERR_INVALID_ARG,
                     "%s: a secret value of %zu bytes exceeds the protocol's %u", __func__,
                     value_size, (unsigned int)VRPC_SECRET_VALUE_MAX);
        goto error;
    }
    vrpc_secret_set_value_args args = {.flags = flags};
    compat_secret_to(secret, &args.secret);
    args.value.len = (uint32_t)value_size;
    args.value.data = (uint8_t *)value;
    if (compat_call(conn, &vrpc_pd_secret_set_value, &args, NULL) < 0)
        goto error;
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- guest agent ---- */

int virDomainSetUserPassword(virDomainPtr dom, const char *user, const char *password,
                             unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    if (!user) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "user");
        goto error;
    }
    if (!password) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "password");
        goto error;
    }
    vrpc_domain_set_user_password_args args = {.user = user, .password = password, .flags = flags};
    compat_domain_to(dom, &args.dom);
    if (compat_call(conn, &vrpc_pd_domain_set_user_password, &args, NULL) < 0)
        goto error;
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

int virDomainAuthorizedSSHKeysSet(virDomainPtr domain, const char *user, const char **keys,
                                  unsigned int nkeys, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!user) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "user");
        goto error;
    }
    if ((flags & VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND) ||
        (flags & VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE)) {
        if (!keys) {
            compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "keys");
            goto error;
        }
    }
    if ((flags & VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND) &&
        (flags & VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE)) {
        /* libvirt returns here without dispatching the error. */
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "%s: VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND and "
                     "VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE cannot be given together",
                     __func__);
        return -1;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    if (nkeys > VRPC_DOMAIN_AUTHORIZED_SSH_KEYS_MAX) {
        compat_error(VIR_FROM_RPC, VIR_ERR_RPC, "%s: %u keys, at most %u can be sent", __func__,
                     nkeys, (unsigned int)VRPC_DOMAIN_AUTHORIZED_SSH_KEYS_MAX);
        goto error;
    }
    for (unsigned int i = 0; keys && i < nkeys; i++) {
        if (!keys[i]) {
            compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, "%s: key %u is NULL", __func__, i);
            goto error;
        }
    }
    vrpc_domain_authorized_ssh_keys_set_args args = {.user = user, .flags = flags};
    compat_domain_to(domain, &args.dom);
    args.keys.n = keys ? nkeys : 0;
    args.keys.items = keys;
    if (compat_call(conn, &vrpc_pd_domain_authorized_ssh_keys_set, &args, NULL) < 0)
        goto error;
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- file descriptors ---- */

/* Does the connection pass descriptors? Asks the daemon, as libvirt's client
 * does (VIR_DRV_FEATURE_FD_PASSING of libvirt's internal feature list).
 * Returns 1; or 0 or -1 after setting the error. */
#define COMPAT_FEATURE_FD_PASSING 8

static int fd_passing(virConnectPtr conn)
{
    vrpc_connect_supports_feature_args args = {.feature = COMPAT_FEATURE_FD_PASSING};
    vrpc_connect_supports_feature_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_connect_supports_feature, &args, &r) < 0)
        return -1;
    int supported = r->supported;
    vrpc_free(r);
    if (!supported) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_ARGUMENT_UNSUPPORTED,
                     "this connection cannot pass file descriptors");
        return 0;
    }
    return 1;
}

/* One call that sends and/or receives descriptors. Returns 0, or -1 after
 * setting the error (no received descriptor is then left open). */
static int fd_call(virConnectPtr conn, const vrpc_proc *proc, const void *args, const int *in,
                   size_t n_in, void **ret, int **out, size_t *n_out)
{
    /* Without descriptors either way this is an ordinary call (any transport). */
    if (n_in == 0 && !out)
        return compat_call(conn, proc, args, ret);
    if (vrpc_conn_get_status(conn->c) != 0) {
        /* Known closed: refused without sending, as compat_call() does. */
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR,
                     "the connection to the daemon is closed");
        return -1;
    }
    vrpc_error *err = NULL;
    int rc = vrpc_call_fds(conn->c, proc, args, in, n_in, ret, out, n_out, &err);
    if (rc == VRPC_E_UNSUPPORTED) {
        /* Only Unix sockets carry descriptors. libvirt's client reports
         * the same code and domain, but only after sending the call. */
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR,
                     "file descriptors can only be passed over a Unix socket");
        vrpc_free(err);
        return -1;
    }
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        return -1;
    }
    return 0;
}

int virDomainOpenGraphics(virDomainPtr dom, unsigned int idx, int fd, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (fd < 0) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, "%s: fd must not be negative (%d)",
                     __func__, fd);
        goto error;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int e = errno;
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_SYSTEM_ERROR, "cannot stat descriptor %d: %s", fd,
                     strerror(e));
        goto error;
    }
    if (!S_ISSOCK(sb.st_mode)) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, "%s: descriptor %d is not a socket",
                     __func__, fd);
        goto error;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__) || fd_passing(conn) <= 0)
        goto error;
    vrpc_domain_open_graphics_args args = {.idx = idx, .flags = flags};
    compat_domain_to(dom, &args.dom);
    void *r = NULL;
    if (fd_call(conn, &vrpc_pd_domain_open_graphics, &args, &fd, 1, &r, NULL, NULL) < 0)
        goto error;
    vrpc_free(r);
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

int virDomainOpenGraphicsFD(virDomainPtr dom, unsigned int idx, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__) || fd_passing(conn) <= 0)
        goto error;
    vrpc_domain_open_graphics_fd_args args = {.idx = idx, .flags = flags};
    compat_domain_to(dom, &args.dom);
    void *r = NULL;
    int *fds = NULL;
    size_t nfds = 0;
    if (fd_call(conn, &vrpc_pd_domain_open_graphics_fd, &args, NULL, 0, &r, &fds, &nfds) < 0)
        goto error;
    vrpc_free(r);
    if (nfds != 1) {
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        vrpc_free(fds);
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR,
                     "the daemon sent %zu file descriptors instead of one", nfds);
        goto error;
    }
    int fd = fds[0];
    vrpc_free(fds);
    return fd;
error:
    compat_dispatch(conn);
    return -1;
}

/* The caller's descriptors of a *WithFiles or FDAssociate call, checked. */
static int check_files(const char *func, unsigned int nfiles, const int *files)
{
    if (nfiles && !files) {
        compat_invalid_arg(VIR_FROM_DOMAIN, func, "files");
        return -1;
    }
    return 0;
}

int virDomainCreateWithFiles(virDomainPtr domain, unsigned int nfiles, int *files,
                             unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    if (nfiles > 0 && (check_files(__func__, nfiles, files) < 0 || fd_passing(conn) <= 0))
        goto error;
    vrpc_domain_create_with_files_args args = {.flags = flags};
    compat_domain_to(domain, &args.dom);
    vrpc_domain_create_with_files_ret *r = NULL;
    if (fd_call(conn, &vrpc_pd_domain_create_with_files, &args, files, nfiles, (void **)&r, NULL,
                NULL) < 0)
        goto error;
    /* The domain now runs: it has an id. */
    domain->id = r->dom.id;
    vrpc_free(r);
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

virDomainPtr virDomainCreateXMLWithFiles(virConnectPtr conn, const char *xmlDesc,
                                         unsigned int nfiles, int *files, unsigned int flags)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!xmlDesc) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "xmlDesc");
        goto error;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    if (nfiles > 0 && (check_files(__func__, nfiles, files) < 0 || fd_passing(conn) <= 0))
        goto error;
    vrpc_domain_create_xml_with_files_args args = {.xml_desc = xmlDesc, .flags = flags};
    vrpc_domain_create_xml_with_files_ret *r = NULL;
    if (fd_call(conn, &vrpc_pd_domain_create_xml_with_files, &args, files, nfiles, (void **)&r,
                NULL, NULL) < 0)
        goto error;
    virDomainPtr dom = compat_domain_from(conn, &r->dom);
    vrpc_free(r);
    if (dom)
        return dom;
error:
    compat_dispatch(conn);
    return NULL;
}

int virDomainFDAssociate(virDomainPtr domain, const char *name, unsigned int nfds, int *fds,
                         unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (fd_passing(conn) <= 0)
        goto error;
    if (nfds == 0) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, "%s: nfds must not be zero", __func__);
        goto error;
    }
    if (!fds) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "fds");
        goto error;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    /* libvirt sends the name as a non-NULL string: refuse NULL here rather
     * than fail in the encoder. */
    if (!name) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "name");
        goto error;
    }
    vrpc_domain_fd_associate_args args = {.name = name, .flags = flags};
    compat_domain_to(domain, &args.dom);
    void *r = NULL;
    if (fd_call(conn, &vrpc_pd_domain_fd_associate, &args, fds, nfds, &r, NULL, NULL) < 0)
        goto error;
    vrpc_free(r);
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

/* ---- calls libvirt's client writes by hand (no mechanical rule) ---- */

/* DOMAIN_CREATE returns nothing: the new id comes from a lookup by UUID, as
 * libvirt's client does. */
int virDomainCreate(virDomainPtr domain)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    vrpc_domain_create_args args;
    compat_domain_to(domain, &args.dom);
    if (compat_call(conn, &vrpc_pd_domain_create, &args, NULL) < 0)
        goto error;
    vrpc_domain_lookup_by_uuid_args largs;
    memcpy(largs.uuid, domain->uuid, sizeof(largs.uuid));
    vrpc_domain_lookup_by_uuid_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_lookup_by_uuid, &largs, &r) < 0)
        goto error;
    domain->id = r->dom.id;
    vrpc_free(r);
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}

/* The name changes on the object only when the daemon says it did. */
int virDomainRename(virDomainPtr dom, const char *new_name, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dom, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!new_name) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "new_name");
        goto error;
    }
    if (!*new_name) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, "%s: new_name must not be empty",
                     __func__);
        goto error;
    }
    if (denied(conn, VIR_FROM_DOMAIN, __func__))
        goto error;
    char *copy = compat_strdup(new_name);
    if (!copy)
        goto error;
    vrpc_domain_rename_args args = {.new_name = new_name, .flags = flags};
    compat_domain_to(dom, &args.dom);
    vrpc_domain_rename_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_rename, &args, &r) < 0) {
        free(copy);
        goto error;
    }
    int rc = r->retcode;
    vrpc_free(r);
    if (rc == 0) {
        char *old = dom->name;
        dom->name = copy;
        free(old);
    } else {
        free(copy);
    }
    return rc;
error:
    compat_dispatch(conn);
    return -1;
}

/* The PCI device calls: only the device's name travels (the three argument
 * structs are one string each). Returns 0, or -1 after setting the error. */
static int nodedev_call(virConnectPtr conn, virNodeDevicePtr dev, const vrpc_proc *proc,
                        const char *func)
{
    if (denied(conn, VIR_FROM_NODEDEV, func))
        return -1;
    vrpc_node_device_dettach_args args = {.name = dev->name};
    return compat_call(conn, proc, &args, NULL);
}

_Static_assert(sizeof(vrpc_node_device_dettach_args) == sizeof(vrpc_node_device_re_attach_args) &&
                   sizeof(vrpc_node_device_dettach_args) == sizeof(vrpc_node_device_reset_args),
               "one string each");

int virNodeDeviceDettach(virNodeDevicePtr dev)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dev, COMPAT_NODE_DEVICE);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (nodedev_call(conn, dev, &vrpc_pd_node_device_dettach, __func__) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    return 0;
}

int virNodeDeviceReAttach(virNodeDevicePtr dev)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dev, COMPAT_NODE_DEVICE);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (nodedev_call(conn, dev, &vrpc_pd_node_device_re_attach, __func__) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    return 0;
}

int virNodeDeviceReset(virNodeDevicePtr dev)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dev, COMPAT_NODE_DEVICE);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (nodedev_call(conn, dev, &vrpc_pd_node_device_reset, __func__) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    return 0;
}

int virNodeDeviceDetachFlags(virNodeDevicePtr dev, const char *driverName, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(dev, COMPAT_NODE_DEVICE);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (denied(conn, VIR_FROM_NODEDEV, __func__))
        goto error;
    vrpc_node_device_detach_flags_args args = {
        .name = dev->name, .driverName = driverName, .flags = flags};
    if (compat_call(conn, &vrpc_pd_node_device_detach_flags, &args, NULL) < 0)
        goto error;
    return 0;
error:
    compat_dispatch(conn);
    return -1;
}
