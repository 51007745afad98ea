/* http_route.h: what the HTTP server answers to one request, free of
 * libmicrohttpd so tests and the fuzz target call it directly.
 *
 * In order: a raw target with control bytes or too many parameters is 400,
 * a Host that does not name this node 421 (http_access.h); a path of the
 * case register goes to reg_handle (register.h), whatever the method; then
 * a method other than GET/HEAD is 405; a dashboard file is served to
 * anyone; an API path passes the throttle (429), then the access check
 * (401; a live register session reads as a loopback reader), then
 * api_handle. */
#ifndef TIERSYNC_HTTP_ROUTE_H
#define TIERSYNC_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "http_access.h"
#include "node.h"
#include "register.h"

typedef struct {
    const char *method;
    const char *path;          /* unescaped, without the query */
    http_uri_verdict uri;      /* of the raw target (http_access_uri) */
    const char *host;          /* the Host header; NULL: none */
    const char *authorization; /* NULL: none */
    const struct sockaddr *client, *local;
    const api_params *params;
    bool params_overflow; /* more parameters than api_params holds */
    reg_t *reg;           /* the case register; NULL: none (its paths are 404) */
    const char *cookie;   /* the register's session cookie; NULL: none */
    const char *csrf;     /* X-CSRF-Token; NULL: none */
    char *body;           /* a register request's body (NUL-terminated); NULL: none */
    size_t body_len;
    bool body_too_big; /* longer than REG_BODY_MAX: 413 */
} http_request;

typedef struct {
    int status;
    const char *content_type; /* static string */
    char *body;               /* malloc'd when owned, else a dashboard file */
    size_t len;
    bool owned, asset;
    const char *access;                  /* X-Tiersync-Access: "exact", "rounded"; NULL: none */
    char filename[64];                   /* Content-Disposition attachment when not empty */
    const char *header, *value;          /* one more header (WWW-Authenticate, Allow), or NULL */
    char retry_after[16];                /* Retry-After when not empty */
    char set_cookie[REG_SET_COOKIE_MAX]; /* Set-Cookie when not empty */
    bool register_reply; /* from the register: framing refused, CSP on every answer */
} http_reply;

/* Answers q for node n; t is the server's wrong-token throttle. */
void http_route(node_t *n, http_throttle *t, const http_request *q, http_reply *out);
void http_reply_free(http_reply *r);

#endif
