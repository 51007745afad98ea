/* export_fhir.c: a FHIR R4 Bundle (type collection) of MeasureReport
 * resources following IHE mADX: one report per unit, indicator and period,
 * status complete, type summary, the unit as subject (Location) and
 * reporter (Organization), the period as start/end dates, one group whose
 * population and measureScore carry the count, and each category
 * combination as a stratum of one stratifier. Codes come from the mapping
 * file as ADX codes do; the Measure canonical URL from its fhir.measureBase.
 *
 * For a reader without a token every value is rounded (query_publish), the
 * group's count too: from its exact sum with the sum of its cells' keys. */
#include "export_int.h"
#include "query.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FHIR_POPULATION_SYSTEM "http://terminology.hl7.org/CodeSystem/measure-population"

struct export_fhir {
    const node_t *n;
    const export_request *r;
    FILE *out;
    long reports;
    /* the open report: (u, indicator, period) */
    const tree_unit *u;
    char indicator[CATALOG_NAME_MAX], period[CELL_PERIOD_MAX];
    char options0[CELL_OPTIONS_MAX]; /* its first stratum's options: the categories */
    json_t *strata;
    disclose_fig total; /* exact, with its key: published once, at the flush */
    bool overflow;
};

int export_fhir_open(export_fhir **f, const node_t *n, const export_request *r, FILE *out,
                     ts_err *e)
{
    *f = calloc(1, sizeof **f);
    if (!*f)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    (*f)->n = n, (*f)->r = r, (*f)->out = out;
    char when[32];
    time_t t = (time_t)(r->now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(out, "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"timestamp\":\"%s\"", when);
    return TS_OK;
}

static json_t *concept(const char *code, const char *text)
{
    return json_pack("{s:[{s:s}],s:s}", "coding", "code", code, "text", text);
}

/* YYYYMM -> the month's first and last day; YYYY -> the year's. */
static json_t *period_json(const char *p)
{
    char start[16], end[16];
    char ys[5];
    memcpy(ys, p, 4);
    ys[4] = '\0';
    int y = atoi(ys);
    if (strlen(p) == 6) {
        int m = atoi(p + 4);
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int last = m == 2 && leap ? 29 : days[(m - 1) % 12];
        snprintf(start, sizeof start, "%04d-%02d-01", y, m);
        snprintf(end, sizeof end, "%04d-%02d-%02d", y, m, last);
    } else {
        snprintf(start, sizeof start, "%04d-01-01", y);
        snprintf(end, sizeof end, "%04d-12-31", y);
    }
    return json_pack("{s:s,s:s}", "start", start, "end", end);
}

/* The categories of canonical options as stratifier codes. */
static json_t *stratifier_codes(const export_fhir *f, const char *options)
{
    json_t *codes = json_array();
    char buf[CELL_OPTIONS_MAX];
    snprintf(buf, sizeof buf, "%s", options);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        json_array_append_new(codes, concept(export_map_adx_category(f->r->map, tok), tok));
    }
    return codes;
}

static json_t *stratum(const export_fhir *f, const char *options, int64_t v)
{
    json_t *comps = json_array(), *opts = query_options_json(options);
    const char *cat;
    json_t *opt;
    json_object_foreach (opts, cat, opt) { /* in the options' canonical order */
        const char *o = json_string_value(opt);
        json_array_append_new(
            comps,
            json_pack("{s:o,s:o}", "code", concept(export_map_adx_category(f->r->map, cat), cat),
                      "value", concept(export_map_adx_option(f->r->map, cat, o), o)));
    }
    json_decref(opts);
    return json_pack("{s:o,s:[{s:{s:[{s:s,s:s}]},s:I}],s:{s:I}}", "component", comps, "population",
                     "code", "coding", "system", FHIR_POPULATION_SYSTEM, "code",
                     "initial-population", "count", (json_int_t)v, "measureScore", "value",
                     (json_int_t)v);
}

