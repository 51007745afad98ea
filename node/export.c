/* export.c: writes CSV, DHIS2 dataValueSets JSON and IHE ADX XML, and
 * hands each value to the Excel and FHIR writers (export_int.h).
 *
 * Units are visited in code order, each unit's values sorted by period,
 * indicator and options, so an ADX group is one (unit, period) run and two
 * exports of the same store are byte-identical (except ADX's "exported"
 * time). A unit's own value is its total minus its children's totals.
 *
 * Ratio indicators are never stored: DHIS2, ADX and FHIR receive their
 * parts (the receiver computes its own indicators), and the tables (CSV,
 * Excel) show, beside the parts, each ratio computed from the unit's parts
 * as they are written (for a tokenless reader: as published, query.h). */
#include "export_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "query.h"
#include "ratio.h"

typedef struct {
    ts_cell c;
    disclose_fig v;
    const catalog_indicator *ratio; /* a ratio's row (tables only): its parts */
    disclose_fig num, den;
} export_row;

typedef struct {
    node_t *n;
    store_txn *txn;
    const tree_t *t;
    const export_request *r;
    FILE *out;
    long written;
    bool overflow; /* a unit's own value left the 64-bit range */
    bool group_open;
    char group_period[CELL_PERIOD_MAX]; /* ADX: the open group's period */
    export_row *rows;
    size_t nrows, cap;
    bool oom;
    export_book *book; /* xlsx */
    export_fhir *fhir; /* fhir */
    ts_err *e;
} writer;

int export_format_parse(const char *s, export_format *f, ts_err *e)
{
    if (!strcmp(s, "csv"))
        *f = EXPORT_CSV;
    else if (!strcmp(s, "dhis2"))
        *f = EXPORT_DHIS2;
    else if (!strcmp(s, "adx"))
        *f = EXPORT_ADX;
    else if (!strcmp(s, "xlsx"))
        *f = EXPORT_XLSX;
    else if (!strcmp(s, "fhir"))
        *f = EXPORT_FHIR;
    else
        return ts_fail(e, TS_EINPUT,
                       "unknown export format '%.32s': use csv, dhis2, adx, xlsx "
                       "or fhir",
                       s);
    return TS_OK;
}

export_values export_values_default(export_format f)
{
    return f == EXPORT_XLSX ? EXPORT_TOTAL : EXPORT_OWN;
}

int export_values_parse(const char *s, export_values *v, ts_err *e)
{
    if (!strcmp(s, "own"))
        *v = EXPORT_OWN;
    else if (!strcmp(s, "total"))
        *v = EXPORT_TOTAL;
    else
        return ts_fail(e, TS_EINPUT,
                       "values '%.32s': use own (each unit's own numbers, for "
                       "DHIS2/ADX) or total (rolled up)",
                       s);
    return TS_OK;
}

const char *export_content_type(export_format f)
{
    static const char *const types[] = {
        [EXPORT_CSV] = "text/csv; charset=utf-8",
        [EXPORT_DHIS2] = "application/json; charset=utf-8",
        [EXPORT_ADX] = "application/adx+xml; charset=utf-8",
        [EXPORT_XLSX] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [EXPORT_FHIR] = "application/fhir+json; charset=utf-8"};
    return types[f];
}

const char *export_extension(export_format f)
{
    static const char *const ext[] = {[EXPORT_CSV] = "csv",
                                      [EXPORT_DHIS2] = "json",
                                      [EXPORT_ADX] = "xml",
                                      [EXPORT_XLSX] = "xlsx",
                                      [EXPORT_FHIR] = "fhir.json"};
    return ext[f];
}

/* ---- escaping ---- */

static void xml_attr(FILE *f, const char *name, const char *v)
{
    fprintf(f, " %s=\"", name);
    for (; *v; v++) {
        switch (*v) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\n': fputs("&#10;", f); break;
        case '\r': fputs("&#13;", f); break;
        case '\t': fputs("&#9;", f); break;
        default: fputc(*v, f);
        }
    }
    fputc('"', f);
}

