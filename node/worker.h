/* worker.h: a helper thread kept for the life of its owner, which hands it
 * one job at a time: the hub's writer (each batch's commit) and the node's
 * second core for signature checks. A thread made for every batch cost a
 * clone, a stack and a join each time, several times per commit with few
 * children. */
#ifndef TIERSYNC_WORKER_H
#define TIERSYNC_WORKER_H

#include <stdbool.h>

typedef struct worker worker_t;

/* NULL when no thread can be made (callers then do the work themselves). */
worker_t *worker_new(void);
/* Waits for the job in hand, stops the thread, frees, sets *w to NULL. */
void worker_destroy(worker_t **w);
/* Starts fn(arg) on the helper; false (nothing started) when w is NULL or
 * already busy. One caller thread at a time. */
bool worker_start(worker_t *w, void (*fn)(void *), void *arg);
/* Until the job started last has returned. */
void worker_wait(worker_t *w);

#endif
