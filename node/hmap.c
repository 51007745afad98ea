/* hmap.c: open-addressing hash tables (linear probing, load <= 1/2). */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define HMAP_MIN_CAP 64

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        abort();
    return p;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* Eight bytes a step: cell keys are some 50 bytes long, and a byte-wise
 * hash of them showed in the apply profile. */
static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ n, w;
    for (; n >= sizeof w; p += sizeof w, n -= sizeof w) {
        memcpy(&w, p, sizeof w);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, n);
    return mix64(h ^ w);
}

/* ---- uint64 -> int64 ---------------------------------------------------- */

void hmap_i64_init(hmap_i64 *m)
{
    memset(m, 0, sizeof *m);
}

void hmap_i64_free(hmap_i64 *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

void hmap_i64_clear(hmap_i64 *m)
{
    if (m->cap)
        memset(m->keys, 0, m->cap * sizeof *m->keys);
    m->used = 0;
}

static void i64_grow(hmap_i64 *m)
{
    size_t ocap = m->cap;
    uint64_t *okeys = m->keys;
    int64_t *ovals = m->vals;
    m->cap = ocap ? ocap * 2 : HMAP_MIN_CAP;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
    m->used = 0;
    for (size_t i = 0; i < ocap; i++)
        if (okeys[i])
            hmap_i64_add(m, okeys[i], ovals[i]);
    free(okeys);
    free(ovals);
}

void hmap_i64_add(hmap_i64 *m, uint64_t key, int64_t d)
{
    if ((m->used + 1) * 2 > m->cap)
        i64_grow(m);
    size_t mask = m->cap - 1, i = (size_t)mix64(key) & mask;
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->vals[i] = 0;
        m->used++;
    }
    m->vals[i] += d;
}

int64_t hmap_i64_get(const hmap_i64 *m, uint64_t key)
{
    if (!m->cap)
        return 0;
    size_t mask = m->cap - 1, i = (size_t)mix64(key) & mask;
    while (m->keys[i]) {
        if (m->keys[i] == key)
            return m->vals[i];
        i = (i + 1) & mask;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t *hmap_i64_nonzero(const hmap_i64 *m, size_t *n)
{
    uint64_t *out = xcalloc(m->used, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] && m->vals[i])
            out[k++] = m->keys[i];
    qsort(out, k, sizeof *out, cmp_u64);
    *n = k;
    return out;
}

/* ---- string set ------------------------------------------------------- */

void hmap_str_init(hmap_str *m)
{
    memset(m, 0, sizeof *m);
}

void hmap_str_free(hmap_str *m)
{
    free(m->arena);
    free(m->ents);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

void hmap_str_clear(hmap_str *m)
{
    if (m->cap)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = 0;
    m->arena_len = 0;
}

static size_t str_slot(const hmap_str *m, const char *key, size_t len)
{
    size_t mask = m->cap - 1, i = (size_t)hash_bytes(key, len) & mask;
    while (m->slots[i]) {
        const hmap_str_entry *en = &m->ents[m->slots[i] - 1];
        if (en->len == len && memcmp(m->arena + en->off, key, len) == 0)
            break;
        i = (i + 1) & mask;
    }
    return i;
}

static void str_grow(hmap_str *m)
{
    free(m->slots);
    m->cap = m->cap ? m->cap * 2 : HMAP_MIN_CAP;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t k = 0; k < m->n; k++) {
        const hmap_str_entry *en = &m->ents[k];
        m->slots[str_slot(m, m->arena + en->off, en->len)] = (uint32_t)k + 1;
    }
}

size_t hmap_str_put(hmap_str *m, const char *key, size_t len, int val, int *added)
{
    if ((m->n + 1) * 2 > m->cap)
        str_grow(m);
    size_t i = str_slot(m, key, len);
    if (added)
        *added = !m->slots[i];
    if (m->slots[i])
        return m->slots[i] - 1;
    if (m->arena_len + len + 1 > m->arena_cap) {
        while (m->arena_len + len + 1 > m->arena_cap)
            m->arena_cap = m->arena_cap ? m->arena_cap * 2 : 4096;
        m->arena = ts_xrealloc(m->arena, m->arena_cap);
    }
    if (m->n == m->ents_cap) {
        m->ents_cap = m->ents_cap ? m->ents_cap * 2 : HMAP_MIN_CAP;
        m->ents = ts_xrealloc(m->ents, m->ents_cap * sizeof *m->ents);
    }
    memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    m->ents[m->n] = (hmap_str_entry){m->arena_len, (uint32_t)len, val};
    m->arena_len += len + 1;
    m->slots[i] = (uint32_t)++m->n;
    return m->n - 1;
}

long hmap_str_find(const hmap_str *m, const char *key, size_t len)
{
    if (!m->cap)
        return -1;
    size_t i = str_slot(m, key, len);
    return m->slots[i] ? (long)m->slots[i] - 1 : -1;
}

const char *hmap_str_key(const hmap_str *m, size_t i, size_t *len)
{
    if (len)
        *len = m->ents[i].len;
    return m->arena + m->ents[i].off;
}
