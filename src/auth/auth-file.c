/* SPDX-License-Identifier: MIT */
/*
 * libvirt's auth file (auth.conf): where libvirt looks for it and how it
 * reads it (a GLib key file; libvirt's virauth.c and virauthconfig.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <virtrpc/consts.h>

#include "alloc.h"
#include "auth.h"
#include "error.h"

/* The largest auth file we read (libvirt has no limit; ours is generous). */
#define AUTHFILE_MAX ((size_t)1 << 20)

typedef struct af_entry {
    char *key;
    char *raw; /* the value as written, escapes not yet applied */
} af_entry;

typedef struct af_group {
    char *name;
    af_entry *entries;
    size_t n, cap;
} af_group;

struct vrpc_authfile {
    char *path;
    af_group *groups;
    size_t n, cap;
};

void vrpc_auth_wipe_free(char *s, void (*free_fn)(void *))
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free_fn(s);
}

void vrpc_authfile_free(vrpc_authfile *f)
{
    size_t i, j;
    if (!f)
        return;
    for (i = 0; i < f->n; i++) {
        af_group *g = &f->groups[i];
        for (j = 0; j < g->n; j++) {
            vrpc_free(g->entries[j].key);
            vrpc_auth_wipe_free(g->entries[j].raw, vrpc_free);
        }
        vrpc_free(g->entries);
        vrpc_free(g->name);
    }
    vrpc_free(f->groups);
    vrpc_free(f->path);
    vrpc_free(f);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = vrpc_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static af_group *find_group(const vrpc_authfile *f, const char *name)
{
    size_t i;
    for (i = 0; i < f->n; i++)
        if (strcmp(f->groups[i].name, name) == 0)
            return &f->groups[i];
    return NULL;
}

/* The group called name (len bytes), created if new (repeated groups merge). */
static af_group *group_get(vrpc_authfile *f, const char *name, size_t len)
{
    af_group *g;
    char *n = dup_n(name, len);
    if (!n)
        return NULL;
    g = find_group(f, n);
    if (g) {
        vrpc_free(n);
        return g;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        af_group *ng = vrpc_realloc(f->groups, cap * sizeof(*ng));
        if (!ng) {
            vrpc_free(n);
            return NULL;
        }
        f->groups = ng;
        f->cap = cap;
    }
    g = &f->groups[f->n++];
    memset(g, 0, sizeof(*g));
    g->name = n;
    return g;
}

/* Set key = raw in g (the last of duplicate keys wins). */
static int group_set(af_group *g, const char *key, size_t klen, const char *raw, size_t rlen)
{
    char *k = dup_n(key, klen), *v = dup_n(raw, rlen);
    size_t i;
    if (!k || !v) {
        vrpc_free(k);
        vrpc_auth_wipe_free(v, vrpc_free);
        return VRPC_E_NOMEM;
    }
    for (i = 0; i < g->n; i++) {
        if (strcmp(g->entries[i].key, k) == 0) {
            vrpc_free(k);
            vrpc_auth_wipe_free(g->entries[i].raw, vrpc_free);
            g->entries[i].raw = v;
            return 0;
        }
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        af_entry *ne = vrpc_realloc(g->entries, cap * sizeof(*ne));
        if (!ne) {
            vrpc_free(k);
            vrpc_auth_wipe_free(v, vrpc_free);
            return VRPC_E_NOMEM;
        }
        g->entries = ne;
        g->cap = cap;
    }
    g->entries[g->n].key = k;
    g->entries[g->n].raw = v;
    g->n++;
    return 0;
}

#define SYNTAX(...)                                                                                \
    do {                                                                                           \
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_AUTH, __VA_ARGS__);                    \
        rc = VRPC_E_INVALID;                                                                       \
        goto out;                                                                                  \
    } while (0)