/* YYYY -> YYYY-01-01/P1Y, YYYYMM -> YYYY-MM-01/P1M (ADX periods). */
static void adx_period(const char *p, char *out, size_t outsz)
{
    if (strlen(p) == 6)
        snprintf(out, outsz, "%.4s-%.2s-01/P1M", p, p + 4);
    else
        snprintf(out, outsz, "%.4s-01-01/P1Y", p);
}

/* ---- selection ---- */

static bool period_matches(const char *want, const char *p)
{
    if (!want)
        return true;
    if (strlen(want) == 4) /* a year: the year itself and its months */
        return !strncmp(p, want, 4) && (p[4] == '\0' || strlen(p) == 6);
    return !strcmp(want, p);
}

static export_row *new_row(writer *w)
{
    if (w->nrows == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        export_row *rows = realloc(w->rows, cap * sizeof *rows);
        if (!rows) {
            w->oom = true;
            return NULL;
        }
        w->rows = rows, w->cap = cap;
    }
    export_row *row = &w->rows[w->nrows++];
    memset(row, 0, sizeof *row);
    return row;
}

static int collect(const ts_cell *c, disclose_fig v, void *ctx)
{
    writer *w = ctx;
    if (!period_matches(w->r->period, c->period))
        return 0;
    export_row *row = new_row(w);
    if (!row)
        return 1;
    row->c = *c;
    row->v = v;
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    const ts_cell *x = &((const export_row *)a)->c, *y = &((const export_row *)b)->c;
    int r = strcmp(x->period, y->period);
    if (!r)
        r = strcmp(x->indicator, y->indicator);
    return r ? r : strcmp(x->options, y->options);
}

/* own = total - the totals of the unit's children for the same cell, keys
 * as counts */
static disclose_fig own_value(writer *w, int unit, const ts_cell *c, disclose_fig total)
{
    const tree_t *t = w->t;
    for (int ch = t->units[unit].first_child; ch >= 0; ch = t->units[ch].next_sibling) {
        ts_cell k = *c;
        snprintf(k.unit, sizeof k.unit, "%s", t->units[ch].code);
        char key[CELL_KEY_MAX];
        size_t n = cell_key(&k, key);
        if (disclose_sub(&total, store_total(w->n->store, w->txn, key, n)))
            w->overflow = true;
    }
    return total;
}

/* ---- writers ---- */

static void begin(writer *w)
{
    const export_request *r = w->r;
    if (r->format == EXPORT_CSV) {
        fputs("unit,unit_name,level,indicator,period,options,value\n", w->out);
    } else if (r->format == EXPORT_DHIS2) {
        const char *ds = export_map_data_set(r->map, EXPORT_DHIS2, w->n->catalog);
        fputs("{", w->out);
        if (ds) {
            json_t *s = json_string(ds);
            fputs("\"dataSet\":", w->out);
            json_dumpf(s, w->out, JSON_ENCODE_ANY);
            fputs(",", w->out);
            json_decref(s);
        }
        fputs("\"dataValues\":[", w->out);
    } else {
        char when[32];
        time_t t = (time_t)(r->now_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<adx xmlns=\"urn:ihe:qrph:adx:2015\"",
              w->out);
        xml_attr(w->out, "exported", when);
        fputs(">\n", w->out);
    }
}

static void close_group(writer *w)
{
    if (w->group_open)
        fputs("  </group>\n", w->out);
    w->group_open = false;
}

static void emit_adx(writer *w, const tree_unit *u, const export_row *row, const char *v)
{
    const export_request *r = w->r;
    if (!w->group_open || strcmp(w->group_period, row->c.period)) {
        close_group(w);
        char per[24];
        adx_period(row->c.period, per, sizeof per);
        fputs("  <group", w->out);
        xml_attr(w->out, "orgUnit", export_map_org_unit(r->map, EXPORT_ADX, u->code));
        xml_attr(w->out, "period", per);
        xml_attr(w->out, "dataSet", export_map_data_set(r->map, EXPORT_ADX, w->n->catalog));
        fputs(">\n", w->out);
        w->group_open = true;
        snprintf(w->group_period, sizeof w->group_period, "%s", row->c.period);
    }
    fputs("    <dataValue", w->out);
    xml_attr(w->out, "dataElement", export_map_data_element(r->map, EXPORT_ADX, row->c.indicator));
    char buf[CELL_OPTIONS_MAX];
    snprintf(buf, sizeof buf, "%s", row->c.options);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        xml_attr(w->out, export_map_adx_category(r->map, tok),
                 export_map_adx_option(r->map, tok, eq + 1));
    }
    xml_attr(w->out, "value", v);
    fputs("/>\n", w->out);
}

