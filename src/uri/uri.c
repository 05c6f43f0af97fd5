/* SPDX-License-Identifier: MIT */
/* URI parsing and the remote driver's URI rules (see uri.h). */
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "conf.h"
#include "error.h"
#include "uri.h"

#define URI_ERR(err, ...) vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_URI, __VA_ARGS__)

/* ---- small string helpers ---- */

static char *xstrndup(const char *s, size_t n)
{
    char *d = vrpc_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *ns;
        while (cap < b->len + n + 1)
            cap *= 2;
        ns = vrpc_realloc(b->s, cap);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* The built string (caller frees), or NULL when out of memory. */
static char *sb_take(sbuf *b)
{
    if (b->oom) {
        vrpc_free(b->s);
        return NULL;
    }
    if (!b->s)
        return vrpc_strdup("");
    return b->s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into a new string. */
static int pct_decode(const char *s, size_t n, char **out, const char *what, vrpc_error **err)
{
    char *d = vrpc_malloc(n + 1);
    size_t i, j = 0;

    *out = NULL;
    if (!d)
        return VRPC_E_NOMEM;
    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[j++] = s[i];
            continue;
        }
        if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
            URI_ERR(err, "invalid percent-encoding '%.*s' in %s", (int)(n - i < 3 ? n - i : 3),
                    s + i, what);
            vrpc_free(d);
            return VRPC_E_URI;
        }
        d[j] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        if (d[j] == '\0') {
            URI_ERR(err, "percent-encoded NUL byte in %s", what);
            vrpc_free(d);
            return VRPC_E_URI;
        }
        j++;
        i += 2;
    }
    d[j] = '\0';
    *out = d;
    return 0;
}

/* ---- the general parser ---- */

void vrpc_uri_free(vrpc_uri *u)
{
    size_t i;
    if (!u)
        return;
    vrpc_free(u->scheme);
    vrpc_free(u->user);
    vrpc_free(u->host);
    vrpc_free(u->path);
    vrpc_free(u->path_raw);
    vrpc_free(u->query_raw);
    vrpc_free(u->fragment_raw);
    for (i = 0; i < u->nparams; i++) {
        vrpc_free(u->params[i].name);
        vrpc_free(u->params[i].value);
        vrpc_free(u->params[i].raw);
    }
    vrpc_free(u->params);
    vrpc_free(u);
}

static int parse_query(vrpc_uri *u, vrpc_error **err)
{
    const char *q = u->query_raw;
    size_t count = 1, i;
    int rc;

    for (i = 0; q[i]; i++)
        if (q[i] == '&' || q[i] == ';')
            count++;
    u->params = vrpc_calloc(count, sizeof(*u->params));
    if (!u->params)
        return VRPC_E_NOMEM;
    while (*q) {
        size_t seg = strcspn(q, "&;");
        if (seg > 0) {
            vrpc_uri_param *p = &u->params[u->nparams];
            const char *eq = memchr(q, '=', seg);
            size_t nlen = eq ? (size_t)(eq - q) : seg;
            if (nlen == 0) {
                URI_ERR(err, "query parameter '%.*s' has no name", (int)seg, q);
                return VRPC_E_URI;
            }
            p->raw = xstrndup(q, seg);
            if (!p->raw)
                return VRPC_E_NOMEM;
            u->nparams++;
            rc = pct_decode(q, nlen, &p->name, "a query parameter name", err);
            if (rc)
                return rc;
            if (eq)
                rc = pct_decode(eq + 1, seg - nlen - 1, &p->value, "a query parameter value", err);
            else
                rc = (p->value = vrpc_strdup("")) ? 0 : VRPC_E_NOMEM;
            if (rc)
                return rc;
        }
        q += seg;
        if (*q)
            q++;
    }
    return 0;
}

static int parse_authority(vrpc_uri *u, const char *a, size_t n, vrpc_error **err)
{
    const char *at = NULL, *hp, *end = a + n, *portp = NULL;
    size_t i;
    int rc;

    for (i = 0; i < n; i++)
        if (a[i] == '@')
            at = a + i;
    if (at) {
        rc = pct_decode(a, (size_t)(at - a), &u->user, "the user name", err);
        if (rc)
            return rc;
        hp = at + 1;
    } else {
        hp = a;
    }

    if (hp < end && *hp == '[') {
        const char *close = memchr(hp, ']', (size_t)(end - hp));
        if (!close) {
            URI_ERR(err, "unterminated '[' in the host");
            return VRPC_E_URI;
        }
        if (close == hp + 1) {
            URI_ERR(err, "empty IPv6 address '[]' in the host");
            return VRPC_E_URI;
        }
        rc = pct_decode(hp + 1, (size_t)(close - hp - 1), &u->host, "the host", err);
        if (rc)
            return rc;
        if (close + 1 < end) {
            if (close[1] != ':') {
                URI_ERR(err, "unexpected '%.*s' after the IPv6 address", (int)(end - close - 1),
                        close + 1);
                return VRPC_E_URI;
            }
            portp = close + 2;
        }
    } else {
        const char *colon = memchr(hp, ':', (size_t)(end - hp));
        const char *hend = colon ? colon : end;
        if (hend > hp) {
            rc = pct_decode(hp, (size_t)(hend - hp), &u->host, "the host", err);
            if (rc)
                return rc;
        }
        if (colon)
            portp = colon + 1;
    }

    if (portp && portp < end) {
        long v = 0;
        const char *p;
        for (p = portp; p < end; p++) {
            if (*p < '0' || *p > '9' || v > 65535) {
                v = -1;
                break;
            }
            v = v * 10 + (*p - '0');
        }
        if (v < 0 || v > 65535) {
            URI_ERR(err, "invalid port '%.*s' (a number from 0 to 65535 is expected)",
                    (int)(end - portp), portp);
            return VRPC_E_URI;
        }
        u->port = (int)v;
    }
    return 0;
}

