/* agg.c: the contribution function, deltas and month turn-over (agg.h).
 *
 * A cell of this node is packed into a uint64 while it is counted:
 *   bits  0-15  option index of each of the indicator's categories, 4 bits each
 *   bits 16-31  period: (year - 1900) * 13 + month, month 0 for a year
 *   bits 32-37  indicator index in the catalog
 *   bit  38     always set, so no key is 0
 *   bits 40-63  reach with `distinct` and after: the counted owner + 1, used
 *               only to count each owner once per cell, then cleared. */
#include "agg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclose.h"
#include "hmap.h"
#include "util.h"

#define KEY_OPT_BITS 4
#define KEY_PERIOD_SHIFT 16
#define KEY_IND_SHIFT 32
#define KEY_MARK (1ULL << 38)
#define KEY_TARGET_SHIFT 40
#define KEY_CELL_MASK ((1ULL << KEY_TARGET_SHIFT) - 1)
#define PERIOD_BASE_YEAR 1900

_Static_assert(CATALOG_MAX_VALUES <= 1 << KEY_OPT_BITS, "an option index fits its bits");
_Static_assert(KEY_PERIOD_SHIFT / KEY_OPT_BITS >= CATALOG_MAX_IND_CATS,
               "options fit below the period");
_Static_assert(CATALOG_MAX_INDICATORS <= 64, "an indicator index fits 6 bits");

struct agg {
    const catalog_t *c;
    hmap_i64 delta;
    hmap_i64 keys;       /* cell key change of each cell in delta (sums of +-shares) */
    uint64_t record_key; /* of the cluster being counted; 0: it has none yet */
    uint64_t hashed;     /* bit k: share[k] is computed for record_key */
    uint32_t share[CATALOG_MAX_INDICATORS]; /* disclose_record_hash(record_key, indicator k) */
    uint64_t *seen;                         /* reach-distinct keys of the current cluster */
    size_t nseen, capseen;
    int nby[CATALOG_MAX_TYPES];
    int by[CATALOG_MAX_TYPES][CATALOG_MAX_INDICATORS]; /* indicators over each type */
    int nafter;
    int after[CATALOG_MAX_INDICATORS];                      /* the `after` indicators */
    unsigned reads[CATALOG_MAX_INDICATORS];                 /* record types each depends on */
    int hops[CATALOG_MAX_INDICATORS][CATALOG_MAX_IND_CATS]; /* owner steps to a category's source */
    int order[CATALOG_MAX_INDICATORS][CATALOG_MAX_IND_CATS]; /* slots sorted by category name */
};

agg_window agg_window_upto(int today)
{
    return (agg_window){0, today / 100, 0, today / 10000};
}

/* Owner steps from record type t up to type want; -1 if not an owner. */
static int hops_to(const catalog_t *c, int t, int want)
{
    for (int h = 0; t >= 0 && h <= CATALOG_MAX_TYPES; h++) {
        if (t == want)
            return h;
        const catalog_rtype *r = &c->types[t];
        t = r->owner_ref < 0 ? -1 : r->fields[r->owner_ref].ref_type;
    }
    return -1;
}

agg_t *agg_new(const catalog_t *c)
{
    agg_t *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->c = c;
    hmap_i64_init(&a->delta);
    hmap_i64_init(&a->keys);
    for (int k = 0; k < c->ninds; k++) {
        const catalog_indicator *ind = &c->inds[k];
        if (!catalog_is_counted(ind))
            continue;
        a->reads[k] = 1u << ind->rtype;
        if (ind->kind != IND_AFTER)
            a->by[ind->rtype][a->nby[ind->rtype]++] = k;
        else
            a->after[a->nafter++] = k;
        if (ind->support_rtype >= 0)
            a->reads[k] |= 1u << ind->support_rtype;
        for (int j = 0; j < ind->ncats; j++)
            a->hops[k][j] = hops_to(c, ind->rtype, c->cats[ind->cats[j]].rtype);
        catalog_category_order(c, ind, a->order[k]);
    }
    return a;
}

void agg_destroy(agg_t **a)
{
    if (!a || !*a)
        return;
    hmap_i64_free(&(*a)->delta);
    hmap_i64_free(&(*a)->keys);
    free((*a)->seen);
    free(*a);
    *a = NULL;
}

unsigned agg_types_read(const agg_t *a, unsigned changed)
{
    unsigned need = changed;
    for (int k = 0; k < a->c->ninds; k++)
        if (a->reads[k] & changed)
            need |= a->reads[k];
    return records_with_owners(a->c, need);
}

void agg_reset(agg_t *a)
{
    hmap_i64_clear(&a->delta);
    hmap_i64_clear(&a->keys);
    a->nseen = 0;
}

