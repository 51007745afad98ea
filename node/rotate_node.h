/* rotate_node.h: a key rotation at the rotating node (rotate.h says what
 * is stored where). `key rotate` makes the new pair; the one process that
 * serves the directory (the daemon on its tick, or `key rotate` itself when
 * no daemon runs) records and announces it and, once every link has
 * acknowledged the new key, wipes the old one. */
#ifndef TIERSYNC_ROTATE_NODE_H
#define TIERSYNC_ROTATE_NODE_H

#include <stdbool.h>

#include "rotate.h"

/* Makes the new key pair as DIR/node.key.new (0600). TS_EINPUT when a
 * rotation is already under way. */
int rotate_request(node_t *n, ts_err *e);

/* Takes the rotation as far as it goes now: records a requested one
 * (from_seq = the chain head + 1; the announcement signed by both pairs),
 * puts the new pair in place as n->keys with the old as n->old_keys, and
 * finishes once the parent and every child enrolled before it began have
 * acknowledged it and the parent has acknowledged every delta below
 * from_seq. *changed: n->keys or n->old_keys changed (the links
 * then take up the keys they should use). n needs its keys loaded. */
int rotate_advance(node_t *n, bool *changed, ts_err *e);

/* Whether every child enrolled before the rotation began acknowledged it
 * (true when none is under way). */
bool rotate_children_done(node_t *n);
bool rotate_child_done(store_t *s, store_txn *txn, const char *child);
/* The pair this node serves its children with: during its rotation the
 * old one, until every child pins the new one. */
const keys_t *rotate_serving_keys(node_t *n);
/* The children enrolled before rotation st began that have not yet
 * acknowledged it: calls fn for each (non-zero stops; fn NULL stops at the
 * first), returns how many were seen. */
typedef int (*rotate_waiting_fn)(const char *code, void *ctx);
size_t rotate_waiting(store_t *s, store_txn *txn, const rotate_state *st, rotate_waiting_fn fn,
                      void *ctx);

/* Records an acknowledgement of the rotation announcing new_pk (one for
 * another key, or with none under way, changes nothing). */
int rotate_parent_acked(node_t *n, const uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], ts_err *e);
int rotate_child_acked(node_t *n, const char *child,
                       const uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], ts_err *e);

/* The packed announcement of the rotation under way (malloc'd);
 * TS_ENOTFOUND when none is. */
int rotate_message(node_t *n, uint8_t **msg, size_t *len);

#endif
