/* test_merge.c: unit merges (merge.h): the split rule and merge dates, the
 * aggregation's counts_from filter against the rule, the exactness of a
 * merge over the two stores (cell by cell, counts and cell keys), refusals
 * that change nothing, writes refused at the old unit, a catalog version
 * adopted after the merge counting at the old unit only before D, owned
 * records kept to their kind of case file at the new unit, a moved case
 * file deleted and entered again counting from D again, and a
 * merge stopped between its two store writes and run again ending as one
 * never stopped. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "catalog_doc.h"
#include "cell.h"
#include "import.h"
#include "merge.h"
#include "records_batch.h"
#include "testutil.h"

#define TODAY "2025-09-20"
#define ON 20250701
#define NEW "34005"
#define OLD "34301"

static const char *const SETTINGS[] = {
    "parent", "endpoint",  "tcp://127.0.0.1:9", /* never dialled here */
    "parent", "key",       "0000000000000000000000000000000000000000000000000000000000000001",
    "sync",   "release_s", "0",
    NULL,
};

/* Records over both sides of D, with every kind of indicator: stock, flow,
 * reach, and the post-rehab period after a completed episode. */
static const char PERSONS[] =
    "id,full_name,national_id,birth_date,sex,address,registered_on,confirmed_on,deregistered_on\n"
    "%sP1,An,,1990-05-01,M,,2024-03-02,2024-04-01,2025-08-15\n"
    "%sP2,Lan,,2001-07-20,F,,2024-11-10,,\n"
    "%sP3,Mai,,,F,,2025-07-03,,\n";
static const char EPISODES[] = "id,person_id,modality,start_on,end_on,outcome\n"
                               "%sE1,%sP1,methadone,2024-11-05,,\n"
                               "%sE2,%sP2,compulsory,2025-01-10,2025-07-20,completed\n"
                               "%sE3,%sP2,voluntary_community,2024-12-01,2025-03-01,dropped_out\n"
                               "%sE4,%sP3,methadone,2025-08-01,,\n";
static const char SUPPORTS[] = "id,person_id,kind,given_on\n"
                               "%sS1,%sP2,job_placement,2025-08-02\n"
                               "%sS2,%sP1,health_care,2025-06-12\n";

typedef struct {
    char dir[512];
    node_t n;
} fixture;

static void import_text(node_t *n, const char *dir, const char *type, const char *fmt,
                        const char *p)
{
    char text[2048];
    snprintf(text, sizeof text, fmt, p, p, p, p, p, p, p, p);
    records_batch b = {0};
    ts_err e = {0};
    if (import_csv(n, type, tu_write_file(dir, "in.csv", text), &b, &e) != TS_OK)
        fail_msg("import %s: %s", type, e.msg);
}

static void node_with_records(fixture *f, const char *code, const char *prefix)
{
    tu_node_open_with(&f->n, f->dir, sizeof f->dir, code, code, SETTINGS);
    tu_node_identity(&f->n);
    import_text(&f->n, f->dir, "person", PERSONS, prefix);
    import_text(&f->n, f->dir, "episode", EPISODES, prefix);
    import_text(&f->n, f->dir, "support", SUPPORTS, prefix);
}

typedef struct {
    ts_cell c;
    int64_t v;
} value_ctx;

static int value_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    value_ctx *x = vctx;
    return store_set_value(s, txn, &x->c, x->v, NULL, e);
}

static void set_value(node_t *n, const char *ind, const char *period, const char *opts, int64_t v)
{
    value_ctx x = {.v = v};
    ts_err e = {0};
    assert_int_equal(cell_set(&x.c, n->cfg.code, ind, period, opts, &e), TS_OK);
    assert_int_equal(store_write(n->store, value_fn, &x, &e), TS_OK);
}

/* ---- tables as maps: "indicator|period|options" -> figure ------------- */

#define MAXCELLS 4096
typedef struct {
    int n;
    char key[MAXCELLS][CELL_KEY_MAX];
    disclose_fig f[MAXCELLS];
} cells;

