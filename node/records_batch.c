/* records_batch.c: checking and writing a batch of record changes with its
 * aggregation delta, all or nothing (records_batch.h).
 *
 * Phase 1 (no store): every value of every row, and duplicate ids.
 * Phase 2 (one write transaction, re-runnable as store_write requires):
 *   catch up with the month; look every row up, merge, check the whole
 *   record and its owner; plan the writes (copied: LMDB memory read now is
 *   not valid after the first write); refuse if any problem. Then
 *   contribution(before) of every touched cluster is subtracted, the plans
 *   are written, contribution(after) is added, and the delta is applied
 *   once per distinct cell. Only indicators over the batch's record type
 *   and the types it owns can change, so only those are computed. */
#include "records_batch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "hmap.h"
#include "merge_state.h"
#include "util.h"

#define RECORDS_BYTES_PER_ROW 1024 /* map space reserved per row: record, index, cells, pages */

typedef struct {
    size_t row;
    size_t old_off, old_len; /* old full key; old_len 0 = a new record */
    size_t new_off, new_len; /* new full key; 0 for a delete */
    size_t val_off, val_len;
} plan;

typedef struct {
    node_t *n;
    records_batch *b;
    store_txn *txn;
    const unsigned char *bad; /* rows refused in phase 1 */
    records_problems phase1;
    agg_t *agg;
    hmap_str roots; /* touched clusters */
    records_cluster cl;
    plan *plans;
    size_t nplans, capplans;
    char *arena;
    size_t alen, acap;
} batch_ctx;

void records_problem_text(const char *source, const records_problem *p, char *out, size_t outsz)
{
    if (p->line > 0)
        snprintf(out, outsz, "%s line %d: %s%s%s", source, p->line, p->field,
                 p->field[0] ? ": " : "", p->reason);
    else
        snprintf(out, outsz, "%s: %s%s%s", source, p->field, p->field[0] ? ": " : "", p->reason);
}

static void progress(const records_batch *b, const char *phase, size_t done, size_t total)
{
    if (b->progress && (done == total || (done > 0 && done % RECORDS_PROGRESS_EVERY == 0)))
        b->progress(b->progress_ctx, phase, done, total);
}

/* ---- phase 1 ---------------------------------------------------------- */

static void check_rows(const catalog_t *c, records_batch *b, unsigned char *bad)
{
    const catalog_rtype *t = &c->types[b->type];
    int today = ts_today();
    char why[RECORDS_REASON_MAX];
    hmap_str ids;
    hmap_str_init(&ids);
    for (size_t r = 0; r < b->nrows; r++) {
        const records_row *row = &b->rows[r];
        int before = b->problems.total;
        const char *id = row->v[t->id_field];
        if (!id || !id[0]) {
            records_problem_add(&b->problems, row->line, "id", "missing (every record needs one)");
        } else {
            int added;
            size_t at = hmap_str_put(&ids, id, strlen(id), row->line, &added);
            if (!added)
                records_problem_add(&b->problems, row->line, "id", "%.*s appears twice (also %s%d)",
                                    RECORDS_ID_MAX, id, row->line ? "on line " : "row ",
                                    ids.ents[at].val);
        }
        for (int f = 0; f < t->nfields; f++) {
            if (!row->v[f])
                continue;
            if (b->op == RECORDS_DELETE && f != t->id_field)
                records_problem_add(&b->problems, row->line, t->fields[f].name,
                                    "a delete takes only the id");
            else if (!records_check_value(c, b->type, f, row->v[f], today, why, sizeof why))
                records_problem_add(&b->problems, row->line, t->fields[f].name, "%s", why);
        }
        bad[r] = b->problems.total != before;
        progress(b, "checked", r + 1, b->nrows);
    }
    hmap_str_free(&ids);
}

/* ---- phase 2 ---------------------------------------------------------- */

static size_t stash(batch_ctx *x, const void *p, size_t n)
{
    if (x->alen + n > x->acap) {
        while (x->alen + n > x->acap)
            x->acap = x->acap ? x->acap * 2 : 1 << 16;
        x->arena = ts_xrealloc(x->arena, x->acap);
    }
    memcpy(x->arena + x->alen, p, n);
    x->alen += n;
    return x->alen - n;
}

