/* SPDX-License-Identifier: MIT */
/*
 * Connections: open (with libvirt's credential callbacks bridged to
 * virtrpc's), references and close, and the virConnect* functions that
 * libvirt's remote driver answers on the client side (URI, type, liveness,
 * security of the transport, keepalive, close callback).
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

atomic_bool compat_event_loop;

/* ---- credentials ---- */

static bool auth_has_type(const virConnectAuth *auth, int type)
{
    for (unsigned int i = 0; i < auth->ncredtype; i++)
        if (auth->credtype[i] == type)
            return true;
    return false;
}

/* What one open hands to the bridge below. */
struct auth_ctx {
    virConnectAuthPtr auth; /* NULL: the application gave no callback */
    bool missing;           /* a credential it cannot answer was needed */
};

/* virtrpc's credential callback calling the application's virConnectAuth.
 * libvirt offers SASL only the credential types the application lists
 * (none without a callback), so a mechanism that needs another one is not
 * usable: noted in ctx->missing, reported by open_conn() as libvirt does. */
static int auth_bridge(vrpc_auth_cred *creds, size_t n, void *userdata)
{
    struct auth_ctx *ctx = userdata;
    virConnectAuthPtr auth = ctx->auth;
    virConnectCredentialPtr vc;
    int rc;

    if (n == 0)
        return 0;
    if (!auth || !auth->cb || n > 64) {
        ctx->missing = true;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!auth_has_type(auth, creds[i].type)) {
            ctx->missing = true;
            return -1;
        }
    }
    vc = calloc(n, sizeof(*vc));
    if (!vc)
        return -1;
    for (size_t i = 0; i < n; i++) {
        vc[i].type = creds[i].type;
        vc[i].prompt = creds[i].prompt;
        vc[i].challenge = creds[i].challenge;
        vc[i].defresult = creds[i].defresult;
    }
    rc = auth->cb(vc, (unsigned int)n, auth->cbdata);
    for (size_t i = 0; i < n; i++) {
        if (rc < 0) {
            free(vc[i].result);
            continue;
        }
        /* The application's malloc()ed answer goes to virtrpc, which wipes
         * and frees it. */
        creds[i].result = vc[i].result;
        creds[i].resultlen = vc[i].result ? strlen(vc[i].result) : 0;
    }
    free(vc);
    return rc < 0 ? -1 : 0;
}

/* One line from stdin without its newline; echo off when asked and stdin
 * is a terminal. NULL at end of file or on error. */
static char *read_line(bool echo)
{
    char buf[1024];
    struct termios old, quiet;
    bool restore = false;
    char *r;
    size_t len;

    if (!echo && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    r = fgets(buf, sizeof(buf), stdin);
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stdout);
    }
    if (!r)
        return NULL;
    len = strlen(buf);
    if (len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    r = strdup(buf);
    explicit_bzero(buf, sizeof(buf));
    return r;
}

/* The default callback: asks on the terminal (stdout, stdin), as virsh
 * users know it: "PROMPT: ", the answer on one line; an empty answer takes
 * the default. */
static int default_auth_cb(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
    (void)cbdata;
    for (unsigned int i = 0; i < ncred; i++) {
        char *answer = NULL;
        bool echo = true;

        switch (cred[i].type) {
        case VIR_CRED_EXTERNAL:
            /* Only polkit's: nothing to type, the daemon decides. */
            if (!cred[i].challenge || strcmp(cred[i].challenge, "PolicyKit") != 0)
                return -1;
            continue;
        case VIR_CRED_PASSPHRASE:
        case VIR_CRED_NOECHOPROMPT:
            echo = false;
            break;
        case VIR_CRED_USERNAME:
        case VIR_CRED_AUTHNAME:
        case VIR_CRED_ECHOPROMPT:
        case VIR_CRED_REALM:
            break;
        default:
            return -1;
        }
        if (printf("%s: ", cred[i].prompt ? cred[i].prompt : "") < 0 || fflush(stdout) != 0)
            return -1;
        answer = read_line(echo);
        if (!answer && ferror(stdin))
            return -1;
        if (!answer || !*answer) {
            free(answer);
            answer = strdup(cred[i].defresult ? cred[i].defresult : "");
            if (!answer)
                return -1;
        }
        cred[i].result = answer;
        cred[i].resultlen = (unsigned int)strlen(answer);
    }
    return 0;
}

static int default_credtypes[] = {
    VIR_CRED_AUTHNAME,   VIR_CRED_ECHOPROMPT,   VIR_CRED_REALM,
    VIR_CRED_PASSPHRASE, VIR_CRED_NOECHOPROMPT, VIR_CRED_EXTERNAL,
};

