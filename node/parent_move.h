/* parent_move.h: a parent whose unit was merged with its children into
 * another (merge_int.h) sends each child a ParentMove: the new parent's
 * code, endpoint and key (docs/PROTOCOL.md section 18). The old parent
 * answers every Hello and delta of a child with it, and closes the
 * connection of each child it has not told yet so that child says Hello at
 * once. The child, which takes it only from the parent it pins over CURVE,
 * persists the new endpoint and key in its config and dials the new parent,
 * where its chain starts over with a snapshot. */
#ifndef TIERSYNC_PARENT_MOVE_H
#define TIERSYNC_PARENT_MOVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "config.h"
#include "hub_conns.h"
#include "node.h"
#include "tiersync.pb-c.h"

typedef struct {
    bool moved; /* this node's unit was merged with its children: they move */
    char code[TS_CODE_MAX];
    char endpoint[CONFIG_ENDPOINT_MAX];
    uint8_t key[32];
    int on;            /* YYYYMMDD */
    int64_t loaded_ms; /* monotonic: when read from the store */
} parent_move;

/* Reads the move of this node's children from its store (moved false when
 * there is none); at most once per HUB_TICK_MS unless force. */
void parent_move_load(node_t *n, parent_move *pm, bool force);

/* Parent side, when pm->moved: a Hello or delta from child (routing id
 * `id`) is answered with the ParentMove (a delta also with a Nack naming
 * the move) and true returned; anything else returns false. */
bool parent_move_on_message(const parent_move *pm, node_t *n, void *router, const char *child,
                            zmq_msg_t *id, const uint8_t *data, size_t len);

/* Parent side, every tick: the connection of each child not yet told is
 * closed, so it reconnects and says Hello. */
void parent_move_tick(parent_move *pm, node_t *n, hub_conns *conns);

/* How many enrolled children were never sent the ParentMove; the first in
 * first (for `tiersync retire`). */
size_t parent_move_untold(store_t *s, store_txn *txn, char first[TS_CODE_MAX]);

/* Child side: a ParentMove from the pinned parent (wire: its Envelope's
 * bytes). Validates it, writes the new parent endpoint and key into the
 * config file and sets *moved; a message that repeats the move made
 * changes nothing. Refused: why says why (nothing written). */
int parent_move_adopt(node_t *n, const Tiersync__ParentMove *m, const uint8_t *wire, size_t len,
                      bool *moved, char *why, size_t whysz, ts_err *e);

#endif
