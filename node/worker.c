/* worker.c: a helper thread that runs one job at a time (see worker.h). */
#include "worker.h"

#include <pthread.h>
#include <stdlib.h>

#include "util.h"

struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;  /* a job arrived, one finished, or stop */
    void (*fn)(void *); /* the job in hand; NULL when idle */
    void *arg;
    bool stop;
};

static void *worker_loop(void *vw)
{
    worker_t *w = vw;
    ts_block_signals();
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->fn && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->fn)
            break;
        pthread_mutex_unlock(&w->mu);
        w->fn(w->arg);
        pthread_mutex_lock(&w->mu);
        w->fn = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

worker_t *worker_new(void)
{
    worker_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_loop, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void worker_destroy(worker_t **pw)
{
    worker_t *w = *pw;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    *pw = NULL;
}

bool worker_start(worker_t *w, void (*fn)(void *), void *arg)
{
    if (!w)
        return false;
    pthread_mutex_lock(&w->mu);
    bool idle = !w->fn;
    if (idle) {
        w->fn = fn;
        w->arg = arg;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return idle;
}

void worker_wait(worker_t *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->fn)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}
