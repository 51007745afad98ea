/* test_users.c: register accounts: Argon2id hashes (never the password),
 * roles, names and passwords refused, the same answer for a wrong name and
 * a wrong password, a weaker hash renewed at login, passwd and remove, and
 * the last admin kept while others remain. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "users.h"

static node_t node;
static char dir[512];

static int setup(void **state)
{
    (void)state;
    tu_node_open(&node, dir, sizeof dir, "users", "34301");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    node_close(&node);
    tu_rmrf(dir);
    return 0;
}

/* The stored value of account name (a copy). */
static size_t stored(const char *name, char *out, size_t outsz)
{
    store_txn *txn;
    store_val v;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    int rc = store_get(node.store, txn, DB_USERS, name, strlen(name), &v, &e);
    size_t n = rc == TS_OK ? (v.len < outsz ? v.len : outsz) : 0;
    if (n)
        memcpy(out, v.data, n);
    store_read_end(txn);
    return n;
}

static bool holds(const char *hay, size_t n, const char *needle)
{
    size_t l = strlen(needle);
    for (size_t i = 0; i + l <= n; i++)
        if (!memcmp(hay + i, needle, l))
            return true;
    return false;
}

static void test_add_and_check(void **state)
{
    (void)state;
    ts_err e = {0};
    users_info info;
    assert_int_equal(users_add(node.store, "binh", USERS_OFFICER, "correct horse", &e), TS_OK);
    char v[512];
    size_t n = stored("binh", v, sizeof v);
    assert_true(n > 0);
    assert_true(holds(v, n, "$argon2id$"));
    assert_false(holds(v, n, "correct horse"));
    assert_int_equal(users_check(node.store, "binh", "correct horse", &info, &e), TS_OK);
    assert_string_equal(info.name, "binh");
    assert_int_equal(info.role, USERS_OFFICER);
    assert_true(info.created_ms > 0);

    /* a wrong password and an unknown name get the same answer */
    ts_err e1 = {0}, e2 = {0};
    assert_int_equal(users_check(node.store, "binh", "correct horsE", &info, &e1), TS_EINPUT);
    assert_int_equal(users_check(node.store, "nobody", "correct horse", &info, &e2), TS_EINPUT);
    assert_string_equal(e1.msg, e2.msg);
    assert_int_equal(users_check(node.store, "bad name!", "x", &info, &e2), TS_EINPUT);
    assert_string_equal(e1.msg, e2.msg);

    /* the name is taken */
    assert_int_equal(users_add(node.store, "binh", USERS_ADMIN, "another one", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "exists already"));
    assert_int_equal(users_get(node.store, "binh", &info, &e), TS_OK);
    assert_int_equal(info.role, USERS_OFFICER);
}

static void test_refusals(void **state)
{
    (void)state;
    ts_err e = {0};
    uint64_t before = tu_digest_db(&node, DB_USERS);
    assert_int_equal(users_add(node.store, "short", USERS_VIEWER, "1234567", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "too short"));
    char longpw[USERS_PASSWORD_MAX + 2];
    memset(longpw, 'x', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    assert_int_equal(users_add(node.store, "long", USERS_VIEWER, longpw, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "too long"));
    static const char *const bad[] = {"",    "-x",  ".x", "_x",
                                      "a b", "a/b", "é",  "abcdefghijklmnopqrstuvwxyz0123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(users_name_valid(bad[i]));
        assert_int_equal(users_add(node.store, bad[i], USERS_VIEWER, "long enough", &e), TS_EINPUT);
    }
    assert_true(users_name_valid("nguyen.van-an_2"));
    assert_int_equal(tu_digest_db(&node, DB_USERS), before);
    assert_int_equal(users_passwd(node.store, "ghost", "long enough", &e), TS_ENOTFOUND);
    assert_int_equal(users_remove(node.store, "ghost", &e), TS_ENOTFOUND);
}

static void test_roles(void **state)
{
    (void)state;
    users_role r;
    ts_err e = {0};
    assert_int_equal(users_role_parse("admin", &r, &e), TS_OK);
    assert_int_equal(r, USERS_ADMIN);
    assert_int_equal(users_role_parse("officer", &r, &e), TS_OK);
    assert_int_equal(r, USERS_OFFICER);
    assert_int_equal(users_role_parse("viewer", &r, &e), TS_OK);
    assert_int_equal(r, USERS_VIEWER);
    assert_int_equal(users_role_parse("root", &r, &e), TS_EINPUT);
    assert_int_equal(users_role_parse(NULL, &r, &e), TS_EINPUT);
    assert_true(USERS_VIEWER < USERS_OFFICER && USERS_OFFICER < USERS_ADMIN);
    assert_string_equal(users_role_name(USERS_OFFICER), "officer");
}

static void test_passwd_remove_last_admin(void **state)
{
    (void)state;
    ts_err e = {0};
    users_info info, list[4];
    assert_int_equal(users_add(node.store, "an", USERS_ADMIN, "admin pass", &e), TS_OK);
    assert_int_equal(users_add(node.store, "chi", USERS_VIEWER, "viewer pass", &e), TS_OK);
    assert_int_equal(users_passwd(node.store, "chi", "new viewer pass", &e), TS_OK);
    assert_int_equal(users_check(node.store, "chi", "viewer pass", &info, &e), TS_EINPUT);
    assert_int_equal(users_check(node.store, "chi", "new viewer pass", &info, &e), TS_OK);
    assert_int_equal(info.role, USERS_VIEWER); /* a new password keeps the role */
    assert_int_equal(users_remove(node.store, "an", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "last admin"));
    assert_int_equal(users_list(node.store, list, 4, &e), 2);
    assert_string_equal(list[0].name, "an");
    assert_string_equal(list[1].name, "chi");
    assert_int_equal(users_remove(node.store, "chi", &e), TS_OK);
    assert_int_equal(users_remove(node.store, "an", &e), TS_OK); /* alone: may go */
    assert_int_equal(users_list(node.store, list, 4, &e), 0);
}

/* A hash made with weaker settings than today's is replaced at login. */
typedef struct {
    uint32_t role, pad;
    int64_t created_ms, changed_ms;
    char hash[USERS_HASH_MAX];
} entry_copy;

static int put_weak(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    entry_copy *u = ctx;
    return store_put(s, txn, DB_USERS, "old", 3, u, sizeof *u, e);
}

static void test_rehash(void **state)
{
    (void)state;
    ts_err e = {0};
    users_info info;
    entry_copy u = {.role = USERS_OFFICER, .created_ms = 1};
    assert_int_equal(sodium_init() >= 0, 1);
    assert_int_equal(crypto_pwhash_str(u.hash, "old password", 12, crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN),
                     0);
    assert_int_equal(store_write(node.store, put_weak, &u, &e), TS_OK);
    assert_int_equal(users_check(node.store, "old", "old password", &info, &e), TS_OK);
    entry_copy now;
    assert_int_equal(stored("old", (char *)&now, sizeof now), sizeof now);
    assert_string_not_equal(now.hash, u.hash);
    assert_int_equal(crypto_pwhash_str_needs_rehash(now.hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                    crypto_pwhash_MEMLIMIT_INTERACTIVE),
                     0);
    assert_int_equal(users_check(node.store, "old", "old password", &info, &e), TS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test(test_roles),
        cmocka_unit_test_setup_teardown(test_passwd_remove_last_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehash, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
