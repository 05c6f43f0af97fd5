/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the integration tests: where the test daemons are, how to
 * run the reference clients (virsh, virt-admin, Python with libvirt) and read
 * what they print, and a record of the procedures that succeeded.
 *
 * The test programs include "../tap.h" for their own TAP lines; this file only
 * ever prints "# " diagnostic lines, so both can be used together.
 */
#ifndef VIRTRPC_TESTS_ITEST_H
#define VIRTRPC_TESTS_ITEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtrpc/virtrpc.h>

/* ---- Set-up ---- */

/*
 * Returns true when the program should run (VRPC_TEST_DIR names a directory
 * with running test daemons). Otherwise prints the TAP plan "1..0 # SKIP ..."
 * and returns false: the caller then exits with status 0.
 */
bool it_start(const char *prog);

/* Writes $VRPC_TEST_DIR/procs-<prog>.txt and prints the procedure count. */
void it_finish(void);

/* $VRPC_TEST_DIR */
const char *it_dir(void);

/* URIs of the test daemons (static storage, valid until exit). */
const char *it_sys_uri(void);     /* test+unix:///default?socket=DIR/sys/run/libvirt-sock */
const char *it_sys_ro_uri(void);  /* the same with the -sock-ro socket */
const char *it_storage_uri(void); /* storage:///session?socket=DIR/user/run/libvirt-sock */
const char *it_secret_uri(void);  /* secret:///session?socket=DIR/user/run/libvirt-sock */
const char *it_admin_uri(void);   /* libvirtd:///system?socket=DIR/sys/run/libvirt-admin-sock */

/* A name unique to this process: "<prefix>-<pid>-<n>", malloc'd. */
char *it_unique(const char *prefix);

/* ---- Small utilities ---- */

/* printf into a new string (aborts on out-of-memory). */
__attribute__((format(printf, 1, 2))) char *it_strf(const char *fmt, ...);
char *it_vstrf(const char *fmt, va_list ap);
char *it_strdup(const char *s);

/* "# ..." lines, safe to call from any thread (one write per line). */
__attribute__((format(printf, 1, 2))) void it_diag(const char *fmt, ...);

/* Remove leading and trailing white space in place; returns s. */
char *it_trim(char *s);

/* Trim s and turn its line breaks into spaces, in place (for TAP lines). */
char *it_oneline(char *s);

/* Compare two texts ignoring white space at both ends. */
bool it_same_text(const char *a, const char *b);

/* UUID <-> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
void it_uuid_fmt(const uint8_t uuid[16], char out[37]);
bool it_uuid_parse(const char *s, uint8_t uuid[16]);

/* ---- Procedure record ---- */

/*
 * it_rc(fn, rc): records the procedure of the generated function named fn
 * ("vrpc_domain_get_info", "vrpc_domain_get_info_reply", "vrpc_admin_...")
 * when rc == 0; prints a diagnostic with the thread's last error otherwise.
 * Returns rc. it_rc_quiet() records the same way but prints nothing.
 */
int it_rc(const char *fn, int rc);
int it_rc_quiet(const char *fn, int rc);

/* Record a procedure by its short name ("domain_get_info"). */
void it_record(const char *proc);

/* Number of distinct procedures recorded so far. */
size_t it_nrecorded(void);

/* The calling thread's error slot: frees the previous error, returns the slot. */
vrpc_error **it_errp(void);
/* The calling thread's last error (NULL if the last call succeeded). */
vrpc_error *it_err(void);
/* A one-line description of an error (static per thread). */
const char *it_errstr(const vrpc_error *e);

/* Call a generated function with the thread's error slot as last argument. */
#define IT(fn, ...) it_rc(#fn, fn(__VA_ARGS__, it_errp()))
/* The same for calls that are expected to fail. */
#define ITQ(fn, ...) it_rc_quiet(#fn, fn(__VA_ARGS__, it_errp()))

/* ---- The daemon's version ---- */

/*
 * The sys test daemon's libvirt version (connect_get_lib_version, asked once,
 * on a connection of its own): major * 1,000,000 + minor * 1,000 + micro, as
 * libvirt encodes it; 0 when it cannot be had.
 */
uint64_t it_daemon_version(void);
/* The daemon's version is known and older than `version`. */
bool it_daemon_before(uint64_t version);
/* rc and the thread's last error are libvirt's report of a function that the
 * daemon's driver does not implement: VRPC_E_REMOTE, VRPC_ERR_NO_SUPPORT, a
 * message naming api ("virDomainGetBlkioParameters"; NULL: any). */
bool it_no_support(int rc, const char *api);
/* A TAP description of that expectation and of what happened (static per thread). */
const char *it_lacks_text(uint64_t since, int rc, const char *api);
/* A diagnostic like it_rc's for a failed rc; returns false. */
bool it_check_rc(const char *fn, int rc);