static int collect(const store_val *k, const store_val *v, void *ctx)
{
    cells *c = ctx;
    const char *bar = memchr(k->data, '|', k->len); /* the unit left out */
    disclose_fig f;
    assert_non_null(bar);
    assert_true(store_fig_decode(v, &f));
    assert_true(c->n < MAXCELLS);
    snprintf(c->key[c->n], CELL_KEY_MAX, "%.*s",
             (int)(k->len - (size_t)(bar + 1 - (const char *)k->data)), bar + 1);
    c->f[c->n++] = f;
    return 0;
}

static void table(node_t *n, store_db db, cells *c)
{
    store_txn *txn;
    ts_err e = {0};
    c->n = 0;
    assert_int_equal(store_read_begin(n->store, &txn, &e), TS_OK);
    assert_int_equal(store_scan(n->store, txn, db, NULL, collect, c, NULL, &e), TS_OK);
    store_read_end(txn);
}

static disclose_fig find(const cells *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->key[i], key))
            return c->f[i];
    return (disclose_fig){0, 0};
}

/* The period of "indicator|period|options". */
static const char *period_of(const char *key, char out[CELL_PERIOD_MAX])
{
    const char *p = strchr(key, '|') + 1;
    size_t n = strcspn(p, "|");
    snprintf(out, CELL_PERIOD_MAX, "%.*s", (int)n, p);
    return out;
}

/* ---- the rule --------------------------------------------------------- */

static void test_split_rule(void **state)
{
    (void)state;
    assert_false(merge_period_moves("202506", ON));
    assert_true(merge_period_moves("202507", ON));
    assert_true(merge_period_moves("202601", ON));
    assert_false(merge_period_moves("2024", ON));
    assert_true(merge_period_moves("2025", ON)); /* the year containing D does not end before it */
    assert_true(merge_period_moves("202501", 20250101));
    assert_false(merge_period_moves("202412", 20250101));
    assert_false(merge_period_moves("2024", 20250101));
    assert_false(merge_period_moves("20x5", ON));
    int on = 0;
    ts_err e = {0};
    assert_int_equal(merge_date_parse("2025-07-01", 20250920, &on, &e), TS_OK);
    assert_int_equal(on, ON);
    assert_int_equal(merge_date_parse("2025-07-02", 20250920, &on, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "first day of a month"));
    assert_int_equal(merge_date_parse("2025-10-01", 20250920, &on, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "after today"));
    assert_int_equal(merge_date_parse("1 July", 20250920, &on, &e), TS_EINPUT);
    char d[MERGE_DATE_TEXT];
    assert_string_equal(merge_date_text(ON, d), "2025-07-01");
}

/* ---- agg's counts_from ------------------------------------------------ */

typedef struct {
    agg_t *a;
    int from;
} from_ctx;

static int count_from(const records_cluster *cl, void *vctx)
{
    from_ctx *x = vctx;
    records_cluster c = *cl;
    agg_window w = agg_window_upto(ts_today());
    c.counts_from = x->from;
    agg_add_cluster(x->a, &c, ~0u, &w, +1);
    return 0;
}

typedef struct {
    agg_t *a;
} apply_ctx;

static int apply_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    return agg_apply(((apply_ctx *)vctx)->a, s, txn, OLD, NULL, e);
}

/* A cluster counted from D gives exactly its cells of the periods that do
 * not end before D, counts and cell keys. */
