/* test_http_route.c: what the HTTP server answers before and around the API
 * (http_access.h, http_route.h), without sockets: the Host check against
 * DNS rebinding, trust_loopback, control bytes and too many parameters in
 * the raw target, the wrong-token throttle (429 with Retry-After), and the
 * case register's place in the route (after the Host check, any method, its
 * session read as a loopback reader by the API). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_access.h"
#include "http_route.h"
#include "testutil.h"
#include "users.h"

#define TOKEN "province-reader-token-0123456789"

static struct sockaddr_in v4(const char *ip, unsigned port)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, unsigned port)
{
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

static void test_host(void **state)
{
    (void)state;
    ts_config c;
    config_defaults(&c, "/nonexistent");
    struct sockaddr_in lo = v4("127.0.0.1", 8600), lan = v4("192.168.1.5", 8600);
    struct sockaddr_in6 lo6 = v6("::1", 8600), lan6 = v6("2001:db8::5", 8600);
    const struct sockaddr *L = (struct sockaddr *)&lo, *N = (struct sockaddr *)&lan;
    /* a loopback bind: its address, localhost, any loopback literal, with its port */
    const char *good_lo[] = {"127.0.0.1:8600", "localhost:8600", "LocalHost:8600",
                             "127.0.0.2:8600", "[::1]:8600",     NULL};
    for (int i = 0; good_lo[i]; i++)
        if (!http_access_host_ok(&c, good_lo[i], L))
            fail_msg("Host %s refused on 127.0.0.1:8600", good_lo[i]);
    const char *bad_lo[] = {"evil.example",
                            "evil.example:8600",
                            "localhost",
                            "127.0.0.1",
                            "127.0.0.1:80",
                            "127.0.0.1:86000",
                            "localhost:8600x",
                            "localhost.evil.example:8600",
                            "::1:8600",
                            "[::1",
                            "[::1]x",
                            "127.0.0.1:",
                            "",
                            "[evil.example]:8600",
                            "192.168.1.5:8600",
                            NULL};
    for (int i = 0; bad_lo[i]; i++)
        if (http_access_host_ok(&c, bad_lo[i], L))
            fail_msg("Host '%s' answered on 127.0.0.1:8600", bad_lo[i]);
    assert_true(http_access_host_ok(&c, NULL, L)); /* no Host: not a browser */
    /* a LAN bind: only its own address; localhost there is a rebinding name */
    assert_true(http_access_host_ok(&c, "192.168.1.5:8600", N));
    assert_false(http_access_host_ok(&c, "localhost:8600", N));
    assert_false(http_access_host_ok(&c, "127.0.0.1:8600", N));
    assert_false(http_access_host_ok(&c, "192.168.1.6:8600", N));
    assert_true(http_access_host_ok(&c, "[::1]:8600", (struct sockaddr *)&lo6));
    assert_true(http_access_host_ok(&c, "localhost:8600", (struct sockaddr *)&lo6));
    assert_true(http_access_host_ok(&c, "[2001:db8::5]:8600", (struct sockaddr *)&lan6));
    assert_false(http_access_host_ok(&c, "[2001:db8::6]:8600", (struct sockaddr *)&lan6));
    /* port 80 may be left out */
    struct sockaddr_in p80 = v4("192.168.1.5", 80);
    assert_true(http_access_host_ok(&c, "192.168.1.5", (struct sockaddr *)&p80));
    /* names of [http] hosts, any port, any case */
    ts_err e = {0};
    assert_int_equal(config_set(&c, "http", "hosts", "stats.example.org, other.example", &e),
                     TS_OK);
    assert_true(http_access_host_ok(&c, "stats.example.org", L));
    assert_true(http_access_host_ok(&c, "Stats.Example.Org:443", N));
    assert_true(http_access_host_ok(&c, "other.example", N));
    assert_false(http_access_host_ok(&c, "example.org", N));
    assert_false(http_access_host_ok(&c, "xstats.example.org", N));
    assert_int_equal(config_set(&c, "http", "hosts", "a.example;evil", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "http.hosts"));
}

