/* api_int.h: what the api_*.c files share (internal; callers use api.h).
 *
 * One api_ctx per request: the node, the read transaction, the unit tree,
 * and who is reading. Parameter helpers refuse with TS_EINPUT and record
 * the parameter's name, which api_handle returns as {"parameter": ...}. */
#ifndef TIERSYNC_API_INT_H
#define TIERSYNC_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "cell.h"
#include "link_state.h"
#include "query.h"
#include "tree.h"

#define API_PARAM_NAME_MAX 32
#define API_MAX_CELLS 5000 /* cells listed by /api/totals before "truncated" */
#define API_MAX_SERIES 240 /* periods in one /api/series (20 years of months) */

typedef struct {
    node_t *n;
    store_txn *txn;
    tree_t tree;
    query_reader rd; /* exact, or rounded to base k */
    bool overflow;   /* a sum left the int64 range: the answer is an error */
    bool unread;     /* the store failed a scan (QUERY_FAILED): the answer is an error */
    int64_t now_ms;
    int today;                    /* YYYYMMDD */
    char bad[API_PARAM_NAME_MAX]; /* the refused parameter */
} api_ctx;

/* A filter on category options: every (category, option) pair must match. */
typedef struct {
    int n;
    char cat[CATALOG_MAX_IND_CATS][CATALOG_NAME_MAX];
    char opt[CATALOG_MAX_IND_CATS][CATALOG_NAME_MAX];
} api_filter;

typedef int (*api_fn)(api_ctx *c, const api_params *p, api_response *r, ts_err *e);

/* Refuses parameter param: TS_EINPUT with the message; records param. */
int api_bad(api_ctx *c, ts_err *e, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "unit" (default: this node's own unit) as a tree index. */
int api_get_unit(api_ctx *c, const api_params *p, int *unit, ts_err *e);
/* "indicator"; *ind NULL when absent and not required. */
int api_get_indicator(api_ctx *c, const api_params *p, bool required, const catalog_indicator **ind,
                      ts_err *e);
/* A period parameter: YYYYMM or YYYY, of ind's form when ind is given. */
int api_get_period(api_ctx *c, const api_params *p, const char *name, const catalog_indicator *ind,
                   const char **out, ts_err *e);
/* "options" as a filter over ind's categories (any subset of them). */
int api_get_filter(api_ctx *c, const api_params *p, const catalog_indicator *ind, api_filter *f,
                   ts_err *e);

bool api_filter_match(const api_filter *f, const char *options);
json_t *api_filter_json(const api_filter *f);

/* *sum += d (disclose_add); on overflow marks c (api_handle then answers
 * 500) and returns 1, which stops a query_totals scan. */
int api_add(api_ctx *c, disclose_fig *sum, disclose_fig d);

/* A figure of an indicator at a unit: a stored indicator's sum v, or a
 * ratio's parts (the ratio itself is computed only when shown); each an
 * exact count with its summed cell key. */
typedef struct {
    disclose_fig v, num, den;
} api_fig;

/* query_totals for a handler: on QUERY_FAILED marks c (api_handle then
 * answers 500 naming it); returns what query_totals returns. */
int api_query(api_ctx *c, const query_filter *q, query_fn fn, void *ctx);
/* Calls fn for every total of unit for ind (of a ratio: both its parts),
 * of period (NULL: every period); returns what api_query returns. */
int api_scan(api_ctx *c, const char *unit, const catalog_indicator *ind, const char *period,
             query_fn fn, void *ctx);
/* Adds the figure v of a cell found by api_scan to f (api_add: 1 on
 * overflow, which stops the scan). */
int api_fig_add(api_ctx *c, api_fig *f, const catalog_indicator *ind, const ts_cell *cell,
                disclose_fig v);
/* ind's figure at unit for period, over the cells matching f (NULL: all). */
api_fig api_fig_sum(api_ctx *c, const char *unit, const catalog_indicator *ind, const char *period,
                    const api_filter *f);
/* *a += b, part by part (disclose_add); marks c on overflow. */
void api_fig_plus(api_ctx *c, api_fig *a, api_fig b);
/* a - b, part by part (disclose_sub); marks c on overflow. */
api_fig api_fig_minus(api_ctx *c, api_fig a, api_fig b);
/* A figure as the reader may see it: a count through api_value; a ratio
 * (ratio.h) computed from its parts as api_value publishes them (each part
 * rounded from its own exact sum and key for a tokenless reader), null when
 * the denominator is 0. */
json_t *api_fig_json(const api_ctx *c, const catalog_indicator *ind, api_fig f);
/* That ratio in tenths; false when it is null. */
bool api_fig_tenths(const api_ctx *c, const catalog_indicator *ind, api_fig f, int64_t *tenths);
/* {"numerator": {"indicator", "value"}, "denominator": {...}} of a ratio,
 * each value published (api_value). */
json_t *api_fig_parts_json(const api_ctx *c, const catalog_indicator *ind, api_fig f);

/* A figure of ind as the reader may see it (query_publish), as JSON. */
json_t *api_value(const api_ctx *c, const catalog_indicator *ind, disclose_fig f);

/* Freshness of a unit below this node: its own link when it is a direct
 * child, else the link of the direct child it came through. */
typedef struct {
    bool known;  /* a direct child record was found */
    bool direct; /* the unit itself is a direct child */
    const char *via;
    uint64_t last_seq, reported_head, applied, refused;
    int64_t last_seen_ms, last_applied_ms;
    int32_t clock_offset_s; /* the direct child's clock minus this node's, at its last hello */
    link_child_state state; /* as tiersync status */
} api_fresh;
void api_freshness_of(api_ctx *c, int unit, api_fresh *f);

json_t *api_iso_time(int64_t ms);
json_t *api_unit_json(const api_ctx *c, int unit);

/* Sets r to a 200 JSON response (takes the reference). */
void api_json(api_response *r, json_t *body);

/* Endpoints (api_totals.c, api_metrics.c, api.c, report.c). */
int api_totals(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
int api_children(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
int api_series(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
int api_plan(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
int api_report(api_ctx *c, const api_params *p, api_response *r, ts_err *e); /* report.c */

/* /api/plan's "plans" for unit and year (progress up to c->today); NULL
 * when out of memory. */
json_t *api_plan_json(api_ctx *c, int unit, int year);
int api_metrics(api_ctx *c, const api_params *p, api_response *r, ts_err *e);

#endif
