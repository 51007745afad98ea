/* audit.h: the audit trail: every signed delta a child sent, kept exactly as
 * signed (apply.c keeps it under "child|" + be64(seq) in the transaction
 * that applies it; audit_log.h says how it is stored), walked back for
 * `tiersync verify`, and pruned to the retention the config asks for.
 *
 * Retention ([audit] retain_deltas = N > 0) keeps each child's newest N
 * deltas (folding once a child has more than N + N/8). Older ones are
 * folded, oldest first, into the child's
 * *checkpoint* (kept in parts, audit_folded.h): not signed, its seq the
 * last delta folded in, its hash that delta's body hash (what the next
 * retained delta must name as its prev_hash), and its cells the child's
 * contribution as of that delta (a snapshot restarts the sum). A
 * delta is folded only when its signature and chain check out, so pruning
 * never buries an altered delta; the checkpoint itself is this node's own
 * record, and verify says how far back the signatures reach. */
#ifndef TIERSYNC_AUDIT_H
#define TIERSYNC_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_log.h"
#include "cellsum.h"
#include "delta.h"
#include "node.h"

#define AUDIT_KEY_MAX (TS_CODE_MAX + 1 + 8)
#define AUDIT_PRUNE_BATCH 512   /* deltas folded per child per call of audit_prune */
#define AUDIT_DROP_BATCH 4096   /* deltas before a checkpoint dropped per child per call */
#define AUDIT_PRUNE_CHILDREN 32 /* children pruned per write transaction */

/* The key of child's delta seq ("child|" + be64 seq) into out
 * (AUDIT_KEY_MAX bytes); returns its length. */
size_t audit_key(const char *child, uint64_t seq, char *out);

/* Adds a body's cells to sum, keyed as the store writes them. TS_EINPUT
 * names a cell that is malformed or whose sum leaves the 64-bit range. */
int audit_cells_add(cellsum *sum, const Tiersync__DeltaBody *b, ts_err *e);

/* Where a walk along a child's trail stands: the last delta walked (the
 * checkpoint's at the start) and the contribution summed so far. */
typedef struct {
    const char *child;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES]; /* the enrolled key */
    /* where the child's key history is (rotate.h): a delta from before a
     * key rotation verifies with the key enrolled when it was applied */
    store_t *s;
    store_txn *txn;
    uint64_t first_seq;             /* first delta walked (0: none yet) */
    uint64_t seq;                   /* last delta walked; 0 at the start of the chain */
    uint8_t hash[DELTA_HASH_BYTES]; /* its body hash; zeros at the start */
    uint64_t checkpoint_seq;        /* seq of the checkpoint; 0 when nothing was pruned */
    size_t deltas;                  /* deltas walked */
    size_t failed;                  /* of which did not check out */
    bool hash_unknown;              /* the last one failed: its hash proves nothing */
    cellsum contrib;                /* keys are cell keys (no "child|") */
    /* a snapshot in parts (apply_stage.h) counts when its last part is
     * walked; until then its parts are summed here */
    cellsum staged;
    uint64_t staged_first, staged_end; /* its first and last seq; 0: none */
} audit_walk;

/* Starts a walk at child's checkpoint (or at the chain's start when it has
 * none). TS_EINPUT when the stored checkpoint does not decode. */
int audit_walk_begin(audit_walk *w, store_t *s, store_txn *txn, const char *child,
                     const uint8_t pk[crypto_sign_PUBLICKEYBYTES], ts_err *e);
void audit_walk_end(audit_walk *w);

/* Checks the delta stored under key_seq against the walk, then steps onto
 * it: the signature verifies with the enrolled key, the body decodes and
 * names this child, its key and key_seq, and continues the chain (seq =
 * last + 1 and prev_hash = last hash; a snapshot may jump ahead and
 * restarts the contribution, at its last part when it comes in parts). TS_EINPUT names what is wrong ("seq N: ...");
 * the walk steps onto the delta all the same (folding its cells when the
 * body decodes), and the next delta's prev_hash is not judged against a
 * delta that failed: each finding names the delta that is wrong, not its
 * successor. */
int audit_walk_step(audit_walk *w, uint64_t key_seq, const void *val, size_t len, ts_err *e);

/* Prunes every enrolled child's trail: drops the deltas older than its
 * second-newest checkpoint (audit_checkpoint.h), at most AUDIT_DROP_BATCH
 * per child per call, then folds all but the newest cfg.audit_retain
 * deltas (none when 0), at most AUDIT_PRUNE_BATCH per child per call; in
 * write transactions of AUDIT_PRUNE_CHILDREN children (a transaction
 * cannot reuse the pages it frees: one over every child would need room
 * for a fresh copy of every checkpoint it rewrites), and the checkpoints
 * a fold replaced are deleted in further transactions of at most
 * AUDIT_FOLDED_TIDY_PARTS parts (audit_folded.h). A delta that does not
 * check out stops the pruning of that child (its trail is kept whole for
 * verify) and is reported as TS_EINPUT after the others are pruned. For
 * the daemon: call it every few seconds. */
int audit_prune(node_t *n, ts_err *e);

#endif
