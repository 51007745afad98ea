/* http.c: the node's HTTP server (libmicrohttpd, its own polling thread):
 * the embedded dashboard, the read API and /metrics, and a commune's case
 * register (with request bodies); HTTPS when [http] tls_cert and tls_key
 * are set (tls.h).
 *
 * This file is the glue to libmicrohttpd: it collects a request (the raw
 * target's verdict, headers, addresses, query) for http_route(), which
 * decides the answer, and sends it. It also bounds what a client can hold:
 * connections in all and per address, a deadline for each request's
 * headers (http_guard.h), and memory per connection. Every answer, errors
 * included, is JSON except the dashboard files, /metrics and exports. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
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
#include "http_guard.h"
#include "http_route.h"
#include "log.h"
#include "register.h"
#include "tls.h"

#define HTTP_CONNECTION_LIMIT 256
#define HTTP_PER_IP_LIMIT 16          /* connections at once from one address */
#define HTTP_HEADER_DEADLINE_S 10     /* to send a request's headers, all of them */
#define HTTP_TIMEOUT_S 30             /* idle: nothing sent or received */
#define HTTP_MEMORY_LIMIT (64 * 1024) /* per connection: headers and query string */

/* Only same-origin scripts, styles and requests: the dashboard works offline
 * by construction, a CDN reference could not even load. */
#define HTTP_CSP                                                                      \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct http {
    struct MHD_Daemon *d;
    node_t *n;
    http_guard *guard;
    http_throttle throttle; /* used by MHD's one thread only */
    log_limit log;          /* libmicrohttpd's messages */
    reg_t *reg;
    char *cert, *key; /* PEM, kept while the server runs */
};

/* One request's state (*req_cls), from on_uri to on_completed. */
typedef struct {
    http_uri_verdict uri; /* of the raw target */
    char *body;           /* a register request's body, NUL-terminated */
    size_t len, cap;
    bool too_big;
} http_req;

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
    return ts_fail(e, TS_EINPUT,
                   "http.address = '%s' is not IP:PORT (e.g. 127.0.0.1:8600 or "
                   "[::1]:8600); fix it in tiersync.conf, or leave it empty to turn HTTP off",
                   addr);
}

/* libmicrohttpd's messages, each kind once a minute with a count (it
 * writes one for every connection refused over a limit, which a client can
 * repeat at will). Called from the server's thread, or from http_start and
 * http_stop while that thread is not running. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_t *h = cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    buf[strcspn(buf, "\r\n")] = '\0';
    log_limited(&h->log, fmt, LOG_WARN, "http: %s", buf);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, http_reply *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->len, r->body, r->owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        http_reply_free(r);
        return MHD_NO;
    }
    r->body = NULL; /* MHD owns it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->asset ? "no-cache" : "no-store");
    if (r->asset)
        MHD_add_response_header(resp, "Content-Security-Policy", HTTP_CSP);
    if (r->access)
        MHD_add_response_header(resp, "X-Tiersync-Access", r->access);
    char buf[128];
    if (r->filename[0]) {
        snprintf(buf, sizeof buf, "attachment; filename=\"%s\"", r->filename);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, buf);
    }
    if (r->header)
        MHD_add_response_header(resp, r->header, r->value);
    if (r->retry_after[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, r->retry_after);
    if (r->set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    if (r->register_reply) {
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        if (!r->asset)
            MHD_add_response_header(resp, "Content-Security-Policy", HTTP_CSP);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
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

/* A request's *req_cls: &uri_seen[v] from on_uri (v: the raw target's
 * verdict), then its http_req once the handler saw the headers (made only
 * then: MHD calls on_completed, which frees it, for those requests only). */
static const http_uri_verdict uri_seen[] = {HTTP_URI_OK, HTTP_URI_CONTROL, HTTP_URI_TOO_MANY};

