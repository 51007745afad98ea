/* test_agg.c: property test of the aggregation rule (docs/DESIGN.md, Records
 * and aggregation).
 *
 * A seeded random history of record changes — adds, edits, moves and
 * deletes of persons, episodes and supports, imports (new, updated and
 * unchanged rows), refused imports, and clock moves across month and year
 * ends (with and without the daemon's tick in between, and backwards) — is
 * run on a real store through the same functions as the CLI. After every
 * step the node's own contribution table (and its totals) must equal the
 * totals recomputed from scratch by a deliberately plain reference
 * (agg_reference.h): brute force over every month and year, with the
 * default catalog's indicators written out by hand, sharing no code with
 * agg.c, cell keys included. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "import.h"
#include "node.h"
#include "records_batch.h"
#include "testutil.h"

#include "agg_reference.h"

static node_t node;
static char dir[512];
static int writes; /* batches committed: each one caught up with the clock */

typedef struct {
    char *out;
    size_t len, cap;
} text;

static uint64_t ref_person_key(int i)
{
    char root[64];
    snprintf(root, sizeof root, "person:%s", P[i].id);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    uint64_t key = records_key_get(node.store, txn, root, strlen(root));
    store_read_end(txn);
    return key;
}

static int collect(const store_val *k, const store_val *v, void *vctx)
{
    text *t = vctx;
    disclose_fig n;
    ts_cell c;
    ts_err e = {0};
    if (!store_fig_decode(v, &n))
        fail_msg("stored value of %.*s is malformed", (int)k->len, (char *)k->data);
    if (cell_parse(k->data, k->len, &c, &e) || cell_check(node.catalog, &c, &e))
        fail_msg("stored cell %.*s is not canonical: %s", (int)k->len, (char *)k->data, e.msg);
    if (t->len + k->len + 32 > t->cap)
        t->out = realloc(t->out, t->cap = 2 * t->cap + k->len + 64);
    t->len += (size_t)sprintf(t->out + t->len, "%.*s=%lld/%u\n", (int)k->len, (char *)k->data,
                              (long long)n.v, n.key);
    return 0;
}

/* The node's table db (keys of unit UNIT) as sorted "key=count" lines. */
static char *store_text(store_db db)
{
    text t = {malloc(1024), 0, 1024};
    t.out[0] = '\0';
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    assert_int_equal(store_scan(node.store, txn, db, UNIT "|", collect, &t, NULL, NULL), TS_OK);
    store_read_end(txn);
    return t.out;
}

static void check(int step, const char *what)
{
    char *want = reference_text(), *local = store_text(DB_LOCAL), *totals = store_text(DB_TOTALS);
    if (strcmp(want, local) != 0) {
        const char *a = want, *b = local;
        while (*a && *a == *b)
            a++, b++;
        fail_msg(
            "step %d (%s, today %d): local differs from the reference\nwant: %.200s\ngot:  %.200s",
            step, what, today, a, b);
    }
    assert_string_equal(local, totals);
    free(want);
    free(local);
    free(totals);
}

/* A digest of every table records touch: equal before and after a refusal. */
static uint64_t digest(void)
{
    return tu_digest_db(&node, DB_RECORDS) ^ tu_digest_db(&node, DB_RECORD_REFS) * 3 ^
        tu_digest_db(&node, DB_LOCAL) * 7 ^ tu_digest_db(&node, DB_META) * 11;
}

/* ---- operations through the records API ------------------------------ */

enum { T_PERSON, T_EPISODE, T_SUPPORT };

/* Runs one row (name, value, ..., NULL) as op on record type t. */
static int row_op(records_op op, int t, records_batch *b, ...)
{
    records_row row;
    ts_err e = {0};
    va_list ap;
    memset(&row, 0, sizeof row);
    memset(b, 0, sizeof *b);
    va_start(ap, b);
    for (const char *name; (name = va_arg(ap, const char *));) {
        int f = catalog_field_find(&node.catalog->types[t], name);
        assert_true(f >= 0);
        row.v[f] = va_arg(ap, const char *);
    }
    va_end(ap);
    b->type = t, b->op = op, b->rows = &row, b->nrows = 1;
    int rc = records_batch_run(&node, b, &e);
    if (rc == TS_ERUNTIME)
        fail_msg("store failure: %s", e.msg);
    writes += rc == TS_OK;
    return rc;
}

