/* catalog.h: the program catalog, the only place that knows what is counted.
 *
 * A catalog file (JSON, see docs/CATALOG.md) declares record types and their
 * fields (with a pii flag), categories for disaggregation, and indicators of
 * the kinds stock / flow / reach / after / value / ratio. A ratio is
 * computed at read time from two other indicators and never stored; every
 * other kind is stored and sent. The engine is generic: nothing in C
 * names an indicator of the drug-treatment program. catalog_load() validates
 * the whole file and refuses a bad one naming the file, the entry and why.
 *
 * The loaded catalog is one flat, immutable struct of fixed-size arrays:
 * cheap to pass around, no ownership questions, indices instead of pointers. */
#ifndef TIERSYNC_CATALOG_H
#define TIERSYNC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CATALOG_NAME_MAX 48   /* codes, field names, option values */
#define CATALOG_LABEL_MAX 160 /* human names (UTF-8, Vietnamese/English) */
#define CATALOG_MAX_TYPES 8
#define CATALOG_MAX_FIELDS 24
#define CATALOG_MAX_VALUES 16 /* enum values, category options */
#define CATALOG_MAX_CATEGORIES 16
#define CATALOG_MAX_INDICATORS 64
#define CATALOG_MAX_IND_CATS 4
#define CATALOG_MAX_FILTERS 4
#define CATALOG_MAX_BANDS 12
#define CATALOG_DEFAULT_FILE "drug-treatment.json"
#define CATALOG_AFTER_MONTHS_DEFAULT 12 /* post_rehab_months when the file gives none */
#define CATALOG_AFTER_MONTHS_MAX 120
#define CATALOG_FACTOR_MAX 1000000 /* a ratio's factor: 1..this */

typedef enum { FIELD_STRING, FIELD_DATE, FIELD_ENUM, FIELD_REF } catalog_field_type;

typedef struct {
    char name[CATALOG_NAME_MAX];
    catalog_field_type type;
    bool pii;
    bool required;
    int nvalues; /* FIELD_ENUM: allowed values */
    char values[CATALOG_MAX_VALUES][CATALOG_NAME_MAX];
    int ref_type; /* FIELD_REF: index of the referenced record type, else -1 */
} catalog_field;

typedef struct {
    char name[CATALOG_NAME_MAX];
    int nfields;
    catalog_field fields[CATALOG_MAX_FIELDS];
    int id_field;  /* index of the mandatory "id" field */
    int owner_ref; /* index of the FIELD_REF tying it to its owner, -1 if a root type */
} catalog_rtype;

typedef enum { CAT_FIELD, CAT_AGE_BAND } catalog_cat_kind;

typedef struct {
    int lo, hi; /* inclusive ages; hi == -1 means open-ended */
    char label[CATALOG_NAME_MAX];
} catalog_band;

typedef struct {
    char name[CATALOG_NAME_MAX];
    char label_vi[CATALOG_LABEL_MAX], label_en[CATALOG_LABEL_MAX];
    catalog_cat_kind kind;
    int rtype;    /* record type holding the source field */
    int field;    /* CAT_FIELD: an enum field; CAT_AGE_BAND: a date field (birth date) */
    int noptions; /* every option value a cell may carry, in display order */
    char options[CATALOG_MAX_VALUES][CATALOG_NAME_MAX];
    int nbands; /* CAT_AGE_BAND only; options = band labels + "unknown" */
    catalog_band bands[CATALOG_MAX_BANDS];
} catalog_category;

typedef enum { IND_STOCK, IND_FLOW, IND_REACH, IND_VALUE, IND_RATIO, IND_AFTER } catalog_kind;
/* What an `after` indicator counts of the owners (persons) in the period
 * after an ended record (episode): being within it (a stock), starting a
 * new record within it (a flow), being within it having received support. */
typedef enum { AFTER_WITHIN, AFTER_RESTARTED, AFTER_SUPPORTED } catalog_after;
typedef enum { PERIOD_MONTH, PERIOD_YEAR, PERIOD_ANY } catalog_period;
typedef enum { FILTER_SET, FILTER_EMPTY, FILTER_IN } catalog_filter_op;

typedef struct {
    int field; /* field of the indicator's record type */
    catalog_filter_op op;
    int nvalues; /* FILTER_IN */
    char values[CATALOG_MAX_VALUES][CATALOG_NAME_MAX];
} catalog_filter;

