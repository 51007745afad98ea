/* cellsum.h: a map from a cell key (any byte string) to a summed figure
 * (count and cell key, disclose.h), for
 * recomputing in memory what the store holds: the contribution a child's
 * signed deltas add up to, the totals a roll-up gives (audit_check.c, audit.c).
 * A sum that would leave the 64-bit range is refused, never wrapped. */
#ifndef TIERSYNC_CELLSUM_H
#define TIERSYNC_CELLSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disclose.h"
#include "hmap.h"

typedef struct {
    hmap_str keys; /* key -> index into vals, in insertion order */
    disclose_fig *vals;
    size_t cap;
} cellsum;

void cellsum_init(cellsum *m);
void cellsum_free(cellsum *m);
/* Forgets every entry (a snapshot starts the sum again). */
void cellsum_clear(cellsum *m);

/* m[key] += d; false (m unchanged) when the count would leave int64. */
bool cellsum_add(cellsum *m, const char *key, size_t len, disclose_fig d);
/* m[key], {0, 0} when absent. */
disclose_fig cellsum_get(const cellsum *m, const char *key, size_t len);

/* Entries in insertion order (zero sums included): i < cellsum_count(m). */
size_t cellsum_count(const cellsum *m);
const char *cellsum_key(const cellsum *m, size_t i, size_t *len);
disclose_fig cellsum_val(const cellsum *m, size_t i);

#endif
