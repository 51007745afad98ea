/* catalog.c: loads a catalog file (docs/CATALOG.md) into a catalog_t,
 * validating all of it before anyone sees it (lookups: catalog_find.c).
 *
 * Entries are checked in file order and names are resolved as they are met,
 * except record type names: those are read in a first pass so a "ref" may
 * point forward. Every refusal is TS_EINPUT with "<path>: <entry>: <reason>",
 * the entry being "record type person", "category age_band", "indicator X"
 * or, before its name is known, "records[2]". */
#include "catalog.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_json.h"

#define CATALOG_AGE_MAX 150 /* the oldest age a band may name */

static const char *const ROOT_KEYS[] = {
    "id", "version", "post_rehab_months", "records", "categories", "indicators", NULL};
static const char *const RECORD_KEYS[] = {"name", "fields", NULL};
static const char *const FIELD_KEYS[] = {"name", "type", "pii", "required", "values", "ref", NULL};
static const char *const CAT_KEYS[] = {"name", "label", "field", "age_of", "bands", NULL};
static const char *const BAND_KEYS[] = {"label", "from", "to", NULL};
static const char *const FILTER_KEYS[] = {"field", "op", "values", NULL};
/* Indexed by the enums of catalog.h. */
static const char *const FIELD_TYPES[] = {"string", "date", "enum", "ref", NULL};
static const char *const KINDS[] = {"stock", "flow", "reach", "value", "ratio", "after", NULL};
static const char *const PERIODS[] = {"month", "year", "any", NULL};
static const char *const OPS[] = {"set", "empty", "in", NULL};
/* The keys each kind of indicator accepts. */
static const char *const STOCK_KEYS[] = {"code", "retired_from", "kind",   "label", "over", "start",
                                         "end",  "period",       "filter", "by",    NULL};
static const char *const FLOW_KEYS[] = {"code", "retired_from", "kind",   "label", "over",
                                        "date", "period",       "filter", "by",    NULL};
static const char *const REACH_KEYS[] = {"code",   "retired_from", "kind", "label",
                                         "over",   "start",        "end",  "distinct",
                                         "period", "filter",       "by",   NULL};
static const char *const VALUE_KEYS[] = {"code",   "retired_from", "kind", "label",
                                         "period", "by",           NULL};
static const char *const RATIO_KEYS[] = {
    "code", "retired_from", "kind", "label", "numerator", "denominator", "factor", "by", NULL};
static const char *const AFTER_KEYS[] = {"code",   "retired_from", "kind", "label",   "measure",
                                         "over",   "start",        "end",  "support", "period",
                                         "filter", "by",           NULL};
static const char *const *const KIND_KEYS[] = {STOCK_KEYS, FLOW_KEYS,  REACH_KEYS,
                                               VALUE_KEYS, RATIO_KEYS, AFTER_KEYS};

_Static_assert(CATALOG_MAX_BANDS < CATALOG_MAX_VALUES,
               "age band options are the bands plus \"unknown\"");

static const char *field_list(char *buf, size_t sz, const catalog_rtype *t)
{
    return cj_join(buf, sz, t->fields[0].name, sizeof t->fields[0], t->nfields);
}

/* ---- record types ---------------------------------------------------- */