static int uri_parse(const char *str, vrpc_uri *u, vrpc_error **err)
{
    const char *p, *s;
    size_t n;
    int rc;

    for (p = str; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch == 0x7f) {
            URI_ERR(err, "space or control character at offset %zu (percent-encode it)",
                    (size_t)(p - str));
            return VRPC_E_URI;
        }
    }

    /* scheme */
    s = str;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) {
        URI_ERR(err, "no scheme (expected driver[+transport]://[user@][host][:port]/path)");
        return VRPC_E_URI;
    }
    n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (s[n] != ':') {
        URI_ERR(err, "no scheme (expected driver[+transport]://[user@][host][:port]/path)");
        return VRPC_E_URI;
    }
    u->scheme = xstrndup(s, n);
    if (!u->scheme)
        return VRPC_E_NOMEM;
    p = s + n + 1;

    /* authority */
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        n = strcspn(p, "/?#");
        rc = parse_authority(u, p, n, err);
        if (rc)
            return rc;
        p += n;
    }

    /* path */
    n = strcspn(p, "?#");
    u->path_raw = xstrndup(p, n);
    if (!u->path_raw)
        return VRPC_E_NOMEM;
    rc = pct_decode(p, n, &u->path, "the path", err);
    if (rc)
        return rc;
    p += n;

    /* query */
    if (*p == '?') {
        p++;
        n = strcspn(p, "#");
        u->query_raw = xstrndup(p, n);
        if (!u->query_raw)
            return VRPC_E_NOMEM;
        rc = parse_query(u, err);
        if (rc)
            return rc;
        p += n;
    }

    /* fragment */
    if (*p == '#') {
        p++;
        u->fragment_raw = vrpc_strdup(p);
        if (!u->fragment_raw)
            return VRPC_E_NOMEM;
    }
    return 0;
}

int vrpc_uri_parse(const char *str, vrpc_uri **out, vrpc_error **err)
{
    vrpc_error *e = NULL;
    vrpc_uri *u;
    int rc;

    *out = NULL;
    if (!str || !*str) {
        URI_ERR(err, "empty URI");
        return VRPC_E_URI;
    }
    u = vrpc_calloc(1, sizeof(*u));
    if (!u)
        return VRPC_E_NOMEM;
    u->port = -1;
    rc = uri_parse(str, u, err ? &e : NULL);
    if (rc) {
        if (e)
            vrpc_error_prefix(&e, "invalid URI '%s'", str);
        vrpc_error_move(err, &e);
        vrpc_uri_free(u);
        return rc;
    }
    *out = u;
    return 0;
}

/* ---- the environment ---- */

static const char *env_get(const vrpc_uri_env *env, const char *name)
{
    const char *v;
    if (env && env->get_env)
        v = env->get_env(env->ctx, name);
    else
        v = secure_getenv(name);
    return v && *v ? v : NULL;
}

static unsigned int env_euid(const vrpc_uri_env *env)
{
    if (env && env->get_euid)
        return env->get_euid(env->ctx);
    return (unsigned int)geteuid();
}

static bool env_exists(const vrpc_uri_env *env, const char *path)
{
    struct stat st;
    if (env && env->path_exists)
        return env->path_exists(env->ctx, path);
    return stat(path, &st) == 0;
}

/* ---- libvirt's client configuration ---- */

static bool is_ssh_family(vrpc_transport_kind k);

