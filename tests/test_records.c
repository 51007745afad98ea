/* test_records.c: imports and single-record changes at a commune: update
 * semantics, every refusal of docs/RECORDS.md (each naming line, field
 * and reason, never a pii value, and leaving the store byte-for-byte
 * unchanged), the report of many bad rows, deletes, moves, progress, and a
 * batch re-run after the store's map grew. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "import.h"
#include "node.h"
#include "records_batch.h"
#include "testutil.h"

#define UNIT "20002"
#define TODAY "2024-06-15"
#define PERSON_HEADER \
    "id,full_name,national_id,birth_date,sex,address,registered_on,confirmed_on,deregistered_on\n"
#define EPISODE_HEADER "id,person_id,modality,start_on,end_on,outcome\n"

static node_t node;
static char dir[512];

static int open_node(int map_mb)
{
    ts_err e = {0};
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("records"));
    config_defaults(&node.cfg, dir);
    snprintf(node.cfg.code, sizeof node.cfg.code, UNIT);
    if (map_mb)
        node.cfg.map_initial_mb = map_mb;
    catalog_t *cat = NULL;
    int rc = catalog_load(&cat, tu_catalog_path(), &e);
    node.catalog = cat; /* an atomic pointer (node.h) */
    if (rc || store_open(&node.store, &node.cfg, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    setenv("TIERSYNC_TODAY", TODAY, 1);
    return open_node(0);
}

static int teardown(void **state)
{
    (void)state;
    node_close(&node);
    tu_rmrf(dir);
    return 0;
}

static int import_text(const char *type, const char *text, records_batch *b, ts_err *e)
{
    memset(b, 0, sizeof *b);
    memset(e, 0, sizeof *e);
    return import_csv(&node, type, tu_write_file(dir, "in.csv", text), b, e);
}

static void import_ok(const char *type, const char *text, records_batch *b)
{
    ts_err e;
    if (import_text(type, text, b, &e) != TS_OK)
        fail_msg("import refused: %s; first: %s: %s", e.msg,
                 b->problems.n ? b->problems.p[0].field : "",
                 b->problems.n ? b->problems.p[0].reason : "");
}

static uint64_t digest(void)
{
    uint64_t h = 0;
    for (int db = 0; db < DB_COUNT; db++)
        h = h * 31 + tu_digest_db(&node, (store_db)db);
    return h;
}

static int64_t local(const char *key)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    int64_t v = store_get_fig(node.store, txn, DB_LOCAL, key, strlen(key)).v;
    store_read_end(txn);
    return v;
}

/* The stored value of field of record type/id ("" if empty). */
static void field_of(const char *type, const char *id, const char *field, char *out, size_t outsz)
{
    store_txn *txn;
    ts_err e = {0};
    char key[RECORDS_KEY_MAX + 1];
    size_t klen;
    rec_t r;
    int t = catalog_rtype_find(node.catalog, type);
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    assert_int_equal(records_find(node.store, txn, node.catalog, t, id, key, &klen, &r, &e), TS_OK);
    snprintf(out, outsz, "%s", r.v[catalog_field_find(&node.catalog->types[t], field)]);
    store_read_end(txn);
}

static const char PERSONS[] =
    "\xEF\xBB\xBF" PERSON_HEADER
    "P1,\"Nguyễn Văn \"\"Tèo\"\" An\",001085012345,1985-03-12,M,\"Số 12, thôn Đông,\r\nxã Yên Hòa\","
    "2023-11-05,2023-12-01,\r\n"
    "P2, Trần Thị Bình ,,1999-07-01,F,,2024-01-10,,2024-02-20\r\n";

static void test_import_insert_then_update(void **state)
{
    (void)state;
    records_batch b;
    char v[128];
    import_ok("person", PERSONS, &b);
    assert_int_equal(b.inserted, 2);
    field_of("person", "P1", "full_name", v, sizeof v);
    assert_string_equal(v, "Nguyễn Văn \"Tèo\" An");
    field_of("person", "P2", "full_name", v, sizeof v); /* trimmed */
    assert_string_equal(v, "Trần Thị Bình");
    assert_int_equal(local(UNIT "|PERSONS_MANAGED|202401|age_band=18-29,sex=F"), 1);
    assert_int_equal(local(UNIT "|PERSONS_MANAGED|202402|age_band=18-29,sex=F"), 0);
    assert_int_equal(local(UNIT "|PERSONS_CONFIRMED|202406|age_band=30-39,sex=M"), 1);

    /* columns left out keep their values; an empty cell clears one */
    import_ok("person",
              "id,full_name,sex,registered_on,confirmed_on\nP1,Nguyễn Văn An,M,2023-11-05,\n", &b);
    assert_int_equal(b.updated, 1);
    field_of("person", "P1", "national_id", v, sizeof v);
    assert_string_equal(v, "001085012345");
    field_of("person", "P1", "confirmed_on", v, sizeof v);
    assert_string_equal(v, "");
    assert_int_equal(local(UNIT "|PERSONS_CONFIRMED|202406|age_band=30-39,sex=M"), 0);

    /* the same file again changes nothing */
    uint64_t before = digest();
    import_ok("person",
              "id,full_name,sex,registered_on,confirmed_on\nP1,Nguyễn Văn An,M,2023-11-05,\n", &b);
    assert_int_equal(b.unchanged, 1);
    assert_int_equal(b.cells, 0);
    assert_true(digest() == before);
}

