/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the generator's .x parser (tools/gen): the input is the
 * text of a protocol file. It is lexed, parsed, checked (sema) and, when
 * accepted, turned into the three generated files in memory. Errors must
 * end in the generator's fatal path (caught here with its longjmp hook, in
 * the real tool an exit with a message), never in a crash; every run starts
 * from a fresh generator and releases everything.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "emit.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs past this are not interesting and only slow the parser down. */
#define XPARSE_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jmp_buf jb;
    char *buf;

    if (size > XPARSE_MAX_INPUT)
        return 0;
    gen_reset();
    gen_quiet = getenv("VRPC_FUZZ_VERBOSE") == NULL;
    gen_fatal_jump = &jb;
    if (setjmp(jb) == 0) {
        program *pg;
        sbuf header = {0}, source = {0}, consts = {0};

        G.libvirt_version = "fuzz";
        buf = xmalloc(size + 1);
        memcpy(buf, data, size);
        pg = xmalloc(sizeof(*pg));
        pg->name = "remote";
        pg->file = "fuzz.x";
        pg->file_base = "fuzz.x";
        pv_push(&G.programs, pg);
        parse_file(pg, buf, size);
        sema_run();
        emit_header(&header);
        emit_source(&source);
        emit_consts(&consts);
        if (!header.s || !source.s || !consts.s)
            abort();
    }
    gen_fatal_jump = NULL;
    gen_reset();
    return 0;
}
