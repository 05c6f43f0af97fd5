/* SPDX-License-Identifier: MIT */
/*
 * libvirt's client configuration: the file parser (src/uri/conf.c) on good
 * and malformed files, and how the URI resolvers use libvirt.conf and
 * libvirt-admin.conf (uri_default, uri_aliases, remote_mode, remote_proxy,
 * tls_priority), with an injected environment whose files live in a
 * temporary directory (nothing of the host's configuration is read).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "conf.h"
#include "tap.h"
#include "transport-cmd.h"
#include "uri.h"

static bool same(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* ---- the parser ---- */

static vrpc_conf *parse_ok(const char *text, size_t len, const char *what)
{
    vrpc_conf *c = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_conf_parse("t.conf", text, len, &c, &e);
    if (!TAP_OK(rc == 0 && c && !e, "parses: %s", what))
        tap_diag("rc %d: %s", rc, e && e->message ? e->message : "(no message)");
    vrpc_free(e);
    return c;
}

static const vrpc_conf_value *val(const vrpc_conf *c, const char *key)
{
    const vrpc_conf_entry *e = vrpc_conf_find(c, key);
    return e ? &e->value : NULL;
}

static bool is_str(const vrpc_conf_value *v, const char *s)
{
    return v && v->type == VRPC_CONF_STRING && strcmp(v->str, s) == 0;
}

static void test_good(void)
{
    static const char text[] = "# libvirt.conf\n"
                               "\n"
                               "uri_default = \"qemu:///system\"   # trailing comment\n"
                               "single='a \"quoted\" word'\n"
                               "  indented\t=\t\"x\"\n"
                               "triple = \"\"\"first\n"
                               "second\"\"\"\n"
                               "neg = -42 ; pos = +7; plain = 0\n"
                               "empty = \"\"\n"
                               "uri_aliases = [\n"
                               "  \"hail=qemu+ssh://root@hail.cloud.example.com/system\",\n"
                               "  'sleet=qemu+ssh://root@sleet.cloud.example.com/system',\n"
                               "\n"
                               "]\n"
                               "nested = [ [ 1, \"a\" ], [], -3 ]\n"
                               "empty_list = []\n"
                               "crlf = \"c\"\r\n"
                               "uri_default = \"second value is ignored\"\n"
                               "big = 9223372036854775807\n"
                               "small = -9223372036854775807\n"
                               "last = 'no newline at the end'";
    vrpc_conf *c = parse_ok(text, sizeof(text) - 1, "every form of value");
    const vrpc_conf_value *v;

    if (!c)
        return;
    TAP_OK(is_str(val(c, "uri_default"), "qemu:///system") &&
               vrpc_conf_find(c, "uri_default")->line == 3,
           "a double-quoted string, its line; a key given twice keeps its first value");
    TAP_OK(is_str(val(c, "single"), "a \"quoted\" word"), "a single-quoted string");
    TAP_OK(is_str(val(c, "indented"), "x"), "blanks and tabs around the key and '='");
    TAP_OK(is_str(val(c, "triple"), "first\nsecond") && vrpc_conf_find(c, "neg")->line == 8,
           "a triple-quoted string spans lines (and the lines are still counted)");
    v = val(c, "neg");
    TAP_OK(v && v->type == VRPC_CONF_INT && v->num == -42, "a negative number");
    v = val(c, "pos");
    TAP_OK(v && v->type == VRPC_CONF_UINT && v->num == 7 && val(c, "plain") &&
               val(c, "plain")->num == 0,
           "'+7' and '0', several statements on a line separated by ';'");
    TAP_OK(is_str(val(c, "empty"), ""), "an empty string");
    v = val(c, "uri_aliases");
    TAP_OK(v && v->type == VRPC_CONF_LIST && v->n == 2 &&
               is_str(&v->items[0], "hail=qemu+ssh://root@hail.cloud.example.com/system") &&
               is_str(&v->items[1], "sleet=qemu+ssh://root@sleet.cloud.example.com/system") &&
               v->items[1].line == 12,
           "a list over several lines with a ',' before ']'");
    v = val(c, "nested");
    TAP_OK(v && v->n == 3 && v->items[0].type == VRPC_CONF_LIST && v->items[0].n == 2 &&
               is_str(&v->items[0].items[1], "a") && v->items[1].n == 0 && v->items[2].num == -3,
           "lists inside lists");
    v = val(c, "empty_list");
    TAP_OK(v && v->type == VRPC_CONF_LIST && v->n == 0, "an empty list");
    TAP_OK(is_str(val(c, "crlf"), "c"), "a CRLF line end");
    TAP_OK(val(c, "big") && val(c, "big")->num == 9223372036854775807LL && val(c, "small") &&
               val(c, "small")->num == -9223372036854775807LL,
           "the largest numbers");
    TAP_OK(is_str(val(c, "last"), "no newline at the end"), "no newline at the end of the file");
    TAP_OK(!vrpc_conf_find(c, "absent") && !vrpc_conf_find(NULL, "x"), "an absent key");
    vrpc_conf_free(c);

    c = parse_ok("", 0, "an empty file");
    TAP_OK(c && c->n == 0, "an empty file has no keys");
    vrpc_conf_free(c);
    /* libvirt refuses a file of only blank lines ("expecting a name"); it is
     * no configuration here (docs/design.md). */
    c = parse_ok("\n  \n\t\n", 6, "a file of blank lines");
    vrpc_conf_free(c);
    c = parse_ok("# only\n# comments\n", 18, "a file of comments");
    vrpc_conf_free(c);
    c = parse_ok("# a NUL \0 byte in a comment\na = 1\n", 34, "a NUL byte in a comment");
    TAP_OK(c && val(c, "a") && val(c, "a")->num == 1, "the key after it is read");
    vrpc_conf_free(c);
}

