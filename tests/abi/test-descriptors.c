/* SPDX-License-Identifier: MIT */
/*
 * A program linked with the shared library names descriptors as it always
 * did (&vrpc_pd_NAME, &vrpc_td_NAME): they are no exported symbols, but
 * stand for the library's own objects, found through vrpc_proc_find() and
 * vrpc_type_lookup(). Every procedure of every program resolves that way.
 */
#include <stdio.h>
#include <string.h>

#include <virtrpc/virtrpc.h>

#include "tap.h"

int main(void)
{
    const vrpc_program *progs;
    size_t nprogs, total = 0, found = 0, bad_type = 0;
    const vrpc_proc *p = &vrpc_pd_domain_get_info;

    TAP_OK(p && p == vrpc_proc_lookup("domain_get_info") && p->number == 16,
           "&vrpc_pd_domain_get_info is the library's descriptor (number %d)", p ? p->number : -1);
    TAP_OK(&vrpc_td_domain_get_info_args == p->args && &vrpc_td_domain_get_info_ret == p->ret,
           "&vrpc_td_NAME is the descriptor the procedure points to");
    TAP_OK(strcmp(vrpc_pd_connect_open.name, "connect_open") == 0 &&
               vrpc_td_error.size == sizeof(vrpc_error),
           "members read through the names (%s, sizeof(vrpc_error) %u)", vrpc_pd_connect_open.name,
           (unsigned)vrpc_td_error.size);
    TAP_OK(vrpc_proc_find(VRPC_PROGRAM, 0) == NULL &&
               vrpc_proc_find(VRPC_PROGRAM, -1) == NULL &&
               vrpc_proc_find(0x12345678u, 1) == NULL && vrpc_type_lookup("no_such_type") == NULL,
           "unknown numbers, programs and names: NULL");

    progs = vrpc_programs(&nprogs);
    for (size_t i = 0; i < nprogs; i++) {
        for (size_t j = 0; j < progs[i].nprocs; j++) {
            const vrpc_proc *q = &progs[i].procs[j];
            const vrpc_proc *r = vrpc_proc_find(q->program, q->number);
            total++;
            if (r && r->number == q->number && strcmp(r->name, q->name) == 0)
                found++;
            else
                tap_diag("%s: not found by (%#x, %d)", q->name, (unsigned)q->program, q->number);
            if ((q->args && vrpc_type_lookup(q->args->name) != q->args) ||
                (q->ret && vrpc_type_lookup(q->ret->name) != q->ret))
                bad_type++;
        }
    }
    TAP_OK(total > 400 && found == total,
           "every procedure of every program is found by program and number (%zu of %zu)", found,
           total);
    TAP_OK(bad_type == 0, "every argument and reply type is found by its name (%zu not)", bad_type);
    return tap_done();
}