static virConnectAuth default_auth = {
    default_credtypes,
    sizeof(default_credtypes) / sizeof(default_credtypes[0]),
    default_auth_cb,
    NULL,
};

virConnectAuthPtr virConnectAuthPtrDefault = &default_auth;

/* ---- open ---- */

/* The transport libvirt's remote driver would use for the URI. */
static int uri_transport(const char *uri, const vrpc_conn *c)
{
    const char *colon, *plus, *host;
    size_t tlen;

    if (vrpc_conn_get_socket_path(c))
        return COMPAT_TR_UNIX;
    if (!uri || !(colon = strchr(uri, ':')))
        return COMPAT_TR_UNIX;
    plus = memchr(uri, '+', (size_t)(colon - uri));
    if (plus) {
        const char *t = plus + 1;

        tlen = (size_t)(colon - t);
        if (tlen == 3 && strncmp(t, "tls", 3) == 0)
            return COMPAT_TR_TLS;
        if (tlen == 3 && strncmp(t, "tcp", 3) == 0)
            return COMPAT_TR_TCP;
        if (tlen == 3 && strncmp(t, "ext", 3) == 0)
            return COMPAT_TR_EXT;
        if ((tlen == 3 && strncmp(t, "ssh", 3) == 0) ||
            (tlen == 6 && strncmp(t, "libssh", 6) == 0) ||
            (tlen == 7 && strncmp(t, "libssh2", 7) == 0))
            return COMPAT_TR_SSH;
        return COMPAT_TR_UNIX;
    }
    /* No transport: TLS to a server, the local socket without one. */
    if (strncmp(colon, "://", 3) != 0)
        return COMPAT_TR_UNIX;
    host = colon + 3;
    return (*host && *host != '/' && *host != '?') ? COMPAT_TR_TLS : COMPAT_TR_UNIX;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Does the URI parse at all (RFC 3986's generic syntax, as far as libvirt's
 * parser checks it): a scheme, no space or control character, valid
 * percent-encodings, a numeric port? NULL (the default URI) counts as
 * parsed. */
static bool uri_syntax_ok(const char *u)
{
    const char *p, *auth, *end, *colon;

    if (!u || !*u)
        return true;
    if (!((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z')))
        return false;
    for (p = u + 1; *p && *p != ':'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '+' || *p == '-' || *p == '.'))
            return false;
    if (*p != ':')
        return false;
    for (const char *q = u; *q; q++) {
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return false;
        if (*q == '%' && !(is_hex(q[1]) && is_hex(q[2])))
            return false;
    }
    if (strncmp(p, "://", 3) != 0)
        return true;
    auth = p + 3;
    end = auth + strcspn(auth, "/?#");
    if (*auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(end - auth));

        if (!close)
            return false;
        colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = NULL;
        for (const char *q = auth; q < end; q++)
            if (*q == ':')
                colon = q;
        if (colon && memchr(colon, '@', (size_t)(end - colon)))
            colon = NULL;
    }
    if (colon) {
        unsigned long port = 0;

        for (const char *q = colon + 1; q < end; q++) {
            if (*q < '0' || *q > '9')
                return false;
            port = port * 10 + (unsigned long)(*q - '0');
            if (port > 65535)
                return false;
        }
    }
    return true;
}

/* VIR_DRV_FEATURE_PROGRAM_KEEPALIVE (libvirt's internal feature number). */
#define FEATURE_PROGRAM_KEEPALIVE 10

/*
 * With an event loop registered, libvirt's client has the loop watch its
 * socket from the open on (events, the end of the connection) and tells
 * the daemon it answers keepalive PINGs, without sending its own until
 * virConnectSetKeepAlive: the daemon then PINGs a silent client (its
 * keepalive_interval, 5 s by default) and drops one that stops answering.
 * A loop that refuses the watch is tolerated (no keepalive then), as
 * libvirt tolerates it.
 */
static void watch_at_open(virConnectPtr conn)
{
    vrpc_connect_supports_feature_args a = {.feature = FEATURE_PROGRAM_KEEPALIVE};
    vrpc_connect_supports_feature_ret *r = NULL;

    if (!compat_conn_watch(conn)) {
        compat_reset();
        return;
    }
    conn->keepalive_ok = true;
    if (compat_call(conn, &vrpc_pd_connect_supports_feature, &a, &r) == 0)
        vrpc_free(r);
    compat_reset();
}

static virConnectPtr open_conn(const char *name, virConnectAuthPtr auth, unsigned int flags)
{
    struct auth_ctx ctx = {auth, false};
    unsigned int vflags = 0;
    vrpc_error *err = NULL;
    vrpc_conn *c = NULL;
    virConnectPtr conn;
    const char *uri;
    int rc;

    compat_reset();
    if (flags & VIR_CONNECT_RO)
        vflags |= VRPC_OPEN_READONLY;
    if (flags & VIR_CONNECT_NO_ALIASES)
        vflags |= VRPC_OPEN_NO_ALIASES;
    rc = vrpc_conn_open_auth(&c, name, vflags, auth_bridge, &ctx, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        if (rc == VRPC_E_AUTH && ctx.missing) {
            compat_error(VIR_FROM_RPC, VIR_ERR_AUTH_FAILED,
                         "authentication failed: the SASL mechanism needs a credential the "
                         "application's callback does not provide");
        }
        if (rc == VRPC_E_URI && virGetLastErrorCode() == VIR_ERR_INVALID_ARG &&
            virGetLastErrorDomain() == VIR_FROM_URI) {
            /* libvirt reports a URI it cannot parse as an internal error of
             * the URI domain, and one its remote driver cannot use (unknown
             * transport, a parameter's value) as an invalid argument of the
             * remote domain. */
            if (uri_syntax_ok(name))
                virGetLastError()->domain = VIR_FROM_REMOTE;
            else
                virGetLastError()->code = VIR_ERR_INTERNAL_ERROR;
        }
        compat_dispatch(NULL);
        return NULL;
    }
    conn = calloc(1, sizeof(*conn));
    if (!conn || pthread_mutex_init(&conn->lock, NULL) != 0) {
        free(conn);
        vrpc_conn_close(c);
        compat_no_memory();
        compat_dispatch(NULL);
        return NULL;
    }
    conn->o.magic = COMPAT_MAGIC(COMPAT_CONNECT);
    atomic_init(&conn->o.refs, 1);
    conn->c = c;
    conn->flags = flags & VIR_CONNECT_RO;
    uri = vrpc_conn_get_uri(c);
    conn->transport = uri_transport(uri, c);
    if (uri && *uri) {
        conn->uri = strdup(uri);
    } else {
        /* Probed: the daemon says which URI it serves, as libvirt's remote
         * driver asks it. */
        vrpc_connect_get_uri_ret *ret = NULL;

        if (compat_call(conn, &vrpc_pd_connect_get_uri, NULL, &ret) < 0) {
            compat_connect_unref(conn);
            compat_dispatch(NULL);
            return NULL;
        }
        conn->uri = strdup(ret->uri);
        vrpc_free(ret);
    }
    if (!conn->uri) {
        compat_connect_unref(conn);
        compat_no_memory();
        compat_dispatch(NULL);
        return NULL;
    }
    if (atomic_load(&compat_event_loop))
        watch_at_open(conn);
    return conn;
}

virConnectPtr virConnectOpen(const char *name)
{
    return open_conn(name, NULL, 0);
}

virConnectPtr virConnectOpenReadOnly(const char *name)
{
    return open_conn(name, NULL, VIR_CONNECT_RO);
}

virConnectPtr virConnectOpenAuth(const char *name, virConnectAuthPtr auth, unsigned int flags)
{
    return open_conn(name, auth, flags);
}

/* ---- references and close ---- */

/* The end of a connection, once no callback of its watch runs. */
static void connect_finish(void *opaque)
{
    virConnectPtr conn = opaque;
    virFreeCallback close_free;
    void *close_opaque;

    pthread_mutex_lock(&conn->lock);
    close_free = conn->close_free;
    close_opaque = conn->close_opaque;
    conn->close_cb = NULL;
    conn->close_free = NULL;
    pthread_mutex_unlock(&conn->lock);
    vrpc_conn_close(conn->c);
    if (close_free)
        close_free(close_opaque);
    free(conn->err.message);
    free(conn->err.str1);
    compat_events_conn_free(conn); /* no callback is left: each holds a reference */
    free(conn->err.str2);
    free(conn->err.str3);
    free(conn->uri);
    free(conn->type);
    pthread_mutex_destroy(&conn->lock);
    free(conn);
}

int compat_connect_unref(virConnectPtr conn)
{
    int left = atomic_fetch_sub(&conn->o.refs, 1) - 1;
    compat_watch *watch;

    if (left > 0)
        return left;
    pthread_mutex_lock(&conn->lock);
    conn->closing = true; /* the client's own close is not reported */
    watch = conn->watch;
    conn->watch = NULL;
    pthread_mutex_unlock(&conn->lock);
    conn->o.magic = 0;
    /* The loop stops watching first; the connection closes once no
     * callback of the watch runs (at the end of the one under way when
     * this is called from inside it). */
    compat_watch_free_then(watch, connect_finish, conn);
    return 0;
}

int virConnectRef(virConnectPtr conn)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    atomic_fetch_add(&conn->o.refs, 1);
    return 0;
}

int virConnectClose(virConnectPtr conn)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    /* As libvirt: 1 while references remain (objects hold one each), 0
     * once the connection is closed. */
    return compat_connect_unref(conn) > 0 ? 1 : 0;
}

