/* hub_int.h: the hub's state, shared by hub.c (the ROUTER and its batches)
 * and hub_zap.c (ZAP authentication). */
#ifndef TIERSYNC_HUB_INT_H
#define TIERSYNC_HUB_INT_H

#include <sodium.h>
#include <stdint.h>

#include "hub.h"
#include "hub_conns.h"
#include "log.h"
#include "parent_move.h"
#include "rotate_hub.h"
#include "worker.h"

#define HUB_ZAP_DOMAIN "tiersync" /* the ROUTER's ZAP domain; hub_zap.c answers only it */

typedef struct {
    uint8_t curve[crypto_scalarmult_curve25519_BYTES];
    char code[TS_CODE_MAX];
} zap_entry;

typedef struct hub_batch hub_batch;

struct hub {
    node_t *n;
    void *zctx;
    void *zap;
    void *router;
    /* Curve key -> child code, so a handshake costs a lookup, not a conversion
     * of every enrolled key; rebuilt on a miss, at most every HUB_ZAP_REBUILD_MS */
    zap_entry *keys;
    size_t nkeys, capkeys;
    int64_t keys_built_ms;
    hub_batch *inflight; /* committing in the writer thread (see hub_on_router) */
    worker_t *writer;    /* NULL: batches commit on the hub's own thread */
    int wake_fd;         /* eventfd the writer thread signals when it has committed */
    log_limit limits;    /* refusals an attacker can repeat at will: once a minute each */
    hub_conns conns;     /* to end a removed child's session */
    rotate_hub *rot;     /* key rotation messages, both ways */
    uint8_t serving[crypto_sign_PUBLICKEYBYTES]; /* the key the ROUTER serves with */
    int catalog_offered; /* the catalog version last offered (catalog_dist.h) */
    parent_move move;    /* this node merged with its children: where they go */
};

#endif