int vrpc_client_conf_path(const vrpc_uri_env *env, const char *file, char **out)
{
    const char *xdg, *home;
    sbuf b = {0};

    *out = NULL;
    if (env_euid(env) == 0) {
        if (env && env->system_conf_dir)
            sb_str(&b, env->system_conf_dir);
        else if (env && env->get_env)
            return 0;
        else
            sb_str(&b, VRPC_SYSTEM_CONF_DIR);
    } else if ((xdg = env_get(env, "XDG_CONFIG_HOME")) != NULL) {
        sb_str(&b, xdg);
        sb_str(&b, "/libvirt");
    } else if ((home = env_get(env, "HOME")) != NULL) {
        sb_str(&b, home);
        sb_str(&b, "/.config/libvirt");
    } else {
        struct passwd pw, *res = NULL;
        char pwbuf[4096];
        /* The password database only for the real environment. */
        if ((env && env->get_env) ||
            getpwuid_r(env_euid(env), &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res ||
            !res->pw_dir || !*res->pw_dir)
            return 0;
        sb_str(&b, res->pw_dir);
        sb_str(&b, "/.config/libvirt");
    }
    sb_str(&b, "/");
    sb_str(&b, file);
    *out = sb_take(&b);
    return *out ? 0 : VRPC_E_NOMEM;
}

/* Read this process's file (NULL when there is none). */
static int load_conf(const vrpc_uri_env *env, const char *file, vrpc_conf **out, vrpc_error **err)
{
    char *path;
    int rc;

    *out = NULL;
    rc = vrpc_client_conf_path(env, file, &path);
    if (rc || !path)
        return rc;
    rc = vrpc_conf_read_file(path, out, err);
    if (rc == VRPC_E_NOMEM && err && !*err)
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_CONF, "%s: out of memory", path);
    vrpc_free(path);
    return rc;
}

/*
 * Look name up in uri_aliases: *out is a new string with the URI of the
 * alias, or NULL when no entry matches. Entries are checked in order: one
 * without '=' or with a character outside VRPC_URI_ALIAS_CHARS in its name
 * fails the lookup (as libvirt: the entries after the match are not
 * checked); a name matches when it equals the whole of name.
 */
static int resolve_alias(const vrpc_conf *conf, const char *name, char **out, vrpc_error **err)
{
    const vrpc_conf_value *items;
    size_t n, i, len = strlen(name);
    int rc;

    *out = NULL;
    rc = vrpc_conf_get_string_list(conf, "uri_aliases", &items, &n, err);
    if (rc <= 0)
        return rc;
    for (i = 0; i < n; i++) {
        const char *e = items[i].str;
        const char *eq = strchr(e, '=');
        size_t nlen;

        if (!eq) {
            vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_URI,
                           "%s:%u: key 'uri_aliases': malformed entry '%s' (expected "
                           "NAME=URI)",
                           conf->path, items[i].line, e);
            return VRPC_E_URI;
        }
        nlen = (size_t)(eq - e);
        if (strspn(e, VRPC_URI_ALIAS_CHARS) < nlen) {
            vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_URI,
                           "%s:%u: key 'uri_aliases': malformed entry '%s' (an alias name "
                           "holds only letters, digits, '_' and '-')",
                           conf->path, items[i].line, e);
            return VRPC_E_URI;
        }
        if (nlen == len && memcmp(e, name, len) == 0) {
            *out = vrpc_strdup(eq + 1);
            return *out ? 0 : VRPC_E_NOMEM;
        }
    }
    return 0;
}

/* A string setting: 1 with *value and *line, 0 when absent, VRPC_E_URI. */
static int conf_setting(const vrpc_conf *conf, const char *key, const char **value,
                        unsigned int *line, vrpc_error **err)
{
    int rc = vrpc_conf_get_string(conf, key, value, err);
    if (rc == 1)
        *line = vrpc_conf_find(conf, key)->line;
    return rc;
}

/* Was parameter name given in the URI (and used by the driver)? */
static bool param_given(const vrpc_target *t, const char *name)
{
    size_t i;
    for (i = 0; t->uri && i < t->uri->nparams; i++)
        if (t->uri->params[i].consumed && strcasecmp(t->uri->params[i].name, name) == 0)
            return true;
    return false;
}

/* remote_mode and remote_proxy, where the URI has neither mode= nor proxy=. */
static int conf_remote_settings(vrpc_target *t, const vrpc_conf *conf, vrpc_error **err)
{
    const char *v;
    unsigned int line = 0;
    int rc;

    if (!param_given(t, "mode")) {
        rc = conf_setting(conf, "remote_mode", &v, &line, err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            if (strcasecmp(v, "auto") == 0)
                t->mode = VRPC_MODE_AUTO;
            else if (strcasecmp(v, "legacy") == 0)
                t->mode = VRPC_MODE_LEGACY;
            else if (strcasecmp(v, "direct") == 0)
                t->mode = VRPC_MODE_DIRECT;
            else {
                vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_CONF,
                               "%s:%u: key 'remote_mode': unknown mode '%s' (expected auto, "
                               "legacy or direct)",
                               conf->path, line, v);
                return VRPC_E_URI;
            }
            if (t->mode == VRPC_MODE_DIRECT && !t->socket_explicit &&
                (t->transport == VRPC_TRANSPORT_UNIX || is_ssh_family(t->transport)) &&
                (!t->driver || strcasecmp(t->driver, "remote") == 0)) {
                vrpc_error_set(err, VRPC_ERR_OPERATION_UNSUPPORTED, VRPC_FROM_CONF,
                               "%s:%u: key 'remote_mode': direct mode needs a driver name in "
                               "the URI (e.g. qemu:///system), not '%s'",
                               conf->path, line, t->uri_str ? t->uri_str : "(none)");
                return VRPC_E_URI;
            }
        }
    }
    if (!param_given(t, "proxy")) {
        rc = conf_setting(conf, "remote_proxy", &v, &line, err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            if (strcasecmp(v, "auto") == 0)
                t->proxy = VRPC_PROXY_AUTO;
            else if (strcasecmp(v, "netcat") == 0)
                t->proxy = VRPC_PROXY_NETCAT;
            else if (strcasecmp(v, "native") == 0)
                t->proxy = VRPC_PROXY_NATIVE;
            else {
                vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_CONF,
                               "%s:%u: key 'remote_proxy': unknown proxy '%s' (expected auto, "
                               "netcat or native)",
                               conf->path, line, v);
                return VRPC_E_URI;
            }
            t->proxy_set = true;
        }
    }
    return 0;
}