static int flush(export_fhir *f, ts_err *e)
{
    if (!f->u)
        return TS_OK;
    const catalog_t *cat = f->n->catalog;
    const catalog_indicator *ind = catalog_indicator_find(cat, f->indicator);
    char measure[512];
    export_map_measure(f->r->map, cat, f->indicator, measure, sizeof measure);
    const char *org = export_map_org_unit(f->r->map, EXPORT_ADX, f->u->code);
    char ref_loc[EXPORT_ID_MAX + 16], ref_org[EXPORT_ID_MAX + 16];
    snprintf(ref_loc, sizeof ref_loc, "Location/%s", org);
    snprintf(ref_org, sizeof ref_org, "Organization/%s", org);
    json_t *group = json_pack("{s:o}", "code",
                              concept(export_map_data_element(f->r->map, EXPORT_ADX, f->indicator),
                                      ind ? ind->label_en : f->indicator));
    if (f->overflow) {
        json_decref(group);
        return ts_fail(e, TS_ERUNTIME,
                       "a sum of %s leaves the 64-bit range: a stored total is "
                       "corrupt; run 'tiersync verify' on this node",
                       f->indicator);
    }
    json_int_t total = (json_int_t)query_publish(&f->r->rd, ind, f->total);
    json_object_set_new(group, "population",
                        json_pack("[{s:{s:[{s:s,s:s}]},s:I}]", "code", "coding", "system",
                                  FHIR_POPULATION_SYSTEM, "code", "initial-population", "count",
                                  total));
    json_object_set_new(group, "measureScore", json_pack("{s:I}", "value", total));
    if (json_array_size(f->strata))
        json_object_set_new(group, "stratifier",
                            json_pack("[{s:o,s:O}]", "code", stratifier_codes(f, f->options0),
                                      "stratum", f->strata));
    json_t *mr = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:o,s:[o]}", "resourceType",
                           "MeasureReport", "status", "complete", "type", "summary", "measure",
                           measure, "subject", "reference", ref_loc, "display", f->u->u.name,
                           "reporter", "reference", ref_org, "display", f->u->u.name, "period",
                           period_json(f->period), "group", group);
    json_decref(f->strata);
    f->strata = NULL;
    f->u = NULL;
    if (!mr)
        return ts_fail(e, TS_ERUNTIME, "out of memory writing the FHIR Bundle");
    json_t *entry = json_pack("{s:o}", "resource", mr);
    fputs(f->reports++ ? ",\n" : ",\"entry\":[\n", f->out);
    int rc = json_dumpf(entry, f->out, JSON_COMPACT);
    json_decref(entry);
    return rc ? ts_fail(e, TS_ERUNTIME, "out of memory writing the FHIR Bundle") : TS_OK;
}

int export_fhir_add(export_fhir *f, const export_value *x, ts_err *e)
{
    if (f->u &&
        (f->u != x->u || strcmp(f->indicator, x->c->indicator) ||
         strcmp(f->period, x->c->period))) {
        if (flush(f, e))
            return e->code;
    }
    if (!f->u) {
        f->u = x->u;
        snprintf(f->indicator, sizeof f->indicator, "%s", x->c->indicator);
        snprintf(f->period, sizeof f->period, "%s", x->c->period);
        snprintf(f->options0, sizeof f->options0, "%s", x->c->options);
        f->strata = json_array();
        f->total = (disclose_fig){0, 0};
        f->overflow = false;
    }
    if (disclose_add(&f->total, x->fig))
        f->overflow = true;
    if (x->c->options[0] && json_array_append_new(f->strata, stratum(f, x->c->options, x->v)))
        return ts_fail(e, TS_ERUNTIME, "out of memory writing the FHIR Bundle");
    return TS_OK;
}

int export_fhir_close(export_fhir **fp, ts_err *e)
{
    export_fhir *f = *fp;
    if (!f)
        return TS_OK;
    int rc = TS_OK;
    if (e) {
        rc = flush(f, e);
        if (rc == TS_OK)
            fputs(f->reports ? "\n]}\n" : "}\n", f->out);
    }
    json_decref(f->strata);
    free(f);
    *fp = NULL;
    return rc;
}
