/* SPDX-License-Identifier: MIT */
int virDomainTrailing(virDomainPtr domain) extra;
