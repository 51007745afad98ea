/* export.h: the numbers in the formats other systems import: CSV, DHIS2
 * dataValueSets JSON, IHE ADX XML, Excel workbooks and FHIR R4
 * MeasureReport bundles (IHE mADX). Shared by `tiersync export` and
 * GET /api/export.
 *
 * By default an export carries each unit's *own* values (what was produced
 * at that unit, not the roll-up): DHIS2 and ADX receivers aggregate up
 * their own hierarchy, so rolled-up totals would be counted again at every
 * level. values = total exports the roll-ups instead (what tiersync shows,
 * and the default of xlsx, a table for people).
 * A mapping file (docs/API.md, catalog/dhis2-mapping.json) turns tiersync
 * codes into DHIS2 UIDs and ADX codes; without one every code maps to
 * itself (import into DHIS2 with idScheme=CODE). */
#ifndef TIERSYNC_EXPORT_H
#define TIERSYNC_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "node.h"
#include "query.h"
#include "tree.h"

#define EXPORT_MAPPING_FILE "dhis2-mapping.json" /* looked for in the data directory */
#define EXPORT_ID_MAX 64                         /* a mapped code or UID */

typedef enum { EXPORT_CSV, EXPORT_DHIS2, EXPORT_ADX, EXPORT_XLSX, EXPORT_FHIR } export_format;
typedef enum { EXPORT_OWN, EXPORT_TOTAL } export_values;

typedef struct export_mapping export_mapping;

typedef struct {
    export_format format;
    export_values values;
    int unit;                           /* tree index: this unit and every unit below */
    const char *period;                 /* NULL all; YYYY: the year and its months; YYYYMM */
    const catalog_indicator *indicator; /* NULL: every indicator */
    query_reader rd;                    /* exact, or rounded (query_publish) */
    const export_mapping *map;          /* NULL: identity mapping */
    int64_t now_ms;                     /* ADX "exported", FHIR Bundle timestamp */
} export_request;

/* "csv" | "dhis2" | "adx" | "xlsx" | "fhir"; "own" | "total". TS_EINPUT otherwise. */
int export_format_parse(const char *s, export_format *f, ts_err *e);
int export_values_parse(const char *s, export_values *v, ts_err *e);
/* What values= means when it is not given: total for xlsx, else own. */
export_values export_values_default(export_format f);
const char *export_content_type(export_format f);
const char *export_extension(export_format f);

/* Loads and validates a mapping file against the catalog; TS_EINPUT names
 * the file, the entry and what is wrong; TS_ERUNTIME if it cannot be read. */
int export_mapping_load(export_mapping **out, const catalog_t *cat, const char *path, ts_err *e);
/* The data directory's dhis2-mapping.json when it exists, else *out = NULL. */
int export_mapping_default(export_mapping **out, const node_t *n, ts_err *e);
void export_mapping_destroy(export_mapping **m);

/* Lookups, with the identity mapping for anything the file leaves out.
 * which: EXPORT_DHIS2 or EXPORT_ADX. Results point into the mapping or
 * into the arguments. */
const char *export_map_org_unit(const export_mapping *m, export_format which, const char *code);
const char *export_map_data_element(const export_mapping *m, export_format which,
                                    const char *indicator);
const char *export_map_data_set(const export_mapping *m, export_format which, const catalog_t *cat);
/* DHIS2 categoryOptionCombo of canonical options ("" -> the default combo). */
const char *export_map_coc(const export_mapping *m, const char *indicator, const char *options);
/* ADX attribute name of a category, and code of one of its options. */
const char *export_map_adx_category(const export_mapping *m, const char *category);
const char *export_map_adx_option(const export_mapping *m, const char *category,
                                  const char *option);
/* The FHIR Measure canonical URL of an indicator: the file's fhir.measureBase
 * (default "urn:tiersync:CATALOG:measure:") followed by the indicator's
 * dataElements entry "fhir" (default: its ADX data element). */
void export_map_measure(const export_mapping *m, const catalog_t *cat, const char *indicator,
                        char *out, size_t outsz);

/* Writes r's export to out, every figure as r->rd may see it (a unit's own
 * value is its own figure: the exact difference, with its key, published
 * once). TS_ERUNTIME when a difference leaves the 64-bit range. */
int export_write(node_t *n, store_txn *txn, const tree_t *t, const export_request *r, FILE *out,
                 ts_err *e);

#endif
