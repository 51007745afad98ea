/* api_fig.c: an indicator's figure at a unit, for every endpoint: the sum
 * of its matching totals or, for a ratio, of its two parts, and how a
 * reader sees it. A ratio is divided here and only here (through ratio.h),
 * from its parts as api_value publishes them. */
#include <string.h>

#include "api_int.h"
#include "ratio.h"

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
        stop = query_totals(c->n->store, c->txn, &q, fn, ctx);
    }
    return stop;
}

void api_fig_add(const api_ctx *c, api_fig *f, const catalog_indicator *ind, const ts_cell *cell,
                 int64_t v)
{
    const catalog_t *cat = c->n->catalog;
    if (ind->kind != IND_RATIO)
        f->v += v;
    else if (!strcmp(cell->indicator, cat->inds[ind->numerator].code))
        f->num += v;
    else if (!strcmp(cell->indicator, cat->inds[ind->denominator].code))
        f->den += v;
}

typedef struct {
    const api_ctx *c;
    const catalog_indicator *ind;
    const api_filter *f;
    api_fig sum;
} sum_ctx;

static int add_matching(const ts_cell *cell, int64_t v, void *vctx)
{
    sum_ctx *s = vctx;
    if (api_filter_match(s->f, cell->options))
        api_fig_add(s->c, &s->sum, s->ind, cell, v);
    return 0;
}

api_fig api_fig_sum(api_ctx *c, const char *unit, const catalog_indicator *ind, const char *period,
                    const api_filter *f)
{
    sum_ctx s = {c, ind, f, {0, 0, 0}};
    api_scan(c, unit, ind, period, add_matching, &s);
    return s.sum;
}

api_fig api_fig_minus(api_fig a, api_fig b)
{
    return (api_fig){a.v - b.v, a.num - b.num, a.den - b.den};
}

bool api_fig_tenths(const api_ctx *c, int unit, const catalog_indicator *ind, api_fig f,
                    int64_t *tenths)
{
    /* from the parts as this reader may see them: never finer than they are */
    json_t *n = api_value(c, unit, f.num), *d = api_value(c, unit, f.den);
    bool ok = json_is_integer(n) && json_is_integer(d) &&
              ratio_tenths(ind, json_integer_value(n), json_integer_value(d), tenths);
    json_decref(n);
    json_decref(d);
    return ok;
}

json_t *api_fig_json(const api_ctx *c, int unit, const catalog_indicator *ind, api_fig f)
{
    int64_t tenths;
    if (ind->kind != IND_RATIO)
        return api_value(c, unit, f.v);
    return api_fig_tenths(c, unit, ind, f, &tenths) ? ratio_tenths_json(tenths) : json_null();
}

json_t *api_fig_parts_json(const api_ctx *c, int unit, const catalog_indicator *ind, api_fig f)
{
    const catalog_t *cat = c->n->catalog;
    return json_pack("{s:{s:s,s:o},s:{s:s,s:o}}", "numerator", "indicator",
                     cat->inds[ind->numerator].code, "value", api_value(c, unit, f.num),
                     "denominator", "indicator", cat->inds[ind->denominator].code, "value",
                     api_value(c, unit, f.den));
}
