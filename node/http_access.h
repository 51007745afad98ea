/* http_access.h: who may read a node's numbers over HTTP, and what a
 * request must look like before anything answers it.
 *
 * A request with "Authorization: Bearer TOKEN" naming one of the config's
 * [read] token lines is authorised for exact values, from any address. A
 * request without that header may read only from a loopback address, and
 * then sees rounded figures (api.h) — unless [http] trust_loopback =
 * no (a reverse proxy on the same machine makes every reader loopback). A
 * wrong token is refused, not downgraded: a typo should be noticed. Tokens
 * are compared in constant time (hashed first, so their lengths do not leak
 * either), and an address that sends wrong tokens is slowed down
 * (http_throttle). The Host header must name this node (DNS rebinding), and
 * the raw request target must be free of control bytes and of more query
 * parameters than any endpoint takes. */
#ifndef TIERSYNC_HTTP_ACCESS_H
#define TIERSYNC_HTTP_ACCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "backoff.h"
#include "config.h"

typedef enum {
    HTTP_READ_EXACT,     /* valid token */
    HTTP_READ_PROTECTED, /* loopback (trusted), no token: rounded figures */
    HTTP_DENY_NO_TOKEN,  /* not a trusted loopback reader, and no token: 401 */
    HTTP_DENY_BAD_TOKEN  /* a token that is not configured, or a malformed header: 401 */
} http_access;

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool http_access_loopback(const struct sockaddr *sa);

/* Decides for a client address and its Authorization header (NULL: none). */
http_access http_access_decide(const ts_config *cfg, const struct sockaddr *sa,
                               const char *authorization);

/* True when the Host header (NULL: none sent) names this node: the address
 * the client connected to (local) with its port, "localhost" or a loopback
 * address when local is loopback, or a name of [http] hosts (any port).
 * A request without Host cannot come from a browser and is let through. */
bool http_access_host_ok(const ts_config *cfg, const char *host, const struct sockaddr *local);

/* The raw request target (escaped, query included), checked before MHD
 * splits it: a control byte (raw or %00-%1F, %7F) would cut or alter what
 * the handlers see; more than max parameters cannot be meant. */
typedef enum { HTTP_URI_OK, HTTP_URI_CONTROL, HTTP_URI_TOO_MANY } http_uri_verdict;
http_uri_verdict http_access_uri(const char *raw, int max_params);

/* Wrong tokens per client address: after HTTP_THROTTLE_FREE failures, the
 * address must wait 1, 2, 4 ... up to HTTP_THROTTLE_MAX_S seconds between
 * tries; tries in between are answered 429 with Retry-After, the token
 * unchecked. A right token clears the address. A fixed table: the least
 * recently failing address gives way to a new one. Not thread-safe: used
 * by the HTTP server's one thread. */
#define HTTP_THROTTLE_FREE 5
#define HTTP_THROTTLE_MAX_S 60
#define HTTP_THROTTLE_SLOTS 256
typedef struct {
    backoff_slot slot[HTTP_THROTTLE_SLOTS];
} http_throttle;

/* 0 when sa may try a token now, else the seconds it must still wait. */
int http_throttle_wait(const http_throttle *t, const struct sockaddr *sa, int64_t now_ms);
/* Records the outcome of a token tried by sa. */
void http_throttle_record(http_throttle *t, const struct sockaddr *sa, bool ok, int64_t now_ms);

#endif
