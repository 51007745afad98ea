/* catalog_swap.c: making an adopted catalog version the node's own while
 * the daemon runs (catalog_doc.h, catdoc_swap).
 *
 * Readers (the HTTP thread, the apply workers, the daemon's loop) load
 * n->catalog, an atomic pointer, and may keep what they loaded for the rest
 * of a request: old versions are therefore kept until node_close, a few
 * hundred KB each and a handful in a network's life. Because a compatible
 * version only appends, an index taken from the old version means the same
 * in the new one. The new indicators' contributions are then counted from
 * the records the node holds, for every period its contributions reach
 * (agg.h): one scan, in one write transaction. */
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "catalog_doc.h"
#include "log.h"
#include "records.h"

struct catalog_kept {
    catalog_t *c;
    struct catalog_kept *next;
};

typedef struct {
    node_t *n;
    const catalog_t *full;  /* the new version, to read records with */
    catalog_t *only_new;    /* the same with only its new counted indicators */
    size_t ncells;
} recount_ctx;

static int recount_cluster(const records_cluster *cl, void *vctx)
{
    void **p = vctx;
    agg_t *a = p[0];
    const agg_window *w = p[1];
    agg_add_cluster(a, cl, ~0u, w, 1);
    return 0;
}

static int recount_fn(store_t *s, MDB_txn *txn, void *vctx, ts_err *e)
{
    recount_ctx *rc = vctx;
    uint64_t month = store_meta_u64(s, txn, AGG_META_MONTH);
    if (month == 0) /* no record was ever counted here */
        return TS_OK;
    agg_window w = {0, (int)month, 0, (int)month / 100};
    agg_t *a = agg_new(rc->only_new);
    if (!a)
        return ts_fail(e, TS_ERUNTIME, "out of memory counting the new indicators");
    void *p[] = {a, &w};
    int r = records_scan_clusters(s, txn, rc->full, recount_cluster, p, e);
    if (r == TS_OK)
        r = agg_apply(a, s, txn, rc->n->cfg.code, &rc->ncells, e);
    agg_destroy(&a);
    return r;
}

/* Counts what next's indicators beyond old's first old_ninds contribute. */
static int recount_new(node_t *n, const catalog_t *next, int old_ninds, ts_err *e)
{
    if (next->ninds <= old_ninds)
        return TS_OK;
    catalog_t *only = malloc(sizeof *only);
    if (!only)
        return ts_fail(e, TS_ERUNTIME, "out of memory counting the new indicators");
    memcpy(only, next, sizeof *only);
    only->ninds = next->ninds - old_ninds;
    memmove(only->inds, &next->inds[old_ninds], (size_t)only->ninds * sizeof only->inds[0]);
    recount_ctx rc = {n, next, only, 0};
    int r = store_write(n->store, recount_fn, &rc, e);
    if (r == TS_OK && rc.ncells)
        log_info("catalog %s version %d: %zu cells of its new indicators counted from the records", next->id,
                 next->version, rc.ncells);
    free(only);
    return r;
}

int catdoc_swap(node_t *n, catalog_t *next, ts_err *e)
{
    struct catalog_kept *k = malloc(sizeof *k);
    if (!k) {
        catalog_destroy(&next);
        return ts_fail(e, TS_ERUNTIME, "out of memory swapping the catalog");
    }
    catalog_t *old = n->catalog;
    k->c = old;
    k->next = n->catalogs_kept;
    n->catalogs_kept = k;
    n->catalog = next;
    return recount_new(n, next, old->ninds, e);
}

void catdoc_kept_free(node_t *n)
{
    while (n->catalogs_kept) {
        struct catalog_kept *k = n->catalogs_kept;
        n->catalogs_kept = k->next;
        catalog_destroy(&k->c);
        free(k);
    }
}