static void test_counts_from(void **state)
{
    (void)state;
    static fixture p, q;
    static cells full, part;
    node_with_records(&p, OLD, "A");
    tu_node_open_with(&q.n, q.dir, sizeof q.dir, "q", OLD, SETTINGS);
    store_txn *txn;
    ts_err e = {0};
    from_ctx x = {agg_new(p.n.catalog), ON};
    assert_int_equal(store_read_begin(p.n.store, &txn, &e), TS_OK);
    assert_int_equal(records_scan_clusters(p.n.store, txn, p.n.catalog, count_from, &x, &e), TS_OK);
    store_read_end(txn);
    apply_ctx ac = {x.a};
    assert_int_equal(store_write(q.n.store, apply_fn, &ac, &e), TS_OK);
    agg_destroy(&x.a);
    table(&p.n, DB_LOCAL, &full);
    table(&q.n, DB_LOCAL, &part);
    int moved = 0, kept = 0;
    char per[CELL_PERIOD_MAX];
    for (int i = 0; i < full.n; i++) {
        disclose_fig g = find(&part, full.key[i]);
        if (merge_period_moves(period_of(full.key[i], per), ON)) {
            assert_int_equal(g.v, full.f[i].v);
            assert_int_equal(g.key, full.f[i].key);
            moved++;
        } else {
            assert_int_equal(g.v, 0);
            assert_int_equal(g.key, 0);
            kept++;
        }
    }
    for (int i = 0; i < part.n; i++)
        assert_true(merge_period_moves(period_of(part.key[i], per), ON));
    assert_true(moved > 10 && kept > 10); /* both sides exercised */
    node_close(&p.n), node_close(&q.n);
    tu_rmrf(p.dir), tu_rmrf(q.dir);
}

/* ---- a merge over two stores ------------------------------------------ */

static fixture nw, old;
static node_t *olds[1] = {&old.n};

static int setup(void **state)
{
    (void)state;
    node_with_records(&nw, NEW, "N");
    node_with_records(&old, OLD, "A");
    set_value(&old.n, "COUNSELLING_POINTS", "202508", "", 2);
    set_value(&old.n, "COUNSELLING_POINTS", "202503", "", 1);
    set_value(&old.n, "TARGET_REACHED", "2025", "modality=methadone", 40);
    set_value(&nw.n, "TARGET_REACHED", "2025", "modality=methadone", 10);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    node_close(&nw.n), node_close(&old.n);
    tu_rmrf(nw.dir), tu_rmrf(old.dir);
    return 0;
}

static bool fig_eq(disclose_fig a, disclose_fig b)
{
    return a.v == b.v && a.key == b.key;
}

static disclose_fig fig_sum(disclose_fig a, disclose_fig b)
{
    return (disclose_fig){a.v + b.v, a.key + b.key};
}

/* Cell by cell: the two units together hold what they held; the old one
 * nothing from D on, the new one its own history before D unchanged; what
 * goes upward (pending: no daemon sent anything) is exactly what each holds. */