/*
 * The URI to use: uri, else $VAR, else uri_default of conf; then its alias
 * unless flags has VRPC_OPEN_NO_ALIASES. *out: a new string, or NULL when
 * there is none at all.
 */
typedef struct uri_origin {
    const char *var;   /* the environment variable it came from, or NULL */
    bool from_default; /* uri_default of the file */
    unsigned int line; /* of uri_default */
    const char *alias; /* the alias it replaced (owned by the caller's uri or conf) */
} uri_origin;

static int choose_uri(const char *uri, const char *var, const vrpc_conf *conf, unsigned int flags,
                      const vrpc_uri_env *env, char **out, uri_origin *o, vrpc_error **err)
{
    const char *s = uri;
    char *alias = NULL;
    int rc;

    *out = NULL;
    memset(o, 0, sizeof(*o));
    if (!s || !*s) {
        s = env_get(env, var);
        o->var = s ? var : NULL;
    }
    if (!s) {
        rc = conf_setting(conf, "uri_default", &s, &o->line, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            s = NULL;
        o->from_default = rc == 1;
    }
    if (!s)
        return 0;
    if (!(flags & VRPC_OPEN_NO_ALIASES)) {
        rc = resolve_alias(conf, s, &alias, err);
        if (rc)
            return rc;
        if (alias) {
            o->alias = s;
            *out = alias;
            return 0;
        }
    }
    *out = vrpc_strdup(s);
    return *out ? 0 : VRPC_E_NOMEM;
}

/* Say where a URI that failed came from, when it was not given as is. */
static void origin_prefix(vrpc_error **err, const uri_origin *o, const vrpc_conf *conf)
{
    if (!err || !*err)
        return;
    if (o->alias)
        vrpc_error_prefix(err, "%s: alias '%s' of uri_aliases", conf->path, o->alias);
    else if (o->from_default)
        vrpc_error_prefix(err, "%s:%u: key 'uri_default'", conf->path, o->line);
}

/* ---- the remote driver ---- */

static const char *const transport_names[] = {
    [VRPC_TRANSPORT_TLS] = "tls",       [VRPC_TRANSPORT_UNIX] = "unix",
    [VRPC_TRANSPORT_SSH] = "ssh",       [VRPC_TRANSPORT_LIBSSH2] = "libssh2",
    [VRPC_TRANSPORT_EXT] = "ext",       [VRPC_TRANSPORT_TCP] = "tcp",
    [VRPC_TRANSPORT_LIBSSH] = "libssh",
};

const char *vrpc_transport_kind_name(vrpc_transport_kind k)
{
    if ((unsigned)k < sizeof(transport_names) / sizeof(transport_names[0]))
        return transport_names[k];
    return "unknown";
}

void vrpc_target_free(vrpc_target *t)
{
    if (!t)
        return;
    vrpc_free(t->uri_str);
    vrpc_uri_free(t->uri);
    vrpc_free(t->driver);
    vrpc_free(t->host);
    vrpc_free(t->user);
    vrpc_free(t->name);
    vrpc_free(t->socket_path);
    vrpc_free(t->command);
    vrpc_free(t->auth);
    vrpc_free(t->sshauth);
    vrpc_free(t->netcat);
    vrpc_free(t->keyfile);
    vrpc_free(t->pkipath);
    vrpc_free(t->known_hosts);
    vrpc_free(t->known_hosts_verify);
    vrpc_free(t->tls_priority);
    vrpc_free(t->authfile);
    vrpc_free(t);
}

static bool is_ssh_family(vrpc_transport_kind k)
{
    return k == VRPC_TRANSPORT_SSH || k == VRPC_TRANSPORT_LIBSSH || k == VRPC_TRANSPORT_LIBSSH2;
}

/* "<runtime dir>/libvirt" for session daemons. */
static char *session_dir(const vrpc_uri_env *env, vrpc_error **err)
{
    const char *rt = env_get(env, "XDG_RUNTIME_DIR");
    const char *home;
    sbuf b = {0};
    char *r;

    if (rt) {
        sb_str(&b, rt);
    } else if ((home = env_get(env, "HOME")) != NULL) {
        sb_str(&b, home);
        sb_str(&b, "/.cache");
    } else {
        URI_ERR(err, "cannot find the session socket directory: neither XDG_RUNTIME_DIR nor "
                     "HOME is set");
        return NULL;
    }
    sb_str(&b, "/libvirt");
    r = sb_take(&b);
    if (!r)
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_URI, "out of memory");
    return r;
}