static int load_field(cj_loader *ld, catalog_rtype *t, size_t idx, json_t *o)
{
    catalog_t *c = ld->c;
    catalog_field *f = &t->fields[idx];
    char entry[CJ_ENTRY_MAX];
    bool pii_given, req_given;
    int rc, type = -1;
    snprintf(entry, sizeof entry, "record type %s: fields[%zu]", t->name, idx);
    if (!json_is_object(o))
        return cj_bad(ld, entry, "expected an object");
    if ((rc = cj_get_name(ld, entry, o, "name", true, f->name)))
        return rc;
    snprintf(entry, sizeof entry, "record type %s: field %s", t->name, f->name);
    if (catalog_field_find(t, f->name) >= 0)
        return cj_bad(ld, entry, "duplicate field name");
    if ((rc = cj_check_keys(ld, entry, o, FIELD_KEYS, "")) ||
        (rc = cj_get_word(ld, entry, o, "type", FIELD_TYPES, true, &type)) ||
        (rc = cj_get_bool(ld, entry, o, "pii", &f->pii, &pii_given)) ||
        (rc = cj_get_bool(ld, entry, o, "required", &f->required, &req_given)))
        return rc;
    f->type = (catalog_field_type)type;
    f->ref_type = -1;
    bool is_key = f->type == FIELD_REF || strcmp(f->name, "id") == 0;
    if (is_key && req_given && !f->required)
        return cj_bad(ld, entry, "the id and the ref field are always required");
    if (is_key && f->pii)
        return cj_bad(ld, entry, "the id and the ref field identify records and cannot be pii");
    f->required |= is_key;
    if (f->type != FIELD_ENUM && json_object_get(o, "values"))
        return cj_bad(ld, entry, "'values' is only allowed for type enum");
    if (f->type != FIELD_REF && json_object_get(o, "ref"))
        return cj_bad(ld, entry, "'ref' is only allowed for type ref");
    if (f->type == FIELD_ENUM)
        return cj_get_values(ld, entry, o, "values", f->values, &f->nvalues);
    if (f->type == FIELD_REF) {
        char target[CATALOG_NAME_MAX], list[CJ_LIST_MAX];
        if ((rc = cj_get_name(ld, entry, o, "ref", true, target)))
            return rc;
        f->ref_type = catalog_rtype_find(c, target);
        if (f->ref_type < 0)
            return cj_bad(
                ld, entry, "unknown record type '%s' (record types: %s)", target,
                cj_join(list, sizeof list, c->types[0].name, sizeof c->types[0], c->ntypes));
        if (&c->types[f->ref_type] == t)
            return cj_bad(ld, entry, "a record type cannot reference itself");
    }
    return TS_OK;
}

static int load_rtype(cj_loader *ld, catalog_rtype *t, json_t *o)
{
    char entry[CJ_ENTRY_MAX];
    json_t *fields, *fo;
    size_t i;
    int rc;
    snprintf(entry, sizeof entry, "record type %s", t->name);
    if ((rc = cj_check_keys(ld, entry, o, RECORD_KEYS, "")) ||
        (rc = cj_get_array(ld, entry, o, "fields", true, CATALOG_MAX_FIELDS, &fields)))
        return rc;
    t->id_field = t->owner_ref = -1;
    json_array_foreach (fields, i, fo) {
        if ((rc = load_field(ld, t, i, fo)))
            return rc;
        t->nfields++;
        if (t->fields[i].type != FIELD_REF)
            continue;
        if (t->owner_ref >= 0)
            return cj_bad(ld, entry, "two ref fields (%s, %s): a record type has at most one owner",
                          t->fields[t->owner_ref].name, t->fields[i].name);
        t->owner_ref = (int)i;
    }
    t->id_field = catalog_field_find(t, "id");
    if (t->id_field < 0 || t->fields[t->id_field].type != FIELD_STRING)
        return cj_bad(ld, entry, "every record type needs a field 'id' of type string");
    return TS_OK;
}

static int load_records(cj_loader *ld, json_t *recs)
{
    catalog_t *c = ld->c;
    char entry[CJ_ENTRY_MAX];
    json_t *o;
    size_t i;
    int rc;
    json_array_foreach (recs, i, o) { /* names first: a ref may point forward */
        snprintf(entry, sizeof entry, "records[%zu]", i);
        if (!json_is_object(o))
            return cj_bad(ld, entry, "expected an object");
        if ((rc = cj_get_name(ld, entry, o, "name", true, c->types[i].name)))
            return rc;
        if (catalog_rtype_find(c, c->types[i].name) >= 0)
            return cj_bad(ld, entry, "duplicate record type '%s'", c->types[i].name);
        c->ntypes++;
    }
    json_array_foreach (recs, i, o)
        if ((rc = load_rtype(ld, &c->types[i], o)))
            return rc;
    for (int t = 0; t < c->ntypes; t++) { /* owner chains must end at a root */
        int at = t, hops = 0;
        while (at >= 0 && hops++ <= c->ntypes) {
            const catalog_rtype *r = &c->types[at];
            at = r->owner_ref < 0 ? -1 : r->fields[r->owner_ref].ref_type;
        }
        if (at >= 0) {
            snprintf(entry, sizeof entry, "record type %s", c->types[t].name);
            return cj_bad(ld, entry,
                          "its ref fields form a cycle and never reach a root record type");
        }
    }
    return TS_OK;
}

