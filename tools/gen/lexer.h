/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: tokenizer for XDR protocol files as libvirt writes them.
 *
 * Skips blanks, C comments and `%` pass-through lines (column 1 only).
 * Remembers the last `/ ** ... * /` comment that directly precedes each token
 * so that procedure annotations can be read.
 */
#ifndef VRPCGEN_LEXER_H
#define VRPCGEN_LEXER_H

#include "expr.h"
#include "util.h"

typedef enum tok_kind {
    TK_EOF = 0,
    TK_IDENT,
    TK_NUMBER,
    TK_PUNCT, /* one of ; = { } , [ ] < > * ( ) : */
} tok_kind;

/* A documentation comment (starts with exactly "/ **"). */
typedef struct doc_comment {
    const char *text; /* the comment body between the opening and closing markers */
    size_t len;
    loc where; /* position of the first body byte */
} doc_comment;

typedef struct token {
    tok_kind kind;
    loc where;
    const char *text;       /* identifier / number spelling (NUL-terminated copy) */
    char punct;             /* TK_PUNCT */
    xval value;             /* TK_NUMBER */
    int hex_digits;         /* TK_NUMBER written in hex: number of digits, else 0 */
    const doc_comment *doc; /* doc comment immediately before this token, or NULL */
} token;

typedef struct lexer {
    const char *file; /* name used in messages */
    const char *buf;
    size_t len;
    size_t pos;
    int line;
    int col;
    const doc_comment *pending_doc;
} lexer;

#define MAX_IDENT_LEN 255

void lexer_init(lexer *lx, const char *file, const char *buf, size_t len);
/* Next token; exits with a diagnostic on malformed input. */
void lexer_next(lexer *lx, token *t);
/* A short printable description of a token for messages ("'foo'", "end of file"). */
char *token_describe(const token *t);

#endif
