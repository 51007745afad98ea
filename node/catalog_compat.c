/* catalog_compat.c: whether a catalog version may follow the one in force
 * (catalog_doc.h). A code never changes meaning: every record type, field,
 * category and indicator of the current version stays where it is and as it
 * is; a new version may only append (types, fields that are not required,
 * enum values and category options, categories, indicators) and retire an
 * indicator from a month. */
#include <stdio.h>
#include <string.h>

#include "catalog_doc.h"

static const char *const KIND_NAMES[] = {"stock", "flow", "reach", "value", "ratio", "after"};
static const char *const PERIOD_NAMES[] = {"month", "year", "any"};

static const char *kind_name(catalog_kind k)
{
    return (unsigned)k < sizeof KIND_NAMES / sizeof *KIND_NAMES ? KIND_NAMES[k] : "?";
}

static const char *period_name(catalog_period p)
{
    return (unsigned)p < sizeof PERIOD_NAMES / sizeof *PERIOD_NAMES ? PERIOD_NAMES[p] : "?";
}

static int refuse(ts_err *e, const char *what, const char *name, const char *why)
{
    return ts_fail(e, TS_EINPUT,
                   "%s %s: %s (a new catalog version may only add codes, options and fields, "
                   "or retire an indicator; use a new code for a new meaning)",
                   what, name, why);
}

/* old's values, in order, are the first values of new's. */
static bool values_kept(char old[][CATALOG_NAME_MAX], int nold, char new[][CATALOG_NAME_MAX],
                        int nnew)
{
    if (nnew < nold)
        return false;
    for (int i = 0; i < nold; i++)
        if (strcmp(old[i], new[i]) != 0)
            return false;
    return true;
}

static int check_field(const char *tname, const catalog_field *a, const catalog_field *b, ts_err *e)
{
    char who[2 * CATALOG_NAME_MAX + 2];
    snprintf(who, sizeof who, "%s.%s", tname, a->name);
    if (strcmp(a->name, b->name) != 0)
        return refuse(e, "field", who, "renamed, removed or moved (new fields go at the end)");
    if (a->type != b->type || a->ref_type != b->ref_type)
        return refuse(e, "field", who, "its type changed");
    if (a->pii != b->pii)
        return refuse(e, "field", who, "its pii flag changed");
    if (a->required != b->required)
        return refuse(e, "field", who, "its required flag changed");
    if (!values_kept((char(*)[CATALOG_NAME_MAX])a->values, a->nvalues,
                     (char(*)[CATALOG_NAME_MAX])b->values, b->nvalues))
        return refuse(e, "field", who,
                      "values removed, renamed or reordered (new values go at the end)");
    return TS_OK;
}

static int check_type(const catalog_rtype *a, const catalog_rtype *b, ts_err *e)
{
    if (strcmp(a->name, b->name) != 0)
        return refuse(e, "record type", a->name,
                      "renamed, removed or moved (new types go at the end)");
    if (b->nfields < a->nfields)
        return refuse(e, "record type", a->name, "fields removed");
    for (int i = 0; i < a->nfields; i++)
        if (check_field(a->name, &a->fields[i], &b->fields[i], e))
            return e->code;
    for (int i = a->nfields; i < b->nfields; i++)
        if (b->fields[i].required) {
            char who[2 * CATALOG_NAME_MAX + 2];
            snprintf(who, sizeof who, "%s.%s", a->name, b->fields[i].name);
            return refuse(e, "field", who, "a new field cannot be required (records kept lack it)");
        }
    return TS_OK;
}

static int check_category(const catalog_category *a, const catalog_category *b, ts_err *e)
{
    if (strcmp(a->name, b->name) != 0)
        return refuse(e, "category", a->name,
                      "renamed, removed or moved (new categories go at the end)");
    if (a->kind != b->kind || a->rtype != b->rtype || a->field != b->field)
        return refuse(e, "category", a->name, "its source changed");
    if (a->nbands != b->nbands ||
        (a->nbands && memcmp(a->bands, b->bands, (size_t)a->nbands * sizeof a->bands[0]) != 0))
        return refuse(e, "category", a->name, "its age bands changed");
    if (!values_kept((char(*)[CATALOG_NAME_MAX])a->options, a->noptions,
                     (char(*)[CATALOG_NAME_MAX])b->options, b->noptions))
        return refuse(e, "category", a->name,
                      "options removed, renamed or reordered (new options go at the end)");
    return TS_OK;
}

