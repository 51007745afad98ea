/* api_totals.c: the numbers: /api/totals (with breakdowns), /api/children
 * (drill-down), /api/series (over periods) and /api/plan (TARGET_X vs X).
 *
 * Totals are rolled up, so every figure is a lookup or one prefix scan of
 * one unit. Every figure shown, a cell or a sum, is summed exactly with its
 * cell key (api_add) and only then shown through api_value(), which applies
 * the reader's rounding (query_publish). */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_MAX_BY 4      /* categories in one by= */
#define API_MAX_PLAN_ROWS 256

/* ---- /api/totals ---- */

typedef struct {
    api_ctx *c;
    const api_filter *f;
    json_t *cells;
    size_t ncells;
    bool truncated;
    disclose_fig total;
    int nby;
    const catalog_category *by[API_MAX_BY];
    disclose_fig by_sum[API_MAX_BY][CATALOG_MAX_VALUES];
} totals_ctx;

static int on_total(const ts_cell *cell, disclose_fig v, void *vctx)
{
    totals_ctx *t = vctx;
    if (!api_filter_match(t->f, cell->options))
        return 0;
    if (api_add(t->c, &t->total, v))
        return 1;
    for (int b = 0; b < t->nby; b++) {
        char opt[CATALOG_NAME_MAX];
        int k = api_option_of(cell->options, t->by[b]->name, opt, sizeof opt)
                    ? catalog_option_find(t->by[b], opt) : -1;
        if (k >= 0 && api_add(t->c, &t->by_sum[b][k], v))
            return 1;
    }
    if (v.v == 0) /* a key without a count: nothing to list */
        return 0;
    if (t->ncells == API_MAX_CELLS) {
        t->truncated = true;
        return 0;
    }
    t->ncells++;
    json_array_append_new(t->cells, json_pack("{s:s,s:s,s:s,s:o,s:o}", "unit", cell->unit,
                                              "indicator", cell->indicator, "period",
                                              cell->period, "options",
                                              query_options_json(cell->options), "value",
                                              api_value(t->c, catalog_indicator_find(
                                                  t->c->n->catalog, cell->indicator), v)));
    return 0;
}

static int parse_by(api_ctx *c, const char *by, const catalog_indicator *ind, totals_ctx *t,
                    ts_err *e)
{
    const catalog_t *cat = c->n->catalog;
    char buf[256];
    if (strlen(by) >= sizeof buf)
        return api_bad(c, e, "by", "by is too long");
    snprintf(buf, sizeof buf, "%s", by);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int i = 0; i < ind->ncats; i++)
            if (!strcmp(cat->cats[ind->cats[i]].name, tok))
                found = ind->cats[i];
        if (found < 0)
            return api_bad(c, e, "by", "%s is not disaggregated by '%.48s'", ind->code, tok);
        if (t->nby == API_MAX_BY)
            return api_bad(c, e, "by", "at most %d categories in by", API_MAX_BY);
        t->by[t->nby++] = &cat->cats[found];
    }
    return TS_OK;
}

int api_totals(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    int unit;
    const catalog_indicator *ind;
    const char *period, *by = api_param(p, "by");
    api_filter f;
    totals_ctx t = {0};
    if (api_get_unit(c, p, &unit, e) || api_get_indicator(c, p, false, &ind, e) ||
        api_get_period(c, p, "period", ind, &period, e) || api_get_filter(c, p, ind, &f, e))
        return e->code;
    if (by && (!ind || !period))
        return api_bad(c, e, "by", "by needs an indicator and a period");
    if (by && parse_by(c, by, ind, &t, e))
        return e->code;
    t.c = c, t.f = &f, t.cells = json_array();
    const char *code = c->tree.units[unit].code;
    query_filter q = {code, ind ? ind->code : NULL, period, NULL};
    query_totals(c->n->store, c->txn, &q, on_total, &t);

    json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:s}", "unit", code, "indicator",
                          ind ? json_string(ind->code) : json_null(), "period",
                          period ? json_string(period) : json_null(), "options",
                          api_filter_json(&f), "access", query_access(&c->rd));
    if (ind && period) /* a sum over indicators or periods means nothing */
        json_object_set_new(o, "total", api_value(c, ind, t.total));
    if (t.nby) {
        json_t *bd = json_object();
        for (int b = 0; b < t.nby; b++) {
            json_t *rows = json_array();
            for (int k = 0; k < t.by[b]->noptions; k++)
                json_array_append_new(rows, json_pack("{s:s,s:o}", "option",
                                                      t.by[b]->options[k], "value",
                                                      api_value(c, ind, t.by_sum[b][k])));
            json_object_set_new(bd, t.by[b]->name, rows);
        }
        json_object_set_new(o, "breakdown", bd);
    }
    json_object_set_new(o, "cells", t.cells);
    json_object_set_new(o, "truncated", json_boolean(t.truncated));
    api_json(r, o);
    return TS_OK;
}

