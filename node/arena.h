/* arena.h: a bump allocator for protobuf-c decoding.
 *
 * Decoding a 100-cell delta makes some 500 small allocations; a batch of
 * deltas decodes into one arena instead and frees it whole when the batch
 * is done. Individual frees are no-ops. Out of memory aborts, like the rest
 * of the process's small allocations. */
#ifndef TIERSYNC_ARENA_H
#define TIERSYNC_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define ARENA_CHUNK_BYTES (64 * 1024)

typedef struct arena_chunk arena_chunk;

typedef struct {
    ProtobufCAllocator pb; /* pass &arena->pb to the *_unpack functions */
    arena_chunk *head;
} arena_t;

void arena_init(arena_t *a);
/* n bytes (at least 1), aligned for any type, valid until arena_release. */
void *arena_alloc(arena_t *a, size_t n);
/* Frees every chunk; the arena can be used again. */
void arena_release(arena_t *a);

#endif
