/* SPDX-License-Identifier: MIT */
/* Shared helpers of the integration tests (see itest.h). */
#include "itest.h"
#include "../testlib.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *g_prog;
static const char *g_dir;
static char *g_sys_uri, *g_sys_ro_uri, *g_storage_uri, *g_secret_uri, *g_admin_uri;

static pthread_mutex_t g_rec_lock = PTHREAD_MUTEX_INITIALIZER;
static char **g_rec;
static size_t g_nrec, g_caprec;

static __thread vrpc_error *tl_err;
static __thread char tl_errbuf[1024];

/* ---- utilities ---- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

char *it_vstrf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return s;
}

char *it_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = it_vstrf(fmt, ap);
    va_end(ap);
    return s;
}

char *it_strdup(const char *s)
{
    return it_strf("%s", s ? s : "");
}

void it_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = it_vstrf(fmt, ap);
    va_end(ap);
    /* One line per "# " prefix, so multi-line text stays TAP. */
    size_t cap = strlen(s) * 3 + 8, o = 0;
    char *out = xmalloc(cap);
    out[o++] = '#';
    out[o++] = ' ';
    for (const char *p = s; *p; p++) {
        if (*p == '\n') {
            if (p[1] == '\0')
                break;
            out[o++] = '\n';
            out[o++] = '#';
            out[o++] = ' ';
        } else {
            out[o++] = *p;
        }
    }
    out[o++] = '\n';
    out[o] = '\0';
    fflush(stdout);
    fputs(out, stdout);
    fflush(stdout);
    free(out);
    free(s);
}