typedef struct {
    char code[CATALOG_NAME_MAX];
    char label_vi[CATALOG_LABEL_MAX], label_en[CATALOG_LABEL_MAX];
    catalog_kind kind;
    catalog_period
        period;         /* stock, flow, after: MONTH; reach: YEAR; value: any; ratio: its parts' */
    int rtype;          /* record type counted ("over"); -1 for value and ratio indicators */
    int start_field;    /* stock, reach, after: interval start; flow: the dated field */
    int end_field;      /* stock, reach, after: interval end (may be empty); else -1 */
    int distinct_field; /* reach: FIELD_REF naming the distinct entity, -1 = the record */
    int ncats;
    int cats[CATALOG_MAX_IND_CATS]; /* indices into catalog_t.cats */
    int nfilters;
    catalog_filter filters[CATALOG_MAX_FILTERS];
    int retired_from; /* YYYYMM from which no value is entered; 0: in use */
    /* ratio: factor x numerator / denominator (indices into catalog_t.inds) */
    int numerator, denominator;
    int factor;
    /* after: what is counted; AFTER_SUPPORTED: the dated record of support */
    catalog_after measure;
    int support_rtype, support_field;
} catalog_indicator;

typedef struct catalog {
    char id[CATALOG_NAME_MAX];
    int version;
    int after_months; /* "post_rehab_months": the period after an ended record */
    char path[512];
    int ntypes;
    catalog_rtype types[CATALOG_MAX_TYPES];
    int ncats;
    catalog_category cats[CATALOG_MAX_CATEGORIES];
    int ninds;
    catalog_indicator inds[CATALOG_MAX_INDICATORS];
} catalog_t;

/* Loads and validates the catalog file at path. On success *out owns a new
 * catalog (free with catalog_destroy). Errors: TS_ERUNTIME if the file cannot
 * be read, TS_EINPUT if it is invalid; the message names path, entry, reason. */
int catalog_load(catalog_t **out, const char *path, ts_err *e);

/* Frees *c and sets it to NULL; NULL-safe. */
void catalog_destroy(catalog_t **c);

/* A ratio is computed when read: never stored, sent or entered. */
bool catalog_is_stored(const catalog_indicator *ind);
/* Counted from case records (stock, flow, reach, after), not entered. */
bool catalog_is_counted(const catalog_indicator *ind);

/* The owner type of record type rt (the type its ref field names), -1 for
 * a root type or rt < 0. */
int catalog_owner_type(const catalog_t *c, int rt);

/* Lookups by name; return NULL / -1 when absent. */
const catalog_indicator *catalog_indicator_find(const catalog_t *c, const char *code);
int catalog_rtype_find(const catalog_t *c, const char *name);
int catalog_field_find(const catalog_rtype *t, const char *name);
int catalog_category_find(const catalog_t *c, const char *name);
int catalog_option_find(const catalog_category *cat, const char *option);

/* Checks that period has the indicator's form: YYYYMM (month, 01..12) or
 * YYYY (year). TS_EINPUT with a message naming the period otherwise. */
int catalog_period_check(const catalog_indicator *ind, const char *period, ts_err *e);

/* Whether period (YYYYMM or YYYY) falls on or after the indicator's
 * retirement month (a year: its January). */
bool catalog_retired(const catalog_indicator *ind, const char *period);

/* Canonicalises category options for an indicator. in is either a
 * comma-separated "cat=opt,cat=opt" string or, with argv form, n strings
 * "cat=opt". Every category of the indicator must be given exactly once with
 * a known option, no others. out receives "cat=opt,cat=opt" sorted by
 * category name ("" when the indicator has no categories). TS_EINPUT names
 * the offending category or option and lists the allowed ones. */
int catalog_options_canon(const catalog_t *c, const catalog_indicator *ind, const char *in,
                          char *out, size_t outsz, ts_err *e);
int catalog_options_canon_argv(const catalog_t *c, const catalog_indicator *ind, int n,
                               char *const *argv, char *out, size_t outsz, ts_err *e);

/* The slots (0..ncats-1) of ind's categories in name order: the order of
 * canonical options. */
void catalog_category_order(const catalog_t *c, const catalog_indicator *ind,
                            int order[CATALOG_MAX_IND_CATS]);

/* Finds the catalog file: an explicit path if given, else TIERSYNC_CATALOG
 * from the environment, else the installed default, else the source tree's. */
int catalog_resolve_path(const char *explicit_path, char *out, size_t outsz, ts_err *e);

#endif
