/* records.c: record values, their validation, keys and clusters (records.h). */
#include "records.h"

#include <sodium.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_json.h"
#include "clock.h"
#include "util.h"

void records_problem_vadd(records_problems *ps, int line, const char *field, const char *fmt,
                          va_list ap)
{
    if (ps->total == 0 || line != ps->last_line)
        ps->rows++;
    ps->last_line = line;
    ps->total++;
    if (ps->n >= RECORDS_PROBLEMS_MAX)
        return;
    records_problem *p = &ps->p[ps->n++];
    p->line = line;
    snprintf(p->field, sizeof p->field, "%s", field ? field : "");
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
}

void records_problem_add(records_problems *ps, int line, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    records_problem_vadd(ps, line, field, fmt, ap);
    va_end(ap);
}

/* ---- values ----------------------------------------------------------- */

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int records_parse_date(const char *s)
{
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return 0;
    }
    if (s[10] != '\0')
        return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < RECORDS_YEAR_MIN || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    return y * 10000 + m * 100 + d;
}

static const char *enum_list(char *buf, size_t sz, const catalog_field *f)
{
    return cj_join(buf, sz, f->values[0], sizeof f->values[0], f->nvalues);
}

bool records_check_value(const catalog_t *c, int t, int fi, const char *v, int today, char *why,
                         size_t whysz)
{
    const catalog_field *f = &c->types[t].fields[fi];
    bool key = f->type == FIELD_REF || fi == c->types[t].id_field;
    size_t n = strlen(v), max = key ? RECORDS_ID_MAX : RECORDS_VALUE_MAX;
    char list[CJ_LIST_MAX];
    if (n == 0)
        return true;
    if (n > max) {
        snprintf(why, whysz, "longer than %zu bytes", max);
        return false;
    }
    bool text = f->type == FIELD_STRING && !key; /* free text may hold line breaks and tabs */
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)v[i] < 0x20 && !(text && strchr("\t\r\n", v[i]))) || v[i] == 0x7f) {
            snprintf(why, whysz, "contains a control character%s",
                     text ? "" : " (a line break or tab)");
            return false;
        }
    switch (f->type) {
    case FIELD_DATE: {
        int d = records_parse_date(v);
        if (!d) {
            snprintf(why, whysz, "not a date YYYY-MM-DD (a real day, year %d or later)",
                     RECORDS_YEAR_MIN);
            return false;
        }
        if (d > today) {
            char note[CLOCK_NOTE_MAX];
            bool clock = clock_suspect_now(note, sizeof note);
            snprintf(why, whysz, "after today (%04d-%02d-%02d)%s%s", today / 10000,
                     today / 100 % 100, today % 100, clock ? "; " : "", note);
            return false;
        }
        return true;
    }
    case FIELD_ENUM:
        for (int i = 0; i < f->nvalues; i++)
            if (strcmp(f->values[i], v) == 0)
                return true;
        if (f->pii)
            snprintf(why, whysz, "not an allowed value (allowed: %s)",
                     enum_list(list, sizeof list, f));
        else
            snprintf(why, whysz, "unknown value '%.*s' (allowed: %s)", RECORDS_ECHO_MAX, v,
                     enum_list(list, sizeof list, f));
        return false;
    default: return true;
    }
}

/* Reports the pair (a, b) once per record: pairs[] remembers those seen. */
static bool pair_seen(int pairs[][2], int *n, int a, int b)
{
    for (int i = 0; i < *n; i++)
        if (pairs[i][0] == a && pairs[i][1] == b)
            return true;
    pairs[*n][0] = a;
    pairs[*n][1] = b;
    (*n)++;
    return false;
}

void records_check_record(const catalog_t *c, const rec_t *r, int line, records_problems *ps)
{
    const catalog_rtype *t = &c->types[r->type];
    char list[CJ_LIST_MAX];
    int pairs[CATALOG_MAX_INDICATORS * CATALOG_MAX_IND_CATS][2], npairs = 0;
    for (int i = 0; i < t->nfields; i++)
        if (t->fields[i].required && !r->v[i][0])
            records_problem_add(ps, line, t->fields[i].name, "missing (required)");
    for (int k = 0; k < c->ninds; k++) {
        const catalog_indicator *ind = &c->inds[k];
        if (ind->rtype != r->type)
            continue;
        if (ind->kind != IND_FLOW && ind->end_field >= 0) {
            int s = records_parse_date(r->v[ind->start_field]);
            int en = records_parse_date(r->v[ind->end_field]);
            if (s && en && en < s && !pair_seen(pairs, &npairs, ind->start_field, ind->end_field))
                records_problem_add(ps, line, t->fields[ind->end_field].name,
                                    "before %s (an interval cannot end before it starts)",
                                    t->fields[ind->start_field].name);
        }
        const catalog_field *d = &t->fields[ind->start_field];
        if (ind->kind != IND_FLOW || d->required)
            continue;
        for (int j = 0; j < ind->ncats; j++) {
            const catalog_category *cat = &c->cats[ind->cats[j]];
            if (cat->kind != CAT_FIELD || cat->rtype != r->type || t->fields[cat->field].required)
                continue;
            const catalog_field *f = &t->fields[cat->field];
            bool dset = r->v[ind->start_field][0], fset = r->v[cat->field][0];
            if (dset == fset || pair_seen(pairs, &npairs, ind->start_field, cat->field))
                continue;
            if (dset)
                records_problem_add(ps, line, f->name,
                                    "missing: required when %s is set (allowed: %s)", d->name,
                                    enum_list(list, sizeof list, f));
            else
                records_problem_add(ps, line, f->name, "given without %s: set %s or leave %s empty",
                                    d->name, d->name, f->name);
        }
    }
}

