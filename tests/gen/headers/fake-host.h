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
