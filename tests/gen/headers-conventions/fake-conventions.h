/* SPDX-License-Identifier: MIT */
/* The two constants the generated getters use, as libvirt's headers declare them. */
#ifndef FAKE_CONVENTIONS_H
# define FAKE_CONVENTIONS_H

typedef enum {
    VIR_TYPED_PARAM_STRING_OKAY = 1 << 2,
} virTypedParameterFlags;

typedef enum {
    VIR_ERR_OK = 0,
    VIR_ERR_INTERNAL_ERROR = 1,
    VIR_ERR_NO_MEMORY = 2,
    VIR_ERR_NO_SUPPORT = 3,
} virErrorNumber;

#endif
