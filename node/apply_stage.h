/* apply_stage.h: the parts of a multi-part snapshot, held until its last
 * part arrives.
 *
 * A snapshot larger than max_cells travels as a chain of deltas S..E, the
 * first flagged snapshot and naming E (DeltaBody.snapshot_end). Applied
 * part by part, readers and the upward flow would see the child's old
 * contribution replaced by a fraction of the new one. So the parent keeps
 * each verified part's body here (DB_STAGED, key child|be64(seq), value
 * be64(E) || body), acknowledges it, and applies S..E in the one write
 * transaction that receives E. */
#ifndef TIERSYNC_APPLY_STAGE_H
#define TIERSYNC_APPLY_STAGE_H

#include "store.h"
#include "tiersync.pb-c.h"

#define APPLY_STAGE_MAX_PARTS 100000 /* a snapshot of more parts is refused */

/* Keeps part seq of the snapshot of child that ends at end. */
int apply_stage_put(store_t *s, store_txn *txn, const char *child, uint64_t seq, uint64_t end,
                    const uint8_t *body, size_t len, ts_err *e);

/* The end of the snapshot of child being staged into *end, 0 when none is.
 * TS_ERUNTIME (e) when the store cannot be read. */
int apply_stage_end(store_t *s, store_txn *txn, const char *child, uint64_t *end, ts_err *e);

/* Calls fn on each staged part of child, decoded, in seq order; stops at
 * and returns fn's first non-zero result. TS_ERUNTIME (e) when a stored
 * part does not decode. */
typedef int (*apply_stage_fn)(const Tiersync__DeltaBody *b, void *ctx, ts_err *e);
int apply_stage_each(store_t *s, store_txn *txn, const char *child, apply_stage_fn fn, void *ctx,
                     ts_err *e);

/* Forgets every staged part of child. */
int apply_stage_clear(store_t *s, store_txn *txn, const char *child, ts_err *e);

#endif
