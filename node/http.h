/* http.h: the read API, exports, metrics and dashboard over HTTP
 * (libmicrohttpd, its own thread; reads the store with read transactions). */
#ifndef TIERSYNC_HTTP_H
#define TIERSYNC_HTTP_H

#include "node.h"

typedef struct http http_t;

/* Starts serving on n->cfg.http (IP:PORT); does nothing when it is empty. */
int http_start(http_t **out, node_t *n, ts_err *e);
void http_stop(http_t **h);

#endif