char *it_oneline(char *s)
{
    it_trim(s);
    for (char *p = s; p && *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return s;
}

char *it_trim(char *s)
{
    if (!s)
        return s;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (isspace((unsigned char)s[i]))
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
    return s;
}

bool it_same_text(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    while (isspace((unsigned char)*a))
        a++;
    while (isspace((unsigned char)*b))
        b++;
    size_t na = strlen(a), nb = strlen(b);
    while (na > 0 && isspace((unsigned char)a[na - 1]))
        na--;
    while (nb > 0 && isspace((unsigned char)b[nb - 1]))
        nb--;
    return na == nb && memcmp(a, b, na) == 0;
}

void it_uuid_fmt(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool it_uuid_parse(const char *s, uint8_t u[16])
{
    if (!s)
        return false;
    int n = 0;
    while (*s && n < 16) {
        if (*s == '-') {
            s++;
            continue;
        }
        int hi = hexval(s[0]);
        int lo = hi < 0 ? -1 : hexval(s[1]);
        if (hi < 0 || lo < 0)
            return false;
        u[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    while (isspace((unsigned char)*s))
        s++;
    return n == 16 && *s == '\0';
}

bool it_u64(const char *s, uint64_t *v)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

bool it_i64(const char *s, int64_t *v)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

/* ---- set-up ---- */

const char *it_dir(void)
{
    return g_dir;
}

bool it_start(const char *prog)
{
    g_prog = prog;
    const char *d = getenv("VRPC_TEST_DIR");
    struct stat st;
    if (!d || !*d || stat(d, &st) < 0 || !S_ISDIR(st.st_mode)) {
        printf("1..0 # SKIP no test daemon\n");
        fflush(stdout);
        return false;
    }
    g_dir = d;
    /* The reference clients must print untranslated text. */
    setenv("LC_ALL", "C", 1);
    /* ...and times in UTC, like the ones formatted here. */
    setenv("TZ", "UTC", 1);
    tzset();
    unsetenv("LIBVIRT_DEFAULT_URI");
    g_sys_uri = it_strf("test+unix:///default?socket=%s/sys/run/libvirt-sock", d);
    g_sys_ro_uri = it_strf("test+unix:///default?socket=%s/sys/run/libvirt-sock-ro", d);
    g_storage_uri = it_strf("storage:///session?socket=%s/user/run/libvirt-sock", d);
    g_secret_uri = it_strf("secret:///session?socket=%s/user/run/libvirt-sock", d);
    g_admin_uri = it_strf("libvirtd:///system?socket=%s/sys/run/libvirt-admin-sock", d);
    return true;
}

const char *it_sys_uri(void)
{
    return g_sys_uri;
}
const char *it_sys_ro_uri(void)
{
    return g_sys_ro_uri;
}
const char *it_storage_uri(void)
{
    return g_storage_uri;
}
const char *it_secret_uri(void)
{
    return g_secret_uri;
}
const char *it_admin_uri(void)
{
    return g_admin_uri;
}

char *it_unique(const char *prefix)
{
    static int n;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    int k = ++n;
    pthread_mutex_unlock(&lock);
    return it_strf("%s-%ld-%d", prefix, (long)getpid(), k);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void it_finish(void)
{
    (void)it_errp(); /* free the calling thread's last error */
    pthread_mutex_lock(&g_rec_lock);
    if (g_nrec)
        qsort(g_rec, g_nrec, sizeof(*g_rec), cmp_str);
    size_t len = 0;
    for (size_t i = 0; i < g_nrec; i++)
        len += strlen(g_rec[i]) + 1;
    char *list = xmalloc(len + 1);
    list[0] = '\0';
    size_t o = 0;
    for (size_t i = 0; i < g_nrec; i++)
        o += (size_t)sprintf(list + o, "%s%s", i ? " " : "", g_rec[i]);
    it_diag("%s: %zu distinct procedures succeeded: %s", g_prog, g_nrec, list);
    free(list);
    if (g_dir) {
        char *path = it_strf("%s/procs-%s.txt", g_dir, g_prog);
        char *tmp = it_strf("%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (f) {
            for (size_t i = 0; i < g_nrec; i++)
                fprintf(f, "%s\n", g_rec[i]);
            if (fclose(f) == 0)
                rename(tmp, path);
        } else {
            it_diag("cannot write %s: %s", tmp, strerror(errno));
        }
        free(tmp);
        free(path);
    }
    pthread_mutex_unlock(&g_rec_lock);
}

/* ---- procedure record ---- */

void it_record(const char *proc)
{
    const vrpc_proc *p = vrpc_proc_lookup(proc);
    if (!p) {
        it_diag("recording unknown procedure '%s'", proc);
        return;
    }
    pthread_mutex_lock(&g_rec_lock);
    for (size_t i = 0; i < g_nrec; i++) {
        if (strcmp(g_rec[i], p->name) == 0) {
            pthread_mutex_unlock(&g_rec_lock);
            return;
        }
    }
    if (g_nrec == g_caprec) {
        g_caprec = g_caprec ? g_caprec * 2 : 64;
        g_rec = xrealloc(g_rec, g_caprec * sizeof(*g_rec));
    }
    g_rec[g_nrec++] = it_strdup(p->name);
    pthread_mutex_unlock(&g_rec_lock);
}

size_t it_nrecorded(void)
{
    pthread_mutex_lock(&g_rec_lock);
    size_t n = g_nrec;
    pthread_mutex_unlock(&g_rec_lock);
    return n;
}

static void record_fn(const char *fn)
{
    if (strncmp(fn, "vrpc_", 5) == 0)
        fn += 5;
    size_t n = strlen(fn);
    if (n > 5 && strcmp(fn + n - 5, "_send") == 0)
        return; /* only a collected reply proves the procedure worked */
    char buf[256];
    if (n >= sizeof(buf))
        return;
    memcpy(buf, fn, n + 1);
    if (n > 6 && strcmp(buf + n - 6, "_reply") == 0)
        buf[n - 6] = '\0';
    it_record(buf);
}

vrpc_error **it_errp(void)
{
    vrpc_free(tl_err);
    tl_err = NULL;
    return &tl_err;
}

vrpc_error *it_err(void)
{
    return tl_err;
}

const char *it_errstr(const vrpc_error *e)
{
    if (!e) {
        snprintf(tl_errbuf, sizeof(tl_errbuf), "(no error object)");
        return tl_errbuf;
    }
    /* one line: TAP descriptions must not contain newlines */
    char *msg = e->message ? it_esc(e->message) : NULL;
    snprintf(tl_errbuf, sizeof(tl_errbuf), "code=%d domain=%d level=%d message='%s'", e->code,
             e->domain, e->level, msg ? msg : "(null)");
    free(msg);
    return tl_errbuf;
}

int it_rc(const char *fn, int rc)
{
    if (rc == 0)
        record_fn(fn);
    else
        it_diag("%s failed: %d (%s): %s", fn, rc, vrpc_strerror(rc), it_errstr(tl_err));
    return rc;
}

int it_rc_quiet(const char *fn, int rc)
{
    if (rc == 0)
        record_fn(fn);
    return rc;
}

/* ---- running commands ---- */

static char *read_all(FILE *f)
{
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    buf[len] = '\0';
    return buf;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return it_strdup("");
    char *s = read_all(f);
    fclose(f);
    return s;
}

static int run_cmd(it_cmd *r, const char *cmd)
{
    memset(r, 0, sizeof(*r));
    char *errpath = it_strf("%s/it-stderr-XXXXXX", g_dir ? g_dir : ".");
    int fd = mkstemp(errpath);
    if (fd < 0) {
        r->status = -1;
        r->out = it_strdup("");
        r->err = it_strf("mkstemp: %s", strerror(errno));
        free(errpath);
        return -1;
    }
    close(fd);
    char *full = it_strf("exec 2>%s; %s", errpath, cmd);
    fflush(stdout);
    FILE *p = popen(full, "r");
    if (!p) {
        r->status = -1;
        r->out = it_strdup("");
        r->err = it_strf("popen: %s", strerror(errno));
    } else {
        r->out = read_all(p);
        int st = pclose(p);
        r->status = (st >= 0 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
        r->err = read_file(errpath);
    }
    unlink(errpath);
    free(errpath);
    free(full);
    return r->status;
}

int it_sh(it_cmd *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = it_vstrf(fmt, ap);
    va_end(ap);
    int st = run_cmd(r, cmd);
    free(cmd);
    return st;
}

void it_cmd_free(it_cmd *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

char *it_shq(const char *s)
{
    return tl_shq(s);
}

const char *it_virsh(void)
{
    const char *v = getenv("VRPC_VIRSH");
    return v && *v ? v : "virsh";
}

const char *it_virt_admin(void)
{
    const char *v = getenv("VRPC_VIRT_ADMIN");
    return v && *v ? v : "virt-admin";
}

static bool py_has_libvirt(const char *py)
{
    it_cmd r;
    char *q = it_shq(py);
    int st = it_sh(&r, "%s -c 'import libvirt' 2>/dev/null", q);
    free(q);
    it_cmd_free(&r);
    return st == 0;
}

const char *it_python(void)
{
    static char *found;
    static bool done;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    if (!done) {
        done = true;
        const char *env = getenv("VRPC_PYTHON");
        if (env && *env && py_has_libvirt(env)) {
            found = it_strdup(env);
        } else {
            const char *path = getenv("PATH");
            char *copy = it_strdup(path ? path : "");
            for (char *save = NULL, *d = strtok_r(copy, ":", &save); d && !found;
                 d = strtok_r(NULL, ":", &save)) {
                char *cand = it_strf("%s/python3", *d ? d : ".");
                if (access(cand, X_OK) == 0 && py_has_libvirt(cand))
                    found = cand;
                else
                    free(cand);
            }
            free(copy);
        }
        if (!found)
            it_diag("no python3 with the libvirt module: Python comparisons are skipped");
    }
    pthread_mutex_unlock(&lock);
    return found;
}

static char *tool_out(const char *tool, const char *uri, const char *fmt, va_list ap)
{
    char *args = it_vstrf(fmt, ap);
    char *qt = it_shq(tool), *qu = it_shq(uri);
    it_cmd r;
    int st = it_sh(&r, "%s -q -c %s %s", qt, qu, args);
    char *out = NULL;
    if (st == 0) {
        out = r.out;
        r.out = NULL;
    } else {
        it_diag("`%s -c %s %s` exited with %d: %s", tool, uri, args, st, r.err);
    }
    it_cmd_free(&r);
    free(qt);
    free(qu);
    free(args);
    return out;
}

char *it_virsh_out(const char *uri, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = tool_out(it_virsh(), uri, fmt, ap);
    va_end(ap);
    return s;
}

int it_virsh_cmd(it_cmd *r, const char *uri, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = it_vstrf(fmt, ap);
    va_end(ap);
    char *qt = it_shq(it_virsh()), *qu = it_shq(uri);
    int st = it_sh(r, "%s -q -c %s %s", qt, qu, args);
    free(qt);
    free(qu);
    free(args);
    return st;
}

char *it_vadmin_out(const char *uri, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = tool_out(it_virt_admin(), uri, fmt, ap);
    va_end(ap);
    return s;
}

char *it_py(const char *script, const char *uri, ...)
{
    const char *py = it_python();
    if (!py)
        return NULL;
    char *path = it_strf("%s/it-py-XXXXXX", g_dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        it_diag("mkstemp: %s", strerror(errno));
        free(path);
        return NULL;
    }
    size_t n = strlen(script);
    if (write(fd, script, n) != (ssize_t)n) {
        close(fd);
        unlink(path);
        free(path);
        return NULL;
    }
    close(fd);
    char *qpy = it_shq(py), *qpath = it_shq(path), *quri = it_shq(uri);
    char *cmd = it_strf("%s %s %s", qpy, qpath, quri);
    va_list ap;
    va_start(ap, uri);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
        char *qa = it_shq(a);
        char *c2 = it_strf("%s %s", cmd, qa);
        free(qa);
        free(cmd);
        cmd = c2;
    }
    va_end(ap);
    it_cmd r;
    int st = run_cmd(&r, cmd);
    char *out = NULL;
    if (st == 0) {
        out = r.out;
        r.out = NULL;
    } else {
        it_diag("python script exited with %d: %s", st, r.err);
    }
    it_cmd_free(&r);
    unlink(path);
    free(cmd);
    free(qpy);
    free(qpath);
    free(quri);
    free(path);
    return out;
}

/* ---- parsing ---- */

char *it_kv(const char *text, const char *key)
{
    if (!text)
        return NULL;
    size_t klen = strlen(key);
    const char *line = text;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (colon) {
            const char *a = line, *b = colon;
            while (a < b && isspace((unsigned char)*a))
                a++;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            if ((size_t)(b - a) == klen && memcmp(a, key, klen) == 0) {
                char *v = xmalloc(len + 1);
                size_t vlen = len - (size_t)(colon + 1 - line);
                memcpy(v, colon + 1, vlen);
                v[vlen] = '\0';
                return it_trim(v);
            }
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    return NULL;
}

char **it_lines(const char *text, size_t *n)
{
    size_t cap = 16, k = 0;
    char **v = xmalloc(cap * sizeof(*v));
    const char *line = text ? text : "";
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char *s = xmalloc(len + 1);
        memcpy(s, line, len);
        s[len] = '\0';
        it_trim(s);
        if (*s) {
            if (k + 2 > cap) {
                cap *= 2;
                v = xrealloc(v, cap * sizeof(*v));
            }
            v[k++] = s;
        } else {
            free(s);
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    v[k] = NULL;
    if (n)
        *n = k;
    return v;
}

void it_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

long it_strv_find(char *const *v, const char *s)
{
    for (long i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return i;
    return -1;
}

static bool is_rule(const char *s)
{
    size_t dashes = 0;
    for (; *s; s++) {
        if (*s == '-')
            dashes++;
        else if (!isspace((unsigned char)*s))
            return false;
    }
    return dashes >= 3;
}

void it_table(const char *text, size_t maxcols, bool wide_sep, it_rows *rows)
{
    memset(rows, 0, sizeof(*rows));
    size_t nl;
    char **lines = it_lines(text, &nl);
    size_t start = 0;
    for (size_t i = 0; i < nl; i++) {
        if (is_rule(lines[i])) {
            start = i + 1;
            break;
        }
    }
    rows->cols = xmalloc((nl + 1) * sizeof(*rows->cols));
    rows->ncols = xmalloc((nl + 1) * sizeof(*rows->ncols));
    for (size_t i = start; i < nl; i++) {
        char **cols = xmalloc((maxcols + 1) * sizeof(*cols));
        size_t nc = 0;
        const char *p = lines[i];
        while (*p && nc < maxcols) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (!*p)
                break;
            const char *e;
            if (nc + 1 == maxcols) {
                e = p + strlen(p);
            } else {
                e = p;
                while (*e) {
                    if (*e == '\t')
                        break;
                    if (*e == ' ' && (!wide_sep || e[1] == ' ' || e[1] == '\0'))
                        break;
                    e++;
                }
            }
            char *c = xmalloc((size_t)(e - p) + 1);
            memcpy(c, p, (size_t)(e - p));
            c[e - p] = '\0';
            cols[nc++] = it_trim(c);
            p = e;
        }
        cols[nc] = NULL;
        rows->cols[rows->n] = cols;
        rows->ncols[rows->n] = nc;
        rows->n++;
    }
    it_strv_free(lines);
}

void it_rows_free(it_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        it_strv_free(rows->cols[i]);
    free(rows->cols);
    free(rows->ncols);
    memset(rows, 0, sizeof(*rows));
}

long it_rows_find(const it_rows *rows, size_t col, const char *value)
{
    for (size_t i = 0; i < rows->n; i++)
        if (col < rows->ncols[i] && strcmp(rows->cols[i][col], value) == 0)
            return (long)i;
    return -1;
}

char *it_pyval(const char *text, const char *key)
{
    if (!text)
        return NULL;
    size_t klen = strlen(key);
    const char *line = text;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
            size_t vlen = len - klen - 1;
            char *v = xmalloc(vlen + 1);
            memcpy(v, line + klen + 1, vlen);
            v[vlen] = '\0';
            return v;
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    return NULL;
}

char *it_tp_str(int type, int64_t i, uint64_t u, double d, const char *s)
{
    switch (type) {
    case VRPC_TYPED_PARAM_INT:
    case VRPC_TYPED_PARAM_LLONG:
        return it_strf("%lld", (long long)i);
    case VRPC_TYPED_PARAM_BOOLEAN:
        return it_strf("%d", i ? 1 : 0);
    case VRPC_TYPED_PARAM_UINT:
    case VRPC_TYPED_PARAM_ULLONG:
        return it_strf("%llu", (unsigned long long)u);
    case VRPC_TYPED_PARAM_DOUBLE:
        return it_strf("%.17g", d);
    case VRPC_TYPED_PARAM_STRING:
        return it_strdup(s);
    default:
        return it_strf("<type %d>", type);
    }
}

bool it_tp_eq(int type, int64_t i, uint64_t u, double d, const char *s, const char *py)
{
    if (!py)
        return false;
    if (type == VRPC_TYPED_PARAM_DOUBLE) {
        char *end;
        double x = strtod(py, &end);
        return *end == '\0' && (x == d || fabs(x - d) <= 1e-12 * fabs(d));
    }
    char *mine = it_tp_str(type, i, u, d, s);
    bool eq = strcmp(mine, py) == 0;
    free(mine);
    return eq;
}

char *it_py_eval(const char *uri, bool ro, const char *expr)
{
    char *script = it_strf("%s"
                           "_ok = [False]\n"
                           "def _f():\n"
                           "    r = %s\n"
                           "    _ok[0] = True\n"
                           "    return r\n"
                           "r = call(_f)\n"
                           "if _ok[0]:\n"
                           "    print('ret=%%r' %% (r,))\n",
                           IT_PY_PRELUDE, expr);
    char *out = it_py(script, uri, ro ? "ro" : "rw", NULL);
    free(script);
    return out;
}

static bool field_eq(const char *what, const char *mine, const char *py);

/* A printf format with positional conversions ("%1$s") written as plain
 * ones ("%s"), malloc'd. */
static char *unpositional(const char *s)
{
    char *out = it_strdup(s), *o = out;
    for (const char *p = s; *p; p++) {
        *o++ = *p;
        if (*p == '%' && isdigit((unsigned char)p[1])) {
            const char *q = p + 1;
            while (isdigit((unsigned char)*q))
                q++;
            if (*q == '$')
                p = q;
        }
    }
    *o = '\0';
    return out;
}

/* The error's format strings (str1..3) of libvirt 9.0.0 and those of later
 * daemons differ in spelling only: from libvirt 9.x on the daemon writes
 * positional conversions ("operation forbidden: %1$s"), and libvirt.so raises
 * some errors itself (a read-only connection's refusal) with its own. */
static bool str_eq(const char *what, const char *mine, const char *py)
{
    if (mine && py && strcmp(mine, py) != 0) {
        char *a = unpositional(mine), *b = unpositional(py);
        bool same = strcmp(a, b) == 0;
        free(a);
        free(b);
        if (same) {
            it_diag("error %s: virtrpc '%s', python '%s' (the same format)", what, mine, py);
            return true;
        }
    }
    return field_eq(what, mine, py);
}

static bool field_eq(const char *what, const char *mine, const char *py)
{
    if ((mine == NULL) != (py == NULL) || (mine && strcmp(mine, py) != 0)) {
        it_diag("error %s differs: virtrpc '%s', python '%s'", what, mine ? mine : "(null)",
                py ? py : "(null)");
        return false;
    }
    return true;
}

bool it_err_matches_py(const vrpc_error *e, const char *py)
{
    if (!e || !py)
        return false;
    char *ok = it_pyval(py, "ok");
    bool good = ok && strcmp(ok, "0") == 0;
    free(ok);
    if (!good) {
        it_diag("python did not fail");
        return false;
    }
    static const char *const names[] = {"code", "domain", "level", "int1", "int2"};
    int mine[] = {e->code, e->domain, e->level, e->int1, e->int2};
    for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
        char *v = it_pyval(py, names[i]);
        char *m = it_strf("%d", mine[i]);
        good &= field_eq(names[i], m, v);
        free(m);
        free(v);
    }
    const char *strs[] = {e->message, e->str1, e->str2, e->str3};
    static const char *const snames[] = {"message", "str1", "str2", "str3"};
    for (size_t i = 0; i < 4; i++) {
        char *v = it_pyval(py, snames[i]);
        char *mine = it_esc(strs[i]);
        good &= i == 0 ? field_eq(snames[i], mine, v) : str_eq(snames[i], mine, v);
        free(mine);
        free(v);
    }
    return good;
}

char *it_until(const char *p, char stop)
{
    const char *e = strchr(p, stop);
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *it_word_after(const char *text, const char *key)
{
    const char *p = text ? strstr(text, key) : NULL;
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\t' || *p == ':')
        p++;
    const char *e = p;
    while (*e && !isspace((unsigned char)*e))
        e++;
    if (e == p)
        return NULL;
    char *s = xmalloc((size_t)(e - p) + 1);
    memcpy(s, p, (size_t)(e - p));
    s[e - p] = '\0';
    return s;
}

char *it_esc(const char *s)
{
    if (!s)
        return NULL;
    char *o = xmalloc(strlen(s) * 2 + 1);
    size_t k = 0;
    for (; *s; s++) {
        if (*s == '\\') {
            o[k++] = '\\';
            o[k++] = '\\';
        } else if (*s == '\n') {
            o[k++] = '\\';
            o[k++] = 'n';
        } else {
            o[k++] = *s;
        }
    }
    o[k] = '\0';
    return o;
}

/* ---- the daemon's version ---- */

static pthread_once_t g_ver_once = PTHREAD_ONCE_INIT;
static uint64_t g_daemon_ver;

static void daemon_ver_init(void)
{
    vrpc_conn *c = NULL;
    vrpc_error *e = NULL;
    vrpc_connect_get_lib_version_ret *r = NULL;
    if (vrpc_conn_open(&c, it_sys_uri(), 0, &e) == 0 &&
        vrpc_connect_get_lib_version(c, &r, &e) == 0)
        g_daemon_ver = r->lib_ver;
    else
        it_diag("the daemon's version is unknown: %s", it_errstr(e));
    vrpc_free(r);
    vrpc_free(e);
    vrpc_conn_close(c);
}

uint64_t it_daemon_version(void)
{
    pthread_once(&g_ver_once, daemon_ver_init);
    return g_daemon_ver;
}

bool it_daemon_before(uint64_t version)
{
    uint64_t v = it_daemon_version();
    return v != 0 && v < version;
}

bool it_no_support(int rc, const char *api)
{
    const vrpc_error *e = tl_err;
    return rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT && e->message &&
           (!api || strstr(e->message, api));
}

static void ver_str(char *buf, size_t n, uint64_t v)
{
    snprintf(buf, n, "%u.%u.%u", (unsigned)(v / 1000000), (unsigned)(v / 1000 % 1000),
             (unsigned)(v % 1000));
}

const char *it_lacks_text(uint64_t since, int rc, const char *api)
{
    static __thread char buf[1400];
    char have[32], added[32];
    ver_str(have, sizeof(have), it_daemon_version());
    ver_str(added, sizeof(added), since);
    snprintf(buf, sizeof(buf), "libvirt %s's daemon lacks %s (added in %s): %s", have, api, added,
             rc == 0 ? "it succeeded" : it_errstr(tl_err));
    return buf;
}

bool it_check_rc(const char *fn, int rc)
{
    if (rc != 0)
        it_diag("%s failed: %d (%s): %s", fn, rc, vrpc_strerror(rc), it_errstr(tl_err));
    return false;
}