/*
 * A call that libvirt's daemon (its test driver, its remote dispatcher)
 * gained in libvirt `since`, made without IT() (ITQ), with its result rc.
 * Against an older daemon: prints the TAP line "LABEL: libvirt X's daemon
 * lacks API (added in Y): ..." that passes when the call failed as libvirt
 * reports a missing function (it_no_support), and is true: the caller then
 * skips its checks of the result. Otherwise false (with it_rc's diagnostic
 * when the call failed). Needs tap.h's TAP_OK.
 */
#define IT_LACKS(since, rc, fn, api, label)                                                        \
    (it_daemon_before(since) ? (TAP_OK(it_no_support((rc), (api)), "%s: %s", (label),              \
                                       it_lacks_text((since), (rc), (api))),                       \
                                true)                                                              \
                             : it_check_rc((fn), (rc)))

/* ---- Reference clients ---- */

typedef struct it_cmd {
    int status; /* exit status, or -1 if it could not run or was killed */
    char *out;  /* stdout */
    char *err;  /* stderr */
} it_cmd;

/* Run a shell command, capturing stdout and stderr. Returns r->status. */
__attribute__((format(printf, 2, 3))) int it_sh(it_cmd *r, const char *fmt, ...);
void it_cmd_free(it_cmd *r);

/* Single-quote s for the shell (malloc'd). */
char *it_shq(const char *s);

/* The programs: $VRPC_VIRSH or "virsh", $VRPC_VIRT_ADMIN or "virt-admin". */
const char *it_virsh(void);
const char *it_virt_admin(void);
/* A Python 3 that can `import libvirt` ($VRPC_PYTHON, else the first python3
 * on PATH that has it), or NULL if there is none. */
const char *it_python(void);

/*
 * `virsh -c URI ARGS`: stdout (malloc'd) when the exit status is 0, else NULL
 * (the command and its stderr are printed as a diagnostic unless quiet).
 */
__attribute__((format(printf, 2, 3))) char *it_virsh_out(const char *uri, const char *fmt, ...);
/* Runs virsh and returns the whole result (for commands expected to fail). */
__attribute__((format(printf, 3, 4))) int it_virsh_cmd(it_cmd *r, const char *uri, const char *fmt,
                                                       ...);
/* `virt-admin -c URI ARGS`, like it_virsh_out. */
__attribute__((format(printf, 2, 3))) char *it_vadmin_out(const char *uri, const char *fmt, ...);

/*
 * Run a Python script (text) with sys.argv[1] = uri and sys.argv[2..] = the
 * NULL-terminated extra arguments. Returns stdout when the exit status is 0,
 * else NULL (with a diagnostic). NULL too when there is no Python with libvirt.
 */
char *it_py(const char *script, const char *uri, ...) __attribute__((sentinel));

/* ---- Parsing what the reference clients print ---- */

/*
 * The value of "key : value" in virsh-style output (the first line whose text
 * before the first ':' is key, trimmed), malloc'd, or NULL.
 */
char *it_kv(const char *text, const char *key);

/* Rows of a virsh/virt-admin table: the lines after the "-----" rule. */
typedef struct it_rows {
    size_t n;
    char ***cols;  /* cols[i][j]: column j of row i */
    size_t *ncols; /* number of columns of row i */
} it_rows;

/*
 * Split the table rows of text into at most maxcols columns separated by
 * runs of spaces; the last column takes the rest of the line (so "shut off"
 * stays one value). Column splitting uses two or more spaces when
 * `wide_sep`, one or more otherwise.
 */
void it_table(const char *text, size_t maxcols, bool wide_sep, it_rows *rows);
void it_rows_free(it_rows *rows);
/* Row whose column `col` equals value, or -1. */
long it_rows_find(const it_rows *rows, size_t col, const char *value);

/* Lines of text, trimmed, empty lines dropped (NULL-terminated, free with it_strv_free). */
char **it_lines(const char *text, size_t *n);
void it_strv_free(char **v);
/* Index of s in v (NULL-terminated), or -1. */
long it_strv_find(char *const *v, const char *s);

/* A copy of p up to (not including) the first `stop` or the end. */
char *it_until(const char *p, char stop);

/* The first white-space-delimited word after the first occurrence of key
 * in text ("vda rd_req 123" -> "123" for key "rd_req"), malloc'd, or NULL. */
char *it_word_after(const char *text, const char *key);

/* Escape backslashes and newlines as the Python scripts do (malloc'd). */
char *it_esc(const char *s);

/* Parse "u64" strictly; false on junk. */
bool it_u64(const char *s, uint64_t *v);
bool it_i64(const char *s, int64_t *v);

/*
 * A Python-printed "key=value" line block: the value of key, or NULL.
 * (Python scripts print one "key=value" per line.)
 */
