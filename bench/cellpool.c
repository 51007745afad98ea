/* cellpool.c: enumerating valid cells of a catalog (see cellpool.h). */
#include "cellpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELLPOOL_FIRST_YEAR 2025
#define CELLPOOL_MAX_STEPS 1200 /* periods tried: 100 years of months */

/* The period of step i for ind (years count back from CELLPOOL_FIRST_YEAR). */
static void period_of(const catalog_indicator *ind, unsigned i, char *out, size_t n)
{
    unsigned year = (CELLPOOL_FIRST_YEAR - i / (ind->period == PERIOD_YEAR ? 1 : 12)) % 10000u;
    if (ind->period == PERIOD_YEAR)
        snprintf(out, n, "%04u", year);
    else
        snprintf(out, n, "%04u%02u", year, 12 - i % 12);
}

static void add(cellpool *p, size_t max, const char *unit, const catalog_indicator *ind,
                const char *period, const char *options)
{
    if (p->n < max && cell_set(&p->cells[p->n], unit, ind->code, period, options, NULL) == TS_OK)
        p->n++;
}

/* Every option combination of ind, canonical; step i's period. */
static void add_combos(cellpool *p, size_t max, const catalog_t *cat, const char *unit,
                       const catalog_indicator *ind, unsigned step)
{
    char period[CELL_PERIOD_MAX];
    period_of(ind, step, period, sizeof period);
    if (catalog_period_check(ind, period, NULL) != TS_OK)
        return;
    size_t combos = 1;
    for (int k = 0; k < ind->ncats; k++)
        combos *= (size_t)cat->cats[ind->cats[k]].noptions;
    for (size_t c = 0; c < combos && p->n < max; c++) {
        char in[CELL_OPTIONS_MAX] = "", canon[CELL_OPTIONS_MAX];
        size_t rest = c, len = 0;
        for (int k = 0; k < ind->ncats; k++) {
            const catalog_category *cc = &cat->cats[ind->cats[k]];
            int w = snprintf(in + len, sizeof in - len, "%s%s=%s", k ? "," : "", cc->name,
                             cc->options[rest % (size_t)cc->noptions]);
            rest /= (size_t)cc->noptions;
            if (w < 0 || (size_t)w >= sizeof in - len)
                return;
            len += (size_t)w;
        }
        if (catalog_options_canon(cat, ind, in, canon, sizeof canon, NULL) == TS_OK)
            add(p, max, unit, ind, period, canon);
    }
}

static int by_key(const void *a, const void *b)
{
    char ka[CELL_KEY_MAX], kb[CELL_KEY_MAX];
    size_t la = cell_key(a, ka), lb = cell_key(b, kb);
    int c = memcmp(ka, kb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

int cellpool_make(cellpool *p, const catalog_t *cat, const char *unit, size_t max, bool value_only,
                  ts_err *e)
{
    p->cells = calloc(max ? max : 1, sizeof *p->cells);
    p->n = 0;
    for (unsigned step = 0; step < CELLPOOL_MAX_STEPS && p->n < max; step++)
        for (int i = 0; i < cat->ninds && p->n < max; i++)
            if (catalog_is_stored(&cat->inds[i]) && (!value_only || cat->inds[i].kind == IND_VALUE))
                add_combos(p, max, cat, unit, &cat->inds[i], step); /* a ratio never travels */
    if (p->n == 0) {
        cellpool_free(p);
        return ts_fail(e, TS_EINPUT, "catalog %s yields no %scell for unit %s", cat->id,
                       value_only ? "value " : "", unit);
    }
    qsort(p->cells, p->n, sizeof *p->cells, by_key);
    return TS_OK;
}

void cellpool_free(cellpool *p)
{
    free(p->cells);
    p->cells = NULL;
    p->n = 0;
}
