/* cell.h: a cell, the unit of aggregation: (org unit, indicator, period,
 * category options) -> signed 64-bit count.
 *
 * Its key is the printable string "unit|indicator|period|options" with
 * options canonical ("cat=opt,cat=opt", sorted; empty for none). Printable
 * keys sort by unit first, so a unit's totals are one prefix scan, and an
 * `mdb_dump` of the store is readable by an operator. */
#ifndef TIERSYNC_CELL_H
#define TIERSYNC_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "hmap.h"
#include "util.h"

#define CELL_PERIOD_MAX 8
#define CELL_OPTIONS_MAX 192
#define CELL_KEY_MAX (TS_CODE_MAX + CATALOG_NAME_MAX + CELL_PERIOD_MAX + CELL_OPTIONS_MAX + 4)

typedef struct {
    char unit[TS_CODE_MAX];
    char indicator[CATALOG_NAME_MAX];
    char period[CELL_PERIOD_MAX];
    char options[CELL_OPTIONS_MAX];
} ts_cell;

/* Writes the key of c into out (CELL_KEY_MAX bytes); returns its length. */
size_t cell_key(const ts_cell *c, char *out);

/* Parses a key of length n; TS_EINPUT if malformed. */
int cell_parse(const char *key, size_t n, ts_cell *c, ts_err *e);

/* Fills c from parts; TS_EINPUT if any part is too long or unit is invalid. */
int cell_set(ts_cell *c, const char *unit, const char *indicator, const char *period,
             const char *options, ts_err *e);

/* Checks a cell against the catalog: known indicator, period form, options
 * canonical and valid. TS_EINPUT names what is wrong. */
int cell_check(const catalog_t *cat, const ts_cell *c, ts_err *e);

/* cell_check that remembers in memo the (indicator, options) pairs it
 * accepted, so a stream of deltas canonicalises each combination once. The
 * memo is only valid for one catalog; it is cleared past CELL_MEMO_MAX. */
#define CELL_MEMO_MAX 65536
int cell_check_memo(const catalog_t *cat, hmap_str *memo, const ts_cell *c, ts_err *e);

/* True when c is of a record-derived indicator (not a value) and its period
 * begins after today (YYYYMMDD): no record can have counted in it yet. A
 * value may name a future period (next year's plan). */
bool cell_after_today(const catalog_t *cat, const ts_cell *c, int today);

#endif