typedef struct bad_case {
    const char *what;
    const char *text; /* NULL: built by the test */
    size_t len;       /* 0: strlen(text) */
    const char *prefix;
    const char *msg;
} bad_case;

static void check_bad(const char *what, const char *text, size_t len, const char *prefix,
                      const char *msg)
{
    vrpc_conf *c = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_conf_parse("bad.conf", text, len, &c, &e);
    bool ok = rc == VRPC_E_URI && !c && e && e->message && e->code == VRPC_ERR_CONF_SYNTAX &&
              e->domain == VRPC_FROM_CONF && strncmp(e->message, prefix, strlen(prefix)) == 0 &&
              strstr(e->message, msg);
    if (!TAP_OK(ok, "refused: %s", what))
        tap_diag("rc %d: %s (want '%s...%s')", rc, e && e->message ? e->message : "(none)", prefix,
                 msg);
    vrpc_conf_free(c);
    vrpc_free(e);
}

static void test_bad(void)
{
    static const bad_case cases[] = {
        {"unterminated double-quoted string", "a = 1\nb = \"abc\n", 0,
         "bad.conf:2: key 'b': ", "unterminated string"},
        {"unterminated single-quoted string", "a = 'abc", 0,
         "bad.conf:1: key 'a': ", "unterminated string"},
        {"unterminated triple-quoted string", "\n\nb = \"\"\"abc\ndef", 0,
         "bad.conf:3: key 'b': ", "not closed"},
        {"list not closed", "x = 1\nl = [ \"x\",\n \"y\"\n", 0,
         "bad.conf:2: key 'l': ", "list not closed with ']'"},
        {"list without ','", "l = [ \"x\" \"y\" ]", 0,
         "bad.conf:1: key 'l': ", "expected ',' or ']' in the list, found '\"y\" ]'"},
        {"comment inside a list", "l = [ \"x\",\n # c\n ]", 0,
         "bad.conf:2: key 'l': ", "no comments inside a list"},
        {"two commas in a list", "l = [ 1, , 2 ]", 0, "bad.conf:1: key 'l': ", "expected a value"},
        {"a bare word as the value", "a = qemu:///system", 0, "bad.conf:1: key 'a': ",
         "expected a value (a quoted string, a number or a list), found 'qemu:///system'"},
        {"no value", "a =\nb = 1", 0, "bad.conf:1: key 'a': ", "found the end of the line"},
        {"no value at the end of the file", "a = ", 0,
         "bad.conf:1: key 'a': ", "found the end of the file"},
        {"no '='", "uri_default \"x\"", 0,
         "bad.conf:1: key 'uri_default': ", "expected '=' after the key"},
        {"a key starting with a digit", "# c\n1a = 2", 0, "bad.conf:2: ", "expected a key"},
        {"a key with a '-'", "a-b = 2", 0, "bad.conf:1: key 'a': ", "expected '='"},
        {"two values", "a = 1 2", 0,
         "bad.conf:1: key 'a': ", "expected the end of the line or ';' after the value, found '2'"},
        {"a sign without digits", "a = -", 0, "bad.conf:1: key 'a': ", "a sign without digits"},
        {"a number too large", "a = 9223372036854775808", 0,
         "bad.conf:1: key 'a': ", "out of range"},
        {"a NUL byte in a string", "a = \"x\0y\"", 9,
         "bad.conf:1: key 'a': ", "a NUL byte in a string"},
        {"a NUL byte instead of a key", "a = 1\n\0", 7, "bad.conf:2: ", "found a NUL byte"},
        {"a NUL byte after a value", "a = 1\0", 6, "bad.conf:1: key 'a': ", "found a NUL byte"},
        {"a control character in a key", "a\x01 = 1", 0,
         "bad.conf:1: key 'a': ", "found '\\x01 = 1'"},
        {"';;'", "a = 1;;", 0, "bad.conf:1: ", "expected a key"},
        {"deeply nested lists",
         "l = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0,
         "bad.conf:1: key 'l': ", "lists nested deeper than 8"},
        {"unclosed nested lists", "l = [[[[", 0, "bad.conf:1: key 'l': ", "list not closed"},
    };
    size_t i;
    char *big;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad(cases[i].what, cases[i].text, cases[i].len ? cases[i].len : strlen(cases[i].text),
                  cases[i].prefix, cases[i].msg);

    /* Bounds: each one just over its limit. */
    big = malloc(VRPC_CONF_MAX_FILE + 200000);
    if (!big)
        return;
    memset(big, '#', VRPC_CONF_MAX_FILE + 1);
    check_bad("a file over the size limit", big, VRPC_CONF_MAX_FILE + 1,
              "bad.conf: ", "larger than 1048576 bytes");

    memcpy(big, "a = 1\n# ", 8);
    memset(big + 8, 'x', VRPC_CONF_MAX_LINE);
    check_bad("a line over the length limit", big, 8 + VRPC_CONF_MAX_LINE,
              "bad.conf:2: ", "line longer than 65536 bytes");

    {
        size_t o = 0, k;
        o += (size_t)sprintf(big + o, "s = \"\"\"");
        for (k = 0; k < 3; k++) {
            memset(big + o, 'y', 30000);
            o += 30000;
            big[o++] = '\n';
        }
        o += (size_t)sprintf(big + o, "\"\"\"\n");
        check_bad("a string over the length limit", big, o,
                  "bad.conf:1: key 's': ", "string longer than 65536 bytes");

        o = (size_t)sprintf(big, "l = [");
        for (k = 0; k <= VRPC_CONF_MAX_LIST; k++)
            o += (size_t)sprintf(big + o, "%s1", k ? "," : "");
        o += (size_t)sprintf(big + o, "]\n");
        check_bad("a list over the length limit", big, o,
                  "bad.conf:1: key 'l': ", "more than 4096 values in one list");

        o = 0;
        for (k = 0; k <= VRPC_CONF_MAX_ENTRIES; k++)
            o += (size_t)sprintf(big + o, "k%zu = 1\n", k);
        check_bad("more keys than the limit", big, o,
                  "bad.conf:4097: ", "more than 4096 keys in the file");

        o = 0;
        for (k = 0; k < 20; k++) {
            size_t j;
            o += (size_t)sprintf(big + o, "l%zu = [", k);
            for (j = 0; j < 4000; j++)
                o += (size_t)sprintf(big + o, "%s1", j ? "," : "");
            o += (size_t)sprintf(big + o, "]\n");
        }
        check_bad("more values than the limit", big, o,
                  "bad.conf:17: key 'l16': ", "more than 65536 values in the file");

        memset(big, 'k', VRPC_CONF_MAX_KEY + 1);
        memcpy(big + VRPC_CONF_MAX_KEY + 1, " = 1", 4);
        check_bad("a key over the length limit", big, VRPC_CONF_MAX_KEY + 5,
                  "bad.conf:1: ", "key longer than 256 bytes");
    }
    free(big);
}

