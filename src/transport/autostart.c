/* SPDX-License-Identifier: MIT */
/* The Unix transport of a remote target, with session daemon autostart. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/protocol.h>

#include "alloc.h"
#include "error.h"
#include "transport-cmd.h"

/* Where the daemons are installed when neither VIRTD_PATH nor LIBVIRTD_PATH is set. */
#ifndef VRPC_SBINDIR
#define VRPC_SBINDIR "/usr/sbin"
#endif

/* libvirt: 500 connect attempts, 10 ms apart, once the daemon is started. */
#define AUTOSTART_RETRIES 500
#define AUTOSTART_RETRY_MS 10

static char *join(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = vrpc_malloc(la + ls + lb + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, sep, ls);
    memcpy(s + la + ls, b, lb + 1);
    return s;
}

char *vrpc_session_daemon_path(const vrpc_target *t)
{
    const char *dir = getenv("VIRTD_PATH");
    char *name, *path;
    size_t dl;

    if (!dir)
        dir = getenv("LIBVIRTD_PATH");
    if (!dir)
        dir = VRPC_SBINDIR;
    if (t->socket_mode == VRPC_MODE_DIRECT && t->driver && strcasecmp(t->driver, "remote") != 0)
        name = join("virt", t->driver, "d");
    else
        name = vrpc_strdup("libvirtd");
    if (!name)
        return NULL;
    dl = strlen(dir);
    if (dl == 0)
        return name; /* looked up in PATH */
    path = join(dir, dir[dl - 1] == '/' ? "" : "/", name);
    vrpc_free(name);
    return path;
}

/* mkdir -p with mode for each directory created. */
static int mkdir_parents(const char *dir, mode_t mode)
{
    char *p = vrpc_strdup(dir), *s;
    int rc = 0;

    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    for (s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST) {
                rc = -1;
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    if (rc == 0) {
        struct stat st;
        if (stat(p, &st) < 0)
            rc = -1;
        else if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = -1;
        }
    }
    {
        int e = errno;
        vrpc_free(p);
        errno = e;
    }
    return rc;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A failed connect to a session socket that we may not start: say why nothing was started. */
static void explain_no_autostart(const vrpc_target *t, int e, vrpc_error **err)
{
    const char *as = getenv("LIBVIRT_AUTOSTART");
    if (!t->session || t->socket_explicit || (e != ENOENT && e != ECONNREFUSED))
        return;
    if (as && strcmp(as, "0") == 0)
        vrpc_error_prefix(err, "no session daemon is running and LIBVIRT_AUTOSTART=0 forbids "
                               "starting one");
    else if (!t->autostart)
        vrpc_error_prefix(err, "no session daemon is running and VRPC_OPEN_NO_AUTOSTART "
                               "forbids starting one");
}

int vrpc_transport_unix_open(const vrpc_target *t, vrpc_transport **out, vrpc_error **err)
{
    vrpc_error *e = NULL;
    char *daemon = NULL, *dir = NULL, *lockpath = NULL, *slash;
    const char *base;
    int rc, errnum = 0, lockfd = -1, retries = AUTOSTART_RETRIES;
    bool launched = false;

    *out = NULL;
    rc = vrpc_transport_unix_connect_errno(t->socket_path, &errnum, out, &e);
    if (rc == 0)
        return 0;
    if (!t->autostart || (errnum != ENOENT && errnum != ECONNREFUSED) || t->socket_path[0] == '@') {
        explain_no_autostart(t, errnum, &e);
        vrpc_error_move(err, &e);
        return rc;
    }
    vrpc_free(e);
    e = NULL;

    daemon = vrpc_session_daemon_path(t);
    dir = vrpc_strdup(t->socket_path);
    if (!daemon || !dir)
        goto nomem;
    slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    if (mkdir_parents(dir, 0700) < 0) {
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errno,
                             "cannot create the user runtime directory '%s'", dir);
        rc = VRPC_E_IO;
        goto out;
    }
    base = strrchr(daemon, '/');
    base = base ? base + 1 : daemon;
    lockpath = vrpc_malloc(strlen(dir) + strlen(base) + 7);
    if (!lockpath)
        goto nomem;
    sprintf(lockpath, "%s/%s.lock", dir, base);
    lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0) {
        vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errno,
                             "unable to create lock '%s'", lockpath);
        rc = VRPC_E_IO;
        goto out;
    }
    {
        struct flock fl;
        int lr;
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = 0;
        fl.l_len = 1;
        do
            lr = fcntl(lockfd, F_SETLKW, &fl);
        while (lr < 0 && errno == EINTR);
        if (lr < 0) {
            vrpc_error_set_errno(err, VRPC_ERR_SYSTEM_ERROR, VRPC_FROM_RPC, errno,
                                 "unable to lock '%s'", lockpath);
            rc = VRPC_E_IO;
            goto out;
        }
    }

    /* Under the lock: another client may have started the daemon meanwhile. */
    for (;;) {
        rc = vrpc_transport_unix_connect_errno(t->socket_path, &errnum, out, &e);
        if (rc == 0)
            break;
        retries--;
        if (retries == 0 || (errnum != ENOENT && errnum != ECONNREFUSED)) {
            if (launched)
                vrpc_error_prefix(&e,
                                  "the session daemon %s was started but does not accept "
                                  "connections",
                                  daemon);
            vrpc_error_move(err, &e);
            goto out;
        }
        vrpc_free(e);
        e = NULL;
        if (!launched) {
            rc = vrpc_spawn_daemon(daemon, err);
            if (rc)
                goto out;
            launched = true;
        }
        sleep_ms(AUTOSTART_RETRY_MS);
    }
    goto out;

nomem:
    vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
    rc = VRPC_E_NOMEM;
out:
    if (lockfd >= 0) {
        unlink(lockpath);
        close(lockfd);
    }
    vrpc_free(lockpath);
    vrpc_free(dir);
    vrpc_free(daemon);
    return rc;
}
