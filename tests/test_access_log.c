/* test_access_log.c: the register's access log: entries kept in time
 * order with every field, filters by user and record, many entries in one
 * append, and entries older than the retention dropped (a bounded number
 * per append) while newer ones stay. */
#include <stdio.h>
#include <string.h>

#include "access_log.h"
#include "testutil.h"

#define DAY_MS (86400LL * 1000)
#define NOW (1773532800000LL) /* 2026-03-15 */

static node_t node;
static char dir[512];

static int setup(void **state)
{
    (void)state;
    tu_node_open(&node, dir, sizeof dir, "access", "34301");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    node_close(&node);
    tu_rmrf(dir);
    return 0;
}

static access_entry entry(int64_t ms, const char *user, const char *action, const char *id)
{
    access_entry a = {.ms = ms};
    snprintf(a.user, sizeof a.user, "%s", user);
    snprintf(a.addr, sizeof a.addr, "192.168.1.20");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.type, sizeof a.type, "%s", id[0] ? "person" : "");
    snprintf(a.id, sizeof a.id, "%s", id);
    return a;
}

typedef struct {
    access_entry got[64];
    int n;
} collect;

static int add(const access_entry *a, void *ctx)
{
    collect *c = ctx;
    if (c->n < 64)
        c->got[c->n] = *a;
    c->n++;
    return 0;
}

static void test_append_and_filter(void **state)
{
    (void)state;
    ts_err e = {0};
    access_entry batch[3] = {entry(NOW + 2, "binh", "add", "P1"),
                             entry(NOW + 3, "binh", "read", "P2"),
                             entry(NOW + 3, "an", "read", "P1")};
    access_entry first = entry(NOW, "binh", "login", "");
    first.count = 0;
    access_entry search = entry(NOW + 1, "binh", "search", "");
    search.count = 17;
    assert_int_equal(access_log_append(node.store, &first, 1, 1825, &e), TS_OK);
    assert_int_equal(access_log_append(node.store, &search, 1, 1825, &e), TS_OK);
    assert_int_equal(access_log_append(node.store, batch, 3, 1825, &e), TS_OK);
    collect c = {0};
    assert_int_equal(access_log_scan(node.store, NULL, NULL, add, &c, &e), TS_OK);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.got[0].action, "login");
    assert_string_equal(c.got[1].action, "search");
    assert_int_equal(c.got[1].count, 17);
    assert_string_equal(c.got[2].id, "P1");
    assert_string_equal(c.got[2].type, "person");
    assert_string_equal(c.got[2].addr, "192.168.1.20");
    assert_int_equal(c.got[2].ms, NOW + 2);
    /* same time: kept in the order appended */
    assert_string_equal(c.got[3].user, "binh");
    assert_string_equal(c.got[4].user, "an");
    memset(&c, 0, sizeof c);
    access_log_scan(node.store, "binh", "", add, &c, &e);
    assert_int_equal(c.n, 4);
    memset(&c, 0, sizeof c);
    access_log_scan(node.store, NULL, "P1", add, &c, &e);
    assert_int_equal(c.n, 2);
    memset(&c, 0, sizeof c);
    access_log_scan(node.store, "an", "P1", add, &c, &e);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    access_log_scan(node.store, "nobody", NULL, add, &c, &e);
    assert_int_equal(c.n, 0);
}

static void test_retention(void **state)
{
    (void)state;
    ts_err e = {0};
    static access_entry old[ACCESS_PRUNE_BATCH + 10];
    for (int i = 0; i < ACCESS_PRUNE_BATCH + 10; i++)
        old[i] = entry(NOW - 40 * DAY_MS + i, "binh", "read", "P1");
    access_entry mid = entry(NOW - 20 * DAY_MS, "binh", "read", "P2");
    assert_int_equal(access_log_append(node.store, old, ACCESS_PRUNE_BATCH + 10, 30, &e), TS_OK);
    assert_int_equal(access_log_append(node.store, &mid, 1, 30, &e), TS_OK);
    assert_int_equal(tu_count(&node, DB_ACCESS_LOG), ACCESS_PRUNE_BATCH + 11);
    /* an entry now: those older than 30 days go, at most a batch per append */
    access_entry now = entry(NOW, "an", "login", "");
    assert_int_equal(access_log_append(node.store, &now, 1, 30, &e), TS_OK);
    assert_int_equal(tu_count(&node, DB_ACCESS_LOG), 12);
    assert_int_equal(access_log_append(node.store, &now, 1, 30, &e), TS_OK);
    assert_int_equal(tu_count(&node, DB_ACCESS_LOG), 3);
    collect c = {0};
    access_log_scan(node.store, NULL, NULL, add, &c, &e);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.got[0].id, "P2"); /* 20 days old: kept */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_and_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