/* dir + "/" + prefix + suffix */
static char *socket_in(const char *dir, const char *prefix, const char *suffix)
{
    sbuf b = {0};
    sb_str(&b, dir);
    sb_str(&b, "/");
    sb_str(&b, prefix);
    sb_str(&b, suffix);
    return sb_take(&b);
}

/* Build a daemon socket path. NULL with *err set on failure. */
static char *daemon_socket(const vrpc_uri_env *env, bool session, const char *prefix,
                           const char *suffix, vrpc_error **err)
{
    char *dir, *path;
    if (session) {
        dir = session_dir(env, err);
        if (!dir)
            return NULL;
        path = socket_in(dir, prefix, suffix);
        vrpc_free(dir);
    } else {
        path = socket_in(VRPC_SYSTEM_SOCKET_DIR, prefix, suffix);
    }
    if (!path)
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_URI, "out of memory");
    return path;
}

static int take_string(char **dst, const char *value)
{
    vrpc_free(*dst);
    *dst = vrpc_strdup(value);
    return *dst ? 0 : VRPC_E_NOMEM;
}

static int take_bool_int(bool *dst, const vrpc_uri_param *p, vrpc_error **err)
{
    char *end;
    long v;
    if (!*p->value) {
        URI_ERR(err, "parameter %s needs an integer value", p->name);
        return VRPC_E_URI;
    }
    v = strtol(p->value, &end, 10);
    if (*end) {
        URI_ERR(err, "parameter %s needs an integer value, not '%s'", p->name, p->value);
        return VRPC_E_URI;
    }
    *dst = v != 0;
    return 0;
}

/* Handle one query parameter; sets p->consumed when the driver uses it. */
static int consume_param(vrpc_target *t, vrpc_uri_param *p, char **name_override, vrpc_error **err)
{
    static const struct {
        const char *name;
        size_t off;
    } strs[] = {
        {"command", offsetof(vrpc_target, command)},
        {"auth", offsetof(vrpc_target, auth)},
        {"sshauth", offsetof(vrpc_target, sshauth)},
        {"netcat", offsetof(vrpc_target, netcat)},
        {"keyfile", offsetof(vrpc_target, keyfile)},
        {"pkipath", offsetof(vrpc_target, pkipath)},
        {"known_hosts", offsetof(vrpc_target, known_hosts)},
        {"known_hosts_verify", offsetof(vrpc_target, known_hosts_verify)},
        {"tls_priority", offsetof(vrpc_target, tls_priority)},
        {"authfile", offsetof(vrpc_target, authfile)},
    };
    size_t i;

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strcasecmp(p->name, strs[i].name) == 0) {
            p->consumed = true;
            return take_string((char **)(void *)((char *)t + strs[i].off), p->value);
        }
    }
    if (strcasecmp(p->name, "name") == 0) {
        p->consumed = true;
        return take_string(name_override, p->value);
    }
    if (strcasecmp(p->name, "socket") == 0) {
        p->consumed = true;
        if (!*p->value) {
            URI_ERR(err, "parameter socket needs a path");
            return VRPC_E_URI;
        }
        t->socket_explicit = true;
        return take_string(&t->socket_path, p->value);
    }
    if (strcasecmp(p->name, "mode") == 0) {
        p->consumed = true;
        if (strcasecmp(p->value, "auto") == 0)
            t->mode = VRPC_MODE_AUTO;
        else if (strcasecmp(p->value, "legacy") == 0)
            t->mode = VRPC_MODE_LEGACY;
        else if (strcasecmp(p->value, "direct") == 0)
            t->mode = VRPC_MODE_DIRECT;
        else {
            URI_ERR(err, "unknown mode '%s' (expected auto, legacy or direct)", p->value);
            return VRPC_E_URI;
        }
        return 0;
    }
    if (strcasecmp(p->name, "proxy") == 0) {
        p->consumed = true;
        if (strcasecmp(p->value, "auto") == 0)
            t->proxy = VRPC_PROXY_AUTO;
        else if (strcasecmp(p->value, "netcat") == 0)
            t->proxy = VRPC_PROXY_NETCAT;
        else if (strcasecmp(p->value, "native") == 0)
            t->proxy = VRPC_PROXY_NATIVE;
        else {
            URI_ERR(err, "unknown proxy '%s' (expected auto, netcat or native)", p->value);
            return VRPC_E_URI;
        }
        t->proxy_set = true;
        return 0;
    }
    if (strcasecmp(p->name, "no_sanity") == 0) {
        p->consumed = true;
        return take_bool_int(&t->no_sanity, p, err);
    }
    if (strcasecmp(p->name, "no_verify") == 0) {
        p->consumed = true;
        return take_bool_int(&t->no_verify, p, err);
    }
    if (strcasecmp(p->name, "no_tty") == 0) {
        p->consumed = true;
        return take_bool_int(&t->no_tty, p, err);
    }
    return 0;
}

