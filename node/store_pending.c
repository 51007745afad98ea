/* store_pending.c: the one path numbers change by, from a contribution to
 * pending: a cell's count change into its source's contribution, the totals
 * of its unit and every ancestor held here, and the pending table (the
 * changes the outbox turns into the next delta upward); and the batch sums
 * of this node's own unit. */
#include "store_lmdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "util.h"

/* c's unit, then each ancestor held here, up to this node's own unit. */
static void rollup_chain(store_t *s, store_txn *txn, const char *code, store_chain *ch)
{
    ch->n = 0;
    ch->leaf_via[0] = '\0';
    snprintf(ch->unit[0], sizeof ch->unit[0], "%s", code);
    while (ch->n < STORE_MAX_DEPTH) {
        const char *cur = ch->unit[ch->n++];
        store_unit u;
        if (strcmp(cur, store_self_code(s)) == 0 || store_unit_get(s, txn, cur, &u) != TS_OK)
            break;
        if (ch->n == 1 && u.leaf && u.via[0])
            snprintf(ch->leaf_via, sizeof ch->leaf_via, "%s", u.via);
        if (!u.parent[0] || ch->n == STORE_MAX_DEPTH)
            break;
        snprintf(ch->unit[ch->n], sizeof ch->unit[ch->n], "%s", u.parent);
    }
}

void store_cells_begin(store_cells *w, store_t *s, store_txn *txn)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->txn = txn;
}

void store_cells_end(store_cells *w)
{
    MDB_cursor **all[] = {&w->contrib, &w->local, &w->pending, &w->held};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (*all[i])
            mdb_cursor_close(*all[i]);
    for (int i = 0; i < STORE_MAX_DEPTH; i++)
        if (w->totals[i])
            mdb_cursor_close(w->totals[i]);
    memset(w, 0, sizeof *w);
}

/* Adds d at k in db through *cur, opened on first use. */
static int cells_add(store_cells *w, MDB_cursor **cur, store_db db, const char *k, size_t klen,
                     disclose_fig d, ts_err *e)
{
    int rc;
    if (!*cur && (rc = mdb_cursor_open(w->txn, store_dbi(w->s, db), cur)) != 0) {
        *cur = NULL;
        return store_fail(w->s, e, rc, "write failed");
    }
    return store_cursor_add(w->s, *cur, k, klen, d, NULL, e);
}

/* Each sum is kept under its table's number, then its key: one sort then
 * orders them as the tables do, and the flush walks each table once. */
#define STORE_SUMS_MAX 16384 /* sums held before an early flush: bounds memory */

struct store_sums {
    hmap_str keys;     /* table number + key */
    disclose_fig *sum; /* by entry index */
    size_t cap;
};

store_sums *store_sums_new(void)
{
    store_sums *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    hmap_str_init(&m->keys);
    return m;
}

void store_sums_destroy(store_sums **p)
{
    if (!*p)
        return;
    hmap_str_free(&(*p)->keys);
    free((*p)->sum);
    free(*p);
    *p = NULL;
}

void store_sums_clear(store_sums *m)
{
    hmap_str_clear(&m->keys);
}

typedef struct {
    const char *k; /* table number + key */
    size_t len;
    disclose_fig sum;
} sum_entry;