typedef struct {
    const char *type, *text;
    int line;
    const char *field, *reason, *secret; /* secret: a pii value the message must not repeat */
} refusal;

static const refusal REFUSALS[] = {
    {"person", PERSON_HEADER "P9,A,,2024-06-16,M,,2024-01-01,,\n", 2, "birth_date", "after today",
     "2024-06-16"},
    {"person", PERSON_HEADER "P9,A,,1985-02-30,M,,2024-01-01,,\n", 2, "birth_date", "not a date",
     "1985-02-30"},
    {"person", PERSON_HEADER "P9,A,,12/03/1985,M,,2024-01-01,,\n", 2, "birth_date", "not a date",
     "12/03/1985"},
    {"person", PERSON_HEADER "P9,A,,,M,,2024-01-10,,2024-01-09\n", 2, "deregistered_on",
     "before registered_on", NULL},
    {"person", PERSON_HEADER "P9,A,,,X,,2024-01-01,,\n", 2, "sex", "allowed: M, F", NULL},
    {"person", PERSON_HEADER "P9,A,,,,,2024-01-01,,\n", 2, "sex", "missing", NULL},
    {"person", PERSON_HEADER "P9,,,,M,,2024-01-01,,\n", 2, "full_name", "missing", NULL},
    {"person", PERSON_HEADER ",A,,,M,,2024-01-01,,\n", 2, "id", "missing", NULL},
    {"person", PERSON_HEADER "P9,A,,,M,,2024-01-01,,\nP9,B,,,F,,2024-01-01,,\n", 3, "id",
     "appears twice", NULL},
    {"person", PERSON_HEADER "P9,\"Lê\bVăn\",,,M,,2024-01-01,,\n", 2, "full_name",
     "control character", "Lê"},
    {"person", PERSON_HEADER "\"P\n9\",A,,,M,,2024-01-01,,\n", 2, "id", "control character", NULL},
    {"person", PERSON_HEADER "P9,A,,,M,,2024-01-01\n", 2, "", "7 fields, the header has 9", NULL},
    {"person", "id,full_name,sex,registered_on,nickname\n", 1, "", "unknown column 'nickname'",
     NULL},
    {"person", "id,full_name,registered_on\n", 1, "sex", "required column missing", NULL},
    {"person", "id,full_name,sex,sex,registered_on\n", 1, "sex", "given twice", NULL},
    {"person",
     PERSON_HEADER
     "P123456789012345678901234567890123456789012345678901234567890123456,A,,,M,,2024-01-01,,\n",
     2, "id", "longer than 64", NULL},
    {"episode", EPISODE_HEADER "E9,P1,methadone,2024-05-01,2024-04-30,completed\n", 2, "end_on",
     "before start_on", NULL},
    {"episode", EPISODE_HEADER "E9,P1,methadone,2024-05-01,,completed\n", 2, "outcome",
     "given without end_on", NULL},
    {"episode", EPISODE_HEADER "E9,P1,methadone,2024-05-01,2024-05-02,\n", 2, "outcome",
     "required when end_on is set", NULL},
    {"episode", EPISODE_HEADER "E9,P404,methadone,2024-05-01,,\n", 2, "person_id",
     "no person with id P404", NULL},
    {"episode", EPISODE_HEADER "E9,P1,heroin,2024-05-01,,\n", 2, "modality",
     "unknown value 'heroin' (allowed: compulsory", NULL},
    {"episode", EPISODE_HEADER "E9,P1,methadone,2025-01-01,,\n", 2, "start_on",
     "after today (2024-06-15)", NULL},
    {"support", "id,person_id,kind,given_on\nS9,P1,loan,2024-05-01\n", 2, "kind",
     "allowed: vocational_training", NULL},
};