static void expect_ok(int rc, const records_batch *b, const char *what)
{
    if (rc != TS_OK)
        fail_msg("%s refused: %s: %s", what, b->problems.n ? b->problems.p[0].field : "",
                 b->problems.n ? b->problems.p[0].reason : "");
}

static int live_person(void)
{
    for (int tries = 0; tries < 50 && np > 0; tries++) {
        int i = (int)rnd((uint32_t)np);
        if (P[i].live)
            return i;
    }
    return -1;
}

static int later(const char *a, const char *b)
{
    return parse_date(a) > parse_date(b) ? parse_date(a) : parse_date(b);
}

static void gen_person(person *p)
{
    snprintf(p->name, sizeof p->name, "%s", NAMES[rnd(5)]);
    if (rnd(5))
        rand_between(19500101, 20101231, p->birth);
    else
        p->birth[0] = '\0';
    strcpy(p->sex, rnd(2) ? "M" : "F");
    rand_date(FIRST_YEAR * 10000 + 101, p->reg);
    p->conf[0] = p->dereg[0] = '\0';
    if (rnd(5) < 3)
        rand_date(parse_date(p->reg), p->conf);
    if (rnd(5) == 0)
        rand_date(later(p->reg, p->conf), p->dereg);
}

static void gen_episode(episode *e, int person_idx)
{
    e->p = person_idx;
    snprintf(e->mod, sizeof e->mod, "%s", MODS[rnd(4)]);
    rand_date(FIRST_YEAR * 10000 + 101, e->start);
    e->end[0] = e->outcome[0] = '\0';
    if (rnd(2)) {
        rand_date(parse_date(e->start), e->end);
        snprintf(e->outcome, sizeof e->outcome, "%s", OUTS[rnd(3)]);
    }
}

static void add_person(void)
{
    records_batch b;
    person *p = &P[np];
    gen_person(p);
    snprintf(p->id, sizeof p->id, "P%d", np);
    int rc = row_op(RECORDS_INSERT, T_PERSON, &b, "id", p->id, "full_name", p->name, "birth_date",
                    p->birth, "sex", p->sex, "registered_on", p->reg, "confirmed_on", p->conf,
                    "deregistered_on", p->dereg, "national_id", "079123456789", "address",
                    "Số 7, ngõ 2", NULL);
    expect_ok(rc, &b, "add person");
    p->live = 1;
    np++;
}

static void edit_person(void)
{
    int i = live_person();
    if (i < 0)
        return;
    person *p = &P[i];
    records_batch b;
    int rc;
    switch (rnd(4)) {
    case 0:
        if (rnd(4))
            rand_between(19500101, 20101231, p->birth);
        else
            p->birth[0] = '\0';
        rc = row_op(RECORDS_UPDATE, T_PERSON, &b, "id", p->id, "birth_date", p->birth, NULL);
        break;
    case 1:
        strcpy(p->sex, p->sex[0] == 'M' ? "F" : "M");
        rc = row_op(RECORDS_UPDATE, T_PERSON, &b, "id", p->id, "sex", p->sex, NULL);
        break;
    case 2:
        if (p->dereg[0] || rnd(3) == 0)
            p->dereg[0] = '\0';
        else
            rand_date(later(p->reg, p->conf), p->dereg);
        rc = row_op(RECORDS_UPDATE, T_PERSON, &b, "id", p->id, "deregistered_on", p->dereg, NULL);
        break;
    default:
        if (p->conf[0])
            p->conf[0] = '\0';
        else
            rand_between(parse_date(p->reg), p->dereg[0] ? parse_date(p->dereg) : today, p->conf);
        rc = row_op(RECORDS_UPDATE, T_PERSON, &b, "id", p->id, "confirmed_on", p->conf, NULL);
    }
    expect_ok(rc, &b, "edit person");
}

