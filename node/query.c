/* query.c: filtered scans over the rolled-up totals. */
#include "query.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const query_filter *f;
    query_fn fn;
    void *ctx;
} scan_ctx;

static int on_total(const MDB_val *k, const MDB_val *v, void *vctx)
{
    scan_ctx *sc = vctx;
    ts_cell c;
    int64_t n;
    if (v->mv_size != sizeof n || cell_parse(k->mv_data, k->mv_size, &c, NULL) != TS_OK)
        return 0;
    memcpy(&n, v->mv_data, sizeof n);
    const query_filter *f = sc->f;
    if ((f->unit && strcmp(f->unit, c.unit)) || (f->indicator && strcmp(f->indicator, c.indicator)) ||
        (f->period && strcmp(f->period, c.period)) || (f->options && strcmp(f->options, c.options)))
        return 0;
    return sc->fn(&c, n, sc->ctx);
}

int query_totals(store_t *s, MDB_txn *txn, const query_filter *f, query_fn fn, void *ctx)
{
    char prefix[CELL_KEY_MAX] = "";
    if (f->unit && f->indicator)
        snprintf(prefix, sizeof prefix, "%s|%s|", f->unit, f->indicator);
    else if (f->unit)
        snprintf(prefix, sizeof prefix, "%s|", f->unit);
    scan_ctx sc = {f, fn, ctx};
    return store_scan(s, txn, DB_TOTALS, prefix, on_total, &sc);
}

static int add_up(const ts_cell *c, int64_t v, void *ctx)
{
    (void)c;
    *(int64_t *)ctx += v;
    return 0;
}

int64_t query_sum(store_t *s, MDB_txn *txn, const query_filter *f)
{
    int64_t sum = 0;
    query_totals(s, txn, f, add_up, &sum);
    return sum;
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
