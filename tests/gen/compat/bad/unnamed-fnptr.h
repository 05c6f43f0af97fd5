/* SPDX-License-Identifier: MIT */
int virDomainCallback(virDomainPtr domain, void (*)(void *));
