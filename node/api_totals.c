/* api_totals.c: the numbers: /api/totals (with breakdowns), /api/children
 * (drill-down), /api/series (over periods) and /api/plan (TARGET_X vs X).
 *
 * Totals are rolled up, so every figure is a lookup or one prefix scan of
 * one unit. Every figure shown, a cell or a sum, is summed exactly with its
 * cell key (api_add) and only then shown through api_value(), which applies
 * the reader's rounding (query_publish); a ratio indicator's figures are
 * its two parts' sums, each published on its own and then divided
 * (api_fig_json). */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_state.h"
#include "ratio.h"

#define API_MAX_BY 4 /* categories in one by= */
#define API_MAX_PLAN_ROWS 256

/* ---- /api/totals ---- */

typedef struct {
    api_ctx *c;
    const catalog_indicator *ind; /* NULL: every stored indicator */
    const api_filter *f;
    json_t *cells;
    size_t ncells;
    bool truncated;
    api_fig total;
    int nby;
    const catalog_category *by[API_MAX_BY];
    api_fig by_sum[API_MAX_BY][CATALOG_MAX_VALUES];
    ratio_set rs; /* a ratio's cells: its parts by period and its own options */
} totals_ctx;

static int on_total(const ts_cell *cell, disclose_fig v, void *vctx)
{
    totals_ctx *t = vctx;
    if (!api_filter_match(t->f, cell->options))
        return 0;
    if (t->ind ? api_fig_add(t->c, &t->total, t->ind, cell, v) : 0)
        return 1;
    for (int b = 0; b < t->nby; b++) {
        char opt[CATALOG_NAME_MAX];
        int k = query_option_of(cell->options, t->by[b]->name, opt, sizeof opt)
            ? catalog_option_find(t->by[b], opt)
            : -1;
        if (k >= 0 && api_fig_add(t->c, &t->by_sum[b][k], t->ind, cell, v))
            return 1;
    }
    if (t->ind && t->ind->kind == IND_RATIO)
        return ratio_set_add(&t->rs, cell, v) ? 1 : 0;
    if (v.v == 0) /* a key without a count: nothing to list */
        return 0;
    if (t->ncells == API_MAX_CELLS) {
        t->truncated = true;
        return 0;
    }
    t->ncells++;
    json_array_append_new(
        t->cells,
        json_pack("{s:s,s:s,s:s,s:o,s:o}", "unit", cell->unit, "indicator", cell->indicator,
                  "period", cell->period, "options", query_options_json(cell->options), "value",
                  api_value(t->c, catalog_indicator_find(t->c->n->catalog, cell->indicator), v)));
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

/* A ratio's cells, one per period and option combo of its own categories. */
static void ratio_cells(totals_ctx *t, const char *unit)
{
    ratio_set_sort(&t->rs);
    for (size_t i = 0; i < t->rs.n; i++) {
        const ratio_row *row = &t->rs.rows[i];
        if (t->ncells == API_MAX_CELLS) {
            t->truncated = true;
            break;
        }
        t->ncells++;
        api_fig fig = {{0, 0}, row->num, row->den};
        json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o}", "unit", unit, "indicator", t->ind->code,
                              "period", row->period, "options", query_options_json(row->options),
                              "value", api_fig_json(t->c, t->ind, fig));
        json_object_update_new(o, api_fig_parts_json(t->c, t->ind, fig));
        json_array_append_new(t->cells, o);
    }
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
    t.c = c, t.ind = ind, t.f = &f, t.cells = json_array();
    const char *code = c->tree.units[unit].code;
    query_filter q = {code, NULL, period, NULL};
    if (ind)
        ratio_set_init(&t.rs, c->n->catalog, ind);
    if (ind)
        api_scan(c, code, ind, period, on_total, &t);
    else
        api_query(c, &q, on_total, &t);
    if (ind && ind->kind == IND_RATIO)
        ratio_cells(&t, code);
    if (ind)
        ratio_set_free(&t.rs);

    json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:s}", "unit", code, "indicator",
                          ind ? json_string(ind->code) : json_null(), "period",
                          period ? json_string(period) : json_null(), "options",
                          api_filter_json(&f), "access", query_access(&c->rd));
    if (ind && period) /* a sum over indicators or periods means nothing */
        json_object_set_new(o, "total", api_fig_json(c, ind, t.total));
    if (ind && period && ind->kind == IND_RATIO)
        json_object_update_new(o, api_fig_parts_json(c, ind, t.total));
    if (t.nby) {
        json_t *bd = json_object();
        for (int b = 0; b < t.nby; b++) {
            json_t *rows = json_array();
            for (int k = 0; k < t.by[b]->noptions; k++)
                json_array_append_new(rows,
                                      json_pack("{s:s,s:o}", "option", t.by[b]->options[k], "value",
                                                api_fig_json(c, ind, t.by_sum[b][k])));
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
    return json_pack("{s:s,s:b,s:s,s:o,s:o}", "state", link_child_state_name(f.state), "direct",
                     f.direct, "via", f.via, "last_seq",
                     f.known ? json_integer((json_int_t)f.last_seq) : json_null(), "last_seen",
                     api_iso_time(f.last_seen_ms));
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
    bool ratio = ind->kind == IND_RATIO;
    api_fig total = api_fig_sum(c, t->units[unit].code, ind, period, &f),
            below = {{0, 0}, {0, 0}, {0, 0}};
    json_t *kids = json_array();
    for (int ch = t->units[unit].first_child; ch >= 0; ch = t->units[ch].next_sibling) {
        api_fig v = api_fig_sum(c, t->units[ch].code, ind, period, &f);
        api_fig_plus(c, &below, v);
        json_t *o = api_unit_json(c, ch);
        json_object_set_new(o, "value", api_fig_json(c, ind, v));
        if (ratio)
            json_object_update_new(o, api_fig_parts_json(c, ind, v));
        json_object_set_new(o, "units_below", json_integer(t->units[ch].nchildren));
        json_object_set_new(o, "freshness", fresh_json(c, ch));
        json_array_append_new(kids, o);
    }
    json_t *self = api_unit_json(c, unit);
    json_object_set_new(self, "value", api_fig_json(c, ind, total));
    if (ratio)
        json_object_update_new(self, api_fig_parts_json(c, ind, total));
    /* what was entered at the unit itself (its plans, counts, its own
     * records): a figure of its own, with its own key */
    json_object_set_new(self, "own", api_fig_json(c, ind, api_fig_minus(c, total, below)));
    api_json(r,
             json_pack("{s:o,s:s,s:s,s:o,s:s,s:o}", "unit", self, "indicator", ind->code, "period",
                       period, "options", api_filter_json(&f), "access", query_access(&c->rd),
                       "children", kids));
    return TS_OK;
}

/* ---- /api/series ---- */

typedef struct {
    api_ctx *c;
    const catalog_indicator *ind;
    bool yearly;
    int first; /* months: year*12 + month-1; years: year */
    int n;
    api_fig *sums;
    const api_filter *f;
    int before; /* a predecessor's merge date: only periods ended before it; 0: all */
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
    if (i >= s->first && i < s->first + s->n && api_filter_match(s->f, cell->options) &&
        !(s->before && merge_period_moves(cell->period, s->before)))
        return api_fig_add(s->c, &s->sums[i - s->first], s->ind, cell, v);
    return 0;
}

/* predecessors=1: the units merged into unit add their periods before
 * their merge dates (merge_state.h); they are listed in *list. */
static int series_predecessors(api_ctx *c, const api_params *p, series_ctx *s, int unit,
                               json_t **list, ts_err *e)
{
    const char *v = api_param(p, "predecessors");
    char on[MERGE_DATE_TEXT];
    *list = NULL;
    if (!v || !strcmp(v, "0"))
        return TS_OK;
    if (strcmp(v, "1") != 0)
        return api_bad(c, e, "predecessors",
                       "predecessors is 1 (include the units merged into "
                       "this one, before their merge dates) or 0");
    const tree_t *t = &c->tree;
    *list = json_array();
    for (size_t i = 0; i < t->n; i++) {
        const store_unit *u = &t->units[i].u;
        if (strcmp(u->merged_into, t->units[unit].code) != 0)
            continue;
        s->before = u->merged_on;
        api_scan(c, t->units[i].code, s->ind, NULL, on_series, s);
        json_array_append_new(*list,
                              json_pack("{s:s,s:s}", "code", t->units[i].code, "merged_on",
                                        merge_date_text(u->merged_on, on)));
    }
    s->before = 0;
    return TS_OK;
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
        (ind->period == PERIOD_ANY &&
         ((from && strlen(from) == 4) || (!from && to && strlen(to) == 4)));
    if (from && to && strlen(from) != strlen(to))
        return api_bad(c, e, "to", "from and to must both be months (YYYYMM) or both years");
    int today_i = yearly ? c->today / 10000 : c->today / 10000 * 12 + c->today / 100 % 100 - 1;
    int hi = to ? period_index(yearly, to) : today_i;
    int lo = from ? period_index(yearly, from) : hi - (yearly ? 4 : 11);
    if (lo > hi)
        return api_bad(c, e, "from", "from is after to");
    if (hi - lo + 1 > API_MAX_SERIES)
        return api_bad(c, e, "to", "at most %d periods in one series", API_MAX_SERIES);
    series_ctx s = {
        c, ind, yearly, lo, hi - lo + 1, calloc((size_t)(hi - lo + 1), sizeof(api_fig)), &f, 0};
    if (!s.sums)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    const char *code = c->tree.units[unit].code;
    json_t *preds;
    api_scan(c, code, ind, NULL, on_series, &s);
    if (series_predecessors(c, p, &s, unit, &preds, e)) {
        free(s.sums);
        return e->code;
    }
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
        json_t *pt = json_pack("{s:s,s:o}", "period", per, "value",
                               api_fig_json(c, ind, s.sums[i]));
        if (ind->kind == IND_RATIO)
            json_object_update_new(pt, api_fig_parts_json(c, ind, s.sums[i]));
        json_array_append_new(points, pt);
    }
    free(s.sums);
    json_t *out = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:o}", "unit", code, "indicator",
                            ind->code, "options", api_filter_json(&f), "from", pfrom, "to", pto,
                            "period_type", yearly ? "year" : "month", "access",
                            query_access(&c->rd), "points", points);
    if (preds)
        json_object_set_new(out, "predecessors", preds);
    api_json(r, out);
    return TS_OK;
}

