/* uplink_int.h: the uplink's state, shared by uplink.c (the protocol and the
 * send window) and uplink_dial.c (the socket, its keys and its monitor). */
#ifndef TIERSYNC_UPLINK_INT_H
#define TIERSYNC_UPLINK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog_dist.h"
#include "rotate_node.h"
#include "uplink.h"

#define UPLINK_MONITOR_ENDPOINT "inproc://tiersync-uplink-monitor"

struct uplink {
    node_t *n;
    void *zctx, *dealer, *monitor;
    unsigned dials;
    int64_t redial_at_ms; /* refused by the parent: dial afresh then */
    bool connected, welcomed;
    uint64_t acked;      /* parent applied through this seq */
    uint64_t next_send;  /* next seq to put on the wire */
    uint64_t snap_first; /* first seq of the last snapshot: older nacks are stale */
    uint64_t rewound_to; /* last GAP answered by resending from here */
    int64_t last_hello_ms, last_progress_ms, last_flush_ms, quiet_until_ms;
    int64_t last_auth_warn_ms;
    /* key rotation (rotate.h): the keys this dial uses; with two candidates
     * (this node's old and new key before its parent acknowledged, or the
     * parent's new and previous key) a dial that does not connect within
     * UPLINK_ROTATE_TRY_MS tries the other */
    uint8_t client_pk[crypto_sign_PUBLICKEYBYTES], server_pk[crypto_sign_PUBLICKEYBYTES];
    bool alt, alternates;
    int64_t down_since_ms, announced_ms;
    uint32_t parent_today;  /* the parent's date as it last told it (0: never) */
    int64_t release_ms;     /* wall clock: the last release window opened (meta, see outbox.h) */
    int64_t checkpoint_ms;  /* wall clock: the last snapshot or checkpoint was made */
    catdist_fetch *catalog; /* a catalog version being fetched */
};

/* Closes the parent socket and its monitor (a new dial replaces them). */
void uplink_hangup(uplink_t *u);
/* Opens the DEALER to the parent with CURVE client keys derived from ours. */
int uplink_dial(uplink_t *u, ts_err *e);
/* This node's rotation under way and not yet acknowledged by the parent. */
bool uplink_announcing(uplink_t *u, rotate_state *st);
/* Dials with the other key choice of a rotation (see uplink_dial.c). */
void uplink_try_other_keys(uplink_t *u);
/* Connected with the parent key now pinned: its previous one goes. */
void uplink_settle_parent_key(uplink_t *u);
/* Says Hello with the chain head (uplink.c). */
void uplink_send_hello(uplink_t *u);

#endif
