/* SPDX-License-Identifier: MIT */
/*
 * libvirt-lxc.so.0: opening a container's namespaces goes to the daemon
 * (file descriptors in the reply); entering namespaces, a security label
 * and the container's cgroups happens in the calling process, as libvirt's
 * libvirt-lxc.so does it.
 */
#include "compat.h"

#include <libvirt/libvirt-lxc.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int virDomainLxcOpenNamespace(virDomainPtr domain, int **fdlist, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!fdlist) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "fdlist");
        goto error;
    }
    if (compat_readonly(conn))
        goto error;
    vrpc_lxc_domain_open_namespace_args a = {.flags = flags};
    compat_domain_to(domain, &a.dom);
    int *fds = NULL;
    size_t nfds = 0;
    vrpc_error *err = NULL;
    int rc = vrpc_call_fds(conn->c, &vrpc_pd_lxc_domain_open_namespace, &a, NULL, 0, NULL, &fds,
                           &nfds, &err);
    if (rc < 0) {
        compat_error_vrpc(rc, err);
        vrpc_free(err);
        goto error;
    }
    int *out = malloc((nfds ? nfds : 1) * sizeof(int));
    if (!out) {
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        vrpc_free(fds);
        compat_no_memory();
        goto error;
    }
    if (nfds)
        memcpy(out, fds, nfds * sizeof(int));
    vrpc_free(fds);
    *fdlist = out;
    return (int)nfds;
error:
    compat_dispatch(conn);
    return -1;
}

/* The calling process's namespaces, in libvirt's order; the ones the
 * kernel does not have are left out. */
static int lxc_current_namespaces(unsigned int *n, int **fds)
{
    static const char *const names[] = {"user", "ipc", "uts", "net", "pid", "mnt"};
    int *list = malloc(sizeof(names) / sizeof(names[0]) * sizeof(int));
    if (!list) {
        compat_no_memory();
        return -1;
    }
    unsigned int k = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long)getpid(), names[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            list[k++] = fd;
    }
    *n = k;
    *fds = list;
    return 0;
}

int virDomainLxcEnterNamespace(virDomainPtr domain, unsigned int nfdlist, int *fdlist,
                               unsigned int *noldfdlist, int **oldfdlist, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = domain ? domain->conn : NULL;
    if (flags) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "%s: unsupported flags (0x%x)", __func__,
                     flags);
        goto error;
    }
    if (noldfdlist && oldfdlist && lxc_current_namespaces(noldfdlist, oldfdlist) < 0)
        goto error;
    if (nfdlist == 0 || !fdlist) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "%s: no namespace descriptor given",
                     __func__);
        goto undo;
    }
    for (unsigned int i = 0; i < nfdlist; i++) {
        if (fdlist[i] < 0)
            continue;
        /* EINVAL: already in that namespace */
        if (setns(fdlist[i], 0) < 0 && errno != EINVAL) {
            compat_error(VIR_FROM_NONE, VIR_ERR_SYSTEM_ERROR, "cannot enter namespace: %s",
                         strerror(errno));
            goto undo;
        }
    }
    return 0;
undo:
    if (noldfdlist && oldfdlist) {
        for (unsigned int i = 0; i < *noldfdlist; i++)
            close((*oldfdlist)[i]);
        free(*oldfdlist);
        *oldfdlist = NULL;
        *noldfdlist = 0;
    }
error:
    compat_dispatch(conn);
    return -1;
}

/* Read a small /proc or /sys file into buf (NUL-terminated, trailing
 * newline removed). */
static int lxc_read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return 0;
}

static int lxc_write_small(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int e = errno;
    close(fd);
    if (n < 0 || (size_t)n != len) {
        errno = n < 0 ? e : EIO;
        return -1;
    }
    return 0;
}