/* ---- /api/plan ----
 *
 * TARGET_X against X. A count's target adds up like every value (a
 * province's plan is its districts' plans and its own); a ratio's target
 * (a percentage) does not: it is the one entered at the unit itself. */

typedef struct {
    char key[CELL_OPTIONS_MAX]; /* the target's categories, in its order */
    disclose_fig target;
    api_fig actual;
} plan_row;

typedef struct {
    api_ctx *c;
    const catalog_t *cat;
    const catalog_indicator *target, *actual;
    bool actual_has_cats; /* the actual indicator has every category of the target */
    plan_row *rows;
    int n;
    int target_sign; /* the scan adds sign x a target, 0: it adds to actual */
} plan_ctx;

static int on_plan_cell(const ts_cell *cell, disclose_fig v, void *vctx)
{
    plan_ctx *pc = vctx;
    char key[CELL_OPTIONS_MAX];
    if (pc->target_sign || pc->actual_has_cats)
        query_options_project(pc->cat, pc->target, cell->options, key, sizeof key);
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
    if (pc->target_sign > 0)
        return api_add(pc->c, &pc->rows[i].target, v);
    if (pc->target_sign < 0 && disclose_sub(&pc->rows[i].target, v)) {
        pc->c->overflow = true;
        return 1;
    }
    return pc->target_sign ? 0 : api_fig_add(pc->c, &pc->rows[i].actual, pc->actual, cell, v);
}