static void test_every_refusal(void **state)
{
    (void)state;
    records_batch b;
    ts_err e;
    import_ok("person", PERSONS, &b);
    import_ok("episode", EPISODE_HEADER "E1,P1,methadone,2023-12-15,,\n", &b);
    for (size_t i = 0; i < sizeof REFUSALS / sizeof REFUSALS[0]; i++) {
        const refusal *r = &REFUSALS[i];
        uint64_t before = digest();
        int rc = import_text(r->type, r->text, &b, &e);
        if (rc != TS_EINPUT || b.problems.n < 1)
            fail_msg("case %zu (%s) was not refused: %d %s", i, r->reason, rc, e.msg);
        char msg[TS_ERR_MSG_MAX];
        records_problem_text("in.csv", &b.problems.p[0], msg, sizeof msg);
        if (b.problems.p[0].line != r->line || strcmp(b.problems.p[0].field, r->field) != 0 ||
            !strstr(b.problems.p[0].reason, r->reason))
            fail_msg("case %zu: got '%s', want line %d, field '%s', '%s'", i, msg, r->line,
                     r->field, r->reason);
        if (r->secret && (strstr(msg, r->secret) || strstr(e.msg, r->secret)))
            fail_msg("case %zu: the message repeats a pii value: %s", i, msg);
        assert_non_null(strstr(e.msg, "in.csv"));
        assert_non_null(strstr(e.msg, "nothing was changed"));
        assert_true(digest() == before);
    }
}

static void test_structural_refusals(void **state)
{
    (void)state;
    records_batch b;
    ts_err e;
    static const struct {
        const char *type, *text, *want;
    } cases[] = {
        {"person", PERSON_HEADER "P9,\"Nguyễn,,,M,,2024-01-01,,\n", "line 2: field 2"},
        {"person", PERSON_HEADER "P9,Caf\xE9,,,M,,2024-01-01,,\n", "UTF-8"},
        {"person", "", "the file is empty"},
        {"household", "id\nH1\n",
         "unknown record type 'household' (record types: person, episode, support)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t before = digest();
        assert_int_equal(import_text(cases[i].type, cases[i].text, &b, &e), TS_EINPUT);
        if (!strstr(e.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].want);
        assert_true(digest() == before);
    }
    memset(&b, 0, sizeof b);
    assert_int_equal(import_csv(&node, "person", "/nonexistent/p.csv", &b, &e), TS_ERUNTIME);
}

/* Thirty bad rows: all counted, the first twenty kept, in line order. */
static void test_many_bad_rows(void **state)
{
    (void)state;
    records_batch b;
    ts_err e;
    char text[8192] = EPISODE_HEADER;
    for (int i = 0; i < 30; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s,P404,methadone,%s,,\n",
                 i % 2 ? "E1" : "EX", i % 3 ? "2024-01-01" : "2024-13-01");
    uint64_t before = digest();
    assert_int_equal(import_text("episode", text, &b, &e), TS_EINPUT);
    assert_int_equal(b.problems.rows, 30);
    assert_true(b.problems.total > 30); /* duplicate ids, bad dates and unknown persons */
    assert_int_equal(b.problems.n, RECORDS_PROBLEMS_MAX);
    for (int i = 1; i < b.problems.n; i++)
        assert_true(b.problems.p[i - 1].line <= b.problems.p[i].line);
    assert_true(digest() == before);
}

static int one(records_op op, const char *type, records_batch *b, ...)
{
    records_row row;
    ts_err e = {0};
    va_list ap;
    int t = catalog_rtype_find(node.catalog, type);
    memset(&row, 0, sizeof row);
    memset(b, 0, sizeof *b);
    va_start(ap, b);
    for (const char *name; (name = va_arg(ap, const char *));)
        row.v[catalog_field_find(&node.catalog->types[t], name)] = va_arg(ap, const char *);
    va_end(ap);
    b->type = t, b->op = op, b->rows = &row, b->nrows = 1;
    return records_batch_run(&node, b, &e);
}

static void test_record_commands(void **state)
{
    (void)state;
    records_batch b;
    const char *k_m = UNIT "|IN_TREATMENT|202406|age_band=30-39,modality=compulsory,sex=M";
    const char *k_f = UNIT "|IN_TREATMENT|202406|age_band=30-39,modality=compulsory,sex=F";
    assert_int_equal(one(RECORDS_INSERT, "person", &b, "id", "Q1", "full_name", "Lý Văn Sơn", "sex",
                         "M", "birth_date", "1990-01-01", "registered_on", "2024-01-02", NULL),
                     TS_OK);
    assert_int_equal(one(RECORDS_INSERT, "person", &b, "id", "Q1", "full_name", "X", "sex", "F",
                         "registered_on", "2024-01-02", NULL),
                     TS_EINPUT);
    assert_non_null(strstr(b.problems.p[0].reason, "already exists"));
    assert_int_equal(one(RECORDS_INSERT, "episode", &b, "id", "QE1", "person_id", "Q1", "modality",
                         "compulsory", "start_on", "2024-02-01", NULL),
                     TS_OK);
    assert_int_equal(local(k_m), 1);
    /* editing the person recomputes its episodes */
    assert_int_equal(one(RECORDS_UPDATE, "person", &b, "id", "Q1", "sex", "F", NULL), TS_OK);
    assert_int_equal(local(k_m), 0);
    assert_int_equal(local(k_f), 1);
    assert_int_equal(one(RECORDS_UPDATE, "person", &b, "id", "Q404", "sex", "F", NULL), TS_EINPUT);
    assert_non_null(strstr(b.problems.p[0].reason, "no person with id Q404"));
    /* a person that still has an episode cannot go */
    uint64_t before = digest();
    assert_int_equal(one(RECORDS_DELETE, "person", &b, "id", "Q1", NULL), TS_EINPUT);
    assert_non_null(strstr(b.problems.p[0].reason, "(1 episode)"));
    assert_true(digest() == before);
    assert_int_equal(one(RECORDS_DELETE, "episode", &b, "id", "QE1", "modality", "x", NULL),
                     TS_EINPUT);
    assert_int_equal(one(RECORDS_DELETE, "episode", &b, "id", "QE1", NULL), TS_OK);
    assert_int_equal(b.deleted, 1);
    assert_int_equal(local(k_f), 0);
    assert_int_equal(one(RECORDS_DELETE, "person", &b, "id", "Q1", NULL), TS_OK);
    assert_int_equal(one(RECORDS_DELETE, "person", &b, "id", "Q1", NULL), TS_EINPUT);
}

/* An episode moved to another person leaves one cluster for the other. */
static void test_move_episode(void **state)
{
    (void)state;
    records_batch b;
    char v[64];
    assert_int_equal(one(RECORDS_INSERT, "person", &b, "id", "M1", "full_name", "A", "sex", "M",
                         "registered_on", "2024-01-02", NULL),
                     TS_OK);
    assert_int_equal(one(RECORDS_INSERT, "person", &b, "id", "M2", "full_name", "B", "sex", "F",
                         "registered_on", "2024-01-02", NULL),
                     TS_OK);
    assert_int_equal(one(RECORDS_INSERT, "support", &b, "id", "MS", "person_id", "M1", "kind",
                         "other", "given_on", "2024-03-03", NULL),
                     TS_OK);
    assert_int_equal(local(UNIT "|SUPPORT_GIVEN|202403|kind=other,sex=M"), 1);
    assert_int_equal(one(RECORDS_UPDATE, "support", &b, "id", "MS", "person_id", "M2", NULL),
                     TS_OK);
    assert_int_equal(local(UNIT "|SUPPORT_GIVEN|202403|kind=other,sex=M"), 0);
    assert_int_equal(local(UNIT "|SUPPORT_GIVEN|202403|kind=other,sex=F"), 1);
    field_of("support", "MS", "person_id", v, sizeof v);
    assert_string_equal(v, "M2");
    assert_int_equal(one(RECORDS_DELETE, "person", &b, "id", "M1", NULL), TS_OK);
    assert_int_equal(one(RECORDS_DELETE, "person", &b, "id", "M2", NULL), TS_EINPUT);
}

typedef struct {
    int calls;
    size_t last;
} progress_seen;

static void on_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    progress_seen *p = ctx;
    if (strcmp(phase, "checked") == 0) {
        p->calls++;
        p->last = done;
        assert_int_equal(total, 25000);
    }
}

