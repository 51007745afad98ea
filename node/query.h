/* query.h: reading totals: the filter shared by the CLI, the HTTP API and
 * the exports. Totals are already rolled up, so a unit's figure is a lookup
 * and a filter is one prefix scan. */
#ifndef TIERSYNC_QUERY_H
#define TIERSYNC_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cell.h"
#include "store.h"

typedef struct {
    const char *unit;      /* NULL: every unit held */
    const char *indicator; /* NULL: every indicator */
    const char *period;    /* NULL: every period */
    const char *options;   /* NULL: every combo; else exact canonical options */
} query_filter;

typedef int (*query_fn)(const ts_cell *c, int64_t value, void *ctx);

/* Calls fn for every non-zero total matching f, a unit's in key order
 * (without f->unit: grouped by unit); stops when fn returns non-zero and
 * returns that. */
int query_totals(store_t *s, MDB_txn *txn, const query_filter *f, query_fn fn, void *ctx);

/* Sum of the matching totals. */
int64_t query_sum(store_t *s, MDB_txn *txn, const query_filter *f);

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