/* ---- dates and periods ------------------------------------------------ */

static int month_end(int ym)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = ym / 100, m = ym % 100;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return ym * 100 + (m == 2 && leap ? 29 : days[m - 1]);
}

static int month_next(int ym)
{
    return ym % 100 == 12 ? (ym / 100 + 1) * 100 + 1 : ym + 1;
}

/* The day n months after ymd, the month's last day when it is shorter. */
static int add_months(int ymd, int n)
{
    int m = ymd / 100 % 100 - 1 + n, ym = (ymd / 10000 + m / 12) * 100 + m % 12 + 1;
    int last = month_end(ym) % 100;
    return ym * 100 + (ymd % 100 < last ? ymd % 100 : last);
}

static uint64_t period_month(int ym)
{
    return (uint64_t)((ym / 100 - PERIOD_BASE_YEAR) * 13 + ym % 100);
}

static uint64_t period_year(int y)
{
    return (uint64_t)((y - PERIOD_BASE_YEAR) * 13);
}

/* The option index of the age band at date `at` for a birth date (0 =
 * unknown): the bands are options 0..nbands-1, "unknown" is nbands. */
static int age_option(const catalog_category *cat, int birth, int at)
{
    if (!birth || birth > at)
        return cat->nbands;
    int age = at / 10000 - birth / 10000 - (at % 10000 < birth % 10000 ? 1 : 0);
    for (int b = 0; b < cat->nbands; b++)
        if (age >= cat->bands[b].lo && (cat->bands[b].hi < 0 || age <= cat->bands[b].hi))
            return b;
    return cat->nbands;
}

/* ---- one record ------------------------------------------------------- */

/* What an indicator needs of one record: fixed options and age sources. */
typedef struct {
    const catalog_indicator *ind;
    int k;          /* indicator index */
    uint64_t fixed; /* option bits of the enum categories */
    int nage;
    int age_slot[CATALOG_MAX_IND_CATS], birth[CATALOG_MAX_IND_CATS];
    uint64_t target; /* reach-distinct owner bits, 0 otherwise */
} counted;

static bool filters_hold(const catalog_indicator *ind, const rec_t *r)
{
    for (int i = 0; i < ind->nfilters; i++) {
        const catalog_filter *f = &ind->filters[i];
        const char *v = r->v[f->field];
        bool ok = f->op == FILTER_SET ? v[0] != '\0' : f->op == FILTER_EMPTY ? v[0] == '\0' : false;
        for (int j = 0; f->op == FILTER_IN && j < f->nvalues && !ok; j++)
            ok = strcmp(v, f->values[j]) == 0;
        if (!ok)
            return false;
    }
    return true;
}

/* Fills cn for record i of cl; false when the record cannot be counted. */
static bool categorise(const agg_t *a, const records_cluster *cl, int i, counted *cn)
{
    const catalog_t *c = a->c;
    cn->fixed = 0;
    cn->nage = 0;
    for (int j = 0; j < cn->ind->ncats; j++) {
        int src = i;
        for (int h = 0; h < a->hops[cn->k][j] && src >= 0; h++)
            src = cl->parent[src];
        if (src < 0 || a->hops[cn->k][j] < 0)
            return false;
        const catalog_category *cat = &c->cats[cn->ind->cats[j]];
        const char *v = cl->recs[src].v[cat->field];
        if (cat->kind == CAT_AGE_BAND) {
            cn->age_slot[cn->nage] = j;
            cn->birth[cn->nage++] = records_parse_date(v);
            continue;
        }
        int opt = -1;
        for (int o = 0; o < cat->noptions && opt < 0; o++)
            if (strcmp(cat->options[o], v) == 0)
                opt = o;
        if (opt < 0)
            return false; /* empty (or no longer allowed): not counted here */
        cn->fixed |= (uint64_t)opt << (KEY_OPT_BITS * j);
    }
    return true;
}

/* The cluster's share of the cell key of every cell of indicator k. */
static uint32_t share_of(agg_t *a, int k)
{
    if (!(a->hashed & 1ULL << k)) {
        a->share[k] = disclose_record_hash(a->record_key, a->c->inds[k].code);
        a->hashed |= 1ULL << k;
    }
    return a->share[k];
}

/* One record (or person) counted sign times in the cell packed in key. */
static void count(agg_t *a, uint64_t key, int sign)
{
    hmap_i64_add(&a->delta, key, sign);
    if (a->record_key)
        hmap_i64_add(&a->keys, key, sign * (int64_t)share_of(a, (int)(key >> KEY_IND_SHIFT & 63)));
}