/* ---- categories ------------------------------------------------------- */

int catalog_get_qfield(cj_loader *ld, const char *entry, json_t *obj, const char *key, int *rt,
                       int *fi)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    const char *dot = s ? strchr(s, '.') : NULL;
    char tname[CATALOG_NAME_MAX], list[CJ_LIST_MAX];
    if (!dot || dot == s || (size_t)(dot - s) >= CATALOG_NAME_MAX)
        return cj_bad(ld, entry, "'%s' must be a string \"record_type.field\"", key);
    memcpy(tname, s, (size_t)(dot - s));
    tname[dot - s] = '\0';
    *rt = catalog_rtype_find(ld->c, tname);
    if (*rt < 0)
        return cj_bad(ld, entry, "'%s': unknown record type '%s' (record types: %s)", key, tname,
                      cj_join(list, sizeof list, ld->c->types[0].name, sizeof ld->c->types[0],
                              ld->c->ntypes));
    const catalog_rtype *t = &ld->c->types[*rt];
    *fi = catalog_field_find(t, dot + 1);
    if (*fi < 0)
        return cj_bad(ld, entry, "'%s': unknown field '%s' in record type %s (fields: %s)", key,
                      dot + 1, t->name, field_list(list, sizeof list, t));
    return TS_OK;
}

static int load_bands(cj_loader *ld, const char *entry, catalog_category *cat, json_t *bands)
{
    json_t *b;
    size_t i;
    int rc;
    if (json_array_size(bands) == 0)
        return cj_bad(ld, entry, "'bands' must not be empty");
    json_array_foreach (bands, i, b) {
        catalog_band *band = &cat->bands[i];
        json_t *from = json_object_get(b, "from"), *to = json_object_get(b, "to");
        if (!json_is_object(b))
            return cj_bad(ld, entry, "bands[%zu] must be an object", i);
        if ((rc = cj_check_keys(ld, entry, b, BAND_KEYS, " in a band")) ||
            (rc = cj_take_name(ld, entry, "band label", json_object_get(b, "label"), CJ_NAME_OPTION,
                               band->label)))
            return rc;
        if (strcmp(band->label, "unknown") == 0 || catalog_option_find(cat, band->label) >= 0)
            return cj_bad(ld, entry, "band label '%s' is reserved or used twice", band->label);
        if (!json_is_integer(from) || (to && !json_is_integer(to)))
            return cj_bad(ld, entry, "band %s: 'from' (and 'to' if given) must be integers",
                          band->label);
        band->lo = (int)json_integer_value(from);
        band->hi = to ? (int)json_integer_value(to) : -1;
        if (json_integer_value(from) < 0 || json_integer_value(from) > CATALOG_AGE_MAX ||
            (to &&
             (json_integer_value(to) < json_integer_value(from) ||
              json_integer_value(to) > CATALOG_AGE_MAX)))
            return cj_bad(ld, entry, "band %s: need 0 <= from <= to <= %d", band->label,
                          CATALOG_AGE_MAX);
        if (i > 0 && (cat->bands[i - 1].hi < 0 || band->lo <= cat->bands[i - 1].hi))
            return cj_bad(ld, entry,
                          "band %s overlaps or precedes band %s: bands must ascend without overlap",
                          band->label, cat->bands[i - 1].label);
        memcpy(cat->options[i], band->label, sizeof band->label);
        cat->nbands = cat->noptions = (int)i + 1;
    }
    memcpy(cat->options[cat->noptions++], "unknown", sizeof "unknown");
    return TS_OK;
}