/* ---- encoding --------------------------------------------------------- */

size_t records_encode(const catalog_t *c, const rec_t *r, char *out)
{
    const catalog_rtype *t = &c->types[r->type];
    size_t n = 0;
    for (int i = 0; i < t->nfields; i++) {
        if (!r->v[i][0])
            continue;
        size_t a = strlen(t->fields[i].name) + 1, b = strlen(r->v[i]) + 1;
        if (n + a + b > RECORDS_VAL_MAX) /* cannot happen with checked values */
            break;
        memcpy(out + n, t->fields[i].name, a);
        memcpy(out + n + a, r->v[i], b);
        n += a + b;
    }
    return n;
}

void records_decode(const catalog_t *c, int t, const void *data, size_t len, rec_t *r)
{
    const catalog_rtype *rt = &c->types[t];
    const char *p = data, *end = p + len;
    r->type = t;
    for (int i = 0; i < CATALOG_MAX_FIELDS; i++)
        r->v[i] = "";
    if (len == 0 || end[-1] != '\0')
        return;
    int next = 0; /* fields come in catalog order: try the next one first */
    while (p < end) {
        const char *name = p, *val = memchr(p, '\0', (size_t)(end - p)) + 1;
        if (val >= end)
            return;
        p = (const char *)memchr(val, '\0', (size_t)(end - val)) + 1;
        int fi = -1;
        for (int i = next; i < rt->nfields && fi < 0; i++)
            if (strcmp(rt->fields[i].name, name) == 0)
                fi = i;
        if (fi < 0)
            fi = catalog_field_find(rt, name); /* fields no longer in the catalog are skipped */
        if (fi >= 0) {
            r->v[fi] = val;
            next = fi + 1;
        }
    }
}

/* ---- keys ------------------------------------------------------------- */

size_t records_own_key(const catalog_t *c, int t, const char *id, char *out)
{
    size_t a = strlen(c->types[t].name), b = strlen(id);
    if (a + 1 + b > RECORDS_KEY_MAX)
        return 0;
    memcpy(out, c->types[t].name, a);
    out[a] = ':';
    memcpy(out + a + 1, id, b + 1);
    return a + 1 + b;
}

int records_find(store_t *s, store_txn *txn, const catalog_t *c, int t, const char *id, char *key,
                 size_t *klen, rec_t *r, ts_err *e)
{
    char own[RECORDS_KEY_MAX + 1];
    size_t n = records_own_key(c, t, id, own);
    store_val v;
    int rc;
    if (n == 0)
        return TS_ENOTFOUND;
    if (c->types[t].owner_ref >= 0) {
        rc = store_get(s, txn, DB_RECORD_REFS, own, n, &v, e);
        if (rc != TS_OK)
            return rc;
        if (v.len > RECORDS_KEY_MAX)
            return ts_fail(e, TS_ERUNTIME, "store: a record reference is corrupt");
        memcpy(key, v.data, v.len);
        n = v.len;
    } else {
        memcpy(key, own, n);
    }
    key[n] = '\0';
    *klen = n;
    rc = store_get(s, txn, DB_RECORDS, key, n, &v, e);
    if (rc != TS_OK)
        return rc == TS_ENOTFOUND && c->types[t].owner_ref >= 0
            ? ts_fail(e, TS_ERUNTIME, "store: the record %s is indexed but missing", own)
            : rc;
    if (r)
        records_decode(c, t, v.data, v.len, r);
    return TS_OK;
}

size_t records_root_len(const char *key, size_t klen)
{
    const char *sep = memchr(key, RECORDS_SEP, klen);
    return sep ? (size_t)(sep - key) : klen;
}

/* The record type of a full key (its last part) and its depth (number of
 * separators); -1 if the type is not in the catalog. */
