/* query.h: reading totals: the filter shared by the CLI, the HTTP API and
 * the exports, and the publishing rule they all apply. Totals are already
 * rolled up, so a unit's figure is a lookup and a filter is one prefix
 * scan. */
#ifndef TIERSYNC_QUERY_H
#define TIERSYNC_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cell.h"
#include "disclose.h"
#include "store.h"

typedef struct {
    const char *unit;      /* NULL: every unit held */
    const char *indicator; /* NULL: every indicator */
    const char *period;    /* NULL: every period */
    const char *options;   /* NULL: every combo; else exact canonical options */
} query_filter;

typedef int (*query_fn)(const ts_cell *c, disclose_fig value, void *ctx);

/* Calls fn for every total (count and cell key, not both 0) matching f, a unit's in key order
 * (without f->unit: grouped by unit); stops when fn returns non-zero and
 * returns that. QUERY_FAILED (fn never returns it) when the store could not
 * be read: fn has seen only some totals. */
#define QUERY_FAILED (-1)
int query_totals(store_t *s, store_txn *txn, const query_filter *f, query_fn fn, void *ctx);
/* QUERY_FAILED as an error: what failed and what to do, into e; returns
 * TS_ERUNTIME. Every caller answers with it rather than a partial sum. */
int query_failed(ts_err *e);

/* Who reads: an exact reader (a token; the operator at the node) sees
 * every count; any other sees record-derived figures randomly rounded to
 * base k (disclose.h). */
typedef struct {
    bool exact;
    int k; /* [read] small_cell_k */
} query_reader;

/* The one rule every reader-facing path applies to a figure of indicator
 * ind (a cell, or a sum of cells with the sum of their keys): exact for an
 * exact reader and for value indicators, else disclose_round (also for an
 * indicator the catalog does not know: ind NULL). A derived
 * figure must be summed exactly (disclose_add) and published once, never
 * summed from published figures. */
int64_t query_publish(const query_reader *r, const catalog_indicator *ind, disclose_fig f);

/* "exact" or "rounded": the access field of every answer. */
const char *query_access(const query_reader *r);

/* The option of category cat in options "a=1,b=2" into out; false if
 * absent. */
bool query_option_of(const char *options, const char *cat, char *out, size_t outsz);

/* options restricted to ind's categories, in canonical form (an absent
 * category gets an empty option): what a cell of a finer indicator adds
 * to in ind's terms. */
void query_options_project(const catalog_t *c, const catalog_indicator *ind, const char *options,
                           char *out, size_t outsz);

/* Canonical options "a=1,b=2" as a JSON object {"a":"1","b":"2"} (new ref). */
json_t *query_options_json(const char *options);

#endif
