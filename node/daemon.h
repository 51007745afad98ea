/* daemon.h: `tiersync run`: one thread polls the ZAP handler, the children's
 * ROUTER and the parent DEALER; timers drive flushing and retries. */
#ifndef TIERSYNC_DAEMON_H
#define TIERSYNC_DAEMON_H

#include "node.h"

#define DAEMON_LOCK_FILE "run.lock"
#define DAEMON_IDLE_POLL_MS 1000
/* libzmq's context option ZMQ_ZERO_COPY_RECV, which zmq.h declares only
 * for builds with its draft API */
#define DAEMON_ZMQ_ZERO_COPY_RECV 10
#define DAEMON_BATCH 1024 /* messages handled per poll round before timers run */

/* Takes DIR's daemon lock into *fd (close it to release): only one
 * process serves a directory. TS_ERUNTIME when a daemon holds it. */
int daemon_lock(const char *dir, int *fd, ts_err *e);

/* Runs until SIGINT or SIGTERM; returns TS_OK on a clean stop. */
int daemon_run(node_t *n, ts_err *e);

#endif
