/* join.h: the parent's join socket: the one door for a child that holds an
 * invitation and no enrolment yet (docs/PROTOCOL.md section 15).
 *
 * A CURVE ROUTER serving the parent's own key, bound on join.listen while
 * invitations are usable (checked every JOIN_CHECK_MS), closed otherwise.
 * It lives in a ZeroMQ context of its own with no ZAP handler, so libzmq
 * lets any client key complete the handshake there, while the replication
 * socket's handler (in the daemon's context) still admits enrolled keys
 * only. The join socket's only message is Join; anything else is refused.
 * Every failed join is logged (never the secret: it never travels) and
 * slows down its address (join.slow_down_ms, doubling per failure up to
 * JOIN_MAX_DOUBLINGS times) and draws on a budget shared by all addresses
 * (JOIN_GLOBAL_FAILS, refilled one per JOIN_GLOBAL_REFILL_MS). */
#ifndef TIERSYNC_JOIN_H
#define TIERSYNC_JOIN_H

#include "node.h"

#define JOIN_CHECK_MS 500          /* how often the socket is opened or closed */
#define JOIN_MAX_DOUBLINGS 6       /* an address waits at most 64 x slow_down_ms */
#define JOIN_ADDR_SLOTS 256        /* addresses remembered for slowing down */
#define JOIN_GLOBAL_FAILS 30       /* failed joins allowed at once over all addresses */
#define JOIN_GLOBAL_REFILL_MS 2000 /* one more allowed this often */
#define JOIN_LINGER_MS 1000        /* a closing socket still sends its last replies */

typedef struct join join_t;

int join_start(join_t **out, node_t *n, ts_err *e);
void join_stop(join_t **j);

/* The ROUTER for the daemon's poll set; NULL while closed. */
void *join_socket(join_t *j);

/* Opens or closes the socket as invitations come and go; returns the ms
 * until it next needs a tick. */
int join_tick(join_t *j);

/* Answers every waiting Join; returns how many children it enrolled. */
int join_on_message(join_t *j);

#endif
