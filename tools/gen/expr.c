/* SPDX-License-Identifier: MIT */
#include "expr.h"

#include <string.h>

/* ---- xval ---- */

static int64_t as_s64(uint64_t u)
{
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

xval xv_signed(int64_t v)
{
    xval r;
    r.neg = v < 0;
    r.bits = (uint64_t)v;
    return r;
}

xval xv_unsigned(uint64_t v)
{
    xval r;
    r.neg = false;
    r.bits = v;
    return r;
}

bool xv_eq(xval a, xval b)
{
    return a.neg == b.neg && a.bits == b.bits;
}

bool xv_in_range(xval v, int64_t lo, uint64_t hi)
{
    if (v.neg)
        return lo < 0 && as_s64(v.bits) >= lo;
    if (lo > 0 && v.bits < (uint64_t)lo)
        return false;
    return v.bits <= hi;
}

int64_t xv_i64(xval v)
{
    return as_s64(v.bits);
}

char *xv_str(xval v)
{
    if (v.neg)
        return xasprintf("-%llu", (unsigned long long)(0 - v.bits));
    return xasprintf("%llu", (unsigned long long)v.bits);
}

void xv_format(sbuf *b, xval v, int hex_digits)
{
    if (v.neg) {
        uint64_t mag = 0 - v.bits;
        if (mag <= 2147483647u)
            sb_printf(b, "(-%llu)", (unsigned long long)mag);
        else if (mag == 2147483648u)
            sb_puts(b, "(-2147483647 - 1)");
        else if (mag <= (uint64_t)INT64_MAX)
            sb_printf(b, "(-%lluLL)", (unsigned long long)mag);
        else
            sb_puts(b, "(-9223372036854775807LL - 1)");
        return;
    }
    const char *suffix = "";
    if (v.bits > 0xffffffffu)
        suffix = v.bits > (uint64_t)INT64_MAX ? "ULL" : "LL";
    else if (v.bits > 0x7fffffffu)
        suffix = "u";
    if (hex_digits > 0) {
        if (hex_digits > 16)
            hex_digits = 16;
        sb_printf(b, "0x%0*llx%s", hex_digits, (unsigned long long)v.bits, suffix);
    } else {
        sb_printf(b, "%llu%s", (unsigned long long)v.bits, suffix);
    }
}

/* ---- cval ---- */

static cval norm(cval x)
{
    if (x.w == 32) {
        uint32_t u = (uint32_t)(x.v & 0xffffffffu);
        if (x.uns)
            x.v = u;
        else
            x.v = (u & 0x80000000u) ? (u | 0xffffffff00000000ull) : u;
    }
    return x;
}

static cval mk(uint64_t v, int w, bool uns)
{
    cval c;
    c.v = v;
    c.w = (uint8_t)w;
    c.uns = uns;
    return norm(c);
}

xval cval_to_xval(cval c)
{
    if (!c.uns && as_s64(c.v) < 0)
        return xv_signed(as_s64(c.v));
    return xv_unsigned(c.v);
}

cval cval_enum_constant(cval c)
{
    xval x = cval_to_xval(c);
    if (xv_in_range(x, INT32_MIN, INT32_MAX))
        return mk(x.bits, 32, false);
    if (xv_in_range(x, 0, UINT32_MAX))
        return mk(x.bits, 32, true);
    return c;
}

/* ---- expression evaluation ---- */

typedef struct ev {
    const char *s;
    size_t n;
    size_t pos;
    cexpr_lookup_fn lookup;
    void *ctx;
    int depth;
    int nest;
} ev;

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void skip_ws(ev *e)
{
    while (e->pos < e->n && (e->s[e->pos] == ' ' || e->s[e->pos] == '\t' || e->s[e->pos] == '\n' ||
                             e->s[e->pos] == '\r' || e->s[e->pos] == '\f' || e->s[e->pos] == '\v'))
        e->pos++;
}

/* Consume operator op if it is next (and not the start of a longer operator). */
static bool accept(ev *e, const char *op)
{
    skip_ws(e);
    size_t l = strlen(op);
    if (e->n - e->pos < l || memcmp(e->s + e->pos, op, l) != 0)
        return false;
    /* do not take '<' from "<<" / "<=", '&' from "&&", etc. */
    if (e->pos + l < e->n) {
        char nx = e->s[e->pos + l];
        if (l == 1 && (op[0] == '<' || op[0] == '>') && (nx == op[0] || nx == '='))
            return false;
        if (l == 1 && (op[0] == '&' || op[0] == '|') && nx == op[0])
            return false;
        if (l == 1 && (op[0] == '!' || op[0] == '=') && nx == '=')
            return false;
        if (l == 2 && (op[0] == '<' || op[0] == '>') && op[1] == op[0] && nx == '=')
            return false;
        if (l == 1 && strchr("+-*/%&|^", op[0]) && nx == '=')
            return false;
    }
    e->pos += l;
    return true;
}

static int parse_number(ev *e, cval *out)
{
    size_t st = e->pos;
    while (e->pos < e->n && (is_ident_char(e->s[e->pos]) || e->s[e->pos] == '.'))
        e->pos++;
    const char *p = e->s + st;
    size_t len = e->pos - st;
    int base = 10;
    size_t i = 0;
    if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (p[0] == '0') {
        base = 8;
    }
    size_t digits_start = i;
    uint64_t v = 0;
    for (; i < len; i++) {
        char c = p[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            break;
        if (d >= base)
            return -1;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (i == digits_start)
        return -1;
    /* suffix */
    bool u = false;
    int l = 0;
    for (; i < len; i++) {
        char c = p[i];
        if ((c == 'u' || c == 'U') && !u) {
            u = true;
        } else if ((c == 'l' || c == 'L') && l == 0) {
            l = 1;
            if (i + 1 < len && p[i + 1] == c) {
                l = 2;
                i++;
            }
        } else {
            return -1;
        }
    }
    /* C11 6.4.4.1: the first type of the list that can represent the value */
    bool any_base = base != 10;
    if (!u && l == 0 && v <= 0x7fffffffu)
        *out = mk(v, 32, false);
    else if (l == 0 && v <= 0xffffffffu && (u || any_base))
        *out = mk(v, 32, true);
    else if (!u && v <= (uint64_t)INT64_MAX)
        *out = mk(v, 64, false);
    else if (u || any_base)
        *out = mk(v, 64, true);
    else
        return -1;
    return 0;
}

static int parse_expr(ev *e, int minprec, cval *out);

static int parse_unary(ev *e, cval *out)
{
    if (++e->nest > CEXPR_MAX_NEST)
        return -1;
    int rc = -1;
    skip_ws(e);
    if (e->pos >= e->n)
        goto done;
    char c = e->s[e->pos];
    if (c == '(') {
        e->pos++;
        if (parse_expr(e, 0, out) < 0)
            goto done;
        if (!accept(e, ")"))
            goto done;
        rc = 0;
    } else if (c >= '0' && c <= '9') {
        rc = parse_number(e, out);
    } else if (is_ident_start(c)) {
        size_t st = e->pos;
        while (e->pos < e->n && is_ident_char(e->s[e->pos]))
            e->pos++;
        if (e->pos - st > 255 || !e->lookup || e->depth + 1 > CEXPR_MAX_DEPTH)
            goto done;
        char *name = xstrndup(e->s + st, e->pos - st);
        rc = e->lookup(e->ctx, name, e->depth + 1, out);
        xfree(name);
    } else if (accept(e, "+")) {
        rc = parse_unary(e, out);
    } else if (accept(e, "-")) {
        cval x;
        if (parse_unary(e, &x) < 0)
            goto done;
        if (!x.uns && x.v == (x.w == 32 ? 0xffffffff80000000ull : 0x8000000000000000ull))
            goto done; /* -INT_MIN overflows */
        *out = mk(0 - x.v, x.w, x.uns);
        rc = 0;
    } else if (accept(e, "~")) {
        cval x;
        if (parse_unary(e, &x) < 0)
            goto done;
        *out = mk(~x.v, x.w, x.uns);
        rc = 0;
    } else if (accept(e, "!")) {
        cval x;
        if (parse_unary(e, &x) < 0)
            goto done;
        *out = mk(x.v == 0, 32, false);
        rc = 0;
    }
done:
    e->nest--;
    return rc;
}

enum {
    OP_NONE,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_ADD,
    OP_SUB,
    OP_SHL,
    OP_SHR,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_AND,
    OP_XOR,
    OP_OR,
    OP_LAND,
    OP_LOR
};

static const struct {
    const char *text;
    int op;
    int prec;
} binops[] = {
    {"||", OP_LOR, 1}, {"&&", OP_LAND, 2}, {"|", OP_OR, 3},   {"^", OP_XOR, 4},  {"&", OP_AND, 5},
    {"==", OP_EQ, 6},  {"!=", OP_NE, 6},   {"<<", OP_SHL, 8}, {">>", OP_SHR, 8}, {"<=", OP_LE, 7},
    {">=", OP_GE, 7},  {"<", OP_LT, 7},    {">", OP_GT, 7},   {"+", OP_ADD, 9},  {"-", OP_SUB, 9},
    {"*", OP_MUL, 10}, {"/", OP_DIV, 10},  {"%", OP_MOD, 10},
};

/* Usual arithmetic conversions for two promoted operands. */
static void common_type(cval *a, cval *b)
{
    int w;
    bool uns;
    if (a->uns == b->uns) {
        w = a->w > b->w ? a->w : b->w;
        uns = a->uns;
    } else {
        const cval *u = a->uns ? a : b, *s = a->uns ? b : a;
        if (u->w >= s->w) {
            w = u->w;
            uns = true;
        } else {
            w = s->w;
            uns = false;
        }
    }
    a->v = mk(a->v, w, uns).v;
    a->w = (uint8_t)w;
    a->uns = uns;
    *a = norm(*a);
    b->w = (uint8_t)w;
    b->uns = uns;
    *b = norm(*b);
}

static bool fits(int64_t v, int w)
{
    return w == 64 || (v >= INT32_MIN && v <= INT32_MAX);
}

static int apply(int op, cval a, cval b, cval *out)
{
    if (op == OP_LAND || op == OP_LOR) {
        bool r = op == OP_LAND ? (a.v && b.v) : (a.v || b.v);
        *out = mk(r, 32, false);
        return 0;
    }
    if (op == OP_SHL || op == OP_SHR) {
        int64_t cnt = b.uns ? (b.v > 64 ? 64 : (int64_t)b.v) : as_s64(b.v);
        if (cnt < 0 || cnt >= a.w)
            return -1;
        if (op == OP_SHL) {
            if (a.uns) {
                *out = mk(a.v << cnt, a.w, true);
            } else {
                int64_t x = as_s64(a.v);
                int64_t max = a.w == 32 ? INT32_MAX : INT64_MAX;
                if (x < 0 || x > (max >> cnt))
                    return -1;
                *out = mk((uint64_t)x << cnt, a.w, false);
            }
        } else {
            if (a.uns) {
                *out = mk(a.v >> cnt, a.w, true);
            } else {
                int64_t x = as_s64(a.v);
                uint64_t r = x < 0 ? ~((~(uint64_t)x) >> cnt) : ((uint64_t)x >> cnt);
                *out = mk(r, a.w, false);
            }
        }
        return 0;
    }
    common_type(&a, &b);
    int w = a.w;
    if (a.uns) {
        uint64_t x = a.v, y = b.v, r;
        switch (op) {
        case OP_MUL:
            r = x * y;
            break;
        case OP_DIV:
            if (!y)
                return -1;
            r = x / y;
            break;
        case OP_MOD:
            if (!y)
                return -1;
            r = x % y;
            break;
        case OP_ADD:
            r = x + y;
            break;
        case OP_SUB:
            r = x - y;
            break;
        case OP_AND:
            r = x & y;
            break;
        case OP_XOR:
            r = x ^ y;
            break;
        case OP_OR:
            r = x | y;
            break;
        case OP_LT:
            *out = mk(x < y, 32, false);
            return 0;
        case OP_LE:
            *out = mk(x <= y, 32, false);
            return 0;
        case OP_GT:
            *out = mk(x > y, 32, false);
            return 0;
        case OP_GE:
            *out = mk(x >= y, 32, false);
            return 0;
        case OP_EQ:
            *out = mk(x == y, 32, false);
            return 0;
        case OP_NE:
            *out = mk(x != y, 32, false);
            return 0;
        default:
            return -1;
        }
        *out = mk(r, w, true);
        return 0;
    }
    int64_t x = as_s64(a.v), y = as_s64(b.v), r;
    switch (op) {
    case OP_MUL: {
        if (x == 0 || y == 0) {
            r = 0;
            break;
        }
        uint64_t mx = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
        uint64_t my = y < 0 ? 0 - (uint64_t)y : (uint64_t)y;
        if (mx > UINT64_MAX / my)
            return -1;
        uint64_t m = mx * my;
        bool negr = (x < 0) != (y < 0);
        if (negr) {
            if (m > (uint64_t)INT64_MAX + 1)
                return -1;
            r = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
        } else {
            if (m > (uint64_t)INT64_MAX)
                return -1;
            r = (int64_t)m;
        }
        break;
    }
    case OP_DIV:
    case OP_MOD:
        if (y == 0 || (x == INT64_MIN && y == -1))
            return -1;
        r = op == OP_DIV ? x / y : x % y;
        break;
    case OP_ADD:
        if ((y > 0 && x > INT64_MAX - y) || (y < 0 && x < INT64_MIN - y))
            return -1;
        r = x + y;
        break;
    case OP_SUB:
        if ((y < 0 && x > INT64_MAX + y) || (y > 0 && x < INT64_MIN + y))
            return -1;
        r = x - y;
        break;
    case OP_AND:
        r = x & y;
        break;
    case OP_XOR:
        r = x ^ y;
        break;
    case OP_OR:
        r = x | y;
        break;
    case OP_LT:
        *out = mk(x < y, 32, false);
        return 0;
    case OP_LE:
        *out = mk(x <= y, 32, false);
        return 0;
    case OP_GT:
        *out = mk(x > y, 32, false);
        return 0;
    case OP_GE:
        *out = mk(x >= y, 32, false);
        return 0;
    case OP_EQ:
        *out = mk(x == y, 32, false);
        return 0;
    case OP_NE:
        *out = mk(x != y, 32, false);
        return 0;
    default:
        return -1;
    }
    if (!fits(r, w))
        return -1;
    *out = mk((uint64_t)r, w, false);
    return 0;
}

static int parse_expr(ev *e, int minprec, cval *out)
{
    if (++e->nest > CEXPR_MAX_NEST) {
        e->nest--;
        return -1;
    }
    int rc = -1;
    cval lhs;
    if (parse_unary(e, &lhs) < 0)
        goto done;
    for (;;) {
        int op = OP_NONE, prec = 0;
        size_t save = e->pos;
        for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++) {
            if (accept(e, binops[i].text)) {
                op = binops[i].op;
                prec = binops[i].prec;
                break;
            }
        }
        if (op == OP_NONE || prec < minprec) {
            e->pos = save;
            break;
        }
        cval rhs;
        if (parse_expr(e, prec + 1, &rhs) < 0)
            goto done;
        if (apply(op, lhs, rhs, &lhs) < 0)
            goto done;
    }
    *out = lhs;
    rc = 0;
done:
    e->nest--;
    return rc;
}

int cexpr_eval(const char *s, size_t n, cexpr_lookup_fn lookup, void *ctx, int depth, cval *out)
{
    ev e;
    memset(&e, 0, sizeof(e));
    e.s = s;
    e.n = n;
    e.lookup = lookup;
    e.ctx = ctx;
    e.depth = depth;
    cval r;
    if (depth > CEXPR_MAX_DEPTH)
        return -1;
    if (parse_expr(&e, 0, &r) < 0)
        return -1;
    skip_ws(&e);
    if (e.pos != e.n)
        return -1;
    *out = r;
    return 0;
}

/* ---- string literals ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool cstring_literals(const char *s, size_t n, sbuf *out)
{
    size_t i = 0, start_len = out->len;
    int count = 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
            i++;
        if (i == n)
            break;
        if (s[i] != '"')
            goto fail;
        i++;
        for (;;) {
            if (i >= n || s[i] == '\n')
                goto fail;
            char c = s[i++];
            if (c == '"')
                break;
            if (c != '\\') {
                sb_putc(out, c);
                continue;
            }
            if (i >= n)
                goto fail;
            c = s[i++];
            switch (c) {
            case 'n':
                sb_putc(out, '\n');
                break;
            case 't':
                sb_putc(out, '\t');
                break;
            case 'r':
                sb_putc(out, '\r');
                break;
            case 'a':
                sb_putc(out, '\a');
                break;
            case 'b':
                sb_putc(out, '\b');
                break;
            case 'f':
                sb_putc(out, '\f');
                break;
            case 'v':
                sb_putc(out, '\v');
                break;
            case '\\':
            case '\'':
            case '"':
            case '?':
                sb_putc(out, c);
                break;
            case 'x': {
                unsigned v = 0;
                int nd = 0;
                while (i < n && hexval(s[i]) >= 0) {
                    v = (v << 4) | (unsigned)hexval(s[i++]);
                    if (++nd > 2)
                        goto fail;
                }
                if (!nd)
                    goto fail;
                sb_putc(out, (char)v);
                break;
            }
            default:
                if (c >= '0' && c <= '7') {
                    unsigned v = (unsigned)(c - '0');
                    for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++)
                        v = v * 8 + (unsigned)(s[i++] - '0');
                    if (v > 255)
                        goto fail;
                    sb_putc(out, (char)v);
                    break;
                }
                goto fail;
            }
        }
        count++;
    }
    if (count == 0)
        goto fail;
    return true;
fail:
    out->len = start_len;
    if (out->s)
        out->s[start_len] = '\0';
    return false;
}
