/* SPDX-License-Identifier: MIT */
int virDomainBroken(virDomainPtr domain, int x;
