/* test_register.c: the case register's HTTP API through reg_handle (no
 * sockets): served only where records are and only on loopback or over
 * TLS; login, the throttle, cookies; CSRF on every write; roles; records
 * added, refused with every problem, changed, deleted and imported all or
 * nothing through the same checks as the CLI; accounts in the browser; the
 * access log of every step. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "register.h"
#include "testutil.h"
#include "users.h"

#define TODAY "2026-03-15"
#define NOW_MS 1773572400000LL /* 2026-03-15 11:00 UTC: the requests' time */

static node_t node;
static char dir[512];
static reg_t *reg;

typedef struct {
    char cookie[80], csrf[80];
} who;

static int setup(void **state)
{
    (void)state;
    setenv("TIERSYNC_TODAY", TODAY, 1);
    tu_node_open(&node, dir, sizeof dir, "register", "34301");
    tu_node_identity(&node);
    ts_err e = {0};
    assert_int_equal(users_add(node.store, "an", USERS_ADMIN, "admin-pass-1", &e), TS_OK);
    assert_int_equal(users_add(node.store, "binh", USERS_OFFICER, "officer-pass-1", &e), TS_OK);
    assert_int_equal(users_add(node.store, "chi", USERS_VIEWER, "viewer-pass-1", &e), TS_OK);
    reg = reg_new(&node, false, true);
    return reg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    reg_destroy(&reg);
    node_close(&node);
    tu_rmrf(dir);
    return 0;
}

/* One request; returns the status, the parsed JSON body in *j (or NULL). */
static int call(const who *w, const char *method, const char *path, const char *body, json_t **j,
                reg_reply *keep)
{
    api_params p = {0};
    char *q = strchr(path, '?'), pathbuf[256], qbuf[256];
    snprintf(pathbuf, sizeof pathbuf, "%s", path);
    if (q) {
        pathbuf[q - path] = '\0';
        snprintf(qbuf, sizeof qbuf, "%s", q + 1);
        char *eq = strchr(qbuf, '=');
        if (eq)
            *eq = '\0', api_params_add(&p, qbuf, eq + 1);
    }
    char *b = body ? strdup(body) : NULL;
    reg_request r = {.method = method,
                     .path = pathbuf,
                     .params = &p,
                     .body = b,
                     .body_len = body ? strlen(body) : 0,
                     .addr = "192.0.2.7",
                     .cookie = w && w->cookie[0] ? w->cookie : NULL,
                     .csrf = w && w->csrf[0] ? w->csrf : NULL,
                     .now_ms = NOW_MS};
    reg_reply out;
    reg_handle(reg, &r, &out);
    free(b);
    if (j)
        *j = out.asset ? NULL : json_loadb(out.body, out.len, 0, NULL);
    int status = out.status;
    if (keep)
        *keep = out;
    else
        reg_reply_free(&out);
    return status;
}

static void login(who *w, const char *user, const char *pw)
{
    char body[128];
    snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
    reg_reply out;
    json_t *j;
    memset(w, 0, sizeof *w);
    assert_int_equal(call(NULL, "POST", "/api/session", body, &j, &out), 200);
    assert_non_null(strstr(out.set_cookie, "; HttpOnly; SameSite=Strict"));
    assert_null(strstr(out.set_cookie, "Secure")); /* plain HTTP on loopback */
    sscanf(out.set_cookie, REG_COOKIE "=%64[0-9a-f]", w->cookie);
    snprintf(w->csrf, sizeof w->csrf, "%s", json_string_value(json_object_get(j, "csrf")));
    assert_string_equal(json_string_value(json_object_get(j, "user")), user);
    assert_int_equal(strlen(w->cookie), 64);
    json_decref(j);
    reg_reply_free(&out);
}

static int count_log(const char *action, const char *id)
{
    who a;
    json_t *j;
    login(&a, "an", "admin-pass-1");
    assert_int_equal(call(&a, "GET", "/api/access-log", NULL, &j, NULL), 200);
    int n = 0;
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(j, "entries"), i, x)
        n += !strcmp(json_string_value(json_object_get(x, "action")), action) &&
            (!id || !strcmp(json_string_value(json_object_get(x, "id")), id));
    json_decref(j);
    return n;
}

