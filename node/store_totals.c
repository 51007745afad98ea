/* store_totals.c: where a unit's totals are kept. Most are in table totals;
 * a leaf's (see store_unit) are its child's contribution, read in place. */
#include "store.h"

#include <stdio.h>
#include <string.h>

store_db store_totals_at(store_t *s, store_txn *txn, const char *unit,
                         char via_prefix[TS_CODE_MAX + 1])
{
    store_unit u;
    via_prefix[0] = '\0';
    if (store_unit_get(s, txn, unit, &u) != TS_OK || !u.leaf || !u.via[0])
        return DB_TOTALS;
    snprintf(via_prefix, TS_CODE_MAX + 1, "%s|", u.via);
    return DB_CONTRIB;
}

disclose_fig store_total(store_t *s, store_txn *txn, const char *key, size_t klen)
{
    const char *bar = memchr(key, '|', klen);
    char unit[TS_CODE_MAX], k[TS_CODE_MAX + 1 + CELL_KEY_MAX];
    size_t ulen = bar ? (size_t)(bar - key) : klen;
    if (ulen >= sizeof unit || klen > CELL_KEY_MAX)
        return (disclose_fig){0, 0};
    memcpy(unit, key, ulen);
    unit[ulen] = '\0';
    store_db db = store_totals_at(s, txn, unit, k);
    size_t plen = strlen(k);
    memcpy(k + plen, key, klen);
    return store_get_fig(s, txn, db, k, plen + klen);
}

static int count_one(const store_val *k, const store_val *v, void *ctx)
{
    (void)k, (void)v;
    (*(uint64_t *)ctx)++;
    return 0;
}

typedef struct {
    store_t *s;
    store_txn *txn;
    uint64_t in_totals; /* contributions of units that keep their own totals */
    ts_err *e;
} kept_ctx;

static int kept_one(const store_val *k, const store_val *v, void *vctx)
{
    kept_ctx *c = vctx;
    store_unit u;
    if (!store_unit_decode(v, &u) || u.leaf || !u.via[0] || k->len >= TS_CODE_MAX)
        return 0;
    char prefix[2 * TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|%.*s|", u.via, (int)k->len, (const char *)k->data);
    return store_scan(c->s, c->txn, DB_CONTRIB, prefix, count_one, &c->in_totals, NULL, c->e);
}

/* Every contribution is some unit's total: a leaf's, counted here, or one
 * already counted in table totals. */
int store_total_cells(store_t *s, store_txn *txn, uint64_t *n, ts_err *e)
{
    kept_ctx c = {s, txn, 0, e};
    int stop;
    *n = 0;
    if (store_scan(s, txn, DB_UNITS, NULL, kept_one, &c, &stop, e))
        return e->code;
    if (stop) /* a contribution that could not be read */
        return stop;
    *n = store_count(s, txn, DB_TOTALS) + store_count(s, txn, DB_CONTRIB) - c.in_totals;
    return TS_OK;
}

typedef struct {
    store_t *s;
    store_txn *txn;
    size_t skip; /* "via|" */
    ts_err *e;
} branch_ctx;

static int copy_out(const store_val *k, const store_val *v, void *vctx)
{
    branch_ctx *c = vctx;
    disclose_fig n;
    if (!store_fig_decode(v, &n))
        return 0;
    return store_add_fig(c->s, c->txn, DB_TOTALS, (const char *)k->data + c->skip, k->len - c->skip,
                         n, NULL, c->e);
}

int store_unit_branch(store_t *s, store_txn *txn, const char *code, ts_err *e)
{
    store_unit u;
    if (store_unit_get(s, txn, code, &u) != TS_OK || !u.leaf)
        return TS_OK;
    char prefix[2 * TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|%s|", u.via, code);
    branch_ctx c = {s, txn, strlen(u.via) + 1, e};
    int stop;
    if (store_scan(s, txn, DB_CONTRIB, prefix, copy_out, &c, &stop, e))
        return e->code;
    if (stop)
        return stop;
    u.leaf = false;
    return store_unit_put(s, txn, code, &u, e);
}