static void test_typed(void)
{
    static const char text[] = "s = \"x\"\nn = 3\nl = [ \"a\", 'b' ]\nm = [ \"a\",\n 5 ]\n";
    vrpc_conf *c = parse_ok(text, sizeof(text) - 1, "values of each type");
    const vrpc_conf_value *items = NULL;
    const char *s = NULL;
    vrpc_error *e = NULL;
    size_t n = 0;
    int rc;

    if (!c)
        return;
    rc = vrpc_conf_get_string(c, "s", &s, &e);
    TAP_OK(rc == 1 && same(s, "x") && !e, "a string read as a string");
    rc = vrpc_conf_get_string(c, "absent", &s, &e);
    TAP_OK(rc == 0 && same(s, "x") && !e, "an absent string: 0, the output untouched");
    rc = vrpc_conf_get_string(c, "n", &s, &e);
    TAP_OK(rc == VRPC_E_URI && e &&
               same(e->message, "t.conf:2: key 'n': expected a string, "
                                "found a number"),
           "a number read as a string: the error names the file, the line and the key");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_conf_get_string_list(c, "l", &items, &n, &e);
    TAP_OK(rc == 1 && n == 2 && is_str(&items[1], "b"), "a list of strings");
    rc = vrpc_conf_get_string_list(c, "s", &items, &n, &e);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "t.conf:1: key 's': expected a list"),
           "a string read as a list is refused (as libvirt does for uri_aliases)");
    vrpc_free(e);
    e = NULL;
    rc = vrpc_conf_get_string_list(c, "m", &items, &n, &e);
    TAP_OK(
        rc == VRPC_E_URI && e &&
            same(e->message, "t.conf:5: key 'm': expected a list of strings, item 2 is a number"),
        "a list holding a number: the line of the item");
    vrpc_free(e);
    vrpc_conf_free(c);
}