static bool filters_same(const catalog_indicator *a, const catalog_indicator *b)
{
    if (a->nfilters != b->nfilters)
        return false;
    for (int i = 0; i < a->nfilters; i++) {
        const catalog_filter *x = &a->filters[i], *y = &b->filters[i];
        if (x->field != y->field || x->op != y->op || x->nvalues != y->nvalues)
            return false;
        for (int j = 0; j < x->nvalues; j++)
            if (strcmp(x->values[j], y->values[j]) != 0)
                return false;
    }
    return true;
}

static int check_indicator(const catalog_indicator *a, const catalog_indicator *b, ts_err *e)
{
    char why[160];
    if (strcmp(a->code, b->code) != 0)
        return refuse(e, "indicator", a->code,
                      "renamed, removed or moved (new indicators go at the end)");
    if (a->kind != b->kind) {
        snprintf(why, sizeof why, "its kind changed from %s to %s", kind_name(a->kind),
                 kind_name(b->kind));
        return refuse(e, "indicator", a->code, why);
    }
    if (a->period != b->period) {
        snprintf(why, sizeof why, "its period type changed from %s to %s", period_name(a->period),
                 period_name(b->period));
        return refuse(e, "indicator", a->code, why);
    }
    if (a->rtype != b->rtype || a->start_field != b->start_field || a->end_field != b->end_field ||
        a->distinct_field != b->distinct_field || !filters_same(a, b))
        return refuse(e, "indicator", a->code,
                      "its source changed (record type, dates, distinct or filters)");
    if (a->ncats != b->ncats || memcmp(a->cats, b->cats, (size_t)a->ncats * sizeof a->cats[0]) != 0)
        return refuse(e, "indicator", a->code, "its categories changed");
    if (a->kind == IND_RATIO &&
        (a->numerator != b->numerator || a->denominator != b->denominator ||
         a->factor != b->factor))
        return refuse(e, "indicator", a->code, "its numerator, denominator or factor changed");
    if (a->kind == IND_AFTER &&
        (a->measure != b->measure || a->support_rtype != b->support_rtype ||
         a->support_field != b->support_field))
        return refuse(e, "indicator", a->code, "its measure or support changed");
    if (a->retired_from && a->retired_from != b->retired_from)
        return refuse(e, "indicator", a->code, "its retirement month changed or was withdrawn");
    return TS_OK;
}

int catalog_compat_check(const catalog_t *cur, const catalog_t *next, ts_err *e)
{
    if (strcmp(cur->id, next->id) != 0)
        return ts_fail(e, TS_EINPUT,
                       "catalog id '%s' is not the id in force '%s' (a version keeps its id)",
                       next->id, cur->id);
    if (next->after_months != cur->after_months)
        return ts_fail(
            e, TS_EINPUT,
            "post_rehab_months changed from %d to %d: every 'after' indicator would change meaning "
            "(use new codes in a new catalog)",
            cur->after_months, next->after_months);
    if (next->version <= cur->version)
        return ts_fail(e, TS_EINPUT, "catalog %s version %d is not newer than version %d in force",
                       next->id, next->version, cur->version);
    int nt = cur->ntypes < next->ntypes ? cur->ntypes : next->ntypes;
    int nc = cur->ncats < next->ncats ? cur->ncats : next->ncats;
    int ni = cur->ninds < next->ninds ? cur->ninds : next->ninds;
    for (int i = 0; i < nt; i++)
        if (check_type(&cur->types[i], &next->types[i], e))
            return e->code;
    for (int i = 0; i < nc; i++)
        if (check_category(&cur->cats[i], &next->cats[i], e))
            return e->code;
    for (int i = 0; i < ni; i++)
        if (check_indicator(&cur->inds[i], &next->inds[i], e))
            return e->code;
    if (next->ntypes < cur->ntypes)
        return refuse(e, "record type", cur->types[nt].name, "removed");
    if (next->ncats < cur->ncats)
        return refuse(e, "category", cur->cats[nc].name, "removed");
    if (next->ninds < cur->ninds)
        return refuse(e, "indicator", cur->inds[ni].code, "removed");
    return TS_OK;
}
