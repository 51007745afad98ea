/* fuzz_http.c: the HTTP request path — raw target, Host and Authorization
 * headers, query — through http_route() (checks, access, throttle) and
 * api_handle() (every endpoint and parameter) on a real node holding
 * numbers.
 *
 * Input: one flag byte (bit 0: the client is loopback, bit 1: trust_loopback
 * = no, bit 2: two requests, the second after the first's throttle state),
 * then lines: the method, the raw request target, then "Name: value"
 * headers. The target is split and unescaped the way libmicrohttpd does it
 * (MHD_http_unescape), after the same cut http.c makes for a refused target.
 *
 * What must hold: no crash, leak or undefined behaviour; every answer has a
 * known status and a body, and every JSON body parses; a 200 never comes
 * with a Host that does not name the node, a refused target, or, on an API
 * path, without the right token unless the reader is a trusted loopback
 * reader; the store is never reported failing (500). */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_node.h"
#include "http_route.h"

#define FUZZ_TOKEN "fuzz-reader-token-0123456789"
#define FUZZ_LINE_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, const char *target, int status)
{
    fprintf(stderr, "fuzz_http: %s (target '%s', status %d)\n", why, target, status);
    abort();
}

static int put_cell(store_t *s, store_txn *txn, const char *src, const char *unit, const char *ind,
                    const char *period, const char *opts, int64_t v, ts_err *e)
{
    ts_cell c;
    if (cell_set(&c, unit, ind, period, opts, e))
        return e->code;
    disclose_fig f = {v, (uint32_t)v * 2654435761u}; /* some cell key for the rounding */
    return store_apply_cell(s, txn, src, &c, f, e);
}

/* A few numbers at the district and its commune: small ones too, so that
 * small-cell protection has something to hold back. */
static int fill(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    return put_cell(s, txn, FUZZ_CHILD, FUZZ_CHILD, "IN_TREATMENT", "202406",
                    "age_band=30-39,modality=methadone,sex=M", 3, e) ||
        put_cell(s, txn, FUZZ_CHILD, FUZZ_CHILD, "IN_TREATMENT", "202405",
                 "age_band=18-29,modality=compulsory,sex=F", 12, e) ||
        put_cell(s, txn, FUZZ_CHILD, FUZZ_CHILD, "REACHED", "2024", "modality=methadone", 40, e) ||
        put_cell(s, txn, FUZZ_SELF, FUZZ_SELF, "TARGET_REACHED", "2024", "modality=methadone", 90,
                 e) ||
        put_cell(s, txn, FUZZ_SELF, FUZZ_SELF, "STAFF_TRAINED", "2024", "", 4, e);
}

static fuzz_node *node(void)
{
    static fuzz_node *f;
    if (f)
        return f;
    f = fuzz_node_get();
    ts_err e = {0};
    if (store_write(f->n.store, fill, NULL, &e)) {
        fprintf(stderr, "fuzz_http: filling the store: %s\n", e.msg);
        abort();
    }
    snprintf(f->n.cfg.tokens[0], CONFIG_TOKEN_MAX, "%s", FUZZ_TOKEN);
    f->n.cfg.ntokens = 1;
    snprintf(f->n.cfg.http_hosts, sizeof f->n.cfg.http_hosts, "stats.example.org");
    return f;
}

/* The next line of the input (up to '\n', without it; a NUL ends it early). */
static void next_line(fuzz_bytes *b, char *out, size_t max)
{
    size_t n = 0;
    while (b->n && *b->p != '\n') {
        if (n < max)
            out[n++] = (char)*b->p;
        b->p++, b->n--;
    }
    if (b->n)
        b->p++, b->n--;
    out[n] = '\0';
}

typedef struct {
    char method[64], target[FUZZ_LINE_MAX + 1], path[FUZZ_LINE_MAX + 1];
    char query[FUZZ_LINE_MAX + 1], host[FUZZ_LINE_MAX + 1], auth[FUZZ_LINE_MAX + 1];
    bool has_host, has_auth;
    api_params params;
    bool overflow;
} parsed;

static void parse(fuzz_bytes *b, parsed *r)
{
    char line[FUZZ_LINE_MAX + 1];
    next_line(b, r->method, sizeof r->method - 1);
    next_line(b, r->target, FUZZ_LINE_MAX);
    while (b->n) {
        next_line(b, line, FUZZ_LINE_MAX);
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *v = colon + 1 + strspn(colon + 1, " ");
        if (!strcasecmp(line, "Host") && !r->has_host) /* MHD_lookup: the first one */
            snprintf(r->host, sizeof r->host, "%s", v), r->has_host = true;
        else if (!strcasecmp(line, "Authorization") && !r->has_auth)
            snprintf(r->auth, sizeof r->auth, "%s", v), r->has_auth = true;
    }
}