/* The name sent in CONNECT_OPEN: driver://path?kept-params#fragment */
static char *format_name(const vrpc_target *t)
{
    const vrpc_uri *u = t->uri;
    bool first = true;
    sbuf b = {0};
    size_t i;

    sb_str(&b, t->driver);
    sb_str(&b, "://");
    sb_str(&b, u->path_raw);
    for (i = 0; i < u->nparams; i++) {
        if (u->params[i].consumed)
            continue;
        sb_str(&b, first ? "?" : "&");
        sb_str(&b, u->params[i].raw);
        first = false;
    }
    if (u->fragment_raw) {
        sb_str(&b, "#");
        sb_str(&b, u->fragment_raw);
    }
    return sb_take(&b);
}

/* Local or remote-side Unix socket of the remote driver. */
static int remote_socket(vrpc_target *t, const vrpc_uri_env *env, vrpc_error **err)
{
    bool remote_driver = !t->driver || strcasecmp(t->driver, "remote") == 0;
    const char *suffix = t->readonly && !t->session ? "-sock-ro" : "-sock";
    char *direct_prefix = NULL;
    char *path = NULL;

    t->socket_mode = t->mode;
    if (t->socket_explicit)
        return 0;

    if (t->mode == VRPC_MODE_DIRECT) {
        if (remote_driver) {
            URI_ERR(err, "mode=direct needs a driver name in the URI scheme (e.g. qemu:///system)");
            return VRPC_E_URI;
        }
    }
    if (!remote_driver) {
        sbuf b = {0};
        sb_str(&b, "virt");
        sb_str(&b, t->driver);
        sb_str(&b, "d");
        direct_prefix = sb_take(&b);
        if (!direct_prefix)
            return VRPC_E_NOMEM;
    }

    if (t->mode == VRPC_MODE_DIRECT) {
        path = daemon_socket(env, t->session, direct_prefix, suffix, err);
    } else if (t->mode == VRPC_MODE_AUTO && direct_prefix && t->transport == VRPC_TRANSPORT_UNIX) {
        /* Probe: the per-driver daemon first, else the monolithic one. */
        path = daemon_socket(env, t->session, direct_prefix, suffix, err);
        if (path && env_exists(env, path)) {
            t->socket_mode = VRPC_MODE_DIRECT;
        } else if (path) {
            vrpc_free(path);
            path = daemon_socket(env, t->session, "libvirt", suffix, err);
            t->socket_mode = VRPC_MODE_LEGACY;
        }
    } else {
        path = daemon_socket(env, t->session, "libvirt", suffix, err);
        t->socket_mode = VRPC_MODE_LEGACY;
    }
    vrpc_free(direct_prefix);
    if (!path)
        return VRPC_E_URI;
    t->socket_path = path;
    return 0;
}

static int lookup_transport(const char *name, vrpc_transport_kind *out)
{
    size_t i;
    for (i = 0; i < sizeof(transport_names) / sizeof(transport_names[0]); i++) {
        if (strcasecmp(name, transport_names[i]) == 0) {
            *out = (vrpc_transport_kind)i;
            return 0;
        }
    }
    return -1;
}