static int key_type(const catalog_t *c, const char *key, size_t klen, int *depth)
{
    const char *last = key, *end = key + klen;
    *depth = 0;
    for (const char *p = key; p < end; p++)
        if (*p == RECORDS_SEP) {
            last = p + 1;
            (*depth)++;
        }
    const char *colon = memchr(last, ':', (size_t)(end - last));
    if (!colon)
        return -1;
    size_t n = (size_t)(colon - last);
    for (int t = 0; t < c->ntypes; t++)
        if (strlen(c->types[t].name) == n && memcmp(c->types[t].name, last, n) == 0)
            return t;
    return -1;
}

typedef struct {
    const catalog_t *c;
    size_t *counts, total;
} owned_ctx;

static int count_owned(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    owned_ctx *o = vctx;
    int depth, t = key_type(o->c, k->data, k->len, &depth);
    if (t >= 0)
        o->counts[t]++;
    o->total++;
    return 0;
}

int records_count_owned(store_t *s, store_txn *txn, const catalog_t *c, const char *key,
                        size_t klen, size_t counts[CATALOG_MAX_TYPES], size_t *total, ts_err *e)
{
    char prefix[RECORDS_KEY_MAX + 2];
    owned_ctx o = {c, counts, 0};
    memset(counts, 0, CATALOG_MAX_TYPES * sizeof counts[0]);
    memcpy(prefix, key, klen);
    prefix[klen] = RECORDS_SEP;
    int rc = store_scan_prefix(s, txn, DB_RECORDS, prefix, klen + 1, count_owned, &o, NULL, e);
    *total = o.total;
    return rc;
}

unsigned records_with_owners(const catalog_t *c, unsigned types)
{
    unsigned mask = types;
    for (int t = 0; t < c->ntypes; t++)
        for (int at = t, hops = 0; (types & (1u << t)) && at >= 0 && hops <= c->ntypes; hops++) {
            mask |= 1u << at;
            const catalog_rtype *r = &c->types[at];
            at = r->owner_ref < 0 ? -1 : r->fields[r->owner_ref].ref_type;
        }
    return mask;
}

unsigned records_type_and_owned(const catalog_t *c, int t)
{
    unsigned mask = 0;
    for (int u = 0; u < c->ntypes; u++)
        for (int at = u, hops = 0; at >= 0 && hops <= c->ntypes; hops++) {
            if (at == t) {
                mask |= 1u << u;
                break;
            }
            const catalog_rtype *r = &c->types[at];
            at = r->owner_ref < 0 ? -1 : r->fields[r->owner_ref].ref_type;
        }
    return mask;
}

/* ---- clusters --------------------------------------------------------- */

void records_cluster_init(records_cluster *cl)
{
    memset(cl, 0, sizeof *cl);
}

void records_cluster_free(records_cluster *cl)
{
    free(cl->recs);
    free(cl->parent);
    memset(cl, 0, sizeof *cl);
}

/* Appends the record at (key, val) found at depth; stack[d] holds the
 * index of the last record seen at depth d. */
static void cluster_add(const catalog_t *c, records_cluster *cl, int t, int depth,
                        const store_val *v, unsigned need, int stack[CATALOG_MAX_TYPES + 1])
{
    if (depth > CATALOG_MAX_TYPES)
        return;
    int parent = depth == 0 ? -1 : stack[depth - 1];
    if (t < 0 || !(need & (1u << t)) || (depth > 0 && parent < 0)) { /* skip it and what it owns */
        stack[depth] = -1;
        return;
    }
    if (cl->n == cl->cap) {
        cl->cap = cl->cap ? cl->cap * 2 : 16;
        cl->recs = ts_xrealloc(cl->recs, (size_t)cl->cap * sizeof *cl->recs);
        cl->parent = ts_xrealloc(cl->parent, (size_t)cl->cap * sizeof *cl->parent);
    }
    records_decode(c, t, v->data, v->len, &cl->recs[cl->n]);
    cl->parent[cl->n] = parent;
    stack[depth] = cl->n++;
}

/* ---- record keys ------------------------------------------------------ */

#define RECORDS_KEY_FROM_BYTES (sizeof(uint64_t) + sizeof(int32_t))

uint64_t records_key_get(store_t *s, store_txn *txn, const char *root, size_t rlen)
{
    store_val v;
    uint64_t key = 0;
    if (store_get(s, txn, DB_RECORD_KEYS, root, rlen, &v, NULL) == TS_OK &&
        (v.len == sizeof key || v.len == RECORDS_KEY_FROM_BYTES))
        memcpy(&key, v.data, sizeof key);
    return key;
}

int records_key_from(store_t *s, store_txn *txn, const char *root, size_t rlen)
{
    store_val v;
    int32_t from = 0;
    if (store_get(s, txn, DB_RECORD_KEYS, root, rlen, &v, NULL) == TS_OK &&
        v.len == RECORDS_KEY_FROM_BYTES)
        memcpy(&from, (const char *)v.data + sizeof(uint64_t), sizeof from);
    return from;
}