static void test_merge_exact(void **state)
{
    (void)state;
    static cells n0, o0, n1, o1, np, op;
    table(&nw.n, DB_LOCAL, &n0), table(&old.n, DB_LOCAL, &o0);
    merge_counts c;
    ts_err e = {0};
    assert_int_equal(merge_run(&nw.n, olds, 1, ON, NULL, &c, &e), TS_OK);
    assert_true(c.marked && c.taken && c.given_up);
    assert_int_equal(c.clusters, 3);
    assert_int_equal(c.records, 9);
    assert_int_equal(c.values, 2); /* 202508 and 2025; 202503 stays */
    table(&nw.n, DB_LOCAL, &n1), table(&old.n, DB_LOCAL, &o1);
    table(&nw.n, DB_PENDING, &np), table(&old.n, DB_PENDING, &op);
    const cells *all[] = {&n0, &o0, &n1, &o1};
    char per[CELL_PERIOD_MAX];
    int moved = 0;
    for (size_t t = 0; t < 4; t++)
        for (int i = 0; i < all[t]->n; i++) {
            const char *k = all[t]->key[i];
            bool moves = merge_period_moves(period_of(k, per), ON);
            assert_true(
                fig_eq(fig_sum(find(&n1, k), find(&o1, k)), fig_sum(find(&n0, k), find(&o0, k))));
            assert_true(fig_eq(find(&o1, k), moves ? (disclose_fig){0, 0} : find(&o0, k)));
            if (!moves)
                assert_true(fig_eq(find(&n1, k), find(&n0, k)));
            assert_true(fig_eq(find(&np, k), find(&n1, k)));
            assert_true(fig_eq(find(&op, k), find(&o1, k)));
            moved += moves && find(&o0, k).v;
        }
    assert_true(moved > 10);
    assert_int_equal(find(&n1, "COUNSELLING_POINTS|202508|").v, 2);
    assert_int_equal(find(&o1, "COUNSELLING_POINTS|202503|").v, 1);
    assert_int_equal(find(&n1, "TARGET_REACHED|2025|modality=methadone").v, 50);

    /* the old unit is marked merged for its next delta, and takes no writes */
    store_txn *txn;
    store_unit u;
    store_val v;
    assert_int_equal(store_read_begin(old.n.store, &txn, &e), TS_OK);
    assert_int_equal(store_unit_get(old.n.store, txn, OLD, &u), TS_OK);
    assert_string_equal(u.merged_into, NEW);
    assert_int_equal(u.merged_on, ON);
    assert_int_equal(store_get(old.n.store, txn, DB_ANNOUNCE, OLD, strlen(OLD), &v, &e), TS_OK);
    store_read_end(txn);
    records_batch b = {0};
    assert_int_equal(
        import_csv(&old.n, "person",
                   tu_write_file(old.dir, "p.csv",
                                 "id,full_name,national_id,birth_date,sex,address,registered_on,"
                                 "confirmed_on,deregistered_on\nZ1,Z,,,F,,2025-01-01,,\n"),
                   &b, &e),
        TS_EINPUT);
    assert_non_null(strstr(e.msg, "merged into " NEW));

    /* a month later: the moved records add October at the new unit only */
    setenv("TIERSYNC_TODAY", "2025-10-05", 1);
    assert_int_equal(agg_tick(&nw.n, &e), TS_OK);
    assert_int_equal(agg_tick(&old.n, &e), TS_OK);
    setenv("TIERSYNC_TODAY", TODAY, 1);
    table(&nw.n, DB_LOCAL, &n1), table(&old.n, DB_LOCAL, &o1);
    int october = 0;
    for (int i = 0; i < n1.n; i++)
        if (!strcmp(period_of(n1.key[i], per), "202510")) {
            assert_int_equal(n1.f[i].v % 2, 0); /* the same records at both units: twice */
            october++;
        }
    for (int i = 0; i < o1.n; i++)
        assert_true(strcmp(period_of(o1.key[i], per), "202510") != 0);
    assert_true(october > 3);
}

/* The fixture's old unit merged into the new one on ON. */
static void merged(void)
{
    merge_counts c;
    ts_err e = {0};
    if (merge_run(&nw.n, olds, 1, ON, NULL, &c, &e) != TS_OK)
        fail_msg("merge: %s", e.msg);
}

/* A version adding a record-derived indicator, adopted by the old unit after
 * the merge: its cells there are only those of periods before D (the new
 * unit counts the rest). */
static void test_merged_recount(void **state)
{
    (void)state;
    ts_err e = {0};
    merged();
    json_error_t je;
    json_t *j = json_load_file(tu_catalog_path(), 0, &je), *inds = json_object_get(j, "indicators");
    assert_non_null(j);
    json_t *copy = NULL, *ind;
    size_t i;
    json_array_foreach (inds, i, ind)
        if (!strcmp(json_string_value(json_object_get(ind, "code")), "IN_TREATMENT"))
            copy = json_deep_copy(ind);
    assert_non_null(copy);
    json_object_set_new(copy, "code", json_string("IN_TREATMENT_2"));
    json_array_append_new(inds, copy);
    json_object_set_new(j, "version", json_integer(2));
    char *text = json_dumps(j, 0);
    catalog_t *v2 = NULL;
    assert_int_equal(catalog_load(&v2, tu_write_file(old.dir, "v2.json", text), &e), TS_OK);
    free(text);
    json_decref(j);
    assert_int_equal(catdoc_swap(&old.n, v2, &e), TS_OK);
    static cells o;
    table(&old.n, DB_LOCAL, &o);
    char per[CELL_PERIOD_MAX];
    int before = 0;
    for (int k = 0; k < o.n; k++)
        if (!strncmp(o.key[k], "IN_TREATMENT_2|", strlen("IN_TREATMENT_2|"))) {
            assert_false(merge_period_moves(period_of(o.key[k], per), ON));
            before++;
        }
    assert_true(before > 0);
}