int vrpc_authfile_parse(const char *path, const char *data, size_t len, vrpc_authfile **out,
                        vrpc_error **err)
{
    vrpc_authfile *f;
    af_group *cur = NULL;
    size_t pos = 0, lineno = 0;
    int rc = 0;

    *out = NULL;
    f = vrpc_calloc(1, sizeof(*f));
    if (!f || !(f->path = vrpc_strdup(path ? path : "-"))) {
        vrpc_free(f);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_AUTH, "out of memory");
        return VRPC_E_NOMEM;
    }
    while (pos < len) {
        const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - line) : len - pos;
        const char *eq;

        pos += l + (nl ? 1 : 0);
        lineno++;
        if (l > 0 && line[l - 1] == '\r')
            l--;
        if (memchr(line, '\0', l))
            SYNTAX("configuration file syntax error: %s:%zu: a NUL byte", path, lineno);
        while (l > 0 && is_space(*line)) {
            line++;
            l--;
        }
        if (l == 0 || line[0] == '#')
            continue;
        if (line[0] == '[') {
            /* "[name]" and only blanks after the first ']' */
            const char *close = memchr(line, ']', l);
            const char *p;
            size_t i;
            if (close) {
                for (p = close + 1; p < line + l && (*p == ' ' || *p == '\t'); p++)
                    ;
                if (p == line + l) {
                    size_t nlen = (size_t)(close - line - 1);
                    if (nlen == 0)
                        SYNTAX("configuration file syntax error: %s:%zu: an empty group name", path,
                               lineno);
                    for (i = 1; i <= nlen; i++)
                        if (line[i] == '[' || (unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                            SYNTAX("configuration file syntax error: %s:%zu: invalid group name",
                                   path, lineno);
                    cur = group_get(f, line + 1, nlen);
                    if (!cur) {
                        rc = VRPC_E_NOMEM;
                        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_AUTH, "out of memory");
                        goto out;
                    }
                    continue;
                }
            }
        }
        eq = memchr(line, '=', l);
        if (!eq || eq == line)
            SYNTAX("configuration file syntax error: %s:%zu: not a key=value pair, group or "
                   "comment",
                   path, lineno);
        if (!cur)
            SYNTAX("configuration file syntax error: %s:%zu: a key before the first group", path,
                   lineno);
        {
            const char *kend = eq, *v = eq + 1;
            while (kend > line && is_space(kend[-1]))
                kend--;
            if (kend == line)
                SYNTAX("configuration file syntax error: %s:%zu: an empty key", path, lineno);
            while (v < line + l && is_space(*v))
                v++;
            rc = group_set(cur, line, (size_t)(kend - line), v, (size_t)(line + l - v));
            if (rc) {
                vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_AUTH, "out of memory");
                goto out;
            }
        }
    }
out:
    if (rc) {
        vrpc_authfile_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int vrpc_authfile_load(const char *path, vrpc_authfile **out, vrpc_error **err)
{
    struct stat st;
    char *data;
    size_t got = 0;
    int fd, rc, e;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_AUTH, e,
                             "cannot read the auth file %s", path);
        return e == ENOENT ? VRPC_E_NOT_FOUND : VRPC_E_IO;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > AUTHFILE_MAX) {
        e = errno;
        close(fd);
        if (e == 0 || !S_ISREG(st.st_mode))
            vrpc_error_set(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_AUTH,
                           "cannot read the auth file %s: not a regular file of at most %zu "
                           "bytes",
                           path, AUTHFILE_MAX);
        else
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_AUTH, e,
                                 "cannot read the auth file %s", path);
        return VRPC_E_IO;
    }
    data = vrpc_malloc((size_t)st.st_size + 1);
    if (!data) {
        close(fd);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_AUTH, "out of memory");
        return VRPC_E_NOMEM;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            close(fd);
            vrpc_auth_wipe_free(data, vrpc_free);
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_AUTH, e,
                                 "cannot read the auth file %s", path);
            return VRPC_E_IO;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    data[got] = 0;
    rc = vrpc_authfile_parse(path, data, got, out, err);
    explicit_bzero(data, got);
    vrpc_free(data);
    return rc;
}

/* GLib's UTF-8 check of string values (g_key_file_get_string). */
static bool utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned int c = *s, n, i, cp;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        s += n + 1;
    }
    return true;
}

/* The value of a string key, escapes applied; NULL when invalid (as GLib). */
static int unescape(const char *raw, char **out)
{
    size_t n = strlen(raw);
    char *d = vrpc_malloc(n + 1), *w = d;
    const char *p;

    *out = NULL;
    if (!d)
        return VRPC_E_NOMEM;
    for (p = raw; *p; p++) {
        if (*p != '\\') {
            *w++ = *p;
            continue;
        }
        switch (*++p) {
        case 's':
            *w++ = ' ';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case '\\':
            *w++ = '\\';
            break;
        default: /* an unknown escape, or '\' at the end: not a valid string */
            *w = 0;
            vrpc_auth_wipe_free(d, vrpc_free);
            return 0;
        }
    }
    *w = 0;
    *out = d;
    return 0;
}