/* ---- files ---- */

static char tmpdir[256];

static void write_file(const char *rel, const char *text)
{
    char path[512], dir[512], *slash;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    snprintf(dir, sizeof(dir), "%s", path);
    for (slash = strchr(dir + strlen(tmpdir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0755);
        *slash = '/';
    }
    f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_files(void)
{
    char path[512];
    vrpc_conf *c = NULL;
    vrpc_error *e = NULL;
    int rc, fd;

    snprintf(path, sizeof(path), "%s/none/libvirt.conf", tmpdir);
    rc = vrpc_conf_read_file(path, &c, &e);
    TAP_OK(rc == 0 && !c && !e, "a missing file is no configuration");

    snprintf(path, sizeof(path), "%s/file/libvirt.conf", tmpdir);
    write_file("file", "");
    rc = vrpc_conf_read_file(path, &c, &e);
    TAP_OK(rc == 0 && !c && !e, "a path through a file (ENOTDIR) is no configuration");

    snprintf(path, sizeof(path), "%s", tmpdir);
    rc = vrpc_conf_read_file(path, &c, &e);
    TAP_OK(rc == VRPC_E_URI && !c && e && strstr(e->message, "not a regular file") &&
               strstr(e->message, tmpdir),
           "a directory is an error naming it");
    vrpc_free(e);
    e = NULL;

    snprintf(path, sizeof(path), "%s/fifo", tmpdir);
    if (mkfifo(path, 0600) == 0) {
        rc = vrpc_conf_read_file(path, &c, &e);
        TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "not a regular file"),
               "a FIFO is refused without waiting for a writer");
        vrpc_free(e);
        e = NULL;
    } else {
        tap_skip("mkfifo: %s", strerror(errno));
    }

    snprintf(path, sizeof(path), "%s/huge.conf", tmpdir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0 && ftruncate(fd, 64 * 1024 * 1024) == 0) {
        rc = vrpc_conf_read_file(path, &c, &e);
        TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "larger than 1048576 bytes") &&
                   strstr(e->message, "huge.conf"),
               "a 64 MiB file is refused before it is read");
        vrpc_free(e);
        e = NULL;
    } else {
        tap_skip("ftruncate: %s", strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    unlink(path);

    write_file("ok.conf", "a = 'b'\n");
    snprintf(path, sizeof(path), "%s/ok.conf", tmpdir);
    rc = vrpc_conf_read_file(path, &c, &e);
    TAP_OK(rc == 0 && c && same(c->path, path) && is_str(val(c, "a"), "b"),
           "a file is read and keeps its path for errors");
    vrpc_conf_free(c);
}

/* ---- the resolvers ---- */

typedef struct env {
    unsigned int euid;
    const char *xdg_config, *home, *default_uri, *admin_default_uri;
} env;

static const char *env_get(void *ctx, const char *name)
{
    const env *f = ctx;
    if (strcmp(name, "XDG_CONFIG_HOME") == 0)
        return f->xdg_config;
    if (strcmp(name, "HOME") == 0)
        return f->home;
    if (strcmp(name, "LIBVIRT_DEFAULT_URI") == 0)
        return f->default_uri;
    if (strcmp(name, "LIBVIRT_ADMIN_DEFAULT_URI") == 0)
        return f->admin_default_uri;
    if (strcmp(name, "XDG_RUNTIME_DIR") == 0)
        return "/run/user/1000";
    return NULL;
}

static unsigned int env_euid(void *ctx)
{
    return ((const env *)ctx)->euid;
}

static bool env_exists(void *ctx, const char *path)
{
    (void)ctx;
    (void)path;
    return false;
}

static char xdg[300], home[300], etc[300];
static env user_env;
static vrpc_uri_env uenv;

static vrpc_uri_env make_env(env *f)
{
    vrpc_uri_env e = {env_get, env_euid, env_exists, f, etc};
    return e;
}

/* Resolve uri with the user's libvirt.conf set to text. */
static int resolve(const char *text, const char *uri, unsigned int flags, vrpc_target **t,
                   vrpc_error **e)
{
    write_file("xdg/libvirt/libvirt.conf", text);
    *t = NULL;
    *e = NULL;
    return vrpc_remote_resolve(uri, flags, &uenv, t, e);
}

static void expect(const char *what, const char *text, const char *uri, unsigned int flags,
                   const char *want_uri, const char *want_socket)
{
    vrpc_target *t;
    vrpc_error *e;
    int rc = resolve(text, uri, flags, &t, &e);
    if (!TAP_OK(rc == 0 && t && same(t->uri_str, want_uri) &&
                    (!want_socket || same(t->socket_path, want_socket)),
                "%s", what))
        tap_diag("rc %d uri %s socket %s error %s", rc, t ? t->uri_str : "-",
                 t ? t->socket_path : "-", e ? e->message : "-");
    vrpc_target_free(t);
    vrpc_free(e);
}

static void expect_fail(const char *what, const char *text, const char *uri, unsigned int flags,
                        const char *line_key, const char *msg)
{
    char want[512];
    vrpc_target *t;
    vrpc_error *e;
    int rc = resolve(text, uri, flags, &t, &e);
    snprintf(want, sizeof(want), "%s/libvirt/libvirt.conf%s", xdg, line_key);
    if (!TAP_OK(rc == VRPC_E_URI && !t && e && strstr(e->message, want) && strstr(e->message, msg),
                "%s", what))
        tap_diag("rc %d error %s (want '%s' and '%s')", rc, e ? e->message : "-", want, msg);
    vrpc_target_free(t);
    vrpc_free(e);
}

static void test_paths(void)
{
    env f = {1000, NULL, NULL, NULL, NULL};
    vrpc_uri_env ve = make_env(&f);
    char *p = NULL, want[512];

    f.xdg_config = xdg;
    f.home = home;
    vrpc_client_conf_path(&ve, "libvirt.conf", &p);
    snprintf(want, sizeof(want), "%s/libvirt/libvirt.conf", xdg);
    TAP_OK(same(p, want), "non-root: $XDG_CONFIG_HOME/libvirt/libvirt.conf");
    vrpc_free(p);

    f.xdg_config = NULL;
    vrpc_client_conf_path(&ve, "libvirt-admin.conf", &p);
    snprintf(want, sizeof(want), "%s/.config/libvirt/libvirt-admin.conf", home);
    TAP_OK(same(p, want), "non-root without XDG_CONFIG_HOME: ~/.config/libvirt/");
    vrpc_free(p);

    f.home = NULL;
    TAP_OK(vrpc_client_conf_path(&ve, "libvirt.conf", &p) == 0 && !p,
           "non-root without either (injected environment): no file");

    f.euid = 0;
    f.xdg_config = xdg;
    vrpc_client_conf_path(&ve, "libvirt.conf", &p);
    snprintf(want, sizeof(want), "%s/libvirt.conf", etc);
    TAP_OK(same(p, want), "root: the system directory, whatever XDG_CONFIG_HOME says");
    vrpc_free(p);

    ve.system_conf_dir = NULL;
    TAP_OK(vrpc_client_conf_path(&ve, "libvirt.conf", &p) == 0 && !p,
           "root with an injected environment and no directory: no file");
    ve.get_env = NULL;
    ve.get_euid = NULL;
    if (geteuid() == 0) {
        vrpc_client_conf_path(&ve, "libvirt.conf", &p);
        TAP_OK(same(p, "/etc/libvirt/libvirt.conf"), "root, real environment: /etc/libvirt");
        vrpc_free(p);
    } else {
        tap_skip("not root");
    }
}

static void test_remote(void)
{
    static const char aliases[] = "uri_aliases = [\n"
                                  "  \"hv=test+unix:///default?socket=/s/one\",\n"
                                  "  \"a-b_C9=test+unix:///default?socket=/s/two&x=y\",\n"
                                  "]\n";
    char text[1024];
    vrpc_target *t;
    vrpc_error *e;
    int rc;

    /* Precedence: explicit URI > LIBVIRT_DEFAULT_URI > uri_default. */
    expect("uri_default when no URI and no LIBVIRT_DEFAULT_URI",
           "uri_default = \"qemu:///system\"\n", NULL, 0, "qemu:///system",
           "/var/run/libvirt/libvirt-sock");
    expect("uri_default for \"\" too", "uri_default = \"qemu:///system\"\n", "", 0,
           "qemu:///system", NULL);
    user_env.default_uri = "test:///default";
    expect("LIBVIRT_DEFAULT_URI beats uri_default", "uri_default = \"qemu:///system\"\n", NULL, 0,
           "test:///default", NULL);
    expect("an explicit URI beats both", "uri_default = \"qemu:///system\"\n", "lxc:///system", 0,
           "lxc:///system", NULL);
    user_env.default_uri = NULL;
    expect("no URI anywhere: the probing target", "# nothing\n", NULL, 0, NULL, NULL);

    /* Aliases. */
    expect("an explicit alias", aliases, "hv", 0, "test+unix:///default?socket=/s/one", "/s/one");
    expect("an alias of every allowed character; '=' in its URI", aliases, "a-b_C9", 0,
           "test+unix:///default?socket=/s/two&x=y", "/s/two");
    user_env.default_uri = "hv";
    expect("LIBVIRT_DEFAULT_URI is an alias too", aliases, NULL, 0,
           "test+unix:///default?socket=/s/one", NULL);
    user_env.default_uri = NULL;
    snprintf(text, sizeof(text), "%suri_default = 'a-b_C9'\n", aliases);
    expect("uri_default is an alias too", text, NULL, 0, "test+unix:///default?socket=/s/two&x=y",
           NULL);
    expect("names match whole and case-sensitively: 'HV' is no alias", aliases, "test:///HV", 0,
           "test:///HV", NULL);
    expect("a prefix of an alias is no alias", aliases, "test:///default", 0, "test:///default",
           NULL);
    expect("a URI that is not an alias is kept", aliases, "qemu:///system", 0, "qemu:///system",
           NULL);
    rc = resolve(aliases, "HV", 0, &t, &e);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "no scheme"),
           "'HV' (another case) is no alias and no URI");
    vrpc_target_free(t);
    vrpc_free(e);
    rc = resolve(aliases, "hv", VRPC_OPEN_NO_ALIASES, &t, &e);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "no scheme"),
           "VRPC_OPEN_NO_ALIASES: 'hv' is taken as a URI");
    vrpc_target_free(t);
    vrpc_free(e);
    expect("VRPC_OPEN_NO_ALIASES does not read uri_aliases at all", "uri_aliases = 'broken'\n",
           "qemu:///system", VRPC_OPEN_NO_ALIASES, "qemu:///system", NULL);
    expect("the first of two entries with one name wins",
           "uri_aliases = [ 'x=test:///one', 'x=test:///two' ]\n", "x", 0, "test:///one", NULL);
    expect("entries after the match are not checked (as libvirt)",
           "uri_aliases = [ 'x=test:///one', 'bad.name=test:///two' ]\n", "x", 0, "test:///one",
           NULL);
    expect_fail("an entry with a '.' in its name before the match",
                "uri_aliases = [\n 'bad.name=test:///two',\n 'x=test:///one' ]\n", "x", 0,
                ":2: key 'uri_aliases': malformed entry 'bad.name=test:///two'",
                "letters, digits, '_' and '-'");
    expect_fail("an entry without '=' fails any URI, even one that is no alias",
                "uri_aliases = [ 'noequals' ]\n", "qemu:///system", 0,
                ":1: key 'uri_aliases': malformed entry 'noequals'", "NAME=URI");
    expect_fail("uri_aliases as a string", "\nuri_aliases = 'x=test:///one'\n", "x", 0,
                ":2: key 'uri_aliases'", "expected a list of strings, found a string");
    expect_fail("uri_aliases holding a number", "uri_aliases = [ 'x=test:///one', 1 ]\n", "x", 0,
                ":1: key 'uri_aliases'", "item 2 is a number");
    expect_fail("an alias to a malformed URI says which alias",
                "uri_aliases = [ 'x=qemu+bogus:///system' ]\n", "x", 0,
                ": alias 'x' of uri_aliases: invalid URI", "unknown transport 'bogus'");
    expect_fail("uri_default not a string", "\n\nuri_default = [ 'x' ]\n", NULL, 0,
                ":3: key 'uri_default'", "expected a string, found a list");
    expect_fail("a malformed uri_default says where it came from", "uri_default = 'qemu'\n", NULL,
                0, ":1: key 'uri_default': invalid URI 'qemu'", "no scheme");
    expect_fail("an empty uri_default (libvirt refuses it too)", "uri_default = ''\n", NULL, 0,
                ":1: key 'uri_default'", "empty URI");
    expect_fail("a syntax error fails every open, with an explicit URI too",
                "uri_default = \"qemu:///system\n", "test:///default", 0, ":1: key 'uri_default'",
                "unterminated string");

    /* remote_mode, remote_proxy, tls_priority. */
    expect("remote_mode = direct: the per-driver daemon's socket", "remote_mode = \"direct\"\n",
           "qemu:///system", 0, "qemu:///system", "/var/run/libvirt/virtqemud-sock");
    expect("mode= in the URI beats remote_mode", "remote_mode = \"direct\"\n",
           "qemu:///system?mode=legacy", 0, "qemu:///system?mode=legacy",
           "/var/run/libvirt/libvirt-sock");
    expect("remote_mode = direct does not concern tcp", "remote_mode = 'direct'\n",
           "qemu+tcp://h/system", 0, "qemu+tcp://h/system", NULL);
    expect_fail("an unknown remote_mode", "\nremote_mode = 'fast'\n", "qemu:///system", 0,
                ":2: key 'remote_mode'", "unknown mode 'fast'");
    expect_fail("a remote_mode of the wrong type", "remote_mode = 1\n", "qemu:///system", 0,
                ":1: key 'remote_mode'", "expected a string, found a number");
    expect_fail("remote_mode = direct without a driver", "remote_mode = 'direct'\n", NULL, 0, "",
                "needs a driver name");

    rc = resolve("remote_proxy = 'netcat'\n", "qemu+ssh://h/session", 0, &t, &e);
    TAP_OK(rc == 0 && t->proxy_set && t->proxy == VRPC_PROXY_NETCAT &&
               vrpc_ssh_proxy_for(t) == VRPC_PROXY_NETCAT,
           "remote_proxy sets the ssh proxy (over the session default, native)");
    vrpc_target_free(t);
    vrpc_free(e);
    rc = resolve("remote_proxy = 'netcat'\n", "qemu+ssh://h/system?proxy=native", 0, &t, &e);
    TAP_OK(rc == 0 && t->proxy_set && t->proxy == VRPC_PROXY_NATIVE,
           "proxy= in the URI beats remote_proxy");
    vrpc_target_free(t);
    vrpc_free(e);
    rc = resolve("# none\n", "qemu+ssh://h/session", 0, &t, &e);
    TAP_OK(rc == 0 && !t->proxy_set && vrpc_ssh_proxy_for(t) == VRPC_PROXY_NATIVE,
           "without either the proxy is the driver's choice (native for a session)");
    vrpc_target_free(t);
    vrpc_free(e);
    expect_fail("an unknown remote_proxy", "remote_proxy = 'socks'\n", "qemu+ssh://h/system", 0,
                ":1: key 'remote_proxy'", "unknown proxy 'socks'");

    rc = resolve("tls_priority = 'NORMAL:-VERS-TLS1.2'\n", "qemu+tls://h/system", 0, &t, &e);
    TAP_OK(rc == 0 && same(t->tls_priority, "NORMAL:-VERS-TLS1.2"),
           "tls_priority for the tls transport");
    vrpc_target_free(t);
    vrpc_free(e);
    rc = resolve("tls_priority = 'NORMAL'\n", "qemu+tls://h/system?tls_priority=NONE", 0, &t, &e);
    TAP_OK(rc == 0 && same(t->tls_priority, "NONE"), "tls_priority= in the URI beats the file");
    vrpc_target_free(t);
    vrpc_free(e);
    rc = resolve("tls_priority = 5\n", "qemu+tcp://h/system", 0, &t, &e);
    TAP_OK(rc == 0 && !t->tls_priority,
           "tls_priority is read for tls only (a wrong type elsewhere is not looked at)");
    vrpc_target_free(t);
    vrpc_free(e);
    expect_fail("a tls_priority of the wrong type", "tls_priority = 5\n", "qemu+tls://h/system", 0,
                ":1: key 'tls_priority'", "expected a string");
}

