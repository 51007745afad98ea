/* ratio.c: the read-time value of ratio indicators (ratio.h). */
#include "ratio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

bool ratio_scaled(int64_t factor, int64_t num, int64_t den, int64_t *tenths)
{
    if (den == 0)
        return false;
    __int128 n = (__int128)num * factor * 10 * 2, d = (__int128)den * 2;
    if (d < 0)
        n = -n, d = -d;
    __int128 q = (n + (n < 0 ? -d / 2 : d / 2)) / d; /* half away from zero */
    *tenths = q > INT64_MAX ? INT64_MAX : q < INT64_MIN ? INT64_MIN : (int64_t)q;
    return true;
}

bool ratio_tenths(const catalog_indicator *ind, int64_t num, int64_t den, int64_t *tenths)
{
    return ratio_scaled(ind->factor, num, den, tenths);
}

json_t *ratio_tenths_json(int64_t tenths)
{
    return json_real((double)tenths / 10.0);
}

json_t *ratio_json(const catalog_indicator *ind, int64_t num, int64_t den)
{
    int64_t t;
    return ratio_tenths(ind, num, den, &t) ? ratio_tenths_json(t) : json_null();
}

const char *ratio_text(const catalog_indicator *ind, int64_t num, int64_t den, char *out,
                       size_t outsz)
{
    int64_t t;
    if (!ratio_tenths(ind, num, den, &t))
        snprintf(out, outsz, "%s", "");
    else
        snprintf(out, outsz, "%s%lld.%lld", t < 0 ? "-" : "",
                 (long long)(t < 0 ? -(t / 10) : t / 10), (long long)(t < 0 ? -(t % 10) : t % 10));
    return out;
}

void ratio_set_init(ratio_set *rs, const catalog_t *c, const catalog_indicator *ind)
{
    memset(rs, 0, sizeof *rs);
    rs->c = c, rs->ind = ind;
    hmap_str_init(&rs->idx);
}

void ratio_set_free(ratio_set *rs)
{
    hmap_str_free(&rs->idx);
    free(rs->rows);
    rs->rows = NULL;
    rs->n = rs->cap = 0;
}

/* The row of a part's cell (*row NULL for any other indicator). */
static int row_of(ratio_set *rs, const ts_cell *cell, ratio_row **row, bool *is_num)
{
    const catalog_indicator *num = &rs->c->inds[rs->ind->numerator],
                            *den = &rs->c->inds[rs->ind->denominator];
    *row = NULL;
    *is_num = !strcmp(cell->indicator, num->code);
    if (!*is_num && strcmp(cell->indicator, den->code))
        return TS_OK;
    char opts[CELL_OPTIONS_MAX], key[TS_CODE_MAX + CELL_PERIOD_MAX + CELL_OPTIONS_MAX + 2];
    query_options_project(rs->c, rs->ind, cell->options, opts, sizeof opts);
    int klen = snprintf(key, sizeof key, "%s|%s|%s", cell->unit, cell->period, opts);
    size_t len = klen > 0 && (size_t)klen < sizeof key ? (size_t)klen : strlen(key);
    int added = 0;
    size_t i = hmap_str_put(&rs->idx, key, len, 0, &added);
    if (added) {
        if (rs->n == rs->cap) {
            size_t cap = rs->cap ? 2 * rs->cap : 64;
            ratio_row *rows = realloc(rs->rows, cap * sizeof *rows);
            if (!rows)
                return TS_ERUNTIME;
            rs->rows = rows, rs->cap = cap;
        }
        ratio_row *r = &rs->rows[rs->n++];
        memset(r, 0, sizeof *r);
        snprintf(r->unit, sizeof r->unit, "%s", cell->unit);
        snprintf(r->period, sizeof r->period, "%s", cell->period);
        snprintf(r->options, sizeof r->options, "%s", opts);
    }
    *row = &rs->rows[i];
    return TS_OK;
}

int ratio_set_add(ratio_set *rs, const ts_cell *cell, disclose_fig v)
{
    ratio_row *row;
    bool is_num;
    int rc = row_of(rs, cell, &row, &is_num);
    if (row && disclose_add(is_num ? &row->num : &row->den, v))
        return TS_ERUNTIME;
    return rc;
}

static int on_part(const ts_cell *cell, disclose_fig v, void *ctx)
{
    return ratio_set_add(ctx, cell, v) ? 1 : 0;
}

int ratio_set_scan(ratio_set *rs, store_t *s, store_txn *txn, const char *unit, const char *period,
                   ts_err *e)
{
    const char *parts[] = {rs->c->inds[rs->ind->numerator].code,
                           rs->c->inds[rs->ind->denominator].code};
    for (int p = 0; p < 2; p++) {
        query_filter q = {unit, parts[p], period, NULL};
        int stop = query_totals(s, txn, &q, on_part, rs);
        if (stop == QUERY_FAILED)
            return query_failed(e);
        if (stop)
            return ts_fail(e, TS_ERUNTIME,
                           "out of memory, or a sum of %s leaves the 64-bit "
                           "range (a stored total is corrupt: run 'tiersync verify')",
                           parts[p]);
    }
    return TS_OK;
}

static int row_cmp(const void *a, const void *b)
{
    const ratio_row *x = a, *y = b;
    int r = strcmp(x->unit, y->unit);
    if (!r)
        r = strcmp(x->period, y->period);
    return r ? r : strcmp(x->options, y->options);
}

void ratio_set_sort(ratio_set *rs)
{
    if (rs->n > 1)
        qsort(rs->rows, rs->n, sizeof *rs->rows, row_cmp);
}