static int load_category(cj_loader *ld, size_t idx, json_t *o)
{
    catalog_t *c = ld->c;
    catalog_category *cat = &c->cats[idx];
    char entry[CJ_ENTRY_MAX];
    json_t *bands;
    int rc;
    snprintf(entry, sizeof entry, "categories[%zu]", idx);
    if (!json_is_object(o))
        return cj_bad(ld, entry, "expected an object");
    if ((rc = cj_get_name(ld, entry, o, "name", true, cat->name)))
        return rc;
    snprintf(entry, sizeof entry, "category %s", cat->name);
    if (catalog_category_find(c, cat->name) >= 0)
        return cj_bad(ld, entry, "duplicate category name");
    if ((rc = cj_check_keys(ld, entry, o, CAT_KEYS, "")) ||
        (rc = cj_get_label(ld, entry, o, cat->name, cat->label_vi, cat->label_en)))
        return rc;
    bool by_field = json_object_get(o, "field") != NULL,
         by_age = json_object_get(o, "age_of") != NULL;
    if (by_field == by_age)
        return cj_bad(ld, entry,
                      "give exactly one of 'field' (an enum field) or 'age_of' (a date field)");
    if (by_field) {
        cat->kind = CAT_FIELD;
        if ((rc = catalog_get_qfield(ld, entry, o, "field", &cat->rtype, &cat->field)))
            return rc;
        const catalog_field *f = &c->types[cat->rtype].fields[cat->field];
        if (f->type != FIELD_ENUM)
            return cj_bad(ld, entry, "'field': %s is of type %s, a category needs an enum field",
                          f->name, FIELD_TYPES[f->type]);
        if (f->pii)
            return cj_bad(ld, entry, "'field': %s is pii; pii fields may only feed 'age_of'",
                          f->name);
        if (json_object_get(o, "bands"))
            return cj_bad(ld, entry, "'bands' is only allowed with 'age_of'");
        cat->noptions = f->nvalues;
        memcpy(cat->options, f->values, sizeof cat->options);
        return TS_OK;
    }
    cat->kind = CAT_AGE_BAND;
    if ((rc = catalog_get_qfield(ld, entry, o, "age_of", &cat->rtype, &cat->field)))
        return rc;
    const catalog_field *f = &c->types[cat->rtype].fields[cat->field];
    if (f->type != FIELD_DATE)
        return cj_bad(ld, entry, "'age_of': %s is of type %s, expected a date field", f->name,
                      FIELD_TYPES[f->type]);
    if ((rc = cj_get_array(ld, entry, o, "bands", true, CATALOG_MAX_BANDS, &bands)))
        return rc;
    return load_bands(ld, entry, cat, bands);
}

/* ---- indicators ------------------------------------------------------- */

/* obj[key] names a field of the indicator's record type, of type want. */
static int get_ind_field(cj_loader *ld, const char *entry, const catalog_indicator *ind,
                         json_t *obj, const char *key, bool required, catalog_field_type want,
                         int *out)
{
    const catalog_rtype *t = &ld->c->types[ind->rtype];
    char name[CATALOG_NAME_MAX], list[CJ_LIST_MAX];
    int rc;
    *out = -1;
    if ((rc = cj_get_name(ld, entry, obj, key, required, name)) || !name[0])
        return rc;
    int fi = catalog_field_find(t, name);
    if (fi < 0)
        return cj_bad(ld, entry, "unknown field '%s' in record type %s (key '%s'; fields: %s)",
                      name, t->name, key, field_list(list, sizeof list, t));
    if (t->fields[fi].type != want)
        return cj_bad(ld, entry, "'%s': field %s of record type %s is of type %s, expected %s", key,
                      name, t->name, FIELD_TYPES[t->fields[fi].type], FIELD_TYPES[want]);
    *out = fi;
    return TS_OK;
}