static int remote_resolve(vrpc_target *t, const char *uri_str, const vrpc_uri_env *env,
                          const vrpc_conf *conf, vrpc_error **err)
{
    unsigned int euid = env_euid(env);
    char *name_override = NULL;
    const char *plus;
    vrpc_uri *u;
    size_t i;
    int rc;

    if (!uri_str) {
        /* No URI at all: probe the local (legacy) daemon. */
        t->transport = VRPC_TRANSPORT_UNIX;
        t->session = euid != 0;
        t->mode = VRPC_MODE_AUTO;
        t->name = vrpc_strdup("");
        if (!t->name)
            return VRPC_E_NOMEM;
        rc = conf_remote_settings(t, conf, err);
        if (rc)
            return rc;
        return remote_socket(t, env, err);
    }

    rc = vrpc_uri_parse(uri_str, &t->uri, err);
    if (rc)
        return rc;
    u = t->uri;

    plus = strchr(u->scheme, '+');
    t->driver = xstrndup(u->scheme, plus ? (size_t)(plus - u->scheme) : strlen(u->scheme));
    if (!t->driver)
        return VRPC_E_NOMEM;
    if (!*t->driver) {
        URI_ERR(err, "invalid URI '%s': no driver name before '+' in the scheme", uri_str);
        return VRPC_E_URI;
    }
    if (plus) {
        if (lookup_transport(plus + 1, &t->transport) < 0) {
            URI_ERR(err,
                    "invalid URI '%s': unknown transport '%s' (expected tls, unix, ssh, "
                    "libssh2, libssh, ext or tcp)",
                    uri_str, plus + 1);
            return VRPC_E_URI;
        }
    } else {
        t->transport = u->host ? VRPC_TRANSPORT_TLS : VRPC_TRANSPORT_UNIX;
    }

    if (t->transport == VRPC_TRANSPORT_UNIX && (u->host || u->port >= 0)) {
        URI_ERR(err,
                "invalid URI '%s': transport unix connects to a local socket and takes no "
                "host or port",
                uri_str);
        return VRPC_E_URI;
    }

    for (i = 0; i < u->nparams; i++) {
        rc = consume_param(t, &u->params[i], &name_override, err);
        if (rc) {
            vrpc_free(name_override);
            if (err && *err)
                vrpc_error_prefix(err, "invalid URI '%s'", uri_str);
            return rc;
        }
    }

    rc = conf_remote_settings(t, conf, err);
    if (rc) {
        vrpc_free(name_override);
        return rc;
    }
    if (t->transport == VRPC_TRANSPORT_TLS && !t->tls_priority) {
        const char *v;
        rc = vrpc_conf_get_string(conf, "tls_priority", &v, err);
        if (rc < 0) {
            vrpc_free(name_override);
            return rc;
        }
        if (rc == 1 && take_string(&t->tls_priority, v)) {
            vrpc_free(name_override);
            return VRPC_E_NOMEM;
        }
    }

    if (t->transport == VRPC_TRANSPORT_EXT && !t->command) {
        vrpc_free(name_override);
        URI_ERR(err, "invalid URI '%s': transport ext needs a command= parameter", uri_str);
        return VRPC_E_URI;
    }

    if (u->user) {
        t->user = vrpc_strdup(u->user);
        if (!t->user)
            goto nomem;
    }
    if (t->transport != VRPC_TRANSPORT_UNIX && t->transport != VRPC_TRANSPORT_EXT) {
        t->host = vrpc_strdup(u->host ? u->host : "localhost");
        if (!t->host)
            goto nomem;
    }
    t->port_explicit = u->port >= 0;
    if (t->port_explicit)
        t->port = u->port;
    else if (t->transport == VRPC_TRANSPORT_TLS)
        t->port = 16514;
    else if (t->transport == VRPC_TRANSPORT_TCP)
        t->port = 16509;
    else if (is_ssh_family(t->transport))
        t->port = 22;
    else
        t->port = 0;

    t->session = strcmp(u->path, "/session") == 0 || (strcmp(t->driver, "test") == 0 && euid != 0);

    if (name_override)
        t->name = name_override;
    else if (strcasecmp(t->driver, "remote") == 0)
        t->name = vrpc_strdup("");
    else
        t->name = format_name(t);
    name_override = NULL;
    if (!t->name)
        goto nomem;

    if (t->transport == VRPC_TRANSPORT_UNIX || is_ssh_family(t->transport)) {
        rc = remote_socket(t, env, err);
        if (rc) {
            if (err && *err)
                vrpc_error_prefix(err, "URI '%s'", uri_str);
            return rc;
        }
    } else if (t->mode == VRPC_MODE_DIRECT && param_given(t, "mode")) {
        /* (remote_mode = "direct" of libvirt.conf does not concern them) */
        URI_ERR(err, "invalid URI '%s': mode=direct only applies to the unix and ssh transports",
                uri_str);
        return VRPC_E_URI;
    }
    return 0;

nomem:
    vrpc_free(name_override);
    return VRPC_E_NOMEM;
}

#define OPEN_FLAGS (VRPC_OPEN_READONLY | VRPC_OPEN_NO_AUTOSTART | VRPC_OPEN_NO_ALIASES)

int vrpc_remote_resolve(const char *uri, unsigned int flags, const vrpc_uri_env *env,
                        vrpc_target **out, vrpc_error **err)
{
    vrpc_conf *conf = NULL;
    uri_origin origin;
    const char *s;
    vrpc_target *t;
    int rc;

    *out = NULL;
    if (flags & ~(unsigned int)OPEN_FLAGS) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_REMOTE, "unknown open flags 0x%x",
                       flags);
        return VRPC_E_INVALID;
    }
    t = vrpc_calloc(1, sizeof(*t));
    if (!t)
        return VRPC_E_NOMEM;
    t->readonly = (flags & VRPC_OPEN_READONLY) != 0;
    rc = load_conf(env, "libvirt.conf", &conf, err);
    if (rc == 0)
        rc = choose_uri(uri, "LIBVIRT_DEFAULT_URI", conf, flags, env, &t->uri_str, &origin, err);
    if (rc == 0) {
        rc = remote_resolve(t, t->uri_str, env, conf, err);
        if (rc == VRPC_E_URI)
            origin_prefix(err, &origin, conf);
    }
    vrpc_conf_free(conf);
    if (rc) {
        if (rc == VRPC_E_NOMEM && err && !*err)
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_URI, "out of memory");
        vrpc_target_free(t);
        return rc;
    }
    s = env_get(env, "LIBVIRT_AUTOSTART");
    t->autostart = t->session && t->transport == VRPC_TRANSPORT_UNIX && !t->socket_explicit &&
                   !(flags & VRPC_OPEN_NO_AUTOSTART) && !(s && strcmp(s, "0") == 0);
    *out = t;
    return 0;
}

