/* agg_tick.c: the aggregation's catch-up: when a month turns, when the
 * catalog in force counts indicators the store has not counted yet, and
 * when a store older than record keys gives its clusters their keys. */
#include "agg.h"

#include <string.h>

#include "catalog_doc.h"
#include "hmap.h"
#include "log.h"
#include "merge_state.h"
#include "records.h"

typedef struct {
    agg_t *a;
    unsigned mask;
    agg_window w;
    int sign;
} catch_ctx;

static int catch_cluster(const records_cluster *cl, void *vctx)
{
    catch_ctx *cc = vctx;
    agg_add_cluster(cc->a, cl, cc->mask, &cc->w, cc->sign);
    return 0;
}

static int note_keyless(const store_val *k, const store_val *v, void *ctx)
{
    void **p = ctx;
    (void)v;
    if (!memchr(k->data, RECORDS_SEP, k->len) && !records_key_get(p[0], p[1], k->data, k->len))
        hmap_str_put(p[2], k->data, k->len, 0, NULL);
    return 0;
}

/* A store older than record keys: each cluster gets its key, and its
 * contribution, counted so far with none, is counted again with it: the
 * counts do not change, every cell key becomes its records' sum. */
static int keys_catch_up(node_t *n, store_txn *txn, ts_err *e)
{
    store_t *s = n->store;
    hmap_str roots;
    hmap_str_init(&roots);
    void *sctx[3] = {s, txn, &roots};
    if (store_scan(s, txn, DB_RECORDS, NULL, note_keyless, sctx, NULL, e)) {
        hmap_str_free(&roots);
        return e->code;
    }
    agg_t *a = agg_new(n->catalog);
    agg_window w = agg_window_upto(ts_today());
    unsigned all = (1u << n->catalog->ntypes) - 1;
    records_cluster cl;
    records_cluster_init(&cl);
    int rc = TS_OK;
    for (size_t i = 0; i < roots.n && rc == TS_OK; i++) {
        size_t len;
        const char *root = hmap_str_key(&roots, i, &len);
        uint64_t key;
        if ((rc = records_cluster_load(s, txn, n->catalog, root, len, all, &cl, e)) ||
            (rc = records_key_new(s, txn, root, len, &key, e)))
            break;
        agg_add_cluster(a, &cl, all, &w, -1);
        cl.key = key;
        agg_add_cluster(a, &cl, all, &w, +1);
    }
    if (rc == TS_OK)
        rc = agg_apply(a, s, txn, n->cfg.code, NULL, e);
    if (rc == TS_OK && roots.n)
        log_info("records: %zu clusters given their record keys", roots.n);
    records_cluster_free(&cl);
    agg_destroy(&a);
    hmap_str_free(&roots);
    return rc ? rc : store_meta_put_u64(s, txn, AGG_META_KEYED, 1, e);
}

/* Adds the periods between the month the contributions reach and today's. */
static int month_catch_up(node_t *n, store_txn *txn, int month, uint64_t stored, ts_err *e)
{
    store_t *s = n->store;
    merge_state ms;
    merge_state_get(s, txn, &ms);
    /* a unit merged into another counts nothing from the merge date on:
     * every period a turn adds is one of those */
    if (stored != 0 && ms.phase < MERGE_MERGED) {
        int from = (int)stored;
        catch_ctx cc = {agg_new(n->catalog), (1u << n->catalog->ntypes) - 1, {0, 0, 0, 0}, 1};
        if (month > from)
            cc.w = (agg_window){from, month, from / 100, month / 100};
        else /* the clock went back: withdraw the periods after today */
            cc.w = (agg_window){month, from, month / 100, from / 100}, cc.sign = -1;
        int rc = records_scan_clusters(s, txn, n->catalog, catch_cluster, &cc, e);
        if (rc == TS_OK)
            rc = agg_apply(cc.a, s, txn, n->cfg.code, NULL, e);
        agg_destroy(&cc.a);
        if (rc != TS_OK)
            return rc;
    }
    return store_meta_put_u64(s, txn, AGG_META_MONTH, (uint64_t)month, e);
}

int agg_catch_up(node_t *n, store_txn *txn, ts_err *e)
{
    store_t *s = n->store;
    int month = ts_today() / 100;
    if (catdoc_count_new(n, txn, e))
        return e->code;
    uint64_t stored = store_meta_u64(s, txn, AGG_META_MONTH);
    int rc = stored == (uint64_t)month ? TS_OK : month_catch_up(n, txn, month, stored, e);
    if (rc == TS_OK && store_meta_u64(s, txn, AGG_META_KEYED) != 1)
        rc = keys_catch_up(n, txn, e);
    return rc;
}

static int catch_up_fn(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)s;
    return agg_catch_up(ctx, txn, e);
}

int agg_tick(node_t *n, ts_err *e)
{
    store_txn *txn;
    if (store_read_begin(n->store, &txn, e))
        return e->code;
    uint64_t stored = store_meta_u64(n->store, txn, AGG_META_MONTH);
    bool keyed = store_meta_u64(n->store, txn, AGG_META_KEYED) == 1;
    bool all_inds = store_meta_u64(n->store, txn, AGG_META_NINDS) == (uint64_t)n->catalog->ninds;
    store_read_end(txn);
    int month = ts_today() / 100;
    if (stored == (uint64_t)month && keyed && all_inds)
        return TS_OK;
    int rc = store_write(n->store, catch_up_fn, n, e);
    if (rc == TS_OK && stored && stored != (uint64_t)month)
        log_info("records: counted periods moved from %llu to %d", (unsigned long long)stored,
                 month);
    return rc;
}
