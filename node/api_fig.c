/* api_fig.c: an indicator's figure at a unit, for every endpoint: the sum
 * of its matching totals or, for a ratio, of its two parts, and how a
 * reader sees it. A ratio is divided here and only here (through ratio.h),
 * from its parts as api_value publishes them: a tokenless reader's ratio
 * tells nothing the two published parts do not. */
#include <string.h>

#include "api_int.h"
#include "ratio.h"

int api_query(api_ctx *c, const query_filter *q, query_fn fn, void *ctx)
{
    int stop = query_totals(c->n->store, c->txn, q, fn, ctx);
    c->unread |= stop == QUERY_FAILED;
    return stop;
}

int api_scan(api_ctx *c, const char *unit, const catalog_indicator *ind, const char *period,
             query_fn fn, void *ctx)
{
    const catalog_t *cat = c->n->catalog;
    bool ratio = ind->kind == IND_RATIO;
    const char *codes[] = {ratio ? cat->inds[ind->numerator].code : ind->code,
                           ratio ? cat->inds[ind->denominator].code : NULL};
    int stop = 0;
    for (int i = 0; i < 2 && codes[i] && !stop; i++) {
        query_filter q = {unit, codes[i], period, NULL};
        stop = api_query(c, &q, fn, ctx);
    }
    return stop;
}

int api_fig_add(api_ctx *c, api_fig *f, const catalog_indicator *ind, const ts_cell *cell,
                disclose_fig v)
{
    const catalog_t *cat = c->n->catalog;
    if (ind->kind != IND_RATIO)
        return api_add(c, &f->v, v);
    if (!strcmp(cell->indicator, cat->inds[ind->numerator].code))
        return api_add(c, &f->num, v);
    if (!strcmp(cell->indicator, cat->inds[ind->denominator].code))
        return api_add(c, &f->den, v);
    return 0;
}

typedef struct {
    api_ctx *c;
    const catalog_indicator *ind;
    const api_filter *f;
    api_fig sum;
} sum_ctx;

static int add_matching(const ts_cell *cell, disclose_fig v, void *vctx)
{
    sum_ctx *s = vctx;
    return api_filter_match(s->f, cell->options) ? api_fig_add(s->c, &s->sum, s->ind, cell, v) : 0;
}

api_fig api_fig_sum(api_ctx *c, const char *unit, const catalog_indicator *ind, const char *period,
                    const api_filter *f)
{
    sum_ctx s = {c, ind, f, {{0, 0}, {0, 0}, {0, 0}}};
    api_scan(c, unit, ind, period, add_matching, &s);
    return s.sum;
}

void api_fig_plus(api_ctx *c, api_fig *a, api_fig b)
{
    if (disclose_add(&a->v, b.v) || disclose_add(&a->num, b.num) || disclose_add(&a->den, b.den))
        c->overflow = true;
}

api_fig api_fig_minus(api_ctx *c, api_fig a, api_fig b)
{
    if (disclose_sub(&a.v, b.v) || disclose_sub(&a.num, b.num) || disclose_sub(&a.den, b.den))
        c->overflow = true;
    return a;
}

bool api_fig_tenths(const api_ctx *c, const catalog_indicator *ind, api_fig f, int64_t *tenths)
{
    /* from the parts as this reader may see them: never finer than they are */
    const catalog_t *cat = c->n->catalog;
    int64_t num = query_publish(&c->rd, &cat->inds[ind->numerator], f.num);
    int64_t den = query_publish(&c->rd, &cat->inds[ind->denominator], f.den);
    return ratio_tenths(ind, num, den, tenths);
}

json_t *api_fig_json(const api_ctx *c, const catalog_indicator *ind, api_fig f)
{
    int64_t tenths;
    if (ind->kind != IND_RATIO)
        return api_value(c, ind, f.v);
    return api_fig_tenths(c, ind, f, &tenths) ? ratio_tenths_json(tenths) : json_null();
}

json_t *api_fig_parts_json(const api_ctx *c, const catalog_indicator *ind, api_fig f)
{
    const catalog_indicator *num = &c->n->catalog->inds[ind->numerator];
    const catalog_indicator *den = &c->n->catalog->inds[ind->denominator];
    return json_pack("{s:{s:s,s:o},s:{s:s,s:o}}", "numerator", "indicator", num->code, "value",
                     api_value(c, num, f.num), "denominator", "indicator", den->code, "value",
                     api_value(c, den, f.den));
}
