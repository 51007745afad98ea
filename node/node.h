/* node.h: the one node context: configuration, catalog, store and identity.
 *
 * Every command and the daemon open exactly one of these and pass it down
 * explicitly; there is no other global state. */
#ifndef TIERSYNC_NODE_H
#define TIERSYNC_NODE_H

#include "catalog.h"
#include "config.h"
#include "hmap.h"
#include "keys.h"
#include "metrics.h"
#include "store.h"
#include "worker.h"

struct catalog_doc;
struct catalog_kept;

typedef struct {
    ts_config cfg;
    /* atomic: a new version is swapped in while the HTTP thread and the
     * apply workers read (catalog_doc.h, catdoc_swap) */
    catalog_t *_Atomic catalog;
    struct catalog_kept *catalogs_kept; /* versions swapped out, freed at node_close */
    struct catalog_doc *catdoc;         /* the signed version in force, if any (daemon) */
    store_t *store;
    keys_t keys;
    bool has_keys;
    /* during a key rotation (rotate.h): the pair it replaces, which still
     * signs this node's deltas below old_keys_until */
    keys_t old_keys;
    bool has_old_keys;
    uint64_t old_keys_until;
    metrics_t metrics;
    hmap_str valid_options; /* cell_check_memo's memo for this catalog */
    worker_t *helper;       /* second core for signature checks; made at first need */
} node_t;

enum { NODE_OPEN_KEYS = 1 }; /* also load the secret key (daemon, signing) */

/* Loads DIR's config, the catalog and opens the store. */
int node_open(node_t *n, const char *dir, int flags, ts_err *e);
void node_close(node_t *n);

#endif
