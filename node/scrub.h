/* scrub.h: the daemon checks itself against silent disk rot.
 *
 * LMDB keeps no page checksums: a flipped bit in a stored total or
 * contribution would be served as truth. The scrub runs the checks of
 * `tiersync verify` (audit_check.h) on a thread of its own at the lowest CPU
 * priority, every [audit] scrub_every_h hours, in slices — one child's trail
 * and contribution, then the totals — each in a read transaction of its own
 * with a pause between, so replication and readers never wait for it (LMDB
 * readers do not block its writer). Every finding is logged; the result of
 * the last pass is kept in the store's meta table for `status` and /metrics. */
#ifndef TIERSYNC_SCRUB_H
#define TIERSYNC_SCRUB_H

#include <stdint.h>

#include "node.h"

#define SCRUB_SLICE_PAUSE_MS 100 /* between two slices of a pass */
#define SCRUB_MAX_LOGGED 50      /* findings logged per pass; the rest are counted */

typedef struct scrub scrub_t;

/* Starts the scrub thread of n; *out is NULL (and TS_OK) when
 * n->cfg.scrub_every_h is 0. The first pass is due one interval after the
 * last one recorded in the store (or after start). */
int scrub_start(scrub_t **out, node_t *n, ts_err *e);
/* Stops the thread (a pass in progress ends at its next slice), frees, sets
 * *s to NULL. */
void scrub_stop(scrub_t **s);

/* The last completed pass, as recorded in the store: all 0 when none ran. */
typedef struct {
    int64_t last_ms;                  /* when it ended (Unix ms) */
    uint64_t problems;                /* findings: 0 when everything held */
    uint64_t children, deltas, cells; /* what it checked */
    uint64_t runs;                    /* passes completed since the store was made */
} scrub_result;
void scrub_result_get(store_t *s, store_txn *txn, scrub_result *r);

#endif