/* ---- answered on the client side ---- */

char *virConnectGetURI(virConnectPtr conn)
{
    char *s;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (!(s = compat_strdup(conn->uri)))
        compat_dispatch(conn);
    return s;
}

const char *virConnectGetType(virConnectPtr conn)
{
    vrpc_connect_get_type_ret *ret = NULL;
    const char *type;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return NULL;
    }
    /* Asked once and kept for the connection's life (the function returns
     * a string the caller does not free), as libvirt's remote driver does;
     * when the daemon cannot be asked libvirt answers with its driver's
     * name, "remote", leaving the error set. */
    pthread_mutex_lock(&conn->lock);
    type = conn->type;
    pthread_mutex_unlock(&conn->lock);
    if (type)
        return type;
    /* Asked without the lock (callbacks take it); the first answer stays. */
    if (compat_call(conn, &vrpc_pd_connect_get_type, NULL, &ret) == 0) {
        char *t = strdup(ret->type);

        vrpc_free(ret);
        pthread_mutex_lock(&conn->lock);
        if (!conn->type)
            conn->type = t;
        else
            free(t);
        type = conn->type;
        pthread_mutex_unlock(&conn->lock);
    }
    if (!type)
        type = "remote";
    return type;
}

int virConnectIsAlive(virConnectPtr conn)
{
    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    return vrpc_conn_get_status(conn->c) == 0 ? 1 : 0;
}

