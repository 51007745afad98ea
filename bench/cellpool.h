/* cellpool.h: valid cells of a catalog, enumerated for the load tools.
 *
 * The load generator and the probes need many distinct cells that a parent
 * accepts (known indicator, period of the right form, canonical options).
 * They are enumerated from the catalog itself, so the tools follow any
 * catalog: periods from December 2025 backwards (months for monthly and
 * "any" indicators, years for yearly ones), each indicator in catalog order,
 * every combination of its categories' options; then sorted by cell key,
 * the order in which a node's pending table hands cells to its deltas. */
#ifndef TIERSYNC_BENCH_CELLPOOL_H
#define TIERSYNC_BENCH_CELLPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "cell.h"

typedef struct {
    ts_cell *cells;
    size_t n;
} cellpool;

/* Fills p with up to max distinct cells of unit; value_only keeps only
 * indicators of kind 'value' (numbers a node may set without records).
 * TS_EINPUT if the catalog yields no cell at all. */
int cellpool_make(cellpool *p, const catalog_t *cat, const char *unit, size_t max, bool value_only,
                  ts_err *e);
void cellpool_free(cellpool *p);

#endif