int records_key_put(store_t *s, store_txn *txn, const char *root, size_t rlen, uint64_t key,
                    int counts_from, ts_err *e)
{
    char v[RECORDS_KEY_FROM_BYTES];
    int32_t from = counts_from;
    memcpy(v, &key, sizeof key);
    memcpy(v + sizeof key, &from, sizeof from);
    return store_put(s, txn, DB_RECORD_KEYS, root, rlen, v, from ? sizeof v : sizeof key, e);
}

int records_key_new(store_t *s, store_txn *txn, const char *root, size_t rlen, uint64_t *key,
                    ts_err *e)
{
    do
        randombytes_buf(key, sizeof *key);
    while (*key == 0); /* 0 means "none yet" */
    return records_key_put(s, txn, root, rlen, *key, records_key_from(s, txn, root, rlen), e);
}

int records_key_drop(store_t *s, store_txn *txn, const char *root, size_t rlen, ts_err *e)
{
    int from = records_key_from(s, txn, root, rlen);
    return from ? records_key_put(s, txn, root, rlen, 0, from, e)
                : store_del(s, txn, DB_RECORD_KEYS, root, rlen, e);
}

/* The state of a walk that gathers clusters from table records. */
typedef struct {
    store_t *s;
    store_txn *txn;
    const catalog_t *c;
    records_cluster *cl;
    unsigned need;
    int stack[CATALOG_MAX_TYPES + 1];
    size_t rlen;           /* records_cluster_load: the root's length */
    records_cluster_fn fn; /* records_scan_clusters: called per cluster */
    void *ctx;
} cluster_walk;

static void walk_init(cluster_walk *w, store_t *s, store_txn *txn, const catalog_t *c,
                      records_cluster *cl, unsigned need)
{
    *w = (cluster_walk){.s = s, .txn = txn, .c = c, .cl = cl, .need = need};
    for (int i = 0; i <= CATALOG_MAX_TYPES; i++)
        w->stack[i] = -1;
}

static int load_one(const store_val *k, const store_val *v, void *vctx)
{
    cluster_walk *w = vctx;
    if (k->len != w->rlen && ((const char *)k->data)[w->rlen] != RECORDS_SEP)
        return 1; /* another root that begins with this one */
    int depth, t = key_type(w->c, k->data, k->len, &depth);
    if (depth == 0 && w->cl->n > 0)
        return 1;
    cluster_add(w->c, w->cl, t, depth, v, w->need, w->stack);
    return 0;
}

int records_cluster_load(store_t *s, store_txn *txn, const catalog_t *c, const char *root,
                         size_t rlen, unsigned need, records_cluster *cl, ts_err *e)
{
    cluster_walk w;
    walk_init(&w, s, txn, c, cl, need);
    w.rlen = rlen;
    cl->n = 0;
    if (store_scan_prefix(s, txn, DB_RECORDS, root, rlen, load_one, &w, NULL, e))
        return e->code;
    cl->key = cl->n ? records_key_get(s, txn, root, rlen) : 0;
    cl->counts_from = cl->n ? records_key_from(s, txn, root, rlen) : 0;
    return TS_OK;
}

static int scan_one(const store_val *k, const store_val *v, void *vctx)
{
    cluster_walk *w = vctx;
    int depth, t = key_type(w->c, k->data, k->len, &depth);
    if (depth == 0 && w->cl->n > 0) {
        int stop = w->fn(w->cl, w->ctx);
        w->cl->n = 0;
        if (stop)
            return stop;
    }
    if (depth == 0) {
        w->cl->key = records_key_get(w->s, w->txn, k->data, k->len);
        w->cl->counts_from = records_key_from(w->s, w->txn, k->data, k->len);
    }
    cluster_add(w->c, w->cl, t, depth, v, ~0u, w->stack);
    return 0;
}

int records_scan_clusters(store_t *s, store_txn *txn, const catalog_t *c, records_cluster_fn fn,
                          void *ctx, ts_err *e)
{
    records_cluster cl;
    records_cluster_init(&cl);
    cluster_walk w;
    walk_init(&w, s, txn, c, &cl, ~0u);
    w.fn = fn;
    w.ctx = ctx;
    int stop = 0;
    int rc = store_scan(s, txn, DB_RECORDS, NULL, scan_one, &w, &stop, e);
    if (rc == TS_OK && !stop && cl.n > 0)
        stop = fn(&cl, ctx);
    records_cluster_free(&cl);
    return rc ? rc : stop;
}

bool records_held_here(store_t *s, store_txn *txn)
{
    return store_count(s, txn, DB_CHILDREN) == 0;
}