int virDomainLxcEnterSecurityLabel(virSecurityModelPtr model, virSecurityLabelPtr label,
                                   virSecurityLabelPtr oldlabel, unsigned int flags)
{
    compat_reset();
    if (flags) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "%s: unsupported flags (0x%x)", __func__,
                     flags);
        goto error;
    }
    if (!model) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "model");
        goto error;
    }
    if (!label) {
        compat_invalid_arg(VIR_FROM_NONE, __func__, "label");
        goto error;
    }
    if (oldlabel)
        memset(oldlabel, 0, sizeof(*oldlabel));
    if (strcmp(model->model, "selinux") == 0) {
        /* the kernel's interface that libselinux's getcon/setexeccon use */
        if (oldlabel) {
            char cur[VIR_SECURITY_LABEL_BUFLEN + 1], enf[16];
            if (lxc_read_small("/proc/thread-self/attr/current", cur, sizeof(cur)) < 0) {
                compat_error(VIR_FROM_NONE, VIR_ERR_SYSTEM_ERROR,
                             "cannot read the security context of process %ld: %s", (long)getpid(),
                             strerror(errno));
                goto error;
            }
            if (strlen(cur) >= VIR_SECURITY_LABEL_BUFLEN) {
                compat_error(VIR_FROM_NONE, VIR_ERR_INTERNAL_ERROR,
                             "security label longer than %d bytes", VIR_SECURITY_LABEL_BUFLEN - 1);
                goto error;
            }
            memcpy(oldlabel->label, cur, strlen(cur) + 1);
            if (lxc_read_small("/sys/fs/selinux/enforce", enf, sizeof(enf)) < 0) {
                compat_error(VIR_FROM_NONE, VIR_ERR_SYSTEM_ERROR,
                             "cannot read the SELinux enforcing mode: %s", strerror(errno));
                goto error;
            }
            oldlabel->enforcing = atoi(enf);
        }
        if (lxc_write_small("/proc/thread-self/attr/exec", label->label) < 0) {
            compat_error(VIR_FROM_NONE, VIR_ERR_SYSTEM_ERROR, "cannot set context %s: %s",
                         label->label, strerror(errno));
            goto error;
        }
    } else if (strcmp(model->model, "apparmor") == 0) {
        /* what libapparmor's aa_change_profile writes */
        char cmd[VIR_SECURITY_LABEL_BUFLEN + 32];
        snprintf(cmd, sizeof(cmd), "changeprofile %s", label->label);
        if (lxc_write_small("/proc/thread-self/attr/current", cmd) < 0) {
            compat_error(VIR_FROM_NONE, VIR_ERR_SYSTEM_ERROR,
                         "cannot change the AppArmor profile to %s: %s", label->label,
                         strerror(errno));
            goto error;
        }
    } else if (strcmp(model->model, "none") != 0) {
        compat_error(VIR_FROM_NONE, VIR_ERR_ARGUMENT_UNSUPPORTED,
                     "security model %s cannot be entered", model->model);
        goto error;
    }
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}

/* Move the calling process into every cgroup of the domain's init process
 * (an LXC domain's ID is that process's pid). */
int virDomainLxcEnterCGroup(virDomainPtr domain, unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (compat_readonly(conn))
        goto error;
    if (flags) {
        compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG, "%s: unsupported flags (0x%x)", __func__,
                     flags);
        goto error;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", domain->id);
    FILE *f = fopen(path, "re");
    if (!f) {
        compat_error(VIR_FROM_NONE, VIR_ERR_SYSTEM_ERROR, "cannot read %s: %s", path,
                     strerror(errno));
        goto error;
    }
    char line[4096], pid[32];
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    int joined = 0, failed = 0;
    while (fgets(line, sizeof(line), f)) {
        /* "ID:CONTROLLERS:PATH" */
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        char *cg = c2 + 1;
        cg[strcspn(cg, "\n")] = '\0';
        const char *ctrl = c1 + 1;
        char procs[4096 + 128];
        if (*ctrl == '\0')
            snprintf(procs, sizeof(procs), "/sys/fs/cgroup%s/cgroup.procs", cg);
        else {
            if (strncmp(ctrl, "name=", 5) == 0)
                ctrl += 5;
            char first[256];
            snprintf(first, sizeof(first), "%.*s", (int)strcspn(ctrl, ","), ctrl);
            snprintf(procs, sizeof(procs), "/sys/fs/cgroup/%s%s/cgroup.procs", first, cg);
        }
        if (lxc_write_small(procs, pid) < 0) {
            if (errno != ENOENT)
                failed = errno;
        } else {
            joined++;
        }
    }
    fclose(f);
    if (failed || !joined) {
        compat_error(VIR_FROM_NONE, VIR_ERR_SYSTEM_ERROR,
                     "cannot move process %s into the cgroups of domain %d: %s", pid, domain->id,
                     strerror(failed ? failed : ENOENT));
        goto error;
    }
    return 0;
error:
    compat_dispatch(NULL);
    return -1;
}