/* Called with the raw request target before MHD splits off and parses the
 * query: a target with too many parameters is cut after its '?' so that MHD
 * parses none (parsing thousands of them exhausts the connection's memory
 * and MHD then cannot even answer), and the handler answers 400. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    http_uri_verdict v = http_access_uri(uri, API_MAX_PARAMS);
    if (v != HTTP_URI_OK) {
        char *q = strchr(uri, '?');
        if (q)
            q[1] = '\0';
    }
    return (void *)&uri_seen[v];
}

/* Keeps a register request's body (up to REG_BODY_MAX). */
static void body_append(http_req *rq, const char *data, size_t n)
{
    if (rq->too_big || rq->len + n > REG_BODY_MAX) {
        rq->too_big = true;
        return;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n + 1)
            cap *= 2;
        char *nb = realloc(rq->body, cap);
        if (!nb) {
            rq->too_big = true;
            return;
        }
        rq->body = nb, rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
}

static http_guard_conn *guard_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    (void)version;
    http_t *h = cls;
    const http_uri_verdict *v = *req_cls;
    if (!v || (v >= uri_seen && v < uri_seen + 3)) { /* first call: headers only */
        http_guard_headers_done(h->guard, guard_conn(conn));
        http_req *rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->uri = v ? *v : HTTP_URI_OK;
        *req_cls = rq;
        return MHD_YES;
    }
    http_req *rq = *req_cls;
    if (*upload_size) { /* kept for the register, else not expected: dropped */
        if (reg_owns(url))
            body_append(rq, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    param_ctx pc = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_param, &pc);
    const union MHD_ConnectionInfo *client = MHD_get_connection_info(
        conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn,
                                                                 MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage local;
    socklen_t llen = sizeof local;
    memset(&local, 0, sizeof local);
    if (fd)
        getsockname(fd->connect_fd, (struct sockaddr *)&local, &llen);
    http_request q = {
        .method = method,
        .path = url,
        .uri = rq->uri,
        .host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION),
        .client = client ? client->client_addr : NULL,
        .local = (struct sockaddr *)&local,
        .params = &pc.p,
        .params_overflow = pc.too_many,
        .reg = h->reg,
        .cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, REG_COOKIE),
        .csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token"),
        .body = rq->body,
        .body_len = rq->len,
        .body_too_big = rq->too_big,
    };
    http_reply r;
    http_route(h->n, &h->throttle, &q, &r);
    return send_reply(conn, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    http_t *h = cls;
    http_guard_request_done(h->guard, guard_conn(conn));
    const http_uri_verdict *v = *req_cls;
    if (v && !(v >= uri_seen && v < uri_seen + 3)) {
        http_req *rq = *req_cls;
        free(rq->body);
        free(rq);
    }
    *req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_t *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(
            conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = fd ? http_guard_open(h->guard, fd->connect_fd) : NULL;
    } else {
        http_guard_close(h->guard, *socket_context);
        *socket_context = NULL;
    }
}

static void http_free(http_t *h)
{
    http_guard_destroy(&h->guard);
    log_limit_free(&h->log);
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
    if (http_guard_new(&h->guard, HTTP_HEADER_DEADLINE_S, e)) {
        free(h);
        return e->code;
    }
    log_limit_init(&h->log);
    bool tls = n->cfg.tls_cert[0] || n->cfg.tls_key[0];
    if ((tls && tls_load(&n->cfg, &h->cert, &h->key, e)) ||
        !(h->reg = reg_new(n, tls, tls_address_loopback(n->cfg.http)))) {
        if (!e->code)
            ts_fail(e, TS_ERUNTIME, "out of memory");
        http_free(h);
        return e->code;
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
    h->d = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        h, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_MEMORY_LIMIT, tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
        MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->d) {
        http_free(h);
        return ts_fail(e, TS_ERUNTIME,
                       "cannot serve HTTP%s on %s: %s (is another program on "
                       "that port? change http.address in tiersync.conf%s)",
                       tls ? "S" : "", n->cfg.http, bind_error(&ss, len),
                       tls ? "; are tls_cert and tls_key a certificate and its key?" : "");
    }
    log_info("http: dashboard and read API on http%s://%s/", tls ? "s" : "", n->cfg.http);
    if (!reg_enabled(h->reg))
        log_warn("http: the case register is off: %s is not a loopback address and there is "
                 "no TLS; set [http] tls_cert and tls_key ('tiersync tls --dir %s'), or bind "
                 "to 127.0.0.1",
                 n->cfg.http, n->cfg.dir);
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