/* The tables (CSV, Excel) show ratios; the exchange formats carry parts. */
static bool shows_ratios(export_format f)
{
    return f == EXPORT_CSV || f == EXPORT_XLSX;
}

/* Adds to w->rows the rows of every ratio asked for, from the unit's parts
 * among the rows collected (as written: own or total values, each part's
 * exact sum with its cell key, published when written: emit). */
static int add_ratio_rows(writer *w)
{
    const catalog_t *cat = w->n->catalog;
    size_t nparts = w->nrows;
    for (int k = 0; k < cat->ninds; k++) {
        const catalog_indicator *ind = &cat->inds[k];
        if (ind->kind != IND_RATIO || (w->r->indicator && w->r->indicator != ind))
            continue;
        ratio_set rs;
        ratio_set_init(&rs, cat, ind);
        int rc = TS_OK;
        for (size_t i = 0; i < nparts && rc == TS_OK; i++)
            rc = ratio_set_add(&rs, &w->rows[i].c, w->rows[i].v);
        for (size_t i = 0; i < rs.n && rc == TS_OK; i++) {
            const ratio_row *rr = &rs.rows[i];
            export_row *row = rr->num.v || rr->den.v ? new_row(w) : NULL;
            if (!row) {
                rc = w->oom ? TS_ERUNTIME : TS_OK;
                continue;
            }
            snprintf(row->c.unit, sizeof row->c.unit, "%s", rr->unit);
            snprintf(row->c.indicator, sizeof row->c.indicator, "%s", ind->code);
            snprintf(row->c.period, sizeof row->c.period, "%s", rr->period);
            snprintf(row->c.options, sizeof row->c.options, "%s", rr->options);
            row->ratio = ind, row->num = rr->num, row->den = rr->den;
        }
        ratio_set_free(&rs);
        if (rc)
            return rc;
    }
    return TS_OK;
}

static int emit(writer *w, int unit, const export_row *row)
{
    const export_request *r = w->r;
    const tree_unit *u = &w->t->units[unit];
    const catalog_indicator *ind = catalog_indicator_find(w->n->catalog, row->c.indicator);
    char v[RATIO_TEXT_MAX];
    int64_t shown = query_publish(&r->rd, ind, row->v);
    if (row->ratio) { /* from the parts as published; no value: written empty */
        const catalog_t *cat = w->n->catalog;
        int64_t num = query_publish(&r->rd, &cat->inds[row->ratio->numerator], row->num);
        int64_t den = query_publish(&r->rd, &cat->inds[row->ratio->denominator], row->den);
        if (!ratio_tenths(row->ratio, num, den, &shown))
            shown = 0;
        ratio_text(row->ratio, num, den, v, sizeof v);
    } else {
        snprintf(v, sizeof v, "%lld", (long long)shown);
    }
    export_value x = {u, &row->c, row->v, shown, v, row->ratio != NULL};
    if (r->format == EXPORT_XLSX)
        return export_xlsx_add(w->book, &x, w->e);
    if (r->format == EXPORT_FHIR)
        return export_fhir_add(w->fhir, &x, w->e);
    if (r->format == EXPORT_CSV) {
        const char *fields[] = {u->code,       u->u.name,      u->u.level, row->c.indicator,
                                row->c.period, row->c.options, v};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (i)
                fputc(',', w->out);
            csv_write_field(w->out, fields[i]);
        }
        fputc('\n', w->out);
        w->written++;
        return TS_OK;
    }
    if (r->format == EXPORT_ADX) {
        emit_adx(w, u, row, v);
    } else {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "dataElement",
                              export_map_data_element(r->map, EXPORT_DHIS2, row->c.indicator),
                              "period", row->c.period, "orgUnit",
                              export_map_org_unit(r->map, EXPORT_DHIS2, u->code),
                              "categoryOptionCombo",
                              export_map_coc(r->map, row->c.indicator, row->c.options), "value", v);
        fputs(w->written ? ",\n" : "\n", w->out);
        json_dumpf(o, w->out, JSON_COMPACT);
        json_decref(o);
    }
    w->written++;
    return TS_OK;
}

