/* http_access.h: who may read a node's numbers over HTTP.
 *
 * A request with "Authorization: Bearer TOKEN" naming one of the config's
 * [read] token lines is authorised for exact values, from any address. A
 * request without that header may read only from a loopback address, and
 * then sees small counts protected (api.h). A wrong token is refused, not
 * downgraded: a typo should be noticed. Tokens are compared in constant
 * time (hashed first, so their lengths do not leak either). */
#ifndef TIERSYNC_HTTP_ACCESS_H
#define TIERSYNC_HTTP_ACCESS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"

typedef enum {
    HTTP_READ_EXACT,     /* valid token */
    HTTP_READ_PROTECTED, /* loopback, no token: small-cell protection */
    HTTP_DENY_NO_TOKEN,  /* not loopback and no token: 401 */
    HTTP_DENY_BAD_TOKEN  /* a token that is not configured, or a malformed header: 401 */
} http_access;

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool http_access_loopback(const struct sockaddr *sa);

/* Decides for a client address and its Authorization header (NULL: none). */
http_access http_access_decide(const ts_config *cfg, const struct sockaddr *sa,
                               const char *authorization);

#endif
