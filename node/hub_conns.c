/* hub_conns.c: children's connections, ended when they are removed (see
 * hub_conns.h). */
#include "hub_conns.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "log.h"
#include "util.h"

void hub_conns_init(hub_conns *c, const char *endpoint)
{
    memset(c, 0, sizeof *c);
    hmap_str_init(&c->fds);
    const char *colon = strrchr(endpoint, ':');
    c->port = !strncmp(endpoint, "tcp://", 6) && colon ? atoi(colon + 1) : 0;
}

void hub_conns_free(hub_conns *c)
{
    hmap_str_free(&c->fds);
    free(c->routes);
}

void hub_conns_note(hub_conns *c, const char *child, int fd, const void *id, size_t idlen)
{
    size_t k = hmap_str_put(&c->fds, child, strlen(child), fd, NULL);
    c->fds.ents[k].val = fd; /* after the put, which may move ents */
    if (k >= c->nroutes) {
        size_t cap = c->nroutes ? 2 * c->nroutes : 64;
        while (cap <= k)
            cap *= 2;
        c->routes = ts_xrealloc(c->routes, cap * sizeof *c->routes);
        memset(c->routes + c->nroutes, 0, (cap - c->nroutes) * sizeof *c->routes);
        c->nroutes = cap;
    }
    bool fits = idlen > 0 && idlen <= HUB_CONNS_ID_MAX;
    c->routes[k].len = fits ? (uint8_t)idlen : 0;
    if (fits)
        memcpy(c->routes[k].id, id, idlen);
}

size_t hub_conns_send(const hub_conns *c, void *router, const void *msg, size_t len,
                      hub_conns_want want, void *ctx)
{
    size_t sent = 0;
    for (size_t k = 0; k < c->fds.n && k < c->nroutes; k++) {
        const hub_route *r = &c->routes[k];
        if (!r->len || (want && !want(hmap_str_key(&c->fds, k, NULL), ctx)))
            continue;
        if (zmq_send(router, r->id, r->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            sent += zmq_send(router, msg, len, ZMQ_DONTWAIT) >= 0;
    }
    return sent;
}

static bool on_children_port(const hub_conns *c, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port) == c->port;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == c->port;
    return !c->port && ss.ss_family == AF_UNIX;
}

static void drop_at(hub_conns *c, size_t k, const char *why)
{
    int fd = c->fds.ents[k].val;
    if (fd < 0)
        return;
    c->fds.ents[k].val = -1;
    if (!on_children_port(c, fd)) /* gone already, its number reused elsewhere */
        return;
    shutdown(fd, SHUT_RDWR);
    log_info("child %s: connection closed: %s", hmap_str_key(&c->fds, k, NULL), why);
}

void hub_conns_drop(hub_conns *c, const char *child, const char *why)
{
    long k = hmap_str_find(&c->fds, child, strlen(child));
    if (k >= 0)
        drop_at(c, (size_t)k, why);
}

void hub_conns_drop_if(hub_conns *c, hub_conns_want want, void *ctx, const char *why)
{
    for (size_t k = 0; k < c->fds.n; k++)
        if (c->fds.ents[k].val >= 0 && want(hmap_str_key(&c->fds, k, NULL), ctx))
            drop_at(c, k, why);
}

void hub_conns_sweep(hub_conns *c, store_t *s, int64_t period_ms)
{
    int64_t now = ts_mono_ms();
    if (now - c->swept_ms < period_ms)
        return;
    c->swept_ms = now;
    store_txn *txn;
    ts_err e;
    if (store_read_begin(s, &txn, &e) != TS_OK)
        return;
    store_child ch;
    for (size_t k = 0; k < c->fds.n; k++)
        if (c->fds.ents[k].val >= 0 &&
            store_child_get(s, txn, hmap_str_key(&c->fds, k, NULL), &ch) != TS_OK)
            drop_at(c, k, "no longer enrolled (tiersync child remove)");
    store_read_end(txn);
}
