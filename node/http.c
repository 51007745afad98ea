/* http.c: placeholder until the read API lands. */
#include "http.h"

int http_start(http_t **out, node_t *n, ts_err *e)
{
    (void)n, (void)e;
    *out = NULL;
    return TS_OK;
}

void http_stop(http_t **h)
{
    *h = NULL;
}