static void emit(agg_t *a, const counted *cn, uint64_t period, int period_end, int sign)
{
    uint64_t key = KEY_MARK | (uint64_t)cn->k << KEY_IND_SHIFT | period << KEY_PERIOD_SHIFT |
        cn->fixed;
    for (int j = 0; j < cn->nage; j++) {
        const catalog_category *cat = &a->c->cats[cn->ind->cats[cn->age_slot[j]]];
        key |= (uint64_t)age_option(cat, cn->birth[j], period_end)
            << (KEY_OPT_BITS * cn->age_slot[j]);
    }
    if (!cn->target) {
        count(a, key, sign);
        return;
    }
    if (a->nseen == a->capseen) {
        a->capseen = a->capseen ? a->capseen * 2 : 64;
        a->seen = ts_xrealloc(a->seen, a->capseen * sizeof *a->seen);
    }
    a->seen[a->nseen++] = key | cn->target;
}

static void add_record(agg_t *a, const records_cluster *cl, int i, int k, const agg_window *w,
                       int sign)
{
    const rec_t *r = &cl->recs[i];
    counted cn = {.ind = &a->c->inds[k], .k = k};
    const catalog_indicator *ind = cn.ind;
    if (!filters_hold(ind, r) || !categorise(a, cl, i, &cn))
        return;
    int s = records_parse_date(r->v[ind->start_field]);
    int end = ind->end_field >= 0 ? records_parse_date(r->v[ind->end_field]) : 0;
    if (!s)
        return;
    if (ind->kind == IND_FLOW) {
        int m = s / 100;
        if (m > w->m_lo && m <= w->m_hi)
            emit(a, &cn, period_month(m), month_end(m), sign);
    } else if (ind->kind == IND_STOCK) {
        int m = s / 100;
        if (m <= w->m_lo)
            m = month_next(w->m_lo);
        for (; m <= w->m_hi; m = month_next(m)) {
            int last = month_end(m);
            if (end && end <= last)
                break;
            emit(a, &cn, period_month(m), last, sign);
        }
    } else if (ind->kind == IND_REACH) {
        if (ind->distinct_field >= 0)
            cn.target = (uint64_t)(cl->parent[i] + 1) << KEY_TARGET_SHIFT;
        if (ind->distinct_field >= 0 && cl->parent[i] < 0)
            return;
        int y = s / 10000;
        if (y <= w->y_lo)
            y = w->y_lo + 1;
        for (; y <= w->y_hi; y++) {
            if (end && end < y * 10000 + 101)
                break;
            emit(a, &cn, period_year(y), y * 10000 + 1231, sign);
        }
    }
}

/* ---- after: owners in the period after an ended record --------------- */

/* The earliest date field fi among the records of type t owned by owner,
 * other than record skip, in [from, before); 0 if none. */
static int first_owned(const records_cluster *cl, int owner, int t, int fi, int skip, int from,
                       int before)
{
    int best = 0;
    for (int j = 0; j < cl->n; j++) {
        if (j == skip || cl->parent[j] != owner || cl->recs[j].type != t)
            continue;
        int d = records_parse_date(cl->recs[j].v[fi]);
        if (d && d >= from && d < before && (!best || d < best))
            best = d;
    }
    return best;
}

/* Ended record i opens its owner's period [end, stop): stop is end + the
 * catalog's months, or the start of the owner's next record if sooner.
 * `restarted` counts that start's month; `within` each month end in the
 * period, `supported` those from the first support given in it on. */
static void add_after(agg_t *a, const records_cluster *cl, int i, int k, const agg_window *w,
                      int sign)
{
    const catalog_indicator *ind = &a->c->inds[k];
    const rec_t *r = &cl->recs[i];
    int owner = cl->parent[i], end = records_parse_date(r->v[ind->end_field]);
    counted cn = {.ind = ind, .k = k, .target = (uint64_t)(owner + 1) << KEY_TARGET_SHIFT};
    if (owner < 0 || !end || !filters_hold(ind, r) || !categorise(a, cl, i, &cn))
        return;
    int limit = add_months(end, a->c->after_months);
    int next = first_owned(cl, owner, r->type, ind->start_field, i, end, limit);
    int stop = next ? next : limit, from = end;
    if (ind->measure == AFTER_RESTARTED) {
        if (next && next / 100 > w->m_lo && next / 100 <= w->m_hi)
            emit(a, &cn, period_month(next / 100), month_end(next / 100), sign);
        return;
    }
    if (ind->measure == AFTER_SUPPORTED &&
        !(from = first_owned(cl, owner, ind->support_rtype, ind->support_field, -1, end, stop)))
        return;
    int m = from / 100 > w->m_lo ? from / 100 : month_next(w->m_lo);
    for (; m <= w->m_hi && month_end(m) < stop; m = month_next(m))
        emit(a, &cn, period_month(m), month_end(m), sign);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return p < q ? -1 : p > q;
}

