/* hub.h: the parent side of the link: a CURVE ROUTER socket for children and
 * the ZAP handler that admits only enrolled children's keys.
 *
 * The ZAP handler is bound on inproc://zeromq.zap.01 before the ROUTER is:
 * without it libzmq would let any client that knows the server key in. It
 * answers with User-Id = the enrolled child's code, which apply_message()
 * trusts, never a code a message claims. */
#ifndef TIERSYNC_HUB_H
#define TIERSYNC_HUB_H

#include "node.h"

typedef struct hub hub_t;

/* Binds the ZAP handler and the ROUTER on cfg.listen in zctx. */
int hub_start(hub_t **out, node_t *n, void *zctx, ts_err *e);
void hub_stop(hub_t **h);

/* Sockets for the daemon's poll set, and the file descriptor that turns
 * readable when a batch has committed (then call hub_on_committed). */
void *hub_router(hub_t *h);
void *hub_zap(hub_t *h);
int hub_wake_fd(hub_t *h);

/* Answers every waiting ZAP request. */
void hub_on_zap(hub_t *h);
/* Handles up to max waiting messages from children; returns how many. */
int hub_on_router(hub_t *h, int max);
/* Sends the replies of the batch in flight if it has committed. */
void hub_on_committed(hub_t *h);
/* A child was enrolled by this process: the next unknown key rebuilds the
 * key cache at once rather than after HUB_ZAP_REBUILD_MS. */
void hub_keys_changed(hub_t *h);

#define HUB_TICK_MS 1000 /* call hub_tick at least this often */

/* Drops the connection of every child no longer enrolled (`child remove`
 * runs in another process; the store is the only news of it): at most
 * every HUB_TICK_MS. Sends this node's key rotation to the children that
 * have not acknowledged it, and once all have, serves with the new key
 * (rotate_hub.h). TS_ERUNTIME when the socket cannot be bound again. */
int hub_tick(hub_t *h, ts_err *e);

#endif
