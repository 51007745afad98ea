/* vnfold.c: the search fold of vnfold.h. Two small tables give the base
 * letter of each precomposed character of the Latin-1, Latin Extended-A/B
 * (ă, đ, ĩ, ũ, ơ, ư) and Latin Extended Additional (ạ ... ỹ) blocks that
 * Vietnamese uses; combining marks (U+0300..U+036F) are dropped. */
#include "vnfold.h"

#include <stdlib.h>
#include <string.h>

#define VNFOLD_LATIN_LO 0xC0
#define VNFOLD_LATIN_HI 0x1B0
#define VNFOLD_EXT_LO 0x1EA0
#define VNFOLD_EXT_HI 0x1EF9
#define VNFOLD_MARKS_LO 0x300
#define VNFOLD_MARKS_HI 0x36F

/* '.': no base letter (kept as it is). Generated from Unicode's canonical
 * decompositions; đ/Đ (no decomposition) written as d by hand. */
static const char latin[] =
    "aaaaaa.ceeeeiiii.nooooo..uuuuy..aaaaaa.ceeeeiiii.nooooo..uuuuy.yaaaaaaccccccccdddd"
    "eeeeeeeeeegggggggghh..iiiiiiiii...jjkk.llllll....nnnnnn...oooooo..rrrrrrsssssssstttt"
    "..uuuuuuuuuuuuwwyyyzzzzzz.................................oo.............uu";
static const char ext[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy";

_Static_assert(sizeof latin - 1 == VNFOLD_LATIN_HI - VNFOLD_LATIN_LO + 1, "latin table");
_Static_assert(sizeof ext - 1 == VNFOLD_EXT_HI - VNFOLD_EXT_LO + 1, "ext table");

/* Decodes one UTF-8 character at s: its code point and length; -1 (length
 * 1) for a byte that does not start a well-formed one. */
static long utf8_next(const unsigned char *s, int *len)
{
    *len = 1;
    if (s[0] < 0x80)
        return s[0];
    int n = s[0] >= 0xF0 && s[0] < 0xF5 ? 4
        : s[0] >= 0xE0                  ? 3
        : s[0] >= 0xC2 && s[0] < 0xE0   ? 2
                                        : 0;
    if (!n)
        return -1;
    long cp = s[0] & (0x3F >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const long min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = n;
    return cp;
}

/* The base letter of cp, '.' when it has none, 0 for a combining mark. */
static char base_of(long cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return (char)(cp - 'A' + 'a');
    if (cp >= 0 && cp < 0x80)
        return (char)cp;
    if (cp >= VNFOLD_MARKS_LO && cp <= VNFOLD_MARKS_HI)
        return 0;
    if (cp >= VNFOLD_LATIN_LO && cp <= VNFOLD_LATIN_HI)
        return latin[cp - VNFOLD_LATIN_LO];
    if (cp >= VNFOLD_EXT_LO && cp <= VNFOLD_EXT_HI)
        return ext[cp - VNFOLD_EXT_LO];
    return '.';
}

size_t vnfold(const char *s, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    if (!outsz)
        return 0;
    while (*p) {
        int len;
        long cp = utf8_next(p, &len);
        char b = base_of(cp);
        size_t need = b == '.' || cp < 0 ? (size_t)len : b ? 1 : 0;
        if (o + need >= outsz)
            break;
        if (b == '.' || cp < 0)
            memcpy(out + o, p, (size_t)len);
        else if (b)
            out[o] = b;
        o += need;
        p += len;
    }
    out[o] = '\0';
    return o;
}

bool vnfold_contains(const char *haystack, const char *needle)
{
    size_t hn = strlen(haystack) + 1, nn = strlen(needle) + 1;
    char hbuf[512], nbuf[256];
    char *h = hn <= sizeof hbuf ? hbuf : malloc(hn);
    char *n = nn <= sizeof nbuf ? nbuf : malloc(nn);
    bool found = false;
    if (h && n) {
        vnfold(haystack, h, hn);
        vnfold(needle, n, nn);
        found = strstr(h, n) != NULL;
    }
    if (h != hbuf)
        free(h);
    if (n != nbuf)
        free(n);
    return found;
}