static int owned_by(int i)
{
    int n = 0;
    for (int j = 0; j < ne; j++)
        n += E[j].live && E[j].p == i;
    for (int j = 0; j < ns; j++)
        n += S[j].live && S[j].p == i;
    return n;
}

static void delete_person(void)
{
    int i = live_person();
    if (i < 0)
        return;
    records_batch b;
    uint64_t before = digest();
    int rc = row_op(RECORDS_DELETE, T_PERSON, &b, "id", P[i].id, NULL);
    if (owned_by(i)) {
        assert_int_equal(rc, TS_EINPUT);
        assert_non_null(strstr(b.problems.p[0].reason, "delete or re-assign them first"));
        assert_true(digest() == before);
        return;
    }
    expect_ok(rc, &b, "delete person");
    P[i].live = 0;
}

static void add_episode(void)
{
    int i = live_person();
    if (i < 0 || ne == MAXE)
        return;
    episode *e = &E[ne];
    records_batch b;
    gen_episode(e, i);
    snprintf(e->id, sizeof e->id, "E%d", ne);
    int rc = row_op(RECORDS_INSERT, T_EPISODE, &b, "id", e->id, "person_id", P[i].id, "modality",
                    e->mod, "start_on", e->start, "end_on", e->end, "outcome", e->outcome, NULL);
    expect_ok(rc, &b, "add episode");
    e->live = 1;
    ne++;
}

static int live_episode(void)
{
    for (int tries = 0; tries < 50 && ne > 0; tries++) {
        int i = (int)rnd((uint32_t)ne);
        if (E[i].live)
            return i;
    }
    return -1;
}

static void edit_episode(void)
{
    int i = live_episode(), q;
    if (i < 0)
        return;
    episode *e = &E[i];
    records_batch b;
    int rc;
    switch (rnd(4)) {
    case 0: /* close or reopen */
        if (e->end[0]) {
            e->end[0] = e->outcome[0] = '\0';
        } else {
            rand_date(parse_date(e->start), e->end);
            snprintf(e->outcome, sizeof e->outcome, "%s", OUTS[rnd(3)]);
        }
        rc = row_op(RECORDS_UPDATE, T_EPISODE, &b, "id", e->id, "end_on", e->end, "outcome",
                    e->outcome, NULL);
        break;
    case 1:
        snprintf(e->mod, sizeof e->mod, "%s", MODS[rnd(4)]);
        rc = row_op(RECORDS_UPDATE, T_EPISODE, &b, "id", e->id, "modality", e->mod, NULL);
        break;
    case 2: /* to another person: two clusters change */
        if ((q = live_person()) < 0)
            return;
        e->p = q;
        rc = row_op(RECORDS_UPDATE, T_EPISODE, &b, "id", e->id, "person_id", P[q].id, NULL);
        break;
    default:
        rand_between(FIRST_YEAR * 10000 + 101, e->end[0] ? parse_date(e->end) : today, e->start);
        rc = row_op(RECORDS_UPDATE, T_EPISODE, &b, "id", e->id, "start_on", e->start, NULL);
    }
    expect_ok(rc, &b, "edit episode");
}

static void add_or_delete_support(bool add)
{
    records_batch b;
    int rc;
    if (!add) {
        for (int tries = 0; tries < 20 && ns > 0; tries++) {
            int j = (int)rnd((uint32_t)ns);
            if (!S[j].live)
                continue;
            rc = row_op(RECORDS_DELETE, T_SUPPORT, &b, "id", S[j].id, NULL);
            expect_ok(rc, &b, "delete support");
            S[j].live = 0;
            return;
        }
        return;
    }
    int i = live_person();
    if (i < 0 || ns == MAXS)
        return;
    support *s = &S[ns];
    s->p = i;
    snprintf(s->id, sizeof s->id, "S%d", ns);
    snprintf(s->kind, sizeof s->kind, "%s", KINDS[rnd(5)]);
    rand_date(FIRST_YEAR * 10000 + 101, s->given);
    rc = row_op(RECORDS_INSERT, T_SUPPORT, &b, "id", s->id, "person_id", P[i].id, "kind", s->kind,
                "given_on", s->given, NULL);
    expect_ok(rc, &b, "add support");
    s->live = 1;
    ns++;
}

