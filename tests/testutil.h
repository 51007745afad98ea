/* testutil.h: helpers shared by the unit tests (temp dirs, catalog path,
 * nodes, units, table digests). */
#ifndef TIERSYNC_TESTUTIL_H
#define TIERSYNC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node.h"
#include "tiersync.pb-c.h"

/* Creates a fresh empty directory under $TMPDIR (or /tmp); returns a static
 * buffer owned by the caller until the next call. */
char *tu_tmpdir(const char *tag);

/* Removes a directory tree (best effort). */
void tu_rmrf(const char *path);

/* Path of the default catalog in the source tree. */
const char *tu_catalog_path(void);

/* A fresh node with code and the default catalog in a new directory (copied
 * into dir, dirsz bytes), opened into n. */
void tu_node_open(node_t *n, char *dir, size_t dirsz, const char *tag, const char *code);

/* tu_node_open with more settings: {section, key, value} triples ending
 * with a NULL section. */
void tu_node_open_with(node_t *n, char *dir, size_t dirsz, const char *tag, const char *code,
                       const char *const *settings);

/* What 'tiersync init' adds to a node opened by tu_node_open: a fresh key
 * pair (in n->keys only) and its own unit in the registry. */
void tu_node_identity(node_t *n);

/* Entries of table db, and a number of table meta, each read in its own
 * read transaction. */
uint64_t tu_count(node_t *node, store_db db);
uint64_t tu_meta_u64(node_t *node, const char *key);

/* A unit of the registry as the hub registers it: parent and via ("" for
 * this node's own; parent NULL: not in the registry at all), leaf as
 * 'child add' and announcements set it; child: also an enrolled direct
 * child (with pk, or zeros when NULL). */
typedef struct {
    const char *code, *parent, *via;
    bool leaf, child;
    const uint8_t *pk;
} tu_unit;

/* Writes units[0..n) into n's registry (and children table) in one
 * transaction. */
void tu_units_put(node_t *node, const tu_unit *units, size_t n);

/* A digest of every entry of table db: equal before and after a refused
 * change. */
uint64_t tu_digest_db(node_t *node, store_db db);

/* A count change as store_apply_cell takes it: source NULL for this
 * node's own, options "" for none. */
typedef struct {
    const char *source, *unit, *indicator, *period, *options;
    int64_t d;
} tu_change;

/* Applies changes[0..n) in one write transaction. */
void tu_apply(node_t *node, const tu_change *changes, size_t n);

/* The rolled-up total of one cell at node, wherever it is kept; 0 if none. */
int64_t tu_total(node_t *node, const char *unit, const char *indicator, const char *period,
                 const char *options);

/* The body of the delta in env, decoded (free it with
 * tiersync__delta_body__free_unpacked); *valid: whether its signature
 * verifies with pk; hash (may be NULL): the body's chain hash. */
Tiersync__DeltaBody *tu_delta_body(const Tiersync__Envelope *env, const uint8_t *pk, bool *valid,
                                   uint8_t *hash);

/* "IND=v IND=v ..." of a body's cells, in order, into out. */
void tu_cells_text(const Tiersync__DeltaBody *b, char *out, size_t cap);

/* A CURVE socket of type in zctx with own's keys (its Ed25519 pair
 * converted): with server_pk a client of that server, without a server;
 * linger 0. For a test playing the other end of a link. */
void *tu_curve_socket(void *zctx, int type, const keys_t *own, const uint8_t *server_pk);

/* The endpoint sock is bound to (after a bind to port *), static buffer. */
const char *tu_endpoint(void *sock);

/* Sends env on sock, after routing id id (idlen bytes) when id is not NULL. */
void tu_send_envelope(void *sock, const void *id, size_t idlen, const Tiersync__Envelope *env);

/* One message waiting on sock (a ROUTER's: its routing id goes into id,
 * idcap bytes, *idlen its length), decoded; NULL when none. raw/rawlen,
 * when not NULL, receive a copy of its bytes (free it). */
Tiersync__Envelope *tu_recv_envelope(void *sock, uint8_t *id, size_t idcap, size_t *idlen,
                                     uint8_t **raw, size_t *rawlen);

/* Writes text to dir/name and returns the path in a static buffer. */
const char *tu_write_file(const char *dir, const char *name, const char *text);

#endif