static void test_admin(void)
{
    char want[512];
    vrpc_target *t = NULL;
    vrpc_error *e = NULL;
    int rc;

    write_file("xdg/libvirt/libvirt.conf", "uri_default = 'virtqemud:///session'\n"
                                           "uri_aliases = [ 'q=virtqemud:///session' ]\n");
    write_file("xdg/libvirt/libvirt-admin.conf",
               "uri_default = 'virtqemud:///system'\n"
               "uri_aliases = [ 'adm=virtlogd:///system?socket=/s/adm' ]\n");
    rc = vrpc_admin_resolve(NULL, 0, &uenv, &t, &e);
    TAP_OK(rc == 0 && same(t->uri_str, "virtqemud:///system") &&
               same(t->socket_path, "/var/run/libvirt/virtqemud-admin-sock"),
           "admin: uri_default of libvirt-admin.conf (not libvirt.conf's)");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;
    rc = vrpc_admin_resolve("adm", 0, &uenv, &t, &e);
    TAP_OK(rc == 0 && same(t->socket_path, "/s/adm"), "admin: an alias of libvirt-admin.conf");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;
    rc = vrpc_admin_resolve("q", 0, &uenv, &t, &e);
    TAP_OK(rc == VRPC_E_URI && e, "admin: libvirt.conf's aliases do not apply");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;
    user_env.admin_default_uri = "adm";
    rc = vrpc_admin_resolve(NULL, 0, &uenv, &t, &e);
    TAP_OK(rc == 0 && same(t->socket_path, "/s/adm"),
           "admin: LIBVIRT_ADMIN_DEFAULT_URI beats uri_default, and is an alias too");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;
    user_env.admin_default_uri = NULL;
    rc = vrpc_admin_resolve("libvirtd:///system", 0, &uenv, &t, &e);
    TAP_OK(rc == 0 && same(t->uri_str, "libvirtd:///system"), "admin: an explicit URI beats all");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;

    write_file("xdg/libvirt/libvirt-admin.conf", "# none\n");
    rc = vrpc_admin_resolve(NULL, 0, &uenv, &t, &e);
    TAP_OK(rc == 0 && same(t->uri_str, "libvirtd:///session"),
           "admin: without any, libvirtd:///session for non-root");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;

    write_file("xdg/libvirt/libvirt-admin.conf", "uri_default = 'x'\nuri_aliases = [ 'x y=z' ]\n");
    rc = vrpc_admin_resolve(NULL, 0, &uenv, &t, &e);
    snprintf(want, sizeof(want), "%s/libvirt/libvirt-admin.conf:2: key 'uri_aliases'", xdg);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, want),
           "admin: a malformed alias names libvirt-admin.conf, the line and the key");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;
    write_file("xdg/libvirt/libvirt-admin.conf", "uri_default 'x'\n");
    rc = vrpc_admin_resolve("libvirtd:///system", 0, &uenv, &t, &e);
    TAP_OK(rc == VRPC_E_URI && e && strstr(e->message, "libvirt-admin.conf:1: key 'uri_default'"),
           "admin: a syntax error fails the open");
    vrpc_target_free(t);
    vrpc_free(e);
    t = NULL;
    e = NULL;
}

