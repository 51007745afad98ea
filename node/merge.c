/* merge.c: the three steps of a merge and their order (merge.h). */
#include "merge_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "records.h"

/* ---- step 1: OLD stops taking writes ---------------------------------- */

typedef struct {
    node_t *old, *nw;
    const char *new_code;
    int on;
    merge_counts *c;
    store_txn *otxn; /* step 2: a read transaction of OLD's store */
    agg_t *agg;
} step_ctx;

static int mark_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    step_ctx *x = vctx;
    merge_state m;
    merge_state_get(s, txn, &m);
    x->c->marked = false;
    if (m.phase != MERGE_NONE)
        return TS_OK; /* merge_check saw it is this merge */
    /* every cluster keyed (a store older than record keys) before the keys move */
    if (agg_catch_up(x->old, txn, e))
        return e->code;
    m = (merge_state){.phase = MERGE_MERGING, .on = x->on};
    snprintf(m.into, sizeof m.into, "%s", x->new_code);
    x->c->marked = true;
    return merge_state_put(s, txn, &m, e);
}

int merge_mark(node_t *old, const char *new_code, int on, merge_counts *c, ts_err *e)
{
    step_ctx x = {.old = old, .new_code = new_code, .on = on, .c = c};
    return store_write(old->store, mark_fn, &x, e);
}

/* ---- step 2: NEW takes OLD's records ---------------------------------- */

/* Copies one entry of OLD's table db into NEW's, refusing an existing key. */
typedef struct {
    step_ctx *x;
    store_txn *ntxn;
    store_db db;
    int rc;
    ts_err *e;
} copy_ctx;

static int copy_entry(const store_val *k, const store_val *v, void *vctx)
{
    copy_ctx *cc = vctx;
    store_t *ns = cc->x->nw->store;
    if (cc->db == DB_RECORD_KEYS) { /* the key moves; counting starts at the merge date */
        uint64_t rk = records_key_get(cc->x->old->store, cc->x->otxn, k->data, k->len);
        int from = records_key_from(cc->x->old->store, cc->x->otxn, k->data, k->len);
        cc->rc = records_key_put(ns, cc->ntxn, k->data, k->len, rk,
                                 from > cc->x->on ? from : cc->x->on, cc->e);
        return cc->rc;
    }
    store_val have;
    int rc = store_get(ns, cc->ntxn, cc->db, k->data, k->len, &have, cc->e);
    if (rc == TS_OK)
        cc->rc = ts_fail(cc->e, TS_EINPUT,
                         "record %.*s of %s already exists at %s (entered there since the "
                         "check): give it another id at %s and run the merge again",
                         (int)(k->len < RECORDS_KEY_MAX ? k->len : RECORDS_KEY_MAX),
                         (const char *)k->data, cc->x->old->cfg.code, cc->x->nw->cfg.code,
                         cc->x->nw->cfg.code);
    else if (rc != TS_ENOTFOUND)
        cc->rc = rc;
    else
        cc->rc = store_put(ns, cc->ntxn, cc->db, k->data, k->len, v->data, v->len, cc->e);
    if (cc->rc)
        return cc->rc;
    if (cc->db == DB_RECORDS) {
        cc->x->c->records++;
        cc->x->c->clusters += !memchr(k->data, RECORDS_SEP, k->len);
    }
    return cc->rc;
}

static int copy_tables(step_ctx *x, store_txn *ntxn, ts_err *e)
{
    static const store_db dbs[] = {DB_RECORDS, DB_RECORD_REFS, DB_RECORD_KEYS};
    for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++) {
        copy_ctx cc = {x, ntxn, dbs[i], TS_OK, e};
        if (store_scan(x->old->store, x->otxn, dbs[i], NULL, copy_entry, &cc, NULL, e))
            return e->code;
        if (cc.rc)
            return cc.rc;
    }
    return TS_OK;
}

/* A moved cluster counted at NEW: the periods from the merge date on. */
static int count_cluster(const records_cluster *cl, void *vctx)
{
    step_ctx *x = vctx;
    records_cluster moved = *cl;
    agg_window w = agg_window_upto(ts_today());
    if (moved.counts_from < x->on)
        moved.counts_from = x->on;
    agg_add_cluster(x->agg, &moved, ~0u, &w, +1);
    return 0;
}