/* A larger import, in a store whose map must grow twice on the way: the
 * batch runs again from the start and the result is still exact. */
static void test_large_import_grows_map(void **state)
{
    (void)state;
    records_batch b;
    ts_err e = {0};
    node_close(&node);
    tu_rmrf(dir);
    assert_int_equal(open_node(1), 0);
    size_t cap = 25000 * 80 + 256, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text, cap, "id,full_name,sex,birth_date,registered_on\n");
    for (int i = 0; i < 25000; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "L%d,Hồ Thị Lan %d,F,1980-01-01,2024-06-01\n", i, i);
    progress_seen seen = {0};
    memset(&b, 0, sizeof b);
    b.progress = on_progress;
    b.progress_ctx = &seen;
    assert_int_equal(import_csv(&node, "person", tu_write_file(dir, "big.csv", text), &b, &e),
                     TS_OK);
    free(text);
    assert_int_equal(b.inserted, 25000);
    assert_int_equal(seen.calls, 3);
    assert_int_equal(seen.last, 25000);
    assert_int_equal(local(UNIT "|PERSONS_MANAGED|202406|age_band=40-49,sex=F"), 25000);
    store_info info;
    store_info_get(node.store, &info);
    assert_true(info.map_bytes > (size_t)1 << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_insert_then_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_structural_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_episode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_import_grows_map, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