/* The daemon's CONNECT_IS_SECURE answer: 0/1, or -1 after the error. */
static int daemon_secure(virConnectPtr conn)
{
    vrpc_connect_is_secure_ret *ret = NULL;
    int secure;

    if (compat_call(conn, &vrpc_pd_connect_is_secure, NULL, &ret) < 0)
        return -1;
    secure = ret->secure ? 1 : 0;
    vrpc_free(ret);
    return secure;
}

int virConnectIsSecure(virConnectPtr conn)
{
    int secure;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if ((secure = daemon_secure(conn)) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    /* Secure when the daemon says so and the transport is: everything but
     * plain TCP and ext commands. */
    return secure && conn->transport != COMPAT_TR_TCP && conn->transport != COMPAT_TR_EXT;
}

int virConnectIsEncrypted(virConnectPtr conn)
{
    int secure;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if ((secure = daemon_secure(conn)) < 0) {
        compat_dispatch(conn);
        return -1;
    }
    /* Encrypted when the transport is (TLS) and the daemon says secure. */
    return secure && conn->transport == COMPAT_TR_TLS;
}

int virConnectSetKeepAlive(virConnectPtr conn, int interval, unsigned int count)
{
    vrpc_error *err = NULL;
    int rc;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    /* As libvirt: keepalive needs somebody to answer the daemon while the
     * application is idle, i.e. an event loop implementation registered
     * before the connection was opened (its watch then runs); libvirt's
     * client drops its keepalive when the connection ends, and says the
     * same then. */
    if (!conn->keepalive_ok || vrpc_conn_get_status(conn->c) != 0) {
        compat_error(VIR_FROM_REMOTE, VIR_ERR_INTERNAL_ERROR,
                     "keepalive needs an event loop implementation (virEventRegisterImpl or "
                     "virEventRegisterDefaultImpl) to answer the daemon");
        compat_dispatch(conn);
        return -1;
    }
    rc = vrpc_conn_set_keepalive(conn->c, interval > 0 ? (uint64_t)interval * VRPC_USEC_PER_SEC : 0,
                                 count, &err);
    if (rc == VRPC_E_UNSUPPORTED) {
        vrpc_free(err);
        return 1; /* the daemon does not support keepalive */
    }
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        compat_dispatch(conn);
        return -1;
    }
    return 0;
}

/* virtrpc's close callback: the application's, with the reason (libvirt's
 * VIR_CONNECT_CLOSE_REASON_* have virtrpc's values). As libvirt, it runs
 * once; then its freecb runs and the registration's reference goes, but the
 * callback stays registered (registering another one fails, unregistering
 * it asks the daemon). */