char *it_pyval(const char *text, const char *key);

/* Typed parameter values as the Python scripts print them: integers in
 * decimal, booleans as 0/1, strings as they are, doubles as repr(). */
char *it_tp_str(int type, int64_t i, uint64_t u, double d, const char *s);
/* True when the Python-printed value py equals the typed value. */
bool it_tp_eq(int type, int64_t i, uint64_t u, double d, const char *s, const char *py);

/* Helpers that pull the arms out of any generated typed-param value. */
#define IT_TP_I(v)                                                                                 \
    ((v).type == VRPC_TYPED_PARAM_INT       ? (int64_t)(v).u.i                                     \
     : (v).type == VRPC_TYPED_PARAM_LLONG   ? (int64_t)(v).u.l                                     \
     : (v).type == VRPC_TYPED_PARAM_BOOLEAN ? (int64_t)(v).u.b                                     \
                                            : 0)
#define IT_TP_U(v)                                                                                 \
    ((v).type == VRPC_TYPED_PARAM_UINT     ? (uint64_t)(v).u.ui                                    \
     : (v).type == VRPC_TYPED_PARAM_ULLONG ? (uint64_t)(v).u.ul                                    \
                                           : 0)
#define IT_TP_D(v) ((v).type == VRPC_TYPED_PARAM_DOUBLE ? (v).u.d : 0.0)
#define IT_TP_S(v) ((v).type == VRPC_TYPED_PARAM_STRING ? (const char *)(v).u.s : NULL)
#define IT_TP_STR(v) it_tp_str((v).type, IT_TP_I(v), IT_TP_U(v), IT_TP_D(v), IT_TP_S(v))
#define IT_TP_EQ(v, py) it_tp_eq((v).type, IT_TP_I(v), IT_TP_U(v), IT_TP_D(v), IT_TP_S(v), (py))

/*
 * The start of every Python script: `c` is a connection to sys.argv[1] (a
 * read-only one when sys.argv[2] is "ro"); tp(prefix, dict) prints typed
 * parameters as "prefix.name=value"; pe(e) prints a libvirtError's fields;
 * call(f) prints "ok=1" and returns f(), or prints "ok=0" and the error.
 */
#define IT_PY_PRELUDE                                                                              \
    "import sys, libvirt\n"                                                                        \
    "libvirt.registerErrorHandler(lambda *a: None, None)\n"                                        \
    "if len(sys.argv) > 2 and sys.argv[2] == 'ro':\n"                                              \
    "    c = libvirt.openReadOnly(sys.argv[1])\n"                                                  \
    "else:\n"                                                                                      \
    "    c = libvirt.open(sys.argv[1])\n"                                                          \
    "def esc(v):\n"                                                                                \
    "    return v.replace('\\\\', '\\\\\\\\').replace('\\n', '\\\\n')\n"                           \
    "def norm(v):\n"                                                                               \
    "    return int(v) if isinstance(v, bool) else v\n"                                            \
    "def tp(prefix, d):\n"                                                                         \
    "    for k in d:\n"                                                                            \
    "        print('%s.%s=%s' % (prefix, k, norm(d[k])))\n"                                        \
    "def pe(e):\n"                                                                                 \
    "    print('code=%d' % e.get_error_code())\n"                                                  \
    "    print('domain=%d' % e.get_error_domain())\n"                                              \
    "    print('level=%d' % e.get_error_level())\n"                                                \
    "    for k, v in (('message', e.get_error_message()), ('str1', e.get_str1()),\n"               \
    "                 ('str2', e.get_str2()), ('str3', e.get_str3())):\n"                          \
    "        if v is not None:\n"                                                                  \
    "            print('%s=%s' % (k, esc(v)))\n"                                                   \
    "    print('int1=%d' % e.get_int1())\n"                                                        \
    "    print('int2=%d' % e.get_int2())\n"                                                        \
    "def call(f):\n"                                                                               \
    "    try:\n"                                                                                   \
    "        r = f()\n"                                                                            \
    "    except libvirt.libvirtError as e:\n"                                                      \
    "        print('ok=0')\n"                                                                      \
    "        pe(e)\n"                                                                              \
    "        return None\n"                                                                        \
    "    print('ok=1')\n"                                                                          \
    "    return r\n"

/*
 * Evaluate a Python expression (with `c` the connection) through call():
 * prints ok=0 and the error fields, or ok=1 and ret=repr(result).
 * ro: open the reference connection read-only. Returns stdout or NULL.
 */
char *it_py_eval(const char *uri, bool ro, const char *expr);

/*
 * Compare every field of a daemon error with what libvirt-python reported
 * (output of it_py_eval for a failing call); prints the differences.
 */
bool it_err_matches_py(const vrpc_error *e, const char *py);

#endif