static void delete_episode(void)
{
    int i = live_episode();
    if (i < 0)
        return;
    records_batch b;
    expect_ok(row_op(RECORDS_DELETE, T_EPISODE, &b, "id", E[i].id, NULL), &b, "delete episode");
    E[i].live = 0;
}

/* ---- imports ---------------------------------------------------------- */

/* What the daemon does every few seconds. */
static void tick(void)
{
    ts_err e = {0};
    if (agg_tick(&node, &e) != TS_OK)
        fail_msg("agg_tick: %s", e.msg);
    writes++;
}

static void put_field(FILE *f, const char *s, const char *sep)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++)
            fputs(*s == '"' ? "\"\"" : (char[]){*s, 0}, f);
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(sep, f);
}

static void put_person(FILE *f, const person *p)
{
    const char *v[] = {p->id,         p->name, "079123456789", p->birth, p->sex,
                       "Số 7, ngõ 2", p->reg,  p->conf,        p->dereg};
    for (int i = 0; i < 9; i++)
        put_field(f, v[i], i < 8 ? "," : "\n");
}

static void put_episode(FILE *f, const episode *e)
{
    const char *v[] = {e->id, P[e->p].id, e->mod, e->start, e->end, e->outcome};
    for (int i = 0; i < 6; i++)
        put_field(f, v[i], i < 5 ? "," : "\n");
}

static int import_file(const char *type, const char *path, records_batch *b)
{
    ts_err e = {0};
    memset(b, 0, sizeof *b);
    int rc = import_csv(&node, type, path, b, &e);
    if (rc == TS_ERUNTIME)
        fail_msg("import failed: %s", e.msg);
    writes += rc == TS_OK;
    return rc;
}

/* New and updated persons, or new and updated episodes, in one file. */
static void import_mixed(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/mixed.csv", dir);
    FILE *f = fopen(path, "w");
    bool persons = np == 0 || rnd(2);
    int k = 1 + (int)rnd(8), touched[8], nt = 0;
    fputs(
        persons
            ? "id,full_name,national_id,birth_date,sex,address,registered_on,confirmed_on,deregistered_on\n"
            : "id,person_id,modality,start_on,end_on,outcome\n",
        f);
    for (int r = 0; r < k; r++) {
        int i = persons ? (rnd(2) ? live_person() : -1) : (rnd(2) ? live_episode() : -1),
            owner = live_person();
        for (int j = 0; j < nt; j++)
            i = touched[j] == i ? -1 : i; /* one row per id */
        if (i < 0)
            i = persons ? (np < MAXP ? np++ : -1) : (ne < MAXE && owner >= 0 ? ne++ : -1);
        if (i < 0 || (!persons && owner < 0))
            continue;
        touched[nt++] = i;
        if (persons) {
            gen_person(&P[i]);
            snprintf(P[i].id, sizeof P[i].id, "P%d", i);
            P[i].live = 1;
            put_person(f, &P[i]);
        } else {
            gen_episode(&E[i], owner);
            snprintf(E[i].id, sizeof E[i].id, "E%d", i);
            E[i].live = 1;
            put_episode(f, &E[i]);
        }
    }
    fclose(f);
    records_batch b;
    expect_ok(import_file(persons ? "person" : "episode", path, &b), &b, "import");
    assert_int_equal(b.inserted + b.updated + b.unchanged, (size_t)nt);
}

/* Every live person again, unchanged: nothing may move. */
static void reimport_unchanged(void)
{
    char path[600];
    int live = 0;
    snprintf(path, sizeof path, "%s/all.csv", dir);
    FILE *f = fopen(path, "w");
    fputs(
        "id,full_name,national_id,birth_date,sex,address,registered_on,confirmed_on,deregistered_on\n",
        f);
    for (int i = 0; i < np; i++)
        if (P[i].live)
            put_person(f, &P[i]), live++;
    fclose(f);
    records_batch b;
    tick(); /* catch up first: only the import must change nothing */
    uint64_t before = digest();
    expect_ok(import_file("person", path, &b), &b, "re-import");
    assert_int_equal(b.inserted + b.updated, 0);
    assert_int_equal(b.unchanged, (size_t)live);
    assert_true(digest() == before);
}

