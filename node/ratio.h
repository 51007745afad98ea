/* ratio.h: ratio indicators, computed when read (docs/CATALOG.md).
 *
 * A ratio's value at a unit is factor x numerator / denominator of that
 * unit's rolled-up parts, never an average of its children's ratios; one
 * decimal, and none at all when the denominator is 0. ratio_tenths is the
 * one place that divides: every read path (tiersync totals, the API, the
 * exports; the dashboard reads the API) asks it. A ratio is never stored or
 * sent: ratio_set gathers its parts' cells, projected onto the ratio's own
 * categories, into one row per (unit, period, options). */
#ifndef TIERSYNC_RATIO_H
#define TIERSYNC_RATIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cell.h"
#include "disclose.h"
#include "hmap.h"
#include "store.h"

#define RATIO_TEXT_MAX 32

/* factor x num / den in tenths, rounded half away from zero, into *tenths;
 * false (nothing written) when den is 0. */
bool ratio_scaled(int64_t factor, int64_t num, int64_t den, int64_t *tenths);
/* The same with the factor of ratio indicator ind. */
bool ratio_tenths(const catalog_indicator *ind, int64_t num, int64_t den, int64_t *tenths);
/* Tenths as JSON: a real with one decimal. */
json_t *ratio_tenths_json(int64_t tenths);
/* The value as JSON: a real with one decimal, or null. */
json_t *ratio_json(const catalog_indicator *ind, int64_t num, int64_t den);
/* The value as text, "40.0", or "" when there is none; returns out. */
const char *ratio_text(const catalog_indicator *ind, int64_t num, int64_t den, char *out,
                       size_t outsz);

/* The parts of one ratio figure. */
typedef struct {
    char unit[TS_CODE_MAX];
    char period[CELL_PERIOD_MAX];
    char options[CELL_OPTIONS_MAX]; /* canonical, the ratio's categories only */
    disclose_fig num, den;          /* exact sums with their cell keys (disclose.h) */
} ratio_row;

typedef struct {
    const catalog_t *c;
    const catalog_indicator *ind;
    hmap_str idx; /* "unit|period|options", entry i is row i until sorted */
    ratio_row *rows;
    size_t n, cap;
} ratio_set;

void ratio_set_init(ratio_set *rs, const catalog_t *c, const catalog_indicator *ind);
void ratio_set_free(ratio_set *rs);
/* Adds v of a cell of the ratio's numerator or denominator (any other is
 * ignored) to the row of its period and projected options. TS_ERUNTIME
 * when out of memory or when a sum would overflow. */
int ratio_set_add(ratio_set *rs, const ts_cell *cell, disclose_fig v);
/* Adds every total of unit (NULL: every unit held) for both parts, of
 * period (NULL: all periods). TS_ERUNTIME (e) when the store cannot be
 * read or ratio_set_add fails. */
int ratio_set_scan(ratio_set *rs, store_t *s, store_txn *txn, const char *unit, const char *period,
                   ts_err *e);
/* Orders the rows by unit, period, then options; add nothing after. */
void ratio_set_sort(ratio_set *rs);

#endif
