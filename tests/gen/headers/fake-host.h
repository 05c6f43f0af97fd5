/* SPDX-License-Identifier: MIT */
#ifndef FAKE_HOST_H
# define FAKE_HOST_H

/* enumerations with flags, references, implicit values */
typedef enum {
    VIR_COLOR_RED,
    VIR_COLOR_GREEN,
    VIR_COLOR_BLUE = 10,
    VIR_COLOR_CYAN, // line comment
    VIR_COLOR_NEGATIVE = -3,
    VIR_COLOR_AFTER_NEGATIVE,
} virColor;

typedef enum {
    VIR_FLAG_A = (1 << 0),
    VIR_FLAG_B = 1 << 1,
    VIR_FLAG_AB = VIR_FLAG_A | VIR_FLAG_B,
    VIR_FLAG_HIGH = 1U << 31,
    VIR_FLAG_SAME = VIR_PARAM_STRING,
} virFlags;

# define VIR_KEY_BUFLEN (16)
# define VIR_RED_ALIAS VIR_COLOR_RED
# define VIR_UUID(x) ((x) + 1)

#endif

/* C semantics of the arithmetic */
# define VIR_MIXED_SIGNS (-1 < 0U)
# define VIR_SHIFT_NEGATIVE (-8 >> 1)
# define VIR_ALL_ONES_64 0xffffffffffffffffULL
# define VIR_INT64_MIN (-9223372036854775807LL - 1)
# define VIR_INT_OVERFLOW (2147483647 + 1)
# define VIR_LONG_NO_OVERFLOW (2147483647L + 1)
# define VIR_PRECEDENCE (1 + 2 * 3 << 1 | 1 ^ 3 & 6)
# define VIR_LOGIC (!0 && (3 >= 3) || 0)
# define VIR_MODULO (-7 % 3)
# define VIR_CYCLE_A VIR_CYCLE_B
# define VIR_CYCLE_B VIR_CYCLE_A
# define VIR_CAST ((int)1)

#if 0
# define VIR_NEVER 1
#endif
