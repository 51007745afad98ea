/* http.c: the node's HTTP server (libmicrohttpd, its own polling thread):
 * the embedded dashboard, the read API and /metrics, and a commune's case
 * register; HTTPS when [http] tls_cert and tls_key are set.
 *
 * Routing: a path of the register (reg_owns) goes to register.h with its
 * body, cookie and CSRF header, whatever the method; a path of the
 * dashboard (node/web/) is served to anyone (it holds no numbers); an API
 * path first passes the access check (http_access.h), then api_handle()
 * answers it in one LMDB read transaction of this thread. Outside the
 * register only GET and HEAD exist. Every answer, errors included, is JSON
 * except the dashboard files, /metrics and exports. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "http_access.h"
#include "log.h"
#include "register.h"
#include "tls.h"
#include "web.h"

#define HTTP_CONNECTION_LIMIT 64
#define HTTP_TIMEOUT_S 30
#define HTTP_MEMORY_LIMIT (64 * 1024) /* per connection: headers and query string */

/* Only same-origin scripts, styles and requests: the dashboard works offline
 * by construction, a CDN reference could not even load. */
#define HTTP_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
                 "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct http {
    struct MHD_Daemon *d;
    node_t *n;
    reg_t *reg;
    char *cert, *key; /* PEM, kept while the server runs (MHD reads them then) */
};

/* A register request's body, gathered over the calls of one request. */
typedef struct {
    char *buf;
    size_t len, cap;
    bool too_big;
} http_body;