static int load_filter(cj_loader *ld, const char *entry, catalog_indicator *ind, size_t idx,
                       json_t *o)
{
    catalog_filter *fl = &ind->filters[idx];
    const catalog_rtype *t = &ld->c->types[ind->rtype];
    char fentry[CJ_ENTRY_MAX + 32];
    int rc, op = -1;
    snprintf(fentry, sizeof fentry, "%s: filter[%zu]", entry, idx);
    if (!json_is_object(o))
        return cj_bad(ld, fentry, "expected an object");
    if ((rc = cj_check_keys(ld, fentry, o, FILTER_KEYS, "")) ||
        (rc = cj_get_word(ld, fentry, o, "op", OPS, true, &op)))
        return rc;
    fl->op = (catalog_filter_op)op;
    char name[CATALOG_NAME_MAX], list[CJ_LIST_MAX];
    if ((rc = cj_get_name(ld, fentry, o, "field", true, name)))
        return rc;
    fl->field = catalog_field_find(t, name);
    if (fl->field < 0)
        return cj_bad(ld, fentry, "unknown field '%s' in record type %s (fields: %s)", name,
                      t->name, field_list(list, sizeof list, t));
    if (fl->op != FILTER_IN)
        return json_object_get(o, "values")
            ? cj_bad(ld, fentry, "'values' is only allowed with op \"in\"")
            : TS_OK;
    if ((rc = cj_get_values(ld, fentry, o, "values", fl->values, &fl->nvalues)))
        return rc;
    const catalog_field *f = &t->fields[fl->field];
    if (f->type != FIELD_ENUM)
        return TS_OK;
    for (int i = 0; i < fl->nvalues; i++) {
        int known = 0;
        for (int j = 0; j < f->nvalues; j++)
            known |= strcmp(f->values[j], fl->values[i]) == 0;
        if (!known)
            return cj_bad(
                ld, fentry, "'%s' is not a value of field %s (values: %s)", fl->values[i], f->name,
                cj_join(list, sizeof list, f->values[0], sizeof f->values[0], f->nvalues));
    }
    return TS_OK;
}

/* The record types whose categories an indicator over rt may use: rt and
 * its owners up to the root. */
static int owner_chain(const catalog_t *c, int rt, int chain[CATALOG_MAX_TYPES])
{
    int n = 0;
    while (rt >= 0 && n < CATALOG_MAX_TYPES) {
        const catalog_rtype *t = &c->types[rt];
        chain[n++] = rt;
        rt = t->owner_ref < 0 ? -1 : t->fields[t->owner_ref].ref_type;
    }
    return n;
}

static int load_by(cj_loader *ld, const char *entry, catalog_indicator *ind, json_t *o)
{
    const catalog_t *c = ld->c;
    json_t *by, *v;
    size_t i;
    int counted = ind->kind == IND_AFTER ? catalog_owner_type(c, ind->rtype) : ind->rtype;
    int chain[CATALOG_MAX_TYPES], nchain = counted < 0 ? 0 : owner_chain(c, counted, chain), rc;
    if ((rc = cj_get_array(ld, entry, o, "by", false, CATALOG_MAX_IND_CATS, &by)) || !by)
        return rc;
    json_array_foreach (by, i, v) {
        char name[CATALOG_NAME_MAX], list[CJ_LIST_MAX];
        if ((rc = cj_take_name(ld, entry, "category in 'by'", v, CJ_NAME_PLAIN, name)))
            return rc;
        int ci = catalog_category_find(c, name);
        if (ci < 0)
            return cj_bad(ld, entry, "unknown category '%s' (categories: %s)", name,
                          cj_join(list, sizeof list, c->cats[0].name, sizeof c->cats[0], c->ncats));
        for (int k = 0; k < ind->ncats; k++)
            if (ind->cats[k] == ci)
                return cj_bad(ld, entry, "category %s appears twice in 'by'", name);
        bool ok = ind->kind == IND_VALUE || ind->kind == IND_RATIO;
        for (int k = 0; k < nchain; k++)
            ok |= chain[k] == c->cats[ci].rtype;
        if (!ok) {
            size_t len = 0;
            list[0] = '\0';
            for (int k = 0; k < nchain && len < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                                        c->types[chain[k]].name);
            return cj_bad(
                ld, entry,
                "category %s comes from record type %s, not reachable from %s (reachable: %s)",
                name, c->types[c->cats[ci].rtype].name, c->types[counted].name, list);
        }
        ind->cats[ind->ncats++] = ci;
    }
    return TS_OK;
}