/* ---- admin URIs ---- */

static int admin_resolve(vrpc_target *t, const vrpc_uri_env *env, vrpc_error **err)
{
    const char *uri_str = t->uri_str;
    const char *prefix;
    vrpc_uri *u;
    size_t i;
    int rc;

    rc = vrpc_uri_parse(uri_str, &t->uri, err);
    if (rc)
        return rc;
    u = t->uri;
    if (strchr(u->scheme, '+')) {
        URI_ERR(err,
                "invalid admin URI '%s': admin URIs name a daemon (libvirtd, virtqemud, ...) "
                "and take no transport",
                uri_str);
        return VRPC_E_URI;
    }
    if (u->host || u->port >= 0 || u->user) {
        URI_ERR(err, "invalid admin URI '%s': the admin socket is local, no user, host or port",
                uri_str);
        return VRPC_E_URI;
    }
    if (strcmp(u->path, "/system") == 0) {
        t->session = false;
    } else if (strcmp(u->path, "/session") == 0) {
        t->session = true;
    } else {
        URI_ERR(err, "invalid admin URI '%s': path '%s' (expected /system or /session)", uri_str,
                u->path);
        return VRPC_E_URI;
    }
    for (i = 0; i < u->nparams; i++) {
        vrpc_uri_param *p = &u->params[i];
        if (strcasecmp(p->name, "socket") != 0) {
            URI_ERR(err, "invalid admin URI '%s': unknown parameter '%s' (only socket= is allowed)",
                    uri_str, p->name);
            return VRPC_E_URI;
        }
        if (!*p->value) {
            URI_ERR(err, "invalid admin URI '%s': parameter socket needs a path", uri_str);
            return VRPC_E_URI;
        }
        p->consumed = true;
        t->socket_explicit = true;
        if (take_string(&t->socket_path, p->value))
            return VRPC_E_NOMEM;
    }
    t->driver = vrpc_strdup(u->scheme);
    if (!t->driver)
        return VRPC_E_NOMEM;
    t->transport = VRPC_TRANSPORT_UNIX;
    t->admin = true;
    if (t->socket_explicit)
        return 0;
    prefix = strcmp(u->scheme, "libvirtd") == 0 ? "libvirt" : u->scheme;
    t->socket_path = daemon_socket(env, t->session, prefix, "-admin-sock", err);
    if (!t->socket_path) {
        if (err && *err)
            vrpc_error_prefix(err, "admin URI '%s'", uri_str);
        return VRPC_E_URI;
    }
    return 0;
}

int vrpc_admin_resolve(const char *uri, unsigned int flags, const vrpc_uri_env *env,
                       vrpc_target **out, vrpc_error **err)
{
    vrpc_conf *conf = NULL;
    uri_origin origin;
    vrpc_target *t;
    int rc;

    *out = NULL;
    if (flags & ~(unsigned int)OPEN_FLAGS) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_ADMIN, "unknown open flags 0x%x",
                       flags);
        return VRPC_E_INVALID;
    }
    t = vrpc_calloc(1, sizeof(*t));
    if (!t)
        return VRPC_E_NOMEM;
    t->readonly = (flags & VRPC_OPEN_READONLY) != 0;
    rc = load_conf(env, "libvirt-admin.conf", &conf, err);
    if (rc == 0) {
        /* No URI anywhere: the daemon of this user (aliases still apply, as libvirt). */
        const char *def = env_euid(env) == 0 ? "libvirtd:///system" : "libvirtd:///session";
        const char *given = uri && *uri ? uri : NULL;
        if (!given && !env_get(env, "LIBVIRT_ADMIN_DEFAULT_URI") &&
            !vrpc_conf_find(conf, "uri_default"))
            given = def;
        rc = choose_uri(given, "LIBVIRT_ADMIN_DEFAULT_URI", conf, flags, env, &t->uri_str, &origin,
                        err);
    }
    if (rc == 0) {
        rc = admin_resolve(t, env, err);
        if (rc == VRPC_E_URI)
            origin_prefix(err, &origin, conf);
    }
    vrpc_conf_free(conf);
    if (rc) {
        if (rc == VRPC_E_NOMEM && err && !*err)
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_URI, "out of memory");
        vrpc_target_free(t);
        return rc;
    }
    *out = t;
    return 0;
}
