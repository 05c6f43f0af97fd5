/* SPDX-License-Identifier: MIT */
/* libvirt's client configuration files: reading and parsing (see conf.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "conf.h"
#include "error.h"

typedef struct parser {
    const char *name; /* file name in errors */
    const char *p, *end;
    unsigned int line;
    const char *key; /* the key whose value is being parsed, for errors */
    size_t nvalues;
    vrpc_error **err;
} parser;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_eol(char c)
{
    return c == '\n' || c == '\r';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool at_end(const parser *ps)
{
    return ps->p >= ps->end;
}

static void skip_blanks(parser *ps)
{
    while (!at_end(ps) && is_blank(*ps->p))
        ps->p++;
}

static void skip_blanks_eol(parser *ps)
{
    while (!at_end(ps) && (is_blank(*ps->p) || is_eol(*ps->p))) {
        if (*ps->p == '\n')
            ps->line++;
        ps->p++;
    }
}

static void skip_comment(parser *ps)
{
    while (!at_end(ps) && !is_eol(*ps->p))
        ps->p++;
}

/* What stands at the parser's position, for errors: 'text', a NUL byte, ... */
static void describe_here(const parser *ps, char *buf, size_t size)
{
    const char *s = ps->p;
    size_t o = 0, i;

    if (at_end(ps)) {
        snprintf(buf, size, "the end of the file");
        return;
    }
    if (*s == '\0') {
        snprintf(buf, size, "a NUL byte");
        return;
    }
    if (is_eol(*s)) {
        snprintf(buf, size, "the end of the line");
        return;
    }
    buf[o++] = '\'';
    for (i = 0; i < 16 && s + i < ps->end && !is_eol(s[i]) && o + 6 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

/* Report "NAME:LINE: [key 'KEY': ]MESSAGE" at line. Returns VRPC_E_URI. */
static int perr_at(parser *ps, unsigned int line, const char *fmt, ...) VRPC_PRINTF(3, 4);
static int perr_at(parser *ps, unsigned int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ps->key)
        vrpc_error_set(ps->err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF, "%s:%u: key '%s': %s",
                       ps->name, line, ps->key, msg);
    else
        vrpc_error_set(ps->err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF, "%s:%u: %s", ps->name, line,
                       msg);
    return VRPC_E_URI;
}

#define PERR(ps, ...) perr_at(ps, (ps)->line, __VA_ARGS__)

static void value_clear(vrpc_conf_value *v)
{
    size_t i;
    vrpc_free(v->str);
    for (i = 0; i < v->n; i++)
        value_clear(&v->items[i]);
    vrpc_free(v->items);
    memset(v, 0, sizeof(*v));
}

static int parse_value(parser *ps, vrpc_conf_value *v, unsigned int depth);

/* A string between q and q on one line, or between """ and """. */
static int parse_string(parser *ps, vrpc_conf_value *v)
{
    unsigned int start_line = ps->line;
    const char *s, *e;
    size_t len;

    if (ps->end - ps->p > 6 && memcmp(ps->p, "\"\"\"", 3) == 0) {
        ps->p += 3;
        s = ps->p;
        while (ps->end - ps->p >= 3 && memcmp(ps->p, "\"\"\"", 3) != 0) {
            if (*ps->p == '\n')
                ps->line++;
            ps->p++;
        }
        if (ps->end - ps->p < 3) {
            ps->p = ps->end;
            return perr_at(ps, start_line, "unterminated string (\"\"\" not closed)");
        }
        e = ps->p;
        ps->p += 3;
    } else {
        char q = *ps->p++;
        s = ps->p;
        while (!at_end(ps) && *ps->p != q && !is_eol(*ps->p))
            ps->p++;
        if (at_end(ps) || *ps->p != q)
            return PERR(ps, "unterminated string (no closing %c before the end of the %s)", q,
                        at_end(ps) ? "file" : "line");
        e = ps->p;
        ps->p++;
    }
    len = (size_t)(e - s);
    if (len > VRPC_CONF_MAX_STRING)
        return perr_at(ps, start_line, "string longer than %u bytes", VRPC_CONF_MAX_STRING);
    if (memchr(s, '\0', len))
        return perr_at(ps, start_line, "a NUL byte in a string");
    v->type = VRPC_CONF_STRING;
    v->str = vrpc_malloc(len + 1);
    if (!v->str)
        return VRPC_E_NOMEM;
    memcpy(v->str, s, len);
    v->str[len] = '\0';
    return 0;
}

static int parse_number(parser *ps, vrpc_conf_value *v)
{
    unsigned long long n = 0;
    bool neg = false;

    if (*ps->p == '-' || *ps->p == '+') {
        neg = *ps->p == '-';
        ps->p++;
    }
    if (at_end(ps) || !is_digit(*ps->p))
        return PERR(ps, "a sign without digits");
    while (!at_end(ps) && is_digit(*ps->p)) {
        unsigned int d = (unsigned int)(*ps->p - '0');
        if (n > ((unsigned long long)LLONG_MAX - d) / 10)
            return PERR(ps, "number out of range (%lld to %lld)", -LLONG_MAX, LLONG_MAX);
        n = n * 10 + d;
        ps->p++;
    }
    v->type = neg ? VRPC_CONF_INT : VRPC_CONF_UINT;
    v->num = neg ? -(long long)n : (long long)n;
    return 0;
}

static int parse_list(parser *ps, vrpc_conf_value *v, unsigned int depth)
{
    unsigned int start_line = ps->line;
    size_t cap = 0;
    char what[64];
    int rc;

    if (depth >= VRPC_CONF_MAX_DEPTH)
        return PERR(ps, "lists nested deeper than %u", VRPC_CONF_MAX_DEPTH);
    v->type = VRPC_CONF_LIST;
    ps->p++;
    skip_blanks_eol(ps);
    for (;;) {
        if (at_end(ps))
            return perr_at(ps, start_line, "list not closed with ']'");
        if (*ps->p == ']')
            break;
        if (v->n > 0) {
            if (*ps->p != ',') {
                describe_here(ps, what, sizeof(what));
                return PERR(ps, "expected ',' or ']' in the list, found %s%s", what,
                            *ps->p == '#' ? " (no comments inside a list)" : "");
            }
            ps->p++;
            skip_blanks_eol(ps);
            if (!at_end(ps) && *ps->p == ']')
                break;
        }
        if (v->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            vrpc_conf_value *ni;
            if (v->n >= VRPC_CONF_MAX_LIST)
                return PERR(ps, "more than %u values in one list", VRPC_CONF_MAX_LIST);
            if (ncap > VRPC_CONF_MAX_LIST)
                ncap = VRPC_CONF_MAX_LIST;
            ni = vrpc_realloc(v->items, ncap * sizeof(*ni));
            if (!ni)
                return VRPC_E_NOMEM;
            v->items = ni;
            cap = ncap;
        }
        memset(&v->items[v->n], 0, sizeof(v->items[v->n]));
        v->n++;
        rc = parse_value(ps, &v->items[v->n - 1], depth + 1);
        if (rc)
            return rc;
        skip_blanks_eol(ps);
    }
    ps->p++;
    return 0;
}

static int parse_value(parser *ps, vrpc_conf_value *v, unsigned int depth)
{
    char what[64];
    char c;

    skip_blanks(ps);
    v->line = ps->line;
    if (++ps->nvalues > VRPC_CONF_MAX_VALUES)
        return PERR(ps, "more than %u values in the file", VRPC_CONF_MAX_VALUES);
    if (at_end(ps))
        return PERR(ps, "expected a value, found the end of the file");
    c = *ps->p;
    if (c == '"' || c == '\'')
        return parse_string(ps, v);
    if (c == '[')
        return parse_list(ps, v, depth);
    if (is_digit(c) || c == '-' || c == '+')
        return parse_number(ps, v);
    describe_here(ps, what, sizeof(what));
    return PERR(ps, "expected a value (a quoted string, a number or a list), found %s%s", what,
                c == '#' && depth > 0 ? " (no comments inside a list)" : "");
}

void vrpc_conf_free(vrpc_conf *c)
{
    size_t i;
    if (!c)
        return;
    for (i = 0; i < c->n; i++) {
        vrpc_free(c->entries[i].key);
        value_clear(&c->entries[i].value);
    }
    vrpc_free(c->entries);
    vrpc_free(c->path);
    vrpc_free(c);
}

/* No line may exceed VRPC_CONF_MAX_LINE bytes. */
static int check_lines(parser *ps)
{
    const char *s = ps->p, *nl;
    unsigned int line = 1;

    while (s < ps->end) {
        nl = memchr(s, '\n', (size_t)(ps->end - s));
        if ((size_t)((nl ? nl : ps->end) - s) > VRPC_CONF_MAX_LINE)
            return perr_at(ps, line, "line longer than %u bytes", VRPC_CONF_MAX_LINE);
        if (!nl)
            break;
        s = nl + 1;
        line++;
    }
    return 0;
}

static int parse_statements(parser *ps, vrpc_conf *c)
{
    size_t cap = 0;
    char what[64];
    int rc;

    for (;;) {
        const char *k;
        vrpc_conf_entry *e;
        size_t klen;

        skip_blanks_eol(ps);
        if (at_end(ps))
            return 0;
        if (*ps->p == '#') {
            skip_comment(ps);
            continue;
        }
        if (!is_alpha(*ps->p)) {
            describe_here(ps, what, sizeof(what));
            return PERR(ps, "expected a key (a letter, then letters, digits or '_'), found %s",
                        what);
        }
        k = ps->p;
        while (!at_end(ps) && (is_alpha(*ps->p) || is_digit(*ps->p) || *ps->p == '_'))
            ps->p++;
        klen = (size_t)(ps->p - k);
        if (klen > VRPC_CONF_MAX_KEY)
            return PERR(ps, "key longer than %u bytes", VRPC_CONF_MAX_KEY);
        if (c->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            vrpc_conf_entry *ne;
            if (c->n >= VRPC_CONF_MAX_ENTRIES)
                return PERR(ps, "more than %u keys in the file", VRPC_CONF_MAX_ENTRIES);
            if (ncap > VRPC_CONF_MAX_ENTRIES)
                ncap = VRPC_CONF_MAX_ENTRIES;
            ne = vrpc_realloc(c->entries, ncap * sizeof(*ne));
            if (!ne)
                return VRPC_E_NOMEM;
            c->entries = ne;
            cap = ncap;
        }
        e = &c->entries[c->n];
        memset(e, 0, sizeof(*e));
        e->key = vrpc_malloc(klen + 1);
        if (!e->key)
            return VRPC_E_NOMEM;
        memcpy(e->key, k, klen);
        e->key[klen] = '\0';
        e->line = ps->line;
        c->n++;

        ps->key = e->key;
        skip_blanks(ps);
        if (at_end(ps) || *ps->p != '=') {
            describe_here(ps, what, sizeof(what));
            return PERR(ps, "expected '=' after the key, found %s", what);
        }
        ps->p++;
        rc = parse_value(ps, &e->value, 0);
        if (rc)
            return rc;
        skip_blanks(ps);
        if (!at_end(ps) && *ps->p == '#')
            skip_comment(ps);
        if (!at_end(ps) && !is_eol(*ps->p)) {
            if (*ps->p != ';') {
                describe_here(ps, what, sizeof(what));
                return PERR(ps, "expected the end of the line or ';' after the value, found %s",
                            what);
            }
            ps->p++;
        }
        ps->key = NULL;
    }
}

int vrpc_conf_parse(const char *name, const char *data, size_t len, vrpc_conf **out,
                    vrpc_error **err)
{
    parser ps = {name, data, data + len, 1, NULL, 0, err};
    vrpc_conf *c;
    int rc;

    *out = NULL;
    if (len > VRPC_CONF_MAX_FILE) {
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF, "%s: larger than %u bytes", name,
                       VRPC_CONF_MAX_FILE);
        return VRPC_E_URI;
    }
    rc = check_lines(&ps);
    if (rc)
        return rc;
    c = vrpc_calloc(1, sizeof(*c));
    if (!c || !(c->path = vrpc_strdup(name))) {
        vrpc_free(c);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_CONF, "%s: out of memory", name);
        return VRPC_E_NOMEM;
    }
    rc = parse_statements(&ps, c);
    if (rc) {
        if (rc == VRPC_E_NOMEM)
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_CONF, "%s: out of memory", name);
        vrpc_conf_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int vrpc_conf_read_file(const char *path, vrpc_conf **out, vrpc_error **err)
{
    size_t cap, len = 0;
    struct stat st;
    char *buf;
    int fd, rc;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_CONF, errno, "cannot open %s",
                             path);
        return VRPC_E_URI;
    }
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_CONF, e, "cannot stat %s", path);
        return VRPC_E_URI;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF, "%s: not a regular file", path);
        return VRPC_E_URI;
    }
    if (st.st_size > (off_t)VRPC_CONF_MAX_FILE) {
        close(fd);
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF, "%s: larger than %u bytes", path,
                       VRPC_CONF_MAX_FILE);
        return VRPC_E_URI;
    }
    /* Room for the size seen plus one byte, to notice a file that grew. */
    cap = (size_t)st.st_size + 1;
    buf = vrpc_malloc(cap);
    if (!buf) {
        close(fd);
        return VRPC_E_NOMEM;
    }
    for (;;) {
        ssize_t r;
        if (len == cap) {
            size_t ncap = cap * 2 > VRPC_CONF_MAX_FILE + 1 ? VRPC_CONF_MAX_FILE + 1 : cap * 2;
            char *nb;
            if (cap >= VRPC_CONF_MAX_FILE + 1) {
                vrpc_free(buf);
                close(fd);
                vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF,
                               "%s: larger than %u bytes", path, VRPC_CONF_MAX_FILE);
                return VRPC_E_URI;
            }
            nb = vrpc_realloc(buf, ncap);
            if (!nb) {
                vrpc_free(buf);
                close(fd);
                return VRPC_E_NOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            vrpc_free(buf);
            close(fd);
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_CONF, e, "cannot read %s",
                                 path);
            return VRPC_E_URI;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    rc = vrpc_conf_parse(path, buf, len, out, err);
    vrpc_free(buf);
    return rc;
}