static plan *new_plan(batch_ctx *x, size_t row)
{
    if (x->nplans == x->capplans) {
        x->capplans = x->capplans ? x->capplans * 2 : 1024;
        x->plans = ts_xrealloc(x->plans, x->capplans * sizeof *x->plans);
    }
    plan *p = &x->plans[x->nplans++];
    memset(p, 0, sizeof *p);
    p->row = row;
    return p;
}

/* Refuses the row (one more problem) and returns TS_OK: a refused row is
 * not a failure of the run, which goes on to report the others. */
static int refuse(batch_ctx *x, const records_row *row, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(batch_ctx *x, const records_row *row, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    records_problem_vadd(&x->b->problems, row->line, field, fmt, ap);
    va_end(ap);
    return TS_OK;
}

static void touch(batch_ctx *x, const char *key, size_t klen)
{
    hmap_str_put(&x->roots, key, records_root_len(key, klen), 0, NULL);
}

/* Refuses a delete of a record that still owns records (*unowned false). */
static int check_delete(batch_ctx *x, const records_row *row, const char *key, size_t klen,
                        bool *unowned, ts_err *e)
{
    const catalog_t *c = x->n->catalog;
    size_t counts[CATALOG_MAX_TYPES], total;
    if (records_count_owned(x->n->store, x->txn, c, key, klen, counts, &total, e))
        return e->code;
    if ((*unowned = total == 0))
        return TS_OK;
    char list[256];
    size_t len = 0;
    list[0] = '\0';
    for (int t = 0; t < c->ntypes; t++)
        if (counts[t] && len < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%zu %s", len ? ", " : "",
                                    counts[t], c->types[t].name);
    refuse(x, row, "id", "%s still has records (%s): delete or re-assign them first",
           c->types[x->b->type].name, list);
    return TS_OK;
}

/* Looks row r up, merges it over the stored record, checks it and plans
 * its write. A refused row adds problems; only a store failure is an error. */
static int check_row(batch_ctx *x, size_t r, ts_err *e)
{
    const catalog_t *c = x->n->catalog;
    records_batch *b = x->b;
    const catalog_rtype *t = &c->types[b->type];
    const records_row *row = &b->rows[r];
    const char *id = row->v[t->id_field];
    char okey[RECORDS_KEY_MAX + 1], nkey[RECORDS_KEY_MAX + 1];
    size_t oklen = 0, nklen;
    rec_t old, m;
    int rc = records_find(x->n->store, x->txn, c, b->type, id, okey, &oklen, &old, e);
    if (rc != TS_OK && rc != TS_ENOTFOUND)
        return rc;
    bool exists = rc == TS_OK;
    if (exists && b->op == RECORDS_INSERT)
        return refuse(x, row, "id",
                      "a %s with id %s already exists (use 'record update' to change it)", t->name,
                      id);
    if (!exists && (b->op == RECORDS_UPDATE || b->op == RECORDS_DELETE))
        return refuse(x, row, "id", "no %s with id %s", t->name, id);
    if (b->op == RECORDS_DELETE) {
        bool unowned = false;
        if (check_delete(x, row, okey, oklen, &unowned, e))
            return e->code;
        if (unowned) {
            plan *p = new_plan(x, r);
            p->old_off = stash(x, okey, oklen), p->old_len = oklen;
            touch(x, okey, oklen);
        }
        return TS_OK;
    }
    m.type = b->type;
    for (int f = 0; f < CATALOG_MAX_FIELDS; f++)
        m.v[f] = f < t->nfields && row->v[f] ? row->v[f] : exists ? old.v[f] : "";
    int before = b->problems.total;
    records_check_record(c, &m, row->line, &b->problems);
    if (b->problems.total != before)
        return TS_OK;
    size_t own = records_own_key(c, b->type, id, nkey);
    if (own == 0)
        return refuse(x, row, "id", "too long for a key");
    nklen = own;
    if (t->owner_ref >= 0) {
        const catalog_field *of = &t->fields[t->owner_ref];
        char ownkey[RECORDS_KEY_MAX + 1];
        size_t olen;
        rc = records_find(x->n->store, x->txn, c, of->ref_type, m.v[t->owner_ref], ownkey, &olen,
                          NULL, e);
        if (rc == TS_ENOTFOUND)
            return refuse(x, row, of->name, "no %s with id %.*s (add or import it first)",
                          c->types[of->ref_type].name, RECORDS_ID_MAX, m.v[t->owner_ref]);
        if (rc != TS_OK)
            return rc;
        if (olen + 1 + own > RECORDS_KEY_MAX)
            return refuse(x, row, "id", "too long for a key");
        memmove(nkey + olen + 1, nkey, own + 1);
        memcpy(nkey, ownkey, olen);
        nkey[olen] = RECORDS_SEP;
        nklen = olen + 1 + own;
    }
    size_t counts[CATALOG_MAX_TYPES], owned = 0;
    bool moved = exists && (oklen != nklen || memcmp(okey, nkey, nklen) != 0);
    if (moved && records_count_owned(x->n->store, x->txn, c, okey, oklen, counts, &owned, e))
        return e->code;
    if (owned > 0)
        return refuse(x, row, t->fields[t->owner_ref].name,
                      "cannot change while this %s owns records: delete them first", t->name);
    if (moved) { /* a case file taken over in a merge counts from the merge date only */
        const char *osep = memchr(okey, RECORDS_SEP, oklen),
                   *nsep = memchr(nkey, RECORDS_SEP, nklen);
        int ofrom = records_key_from(x->n->store, x->txn, okey,
                                     osep ? (size_t)(osep - okey) : oklen);
        int nfrom = records_key_from(x->n->store, x->txn, nkey,
                                     nsep ? (size_t)(nsep - nkey) : nklen);
        char d[MERGE_DATE_TEXT];
        if (ofrom != nfrom)
            return refuse(x, row, t->fields[t->owner_ref].name,
                          "cannot move this %s between a case file taken over in a merge "
                          "(counted here from %s) and one that was not: its periods before "
                          "that date would count twice or not at all",
                          t->name, merge_date_text(ofrom ? ofrom : nfrom, d));
    }
    char val[RECORDS_VAL_MAX], oval[RECORDS_VAL_MAX];
    size_t vlen = records_encode(c, &m, val);
    if (exists && !moved && records_encode(c, &old, oval) == vlen && memcmp(val, oval, vlen) == 0) {
        b->unchanged++;
        return TS_OK;
    }
    plan *p = new_plan(x, r);
    if (exists) {
        p->old_off = stash(x, okey, oklen), p->old_len = oklen;
        touch(x, okey, oklen);
    }
    p->new_off = stash(x, nkey, nklen), p->new_len = nklen;
    p->val_off = stash(x, val, vlen), p->val_len = vlen;
    touch(x, nkey, nklen);
    return TS_OK;
}

/* Subtracts (sign -1) or adds (+1) the contribution of every touched cluster. */
static int add_clusters(batch_ctx *x, int sign, ts_err *e)
{
    const catalog_t *c = x->n->catalog;
    unsigned mask = records_type_and_owned(c, x->b->type), need = agg_types_read(x->agg, mask);
    agg_window w = agg_window_upto(ts_today());
    for (size_t i = 0; i < x->roots.n; i++) {
        size_t len;
        const char *root = hmap_str_key(&x->roots, i, &len);
        if (records_cluster_load(x->n->store, x->txn, c, root, len, need, &x->cl, e))
            return e->code;
        agg_add_cluster(x->agg, &x->cl, mask, &w, sign);
        progress(x->b, sign < 0 ? "clusters counted before" : "clusters counted after", i + 1,
                 x->roots.n);
    }
    return TS_OK;
}

/* After the writes: a new cluster gets its record key, a cluster that had
 * none (a store older than keys) gets one when touched, a deleted root's
 * goes. Its contribution before was counted with the old key (or none),
 * after with the new one, so every cell key stays the sum of its records'. */
static int settle_keys(batch_ctx *x, ts_err *e)
{
    store_t *s = x->n->store;
    for (size_t i = 0; i < x->roots.n; i++) {
        size_t len;
        const char *root = hmap_str_key(&x->roots, i, &len);
        store_val v;
        int rc = store_get(s, x->txn, DB_RECORDS, root, len, &v, e);
        uint64_t key;
        if (rc == TS_ENOTFOUND)
            rc = records_key_drop(s, x->txn, root, len, e);
        else if (rc == TS_OK && !records_key_get(s, x->txn, root, len))
            rc = records_key_new(s, x->txn, root, len, &key, e);
        if (rc)
            return rc;
    }
    return TS_OK;
}

static int write_plans(batch_ctx *x, ts_err *e)
{
    store_t *s = x->n->store;
    const catalog_t *c = x->n->catalog;
    records_batch *b = x->b;
    bool owned = c->types[b->type].owner_ref >= 0;
    for (size_t i = 0; i < x->nplans; i++) {
        const plan *p = &x->plans[i];
        const char *okey = x->arena + p->old_off, *nkey = x->arena + p->new_off;
        bool same = p->old_len == p->new_len && memcmp(okey, nkey, p->new_len) == 0;
        if (p->old_len && !same && store_del(s, x->txn, DB_RECORDS, okey, p->old_len, e))
            return e->code;
        if (p->new_len &&
            store_put(s, x->txn, DB_RECORDS, nkey, p->new_len, x->arena + p->val_off, p->val_len,
                      e))
            return e->code;
        if (owned && !same) { /* the index: type:id -> full key */
            const char *own = p->new_len ? nkey + p->new_len : okey + p->old_len;
            const char *start = p->new_len ? nkey : okey;
            while (own > start && own[-1] != RECORDS_SEP)
                own--;
            size_t olen = (size_t)((p->new_len ? nkey + p->new_len : okey + p->old_len) - own);
            int rc = p->new_len
                ? store_put(s, x->txn, DB_RECORD_REFS, own, olen, nkey, p->new_len, e)
                : store_del(s, x->txn, DB_RECORD_REFS, own, olen, e);
            if (rc)
                return rc;
        }
        if (!p->old_len)
            b->inserted++;
        else if (!p->new_len)
            b->deleted++;
        else
            b->updated++;
        progress(b, "written", i + 1, x->nplans);
    }
    return TS_OK;
}

static int batch_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    batch_ctx *x = vctx;
    records_batch *b = x->b;
    (void)s;
    x->txn = txn;
    b->problems = x->phase1;
    b->inserted = b->updated = b->unchanged = b->deleted = b->cells = 0;
    x->nplans = x->alen = 0;
    hmap_str_clear(&x->roots);
    agg_reset(x->agg);
    int rc = merge_refuse_writes(s, txn, e);
    if (rc == TS_OK)
        rc = agg_catch_up(x->n, txn, e);
    for (size_t r = 0; r < b->nrows && rc == TS_OK; r++) {
        if (!x->bad[r])
            rc = check_row(x, r, e);
        progress(b, "looked up", r + 1, b->nrows);
    }
    if (rc != TS_OK)
        return rc;
    if (b->problems.total > 0)
        return ts_fail(e, TS_EINPUT, "%d problem%s in %d row%s; nothing was changed",
                       b->problems.total, b->problems.total == 1 ? "" : "s", b->problems.rows,
                       b->problems.rows == 1 ? "" : "s");
    if ((rc = add_clusters(x, -1, e)) || (rc = write_plans(x, e)) || (rc = settle_keys(x, e)) ||
        (rc = add_clusters(x, +1, e)))
        return rc;
    return agg_apply(x->agg, s, txn, x->n->cfg.code, &b->cells, e);
}