static void test_trust_loopback(void **state)
{
    (void)state;
    ts_config c;
    ts_err e = {0};
    config_defaults(&c, "/nonexistent");
    snprintf(c.tokens[c.ntokens++], CONFIG_TOKEN_MAX, "%s", TOKEN);
    struct sockaddr_in lo = v4("127.0.0.1", 40000);
    const struct sockaddr *L = (struct sockaddr *)&lo;
    assert_true(c.trust_loopback);
    assert_int_equal(http_access_decide(&c, L, NULL), HTTP_READ_PROTECTED);
    assert_int_equal(config_set(&c, "http", "trust_loopback", "no", &e), TS_OK);
    assert_int_equal(http_access_decide(&c, L, NULL), HTTP_DENY_NO_TOKEN);
    assert_int_equal(http_access_decide(&c, L, "Bearer " TOKEN), HTTP_READ_EXACT);
    assert_int_equal(config_set(&c, "http", "trust_loopback", "yes", &e), TS_OK);
    assert_int_equal(http_access_decide(&c, L, NULL), HTTP_READ_PROTECTED);
    assert_int_equal(config_set(&c, "http", "trust_loopback", "maybe", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "yes or no"));
}

static void test_uri(void **state)
{
    (void)state;
    assert_int_equal(http_access_uri("/api/info", 16), HTTP_URI_OK);
    assert_int_equal(http_access_uri("/api/totals?unit=34&period=2026%2F", 16), HTTP_URI_OK);
    assert_int_equal(http_access_uri("/api/info%00", 16), HTTP_URI_CONTROL);
    assert_int_equal(http_access_uri("/api/info%0a", 16), HTTP_URI_CONTROL);
    assert_int_equal(http_access_uri("/api/info%7F", 16), HTTP_URI_CONTROL);
    assert_int_equal(http_access_uri("/api/info\t", 16), HTTP_URI_CONTROL);
    assert_int_equal(http_access_uri("/api/totals?unit=34%00X", 16), HTTP_URI_CONTROL);
    assert_int_equal(http_access_uri("/api/info%0", 16), HTTP_URI_OK);    /* not an escape */
    assert_int_equal(http_access_uri("/a?b=%e1%ba%a1", 16), HTTP_URI_OK); /* UTF-8 */
    char q[8192] = "/api/info?";
    for (int i = 0; i < 1000; i++)
        snprintf(q + strlen(q), sizeof q - strlen(q), "%sa%d=1", i ? "&" : "", i);
    assert_int_equal(http_access_uri(q, 16), HTTP_URI_TOO_MANY);
    assert_int_equal(http_access_uri("/a?1&2&3", 3), HTTP_URI_OK);
    assert_int_equal(http_access_uri("/a?1&&2&3&", 3), HTTP_URI_OK); /* empty ones don't count */
    assert_int_equal(http_access_uri("/a?1&2&3&4", 3), HTTP_URI_TOO_MANY);
}

static void test_throttle(void **state)
{
    (void)state;
    http_throttle *t = calloc(1, sizeof *t);
    struct sockaddr_in a = v4("10.0.0.1", 1), b = v4("10.0.0.2", 1);
    const struct sockaddr *A = (struct sockaddr *)&a, *B = (struct sockaddr *)&b;
    int64_t now = 1000000;
    for (int i = 0; i < HTTP_THROTTLE_FREE; i++) {
        assert_int_equal(http_throttle_wait(t, A, now), 0);
        http_throttle_record(t, A, false, now);
    }
    assert_int_equal(http_throttle_wait(t, A, now), 1);
    assert_int_equal(http_throttle_wait(t, B, now), 0); /* another address is not slowed */
    assert_int_equal(http_throttle_wait(t, A, now + 1000), 0);
    http_throttle_record(t, A, false, now + 1000);
    assert_int_equal(http_throttle_wait(t, A, now + 1000), 2);
    int64_t at = now + 1000;
    for (int i = 0; i < 20; i++) { /* the wait doubles, up to the most */
        at += 1000LL * http_throttle_wait(t, A, at);
        http_throttle_record(t, A, false, at);
    }
    assert_int_equal(http_throttle_wait(t, A, at), HTTP_THROTTLE_MAX_S);
    http_throttle_record(t, A, true, at + 1000LL * HTTP_THROTTLE_MAX_S); /* a right token */
    assert_int_equal(http_throttle_wait(t, A, at + 1000LL * HTTP_THROTTLE_MAX_S), 0);
    /* a full table makes room */
    for (int i = 0; i < HTTP_THROTTLE_SLOTS + 10; i++) {
        struct sockaddr_in x = v4("10.1.0.0", 1);
        x.sin_addr.s_addr = htonl(ntohl(x.sin_addr.s_addr) + (uint32_t)i);
        for (int k = 0; k <= HTTP_THROTTLE_FREE; k++)
            http_throttle_record(t, (struct sockaddr *)&x, false, now + i);
        assert_true(http_throttle_wait(t, (struct sockaddr *)&x, now + i) > 0);
    }
    free(t);
}

