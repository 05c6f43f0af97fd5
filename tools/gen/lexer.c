/* SPDX-License-Identifier: MIT */
#include "lexer.h"

#include <string.h>

void lexer_init(lexer *lx, const char *file, const char *buf, size_t len)
{
    memset(lx, 0, sizeof(*lx));
    lx->file = file;
    lx->buf = buf;
    lx->len = len;
    lx->line = 1;
    lx->col = 1;
}

static loc here(const lexer *lx)
{
    loc l;
    l.file = lx->file;
    l.line = lx->line;
    l.col = lx->col;
    return l;
}

static int peekc(const lexer *lx, size_t off)
{
    if (lx->pos + off >= lx->len)
        return -1;
    return (unsigned char)lx->buf[lx->pos + off];
}

static void advance(lexer *lx)
{
    if (lx->pos >= lx->len)
        return;
    if (lx->buf[lx->pos] == '\n') {
        if (lx->line < INT32_MAX)
            lx->line++;
        lx->col = 1;
    } else if (lx->col < INT32_MAX) {
        lx->col++;
    }
    lx->pos++;
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static char *describe_char(int c)
{
    if (c >= 0x21 && c < 0x7f && c != '\'')
        return xasprintf("'%c'", c);
    return xasprintf("'\\x%02x'", (unsigned)c);
}

static void skip_comment(lexer *lx)
{
    loc start = here(lx);
    advance(lx); /* / */
    advance(lx); /* * */
    bool doc = peekc(lx, 0) == '*' && peekc(lx, 1) != '/';
    size_t body = lx->pos;
    loc body_loc = here(lx);
    for (;;) {
        int c = peekc(lx, 0);
        if (c < 0)
            fatal_at(start, "unterminated comment");
        if (c == '*' && peekc(lx, 1) == '/')
            break;
        advance(lx);
    }
    size_t end = lx->pos;
    advance(lx);
    advance(lx);
    if (doc) {
        doc_comment *d = xmalloc(sizeof(*d));
        d->text = lx->buf + body;
        d->len = end - body;
        d->where = body_loc;
        lx->pending_doc = d;
    }
}

static void lex_number(lexer *lx, token *t)
{
    size_t st = lx->pos;
    bool neg = false;
    if (peekc(lx, 0) == '-') {
        neg = true;
        advance(lx);
    }
    size_t ds = lx->pos;
    while (is_alpha(peekc(lx, 0)) || is_digit(peekc(lx, 0)) || peekc(lx, 0) == '.') {
        advance(lx);
        if (lx->pos - st > 64)
            fatal_at(t->where, "number too long");
    }
    const char *p = lx->buf + ds;
    size_t n = lx->pos - ds;
    t->text = xstrndup(lx->buf + st, lx->pos - st);
    int base = 10;
    size_t i = 0;
    if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (n >= 2 && p[0] == '0') {
        base = 8;
        i = 1;
    }
    if (i == n)
        fatal_at(t->where, "invalid number '%s'", t->text);
    uint64_t v = 0;
    for (; i < n; i++) {
        int c = (unsigned char)p[i], d;
        if (is_digit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            d = 99;
        if (d >= base)
            fatal_at(t->where, "invalid number '%s'", t->text);
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            fatal_at(t->where, "number '%s' is out of range", t->text);
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            fatal_at(t->where, "number '%s' is out of range", t->text);
        t->value.bits = 0 - v;
        t->value.neg = v != 0;
    } else {
        t->value = xv_unsigned(v);
    }
    t->hex_digits = (base == 16 && !neg) ? (int)(n - 2) : 0;
    t->kind = TK_NUMBER;
}

void lexer_next(lexer *lx, token *t)
{
    memset(t, 0, sizeof(*t));
    for (;;) {
        int c = peekc(lx, 0);
        if (c < 0) {
            t->kind = TK_EOF;
            t->where = here(lx);
            t->doc = lx->pending_doc;
            lx->pending_doc = NULL;
            return;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(lx);
            continue;
        }
        if (c == '%' && lx->col == 1) {
            while (peekc(lx, 0) >= 0 && peekc(lx, 0) != '\n')
                advance(lx);
            continue;
        }
        if (c == '/' && peekc(lx, 1) == '*') {
            skip_comment(lx);
            continue;
        }
        break;
    }
    t->where = here(lx);
    t->doc = lx->pending_doc;
    lx->pending_doc = NULL;
    int c = peekc(lx, 0);
    if (is_alpha(c)) {
        size_t st = lx->pos;
        while (is_alpha(peekc(lx, 0)) || is_digit(peekc(lx, 0))) {
            advance(lx);
            if (lx->pos - st > MAX_IDENT_LEN)
                fatal_at(t->where, "identifier too long (more than %d characters)", MAX_IDENT_LEN);
        }
        t->kind = TK_IDENT;
        t->text = xstrndup(lx->buf + st, lx->pos - st);
        return;
    }
    if (is_digit(c) || (c == '-' && is_digit(peekc(lx, 1)))) {
        lex_number(lx, t);
        return;
    }
    if (c >= 0 && strchr(";={},[]<>*():", c) && c != 0) {
        t->kind = TK_PUNCT;
        t->punct = (char)c;
        advance(lx);
        return;
    }
    if (c == '%')
        fatal_at(t->where, "'%%' pass-through lines must start in column 1");
    fatal_at(t->where, "unexpected character %s", describe_char(c));
}

char *token_describe(const token *t)
{
    switch (t->kind) {
    case TK_EOF:
        return xstrdup("end of file");
    case TK_PUNCT:
        return xasprintf("'%c'", t->punct);
    case TK_IDENT:
    case TK_NUMBER:
        if (strlen(t->text) > 40)
            return xasprintf("'%.40s...'", t->text);
        return xasprintf("'%s'", t->text);
    }
    return xstrdup("token");
}
