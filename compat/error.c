/* SPDX-License-Identifier: MIT */
/*
 * Errors: the thread's last error, the connection's last error, the error
 * handlers, and libvirt's public error API over them.
 *
 * Each thread has its own virError (allocated on first use, freed at the
 * thread's exit by a pthread key destructor); virGetLastError() returns a
 * pointer to it, as libvirt does. The connection's copy (conn->err) and its
 * handler live under conn->lock; the global handler under a mutex of its
 * own.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_key_t err_key;
static pthread_once_t err_once = PTHREAD_ONCE_INIT;
static bool err_key_ok;

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static virErrorFunc global_handler;
static void *global_handler_data;

static void err_clear(virError *e)
{
    free(e->message);
    free(e->str1);
    free(e->str2);
    free(e->str3);
    memset(e, 0, sizeof(*e));
}

static void err_destroy(void *p)
{
    if (p) {
        err_clear(p);
        free(p);
    }
}

static void err_key_init(void)
{
    err_key_ok = pthread_key_create(&err_key, err_destroy) == 0;
}

/* The calling thread's error object, NULL when it cannot be allocated. */
static virError *thread_err(void)
{
    virError *e;

    pthread_once(&err_once, err_key_init);
    if (!err_key_ok)
        return NULL;
    e = pthread_getspecific(err_key);
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (e && pthread_setspecific(err_key, e) != 0) {
            free(e);
            e = NULL;
        }
    }
    return e;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Copy the fields libvirt copies (never conn, dom, net). */
static void err_copy(const virError *from, virError *to)
{
    err_clear(to);
    to->code = from->code;
    to->domain = from->domain;
    to->level = from->level;
    to->message = dup_or_null(from->message);
    to->str1 = dup_or_null(from->str1);
    to->str2 = dup_or_null(from->str2);
    to->str3 = dup_or_null(from->str3);
    to->int1 = from->int1;
    to->int2 = from->int2;
}

/* ---- setting the thread's error ---- */

static void set_error(int domain, int code, char *message, const char *str1, const char *str2,
                      int int1)
{
    virError *e = thread_err();
    int saved = errno;

    if (!e) {
        free(message);
        errno = saved;
        return;
    }
    err_clear(e);
    e->code = code;
    e->domain = domain;
    e->level = VIR_ERR_ERROR;
    e->message = message;
    e->str1 = dup_or_null(str1);
    e->str2 = dup_or_null(str2);
    e->int1 = int1;
    e->int2 = -1;
    errno = saved;
}

static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;

    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

void compat_reset(void)
{
    virError *e = thread_err();

    if (e)
        err_clear(e);
}

void compat_error(int domain, int code, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = vformat(fmt, ap);
    va_end(ap);
    set_error(domain, code, msg, NULL, NULL, -1);
}

void compat_error_restore(virErrorPtr *saved)
{
    virError *e;

    if (!saved || !*saved)
        return;
    e = thread_err();
    if (e)
        err_copy(*saved, e);
    virFreeError(*saved);
    *saved = NULL;
}

