/* audit_folded.h: where a child's folded checkpoint (audit.h) is kept.
 *
 * Table audit_folded holds it in parts under "child|" + be64 part number
 * (0, 1, ...): each a packed DeltaBody naming the child, the checkpoint's
 * seq and prev_hash, and at most AUDIT_FOLDED_PART_BYTES of its cells. A
 * part fits in a page, so each fold frees and takes single pages, which
 * LMDB reuses wherever they are (why a longer value would grow the file:
 * store_pieces.h). Stores written before keep it as one value under
 * "child|" in the trail (audit_log.h): it is read from there until the
 * next fold moves it here. */
#ifndef TIERSYNC_AUDIT_FOLDED_H
#define TIERSYNC_AUDIT_FOLDED_H

#include <stdint.h>

#include "cellsum.h"
#include "delta.h"
#include "store.h"

#define AUDIT_FOLDED_PART_BYTES 1024

typedef struct {
    uint64_t seq; /* the last delta folded in; 0: the child has no folded checkpoint */
    uint8_t hash[DELTA_HASH_BYTES]; /* that delta's body hash */
} audit_folded;

/* Reads child's folded checkpoint into *out and, when sum is not NULL,
 * adds its cells to sum (with sum NULL only part 0 is read). TS_OK with
 * out->seq 0 when there is none; TS_EINPUT when a part does not decode,
 * names another child, or disagrees with the others on seq or hash. */
int audit_folded_get(store_t *s, store_txn *txn, const char *child, audit_folded *out, cellsum *sum,
                     ts_err *e);

/* Replaces child's folded checkpoint by one at f's seq and hash holding
 * sum's non-zero cells. */
int audit_folded_put(store_t *s, store_txn *txn, const char *child, const audit_folded *f,
                     const cellsum *sum, ts_err *e);

/* Deletes child's folded checkpoint; TS_OK when it has none. */
int audit_folded_del(store_t *s, store_txn *txn, const char *child, ts_err *e);

#endif
