/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: constants of libvirt's public C headers.
 *
 * Collects object-like `#define NAME value` macros and enumeration constants
 * of every *.h / *.h.in file of a directory, evaluates them on demand as C
 * integer constant expressions (or string literals), and writes consts.h.
 */
#ifndef VRPCGEN_CHEADERS_H
#define VRPCGEN_CHEADERS_H

#include "expr.h"
#include "util.h"

void headers_scan_dir(const char *dir);

typedef enum hc_result {
    HC_NOT_FOUND = 0,
    HC_INT,
    HC_STRING,
    HC_UNEVALUABLE,
} hc_result;

/* Value of a header constant; *where receives its definition. */
hc_result headers_value(const char *name, xval *out, loc *where);

/* Append the body of consts.h (the #define lines). Exits on a clash with a
 * different value of the same C name. */
void headers_emit(sbuf *out);

/* Calls fn for every integer constant of the headers (first definitions, in
 * the order of the headers, names starting with '_' left out). */
typedef void (*hc_int_fn)(const char *name, xval value, void *ctx);
void headers_foreach_int(hc_int_fn fn, void *ctx);

/* Forget every scanned header (gen_reset). */
void headers_reset(void);

/* Number of header files scanned. */
size_t headers_file_count(void);

#endif
