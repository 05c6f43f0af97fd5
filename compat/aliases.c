/* SPDX-License-Identifier: MIT */
/* Public functions that libvirt keeps as other names of newer ones. */
#include "compat.h"

/* the name virDomainCreateXML had before 0.5.0 */
virDomainPtr virDomainCreateLinux(virConnectPtr conn, const char *xmlDesc, unsigned int flags)
{
    return virDomainCreateXML(conn, xmlDesc, flags);
}