static const char *group_value(const af_group *g, const char *key)
{
    size_t i;
    for (i = 0; i < g->n; i++)
        if (strcmp(g->entries[i].key, key) == 0)
            return g->entries[i].raw;
    return NULL;
}

int vrpc_authfile_lookup(const vrpc_authfile *f, const char *service, const char *host,
                         const char *credname, char **value, vrpc_error **err)
{
    char *authgroup = NULL, *credgroup = NULL, *cred = NULL;
    const af_group *g;
    const char *raw;
    int rc = 0;

    *value = NULL;
    if (!host)
        host = "localhost";
    if (asprintf(&authgroup, "auth-%s-%s", service, host) < 0) {
        authgroup = NULL;
        goto nomem;
    }
    g = find_group(f, authgroup);
    if (!g) {
        free(authgroup);
        if (asprintf(&authgroup, "auth-%s-default", service) < 0) {
            authgroup = NULL;
            goto nomem;
        }
        g = find_group(f, authgroup);
    }
    if (!g)
        goto out;
    raw = group_value(g, "credentials");
    if (raw && (rc = unescape(raw, &cred)) != 0)
        goto nomem;
    if (!cred || !utf8_valid((const unsigned char *)cred)) {
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_NONE,
                       "configuration file syntax error: Missing item 'credentials' in group "
                       "'%s' in '%s'",
                       authgroup, f->path);
        rc = VRPC_E_INVALID;
        goto out;
    }
    if (asprintf(&credgroup, "credentials-%s", cred) < 0) {
        credgroup = NULL;
        goto nomem;
    }
    g = find_group(f, credgroup);
    if (!g) {
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_NONE,
                       "configuration file syntax error: Missing group 'credentials-%s' "
                       "referenced from group '%s' in '%s'",
                       cred, authgroup, f->path);
        rc = VRPC_E_INVALID;
        goto out;
    }
    raw = group_value(g, credname);
    if (raw) {
        if ((rc = unescape(raw, value)) != 0)
            goto nomem;
        if (*value && !utf8_valid((const unsigned char *)*value)) {
            vrpc_auth_wipe_free(*value, vrpc_free);
            *value = NULL;
        }
    }
    goto out;

nomem:
    vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_AUTH, "out of memory");
    rc = VRPC_E_NOMEM;
out:
    free(authgroup);
    free(credgroup);
    vrpc_free(cred);
    return rc;
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

int vrpc_authfile_find(const char *env_file, const char *uri_file, const char *config_home,
                       const char *home, const char *sysconf_file, char **out)
{
    char *p = NULL;

    *out = NULL;
    if (env_file) {
        *out = vrpc_strdup(env_file);
        return *out ? 0 : VRPC_E_NOMEM;
    }
    if (uri_file) {
        *out = vrpc_strdup(uri_file);
        return *out ? 0 : VRPC_E_NOMEM;
    }
    if (config_home && config_home[0]) {
        if (asprintf(&p, "%s/libvirt/auth.conf", config_home) < 0)
            return VRPC_E_NOMEM;
    } else if (home && home[0]) {
        if (asprintf(&p, "%s/.config/libvirt/auth.conf", home) < 0)
            return VRPC_E_NOMEM;
    }
    if (p && readable(p)) {
        *out = vrpc_strdup(p);
        free(p);
        return *out ? 0 : VRPC_E_NOMEM;
    }
    free(p);
    if (sysconf_file && readable(sysconf_file)) {
        *out = vrpc_strdup(sysconf_file);
        return *out ? 0 : VRPC_E_NOMEM;
    }
    return 0;
}

int vrpc_authfile_find_for(const vrpc_target *t, char **out)
{
    const char *uri_file = NULL, *home = getenv("HOME");
    struct passwd pw, *res = NULL;
    char buf[4096];
    size_t i;

    /* libvirt looks for a parameter spelled exactly "authfile". */
    if (t && t->uri)
        for (i = 0; i < t->uri->nparams && !uri_file; i++)
            if (strcmp(t->uri->params[i].name, "authfile") == 0)
                uri_file = t->uri->params[i].value;
    if (!home || !home[0]) {
        if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
            home = res->pw_dir;
    }
    return vrpc_authfile_find(getenv("LIBVIRT_AUTH_FILE"), uri_file, getenv("XDG_CONFIG_HOME"),
                              home, "/etc/libvirt/auth.conf", out);
}