static void test_where_served(void **state)
{
    (void)state;
    json_t *j;
    reg_reply out;
    assert_true(reg_owns("/register") && reg_owns("/api/session") &&
                reg_owns("/api/records/person/P1") && reg_owns("/api/users/an/password") &&
                reg_owns("/api/access-log") && reg_owns("/register.js"));
    assert_false(reg_owns("/api/totals") || reg_owns("/registerx") || reg_owns("/"));
    assert_int_equal(call(NULL, "GET", "/register", NULL, NULL, &out), 200);
    assert_true(out.asset);
    assert_non_null(strstr(out.content_type, "text/html"));
    assert_int_equal(call(NULL, "POST", "/register", "x", NULL, NULL), 405);
    /* beyond loopback without TLS: off */
    reg_t *open = reg_new(&node, false, false);
    reg_t *keep = reg;
    reg = open;
    assert_int_equal(call(NULL, "GET", "/register", NULL, &j, NULL), 404);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "TLS"));
    json_decref(j);
    reg_destroy(&open);
    /* over TLS: on, and the cookie is Secure */
    reg = reg_new(&node, true, false);
    assert_int_equal(call(NULL, "POST", "/api/session",
                          "{\"user\":\"binh\",\"password\":\"officer-pass-1\"}", NULL, &out),
                     200);
    assert_non_null(strstr(out.set_cookie, "; Secure"));
    reg_reply_free(&out);
    reg_destroy(&reg);
    reg = keep;
    /* a node with a child holds no records and serves no register */
    tu_unit child = {
        .code = "3430101", .parent = "34301", .via = "3430101", .leaf = true, .child = true};
    tu_units_put(&node, &child, 1);
    assert_int_equal(call(NULL, "GET", "/register", NULL, NULL, NULL), 404);
    assert_int_equal(call(NULL, "POST", "/api/session",
                          "{\"user\":\"binh\",\"password\":\"officer-pass-1\"}", &j, NULL),
                     404);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "children"));
    json_decref(j);
}

static void test_login_logout_throttle(void **state)
{
    (void)state;
    who w;
    json_t *j;
    reg_reply out;
    assert_int_equal(call(NULL, "GET", "/api/session", NULL, NULL, NULL), 401);
    assert_int_equal(call(NULL, "POST", "/api/session", "not json", NULL, NULL), 400);
    assert_int_equal(call(NULL, "POST", "/api/session", "{\"user\":\"binh\"}", NULL, NULL), 400);
    for (int i = 0; i < 3; i++)
        assert_int_equal(call(NULL, "POST", "/api/session",
                              "{\"user\":\"binh\",\"password\":\"wrong-one\"}", NULL, NULL),
                         401);
    /* slowed down: even the right password waits now */
    assert_int_equal(call(NULL, "POST", "/api/session",
                          "{\"user\":\"binh\",\"password\":\"officer-pass-1\"}", NULL, &out),
                     429);
    assert_true(out.retry_after >= 1);
    reg_reply_free(&out);
    /* a password typed as the name is not logged */
    assert_int_equal(call(NULL, "POST", "/api/session",
                          "{\"user\":\"officer-pass-1\",\"password\":\"x\"}", NULL, NULL),
                     429);
    reg_destroy(&reg); /* a restart: sessions and the throttle are gone */
    reg = reg_new(&node, false, true);
    login(&w, "binh", "officer-pass-1");
    assert_int_equal(call(&w, "GET", "/api/session", NULL, &j, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(j, "role")), "officer");
    assert_string_equal(json_string_value(json_object_get(j, "csrf")), w.csrf);
    json_decref(j);
    char csrf[80];
    snprintf(csrf, sizeof csrf, "%s", w.csrf);
    w.csrf[0] = '\0';
    assert_int_equal(call(&w, "DELETE", "/api/session", NULL, NULL, NULL),
                     403); /* logout needs it too */
    snprintf(w.csrf, sizeof w.csrf, "%s", csrf);
    assert_int_equal(call(&w, "DELETE", "/api/session", NULL, NULL, &out), 200);
    assert_non_null(strstr(out.set_cookie, "Max-Age=0"));
    reg_reply_free(&out);
    assert_int_equal(call(&w, "GET", "/api/session", NULL, NULL, NULL), 401);
    assert_int_equal(call(&w, "GET", "/api/records/person", NULL, NULL, NULL), 401);
    assert_int_equal(count_log("login-failed", NULL), 3);
    assert_int_equal(count_log("logout", NULL), 1);
}