static int collect_moving(const store_val *k, const store_val *v, void *vctx)
{
    merge_moving *l = vctx;
    ts_cell c;
    disclose_fig f;
    if (!store_fig_decode(v, &f) || cell_parse(k->data, k->len, &c, NULL) != TS_OK ||
        !merge_period_moves(c.period, l->on))
        return 0;
    const catalog_indicator *ind = catalog_indicator_find(l->cat, c.indicator);
    if (l->values_only && (!ind || ind->kind != IND_VALUE))
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->cells = ts_xrealloc(l->cells, l->cap * sizeof *l->cells);
        l->figs = ts_xrealloc(l->figs, l->cap * sizeof *l->figs);
    }
    l->cells[l->n] = c;
    l->figs[l->n++] = f;
    return 0;
}

int merge_moving_collect(store_t *s, store_txn *txn, merge_moving *l, ts_err *e)
{
    return store_scan(s, txn, DB_LOCAL, NULL, collect_moving, l, NULL, e);
}

void merge_moving_free(merge_moving *l)
{
    free(l->cells);
    free(l->figs);
}

int merge_moving_apply(store_t *s, store_txn *txn, const merge_moving *l, const char *unit,
                       int sign, ts_err *e)
{
    store_cells w;
    store_cells_begin(&w, s, txn);
    int rc = TS_OK;
    for (size_t i = 0; i < l->n && rc == TS_OK; i++) {
        ts_cell c = l->cells[i];
        snprintf(c.unit, sizeof c.unit, "%s", unit);
        disclose_fig d = {sign * l->figs[i].v, (uint32_t)sign * l->figs[i].key};
        rc = store_cells_add(&w, NULL, &c, d, e);
    }
    store_cells_end(&w);
    return rc;
}

static int take_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    step_ctx *x = vctx;
    merge_counts *c = x->c;
    c->taken = false;
    c->records = c->clusters = c->values = c->cells_new = 0;
    agg_reset(x->agg);
    if (merge_taken_on(s, txn, x->old->cfg.code))
        return TS_OK;
    merge_moving vals = {.cat = x->nw->catalog, .on = x->on, .values_only = true};
    int rc = agg_catch_up(x->nw, txn, e);
    if (rc == TS_OK)
        rc = copy_tables(x, txn, e);
    if (rc == TS_OK)
        rc = records_scan_clusters(x->old->store, x->otxn, x->old->catalog, count_cluster, x, e);
    if (rc == TS_OK)
        rc = agg_apply(x->agg, s, txn, x->nw->cfg.code, &c->cells_new, e);
    if (rc == TS_OK)
        rc = merge_moving_collect(x->old->store, x->otxn, &vals, e);
    if (rc == TS_OK)
        rc = merge_moving_apply(s, txn, &vals, x->nw->cfg.code, +1, e);
    c->values = vals.n;
    merge_moving_free(&vals);
    /* what moves leaves now, as OLD's subtraction does: the ancestors are
     * exact again once both deltas are applied, not a release window later */
    size_t released;
    if (rc == TS_OK)
        rc = store_release_held(s, txn, &released, e);
    if (rc == TS_OK)
        rc = merge_taken_put(s, txn, x->old->cfg.code, x->on, e);
    c->taken = rc == TS_OK;
    return rc;
}

int merge_take(node_t *nw, node_t *old, int on, merge_counts *c, ts_err *e)
{
    step_ctx x = {.old = old, .nw = nw, .on = on, .c = c};
    if (store_read_begin(old->store, &x.otxn, e))
        return e->code;
    merge_state m;
    merge_state_get(old->store, x.otxn, &m);
    int rc = TS_OK;
    if (m.phase == MERGE_NONE) /* step 1 first: OLD must not change under the copy */
        rc = ts_fail(e, TS_ERUNTIME, "%s is not marked as merging: run the whole merge",
                     old->cfg.code);
    if (rc == TS_OK) {
        x.agg = agg_new(nw->catalog);
        rc = store_write(nw->store, take_fn, &x, e);
        agg_destroy(&x.agg);
    }
    store_read_end(x.otxn);
    return rc;
}

/* ---- step 3: OLD gives up its periods from D on ----------------------- */

