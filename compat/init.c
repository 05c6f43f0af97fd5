/* SPDX-License-Identifier: MIT */
/* Library initialisation and the library's own version. */
#include "compat.h"

int virInitialize(void)
{
    /* Nothing to set up: virtrpc initialises itself on first use and the
     * error state of each thread is made when the thread first needs it. */
    return 0;
}

int virGetVersion(unsigned long *libVer, const char *type, unsigned long *typeVer)
{
    (void)type; /* ignored by libvirt too since the drivers were split */
    compat_reset();
    if (!libVer) {
        /* libvirt fails here without naming the argument: the dispatch
         * then reports its generic "unknown cause" error. */
        compat_dispatch(NULL);
        return -1;
    }
    *libVer = COMPAT_LIBVIRT_VERSION;
    if (typeVer)
        *typeVer = COMPAT_LIBVIRT_VERSION;
    return 0;
}
