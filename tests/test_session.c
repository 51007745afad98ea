/* test_session.c: login sessions and the failed-login throttle: ids are
 * 256 random bits kept only hashed, idle expiry, CSRF tokens bound to
 * their session, logout and "end every session of a user", a full table
 * making room, and the throttle's doubling wait, per key, forgiven by a
 * success. */
#include <string.h>

#include "session.h"
#include "testutil.h"

#define IDLE_S 60
#define T0 1000000

static void test_create_get_expire(void **state)
{
    (void)state;
    session_table *t = session_new(IDLE_S);
    char id[SESSION_TOKEN_HEX], csrf[SESSION_TOKEN_HEX], id2[SESSION_TOKEN_HEX];
    session_info s;
    session_create(t, "binh", USERS_OFFICER, T0, id, csrf);
    assert_int_equal(strlen(id), 64);
    assert_int_equal(strlen(csrf), 64);
    assert_string_not_equal(id, csrf);
    session_create(t, "binh", USERS_OFFICER, T0, id2, csrf);
    assert_string_not_equal(id, id2);
    assert_true(session_get(t, id, T0 + 1000, &s));
    assert_string_equal(s.user, "binh");
    assert_int_equal(s.role, USERS_OFFICER);
    /* each use counts: idle, not since login */
    assert_true(session_get(t, id, T0 + 50000, &s));
    assert_true(session_get(t, id, T0 + 100000, &s));
    assert_false(session_get(t, id, T0 + 100000 + IDLE_S * 1000 + 1, &s));
    assert_false(session_get(t, id, T0 + 100001, &s)); /* ended for good */
    /* malformed ids */
    assert_false(session_get(t, NULL, T0, &s));
    assert_false(session_get(t, "", T0, &s));
    assert_false(session_get(t, "zz", T0, &s));
    char upper[SESSION_TOKEN_HEX];
    memcpy(upper, id2, sizeof upper);
    upper[0] = upper[0] == '0' ? '1' : '0';
    assert_false(session_get(t, upper, T0, &s));
    session_destroy(&t);
    assert_null(t);
}

static void test_csrf(void **state)
{
    (void)state;
    session_table *t = session_new(IDLE_S);
    char a[SESSION_TOKEN_HEX], ca[SESSION_TOKEN_HEX], b[SESSION_TOKEN_HEX], cb[SESSION_TOKEN_HEX];
    char again[SESSION_TOKEN_HEX];
    session_create(t, "an", USERS_ADMIN, T0, a, ca);
    session_create(t, "binh", USERS_OFFICER, T0, b, cb);
    assert_true(session_csrf_ok(t, a, ca));
    assert_true(session_csrf_ok(t, b, cb));
    assert_false(session_csrf_ok(t, a, cb)); /* another session's token */
    assert_false(session_csrf_ok(t, a, NULL));
    assert_false(session_csrf_ok(t, a, ""));
    assert_false(session_csrf_ok(t, a, a)); /* the id is not the token */
    assert_true(session_csrf(t, a, again));
    assert_string_equal(again, ca);
    session_end(t, a);
    assert_false(session_csrf_ok(t, a, ca)); /* no session, no token */
    /* another daemon (a restart) gives other tokens for the same id */
    session_table *t2 = session_new(IDLE_S);
    assert_true(session_csrf(t2, b, again));
    assert_string_not_equal(again, cb);
    session_destroy(&t2);
    session_destroy(&t);
}

static void test_end_user_and_full(void **state)
{
    (void)state;
    session_table *t = session_new(IDLE_S);
    static char id[SESSION_MAX + 3][SESSION_TOKEN_HEX];
    char csrf[SESSION_TOKEN_HEX];
    session_info s;
    session_create(t, "chi", USERS_VIEWER, T0, id[0], csrf);
    session_create(t, "chi", USERS_VIEWER, T0, id[1], csrf);
    session_create(t, "an", USERS_ADMIN, T0, id[2], csrf);
    session_end_user(t, "chi");
    assert_false(session_get(t, id[0], T0, &s));
    assert_false(session_get(t, id[1], T0, &s));
    assert_true(session_get(t, id[2], T0 + 10000, &s));
    /* fill the table, then one more: the least recently used makes room */
    for (int i = 3; i < SESSION_MAX + 3; i++)
        session_create(t, "binh", USERS_OFFICER, T0 + i, id[i], csrf);
    int64_t now = T0 + 20000;
    assert_false(session_get(t, id[3], now, &s));
    assert_true(session_get(t, id[2], now, &s));
    assert_true(session_get(t, id[4], now, &s));
    assert_true(session_get(t, id[SESSION_MAX + 2], now, &s));
    session_destroy(&t);
}

static void test_throttle(void **state)
{
    (void)state;
    session_table *t = session_new(IDLE_S);
    int64_t now = T0;
    for (int i = 0; i < SESSION_FREE_FAILS - 1; i++) {
        session_failed(t, "a:10.0.0.5", now);
        assert_int_equal(session_wait_s(t, "a:10.0.0.5", now), 0);
    }
    session_failed(t, "a:10.0.0.5", now);
    assert_int_equal(session_wait_s(t, "a:10.0.0.5", now), 1);
    assert_int_equal(session_wait_s(t, "a:10.0.0.6", now), 0); /* per key */
    session_failed(t, "a:10.0.0.5", now);
    assert_int_equal(session_wait_s(t, "a:10.0.0.5", now), 2);
    session_failed(t, "a:10.0.0.5", now);
    assert_int_equal(session_wait_s(t, "a:10.0.0.5", now), 4);
    assert_int_equal(session_wait_s(t, "a:10.0.0.5", now + 4000), 0);
    for (int i = 0; i < 30; i++)
        session_failed(t, "a:10.0.0.5", now);
    assert_int_equal(session_wait_s(t, "a:10.0.0.5", now), SESSION_MAX_WAIT_S);
    session_succeeded(t, "a:10.0.0.5");
    assert_int_equal(session_wait_s(t, "a:10.0.0.5", now), 0);
    /* an old streak is forgiven */
    for (int i = 0; i < SESSION_FREE_FAILS; i++)
        session_failed(t, "u:binh", now);
    assert_true(session_wait_s(t, "u:binh", now) > 0);
    session_failed(t, "u:binh", now + (int64_t)SESSION_FORGET_S * 1000 + 1);
    assert_int_equal(session_wait_s(t, "u:binh", now + (int64_t)SESSION_FORGET_S * 1000 + 1), 0);
    /* many keys: the table stays bounded and keeps the newest */
    for (int i = 0; i < SESSION_THROTTLE_MAX * 2; i++) {
        char k[32];
        snprintf(k, sizeof k, "a:10.1.%d.%d", i / 256, i % 256);
        for (int j = 0; j < SESSION_FREE_FAILS; j++)
            session_failed(t, k, now + i);
    }
    assert_true(session_wait_s(t, "a:10.1.3.255", now + SESSION_THROTTLE_MAX * 2) > 0);
    assert_int_equal(session_wait_s(t, "a:10.1.0.0", now + SESSION_THROTTLE_MAX * 2), 0);
    session_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_get_expire),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_end_user_and_full),
        cmocka_unit_test(test_throttle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