/* OLD's own unit, marked merged, rides in its next delta upward. */
static int mark_unit(step_ctx *x, store_t *s, store_txn *txn, ts_err *e)
{
    const char *self = x->old->cfg.code;
    store_unit u;
    if (store_unit_get(s, txn, self, &u) != TS_OK)
        memset(&u, 0, sizeof u);
    if (!u.name[0])
        snprintf(u.name, sizeof u.name, "%s", x->old->cfg.name);
    if (!u.level[0])
        snprintf(u.level, sizeof u.level, "%s", x->old->cfg.level);
    snprintf(u.merged_into, sizeof u.merged_into, "%s", x->new_code);
    u.merged_on = x->on;
    if (store_unit_put(s, txn, self, &u, e))
        return e->code;
    return store_put(s, txn, DB_ANNOUNCE, self, strlen(self), "", 0, e);
}

static int give_up_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    step_ctx *x = vctx;
    merge_state m;
    merge_state_get(s, txn, &m);
    x->c->given_up = false;
    x->c->cells_old = 0;
    if (m.phase != MERGE_MERGING)
        return TS_OK;
    merge_moving all = {.cat = x->old->catalog, .on = x->on};
    size_t released;
    /* the release window's held changes leave with the merge's delta */
    int rc = agg_catch_up(x->old, txn, e);
    if (rc == TS_OK)
        rc = store_release_held(s, txn, &released, e);
    if (rc == TS_OK)
        rc = merge_moving_collect(s, txn, &all, e);
    if (rc == TS_OK)
        rc = merge_moving_apply(s, txn, &all, x->old->cfg.code, -1, e);
    x->c->cells_old = all.n;
    merge_moving_free(&all);
    if (rc == TS_OK)
        rc = mark_unit(x, s, txn, e);
    m.phase = MERGE_MERGED;
    if (rc == TS_OK)
        rc = merge_state_put(s, txn, &m, e);
    x->c->given_up = rc == TS_OK;
    return rc;
}

int merge_give_up(node_t *old, int on, merge_counts *c, ts_err *e)
{
    store_txn *txn;
    merge_state m;
    if (store_read_begin(old->store, &txn, e))
        return e->code;
    merge_state_get(old->store, txn, &m);
    store_read_end(txn);
    step_ctx x = {.old = old, .new_code = m.into, .on = on, .c = c};
    return store_write(old->store, give_up_fn, &x, e);
}

/* Steps 1-3 of a merge of nodes with children (merge_int.h). */
static int run_children(node_t *nw, node_t *const *olds, int nold, int on, const char *endpoint,
                        merge_counts *counts, ts_err *e)
{
    char ep[CONFIG_ENDPOINT_MAX];
    if (merge_children_endpoint(nw, endpoint, ep, e))
        return e->code;
    for (int i = 0; i < nold; i++)
        if (merge_children_mark(olds[i], nw, ep, e) ||
            merge_mark(olds[i], nw->cfg.code, on, &counts[i], e))
            return ts_err_wrap(e, "marking %s as merging", olds[i]->cfg.code);
    for (int i = 0; i < nold; i++) {
        if (merge_children_take(nw, olds[i], on, &counts[i], e))
            return ts_err_wrap(e, "enrolling %s's children at %s", olds[i]->cfg.code, nw->cfg.code);
        if (merge_give_up(olds[i], on, &counts[i], e))
            return ts_err_wrap(e, "taking %s's periods from the merge date out", olds[i]->cfg.code);
    }
    return TS_OK;
}

int merge_run(node_t *nw, node_t *const *olds, int nold, int on, const char *endpoint,
              merge_counts *counts, ts_err *e)
{
    if (merge_check(nw, olds, nold, on, e))
        return e->code;
    memset(counts, 0, (size_t)nold * sizeof *counts);
    if (merge_has_children(olds[0]))
        return run_children(nw, olds, nold, on, endpoint, counts, e);
    for (int i = 0; i < nold; i++)
        if (merge_mark(olds[i], nw->cfg.code, on, &counts[i], e))
            return ts_err_wrap(e, "marking %s as merging", olds[i]->cfg.code);
    for (int i = 0; i < nold; i++) {
        if (merge_take(nw, olds[i], on, &counts[i], e))
            return ts_err_wrap(e, "moving %s's records into %s", olds[i]->cfg.code, nw->cfg.code);
        if (merge_give_up(olds[i], on, &counts[i], e))
            return ts_err_wrap(e, "taking %s's periods from the merge date out", olds[i]->cfg.code);
    }
    return TS_OK;
}
