/* SPDX-License-Identifier: MIT */
/* Library initialisation and the library's own version. */
#include "compat.h"

int virInitialize(void)
{
    /* Nothing to set up: virtrpc initialises itself on first use. */
    return 0;
}

int virGetVersion(unsigned long *libVer, const char *type, unsigned long *typeVer)
{
    (void)type;
    if (!libVer)
        return -1;
    *libVer = COMPAT_LIBVIRT_VERSION;
    if (typeVer)
        *typeVer = COMPAT_LIBVIRT_VERSION;
    return 0;
}
