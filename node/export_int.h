/* export_int.h: the writers export.c hands each value to for the formats it
 * cannot write line by line: an Excel workbook (export_xlsx.c, built whole,
 * one sheet per indicator) and a FHIR Bundle (export_fhir.c, one
 * MeasureReport per unit, indicator and period). Internal to export*.c.
 *
 * export.c visits units in code order and each unit's values sorted by
 * period, indicator and options, so a (unit, indicator, period) is one run. */
#ifndef TIERSYNC_EXPORT_INT_H
#define TIERSYNC_EXPORT_INT_H

#include "export.h"

/* One value: its exact figure (count and cell key, for sums a writer
 * publishes itself) and the value as the reader may see it (query_publish),
 * written as shown. A ratio's value (tables only) is v tenths, shown "40.0"
 * from its parts as published, or "" when it has none (a denominator of 0). */
typedef struct {
    const tree_unit *u;
    const ts_cell *c;
    disclose_fig fig;
    int64_t v;
    const char *shown;
    bool ratio;
} export_value;

typedef struct export_book export_book;
int export_xlsx_open(export_book **b, const node_t *n, const export_request *r, ts_err *e);
int export_xlsx_add(export_book *b, const export_value *x, ts_err *e);
/* Writes the workbook's bytes to out and frees it (also on error); NULL-safe. */
int export_xlsx_close(export_book **b, FILE *out, ts_err *e);

typedef struct export_fhir export_fhir;
int export_fhir_open(export_fhir **f, const node_t *n, const export_request *r, FILE *out,
                     ts_err *e);
int export_fhir_add(export_fhir *f, const export_value *x, ts_err *e);
/* Ends the Bundle and frees f (also on error, e NULL: nothing more is written). */
int export_fhir_close(export_fhir **f, ts_err *e);

#endif
