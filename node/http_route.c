/* http_route.c: the answer to one HTTP request (see http_route.h). */
#include "http_route.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "web.h"

static void reply_error(http_reply *out, int status, const char *msg, const char *param)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    if (!o) /* msg quotes a path that is not UTF-8 (or was cut inside a character) */
        o = json_pack("{s:s}", "error",
                      "the request was refused (its path, not UTF-8 text as "
                      "quoted, is left out of this message; see docs/API.md)");
    if (o && param)
        json_object_set_new(o, "parameter", json_string(param));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    out->status = s ? status : 500;
    out->content_type = "application/json; charset=utf-8";
    out->body = s;
    out->len = s ? strlen(s) : 0;
    out->owned = true;
}

static void serve_api(node_t *n, http_throttle *t, const http_request *q, http_reply *out)
{
    int64_t now = ts_now_ms();
    int wait = q->authorization ? http_throttle_wait(t, q->client, now) : 0;
    if (wait) {
        snprintf(out->retry_after, sizeof out->retry_after, "%d", wait);
        char msg[200];
        snprintf(msg, sizeof msg,
                 "too many wrong read tokens from this address: try again in "
                 "%d s (the wait doubles with each wrong token, up to %d s)",
                 wait, HTTP_THROTTLE_MAX_S);
        reply_error(out, 429, msg, "Authorization");
        return;
    }
    http_access acc = http_access_decide(&n->cfg, q->client, q->authorization);
    if (acc == HTTP_DENY_NO_TOKEN && reg_session_live(q->reg, q->cookie))
        acc = HTTP_READ_PROTECTED; /* a register account, logged in: as on the node itself */
    if (q->authorization)
        http_throttle_record(t, q->client, acc == HTTP_READ_EXACT, now);
    if (acc == HTTP_DENY_NO_TOKEN) {
        reply_error(out, 401,
                    n->cfg.trust_loopback
                        ? "this address may read only with a read token: send 'Authorization: "
                          "Bearer TOKEN' (a [read] token line of the node's tiersync.conf), or "
                          "read from the node itself (loopback)"
                        : "a read token is needed: send 'Authorization: Bearer TOKEN' (a [read] "
                          "token line of the node's tiersync.conf; this node has "
                          "[http] trust_loopback = no)",
                    "Authorization");
        out->header = "WWW-Authenticate";
        out->value = "Bearer realm=\"tiersync\"";
        return;
    }
    if (acc == HTTP_DENY_BAD_TOKEN) {
        reply_error(out, 401,
                    "the read token is not one of this node's: check the [read] "
                    "token lines of tiersync.conf (the header is 'Authorization: Bearer "
                    "TOKEN')",
                    "Authorization");
        out->header = "WWW-Authenticate";
        out->value = "Bearer realm=\"tiersync\", error=\"invalid_token\"";
        return;
    }
    if (q->params_overflow) {
        reply_error(out, 400, "too many query parameters", NULL);
        return;
    }
    api_response r;
    api_handle(n, acc == HTTP_READ_EXACT, q->path, q->params, &r);
    log_debug("http: GET %s -> %d", q->path, r.status);
    out->status = r.status;
    out->content_type = r.content_type;
    out->body = r.body;
    out->len = r.len;
    out->owned = true;
    out->access = acc == HTTP_READ_EXACT ? "exact" : "rounded";
    memcpy(out->filename, r.filename, sizeof out->filename);
}

/* The client's address as text for the register's log. */
static void client_text(const struct sockaddr *sa, char *out, size_t outsz)
{
    snprintf(out, outsz, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outsz);
}

static void serve_register(const http_request *q, http_reply *out)
{
    out->register_reply = true;
    if (!q->reg) {
        reply_error(out, 404, "no case register on this server", NULL);
        return;
    }
    if (q->body_too_big) {
        reply_error(out, 413, "the request body is too large for the register", NULL);
        return;
    }
    if (q->params_overflow) {
        reply_error(out, 400, "too many query parameters", NULL);
        return;
    }
    char addr[INET6_ADDRSTRLEN];
    client_text(q->client, addr, sizeof addr);
    reg_request r = {.method = q->method,
                     .path = q->path,
                     .params = q->params,
                     .body = q->body,
                     .body_len = q->body_len,
                     .cookie = q->cookie,
                     .csrf = q->csrf,
                     .addr = addr};
    reg_reply a;
    reg_handle(q->reg, &r, &a);
    log_debug("http: %s %s -> %d", q->method, q->path, a.status);
    out->status = a.status;
    out->content_type = a.content_type;
    out->body = a.body;
    out->len = a.len;
    out->asset = a.asset;
    out->owned = !a.asset;
    memcpy(out->set_cookie, a.set_cookie, sizeof out->set_cookie);
    if (a.retry_after > 0)
        snprintf(out->retry_after, sizeof out->retry_after, "%d", a.retry_after);
}

void http_route(node_t *n, http_throttle *t, const http_request *q, http_reply *out)
{
    memset(out, 0, sizeof *out);
    if (q->uri == HTTP_URI_CONTROL) {
        reply_error(out, 400,
                    "the request's path or query holds a control character (a byte "
                    "below 0x20 or 0x7f, raw or %-escaped, e.g. %00): remove it",
                    NULL);
        return;
    }
    if (q->uri == HTTP_URI_TOO_MANY) {
        char msg[120];
        snprintf(msg, sizeof msg,
                 "too many query parameters (at most %d; see docs/API.md "
                 "for what each endpoint takes)",
                 API_MAX_PARAMS);
        reply_error(out, 400, msg, NULL);
        return;
    }
    if (!http_access_host_ok(&n->cfg, q->host, q->local)) {
        reply_error(out, 421,
                    "the Host header does not name this node: use its address "
                    "(http.address of tiersync.conf), or list the name in [http] hosts",
                    "Host");
        return;
    }
    if (reg_owns(q->path)) {
        serve_register(q, out);
        return;
    }
    if (strcmp(q->method, "GET") && strcmp(q->method, "HEAD")) {
        reply_error(out, 405,
                    "only GET and HEAD: this API is read-only (the case register's "
                    "paths are the exception, docs/API.md)",
                    NULL);
        out->header = "Allow";
        out->value = "GET, HEAD";
        return;
    }
    const web_asset *a = web_find(q->path);
    if (a) {
        out->status = 200;
        out->content_type = a->content_type;
        out->body = (char *)a->data;
        out->len = a->len;
        out->asset = true;
        return;
    }
    if (api_knows(q->path)) {
        serve_api(n, t, q, out);
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg,
             "no such path: %.64s (the API is under /api/, see docs/API.md; "
             "the dashboard is at /)",
             q->path);
    reply_error(out, 404, msg, NULL);
}

void http_reply_free(http_reply *r)
{
    if (r->owned)
        free(r->body);
    r->body = NULL;
    r->len = 0;
}