/* A file with good rows and one bad row: refused whole, nothing changes. */
static void import_refused(void)
{
    static const char *bad[][2] = {
        {"2099-01-01,,", "start_on"},         {"2023-05-01,2023-04-01,completed", "end_on"},
        {"2023-05-01,,completed", "outcome"}, {"2023-05-01,2023-06-01,", "outcome"},
        {"2023-02-30,,", "start_on"},         {"2023-5-1,,", "start_on"},
    };
    int i = live_person(), k = (int)rnd(6);
    if (i < 0)
        return;
    char path[600];
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "id,person_id,modality,start_on,end_on,outcome\nNEW1,%s,methadone,2023-01-01,,\n",
            P[i].id);
    fprintf(f, "NEW2,%s,methadone,%s\n", P[i].id, bad[k][0]);
    fclose(f);
    records_batch b;
    uint64_t before = digest();
    assert_int_equal(import_file("episode", path, &b), TS_EINPUT);
    assert_true(b.problems.n >= 1);
    assert_int_equal(b.problems.p[0].line, 3);
    assert_string_equal(b.problems.p[0].field, bad[k][1]);
    assert_true(digest() == before);
}

/* ---- the history ------------------------------------------------------ */

static void test_random_history(void **state)
{
    (void)state;
    bool pending = false; /* the clock moved and nothing caught up yet */
    cells = calloc(MAX_CELLS, sizeof *cells);
    set_today(20230520);
    for (int step = 0; step < STEPS; step++) {
        uint32_t r = rnd(100);
        int writes_before = writes;
        const char *what = "write";
        if (r < 12) {
            add_person();
        } else if (r < 20) {
            edit_person();
        } else if (r < 24) {
            delete_person();
        } else if (r < 38) {
            add_episode();
        } else if (r < 48) {
            edit_episode();
        } else if (r < 52) {
            delete_episode();
        } else if (r < 60) {
            add_or_delete_support(rnd(3) != 0);
        } else if (r < 68) {
            import_mixed();
        } else if (r < 71) {
            reimport_unchanged();
        } else if (r < 76) {
            what = "refused import"; /* (its catch-up is rolled back too) */
            import_refused();
        } else if (r < 90) {
            what = "clock forward";
            set_today(ymd_of(days_of(today) + 1 + rnd(75)));
            pending = rnd(5) < 3;
            if (!pending)
                tick();
            if (pending)
                continue;
        } else if (r < 93) {
            int back = today;
            what = "clock back and forth";
            tick();
            set_today(ymd_of(days_of(today) - 1 - rnd(60)));
            tick();
            check(step, "clock back");
            set_today(back);
            tick();
        } else {
            what = "tick";
            tick();
        }
        if (pending && writes == writes_before)
            continue; /* nothing was written: the store still counts up to the old month */
        pending = false;
        check(step, what);
    }
    assert_true(today / 10000 >= 2025); /* the history crossed several year ends */
    assert_true(np > 30 && ne > 30 && ns > 10 && writes > STEPS / 2);
    for (int k = 0; k < 3;
         k++) /* the history reached post-rehab, relapse and support after rehab */
        assert_true(post_cells[k] > 0);
    printf("history: %d persons, %d episodes, %d supports, %d writes, today %d\n", np, ne, ns,
           writes, today);
    free(cells);
}

static int setup(void **state)
{
    (void)state;
    ts_err e = {0};
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("agg"));
    config_defaults(&node.cfg, dir);
    snprintf(node.cfg.code, sizeof node.cfg.code, UNIT);
    catalog_t *cat = NULL;
    int rc = catalog_load(&cat, tu_catalog_path(), &e);
    node.catalog = cat; /* an atomic pointer (node.h) */
    if (rc || store_open(&node.store, &node.cfg, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    setenv("TIERSYNC_LOG", "warn", 1);
    const char *seed = getenv("TEST_SEED");
    if (seed)
        rng = strtoull(seed, NULL, 0) * 0x9E3779B97F4A7C15ULL | 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    node_close(&node);
    tu_rmrf(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_history)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
