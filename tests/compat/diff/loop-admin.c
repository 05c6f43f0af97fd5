/* SPDX-License-Identifier: MIT */
/*
 * The admin library's close callback and liveness with libvirt's default
 * event loop, as a differential transcript (run-diff.py runs it on the
 * system's libvirt-admin.so.0 / libvirt.so.0 and on ours, each time with
 * fresh private daemons in $VRPC_DIFF_DIR): a connection to libvirtd's
 * admin socket whose daemon is killed must be reported to the close
 * callback from the loop. Errors print their code and domain only.
 */
#include <libvirt/libvirt-admin.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int close_calls, close_reason = -1, close_frees;
static atomic_bool loop_stop;

static void on_close(virAdmConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    (void)opaque;
    atomic_store(&close_reason, reason);
    atomic_fetch_add(&close_calls, 1);
}

static void on_free(void *opaque)
{
    (void)opaque;
    atomic_fetch_add(&close_frees, 1);
}

static void *loop_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&loop_stop))
        virEventRunDefaultImpl();
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void section(const char *s)
{
    printf("== %s\n", s);
}

static void print_rc(const char *tag, int rc)
{
    if (rc < 0)
        printf("%s: %d error code %d domain %d\n", tag, rc, virGetLastErrorCode(),
               virGetLastErrorDomain());
    else
        printf("%s: %d\n", tag, rc);
    fflush(stdout);
}

int main(void)
{
    const char *d = getenv("VRPC_DIFF_DIR");
    char uri[4096], path[4096];
    virAdmConnectPtr conn;
    pthread_t th;
    FILE *f;
    int pid = 0;

    if (!d) {
        fprintf(stderr, "VRPC_DIFF_DIR is not set\n");
        return 2;
    }
    snprintf(uri, sizeof(uri), "libvirtd:///system?socket=%s/sys/run/libvirt-admin-sock", d);
    snprintf(path, sizeof(path), "%s/sys/pid", d);

    section("default loop");
    print_rc("virEventRegisterDefaultImpl", virEventRegisterDefaultImpl());
    pthread_create(&th, NULL, loop_main, NULL);

    section("close callback holds a reference");
    conn = virAdmConnectOpen(uri, 0);
    printf("virAdmConnectOpen: %s\n", conn ? "ok" : "failed");
    if (!conn)
        return 1;
    print_rc("virAdmConnectRegisterCloseCallback",
             virAdmConnectRegisterCloseCallback(conn, on_close, NULL, on_free));
    print_rc("virAdmConnectRef", virAdmConnectRef(conn));
    print_rc("virAdmConnectClose with the registration and one more", virAdmConnectClose(conn));
    print_rc("virAdmConnectIsAlive", virAdmConnectIsAlive(conn));
    print_rc("virAdmConnectUnregisterCloseCallback",
             virAdmConnectUnregisterCloseCallback(conn, on_close));
    printf("free callbacks: %d\n", atomic_load(&close_frees));
    print_rc("virAdmConnectRegisterCloseCallback again",
             virAdmConnectRegisterCloseCallback(conn, on_close, NULL, on_free));

    section("the daemon killed");
    f = fopen(path, "r");
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
        fprintf(stderr, "no daemon pid in %s\n", path);
        return 1;
    }
    fclose(f);
    kill(pid, SIGKILL);
    for (int i = 0; i < 400 && atomic_load(&close_calls) == 0; i++)
        sleep_ms(50);
    sleep_ms(100);
    printf("close callback calls: %d\n", atomic_load(&close_calls));
    printf("close callback reason: %d\n", atomic_load(&close_reason));
    printf("free callbacks: %d\n", atomic_load(&close_frees));
    print_rc("virAdmConnectIsAlive", virAdmConnectIsAlive(conn));
    print_rc("virAdmConnectUnregisterCloseCallback after it ran",
             virAdmConnectUnregisterCloseCallback(conn, on_close));
    print_rc("virAdmConnectClose", virAdmConnectClose(conn));

    atomic_store(&loop_stop, true);
    /* the loop thread blocks with nothing to watch: it stays, the process
     * ends */

    const char *maps = getenv("VRPC_DIFF_MAPS");
    if (maps) {
        FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(maps, "w");
        char line[4096];
        while (in && out && fgets(line, sizeof(line), in))
            if (strstr(line, "/libvirt") && strstr(line, ".so"))
                fputs(strrchr(line, ' ') + 1, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    return 0;
}
