/* SPDX-License-Identifier: MIT */
/*
 * Internal: the library's one clock. Every deadline, timeout and keepalive
 * time inside the library is read here (CLOCK_MONOTONIC); the public
 * vrpc_now_usec() returns the same clock.
 */
#ifndef VIRTRPC_CLOCK_H
#define VIRTRPC_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds. */
int64_t vrpc_mono_us(void);

/* The same clock in milliseconds. */
static inline int64_t vrpc_mono_ms(void)
{
    return vrpc_mono_us() / 1000;
}

#endif
