/* cellsum.h: a map from a cell key (any byte string) to an int64 sum, for
 * recomputing in memory what the store holds: the contribution a child's
 * signed deltas add up to, the totals a roll-up gives (verify.c, audit.c).
 * A sum that would leave the 64-bit range is refused, never wrapped. */
#ifndef TIERSYNC_CELLSUM_H
#define TIERSYNC_CELLSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

typedef struct {
    hmap_str keys; /* key -> index into vals, in insertion order */
    int64_t *vals;
    size_t cap;
} cellsum;

void cellsum_init(cellsum *m);
void cellsum_free(cellsum *m);
/* Forgets every entry (a snapshot starts the sum again). */
void cellsum_clear(cellsum *m);

/* m[key] += d; false (m unchanged) when the sum would leave int64. */
bool cellsum_add(cellsum *m, const char *key, size_t len, int64_t d);
/* m[key], 0 when absent. */
int64_t cellsum_get(const cellsum *m, const char *key, size_t len);

/* Entries in insertion order (zero sums included): i < cellsum_count(m). */
size_t cellsum_count(const cellsum *m);
const char *cellsum_key(const cellsum *m, size_t i, size_t *len);
int64_t cellsum_val(const cellsum *m, size_t i);

#endif