agg_window agg_window_from(const agg_window *w, int from)
{
    agg_window f = *w;
    int m = from / 100, before = m % 100 == 1 ? m - 100 + 11 : m - 1; /* the month before */
    if (from && f.m_lo < before)
        f.m_lo = before;
    if (from && f.y_lo < from / 10000 - 1)
        f.y_lo = from / 10000 - 1;
    return f;
}

void agg_add_cluster(agg_t *a, const records_cluster *cl, unsigned type_mask, const agg_window *win,
                     int sign)
{
    agg_window fw = agg_window_from(win, cl->counts_from);
    const agg_window *w = &fw;
    a->nseen = 0;
    a->record_key = cl->key;
    a->hashed = 0;
    for (int i = 0; i < cl->n; i++) {
        int t = cl->recs[i].type;
        if (!(type_mask & (1u << t)))
            continue;
        for (int j = 0; j < a->nby[t]; j++)
            add_record(a, cl, i, a->by[t][j], w, sign);
    }
    for (int j = 0; j < a->nafter; j++) {
        int k = a->after[j];
        for (int i = 0; (a->reads[k] & type_mask) && i < cl->n; i++)
            if (cl->recs[i].type == a->c->inds[k].rtype)
                add_after(a, cl, i, k, w, sign);
    }
    if (a->nseen == 0)
        return;
    qsort(a->seen, a->nseen, sizeof *a->seen, cmp_u64);
    for (size_t i = 0; i < a->nseen; i++)
        if (i == 0 || a->seen[i] != a->seen[i - 1])
            count(a, a->seen[i] & KEY_CELL_MASK, sign);
    a->nseen = 0;
}

/* ---- writing ---------------------------------------------------------- */

static void key_to_cell(const agg_t *a, uint64_t key, const char *unit, ts_cell *cell)
{
    const catalog_t *c = a->c;
    int k = (int)(key >> KEY_IND_SHIFT & 63), p = (int)(key >> KEY_PERIOD_SHIFT & 0xffff);
    const catalog_indicator *ind = &c->inds[k];
    int y = p / 13 + PERIOD_BASE_YEAR, m = p % 13;
    snprintf(cell->unit, sizeof cell->unit, "%s", unit);
    snprintf(cell->indicator, sizeof cell->indicator, "%s", ind->code);
    if (m)
        snprintf(cell->period, sizeof cell->period, "%04d%02d", y, m);
    else
        snprintf(cell->period, sizeof cell->period, "%04d", y);
    size_t len = 0;
    cell->options[0] = '\0';
    for (int j = 0; j < ind->ncats; j++) {
        int slot = a->order[k][j];
        const catalog_category *cat = &c->cats[ind->cats[slot]];
        int opt = (int)(key >> (KEY_OPT_BITS * slot) & ((1u << KEY_OPT_BITS) - 1));
        int n = snprintf(cell->options + len, sizeof cell->options - len, "%s%s=%s", j ? "," : "",
                         cat->name, cat->options[opt]);
        if (n > 0)
            len += (size_t)n;
        if (len >= sizeof cell->options)
            break;
    }
}

/* The cells whose count or key changed, ascending, in a new array. */
static uint64_t *changed_cells(const agg_t *a, size_t *n)
{
    size_t nc, nk, i = 0, j = 0;
    uint64_t *c = hmap_i64_nonzero(&a->delta, &nc), *k = hmap_i64_nonzero(&a->keys, &nk);
    uint64_t *out = malloc((nc + nk + 1) * sizeof *out);
    if (!out)
        abort();
    *n = 0;
    while (i < nc || j < nk) {
        if (j == nk || (i < nc && c[i] <= k[j])) {
            if (j < nk && c[i] == k[j])
                j++;
            out[(*n)++] = c[i++];
        } else {
            out[(*n)++] = k[j++];
        }
    }
    free(c);
    free(k);
    return out;
}

int agg_apply(agg_t *a, store_t *s, store_txn *txn, const char *unit, size_t *ncells, ts_err *e)
{
    size_t n;
    uint64_t *keys = changed_cells(a, &n);
    int rc = TS_OK;
    store_cells w;
    store_cells_begin(&w, s, txn);
    w.records = true;
    for (size_t i = 0; i < n && rc == TS_OK; i++) {
        ts_cell cell;
        key_to_cell(a, keys[i], unit, &cell);
        disclose_fig d = {hmap_i64_get(&a->delta, keys[i]),
                          (uint32_t)hmap_i64_get(&a->keys, keys[i])};
        rc = store_cells_add(&w, NULL, &cell, d, e);
    }
    store_cells_end(&w);
    free(keys);
    if (ncells)
        *ncells = rc == TS_OK ? n : 0;
    agg_reset(a);
    return rc;
}
