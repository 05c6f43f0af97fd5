/* SPDX-License-Identifier: MIT */
/* A libvirt-style public header for the compat golden test (made-up API). */
#ifndef DEMO_DOMAIN_H
#define DEMO_DOMAIN_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _virConnect virConnect;
typedef virConnect *virConnectPtr;
typedef struct _virDomain virDomain;
typedef virDomain *virDomainPtr;

typedef enum {
    VIR_DEMO_XML_SECURE = 1 << 0, /* (Since: 0.0.1) */
} virDemoXMLFlags;

typedef struct _virDomainInfo virDomainInfo;
struct _virDomainInfo {
    unsigned char state;
    unsigned long maxMem;
    char model[8];
};
typedef virDomainInfo *virDomainInfoPtr;

typedef void (*virDemoCallback)(virConnectPtr conn, void *opaque);

int                     virConnectNumOfDomains  (virConnectPtr conn);
int virDomainGetInfo(virDomainPtr domain,
                     virDomainInfoPtr info);
char *virDomainGetXMLDesc(virDomainPtr domain, unsigned int flags);
int virConnectListDefinedDomains(virConnectPtr conn, char **const names, int maxnames);
virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name);
int virDomainSetMaxMemory(virDomainPtr domain, unsigned long memory);
int virDomainHandWritten(virDomainPtr domain);
unsigned long virDomainNoProcedure(virDomainPtr);
int virDomainSetCallback(virDomainPtr domain, virDemoCallback cb, void (*freecb)(void *));
int virDomainMismatch(virDomainPtr domain, int count);

VIR_EXPORT_VAR virConnectPtr virDemoVariable;

#ifdef __cplusplus
}
#endif
#endif
