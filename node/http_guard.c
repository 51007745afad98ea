/* http_guard.c: the header deadline's list and thread (see http_guard.h). */
#include "http_guard.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define HTTP_GUARD_TICK_MS 1000

struct http_guard_conn {
    http_guard_conn *prev, *next;
    int fd;
    int64_t since_ms; /* when the awaited request began */
    bool awaiting;    /* its headers are not all in yet */
    bool cut;         /* its socket was shut down */
};

struct http_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stop;
    int64_t deadline_ms;
    http_guard_conn *head;
};

static void sweep(http_guard *g)
{
    int64_t now = ts_now_ms();
    int cut = 0;
    for (http_guard_conn *c = g->head; c; c = c->next) {
        if (c->awaiting && !c->cut && now - c->since_ms >= g->deadline_ms) {
            shutdown(c->fd, SHUT_RDWR); /* the server's poll sees it closed */
            c->cut = true;
            cut++;
        }
    }
    if (cut)
        log_debug("http: closed %d connection(s) that sent no complete request within %lld s", cut,
                  (long long)(g->deadline_ms / 1000));
}

static void *guard_main(void *arg)
{
    http_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += HTTP_GUARD_TICK_MS / 1000;
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
        if (!g->stop)
            sweep(g);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int http_guard_new(http_guard **out, int deadline_s, ts_err *e)
{
    *out = NULL;
    http_guard *g = calloc(1, sizeof *g);
    if (!g)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    g->deadline_ms = 1000LL * deadline_s;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    int rc = pthread_create(&g->thread, NULL, guard_main, g);
    if (rc) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return ts_fail(e, TS_ERUNTIME, "cannot start the HTTP guard's thread: %s", strerror(rc));
    }
    *out = g;
    return TS_OK;
}

void http_guard_destroy(http_guard **gp)
{
    if (!gp || !*gp)
        return;
    http_guard *g = *gp;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    while (g->head) { /* none when the server closed its connections first */
        http_guard_conn *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
    *gp = NULL;
}

http_guard_conn *http_guard_open(http_guard *g, int fd)
{
    http_guard_conn *c = calloc(1, sizeof *c);
    if (!g || !c) {
        free(c);
        return NULL;
    }
    c->fd = fd;
    c->since_ms = ts_now_ms();
    c->awaiting = true;
    pthread_mutex_lock(&g->lock);
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void http_guard_headers_done(http_guard *g, http_guard_conn *c)
{
    if (!g || !c)
        return;
    pthread_mutex_lock(&g->lock);
    c->awaiting = false;
    pthread_mutex_unlock(&g->lock);
}

void http_guard_request_done(http_guard *g, http_guard_conn *c)
{
    if (!g || !c)
        return;
    pthread_mutex_lock(&g->lock);
    c->awaiting = true;
    c->since_ms = ts_now_ms();
    pthread_mutex_unlock(&g->lock);
}

void http_guard_close(http_guard *g, http_guard_conn *c)
{
    if (!g || !c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
}