/* ---- /api/children ---- */

static json_t *fresh_json(api_ctx *c, int unit)
{
    api_fresh f;
    api_freshness_of(c, unit, &f);
    return json_pack("{s:s,s:b,s:s,s:o,s:o}", "state", f.state, "direct", f.direct, "via",
                     f.via, "last_seq", f.known ? json_integer((json_int_t)f.last_seq)
                                                : json_null(),
                     "last_seen", api_iso_time(f.last_seen_ms));
}

int api_children(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    int unit;
    const catalog_indicator *ind;
    const char *period;
    api_filter f;
    if (api_get_unit(c, p, &unit, e) || api_get_indicator(c, p, true, &ind, e) ||
        api_get_period(c, p, "period", ind, &period, e) || api_get_filter(c, p, ind, &f, e))
        return e->code;
    if (!period)
        return api_bad(c, e, "period", "period is required (YYYYMM or YYYY as %s needs)",
                       ind->code);
    const tree_t *t = &c->tree;
    disclose_fig total = api_sum(c, t->units[unit].code, ind->code, period, &f), below = {0, 0};
    json_t *kids = json_array();
    for (int ch = t->units[unit].first_child; ch >= 0; ch = t->units[ch].next_sibling) {
        disclose_fig v = api_sum(c, t->units[ch].code, ind->code, period, &f);
        api_add(c, &below, v);
        json_t *o = api_unit_json(c, ch);
        json_object_set_new(o, "value", api_value(c, ind, v));
        json_object_set_new(o, "units_below", json_integer(t->units[ch].nchildren));
        json_object_set_new(o, "freshness", fresh_json(c, ch));
        json_array_append_new(kids, o);
    }
    json_t *self = api_unit_json(c, unit);
    json_object_set_new(self, "value", api_value(c, ind, total));
    /* what was entered at the unit itself (its plans, counts, its own
     * records): a figure of its own, with its own key */
    disclose_fig own = total;
    if (disclose_sub(&own, below))
        c->overflow = true;
    json_object_set_new(self, "own", api_value(c, ind, own));
    api_json(r, json_pack("{s:o,s:s,s:s,s:o,s:s,s:o}", "unit", self, "indicator", ind->code,
                          "period", period, "options", api_filter_json(&f), "access",
                          query_access(&c->rd), "children", kids));
    return TS_OK;
}

/* ---- /api/series ---- */

typedef struct {
    api_ctx *c;
    bool yearly;
    int first; /* months: year*12 + month-1; years: year */
    int n;
    disclose_fig *sums;
    const api_filter *f;
} series_ctx;

static int period_index(bool yearly, const char *p)
{
    size_t n = strlen(p);
    if (yearly)
        return n == 4 ? atoi(p) : -1;
    return n == 6 ? atoi(p) / 100 * 12 + atoi(p + 4) - 1 : -1;
}

static int on_series(const ts_cell *cell, disclose_fig v, void *vctx)
{
    series_ctx *s = vctx;
    int i = period_index(s->yearly, cell->period);
    if (i >= s->first && i < s->first + s->n && api_filter_match(s->f, cell->options))
        return api_add(s->c, &s->sums[i - s->first], v);
    return 0;
}

int api_series(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    int unit;
    const catalog_indicator *ind;
    const char *from, *to;
    api_filter f;
    if (api_get_unit(c, p, &unit, e) || api_get_indicator(c, p, true, &ind, e) ||
        api_get_period(c, p, "from", ind, &from, e) || api_get_period(c, p, "to", ind, &to, e) ||
        api_get_filter(c, p, ind, &f, e))
        return e->code;
    bool yearly = ind->period == PERIOD_YEAR ||
                  (ind->period == PERIOD_ANY && ((from && strlen(from) == 4) ||
                                                 (!from && to && strlen(to) == 4)));
    if (from && to && strlen(from) != strlen(to))
        return api_bad(c, e, "to", "from and to must both be months (YYYYMM) or both years");
    int today_i = yearly ? c->today / 10000 : c->today / 10000 * 12 + c->today / 100 % 100 - 1;
    int hi = to ? period_index(yearly, to) : today_i;
    int lo = from ? period_index(yearly, from) : hi - (yearly ? 4 : 11);
    if (lo > hi)
        return api_bad(c, e, "from", "from is after to");
    if (hi - lo + 1 > API_MAX_SERIES)
        return api_bad(c, e, "to", "at most %d periods in one series", API_MAX_SERIES);
    series_ctx s = {c, yearly, lo, hi - lo + 1,
                    calloc((size_t)(hi - lo + 1), sizeof(disclose_fig)), &f};
    if (!s.sums)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    const char *code = c->tree.units[unit].code;
    query_filter q = {code, ind->code, NULL, NULL};
    query_totals(c->n->store, c->txn, &q, on_series, &s);
    json_t *points = json_array();
    char per[16], pfrom[16] = "", pto[16] = "";
    for (int i = 0; i < s.n; i++) {
        int x = lo + i;
        if (yearly)
            snprintf(per, sizeof per, "%04d", x % 10000);
        else
            snprintf(per, sizeof per, "%04d%02d", x / 12 % 10000, x % 12 + 1);
        if (i == 0)
            memcpy(pfrom, per, sizeof per);
        memcpy(pto, per, sizeof per);
        json_array_append_new(points, json_pack("{s:s,s:o}", "period", per, "value",
                                                api_value(c, ind, s.sums[i])));
    }
    free(s.sums);
    api_json(r, json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:o}", "unit", code, "indicator",
                          ind->code, "options", api_filter_json(&f), "from", pfrom, "to", pto,
                          "period_type", yearly ? "year" : "month", "access",
                          query_access(&c->rd), "points", points));
    return TS_OK;
}

