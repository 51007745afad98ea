/* link_state.h: the state of this node's links, in one place: the link up
 * to the parent (connected, chain head, acknowledged, backlog) and each
 * enrolled child (its counters and whether it is current, behind, late or
 * never heard from). `tiersync status`, `child list`, the API's freshness
 * and children and /metrics all format these structs; every meta key of the
 * parent link and of the children (the uplink's, the outbox's, the clock's)
 * is named here. Removing a child (and purging
 * its numbers) is here too, beside enrolment's counterpart in enrol.h. */
#ifndef TIERSYNC_LINK_STATE_H
#define TIERSYNC_LINK_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Meta keys (table meta) of the upward link. */
#define LINK_META_HEAD_SEQ "head_seq"          /* be64: seq of the newest own delta */
#define LINK_META_HEAD_HASH "head_hash"        /* 32 bytes: its hash (the chain head) */
#define LINK_META_ACKED_SEQ "acked_seq"        /* be64: highest seq the parent acked */
#define LINK_META_LAST_ACK_MS "last_ack_ms"    /* be64: when it did */
#define LINK_META_CONNECTED "link_connected"   /* be64: 1 while the link is up */
#define LINK_META_CHANGED_MS "link_changed_ms" /* be64: when it last went up or down */
#define LINK_META_PARENT_CODE "parent_code"    /* the parent's code, as its handshake said */
/* be64: the parent's date (YYYYMMDD) as its last Welcome or Ack told it;
 * LINK_PARENT_TODAY_UNTOLD from a parent that does not tell (hold nothing) */
#define LINK_META_PARENT_TODAY "parent_today"
#define LINK_PARENT_TODAY_UNTOLD 99991231
/* be64: the parent's clock minus this node's at the last Welcome (ms, int64) */
#define LINK_META_PARENT_OFFSET "parent_clock_offset_ms"

/* A parent whose unit was merged with its children into another
 * (merge.h, parent_move.h): where its children move, and which of them it
 * told so. */
#define LINK_META_MOVE_ENDPOINT "move_endpoint" /* the new parent's endpoint, tcp://HOST:PORT */
#define LINK_META_MOVE_KEY "move_key"           /* 32 bytes: its Ed25519 public key */
#define LINK_META_MOVE_TOLD "move_told|"        /* + child code -> be64 ms it was sent ParentMove */

/* Meta key prefix of each child's clock offset: + child code -> int32 s,
 * the child's clock minus this node's at its last hello (clock.h). */
#define LINK_META_CHILD_CLOCK "clock_offset|"

/* The link to the parent, as last recorded by the daemon. */
typedef struct {
    bool connected;
    char code[TS_CODE_MAX]; /* "" until the first handshake */
    uint64_t head_seq, acked_seq;
    uint64_t unacked;       /* head_seq - acked_seq (0 if the parent acked ahead) */
    uint64_t outbox_deltas; /* deltas kept until acked */
    uint64_t pending_cells; /* cell changes not yet in a delta */
    int64_t last_ack_ms;    /* 0: never */
} link_parent;

/* Reads the parent link's state inside txn (zeros when there is none). */
void link_state_parent(store_t *s, store_txn *txn, link_parent *p);

typedef enum {
    LINK_CHILD_NEVER,   /* enrolled, never heard from */
    LINK_CHILD_LATE,    /* silent longer than sync.late_after_s */
    LINK_CHILD_BEHIND,  /* heard from, but reported deltas not yet applied */
    LINK_CHILD_CURRENT, /* heard from in time, everything applied */
} link_child_state;

/* "never", "late", "behind" or "current". */
const char *link_child_state_name(link_child_state st);

/* The one rule for a child's state at now_ms. */
link_child_state link_child_state_of(const store_child *ch, int64_t now_ms, int late_after_s);

/* One enrolled child. */
typedef struct {
    char code[TS_CODE_MAX];
    store_child rec;
    link_child_state state;
    uint64_t behind;        /* deltas its last hello reported beyond the last applied */
    int32_t clock_offset_s; /* its clock minus this node's at its last hello; 0: unknown */
} link_child;

/* Reads child code; TS_ENOTFOUND when it is not enrolled. */
int link_state_child(store_t *s, store_txn *txn, const char *code, int64_t now_ms, int late_after_s,
                     link_child *out);

/* Calls fn for every enrolled child in code order. Returns TS_OK, or
 * TS_ERUNTIME in e when the children table cannot be read (fn has seen the
 * children before). */
typedef void (*link_child_fn)(const link_child *c, void *ctx);
int link_state_children(store_t *s, store_txn *txn, int64_t now_ms, int late_after_s,
                        link_child_fn fn, void *ctx, ts_err *e);

/* Removes child code inside txn (a store_write function): its key is
 * revoked and an unfinished snapshot of it dropped. With purge its numbers,
 * its trail and its units go too (the next delta takes them out of every
 * ancestor). TS_EINPUT when code is not enrolled. */
int link_state_remove_child(store_t *s, store_txn *txn, const char *code, bool purge, ts_err *e);

#endif