void compat_error_vrpc(int rc, const vrpc_error *err)
{
    virError *e;
    int code, domain;
    const char *what;

    if (err && (err->code != 0 || err->message)) {
        /* The daemon's error (or virtrpc's libvirt-style local one), field
         * by field; libvirt's client never keeps the dom and net members. */
        e = thread_err();
        if (!e)
            return;
        err_clear(e);
        e->code = err->code;
        e->domain = err->domain;
        e->level = err->level ? err->level : VIR_ERR_ERROR;
        e->message = dup_or_null(err->message);
        e->str1 = dup_or_null(err->str1);
        e->str2 = dup_or_null(err->str2);
        e->str3 = dup_or_null(err->str3);
        e->int1 = err->int1;
        e->int2 = err->int2;
        return;
    }
    /* A failure without an error object: libvirt's codes for the same
     * situations in its RPC client. */
    switch (rc) {
    case VRPC_E_NOMEM:
        code = VIR_ERR_NO_MEMORY, domain = VIR_FROM_NONE, what = "out of memory";
        break;
    case VRPC_E_IO:
        code = VIR_ERR_SYSTEM_ERROR, domain = VIR_FROM_RPC, what = "I/O error on the connection";
        break;
    case VRPC_E_CLOSED:
        code = VIR_ERR_INTERNAL_ERROR, domain = VIR_FROM_RPC, what = "the connection is closed";
        break;
    case VRPC_E_PROTO:
    case VRPC_E_TOO_BIG:
        code = VIR_ERR_RPC, domain = VIR_FROM_RPC, what = "protocol error from the daemon";
        break;
    case VRPC_E_TIMEOUT:
        code = VIR_ERR_OPERATION_TIMEOUT, domain = VIR_FROM_RPC, what = "the call timed out";
        break;
    case VRPC_E_AUTH:
        code = VIR_ERR_AUTH_FAILED, domain = VIR_FROM_RPC, what = "authentication failed";
        break;
    case VRPC_E_UNSUPPORTED:
        code = VIR_ERR_NO_SUPPORT, domain = VIR_FROM_RPC, what = "operation not supported";
        break;
    case VRPC_E_INVALID:
        code = VIR_ERR_INVALID_ARG, domain = VIR_FROM_RPC, what = "invalid argument";
        break;
    case VRPC_E_URI:
        code = VIR_ERR_INTERNAL_ERROR, domain = VIR_FROM_URI, what = "invalid URI";
        break;
    case VRPC_E_CONNECT:
        code = VIR_ERR_SYSTEM_ERROR, domain = VIR_FROM_RPC, what = "cannot connect to the daemon";
        break;
    default:
        code = VIR_ERR_INTERNAL_ERROR, domain = VIR_FROM_RPC, what = "the call failed";
        break;
    }
    compat_error(domain, code, "%s (%s)", what, vrpc_strerror(rc));
}

/*
 * libvirt's VIR_FROM_THIS of the file that defines a public function:
 * argument errors of the connection and of plain arguments are reported
 * with it. Derived from the function's name.
 */
static int func_domain(const char *func)
{
    static const struct {
        const char *prefix;
        int domain;
    } pre[] = {
        {"virDomainSnapshot", VIR_FROM_DOMAIN_SNAPSHOT},
        {"virDomainCheckpoint", VIR_FROM_DOMAIN_CHECKPOINT},
        {"virDomainQemu", VIR_FROM_NONE},
        {"virDomainLxc", VIR_FROM_NONE},
        {"virConnectDomainQemu", VIR_FROM_NONE},
        {"virConnectOpen", VIR_FROM_NONE},
        {"virConnectClose", VIR_FROM_NONE},
        {"virDomain", VIR_FROM_DOMAIN},
        {"virNetwork", VIR_FROM_NETWORK},
        {"virInterface", VIR_FROM_INTERFACE},
        {"virStorage", VIR_FROM_STORAGE},
        {"virNodeDevice", VIR_FROM_NODEDEV},
        {"virNodeNumOfDevices", VIR_FROM_NODEDEV},
        {"virNodeListDevices", VIR_FROM_NODEDEV},
        {"virSecret", VIR_FROM_SECRET},
        {"virNWFilter", VIR_FROM_NWFILTER},
        {"virStream", VIR_FROM_STREAMS},
        {"virNode", VIR_FROM_DOMAIN},
        {"virAdm", VIR_FROM_ADMIN},
    };
    static const struct {
        const char *word;
        int domain;
    } conn_words[] = {
        {"NWFilter", VIR_FROM_NWFILTER},   {"Network", VIR_FROM_NETWORK},
        {"Interface", VIR_FROM_INTERFACE}, {"StoragePool", VIR_FROM_STORAGE},
        {"NodeDevice", VIR_FROM_NODEDEV},  {"Secret", VIR_FROM_SECRET},
    };

    if (!func)
        return VIR_FROM_NONE;
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
        if (strncmp(func, pre[i].prefix, strlen(pre[i].prefix)) == 0)
            return pre[i].domain;
    if (strncmp(func, "virConnect", 10) == 0) {
        for (size_t i = 0; i < sizeof(conn_words) / sizeof(conn_words[0]); i++)
            if (strstr(func + 10, conn_words[i].word))
                return conn_words[i].domain;
        return VIR_FROM_DOMAIN;
    }
    return VIR_FROM_NONE;
}

int compat_func_domain(const char *func)
{
    return func_domain(func);
}