/* ---- /api/plan ---- */

typedef struct {
    char key[CELL_OPTIONS_MAX]; /* the target's categories, in its order */
    disclose_fig target, actual;
} plan_row;

typedef struct {
    api_ctx *c;
    const catalog_t *cat;
    const catalog_indicator *target;
    bool actual_has_cats; /* the actual indicator has every category of the target */
    plan_row *rows;
    int n;
    bool is_target; /* the scan adds to target, else to actual */
} plan_ctx;

static void project(const plan_ctx *pc, const char *options, char *key, size_t keysz)
{
    key[0] = '\0';
    for (int i = 0; i < pc->target->ncats; i++) {
        const char *name = pc->cat->cats[pc->target->cats[i]].name;
        char opt[CATALOG_NAME_MAX] = "";
        api_option_of(options, name, opt, sizeof opt);
        size_t at = strlen(key);
        snprintf(key + at, keysz - at, "%s%s=%s", i ? "," : "", name, opt);
    }
}

static int on_plan_cell(const ts_cell *cell, disclose_fig v, void *vctx)
{
    plan_ctx *pc = vctx;
    char key[CELL_OPTIONS_MAX];
    if (pc->is_target || pc->actual_has_cats)
        project(pc, cell->options, key, sizeof key);
    else
        key[0] = '\0'; /* not comparable by category: counts only in the total */
    int i = 0;
    while (i < pc->n && strcmp(pc->rows[i].key, key))
        i++;
    if (i == pc->n) {
        if (pc->n == API_MAX_PLAN_ROWS)
            return 0;
        memset(&pc->rows[pc->n], 0, sizeof pc->rows[0]);
        snprintf(pc->rows[pc->n++].key, sizeof key, "%s", key);
    }
    return api_add(pc->c, pc->is_target ? &pc->rows[i].target : &pc->rows[i].actual, v);
}

/* The periods a yearly plan is compared with: the year itself; every month
 * of it for a monthly flow; else the last month reached (stocks, values). */
static int plan_periods(const api_ctx *c, const catalog_indicator *ind, int year,
                        char per[12][16], char *label, size_t labelsz)
{
    int ty = c->today / 10000, tm = c->today / 100 % 100;
    if (ind->period != PERIOD_MONTH) {
        snprintf(per[0], 16, "%04d", year);
        snprintf(label, labelsz, "%s", per[0]);
        return 1;
    }
    int last = year < ty ? 12 : year == ty ? tm : 0;
    if (!last) {
        snprintf(label, labelsz, "%04d", year);
        return 0;
    }
    if (ind->kind != IND_FLOW) {
        snprintf(per[0], 16, "%04d%02d", year, last);
        snprintf(label, labelsz, "%s", per[0]);
        return 1;
    }
    for (int m = 1; m <= last; m++)
        snprintf(per[m - 1], 16, "%04d%02d", year, m);
    snprintf(label, labelsz, "%s-%s", per[0], per[last - 1]);
    return last;
}

static int row_order(const catalog_t *cat, const catalog_indicator *t, const char *key)
{
    int order = 0;
    for (int i = 0; i < t->ncats; i++) {
        const catalog_category *cc = &cat->cats[t->cats[i]];
        char opt[CATALOG_NAME_MAX] = "";
        api_option_of(key, cc->name, opt, sizeof opt);
        int k = catalog_option_find(cc, opt);
        order = order * (CATALOG_MAX_VALUES + 1) + (k < 0 ? CATALOG_MAX_VALUES : k);
    }
    return order;
}