static int parse_address(const char *addr, struct sockaddr_storage *ss, socklen_t *len, ts_err *e)
{
    char host[CONFIG_ENDPOINT_MAX];
    const char *colon = strrchr(addr, ':');
    memset(ss, 0, sizeof *ss);
    if (!colon || colon == addr || !colon[1])
        goto bad;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        goto bad;
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        host[strlen(host) - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
            goto bad;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return TS_OK;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
        goto bad;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *len = sizeof *in;
    return TS_OK;
bad:
    return ts_fail(e, TS_EINPUT, "http.address = '%s' is not IP:PORT (e.g. 127.0.0.1:8600 or "
                   "[::1]:8600); fix it in tiersync.conf, or leave it empty to turn HTTP off",
                   addr);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    buf[strcspn(buf, "\r\n")] = '\0';
    log_warn("http: %s", buf);
}

static enum MHD_Result send_body(struct MHD_Connection *conn, int status, const char *type,
                                 char *body, size_t len, bool owned, bool asset)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, asset ? "no-cache" : "no-store");
    if (asset)
        MHD_add_response_header(resp, "Content-Security-Policy", HTTP_CSP);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *msg,
                                  const char *param, const char *extra_header,
                                  const char *extra_value)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    if (param)
        json_object_set_new(o, "parameter", json_string(param));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (extra_header)
        MHD_add_response_header(resp, extra_header, extra_value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

typedef struct {
    api_params p;
    bool too_many;
} param_ctx;

static enum MHD_Result on_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    param_ctx *pc = cls;
    if (!api_params_add(&pc->p, key, value)) {
        pc->too_many = true;
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result serve_api(http_t *h, struct MHD_Connection *conn, const char *url)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    http_access acc = http_access_decide(&h->n->cfg, ci ? ci->client_addr : NULL, auth);
    if (acc == HTTP_DENY_NO_TOKEN &&
        reg_session_live(h->reg, MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, REG_COOKIE)))
        acc = HTTP_READ_PROTECTED; /* a register account, logged in: as on the node itself */
    if (acc == HTTP_DENY_NO_TOKEN)
        return send_error(conn, 401, "this address may read only with a read token: send "
                          "'Authorization: Bearer TOKEN' (a [read] token line of the node's "
                          "tiersync.conf), or read from the node itself (loopback)",
                          "Authorization", MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                          "Bearer realm=\"tiersync\"");
    if (acc == HTTP_DENY_BAD_TOKEN)
        return send_error(conn, 401, "the read token is not one of this node's: check the "
                          "[read] token lines of tiersync.conf (the header is "
                          "'Authorization: Bearer TOKEN')", "Authorization",
                          MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                          "Bearer realm=\"tiersync\", error=\"invalid_token\"");
    param_ctx pc = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_param, &pc);
    if (pc.too_many)
        return send_error(conn, 400, "too many query parameters", NULL, NULL, NULL);
    api_response r;
    api_handle(h->n, acc == HTTP_READ_EXACT, url, &pc.p, &r);
    log_debug("http: GET %s -> %d", url, r.status);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        api_response_free(&r);
        return MHD_NO;
    }
    r.body = NULL; /* MHD owns it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Tiersync-Access",
                            acc == HTTP_READ_EXACT ? "exact" : "rounded");
    char buf[128];
    if (r.filename[0]) {
        snprintf(buf, sizeof buf, "attachment; filename=\"%s\"", r.filename);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, buf);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void client_text(struct MHD_Connection *conn, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(out, outsz, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outsz);
}

static bool body_append(http_body *b, const char *data, size_t n)
{
    if (b->too_big || b->len + n > REG_BODY_MAX) {
        b->too_big = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->too_big = true;
            return false;
        }
        b->buf = nb, b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return true;
}

static enum MHD_Result serve_register(http_t *h, struct MHD_Connection *conn, const char *url,
                                      const char *method, http_body *body)
{
    if (body->too_big)
        return send_error(conn, 413, "the request body is too large for the register", NULL,
                          NULL, NULL);
    param_ctx pc = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_param, &pc);
    if (pc.too_many)
        return send_error(conn, 400, "too many query parameters", NULL, NULL, NULL);
    char addr[INET6_ADDRSTRLEN];
    client_text(conn, addr, sizeof addr);
    reg_request q = {
        .method = method, .path = url, .params = &pc.p, .body = body->buf,
        .body_len = body->len, .addr = addr,
        .cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, REG_COOKIE),
        .csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token"),
    };
    reg_reply r;
    reg_handle(h->reg, &q, &r);
    log_debug("http: %s %s -> %d", method, url, r.status);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r.len, r.body, r.asset ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        reg_reply_free(&r);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy", HTTP_CSP);
    if (r.set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r.set_cookie);
    char buf[16];
    if (r.retry_after > 0) {
        snprintf(buf, sizeof buf, "%d", r.retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, buf);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    http_body *b = *req_cls;
    if (b) {
        free(b->buf);
        free(b);
    }
    *req_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **req_cls)
{
    (void)version;
    http_t *h = cls;
    if (!*req_cls) { /* first call: headers only */
        *req_cls = calloc(1, sizeof(http_body));
        return *req_cls ? MHD_YES : MHD_NO;
    }
    http_body *body = *req_cls;
    bool reg = reg_owns(url);
    if (*upload_size) { /* kept for the register, else not expected: dropped */
        if (reg)
            body_append(body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (reg)
        return serve_register(h, conn, url, method, body);
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return send_error(conn, 405, "only GET and HEAD: this API is read-only (the case "
                          "register's paths are the exception, docs/API.md)", NULL,
                          MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    const web_asset *a = web_find(url);
    if (a)
        return send_body(conn, 200, a->content_type, (char *)a->data, a->len, false, true);
    if (api_knows(url))
        return serve_api(h, conn, url);
    char msg[160];
    snprintf(msg, sizeof msg, "no such path: %.64s (the API is under /api/, see docs/API.md; "
             "the dashboard is at /)", url);
    return send_error(conn, 404, msg, NULL, NULL, NULL);
}

static void http_free(http_t *h)
{
    reg_destroy(&h->reg);
    tls_free_pem(&h->cert);
    tls_free_pem(&h->key);
    free(h);
}

/* Why a bind failed: MHD does not say, so try it ourselves. */
static const char *bind_error(const struct sockaddr_storage *ss, socklen_t len)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return strerror(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const char *why = bind(fd, (const struct sockaddr *)ss, len) != 0 ? strerror(errno)
                                                                      : "the HTTP server failed";
    close(fd);
    return why;
}

int http_start(http_t **out, node_t *n, ts_err *e)
{
    *out = NULL;
    if (!n->cfg.http[0])
        return TS_OK;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (parse_address(n->cfg.http, &ss, &len, e))
        return e->code;
    http_t *h = calloc(1, sizeof *h);
    if (!h)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    h->n = n;
    bool tls = n->cfg.tls_cert[0] || n->cfg.tls_key[0];
    if (tls && tls_load(&n->cfg, &h->cert, &h->key, e)) {
        free(h);
        return e->code;
    }
    h->reg = reg_new(n, tls, tls_address_loopback(n->cfg.http));
    if (!h->reg) {
        http_free(h);
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (tls)
        flags |= MHD_USE_TLS;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    /* the server's thread inherits this mask: signals stay with the daemon's
     * thread, whose poll they must interrupt */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    h->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                            tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
                            MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->d) {
        http_free(h);
        return ts_fail(e, TS_ERUNTIME, "cannot serve HTTP%s on %s: %s (is another program on "
                       "that port? change http.address in tiersync.conf%s)", tls ? "S" : "",
                       n->cfg.http, bind_error(&ss, len),
                       tls ? "; are tls_cert and tls_key a certificate and its key?" : "");
    }
    log_info("http: dashboard and read API on http%s://%s/", tls ? "s" : "", n->cfg.http);
    if (!reg_enabled(h->reg))
        log_warn("http: the case register is off: %s is not a loopback address and there is "
                 "no TLS; set [http] tls_cert and tls_key ('tiersync tls --dir %s'), or bind "
                 "to 127.0.0.1", n->cfg.http, n->cfg.dir);
    *out = h;
    return TS_OK;
}

void http_stop(http_t **h)
{
    if (!h || !*h)
        return;
    MHD_stop_daemon((*h)->d);
    http_free(*h);
    *h = NULL;
}
