/* apply.h: the parent's side of the protocol, free of sockets: one message
 * from an authenticated child in, one reply out.
 *
 * A delta is applied as docs/PROTOCOL.md specifies: verify the
 * signature with the enrolled key (receive.c, before the write lock),
 * continue the seq/prev_hash chain, check
 * every unit and cell (subtree, catalog), then in ONE write transaction add
 * the cells to the child's contribution, the totals (with roll-ups) and this
 * node's pending changes, and advance the child's seq/hash. Anything else is
 * refused, counted in the child's record, and changes nothing else. */
#ifndef TIERSYNC_APPLY_H
#define TIERSYNC_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "tiersync.pb-c.h"

#define APPLY_PARALLEL_MIN 2 /* deltas in a batch before verification uses a second thread */
#define APPLY_MAX_SEQ (UINT64_C(1) << 62) /* far beyond any real chain; no wrap-around */

typedef struct {
    Tiersync__Envelope__MsgCase kind; /* WELCOME, ACK, NACK, or NOT_SET: no reply */
    uint64_t seq;                     /* ack: applied through; nack: expected; welcome: last */
    uint8_t hash[32];                 /* welcome: last hash */
    Tiersync__Reason reason;
    char detail[256];
    int applied_cells;         /* cells applied by this message */
    bool clock_told;           /* a hello that gave the child's clock: */
    int32_t clock_offset_s;    /* the child's clock minus this node's */
    size_t checkpoint_differs; /* a checkpoint's cells that disagreed (detail says which) */
} apply_reply;

/* One message of a batch: in: child (the ZAP-authenticated code), data;
 * out: reply, rc (TS_OK accepted, TS_EINPUT refused, TS_ERUNTIME store
 * failed and nothing applied: the child retries), err. */
typedef struct {
    const char *child;
    const uint8_t *data;
    size_t len;
    apply_reply reply;
    int rc;
    ts_err err;
} apply_item;

/* Handles a batch of messages: signatures and catalog codes are checked
 * before the write lock is taken, then every delta is applied in one write
 * transaction (a delta refused halfway through makes the batch run again
 * with each delta nested, so a refused one changes nothing) and one commit
 * makes them all durable before any is acknowledged. */
void apply_batch(node_t *n, apply_item *items, size_t count);

/* apply_batch in its two halves, so one batch can be verified while the
 * previous one commits: apply_prepare decodes and verifies (read-only; fills
 * the replies of what it refuses), apply_commit applies in one write
 * transaction, fills the other replies and frees the handle. The items must
 * stay in place in between. */
typedef struct apply_pending apply_pending;
apply_pending *apply_prepare(node_t *n, apply_item *items, size_t count);
void apply_commit(apply_pending *p);

/* apply_prepare in steps, for a batch that grows while the previous one
 * commits: begin with room for max items, then prepare items up to count
 * (each call continues where the last one stopped). */
apply_pending *apply_begin(node_t *n, apply_item *items, size_t max);
void apply_prepare_more(apply_pending *p, size_t count);

/* Handles one packed Envelope from child (the code ZAP authenticated).
 * Fills reply; returns TS_OK when the message was accepted (hello, delta
 * applied or duplicate), TS_EINPUT when refused, TS_ERUNTIME when the store
 * failed (nothing applied; the child retries). */
int apply_message(node_t *n, const char *child, const uint8_t *data, size_t len, apply_reply *reply,
                  ts_err *e);

/* Packs the reply as an Envelope (malloc'd); *len 0 when there is none. */
void apply_reply_pack(const node_t *n, const apply_reply *r, uint8_t **out, size_t *len);

#endif
