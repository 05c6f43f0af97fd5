/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: integer values and C integer constant expressions.
 */
#ifndef VRPCGEN_EXPR_H
#define VRPCGEN_EXPR_H

#include "util.h"

/*
 * An integer in [INT64_MIN, UINT64_MAX]: when neg is set the value is the
 * two's complement int64 in bits (always < 0), otherwise bits itself.
 */
typedef struct xval {
    uint64_t bits;
    bool neg;
} xval;

xval xv_signed(int64_t v);
xval xv_unsigned(uint64_t v);
bool xv_eq(xval a, xval b);
bool xv_in_range(xval v, int64_t lo, uint64_t hi);
/* Value as int64; only meaningful when the value fits. */
int64_t xv_i64(xval v);
/* Decimal text of the value (for messages). */
char *xv_str(xval v);
/*
 * A C literal with the same value and a suffix that keeps it correct
 * (u for 2^31..2^32-1, LL / ULL beyond 32 bits; negatives parenthesised).
 * hex_digits > 0 prints non-negative values in hex with at least that many digits.
 */
void xv_format(sbuf *b, xval v, int hex_digits);

/* A value of a C integer type: int (w 32), unsigned int, long/long long (w 64), unsigned long. */
typedef struct cval {
    uint64_t v; /* the value truncated to w bits, sign-extended when signed */
    uint8_t w;  /* 32 or 64 */
    bool uns;
} cval;

xval cval_to_xval(cval c);
/* The C type an enumeration constant with this value gets (int when it fits). */
cval cval_enum_constant(cval c);

/*
 * Resolve an identifier inside an expression; depth is the current
 * evaluation depth to pass on. Returns 0 and sets *out, or -1.
 */
typedef int (*cexpr_lookup_fn)(void *ctx, const char *name, int depth, cval *out);

/* Maximum nesting of parentheses and unary operators inside one expression. */
#define CEXPR_MAX_NEST 64
/* Maximum depth of constants referring to constants. */
#define CEXPR_MAX_DEPTH 32

/*
 * Evaluate the C integer constant expression s[0..n): integer literals
 * (decimal, hex, octal, U/L/LL suffixes), identifiers (via lookup),
 * parentheses, unary + - ~ !, binary * / % + - << >> < <= > >= == != & ^ | && ||.
 * Returns 0 on success, -1 when the text is not such an expression or its
 * evaluation is undefined (division by zero, overflow of a signed type...).
 */
int cexpr_eval(const char *s, size_t n, cexpr_lookup_fn lookup, void *ctx, int depth, cval *out);

/*
 * If s[0..n) (surrounding blanks allowed) is one or more adjacent plain C
 * string literals, append their decoded bytes to out and return true.
 */
bool cstring_literals(const char *s, size_t n, sbuf *out);

#endif