/* ---- http_route on a real node ---- */

typedef struct {
    char dir[512];
    node_t n;
    http_throttle t;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    tu_node_open(&f->n, f->dir, sizeof f->dir, "route", "34");
    snprintf(f->n.cfg.tokens[f->n.cfg.ntokens++], CONFIG_TOKEN_MAX, "%s", TOKEN);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

typedef struct {
    const char *raw, *host, *auth;
    const char *client;
} req;

/* Routes a GET of raw (path?query, unescaped but for the verdict) and
 * returns the status; the reply goes to *out when out is given. */
static int route(fx *f, req r, http_reply *out)
{
    char path[256];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(r.raw, "?"), r.raw);
    api_params p = {0};
    struct sockaddr_in client = v4(r.client ? r.client : "127.0.0.1", 40000);
    struct sockaddr_in local = v4("127.0.0.1", 8600);
    http_request q = {.method = "GET",
                      .path = path,
                      .uri = http_access_uri(r.raw, API_MAX_PARAMS),
                      .host = r.host,
                      .authorization = r.auth,
                      .client = (struct sockaddr *)&client,
                      .local = (struct sockaddr *)&local,
                      .params = &p};
    http_reply rep;
    http_route(&f->n, &f->t, &q, &rep);
    int status = rep.status;
    assert_non_null(rep.body);
    if (out)
        *out = rep;
    else
        http_reply_free(&rep);
    return status;
}

static void test_route(void **state)
{
    fx *f = *state;
    assert_int_equal(route(f, (req){"/api/info", "127.0.0.1:8600", NULL, NULL}, NULL), 200);
    assert_int_equal(route(f, (req){"/api/info", "localhost:8600", NULL, NULL}, NULL), 200);
    assert_int_equal(route(f, (req){"/", "127.0.0.1:8600", NULL, NULL}, NULL), 200);
    /* DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 */
    http_reply rep;
    assert_int_equal(route(f, (req){"/api/info", "evil.example:8600", NULL, NULL}, &rep), 421);
    assert_non_null(strstr(rep.body, "[http] hosts"));
    http_reply_free(&rep);
    assert_int_equal(route(f, (req){"/", "evil.example", NULL, NULL}, NULL), 421);
    /* a path that is not UTF-8 is not quoted, and the answer is still JSON */
    assert_int_equal(route(f, (req){"/no\xff\xfe", "127.0.0.1:8600", NULL, NULL}, &rep), 404);
    assert_non_null(strstr(rep.body, "not UTF-8 text"));
    http_reply_free(&rep);
    /* control bytes, too many parameters */
    assert_int_equal(route(f, (req){"/api/info%00", "127.0.0.1:8600", NULL, NULL}, &rep), 400);
    assert_non_null(strstr(rep.body, "control character"));
    http_reply_free(&rep);
    char q[8192] = "/api/totals?";
    for (int i = 0; i < 1000; i++)
        snprintf(q + strlen(q), sizeof q - strlen(q), "%sa%d=1", i ? "&" : "", i);
    assert_int_equal(route(f, (req){q, "127.0.0.1:8600", NULL, NULL}, &rep), 400);
    assert_non_null(strstr(rep.body, "too many query parameters"));
    http_reply_free(&rep);
    /* trust_loopback = no: loopback needs a token too */
    f->n.cfg.trust_loopback = false;
    assert_int_equal(route(f, (req){"/api/info", "127.0.0.1:8600", NULL, NULL}, &rep), 401);
    assert_non_null(strstr(rep.body, "trust_loopback = no"));
    http_reply_free(&rep);
    assert_int_equal(route(f, (req){"/api/info", "127.0.0.1:8600", "Bearer " TOKEN, NULL}, &rep),
                     200);
    assert_string_equal(rep.access, "exact");
    http_reply_free(&rep);
    f->n.cfg.trust_loopback = true;
    assert_int_equal(route(f, (req){"/api/info", "127.0.0.1:8600", NULL, NULL}, &rep), 200);
    assert_string_equal(rep.access, "rounded");
    http_reply_free(&rep);
}

