/* apply_int.h: the state of one delta being applied, shared by apply.c and
 * apply_units.c. */
#ifndef TIERSYNC_APPLY_INT_H
#define TIERSYNC_APPLY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "apply.h"
#include "delta.h"

typedef struct {
    node_t *n;
    const char *child;
    const Tiersync__SignedDelta *signed_delta;
    const Tiersync__DeltaBody *body;
    uint8_t hash[DELTA_HASH_BYTES];
    apply_reply *reply;
    store_sums *sums; /* the batch's sums of this node's own unit; NULL when nested */
    bool wrote;       /* set before the first write: a refusal after it needs a rollback */
    size_t bad_cell;  /* the first cell the catalog refused (check_cells), or SIZE_MAX */
    Tiersync__Reason bad_reason; /* why: UNKNOWN_CODE or FUTURE_PERIOD */
    const char *bad_msg;         /* and why */
    bool checkpoint;             /* a snapshot that continues the chain (audit_checkpoint.h) */
} apply_ctx;

/* A unit is inside child's subtree if it is the child or came through it. */
bool apply_in_subtree(store_t *s, store_txn *txn, const char *child, const char *code);

/* Checks and registers the units the delta announces (refusing the delta
 * through a->reply when one does not belong to the child). */
int apply_units_register(apply_ctx *a, store_t *s, store_txn *txn, uint64_t expected, ts_err *e);

#endif
