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
 * (agg.h; at a unit merged into another, only the periods before the merge
 * date): one scan, in one write transaction. */
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "catalog_doc.h"
#include "log.h"
#include "merge_state.h"
#include "records.h"

struct catalog_kept {
    catalog_t *c;
    struct catalog_kept *next;
};

typedef struct {
    agg_t *a;
    agg_window w;
} recount_ctx;

static int recount_cluster(const records_cluster *cl, void *vctx)
{
    recount_ctx *rc = vctx;
    agg_add_cluster(rc->a, cl, ~0u, &rc->w, 1);
    return 0;
}

/* Adds what indicators [from, ninds) of n's catalog contribute, for every
 * period the store's contributions reach. */
static int recount(node_t *n, store_txn *txn, int from, ts_err *e)
{
    const catalog_t *c = n->catalog;
    uint64_t month = store_meta_u64(n->store, txn, AGG_META_MONTH);
    if (month == 0) /* no record was ever counted here */
        return TS_OK;
    catalog_t *only = malloc(sizeof *only); /* the catalog with just those indicators */
    if (!only)
        return ts_fail(e, TS_ERUNTIME, "out of memory counting the new indicators");
    memcpy(only, c, sizeof *only);
    only->ninds = c->ninds - from;
    memmove(only->inds, &c->inds[from], (size_t)only->ninds * sizeof only->inds[0]);
    recount_ctx rc = {agg_new(only), {0, (int)month, 0, (int)month / 100}};
    merge_state ms;
    merge_state_get(n->store, txn, &ms);
    if (ms.phase >= MERGE_MERGED) { /* from the merge date on, the new unit counts */
        int d = ms.on / 100, before = d % 100 == 1 ? d - 89 : d - 1;
        rc.w.m_hi = before < rc.w.m_hi ? before : rc.w.m_hi;
        rc.w.y_hi = ms.on / 10000 - 1 < rc.w.y_hi ? ms.on / 10000 - 1 : rc.w.y_hi;
    }
    size_t ncells = 0;
    int r = records_scan_clusters(n->store, txn, c, recount_cluster, &rc, e);
    if (r == TS_OK)
        r = agg_apply(rc.a, n->store, txn, n->cfg.code, &ncells, e);
    if (r == TS_OK && ncells)
        log_info("catalog %s version %d: %zu cells of its new indicators counted from the records",
                 c->id, c->version, ncells);
    agg_destroy(&rc.a);
    free(only);
    return r;
}

int catdoc_count_new(node_t *n, store_txn *txn, ts_err *e)
{
    const catalog_t *c = n->catalog;
    uint64_t counted = store_meta_u64(n->store, txn, AGG_META_NINDS);
    if (counted == (uint64_t)c->ninds)
        return TS_OK;
    if (counted > (uint64_t)c->ninds)
        return ts_fail(
            e, TS_EINPUT,
            "this node's records are counted for %llu indicators, catalog %s version %d has %d: "
            "a newer version was adopted while this command ran; run it again",
            (unsigned long long)counted, c->id, c->version, c->ninds);
    /* 0: a store that never recorded the figure counts every indicator */
    if (counted && recount(n, txn, (int)counted, e))
        return e->code;
    return store_meta_put_u64(n->store, txn, AGG_META_NINDS, (uint64_t)c->ninds, e);
}

static int count_fn(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)s;
    return agg_catch_up(ctx, txn, e);
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
    return store_write(n->store, count_fn, n, e);
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