const vrpc_conf_entry *vrpc_conf_find(const vrpc_conf *c, const char *key)
{
    size_t i;
    for (i = 0; c && i < c->n; i++)
        if (strcmp(c->entries[i].key, key) == 0)
            return &c->entries[i];
    return NULL;
}

static const char *type_name(vrpc_conf_type t)
{
    switch (t) {
    case VRPC_CONF_STRING:
        return "a string";
    case VRPC_CONF_INT:
    case VRPC_CONF_UINT:
        return "a number";
    case VRPC_CONF_LIST:
        return "a list";
    }
    return "nothing";
}

int vrpc_conf_get_string(const vrpc_conf *c, const char *key, const char **out, vrpc_error **err)
{
    const vrpc_conf_entry *e = vrpc_conf_find(c, key);
    if (!e)
        return 0;
    if (e->value.type != VRPC_CONF_STRING) {
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF,
                       "%s:%u: key '%s': expected a string, found %s", c->path, e->line, key,
                       type_name(e->value.type));
        return VRPC_E_URI;
    }
    *out = e->value.str;
    return 1;
}

int vrpc_conf_get_string_list(const vrpc_conf *c, const char *key, const vrpc_conf_value **items,
                              size_t *n, vrpc_error **err)
{
    const vrpc_conf_entry *e = vrpc_conf_find(c, key);
    size_t i;
    if (!e)
        return 0;
    if (e->value.type != VRPC_CONF_LIST) {
        vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF,
                       "%s:%u: key '%s': expected a list of strings, found %s", c->path, e->line,
                       key, type_name(e->value.type));
        return VRPC_E_URI;
    }
    for (i = 0; i < e->value.n; i++) {
        const vrpc_conf_value *v = &e->value.items[i];
        if (v->type != VRPC_CONF_STRING) {
            vrpc_error_set(err, VRPC_ERR_CONF_SYNTAX, VRPC_FROM_CONF,
                           "%s:%u: key '%s': expected a list of strings, item %zu is %s", c->path,
                           v->line, key, i + 1, type_name(v->type));
            return VRPC_E_URI;
        }
    }
    *items = e->value.items;
    *n = e->value.n;
    return 1;
}
