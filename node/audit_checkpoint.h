/* audit_checkpoint.h: the checkpoints that bound a child's audit trail.
 *
 * Every snapshot a child signs (its periodic checkpoint, or a resync) holds
 * its whole contribution, so `tiersync verify` can start there: the parent
 * notes the seq of each (the newest two, in table meta under
 * "checkpoints|" + child) and keeps the child's deltas only back to the
 * second-newest (audit_prune). A checkpoint (a snapshot that continues the
 * chain) must equal the contribution already held; audit_checkpoint_compare
 * says where it does not (the snapshot is still taken as truth, as a
 * resync is). */
#ifndef TIERSYNC_AUDIT_CHECKPOINT_H
#define TIERSYNC_AUDIT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tiersync.pb-c.h"

#define AUDIT_META_CHECKPOINTS "checkpoints|"

typedef struct {
    uint64_t newest, older; /* seqs of the newest two snapshots applied; 0: none */
    uint64_t staging;       /* first seq of a checkpoint whose parts are being staged; 0: none */
} audit_checkpoints;

/* The child's checkpoints (zeros when it has none). */
void audit_checkpoints_get(store_t *s, store_txn *txn, const char *child, audit_checkpoints *c);

/* Notes a snapshot at seq from child as its newest checkpoint. */
int audit_checkpoint_note(store_t *s, store_txn *txn, const char *child, uint64_t seq, ts_err *e);

/* Notes that the first part of a multi-part snapshot from child, at seq,
 * is staged (apply_stage.h), and whether it continued the chain (a
 * checkpoint, compared when its last part arrives) or not (0 forgets). */
int audit_checkpoint_staging(store_t *s, store_txn *txn, const char *child, uint64_t seq,
                             ts_err *e);

/* Forgets child's checkpoints (the child is removed). */
int audit_checkpoint_forget(store_t *s, store_txn *txn, const char *child, ts_err *e);

/* Compares a checkpoint from child, whole, with the contribution held for
 * it (table contrib) before it is applied: last is its last part, after
 * the parts staged before it when staged (and only when audit_checkpoint_
 * staging noted them as a checkpoint: else 0). Returns how many cells
 * differ (carried with another value, or held and absent), naming the
 * first in why. */
size_t audit_checkpoint_compare(store_t *s, store_txn *txn, const char *child,
                                const Tiersync__DeltaBody *last, bool staged, char *why,
                                size_t whysz);

#endif
