/* audit_checkpoint.h: the checkpoints that bound a child's audit trail.
 *
 * Every snapshot a child signs (its periodic checkpoint, or a resync) holds
 * its whole contribution, so `tiersync verify` can start there: the parent
 * notes the seq of each (the newest two, in table meta under
 * "checkpoints|" + child) and keeps the child's deltas only back to the
 * second-newest (audit_prune). A checkpoint that continues the chain must
 * equal the contribution already held; audit_checkpoint_compare says where
 * it does not (the snapshot is still taken as truth, as a resync is). */
#ifndef TIERSYNC_AUDIT_CHECKPOINT_H
#define TIERSYNC_AUDIT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tiersync.pb-c.h"

#define AUDIT_META_CHECKPOINTS "checkpoints|"

typedef struct {
    uint64_t newest, older; /* seqs of the newest two snapshots applied; 0: none */
} audit_checkpoints;

/* The child's checkpoints (zeros when it has none). */
void audit_checkpoints_get(store_t *s, MDB_txn *txn, const char *child, audit_checkpoints *c);

/* Notes a snapshot at seq from child as its newest checkpoint. */
int audit_checkpoint_note(store_t *s, MDB_txn *txn, const char *child, uint64_t seq, ts_err *e);

/* Forgets child's checkpoints (the child is removed). */
int audit_checkpoint_forget(store_t *s, MDB_txn *txn, const char *child, ts_err *e);

/* Compares the cells of snapshot body b with child's contribution as held
 * (table contrib) before b is applied: returns how many of its cells carry
 * another value than the one held, and describes the first in why. Cells
 * held but absent from b are not seen here: a snapshot may continue in
 * the deltas after it. */
size_t audit_checkpoint_compare(store_t *s, MDB_txn *txn, const char *child,
                                const Tiersync__DeltaBody *b, char *why, size_t whysz);

#endif