/* LMDB's default order: bytes, then the shorter key first. */
static int sum_entry_cmp(const void *a, const void *b)
{
    const sum_entry *x = a, *y = b;
    int c = memcmp(x->k, y->k, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

int store_sums_flush(store_sums *m, store_t *s, store_txn *txn, ts_err *e)
{
    sum_entry *v = malloc((m->keys.n ? m->keys.n : 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < m->keys.n; i++)
        if (m->sum[i].v || m->sum[i].key) {
            v[n].k = hmap_str_key(&m->keys, i, &v[n].len);
            v[n++].sum = m->sum[i];
        }
    qsort(v, n, sizeof *v, sum_entry_cmp);
    MDB_cursor *cur = NULL;
    int rc = TS_OK, mrc;
    for (size_t i = 0; i < n && rc == TS_OK; i++) {
        if (!cur || v[i].k[0] != v[i - 1].k[0]) {
            if (cur)
                mdb_cursor_close(cur);
            if ((mrc = mdb_cursor_open(txn, store_dbi(s, (store_db)v[i].k[0]), &cur)) != 0) {
                cur = NULL;
                rc = store_fail(s, e, mrc, "write failed");
                break;
            }
        }
        rc = store_cursor_add(s, cur, v[i].k + 1, v[i].len - 1, v[i].sum, NULL, e);
    }
    if (cur)
        mdb_cursor_close(cur);
    free(v);
    store_sums_clear(m);
    return rc;
}

/* Adds d at k in db to the batch's sums; flushes them when they are many. */
static int sums_add(store_cells *w, store_db db, const char *k, size_t klen, disclose_fig d,
                    ts_err *e)
{
    store_sums *m = w->sums;
    char key[1 + CELL_KEY_MAX];
    key[0] = (char)db;
    memcpy(key + 1, k, klen);
    int added;
    size_t i = hmap_str_put(&m->keys, key, klen + 1, 0, &added);
    if (i == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        if (!(m->sum = ts_xrealloc(m->sum, m->cap * sizeof *m->sum)))
            abort();
    }
    if (added)
        m->sum[i] = d;
    else if (disclose_add(&m->sum[i], d))
        return ts_fail(e, TS_EINPUT, "count overflow: a total would leave the 64-bit range");
    return m->keys.n < STORE_SUMS_MAX ? TS_OK : store_sums_flush(m, w->s, w->txn, e);
}

/* Adds d at unit + rest ("|indicator|period|options") in db: through *cur,
 * or into the batch's sums when unit is this node's own and there are any. */
static int unit_add(store_cells *w, MDB_cursor **cur, store_db db, const char *unit,
                    const char *rest, size_t rlen, disclose_fig d, ts_err *e)
{
    char k[CELL_KEY_MAX];
    size_t ul = strlen(unit);
    memcpy(k, unit, ul);
    memcpy(k + ul, rest, rlen);
    if (w->sums && !strcmp(unit, store_self_code(w->s)))
        return sums_add(w, db, k, ul + rlen, d, e);
    return cells_add(w, cur, db, k, ul + rlen, d, e);
}

int store_cells_add(store_cells *w, const char *source, const ts_cell *c, disclose_fig d, ts_err *e)
{
    if (d.v == 0 && d.key == 0)
        return TS_OK;
    store_t *s = w->s;
    if (!w->chain.n || strcmp(w->chain.unit[0], c->unit) != 0)
        rollup_chain(s, w->txn, c->unit, &w->chain);
    /* a leaf's totals are its child's contribution; any other source of
     * numbers for it makes it keep its own (never, as units go today) */
    bool leaf = w->chain.leaf_via[0] && source && !strcmp(source, w->chain.leaf_via);
    if (w->chain.leaf_via[0] && !leaf) {
        if (store_unit_branch(s, w->txn, c->unit, e))
            return e->code;
        rollup_chain(s, w->txn, c->unit, &w->chain);
    }
    char key[TS_CODE_MAX + 1 + CELL_KEY_MAX];
    size_t slen = source ? strlen(source) : 0;
    if (source) {
        memcpy(key, source, slen);
        key[slen++] = '|';
    }
    size_t n = cell_key(c, key + slen);
    if (cells_add(w, source ? &w->contrib : &w->local, source ? DB_CONTRIB : DB_LOCAL, key,
                  slen + n, d, e))
        return e->code;
    /* the same cell key under other units: "|indicator|period|options" */
    const char *rest = key + slen + strlen(c->unit);
    size_t rlen = n - strlen(c->unit);
    /* totals of the unit (a leaf's are the contribution just written) and of
     * every held ancestor, a cursor per level, as each level's keys lie
     * together */
    for (int i = leaf ? 1 : 0; i < w->chain.n; i++)
        if (unit_add(w, &w->totals[i], DB_TOTALS, w->chain.unit[i], rest, rlen, d, e))
            return e->code;
    if (!store_has_parent(s))
        return TS_OK;
    /* pending: as the cell came, or re-keyed to this node (forward_detail = self) */
    const char *punit = store_detail(s) == DETAIL_SELF ? store_self_code(s) : c->unit;
    if (w->records && !source && store_holds_records(s))
        return unit_add(w, &w->held, DB_HELD, punit, rest, rlen, d, e);
    return unit_add(w, &w->pending, DB_PENDING, punit, rest, rlen, d, e);
}

int store_apply_cell(store_t *s, store_txn *txn, const char *source, const ts_cell *c,
                     disclose_fig d, ts_err *e)
{
    store_cells w;
    store_cells_begin(&w, s, txn);
    int rc = store_cells_add(&w, source, c, d, e);
    store_cells_end(&w);
    return rc;
}

int store_release_held(store_t *s, store_txn *txn, size_t *moved, ts_err *e)
{
    *moved = 0;
    MDB_cursor *held, *pending;
    int rc = mdb_cursor_open(txn, store_dbi(s, DB_HELD), &held);
    if (rc)
        return store_fail(s, e, rc, "reading held changes");
    if ((rc = mdb_cursor_open(txn, store_dbi(s, DB_PENDING), &pending)) != 0) {
        mdb_cursor_close(held);
        return store_fail(s, e, rc, "writing pending changes");
    }
    MDB_val k, v;
    int out = TS_OK;
    for (int op = MDB_FIRST; out == TS_OK && mdb_cursor_get(held, &k, &v, op) == 0; op = MDB_NEXT) {
        disclose_fig d;
        char key[CELL_KEY_MAX]; /* a copy: a write may move what the cursor points at */
        store_val fig = store_val_of(v);
        if (!store_fig_decode(&fig, &d) || k.mv_size > sizeof key)
            continue;
        memcpy(key, k.mv_data, k.mv_size);
        out = store_cursor_add(s, pending, key, k.mv_size, d, NULL, e);
        (*moved)++;
    }
    mdb_cursor_close(pending);
    mdb_cursor_close(held);
    return out == TS_OK ? store_clear(s, txn, DB_HELD, e) : out;
}

int store_set_value(store_t *s, store_txn *txn, const ts_cell *c, int64_t v, int64_t *old,
                    ts_err *e)
{
    char key[CELL_KEY_MAX];
    size_t n = cell_key(c, key);
    int64_t before = store_get_fig(s, txn, DB_LOCAL, key, n).v;
    if (old)
        *old = before;
    int64_t d;
    if (__builtin_sub_overflow(v, before, &d))
        return ts_fail(e, TS_EINPUT, "count overflow: %lld - %lld leaves the 64-bit range",
                       (long long)v, (long long)before);
    return store_apply_cell(s, txn, NULL, c, (disclose_fig){d, 0}, e);
}

typedef struct {
    char (*keys)[CELL_KEY_MAX + TS_CODE_MAX + 1]; /* "child|" + cell key */
    disclose_fig *vals;
    size_t n, cap;
} cell_list;

static int collect(const store_val *k, const store_val *v, void *ctx)
{
    cell_list *l = ctx;
    disclose_fig f;
    if (!store_fig_decode(v, &f) || k->len >= sizeof *l->keys)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->keys = ts_xrealloc(l->keys, l->cap * sizeof *l->keys);
        l->vals = ts_xrealloc(l->vals, l->cap * sizeof *l->vals);
    }
    memcpy(l->keys[l->n], k->data, k->len);
    l->keys[l->n][k->len] = '\0';
    l->vals[l->n++] = f;
    return 0;
}

int store_drop_contribution(store_t *s, store_txn *txn, const char *child, ts_err *e)
{
    char prefix[TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|", child);
    size_t plen = strlen(prefix);
    cell_list l = {0};
    /* collect first: apply edits the table */
    int rc = store_scan(s, txn, DB_CONTRIB, prefix, collect, &l, NULL, e);
    for (size_t i = 0; i < l.n && rc == TS_OK; i++) {
        ts_cell c;
        if (l.vals[i].v == INT64_MIN)
            rc = ts_fail(e, TS_EINPUT, "stored contribution of %s out of range", child);
        else if (cell_parse(l.keys[i] + plen, strlen(l.keys[i] + plen), &c, e) == TS_OK)
            rc = store_apply_cell(s, txn, child, &c, (disclose_fig){-l.vals[i].v, -l.vals[i].key},
                                  e);
    }
    free(l.keys);
    free(l.vals);
    return rc;
}