void compat_invalid_arg(int domain, const char *func, const char *arg)
{
    char *msg = NULL;

    if (asprintf(&msg, "invalid argument %s of %s", arg ? arg : "?", func ? func : "?") < 0)
        msg = NULL;
    set_error(domain, VIR_ERR_INVALID_ARG, msg, func, arg, 0);
}

void compat_no_memory(void)
{
    set_error(VIR_FROM_NONE, VIR_ERR_NO_MEMORY, strdup("out of memory"), NULL, NULL, -1);
}

void compat_no_support(const char *func)
{
    compat_error(func_domain(func), VIR_ERR_NO_SUPPORT, "%s is not supported by virtrpc's libvirt",
                 func ? func : "this function");
}

void compat_dispatch(virConnectPtr conn)
{
    virError *e = thread_err();
    virErrorFunc handler;
    void *data;

    if (!e)
        return;
    if (e->code == VIR_ERR_OK) {
        /* A failure that set no error: say so rather than nothing. */
        set_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                  strdup("the call failed without saying why"), NULL, NULL, -1);
    }
    pthread_mutex_lock(&handler_lock);
    handler = global_handler;
    data = global_handler_data;
    pthread_mutex_unlock(&handler_lock);
    if (conn) {
        pthread_mutex_lock(&conn->lock);
        err_copy(e, &conn->err);
        if (conn->handler) {
            handler = conn->handler;
            data = conn->handler_data;
        }
        pthread_mutex_unlock(&conn->lock);
    }
    if (handler)
        handler(data, e);
    else
        virDefaultErrorFunc(e);
}

char *compat_strdup(const char *s)
{
    char *r;

    if (!s)
        return NULL;
    r = strdup(s);
    if (!r)
        compat_no_memory();
    return r;
}

int compat_call(virConnectPtr conn, const vrpc_proc *proc, const void *args, void *ret)
{
    vrpc_error *err = NULL;
    void *r = NULL;
    int rc;

    if (vrpc_conn_get_status(conn->c) != 0) {
        /* Known closed: libvirt's client fails such calls without sending,
         * with an internal error of the RPC domain (the call that found the
         * connection dead reported why). */
        compat_error(VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR,
                     "the connection to the daemon is closed");
        return -1;
    }
    rc = vrpc_call(conn->c, proc, args, ret ? &r : NULL, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        compat_conn_ended(conn);
        return -1;
    }
    if (ret)
        *(void **)ret = r;
    else
        vrpc_free(r);
    return 0;
}

/* ---- libvirt's public error API ---- */

virErrorPtr virGetLastError(void)
{
    virError *e = thread_err();

    if (!e || e->code == VIR_ERR_OK)
        return NULL;
    return e;
}

int virGetLastErrorCode(void)
{
    virError *e = thread_err();

    return e ? e->code : VIR_ERR_OK;
}

int virGetLastErrorDomain(void)
{
    virError *e = thread_err();

    return e ? e->domain : VIR_FROM_NONE;
}

const char *virGetLastErrorMessage(void)
{
    virError *e = thread_err();

    if (e && e->code == VIR_ERR_OK)
        return "no error";
    if (!e || !e->message)
        return "unknown error";
    return e->message;
}

int virCopyLastError(virErrorPtr to)
{
    virError *e = thread_err();

    if (!to)
        return -1;
    memset(to, 0, sizeof(*to));
    if (e) {
        err_copy(e, to);
    } else {
        to->code = VIR_ERR_NO_MEMORY;
        to->domain = VIR_FROM_NONE;
        to->level = VIR_ERR_ERROR;
    }
    return to->code;
}

virErrorPtr virSaveLastError(void)
{
    int saved = errno;
    virError *to = calloc(1, sizeof(*to));

    if (to)
        virCopyLastError(to);
    errno = saved;
    return to;
}

void virResetLastError(void)
{
    compat_reset();
}

void virResetError(virErrorPtr err)
{
    if (err)
        err_clear(err);
}

void virFreeError(virErrorPtr err)
{
    if (err) {
        err_clear(err);
        free(err);
    }
}

void virSetErrorFunc(void *userData, virErrorFunc handler)
{
    pthread_mutex_lock(&handler_lock);
    global_handler = handler;
    global_handler_data = userData;
    pthread_mutex_unlock(&handler_lock);
}