/* over, start/end/date/distinct, period and filters, by kind. */
static int load_counted(cj_loader *ld, const char *entry, catalog_indicator *ind, json_t *o)
{
    catalog_t *c = ld->c;
    char over[CATALOG_NAME_MAX], list[CJ_LIST_MAX];
    json_t *filters, *fo;
    size_t i;
    int rc, period = ind->kind == IND_REACH ? PERIOD_YEAR : PERIOD_MONTH;
    if ((rc = cj_get_name(ld, entry, o, "over", true, over)))
        return rc;
    ind->rtype = catalog_rtype_find(c, over);
    if (ind->rtype < 0)
        return cj_bad(ld, entry, "'over': unknown record type '%s' (record types: %s)", over,
                      cj_join(list, sizeof list, c->types[0].name, sizeof c->types[0], c->ntypes));
    bool flow = ind->kind == IND_FLOW, reach = ind->kind == IND_REACH,
         after = ind->kind == IND_AFTER;
    if ((rc = get_ind_field(ld, entry, ind, o, flow ? "date" : "start", true, FIELD_DATE,
                            &ind->start_field)) ||
        (!flow &&
         (rc = get_ind_field(ld, entry, ind, o, "end", reach || after, FIELD_DATE,
                             &ind->end_field))) ||
        (reach &&
         (rc = get_ind_field(ld, entry, ind, o, "distinct", false, FIELD_REF,
                             &ind->distinct_field))) ||
        (rc = cj_get_word(ld, entry, o, "period", PERIODS, false, &period)))
        return rc;
    if (ind->end_field >= 0 && ind->end_field == ind->start_field)
        return cj_bad(ld, entry, "'end' must differ from 'start'");
    if ((int)ind->period != period)
        return cj_bad(ld, entry, "a %s indicator has period \"%s\"; omit 'period' or give that",
                      KINDS[ind->kind], PERIODS[ind->period]);
    if ((rc = cj_get_array(ld, entry, o, "filter", false, CATALOG_MAX_FILTERS, &filters)) ||
        !filters)
        return rc;
    json_array_foreach (filters, i, fo) {
        if ((rc = load_filter(ld, entry, ind, i, fo)))
            return rc;
        ind->nfilters++;
    }
    return TS_OK;
}

/* "retired_from": "YYYYMM", the first month no value is entered. */
static int load_retired(cj_loader *ld, const char *entry, catalog_indicator *ind, json_t *o)
{
    json_t *v = json_object_get(o, "retired_from");
    catalog_indicator month = {.period = PERIOD_MONTH};
    ts_err pe;
    if (!v)
        return TS_OK;
    if (!json_is_string(v) || catalog_period_check(&month, json_string_value(v), &pe))
        return cj_bad(ld, entry, "'retired_from' must be a month YYYYMM (e.g. \"202507\")");
    ind->retired_from = atoi(json_string_value(v));
    return TS_OK;
}

static int load_indicator(cj_loader *ld, size_t idx, json_t *o)
{
    catalog_t *c = ld->c;
    catalog_indicator *ind = &c->inds[idx];
    char entry[CJ_ENTRY_MAX];
    char where[32];
    int rc, kind = -1, period = PERIOD_ANY;
    snprintf(entry, sizeof entry, "indicators[%zu]", idx);
    if (!json_is_object(o))
        return cj_bad(ld, entry, "expected an object");
    if ((rc = cj_get_name(ld, entry, o, "code", true, ind->code)))
        return rc;
    snprintf(entry, sizeof entry, "indicator %s", ind->code);
    if (catalog_indicator_find(c, ind->code))
        return cj_bad(ld, entry, "duplicate indicator code");
    if ((rc = cj_get_word(ld, entry, o, "kind", KINDS, true, &kind)))
        return rc;
    snprintf(where, sizeof where, " for a %s indicator", KINDS[kind]);
    if ((rc = cj_check_keys(ld, entry, o, KIND_KEYS[kind], where)) ||
        (rc = cj_get_label(ld, entry, o, ind->code, ind->label_vi, ind->label_en)))
        return rc;
    ind->kind = (catalog_kind)kind;
    ind->rtype = ind->start_field = ind->end_field = ind->distinct_field = -1;
    ind->numerator = ind->denominator = ind->support_rtype = ind->support_field = -1;
    if (ind->kind == IND_VALUE) {
        if ((rc = cj_get_word(ld, entry, o, "period", PERIODS, false, &period)))
            return rc;
        ind->period = (catalog_period)period;
    } else if (ind->kind == IND_RATIO) {
        if ((rc = catalog_load_ratio(ld, entry, ind, o)))
            return rc;
    } else {
        ind->period = ind->kind == IND_REACH ? PERIOD_YEAR : PERIOD_MONTH;
        if ((rc = load_counted(ld, entry, ind, o)) ||
            (ind->kind == IND_AFTER && (rc = catalog_load_after(ld, entry, ind, o))))
            return rc;
    }
    if ((rc = load_retired(ld, entry, ind, o)) || (rc = load_by(ld, entry, ind, o)))
        return rc;
    return ind->kind == IND_RATIO ? catalog_check_ratio_by(ld, entry, ind) : TS_OK;
}

