/* api.h: the read API behind the HTTP server: JSON endpoints, exports and
 * /metrics, free of sockets so tests call it directly.
 *
 * http.c decides who may read (loopback, or a read token) and passes
 * whether the reader is authorised for exact values; everything below works
 * on one read transaction per request. Readers without a token see every
 * record-derived figure randomly rounded to a multiple of k by its cell key
 * (query_publish, disclose.h); stored totals stay exact. docs/API.md
 * documents every endpoint with examples. */
#ifndef TIERSYNC_API_H
#define TIERSYNC_API_H

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

#define API_MAX_PARAMS 16

/* The query string of one request, decoded. */
typedef struct {
    int n;
    const char *name[API_MAX_PARAMS];
    const char *value[API_MAX_PARAMS];
} api_params;

typedef struct {
    int status;               /* HTTP status: 200, 400, 404, 500 */
    const char *content_type; /* static string */
    char *body;               /* malloc'd, len bytes */
    size_t len;
    char filename[64]; /* exports: suggested file name, else "" */
} api_response;

/* True when path is one of the API's (or /metrics): http.c serves other
 * paths from the embedded dashboard or answers 404. */
bool api_knows(const char *path);

/* Answers GET path for a reader (exact: authorised for exact values).
 * Always fills r: the body, or a JSON error {"error", "parameter"} with
 * status 400 naming the bad parameter, 404 for an unknown path, 500 when
 * the store fails or a sum leaves the 64-bit range. Free r with api_response_free. */
void api_handle(node_t *n, bool exact, const char *path, const api_params *p, api_response *r);
void api_response_free(api_response *r);

/* The value of a parameter, NULL when absent or empty. */
const char *api_param(const api_params *p, const char *name);

/* Appends a parameter; false when there are too many. */
bool api_params_add(api_params *p, const char *name, const char *value);

#endif
