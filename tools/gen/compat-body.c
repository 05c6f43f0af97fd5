/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: mechanical bodies of the libvirt-compatible libraries: a
 * public function whose remote procedure maps onto its prototype by rule.
 */
#include "emit-compat.h"

#include "ast.h"

bool compat_body(sbuf *o, const cfunc *f, const char *fail, const char **why)
{
    (void)o;
    (void)f;
    (void)fail;
    *why = "no mechanical rule yet";
    return false;
}
