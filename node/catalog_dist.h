/* catalog_dist.h: catalog versions down the replication link
 * (docs/PROTOCOL.md section 17).
 *
 * A parent offers the signed version it holds (CatalogOffer) in every
 * Welcome and, when it adopts a new one, to every child it has heard from.
 * A child holding an older version of the same catalog fetches the document
 * part by part (CatalogFetch, CatalogChunk: each part fits max_msg_bytes),
 * then checks and adopts it (catalog_doc.h): the root's signature under the
 * pinned root key, its parent's endorsement under the parent key it pins,
 * compatibility with the version in force. A refused version is logged with
 * its reason and not fetched again; the node keeps the catalog it has. */
#ifndef TIERSYNC_CATALOG_DIST_H
#define TIERSYNC_CATALOG_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "catalog_doc.h"
#include "hub_conns.h"
#include "log.h"
#include "tiersync.pb-c.h"

#define CATDIST_CHUNK_OVERHEAD 512     /* room for a chunk's other fields */
#define CATDIST_CHUNK_MIN 1024         /* the smallest part a parent sends */
#define CATDIST_FETCH_TIMEOUT_MS 10000 /* a part not come: ask again */
#define CATDIST_WATCH_MS 1000          /* how often the daemon looks for a published version */

/* ---- parent side ---- */

/* Fills o with n's signed version (hash is its storage); false when the
 * node holds none. */
bool catdist_offer_fill(const node_t *n, Tiersync__CatalogOffer *o);
/* The Envelope bytes of an offer (NULL when the node holds none). */
void catdist_offer_pack(const node_t *n, uint8_t **out, size_t *len);
/* The answer to a child's fetch, endorsed by endorser (the key the node
 * serves its children with, rotate_node.h): the part asked for, or the
 * current offer when the child asks for another version; NULL when there
 * is nothing to say (undecodable: *why says so). */
void catdist_answer(const node_t *n, const keys_t *endorser, const uint8_t *data, size_t len,
                    uint8_t **out, size_t *outlen, const char **why);

/* When the Envelope bytes data hold a CatalogFetch (a look at the first
 * byte, so the delta path pays nothing): sends catdist_answer, endorsed by
 * the key the node serves with, back on the hub's router to routing id id,
 * logs a refusal through limits (once a minute per child) and returns true. */
bool catdist_serve(node_t *n, void *router, zmq_msg_t *id, const uint8_t *data, size_t len,
                   const char *child, log_limit *limits);

/* Sends the offer to every child conns knows, once per version: *offered
 * is the version last offered (in Welcomes or sent; start it at the one the
 * node holds). */
void catdist_offer_children(int *offered, const node_t *n, const hub_conns *conns, void *router);

/* ---- child side ---- */

typedef struct catdist_fetch catdist_fetch;
catdist_fetch *catdist_fetch_new(void);
void catdist_fetch_destroy(catdist_fetch **f);
/* On an offer from the parent: the fetch to send (*out NULL: nothing to ask). */
void catdist_on_offer(catdist_fetch *f, const node_t *n, const Tiersync__CatalogOffer *o,
                      uint8_t **out, size_t *len);
/* On a part: the next fetch to send, if any; a complete document is checked
 * against parent_pk and adopted (catdoc_accept, then catdist_refresh). */
void catdist_on_chunk(catdist_fetch *f, node_t *n,
                      const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                      const Tiersync__CatalogChunk *c, uint8_t **out, size_t *len);
/* A message from the parent, on the uplink's socket dealer: the catalog
 * offer in a Welcome, a CatalogOffer or a CatalogChunk is taken (a chunk's
 * endorsement checked under parent_pk, the key the link authenticated the
 * parent with) and the fetch it calls for sent. data, len: the Envelope's
 * bytes, whose strings must be text. Returns whether env was a catalog
 * message (a Welcome is the uplink's as well: false). */
bool catdist_from_parent(catdist_fetch *f, node_t *n, void *dealer,
                         const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                         const Tiersync__Envelope *env, const uint8_t *data, size_t len);
/* A fetch in progress that stalled: asks again on dealer. */
void catdist_fetch_tick(catdist_fetch *f, void *dealer);

/* ---- the daemon ---- */

/* Makes DIR's signed version the node's own when it is newer than the
 * catalog in force (a `catalog publish` at the root, an adoption by the
 * uplink) and keeps it in n->catdoc to hand down. TS_EINPUT when it
 * cannot follow the version in force (nothing changes). */
int catdist_refresh(node_t *n, ts_err *e);

typedef struct {
    int64_t next_ms;
    long long mtime_ns, size, ino;
} catdist_watch;
/* Calls catdist_refresh when DIR/catalog/catalog.json has changed (checked
 * every CATDIST_WATCH_MS), logging the outcome. */
void catdist_watch_tick(catdist_watch *w, node_t *n);

#endif