static void test_records(void **state)
{
    (void)state;
    who w;
    json_t *j;
    login(&w, "binh", "officer-pass-1");
    const char *p1 =
        "{\"id\":\"P1\",\"full_name\":\"Nguyễn Văn An\",\"national_id\":\"035090001234\","
        "\"sex\":\"M\",\"birth_date\":\"1990-01-02\",\"registered_on\":\"2026-01-05\"}";
    assert_int_equal(call(&w, "POST", "/api/records/person", p1, &j, NULL), 201);
    assert_true(json_integer_value(json_object_get(j, "cells")) > 0);
    json_decref(j);
    /* without the CSRF token, or with another one: 403, nothing written */
    uint64_t before = tu_digest_db(&node, DB_RECORDS), pend = tu_digest_db(&node, DB_PENDING);
    char csrf[80];
    snprintf(csrf, sizeof csrf, "%s", w.csrf);
    w.csrf[0] = '\0';
    assert_int_equal(call(&w, "POST", "/api/records/person",
                          "{\"id\":\"P2\",\"full_name\":\"X\",\"sex\":\"F\","
                          "\"registered_on\":\"2026-01-05\"}",
                          NULL, NULL),
                     403);
    memset(w.csrf, 'a', 64);
    assert_int_equal(call(&w, "DELETE", "/api/records/person/P1", NULL, NULL, NULL), 403);
    snprintf(w.csrf, sizeof w.csrf, "%s", csrf);
    assert_int_equal(tu_digest_db(&node, DB_RECORDS), before);
    /* every problem, each with its field, nothing changed, no pii echoed */
    assert_int_equal(call(&w, "POST", "/api/records/person",
                          "{\"id\":\"P3\",\"sex\":\"X\",\"national_id\":5,"
                          "\"registered_on\":\"2027-01-01\",\"colour\":\"red\"}",
                          &j, NULL),
                     400);
    json_t *ps = json_object_get(j, "problems");
    char seen[256] = "";
    size_t i;
    json_t *x;
    json_array_foreach (ps, i, x) {
        strcat(seen, json_string_value(json_object_get(x, "field")));
        strcat(seen, ";");
    }
    assert_string_equal(seen,
                        "national_id;;sex;registered_on;"); /* the body's own, then the checks' */
    json_decref(j);
    assert_int_equal(tu_digest_db(&node, DB_RECORDS), before);
    assert_int_equal(tu_digest_db(&node, DB_PENDING), pend);
    /* search with and without diacritics, by national ID, by id */
    static const char *const qs[] = {"nguyen van", "Nguyễn", "NGUYEN VAN AN", "0350900", "P1"};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, "/api/records/person?q=%s", qs[k]);
        assert_int_equal(call(&w, "GET", path, NULL, &j, NULL), 200);
        assert_int_equal(json_array_size(json_object_get(j, "records")), 1);
        json_decref(j);
    }
    assert_int_equal(call(&w, "GET", "/api/records/person?q=tran", NULL, &j, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "records")), 0);
    json_decref(j);
    /* an episode, the person's page, a correction, a refused delete */
    assert_int_equal(call(&w, "POST", "/api/records/episode",
                          "{\"id\":\"E1\",\"person_id\":\"P1\","
                          "\"modality\":\"methadone\",\"start_on\":\"2026-02-01\"}",
                          NULL, NULL),
                     201);
    assert_int_equal(call(&w, "GET", "/api/records/person/P1", NULL, &j, NULL), 200);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "record"), "full_name")),
        "Nguyễn Văn An");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "owned"), "episode")), 1);
    json_decref(j);
    assert_int_equal(call(&w, "PATCH", "/api/records/person/P1", "{\"sex\":\"F\"}", &j, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(j, "done")), "update");
    json_decref(j);
    assert_int_equal(call(&w, "PATCH", "/api/records/person/P1", "{\"id\":\"P9\"}", NULL, NULL),
                     400);
    assert_int_equal(call(&w, "PATCH", "/api/records/person/P404", "{\"sex\":\"F\"}", NULL, NULL),
                     400);
    assert_int_equal(call(&w, "DELETE", "/api/records/person/P1", NULL, &j, NULL), 400);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(j, "problems"), 0), "reason")),
                           "still has records"));
    json_decref(j);
    assert_int_equal(call(&w, "GET", "/api/records/person/P404", NULL, NULL, NULL), 404);
    assert_int_equal(call(&w, "GET", "/api/records/animal", NULL, NULL, NULL), 404);
    /* import: one bad line refuses the file, then a good file */
    before = tu_digest_db(&node, DB_RECORDS);
    assert_int_equal(
        call(
            &w, "POST", "/api/records/episode/import",
            "id,person_id,modality,start_on\nE2,P1,compulsory,2026-03-01\nE3,P77,methadone,2026-03-02\n",
            &j, NULL),
        400);
    x = json_array_get(json_object_get(j, "problems"), 0);
    assert_int_equal(json_integer_value(json_object_get(x, "line")), 3);
    assert_string_equal(json_string_value(json_object_get(x, "field")), "person_id");
    json_decref(j);
    assert_int_equal(tu_digest_db(&node, DB_RECORDS), before);
    assert_int_equal(call(&w, "POST", "/api/records/episode/import", "\"unclosed\n", NULL, NULL),
                     400);
    assert_int_equal(call(&w, "POST", "/api/records/episode/import",
                          "id,person_id,modality,start_on\nE2,P1,compulsory,2026-03-01\n", &j,
                          NULL),
                     200);
    assert_int_equal(json_integer_value(json_object_get(j, "inserted")), 1);
    json_decref(j);
    assert_int_equal(call(&w, "DELETE", "/api/records/episode/E2", NULL, NULL, NULL), 200);
    assert_int_equal(call(&w, "GET", "/api/records", NULL, &j, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "types")), 3);
    json_decref(j);
    /* the log: every step, never a value */
    assert_int_equal(count_log("add", "P1"), 1);
    assert_int_equal(count_log("add", "E1"), 1);
    assert_int_equal(count_log("update", "P1"), 1);
    assert_int_equal(count_log("read", "P1"), 1);
    assert_int_equal(count_log("search", NULL), 5); /* not the empty one: it showed no one */
    assert_int_equal(count_log("import", "E2"), 1);
    assert_int_equal(count_log("delete", "E2"), 1);
    assert_int_equal(count_log("add", "P2"), 0);
}