static void close_trampoline(vrpc_conn *c, int reason, void *opaque)
{
    virConnectPtr conn = opaque;
    virConnectCloseFunc cb;
    virFreeCallback freecb = NULL;
    void *data;

    (void)c;
    pthread_mutex_lock(&conn->lock);
    cb = conn->closing || conn->close_fired ? NULL : conn->close_cb;
    data = conn->close_opaque;
    pthread_mutex_unlock(&conn->lock);
    if (!cb)
        return;
    cb(conn, compat_watch_close_reason(reason), data);
    pthread_mutex_lock(&conn->lock);
    if (!conn->close_fired && conn->close_cb == cb) {
        conn->close_fired = true;
        freecb = conn->close_free;
        data = conn->close_opaque;
        conn->close_free = NULL;
        conn->close_opaque = NULL;
    } else {
        cb = NULL; /* unregistered meanwhile: nothing left to drop */
    }
    pthread_mutex_unlock(&conn->lock);
    if (!cb)
        return;
    if (freecb)
        freecb(data);
    /* May be the last one: the watch then closes the connection once this
     * callback has returned. */
    compat_connect_unref(conn);
}

void compat_conn_ended(virConnectPtr conn)
{
    virErrorPtr saved;
    bool watched;

    if (vrpc_conn_get_status(conn->c) == 0)
        return;
    pthread_mutex_lock(&conn->lock);
    watched = conn->watch != NULL;
    pthread_mutex_unlock(&conn->lock);
    if (watched)
        return; /* the loop reports it */
    saved = virSaveLastError();
    vrpc_conn_process(conn->c);
    compat_error_restore(&saved);
}

int virConnectRegisterCloseCallback(virConnectPtr conn, virConnectCloseFunc cb, void *opaque,
                                    virFreeCallback freecb)
{
    vrpc_error *err = NULL;
    int rc;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!cb) {
        compat_invalid_arg(compat_func_domain(__func__), __func__, "cb");
        compat_dispatch(conn);
        return -1;
    }
    pthread_mutex_lock(&conn->lock);
    if (conn->close_cb) {
        pthread_mutex_unlock(&conn->lock);
        compat_error(VIR_FROM_REMOTE, VIR_ERR_OPERATION_INVALID,
                     "a close callback is registered already on this connection");
        compat_dispatch(conn);
        return -1;
    }
    pthread_mutex_unlock(&conn->lock);
    rc = vrpc_conn_set_close_callback(conn->c, close_trampoline, conn, NULL, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        compat_dispatch(conn);
        return -1;
    }
    /* As in libvirt, the registration holds a reference to the
     * connection: virConnectClose() returns 1 until it is unregistered. */
    atomic_fetch_add(&conn->o.refs, 1);
    pthread_mutex_lock(&conn->lock);
    conn->close_cb = cb;
    conn->close_opaque = opaque;
    conn->close_free = freecb;
    pthread_mutex_unlock(&conn->lock);
    return 0;
}

int virConnectUnregisterCloseCallback(virConnectPtr conn, virConnectCloseFunc cb)
{
    vrpc_error *err = NULL;
    virFreeCallback freecb;
    void *opaque;
    bool fired;
    int rc;

    compat_reset();
    if (!compat_obj_conn(conn, COMPAT_CONNECT)) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!cb) {
        compat_invalid_arg(compat_func_domain(__func__), __func__, "cb");
        compat_dispatch(conn);
        return -1;
    }
    pthread_mutex_lock(&conn->lock);
    if (conn->close_cb != cb) {
        pthread_mutex_unlock(&conn->lock);
        compat_error(VIR_FROM_REMOTE, VIR_ERR_OPERATION_INVALID,
                     "this close callback is not the one registered on the connection");
        compat_dispatch(conn);
        return -1;
    }
    pthread_mutex_unlock(&conn->lock);
    /* libvirt asks the daemon, which fails on a connection that ended;
     * virtrpc does not ask then. */
    if (vrpc_conn_get_status(conn->c) != 0) {
        if (compat_call(conn, &vrpc_pd_connect_unregister_close_callback, NULL, NULL) < 0) {
            compat_dispatch(conn);
            return -1;
        }
    }
    rc = vrpc_conn_set_close_callback(conn->c, NULL, NULL, NULL, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        compat_dispatch(conn);
        return -1;
    }
    pthread_mutex_lock(&conn->lock);
    fired = conn->close_fired;
    freecb = conn->close_free;
    opaque = conn->close_opaque;
    conn->close_cb = NULL;
    conn->close_free = NULL;
    conn->close_opaque = NULL;
    conn->close_fired = false;
    pthread_mutex_unlock(&conn->lock);
    if (freecb)
        freecb(opaque);
    if (!fired)
        compat_connect_unref(conn); /* the registration's reference */
    return 0;
}