static void test_root(void)
{
    env f = {0, NULL, NULL, NULL, NULL};
    vrpc_uri_env ve;
    vrpc_target *t = NULL;
    vrpc_error *e = NULL;
    int rc;

    f.xdg_config = xdg; /* not read by root */
    ve = make_env(&f);
    write_file("etc/libvirt.conf", "uri_default = 'test:///default'\n");
    write_file("xdg/libvirt/libvirt.conf", "uri_default = 'qemu:///system'\n");
    rc = vrpc_remote_resolve(NULL, 0, &ve, &t, &e);
    TAP_OK(rc == 0 && same(t->uri_str, "test:///default"),
           "root reads the system file, not $XDG_CONFIG_HOME's");
    vrpc_target_free(t);
    vrpc_free(e);
}

int main(void)
{
    char cmd[400];

    test_good();
    test_bad();
    test_typed();

    snprintf(tmpdir, sizeof(tmpdir), "%s/vrpc-conf-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
    if (!mkdtemp(tmpdir)) {
        tap_diag("mkdtemp: %s", strerror(errno));
        return 1;
    }
    snprintf(xdg, sizeof(xdg), "%s/xdg", tmpdir);
    snprintf(home, sizeof(home), "%s/home", tmpdir);
    snprintf(etc, sizeof(etc), "%s/etc", tmpdir);
    user_env.euid = 1000;
    user_env.xdg_config = xdg;
    user_env.home = home;
    uenv = make_env(&user_env);

    test_files();
    test_paths();
    test_remote();
    test_admin();
    test_root();

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", tmpdir);
    return tap_done();
}
