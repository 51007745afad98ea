/* rotate_hub.h: key rotation on the parent's socket (rotate.h).
 *
 * Toward its children, a rotating node sends its announcement to every
 * child that has not acknowledged it, on the child's connection (the
 * routing id of its latest message, hub_conns.h), again every ROTATE_RESEND_MS until it
 * has. From its children it takes their own announcements (the enrolment
 * moves, rotate_link.h) and their acknowledgements of its own. These
 * messages are answered here, never passed to apply.c. */
#ifndef TIERSYNC_ROTATE_HUB_H
#define TIERSYNC_ROTATE_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

#include "hub_conns.h"
#include "node.h"

typedef struct rotate_hub rotate_hub;

rotate_hub *rotate_hub_new(node_t *n);
void rotate_hub_destroy(rotate_hub **r);

/* A message from child on routing id `id` of router: handles (and answers
 * on router) a KeyRotation or KeyRotationAck and returns true, else returns
 * false (the message is apply.c's). *enrolment: set when a child's enrolled
 * key changed (the ZAP cache is stale). */
bool rotate_hub_on_message(rotate_hub *r, void *router, const char *child, zmq_msg_t *id,
                           const uint8_t *data, size_t len, bool *enrolment);

/* Sends the announcement of this node's rotation under way to the children
 * that have not acknowledged it, at most every ROTATE_RESEND_MS. */
void rotate_hub_tick(rotate_hub *r, const hub_conns *conns, void *router);

#endif