static void test_route_throttle(void **state)
{
    fx *f = *state;
    req bad = {"/api/info", "127.0.0.1:8600", "Bearer wrong-token-0123456789", "10.0.0.7"};
    req good = {"/api/info", "127.0.0.1:8600", "Bearer " TOKEN, "10.0.0.7"};
    for (int i = 0; i < HTTP_THROTTLE_FREE; i++)
        assert_int_equal(route(f, bad, NULL), 401);
    http_reply rep;
    assert_int_equal(route(f, bad, &rep), 429);
    assert_true(atoi(rep.retry_after) >= 1);
    http_reply_free(&rep);
    /* even the right token waits: while slowed, no token is checked */
    assert_int_equal(route(f, good, NULL), 429);
    /* other addresses, and readers without a token, are not slowed */
    req other = good;
    other.client = "10.0.0.8";
    assert_int_equal(route(f, other, NULL), 200);
    assert_int_equal(route(f, (req){"/api/info", "127.0.0.1:8600", NULL, "127.0.0.1"}, NULL), 200);
}

/* A request to the register's paths: method, body, cookie, from client. */
static int route_reg(fx *f, reg_t *reg, const char *method, const char *path, const char *host,
                     const char *body, const char *cookie, const char *client, http_reply *out)
{
    api_params p = {0};
    struct sockaddr_in c = v4(client, 40000), local = v4("127.0.0.1", 8600);
    char *b = body ? strdup(body) : NULL;
    http_request q = {.method = method,
                      .path = path,
                      .uri = HTTP_URI_OK,
                      .host = host,
                      .client = (struct sockaddr *)&c,
                      .local = (struct sockaddr *)&local,
                      .params = &p,
                      .reg = reg,
                      .cookie = cookie,
                      .body = b,
                      .body_len = b ? strlen(b) : 0};
    http_route(&f->n, &f->t, &q, out);
    free(b);
    return out->status;
}

static void test_route_register(void **state)
{
    fx *f = *state;
    http_reply rep;
    /* no register: its paths are 404 for every method, not 405 */
    assert_int_equal(
        route_reg(f, NULL, "POST", "/api/session", "127.0.0.1:8600", "{}", NULL, "127.0.0.1", &rep),
        404);
    http_reply_free(&rep);
    ts_err e = {0};
    assert_int_equal(users_add(f->n.store, "chi", USERS_VIEWER, "viewer-pass-1", &e), TS_OK);
    reg_t *reg = reg_new(&f->n, false, true);
    /* the Host check comes first */
    assert_int_equal(route_reg(f, reg, "POST", "/api/session", "evil.example:8600",
                               "{\"user\":\"chi\",\"password\":\"viewer-pass-1\"}", NULL,
                               "127.0.0.1", &rep),
                     421);
    http_reply_free(&rep);
    assert_int_equal(route_reg(f, reg, "POST", "/api/session", "127.0.0.1:8600",
                               "{\"user\":\"chi\",\"password\":\"viewer-pass-1\"}", NULL,
                               "127.0.0.1", &rep),
                     200);
    assert_true(rep.register_reply);
    char cookie[80] = "";
    sscanf(rep.set_cookie, REG_COOKIE "=%64[0-9a-f]", cookie);
    assert_int_equal(strlen(cookie), 64);
    http_reply_free(&rep);
    /* from another address: the API needs a token, or a live register session */
    assert_int_equal(
        route_reg(f, reg, "GET", "/api/info", "127.0.0.1:8600", NULL, NULL, "10.0.0.9", &rep), 401);
    http_reply_free(&rep);
    assert_int_equal(
        route_reg(f, reg, "GET", "/api/info", "127.0.0.1:8600", NULL, cookie, "10.0.0.9", &rep),
        200);
    assert_string_equal(rep.access, "rounded");
    http_reply_free(&rep);
    assert_int_equal(route_reg(f, reg, "GET", "/api/info", "127.0.0.1:8600", NULL,
                               "0000000000000000000000000000000000000000000000000000000000000000",
                               "10.0.0.9", &rep),
                     401);
    http_reply_free(&rep);
    /* the register's pages: served as files, framing refused */
    assert_int_equal(
        route_reg(f, reg, "GET", "/register", "127.0.0.1:8600", NULL, NULL, "127.0.0.1", &rep),
        200);
    assert_true(rep.asset && rep.register_reply);
    http_reply_free(&rep);
    reg_destroy(&reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_trust_loopback),
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test_setup_teardown(test_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_register, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
