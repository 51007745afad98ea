/* audit_folded.h: where a child's folded checkpoint (audit.h) is kept.
 *
 * Table audit_folded holds it in parts under "child|" + be32 generation +
 * be32 part number (0, 1, ...): each a packed DeltaBody naming the child,
 * the checkpoint's seq and prev_hash, and at most AUDIT_FOLDED_PART_BYTES
 * of its cells. A part fits in a page, so a fold takes single pages, which
 * LMDB reuses wherever they are (why a longer value would grow the file:
 * store_pieces.h).
 *
 * A fold rewrites a checkpoint of at most AUDIT_FOLDED_TIDY_PARTS parts in
 * place. A longer one (a district's at a province: thousands) it writes
 * whole as a new generation, leaving the older to audit_folded_tidy, which
 * deletes it in slices over later transactions: LMDB records the pages a
 * transaction frees as one value, and a list of thousands would take a run
 * of pages at the end of the file at every fold. Readers see the newest
 * generation only. Stores written before the generations hold
 * generation 0; older ones keep the checkpoint as one value under "child|"
 * in the trail (audit_log.h), read from there until the next fold. */
#ifndef TIERSYNC_AUDIT_FOLDED_H
#define TIERSYNC_AUDIT_FOLDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellsum.h"
#include "delta.h"
#include "store.h"

#define AUDIT_FOLDED_PART_BYTES 1024
/* The longest checkpoint rewritten in place, and the parts of an older
 * generation deleted per write transaction: about 250 pages, whose list of
 * page numbers fits in one page. */
#define AUDIT_FOLDED_TIDY_PARTS 500

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

/* Writes child's folded checkpoint at f's seq and hash holding sum's
 * non-zero cells (over a long one: as a new generation, leaving the older
 * to audit_folded_tidy). */
int audit_folded_put(store_t *s, store_txn *txn, const char *child, const audit_folded *f,
                     const cellsum *sum, ts_err *e);

/* Deletes parts of child's older generations, at most *budget (which it
 * lowers by as many); *done tells whether none is left. */
int audit_folded_tidy(store_t *s, store_txn *txn, const char *child, size_t *budget, bool *done,
                      ts_err *e);

/* Whether child keeps parts of an older generation (true when the table
 * cannot be read: let a write report it). */
bool audit_folded_stale(store_t *s, store_txn *txn, const char *child);

/* Deletes child's folded checkpoint; TS_OK when it has none. */
int audit_folded_del(store_t *s, store_txn *txn, const char *child, ts_err *e);

#endif