static int load_root(cj_loader *ld, json_t *root)
{
    catalog_t *c = ld->c;
    const char *entry = "top level";
    json_t *recs, *cats, *inds, *o, *version;
    size_t i;
    int rc;
    if (!json_is_object(root))
        return cj_bad(ld, entry, "expected a JSON object");
    if ((rc = cj_check_keys(ld, entry, root, ROOT_KEYS, "")) ||
        (rc = cj_get_name(ld, entry, root, "id", true, c->id)))
        return rc;
    version = json_object_get(root, "version");
    if (!json_is_integer(version) || json_integer_value(version) < 1 ||
        json_integer_value(version) > INT_MAX)
        return cj_bad(ld, entry, "'version' must be a positive integer");
    c->version = (int)json_integer_value(version);
    c->after_months = CATALOG_AFTER_MONTHS_DEFAULT;
    if ((rc = cj_get_int(ld, entry, root, "post_rehab_months", 1, CATALOG_AFTER_MONTHS_MAX,
                         &c->after_months)))
        return rc;
    if ((rc = cj_get_array(ld, entry, root, "records", true, CATALOG_MAX_TYPES, &recs)) ||
        (rc = cj_get_array(ld, entry, root, "categories", true, CATALOG_MAX_CATEGORIES, &cats)) ||
        (rc = cj_get_array(ld, entry, root, "indicators", true, CATALOG_MAX_INDICATORS, &inds)))
        return rc;
    if (json_array_size(inds) == 0)
        return cj_bad(ld, entry, "'indicators' must not be empty");
    if ((rc = load_records(ld, recs)))
        return rc;
    json_array_foreach (cats, i, o) {
        if ((rc = load_category(ld, i, o)))
            return rc;
        c->ncats++;
    }
    json_array_foreach (inds, i, o) {
        if ((rc = load_indicator(ld, i, o)))
            return rc;
        c->ninds++;
    }
    return TS_OK;
}

int catalog_load(catalog_t **out, const char *path, ts_err *e)
{
    *out = NULL;
    if (!path)
        return ts_fail(e, TS_EINPUT, "no catalog path given");
    if (strlen(path) >= sizeof(((catalog_t *)NULL)->path))
        return ts_fail(e, TS_EINPUT, "%.64s...: catalog path too long", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ts_fail(e, TS_ERUNTIME, "%s: cannot open catalog: %s", path, strerror(errno));
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    bool read_failed = ferror(f) != 0;
    fclose(f);
    if (!root && read_failed)
        return ts_fail(e, TS_ERUNTIME, "%s: cannot read catalog", path);
    if (!root)
        return ts_fail(e, TS_EINPUT, "%s: line %d, column %d: invalid JSON: %s", path, je.line,
                       je.column, je.text);
    catalog_t *c = calloc(1, sizeof *c);
    if (!c) {
        json_decref(root);
        return ts_fail(e, TS_ERUNTIME, "%s: out of memory", path);
    }
    memcpy(c->path, path, strlen(path) + 1);
    cj_loader ld = {c, path, e};
    int rc = load_root(&ld, root);
    json_decref(root);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return TS_OK;
}

void catalog_destroy(catalog_t **c)
{
    if (!c)
        return;
    free(*c);
    *c = NULL;
}