static int export_unit(writer *w, int unit)
{
    const export_request *r = w->r;
    const catalog_t *cat = w->n->catalog;
    const catalog_indicator *ind = r->indicator;
    bool ratio = ind && ind->kind == IND_RATIO; /* its parts are what is stored */
    const char *codes[] = {ratio     ? cat->inds[ind->numerator].code
                               : ind ? ind->code
                                     : NULL,
                           ratio ? cat->inds[ind->denominator].code : NULL};
    w->nrows = 0;
    for (int i = 0; i < (ratio ? 2 : 1) && !w->oom; i++) {
        query_filter q = {w->t->units[unit].code, codes[i], NULL, NULL};
        if (query_totals(w->n->store, w->txn, &q, collect, w) == QUERY_FAILED)
            return query_failed(w->e);
    }
    for (size_t i = 0; i < w->nrows && r->values == EXPORT_OWN; i++)
        w->rows[i].v = own_value(w, unit, &w->rows[i].c, w->rows[i].v);
    if (!w->oom && shows_ratios(r->format) && add_ratio_rows(w))
        w->oom = true;
    if (w->oom)
        return ts_fail(w->e, TS_ERUNTIME, "out of memory writing the export");
    if (w->nrows > 1)
        qsort(w->rows, w->nrows, sizeof *w->rows, row_cmp);
    int rc = TS_OK;
    for (size_t i = 0; i < w->nrows && rc == TS_OK; i++)
        if (w->rows[i].v.v != 0 || w->rows[i].ratio)
            rc = emit(w, unit, &w->rows[i]);
    close_group(w);
    return rc;
}

int export_write(node_t *n, store_txn *txn, const tree_t *t, const export_request *r, FILE *out,
                 ts_err *e)
{
    writer w = {.n = n, .txn = txn, .t = t, .r = r, .out = out, .e = e};
    int rc = r->format == EXPORT_XLSX ? export_xlsx_open(&w.book, n, r, e)
        : r->format == EXPORT_FHIR    ? export_fhir_open(&w.fhir, n, r, out, e)
                                      : (begin(&w), TS_OK);
    for (size_t i = 0; i < t->n && rc == TS_OK; i++)
        if (tree_in_subtree(t, (int)i, r->unit))
            rc = export_unit(&w, (int)i);
    free(w.rows);
    if (r->format == EXPORT_XLSX)
        rc = rc ? (export_xlsx_close(&w.book, NULL, NULL), rc) : export_xlsx_close(&w.book, out, e);
    if (r->format == EXPORT_FHIR)
        rc = rc ? (export_fhir_close(&w.fhir, NULL), rc) : export_fhir_close(&w.fhir, e);
    if (rc)
        return rc;
    if (r->format == EXPORT_DHIS2)
        fputs("\n]}\n", out);
    else if (r->format == EXPORT_ADX)
        fputs("</adx>\n", out);
    if (w.overflow)
        return ts_fail(e, TS_ERUNTIME,
                       "a unit's own value leaves the 64-bit range: a stored "
                       "total is corrupt; run 'tiersync verify' on this node");
    if (r->format == EXPORT_ADX && !w.written)
        return ts_fail(e, TS_ENOTFOUND,
                       "no values to export for unit %s%s%s%s%s: an ADX "
                       "message needs at least one",
                       t->units[r->unit].code, r->period ? ", period " : "",
                       r->period ? r->period : "", r->indicator ? ", indicator " : "",
                       r->indicator ? r->indicator->code : "");
    return TS_OK;
}