/* Orders the problems kept by line (they are found phase by phase). */
static void sort_problems(records_problems *ps)
{
    for (int i = 1; i < ps->n; i++)
        for (int j = i; j > 0 && ps->p[j - 1].line > ps->p[j].line; j--) {
            records_problem tmp = ps->p[j];
            ps->p[j] = ps->p[j - 1];
            ps->p[j - 1] = tmp;
        }
}

int records_batch_run(node_t *n, records_batch *b, ts_err *e)
{
    batch_ctx x = {.n = n, .b = b};
    unsigned char *bad = calloc(b->nrows ? b->nrows : 1, 1);
    if (!bad)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    check_rows(n->catalog, b, bad);
    x.bad = bad;
    x.phase1 = b->problems;
    x.agg = agg_new(n->catalog);
    hmap_str_init(&x.roots);
    /* grown ahead, so that store_write need not run the batch again after a full map */
    store_reserve(n->store, RECORDS_BYTES_PER_ROW * b->nrows);
    records_cluster_init(&x.cl);
    int rc = store_write(n->store, batch_fn, &x, e);
    if (rc != TS_OK)
        b->inserted = b->updated = b->unchanged = b->deleted = b->cells = 0;
    sort_problems(&b->problems);
    agg_destroy(&x.agg);
    hmap_str_free(&x.roots);
    records_cluster_free(&x.cl);
    free(x.plans);
    free(x.arena);
    free(bad);
    return rc;
}