/* The percentage is of the figures as shown: for a rounded reader, of the
 * rounded actual, so it tells nothing the actual does not. */
static json_t *plan_figures(api_ctx *c, const catalog_indicator *t, const catalog_indicator *x,
                            disclose_fig target, disclose_fig actual, bool known)
{
    int64_t pt = query_publish(&c->rd, t, target), pa = query_publish(&c->rd, x, actual);
    json_t *o = json_pack("{s:I,s:o}", "target", (json_int_t)pt, "actual",
                          known ? json_integer((json_int_t)pa) : json_null());
    json_object_set_new(o, "percent", known && pt > 0
                                          ? json_real(round((double)pa * 1000.0 / (double)pt) / 10.0)
                                          : json_null());
    return o;
}

static json_t *plan_one(api_ctx *c, int unit, const catalog_indicator *t, int year,
                        plan_row *rows)
{
    const catalog_t *cat = c->n->catalog;
    const catalog_indicator *x = catalog_indicator_find(cat, t->code + 7);
    plan_ctx pc = {c, cat, t, true, rows, 0, true};
    for (int i = 0; i < t->ncats; i++) {
        bool has = false;
        for (int k = 0; k < x->ncats; k++)
            has |= x->cats[k] == t->cats[i];
        pc.actual_has_cats &= has;
    }
    const char *code = c->tree.units[unit].code;
    char per[12][16], tlabel[24], alabel[24];
    int np = plan_periods(c, t, year, per, tlabel, sizeof tlabel);
    for (int i = 0; i < np; i++) {
        query_filter q = {code, t->code, per[i], NULL};
        query_totals(c->n->store, c->txn, &q, on_plan_cell, &pc);
    }
    pc.is_target = false;
    np = plan_periods(c, x, year, per, alabel, sizeof alabel);
    for (int i = 0; i < np; i++) {
        query_filter q = {code, x->code, per[i], NULL};
        query_totals(c->n->store, c->txn, &q, on_plan_cell, &pc);
    }
    /* rows in the catalog's option order (a handful: insertion sort) */
    for (int i = 1; i < pc.n; i++)
        for (int k = i; k > 0 && row_order(cat, t, rows[k - 1].key) > row_order(cat, t, rows[k].key); k--) {
            plan_row tmp = rows[k];
            rows[k] = rows[k - 1];
            rows[k - 1] = tmp;
        }
    disclose_fig tt = {0, 0}, ta = {0, 0};
    json_t *jrows = json_array();
    for (int i = 0; i < pc.n; i++) {
        api_add(c, &tt, rows[i].target);
        api_add(c, &ta, rows[i].actual);
        if (!pc.actual_has_cats && !rows[i].key[0] && t->ncats)
            continue; /* actual without comparable categories: total only */
        json_t *o = plan_figures(c, t, x, rows[i].target, rows[i].actual, pc.actual_has_cats);
        json_object_set_new(o, "options", query_options_json(rows[i].key));
        json_array_append_new(jrows, o);
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "target_indicator", t->code,
                          "actual_indicator", x->code, "target_period", tlabel, "actual_period",
                          alabel);
    json_object_set_new(o, "total", plan_figures(c, t, x, tt, ta, true));
    json_object_set_new(o, "rows", jrows);
    return o;
}

json_t *api_plan_json(api_ctx *c, int unit, int year)
{
    plan_row *rows = malloc(API_MAX_PLAN_ROWS * sizeof *rows);
    if (!rows)
        return NULL;
    json_t *plans = json_array();
    const catalog_t *cat = c->n->catalog;
    for (int i = 0; i < cat->ninds; i++) {
        const catalog_indicator *t = &cat->inds[i];
        if (t->kind == IND_VALUE && !strncmp(t->code, "TARGET_", 7) &&
            catalog_indicator_find(cat, t->code + 7))
            json_array_append_new(plans, plan_one(c, unit, t, year, rows));
    }
    free(rows);
    return plans;
}

int api_plan(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    int unit;
    if (api_get_unit(c, p, &unit, e))
        return e->code;
    const char *y = api_param(p, "year");
    int year = c->today / 10000;
    if (y) {
        if (strlen(y) != 4 || y[0] < '1' || strspn(y, "0123456789") != 4)
            return api_bad(c, e, "year", "year '%.16s' is not a year (YYYY)", y);
        year = atoi(y);
    }
    json_t *plans = api_plan_json(c, unit, year);
    if (!plans)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    char ys[16];
    snprintf(ys, sizeof ys, "%04d", year);
    api_json(r, json_pack("{s:s,s:s,s:s,s:o}", "unit", c->tree.units[unit].code, "year", ys,
                          "access", query_access(&c->rd), "plans", plans));
    return TS_OK;
}
