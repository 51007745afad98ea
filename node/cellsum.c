/* cellsum.c: cell key -> int64 sums over hmap_str (see cellsum.h). */
#include "cellsum.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void cellsum_init(cellsum *m)
{
    memset(m, 0, sizeof *m);
    hmap_str_init(&m->keys);
}

void cellsum_free(cellsum *m)
{
    hmap_str_free(&m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

void cellsum_clear(cellsum *m)
{
    hmap_str_clear(&m->keys);
}

bool cellsum_add(cellsum *m, const char *key, size_t len, disclose_fig d)
{
    long at = hmap_str_find(&m->keys, key, len);
    disclose_fig sum = at >= 0 ? m->vals[at] : (disclose_fig){0, 0};
    if (disclose_add(&sum, d))
        return false;
    if (at < 0) {
        at = (long)hmap_str_put(&m->keys, key, len, 0, NULL);
        if ((size_t)at >= m->cap) {
            m->cap = m->cap ? 2 * m->cap : 256;
            m->vals = ts_xrealloc(m->vals, m->cap * sizeof *m->vals);
        }
    }
    m->vals[at] = sum;
    return true;
}

disclose_fig cellsum_get(const cellsum *m, const char *key, size_t len)
{
    long at = hmap_str_find(&m->keys, key, len);
    return at >= 0 ? m->vals[at] : (disclose_fig){0, 0};
}

size_t cellsum_count(const cellsum *m)
{
    return m->keys.n;
}

const char *cellsum_key(const cellsum *m, size_t i, size_t *len)
{
    return hmap_str_key(&m->keys, i, len);
}

disclose_fig cellsum_val(const cellsum *m, size_t i)
{
    return m->vals[i];
}