/* At the new unit an owned record may move between moved case files, never
 * between a moved one and one kept there before: refused, nothing changed. */
static void test_merge_owner_moves(void **state)
{
    (void)state;
    ts_err e = {0};
    merged();
    static cells before, after;
    table(&nw.n, DB_LOCAL, &before);
    records_batch b = {0};
    const char *cross = "id,person_id,modality,start_on,end_on,outcome\n"
                        "AE1,NP1,methadone,2024-11-05,,\n";
    assert_int_equal(import_csv(&nw.n, "episode", tu_write_file(nw.dir, "x.csv", cross), &b, &e),
                     TS_EINPUT);
    assert_int_equal(b.problems.n, 1);
    if (!strstr(b.problems.p[0].reason, "taken over in a merge (counted here from 2025-07-01)"))
        fail_msg("the refusal says: %s", b.problems.p[0].reason);
    table(&nw.n, DB_LOCAL, &after);
    assert_int_equal(after.n, before.n);
    for (int i = 0; i < before.n; i++)
        assert_true(fig_eq(find(&after, before.key[i]), before.f[i]));
    records_batch b2 = {0};
    const char *within = "id,person_id,modality,start_on,end_on,outcome\n"
                         "AE1,AP2,methadone,2024-11-05,,\n";
    assert_int_equal(import_csv(&nw.n, "episode", tu_write_file(nw.dir, "y.csv", within), &b2, &e),
                     TS_OK);
}

static void run_rows(node_t *n, const char *type, records_op op, const char *id)
{
    records_batch b = {.op = op, .nrows = 1};
    records_row row = {0};
    b.type = catalog_rtype_find(n->catalog, type);
    row.v[0] = id; /* the id field comes first in every record type */
    b.rows = &row;
    ts_err e = {0};
    if (records_batch_run(n, &b, &e) != TS_OK)
        fail_msg("%s %s: %s", type, id, e.msg);
}

/* A moved case file deleted at the new unit and entered again under the
 * same id counts from the merge date again: the counts return to what they
 * were, none of the periods before D counted a second time. */
static void test_merge_delete_readd(void **state)
{
    (void)state;
    merged();
    static cells before, after;
    table(&nw.n, DB_LOCAL, &before);
    run_rows(&nw.n, "support", RECORDS_DELETE, "AS2");
    run_rows(&nw.n, "episode", RECORDS_DELETE, "AE1");
    run_rows(&nw.n, "person", RECORDS_DELETE, "AP1"); /* registered in 2024 */
    import_text(&nw.n, nw.dir, "person", PERSONS, "A");
    import_text(&nw.n, nw.dir, "episode", EPISODES, "A");
    import_text(&nw.n, nw.dir, "support", SUPPORTS, "A");
    table(&nw.n, DB_LOCAL, &after);
    for (int i = 0; i < before.n; i++)
        assert_int_equal(find(&after, before.key[i]).v, before.f[i].v);
    for (int i = 0; i < after.n; i++)
        assert_int_equal(find(&before, after.key[i]).v, after.f[i].v);
}

/* Colliding ids, a unit merging into itself or named twice, a second merge
 * of the old unit elsewhere: refused, nothing changed. */
