/* SPDX-License-Identifier: MIT */
/*
 * Internal, for tests only: faults injected into the Unix transport's I/O
 * (src/transport/transport-unix.c), to prove that the connection copes with whatever
 * the kernel may do. Off unless a test turns it on; process-wide.
 *
 *  - every read and write asks the kernel for at most max_read / max_write
 *    bytes (0: no limit), or a pseudo-random size in 1..max when random_sizes;
 *  - every eintr_every-th system call first fails with EINTR (the transport
 *    retries it, as it does a real EINTR);
 *  - every eagain_every-th read or write returns VRPC_E_AGAIN without doing
 *    anything (the connection polls and comes back).
 */
#ifndef VIRTRPC_IO_FAULTS_H
#define VIRTRPC_IO_FAULTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct vrpc_io_faults {
    size_t max_read;
    size_t max_write;
    bool random_sizes;
    unsigned int eintr_every;
    unsigned int eagain_every;
    unsigned int seed; /* for random_sizes */
} vrpc_io_faults;

/* Install f (copied), or turn faults off with NULL. */
void vrpc_io_faults_set(const vrpc_io_faults *f);
/* Faults injected since the last vrpc_io_faults_set: shortened transfers,
 * EINTRs and EAGAINs. */
void vrpc_io_faults_count(unsigned long *shortened, unsigned long *eintrs, unsigned long *eagains);

#endif
