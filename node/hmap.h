/* hmap.h: two small open-addressing hash tables for bulk work in memory.
 *
 * hmap_i64: uint64 key -> int64 sum. The aggregation engine packs a cell
 * (indicator, period, category options) into one uint64 and sums +1/-1
 * contributions here, so an import of 100,000 records touches each distinct
 * cell of the store once, at the end.
 * hmap_str: a set of byte strings (copied), each with an int payload, that
 * remembers insertion order: duplicate ids in a file, touched clusters.
 *
 * Both grow by doubling and abort() on out-of-memory, like the rest of the
 * process's small allocations. Key 0 is reserved in hmap_i64. */
#ifndef TIERSYNC_HMAP_H
#define TIERSYNC_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *keys; /* 0 = empty slot */
    int64_t *vals;
    size_t cap, used;
} hmap_i64;

void hmap_i64_init(hmap_i64 *m);
void hmap_i64_free(hmap_i64 *m);
/* Forgets every entry, keeps the memory. */
void hmap_i64_clear(hmap_i64 *m);
/* m[key] += d (key != 0). */
void hmap_i64_add(hmap_i64 *m, uint64_t key, int64_t d);
int64_t hmap_i64_get(const hmap_i64 *m, uint64_t key);
/* The keys whose value is non-zero, sorted ascending, in a new array (free
 * it); *n receives their number. */
uint64_t *hmap_i64_nonzero(const hmap_i64 *m, size_t *n);

typedef struct {
    size_t off; /* into the arena */
    uint32_t len;
    int val;
} hmap_str_entry;

typedef struct {
    char *arena; /* every key, copied, each followed by a NUL */
    size_t arena_len, arena_cap;
    hmap_str_entry *ents; /* in insertion order */
    size_t n, ents_cap;
    uint32_t *slots; /* entry index + 1; 0 = empty */
    size_t cap;
} hmap_str;

void hmap_str_init(hmap_str *m);
void hmap_str_free(hmap_str *m);
void hmap_str_clear(hmap_str *m);
/* Adds a copy of key (len bytes) with payload val unless present; returns
 * the entry's index (insertion order) and sets *added (may be NULL). */
size_t hmap_str_put(hmap_str *m, const char *key, size_t len, int val, int *added);
/* The index of key, or -1. */
long hmap_str_find(const hmap_str *m, const char *key, size_t len);
/* Entry i's key (NUL-terminated copy) and length. */
const char *hmap_str_key(const hmap_str *m, size_t i, size_t *len);

#endif
