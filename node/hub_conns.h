/* hub_conns.h: which connection each child's messages come on: its ZeroMQ
 * routing id, so the hub can send a child what it did not ask for (a key
 * rotation, a new catalog version), and its TCP descriptor, so the hub can
 * end the session of a child that is no longer enrolled.
 *
 * libzmq has no call that closes one peer of a ROUTER, but it still tells
 * which descriptor a message was read from (ZMQ_SRCFD, kept for
 * compatibility). shutdown() on it makes libzmq's I/O thread see the
 * connection end and drop the session as if the peer had left; the
 * descriptor stays libzmq's to close. A descriptor number noted earlier may
 * have been reused since: only a socket on the children's own port is shut
 * down, so the worst case is another child reconnecting. */
#ifndef TIERSYNC_HUB_CONNS_H
#define TIERSYNC_HUB_CONNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "store.h"

#define HUB_CONNS_ID_MAX 255 /* libzmq's routing ids are at most 255 bytes */

typedef struct {
    uint8_t id[HUB_CONNS_ID_MAX];
    uint8_t len; /* 0: none noted */
} hub_route;

typedef struct {
    hmap_str fds;      /* child code -> descriptor of its last message (-1: none) */
    hub_route *routes; /* by the child's index in fds: the routing id of its last message */
    size_t nroutes;
    int port;         /* the ROUTER's TCP port (0: not TCP) */
    int64_t swept_ms; /* last hub_conns_sweep that ran */
} hub_conns;

/* endpoint: what the ROUTER is bound to (ZMQ_LAST_ENDPOINT). */
void hub_conns_init(hub_conns *c, const char *endpoint);
void hub_conns_free(hub_conns *c);
/* The child's latest message came on descriptor fd (-1: unknown), with
 * routing id id. */
void hub_conns_note(hub_conns *c, const char *child, int fd, const void *id, size_t idlen);
/* Sends msg on router to each child noted for which want(child, ctx) is
 * true (want NULL: every one); returns how many it was queued for. A child
 * gone since is skipped without error. */
typedef bool (*hub_conns_want)(const char *child, void *ctx);
size_t hub_conns_send(const hub_conns *c, void *router, const void *msg, size_t len,
                      hub_conns_want want, void *ctx);
/* Shuts down the child's connection, if one is known, saying why in the log. */
void hub_conns_drop(hub_conns *c, const char *child, const char *why);
/* Shuts down the connection of each child noted for which want(child, ctx)
 * is true, saying why in the log. */
void hub_conns_drop_if(hub_conns *c, hub_conns_want want, void *ctx, const char *why);
/* Drops the connection of every child the store no longer has enrolled; at
 * most once per period_ms. */
void hub_conns_sweep(hub_conns *c, store_t *s, int64_t period_ms);

#endif
