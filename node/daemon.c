/* daemon.c: the node's event loop. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "agg.h"
#include "audit.h"
#include "catalog_dist.h"
#include "clock.h"
#include "http.h"
#include "hub.h"
#include "join.h"
#include "log.h"
#include "rotate_node.h"
#include "scrub.h"
#include "uplink.h"

static volatile sig_atomic_t stop_requested; /* the only global: signals need it */

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int daemon_lock(const char *dir, int *fd, ts_err *e)
{
    char path[TS_PATH_MAX];
    if (ts_path(path, sizeof path, e, "%s/%s", dir, DAEMON_LOCK_FILE))
        return e->code;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return ts_fail(e, TS_ERUNTIME, "cannot open %s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        return ts_fail(e, TS_ERUNTIME, "another 'tiersync run' already serves %s; stop it first",
                       dir);
    }
    return TS_OK;
}

int daemon_run(node_t *n, ts_err *e)
{
    int lockfd = -1;
    if (daemon_lock(n->cfg.dir, &lockfd, e))
        return e->code;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    void *zctx = zmq_ctx_new();
    /* libzmq then copies each message out of its read buffer: a queued
     * message costs its own size instead of pinning a buffer of some 18 KB
     * (a district under 1,000 children: 13 MB less). Only an optimisation:
     * a libzmq without the option keeps working as before. */
    if (zctx)
        zmq_ctx_set(zctx, DAEMON_ZMQ_ZERO_COPY_RECV, 0);
    hub_t *hub = NULL;
    uplink_t *up = NULL;
    http_t *http = NULL;
    join_t *join = NULL;
    scrub_t *scrub = NULL;
    int rc = TS_OK;
    catdist_watch watch = {0};
    ts_err ce = {0};
    if (catdist_refresh(n, &ce) != TS_OK) /* the node still runs: it has a catalog */
        log_error("catalog: %s; this node hands no catalog version down until it is fixed", ce.msg);
    bool rekeyed;
    /* a key rotation under way (rotate_node.h): the links start with its keys */
    if ((rc = rotate_advance(n, &rekeyed, e)) != TS_OK)
        goto out;
    if (n->cfg.listen[0] &&
        ((rc = hub_start(&hub, n, zctx, e)) != TS_OK || (rc = join_start(&join, n, e)) != TS_OK))
        goto out;
    if (n->cfg.parent[0] && (rc = uplink_start(&up, n, zctx, e)) != TS_OK)
        goto out;
    if (n->cfg.http[0] && (rc = http_start(&http, n, e)) != TS_OK)
        goto out;
    if ((rc = scrub_start(&scrub, n, e)) != TS_OK)
        goto out;
    char fp[KEYS_FINGERPRINT_LEN], note[CLOCK_NOTE_MAX];
    if (clock_suspect((int64_t)time(NULL), clock_store_time(n->cfg.dir), note, sizeof note))
        log_warn("%s; dates refused as after today, and months not begun, are this clock's", note);
    keys_fingerprint(n->keys.pk, fp);
    log_info("node %s (%s) running: key %s, children on %s, parent %s", n->cfg.code, n->cfg.level,
             fp, hub ? n->cfg.listen : "-", up ? n->cfg.parent : "-");

    int64_t next_agg_ms = 0;    /* records: month turn-over, every AGG_TICK_MS */
    int64_t next_rotate_ms = 0; /* key rotation: `key rotate` asks, every HUB_TICK_MS */
    while (!stop_requested) {
        if (ts_mono_ms() >= next_rotate_ms) {
            ts_err re = {0};
            if (rotate_advance(n, &rekeyed, &re) != TS_OK)
                log_error("key rotation: %s", re.msg);
            next_rotate_ms = ts_mono_ms() + HUB_TICK_MS;
        }
        /* tick first: it may replace the parent socket */
        int timeout = up ? uplink_tick(up) : DAEMON_IDLE_POLL_MS;
        if (hub) {
            if ((rc = hub_tick(hub, e)) != TS_OK)
                break;
            if (timeout < 0 || timeout > HUB_TICK_MS)
                timeout = HUB_TICK_MS;
        }
        if (join) {
            int jt = join_tick(join);
            if (timeout < 0 || jt < timeout)
                timeout = jt;
        }
        zmq_pollitem_t items[6];
        int ni = 0, izap = -1, irouter = -1, iwake = -1, idealer = -1, imon = -1, ijoin = -1;
        if (hub) {
            items[izap = ni++] = (zmq_pollitem_t){hub_zap(hub), 0, ZMQ_POLLIN, 0};
            items[irouter = ni++] = (zmq_pollitem_t){hub_router(hub), 0, ZMQ_POLLIN, 0};
            items[iwake = ni++] = (zmq_pollitem_t){NULL, hub_wake_fd(hub), ZMQ_POLLIN, 0};
        }
        if (join_socket(join))
            items[ijoin = ni++] = (zmq_pollitem_t){join_socket(join), 0, ZMQ_POLLIN, 0};
        if (up) {
            items[idealer = ni++] = (zmq_pollitem_t){uplink_socket(up), 0, ZMQ_POLLIN, 0};
            items[imon = ni++] = (zmq_pollitem_t){uplink_monitor(up), 0, ZMQ_POLLIN, 0};
        }
        if (zmq_poll(items, ni, timeout) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            rc = ts_fail(e, TS_ERUNTIME, "poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (izap >= 0 && (items[izap].revents & ZMQ_POLLIN))
            hub_on_zap(hub);
        if (irouter >= 0 && (items[irouter].revents & ZMQ_POLLIN))
            hub_on_router(hub, DAEMON_BATCH);
        if (iwake >= 0 && (items[iwake].revents & ZMQ_POLLIN))
            hub_on_committed(hub);
        if (ijoin >= 0 && (items[ijoin].revents & ZMQ_POLLIN) && join_on_message(join) > 0)
            hub_keys_changed(hub);
        if (imon >= 0 && (items[imon].revents & ZMQ_POLLIN))
            uplink_on_monitor(up);
        if (idealer >= 0 && (items[idealer].revents & ZMQ_POLLIN))
            uplink_on_message(up);
        catdist_watch_tick(&watch, n);
        if (ts_mono_ms() >= next_agg_ms) {
            ts_err ae = {0};
            if (agg_tick(n, &ae) != TS_OK)
                log_warn("records: %s", ae.msg);
            if (audit_prune(n, &ae) != TS_OK)
                log_warn("audit: %s", ae.msg);
            next_agg_ms = ts_mono_ms() + AGG_TICK_MS;
        }
    }
    if (stop_requested)
        log_info("node %s stopping", n->cfg.code);
out:
    scrub_stop(&scrub);
    http_stop(&http);
    uplink_stop(&up);
    join_stop(&join);
    hub_stop(&hub);
    zmq_ctx_term(zctx);
    close(lockfd);
    return rc;
}
