/* outbox.h: this node's own chain of signed deltas, as stored before sending.
 *
 * Pending changes become a signed delta in the same transaction that clears
 * them (outbox_flush); a snapshot replaces everything unacknowledged with the
 * node's whole contribution (outbox_snapshot); acknowledged deltas are
 * dropped (outbox_ack). Chain head: meta LINK_META_HEAD_SEQ / _HASH (link_state.h). */
#ifndef TIERSYNC_OUTBOX_H
#define TIERSYNC_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "node.h"

typedef struct {
    uint64_t seq;
    uint8_t hash[32];
} outbox_head;

/* Reads the chain head (0 and zeros before the first delta). */
void outbox_head_get(node_t *n, store_txn *txn, outbox_head *h);

/* A record-derived cell for a period after the parent's date
 * (LINK_META_PARENT_TODAY) stays pending: the parent would refuse it
 * (FUTURE_PERIOD) while this node's clock runs ahead. */

#define OUTBOX_META_RELEASE "release_ms"       /* when the last release window opened */
#define OUTBOX_META_CHECKPOINT "checkpoint_ms" /* when the last snapshot was made */

/* A release: when, and how many held cell changes it let go. */
typedef struct {
    int64_t at_ms;
    size_t cells;
} outbox_release;

/* Turns up to max_cells pending cells (and queued unit announcements and
 * covers) into the next signed delta. With release non-NULL, first moves
 * every change held for the release window into pending and records the
 * time (meta OUTBOX_META_RELEASE), in the same transaction, and fills
 * *release; the delta carries that time. Record-derived cells for periods
 * after the parent's date stay pending. *made is false when nothing could
 * be sent. */
int outbox_flush(node_t *n, outbox_release *release, bool *made, ts_err *e);

/* Rebuilds the node's whole upward contribution (all but the changes held
 * for the release window) as a snapshot chain starting at seq
 * max(head, parent_last) + 1, replacing outbox and pending. *first
 * receives the first seq to send. Records the time as a checkpoint. */
int outbox_snapshot(node_t *n, uint64_t parent_last, uint64_t *first, ts_err *e);

/* A checkpoint: a snapshot of the contribution the parent holds once it has
 * applied the outbox (all but the changes held or pending), appended to
 * the chain at head + 1; pending, held and the outbox stay as they are, so
 * it changes no total above and releases nothing early. */
int outbox_checkpoint(node_t *n, uint64_t *first, ts_err *e);

/* How many deltas the outbox holds (each may be kept in several pieces). */
uint64_t outbox_count(store_t *s, store_txn *txn);

/* Drops deltas with seq <= acked and records the ack. */
int outbox_ack(node_t *n, uint64_t acked, ts_err *e);

/* Copies outbox[seq] (a packed Envelope) into *data (malloc'd). TS_ENOTFOUND if absent.
 * The outbox keeps deltas unsigned: signing takes two passes over a body of
 * up to max_cells cells, so it waits until the delta is sent, outside the
 * write transaction that every apply waits on. */
int outbox_get(node_t *n, uint64_t seq, uint8_t **data, size_t *len, ts_err *e);

/* outbox_get, signed with the node's key: what goes on the wire. */
int outbox_get_signed(node_t *n, uint64_t seq, uint8_t **data, size_t *len, ts_err *e);

/* prev_hash of outbox[seq]; false if absent or undecodable. */
bool outbox_prev_hash(node_t *n, uint64_t seq, uint8_t out[32]);

#endif
