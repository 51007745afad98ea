/* register.h: the commune's case register over HTTP: the pages under
 * /register, login sessions (/api/session), records (/api/records/...),
 * accounts (/api/users) and the access log (/api/access-log), free of
 * libmicrohttpd so tests call it directly; http.c hands it the requests
 * whose path reg_owns() claims.
 *
 * Who may do what (docs/REGISTER.md, docs/SECURITY.md):
 *   - only a node that holds records (records_held_here) serves any of it;
 *     elsewhere every such path is 404;
 *   - beyond loopback only over TLS: a node whose HTTP address is not a
 *     loopback one and has no certificate answers 404 (the log says why);
 *   - /api/session is open (the login); every other path needs a live
 *     session, and every write (POST, PATCH, PUT, DELETE) its CSRF token in
 *     X-CSRF-Token (403 without it);
 *   - records need an officer or admin, accounts and the access log an
 *     admin (403 otherwise).
 * Every read of a record's PII and every change is appended to the access
 * log (access_log.h) before the answer goes out. */
#ifndef TIERSYNC_REGISTER_H
#define TIERSYNC_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "node.h"

#define REG_COOKIE "ts_session"
#define REG_BODY_MAX (32u << 20) /* request bodies: a CSV of a commune's list */
#define REG_SET_COOKIE_MAX 192

typedef struct reg reg_t;

typedef struct {
    const char *method; /* GET, HEAD, POST, PATCH, PUT, DELETE */
    const char *path;   /* unescaped, without the query */
    const api_params *params;
    char *body; /* NUL-terminated (the CSV reader parses it in place); may be NULL */
    size_t body_len;
    const char *cookie; /* the REG_COOKIE cookie's value; NULL: none */
    const char *csrf;   /* the X-CSRF-Token header; NULL: none */
    const char *addr;   /* the client's address as text */
    int64_t now_ms;     /* the time of the request for sessions and the login
                           * throttle; 0: the clock (tests give their own) */
} reg_request;

typedef struct {
    int status;
    const char *content_type; /* static string */
    char *body;               /* malloc'd unless asset */
    size_t len;
    bool asset;                          /* body is an embedded page file (not to be freed) */
    char set_cookie[REG_SET_COOKIE_MAX]; /* "" when none */
    int retry_after;                     /* seconds; 0: none */
} reg_reply;

/* True for the paths the register answers (on every node: elsewhere with
 * 404, so that they never fall through to the read API or the dashboard). */
bool reg_owns(const char *path);

/* The register of node n. tls: served over HTTPS; loopback: the HTTP
 * address is a loopback one. Without either it refuses every request. */
reg_t *reg_new(node_t *n, bool tls, bool loopback);
void reg_destroy(reg_t **r);
/* False when reg_new turned it off (beyond loopback without TLS). */
bool reg_enabled(const reg_t *r);

/* True when cookie is a live session of any role: the read API then
 * serves it as a loopback reader (figures rounded, as without a token), so
 * that a viewer in the office sees the dashboard without a read token. */
bool reg_session_live(reg_t *r, const char *cookie);

/* Answers one request. Always fills out; free it with reg_reply_free. */
void reg_handle(reg_t *r, const reg_request *q, reg_reply *out);
void reg_reply_free(reg_reply *out);

#endif
