/* test_seal.c: LMDB stays behind the store.
 *
 * store.h keeps LMDB out of the store's interface (see its header comment);
 * only the files listed in sealed[] may include <lmdb.h> or store_lmdb.h,
 * name LMDB's types (MDB_txn, MDB_val, ...) or call mdb_*(). This reads the
 * sources of node/, tests/, fuzz/, tools/ and bench/ and fails on any other
 * file that does, so that a caller needing a new operation asks the store
 * for it instead of opening a cursor itself. */
#include <glob.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* The files that work on LMDB directly, and why. */
static const char *const sealed[] = {
    "node/store.h",            /* store_txn is LMDB's transaction, by name only */
    "node/store_lmdb.h",       /* the seal's inside */
    "node/store.c",            /* the store */
    "node/store_pending.c",    /* the store: cursors kept across cells */
    "node/audit_log.c",        /* appends (MDB_APPEND); moves the old "audit" table */
    "node/backup.c",           /* a compacting copy of the environment; reads a copy */
    "fuzz/fuzz_node.c",        /* no sync while fuzzing */
    "tests/test_audit.c",      /* writes the old "audit" table to test its move */
    "tests/test_seal.c",       /* this file: names what it looks for */
    "tests/test_store_fail.c", /* makes LMDB's reads fail beneath the store */
    "bench/bench_import.c",    /* raw LMDB puts, the import's ceiling */
    "bench/ceilings.c",        /* raw LMDB puts and commits, the ceilings */
};

static bool is_sealed(const char *rel)
{
    for (size_t i = 0; i < sizeof sealed / sizeof *sealed; i++)
        if (!strcmp(rel, sealed[i]))
            return true;
    return false;
}

/* Lines of path that touch LMDB, each printed; their number. */
static int lmdb_lines(const char *path, const regex_t *re)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    int ln = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        if (!regexec(re, line, 0, NULL, 0)) {
            print_error("%s:%d: LMDB outside the store (use a store_* operation): %s", path, ln,
                        line);
            bad++;
        }
    }
    fclose(f);
    return bad;
}

static void test_only_the_store_sees_lmdb(void **state)
{
    (void)state;
    const char *src = getenv("TIERSYNC_SOURCE");
    if (!src)
        skip();
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "#[ \t]*include[ \t]*[<\"](lmdb|store_lmdb)\\.h[>\"]|"
                             "(^|[^A-Za-z0-9_])(mdb_[a-z_]+[ \t]*\\(|MDB_[a-z][A-Za-z_]*)",
                             REG_EXTENDED),
                     0);
    static const char *const dirs[] = {"node", "tests", "fuzz", "tools", "bench"};
    static const char *const exts[] = {"c", "h"};
    int files = 0, bad = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++)
        for (size_t x = 0; x < sizeof exts / sizeof *exts; x++) {
            char pattern[4096];
            snprintf(pattern, sizeof pattern, "%s/%s/*.%s", src, dirs[d], exts[x]);
            glob_t g;
            if (glob(pattern, 0, NULL, &g) != 0)
                continue;
            for (size_t i = 0; i < g.gl_pathc; i++) {
                const char *rel = g.gl_pathv[i] + strlen(src) + 1;
                files++;
                if (!is_sealed(rel))
                    bad += lmdb_lines(g.gl_pathv[i], &re);
            }
            globfree(&g);
        }
    regfree(&re);
    assert_true(files > 100);
    assert_int_equal(bad, 0);
}

/* Every file of the list exists (a stale entry would let a new file of that
 * name in unseen), and store.h itself does not include <lmdb.h>. */
static void test_the_list_is_current(void **state)
{
    (void)state;
    const char *src = getenv("TIERSYNC_SOURCE");
    if (!src)
        skip();
    char path[4096];
    for (size_t i = 0; i < sizeof sealed / sizeof *sealed; i++) {
        snprintf(path, sizeof path, "%s/%s", src, sealed[i]);
        if (access(path, R_OK) != 0)
            fail_msg("%s is listed as sealed but does not exist: drop it from the list", sealed[i]);
    }
    snprintf(path, sizeof path, "%s/node/store.h", src);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    while (fgets(line, sizeof line, f))
        if (strstr(line, "#include") && strstr(line, "lmdb.h"))
            fail_msg("node/store.h includes LMDB: %s", line);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_the_store_sees_lmdb),
        cmocka_unit_test(test_the_list_is_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