void virConnSetErrorFunc(virConnectPtr conn, void *userData, virErrorFunc handler)
{
    if (!conn)
        return;
    pthread_mutex_lock(&conn->lock);
    conn->handler = handler;
    conn->handler_data = userData;
    pthread_mutex_unlock(&conn->lock);
}

virErrorPtr virConnGetLastError(virConnectPtr conn)
{
    if (!conn)
        return NULL;
    return &conn->err;
}

int virConnCopyLastError(virConnectPtr conn, virErrorPtr to)
{
    if (!to)
        return -1;
    memset(to, 0, sizeof(*to));
    if (!conn)
        return -1;
    pthread_mutex_lock(&conn->lock);
    if (conn->err.code != VIR_ERR_OK)
        err_copy(&conn->err, to);
    pthread_mutex_unlock(&conn->lock);
    return to->code;
}

void virConnResetLastError(virConnectPtr conn)
{
    if (!conn)
        return;
    pthread_mutex_lock(&conn->lock);
    err_clear(&conn->err);
    pthread_mutex_unlock(&conn->lock);
}

/* The names libvirt's default handler prints for each error domain
 * (VIR_FROM_*, by value): part of the output format programs see. */
static const char *const domain_names[] = {
    "",
    "Xen Driver",
    "Xen Daemon",
    "Xen Store",
    "S-Expression",
    "XML Util",
    "Domain",
    "XML-RPC",
    "Proxy Daemon",
    "Config File",
    "QEMU Driver",
    "Network",
    "Test Driver",
    "Remote Driver",
    "OpenVZ Driver",
    "Xen XM Driver",
    "Linux Statistics",
    "LXC Driver",
    "Storage Driver",
    "Network Driver",
    "Domain Config",
    "User Mode Linux Driver",
    "Node Device Driver",
    "Xen Inotify Driver",
    "Security Driver",
    "VirtualBox Driver",
    "Network Interface Driver",
    "Open Nebula Driver",
    "ESX Driver",
    "Power Hypervisor Driver",
    "Secrets Driver",
    "CPU Driver",
    "XenAPI Driver",
    "Network Filter Driver",
    "Lifecycle Hook",
    "Domain Snapshot",
    "Audit Utils",
    "Sysinfo Utils",
    "I/O Stream Utils",
    "VMware Driver",
    "Event Loop",
    "Xen Light Driver",
    "Lock Driver",
    "Hyper-V Driver",
    "Capabilities Utils",
    "URI Utils",
    "Authentication Utils",
    "DBus Utils",
    "Parallels Cloud Server",
    "Device Config",
    "SSH transport layer",
    "Lock Space",
    "Init control",
    "Identity",
    "Cgroup",
    "Access Manager",
    "Systemd",
    "Bhyve",
    "Crypto",
    "Firewall",
    "Polkit",
    "Thread jobs",
    "Admin Interface",
    "Log Manager",
    "Xen XL Config",
    "Perf",
    "Libssh transport layer",
    "Resource control",
    "FirewallD",
    "Domain Checkpoint",
    "TPM",
    "BPF",
    "Cloud-Hypervisor Driver",
};

void virDefaultErrorFunc(virErrorPtr err)
{
    const char *lvl = "", *dom = "Unknown", *obj = "", *msg;
    size_t len;

    if (!err || err->code == VIR_ERR_OK)
        return;
    if (err->level == VIR_ERR_WARNING)
        lvl = "warning";
    else if (err->level == VIR_ERR_ERROR)
        lvl = "error";
    if (err->domain >= 0 && (size_t)err->domain < sizeof(domain_names) / sizeof(domain_names[0]))
        dom = domain_names[err->domain];
    /* The object name slot of the format: libvirt no longer fills the
     * error's deprecated dom and net members, and neither do we. */
    msg = err->message ? err->message : "";
    len = strlen(msg);
    if (err->domain == VIR_FROM_XML && err->code == VIR_ERR_XML_DETAIL && err->int1 != 0)
        fprintf(stderr, "libvirt: %s %s %s: line %d: %s", dom, lvl, obj, err->int1, msg);
    else
        fprintf(stderr, "libvirt: %s %s %s: %s%s", dom, lvl, obj, msg,
                len && msg[len - 1] == '\n' ? "" : "\n");
}
