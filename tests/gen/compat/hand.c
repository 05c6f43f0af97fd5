/* SPDX-License-Identifier: MIT */
/* A hand-written file: only virDomainHandWritten counts as defined here. */
int virDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info);
static int helper(void)
{
    return virDomainGetXMLDesc(NULL, 0) != NULL;
}

int virDomainHandWritten(virDomainPtr domain)
{
    return helper() + (domain != NULL);
}
