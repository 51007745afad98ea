/* catalog_kinds.c: the loader's rules for the two indicator kinds built on
 * others: `ratio` (computed at read time from a numerator and a
 * denominator indicator) and `after` (owners counted in the period after
 * an ended record: post-rehab management), and the questions about kinds
 * the rest of the node asks. docs/CATALOG.md states the rules. */
#include <string.h>

#include "catalog_json.h"

static const char *const MEASURES[] = {"within", "restarted", "supported",
                                       NULL}; /* catalog_after */

bool catalog_is_stored(const catalog_indicator *ind)
{
    return ind->kind != IND_RATIO;
}

bool catalog_is_counted(const catalog_indicator *ind)
{
    return ind->kind != IND_VALUE && ind->kind != IND_RATIO;
}

int catalog_owner_type(const catalog_t *c, int rt)
{
    const catalog_rtype *t = rt < 0 ? NULL : &c->types[rt];
    return !t || t->owner_ref < 0 ? -1 : t->fields[t->owner_ref].ref_type;
}

/* obj[key] names an indicator declared earlier that a ratio may divide. */
static int get_part(cj_loader *ld, const char *entry, json_t *o, const char *key, int *out)
{
    const catalog_t *c = ld->c;
    char code[CATALOG_NAME_MAX];
    int rc = cj_get_name(ld, entry, o, key, true, code);
    if (rc)
        return rc;
    const catalog_indicator *part = catalog_indicator_find(c, code);
    if (!part)
        return cj_bad(ld, entry,
                      "'%s': no indicator %s declared before this one (a ratio's parts come first)",
                      key, code);
    if (part->kind == IND_RATIO)
        return cj_bad(ld, entry, "'%s': %s is itself a ratio; a ratio divides stored indicators",
                      key, code);
    *out = (int)(part - c->inds);
    return TS_OK;
}

int catalog_load_ratio(cj_loader *ld, const char *entry, catalog_indicator *ind, json_t *o)
{
    static const char *const periods[] = {"month", "year", "any"};
    int rc;
    ind->factor = 1;
    if ((rc = get_part(ld, entry, o, "numerator", &ind->numerator)) ||
        (rc = get_part(ld, entry, o, "denominator", &ind->denominator)) ||
        (rc = cj_get_int(ld, entry, o, "factor", 1, CATALOG_FACTOR_MAX, &ind->factor)))
        return rc;
    const catalog_indicator *n = &ld->c->inds[ind->numerator], *d = &ld->c->inds[ind->denominator];
    if (n == d)
        return cj_bad(ld, entry, "numerator and denominator are both %s", n->code);
    if (n->period != d->period)
        return cj_bad(
            ld, entry,
            "numerator %s has period \"%s\" but denominator %s has \"%s\"; they must match",
            n->code, periods[n->period], d->code, periods[d->period]);
    ind->period = n->period;
    return TS_OK;
}

static bool has_category(const catalog_indicator *ind, int cat)
{
    for (int k = 0; k < ind->ncats; k++)
        if (ind->cats[k] == cat)
            return true;
    return false;
}

int catalog_check_ratio_by(cj_loader *ld, const char *entry, const catalog_indicator *ind)
{
    const catalog_t *c = ld->c;
    const catalog_indicator *parts[] = {&c->inds[ind->numerator], &c->inds[ind->denominator]};
    for (int j = 0; j < ind->ncats; j++)
        for (int p = 0; p < 2; p++)
            if (!has_category(parts[p], ind->cats[j]))
                return cj_bad(
                    ld, entry,
                    "category %s is not one of %s %s's; a ratio's categories are its parts'",
                    c->cats[ind->cats[j]].name, p ? "denominator" : "numerator", parts[p]->code);
    return TS_OK;
}

int catalog_load_after(cj_loader *ld, const char *entry, catalog_indicator *ind, json_t *o)
{
    const catalog_t *c = ld->c;
    int rc, measure = -1;
    int owner = catalog_owner_type(c, ind->rtype);
    if (owner < 0)
        return cj_bad(ld, entry,
                      "'over': %s is a root record type; an after indicator counts the owners "
                      "(e.g. persons) of the records it is over",
                      c->types[ind->rtype].name);
    if ((rc = cj_get_word(ld, entry, o, "measure", MEASURES, true, &measure)))
        return rc;
    ind->measure = (catalog_after)measure;
    bool support = json_object_get(o, "support") != NULL;
    if (support != (ind->measure == AFTER_SUPPORTED))
        return cj_bad(ld, entry,
                      "'support' is required with measure \"supported\" and allowed with no other");
    if (!support)
        return TS_OK;
    if ((rc = catalog_get_qfield(ld, entry, o, "support", &ind->support_rtype,
                                 &ind->support_field)))
        return rc;
    const catalog_rtype *t = &c->types[ind->support_rtype];
    if (t->fields[ind->support_field].type != FIELD_DATE)
        return cj_bad(ld, entry, "'support': %s.%s is not a date field", t->name,
                      t->fields[ind->support_field].name);
    if (catalog_owner_type(c, ind->support_rtype) != owner)
        return cj_bad(ld, entry,
                      "'support': records of type %s are not owned by %s, the owner counted",
                      t->name, c->types[owner].name);
    return TS_OK;
}