static void test_merge_refusals(void **state)
{
    (void)state;
    ts_err e = {0};
    merge_counts c[2];
    import_text(&nw.n, nw.dir, "person",
                "id,full_name,national_id,birth_date,sex,address,registered_on,confirmed_on,"
                "deregistered_on\n%sP2,X,,,F,,2025-01-01,,\n",
                "A");
    store_db dbs[] = {DB_LOCAL, DB_RECORDS, DB_RECORD_KEYS, DB_META, DB_PENDING};
    uint64_t before[2][5];
    for (int i = 0; i < 5; i++)
        before[0][i] = tu_digest_db(&nw.n, dbs[i]), before[1][i] = tu_digest_db(&old.n, dbs[i]);
    assert_int_equal(merge_run(&nw.n, olds, 1, ON, NULL, c, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "person:AP2 (at " OLD " and " NEW ")"));
    node_t *twice[2] = {&old.n, &old.n}, *self[1] = {&nw.n};
    assert_int_equal(merge_run(&nw.n, twice, 2, ON, NULL, c, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "twice"));
    assert_int_equal(merge_run(&nw.n, self, 1, ON, NULL, c, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "itself"));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tu_digest_db(&nw.n, dbs[i]), before[0][i]);
        assert_int_equal(tu_digest_db(&old.n, dbs[i]), before[1][i]);
    }
    /* marked for another unit or date: refused */
    assert_int_equal(merge_mark(&old.n, "34999", ON, c, &e), TS_OK);
    assert_int_equal(merge_check(&nw.n, olds, 1, ON, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "already being merged into 34999"));
}

/* ---- stopped between the two writes, then run again ------------------- */

static void reopen_copy(const char *from, fixture *to, const char *tag)
{
    char cmd[2048];
    ts_err e = {0};
    snprintf(to->dir, sizeof to->dir, "%s", tu_tmpdir(tag));
    snprintf(cmd, sizeof cmd, "cp -a '%s/.' '%s/'", from, to->dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(node_open(&to->n, to->dir, 0, &e), TS_OK);
}

static void test_merge_resume(void **state)
{
    (void)state;
    static fixture nw2, old2;
    ts_err e = {0};
    merge_counts c;
    node_close(&nw.n), node_close(&old.n); /* copies with the same record keys */
    reopen_copy(nw.dir, &nw2, "nw2");
    reopen_copy(old.dir, &old2, "old2");
    assert_int_equal(node_open(&nw.n, nw.dir, 0, &e), TS_OK);
    assert_int_equal(node_open(&old.n, old.dir, 0, &e), TS_OK);
    node_t *olds2[1] = {&old2.n};

    /* one: marked and taken in, then stopped (as by kill -9) */
    assert_int_equal(merge_check(&nw.n, olds, 1, ON, &e), TS_OK);
    assert_int_equal(merge_mark(&old.n, NEW, ON, &c, &e), TS_OK);
    assert_int_equal(merge_take(&nw.n, &old.n, ON, &c, &e), TS_OK);
    assert_true(c.taken);
    assert_int_equal(merge_run(&nw.n, olds, 1, ON, NULL, &c, &e), TS_OK);
    assert_false(c.marked || c.taken);
    assert_true(c.given_up);
    assert_int_equal(merge_run(&nw.n, olds, 1, ON, NULL, &c, &e), TS_OK); /* and again: nothing */
    assert_false(c.marked || c.taken || c.given_up);
    /* two: never stopped */
    assert_int_equal(merge_run(&nw2.n, olds2, 1, ON, NULL, &c, &e), TS_OK);
    assert_true(c.marked && c.taken && c.given_up);

    store_db dbs[] = {DB_LOCAL,       DB_TOTALS,      DB_PENDING, DB_RECORDS,
                      DB_RECORD_REFS, DB_RECORD_KEYS, DB_UNITS,   DB_ANNOUNCE};
    for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++) {
        assert_int_equal(tu_digest_db(&nw.n, dbs[i]), tu_digest_db(&nw2.n, dbs[i]));
        assert_int_equal(tu_digest_db(&old.n, dbs[i]), tu_digest_db(&old2.n, dbs[i]));
    }
    assert_true(tu_count(&old.n, DB_LOCAL) > 0 && tu_count(&nw.n, DB_RECORDS) == 18);
    node_close(&nw2.n), node_close(&old2.n);
    tu_rmrf(nw2.dir), tu_rmrf(old2.dir);
}

int main(void)
{
    setenv("TIERSYNC_TODAY", TODAY, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_rule),
        cmocka_unit_test(test_counts_from),
        cmocka_unit_test_setup_teardown(test_merge_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merged_recount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_owner_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_delete_readd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
