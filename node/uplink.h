/* uplink.h: the child side of the link: a CURVE DEALER to the parent.
 *
 * On every (re)connection the child says Hello with its chain head; the
 * parent's Welcome says what it has applied, and the child resends from
 * there, or sends a snapshot when the parent cannot continue the chain. At
 * most `window` deltas are unacknowledged; while the parent is slow or away
 * new changes coalesce in pending instead of piling up deltas.
 *
 * Key rotation (rotate.h) travels on this link both ways: this node's own
 * announcement goes up (deltas from its from_seq on wait until the parent
 * has acknowledged it), and the parent's comes down and is pinned. */
#ifndef TIERSYNC_UPLINK_H
#define TIERSYNC_UPLINK_H

#include <stdint.h>

#include "node.h"

#define UPLINK_HELLO_RETRY_MS 1000 /* connected but not welcomed: say hello again */
#define UPLINK_ACK_TIMEOUT_MS 5000 /* in flight and no answer: start over with hello */
#define UPLINK_RECONNECT_MS 100
#define UPLINK_RECONNECT_MAX_MS 5000
#define UPLINK_REFUSED_BACKOFF_MS 10000
#define UPLINK_ROTATE_TRY_MS 3000 /* a key rotation's other key, when one does not connect */

typedef struct uplink uplink_t;

int uplink_start(uplink_t **out, node_t *n, void *zctx, ts_err *e);
void uplink_stop(uplink_t **u);

void *uplink_socket(uplink_t *u);
void *uplink_monitor(uplink_t *u);

void uplink_on_monitor(uplink_t *u);
void uplink_on_message(uplink_t *u);

/* Flushes, sends and retries as due; returns ms until it next needs a tick. */
int uplink_tick(uplink_t *u);

#endif