static void test_roles(void **state)
{
    (void)state;
    who v, o, a;
    json_t *j;
    login(&v, "chi", "viewer-pass-1");
    login(&o, "binh", "officer-pass-1");
    login(&a, "an", "admin-pass-1");
    assert_int_equal(call(&v, "GET", "/api/records/person", NULL, NULL, NULL), 403);
    assert_int_equal(call(&v, "GET", "/api/records", NULL, NULL, NULL), 403);
    assert_int_equal(call(&o, "GET", "/api/users", NULL, NULL, NULL), 403);
    assert_int_equal(call(&o, "GET", "/api/access-log", NULL, NULL, NULL), 403);
    assert_int_equal(call(&a, "GET", "/api/records/person", NULL, NULL, NULL), 200);
    /* admins manage accounts */
    assert_int_equal(call(&a, "POST", "/api/users",
                          "{\"name\":\"dung\",\"role\":\"officer\","
                          "\"password\":\"dung-pass-1\"}",
                          NULL, NULL),
                     200);
    assert_int_equal(call(&a, "POST", "/api/users",
                          "{\"name\":\"dung\",\"role\":\"officer\","
                          "\"password\":\"dung-pass-1\"}",
                          NULL, NULL),
                     400);
    assert_int_equal(call(&a, "POST", "/api/users",
                          "{\"name\":\"e\",\"role\":\"god\",\"password\":\"long-enough\"}", NULL,
                          NULL),
                     400);
    assert_int_equal(call(&a, "GET", "/api/users", NULL, &j, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "users")), 4);
    json_decref(j);
    assert_int_equal(call(&a, "POST", "/api/users/binh/password",
                          "{\"password\":\"officer-pass-2\"}", NULL, NULL),
                     200);
    assert_int_equal(call(&o, "GET", "/api/records/person", NULL, NULL, NULL),
                     401); /* sessions ended */
    assert_int_equal(call(&a, "DELETE", "/api/users/chi", NULL, NULL, NULL), 200);
    assert_int_equal(call(&v, "GET", "/api/session", NULL, NULL, NULL), 401);
    assert_int_equal(call(&a, "DELETE", "/api/users/nobody", NULL, NULL, NULL), 404);
    /* removed from the command line while logged in: out at the next request */
    login(&o, "binh", "officer-pass-2");
    ts_err e = {0};
    assert_int_equal(users_remove(node.store, "binh", &e), TS_OK);
    assert_int_equal(call(&o, "GET", "/api/records/person", NULL, NULL, NULL), 401);
    assert_int_equal(count_log("user-add", "dung"), 1);
    assert_int_equal(count_log("user-passwd", "binh"), 1);
    assert_int_equal(count_log("user-remove", "chi"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_where_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_logout_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