/* The periods a yearly plan is compared with: the year itself; every month
 * of it for a monthly flow; else the last month reached (stocks, values). */
static int plan_periods(const api_ctx *c, const catalog_indicator *ind, int year, char per[12][16],
                        char *label, size_t labelsz)
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
        query_option_of(key, cc->name, opt, sizeof opt);
        int k = catalog_option_find(cc, opt);
        order = order * (CATALOG_MAX_VALUES + 1) + (k < 0 ? CATALOG_MAX_VALUES : k);
    }
    return order;
}

/* {target, actual, percent}: percent is actual as a share of the target
 * (of a ratio: of its value, e.g. 40.0 % against a target of 80 % is 50.0),
 * of the figures as shown: for a rounded reader, of the published actual
 * (a ratio's from its published parts), so it tells nothing they do not. */
static json_t *plan_figures(api_ctx *c, const catalog_indicator *t, const catalog_indicator *x,
                            disclose_fig target, api_fig actual, bool known)
{
    bool ratio = x->kind == IND_RATIO;
    int64_t pt = query_publish(&c->rd, t, target), a = query_publish(&c->rd, x, actual.v), pct;
    bool shown = known && pt > 0 && (!ratio || api_fig_tenths(c, x, actual, &a));
    json_t *o = json_pack("{s:I,s:o}", "target", (json_int_t)pt, "actual",
                          known ? api_fig_json(c, x, actual) : json_null());
    if (ratio && known)
        json_object_update_new(o, api_fig_parts_json(c, x, actual));
    json_object_set_new(o, "percent",
                        shown && ratio_scaled(100, a, ratio ? pt * 10 : pt, &pct)
                            ? ratio_tenths_json(pct)
                            : json_null());
    return o;
}

