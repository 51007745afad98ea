/* query.c: filtered scans over the rolled-up totals, and what a reader may
 * see of a figure. */
#include "query.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const query_filter *f;
    query_fn fn;
    void *ctx;
    store_t *s;
    store_txn *txn;
    size_t skip;                              /* bytes before the cell key: a leaf's "via|" */
    char last[TS_CODE_MAX + 1 + TS_CODE_MAX]; /* a scan of all contrib: "via|unit" last seen */
    bool last_leaf;                           /* and whether it is a leaf of that child */
} scan_ctx;

static int on_cell(scan_ctx *sc, const char *key, size_t klen, const store_val *v)
{
    ts_cell c;
    disclose_fig n;
    if (!store_fig_decode(v, &n) || cell_parse(key, klen, &c, NULL) != TS_OK)
        return 0;
    const query_filter *f = sc->f;
    if ((f->unit && strcmp(f->unit, c.unit)) ||
        (f->indicator && strcmp(f->indicator, c.indicator)) ||
        (f->period && strcmp(f->period, c.period)) || (f->options && strcmp(f->options, c.options)))
        return 0;
    return sc->fn(&c, n, sc->ctx);
}

static int on_total(const store_val *k, const store_val *v, void *vctx)
{
    scan_ctx *sc = vctx;
    return on_cell(sc, (const char *)k->data + sc->skip, k->len - sc->skip, v);
}

/* Every contribution: those of leaves are their units' totals. */
static int on_contribution(const store_val *k, const store_val *v, void *vctx)
{
    scan_ctx *sc = vctx;
    const char *key = k->data, *bar = memchr(key, '|', k->len);
    const char *end = bar ? memchr(bar + 1, '|', k->len - (size_t)(bar + 1 - key)) : NULL;
    if (!end || (size_t)(end - key) >= sizeof sc->last)
        return 0;
    size_t len = (size_t)(end - key);
    size_t skip = (size_t)(bar + 1 - key); /* "via|" */
    if (strlen(sc->last) != len || memcmp(sc->last, key, len) != 0) {
        memcpy(sc->last, key, len);
        sc->last[len] = '\0';
        char via[TS_CODE_MAX + 1];
        sc->last_leaf = store_totals_at(sc->s, sc->txn, sc->last + skip, via) == DB_CONTRIB &&
            strlen(via) == skip && !memcmp(via, key, skip);
    }
    return sc->last_leaf ? on_cell(sc, key + skip, k->len - skip, v) : 0;
}

int query_failed(ts_err *e)
{
    return ts_fail(e, TS_ERUNTIME,
                   "the store could not be read while summing totals (the disk "
                   "may be failing): check the disk and the node's log, then run "
                   "'tiersync verify'");
}

int query_totals(store_t *s, store_txn *txn, const query_filter *f, query_fn fn, void *ctx)
{
    scan_ctx sc = {.f = f, .fn = fn, .ctx = ctx, .s = s, .txn = txn};
    if (!f->unit) { /* the units keeping their own totals, then the leaves */
        int stop;
        if (store_scan(s, txn, DB_TOTALS, NULL, on_total, &sc, &stop, NULL))
            return QUERY_FAILED;
        if (stop)
            return stop;
        if (store_scan(s, txn, DB_CONTRIB, NULL, on_contribution, &sc, &stop, NULL))
            return QUERY_FAILED;
        return stop;
    }
    char prefix[TS_CODE_MAX + 1 + CELL_KEY_MAX];
    store_db db = store_totals_at(s, txn, f->unit, prefix);
    sc.skip = strlen(prefix);
    size_t room = sizeof prefix - sc.skip;
    if (f->indicator)
        snprintf(prefix + sc.skip, room, "%s|%s|", f->unit, f->indicator);
    else
        snprintf(prefix + sc.skip, room, "%s|", f->unit);
    int stop;
    return store_scan(s, txn, db, prefix, on_total, &sc, &stop, NULL) ? QUERY_FAILED : stop;
}

int64_t query_publish(const query_reader *r, const catalog_indicator *ind, disclose_fig f)
{
    return r->exact || (ind && ind->kind == IND_VALUE) ? f.v : disclose_round(f, r->k);
}

const char *query_access(const query_reader *r)
{
    return r->exact ? "exact" : "rounded";
}

bool query_option_of(const char *options, const char *cat, char *out, size_t outsz)
{
    size_t cl = strlen(cat);
    for (const char *s = options; s && *s;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len > cl && !strncmp(s, cat, cl) && s[cl] == '=') {
            snprintf(out, outsz, "%.*s", (int)(len - cl - 1), s + cl + 1);
            return true;
        }
        s = end ? end + 1 : NULL;
    }
    return false;
}

void query_options_project(const catalog_t *c, const catalog_indicator *ind, const char *options,
                           char *out, size_t outsz)
{
    int order[CATALOG_MAX_IND_CATS];
    catalog_category_order(c, ind, order);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < ind->ncats && len < outsz; i++) {
        const char *name = c->cats[ind->cats[order[i]]].name;
        char opt[CATALOG_NAME_MAX] = "";
        query_option_of(options, name, opt, sizeof opt);
        int n = snprintf(out + len, outsz - len, "%s%s=%s", i ? "," : "", name, opt);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* "a=1,b=2" -> {"a":"1","b":"2"} */
json_t *query_options_json(const char *options)
{
    json_t *o = json_object();
    char buf[CELL_OPTIONS_MAX];
    snprintf(buf, sizeof buf, "%s", options);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        json_object_set_new(o, tok, json_string(eq + 1));
    }
    return o;
}
