/* disclose.c: cell-key random rounding (see disclose.h). */
#include "disclose.h"

#include <sodium.h>
#include <string.h>

/* The hash is keyed with the record key in the first 8 bytes (little-endian)
 * and a fixed tag in the last 8: BLAKE2b needs a key of at least 16 bytes. */
static const char record_hash_tag[8] = {'t', 's', 'c', 'k', 'e', 'y', '0', '1'};

int disclose_add(disclose_fig *a, disclose_fig b)
{
    int64_t sum;
    if (__builtin_add_overflow(a->v, b.v, &sum))
        return -1;
    a->v = sum;
    a->key += b.key; /* unsigned: wraps modulo 2^32 by definition */
    return 0;
}

int disclose_sub(disclose_fig *a, disclose_fig b)
{
    int64_t d;
    if (__builtin_sub_overflow(a->v, b.v, &d))
        return -1;
    a->v = d;
    a->key -= b.key;
    return 0;
}

uint32_t disclose_record_hash(uint64_t record_key, const char *indicator)
{
    uint8_t key[crypto_generichash_KEYBYTES_MIN];
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(record_key >> (8 * i));
    memcpy(key + 8, record_hash_tag, sizeof record_hash_tag);
    uint8_t out[4];
    crypto_generichash(out, sizeof out, (const uint8_t *)indicator, strlen(indicator), key,
                       sizeof key);
    return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
        (uint32_t)out[3] << 24;
}

int64_t disclose_round(disclose_fig f, int k)
{
    if (f.v == 0 || k < 2)
        return f.v;
    int64_t r = f.v % k;
    if (r < 0)
        r += k; /* floor modulo: a negative figure rounds the same way */
    if (r == 0)
        return f.v;
    int64_t below = f.v - r;
    return (int64_t)(f.key % (uint32_t)k) < r ? below + k : below;
}