/* Adds sign x unit's targets of t for the periods per to pc. */
static void plan_targets(api_ctx *c, plan_ctx *pc, const char *unit, char per[12][16], int np,
                         int sign)
{
    pc->target_sign = sign;
    for (int i = 0; i < np; i++) {
        query_filter q = {unit, pc->target->code, per[i], NULL};
        api_query(c, &q, on_plan_cell, pc);
    }
}

static json_t *plan_one(api_ctx *c, int unit, const catalog_indicator *t, int year, plan_row *rows)
{
    const catalog_t *cat = c->n->catalog;
    const catalog_indicator *x = catalog_indicator_find(cat, t->code + 7);
    plan_ctx pc = {c, cat, t, x, true, rows, 0, 1};
    for (int i = 0; i < t->ncats; i++) {
        bool has = false;
        for (int k = 0; k < x->ncats; k++)
            has |= x->cats[k] == t->cats[i];
        pc.actual_has_cats &= has;
    }
    const char *code = c->tree.units[unit].code;
    char per[12][16], tlabel[24], alabel[24];
    int np = plan_periods(c, t, year, per, tlabel, sizeof tlabel);
    plan_targets(c, &pc, code, per, np, 1);
    const tree_t *tr = &c->tree;
    for (int ch = tr->units[unit].first_child; x->kind == IND_RATIO && ch >= 0;
         ch = tr->units[ch].next_sibling)
        plan_targets(c, &pc, tr->units[ch].code, per, np, -1); /* a percentage: the unit's own */
    pc.target_sign = 0;
    np = plan_periods(c, x, year, per, alabel, sizeof alabel);
    for (int i = 0; i < np; i++)
        api_scan(c, code, x, per[i], on_plan_cell, &pc);
    /* rows in the catalog's option order (a handful: insertion sort) */
    for (int i = 1; i < pc.n; i++)
        for (int k = i;
             k > 0 && row_order(cat, t, rows[k - 1].key) > row_order(cat, t, rows[k].key); k--) {
            plan_row tmp = rows[k];
            rows[k] = rows[k - 1];
            rows[k - 1] = tmp;
        }
    disclose_fig tt = {0, 0};
    api_fig ta = {{0, 0}, {0, 0}, {0, 0}};
    json_t *jrows = json_array();
    for (int i = 0; i < pc.n; i++) {
        api_add(c, &tt, rows[i].target);
        api_fig_plus(c, &ta, rows[i].actual);
        if (!t->ncats || (!pc.actual_has_cats && !rows[i].key[0]))
            continue; /* no categories, or none comparable: the total only */
        json_t *o = plan_figures(c, t, x, rows[i].target, rows[i].actual, pc.actual_has_cats);
        json_object_set_new(o, "options", query_options_json(rows[i].key));
        json_array_append_new(jrows, o);
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "target_indicator", t->code, "actual_indicator",
                          x->code, "target_period", tlabel, "actual_period", alabel);
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
    api_json(r,
             json_pack("{s:s,s:s,s:s,s:o}", "unit", c->tree.units[unit].code, "year", ys, "access",
                       query_access(&c->rd), "plans", plans));
    return TS_OK;
}