/* As libmicrohttpd: path and query split at the first '?', both unescaped;
 * the query in '&'-separated "name=value" pairs. */
static void split(parsed *r, http_uri_verdict v)
{
    snprintf(r->path, sizeof r->path, "%s", r->target);
    char *q = strchr(r->path, '?');
    if (q) {
        *q = '\0';
        snprintf(r->query, sizeof r->query, "%s", v == HTTP_URI_OK ? q + 1 : "");
    }
    MHD_http_unescape(r->path);
    char *save = NULL;
    for (char *kv = strtok_r(r->query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq++ = '\0';
        MHD_http_unescape(kv);
        if (eq)
            MHD_http_unescape(eq);
        if (!api_params_add(&r->params, kv, eq ? eq : "")) {
            r->overflow = true;
            break;
        }
    }
}

/* The right token, as RFC 6750 allows it: the scheme in any case, spaces
 * around the token. */
static bool right_token(const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7))
        return false;
    auth += 7 + strspn(auth + 7, " ");
    size_t n = strlen(FUZZ_TOKEN);
    return !strncmp(auth, FUZZ_TOKEN, n) && strspn(auth + n, " ") == strlen(auth + n);
}

static void check(const parsed *r, const http_request *q, const http_reply *rep, bool trusted)
{
    static const int known[] = {200, 400, 401, 404, 405, 421, 429};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok |= rep->status == known[i];
    if (!ok)
        fail("an unexpected status", r->target, rep->status);
    if (!rep->body || !rep->content_type)
        fail("an answer without a body or type", r->target, rep->status);
    if (strstr(rep->content_type, "application/json") && !rep->asset) {
        json_error_t je;
        json_t *j = json_loadb(rep->body, rep->len, 0, &je);
        if (!j)
            fail("a JSON answer that does not parse", r->target, rep->status);
        json_decref(j);
    }
    if (rep->status != 200)
        return;
    if (q->uri != HTTP_URI_OK)
        fail("a refused target was answered", r->target, 200);
    if (!http_access_host_ok(&node()->n.cfg, q->host, q->local))
        fail("a foreign Host was answered", r->target, 200);
    if (api_knows(q->path)) {
        bool token = right_token(q->authorization);
        bool exact = rep->access && !strcmp(rep->access, "exact");
        if (!token && !(trusted && !q->authorization))
            fail("an API path answered without the token", r->target, 200);
        if (exact != token)
            fail("exact values without the exact token", r->target, 200);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_node *f = node();
    static http_throttle throttle;
    memset(&throttle, 0, sizeof throttle); /* each input starts from none */
    fuzz_bytes b = {data, size};
    uint8_t flags = fb_u8(&b);
    f->n.cfg.trust_loopback = !(flags & 2);
    struct sockaddr_in client = {0}, local = {0};
    client.sin_family = local.sin_family = AF_INET;
    client.sin_addr.s_addr = htonl(flags & 1 ? 0x7f000001 : 0x0a000001);
    local.sin_addr.s_addr = htonl(0x7f000001);
    local.sin_port = htons(8600);
    parsed *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    parse(&b, r);
    http_uri_verdict v = http_access_uri(r->target, API_MAX_PARAMS);
    split(r, v);
    http_request q = {
        .method = r->method,
        .path = r->path,
        .uri = v,
        .host = r->has_host ? r->host : NULL,
        .authorization = r->has_auth ? r->auth : NULL,
        .client = (struct sockaddr *)&client,
        .local = (struct sockaddr *)&local,
        .params = &r->params,
        .params_overflow = r->overflow,
    };
    for (int round = 0; round < (flags & 4 ? 2 : 1); round++) {
        http_reply rep;
        http_route(&f->n, &throttle, &q, &rep);
        if (getenv("FUZZ_VERBOSE")) /* when replaying an input by hand */
            fprintf(stderr, "fuzz_http: %s %s -> %d %.120s\n", r->method, r->target, rep.status,
                    rep.asset ? "(dashboard file)" : rep.body);
        check(r, &q, &rep, f->n.cfg.trust_loopback && (flags & 1));
        http_reply_free(&rep);
    }
    free(r);
    return 0;
}
