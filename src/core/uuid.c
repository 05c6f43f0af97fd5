/* SPDX-License-Identifier: MIT */
/* UUIDs in their canonical text form. */
#include <string.h>

#include <virtrpc/types.h>

VRPC_EXPORT void vrpc_uuid_format(const uint8_t uuid[16], char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[uuid[i] >> 4];
        out[o++] = hex[uuid[i] & 15];
    }
    out[o] = '\0';
}

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

VRPC_EXPORT int vrpc_uuid_parse(const char *s, uint8_t uuid[16])
{
    uint8_t u[16];
    size_t i = 0;
    if (!s || !uuid)
        return VRPC_E_INVALID;
    for (size_t b = 0; b < 16; b++) {
        int hi, lo;
        if (b == 4 || b == 6 || b == 8 || b == 10) {
            if (s[i] != '-')
                return VRPC_E_INVALID;
            i++;
        }
        hi = hexval(s[i]);
        lo = hi < 0 ? -1 : hexval(s[i + 1]);
        if (lo < 0)
            return VRPC_E_INVALID;
        u[b] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    if (s[i] != '\0')
        return VRPC_E_INVALID;
    memcpy(uuid, u, 16);
    return 0;
}
