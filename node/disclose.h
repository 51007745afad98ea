/* disclose.h: what a reader without a token may see of a record-derived
 * figure: the cell key method with random rounding to base k.
 *
 * Every record cluster at a commune has a random 64-bit record key, never
 * sent. A record-derived cell carries, beside its count, a cell key: the sum
 * modulo 2^32 of disclose_record_hash(record key, indicator) over the records
 * it counts. Keys add exactly as counts do (modulo 2^32), so any sum of cells
 * (over options, children, units) has as key the sum of its cells' keys, and
 * the same figure rounds the same way on every node and every endpoint. */
#ifndef TIERSYNC_DISCLOSE_H
#define TIERSYNC_DISCLOSE_H

#include <stdint.h>

#define DISCLOSE_K_DEFAULT 5
#define DISCLOSE_K_MIN 2
#define DISCLOSE_K_MAX 100

/* A figure as published: its exact count and its cell key. */
typedef struct {
    int64_t v;
    uint32_t key;
} disclose_fig;

/* Adds b into a: counts add, keys add modulo 2^32. Returns -1 (a unchanged)
 * when the count would leave the int64 range, else 0. */
int disclose_add(disclose_fig *a, disclose_fig b);

/* Subtracts b from a (a - b: counts subtract, keys subtract modulo 2^32).
 * Returns -1 (a unchanged) when the count would leave the int64 range. */
int disclose_sub(disclose_fig *a, disclose_fig b);

/* The keyed 32-bit BLAKE2b of a record key and an indicator code: one
 * record's share of the cell key of every cell of that indicator it counts
 * in. */
uint32_t disclose_record_hash(uint64_t record_key, const char *indicator);

/* The published value of f for a reader without a token, k >= 2: 0 stays 0;
 * a multiple of k stays; otherwise v rounds to the multiple of k below or
 * above, up when (key mod k) < (v mod k). Unbiased for uniform keys, within
 * k-1 of v, the same for the same (v, key). */
int64_t disclose_round(disclose_fig f, int k);

#endif
