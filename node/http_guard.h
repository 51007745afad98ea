/* http_guard.h: a deadline for receiving each request's headers.
 *
 * libmicrohttpd's connection timeout restarts with every byte received, so
 * a client sending one header line every few seconds holds a connection
 * for ever (slow loris). The guard keeps a list of the server's
 * connections with the time the request they await began (the connection
 * opened, or the previous response finished); a thread of its own looks
 * once a second and shuts down the socket of any connection still without
 * its complete headers after the deadline, which libmicrohttpd then sees
 * as closed by the client and cleans up. The list is locked: the server's
 * thread opens, updates and closes entries, the guard's thread reads them,
 * and an entry is unlinked (under the lock) before its socket is closed. */
#ifndef TIERSYNC_HTTP_GUARD_H
#define TIERSYNC_HTTP_GUARD_H

#include "err.h"

typedef struct http_guard http_guard;
typedef struct http_guard_conn http_guard_conn;

/* Starts the guard's thread: connections get deadline_s seconds for the
 * headers of each request. */
int http_guard_new(http_guard **out, int deadline_s, ts_err *e);
/* Stops the thread and frees the guard (its list must be empty). */
void http_guard_destroy(http_guard **g);

/* A connection on socket fd opened; NULL when out of memory (then it is
 * not guarded). Every function below takes NULL and does nothing. */
http_guard_conn *http_guard_open(http_guard *g, int fd);
/* Its request's headers are all in: no deadline until the answer is sent. */
void http_guard_headers_done(http_guard *g, http_guard_conn *c);
/* Its answer was sent: the next request's deadline starts now. */
void http_guard_request_done(http_guard *g, http_guard_conn *c);
/* It is about to be closed: forget it (frees c). */
void http_guard_close(http_guard *g, http_guard_conn *c);

#endif
